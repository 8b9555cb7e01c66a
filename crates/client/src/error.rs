//! Errors.

use std::sync::Arc;

use sio_socketio_proto::{ArgsError, Value};

use crate::engine::EngineError;

/// What can go wrong with a client.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL could not be used.
    #[error("invalid url: {0}")]
    InvalidUrl(String),
    /// An option could not be used.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The connection failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Socket.IO 0.9 handshake failure.
    #[error("socket.io 0.9: {0}")]
    Legacy(#[from] LegacyError),
    /// The connection could not be opened: nothing listens there, the endpoint does not
    /// speak Engine.IO or Socket.IO 0.9 (wrong path or protocol), TLS or the proxy failed.
    /// The source is the first attempt's error ([`Error::Engine`] or [`Error::Legacy`]),
    /// shared by every socket that waited for the connection.
    #[error("cannot connect: {0}")]
    ConnectFailed(#[source] Arc<Error>),
    /// The server refused the namespace (CONNECT_ERROR): its message and data.
    #[error("connection refused by the server: {message}")]
    ConnectRefused {
        /// The `message` of the error.
        message: String,
        /// The whole payload the server sent.
        data: Value,
    },
    /// Arguments could not be converted.
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// The event name is reserved (`connect`, `disconnect`, …).
    #[error("{0:?} is a reserved event name")]
    ReservedEvent(String),
    /// The client is closed.
    #[error("the client is closed")]
    Closed,
    /// No connection within the connect timeout.
    #[error("connection timed out")]
    Timeout,
}

/// Why a Socket.IO 0.9 handshake failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LegacyError {
    /// The handshake request was not answered with 200.
    #[error("handshake answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The answer is not a 0.9 handshake.
    #[error("bad handshake {body:?}: {source}")]
    Handshake {
        /// The start of the body.
        body: String,
        /// Why it was refused.
        #[source]
        source: sio_legacy_proto::DecodeError,
    },
    /// The server offers none of the transports the options allow.
    #[error("no common transport (server offers {offered:?})")]
    NoCommonTransport {
        /// The server's transports.
        offered: Vec<String>,
    },
}

/// Why an acknowledgement did not come.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// No answer within the timeout (after every retry).
    #[error("acknowledgement timed out")]
    Timeout,
    /// The client was closed before the answer came.
    #[error("the client is closed")]
    Closed,
    /// The answer's arguments do not match the expected type.
    #[error(transparent)]
    Args(#[from] ArgsError),
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] Error),
}
