//! The Redis streams adapter, a member of a cluster of Node servers using
//! `@socket.io/redis-streams-adapter` 0.3 (on socket.io-adapter's `ClusterAdapter` messages),
//! with connection state recovery across nodes.
//!
//! - Lasting messages (broadcasts without acks, room changes, disconnections) are entries of the
//!   stream `socket.io` (`XADD … MAXLEN ~ 10000`), fields `uid`, `nsp`, `type` and `data` (JSON, or
//!   base64 of msgpack when it holds binary). Every node reads the stream with
//!   `XREAD BLOCK 5000 COUNT 100`, from the newest entry at start.
//! - Short-lived messages (broadcasts with acks, server-side emits, fetch sockets) are msgpack on
//!   pub/sub `socket.io#nsp#`; answers go to the requester's `socket.io#nsp#uid#`.
//!   `PUBSUB NUMSUB socket.io#nsp#` is the number of nodes.
//! - Recovery: the offset of a broadcast is its stream entry id. A disconnected socket's session
//!   is stored as `sio:session:{pid}` = base64(msgpack `{sid, pid, rooms, data}`) for the
//!   recovery's maximum disconnection time, so a client can come back on ANY node: that node takes
//!   the session and replays the stream's broadcasts the client missed.
//!
//! Do not run it in the same Redis as the pub/sub adapter with the same prefix: both use
//! `socket.io#/#` (as in Node).

use std::{
    borrow::Cow,
    sync::{Arc, Weak},
    time::Duration,
};

use base64::Engine as _;
use redis::streams::StreamReadReply;
use sio_cluster_adapter::{
    ClusterMessage, ClusterTransport, DEFAULT_REQUESTS_TIMEOUT, MessageType, TransportAdapter,
    value::{
        encode_message, from_json_bytes, from_msgpack, get, get_str, map, string_array, strings,
        take, to_json_string, to_msgpack,
    },
    wire::{opts_from_value, packet_from_value},
};
use sio_server::{
    Value,
    adapter::{
        Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastOptions, LocalAdapter, Room,
        Session,
    },
    proto::Packet,
};

use crate::{
    channels::{NamespaceChannels, Routes, channel_handler, lookup},
    error::Error,
    redis_io::{Connections, SubscriberKind},
};

/// Most XRANGE calls to replay a session's missed packets (as Node).
const MAX_XRANGE_CALLS: usize = 100;

/// Options of the streams adapter, with the names and defaults of
/// `@socket.io/redis-streams-adapter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamsConfig {
    /// Stream name (`streamName`, default `socket.io`).
    pub stream_name: String,
    /// Prefix of the pub/sub channels (`channelPrefix`, default `socket.io`).
    pub channel_prefix: String,
    /// Approximate most entries kept in the stream (`maxLen`, default 10000).
    pub max_len: usize,
    /// Entries read at once (`readCount`, default 100).
    pub read_count: usize,
    /// How long one XREAD blocks (`blockTimeInMs`, default 5000 ms).
    pub block_time: Duration,
    /// Prefix of the session keys (`sessionKeyPrefix`, default `sio:session:`).
    pub session_key_prefix: String,
    /// How long to wait for the other nodes' answers (default 5 s).
    pub requests_timeout: Duration,
}

impl Default for StreamsConfig {
    fn default() -> Self {
        StreamsConfig {
            stream_name: "socket.io".into(),
            channel_prefix: "socket.io".into(),
            max_len: 10_000,
            read_count: 100,
            block_time: Duration::from_secs(5),
            session_key_prefix: "sio:session:".into(),
            requests_timeout: DEFAULT_REQUESTS_TIMEOUT,
        }
    }
}

/// One namespace's streams adapter: socket.io-adapter's `ClusterAdapter` over
/// [`StreamsTransport`].
pub type StreamsAdapter = TransportAdapter<StreamsTransport>;

/// The streams adapter factory: give it to [`SocketIo::with_adapter`](sio_server::SocketIo::with_adapter).
///
/// ```no_run
/// use sio_redis_adapter::{RedisStreamsAdapter, StreamsConfig};
/// use sio_server::{RecoveryConfig, ServerConfig, SocketIo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let adapter = RedisStreamsAdapter::connect("redis://127.0.0.1:6379", StreamsConfig::default()).await?;
/// let config = ServerConfig { recovery: Some(RecoveryConfig::default()), ..ServerConfig::default() };
/// let io = SocketIo::with_adapter(config, adapter);
/// io.listen("127.0.0.1:3000").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStreamsAdapter {
    conns: Connections,
    config: StreamsConfig,
    /// Namespace name → adapter, for the stream's entries.
    adapters: Arc<Routes<StreamsTransport>>,
    /// Pub/sub channel → adapter.
    channels: Arc<Routes<StreamsTransport>>,
}

