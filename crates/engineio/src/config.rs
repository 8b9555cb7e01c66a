//! Server options, with the names and defaults of Node's `engine.io`.

use std::{fmt, sync::Arc, time::Duration};

use http::{HeaderValue, request::Parts};
use sio_engineio_session::TransportKind;

/// Decides whether a handshake request may open a session (Node's `allowRequest`).
///
/// Returning `Err(message)` refuses it with HTTP 403 and `{"code":4,"message":…}`.
pub type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), String> + Send + Sync>;

/// Which origins may reach the server from a browser (Node's `cors` option).
#[derive(Clone, Default)]
pub enum CorsOrigin {
    /// No CORS headers at all (the default, like Node).
    #[default]
    Disabled,
    /// `Access-Control-Allow-Origin: *`.
    Any,
    /// Reflect the request's origin when it is in this list.
    List(Vec<String>),
    /// Reflect the request's origin when the predicate accepts it.
    Predicate(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl fmt::Debug for CorsOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorsOrigin::Disabled => f.write_str("Disabled"),
            CorsOrigin::Any => f.write_str("Any"),
            CorsOrigin::List(list) => f.debug_tuple("List").field(list).finish(),
            CorsOrigin::Predicate(_) => f.write_str("Predicate(..)"),
        }
    }
}

/// CORS settings for the polling transport and preflight requests.
#[derive(Debug, Clone, Default)]
pub struct Cors {
    /// Allowed origins.
    pub origin: CorsOrigin,
    /// Send `Access-Control-Allow-Credentials: true`.
    pub credentials: bool,
}

impl Cors {
    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, if any.
    pub(crate) fn allow_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.origin {
            CorsOrigin::Disabled => None,
            CorsOrigin::Any if !self.credentials => Some(HeaderValue::from_static("*")),
            // With credentials a browser refuses `*`: reflect the origin as the cors package does.
            CorsOrigin::Any => origin.cloned(),
            CorsOrigin::List(list) => {
                let origin = origin?;
                let text = origin.to_str().ok()?;
                list.iter().any(|o| o == text).then(|| origin.clone())
            }
            CorsOrigin::Predicate(accept) => {
                let origin = origin?;
                accept(origin.to_str().ok()?).then(|| origin.clone())
            }
        }
    }
}

/// The `io` cookie that lets a load balancer route a session's requests to one node (Node's
/// `cookie` option).
///
/// Long-polling sends each request of a session separately, and behind several nodes each must
/// reach the node that holds the session. With a cookie set, the handshake answer carries
/// `Set-Cookie: io=<sid>`, and a balancer can route on it (HAProxy `cookie io prefix`, nginx
/// `sticky cookie`). [`Cookie::default`] is Node's `cookie: true`.
///
/// ```
/// use sio_engineio::{Cookie, EngineConfig};
///
/// let config = EngineConfig {
///     cookie: Some(Cookie {
///         name: "node".into(),
///         ..Cookie::default()
///     }),
///     ..EngineConfig::default()
/// };
/// assert_eq!(config.cookie.as_ref().map(|c| c.path.as_str()), Some("/"));
/// ```
#[derive(Debug, Clone)]
pub struct Cookie {
    /// Cookie name (Node: `io`).
    pub name: String,
    /// Cookie path (Node: `/`).
    pub path: String,
    /// HttpOnly attribute (Node: true).
    pub http_only: bool,
    /// SameSite attribute (Node: `Lax`).
    pub same_site: Option<String>,
}

impl Default for Cookie {
    fn default() -> Self {
        Cookie {
            name: "io".into(),
            path: "/".into(),
            http_only: true,
            same_site: Some("Lax".into()),
        }
    }
}

impl Cookie {
    pub(crate) fn header(&self, sid: &str) -> String {
        let mut out = format!("{}={}; Path={}", self.name, sid, self.path);
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if let Some(same_site) = &self.same_site {
            out.push_str("; SameSite=");
            out.push_str(same_site);
        }
        out
    }
}

