//! The parser seam: one place that knows which parser a connection speaks and dispatches to it.
//!
//! A server or client chooses a [`Parser`] once; with the protocol version its Engine.IO revision
//! implies ([`ProtocolVersion::for_revision`]) that makes the connection's [`Codec`]. The codec encodes
//! each packet into an [`EncodedPacket`] (a text frame plus attachments, or one binary frame) and makes
//! the connection's [`FrameDecoder`], which is fed the frames as they arrive, whatever the parser.
//!
//! A new parser is a new [`Parser`] variant handled here; transports never see which one is in use.
//!
//! ```
//! use sio_socketio_proto::{Codec, EncodedPacket, Packet, Parser, ProtocolVersion, Value};
//!
//! let codec = Codec::new(Parser::Default, ProtocolVersion::V5);
//! let packet = Packet::event("/", "hi", vec![Value::from(1)]);
//! // The caller makes the text frame: here a plain `String`; the server writes straight into its
//! // Engine.IO message buffer instead.
//! let encoded = codec.encode(&packet, |write| {
//!     let mut text = String::new();
//!     write(&mut text);
//!     text
//! })?;
//! let EncodedPacket::Text { frame, attachments } = encoded else { unreachable!() };
//! assert_eq!(frame, r#"2["hi",1]"#);
//! assert!(attachments.is_empty());
//!
//! let mut decoder = codec.decoder(10);
//! assert_eq!(decoder.feed_text(&frame)?, Some(packet));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

use bytes::Bytes;
use sio_engineio_proto::Revision;

use crate::error::{DecodeError, EncodeError};
use crate::msgpack;
use crate::packet::{Packet, ProtocolVersion};
use crate::text::{self, Decoder, DecoderConfig};

/// How packets are serialized. Both sides of a connection must use the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Parser {
    /// The default parser (npm `socket.io-parser`): JSON text frames, each binary value sent as a
    /// separate binary frame after its packet. Every client speaks it.
    #[default]
    Default,
    /// npm `socket.io-msgpack-parser`: one msgpack binary frame per packet.
    Msgpack,
}

impl ProtocolVersion {
    /// The Socket.IO protocol spoken over an Engine.IO revision: v4 over Engine.IO 3 (Socket.IO 1.x and
    /// 2.x), v5 over Engine.IO 4 (Socket.IO 3.x and 4.x).
    pub fn for_revision(revision: Revision) -> Self {
        match revision {
            Revision::V3 => ProtocolVersion::V4,
            Revision::V4 => ProtocolVersion::V5,
        }
    }

    /// The Engine.IO revision this protocol runs on (the inverse of [`for_revision`](Self::for_revision)).
    pub fn revision(self) -> Revision {
        match self {
            ProtocolVersion::V4 => Revision::V3,
            ProtocolVersion::V5 => Revision::V4,
        }
    }
}

impl From<Revision> for ProtocolVersion {
    fn from(revision: Revision) -> Self {
        ProtocolVersion::for_revision(revision)
    }
}

/// What one connection speaks: a parser and a protocol version. Cheap to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Codec {
    /// The parser.
    pub parser: Parser,
    /// The protocol version (it changes what CONNECT and CONNECT_ERROR carry; the msgpack parser
    /// writes both versions the same way).
    pub version: ProtocolVersion,
}

/// One packet encoded for the wire, in the order its frames must be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodedPacket<T> {
    /// The default parser: a text frame (of the caller's type, see [`Codec::encode`]), then one binary
    /// frame per attachment. `attachments` does not allocate when there are none.
    Text {
        /// The text frame.
        frame: T,
        /// The binary frames the text's placeholders refer to.
        attachments: Vec<Bytes>,
    },
    /// The msgpack parser: one binary frame.
    Binary(Bytes),
}

impl Codec {
    /// The codec of `parser` at protocol `version`.
    pub fn new(parser: Parser, version: ProtocolVersion) -> Self {
        Self { parser, version }
    }

