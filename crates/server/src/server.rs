//! The server handle (Node's `io`) and the Engine.IO handler that feeds it.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    sync::{Arc, RwLock, Weak},
    time::Duration,
};

use serde::Serialize;
use sio_engineio::{
    CloseReason, Data, Engine, EngineHandler, EngineLayer, EngineService, Sid, Socket as Connection,
};
use sio_socketio_proto::{Codec, Packet, ProtocolVersion, Value, value::str_field};
use tokio::net::{TcpListener, ToSocketAddrs};

use crate::{
    adapter::{AdapterFactory, InMemory},
    broadcast::{BroadcastOperator, RemoteSocket},
    client::ConnectionState,
    config::ServerConfig,
    error::{AckError, AdapterError, ConnectError, EmitError},
    handler::{ConnectionHandler, Middleware, run},
    handshake::{Handshake, query_to_value},
    namespace::{Behaviour, Matcher, Namespace, OnEmpty, ParentNamespace, encode_packet},
    socket::{DisconnectReason, IntoRooms, NewSocket, Socket},
};

/// How long [`SocketIo::serve`] waits, once told to stop, for its clients to be told that their
/// sessions are closed: a polling client between two polls has to come back for the close
/// packet, and one that does not is not waited for longer than this.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A Socket.IO server. Cheap to clone; every clone is the same server.
///
/// ```no_run
/// use sio_server::{SocketIo, ServerConfig, SocketRef, Event};
///
/// # async fn run() -> std::io::Result<()> {
/// let io = SocketIo::new(ServerConfig::default());
/// io.of("/").on_connection(|socket: SocketRef| async move {
///     socket.on("echo", |socket: SocketRef, mut event: Event| async move {
///         let args = std::mem::take(&mut event.args);
///         match event.ack.take() {
///             Some(ack) => { let _ = ack.send_values(args); }
///             None => { let _ = socket.emit("echo", &args); }
///         }
///     });
/// });
/// io.listen("127.0.0.1:3000").await
/// # }
/// ```
#[derive(Clone)]
pub struct SocketIo {
    inner: Arc<ServerInner>,
    engine: Engine<Dispatcher>,
}

impl fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIo")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

pub(crate) struct ServerInner {
    config: ServerConfig,
    namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    parents: RwLock<Vec<Arc<ParentNamespace>>>,
    factory: Box<dyn AdapterFactory>,
    me: Weak<ServerInner>,
}

/// The Engine.IO handler of a Socket.IO server: turns Engine.IO messages into Socket.IO packets.
pub struct Dispatcher(Arc<ServerInner>);

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dispatcher")
    }
}

impl SocketIo {
    /// A server on the in-memory adapter.
    pub fn new(config: ServerConfig) -> Self {
        SocketIo::with_adapter(config, InMemory)
    }

    /// A server whose namespaces use adapters made by `factory` (a cluster adapter, say).
    pub fn with_adapter(config: ServerConfig, factory: impl AdapterFactory) -> Self {
        let engine_config = config.engine.clone();
        let inner = Arc::new_cyclic(|me| ServerInner {
            config,
            namespaces: RwLock::new(HashMap::new()),
            parents: RwLock::new(Vec::new()),
            factory: Box::new(factory),
            me: me.clone(),
        });
        // The main namespace always exists, as in Node.
        inner.namespace("/");
        let engine = Engine::new(engine_config, Dispatcher(inner.clone()));
        SocketIo { inner, engine }
    }

    /// The options in force.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The namespace `name`, created if needed.
    pub fn of(&self, name: &str) -> Arc<Namespace> {
        self.inner.namespace(&normalize(name))
    }

    /// A dynamic namespace: every namespace whose name matches the regular expression.
    pub fn of_pattern(&self, pattern: &str) -> Result<Arc<ParentNamespace>, regex::Error> {
        Ok(self
            .inner
            .add_parent(Matcher::Pattern(regex::Regex::new(pattern)?)))
    }

