//! The manager: one Engine.IO (or Socket.IO 0.9) connection per server, shared by every
//! namespace socket, with reconnection.
//!
//! One task per manager owns the connection and every namespace's state (connected or not,
//! pending acknowledgements, the offline send buffer, the recovery pid and offset); clients
//! talk to it through [`Cmd`]s.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};

use bytes::Bytes;
use serde_json::Value as Json;
use sio_engineio_proto::Revision;
use sio_socketio_proto::{
    Decoder, DecoderConfig, Packet, ProtocolVersion, Value, from_value, msgpack, text, to_value,
};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::client::SocketShared;
use crate::engine::{
    self, CloseReason, EngineConfig, EngineError, EngineEvent, EngineSender, Frame,
};
use crate::error::Error;
use crate::event::{AckSender, ClientEvent, DisconnectReason, Event};
use crate::legacy;
use crate::options::{ManagerOptions, Parser, Protocol, Transport};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Most binary attachments accepted in one packet from the server.
const MAX_ATTACHMENTS: usize = 1000;

/// Most events kept while a namespace waits for its CONNECT answer (a recovering server
/// replays the missed ones first).
const MAX_EARLY_EVENTS: usize = 10_000;

/// A request to the manager task.
#[derive(Debug)]
pub(crate) enum Cmd {
    Open {
        socket: Arc<SocketShared>,
    },
    Emit {
        nsp: String,
        event: String,
        args: Vec<Value>,
        ack: Option<(u64, oneshot::Sender<Vec<Value>>)>,
        volatile: bool,
    },
    AckReply {
        nsp: String,
        id: u64,
        args: Vec<Value>,
    },
    CancelAck {
        nsp: String,
        id: u64,
    },
    Leave {
        nsp: String,
        /// Answered (or dropped) once what was sent before is written: when the connection
        /// closes with this namespace, after its close packet.
        done: Option<oneshot::Sender<()>>,
    },
    /// Close the connection without DISCONNECT packets; `done` as for `Leave`.
    Close {
        done: oneshot::Sender<()>,
    },
}

/// A connection to one server, shared by the namespace sockets created from it (the
/// JavaScript client's `Manager`). Get it from [`Client::manager`](crate::Client::manager) and
/// open more namespaces on the same connection with [`Manager::socket`].
#[derive(Debug, Clone)]
pub struct Manager {
    pub(crate) inner: Arc<ManagerInner>,
}

#[derive(Debug)]
pub(crate) struct ManagerInner {
    pub(crate) cmds: mpsc::UnboundedSender<Cmd>,
    pub(crate) options: Arc<ManagerOptions>,
}

impl Manager {
    pub(crate) fn spawn(options: ManagerOptions) -> Manager {
        let (tx, rx) = mpsc::unbounded_channel();
        let options = Arc::new(options);
        let task = ManagerTask {
            backoff: Backoff::new(&options.reconnection),
            options: options.clone(),
            weak_cmds: tx.downgrade(),
            cmds: rx,
            sockets: HashMap::new(),
            conn: None,
            connecting: None,
            reconnect_at: None,
            reconnecting: false,
            detected: None,
            upgraded_once: false,
        };
        tokio::spawn(task.run());
        Manager {
            inner: Arc::new(ManagerInner { cmds: tx, options }),
        }
    }

    /// A builder for a socket on namespace `nsp` that shares this manager's connection.
    pub fn socket(&self, nsp: &str) -> crate::ClientBuilder {
        crate::ClientBuilder::for_manager(self.clone(), nsp)
    }

    pub(crate) fn send(&self, cmd: Cmd) -> Result<(), Error> {
        self.inner.cmds.send(cmd).map_err(|_| Error::Closed)
    }

    /// Closes the connection of every namespace on it at once, without sending their
    /// DISCONNECT packets (the JavaScript `socket.io.engine.close()`; servers see a transport
    /// close), and waits until what was sent before, then the close packet, is written (at
    /// most a few seconds when the server stops answering). No reconnection follows.
    ///
    /// For programs that emit and exit: servers such as Node's socket.io 3 and 4 ignore an
    /// event that reaches them in the same read as the socket's DISCONNECT, which
    /// [`Client::close`](crate::Client::close) sends; after this close they handle it.
    pub async fn close(&self) {
        let (done, written) = oneshot::channel();
        if self.send(Cmd::Close { done }).is_ok() {
            // An error only means the connection was already gone.
            let _ = written.await;
        }
    }
}

/// Managers shared by URL, as `io()` shares them unless `forceNew` is set.
static CACHE: Mutex<Vec<(String, Weak<ManagerInner>)>> = Mutex::new(Vec::new());

