//! Why a message from another node could not be read.

/// A message from another node that could not be read; it is dropped, nothing else is affected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Not msgpack, trailing bytes, or nested deeper than a peer may nest.
    #[error("malformed msgpack: {0}")]
    Msgpack(String),
    /// Not JSON.
    #[error("malformed JSON: {0}")]
    Json(String),
}
