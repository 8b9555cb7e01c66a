use crate::PacketType;

/// Why some bytes are not valid Engine.IO.
///
/// Offsets are byte offsets into the input given to the decoder (for payloads: into the
/// whole body). Errors about one packet of a payload come wrapped in
/// [`DecodeError::InPayload`], which says which packet it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input (a frame or a whole body) is empty.
    #[error("empty input")]
    Empty,
    /// A packet inside a payload has no bytes at all, not even its type.
    #[error("empty packet at byte {offset}")]
    EmptyPacket {
        /// Where the packet starts.
        offset: usize,
    },
    /// The packet type is not one of `0`..`6`.
    #[error("unknown packet type {byte:#04x} at byte {offset}")]
    UnknownPacketType {
        /// The first byte of the offending type.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A `close`, `upgrade` or `noop` packet carries data.
    #[error("{packet_type:?} packet has unexpected data at byte {offset}")]
    UnexpectedData {
        /// The packet's type.
        packet_type: PacketType,
        /// Where the data starts.
        offset: usize,
    },
    /// Text is not valid UTF-8.
    #[error("invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// The first byte that is not part of valid UTF-8.
        offset: usize,
    },
    /// A length prefix is empty, has a byte other than a digit, or overflows.
    #[error("invalid length prefix at byte {offset}")]
    InvalidLength {
        /// The offending byte (or the start of the prefix).
        offset: usize,
    },
    /// A length prefix announces more than the rest of the input holds.
    #[error("length {length} at byte {offset} goes past the end of the input")]
    LengthBeyondInput {
        /// The announced length.
        length: u64,
        /// Where the length prefix starts.
        offset: usize,
    },
    /// A UTF-16 length ends between the two halves of a surrogate pair (a character
    /// outside the Basic Multilingual Plane, such as an emoji).
    #[error("length ends inside a UTF-16 surrogate pair at byte {offset}")]
    SplitSurrogatePair {
        /// Where the split character starts.
        offset: usize,
    },
    /// The input ends in the middle of a length prefix or packet header.
    #[error("input ends early at byte {offset}")]
    Truncated {
        /// The end of the input.
        offset: usize,
    },
    /// Base64 data is malformed.
    #[error("invalid base64 at byte {offset}")]
    InvalidBase64 {
        /// The first offending byte (or the end of the data for a bad length or padding).
        offset: usize,
    },
    /// The open packet's JSON is not a valid handshake.
    #[error("invalid handshake JSON at byte {offset}: {reason}")]
    InvalidHandshake {
        /// Where the JSON starts.
        offset: usize,
        /// What `serde_json` found wrong.
        reason: String,
    },
    /// Base64 binary data (`b…`) where only text is allowed, e.g. in a WebSocket text frame
    /// given to [`decode_text`](crate::decode_text).
    #[error("binary data is not allowed here (byte {offset})")]
    BinaryNotAllowed {
        /// Where the binary marker is.
        offset: usize,
    },
    /// A binary packet whose type is not `message`: only messages carry binary data.
    #[error("{packet_type:?} packet cannot carry binary data (byte {offset})")]
    BinaryNotMessage {
        /// The type found.
        packet_type: PacketType,
        /// Where the type is.
        offset: usize,
    },
    /// An XHR2 binary payload entry starts with a byte other than 0 (string) or 1 (binary).
    #[error("invalid payload entry kind {byte:#04x} at byte {offset} (expected 0 or 1)")]
    InvalidEntryKind {
        /// The byte found.
        byte: u8,
        /// Where it is.
        offset: usize,
    },
    /// A JSONP form body has a malformed percent escape.
    #[error("invalid form encoding at byte {offset}")]
    InvalidFormEncoding {
        /// Where the bad escape starts.
        offset: usize,
    },
    /// A JSONP form body has no `d` field.
    #[error("form body has no `d` field")]
    MissingJsonpData,
    /// A JSONP form body has more than one `d` field (Node ignores such a body).
    #[error("form body repeats the `d` field at byte {offset}")]
    DuplicateJsonpData {
        /// Where the second field starts.
        offset: usize,
    },
    /// An error body is not the `{"code":…,"message":…}` JSON a server sends.
    #[error("invalid error response JSON: {reason}")]
    InvalidErrorResponse {
        /// What `serde_json` found wrong.
        reason: String,
    },
    /// One packet of a payload is invalid.
    #[error("packet {index} of the payload: {error}")]
    InPayload {
        /// The packet's index in the payload, from 0.
        index: usize,
        /// What is wrong with it (offsets are into the whole payload).
        error: Box<DecodeError>,
    },
}

impl DecodeError {
    /// The byte offset the error points at, if it has one (looking inside
    /// [`DecodeError::InPayload`]).
    pub fn offset(&self) -> Option<usize> {
        match self {
            DecodeError::Empty
            | DecodeError::MissingJsonpData
            | DecodeError::InvalidErrorResponse { .. } => None,
            DecodeError::EmptyPacket { offset }
            | DecodeError::UnknownPacketType { offset, .. }
            | DecodeError::UnexpectedData { offset, .. }
            | DecodeError::InvalidUtf8 { offset }
            | DecodeError::InvalidLength { offset }
            | DecodeError::LengthBeyondInput { offset, .. }
            | DecodeError::SplitSurrogatePair { offset }
            | DecodeError::Truncated { offset }
            | DecodeError::InvalidBase64 { offset }
            | DecodeError::InvalidHandshake { offset, .. }
            | DecodeError::BinaryNotAllowed { offset }
            | DecodeError::BinaryNotMessage { offset, .. }
            | DecodeError::InvalidEntryKind { offset, .. }
            | DecodeError::InvalidFormEncoding { offset }
            | DecodeError::DuplicateJsonpData { offset } => Some(*offset),
            DecodeError::InPayload { error, .. } => error.offset(),
        }
    }

    /// The index of the offending packet when the error comes from a payload.
    pub fn packet_index(&self) -> Option<usize> {
        match self {
            DecodeError::InPayload { index, .. } => Some(*index),
            _ => None,
        }
    }

    /// The error itself, without the [`DecodeError::InPayload`] wrapper.
    pub fn kind(&self) -> &DecodeError {
        match self {
            DecodeError::InPayload { error, .. } => error.kind(),
            other => other,
        }
    }

    pub(crate) fn in_payload(self, index: usize) -> DecodeError {
        DecodeError::InPayload {
            index,
            error: Box::new(self),
        }
    }
}

/// Why a value cannot be encoded in the asked form. Nothing is written when this is
/// returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A binary message cannot be a text frame: send it with
    /// [`encode_binary_frame`](crate::encode_binary_frame) (or as base64 with
    /// [`Packet::encode_text_base64`](crate::Packet::encode_text_base64)).
    #[error("a binary message cannot be written as a text frame")]
    BinaryInTextFrame,
    /// A text packet contains the record separator `\x1e`, which would split it in two
    /// in a v4 polling payload (and let its content forge packets).
    #[error("text of packet {index} contains the record separator 0x1e")]
    RecordSeparatorInText {
        /// The packet's index in the payload, from 0.
        index: usize,
    },
    /// A JSONP index (the `j` query parameter) must be one or more ASCII digits.
    #[error("JSONP index must be one or more ASCII digits")]
    InvalidJsonpIndex,
}

/// A byte or character that is not an Engine.IO packet type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an Engine.IO packet type (expected 0 to 6)")]
pub struct InvalidPacketType;