    /// A dynamic namespace: every namespace the predicate accepts, given its name and the
    /// client's auth.
    pub fn of_matching(
        &self,
        predicate: impl Fn(&str, &Value) -> bool + Send + Sync + 'static,
    ) -> Arc<ParentNamespace> {
        self.inner
            .add_parent(Matcher::Predicate(Box::new(predicate)))
    }

    /// Shortcut for `of("/").on_connection(handler)`.
    pub fn on_connection(&self, handler: impl ConnectionHandler) {
        self.of("/").on_connection(handler);
    }

    /// Shortcut for `of("/").use_middleware(middleware)`.
    pub fn use_middleware(&self, middleware: impl Middleware) {
        self.of("/").use_middleware(middleware);
    }

    /// Sends an event to every socket of the main namespace.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, args: &T) -> Result<(), EmitError> {
        self.of("/").emit(event, args)
    }

    /// Targets rooms of the main namespace.
    pub fn to(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.of("/").to(rooms)
    }

    /// Targets every socket of the main namespace but those in `rooms`.
    pub fn except(&self, rooms: impl IntoRooms) -> BroadcastOperator {
        self.of("/").except(rooms)
    }

    /// Targets this node's sockets of the main namespace.
    pub fn local(&self) -> BroadcastOperator {
        self.of("/").local()
    }

    /// Sets the acknowledgement time limit of the next broadcast on the main namespace.
    pub fn timeout(&self, timeout: Duration) -> BroadcastOperator {
        self.of("/").timeout(timeout)
    }

    /// Every socket of the main namespace, across the cluster.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.of("/").fetch_sockets().await
    }

    /// Sends an event to the other nodes' server-side handlers of the main namespace.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
        ack_timeout: Option<Duration>,
    ) -> Result<Vec<Vec<Value>>, AckError> {
        self.of("/")
            .server_side_emit(event, args, ack_timeout)
            .await
    }

    /// The Engine.IO engine underneath.
    pub fn engine(&self) -> &Engine<Dispatcher> {
        &self.engine
    }

    /// A tower layer that serves the Socket.IO path in front of your service (axum, hyper).
    pub fn layer(&self) -> EngineLayer<Dispatcher> {
        EngineLayer::new(self.engine.clone())
    }

    /// A tower service that serves the Socket.IO path and answers 404 elsewhere.
    pub fn service(&self) -> EngineService<Dispatcher> {
        EngineService::new(self.engine.clone())
    }

    /// Serves on `addr` until an accept error.
    pub async fn listen(&self, addr: impl ToSocketAddrs) -> std::io::Result<()> {
        let listener = TcpListener::bind(addr).await?;
        self.serve(listener, std::future::pending()).await
    }

    /// Serves connections from `listener` until `shutdown` completes, then shuts down
    /// gracefully ([`SocketIo::shutdown`], waiting at most 5 s): every client is told that its
    /// session is closed (a session opened meanwhile is closed at once), then the adapters are
    /// closed and the listener is dropped.
    ///
    /// ```no_run
    /// # async fn run(io: sio_server::SocketIo) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// io.serve(listener, async {
    ///     let _ = tokio::signal::ctrl_c().await;
    /// })
    /// .await
    /// # }
    /// ```
    pub async fn serve(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> std::io::Result<()> {
        // Connections are still accepted while the sessions end: a polling client between two
        // polls may open a new one for the poll that collects its close packet.
        let stop = async {
            shutdown.await;
            if !self.shutdown(SHUTDOWN_GRACE).await {
                tracing::info!(
                    grace = ?SHUTDOWN_GRACE,
                    "some sessions did not end within the shutdown grace period"
                );
            }
        };
        let result = sio_engineio::serve(listener, self.service(), stop).await;
        if result.is_err() {
            self.close();
        }
        result
    }

    /// Graceful shutdown: closes every connection ("server shutting down") and waits, for at
    /// most `grace`, until each client has been told (a WebSocket's close frame written, a
    /// pending poll answered, a polling client's next poll given the close packet; see
    /// [`Engine::shutdown`]), then closes the adapters. Returns whether every connection
    /// ended within `grace`. Keep serving HTTP meanwhile ([`SocketIo::serve`] does): a
    /// polling client collects its close packet with a request of its own.
    pub async fn shutdown(&self, grace: Duration) -> bool {
        let ended = self.engine.shutdown(grace).await;
        self.close_adapters();
        ended
    }

    /// Closes every connection ("server shutting down") and the adapters, without waiting
    /// for the close packets to be written ([`SocketIo::shutdown`] waits).
    pub fn close(&self) {
        self.engine.close();
        self.close_adapters();
    }

    fn close_adapters(&self) {
        let namespaces: Vec<_> = self.inner.read_namespaces().values().cloned().collect();
        for nsp in namespaces {
            nsp.adapter().close();
        }
    }
}