    /// Encodes `packet`. For a text frame, `text_frame` is called once with a writer that appends the
    /// packet's text to the buffer it is given, and returns the frame of the caller's type: so a
    /// transport can reserve its own prefix in the same buffer and no copy is made. Binary values of
    /// the default parser are copied into the attachments (a broadcast encodes once and shares them).
    ///
    /// # Errors
    /// See [`EncodeError`]; the frame `text_frame` returned is then dropped.
    pub fn encode<T>(
        self,
        packet: &Packet,
        text_frame: impl FnOnce(&mut dyn FnMut(&mut String)) -> T,
    ) -> Result<EncodedPacket<T>, EncodeError> {
        match self.parser {
            Parser::Default => {
                let mut attachments = Vec::new();
                let mut result = Ok(());
                let frame = text_frame(&mut |buf: &mut String| {
                    result = text::encode_into(packet, self.version, buf, &mut attachments);
                });
                result?;
                Ok(EncodedPacket::Text { frame, attachments })
            }
            Parser::Msgpack => Ok(EncodedPacket::Binary(Bytes::from(msgpack::encode(packet)?))),
        }
    }

    /// [`encode`](Self::encode) with the text frame as a new `String`.
    ///
    /// # Errors
    /// See [`EncodeError`].
    pub fn encode_string(self, packet: &Packet) -> Result<EncodedPacket<String>, EncodeError> {
        self.encode(packet, |write| {
            let mut text = String::new();
            write(&mut text);
            text
        })
    }

    /// A decoder for one connection, accepting at most `max_attachments` binary attachments per
    /// packet (default parser; socket.io-parser accepts 10).
    pub fn decoder(self, max_attachments: usize) -> FrameDecoder {
        let inner = match self.parser {
            Parser::Default => DecoderState::Text(Decoder::new(DecoderConfig {
                version: self.version,
                max_attachments,
            })),
            Parser::Msgpack => DecoderState::Msgpack,
        };
        FrameDecoder(inner)
    }
}

/// The bytes of a binary frame, as a transport holds them: a parser that keeps them (the default
/// parser's attachments) takes ownership, one that only reads them (msgpack) reads them in place, so
/// neither copies more than it must.
pub trait BinaryFrame: AsRef<[u8]> {
    /// The bytes as shared [`Bytes`] (free for `Bytes` and `Vec<u8>`, a copy for borrowed slices).
    fn into_bytes(self) -> Bytes;
}

impl BinaryFrame for Bytes {
    fn into_bytes(self) -> Bytes {
        self
    }
}

impl BinaryFrame for Vec<u8> {
    fn into_bytes(self) -> Bytes {
        Bytes::from(self)
    }
}

impl BinaryFrame for &[u8] {
    fn into_bytes(self) -> Bytes {
        Bytes::copy_from_slice(self)
    }
}

impl BinaryFrame for Cow<'_, [u8]> {
    fn into_bytes(self) -> Bytes {
        match self {
            Cow::Borrowed(slice) => Bytes::copy_from_slice(slice),
            Cow::Owned(vec) => Bytes::from(vec),
        }
    }
}

/// One connection's decoding state, whatever its parser: fed each frame as it arrives, gives packets.
#[derive(Debug)]
pub struct FrameDecoder(DecoderState);

#[derive(Debug)]
enum DecoderState {
    /// The default parser reassembles a packet from its text frame and attachments.
    Text(Decoder),
    /// Every msgpack frame is a whole packet.
    Msgpack,
}

