//! The engine: the session table, request routing and handshakes.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock, Weak},
    time::SystemTime,
};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body::Body;
use http_body_util::Full;
use sio_engineio_proto::{Data, ErrorCode, Handshake, Revision};

use sio_engineio_session::{
    CloseReason, ServerSession, Timing, TransportKind,
    server::{ServerConfig, UPGRADE_GRACE},
};

use crate::{
    config::EngineConfig,
    polling,
    query::EngineQuery,
    sid::Sid,
    socket::{Host, RequestInfo, Socket},
    timer::{Sessions, Timer},
    websocket,
};

/// How often [`Engine::shutdown`] looks whether the closed sessions are over.
const SHUTDOWN_CHECK: std::time::Duration = std::time::Duration::from_millis(5);

/// What the layer above Engine.IO does with sessions (Node's `connection`, `message` and
/// `close` events).
pub trait EngineHandler: Send + Sync + 'static {
    /// Per-session data the handler keeps in each [`Socket`].
    type Data: Default + Send + Sync + 'static;

    /// A session opened.
    fn on_open(&self, socket: Arc<Socket<Self::Data>>);

    /// A message arrived on a session.
    fn on_message(&self, socket: &Arc<Socket<Self::Data>>, data: Data<'_>);

    /// A session ended. Called once per session.
    fn on_close(&self, socket: &Arc<Socket<Self::Data>>, reason: CloseReason);
}

/// The peer address of a connection, put in request extensions by the server that accepted it.
///
/// [`crate::listen`] does this; a server of your own can insert it too so that
/// [`RequestInfo::remote_addr`] is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub std::net::SocketAddr);

/// Marks a request that arrived over TLS, for [`RequestInfo::secure`] (Node's
/// `handshake.secure`).
///
/// The engine does not terminate TLS itself. A server that does (rustls, say) inserts this in
/// the request extensions before handing the request to the engine;
/// [`crate::serve_connection`] does it when called with `secure = true`:
///
/// ```
/// use sio_engineio::Secure;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(Secure);
/// assert!(request.extensions().get::<Secure>().is_some());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secure;

/// An Engine.IO server: sessions and the request handling of both transports.
///
/// Cheap to clone. Mount it with [`crate::EngineLayer`]/[`crate::EngineService`] or serve it
/// with [`crate::listen`].
pub struct Engine<H: EngineHandler> {
    pub(crate) inner: Arc<Inner<H>>,
}

impl<H: EngineHandler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine {
            inner: self.inner.clone(),
        }
    }
}

impl<H: EngineHandler> std::fmt::Debug for Engine<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("sessions", &self.session_count())
            .finish()
    }
}

pub(crate) struct Inner<H: EngineHandler> {
    pub(crate) config: EngineConfig,
    pub(crate) handler: H,
    sessions: RwLock<HashMap<Sid, Arc<Socket<H::Data>>>>,
    timer: Arc<Timer>,
    me: Weak<Inner<H>>,
}

impl<H: EngineHandler> Sessions for Inner<H> {
    fn fire(&self, sid: Sid, at: std::time::Instant) -> Option<std::time::Instant> {
        let socket = self.sessions_read().get(&sid).cloned()?;
        socket.on_timer(at)
    }
}

impl<H: EngineHandler> Drop for Inner<H> {
    fn drop(&mut self) {
        self.timer.stop();
    }
}

impl<H: EngineHandler> Host<H::Data> for Inner<H> {
    fn on_message(&self, socket: &Arc<Socket<H::Data>>, data: Data<'_>) {
        self.handler.on_message(socket, data);
    }

    fn schedule(&self, sid: Sid, at: std::time::Instant) {
        self.timer.schedule(at, sid, &self.me);
    }

    fn on_close(&self, socket: &Arc<Socket<H::Data>>, reason: CloseReason) {
        match tokio::runtime::Handle::try_current() {
            // Like Node, a polling client between two polls still gets what the server queued
            // before closing, and the close packet, from its next poll: keep the session
            // reachable until then, for at most `ping_timeout`.
            Ok(runtime) if socket.awaits_final_poll() => {
                let me = self.me.clone();
                let socket = socket.clone();
                let linger = self.config.ping_timeout;
                runtime.spawn(async move {
                    let _ = tokio::time::timeout(linger, socket.final_poll.notified()).await;
                    if let Some(inner) = me.upgrade() {
                        inner.forget(&socket);
                    }
                });
            }
            _ => self.forget(socket),
        }
        self.handler.on_close(socket, reason);
    }
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with these options and this handler.
    pub fn new(config: EngineConfig, handler: H) -> Self {
        let inner = Arc::new_cyclic(|me| Inner {
            config: config.normalized(),
            handler,
            sessions: RwLock::new(HashMap::new()),
            timer: Arc::new(Timer::default()),
            me: me.clone(),
        });
        Engine { inner }
    }

