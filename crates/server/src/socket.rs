//! A client's connection to one namespace (Node's `Socket`).

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, Mutex, MutexGuard, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use sio_engineio::Socket as Connection;
use sio_socketio_proto::{
    ArgsError, Packet, ProtocolVersion, Value, from_value, to_args, to_value,
};
use tokio::sync::oneshot;

use crate::{
    adapter::{AckCollector, BroadcastOptions, FastMap, LocalSocket, Room, SocketInfo},
    broadcast::BroadcastOperator,
    client::ConnectionState,
    error::{AckError, EmitError},
    event::{AckSender, Event},
    handler::{
        DisconnectHandler, ErrorListener, EventHandler, Flow, OutgoingListener, PacketMiddleware,
        SocketRef,
    },
    handshake::Handshake,
    namespace::{Encoded, Namespace},
};

/// Why a socket left its namespace, named as Node names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DisconnectReason {
    /// The connection failed.
    TransportError,
    /// The client closed the connection.
    TransportClose,
    /// The server closed the connection (Engine.IO level).
    ForcedClose,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client sent a packet that does not decode.
    ParseError,
    /// The server is shutting down.
    ServerShuttingDown,
    /// Another socket of the same connection was disconnected with `close`.
    ForcedServerClose,
    /// The client left the namespace.
    ClientNamespaceDisconnect,
    /// The server disconnected the socket.
    ServerNamespaceDisconnect,
}

impl DisconnectReason {
    /// The reason string Node uses.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::ForcedClose => "forced close",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
        }
    }

    /// Whether a session ended this way is kept for connection state recovery.
    pub fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportError
                | DisconnectReason::TransportClose
                | DisconnectReason::ForcedClose
                | DisconnectReason::PingTimeout
                | DisconnectReason::ServerShuttingDown
                | DisconnectReason::ForcedServerClose
        )
    }
}

impl From<sio_engineio::CloseReason> for DisconnectReason {
    fn from(reason: sio_engineio::CloseReason) -> Self {
        use sio_engineio::CloseReason as R;
        match reason {
            R::TransportClose => DisconnectReason::TransportClose,
            R::TransportError => DisconnectReason::TransportError,
            R::PingTimeout => DisconnectReason::PingTimeout,
            R::ParseError => DisconnectReason::ParseError,
            R::ForcedClose => DisconnectReason::ForcedClose,
            R::ServerShuttingDown => DisconnectReason::ServerShuttingDown,
        }
    }
}

impl LocalSocket for SocketRef {
    fn id_arc(&self) -> Arc<str> {
        self.id.clone()
    }

    fn deliver_encoded(&self, packet: &Packet, encoded: &Encoded, volatile: bool) -> bool {
        if !self.connected() || (volatile && self.conn.queued() > 0) {
            return false;
        }
        self.notify_outgoing(packet);
        self.conn.send_all(encoded.messages());
        true
    }

    fn expect_broadcast_ack(&self, ack_id: u64, collector: AckCollector) {
        self.expect_ack(ack_id, AckSink::Broadcast(collector));
    }

    fn forget_ack(&self, ack_id: u64) {
        Socket::forget_ack(self, ack_id);
    }

    fn join_rooms(&self, rooms: &[Room]) {
        self.join(rooms.to_vec());
    }

    fn leave_room(&self, room: &str) {
        self.leave(room);
    }

    fn disconnect_from_namespace(&self, close: bool) {
        self.disconnect(close);
    }

