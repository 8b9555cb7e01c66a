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
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use base64::Engine as _;
use redis::streams::StreamReadReply;
use sio_server::{
    Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastAcks, BroadcastOptions,
    LocalAdapter, Room, Session, SocketInfo, Value, proto::Packet,
};
use tokio::sync::mpsc;

use crate::{
    error::{Error, WireError},
    redis_io::{Connections, Handler, Incoming},
    requests::{self, AckAnswer, Pending, PendingRequest},
    socket_info,
    value::{
        encode_message, from_json_bytes, from_msgpack, get, get_str, map, string_array, strings,
        take, to_json_string, to_msgpack,
    },
    wire::{event_data, opts_from_value, opts_to_value, packet_from_value, packet_to_value},
};

/// socket.io-adapter's `MessageType`.
mod message {
    pub const BROADCAST: u64 = 3;
    pub const SOCKETS_JOIN: u64 = 4;
    pub const SOCKETS_LEAVE: u64 = 5;
    pub const DISCONNECT_SOCKETS: u64 = 6;
    pub const FETCH_SOCKETS: u64 = 7;
    pub const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub const SERVER_SIDE_EMIT: u64 = 9;
    pub const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub const BROADCAST_ACK: u64 = 12;
}

/// Node's wait for answers when none is given (socket.io-adapter's `DEFAULT_TIMEOUT`).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
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
            requests_timeout: DEFAULT_TIMEOUT,
        }
    }
}

pub(crate) type Adapters = RwLock<HashMap<String, Weak<StreamsAdapter>>>;

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
    /// Namespace name → adapter.
    adapters: Arc<Adapters>,
    /// Pub/sub channel → adapter.
    channels: Arc<Adapters>,
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
        let channels: Arc<Adapters> = Arc::default();
        let handler = channel_handler(channels.clone(), from_msgpack);
        let conns = Connections::open(client.clone(), handler).await?;
        let adapters: Arc<Adapters> = Arc::default();
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

/// Hands each pub/sub message to the adapter of its channel in `routes`, read with `decode`
/// (the streams and the sharded adapters' messages differ only in that).
pub(crate) fn channel_handler(
    routes: Arc<Adapters>,
    decode: fn(&[u8]) -> Result<Value, WireError>,
) -> Handler {
    Arc::new(move |message: Incoming| {
        let adapter = routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&message.channel)
            .and_then(Weak::upgrade);
        if let Some(adapter) = adapter {
            match decode(&message.payload) {
                Ok(decoded) => adapter.on_message(decoded, None),
                Err(error) => tracing::debug!(%error, "ignoring malformed message"),
            }
        }
    })
}

/// Reads the stream for as long as the factory lives, surviving Redis restarts.
async fn read_stream(client: redis::Client, config: StreamsConfig, adapters: Weak<Adapters>) {
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
                    let adapter = adapters
                        .read()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&nsp)
                        .and_then(Weak::upgrade);
                    let Some(adapter) = adapter else { continue };
                    match decode_entry(field("uid"), nsp, field("type"), field("data")) {
                        Some(message) => adapter.on_message(message, Some(entry.id.clone())),
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

/// A stream entry's fields as a ClusterMessage `{uid, nsp, type, data?}`.
fn decode_entry(
    uid: Option<String>,
    nsp: String,
    ty: Option<String>,
    data: Option<String>,
) -> Option<Value> {
    let ty: u64 = ty?.trim().parse().ok()?;
    let mut fields = vec![
        (Value::from("uid"), uid.map_or(Value::Nil, Value::from)),
        (Value::from("nsp"), Value::from(nsp)),
        (Value::from("type"), Value::from(ty)),
    ];
    if let Some(data) = data.filter(|d| !d.is_empty()) {
        let data = if data.starts_with('{') {
            from_json_bytes(data.as_bytes()).ok()?
        } else {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .ok()?;
            from_msgpack(&bytes).ok()?
        };
        fields.push((Value::from("data"), data));
    }
    Some(Value::Map(fields))
}

/// Whether a value holds binary anywhere (Node's `hasBinary`).
pub(crate) fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(fields) => fields.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

impl AdapterFactory for RedisStreamsAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        create_adapter(
            local,
            Mode::Streams,
            &self.conns,
            &self.config,
            &self.adapters,
            &self.channels,
        )
    }
}

