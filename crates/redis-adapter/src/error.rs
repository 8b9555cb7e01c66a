//! Errors of the Redis adapters and emitter.

/// Why an adapter or emitter could not be set up, or an operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Redis refused or dropped the connection, or answered with an error.
    #[error(
        "redis: {0} (is redis-server running at the URL given, and does it accept this client?)"
    )]
    Redis(#[from] redis::RedisError),
    /// The arguments could not be turned into Socket.IO values.
    #[error("arguments could not be serialized: {0}")]
    Args(#[from] sio_server::proto::ArgsError),
    /// A message could not be encoded as msgpack (a value notepack cannot stand for: longer than
    /// 2^32-1, invalid UTF-8, nested too deep, a map key with no JavaScript property name).
    #[error("message could not be encoded: {0}")]
    Encode(#[from] sio_server::proto::EncodeError),
    /// `connect`, `disconnect`, … are reserved and cannot be emitted.
    #[error("\"{0}\" is a reserved event name")]
    ReservedEvent(String),
    /// The subscriber connection did not come up in time.
    #[error("redis subscriber connection not ready within {0:?}")]
    SubscriberTimeout(std::time::Duration),
}
