//! The two Redis connections every adapter needs, and how they survive a Redis restart.
//!
//! - Commands and publishes go through a [`ConnectionManager`], which reconnects by itself.
//!   Publishes are queued to one task that sends whatever is waiting as one pipeline: the
//!   order of messages is kept, a broadcast costs no task and no round trip of its own, and a
//!   handler never waits for Redis.
//! - Subscriptions live on a dedicated pub/sub connection owned by one task. When it drops, the
//!   task reconnects with a growing delay (at most one second) and subscribes again to every
//!   channel and pattern it had. Messages are handed to the adapters in the order they arrive.
//!
//! While Redis is away the servers keep serving their own clients: what should have gone to
//! other nodes is dropped, and each outage is logged once when it starts and once when it ends.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{mpsc, oneshot};

use crate::error::Error;

/// Most publishes waiting for Redis; beyond, new ones are dropped (Redis is down or too slow).
const MAX_QUEUED: usize = 100_000;
/// Most publishes sent in one pipeline.
const BATCH: usize = 512;
/// Longest wait between two reconnection attempts of the subscriber.
const MAX_BACKOFF: Duration = Duration::from_secs(1);
/// How long `open` waits for the subscriber's first connection.
const FIRST_CONNECT: Duration = Duration::from_secs(10);

/// A message received on a subscribed channel (or through a pattern).
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The pattern it matched, for a pattern subscription.
    pub pattern: Option<String>,
    /// The channel it was published on.
    pub channel: String,
    /// Its bytes.
    pub payload: Vec<u8>,
}

/// Called for every message, in order, on the subscriber task: must not block.
pub(crate) type Handler = Arc<dyn Fn(Incoming) + Send + Sync>;

#[derive(Debug)]
enum SubCommand {
    Subscribe(Vec<String>),
    PSubscribe(Vec<String>),
    Unsubscribe(Vec<String>),
    PUnsubscribe(Vec<String>),
}

/// Which kind of subscriptions the subscriber connection makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SubscriberKind {
    /// SUBSCRIBE / PSUBSCRIBE (RESP2, any Redis).
    PubSub,
    /// SSUBSCRIBE (Redis 7 sharded pub/sub, RESP3): `subscribe` means SSUBSCRIBE.
    Sharded,
}

/// Called with the id of the stream entry an XADD made (`None` if it failed).
pub(crate) type AfterXadd = Box<dyn FnOnce(Option<String>) + Send>;

enum Publish {
    Publish {
        command: &'static str,
        channel: String,
        payload: Vec<u8>,
    },
    Xadd {
        stream: String,
        max_len: usize,
        fields: Vec<(&'static str, Vec<u8>)>,
        then: Option<AfterXadd>,
    },
}

/// The connections of one adapter factory (shared by all its namespaces).
#[derive(Clone)]
pub(crate) struct Connections {
    conn: ConnectionManager,
    publisher: mpsc::UnboundedSender<Publish>,
    queued: Arc<AtomicUsize>,
    overflow_logged: Arc<AtomicBool>,
    subscriber: mpsc::UnboundedSender<SubCommand>,
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections").finish_non_exhaustive()
    }
}

impl Connections {
    /// Connects (both connections must come up once), then keeps them up in the background.
    pub(crate) async fn open(client: redis::Client, handler: Handler) -> Result<Self, Error> {
        Self::open_with(client, handler, SubscriberKind::PubSub).await
    }

