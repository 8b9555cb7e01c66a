//! The client's errors.

use sio_signalr_proto::negotiate::HttpTransportType;

/// Boxed error of an access token factory.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why an operation of a [`crate::HubConnection`] failed.
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The URL is not an `http(s)://` or `ws(s)://` URL with a host.
    #[error("invalid hub URL {url}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An HTTP request could not be made or its answer not read.
    #[error("HTTP request to {url} failed: {reason}")]
    Http {
        /// The URL of the request.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// An HTTP request was answered with an unexpected status.
    #[error("{url} answered HTTP {status}")]
    Status {
        /// The URL of the request.
        url: String,
        /// The HTTP status code of the answer.
        status: u16,
    },
    /// The negotiate answer is not one.
    #[error("negotiate: {0}")]
    Negotiate(#[from] sio_signalr_proto::negotiate::NegotiateError),
    /// The server refused the connection in its negotiate answer.
    #[error("the server refused the connection: {0}")]
    Refused(String),
    /// A classic ASP.NET SignalR server answered where an ASP.NET Core one was expected.
    #[error("{0} is a classic ASP.NET SignalR server, not ASP.NET Core SignalR")]
    ClassicServer(String),
    /// More than 100 negotiate redirects.
    #[error("more than 100 negotiate redirects")]
    TooManyRedirects,
    /// No transport both sides support could be started.
    #[error("no transport could be started: {}", format_failures(.0))]
    NoTransport(Vec<(HttpTransportType, String)>),
    /// A WebSocket could not be opened or failed.
    #[error("WebSocket: {0}")]
    WebSocket(String),
    /// The handshake failed.
    #[error("handshake: {0}")]
    Handshake(String),
    /// The server sent bytes that are not hub messages of the agreed protocol.
    #[error("protocol error: {0}")]
    Protocol(#[from] sio_signalr_proto::DecodeError),
    /// A message could not be encoded.
    #[error("encode: {0}")]
    Encode(#[from] sio_signalr_proto::EncodeError),
    /// An argument or result could not be converted.
    #[error("argument: {0}")]
    Value(#[from] sio_signalr_proto::ValueError),
    /// The access token factory failed.
    #[error("access token factory: {0}")]
    AccessToken(#[source] BoxError),
    /// The hub method failed: the Completion's error.
    #[error("hub error: {0}")]
    Hub(String),
    /// The server closed the connection, with its error if it gave one.
    #[error("the server closed the connection{}", .0.as_ref().map(|e| format!(": {e}")).unwrap_or_default())]
    ServerClosed(Option<String>),
    /// No message from the server within the server timeout.
    #[error("server timeout: nothing received for {0:?}")]
    ServerTimeout(std::time::Duration),
    /// The transport closed under the connection.
    #[error("the transport closed: {0}")]
    TransportClosed(String),
    /// The operation needs a connected connection.
    #[error("the connection is not in the Connected state")]
    NotConnected,
    /// The connection stopped (by `stop`, or for good) before the operation completed.
    #[error("the connection stopped before the operation completed")]
    ConnectionStopped,
    /// `start` was called on a connection that is not disconnected.
    #[error("start needs a disconnected connection")]
    AlreadyStarted,
}

fn format_failures(failures: &[(HttpTransportType, String)]) -> String {
    if failures.is_empty() {
        return "none offered that the client allows".to_owned();
    }
    failures
        .iter()
        .map(|(t, e)| format!("{}: {e}", t.name()))
        .collect::<Vec<_>>()
        .join("; ")
}