pub(crate) fn cached(key: &str, options: ManagerOptions) -> Manager {
    let Ok(mut cache) = CACHE.lock() else {
        return Manager::spawn(options);
    };
    cache.retain(|(_, weak)| weak.strong_count() > 0);
    let found = cache
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, weak)| weak.upgrade())
        .filter(|inner| !inner.cmds.is_closed());
    if let Some(inner) = found {
        return Manager { inner };
    }
    let manager = Manager::spawn(options);
    cache.push((key.to_owned(), Arc::downgrade(&manager.inner)));
    manager
}

/// How packets travel on the current connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Text(ProtocolVersion),
    Msgpack,
    Legacy,
}

struct Conn {
    wire: Wire,
    protocol: Protocol,
    sid: String,
    sender: EngineSender,
    events: mpsc::UnboundedReceiver<EngineEvent>,
    decoder: Decoder,
    websocket: bool,
    /// v4 and 0.9 servers connect the main namespace by themselves.
    root_connected: bool,
}

/// One namespace socket, as the manager sees it.
struct Ns {
    shared: Arc<SocketShared>,
    connected: bool,
    buffer: VecDeque<Packet>,
    /// Events that arrived before the CONNECT answer (a recovering server replays missed
    /// events first): delivered right after the `connect` event, as the JavaScript client does.
    received: Vec<Event>,
    acks: HashMap<u64, oneshot::Sender<Vec<Value>>>,
    pid: Option<String>,
    offset: Option<String>,
}

impl Ns {
    fn emit(&self, event: ClientEvent) {
        self.shared.deliver(event);
    }

    fn set_connected(&mut self, id: Option<String>, recovered: bool) {
        self.connected = id.is_some();
        if let Ok(mut state) = self.shared.state.lock() {
            state.connected = self.connected;
            if let Some(id) = id {
                state.id = Some(id);
                state.recovered = recovered;
            }
        }
    }
}

struct ManagerTask {
    options: Arc<ManagerOptions>,
    weak_cmds: mpsc::WeakUnboundedSender<Cmd>,
    cmds: mpsc::UnboundedReceiver<Cmd>,
    sockets: HashMap<String, Ns>,
    conn: Option<Conn>,
    connecting: Option<BoxFuture<Result<Conn, Error>>>,
    reconnect_at: Option<Instant>,
    backoff: Backoff,
    reconnecting: bool,
    detected: Option<Protocol>,
    upgraded_once: bool,
}

async fn wait<T>(fut: &mut Option<BoxFuture<T>>) -> T {
    match fut {
        Some(f) => f.await,
        None => std::future::pending().await,
    }
}