impl std::fmt::Debug for RedisStreamsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamsAdapter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisStreamsAdapter {
    /// Connects to Redis and starts reading the stream.
    ///
    /// # Errors
    /// The URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str, config: StreamsConfig) -> Result<Self, Error> {
        let client = crate::redis_io::open_client(url).await?;
        let channels: Arc<Routes<StreamsTransport>> = Arc::default();
        let handler = channel_handler(channels.clone(), from_msgpack);
        let conns = Connections::open(client.clone(), handler).await?;
        let adapters: Arc<Routes<StreamsTransport>> = Arc::default();
        tokio::spawn(read_stream(
            client,
            config.clone(),
            Arc::downgrade(&adapters),
        ));
        Ok(RedisStreamsAdapter {
            conns,
            config,
            adapters,
            channels,
        })
    }
}

/// Reads the stream for as long as the factory lives, surviving Redis restarts.
async fn read_stream(
    client: redis::Client,
    config: StreamsConfig,
    adapters: Weak<Routes<StreamsTransport>>,
) {
    let mut offset = "$".to_owned();
    let mut conn = None;
    let mut down = false;
    let connection_config = redis::AsyncConnectionConfig::new()
        .set_response_timeout(Some(config.block_time + Duration::from_secs(5)))
        .set_connection_timeout(Some(Duration::from_secs(2)));
    loop {
        if adapters.strong_count() == 0 {
            return;
        }
        let mut c = match conn.take() {
            Some(c) => c,
            None => match client
                .get_multiplexed_async_connection_with_config(&connection_config)
                .await
            {
                Ok(c) => c,
                Err(error) => {
                    if !down {
                        tracing::warn!(%error, "could not reach redis to read the stream: retrying");
                        down = true;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
            },
        };
        let block = u64::try_from(config.block_time.as_millis()).unwrap_or(5000);
        let reply: Result<Option<StreamReadReply>, _> = redis::cmd("XREAD")
            .arg("BLOCK")
            .arg(block)
            .arg("COUNT")
            .arg(config.read_count)
            .arg("STREAMS")
            .arg(&config.stream_name)
            .arg(&offset)
            .query_async(&mut c)
            .await;
        match reply {
            Ok(reply) => {
                if down {
                    tracing::info!("reading the redis stream again");
                    down = false;
                }
                let Some(adapters) = adapters.upgrade() else {
                    return;
                };
                for entry in reply.into_iter().flat_map(|r| r.keys).flat_map(|k| k.ids) {
                    offset.clone_from(&entry.id);
                    let field = |name: &str| -> Option<String> {
                        redis::from_redis_value_ref::<String>(entry.map.get(name)?).ok()
                    };
                    let Some(nsp) = field("nsp") else { continue };
                    let Some(adapter) = lookup(&adapters, &nsp) else {
                        continue;
                    };
                    match decode_entry(field("uid"), nsp, field("type"), field("data")) {
                        Some(message) => adapter.receive(message, Some(entry.id.clone())),
                        None => tracing::debug!(id = %entry.id, "ignoring malformed stream entry"),
                    }
                }
                conn = Some(c);
            }
            Err(error) => {
                if !down {
                    tracing::warn!(
                        %error,
                        "lost the redis stream reader: reconnecting (local clients are still \
                         served; logged once per outage)"
                    );
                    down = true;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

/// A stream entry's fields as a ClusterMessage; `data` is JSON, or base64 of msgpack.
fn decode_entry(
    uid: Option<String>,
    nsp: String,
    ty: Option<String>,
    data: Option<String>,
) -> Option<ClusterMessage<'static>> {
    let kind = MessageType::from_u64(ty?.trim().parse().ok()?)?;
    let data = match data.filter(|d| !d.is_empty()) {
        Some(data) if data.starts_with('{') => Some(from_json_bytes(data.as_bytes()).ok()?),
        Some(data) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .ok()?;
            Some(from_msgpack(&bytes).ok()?)
        }
        None => None,
    };
    Some(ClusterMessage {
        uid: Cow::Owned(uid.unwrap_or_default()),
        nsp: Cow::Owned(nsp),
        kind,
        data,
    })
}

impl AdapterFactory for RedisStreamsAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        let nsp = local.namespace_name().to_owned();
        let uid = StreamsAdapter::new_uid();
        let channels = NamespaceChannels::new(&self.config.channel_prefix, &nsp, &uid);
        let transport = StreamsTransport {
            conns: self.conns.clone(),
            config: self.config.clone(),
            channels: channels.clone(),
            adapters: Arc::downgrade(&self.adapters),
            routes: Arc::downgrade(&self.channels),
        };
        let adapter = TransportAdapter::new(local, uid, transport, self.config.requests_timeout);
        self.adapters
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(nsp, Arc::downgrade(&adapter));
        channels.open(&adapter, &self.channels, &self.conns);
        adapter
    }
}

/// How the streams adapter's messages travel: lasting ones (broadcasts without acks, room
/// changes, disconnections) as entries of the stream, short-lived ones as msgpack on pub/sub.
pub struct StreamsTransport {
    conns: Connections,
    config: StreamsConfig,
    channels: NamespaceChannels,
    adapters: Weak<Routes<StreamsTransport>>,
    routes: Weak<Routes<StreamsTransport>>,
}

impl std::fmt::Debug for StreamsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsTransport")
            .field("stream", &self.config.stream_name)
            .field("channel", &self.channels.public)
            .finish_non_exhaustive()
    }
}

impl StreamsTransport {
    /// Appends `message` to the stream; `then` gets the entry's id.
    fn xadd(&self, message: ClusterMessage<'_>, then: Option<crate::redis_io::AfterXadd>) {
        let holds_binary = message.holds_binary();
        let ClusterMessage {
            uid,
            nsp,
            kind,
            data,
        } = message;
        let mut fields = vec![
            ("uid", uid.into_owned().into_bytes()),
            ("nsp", nsp.into_owned().into_bytes()),
            ("type", kind.as_u64().to_string().into_bytes()),
        ];
        if let Some(data) = data {
            let data = if holds_binary {
                let Some(packed) = encode_message(&data) else {
                    // Not in the stream; this node's clients get it as they would have.
                    if let Some(then) = then {
                        then(None);
                    }
                    return;
                };
                base64::engine::general_purpose::STANDARD
                    .encode(packed)
                    .into_bytes()
            } else {
                to_json_string(&data).into_bytes()
            };
            fields.push(("data", data));
        }
        self.conns.xadd(
            self.config.stream_name.clone(),
            self.config.max_len,
            fields,
            then,
        );
    }
}

impl ClusterTransport for StreamsTransport {
    fn publish(&self, message: ClusterMessage<'_>) {
        let lasting = match message.kind {
            MessageType::Broadcast => message.request_id().is_none(),
            MessageType::SocketsJoin
            | MessageType::SocketsLeave
            | MessageType::DisconnectSockets => true,
            _ => false,
        };
        if lasting {
            return self.xadd(message, None);
        }
        if let Some(payload) = message.to_msgpack() {
            self.conns.publish(self.channels.public.clone(), payload);
        }
    }

    fn publish_broadcast(
        &self,
        message: ClusterMessage<'_>,
        then: impl FnOnce(Option<String>) + Send + 'static,
    ) {
        self.xadd(message, Some(Box::new(then)));
    }

    fn publish_to(&self, node: &str, message: ClusterMessage<'_>) {
        if let Some(payload) = message.to_msgpack() {
            self.conns.publish(self.channels.sub_channel(node), payload);
        }
    }

    fn node_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        self.channels
            .count_nodes(&self.conns, SubscriberKind::PubSub)
    }

    fn persist_session(&self, local: &LocalAdapter, session: Session) {
        let key = format!("{}{}", self.config.session_key_prefix, session.pid);
        let value = map([
            ("sid", Value::from(session.sid.as_str())),
            ("pid", Value::from(session.pid.as_str())),
            ("rooms", string_array(&session.rooms)),
            ("data", session.data.clone()),
        ]);
        let encoded = match to_msgpack(&value) {
            Ok(packed) => base64::engine::general_purpose::STANDARD.encode(packed),
            Err(error) => {
                tracing::warn!(%error, "could not encode a session: it cannot be recovered");
                return;
            }
        };
        let Some(ttl) = local.recovery_ttl() else {
            return;
        };
        let ttl = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let mut conn = self.conns.conn();
        tokio::spawn(async move {
            let result: Result<(), _> = redis::cmd("SET")
                .arg(&key)
                .arg(encoded)
                .arg("PX")
                .arg(ttl)
                .exec_async(&mut conn)
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "could not store a session in redis: it cannot be recovered");
            }
        });
    }

    fn restore_session(
        &self,
        local: &LocalAdapter,
        pid: String,
        offset: String,
    ) -> BoxFuture<'static, Option<Session>> {
        let nsp = local.namespace_name().to_owned();
        let mut conn = self.conns.conn();
        let stream = self.config.stream_name.clone();
        let key = format!("{}{pid}", self.config.session_key_prefix);
        Box::pin(async move {
            if !is_offset(&offset) {
                return None;
            }
            let (raw, _): (Option<String>, i64) = redis::pipe()
                .atomic()
                .cmd("GET")
                .arg(&key)
                .cmd("DEL")
                .arg(&key)
                .query_async(&mut conn)
                .await
                .ok()?;
            let found: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(&stream)
                .arg(&offset)
                .arg(&offset)
                .query_async(&mut conn)
                .await
                .ok()?;
            if found.ids.is_empty() {
                return None;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(raw?.as_bytes())
                .ok()?;
            let stored = from_msgpack(&bytes).ok()?;
            let mut session = Session {
                sid: get_str(&stored, "sid")?.to_owned(),
                pid: get_str(&stored, "pid").unwrap_or(&pid).to_owned(),
                rooms: strings(get(&stored, "rooms")),
                data: get(&stored, "data").cloned().unwrap_or(Value::Nil),
                missed_packets: Vec::new(),
            };
            let mut from = offset;
            for _ in 0..MAX_XRANGE_CALLS {
                let start = next_offset(&from)?;
                let entries: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                    .arg(&stream)
                    .arg(start)
                    .arg("+")
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                if entries.ids.is_empty() {
                    break;
                }
                for entry in entries.ids {
                    let field = |name: &str| -> Option<String> {
                        redis::from_redis_value_ref::<String>(entry.map.get(name)?).ok()
                    };
                    if field("nsp").as_deref() == Some(nsp.as_str())
                        && field("type").as_deref() == Some("3")
                        && let Some(message) =
                            decode_entry(field("uid"), nsp.clone(), field("type"), field("data"))
                    {
                        let mut data = message.data.unwrap_or(Value::Nil);
                        let opts = opts_from_value(get(&data, "opts"));
                        if should_include(&session.rooms, &opts)
                            && let Some(Packet::Event {
                                event, mut args, ..
                            }) = take(&mut data, "packet").and_then(packet_from_value)
                        {
                            args.push(Value::from(entry.id.as_str()));
                            session.missed_packets.push((event, args));
                        }
                    }
                    from = entry.id;
                }
            }
            Some(session)
        })
    }

    fn close(&self, local: &LocalAdapter) {
        self.channels.close(Vec::new(), &self.routes, &self.conns);
        if let Some(adapters) = self.adapters.upgrade() {
            adapters
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(local.namespace_name());
        }
    }
}