/// Engine.IO server options. `EngineConfig::default()` gives Node's defaults.
///
/// The fields are Node's `engine.io` options under their Rust names (`pingInterval` is
/// `ping_interval`, `maxHttpBufferSize` is `max_http_buffer_size`, …). A Socket.IO server takes
/// them as `ServerConfig::engine` (crate `sio-server`); the path is given its leading and
/// trailing slash when the engine is made.
///
/// ```
/// use std::time::Duration;
/// use sio_engineio::{Cors, CorsOrigin, EngineConfig};
///
/// let config = EngineConfig {
///     path: "/realtime/".into(),
///     ping_interval: Duration::from_secs(10),
///     allow_eio3: true, // Socket.IO 1.x/2.x clients too
///     cors: Cors {
///         origin: CorsOrigin::List(vec!["http://localhost:5173".into()]),
///         credentials: false,
///     },
///     ..EngineConfig::default()
/// };
/// assert_eq!(config.ping_timeout, Duration::from_secs(20)); // Node's default
/// ```
#[derive(Clone)]
pub struct EngineConfig {
    /// Where the server answers, with a trailing slash (Node: `/engine.io/`; Socket.IO: `/socket.io/`).
    pub path: String,
    /// How often the server pings a v4 client (Node: 25 s).
    pub ping_interval: Duration,
    /// How long a pong (v4) may take, or how late a client ping may be on top of the interval (v3) (Node: 20 s).
    pub ping_timeout: Duration,
    /// How long a polling→WebSocket upgrade may take before the WebSocket is dropped (Node: 10 s).
    pub upgrade_timeout: Duration,
    /// Largest message or polling body accepted, in bytes (Node: 1e6). Also announced as `maxPayload`.
    pub max_http_buffer_size: usize,
    /// Transports clients may use (Node: both).
    pub transports: Vec<TransportKind>,
    /// Whether polling sessions may upgrade to WebSocket (Node: true).
    pub allow_upgrades: bool,
    /// Accept Engine.IO v3 clients (Socket.IO 2.x) (Node: false).
    pub allow_eio3: bool,
    /// CORS (Node: off).
    pub cors: Cors,
    /// The session cookie (Node: off).
    pub cookie: Option<Cookie>,
    /// A hook that may refuse handshakes.
    pub allow_request: Option<AllowRequest>,
    /// Compress polling responses of at least this many bytes when the client accepts gzip or
    /// deflate (Node: 1024); `None` disables HTTP compression.
    pub http_compression_threshold: Option<usize>,
    /// Read buffer of each WebSocket connection (default 1 KB): what an idle connection holds.
    /// Reads from the socket go through one 64 KB buffer per thread, so a small buffer here
    /// does not mean more system calls for large messages; it grows while a larger message
    /// is read.
    pub ws_read_buffer_size: usize,
    /// How long a WebSocket whose session has ended may take to deliver its last frames and
    /// the close frame before the connection is dropped (Node's `ws`: 30 s). A peer that
    /// stopped reading holds its connection, and the kernel's send buffer, no longer than
    /// this after its session ended (a ping timeout, at the latest).
    pub close_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/engine.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_http_buffer_size: 1_000_000,
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            allow_upgrades: true,
            allow_eio3: false,
            cors: Cors::default(),
            cookie: None,
            allow_request: None,
            http_compression_threshold: Some(1024),
            ws_read_buffer_size: 1024,
            close_timeout: Duration::from_secs(30),
        }
    }
}

impl fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineConfig")
            .field("path", &self.path)
            .field("ping_interval", &self.ping_interval)
            .field("ping_timeout", &self.ping_timeout)
            .field("upgrade_timeout", &self.upgrade_timeout)
            .field("max_http_buffer_size", &self.max_http_buffer_size)
            .field("transports", &self.transports)
            .field("allow_upgrades", &self.allow_upgrades)
            .field("allow_eio3", &self.allow_eio3)
            .field("cors", &self.cors)
            .field("cookie", &self.cookie)
            .field("allow_request", &self.allow_request.is_some())
            .field("close_timeout", &self.close_timeout)
            .field(
                "http_compression_threshold",
                &self.http_compression_threshold,
            )
            .finish()
    }
}

impl EngineConfig {
    /// Normalises the path the way Node does: a leading and a trailing slash.
    pub(crate) fn normalized(mut self) -> Self {
        let trimmed = self.path.trim_matches('/');
        self.path = if trimmed.is_empty() {
            "/".into()
        } else {
            format!("/{trimmed}/")
        };
        self
    }

    pub(crate) fn allows(&self, transport: TransportKind) -> bool {
        self.transports.contains(&transport)
    }

    /// The upgrades offered to a session opened on `transport`.
    pub(crate) fn upgrades_from(&self, transport: TransportKind) -> Vec<String> {
        if transport == TransportKind::Polling
            && self.allow_upgrades
            && self.allows(TransportKind::WebSocket)
        {
            vec![TransportKind::WebSocket.as_str().to_owned()]
        } else {
            Vec::new()
        }
    }
}
