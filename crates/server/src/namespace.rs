//! Namespaces: static ones, and the children of dynamic (pattern or predicate) namespaces.

use std::{
    collections::HashMap,
    fmt,
    sync::{
        Arc, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use serde::Serialize;
use sio_engineio::Message;
use sio_socketio_proto::{
    Codec, EncodeError, EncodedPacket, Packet, ProtocolVersion, Value, is_reserved_event, to_args,
};

use crate::{
    adapter::{AckCollector, Adapter, AdapterFactory, FastMap, LocalAdapter, Room, SocketHost},
    broadcast::{BroadcastOperator, RemoteSocket},
    config::{Parser, RecoveryConfig},
    error::{AckError, AdapterError, EmitError},
    handler::{ConnectionHandler, Middleware, ServerSideHandler, SocketRef},
    socket::IntoRooms,
};

/// Called with a namespace's name when its last socket leaves.
pub(crate) type OnEmpty = Box<dyn Fn(&str) + Send + Sync>;

/// Decides whether a dynamic namespace serves a name, given the client's auth.
pub(crate) type NamespacePredicate = Box<dyn Fn(&str, &Value) -> bool + Send + Sync>;

/// What a namespace does on connection: shared by a dynamic namespace and its children.
#[derive(Default)]
pub(crate) struct Behaviour {
    pub connection: RwLock<Vec<Arc<dyn ConnectionHandler>>>,
    pub middlewares: RwLock<Vec<Arc<dyn Middleware>>>,
    pub server_side: RwLock<HashMap<String, Arc<dyn ServerSideHandler>>>,
}

impl Behaviour {
    fn add_connection_handler(&self, handler: Arc<dyn ConnectionHandler>) {
        self.connection
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(handler);
    }

    fn add_middleware(&self, middleware: Arc<dyn Middleware>) {
        self.middlewares
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(middleware);
    }

    pub(crate) fn connection_handlers(&self) -> Vec<Arc<dyn ConnectionHandler>> {
        self.connection
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn middlewares(&self) -> Vec<Arc<dyn Middleware>> {
        self.middlewares
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// A namespace (Node's `io.of(name)`).
pub struct Namespace {
    name: String,
    parser: Parser,
    pub(crate) behaviour: Arc<Behaviour>,
    sockets: RwLock<FastMap<Arc<str>, SocketRef>>,
    adapter: Arc<dyn Adapter>,
    ack_ids: AtomicU64,
    /// Set for the child of a dynamic namespace that is removed when it empties.
    pub(crate) on_empty: Option<OnEmpty>,
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Namespace")
            .field("name", &self.name)
            .field("sockets", &self.sockets_read().len())
            .finish_non_exhaustive()
    }
}

impl Namespace {
    pub(crate) fn new(
        name: String,
        parser: Parser,
        behaviour: Arc<Behaviour>,
        factory: &dyn AdapterFactory,
        recovery: Option<RecoveryConfig>,
        on_empty: Option<OnEmpty>,
    ) -> Arc<Self> {
        Arc::new_cyclic(|me: &Weak<Namespace>| {
            let local = LocalAdapter::new(me.clone(), name.clone(), recovery);
            Namespace {
                adapter: factory.create(local),
                name,
                parser,
                behaviour,
                sockets: RwLock::new(FastMap::default()),
                ack_ids: AtomicU64::new(0),
                on_empty,
            }
        })
    }

    /// The namespace's name, e.g. `/` or `/chat`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The namespace's adapter.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.adapter
    }

    /// Runs `handler` for each new socket.
    pub fn on_connection(&self, handler: impl ConnectionHandler) {
        self.behaviour.add_connection_handler(Arc::new(handler));
    }

    /// Adds a connection middleware; they run in order, and one that refuses stops the others.
    pub fn use_middleware(&self, middleware: impl Middleware) {
        self.behaviour.add_middleware(Arc::new(middleware));
    }

    /// Handles events sent by OTHER nodes with [`Namespace::server_side_emit`].
    pub fn on_server_side(&self, event: impl Into<String>, handler: impl ServerSideHandler) {
        self.behaviour
            .server_side
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event.into(), Arc::new(handler));
    }

    fn sockets_read(&self) -> std::sync::RwLockReadGuard<'_, FastMap<Arc<str>, SocketRef>> {
        self.sockets.read().unwrap_or_else(|e| e.into_inner())
    }

    /// This node's sockets in the namespace.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.sockets_read().values().cloned().collect()
    }

    /// This node's socket with this id.
    pub fn socket(&self, id: &str) -> Option<SocketRef> {
        self.sockets_read().get(id).cloned()
    }

    /// Number of sockets connected to this namespace on this node.
    pub fn socket_count(&self) -> usize {
        self.sockets_read().len()
    }

    pub(crate) fn insert(&self, socket: SocketRef) {
        self.sockets
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(socket.id_arc(), socket);
    }

    pub(crate) fn remove(&self, id: &str) {
        let now_empty = {
            let mut sockets = self.sockets.write().unwrap_or_else(|e| e.into_inner());
            sockets.remove(id);
            sockets.is_empty()
        };
        if now_empty && let Some(on_empty) = &self.on_empty {
            on_empty(&self.name);
            // The namespace is gone from the server, as in Node: so is its adapter's traffic.
            self.adapter.close();
        }
    }

    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Refuses what Node refuses to emit: reserved event names.
    pub(crate) fn validate_event(&self, packet: &Packet) -> Result<(), EmitError> {
        match packet {
            Packet::Event { event, .. } if is_reserved_event(event) => {
                Err(EncodeError::ReservedEvent {
                    name: event.clone(),
                }
                .into())
            }
            _ => Ok(()),
        }
    }

    /// Encodes a packet for a client of `protocol`: the Engine.IO messages to send, in order.
    pub(crate) fn encode(
        &self,
        packet: &Packet,
        protocol: ProtocolVersion,
    ) -> Result<Encoded, EncodeError> {
        encode_packet(self.parser, packet, protocol)
    }

    fn operator(self: &Arc<Self>) -> BroadcastOperator {
        BroadcastOperator::new(self.clone())
    }

    /// Sends an event to every socket of the namespace (across the cluster).
    pub fn emit<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        args: &T,
    ) -> Result<(), EmitError> {
        self.operator().emit(event, args)
    }

    /// Sends an event to every socket and collects their acknowledgements within `timeout`.
    pub async fn emit_with_ack<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        args: &T,
        timeout: Duration,
    ) -> Result<Vec<Vec<Value>>, AckError> {
        self.operator()
            .timeout(timeout)
            .emit_with_ack(event, args)
            .await
    }

    /// Targets the sockets in `rooms`.
    pub fn to(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.operator().to(rooms)
    }

    /// Same as [`Namespace::to`].
    pub fn within(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.to(rooms)
    }

    /// Targets every socket but the ones in `rooms`.
    pub fn except(self: &Arc<Self>, rooms: impl IntoRooms) -> BroadcastOperator {
        self.operator().except(rooms)
    }

    /// Targets this node's sockets only.
    pub fn local(self: &Arc<Self>) -> BroadcastOperator {
        self.operator().local()
    }

    /// Lets the broadcast be dropped for sockets that are not ready.
    pub fn volatile(self: &Arc<Self>) -> BroadcastOperator {
        self.operator().volatile()
    }

    /// Sets the acknowledgement time limit of the next broadcast.
    pub fn timeout(self: &Arc<Self>, timeout: Duration) -> BroadcastOperator {
        self.operator().timeout(timeout)
    }

    /// Every socket of the namespace, across the cluster.
    pub async fn fetch_sockets(self: &Arc<Self>) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.operator().fetch_sockets().await
    }

    /// Makes every socket join `rooms`.
    pub fn sockets_join(self: &Arc<Self>, rooms: impl IntoRooms) {
        self.operator().sockets_join(rooms);
    }

    /// Makes every socket leave `rooms`.
    pub fn sockets_leave(self: &Arc<Self>, rooms: impl IntoRooms) {
        self.operator().sockets_leave(rooms);
    }

    /// Disconnects every socket.
    pub fn disconnect_sockets(self: &Arc<Self>, close: bool) {
        self.operator().disconnect_sockets(close);
    }

    /// Sends an event to the other nodes' server-side handlers; with `ack_timeout`, returns one
    /// answer per node.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
        ack_timeout: Option<Duration>,
    ) -> Result<Vec<Vec<Value>>, AckError> {
        if is_reserved_event(event) {
            return Err(EmitError::from(EncodeError::ReservedEvent {
                name: event.to_owned(),
            })
            .into());
        }
        let args = to_args(args).map_err(EmitError::from)?;
        self.adapter
            .server_side_emit(event.to_owned(), args, ack_timeout)
            .await
            .map_err(|error| match error {
                AdapterError::Timeout { .. } => AckError::Timeout,
                other => AckError::Emit(EmitError::Adapter(other)),
            })
    }

    /// Number of server nodes.
    pub async fn server_count(&self) -> usize {
        self.adapter.server_count().await
    }

    /// Rooms with sockets on this node.
    pub fn rooms(&self) -> Vec<Room> {
        self.adapter.local().all_rooms()
    }
}