    /// As [`Connections::open`], with the subscriber of `kind`.
    pub(crate) async fn open_with(
        client: redis::Client,
        handler: Handler,
        kind: SubscriberKind,
    ) -> Result<Self, Error> {
        let conn = command_connection(client.clone()).await?;
        let (publisher, publishes) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        tokio::spawn(publish_loop(conn.clone(), publishes, queued.clone()));
        let (subscriber, commands) = mpsc::unbounded_channel();
        let (ready, first_connect) = oneshot::channel();
        match kind {
            SubscriberKind::PubSub => {
                tokio::spawn(subscribe_loop(client, commands, handler, ready));
            }
            SubscriberKind::Sharded => {
                let info = client.get_connection_info().clone();
                let settings = info
                    .redis_settings()
                    .clone()
                    .set_protocol(redis::ProtocolVersion::RESP3);
                let resp3 = redis::Client::open(info.set_redis_settings(settings))?;
                tokio::spawn(sharded_loop(resp3, commands, handler, ready));
            }
        }
        match tokio::time::timeout(FIRST_CONNECT, first_connect).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(error))) => return Err(Error::Redis(error)),
            Ok(Err(_)) | Err(_) => return Err(Error::SubscriberTimeout(FIRST_CONNECT)),
        }
        Ok(Connections {
            conn,
            publisher,
            queued,
            overflow_logged: Arc::new(AtomicBool::new(false)),
            subscriber,
        })
    }

    /// A connection for commands that need an answer.
    pub(crate) fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }

    /// Queues a PUBLISH; never waits.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) {
        self.queue(Publish::Publish {
            command: "PUBLISH",
            channel,
            payload,
        });
    }

    /// Queues an SPUBLISH (sharded pub/sub); never waits.
    pub(crate) fn spublish(&self, channel: String, payload: Vec<u8>) {
        self.queue(Publish::Publish {
            command: "SPUBLISH",
            channel,
            payload,
        });
    }

    /// Queues `XADD stream MAXLEN ~ max_len * fields…`, in order with the publishes; `then`
    /// gets the entry id. Never waits.
    pub(crate) fn xadd(
        &self,
        stream: String,
        max_len: usize,
        fields: Vec<(&'static str, Vec<u8>)>,
        then: Option<AfterXadd>,
    ) {
        self.queue(Publish::Xadd {
            stream,
            max_len,
            fields,
            then,
        });
    }

    fn queue(&self, job: Publish) {
        if self.queued.fetch_add(1, Ordering::Relaxed) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if !self.overflow_logged.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    max = MAX_QUEUED,
                    "too many messages waiting for redis: dropping messages to other nodes"
                );
            }
            if let Publish::Xadd {
                then: Some(then), ..
            } = job
            {
                then(None);
            }
            return;
        }
        self.overflow_logged.store(false, Ordering::Relaxed);
        if let Err(mpsc::error::SendError(job)) = self.publisher.send(job) {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            if let Publish::Xadd {
                then: Some(then), ..
            } = job
            {
                then(None);
            }
        }
    }

    pub(crate) fn subscribe(&self, channels: Vec<String>) {
        let _ = self.subscriber.send(SubCommand::Subscribe(channels));
    }

    pub(crate) fn psubscribe(&self, patterns: Vec<String>) {
        let _ = self.subscriber.send(SubCommand::PSubscribe(patterns));
    }

    pub(crate) fn unsubscribe(&self, channels: Vec<String>) {
        let _ = self.subscriber.send(SubCommand::Unsubscribe(channels));
    }

    pub(crate) fn punsubscribe(&self, patterns: Vec<String>) {
        let _ = self.subscriber.send(SubCommand::PUnsubscribe(patterns));
    }

    /// `PUBSUB NUMSUB channel`: how many connections are subscribed to `channel`.
    pub(crate) async fn numsub(&self, channel: &str) -> Result<usize, redis::RedisError> {
        self.count_subscribers("NUMSUB", channel).await
    }

    /// `PUBSUB SHARDNUMSUB channel`, for sharded pub/sub.
    pub(crate) async fn shardnumsub(&self, channel: &str) -> Result<usize, redis::RedisError> {
        self.count_subscribers("SHARDNUMSUB", channel).await
    }

    async fn count_subscribers(
        &self,
        which: &str,
        channel: &str,
    ) -> Result<usize, redis::RedisError> {
        let mut conn = self.conn();
        let (_, count): (String, usize) = redis::cmd("PUBSUB")
            .arg(which)
            .arg(channel)
            .query_async::<Vec<(String, usize)>>(&mut conn)
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        Ok(count)
    }
}