impl FrameDecoder {
    /// Feeds a text frame: `Some` packet when it is complete, `None` while attachments are awaited.
    ///
    /// # Errors
    /// See [`DecodeError`]; [`DecodeError::TextWithMsgpack`] for any text with the msgpack parser.
    pub fn feed_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        match &mut self.0 {
            DecoderState::Text(decoder) => decoder.feed_text(text),
            DecoderState::Msgpack => Err(DecodeError::TextWithMsgpack),
        }
    }

    /// Feeds a binary frame: an attachment (default parser) or a whole packet (msgpack).
    ///
    /// # Errors
    /// See [`DecodeError`].
    pub fn feed_binary(&mut self, data: impl BinaryFrame) -> Result<Option<Packet>, DecodeError> {
        match &mut self.0 {
            DecoderState::Text(decoder) => decoder.feed_binary(data.into_bytes()),
            DecoderState::Msgpack => msgpack::decode(data.as_ref()).map(Some),
        }
    }

    /// Attachments still expected by the packet being reassembled (always 0 for msgpack).
    pub fn pending_attachments(&self) -> usize {
        match &self.0 {
            DecoderState::Text(decoder) => decoder.pending_attachments(),
            DecoderState::Msgpack => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Value;

    fn binary_event() -> Packet {
        Packet::event(
            "/admin",
            "file",
            vec![Value::from("a"), Value::Binary(vec![1, 2, 3])],
        )
    }

    #[test]
    fn revisions_map_to_protocol_versions_and_back() {
        for revision in [Revision::V3, Revision::V4] {
            assert_eq!(ProtocolVersion::for_revision(revision).revision(), revision);
        }
        assert_eq!(ProtocolVersion::from(Revision::V3), ProtocolVersion::V4);
        assert_eq!(ProtocolVersion::from(Revision::V4), ProtocolVersion::V5);
    }

    #[test]
    fn default_parser_writes_into_the_callers_buffer_then_attachments() {
        let codec = Codec::new(Parser::Default, ProtocolVersion::V5);
        // A transport prefix written before the packet stays in front of it.
        let encoded = codec
            .encode(&binary_event(), |write| {
                let mut frame = String::from("4");
                write(&mut frame);
                frame
            })
            .unwrap();
        assert_eq!(
            encoded,
            EncodedPacket::Text {
                frame: r#"451-/admin,["file","a",{"_placeholder":true,"num":0}]"#.to_owned(),
                attachments: vec![Bytes::from_static(&[1, 2, 3])],
            }
        );
    }

    #[test]
    fn default_parser_round_trips_through_the_frame_decoder() {
        for version in [ProtocolVersion::V4, ProtocolVersion::V5] {
            let codec = Codec::new(Parser::Default, version);
            let EncodedPacket::Text { frame, attachments } =
                codec.encode_string(&binary_event()).unwrap()
            else {
                panic!("text expected");
            };
            let mut decoder = codec.decoder(10);
            assert_eq!(decoder.feed_text(&frame).unwrap(), None);
            assert_eq!(decoder.pending_attachments(), 1);
            let [attachment] = attachments.as_slice() else {
                panic!("one attachment expected");
            };
            assert_eq!(
                decoder.feed_binary(attachment.clone()).unwrap(),
                Some(binary_event())
            );
        }
    }

    #[test]
    fn msgpack_is_one_binary_frame_and_refuses_text() {
        let codec = Codec::new(Parser::Msgpack, ProtocolVersion::V5);
        let mut called = false;
        let encoded = codec
            .encode(&binary_event(), |_| {
                called = true;
            })
            .unwrap();
        assert!(!called, "msgpack makes no text frame");
        let EncodedPacket::Binary(bytes) = encoded else {
            panic!("binary expected");
        };
        assert_eq!(bytes, msgpack::encode(&binary_event()).unwrap());
        let mut decoder = codec.decoder(10);
        // Borrowed and owned frames decode alike.
        assert_eq!(
            decoder.feed_binary(bytes.as_ref()).unwrap(),
            Some(binary_event())
        );
        assert_eq!(
            decoder.feed_binary(Cow::Owned(bytes.to_vec())).unwrap(),
            Some(binary_event())
        );
        assert_eq!(decoder.pending_attachments(), 0);
        assert_eq!(
            decoder.feed_text("2[\"x\"]"),
            Err(DecodeError::TextWithMsgpack)
        );
        assert!(decoder.feed_binary(&b"\xc1"[..]).is_err());
    }

    #[test]
    fn encode_errors_drop_the_frame() {
        let reserved = Packet::event("/", "connect", vec![]);
        for parser in [Parser::Default, Parser::Msgpack] {
            let codec = Codec::new(parser, ProtocolVersion::V5);
            assert!(codec.encode_string(&reserved).is_err(), "{parser:?}");
        }
    }

    #[test]
    fn the_attachment_limit_reaches_the_text_decoder() {
        let codec = Codec::new(Parser::Default, ProtocolVersion::V5);
        let mut decoder = codec.decoder(1);
        assert!(matches!(
            decoder.feed_text(
                r#"52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
            ),
            Err(DecodeError::TooManyAttachments { max: 1, .. })
        ));
    }
}