async fn next_event(conn: &mut Option<Conn>) -> EngineEvent {
    match conn {
        Some(conn) => conn
            .events
            .recv()
            .await
            .unwrap_or(EngineEvent::Closed(CloseReason::TransportClose)),
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

fn disconnect_reason(reason: CloseReason) -> DisconnectReason {
    match reason {
        CloseReason::TransportClose => DisconnectReason::TransportClose,
        CloseReason::TransportError(e) => DisconnectReason::TransportError(e),
        CloseReason::PingTimeout => DisconnectReason::PingTimeout,
        CloseReason::ParseError(e) => DisconnectReason::ParseError(e),
        CloseReason::ForcedClose => DisconnectReason::ClientDisconnect,
    }
}

/// The engine settings for one connection attempt.
pub(crate) fn engine_config(options: &ManagerOptions, websocket_first: bool) -> EngineConfig {
    let mut transports = options.transports.clone();
    if websocket_first && transports.contains(&Transport::Websocket) {
        transports = vec![Transport::Websocket];
    }
    EngineConfig {
        host: options.host.clone(),
        port: options.port,
        secure: options.secure,
        tls_config: options.tls_config.clone(),
        proxy: options.proxy.clone(),
        path: options.path.clone(),
        query: options.query.clone(),
        headers: options.headers.clone(),
        transports,
        revision: None,
        force_base64: options.force_base64,
        timestamp_requests: options.timestamp_requests,
        timestamp_param: options.timestamp_param.clone(),
        upgrade: options.upgrade,
        connect_timeout: options.timeout,
    }
}

async fn open_conn(
    options: Arc<ManagerOptions>,
    protocol: Protocol,
    websocket_first: bool,
) -> Result<Conn, Error> {
    if protocol == Protocol::Legacy09 {
        return open_legacy(&options).await;
    }
    let mut config = engine_config(&options, websocket_first);
    config.revision = match protocol {
        Protocol::V5 => Some(Revision::V4),
        Protocol::V4 => Some(Revision::V3),
        Protocol::Auto | Protocol::Legacy09 => None,
    };
    match engine::open(config).await {
        Ok(engine) => {
            let (wire, protocol) = match engine.info.revision {
                Revision::V4 if options.parser == Parser::Msgpack => (Wire::Msgpack, Protocol::V5),
                Revision::V4 => (Wire::Text(ProtocolVersion::V5), Protocol::V5),
                Revision::V3 => (Wire::Text(ProtocolVersion::V4), Protocol::V4),
            };
            let version = match wire {
                Wire::Text(v) => v,
                Wire::Msgpack | Wire::Legacy => ProtocolVersion::V5,
            };
            Ok(Conn {
                wire,
                protocol,
                sid: engine.info.sid,
                sender: engine.sender,
                events: engine.events,
                decoder: Decoder::new(DecoderConfig {
                    version,
                    max_attachments: MAX_ATTACHMENTS,
                }),
                websocket: engine.info.transport == Transport::Websocket,
                root_connected: false,
            })
        }
        Err(
            e @ (EngineError::Status { .. } | EngineError::Protocol(_) | EngineError::WebSocket(_)),
        ) if protocol == Protocol::Auto => {
            // Not Engine.IO: maybe a Socket.IO 0.9 server.
            open_legacy(&options).await.map_err(|_| Error::Engine(e))
        }
        Err(e) => Err(e.into()),
    }
}

async fn open_legacy(options: &ManagerOptions) -> Result<Conn, Error> {
    let conn = legacy::open(options).await?;
    Ok(Conn {
        wire: Wire::Legacy,
        protocol: Protocol::Legacy09,
        sid: conn.sid,
        sender: conn.sender,
        events: conn.events,
        decoder: Decoder::default(),
        websocket: conn.websocket,
        root_connected: false,
    })
}

/// `/` is the main endpoint `""` in 0.9.
fn endpoint_of(nsp: &str) -> String {
    if nsp == "/" {
        String::new()
    } else {
        nsp.to_owned()
    }
}

fn nsp_of(endpoint: &str) -> String {
    if endpoint.is_empty() {
        "/".to_owned()
    } else {
        endpoint.to_owned()
    }
}

fn to_json_args(args: &[Value]) -> Result<Vec<Json>, String> {
    args.iter()
        .map(|v| {
            from_value::<Json>(v.clone())
                .map_err(|e| format!("socket.io 0.9 cannot carry this value: {e}"))
        })
        .collect()
}

fn from_json_args(args: Vec<Json>) -> Vec<Value> {
    args.into_iter()
        .map(|j| to_value(&j).unwrap_or(Value::Nil))
        .collect()
}

/// A 0.9 message as a Socket.IO packet, plus an automatic acknowledgement to send back.
fn legacy_to_packet(
    message: sio_legacy_proto::Message,
) -> (Option<Packet>, Option<sio_legacy_proto::Message>) {
    use sio_legacy_proto::{Message, MessageId};
    // Ids without `+` are acknowledged by the library at once; `+` ids by the application.
    let split_id = |id: Option<MessageId>, endpoint: &str| match id {
        Some(MessageId { id, user_ack: true }) => (Some(id), None),
        Some(MessageId {
            id,
            user_ack: false,
        }) => (
            None,
            Some(Message::Ack {
                endpoint: endpoint.to_owned(),
                ack_id: id,
                args: vec![],
            }),
        ),
        None => (None, None),
    };
    match message {
        Message::Connect { endpoint, .. } => (
            Some(Packet::Connect {
                nsp: nsp_of(&endpoint),
                data: None,
                query: None,
            }),
            None,
        ),
        Message::Disconnect { endpoint } => (
            Some(Packet::Disconnect {
                nsp: nsp_of(&endpoint),
            }),
            None,
        ),
        Message::Message { id, endpoint, data } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: "message".into(),
                    args: vec![Value::from(data)],
                }),
                auto,
            )
        }
        Message::Json { id, endpoint, data } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: "message".into(),
                    args: from_json_args(vec![data]),
                }),
                auto,
            )
        }
        Message::Event {
            id,
            endpoint,
            name,
            args,
        } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: name,
                    args: from_json_args(args),
                }),
                auto,
            )
        }
        Message::Ack {
            endpoint,
            ack_id,
            args,
        } => (
            Some(Packet::Ack {
                nsp: nsp_of(&endpoint),
                id: ack_id,
                args: from_json_args(args),
            }),
            None,
        ),
        Message::Error {
            endpoint, reason, ..
        } => (
            Some(Packet::ConnectError {
                nsp: nsp_of(&endpoint),
                data: Value::from(reason),
            }),
            None,
        ),
        Message::Heartbeat | Message::Noop => (None, None),
    }
}

