//! The namespace socket users hold, and its builder.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sio_socketio_proto::{Value, from_args, is_reserved_event, to_args};
use tokio::sync::{mpsc, oneshot};

use crate::error::{AckError, Error};
use crate::event::{ClientEvent, Event};
use crate::lock::Recover;
use crate::manager::{self, Cmd, Manager, ManagerInner};
use crate::options::{Auth, ManagerOptions, Parser, Protocol, Reconnection, TransportKind};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(Client, Event) -> BoxFuture<()> + Send + Sync>;

#[derive(Default)]
struct Handlers {
    named: HashMap<String, Handler>,
    fallback: Option<Handler>,
}

#[derive(Debug, Default)]
pub(crate) struct SocketState {
    pub(crate) connected: bool,
    pub(crate) id: Option<String>,
    pub(crate) recovered: bool,
    /// Why the last connection attempt failed before reaching Socket.IO (so that a
    /// `connect_error` from the transport is told apart from a server's CONNECT_ERROR).
    pub(crate) connect_failure: Option<std::sync::Arc<Error>>,
}

/// What the manager task and the client handles share about one namespace socket.
pub(crate) struct SocketShared {
    pub(crate) nsp: String,
    pub(crate) auth: Auth,
    pub(crate) query: Option<String>,
    pub(crate) state: Mutex<SocketState>,
    next_ack: AtomicU64,
    ack_timeout: Option<Duration>,
    retries: u32,
    dispatch: mpsc::UnboundedSender<ClientEvent>,
    handlers: RwLock<Handlers>,
    subscribers: Mutex<Vec<mpsc::UnboundedSender<ClientEvent>>>,
}

impl std::fmt::Debug for SocketShared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketShared")
            .field("nsp", &self.nsp)
            .finish_non_exhaustive()
    }
}

impl SocketShared {
    /// Hands an event to the socket's dispatcher (handlers run there, in order).
    pub(crate) fn deliver(&self, event: ClientEvent) {
        let _ = self.dispatch.send(event);
    }
}

/// Runs the handlers of one socket, one event at a time, in arrival order.
async fn dispatch_loop(
    mut rx: mpsc::UnboundedReceiver<ClientEvent>,
    shared: Weak<SocketShared>,
    manager: Weak<ManagerInner>,
) {
    while let Some(event) = rx.recv().await {
        let (Some(shared), Some(manager)) = (shared.upgrade(), manager.upgrade()) else {
            break;
        };
        {
            let mut subscribers = shared.subscribers.lock().recover();
            subscribers.retain(|tx| tx.send(event.clone()).is_ok());
        }
        let is_server_event = matches!(event, ClientEvent::Event(_));
        let event = event.into_named();
        let handler = Some(shared.handlers.read().recover()).and_then(|h| {
            h.named
                .get(&event.name)
                .cloned()
                .or_else(|| h.fallback.clone().filter(|_| is_server_event))
        });
        if let Some(handler) = handler {
            let client = Client {
                shared,
                manager: Manager { inner: manager },
            };
            handler(client, event).await;
        }
    }
}

/// A socket on one namespace of a Socket.IO server (the JavaScript client's `Socket`).
///
/// Cheap to clone. Events go out with [`emit`](Self::emit) and friends, come in through the
/// handlers given to [`on`](Self::on) (run one at a time, in order) or through
/// [`events`](Self::events). The connection is kept up, and re-established after failures,
/// until [`disconnect`](Self::disconnect) is called; after a reconnection the namespace is
/// joined again automatically, but application state (rooms joined by emitting, subscriptions)
/// is the application's to restore, in a `connect` handler, as with the JavaScript client.
#[derive(Clone)]
pub struct Client {
    shared: Arc<SocketShared>,
    manager: Manager,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("nsp", &self.shared.nsp)
            .field("id", &self.id())
            .finish()
    }
}

impl Client {
    /// A builder for a client of `url`, whose path is the namespace (`http://host/chat`
    /// connects namespace `/chat`; `http://host` the main namespace `/`).
    pub fn builder(url: &str) -> ClientBuilder {
        ClientBuilder::new(url)
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.shared.nsp
    }

    /// The socket id the server gave, once connected.
    pub fn id(&self) -> Option<String> {
        self.shared.state.lock().recover().id.clone()
    }

    /// Whether the namespace is connected now.
    pub fn connected(&self) -> bool {
        self.shared.state.lock().recover().connected
    }

