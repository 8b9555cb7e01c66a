//! Error types. Every decoder returns one of these instead of panicking; offsets are byte offsets into
//! the text or msgpack frame being decoded.

use crate::packet::PacketType;

/// Why a packet could not be decoded (text or msgpack parser).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The text frame is empty.
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type digit 0-6.
    #[error("unknown packet type {found:?} at byte 0")]
    UnknownPacketType {
        /// The character found.
        found: char,
    },
    /// A BINARY_* header whose attachment count is not `<digits>-`.
    #[error("illegal attachment count at byte {offset}")]
    InvalidAttachmentCount {
        /// Where the count should be.
        offset: usize,
    },
    /// A BINARY_* header announcing more attachments than the decoder accepts.
    #[error("too many attachments at byte {offset} (at most {max} accepted)")]
    TooManyAttachments {
        /// Where the count starts.
        offset: usize,
        /// The configured limit.
        max: usize,
    },
    /// The acknowledgement id does not fit in a `u64`.
    #[error("acknowledgement id overflows u64 at byte {offset}")]
    AckIdOverflow {
        /// Where the id starts.
        offset: usize,
    },
    /// The payload is not valid JSON (or nests deeper than 128 levels).
    #[error("invalid JSON payload at byte {offset}: {message}")]
    InvalidJson {
        /// Byte offset of the error in the packet.
        offset: usize,
        /// serde_json's description.
        message: String,
    },
    /// A packet type that must carry a payload has none.
    #[error("{packet_type} packet without payload")]
    MissingPayload {
        /// The packet type.
        packet_type: PacketType,
    },
    /// A packet type that carries no payload has one.
    #[error("{packet_type} packet must not carry a payload (found at byte {offset})")]
    UnexpectedPayload {
        /// The packet type.
        packet_type: PacketType,
        /// Where the payload starts (0 for msgpack).
        offset: usize,
    },
    /// The payload has the wrong shape for the packet type.
    #[error("invalid {packet_type} payload: expected {expected}")]
    InvalidPayload {
        /// The packet type.
        packet_type: PacketType,
        /// What the payload must be.
        expected: &'static str,
    },
    /// An EVENT whose name is reserved (see [`crate::RESERVED_EVENTS`]).
    #[error("reserved event name {name:?}")]
    ReservedEvent {
        /// The name.
        name: String,
    },
    /// An acknowledgement id on a packet type that has none (CONNECT, DISCONNECT, CONNECT_ERROR).
    #[error("{packet_type} packet must not carry an acknowledgement id (found at byte {offset})")]
    UnexpectedAckId {
        /// The packet type.
        packet_type: PacketType,
        /// Where the id starts.
        offset: usize,
    },
    /// An ACK without acknowledgement id.
    #[error("{packet_type} packet without acknowledgement id")]
    MissingAckId {
        /// The packet type.
        packet_type: PacketType,
    },
    /// A namespace that does not start with `/` (msgpack only: the text format cannot express one).
    #[error("invalid namespace {nsp:?}: must start with '/'")]
    InvalidNamespace {
        /// The namespace received.
        nsp: String,
    },
    /// A text packet arrived while binary attachments of the previous packet were still expected.
    #[error("text packet received while {pending} binary attachment(s) are pending")]
    UnexpectedText {
        /// Attachments still expected.
        pending: usize,
    },
    /// A binary frame arrived while no BINARY_* packet was waiting for attachments.
    #[error("binary frame received while no attachment is pending")]
    UnexpectedBinary,
    /// A text frame reached the msgpack parser, which sends every packet as one binary frame.
    #[error("text frame received by the msgpack parser")]
    TextWithMsgpack,
    /// An object with `"_placeholder":true` whose `num` is not a non-negative integer.
    #[error("invalid binary placeholder: `num` is not a non-negative integer")]
    InvalidPlaceholder,
    /// A placeholder referring to an attachment that was not announced.
    #[error("placeholder refers to attachment {num} but the packet has {attachments}")]
    PlaceholderOutOfRange {
        /// The `num` of the placeholder.
        num: u64,
        /// Attachments announced by the header.
        attachments: usize,
    },
    /// An announced attachment that no placeholder refers to.
    #[error("attachment {index} is not referred to by any placeholder")]
    UnusedAttachment {
        /// Index of the attachment.
        index: usize,
    },
    /// The msgpack frame ends in the middle of a value.
    #[error("truncated msgpack at byte {offset}")]
    MsgpackTruncated {
        /// Where more bytes were needed.
        offset: usize,
    },
    /// A byte that is not a valid msgpack marker (0xc1).
    #[error("invalid msgpack marker 0x{marker:02x} at byte {offset}")]
    MsgpackInvalidMarker {
        /// Where.
        offset: usize,
        /// The marker byte.
        marker: u8,
    },
    /// Msgpack arrays/maps nested deeper than the limit.
    #[error("msgpack nesting deeper than {max} at byte {offset}")]
    DepthLimit {
        /// Where the limit was crossed.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// A msgpack string that is not valid UTF-8.
    #[error("msgpack string at byte {offset} is not valid UTF-8")]
    InvalidUtf8 {
        /// Where the string starts.
        offset: usize,
    },
    /// Bytes left after the msgpack packet map.
    #[error("{count} trailing byte(s) after the msgpack packet at byte {offset}")]
    TrailingBytes {
        /// Where the packet ended.
        offset: usize,
        /// How many bytes follow.
        count: usize,
    },
    /// The msgpack frame is not a map.
    #[error("msgpack packet is not a map")]
    NotAMap,
    /// A msgpack packet map without a required key.
    #[error("msgpack packet without {field:?}")]
    MissingField {
        /// The key.
        field: &'static str,
    },
    /// A msgpack packet map key with a value of the wrong kind.
    #[error("msgpack packet field {field:?} must be {expected}")]
    InvalidField {
        /// The key.
        field: &'static str,
        /// What it must be.
        expected: &'static str,
    },
}