    /// The options in force.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// Number of open sessions (Node's `clientsCount`).
    ///
    /// A closed polling session that waits for its client's last poll is not counted.
    pub fn session_count(&self) -> usize {
        self.inner
            .sessions_read()
            .values()
            .filter(|socket| socket.is_open())
            .count()
    }

    /// The open session with this id.
    pub fn session(&self, id: &str) -> Option<Arc<Socket<H::Data>>> {
        let sid = Sid::parse(id)?;
        self.inner.sessions_read().get(&sid).cloned()
    }

    /// Closes every session, delivering what is queued first, and returns at once: the close
    /// packets are still being written. [`Engine::shutdown`] also waits for that.
    pub fn close(&self) {
        let sessions: Vec<_> = self.inner.sessions_read().values().cloned().collect();
        for socket in sessions {
            socket.close_with(CloseReason::ServerShuttingDown);
        }
    }

    /// Graceful shutdown: closes every session as [`Engine::close`] does, then waits, for at
    /// most `grace`, until each is over: its WebSocket has written the queued packets and its
    /// close frame, its pending poll has been answered, and a polling client between two polls
    /// has collected the close packet with its next poll. Sessions opened meanwhile are closed
    /// too. Returns whether every session ended within `grace`.
    ///
    /// Keep serving HTTP while it runs: a polling client between two polls collects the close
    /// packet with a request of its own, possibly on a new connection. The connections
    /// themselves are the HTTP server's to end.
    ///
    /// ```no_run
    /// # async fn run(engine: sio_engineio::Engine<impl sio_engineio::EngineHandler>) {
    /// if !engine.shutdown(std::time::Duration::from_secs(5)).await {
    ///     eprintln!("some sessions did not end in time");
    /// }
    /// # }
    /// ```
    pub async fn shutdown(&self, grace: std::time::Duration) -> bool {
        let closing: Vec<Weak<Socket<H::Data>>> = self
            .inner
            .sessions_read()
            .values()
            .map(Arc::downgrade)
            .collect();
        let over = async {
            // A session's transports hold it until they are done with it, and nothing tells
            // when the last one lets go: look again every few milliseconds.
            let mut check = tokio::time::interval(SHUTDOWN_CHECK);
            loop {
                check.tick().await;
                self.close();
                if self.inner.sessions_read().is_empty()
                    && closing.iter().all(|socket| socket.strong_count() == 0)
                {
                    return;
                }
            }
        };
        tokio::time::timeout(grace, over).await.is_ok()
    }

    /// Whether this request is for the engine (its path starts with the configured path).
    pub fn matches<B>(&self, req: &Request<B>) -> bool {
        let path = req.uri().path();
        let base = self.inner.config.path.as_str();
        path.starts_with(base) || path == base.trim_end_matches('/')
    }

    /// Answers one HTTP request for the engine's path.
    pub async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let inner = &self.inner;
        let origin = req.headers().get(header::ORIGIN).cloned();
        let mut response = inner.route(req).await;
        inner.add_cors(origin.as_ref(), &mut response);
        response
    }
}

impl<H: EngineHandler> Inner<H> {
    fn sessions_read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<Sid, Arc<Socket<H::Data>>>> {
        self.sessions.read().unwrap_or_else(|e| e.into_inner())
    }