/// Namespace names always start with `/`.
fn normalize(name: &str) -> String {
    if name.starts_with('/') {
        name.to_owned()
    } else {
        format!("/{name}")
    }
}

impl ServerInner {
    fn read_namespaces(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<Namespace>>> {
        self.namespaces.read().unwrap_or_else(|e| e.into_inner())
    }

    fn namespace(&self, name: &str) -> Arc<Namespace> {
        if let Some(nsp) = self.read_namespaces().get(name) {
            return nsp.clone();
        }
        let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        namespaces
            .entry(name.to_owned())
            .or_insert_with(|| {
                Namespace::new(
                    name.to_owned(),
                    self.config.parser,
                    Arc::new(Behaviour::default()),
                    self.factory.as_ref(),
                    self.config.recovery,
                    None,
                )
            })
            .clone()
    }

    fn add_parent(&self, matcher: Matcher) -> Arc<ParentNamespace> {
        let parent = Arc::new(ParentNamespace {
            matcher,
            behaviour: Arc::new(Behaviour::default()),
            children: RwLock::new(Vec::new()),
        });
        self.parents
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(parent.clone());
        parent
    }

    /// The namespace a client asks for: a registered one, or a new child of a matching
    /// dynamic namespace.
    fn find_namespace(&self, name: &str, auth: &Value) -> Option<Arc<Namespace>> {
        if let Some(nsp) = self.read_namespaces().get(name) {
            return Some(nsp.clone());
        }
        let parents = self
            .parents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let parent = parents.iter().find(|p| p.matcher.matches(name, auth))?;
        let on_empty: Option<OnEmpty> = self.config.cleanup_empty_child_namespaces.then(|| {
            let server = self.me.clone();
            Box::new(move |name: &str| {
                if let Some(server) = server.upgrade() {
                    server
                        .namespaces
                        .write()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(name);
                }
            }) as OnEmpty
        });
        let mut namespaces = self.namespaces.write().unwrap_or_else(|e| e.into_inner());
        let child = namespaces
            .entry(name.to_owned())
            .or_insert_with(|| {
                let child = Namespace::new(
                    name.to_owned(),
                    self.config.parser,
                    parent.behaviour.clone(),
                    self.factory.as_ref(),
                    self.config.recovery,
                    on_empty,
                );
                let mut children = parent.children.write().unwrap_or_else(|e| e.into_inner());
                // Children removed when they emptied are gone: forget them, or the list (and
                // each dead child's allocation) grows with every name ever used.
                children.retain(|child| child.strong_count() > 0);
                children.push(Arc::downgrade(&child));
                child
            })
            .clone();
        Some(child)
    }

    /// Sends a packet on a connection outside any namespace socket (refusals).
    fn send_raw(&self, conn: &Arc<Connection<ConnectionState>>, packet: &Packet) {
        match encode_packet(self.config.parser, packet, conn.data.protocol()) {
            Ok(messages) => conn.send_all(messages),
            Err(error) => tracing::warn!(%error, "packet not encodable"),
        }
    }

    fn refuse(&self, conn: &Arc<Connection<ConnectionState>>, nsp: &str, error: ConnectError) {
        let data = match conn.data.protocol() {
            // Socket.IO 2.x clients get the data, or else the message, alone.
            ProtocolVersion::V4 => error.data.unwrap_or(Value::from(error.message)),
            ProtocolVersion::V5 => {
                let mut fields = vec![(Value::from("message"), Value::from(error.message))];
                if let Some(data) = error.data {
                    fields.push((Value::from("data"), data));
                }
                Value::Map(fields)
            }
        };
        self.send_raw(
            conn,
            &Packet::ConnectError {
                nsp: nsp.to_owned(),
                data,
            },
        );
    }

    fn on_packet(self: &Arc<Self>, conn: &Arc<Connection<ConnectionState>>, packet: Packet) {
        match packet {
            Packet::Connect { nsp, data, query } => {
                if conn.data.is_connected_to(&nsp) {
                    tracing::debug!(%nsp, "already connected to namespace");
                    return;
                }
                let auth = match conn.data.protocol() {
                    ProtocolVersion::V4 => query
                        .as_deref()
                        .map(query_to_value)
                        .unwrap_or(Value::Map(Vec::new())),
                    ProtocolVersion::V5 => data.unwrap_or(Value::Map(Vec::new())),
                };
                run(self.clone().connect(conn.clone(), nsp, auth));
            }
            other => match conn.data.socket(other.nsp()) {
                Some(socket) => socket.on_packet(other),
                None => tracing::debug!(nsp = other.nsp(), "packet for a namespace not joined"),
            },
        }
    }

    /// Connects a client to a namespace: recovery, middlewares, then the connection handlers.
    async fn connect(
        self: Arc<Self>,
        conn: Arc<Connection<ConnectionState>>,
        name: String,
        auth: Value,
    ) {
        let Some(nsp) = self.find_namespace(&name, &auth) else {
            self.refuse(&conn, &name, ConnectError::new("Invalid namespace"));
            return;
        };
        let protocol = conn.data.protocol();
        let session = match (
            &self.config.recovery,
            str_field(&auth, "pid"),
            str_field(&auth, "offset"),
        ) {
            (Some(_), Some(pid), Some(offset)) => {
                nsp.adapter()
                    .restore_session(pid.to_owned(), offset.to_owned())
                    .await
            }
            _ => None,
        };
        let recovered = session.is_some();
        let (id, pid, data, rooms, missed) = match session {
            Some(session) => (
                Arc::from(session.sid.as_str()),
                Some(session.pid),
                session.data,
                session.rooms,
                session.missed_packets,
            ),
            None => {
                let id: Arc<str> = match protocol {
                    // Node gives 2.x clients ids derived from the Engine.IO id.
                    ProtocolVersion::V4 if name == "/" => Arc::from(conn.id()),
                    ProtocolVersion::V4 => Arc::from(format!("{name}#{}", conn.id()).as_str()),
                    ProtocolVersion::V5 => Arc::from(Sid::generate().as_str()),
                };
                let pid = self
                    .config
                    .recovery
                    .is_some()
                    .then(|| Sid::generate().to_string());
                (id, pid, Value::Nil, Vec::new(), Vec::new())
            }
        };
        let request = conn.request();
        let socket = Arc::new(Socket::new(NewSocket {
            id,
            pid,
            nsp: nsp.clone(),
            conn: conn.clone(),
            handshake: Handshake {
                headers: request.headers.clone(),
                time: request.time,
                address: request.remote_addr,
                secure: request.secure,
                url: request.uri.clone(),
                auth,
            },
            recovered,
            data,
        }));
        if !rooms.is_empty() {
            socket.join(rooms);
        }
        let skip = recovered && self.config.recovery.is_some_and(|r| r.skip_middlewares);
        if !skip {
            for middleware in nsp.behaviour.middlewares() {
                if let Err(error) = middleware.call(socket.clone()).await {
                    tracing::debug!(nsp = %name, %error, "connection refused by middleware");
                    nsp.adapter().local().del_all(socket.id());
                    if conn.is_open() {
                        self.refuse(&conn, &name, error);
                    }
                    return;
                }
            }
        }
        if !conn.is_open() {
            nsp.adapter().local().del_all(socket.id());
            return;
        }
        nsp.insert(socket.clone());
        conn.data.insert(&name, socket.clone());
        // Node writes the missed packets before the CONNECT packet; the client buffers them.
        for (event, args) in missed {
            let _ = socket.send(&Packet::Event {
                nsp: name.clone(),
                id: None,
                event,
                args,
            });
        }
        socket.mark_connected();
        socket.join(socket.id());
        let connect_data = match protocol {
            ProtocolVersion::V4 => None,
            ProtocolVersion::V5 => {
                let mut fields = vec![(Value::from("sid"), Value::from(socket.id()))];
                if let Some(pid) = socket.pid() {
                    fields.push((Value::from("pid"), Value::from(pid)));
                }
                Some(Value::Map(fields))
            }
        };
        let _ = socket.send(&Packet::Connect {
            nsp: name.clone(),
            data: connect_data,
            query: None,
        });
        tracing::debug!(sid = socket.id(), nsp = %name, recovered, "socket connected");
        for handler in nsp.behaviour.connection_handlers() {
            handler.call(socket.clone());
        }
    }
}

impl EngineHandler for Dispatcher {
    type Data = ConnectionState;

