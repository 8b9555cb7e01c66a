//! Socket.IO 0.9 wire formats (protocol revision 1, no Engine.IO underneath). Pure: it
//! only turns strings into values and back; no I/O.
//!
//! - [`Message`]: `[type]:[id ('+')]:[endpoint](:[data])`, with [`decode`] and
//!   [`Message::encode`].
//! - Polling payloads, `\u{fffd}<length>\u{fffd}<message>…` with the length in UTF-16 code
//!   units: [`decode_payload`] (lazy), [`frames`], [`encode_payload`].
//! - The handshake answer `<sid>:<heartbeat>:<close>:<transports>`: [`Handshake`].
//! - Request paths `/socket.io/1/…`: [`Paths`]; JSONP scripts and forms: [`jsonp`].
//!
//! Behaviour follows the 0.9 reference parsers (npm `socket.io@0.9.19` and
//! `socket.io-client@0.9.16`), except that where they silently produce an empty or partial
//! packet from bad input, this crate returns a [`DecodeError`] saying what is wrong and at
//! which byte (details [below](#where-this-differs-from-the-reference-parser)).
//!
//! ```
//! use sio_legacy_proto::{decode_payload, encode_payload, Message, MessageId};
//!
//! let msgs = vec![
//!     Message::Event {
//!         id: Some(MessageId::user(1)),
//!         endpoint: "/chat".into(),
//!         name: "join".into(),
//!         args: vec![serde_json::json!({"room": 1})],
//!     },
//!     Message::Heartbeat,
//! ];
//! let mut body = String::new();
//! encode_payload(&msgs, &mut body);
//! assert_eq!(
//!     body,
//!     "\u{fffd}46\u{fffd}5:1+:/chat:{\"name\":\"join\",\"args\":[{\"room\":1}]}\u{fffd}3\u{fffd}2::"
//! );
//!
//! let decoded = decode_payload(&body).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(decoded, msgs);
//! # Ok::<(), sio_legacy_proto::DecodeError>(())
//! ```
//!
//! # Where this differs from the reference parser
//!
//! - Input the JavaScript parser turns into an empty or partial packet is an error: an
//!   unknown type, bad JSON (it yields `false` or no arguments), an ack without an id.
//! - A message needs at least `type:id:`. The specification's bare `0` is rejected, as the
//!   reference parser's regular expression does.
//! - Fields a type cannot hold are errors instead of being ignored: a message id on
//!   anything but message, json and event; an endpoint on heartbeat and noop; data on
//!   disconnect, heartbeat and noop.
//! - The endpoint ends at the first `:`, so the specification's `1::/chat?my=param` keeps
//!   its query inside the endpoint (as the reference parser reads it); the
//!   [`Message::Connect`] query is the data field, `1::/chat:?my=param`.
//! - Unknown error reasons and advice are kept verbatim (the reference decoder turns them
//!   into `""`; its encoder writes `"undefined"`).
//! - JSON strings with lone surrogates (`"\ud800"`) cannot be held in a Rust string and are
//!   rejected; numbers out of `f64` range (`1e999`) too.
//! - JSONP scripts escape U+2028 and U+2029, which `JSON.stringify` leaves raw.
//!
//! Limits: every length is checked against the input before it is used, so nothing is
//! allocated beyond the input's size; JSON nesting is limited to serde_json's default depth
//! of 128.

mod error;
mod handshake;
mod json;
pub mod jsonp;
mod message;
mod paths;
mod payload;

pub use error::{DecodeError, EncodeError};
pub use handshake::Handshake;
pub use jsonp::{
    Jsonp, JsonpBody, decode_jsonp, decode_jsonp_form, encode_jsonp, encode_jsonp_error,
    encode_jsonp_form,
};
pub use message::{
    ERROR_ADVICE, ERROR_REASONS, Message, MessageId, MessageType, RESERVED_EVENTS, decode,
};
pub use paths::{DEFAULT_RESOURCE, LegacyTransport, PROTOCOL_VERSION, Paths, Route};
pub use payload::{
    FRAME_MARKER, Frames, Payload, decode_payload, encode_payload, encode_payload_raw, frames,
    push_frame, utf16_len,
};
