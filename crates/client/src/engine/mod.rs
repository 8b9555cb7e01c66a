//! The Engine.IO client: one connection to one server, over long-polling and/or WebSocket,
//! Engine.IO protocol v4 or v3.
//!
//! [`open`] performs the handshake and spawns one task that owns the connection: it runs the
//! polling requests or the WebSocket, the upgrade from polling to WebSocket
//! (`2probe`/`3probe`/`5`) and the heartbeat (answering the server's pings in v4, sending
//! pings in v3). The caller talks to the task through an [`EngineSender`] and receives
//! [`EngineEvent`]s.
//!
//! Every packet is encoded and decoded by `sio-engineio-proto`.

mod conn;
mod http;
mod net;
mod ws;

use std::time::Duration;

pub(crate) use self::http::HttpClient;
pub use conn::open;
pub use net::Proxy;
pub(crate) use net::{Target, default_tls};
pub(crate) use ws::{Ws, connect_ws};

use ::http::HeaderMap;
use bytes::Bytes;
use sio_engineio_proto::Revision;
use tokio::sync::{mpsc, oneshot};

use crate::TransportKind;

/// What a connection needs to know.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Use TLS (`https`/`wss`).
    pub secure: bool,
    /// TLS settings; `None` uses the webpki root certificates.
    pub tls_config: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// An HTTP proxy to tunnel through with `CONNECT`.
    pub proxy: Option<Proxy>,
    /// Request path, `/socket.io/` by default.
    pub path: String,
    /// Extra query parameters sent with every request.
    pub query: Vec<(String, String)>,
    /// Extra HTTP headers sent with every request (and the WebSocket handshake).
    pub headers: HeaderMap,
    /// Transports in the order they are tried; the first one opens the connection, a later
    /// WebSocket is reached by upgrading.
    pub transports: Vec<TransportKind>,
    /// `Some` forces the Engine.IO revision; `None` asks for v4 and falls back to v3 when the
    /// server is an Engine.IO 3 server.
    pub revision: Option<Revision>,
    /// v3 only: ask the server for base64 instead of binary (`b64=1`).
    pub force_base64: bool,
    /// Add a `t=<unique>` cache-busting parameter to polling requests.
    pub timestamp_requests: bool,
    /// The name of that parameter.
    pub timestamp_param: String,
    /// Upgrade from polling to WebSocket when the server offers it.
    pub upgrade: bool,
    /// How long the handshake may take.
    pub connect_timeout: Duration,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 80,
            secure: false,
            tls_config: None,
            proxy: None,
            path: "/socket.io/".into(),
            query: Vec::new(),
            headers: HeaderMap::new(),
            transports: vec![TransportKind::Polling, TransportKind::WebSocket],
            revision: None,
            force_base64: false,
            timestamp_requests: true,
            timestamp_param: "t".into(),
            upgrade: true,
            connect_timeout: Duration::from_secs(20),
        }
    }
}

