//! The classic pub/sub adapter, a member of a cluster of Node servers using
//! `@socket.io/redis-adapter` 8 (`createAdapter`).
//!
//! Per namespace `nsp` and key prefix `key`:
//!
//! | channel                     | what                                                        |
//! |-----------------------------|-------------------------------------------------------------|
//! | `key#nsp#` / `key#nsp#room#` | broadcasts, msgpack `[uid, packet, {rooms, except, flags}]`; the room channel when exactly one room is targeted; every node `PSUBSCRIBE`s `key#nsp#*` |
//! | `key-request#nsp#`          | requests (JSON, or msgpack for a broadcast with acks); `PUBSUB NUMSUB` of this channel is the number of nodes |
//! | `key-response#nsp#` (and `…#uid#`) | responses to requests                                |
//!
//! A node ignores its own broadcasts and requests (by uid or request id) and does its share of
//! the work locally instead, without a round trip through Redis.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use sio_cluster_adapter::{
    requests::{self, AckAnswer, Pending, PendingRequest, Requester},
    socket_info,
    value::{
        decode_any, encode_message, from_msgpack, get, get_str, map, string_array, strings, take,
        to_json_string,
    },
    wire::{event_data, opts_from_value, opts_to_value, packet_from_value, packet_to_value, uid2},
};
use sio_server::{
    Value,
    adapter::{
        Adapter, AdapterError, AdapterFactory, BoxFuture, BroadcastAcks, BroadcastOptions,
        LocalAdapter, Room, Session, SocketInfo,
    },
    proto::Packet,
};
use tokio::sync::mpsc;

use crate::{
    error::Error,
    redis_io::{Connections, Handler, Incoming},
};

/// Request types of `@socket.io/redis-adapter`.
mod request {
    pub(crate) const SOCKETS: u64 = 0;
    pub(crate) const ALL_ROOMS: u64 = 1;
    pub(crate) const REMOTE_JOIN: u64 = 2;
    pub(crate) const REMOTE_LEAVE: u64 = 3;
    pub(crate) const REMOTE_DISCONNECT: u64 = 4;
    pub(crate) const REMOTE_FETCH: u64 = 5;
    pub(crate) const SERVER_SIDE_EMIT: u64 = 6;
    pub(crate) const BROADCAST: u64 = 7;
    pub(crate) const BROADCAST_CLIENT_COUNT: u64 = 8;
    pub(crate) const BROADCAST_ACK: u64 = 9;
}

/// Options of the pub/sub adapter, with the names and defaults of `@socket.io/redis-adapter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PubSubConfig {
    /// Prefix of every channel (`key`, default `socket.io`).
    pub key: String,
    /// How long to wait for the other nodes' answers (`requestsTimeout`, default 5 s).
    pub requests_timeout: Duration,
    /// Answer each request on the requester's own channel (`publishOnSpecificResponseChannel`,
    /// default false: the shared response channel). Every node listens on both.
    pub publish_on_specific_response_channel: bool,
}