/// A namespace's adapter (the streams and the sharded factories' `create`), found by its
/// namespace in `adapters` and by its channels in `channels`, subscribed to them.
pub(crate) fn create_adapter(
    local: LocalAdapter,
    mode: Mode,
    conns: &Connections,
    config: &StreamsConfig,
    adapters: &Arc<Adapters>,
    channels: &Arc<Adapters>,
) -> Arc<StreamsAdapter> {
    let nsp = local.namespace_name().to_owned();
    let uid = random_id();
    let public_channel = format!("{}#{nsp}#", config.channel_prefix);
    let private_channel = format!("{public_channel}{uid}#");
    let adapter = Arc::new_cyclic(|me| StreamsAdapter {
        local,
        conns: conns.clone(),
        config: config.clone(),
        mode,
        uid,
        public_channel,
        private_channel,
        pending: Arc::default(),
        factory: Arc::downgrade(adapters),
        channels: Arc::downgrade(channels),
        me: me.clone(),
    });
    adapters
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(nsp, Arc::downgrade(&adapter));
    {
        let mut channels = channels.write().unwrap_or_else(|e| e.into_inner());
        channels.insert(adapter.public_channel.clone(), Arc::downgrade(&adapter));
        channels.insert(adapter.private_channel.clone(), Arc::downgrade(&adapter));
    }
    conns.subscribe(vec![
        adapter.public_channel.clone(),
        adapter.private_channel.clone(),
    ]);
    adapter
}

/// 8 random bytes as 16 hex characters (socket.io-adapter's `randomId`).
pub(crate) fn random_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One namespace's streams (or sharded pub/sub) adapter.
pub struct StreamsAdapter {
    pub(crate) local: LocalAdapter,
    pub(crate) conns: Connections,
    pub(crate) config: StreamsConfig,
    pub(crate) mode: Mode,
    pub(crate) uid: String,
    pub(crate) public_channel: String,
    pub(crate) private_channel: String,
    pub(crate) pending: Arc<Pending>,
    pub(crate) factory: Weak<Adapters>,
    pub(crate) channels: Weak<Adapters>,
    pub(crate) me: Weak<StreamsAdapter>,
}

/// How ClusterAdapter messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `@socket.io/redis-streams-adapter`: a stream, and pub/sub for short-lived messages.
    Streams,
    /// `createShardedAdapter` of `@socket.io/redis-adapter`: sharded pub/sub only, JSON (or
    /// notepack msgpack when binary), a channel per public room.
    Sharded,
}

impl std::fmt::Debug for StreamsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamsAdapter")
            .field("nsp", &self.local.namespace_name())
            .field("uid", &self.uid)
            .finish_non_exhaustive()
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

