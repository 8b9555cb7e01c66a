//! Engine.IO wire formats, without I/O.
//!
//! This crate turns bytes into Engine.IO [`Packet`]s and back, for every protocol
//! revision a client or server may still meet:
//!
//! | revision | used by | framing |
//! |----------|---------|---------|
//! | [`Revision::V4`] (`EIO=4`) | Socket.IO 3.x and 4.x | polling packets joined by `\x1e`, binary as `b<base64>` |
//! | [`Revision::V3`] (`EIO=3`) | Socket.IO 1.x and 2.x | length-prefixed polling payloads, XHR2 binary payloads, JSONP |
//! | revision 2 (`EIO=2`) | Engine.IO before binary support | the V3 framing without binary data |
//!
//! Revision 2 needs nothing of its own here: its payloads are V3 payloads that never
//! contain binary packets, so decode them with the V3 functions. (Its specification has
//! the server send the pings, the reverse of V3: that is the session layer's business,
//! and [`Revision::from_query`] does not map `"2"` to a revision.)
//!
//! Layout:
//!
//! - [`Packet`], [`Data`], [`PacketType`]: one packet, as in one WebSocket frame
//!   ([`decode_text`], [`decode_text_frame`], [`decode_binary`], [`Packet::encode_text`],
//!   [`encode_binary_frame`]).
//! - [`Handshake`]: the JSON of the open packet; [`ErrorCode`] and [`ErrorResponse`]: the
//!   JSON error answers of a server.
//! - [`payload`]: HTTP long-polling bodies. Decoders are lazy iterators, so the caller can
//!   stop after as many packets as it allows; encoders append to the caller's buffer.
//! - [`DecodeError`] and [`EncodeError`]: what went wrong and where (byte offset, packet index).
//!
//! Decoders borrow from their input where the wire form allows it (text data is never
//! copied; base64 data must be). Nothing here panics on any input, and no allocation is
//! larger than the input it comes from.
//!
//! # Example
//!
//! ```
//! use sio_engineio_proto::{decode_text, payload, Data, Packet};
//!
//! // A WebSocket text frame.
//! assert_eq!(decode_text("2probe")?, Packet::Ping("probe".into()));
//!
//! // A v4 polling body, decoded lazily: the caller decides how many packets to accept.
//! let body = b"4hello\x1ebAQIDBA==";
//! let packets = payload::decode_v4(body).take(16).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(packets[0], Packet::Message(Data::Text("hello".into())));
//! assert_eq!(packets[1], Packet::Message(Data::Binary(vec![1, 2, 3, 4].into())));
//!
//! // Encoding appends to a buffer the caller owns (and may share between sessions).
//! let mut out = String::new();
//! payload::encode_v4(&packets, &mut out)?;
//! assert_eq!(out, "4hello\x1ebAQIDBA==");
//!
//! // The same packets for an Engine.IO v3 client that cannot take binary (`b64=1`).
//! let body = payload::encode_v3(&packets, false);
//! assert_eq!(body, payload::Body::Text("6:4hello10:b4AQIDBA==".into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]

mod base64;
mod error;
mod handshake;
mod json;
mod packet;
pub mod payload;
mod revision;

pub use error::{DecodeError, EncodeError, InvalidPacketType};
pub use handshake::{ErrorCode, ErrorResponse, Handshake};
pub use packet::{
    Data, Packet, PacketType, decode_binary, decode_text, decode_text_frame, encode_binary_frame,
};
pub use revision::Revision;