impl Default for PubSubConfig {
    fn default() -> Self {
        PubSubConfig {
            key: "socket.io".into(),
            requests_timeout: requests::DEFAULT_REQUESTS_TIMEOUT,
            publish_on_specific_response_channel: false,
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Route {
    Broadcast,
    Request,
    Response,
}

type Registry = RwLock<HashMap<String, (Weak<PubSubAdapter>, Route)>>;

/// The adapter factory: give it to [`SocketIo::with_adapter`](sio_server::SocketIo::with_adapter).
///
/// ```no_run
/// use sio_redis_adapter::{PubSubConfig, RedisAdapter};
/// use sio_server::{ServerConfig, SocketIo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let adapter = RedisAdapter::connect("redis://127.0.0.1:6379", PubSubConfig::default()).await?;
/// let io = SocketIo::with_adapter(ServerConfig::default(), adapter);
/// io.listen("127.0.0.1:3000").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisAdapter {
    conns: Connections,
    config: PubSubConfig,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RedisAdapter {
    /// Connects to Redis (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS when the
    /// `redis` crate is built with it) and returns the factory.
    ///
    /// # Errors
    /// The URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str, config: PubSubConfig) -> Result<Self, Error> {
        Self::with_client(crate::redis_io::open_client(url).await?, config).await
    }

    /// As [`RedisAdapter::connect`], with a client you configured.
    ///
    /// # Errors
    /// Redis cannot be reached.
    pub async fn with_client(client: redis::Client, config: PubSubConfig) -> Result<Self, Error> {
        let registry: Arc<Registry> = Arc::default();
        let routes = registry.clone();
        let handler: Handler = Arc::new(move |message: Incoming| route(&routes, message));
        let conns = Connections::open(client, handler).await?;
        Ok(RedisAdapter {
            conns,
            config,
            registry,
        })
    }
}

fn route(registry: &Registry, message: Incoming) {
    let key = message.pattern.as_deref().unwrap_or(&message.channel);
    let entry = registry
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .map(|(adapter, route)| (adapter.upgrade(), *route));
    let Some((Some(adapter), route)) = entry else {
        return;
    };
    match route {
        Route::Broadcast => adapter.on_broadcast(&message.channel, &message.payload),
        Route::Request => adapter.on_request(&message.payload),
        Route::Response => adapter.on_response(&message.payload),
    }
}

impl AdapterFactory for RedisAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        let nsp = local.namespace_name().to_owned();
        let key = &self.config.key;
        let uid = uid2(6);
        let channel = format!("{key}#{nsp}#");
        let request_channel = format!("{key}-request#{nsp}#");
        let response_channel = format!("{key}-response#{nsp}#");
        let specific_response_channel = format!("{response_channel}{uid}#");
        let adapter = Arc::new_cyclic(|me| PubSubAdapter {
            local,
            conns: self.conns.clone(),
            config: self.config.clone(),
            registry: Arc::downgrade(&self.registry),
            uid,
            pattern: format!("{channel}*"),
            channel,
            request_channel,
            response_channel,
            specific_response_channel,
            pending: Arc::default(),
            me: me.clone(),
        });
        {
            let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
            let weak = Arc::downgrade(&adapter);
            registry.insert(adapter.pattern.clone(), (weak.clone(), Route::Broadcast));
            registry.insert(
                adapter.request_channel.clone(),
                (weak.clone(), Route::Request),
            );
            registry.insert(
                adapter.response_channel.clone(),
                (weak.clone(), Route::Response),
            );
            registry.insert(
                adapter.specific_response_channel.clone(),
                (weak, Route::Response),
            );
        }
        self.conns.psubscribe(vec![adapter.pattern.clone()]);
        self.conns.subscribe(adapter.subscribed_channels());
        adapter
    }
}

/// One namespace's pub/sub adapter.
pub struct PubSubAdapter {
    local: LocalAdapter,
    conns: Connections,
    config: PubSubConfig,
    registry: Weak<Registry>,
    uid: String,
    channel: String,
    pattern: String,
    request_channel: String,
    response_channel: String,
    specific_response_channel: String,
    /// Requests of this node waiting for answers.
    pending: Arc<Pending>,
    me: Weak<PubSubAdapter>,
}

impl std::fmt::Debug for PubSubAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PubSubAdapter")
            .field("nsp", &self.local.namespace_name())
            .field("uid", &self.uid)
            .finish_non_exhaustive()
    }
}

impl PubSubAdapter {
    fn subscribed_channels(&self) -> Vec<String> {
        vec![
            self.request_channel.clone(),
            self.response_channel.clone(),
            self.specific_response_channel.clone(),
        ]
    }

