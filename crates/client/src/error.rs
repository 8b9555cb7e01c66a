//! Errors.

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
    /// Socket.IO 0.9 handshake or transport failure.
    #[error("socket.io 0.9: {0}")]
    Legacy(String),
    /// The connection could not be opened: nothing listens there, the endpoint does not
    /// speak Engine.IO or Socket.IO 0.9 (wrong path or protocol), TLS or the proxy failed.
    #[error("cannot connect: {0}")]
    ConnectFailed(String),
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