impl StreamsAdapter {
    /// This node's id in the cluster.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    fn register(&self) -> PendingRequest {
        self.pending.register(random_id())
    }

    fn envelope(&self, ty: u64, data: Option<Value>) -> Value {
        let mut fields = vec![
            (Value::from("uid"), Value::from(self.uid.as_str())),
            (Value::from("nsp"), Value::from(self.local.namespace_name())),
            (Value::from("type"), Value::from(ty)),
        ];
        if let Some(data) = data {
            fields.push((Value::from("data"), data));
        }
        Value::Map(fields)
    }

    /// Short-lived message: msgpack on the public channel.
    fn publish_ephemeral(&self, ty: u64, data: Value) {
        if self.mode == Mode::Sharded {
            return self.publish_sharded(ty, data);
        }
        if let Some(payload) = encode_message(&self.envelope(ty, Some(data))) {
            self.conns.publish(self.public_channel.clone(), payload);
        }
    }

    /// Sharded pub/sub: JSON, or notepack msgpack when the message may hold binary and does
    /// (`None`, logged, when that cannot be encoded).
    fn sharded_payload(&self, ty: u64, data: Value) -> Option<Vec<u8>> {
        let binary = matches!(
            ty,
            message::BROADCAST
                | message::BROADCAST_ACK
                | message::FETCH_SOCKETS_RESPONSE
                | message::SERVER_SIDE_EMIT
                | message::SERVER_SIDE_EMIT_RESPONSE
        ) && has_binary(&data);
        let message = self.envelope(ty, Some(data));
        if binary {
            encode_message(&message)
        } else {
            Some(to_json_string(&message).into_bytes())
        }
    }

    /// Node's `computeChannel`: a broadcast without acks to exactly one room that does not look
    /// like a socket id (20 characters) goes to the room's own channel.
    fn publish_sharded(&self, ty: u64, data: Value) {
        let room = match (ty, get(&data, "requestId"), get(&data, "opts")) {
            (message::BROADCAST, None, Some(opts)) => {
                match strings(get(opts, "rooms")).as_slice() {
                    [room] if room.chars().count() != 20 => Some(room.clone()),
                    _ => None,
                }
            }
            _ => None,
        };
        let channel = match room {
            Some(room) => format!("{}{room}#", self.public_channel),
            None => self.public_channel.clone(),
        };
        if let Some(payload) = self.sharded_payload(ty, data) {
            self.conns.spublish(channel, payload);
        }
    }

    /// Lasting message: a stream entry; `then` gets its id.
    fn publish_stream(&self, ty: u64, data: Value, then: Option<crate::redis_io::AfterXadd>) {
        if self.mode == Mode::Sharded {
            self.publish_sharded(ty, data);
            if let Some(then) = then {
                then(None);
            }
            return;
        }
        let binary_capable = matches!(
            ty,
            message::BROADCAST
                | message::FETCH_SOCKETS_RESPONSE
                | message::SERVER_SIDE_EMIT
                | message::SERVER_SIDE_EMIT_RESPONSE
                | message::BROADCAST_ACK
        );
        let data = if binary_capable && has_binary(&data) {
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
        let fields = vec![
            ("uid", self.uid.clone().into_bytes()),
            ("nsp", self.local.namespace_name().as_bytes().to_vec()),
            ("type", ty.to_string().into_bytes()),
            ("data", data),
        ];
        self.conns.xadd(
            self.config.stream_name.clone(),
            self.config.max_len,
            fields,
            then,
        );
    }

    fn publish_response(&self, requester: &str, ty: u64, data: Value) {
        let channel = format!(
            "{}#{}#{requester}#",
            self.config.channel_prefix,
            self.local.namespace_name()
        );
        let payload = match self.mode {
            Mode::Sharded => self.sharded_payload(ty, data),
            Mode::Streams => encode_message(&self.envelope(ty, Some(data))),
        };
        if let Some(payload) = payload {
            if self.mode == Mode::Sharded {
                self.conns.spublish(channel, payload);
            } else {
                self.conns.publish(channel, payload);
            }
        }
    }

    async fn node_count(&self) -> Result<usize, AdapterError> {
        let count = match self.mode {
            Mode::Streams => self.conns.numsub(&self.public_channel).await,
            Mode::Sharded => self.conns.shardnumsub(&self.public_channel).await,
        };
        count.map_err(|e| AdapterError::Transport(e.to_string()))
    }

    /// Appends the offset as Node does: recovery on, an EVENT without ack id, not volatile.
    fn with_offset(&self, packet: &mut Packet, opts: &BroadcastOptions, offset: Option<String>) {
        if !self.local.recovery_enabled() || opts.flags.volatile {
            return;
        }
        if let (Packet::Event { id: None, args, .. }, Some(offset)) = (packet, offset) {
            args.push(Value::from(offset));
        }
    }

    /// A ClusterMessage from another node (stream entry with its id, or pub/sub).
    pub(crate) fn on_message(&self, mut message: Value, offset: Option<String>) {
        if get_str(&message, "uid") == Some(self.uid.as_str())
            || get_str(&message, "nsp") != Some(self.local.namespace_name())
        {
            return;
        }
        let Some(ty) = get(&message, "type").and_then(Value::as_u64) else {
            return;
        };
        let sender = get_str(&message, "uid").unwrap_or_default().to_owned();
        let mut data = take(&mut message, "data").unwrap_or(Value::Nil);
        match ty {
            message::BROADCAST => {
                let Some(mut packet) = take(&mut data, "packet").and_then(packet_from_value) else {
                    return;
                };
                let opts = opts_from_value(get(&data, "opts"));
                if let Some(request_id) = get(&data, "requestId").cloned() {
                    // The requester's wait, at most MAX_PEER_ACK_TIMEOUT (opts_from_value caps it): the
                    // task below lives that long.
                    let timeout = opts.flags.timeout.unwrap_or(DEFAULT_TIMEOUT);
                    let (collector, answers) = mpsc::unbounded_channel();
                    let count = self.local.broadcast_with_ack(packet, &opts, collector);
                    self.publish_response(
                        &sender,
                        message::BROADCAST_CLIENT_COUNT,
                        map([
                            ("requestId", request_id.clone()),
                            ("clientCount", Value::from(count)),
                        ]),
                    );
                    let Some(me) = self.me.upgrade() else { return };
                    requests::relay_acks(answers, count, timeout, move |packet| {
                        let mut fields = vec![(Value::from("requestId"), request_id.clone())];
                        fields.extend(packet.map(|packet| (Value::from("packet"), packet)));
                        me.publish_response(&sender, message::BROADCAST_ACK, Value::Map(fields));
                    });
                } else {
                    self.with_offset(&mut packet, &opts, offset);
                    self.local.deliver(&packet, &opts);
                }
            }
            message::SOCKETS_JOIN | message::SOCKETS_LEAVE => {
                let opts = opts_from_value(get(&data, "opts"));
                let rooms = strings(get(&data, "rooms"));
                if ty == message::SOCKETS_JOIN {
                    self.local.add_sockets(&opts, &rooms);
                } else {
                    self.local.del_sockets(&opts, &rooms);
                }
            }
            message::DISCONNECT_SOCKETS => {
                let opts = opts_from_value(get(&data, "opts"));
                let close = get(&data, "close")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                self.local.disconnect_sockets(&opts, close);
            }
            message::FETCH_SOCKETS => {
                let opts = opts_from_value(get(&data, "opts"));
                let sockets = Value::Array(
                    self.local
                        .fetch_sockets(&opts)
                        .iter()
                        .map(socket_info::to_value)
                        .collect(),
                );
                let request_id = get(&data, "requestId").cloned().unwrap_or(Value::Nil);
                self.publish_response(
                    &sender,
                    message::FETCH_SOCKETS_RESPONSE,
                    map([("requestId", request_id), ("sockets", sockets)]),
                );
            }
            message::SERVER_SIDE_EMIT => {
                let Some(Value::Array(packet)) = take(&mut data, "packet") else {
                    return;
                };
                let mut packet = packet.into_iter();
                let Some(Value::String(event)) = packet.next() else {
                    return;
                };
                let Some(event) = event.into_str() else {
                    return;
                };
                let args: Vec<Value> = packet.collect();
                let Some(request_id) = get(&data, "requestId").cloned() else {
                    self.local.on_server_side_emit(event, args, None);
                    return;
                };
                let (ack, answers) = mpsc::unbounded_channel();
                self.local.on_server_side_emit(event, args, Some(ack));
                let Some(me) = self.me.upgrade() else { return };
                let timeout = self.config.requests_timeout;
                requests::relay_first_answer(answers, timeout, move |packet| {
                    let mut fields = vec![(Value::from("requestId"), request_id)];
                    fields.extend(packet.map(|packet| (Value::from("packet"), packet)));
                    me.publish_response(
                        &sender,
                        message::SERVER_SIDE_EMIT_RESPONSE,
                        Value::Map(fields),
                    );
                });
            }
            message::FETCH_SOCKETS_RESPONSE
            | message::SERVER_SIDE_EMIT_RESPONSE
            | message::BROADCAST_CLIENT_COUNT
            | message::BROADCAST_ACK => {
                let Some(id) = get_str(&data, "requestId").map(str::to_owned) else {
                    return;
                };
                self.pending
                    .answer(&id, map([("type", Value::from(ty)), ("data", data)]));
            }
            // Heartbeats and ADAPTER_CLOSE of the heartbeat variants carry nothing for us.
            _ => {}
        }
    }
}