    /// This node's id in the cluster.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    fn is_own_request(&self, request: &Value) -> bool {
        get_str(request, "requestId").is_some_and(|id| self.pending.contains(id))
    }

    fn publish_json(&self, channel: &str, message: &Value) {
        self.conns
            .publish(channel.to_owned(), to_json_string(message).into_bytes());
    }

    fn publish_request(&self, message: &Value) {
        self.publish_json(&self.request_channel, message);
    }

    /// A request that wants answers: `{uid, requestId, type, key: value}`.
    fn publish_request_with_id(&self, id: &str, ty: u64, (key, value): (&str, Value)) {
        self.publish_request(&map([
            ("uid", Value::from(self.uid.as_str())),
            ("requestId", Value::from(id)),
            ("type", Value::from(ty)),
            (key, value),
        ]));
    }

    /// Where the answer to `request` goes.
    fn response_channel_for(&self, request: &Value) -> String {
        match (
            self.config.publish_on_specific_response_channel,
            get_str(request, "uid"),
        ) {
            (true, Some(uid)) => format!("{}{uid}#", self.response_channel),
            _ => self.response_channel.clone(),
        }
    }

    /// A broadcast from another node (or an emitter).
    fn on_broadcast(&self, channel: &str, payload: &[u8]) {
        // `key#nsp#` or `key#nsp#room#`; the pattern also matches longer namespaces' channels.
        let Some(rest) = channel.strip_prefix(self.channel.as_str()) else {
            return;
        };
        if !rest.is_empty() && !rest.ends_with('#') {
            return;
        }
        let message = match from_msgpack(payload) {
            Ok(message) => message,
            Err(error) => {
                tracing::debug!(%error, channel, "ignoring malformed broadcast");
                return;
            }
        };
        let Value::Array(parts) = message else {
            return;
        };
        let mut parts = parts.into_iter();
        let (Some(uid), Some(packet), opts) = (parts.next(), parts.next(), parts.next()) else {
            return;
        };
        if uid.as_str() == Some(self.uid.as_str()) {
            return;
        }
        let Some(packet) = packet_from_value(packet) else {
            return;
        };
        if packet.nsp() != self.local.namespace_name() {
            return;
        }
        let opts = opts_from_value(opts.as_ref());
        self.local.broadcast(packet, &opts);
    }

    /// A request from another node (or an emitter).
    fn on_request(&self, payload: &[u8]) {
        let mut request = match decode_any(payload) {
            Ok(request) => request,
            Err(error) => {
                tracing::debug!(%error, "ignoring malformed request");
                return;
            }
        };
        let from_me = get_str(&request, "uid") == Some(self.uid.as_str());
        let request_id = get(&request, "requestId").cloned();
        let Some(ty) = get(&request, "type").and_then(Value::as_u64) else {
            return;
        };
        match ty {
            request::SOCKETS => {
                if self.is_own_request(&request) {
                    return;
                }
                let opts = BroadcastOptions {
                    rooms: strings(get(&request, "rooms")),
                    ..BroadcastOptions::default()
                };
                let ids: Vec<String> = self
                    .local
                    .socket_ids(&opts)
                    .iter()
                    .map(|id| id.to_string())
                    .collect();
                let response = map([
                    ("requestId", request_id.unwrap_or(Value::Nil)),
                    ("sockets", string_array(&ids)),
                ]);
                self.publish_json(&self.response_channel_for(&request), &response);
            }
            request::ALL_ROOMS => {
                if self.is_own_request(&request) {
                    return;
                }
                let response = map([
                    ("requestId", request_id.unwrap_or(Value::Nil)),
                    ("rooms", string_array(&self.local.all_rooms())),
                ]);
                self.publish_json(&self.response_channel_for(&request), &response);
            }
            request::REMOTE_JOIN | request::REMOTE_LEAVE | request::REMOTE_DISCONNECT => {
                if from_me {
                    // Done locally when it was sent.
                    return;
                }
                let rooms = strings(get(&request, "rooms"));
                let close = get(&request, "close")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if let Some(opts) = get(&request, "opts") {
                    let opts = opts_from_value(Some(opts));
                    match ty {
                        request::REMOTE_JOIN => self.local.add_sockets(&opts, &rooms),
                        request::REMOTE_LEAVE => self.local.del_sockets(&opts, &rooms),
                        _ => self.local.disconnect_sockets(&opts, close),
                    }
                    return;
                }
                // The older form: one socket by id, answered when it is here.
                let Some(sid) = get_str(&request, "sid") else {
                    return;
                };
                let opts = BroadcastOptions {
                    rooms: vec![sid.to_owned()],
                    ..BroadcastOptions::default()
                };
                if self.local.socket_ids(&opts).is_empty() {
                    return;
                }
                let room: Vec<Room> = get_str(&request, "room")
                    .map(|r| vec![r.to_owned()])
                    .unwrap_or_default();
                match ty {
                    request::REMOTE_JOIN => self.local.add_sockets(&opts, &room),
                    request::REMOTE_LEAVE => self.local.del_sockets(&opts, &room),
                    _ => self.local.disconnect_sockets(&opts, close),
                }
                let response = map([("requestId", request_id.unwrap_or(Value::Nil))]);
                self.publish_json(&self.response_channel_for(&request), &response);
            }
            request::REMOTE_FETCH => {
                if self.is_own_request(&request) {
                    return;
                }
                let opts = opts_from_value(get(&request, "opts"));
                let sockets = Value::Array(
                    self.local
                        .fetch_sockets(&opts)
                        .iter()
                        .map(socket_info::to_value)
                        .collect(),
                );
                let response = map([
                    ("requestId", request_id.unwrap_or(Value::Nil)),
                    ("sockets", sockets),
                ]);
                self.publish_json(&self.response_channel_for(&request), &response);
            }
            request::SERVER_SIDE_EMIT => {
                if from_me {
                    return;
                }
                let reply = request_id.map(|request_id| {
                    let conns = self.conns.clone();
                    let channel = self.response_channel.clone();
                    move |data: Option<Value>| {
                        let mut fields = vec![
                            (Value::from("type"), Value::from(request::SERVER_SIDE_EMIT)),
                            (Value::from("requestId"), request_id),
                        ];
                        fields.extend(data.map(|data| (Value::from("data"), data)));
                        conns.publish(channel, to_json_string(&Value::Map(fields)).into_bytes());
                    }
                });
                let data = take(&mut request, "data");
                requests::run_server_side_emit(
                    &self.local,
                    data,
                    reply,
                    self.config.requests_timeout,
                );
            }
            request::BROADCAST => {
                if self.is_own_request(&request) {
                    return;
                }
                let Some(request_id) = request_id else {
                    return;
                };
                let Some(packet) = take(&mut request, "packet").and_then(packet_from_value) else {
                    return;
                };
                let opts = opts_from_value(get(&request, "opts"));
                let channel = self.response_channel_for(&request);
                let count_id = request_id.clone();
                let send_count = |count: usize| {
                    let message = map([
                        ("type", Value::from(request::BROADCAST_CLIENT_COUNT)),
                        ("requestId", count_id),
                        ("clientCount", Value::from(count)),
                    ]);
                    self.publish_json(&channel, &message);
                };
                let conns = self.conns.clone();
                let ack_channel = channel.clone();
                let send_ack = move |packet: Option<Value>| {
                    let mut fields = vec![
                        (Value::from("type"), Value::from(request::BROADCAST_ACK)),
                        (Value::from("requestId"), request_id.clone()),
                    ];
                    fields.extend(packet.map(|packet| (Value::from("packet"), packet)));
                    if let Some(payload) = encode_message(&Value::Map(fields)) {
                        conns.publish(ack_channel.clone(), payload);
                    }
                };
                requests::relay_broadcast_acks(&self.local, packet, &opts, send_count, send_ack);
            }
            other => tracing::debug!(request_type = other, "ignoring unknown request type"),
        }
    }

    /// An answer to some node's request: kept if it answers one of ours.
    fn on_response(&self, payload: &[u8]) {
        let response = match decode_any(payload) {
            Ok(response) => response,
            Err(error) => {
                tracing::debug!(%error, "ignoring malformed response");
                return;
            }
        };
        if let Some(id) = get_str(&response, "requestId").map(str::to_owned) {
            self.pending.answer(&id, response);
        }
    }

    fn forward(&self, ty: u64, opts: &BroadcastOptions, extra: (&str, Value)) {
        if opts.flags.local {
            return;
        }
        let (key, value) = extra;
        self.publish_request(&map([
            ("uid", Value::from(self.uid.as_str())),
            ("type", Value::from(ty)),
            ("opts", opts_to_value(opts, false)),
            (key, value),
        ]));
    }

    fn me(&self) -> Option<Arc<PubSubAdapter>> {
        self.me.upgrade()
    }
}