impl SocketHost for Namespace {
    fn sockets_where(&self, keep: &dyn Fn(&str) -> bool) -> Vec<SocketRef> {
        self.sockets_read()
            .iter()
            .filter(|(id, _)| keep(id))
            .map(|(_, socket)| socket.clone())
            .collect()
    }

    fn sockets_with_ids(&self, ids: &[&Arc<str>]) -> Vec<SocketRef> {
        let sockets = self.sockets_read();
        ids.iter()
            .filter_map(|id| sockets.get(&***id).cloned())
            .collect()
    }

    /// Events encode the same for every protocol revision, so the v5 encoding serves all
    /// clients.
    fn encode_broadcast(&self, packet: &Packet) -> Option<Encoded> {
        self.encode(packet, ProtocolVersion::V5)
            .inspect_err(
                |error| tracing::warn!(nsp = %self.name, %error, "broadcast not encodable"),
            )
            .ok()
    }

    fn next_ack_id(&self) -> u64 {
        Namespace::next_ack_id(self)
    }

    fn run_server_side_handlers(&self, event: String, args: Vec<Value>, ack: Option<AckCollector>) {
        let handler = self
            .behaviour
            .server_side
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&event)
            .cloned();
        if let Some(handler) = handler {
            handler.call(args, ack);
        }
    }
}