fn packet_to_legacy(packet: &Packet) -> Result<sio_legacy_proto::Message, String> {
    use sio_legacy_proto::{Message, MessageId};
    Ok(match packet {
        Packet::Connect { nsp, query, .. } => Message::Connect {
            endpoint: endpoint_of(nsp),
            query: query.clone().filter(|q| !q.is_empty()),
        },
        Packet::Disconnect { nsp } => Message::Disconnect {
            endpoint: endpoint_of(nsp),
        },
        Packet::Event {
            nsp,
            id,
            event,
            args,
        } => Message::Event {
            id: id.map(MessageId::user),
            endpoint: endpoint_of(nsp),
            name: event.clone(),
            args: to_json_args(args)?,
        },
        Packet::Ack { nsp, id, args } => Message::Ack {
            endpoint: endpoint_of(nsp),
            ack_id: *id,
            args: to_json_args(args)?,
        },
        Packet::ConnectError { .. } => return Err("a client does not send CONNECT_ERROR".into()),
    })
}

/// Reads `key` of a map value as a string.
fn map_str(value: Option<&Value>, key: &str) -> Option<String> {
    match value {
        Some(Value::Map(entries)) => entries.iter().find_map(|(k, v)| {
            (k.as_str() == Some(key))
                .then(|| v.as_str().map(str::to_owned))
                .flatten()
        }),
        _ => None,
    }
}

/// The `message` of a CONNECT_ERROR payload (an object in v5, a string before).
pub(crate) fn connect_error_message(data: &Value) -> String {
    match data {
        Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
        other => map_str(Some(other), "message").unwrap_or_else(|| other.to_string()),
    }
}

impl ManagerTask {
    async fn run(mut self) {
        loop {
            tokio::select! {
                cmd = self.cmds.recv() => match cmd {
                    Some(cmd) => self.on_cmd(cmd),
                    None => break,
                },
                result = wait(&mut self.connecting) => {
                    self.connecting = None;
                    self.on_open(result);
                }
                event = next_event(&mut self.conn) => self.on_engine_event(event),
                () = sleep_until(self.reconnect_at) => {
                    self.reconnect_at = None;
                    if !self.sockets.is_empty() {
                        let attempt = self.backoff.attempts;
                        self.broadcast(&ClientEvent::ReconnectAttempt(attempt));
                        self.connecting = Some(self.connect_future());
                    }
                }
            }
        }
        if let Some(conn) = self.conn.take() {
            conn.sender.close();
        }
    }

    fn broadcast(&self, event: &ClientEvent) {
        for ns in self.sockets.values() {
            ns.emit(event.clone());
        }
    }

    fn connect_future(&self) -> BoxFuture<Result<Conn, Error>> {
        let options = self.options.clone();
        let protocol = self.detected.unwrap_or(options.protocol);
        let websocket_first = options.remember_upgrade && self.upgraded_once;
        Box::pin(open_conn(options, protocol, websocket_first))
    }

    fn ensure_connection(&mut self) {
        if self.conn.is_none() && self.connecting.is_none() && self.reconnect_at.is_none() {
            self.connecting = Some(self.connect_future());
        }
    }

    /// Stops connecting and closes the connection when no socket is left.
    fn close_if_unused(&mut self) {
        self.close_if_unused_then(None);
    }

    /// [`close_if_unused`](Self::close_if_unused); `done` is answered once the connection's
    /// close packet is written, or dropped at once when the connection stays open.
    fn close_if_unused_then(&mut self, done: Option<oneshot::Sender<()>>) {
        if self.sockets.is_empty() {
            self.connecting = None;
            self.reconnect_at = None;
            self.reconnecting = false;
            self.backoff.reset();
            if let Some(conn) = self.conn.take() {
                match done {
                    Some(done) => conn.sender.close_then(done),
                    None => conn.sender.close(),
                }
            }
        }
    }