/// A connection for commands that reconnects by itself, and fails fast (a few short retries) so
/// that nothing waits long on a Redis that is away.
///
/// It is checked with a PING: a server that wants a password the URL lacks (`NOAUTH`) accepts
/// the connection itself, and would otherwise only fail the first broadcast.
pub(crate) async fn command_connection(
    client: redis::Client,
) -> Result<ConnectionManager, redis::RedisError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)))
        .set_number_of_retries(2)
        .set_min_delay(Duration::from_millis(50))
        .set_max_delay(Duration::from_millis(500));
    let mut conn = ConnectionManager::new_with_config(client, config).await?;
    redis::cmd("PING").exec_async(&mut conn).await?;
    Ok(conn)
}

async fn publish_loop(
    mut conn: ConnectionManager,
    mut publishes: mpsc::UnboundedReceiver<Publish>,
    queued: Arc<AtomicUsize>,
) {
    let mut failing = false;
    let mut batch = Vec::with_capacity(BATCH);
    let mut callbacks: Vec<AfterXadd> = Vec::new();
    while publishes.recv_many(&mut batch, BATCH).await > 0 {
        let mut pipe = redis::pipe();
        for job in batch.drain(..) {
            match job {
                Publish::Publish {
                    command,
                    channel,
                    payload,
                } => {
                    pipe.cmd(command).arg(channel).arg(payload).ignore();
                }
                Publish::Xadd {
                    stream,
                    max_len,
                    fields,
                    then,
                } => {
                    let cmd = pipe
                        .cmd("XADD")
                        .arg(stream)
                        .arg("MAXLEN")
                        .arg("~")
                        .arg(max_len)
                        .arg("*");
                    for (name, value) in fields {
                        cmd.arg(name).arg(value);
                    }
                    match then {
                        Some(then) => callbacks.push(then),
                        None => {
                            cmd.ignore();
                        }
                    }
                }
            }
        }
        let count = pipe.len();
        let result = pipe.query_async::<Vec<redis::Value>>(&mut conn).await;
        queued.fetch_sub(count, Ordering::Relaxed);
        let ids: Vec<Option<String>> = match &result {
            Ok(values) => values
                .iter()
                .map(|v| redis::from_redis_value_ref::<String>(v).ok())
                .collect(),
            Err(_) => Vec::new(),
        };
        let mut ids = ids.into_iter();
        for then in callbacks.drain(..) {
            then(ids.next().flatten());
        }
        match result.map(|_| ()) {
            Ok(()) if failing => {
                tracing::info!("redis is reachable again: messages to other nodes flow again");
                failing = false;
            }
            Ok(()) => {}
            Err(error) if !failing => {
                tracing::warn!(
                    %error,
                    "could not publish to redis: messages to other nodes are dropped until it is \
                     back (local clients are still served; logged once per outage)"
                );
                failing = true;
            }
            Err(_) => {}
        }
    }
}

/// What the subscriber is subscribed to, kept to subscribe again after a reconnection.
#[derive(Default)]
struct Subscriptions {
    channels: BTreeSet<String>,
    patterns: BTreeSet<String>,
}

impl Subscriptions {
    fn record(&mut self, command: &SubCommand) {
        match command {
            SubCommand::Subscribe(c) => self.channels.extend(c.iter().cloned()),
            SubCommand::PSubscribe(p) => self.patterns.extend(p.iter().cloned()),
            SubCommand::Unsubscribe(c) => c.iter().for_each(|c| {
                self.channels.remove(c);
            }),
            SubCommand::PUnsubscribe(p) => p.iter().for_each(|p| {
                self.patterns.remove(p);
            }),
        }
    }
}