    fn socket_info(&self) -> SocketInfo {
        SocketInfo {
            id: self.id.to_string(),
            handshake: self.handshake.clone(),
            rooms: self.rooms(),
            data: self.data_value(),
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where an acknowledgement goes when it arrives.
#[derive(Debug)]
pub(crate) enum AckSink {
    One(oneshot::Sender<Vec<Value>>),
    Broadcast(AckCollector),
}

#[derive(Default)]
struct Handlers {
    events: FastMap<String, Arc<dyn EventHandler>>,
    any: Vec<Arc<dyn EventHandler>>,
    outgoing: Vec<OutgoingListener>,
    middlewares: Vec<Arc<dyn PacketMiddleware>>,
    errors: Vec<ErrorListener>,
    disconnecting: Vec<Arc<dyn DisconnectHandler>>,
    disconnect: Vec<Arc<dyn DisconnectHandler>>,
}

/// A client's connection to a namespace. Handlers receive it as [`SocketRef`].
pub struct Socket {
    id: Arc<str>,
    pid: Option<String>,
    nsp: Arc<Namespace>,
    conn: Arc<Connection<ConnectionState>>,
    handshake: Handshake,
    recovered: bool,
    connected: AtomicBool,
    handlers: RwLock<Handlers>,
    acks: Mutex<HashMap<u64, AckSink>>,
    data: Mutex<Value>,
    extensions: Mutex<http::Extensions>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("nsp", &self.nsp.name())
            .field("connected", &self.connected())
            .finish_non_exhaustive()
    }
}

pub(crate) struct NewSocket {
    pub id: Arc<str>,
    pub pid: Option<String>,
    pub nsp: Arc<Namespace>,
    pub conn: Arc<Connection<ConnectionState>>,
    pub handshake: Handshake,
    pub recovered: bool,
    pub data: Value,
}

impl Socket {
    pub(crate) fn new(new: NewSocket) -> Self {
        Socket {
            id: new.id,
            pid: new.pid,
            nsp: new.nsp,
            conn: new.conn,
            handshake: new.handshake,
            recovered: new.recovered,
            connected: AtomicBool::new(false),
            handlers: RwLock::new(Handlers::default()),
            acks: Mutex::new(HashMap::new()),
            data: Mutex::new(new.data),
            extensions: Mutex::new(http::Extensions::new()),
        }
    }

    /// The socket id, distinct from the Engine.IO session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn id_arc(&self) -> Arc<str> {
        self.id.clone()
    }

    /// The private session id used for connection state recovery, when it is on.
    pub fn pid(&self) -> Option<&str> {
        self.pid.as_deref()
    }

    /// The namespace.
    pub fn namespace(&self) -> &Arc<Namespace> {
        &self.nsp
    }

    /// How the socket connected.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Whether this socket got its state back after a short disconnection.
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// Whether the socket is still connected to its namespace.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::Acquire)
    }

    /// The underlying Engine.IO session.
    pub fn conn(&self) -> &Arc<Connection<ConnectionState>> {
        &self.conn
    }

    /// The Socket.IO protocol revision of the client (v4 for Socket.IO 1.x/2.x clients).
    pub fn protocol(&self) -> ProtocolVersion {
        self.conn.data.protocol()
    }