    fn on_cmd(&mut self, cmd: Cmd) {
        match cmd {
            Cmd::Open { socket } => {
                let nsp = socket.nsp.clone();
                let ns = Ns {
                    shared: socket,
                    connected: false,
                    buffer: VecDeque::new(),
                    received: Vec::new(),
                    acks: HashMap::new(),
                    pid: None,
                    offset: None,
                };
                if let Some(old) = self.sockets.insert(nsp.clone(), ns)
                    && old.connected
                {
                    old.emit(ClientEvent::Disconnect(DisconnectReason::ClientDisconnect));
                }
                if self.conn.is_some() {
                    self.send_connect(&nsp);
                } else {
                    self.ensure_connection();
                }
            }
            Cmd::Emit {
                nsp,
                event,
                args,
                ack,
                volatile,
            } => {
                let connected = self.conn.is_some();
                let Some(ns) = self.sockets.get_mut(&nsp) else {
                    return;
                };
                let id = ack.map(|(id, tx)| {
                    ns.acks.insert(id, tx);
                    id
                });
                let packet = Packet::Event {
                    nsp: nsp.clone(),
                    id,
                    event,
                    args,
                };
                if connected && ns.connected {
                    self.send_packet(&packet, volatile);
                } else if !volatile {
                    ns.buffer.push_back(packet);
                }
            }
            Cmd::AckReply { nsp, id, args } => {
                if self.sockets.get(&nsp).is_some_and(|ns| ns.connected) {
                    self.send_packet(&Packet::Ack { nsp, id, args }, false);
                }
            }
            Cmd::CancelAck { nsp, id } => {
                if let Some(ns) = self.sockets.get_mut(&nsp) {
                    ns.acks.remove(&id);
                }
            }
            Cmd::Leave { nsp, done } => {
                if let Some(ns) = self.sockets.remove(&nsp) {
                    if ns.connected {
                        self.send_packet(&Packet::Disconnect { nsp }, false);
                    }
                    if ns.connected || self.conn.is_none() {
                        ns.emit(ClientEvent::Disconnect(DisconnectReason::ClientDisconnect));
                    }
                    let mut ns = ns;
                    ns.set_connected(None, false);
                }
                self.close_if_unused_then(done);
            }
            Cmd::Close { done } => {
                for (_, mut ns) in self.sockets.drain() {
                    if ns.connected || self.conn.is_none() {
                        ns.emit(ClientEvent::Disconnect(DisconnectReason::ClientDisconnect));
                    }
                    ns.set_connected(None, false);
                }
                self.close_if_unused_then(Some(done));
            }
        }
    }

    fn on_open(&mut self, result: Result<Conn, Error>) {
        match result {
            Ok(conn) => {
                tracing::debug!(sid = %conn.sid, protocol = ?conn.protocol, "connected");
                if conn.websocket {
                    self.upgraded_once = true;
                }
                self.detected = Some(conn.protocol);
                self.conn = Some(conn);
                if self.reconnecting {
                    self.reconnecting = false;
                    self.broadcast(&ClientEvent::Reconnect(self.backoff.attempts));
                }
                self.backoff.reset();
                let namespaces: Vec<String> = self.sockets.keys().cloned().collect();
                for nsp in namespaces {
                    self.send_connect(&nsp);
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "connection failed");
                if self.reconnecting {
                    self.broadcast(&ClientEvent::ReconnectError(e.to_string()));
                } else {
                    let message = e.to_string();
                    for ns in self.sockets.values() {
                        if let Ok(mut state) = ns.shared.state.lock() {
                            state.connect_failure = Some(message.clone());
                        }
                    }
                    self.broadcast(&ClientEvent::ConnectError(Value::from(message)));
                }
                self.maybe_reconnect();
            }
        }
    }

    fn maybe_reconnect(&mut self) {
        let options = &self.options.reconnection;
        if !options.enabled || self.sockets.is_empty() {
            self.reconnecting = false;
            return;
        }
        if options
            .attempts
            .is_some_and(|max| self.backoff.attempts >= max)
        {
            self.broadcast(&ClientEvent::ReconnectFailed);
            self.backoff.reset();
            self.reconnecting = false;
            return;
        }
        let delay = self.backoff.next();
        self.reconnecting = true;
        self.reconnect_at = Some(Instant::now() + delay);
    }

    /// Sends the CONNECT of namespace `nsp`, with auth (re-evaluated now) and the recovery
    /// data.
    fn send_connect(&mut self, nsp: &str) {
        let Some(conn) = &self.conn else { return };
        let (wire, root_connected) = (conn.wire, conn.root_connected);
        let Some(ns) = self.sockets.get(nsp) else {
            return;
        };
        let implicit = nsp == "/" && matches!(wire, Wire::Text(ProtocolVersion::V4) | Wire::Legacy);
        if implicit {
            // The server connects the main namespace by itself.
            if root_connected {
                let sid = self
                    .conn
                    .as_ref()
                    .map(|c| c.sid.clone())
                    .unwrap_or_default();
                self.on_connected(nsp, Some(sid), None);
            }
            return;
        }
        if wire == Wire::Legacy && !root_connected {
            // A 0.9 server may drop an endpoint's CONNECT that comes before its own `1::`:
            // sent when that arrives, as the 0.9 JavaScript client does.
            return;
        }
        let data = match wire {
            Wire::Text(ProtocolVersion::V5) | Wire::Msgpack => {
                let auth = ns.shared.auth.evaluate();
                let mut entries: Vec<(Value, Value)> = Vec::new();
                if let Some(pid) = &ns.pid {
                    entries.push((Value::from("pid"), Value::from(pid.as_str())));
                    entries.push((
                        Value::from("offset"),
                        ns.offset.as_deref().map_or(Value::Nil, Value::from),
                    ));
                }
                match auth.map(|a| to_value(&a)) {
                    Some(Ok(Value::Map(user))) => entries.extend(user),
                    Some(Ok(Value::Nil)) | None => {}
                    Some(Ok(other)) => {
                        if entries.is_empty() {
                            entries.push((Value::Nil, other));
                        }
                    }
                    Some(Err(e)) => ns.emit(ClientEvent::Error(format!("auth: {e}"))),
                }
                match entries.as_slice() {
                    [] => None,
                    // A non-object auth value is sent as it is.
                    [(Value::Nil, value)] => Some(value.clone()),
                    _ => Some(Value::Map(entries)),
                }
            }
            Wire::Text(ProtocolVersion::V4) | Wire::Legacy => None,
        };
        let query = ns.shared.query.clone();
        self.send_packet(
            &Packet::Connect {
                nsp: nsp.to_owned(),
                data,
                query,
            },
            false,
        );
    }

