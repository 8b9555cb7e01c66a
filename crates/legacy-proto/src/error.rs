//! Error types.

use crate::message::MessageType;

/// Why a message, payload, handshake or JSONP body could not be decoded.
///
/// Offsets are byte offsets into the string handed to the decoder (for payloads: into the
/// whole payload). Errors found inside one frame of a framed payload are wrapped in
/// [`DecodeError::Frame`], which says which frame and where it starts.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message is the empty string.
    #[error("empty message")]
    Empty,

    /// The message does not start with a type digit `0`..=`8` followed by `:`.
    #[error("invalid message type at byte {offset}: expected a digit 0-8 followed by ':'")]
    InvalidType {
        /// Where the type field starts.
        offset: usize,
    },

    /// A mandatory `:` is missing: every message has at least `type:id:`.
    #[error("missing ':' after the {after} at byte {offset}")]
    MissingSeparator {
        /// The field that should have been followed by `:`.
        after: &'static str,
        /// Where the `:` was expected.
        offset: usize,
    },

    /// The message id field is neither empty nor `<digits>` / `<digits>+`.
    #[error("invalid message id at byte {offset}: expected digits optionally followed by '+'")]
    InvalidId {
        /// Where the id field starts.
        offset: usize,
    },

    /// A number (message id, ack id, timeout, frame length, JSONP index) does not fit in 64 bits.
    #[error("{what} at byte {offset} is too large")]
    NumberOverflow {
        /// Which number.
        what: &'static str,
        /// Where the number starts.
        offset: usize,
    },

    /// A message id on a message type that never carries one.
    #[error("a {kind} message carries no message id (found one at byte {offset})")]
    UnexpectedId {
        /// The message type.
        kind: MessageType,
        /// Where the id starts.
        offset: usize,
    },

    /// An endpoint on a heartbeat or noop message.
    #[error("a {kind} message carries no endpoint (found one at byte {offset})")]
    UnexpectedEndpoint {
        /// The message type.
        kind: MessageType,
        /// Where the endpoint starts.
        offset: usize,
    },

    /// Data on a disconnect, heartbeat or noop message.
    #[error("a {kind} message carries no data (found some at byte {offset})")]
    UnexpectedData {
        /// The message type.
        kind: MessageType,
        /// Where the data starts.
        offset: usize,
    },

    /// An ack message whose data does not start with the acknowledged id.
    #[error("invalid ack data at byte {offset}: expected <ack id>[+<json array>]")]
    InvalidAckId {
        /// Where the ack data starts.
        offset: usize,
    },

    /// JSON that does not parse, or does not have the shape the message type requires
    /// (event: object with a string `name` and optional array `args`; ack: array).
    #[error("invalid JSON in the {what} at byte {offset}: {source}")]
    InvalidJson {
        /// Which part of the input.
        what: &'static str,
        /// Where the error was found (as close as the JSON parser reports it).
        offset: usize,
        /// The JSON parser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A framed payload where `\u{fffd}` was expected.
    #[error("frame {index}: expected '\u{fffd}' at byte {offset}")]
    FrameMarker {
        /// Index of the frame (0-based).
        index: usize,
        /// Where the marker was expected.
        offset: usize,
    },

    /// A frame whose length is missing or is not decimal digits closed by `\u{fffd}`.
    #[error(
        "frame {index}: invalid length at byte {offset}: expected decimal digits then '\u{fffd}'"
    )]
    FrameLength {
        /// Index of the frame (0-based).
        index: usize,
        /// Where the length starts.
        offset: usize,
    },

    /// A frame declares more UTF-16 code units than the payload has left.
    #[error(
        "frame {index} at byte {offset} declares {declared} UTF-16 code units but only {available} remain"
    )]
    FrameTruncated {
        /// Index of the frame (0-based).
        index: usize,
        /// Where the frame's message starts.
        offset: usize,
        /// The declared length in UTF-16 code units.
        declared: u64,
        /// What the payload has left, in UTF-16 code units.
        available: u64,
    },

    /// A frame length that ends between the two halves of a surrogate pair.
    #[error("frame {index}: its length ends inside the character at byte {offset}")]
    FrameSplitsChar {
        /// Index of the frame (0-based).
        index: usize,
        /// Where the split character starts.
        offset: usize,
    },

    /// A well-framed message that does not decode.
    #[error("frame {index} (message at byte {offset}): {source}")]
    Frame {
        /// Index of the frame (0-based).
        index: usize,
        /// Where the frame's message starts in the payload.
        offset: usize,
        /// What is wrong with the message; its offsets are relative to the message.
        #[source]
        source: Box<DecodeError>,
    },

    /// A handshake answer without exactly four `:`-separated fields.
    #[error(
        "handshake: expected 4 ':'-separated fields (sid:heartbeat:close:transports), found {found}"
    )]
    HandshakeFields {
        /// How many fields the answer has.
        found: usize,
    },

    /// A handshake answer with an empty session id.
    #[error("handshake: empty session id")]
    HandshakeSid,

    /// A handshake timeout that is neither empty nor decimal digits.
    #[error("handshake: invalid {field} at byte {offset}: expected decimal seconds or nothing")]
    HandshakeTimeout {
        /// `"heartbeat timeout"` or `"close timeout"`.
        field: &'static str,
        /// Where the field starts.
        offset: usize,
    },

    /// An empty name in the handshake's transport list.
    #[error("handshake: empty transport name at byte {offset}")]
    HandshakeTransport {
        /// Where the empty name is.
        offset: usize,
    },

    /// A JSONP body that is not `io.j[<index>](<JSON string>);` or
    /// `io.j[<index>](new Error("<message>"));`.
    #[error("JSONP: expected {expected} at byte {offset}")]
    Jsonp {
        /// What was expected.
        expected: &'static str,
        /// Where it was expected.
        offset: usize,
    },

    /// A JSONP form body without a `d` field, or with a bad percent escape.
    #[error("JSONP form: {reason} at byte {offset}")]
    JsonpForm {
        /// What is wrong.
        reason: &'static str,
        /// Where.
        offset: usize,
    },
}