    fn forget(&self, socket: &Socket<H::Data>) {
        self.sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&socket.sid());
    }

    fn find(&self, sid: &str) -> Option<Arc<Socket<H::Data>>> {
        let sid = Sid::parse(sid)?;
        self.sessions_read().get(&sid).cloned()
    }

    async fn route<B>(&self, mut req: Request<B>) -> Response<Full<Bytes>>
    where
        B: Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if req.method() == Method::OPTIONS
            && !matches!(self.config.cors.origin, crate::config::CorsOrigin::Disabled)
        {
            return preflight(&req);
        }
        let query = EngineQuery::parse(req.uri().query().unwrap_or(""));
        let is_upgrade = websocket::is_upgrade_request(&req);

        // Same order of checks as Node's `verify`.
        let Some(transport) = query
            .transport
            .as_deref()
            .and_then(TransportKind::from_query)
            .filter(|t| self.config.allows(*t))
        else {
            return error_response(ErrorCode::UnknownTransport, None, is_upgrade);
        };
        if let Some(sid) = query.sid.as_deref() {
            let Some(socket) = self.find(sid) else {
                return error_response(ErrorCode::UnknownSid, None, is_upgrade);
            };
            if !is_upgrade {
                socket.settle_upgrade(UPGRADE_GRACE).await;
            }
            let current = socket.transport();
            if !is_upgrade && current != transport {
                return error_response(ErrorCode::BadRequest, None, false);
            }
            if is_upgrade {
                if transport != TransportKind::WebSocket {
                    return error_response(ErrorCode::BadRequest, None, true);
                }
                return websocket::upgrade_existing(self, &mut req, socket);
            }
            return polling::serve(self, req, socket, &query).await;
        }

        if req.method() != Method::GET {
            return error_response(ErrorCode::BadHandshakeMethod, None, is_upgrade);
        }
        if transport == TransportKind::WebSocket && !is_upgrade {
            return error_response(ErrorCode::BadRequest, None, false);
        }
        if let Some(allow) = &self.config.allow_request {
            let (parts, body) = req.into_parts();
            if let Err(message) = allow(&parts) {
                return error_response(ErrorCode::Forbidden, Some(&message), is_upgrade);
            }
            req = Request::from_parts(parts, body);
        }
        let revision = match query.eio.as_deref() {
            Some("4") => Revision::V4,
            // Node treats anything else as the 3rd revision, then refuses it unless allowed.
            _ if self.config.allow_eio3 => Revision::V3,
            _ => return error_response(ErrorCode::UnsupportedProtocolVersion, None, is_upgrade),
        };

        if is_upgrade {
            return websocket::handshake(self, &mut req, revision, !query.b64);
        }
        let supports_binary = !query.b64 && query.jsonp.is_none();
        let socket = self.open(&req, revision, TransportKind::Polling, supports_binary);
        let mut response = polling::serve(self, req, socket.clone(), &query).await;
        if let Some(cookie) = &self.config.cookie
            && let Ok(value) = HeaderValue::from_str(&cookie.header(socket.id()))
        {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        response
    }

    /// Creates a session, queues its open packet and files its heartbeat with the timer.
    pub(crate) fn open<B>(
        &self,
        req: &Request<B>,
        revision: Revision,
        transport: TransportKind,
        supports_binary: bool,
    ) -> Arc<Socket<H::Data>> {
        let opened = crate::socket::now();
        let (uri, headers) = RequestInfo::detach(req.uri(), req.headers());
        let request = RequestInfo {
            method: req.method().clone(),
            uri,
            headers: Arc::new(headers),
            remote_addr: req.extensions().get::<RemoteAddr>().map(|a| a.0),
            secure: req.extensions().get::<Secure>().is_some(),
            time: SystemTime::now(),
        };
        let host: Weak<dyn Host<H::Data>> = self.me.clone();
        let sid = Sid::generate();
        let handshake = Handshake {
            sid: sid.to_string(),
            upgrades: self.config.upgrades_from(transport),
            ping_interval: millis(self.config.ping_interval),
            ping_timeout: millis(self.config.ping_timeout),
            max_payload: (revision == Revision::V4)
                .then_some(self.config.max_http_buffer_size as u64),
        };
        let session = ServerSession::new(
            opened,
            revision,
            transport,
            ServerConfig {
                timing: Timing {
                    ping_interval: self.config.ping_interval,
                    ping_timeout: self.config.ping_timeout,
                },
            },
            handshake,
        );
        let socket = Arc::new(Socket::new(
            sid,
            supports_binary,
            request,
            host,
            session,
            H::Data::default(),
        ));
        self.sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sid, socket.clone());
        tracing::debug!(%sid, ?revision, transport = transport.as_str(), "engine.io session opened");
        if let Some(at) = socket.first_deadline() {
            self.timer.schedule(at, sid, &self.me);
        }
        self.handler.on_open(socket.clone());
        socket
    }

    fn add_cors(&self, origin: Option<&HeaderValue>, response: &mut Response<Full<Bytes>>) {
        let Some(allow) = self.config.cors.allow_origin(origin) else {
            return;
        };
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        if self.config.cors.credentials {
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if !matches!(self.config.cors.origin, crate::config::CorsOrigin::Any) {
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
    }
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// An answer to a CORS preflight, as the `cors` package gives it (204, methods and headers).
fn preflight<B>(req: &Request<B>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = StatusCode::NO_CONTENT;
    let headers = response.headers_mut();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET,HEAD,PUT,PATCH,POST,DELETE"),
    );
    if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

/// Node's answer to a refused request: JSON `{code, message}` with 400 (403 when forbidden);
/// for a refused WebSocket upgrade, a plain-text 400 as Node's `abortUpgrade` writes.
pub(crate) fn error_response(
    code: ErrorCode,
    message: Option<&str>,
    upgrade: bool,
) -> Response<Full<Bytes>> {
    let message = message.unwrap_or(code.message());
    let (status, content_type, body) = if upgrade {
        (StatusCode::BAD_REQUEST, "text/html", message.to_owned())
    } else {
        let body = serde_json::json!({ "code": code.code(), "message": message }).to_string();
        let status = StatusCode::from_u16(code.http_status()).unwrap_or(StatusCode::BAD_REQUEST);
        (status, "application/json", body)
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A bare status response with no body.
pub(crate) fn status_response(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    response
}