    /// The socket's `data` (Node's `socket.data`), shared with `fetch_sockets` across a cluster.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, ArgsError> {
        from_value(self.lock_data().clone())
    }

    /// Replaces the socket's `data`.
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), ArgsError> {
        *self.lock_data() = to_value(data)?;
        Ok(())
    }

    pub(crate) fn data_value(&self) -> Value {
        self.lock_data().clone()
    }

    fn lock_data(&self) -> MutexGuard<'_, Value> {
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Typed per-socket state of this process (not shared across a cluster).
    pub fn extensions(&self) -> MutexGuard<'_, http::Extensions> {
        self.extensions.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn handlers_mut(&self) -> std::sync::RwLockWriteGuard<'_, Handlers> {
        self.handlers.write().unwrap_or_else(|e| e.into_inner())
    }

    fn handlers(&self) -> std::sync::RwLockReadGuard<'_, Handlers> {
        self.handlers.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Handles the event `name`. A handler that answers at once runs inline; one that awaits
    /// is moved to a task.
    pub fn on(&self, name: impl Into<String>, handler: impl EventHandler) {
        self.handlers_mut()
            .events
            .insert(name.into(), Arc::new(handler));
    }

    /// Handles every event, before the named handler (Node's `onAny`).
    pub fn on_any(&self, handler: impl EventHandler) {
        self.handlers_mut().any.push(Arc::new(handler));
    }

    /// Sees every event this socket sends (Node's `onAnyOutgoing`).
    pub fn on_any_outgoing(
        &self,
        listener: impl Fn(&SocketRef, &str, &[Value]) + Send + Sync + 'static,
    ) {
        self.handlers_mut().outgoing.push(Arc::new(listener));
    }

    /// Adds a packet middleware (Node's `socket.use`).
    pub fn use_packet(&self, middleware: impl PacketMiddleware) {
        self.handlers_mut().middlewares.push(Arc::new(middleware));
    }

    /// Sees events refused by packet middlewares (Node's socket `error` event).
    pub fn on_error(&self, listener: impl Fn(&SocketRef, &str) + Send + Sync + 'static) {
        self.handlers_mut().errors.push(Arc::new(listener));
    }

    /// Runs when the socket is about to leave, while it still has its rooms.
    pub fn on_disconnecting(&self, handler: impl DisconnectHandler) {
        self.handlers_mut().disconnecting.push(Arc::new(handler));
    }

    /// Runs once the socket has left.
    pub fn on_disconnect(&self, handler: impl DisconnectHandler) {
        self.handlers_mut().disconnect.push(Arc::new(handler));
    }

    /// Sends an event to this client. `args`: a tuple for several arguments, `()` for none, any
    /// other value for one. Binary values anywhere are sent as attachments.
    pub fn emit<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        self.emitter().emit(event, args)
    }

    /// Sends an event and waits for the client's acknowledgement (no time limit; see
    /// [`Socket::timeout`]).
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        args: &T,
    ) -> Result<Vec<Value>, AckError> {
        self.emitter().emit_with_ack(event, args).await
    }

    /// Emit options for the next emit: an acknowledgement time limit.
    pub fn timeout(self: &Arc<Self>, timeout: Duration) -> SocketEmitter {
        SocketEmitter {
            timeout: Some(timeout),
            ..self.emitter()
        }
    }

    /// Emit options for the next emit: may be dropped if the client is not ready.
    pub fn volatile(self: &Arc<Self>) -> SocketEmitter {
        SocketEmitter {
            volatile: true,
            ..self.emitter()
        }
    }

    fn emitter(self: &Arc<Self>) -> SocketEmitter {
        SocketEmitter {
            socket: self.clone(),
            timeout: None,
            volatile: false,
        }
    }

    /// Joins rooms.
    pub fn join(&self, rooms: impl IntoRooms) {
        self.nsp
            .adapter()
            .local()
            .add_all(&self.id, &rooms.into_rooms());
    }

    /// Leaves a room.
    pub fn leave(&self, room: &str) {
        self.nsp.adapter().local().del(&self.id, room);
    }

    /// The rooms this socket is in (its own id included).
    pub fn rooms(&self) -> Vec<Room> {
        self.nsp.adapter().local().socket_rooms(&self.id)
    }

    /// Targets the sockets in `rooms`, except this one.
    pub fn to(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().to(rooms)
    }

    /// Same as [`Socket::to`].
    pub fn within(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Targets every socket of the namespace but the ones in `rooms` and this one.
    pub fn except(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.broadcast().except(rooms)
    }

    /// Targets every other socket of the namespace.
    pub fn broadcast(self: &Arc<Self>) -> BroadcastOperator {
        BroadcastOperator::new(self.nsp.clone()).except(self.id.to_string())
    }

    /// Leaves the namespace; with `close`, closes the whole connection (every namespace).
    pub fn disconnect(self: &Arc<Self>, close: bool) {
        if !self.connected() {
            return;
        }
        if close {
            ConnectionState::disconnect_all(&self.conn);
            return;
        }
        let _ = self.send(&Packet::Disconnect {
            nsp: self.nsp.name().to_owned(),
        });
        self.close(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// Encodes and queues one packet for this client.
    pub(crate) fn send(&self, packet: &Packet) -> Result<(), EmitError> {
        let messages = self.nsp.encode(packet, self.protocol())?;
        self.conn.send_all(messages);
        Ok(())
    }

    fn notify_outgoing(self: &Arc<Self>, packet: &Packet) {
        let Packet::Event { event, args, .. } = packet else {
            return;
        };
        let listeners = self.handlers().outgoing.clone();
        for listener in listeners {
            listener(self, event, args);
        }
    }

    pub(crate) fn expect_ack(&self, id: u64, sink: AckSink) {
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, sink);
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    pub(crate) fn mark_connected(&self) {
        self.connected.store(true, Ordering::Release);
    }

    /// Handles a packet for this namespace from the client.
    pub(crate) fn on_packet(self: &Arc<Self>, packet: Packet) {
        match packet {
            Packet::Event {
                id, event, args, ..
            } => {
                let ack = id.map(|id| AckSender {
                    socket: self.clone(),
                    id,
                });
                self.dispatch(Event {
                    name: event,
                    args,
                    ack,
                });
            }
            Packet::Ack { id, args, .. } => {
                let sink = self
                    .acks
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id);
                match sink {
                    Some(AckSink::One(tx)) => {
                        let _ = tx.send(args);
                    }
                    Some(AckSink::Broadcast(collector)) => {
                        let _ = collector.send(args);
                    }
                    None => {
                        tracing::debug!(sid = %self.id, id, "acknowledgement for no pending request")
                    }
                }
            }
            Packet::Disconnect { .. } => self.close(DisconnectReason::ClientNamespaceDisconnect),
            Packet::Connect { .. } | Packet::ConnectError { .. } => {}
        }
    }

    fn dispatch(self: &Arc<Self>, mut event: Event) {
        let (middlewares, any, handler) = {
            let handlers = self.handlers();
            (
                handlers.middlewares.clone(),
                handlers.any.clone(),
                handlers.events.get(&event.name).cloned(),
            )
        };
        for middleware in middlewares {
            match middleware.call(self, &mut event) {
                Flow::Continue => {}
                Flow::Drop => return,
                Flow::Refuse(message) => {
                    let errors = self.handlers().errors.clone();
                    for listener in errors {
                        listener(self, &message);
                    }
                    return;
                }
            }
        }
        for listener in any {
            // Catch-all listeners see the event; only the named handler gets the ack.
            listener.call(
                self.clone(),
                Event {
                    name: event.name.clone(),
                    args: event.args.clone(),
                    ack: None,
                },
            );
        }
        match handler {
            Some(handler) => handler.call(self.clone(), event),
            None => tracing::trace!(sid = %self.id, event = %event.name, "no handler for event"),
        }
    }

    /// Leaves the namespace: `disconnecting` handlers, session kept for recovery, rooms left,
    /// `disconnect` handlers. Runs once.
    pub(crate) fn close(self: &Arc<Self>, reason: DisconnectReason) {
        if !self.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        let disconnecting = self.handlers().disconnecting.clone();
        for handler in disconnecting {
            handler.call(self.clone(), reason);
        }
        let adapter = self.nsp.adapter();
        if let Some(pid) = &self.pid
            && reason.is_recoverable()
        {
            adapter.persist_session(crate::adapter::Session {
                sid: self.id.to_string(),
                pid: pid.clone(),
                rooms: self.rooms(),
                data: self.data_value(),
                missed_packets: Vec::new(),
            });
        }
        adapter.local().del_all(&self.id);
        self.nsp.remove(&self.id);
        self.conn.data.remove(self.nsp.name());
        // Dropping the senders fails every pending acknowledgement.
        self.acks.lock().unwrap_or_else(|e| e.into_inner()).clear();
        let disconnect = std::mem::take(&mut self.handlers_mut().disconnect);
        for handler in disconnect {
            handler.call(self.clone(), reason);
        }
        // Handlers hold the socket; drop them so the socket can be freed.
        *self.handlers_mut() = Handlers::default();
        tracing::debug!(sid = %self.id, nsp = self.nsp.name(), %reason, "socket disconnected");
    }
}

/// Room arguments: one room or several.
pub trait IntoRooms {
    /// The rooms.
    fn into_rooms(self) -> Vec<Room>;
}

impl IntoRooms for &str {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.to_owned()]
    }
}