async fn apply(
    sink: &mut redis::aio::PubSubSink,
    command: &SubCommand,
) -> Result<(), redis::RedisError> {
    match command {
        SubCommand::Subscribe(c) if !c.is_empty() => sink.subscribe(c).await,
        SubCommand::PSubscribe(p) if !p.is_empty() => sink.psubscribe(p).await,
        SubCommand::Unsubscribe(c) if !c.is_empty() => sink.unsubscribe(c).await,
        SubCommand::PUnsubscribe(p) if !p.is_empty() => sink.punsubscribe(p).await,
        _ => Ok(()),
    }
}

/// A failed connection attempt of a subscriber loop: the first one fails `connect` (through
/// `ready`, and the loop ends: `false`); later ones are logged once per outage.
fn attempt_failed(
    error: redis::RedisError,
    ready: &mut Option<oneshot::Sender<Result<(), redis::RedisError>>>,
    down: &mut bool,
) -> bool {
    if let Some(ready) = ready.take() {
        let _ = ready.send(Err(error));
        return false;
    }
    if !*down {
        tracing::warn!(%error, "could not reach redis for the subscriber: retrying");
        *down = true;
    }
    true
}

/// Waits `backoff` before a subscriber loop tries again, keeping track of what the adapters ask
/// meanwhile; `false` when every adapter is gone and the loop should end.
async fn wait_before_retry(
    backoff: Duration,
    commands: &mut mpsc::UnboundedReceiver<SubCommand>,
    subscriptions: &mut Subscriptions,
) -> bool {
    let sleep = tokio::time::sleep(backoff);
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            () = &mut sleep => return true,
            command = commands.recv() => match command {
                Some(command) => subscriptions.record(&command),
                None => return false,
            },
        }
    }
}

async fn subscribe_loop(
    client: redis::Client,
    mut commands: mpsc::UnboundedReceiver<SubCommand>,
    handler: Handler,
    ready: oneshot::Sender<Result<(), redis::RedisError>>,
) {
    let mut ready = Some(ready);
    let mut subscriptions = Subscriptions::default();
    let mut down = false;
    let mut backoff = Duration::from_millis(50);
    loop {
        let connected = async {
            let pubsub = client.get_async_pubsub().await?;
            let (mut sink, stream) = pubsub.split();
            let channels: Vec<String> = subscriptions.channels.iter().cloned().collect();
            let patterns: Vec<String> = subscriptions.patterns.iter().cloned().collect();
            apply(&mut sink, &SubCommand::Subscribe(channels)).await?;
            apply(&mut sink, &SubCommand::PSubscribe(patterns)).await?;
            Ok::<_, redis::RedisError>((sink, stream))
        }
        .await;
        match connected {
            Ok((mut sink, mut stream)) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(()));
                }
                if down {
                    tracing::info!(
                        "redis subscriber reconnected: messages from other nodes flow again"
                    );
                }
                backoff = Duration::from_millis(50);
                loop {
                    tokio::select! {
                        command = commands.recv() => {
                            let Some(command) = command else { return };
                            subscriptions.record(&command);
                            if apply(&mut sink, &command).await.is_err() {
                                // Recorded: applied again after the reconnection.
                                break;
                            }
                        }
                        message = stream.next() => {
                            let Some(message) = message else { break };
                            handler(Incoming {
                                pattern: message
                                    .from_pattern()
                                    .then(|| message.get_pattern::<String>().ok())
                                    .flatten(),
                                channel: message.get_channel_name().to_owned(),
                                payload: message.get_payload_bytes().to_vec(),
                            });
                        }
                    }
                }
                tracing::warn!(
                    "lost the redis subscriber connection: reconnecting (local clients are still \
                     served; logged once per outage)"
                );
                down = true;
            }
            Err(error) => {
                if !attempt_failed(error, &mut ready, &mut down) {
                    return;
                }
            }
        }
        if !wait_before_retry(backoff, &mut commands, &mut subscriptions).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The sharded subscriber: a RESP3 connection whose SSUBSCRIBE confirmations answer the
