//! Errors of the server API.

use sio_socketio_proto::{ArgsError, EncodeError, Value};

/// Why an emit could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The arguments could not be turned into Socket.IO values.
    #[error("arguments could not be serialized: {0}")]
    Args(#[from] ArgsError),
    /// The packet could not be encoded (a reserved event name, for instance).
    #[error("packet could not be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// The socket is no longer connected.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The cluster adapter failed.
    #[error(transparent)]
    Adapter(#[from] AdapterError),
}

/// Why an acknowledgement did not arrive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AckError {
    /// The emit itself failed.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// No answer in time.
    #[error("operation has timed out")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
}

/// Refusal of a namespace connection by a middleware, sent to the client as CONNECT_ERROR
/// `{"message": …, "data": …}` (or the message alone to Socket.IO 2.x clients).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    /// Shown to the client as `err.message`.
    pub message: String,
    /// Sent as `err.data` when present.
    pub data: Option<Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds `data` for the client: any serde value (a `Value` too). A value that cannot be
    /// serialized is sent as `null`.
    pub fn with_data<T: serde::Serialize>(mut self, data: T) -> Self {
        self.data = Some(sio_socketio_proto::to_value(&data).unwrap_or(Value::Nil));
        self
    }
}

/// Why a cluster-wide operation failed.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// Some nodes did not answer in time.
    #[error("timeout reached: only {received} responses received out of {expected}")]
    Timeout {
        /// Responses received.
        received: usize,
        /// Responses expected.
        expected: usize,
    },
    /// The adapter's transport failed (e.g. Redis is unreachable).
    #[error("adapter error: {0}")]
    Transport(String),
}