    /// Whether the last connection restored the previous session (connection state
    /// recovery): the server kept the id and rooms and replayed the missed events.
    pub fn recovered(&self) -> bool {
        self.shared.state.lock().recover().recovered
    }

    /// The manager (the connection), to open more namespaces on it.
    pub fn manager(&self) -> Manager {
        self.manager.clone()
    }

    /// Adds or replaces the handler of event `name` (server events, or `connect`,
    /// `disconnect`, `connect_error`, `reconnect_attempt`, `reconnect`, `reconnect_error`,
    /// `reconnect_failed`, `error`).
    pub fn on<F, Fut>(&self, name: &str, handler: F)
    where
        F: Fn(Client, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        {
            let mut handlers = self.shared.handlers.write().recover();
            handlers.named.insert(name.to_owned(), box_handler(handler));
        }
    }

    /// Removes the handler of event `name`.
    pub fn off(&self, name: &str) {
        {
            let mut handlers = self.shared.handlers.write().recover();
            handlers.named.remove(name);
        }
    }

    /// Every event from now on, as a stream (also through [`EventStream::next`]).
    pub fn events(&self) -> EventStream {
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let mut subscribers = self.shared.subscribers.lock().recover();
            subscribers.push(tx);
        }
        EventStream { rx }
    }

    fn event_args<T: Serialize + ?Sized>(event: &str, data: &T) -> Result<Vec<Value>, Error> {
        if is_reserved_event(event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        Ok(to_args(data)?)
    }

    fn send_event(&self, event: &str, args: Vec<Value>, volatile: bool) -> Result<(), Error> {
        self.manager.send(Cmd::Emit {
            nsp: self.shared.nsp.clone(),
            event: event.to_owned(),
            args,
            ack: None,
            volatile,
        })
    }

    /// Sends event `event` with `data` as its arguments (a tuple for several; binary as
    /// `bytes::Bytes` anywhere inside). While disconnected, the event is buffered and sent
    /// on (re)connection.
    ///
    /// # Errors
    /// A reserved event name, arguments that cannot be converted, a closed client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        let args = Self::event_args(event, data)?;
        self.send_event(event, args, false)
    }

    /// Sends raw values.
    ///
    /// # Errors
    /// A reserved event name or a closed client.
    pub fn emit_values(&self, event: &str, args: Vec<Value>) -> Result<(), Error> {
        if is_reserved_event(event) {
            return Err(Error::ReservedEvent(event.to_owned()));
        }
        self.send_event(event, args, false)
    }

    /// Like [`emit`](Self::emit), but the event is dropped when it cannot be written at
    /// once (disconnected, or the transport busy).
    ///
    /// # Errors
    /// As [`emit`](Self::emit).
    pub fn emit_volatile<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), Error> {
        let args = Self::event_args(event, data)?;
        self.send_event(event, args, true)
    }

    /// Sends an event and waits for the server's acknowledgement, converted to `R`.
    ///
    /// The wait is bounded by the `ack_timeout` option, and retried `retries` times, as
    /// the JavaScript client's `ackTimeout` and `retries`; without `ack_timeout` it waits
    /// until the client is closed.
    ///
    /// # Errors
    /// See [`AckError`].
    pub async fn emit_with_ack<T, R>(&self, event: &str, data: &T) -> Result<R, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let args = Self::event_args(event, data)?;
        let answer = self
            .call(event, args, self.shared.ack_timeout, self.shared.retries)
            .await?;
        Ok(from_args(answer)?)
    }

    /// [`emit_with_ack`](Self::emit_with_ack) with its own timeout (no retries).
    ///
    /// # Errors
    /// See [`AckError`].
    pub async fn emit_with_ack_timeout<T, R>(
        &self,
        event: &str,
        data: &T,
        timeout: Duration,
    ) -> Result<R, AckError>
    where
        T: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let args = Self::event_args(event, data)?;
        let answer = self.call(event, args, Some(timeout), 0).await?;
        Ok(from_args(answer)?)
    }

    async fn call(
        &self,
        event: &str,
        args: Vec<Value>,
        timeout: Option<Duration>,
        retries: u32,
    ) -> Result<Vec<Value>, AckError> {
        for _ in 0..=retries {
            let id = self.shared.next_ack.fetch_add(1, Ordering::Relaxed);
            let (tx, rx) = oneshot::channel();
            self.manager.send(Cmd::Emit {
                nsp: self.shared.nsp.clone(),
                event: event.to_owned(),
                args: args.clone(),
                ack: Some((id, tx)),
                volatile: false,
            })?;
            let Some(timeout) = timeout else {
                return rx.await.map_err(|_| AckError::Closed);
            };
            match tokio::time::timeout(timeout, rx).await {
                Ok(answer) => return answer.map_err(|_| AckError::Closed),
                Err(_) => {
                    let _ = self.manager.send(Cmd::CancelAck {
                        nsp: self.shared.nsp.clone(),
                        id,
                    });
                }
            }
        }
        Err(AckError::Timeout)
    }

    /// Leaves the namespace (sends DISCONNECT) and stops reconnecting it; the connection
    /// closes when no namespace of its manager is left.
    pub fn disconnect(&self) {
        let _ = self.manager.send(Cmd::Leave {
            nsp: self.shared.nsp.clone(),
            done: None,
        });
    }

    /// [`disconnect`](Self::disconnect), and waits until what was emitted before is written:
    /// when this was the last namespace of the connection, until the connection's close
    /// packet is written (at most a few seconds when the server stops answering); otherwise
    /// until the DISCONNECT packet is handed to the connection. For programs that emit and
    /// exit, as a Node process exits only once its sockets are flushed. (Node's socket.io 3
    /// and 4 ignore an event read together with the DISCONNECT that follows it: to be sure an
    /// event is handled, ask for an acknowledgement, or close with
    /// [`Manager::close`](crate::Manager::close).)
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), sio_client::Error> {
    /// let client = sio_client::Client::builder("http://localhost:3000").connect().await?;
    /// client.emit("bye", &"see you")?;
    /// client.close().await; // "bye" was written before the connection closed
    /// # Ok(())
    /// # }
    /// ```
    pub async fn close(&self) {
        let (done, written) = oneshot::channel();
        let sent = self.manager.send(Cmd::Leave {
            nsp: self.shared.nsp.clone(),
            done: Some(done),
        });
        if sent.is_ok() {
            // An error only means the connection was already gone.
            let _ = written.await;
        }
    }
}