impl Adapter for StreamsAdapter {
    fn local(&self) -> &LocalAdapter {
        &self.local
    }

    fn broadcast(&self, packet: Packet, opts: BroadcastOptions) {
        let wire = packet_to_value(&packet).filter(|_| !opts.flags.local);
        let (Some(wire), Some(me)) = (wire, self.me.upgrade()) else {
            self.local.deliver(&packet, &opts);
            return;
        };
        let data = map([("packet", wire), ("opts", opts_to_value(&opts, true))]);
        if self.mode == Mode::Sharded {
            self.publish_sharded(message::BROADCAST, data);
            self.local.deliver(&packet, &opts);
            return;
        }
        // Delivered here once the entry id (the offset) is known, in order with the others.
        let then: crate::redis_io::AfterXadd = Box::new(move |offset| {
            let mut packet = packet;
            me.with_offset(&mut packet, &opts, offset);
            me.local.deliver(&packet, &opts);
        });
        self.publish_stream(message::BROADCAST, data, Some(then));
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, BroadcastAcks> {
        let (collector, answers) = mpsc::unbounded_channel();
        let me = self.me.upgrade().filter(|_| !opts.flags.local);
        let mut request = None;
        if let (Some(me), Some(wire)) = (&me, packet_to_value(&packet)) {
            let pending = me.register();
            let mut wire_opts = opts.clone();
            wire_opts.flags.timeout = Some(timeout);
            self.publish_ephemeral(
                message::BROADCAST,
                map([
                    ("packet", wire),
                    ("requestId", Value::from(pending.id.as_str())),
                    ("opts", opts_to_value(&wire_opts, true)),
                ]),
            );
            request = Some(pending);
        }
        let local_count = self.local.broadcast_with_ack(packet, &opts, collector);
        Box::pin(async move {
            let (Some(me), Some(request)) = (me, request) else {
                return sio_server::collect_acks(answers, local_count, timeout).await;
            };
            let read = |answer: Value| {
                let data = get(&answer, "data");
                match get(&answer, "type").and_then(Value::as_u64) {
                    Some(message::BROADCAST_CLIENT_COUNT) => AckAnswer::ClientCount(
                        requests::client_count(data.and_then(|d| get(d, "clientCount"))),
                    ),
                    Some(message::BROADCAST_ACK) => AckAnswer::Ack(
                        data.and_then(|d| get(d, "packet"))
                            .cloned()
                            .into_iter()
                            .collect(),
                    ),
                    _ => AckAnswer::Other,
                }
            };
            requests::collect_broadcast_acks(
                answers,
                local_count,
                request,
                me.node_count(),
                timeout,
                read,
            )
            .await
        })
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.add_sockets(&opts, &rooms);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("rooms", string_array(&rooms)),
            ]);
            self.publish_stream(message::SOCKETS_JOIN, data, None);
        }
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.del_sockets(&opts, &rooms);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("rooms", string_array(&rooms)),
            ]);
            self.publish_stream(message::SOCKETS_LEAVE, data, None);
        }
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool) {
        self.local.disconnect_sockets(&opts, close);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("close", Value::from(close)),
            ]);
            self.publish_stream(message::DISCONNECT_SOCKETS, data, None);
        }
    }

    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketInfo>, AdapterError>> {
        let mut sockets = self.local.fetch_sockets(&opts);
        let me = self.me.upgrade().filter(|_| !opts.flags.local);
        Box::pin(async move {
            let Some(me) = me else { return Ok(sockets) };
            let timeout = opts.flags.timeout.unwrap_or(me.config.requests_timeout);
            let opts = opts_to_value(&opts, true);
            requests::ask_other_nodes(
                me.node_count(),
                || me.register(),
                |id| {
                    me.publish_ephemeral(
                        message::FETCH_SOCKETS,
                        map([("opts", opts), ("requestId", Value::from(id))]),
                    );
                },
                timeout,
                |answer| {
                    let remote = get(&answer, "data").and_then(|d| get(d, "sockets"));
                    if let Some(Value::Array(remote)) = remote {
                        sockets.extend(remote.iter().filter_map(socket_info::from_value));
                    }
                },
            )
            .await?;
            Ok(sockets)
        })
    }

    fn server_side_emit(
        &self,
        event: String,
        args: Vec<Value>,
        ack_timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<Vec<Vec<Value>>, AdapterError>> {
        let packet = event_data(event, args);
        let Some(timeout) = ack_timeout else {
            self.publish_ephemeral(message::SERVER_SIDE_EMIT, map([("packet", packet)]));
            return Box::pin(async { Ok(Vec::new()) });
        };
        let me = self.me.upgrade();
        Box::pin(async move {
            let Some(me) = me else { return Ok(Vec::new()) };
            let mut responses = Vec::new();
            requests::ask_other_nodes(
                me.node_count(),
                || me.register(),
                |id| {
                    me.publish_ephemeral(
                        message::SERVER_SIDE_EMIT,
                        map([("requestId", Value::from(id)), ("packet", packet)]),
                    );
                },
                timeout,
                |answer| {
                    let packet = get(&answer, "data").and_then(|d| get(d, "packet"));
                    responses.push(packet.cloned().into_iter().collect());
                },
            )
            .await?;
            Ok(responses)
        })
    }

    fn server_count(&self) -> BoxFuture<'static, usize> {
        let me = self.me.upgrade();
        Box::pin(async move {
            match me {
                Some(me) => me.node_count().await.unwrap_or(1).max(1),
                None => 1,
            }
        })
    }

    fn persist_session(&self, session: Session) {
        if self.mode == Mode::Sharded {
            // As Node's sharded adapter: no recovery through the cluster.
            return self.local.persist_session(session);
        }
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
        let Some(ttl) = self.local.recovery_ttl() else {
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

    fn restore_session(&self, pid: String, offset: String) -> BoxFuture<'static, Option<Session>> {
        if self.mode == Mode::Sharded {
            let session = self.local.restore_session(&pid, &offset);
            return Box::pin(async move { session });
        }
        let me = self.me.upgrade();
        Box::pin(async move {
            let me = me?;
            if !is_offset(&offset) {
                return None;
            }
            let key = format!("{}{pid}", me.config.session_key_prefix);
            let mut conn = me.conns.conn();
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
                .arg(&me.config.stream_name)
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
                    .arg(&me.config.stream_name)
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
                    if field("nsp").as_deref() == Some(me.local.namespace_name())
                        && field("type").as_deref() == Some("3")
                        && let Some(mut message) = decode_entry(
                            field("uid"),
                            me.local.namespace_name().to_owned(),
                            field("type"),
                            field("data"),
                        )
                    {
                        let mut data = take(&mut message, "data").unwrap_or(Value::Nil);
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

    fn close(&self) {
        let mut channels_to_drop = vec![self.public_channel.clone(), self.private_channel.clone()];
        if self.mode == Mode::Sharded {
            for room in self.local.all_rooms() {
                channels_to_drop.push(format!("{}{room}#", self.public_channel));
            }
        }
        self.conns.unsubscribe(channels_to_drop.clone());
        if let Some(channels) = self.channels.upgrade() {
            let mut channels = channels.write().unwrap_or_else(|e| e.into_inner());
            for channel in &channels_to_drop {
                channels.remove(channel);
            }
        }
        if let Some(adapters) = self.factory.upgrade() {
            adapters
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(self.local.namespace_name());
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn offsets() {
        assert!(is_offset("1700000000000-0"));
        assert!(!is_offset("abc-1"));
        assert!(!is_offset("12"));
        assert!(!is_offset("-1"));
        assert_eq!(next_offset("5-9").unwrap(), "5-10");
        assert_eq!(random_id().len(), 16);
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
        assert_eq!(get(&json, "data"), Some(&map([("a", Value::from(1))])));
        let packed = base64::engine::general_purpose::STANDARD
            .encode(to_msgpack(&map([("b", Value::Binary(vec![1]))])).unwrap());
        let bin = decode_entry(None, "/".into(), Some("3".into()), Some(packed)).unwrap();
        assert_eq!(
            get(&bin, "data"),
            Some(&map([("b", Value::Binary(vec![1]))]))
        );
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