impl Requester<Value> for PubSubAdapter {
    /// `PUBSUB NUMSUB` of the request channel, which every node subscribes to.
    async fn node_count(&self) -> Result<usize, AdapterError> {
        self.conns
            .numsub(&self.request_channel)
            .await
            .map_err(|e| AdapterError::Transport(e.to_string()))
    }

    fn register(&self) -> PendingRequest {
        self.pending.register(uid2(6))
    }
}

impl Adapter for PubSubAdapter {
    fn local(&self) -> &LocalAdapter {
        &self.local
    }

    fn broadcast(&self, packet: Packet, opts: BroadcastOptions) {
        if !opts.flags.local
            && let Some(wire_packet) = packet_to_value(&packet)
        {
            let message = Value::Array(vec![
                Value::from(self.uid.as_str()),
                wire_packet,
                opts_to_value(&opts, true),
            ]);
            let channel = match opts.rooms.as_slice() {
                [room] => format!("{}{room}#", self.channel),
                _ => self.channel.clone(),
            };
            if let Some(payload) = encode_message(&message) {
                self.conns.publish(channel, payload);
            }
        }
        self.local.broadcast(packet, &opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, BroadcastAcks> {
        let (collector, answers) = mpsc::unbounded_channel();
        let me = self.me().filter(|_| !opts.flags.local);
        let mut request = None;
        if let (Some(me), Some(wire_packet)) = (&me, packet_to_value(&packet)) {
            let pending = me.register();
            let mut wire_opts = opts.clone();
            wire_opts.flags.timeout = Some(timeout);
            let message = map([
                ("uid", Value::from(self.uid.as_str())),
                ("requestId", Value::from(pending.id.as_str())),
                ("type", Value::from(request::BROADCAST)),
                ("packet", wire_packet),
                ("opts", opts_to_value(&wire_opts, true)),
            ]);
            // Unencodable, nothing is asked: the other nodes' acks are not awaited.
            if let Some(payload) = encode_message(&message) {
                self.conns.publish(self.request_channel.clone(), payload);
                request = Some(pending);
            }
        }
        let local_count = self.local.broadcast_with_ack(packet, &opts, collector);
        Box::pin(async move {
            let read = |answer: Value| match get(&answer, "type").and_then(Value::as_u64) {
                Some(request::BROADCAST_CLIENT_COUNT) => {
                    AckAnswer::client_count(get(&answer, "clientCount"))
                }
                Some(request::BROADCAST_ACK) => AckAnswer::ack(get(&answer, "packet")),
                _ => AckAnswer::Other,
            };
            let asked = me.as_ref().zip(request).map(|(me, r)| (r, me.node_count()));
            requests::collect_broadcast_acks(answers, local_count, asked, timeout, read).await
        })
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.add_sockets(&opts, &rooms);
        self.forward(request::REMOTE_JOIN, &opts, ("rooms", string_array(&rooms)));
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.del_sockets(&opts, &rooms);
        self.forward(
            request::REMOTE_LEAVE,
            &opts,
            ("rooms", string_array(&rooms)),
        );
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool) {
        self.local.disconnect_sockets(&opts, close);
        self.forward(
            request::REMOTE_DISCONNECT,
            &opts,
            ("close", Value::from(close)),
        );
    }

    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketInfo>, AdapterError>> {
        let mut sockets = self.local.fetch_sockets(&opts);
        let me = self.me().filter(|_| !opts.flags.local);
        Box::pin(async move {
            let Some(me) = me else {
                return Ok(sockets);
            };
            let opts = opts_to_value(&opts, false);
            requests::ask_other_nodes(
                &*me,
                |id| me.publish_request_with_id(id, request::REMOTE_FETCH, ("opts", opts)),
                me.config.requests_timeout,
                |answer| socket_info::extend_from(&mut sockets, get(&answer, "sockets")),
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
        let data = event_data(event, args);
        let Some(timeout) = ack_timeout else {
            self.publish_request(&map([
                ("uid", Value::from(self.uid.as_str())),
                ("type", Value::from(request::SERVER_SIDE_EMIT)),
                ("data", data),
            ]));
            return Box::pin(async { Ok(Vec::new()) });
        };
        let publish = |me: &Self, id: &str| {
            me.publish_request_with_id(id, request::SERVER_SIDE_EMIT, ("data", data));
        };
        requests::server_side_answers(self.me(), publish, timeout, |answer: &Value| {
            get(answer, "data")
        })
    }

    fn server_count(&self) -> BoxFuture<'static, usize> {
        let me = self.me();
        Box::pin(async move { requests::server_count(me.as_ref().map(|me| me.node_count())).await })
    }

    fn persist_session(&self, session: Session) {
        // As Node's pub/sub adapter, sessions stay on this node (use the streams adapter to
        // recover on another node).
        self.local.persist_session(session);
    }

    fn close(&self) {
        self.conns.punsubscribe(vec![self.pattern.clone()]);
        self.conns.unsubscribe(self.subscribed_channels());
        if let Some(registry) = self.registry.upgrade() {
            let mut registry = registry.write().unwrap_or_else(|e| e.into_inner());
            registry.remove(&self.pattern);
            for channel in self.subscribed_channels() {
                registry.remove(&channel);
            }
        }
    }
}