    /// Encodes and sends a packet; reports encoding failures as `error` events.
    fn send_packet(&mut self, packet: &Packet, volatile: bool) -> bool {
        let Some(conn) = &self.conn else { return false };
        let sender = &conn.sender;
        let send = |frame: Frame, volatile: bool| {
            if volatile {
                sender.send_volatile(frame)
            } else {
                sender.send(frame)
            }
        };
        let result = match conn.wire {
            Wire::Text(version) => {
                let mut text = String::new();
                let mut attachments: Vec<Bytes> = Vec::new();
                match text::encode_into(packet, version, &mut text, &mut attachments) {
                    Ok(()) => {
                        // Attachments must follow their packet: never drop only some frames.
                        let volatile = volatile && attachments.is_empty();
                        send(Frame::Text(text), volatile);
                        for attachment in attachments {
                            send(Frame::Binary(attachment), false);
                        }
                        Ok(())
                    }
                    Err(e) => Err(e.to_string()),
                }
            }
            Wire::Msgpack => msgpack::encode(packet)
                .map(|bytes| {
                    send(Frame::Binary(Bytes::from(bytes)), volatile);
                })
                .map_err(|e| e.to_string()),
            Wire::Legacy => packet_to_legacy(packet).map(|message| {
                send(Frame::Text(message.to_encoded()), volatile);
            }),
        };
        match result {
            Ok(()) => true,
            Err(e) => {
                if let Some(ns) = self.sockets.get(packet.nsp()) {
                    ns.emit(ClientEvent::Error(format!("cannot send: {e}")));
                }
                false
            }
        }
    }

    fn on_engine_event(&mut self, event: EngineEvent) {
        match event {
            EngineEvent::Message(frame) => {
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                let decoded: Result<Vec<Packet>, String> = match (conn.wire, frame) {
                    (Wire::Text(_), Frame::Text(text)) => conn
                        .decoder
                        .feed_text(&text)
                        .map(|p| p.into_iter().collect())
                        .map_err(|e| e.to_string()),
                    (Wire::Text(_), Frame::Binary(bytes)) => conn
                        .decoder
                        .feed_binary(bytes)
                        .map(|p| p.into_iter().collect())
                        .map_err(|e| e.to_string()),
                    (Wire::Msgpack, Frame::Binary(bytes)) => msgpack::decode(&bytes)
                        .map(|p| vec![p])
                        .map_err(|e| e.to_string()),
                    (Wire::Msgpack, Frame::Text(text)) => {
                        Err(format!("text frame with the msgpack parser: {text:.40}"))
                    }
                    (Wire::Legacy, Frame::Text(text)) => match sio_legacy_proto::decode(&text) {
                        Ok(message) => {
                            let (packet, auto_ack) = legacy_to_packet(message);
                            if let Some(ack) = auto_ack {
                                conn.sender.send(Frame::Text(ack.to_encoded()));
                            }
                            Ok(packet.into_iter().collect())
                        }
                        Err(e) => Err(e.to_string()),
                    },
                    (Wire::Legacy, Frame::Binary(_)) => {
                        Err("binary frame from a 0.9 server".into())
                    }
                };
                match decoded {
                    Ok(packets) => {
                        for packet in packets {
                            self.on_packet(packet);
                        }
                    }
                    Err(e) => self.protocol_violation(e),
                }
            }
            EngineEvent::Upgraded => {
                self.upgraded_once = true;
                if let Some(conn) = self.conn.as_mut() {
                    conn.websocket = true;
                }
            }
            EngineEvent::Closed(reason) => self.on_close(disconnect_reason(reason)),
        }
    }

    /// The server broke the protocol: report it and drop the connection (then reconnect,
    /// as for any lost connection).
    fn protocol_violation(&mut self, error: String) {
        tracing::debug!(%error, "protocol violation");
        self.broadcast(&ClientEvent::Error(error.clone()));
        if let Some(conn) = self.conn.take() {
            conn.sender.close();
        }
        self.on_close(DisconnectReason::ParseError(error));
    }