fn box_handler<F, Fut>(handler: F) -> Handler
where
    F: Fn(Client, Event) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |client, event| Box::pin(handler(client, event)))
}

/// The events of one socket, in order; see [`Client::events`].
#[derive(Debug)]
pub struct EventStream {
    rx: mpsc::UnboundedReceiver<ClientEvent>,
}

impl EventStream {
    /// The next event; `None` once the socket is gone.
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.rx.recv().await
    }
}

impl futures_util::Stream for EventStream {
    type Item = ClientEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<ClientEvent>> {
        self.rx.poll_recv(cx)
    }
}

/// Options of a [`Client`]; the connection options apply when the builder creates the
/// manager (the first client of a server, or with [`force_new`](Self::force_new)).
pub struct ClientBuilder {
    nsp: String,
    options: Result<ManagerOptions, Error>,
    auth: Auth,
    handlers: Handlers,
    ack_timeout: Option<Duration>,
    retries: u32,
    force_new: bool,
    manager: Option<Manager>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("nsp", &self.nsp)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// Splits `url` into connection options and the namespace.
fn parse_url(url: &str) -> Result<(ManagerOptions, String), Error> {
    let uri: Uri = url
        .parse()
        .map_err(|e| Error::InvalidUrl(format!("{url}: {e}")))?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let (secure, default_port) = match scheme {
        "http" | "ws" => (false, 80),
        "https" | "wss" => (true, 443),
        other => return Err(Error::InvalidUrl(format!("{url}: unknown scheme {other}"))),
    };
    let host = uri
        .host()
        .ok_or_else(|| Error::InvalidUrl(format!("{url}: no host")))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = uri.port_u16().unwrap_or(default_port);
    let nsp = match uri.path() {
        "" => "/".to_owned(),
        path => path.to_owned(),
    };
    let query = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let options = ManagerOptions {
        host,
        port,
        secure,
        tls_config: None,
        proxy: None,
        path: "/socket.io/".into(),
        query,
        headers: HeaderMap::new(),
        transports: vec![TransportKind::Polling, TransportKind::WebSocket],
        upgrade: true,
        remember_upgrade: false,
        timestamp_requests: true,
        timestamp_param: "t".into(),
        force_base64: false,
        protocol: Protocol::Auto,
        parser: Parser::Default,
        reconnection: Reconnection::default(),
        timeout: Duration::from_millis(20_000),
    };
    Ok((options, nsp))
}

impl ClientBuilder {
    fn new(url: &str) -> Self {
        let (options, nsp) = match parse_url(url) {
            Ok((options, nsp)) => (Ok(options), nsp),
            Err(e) => (Err(e), "/".to_owned()),
        };
        Self {
            nsp,
            options,
            auth: Auth::None,
            handlers: Handlers::default(),
            ack_timeout: None,
            retries: 0,
            force_new: false,
            manager: None,
        }
    }