/// Whether a replayed broadcast reaches a session with these rooms (Node's `shouldIncludePacket`).
fn should_include(session_rooms: &[Room], opts: &BroadcastOptions) -> bool {
    let included = opts.rooms.is_empty() || session_rooms.iter().any(|r| opts.rooms.contains(r));
    let excluded = session_rooms.iter().any(|r| opts.except.contains(r));
    included && !excluded
}

/// `1-2` → `1-3`: the entry after an offset, for XRANGE.
fn next_offset(offset: &str) -> Option<String> {
    let (ms, seq) = offset.split_once('-')?;
    let seq: u64 = seq.parse().ok()?;
    Some(format!("{ms}-{}", seq.checked_add(1)?))
}

fn is_offset(offset: &str) -> bool {
    offset.split_once('-').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert!(is_offset("1700000000000-0"));
        assert!(!is_offset("abc-1"));
        assert!(!is_offset("12"));
        assert!(!is_offset("-1"));
        assert_eq!(next_offset("5-9").unwrap(), "5-10");
    }

    #[test]
    fn entries_decode_json_and_base64_msgpack() {
        let json = decode_entry(
            Some("u".into()),
            "/".into(),
            Some("3".into()),
            Some(r#"{"a":1}"#.into()),
        )
        .unwrap();
        assert_eq!(json.data, Some(map([("a", Value::from(1))])));
        assert_eq!((&*json.uid, &*json.nsp), ("u", "/"));
        assert_eq!(json.kind, MessageType::Broadcast);
        let packed = base64::engine::general_purpose::STANDARD
            .encode(to_msgpack(&map([("b", Value::Binary(vec![1]))])).unwrap());
        let bin = decode_entry(None, "/".into(), Some("3".into()), Some(packed)).unwrap();
        assert_eq!(bin.data, Some(map([("b", Value::Binary(vec![1]))])));
        assert!(decode_entry(None, "/".into(), Some("x".into()), None).is_none());
    }

    #[test]
    fn replay_filter() {
        let opts = BroadcastOptions {
            rooms: vec!["r1".into()],
            except: vec!["r2".into()],
            ..BroadcastOptions::default()
        };
        assert!(should_include(&["r1".into()], &opts));
        assert!(!should_include(&["r1".into(), "r2".into()], &opts));
        assert!(!should_include(&["r3".into()], &opts));
        assert!(should_include(&["r3".into()], &BroadcastOptions::default()));
    }
}