    fn on_close(&mut self, reason: DisconnectReason) {
        self.conn = None;
        for ns in self.sockets.values_mut() {
            if ns.connected {
                ns.set_connected(None, false);
                ns.emit(ClientEvent::Disconnect(reason.clone()));
            }
        }
        if reason != DisconnectReason::ClientDisconnect
            && self.reconnect_at.is_none()
            && self.connecting.is_none()
        {
            self.maybe_reconnect();
        }
    }

    fn on_connected(&mut self, nsp: &str, id: Option<String>, pid: Option<String>) {
        let conn = match &self.conn {
            Some(conn) => conn,
            None => return,
        };
        let Some(ns) = self.sockets.get_mut(nsp) else {
            return;
        };
        if ns.connected {
            return;
        }
        // v4 servers name sockets `<nsp>#<engine id>` outside the main namespace; 0.9
        // servers use the session id everywhere.
        let id = id.unwrap_or_else(|| {
            if nsp == "/" || conn.wire == Wire::Legacy {
                conn.sid.clone()
            } else {
                format!("{nsp}#{}", conn.sid)
            }
        });
        let recovered = pid.is_some() && ns.pid == pid;
        ns.pid = pid;
        ns.set_connected(Some(id.clone()), recovered);
        ns.emit(ClientEvent::Connect { id, recovered });
        for event in ns.received.drain(..) {
            ns.shared.deliver(ClientEvent::Event(event));
        }
        let buffered: Vec<Packet> = ns.buffer.drain(..).collect();
        for packet in buffered {
            self.send_packet(&packet, false);
        }
    }

    fn ack_sender(&self, nsp: &str, id: u64) -> Option<AckSender> {
        Some(AckSender {
            cmds: self.weak_cmds.upgrade()?,
            nsp: nsp.to_owned(),
            id,
            sent: Arc::default(),
        })
    }