    pub(crate) fn for_manager(manager: Manager, nsp: &str) -> Self {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        Self {
            nsp,
            options: Ok((*manager.inner.options).clone()),
            auth: Auth::None,
            handlers: Handlers::default(),
            ack_timeout: None,
            retries: 0,
            force_new: false,
            manager: Some(manager),
        }
    }

    fn options(mut self, f: impl FnOnce(&mut ManagerOptions)) -> Self {
        if let Ok(options) = &mut self.options {
            f(options);
        }
        self
    }

    /// The server's path (`path`, default `/socket.io/`). Written with or without its leading
    /// and trailing slash (`socket`, `/socket` and `/socket/` are the same path), as the
    /// Node server reads its `path` option.
    pub fn path(self, path: &str) -> Self {
        let path = normalize_path(path);
        self.options(|o| o.path = path)
    }

    /// Adds a query parameter to every request (`query`).
    pub fn query(self, key: &str, value: &str) -> Self {
        self.options(|o| o.query.push((key.to_owned(), value.to_owned())))
    }

    /// Adds an HTTP header to every request (`extraHeaders`).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        match (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            (Ok(name), Ok(value)) => self.options(|o| {
                o.headers.append(name, value);
            }),
            _ => {
                self.options = Err(Error::InvalidOption(format!("header {name}")));
                self
            }
        }
    }

    /// TLS settings for `https://` and `wss://` URLs (custom root certificates, client
    /// certificates); the default trusts the webpki roots.
    pub fn tls_config(self, config: Arc<rustls::ClientConfig>) -> Self {
        self.options(|o| o.tls_config = Some(config))
    }

    /// Tunnels every connection through an HTTP proxy with `CONNECT`:
    /// `http://[user:password@]host:port`.
    pub fn proxy(mut self, url: &str) -> Self {
        match crate::engine::Proxy::from_url(url) {
            Ok(proxy) => self.options(|o| o.proxy = Some(proxy)),
            Err(e) => {
                self.options = Err(Error::InvalidOption(e));
                self
            }
        }
    }

    /// The CONNECT payload (`auth`).
    pub fn auth(mut self, auth: serde_json::Value) -> Self {
        self.auth = Auth::Value(auth);
        self
    }

    /// A CONNECT payload computed again for every connection and reconnection.
    pub fn auth_fn(mut self, auth: impl Fn() -> serde_json::Value + Send + Sync + 'static) -> Self {
        self.auth = Auth::Callback(Arc::new(auth));
        self
    }

    /// Transports in order (`transports`, default polling then WebSocket). `[Websocket]`
    /// connects over WebSocket directly; `[Polling]` never upgrades.
    pub fn transports(self, transports: impl IntoIterator<Item = TransportKind>) -> Self {
        let transports: Vec<TransportKind> = transports.into_iter().collect();
        self.options(|o| o.transports = transports)
    }

    /// Upgrade from polling to WebSocket when possible (`upgrade`, default `true`).
    pub fn upgrade(self, upgrade: bool) -> Self {
        self.options(|o| o.upgrade = upgrade)
    }

    /// After one successful WebSocket connection, reconnect over WebSocket directly
    /// (`rememberUpgrade`, default `false`).
    pub fn remember_upgrade(self, remember: bool) -> Self {
        self.options(|o| o.remember_upgrade = remember)
    }

    /// Add a cache-busting parameter to polling requests (`timestampRequests`, default
    /// `true`) and its name (`timestampParam`, default `t`).
    pub fn timestamp_requests(self, enabled: bool, param: &str) -> Self {
        let param = param.to_owned();
        self.options(|o| {
            o.timestamp_requests = enabled;
            o.timestamp_param = param;
        })
    }

    /// Engine.IO 3: ask for base64 instead of binary (`forceBase64`).
    pub fn force_base64(self, enabled: bool) -> Self {
        self.options(|o| o.force_base64 = enabled)
    }

    /// The protocol revision (default [`Protocol::Auto`]).
    pub fn protocol(self, protocol: Protocol) -> Self {
        self.options(|o| o.protocol = protocol)
    }

    /// The packet parser (default [`Parser::Default`]); it must match the server's.
    pub fn parser(self, parser: Parser) -> Self {
        self.options(|o| o.parser = parser)
    }

    /// All reconnection settings.
    pub fn reconnection_options(self, reconnection: Reconnection) -> Self {
        self.options(|o| o.reconnection = reconnection)
    }

    /// Reconnect after failures (`reconnection`, default `true`).
    pub fn reconnection(self, enabled: bool) -> Self {
        self.options(|o| o.reconnection.enabled = enabled)
    }

    /// Give up after `attempts` (`reconnectionAttempts`, default unlimited).
    pub fn reconnection_attempts(self, attempts: u32) -> Self {
        self.options(|o| o.reconnection.attempts = Some(attempts))
    }

    /// First reconnection delay (`reconnectionDelay`, default 1 s).
    pub fn reconnection_delay(self, delay: Duration) -> Self {
        self.options(|o| o.reconnection.delay = delay)
    }

    /// Largest reconnection delay (`reconnectionDelayMax`, default 5 s).
    pub fn reconnection_delay_max(self, delay: Duration) -> Self {
        self.options(|o| o.reconnection.delay_max = delay)
    }

    /// Jitter of the delays, 0 to 1 (`randomizationFactor`, default 0.5).
    pub fn randomization_factor(self, factor: f64) -> Self {
        self.options(|o| o.reconnection.randomization_factor = factor)
    }

    /// How long opening the connection may take (`timeout`, default 20 s).
    pub fn timeout(self, timeout: Duration) -> Self {
        self.options(|o| o.timeout = timeout)
    }

    /// Default acknowledgement timeout of [`Client::emit_with_ack`] (`ackTimeout`).
    pub fn ack_timeout(mut self, timeout: Duration) -> Self {
        self.ack_timeout = Some(timeout);
        self
    }

    /// How many times [`Client::emit_with_ack`] sends again after a timeout (`retries`).
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Open a connection of its own instead of sharing the one to the same server
    /// (`forceNew`).
    pub fn force_new(mut self, force_new: bool) -> Self {
        self.force_new = force_new;
        self
    }

    /// The handler of event `name`; see [`Client::on`].
    pub fn on<F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(Client, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handlers
            .named
            .insert(name.to_owned(), box_handler(handler));
        self
    }

    /// The handler of server events that have no handler of their own (a catch-all).
    pub fn on_fallback<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(Client, Event) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.handlers.fallback = Some(box_handler(handler));
        self
    }

    fn start(self) -> Result<(Client, EventStream), Error> {
        let options = self.options?;
        if options.transports.is_empty() {
            return Err(Error::InvalidOption("no transport".into()));
        }
        if options.parser == Parser::Msgpack
            && matches!(options.protocol, Protocol::V4 | Protocol::Legacy09)
        {
            return Err(Error::InvalidOption(
                "the msgpack parser needs Socket.IO v5".into(),
            ));
        }
        let manager = match self.manager {
            Some(manager) => manager,
            None if self.force_new => Manager::spawn(options),
            None => {
                let key = format!("{}:{}{}", options.host, options.port, options.path);
                manager::cached(&key, options)
            }
        };
        let (query, nsp) = match self.nsp.split_once('?') {
            Some((nsp, query)) => (Some(query.to_owned()), nsp.to_owned()),
            None => (None, self.nsp),
        };
        let (dispatch, rx) = mpsc::unbounded_channel();
        let (first_tx, first_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(SocketShared {
            nsp,
            auth: self.auth,
            query,
            state: Mutex::new(SocketState::default()),
            next_ack: AtomicU64::new(0),
            ack_timeout: self.ack_timeout,
            retries: self.retries,
            dispatch,
            handlers: RwLock::new(self.handlers),
            subscribers: Mutex::new(vec![first_tx]),
        });
        tokio::spawn(dispatch_loop(
            rx,
            Arc::downgrade(&shared),
            Arc::downgrade(&manager.inner),
        ));
        manager.send(Cmd::Open {
            socket: shared.clone(),
        })?;
        Ok((Client { shared, manager }, EventStream { rx: first_rx }))
    }

    /// Creates the client and connects in the background: events emitted meanwhile are
    /// buffered, failures are retried per the reconnection options. Must be called inside a
    /// Tokio runtime.
    ///
    /// # Errors
    /// An invalid URL or option.
    pub fn build(self) -> Result<Client, Error> {
        let (client, events) = self.start()?;
        drop(events);
        Ok(client)
    }

    /// Like [`build`](Self::build), and the stream of every event of the client from the
    /// start (the `Connect` included), for code that prefers a loop to handlers.
    ///
    /// # Errors
    /// An invalid URL or option.
    pub fn build_with_events(self) -> Result<(Client, EventStream), Error> {
        self.start()
    }

    /// Creates the client and waits until the namespace is connected.
    ///
    /// # Errors
    /// An invalid URL or option, the server refusing the namespace
    /// ([`Error::ConnectRefused`]), the first connection attempt failing
    /// ([`Error::ConnectFailed`]), or no connection within the `timeout` option. The client
    /// is closed then.
    pub async fn connect(self) -> Result<Client, Error> {
        self.connect_with_events().await.map(|(client, _)| client)
    }

    /// Like [`connect`](Self::connect), and the stream of the events that follow the
    /// connection (none is missed between the two).
    ///
    /// # Errors
    /// As [`connect`](Self::connect).
    pub async fn connect_with_events(self) -> Result<(Client, EventStream), Error> {
        let timeout = self.options.as_ref().map(|o| o.timeout).unwrap_or_default();
        let (client, mut events) = self.start()?;
        let outcome = tokio::time::timeout(timeout + Duration::from_secs(1), async {
            while let Some(event) = events.next().await {
                match event {
                    ClientEvent::Connect { .. } => return Ok(()),
                    ClientEvent::ConnectError(data) => {
                        let failure = client.shared.state.lock().recover().connect_failure.take();
                        return Err(match failure {
                            Some(failure) => Error::ConnectFailed(failure),
                            None => Error::ConnectRefused {
                                message: sio_socketio_proto::value::connect_error_message(&data),
                                data,
                            },
                        });
                    }
                    _ => {}
                }
            }
            Err(Error::Closed)
        })
        .await
        .unwrap_or(Err(Error::Timeout));
        match outcome {
            Ok(()) => Ok((client, events)),
            Err(e) => {
                client.disconnect();
                Err(e)
            }
        }
    }
}