/// Why a connection could not be opened or went down.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// A socket error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// An HTTP request failed (hyper: the connection, the request or the answer).
    #[error("http error: {0}")]
    Http(#[from] hyper::Error),
    /// An HTTP request could not be built from the options (path, headers).
    #[error("invalid http request: {0}")]
    Request(#[from] ::http::Error),
    /// An answer's body could not be read, or was larger than accepted.
    #[error("http body: {0}")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server closed the HTTP connection before answering.
    #[error("http connection closed before the answer")]
    HttpClosed,
    /// The server answered with an unexpected status.
    #[error("server answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The server refused this Engine.IO revision (`{"code":5}`).
    #[error("the server does not support Engine.IO {0}")]
    UnsupportedRevision(Revision),
    /// The TLS settings could not be built.
    #[error("tls error: {0}")]
    Tls(#[from] rustls::Error),
    /// The host is not a name or address a TLS certificate can be checked against.
    #[error("tls error: invalid server name {name:?}")]
    TlsServerName {
        /// The host.
        name: String,
        /// Why it is refused.
        #[source]
        source: rustls::pki_types::InvalidDnsNameError,
    },
    /// The TLS handshake failed (the [`rustls::Error`] is the source of the I/O error when the
    /// server's certificate or protocol was refused).
    #[error("tls handshake failed: {0}")]
    TlsHandshake(#[source] std::io::Error),
    /// The proxy refused the tunnel.
    #[error("proxy error: {0}")]
    Proxy(String),
    /// The WebSocket failed (its handshake included: a refused upgrade is an HTTP status).
    #[error("websocket error: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The WebSocket closed during the Engine.IO handshake.
    #[error("websocket closed during the handshake")]
    WebSocketClosed,
    /// The server sent something that is not Engine.IO.
    #[error("malformed Engine.IO data: {0}")]
    Protocol(#[from] ProtocolError),
    /// The handshake took longer than the connect timeout.
    #[error("connection timed out")]
    Timeout,
    /// No transport in the configuration.
    #[error("no usable transport")]
    NoTransport,
}

/// What was wrong with what the server sent (or with what was to be sent).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The handshake answer is not Engine.IO, or does not start with an open packet (the
    /// decode error is its source).
    #[error(transparent)]
    Handshake(#[from] sio_engineio_session::handshake::HandshakeError),
    /// The first WebSocket message is not a text message.
    #[error("expected an open packet, got {got}")]
    ExpectedOpen {
        /// What came.
        got: String,
    },
}

/// One message, as it travels inside an Engine.IO message packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

/// Why a connection closed: the session crate's reason, shared with the server.
pub use sio_engineio_session::CloseReason;

/// How a connection ended: why, and what the transport said, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    /// Why.
    pub reason: CloseReason,
    /// The error behind a transport or parse error, as text.
    pub detail: Option<String>,
}

impl Closure {
    /// A closure with nothing more to say.
    pub fn new(reason: CloseReason) -> Self {
        Closure {
            reason,
            detail: None,
        }
    }

    /// A closure with the error behind it.
    pub fn with(reason: CloseReason, detail: impl Into<String>) -> Self {
        Closure {
            reason,
            detail: Some(detail.into()),
        }
    }
}

/// What the connection task reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineEvent {
    /// A message from the server.
    Message(Frame),
    /// The connection now runs over WebSocket.
    Upgraded,
    /// The connection is closed; nothing follows.
    Closed(Closure),
}

/// What was agreed in the handshake (the session machine keeps the same).
pub use sio_engineio_session::client::OpenInfo;

#[derive(Debug)]
pub(crate) enum Command {
    Send {
        frame: Frame,
        volatile: bool,
    },
    /// Close after writing what was queued before; `done` is answered (or dropped) once the
    /// close packet is written or the connection is gone.
    Close(Option<oneshot::Sender<()>>),
}

/// Sends to a connection; cheap to clone. Dropping every clone closes the connection.
#[derive(Debug, Clone)]
pub struct EngineSender {
    tx: mpsc::UnboundedSender<Command>,
}

impl EngineSender {
    pub(crate) fn new(tx: mpsc::UnboundedSender<Command>) -> Self {
        Self { tx }
    }

    /// Queues a message. Returns `false` when the connection is gone.
    pub fn send(&self, frame: Frame) -> bool {
        self.tx
            .send(Command::Send {
                frame,
                volatile: false,
            })
            .is_ok()
    }

    /// Queues a message that is dropped unless the transport can write it at once.
    pub fn send_volatile(&self, frame: Frame) -> bool {
        self.tx
            .send(Command::Send {
                frame,
                volatile: true,
            })
            .is_ok()
    }

    /// Closes the connection: messages queued before are written, then the close packet.
    pub fn close(&self) {
        let _ = self.tx.send(Command::Close(None));
    }

    /// Like [`close`](Self::close); `done` fires once the close packet is written (or could not
    /// be), or at once when the connection is already gone.
    pub(crate) fn close_then(&self, done: oneshot::Sender<()>) {
        let _ = self.tx.send(Command::Close(Some(done)));
    }

    /// Whether the connection task is still running.
    pub fn is_open(&self) -> bool {
        !self.tx.is_closed()
    }
}

/// An open connection.
#[derive(Debug)]
pub struct Engine {
    /// The handshake.
    pub info: OpenInfo,
    /// To send and close.
    pub sender: EngineSender,
    /// What the server sends, then [`EngineEvent::Closed`].
    pub events: mpsc::UnboundedReceiver<EngineEvent>,
}

impl EngineConfig {
    pub(crate) fn target(&self) -> Result<Target, EngineError> {
        let tls = match (&self.tls_config, self.secure) {
            (_, false) => None,
            (Some(config), true) => Some(config.clone()),
            (None, true) => Some(default_tls()?),
        };
        Ok(Target {
            host: self.host.clone(),
            port: self.port,
            tls,
            proxy: self.proxy.clone(),
        })
    }
}

/// Builds `path?query` for a request.
pub(crate) fn request_path(
    path: &str,
    params: &[(&str, &str)],
    extra: &[(String, String)],
) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    for (k, v) in params {
        query.append_pair(k, v);
    }
    format!("{path}?{}", query.finish())
}

/// A cache-busting value: unique per process and request.
pub(crate) fn timestamp() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{millis:x}.{:x}", COUNTER.fetch_add(1, Ordering::Relaxed))
}