    fn on_packet(&mut self, packet: Packet) {
        match packet {
            Packet::Connect { nsp, data, .. } => {
                let Some(conn) = self.conn.as_mut() else {
                    return;
                };
                let v5 = matches!(conn.wire, Wire::Text(ProtocolVersion::V5) | Wire::Msgpack);
                let first_root = nsp == "/" && !v5 && !conn.root_connected;
                if first_root {
                    conn.root_connected = true;
                }
                if first_root && conn.wire == Wire::Legacy {
                    // The endpoints' CONNECTs waited for this.
                    let waiting: Vec<String> = self
                        .sockets
                        .iter()
                        .filter(|(name, ns)| name.as_str() != "/" && !ns.connected)
                        .map(|(name, _)| name.clone())
                        .collect();
                    for name in waiting {
                        self.send_connect(&name);
                    }
                }
                let (id, pid) = if v5 {
                    (map_str(data.as_ref(), "sid"), map_str(data.as_ref(), "pid"))
                } else {
                    (None, None)
                };
                if v5 && id.is_none() {
                    self.protocol_violation(format!("CONNECT without a sid for {nsp}"));
                    return;
                }
                self.on_connected(&nsp, id, pid);
            }
            Packet::Disconnect { nsp } => {
                if self.conn.as_ref().is_some_and(|c| c.wire == Wire::Legacy) && nsp == "/" {
                    // `0::`: the 0.9 server closed the whole session.
                    for (_, mut ns) in self.sockets.drain() {
                        ns.set_connected(None, false);
                        ns.emit(ClientEvent::Disconnect(DisconnectReason::ServerDisconnect));
                    }
                    self.close_if_unused();
                    return;
                }
                if let Some(mut ns) = self.sockets.remove(&nsp) {
                    ns.set_connected(None, false);
                    ns.emit(ClientEvent::Disconnect(DisconnectReason::ServerDisconnect));
                }
                self.close_if_unused();
            }
            Packet::Event {
                nsp,
                id,
                event,
                args,
            } => {
                let ack = id.and_then(|id| self.ack_sender(&nsp, id));
                let Some(ns) = self.sockets.get_mut(&nsp) else {
                    return;
                };
                if ns.pid.is_some()
                    && let Some(Value::String(offset)) = args.last()
                {
                    ns.offset = offset.as_str().map(str::to_owned);
                }
                let event = Event {
                    name: event,
                    args,
                    ack,
                };
                if ns.connected {
                    ns.emit(ClientEvent::Event(event));
                } else if ns.received.len() < MAX_EARLY_EVENTS {
                    ns.received.push(event);
                } else {
                    self.protocol_violation(format!(
                        "more than {MAX_EARLY_EVENTS} events before the CONNECT answer on {nsp}"
                    ));
                }
            }
            Packet::Ack { nsp, id, args } => {
                if let Some(tx) = self
                    .sockets
                    .get_mut(&nsp)
                    .and_then(|ns| ns.acks.remove(&id))
                {
                    let _ = tx.send(args);
                }
            }
            Packet::ConnectError { nsp, data } => {
                let v4_root_refused = nsp == "/"
                    && self.conn.as_ref().is_some_and(|c| {
                        c.wire == Wire::Text(ProtocolVersion::V4) && !c.root_connected
                    });
                if v4_root_refused {
                    // A 2.x server that refuses the main namespace (which it connects by
                    // itself) never answers the others' CONNECTs: each socket still waiting,
                    // the main one included when it was opened, is refused with it.
                    let waiting: Vec<String> = self
                        .sockets
                        .iter()
                        .filter(|(_, ns)| !ns.connected)
                        .map(|(name, _)| name.clone())
                        .collect();
                    for name in waiting {
                        if let Some(ns) = self.sockets.remove(&name) {
                            ns.emit(ClientEvent::ConnectError(data.clone()));
                        }
                    }
                } else if let Some(ns) = self.sockets.remove(&nsp) {
                    ns.emit(ClientEvent::ConnectError(data));
                }
                self.close_if_unused();
            }
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use sio_legacy_proto::{Message, MessageId};

    #[test]
    fn legacy_events_become_packets() {
        let message =
            sio_legacy_proto::decode(r#"5:3+:/chat:{"name":"q","args":[1,"a"]}"#).unwrap();
        let (packet, auto) = legacy_to_packet(message);
        assert_eq!(
            packet,
            Some(Packet::Event {
                nsp: "/chat".into(),
                id: Some(3),
                event: "q".into(),
                args: vec![Value::from(1), Value::from("a")],
            })
        );
        assert!(auto.is_none());
    }

    #[test]
    fn legacy_ids_without_plus_are_acknowledged_at_once() {
        let message = sio_legacy_proto::decode(r#"5:7::{"name":"q"}"#).unwrap();
        let (packet, auto) = legacy_to_packet(message);
        assert!(matches!(packet, Some(Packet::Event { id: None, .. })));
        assert_eq!(auto.unwrap().to_encoded(), "6:::7");
    }

    #[test]
    fn legacy_message_and_json_are_message_events() {
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("3:::hi").unwrap());
        assert_eq!(
            packet,
            Some(Packet::event("/", "message", vec![Value::from("hi")]))
        );
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode(r#"4:::{"a":1}"#).unwrap());
        assert_eq!(
            packet,
            Some(Packet::event(
                "/",
                "message",
                vec![Value::Map(vec![(Value::from("a"), Value::from(1))])]
            ))
        );
    }

    #[test]
    fn legacy_errors_and_disconnects() {
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("7:::1+0").unwrap());
        assert!(matches!(packet, Some(Packet::ConnectError { nsp, .. }) if nsp == "/"));
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("0::/chat").unwrap());
        assert_eq!(
            packet,
            Some(Packet::Disconnect {
                nsp: "/chat".into()
            })
        );
        let (packet, _) = legacy_to_packet(Message::Heartbeat);
        assert!(packet.is_none());
    }

    #[test]
    fn packets_become_legacy_messages() {
        let event = Packet::Event {
            nsp: "/".into(),
            id: Some(1),
            event: "join".into(),
            args: vec![Value::Map(vec![(Value::from("room"), Value::from(1))])],
        };
        assert_eq!(
            packet_to_legacy(&event).unwrap(),
            Message::Event {
                id: Some(MessageId::user(1)),
                endpoint: String::new(),
                name: "join".into(),
                args: vec![serde_json::json!({"room": 1})],
            }
        );
        let ack = Packet::ack("/chat", 4, vec![Value::from("ok")]);
        assert_eq!(
            packet_to_legacy(&ack).unwrap().to_encoded(),
            r#"6::/chat:4+["ok"]"#
        );
        let connect = Packet::Connect {
            nsp: "/chat".into(),
            data: None,
            query: None,
        };
        assert_eq!(packet_to_legacy(&connect).unwrap().to_encoded(), "1::/chat");
        let binary = Packet::event("/", "up", vec![Value::Binary(vec![1])]);
        assert!(packet_to_legacy(&binary).is_err());
    }

    #[test]
    fn connect_error_messages() {
        let v5 = Value::Map(vec![
            (Value::from("message"), Value::from("unauthorized")),
            (Value::from("data"), Value::Nil),
        ]);
        assert_eq!(connect_error_message(&v5), "unauthorized");
        assert_eq!(
            connect_error_message(&Value::from("Not authorized")),
            "Not authorized"
        );
        assert_eq!(
            map_str(Some(&v5), "message").as_deref(),
            Some("unauthorized")
        );
        assert_eq!(map_str(Some(&v5), "data"), None);
    }
}