impl DecodeError {
    /// The byte offset of the problem in the string handed to the decoder (for an error
    /// inside a frame: in the whole payload). `None` when the error concerns the whole input.
    pub fn offset(&self) -> Option<usize> {
        match self {
            Self::Empty | Self::HandshakeSid => Some(0),
            Self::HandshakeFields { .. } => None,
            Self::Frame { offset, source, .. } => Some(offset + source.offset().unwrap_or(0)),
            Self::InvalidType { offset }
            | Self::MissingSeparator { offset, .. }
            | Self::InvalidId { offset }
            | Self::NumberOverflow { offset, .. }
            | Self::UnexpectedId { offset, .. }
            | Self::UnexpectedEndpoint { offset, .. }
            | Self::UnexpectedData { offset, .. }
            | Self::InvalidAckId { offset }
            | Self::InvalidJson { offset, .. }
            | Self::FrameMarker { offset, .. }
            | Self::FrameLength { offset, .. }
            | Self::FrameTruncated { offset, .. }
            | Self::FrameSplitsChar { offset, .. }
            | Self::HandshakeTimeout { offset, .. }
            | Self::HandshakeTransport { offset }
            | Self::Jsonp { offset, .. }
            | Self::JsonpForm { offset, .. } => Some(*offset),
        }
    }
}

/// Why a [`Message`](crate::Message) cannot be encoded so that it decodes back to itself.
///
/// [`Message::encode`](crate::Message::encode) never fails; [`Message::validate`](crate::Message::validate)
/// says whether its output is faithful.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The wire format ends the endpoint at the first `:`.
    #[error("endpoint {0:?} contains ':'")]
    EndpointColon(String),
    /// The wire format ends an error reason at the first `+`.
    #[error("error reason {0:?} contains '+'")]
    ReasonPlus(String),
    /// A free-form reason or advice that reads as the index of a named one (`"0"` would decode
    /// as `"transport not supported"`).
    #[error("error reason or advice {0:?} would decode as a named reason or advice")]
    AmbiguousIndex(String),
    /// `Some("")` as connect query or error advice encodes like `None`.
    #[error("empty {0} must be None")]
    EmptyOption(&'static str),
}