/// Encodes a packet with `parser` for a client of `protocol`: the Engine.IO messages to send.
pub(crate) fn encode_packet(
    parser: Parser,
    packet: &Packet,
    protocol: ProtocolVersion,
) -> Result<Encoded, EncodeError> {
    // The text goes straight into the Engine.IO message's buffer, after its prefix.
    let encoded =
        Codec::new(parser, protocol).encode(packet, |write| Message::text_with(64, write))?;
    Ok(match encoded {
        EncodedPacket::Text { frame, attachments } => Encoded {
            frame,
            attachments: attachments.into_iter().map(Message::binary).collect(),
        },
        EncodedPacket::Binary(bytes) => Encoded {
            frame: Message::binary(bytes),
            attachments: Vec::new(),
        },
    })
}

/// A packet encoded for the wire: its frame, then its binary attachments (none, most often,
/// which then cost no allocation).
#[derive(Debug, Clone)]
pub(crate) struct Encoded {
    frame: Message,
    attachments: Vec<Message>,
}

impl Encoded {
    /// The Engine.IO messages to send, in order, for one more receiver.
    pub(crate) fn messages(&self) -> impl Iterator<Item = Message> + '_ {
        std::iter::once(self.frame.clone()).chain(self.attachments.iter().cloned())
    }
}

impl IntoIterator for Encoded {
    type Item = Message;
    type IntoIter = std::iter::Chain<std::iter::Once<Message>, std::vec::IntoIter<Message>>;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(self.frame).chain(self.attachments)
    }
}

/// How a dynamic namespace recognises its children.
pub(crate) enum Matcher {
    Pattern(regex::Regex),
    Predicate(NamespacePredicate),
}

impl Matcher {
    pub(crate) fn matches(&self, name: &str, auth: &Value) -> bool {
        match self {
            Matcher::Pattern(regex) => regex.is_match(name),
            Matcher::Predicate(predicate) => predicate(name, auth),
        }
    }
}

/// A dynamic namespace (Node's `io.of(/regex/)` or `io.of((name, auth, next) => …)`): its
/// handlers and middlewares serve every matching namespace, created on first connection.
pub struct ParentNamespace {
    pub(crate) matcher: Matcher,
    pub(crate) behaviour: Arc<Behaviour>,
    pub(crate) children: RwLock<Vec<Weak<Namespace>>>,
}

impl fmt::Debug for ParentNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParentNamespace").finish_non_exhaustive()
    }
}

impl ParentNamespace {
    /// Runs `handler` for each new socket of any child.
    pub fn on_connection(&self, handler: impl ConnectionHandler) {
        self.behaviour.add_connection_handler(Arc::new(handler));
    }

    /// Adds a connection middleware for every child.
    pub fn use_middleware(&self, middleware: impl Middleware) {
        self.behaviour.add_middleware(Arc::new(middleware));
    }

    /// The children created so far.
    pub fn children(&self) -> Vec<Arc<Namespace>> {
        self.children
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect()
    }

    /// Sends an event to every socket of every child.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        for child in self.children() {
            child.emit(event, args)?;
        }
        Ok(())
    }
}