/// Why a packet could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The event name is reserved (see [`crate::RESERVED_EVENTS`]); Node throws in the same case.
    #[error("{name:?} is a reserved event name")]
    ReservedEvent {
        /// The name.
        name: String,
    },
    /// The namespace does not start with `/`, or (text parser) contains a `,`.
    #[error("invalid namespace {nsp:?}: {reason}")]
    InvalidNamespace {
        /// The namespace.
        nsp: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A CONNECT query string with protocol v5 (or the msgpack parser), which has no place for one.
    #[error("CONNECT query strings exist only in protocol v4")]
    QueryNotSupported,
    /// The payload has the wrong shape for the packet type (e.g. CONNECT data that is not a map).
    #[error("invalid {packet_type} payload: expected {expected}")]
    InvalidPayload {
        /// The packet type.
        packet_type: PacketType,
        /// What the payload must be.
        expected: &'static str,
    },
    /// A binary value where the text parser cannot carry one (CONNECT and CONNECT_ERROR payloads).
    #[error("binary values are only allowed in EVENT and ACK arguments, not in {packet_type}")]
    BinaryNotAllowed {
        /// The packet type.
        packet_type: PacketType,
    },
    /// A map key the text parser cannot turn into a JSON object key (array, map, binary, extension).
    #[error("map key of kind {kind} cannot become a JSON object key")]
    InvalidMapKey {
        /// The kind of key.
        kind: &'static str,
    },
    /// A value the chosen parser cannot carry (msgpack extension in JSON, reserved extension type 0).
    #[error("unsupported value: {kind}")]
    UnsupportedValue {
        /// What it is.
        kind: &'static str,
    },
    /// A [`Value::String`](crate::Value::String) holding invalid UTF-8.
    #[error("string value is not valid UTF-8")]
    InvalidUtf8String,
    /// Values nested deeper than the encoder accepts.
    #[error("values nested deeper than {max}")]
    DepthLimit {
        /// The limit.
        max: usize,
    },
}