/// A server path with exactly one leading and one trailing slash (`/` for an empty one).
pub(crate) fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_get_their_slashes() {
        for path in ["socket", "/socket", "socket/", "/socket/", "//socket//"] {
            assert_eq!(normalize_path(path), "/socket/", "{path}");
        }
        assert_eq!(normalize_path("a/b"), "/a/b/");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/"), "/");
    }

    #[test]
    fn url_path_is_the_namespace() {
        let (options, nsp) = parse_url("http://example.com:3000/chat?token=1&a=b").unwrap();
        assert_eq!(options.host, "example.com");
        assert_eq!(options.port, 3000);
        assert_eq!(nsp, "/chat");
        assert_eq!(
            options.query,
            vec![("token".into(), "1".into()), ("a".into(), "b".into())]
        );
        let (options, nsp) = parse_url("ws://[::1]").unwrap();
        assert_eq!(
            (options.host.as_str(), options.port, nsp.as_str()),
            ("::1", 80, "/")
        );
        let (_, nsp) = parse_url("http://h/").unwrap();
        assert_eq!(nsp, "/");
    }

    #[test]
    fn bad_urls() {
        assert!(matches!(parse_url("ftp://h/"), Err(Error::InvalidUrl(_))));
        assert!(matches!(
            parse_url("/just/a/path"),
            Err(Error::InvalidUrl(_))
        ));
        assert!(matches!(parse_url("http://"), Err(Error::InvalidUrl(_))));
    }

    #[test]
    fn builder_options() {
        let builder = Client::builder("http://h:1/x")
            .path("/custom")
            .query("k", "v");
        let options = builder.options.as_ref().unwrap();
        assert_eq!(options.path, "/custom/");
        assert_eq!(options.query, vec![("k".into(), "v".into())]);
        let builder = Client::builder("http://h:1/x").header("bad header", "v");
        assert!(matches!(builder.options, Err(Error::InvalidOption(_))));
    }

    #[tokio::test]
    async fn invalid_options_are_reported_by_build() {
        let result = Client::builder("http://h:1/").transports([]).build();
        assert!(matches!(result, Err(Error::InvalidOption(_))));
        let result = Client::builder("http://h:1/")
            .protocol(Protocol::V4)
            .parser(Parser::Msgpack)
            .build();
        assert!(matches!(result, Err(Error::InvalidOption(_))));
    }
}