/// commands and whose `smessage` pushes are the messages; one channel per command, so that each
/// command gets exactly one confirmation.
async fn sharded_loop(
    client: redis::Client,
    mut commands: mpsc::UnboundedReceiver<SubCommand>,
    handler: Handler,
    ready: oneshot::Sender<Result<(), redis::RedisError>>,
) {
    let mut ready = Some(ready);
    let mut subscriptions = Subscriptions::default();
    let mut down = false;
    let mut backoff = Duration::from_millis(50);
    loop {
        let (push_tx, mut pushes) = mpsc::unbounded_channel::<redis::PushInfo>();
        let config = redis::AsyncConnectionConfig::new()
            .set_push_sender(push_tx)
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let connected = async {
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            for channel in &subscriptions.channels {
                redis::cmd("SSUBSCRIBE")
                    .arg(channel)
                    .exec_async(&mut conn)
                    .await?;
            }
            Ok::<_, redis::RedisError>(conn)
        }
        .await;
        match connected {
            Ok(mut conn) => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(Ok(()));
                }
                if down {
                    tracing::info!(
                        "redis sharded subscriber reconnected: messages from other nodes flow again"
                    );
                }
                backoff = Duration::from_millis(50);
                'connected: loop {
                    tokio::select! {
                        command = commands.recv() => {
                            let Some(command) = command else { return };
                            subscriptions.record(&command);
                            let (verb, channels) = match &command {
                                SubCommand::Subscribe(c) => ("SSUBSCRIBE", c),
                                SubCommand::Unsubscribe(c) => ("SUNSUBSCRIBE", c),
                                _ => continue,
                            };
                            for channel in channels {
                                if redis::cmd(verb).arg(channel).exec_async(&mut conn).await.is_err() {
                                    break 'connected;
                                }
                            }
                        }
                        push = pushes.recv() => {
                            let Some(push) = push else { break };
                            if push.kind == redis::PushKind::Disconnection {
                                break;
                            }
                            if let Some(message) = redis::Msg::from_push_info(push) {
                                handler(Incoming {
                                    pattern: None,
                                    channel: message.get_channel_name().to_owned(),
                                    payload: message.get_payload_bytes().to_vec(),
                                });
                            }
                        }
                    }
                }
                tracing::warn!(
                    "lost the redis sharded subscriber connection: reconnecting (local clients are \
                     still served; logged once per outage)"
                );
                down = true;
            }
            Err(error) => {
                if !attempt_failed(error, &mut ready, &mut down) {
                    return;
                }
            }
        }
        if !wait_before_retry(backoff, &mut commands, &mut subscriptions).await {
            return;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The port Redis Sentinel listens on when a sentinel URL names none.
const SENTINEL_PORT: u16 = 26379;

/// A client for `url`: a `redis://` or `rediss://` URL as it is, or a
/// `redis+sentinel://` / `rediss+sentinel://` URL through [`sentinel_master_url`], so that every
/// `connect` (and `sio serve --redis`) takes either.
pub(crate) async fn open_client(url: &str) -> Result<redis::Client, Error> {
    if url.starts_with("redis+sentinel://") || url.starts_with("rediss+sentinel://") {
        let master = sentinel_master_url(url).await?;
        Ok(redis::Client::open(master)?)
    } else {
        Ok(redis::Client::open(url)?)
    }
}

/// Asks Redis Sentinel which server is the current master of a monitored Redis and returns that
/// master's URL, to pass to any adapter's or the emitter's `connect`.
///
/// The sentinel URL is
/// `redis+sentinel://[[username]:password@]host[:port][,host[:port]…]/master-name[/db]`: the
/// sentinels to ask (port 26379 by default; the first that answers is used), the name the
/// sentinels monitor the master under, and the credentials and database for the master (the
/// sentinels themselves are asked without credentials). `rediss+sentinel://` reaches the
/// sentinels and the master over TLS; its `#insecure` fragment skips certificate verification.
///
/// The master is looked up once: the adapters then talk to that address, and reconnect to it
/// after an outage. After a failover, connect again (restart the node) to follow the new master.
///
/// ```no_run
/// use sio_redis_adapter::{PubSubConfig, RedisAdapter, sentinel_master_url};
///
/// # async fn run() -> Result<(), sio_redis_adapter::Error> {
/// let url = sentinel_master_url("redis+sentinel://:secret@10.0.0.1,10.0.0.2/mymaster").await?;
/// let adapter = RedisAdapter::connect(&url, PubSubConfig::default()).await?;
/// # Ok(()) }
/// ```
pub async fn sentinel_master_url(url: &str) -> Result<String, Error> {
    let invalid = |detail: String| {
        Error::Redis(redis::RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "invalid sentinel URL (expected redis+sentinel://[:password@]host[:port][,host[:port]]/master-name[/db])",
            detail,
        )))
    };
    let (tls, rest) = if let Some(rest) = url.strip_prefix("redis+sentinel://") {
        (false, rest)
    } else if let Some(rest) = url.strip_prefix("rediss+sentinel://") {
        (true, rest)
    } else {
        return Err(invalid(format!(
            "{url:?} starts with neither redis+sentinel:// nor rediss+sentinel://"
        )));
    };
    let (rest, fragment) = match rest.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (rest, None),
    };
    let insecure = match fragment {
        None | Some("") => false,
        Some("insecure") if tls => true,
        Some(other) => return Err(invalid(format!("unknown URL fragment #{other}"))),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hosts) = match authority.rsplit_once('@') {
        Some((userinfo, hosts)) => (Some(userinfo), hosts),
        None => (None, authority),
    };
    let (master, db) = match path.split_once('/') {
        Some((master, db)) => (master, db.trim_end_matches('/')),
        None => (path, ""),
    };
    if master.is_empty() {
        return Err(invalid(
            "the URL names no master (the path after the hosts)".into(),
        ));
    }
    let db: i64 = match db {
        "" => 0,
        db => db
            .parse()
            .map_err(|_| invalid(format!("database {db:?} is not a number")))?,
    };

    let scheme = if tls { "rediss" } else { "redis" };
    let fragment = if insecure { "#insecure" } else { "" };
    let mut sentinels = Vec::new();
    for host in hosts.split(',').filter(|h| !h.is_empty()) {
        let has_port = host
            .rsplit_once(':')
            .is_some_and(|(_, port)| !port.is_empty() && !port.contains(']'));
        sentinels.push(if has_port {
            format!("{scheme}://{host}/{fragment}")
        } else {
            format!("{scheme}://{host}:{SENTINEL_PORT}/{fragment}")
        });
    }
    if sentinels.is_empty() {
        return Err(invalid("the URL names no sentinel host".into()));
    }

    // The master's credentials and database, decoded by the redis crate's own URL parser.
    let userinfo_at = userinfo.map(|u| format!("{u}@")).unwrap_or_default();
    let settings = redis::Client::open(format!("redis://{userinfo_at}localhost/{db}"))?
        .get_connection_info()
        .redis_settings()
        .clone();
    let mut node =
        redis::sentinel::SentinelNodeConnectionInfo::default().set_redis_connection_info(settings);
    if tls {
        node = node.set_tls_mode(if insecure {
            redis::TlsMode::Insecure
        } else {
            redis::TlsMode::Secure
        });
    }
    let mut sentinel = redis::sentinel::SentinelClient::build(
        sentinels,
        master,
        Some(node),
        redis::sentinel::SentinelServerType::Master,
    )?;
    // Finds the master by name and checks (ROLE) that it is one.
    let client = sentinel.async_get_client().await?;
    let (host, port) = match client.get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port)
        | redis::ConnectionAddr::TcpTls { host, port, .. } => (host.clone(), *port),
        other => {
            return Err(invalid(format!(
                "sentinel answered an unexpected address {other}"
            )));
        }
    };
    let host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host
    };
    Ok(format!(
        "{scheme}://{userinfo_at}{host}:{port}/{db}{fragment}"
    ))
}