    fn on_open(&self, conn: Arc<Connection<ConnectionState>>) {
        let server = &self.0;
        let protocol = ProtocolVersion::for_revision(conn.revision());
        conn.data.init(
            Codec::new(server.config.parser, protocol),
            server.config.max_attachments,
        );
        if protocol == ProtocolVersion::V4 {
            // Socket.IO 2.x clients are connected to the main namespace without asking.
            server.on_packet(
                &conn,
                Packet::Connect {
                    nsp: "/".into(),
                    data: None,
                    query: None,
                },
            );
            return;
        }
        let timeout = server.config.connect_timeout;
        let weak = Arc::downgrade(&conn);
        let timer = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(conn) = weak.upgrade()
                && !conn.data.has_sockets()
            {
                tracing::debug!(sid = conn.id(), "no namespace joined in time");
                conn.close();
            }
        });
        conn.data.set_connect_timer(timer.abort_handle());
    }

    fn on_message(&self, conn: &Arc<Connection<ConnectionState>>, data: Data<'_>) {
        let server = &self.0;
        let decoded = conn.data.with_decoder(|decoder| match data {
            Data::Text(text) => decoder.feed_text(&text),
            Data::Binary(bytes) => decoder.feed_binary(bytes),
        });
        match decoded {
            Some(Ok(Some(packet))) => server.on_packet(conn, packet),
            Some(Ok(None)) | None => {}
            Some(Err(error)) => {
                tracing::debug!(sid = conn.id(), %error, "invalid packet: closing the connection");
                conn.data.close_sockets(DisconnectReason::ParseError);
                conn.close();
            }
        }
    }

    fn on_close(&self, conn: &Arc<Connection<ConnectionState>>, reason: CloseReason) {
        conn.data.close_sockets(reason.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With cleanup on, a dynamic namespace that sees many names does not keep one entry per
    /// name ever used.
    #[test]
    fn emptied_children_are_forgotten() {
        let io = SocketIo::new(ServerConfig {
            cleanup_empty_child_namespaces: true,
            ..ServerConfig::default()
        });
        let parent = io.of_pattern("^/r-").unwrap();
        for i in 0..5 {
            let name = format!("/r-{i}");
            let child = io.inner.find_namespace(&name, &Value::Nil).unwrap();
            // What the child does when its last socket leaves.
            (child.on_empty.as_ref().unwrap())(&name);
        }
        assert_eq!(parent.children().len(), 0);
        assert_eq!(parent.children.read().unwrap().len(), 1);
    }
}
