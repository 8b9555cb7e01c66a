//! Socket.IO packets, protocol v5 (Socket.IO 3.x/4.x) and v4 (Socket.IO 1.x/2.x): encoding and decoding
//! only, no I/O.
//!
//! - [`Packet`] is the packet model shared by both parsers; arguments are [`Value`]s (`rmpv::Value`, a
//!   JSON-like tree that can also hold binary). [`to_args`] / [`from_args`] convert typed Rust values.
//! - The default parser ([`text`], re-exported here): [`encode`] gives a text frame plus binary
//!   attachments; the [`Decoder`] state machine is fed text and binary frames and gives packets.
//! - The [`msgpack`] parser (npm `socket.io-msgpack-parser`): one binary frame per packet.
//! - The parser seam that servers and clients use instead of calling either parser: a [`Parser`]
//!   choice and a protocol version make a connection's [`Codec`], which encodes packets into
//!   [`EncodedPacket`]s and makes the [`FrameDecoder`] its frames are fed to. The protocol version of an
//!   Engine.IO revision is [`ProtocolVersion::for_revision`]; [`value`] reads fields of objects.
//!
//! Every decoder reports malformed input as a [`DecodeError`]; nothing panics, lengths are checked
//! before allocating and nesting is bounded (128).
//!
//! Values follow JavaScript semantics, since the peers are JavaScript programs: numbers are printed as
//! `JSON.stringify` prints them (`1.0` → `1`, NaN → `null`) and a float without fractional part is
//! decoded as an integer; object keys keep their order (so `{"3":[true]}` re-encodes byte for byte);
//! map keys that are numbers, booleans or `nil` are written as the strings JavaScript would make of them,
//! other keys are refused with [`EncodeError::InvalidMapKey`].
//!
//! ```
//! use bytes::Bytes;
//! use sio_socketio_proto::{encode, Decoder, DecoderConfig, Packet, ProtocolVersion, Value, to_args};
//!
//! // An EVENT with an ack id and a binary argument, as a server would send it.
//! let packet = Packet::Event {
//!     nsp: "/admin".into(),
//!     id: Some(12),
//!     event: "file".into(),
//!     args: to_args(&("report.pdf", Bytes::from_static(b"%PDF")))?,
//! };
//! let encoded = encode(&packet, ProtocolVersion::V5)?;
//! assert_eq!(encoded.text, r#"51-/admin,12["file","report.pdf",{"_placeholder":true,"num":0}]"#);
//! assert_eq!(encoded.attachments, [Bytes::from_static(b"%PDF")]);
//!
//! // The receiving side feeds the frames in order.
//! let mut decoder = Decoder::new(DecoderConfig::default());
//! assert_eq!(decoder.feed_text(&encoded.text)?, None);
//! let decoded = decoder.feed_binary(encoded.attachments[0].clone())?;
//! assert_eq!(decoded, Some(packet));
//!
//! // Packets from the compliance suite (after the Engine.IO `4` prefix).
//! let packet = decoder.feed_text(r#"2["message",1,"2",{"3":[true]}]"#)?.unwrap();
//! assert_eq!(encode(&packet, ProtocolVersion::V5)?.text, r#"2["message",1,"2",{"3":[true]}]"#);
//! assert!(decoder.feed_text("2{}").is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod args;
mod error;
mod js;
pub mod msgpack;
mod packet;
mod parser;
pub mod text;
mod validate;
pub mod value;

pub use bytes::Bytes;
pub use rmpv;
pub use rmpv::Value;

pub use args::{ArgsError, from_args, from_value, to_args, to_value};
pub use error::{DecodeError, EncodeError};
pub use packet::{Packet, PacketType, ProtocolVersion, RESERVED_EVENTS, is_reserved_event};
pub use parser::{BinaryFrame, Codec, EncodedPacket, FrameDecoder, Parser};
pub use text::{Decoder, DecoderConfig, Encoded, encode, encode_into, encode_owned};
