//! The errors of the decoders. Every decode error names the byte of the frame it was found at, so
//! a log line points into the bytes that were received.

/// A frame that is not a valid sequence of hub messages.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// A message longer than the decoder's limit (the limit is checked before any allocation).
    #[error("the message at byte {offset} is {len} bytes long, over the {max}-byte limit")]
    TooLarge {
        /// The byte of the frame the message starts at.
        offset: usize,
        /// The message's length in bytes.
        len: usize,
        /// The decoder's limit in bytes.
        max: usize,
    },
    /// The frame ends inside a message: no record separator after the last JSON record, or fewer
    /// bytes than the MessagePack length prefix announced.
    #[error("the frame ends inside the message that starts at byte {offset}")]
    Incomplete {
        /// The byte of the frame the message starts at.
        offset: usize,
    },
    /// Two record separators with nothing between them.
    #[error("empty JSON record at byte {offset}")]
    EmptyRecord {
        /// The byte of the frame the empty record is at.
        offset: usize,
    },
    /// A JSON record that is not JSON, or not an object of the expected shape.
    #[error("invalid JSON at byte {offset}: {source}")]
    Json {
        /// The byte of the frame the message starts at.
        offset: usize,
        /// What the JSON parser refused.
        #[source]
        source: serde_json::Error,
    },
    /// A MessagePack message that is not MessagePack.
    #[error("invalid MessagePack in the message at byte {offset}: {source}")]
    MessagePack {
        /// The byte of the frame the message starts at.
        offset: usize,
        /// What the MessagePack parser refused.
        #[source]
        source: rmpv::decode::Error,
    },
    /// A MessagePack length prefix of more than 5 bytes, or announcing more than 2 GB.
    #[error("invalid length prefix at byte {offset}")]
    LengthPrefix {
        /// The byte of the frame the length prefix starts at.
        offset: usize,
    },
    /// A required field is absent.
    #[error("the message at byte {offset} has no {field}")]
    MissingField {
        /// The byte of the frame the message starts at.
        offset: usize,
        /// The field's name on the wire.
        field: &'static str,
    },
    /// A field is present but of the wrong kind or value.
    #[error("the message at byte {offset}: {field} {problem}")]
    InvalidField {
        /// The byte of the frame the message starts at.
        offset: usize,
        /// The field's name on the wire.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
}

impl DecodeError {
    /// The byte of the frame the error was found at.
    pub fn offset(&self) -> usize {
        match self {
            Self::TooLarge { offset, .. }
            | Self::Incomplete { offset }
            | Self::EmptyRecord { offset }
            | Self::Json { offset, .. }
            | Self::MessagePack { offset, .. }
            | Self::LengthPrefix { offset }
            | Self::MissingField { offset, .. }
            | Self::InvalidField { offset, .. } => *offset,
        }
    }
}

/// A message that cannot be written in the chosen hub protocol.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// An argument that has no JSON form (a MessagePack map with binary keys, a NaN, ...).
    #[error("an argument has no JSON form: {0}")]
    Json(#[source] serde_json::Error),
    /// An argument that has no MessagePack form.
    #[error("an argument has no MessagePack form: {0}")]
    MessagePack(#[source] rmpv::ext::Error),
    /// The message is longer than the MessagePack length prefix can say (2 GB).
    #[error("the message is {0} bytes long, over the 2 GB a length prefix can announce")]
    TooLarge(usize),
    /// [`crate::HubMessage::Unknown`] is only ever decoded.
    #[error("a message of unknown type {0} cannot be encoded")]
    UnknownType(u64),
}

/// An application value that cannot be converted to or from an argument.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// The value does not convert to or from a JSON argument.
    #[error("JSON argument: {0}")]
    Json(#[from] serde_json::Error),
    /// The value does not convert to or from a MessagePack argument.
    #[error("MessagePack argument: {0}")]
    MessagePack(#[from] rmpv::ext::Error),
}