impl IntoRooms for String {
    fn into_rooms(self) -> Vec<Room> {
        vec![self]
    }
}

impl IntoRooms for &String {
    fn into_rooms(self) -> Vec<Room> {
        vec![self.clone()]
    }
}

impl IntoRooms for Vec<Room> {
    fn into_rooms(self) -> Vec<Room> {
        self
    }
}

impl IntoRooms for Vec<&str> {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(str::to_owned).collect()
    }
}

impl<const N: usize> IntoRooms for [&str; N] {
    fn into_rooms(self) -> Vec<Room> {
        self.into_iter().map(str::to_owned).collect()
    }
}

/// Options for one emit to one socket.
#[derive(Debug)]
pub struct SocketEmitter {
    socket: SocketRef,
    timeout: Option<Duration>,
    volatile: bool,
}

impl SocketEmitter {
    /// Sets an acknowledgement time limit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Lets the packet be dropped if the client is not ready.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Sends an event. With connection state recovery on, an event for a socket whose
    /// transport is gone is kept for it (as in Node), so it arrives if the client recovers.
    pub fn emit<T: Serialize + ?Sized>(self, event: &str, args: &T) -> Result<(), EmitError> {
        let socket = &self.socket;
        let recovery = socket.nsp.adapter().local().recovery_enabled();
        if !socket.connected() && !recovery {
            return Err(EmitError::Disconnected);
        }
        let packet = Packet::Event {
            nsp: socket.nsp.name().to_owned(),
            id: None,
            event: event.to_owned(),
            args: to_args(args)?,
        };
        if recovery {
            // Through the adapter, so the packet gets an offset and is kept for replay (the
            // socket's own room is part of its saved session).
            socket.nsp.validate_event(&packet)?;
            let opts = BroadcastOptions {
                rooms: vec![socket.id.to_string()],
                flags: crate::adapter::BroadcastFlags {
                    volatile: self.volatile,
                    ..Default::default()
                },
                ..Default::default()
            };
            socket.nsp.adapter().broadcast(packet, opts);
            return Ok(());
        }
        if self.volatile && socket.conn.queued() > 0 {
            return Ok(());
        }
        socket.send(&packet)?;
        socket.notify_outgoing(&packet);
        Ok(())
    }

    /// Sends an event and waits for the acknowledgement.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        self,
        event: &str,
        args: &T,
    ) -> Result<Vec<Value>, AckError> {
        let socket = self.socket;
        if !socket.connected() {
            return Err(AckError::Disconnected);
        }
        let id = socket.nsp.next_ack_id();
        let packet = Packet::Event {
            nsp: socket.nsp.name().to_owned(),
            id: Some(id),
            event: event.to_owned(),
            args: to_args(args).map_err(EmitError::from)?,
        };
        let (tx, rx) = oneshot::channel();
        socket.expect_ack(id, AckSink::One(tx));
        if let Err(error) = socket.send(&packet) {
            socket.forget_ack(id);
            return Err(error.into());
        }
        socket.notify_outgoing(&packet);
        let answer = match self.timeout {
            Some(timeout) => match tokio::time::timeout(timeout, rx).await {
                Ok(answer) => answer,
                Err(_) => {
                    socket.forget_ack(id);
                    return Err(AckError::Timeout);
                }
            },
            None => rx.await,
        };
        answer.map_err(|_| AckError::Disconnected)
    }
}
