//! Connection options.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;

/// An Engine.IO transport (HTTP long-polling — `xhr-polling` for Socket.IO 0.9 — or WebSocket):
/// the session crate's type, shared by the server and the client.
pub use sio_engineio_session::TransportKind;

/// Which Socket.IO protocol revision to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Protocol {
    /// Ask for the newest and fall back: Engine.IO 4 / Socket.IO v5, then Engine.IO 3 /
    /// Socket.IO v4 (servers 1.x and 2.x), then Socket.IO 0.9.
    #[default]
    Auto,
    /// Socket.IO protocol v5 over Engine.IO 4: servers 3.x and 4.x.
    V5,
    /// Socket.IO protocol v4 over Engine.IO 3: servers 1.x and 2.x.
    V4,
    /// Socket.IO 0.9 (`/socket.io/1/`), no Engine.IO.
    Legacy09,
}

/// How Socket.IO packets are serialized (Socket.IO v5 only): the default parser or npm
/// `socket.io-msgpack-parser`. The same type as the server's.
pub use sio_socketio_proto::Parser;

/// Reconnection settings, with the JavaScript client's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconnection {
    /// Reconnect at all (`reconnection`, default `true`).
    pub enabled: bool,
    /// Give up after this many attempts (`reconnectionAttempts`, default `None`: never).
    pub attempts: Option<u32>,
    /// First delay (`reconnectionDelay`, default 1000 ms).
    pub delay: Duration,
    /// Largest delay (`reconnectionDelayMax`, default 5000 ms).
    pub delay_max: Duration,
    /// Jitter, 0 to 1 (`randomizationFactor`, default 0.5).
    pub randomization_factor: f64,
}

impl Default for Reconnection {
    fn default() -> Self {
        Self {
            enabled: true,
            attempts: None,
            delay: Duration::from_millis(1000),
            delay_max: Duration::from_millis(5000),
            randomization_factor: 0.5,
        }
    }
}

/// The CONNECT payload: a value, or a callback called again for every (re)connection.
#[derive(Clone, Default)]
pub enum Auth {
    /// No payload.
    #[default]
    None,
    /// A fixed payload.
    Value(serde_json::Value),
    /// A payload computed for each connection attempt (e.g. a fresh token).
    Callback(Arc<dyn Fn() -> serde_json::Value + Send + Sync>),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Value(v) => f.debug_tuple("Value").field(v).finish(),
            Auth::Callback(_) => f.write_str("Callback(..)"),
        }
    }
}

impl Auth {
    pub(crate) fn evaluate(&self) -> Option<serde_json::Value> {
        match self {
            Auth::None => None,
            Auth::Value(v) => Some(v.clone()),
            Auth::Callback(f) => Some(f()),
        }
    }
}

/// Options of one connection to a server (a manager).
#[derive(Debug, Clone)]
pub(crate) struct ManagerOptions {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) secure: bool,
    pub(crate) tls_config: Option<Arc<rustls::ClientConfig>>,
    pub(crate) proxy: Option<crate::engine::Proxy>,
    pub(crate) path: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) transports: Vec<TransportKind>,
    pub(crate) upgrade: bool,
    pub(crate) remember_upgrade: bool,
    pub(crate) timestamp_requests: bool,
    pub(crate) timestamp_param: String,
    pub(crate) force_base64: bool,
    pub(crate) protocol: Protocol,
    pub(crate) parser: Parser,
    pub(crate) reconnection: Reconnection,
    pub(crate) timeout: Duration,
}
