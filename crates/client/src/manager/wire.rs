//! How packets travel on one connection: a Socket.IO codec of the parser seam, or the 0.9
//! translation. The rest of the manager sends and receives [`Packet`]s only.

use sio_engineio_proto::Revision;
use sio_socketio_proto::{Codec, EncodedPacket, FrameDecoder, Packet, Parser, ProtocolVersion};

use super::namespaces::Dialect;
use super::translate09::{legacy_to_packet, packet_to_legacy};
use crate::engine::Frame;
use crate::options::Protocol;

/// Most binary attachments accepted in one packet from the server.
const MAX_ATTACHMENTS: usize = 1000;

/// The encoding of one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Wire {
    SocketIo(Codec),
    Legacy09,
}

impl Wire {
    /// The wire of an Engine.IO connection of `revision`: the msgpack parser exists for
    /// Socket.IO v5 only, so a v4 server gets the default parser whatever the option says.
    pub(super) fn for_revision(revision: Revision, parser: Parser) -> Wire {
        let version = ProtocolVersion::for_revision(revision);
        let parser = match version {
            ProtocolVersion::V5 => parser,
            ProtocolVersion::V4 => Parser::Default,
        };
        Wire::SocketIo(Codec::new(parser, version))
    }

    /// What the namespace rules depend on.
    pub(super) fn dialect(self) -> Dialect {
        match self {
            Wire::SocketIo(codec) => match codec.version {
                ProtocolVersion::V5 => Dialect::V5,
                ProtocolVersion::V4 => Dialect::V4,
            },
            Wire::Legacy09 => Dialect::Legacy09,
        }
    }

    /// The protocol option that reaches this wire again on reconnection.
    pub(super) fn protocol(self) -> Protocol {
        match self.dialect() {
            Dialect::V5 => Protocol::V5,
            Dialect::V4 => Protocol::V4,
            Dialect::Legacy09 => Protocol::Legacy09,
        }
    }

    pub(super) fn decoder(self) -> WireDecoder {
        match self {
            Wire::SocketIo(codec) => WireDecoder::SocketIo(codec.decoder(MAX_ATTACHMENTS)),
            Wire::Legacy09 => WireDecoder::Legacy09,
        }
    }

    /// The frames of `packet`, in order, each with whether it may be dropped when `volatile`:
    /// attachments must follow their packet, so a packet with attachments is never volatile.
    pub(super) fn encode(self, packet: &Packet, volatile: bool) -> Result<Encoded, String> {
        match self {
            Wire::SocketIo(codec) => match codec.encode_string(packet) {
                Ok(EncodedPacket::Text { frame, attachments }) => Ok(Encoded {
                    volatile: volatile && attachments.is_empty(),
                    first: Frame::Text(frame),
                    attachments,
                }),
                Ok(EncodedPacket::Binary(bytes)) => Ok(Encoded {
                    volatile,
                    first: Frame::Binary(bytes),
                    attachments: Vec::new(),
                }),
                Err(e) => Err(e.to_string()),
            },
            Wire::Legacy09 => packet_to_legacy(packet).map(|message| Encoded {
                volatile,
                first: Frame::Text(message.to_encoded()),
                attachments: Vec::new(),
            }),
        }
    }
}

/// One packet's frames.
pub(super) struct Encoded {
    /// Whether the first frame may be dropped when the transport cannot write it at once.
    pub(super) volatile: bool,
    pub(super) first: Frame,
    pub(super) attachments: Vec<sio_socketio_proto::Bytes>,
}

/// One connection's decoding state.
pub(super) enum WireDecoder {
    SocketIo(FrameDecoder),
    Legacy09,
}

/// What one frame from the server gave.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Decoded {
    /// The packet, once complete.
    pub(super) packet: Option<Packet>,
    /// A 0.9 acknowledgement the library sends at once (ids without `+`).
    pub(super) auto_ack: Option<Frame>,
}

impl WireDecoder {
    /// Feeds a frame; the error says what the server broke.
    pub(super) fn feed(&mut self, frame: Frame) -> Result<Decoded, String> {
        let packet = match (self, frame) {
            (WireDecoder::SocketIo(decoder), Frame::Text(text)) => decoder.feed_text(&text),
            (WireDecoder::SocketIo(decoder), Frame::Binary(bytes)) => decoder.feed_binary(bytes),
            (WireDecoder::Legacy09, Frame::Text(text)) => {
                let message = sio_legacy_proto::decode(&text).map_err(|e| e.to_string())?;
                let (packet, auto_ack) = legacy_to_packet(message);
                return Ok(Decoded {
                    packet,
                    auto_ack: auto_ack.map(|ack| Frame::Text(ack.to_encoded())),
                });
            }
            (WireDecoder::Legacy09, Frame::Binary(_)) => {
                return Err("binary frame from a 0.9 server".into());
            }
        };
        packet
            .map(|packet| Decoded {
                packet,
                auto_ack: None,
            })
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_socketio_proto::Value;

    #[test]
    fn msgpack_only_over_engineio_4() {
        assert_eq!(
            Wire::for_revision(Revision::V4, Parser::Msgpack),
            Wire::SocketIo(Codec::new(Parser::Msgpack, ProtocolVersion::V5))
        );
        assert_eq!(
            Wire::for_revision(Revision::V3, Parser::Msgpack),
            Wire::SocketIo(Codec::new(Parser::Default, ProtocolVersion::V4))
        );
        assert_eq!(
            Wire::for_revision(Revision::V3, Parser::Default).protocol(),
            Protocol::V4
        );
        assert_eq!(Wire::Legacy09.protocol(), Protocol::Legacy09);
    }

    #[test]
    fn packets_with_attachments_are_never_volatile() {
        let wire = Wire::for_revision(Revision::V4, Parser::Default);
        let binary = Packet::event("/", "up", vec![Value::Binary(vec![1])]);
        let encoded = wire.encode(&binary, true).unwrap();
        assert!(!encoded.volatile);
        assert_eq!(encoded.attachments.len(), 1);
        let plain = Packet::event("/", "up", vec![Value::from(1)]);
        let encoded = wire.encode(&plain, true).unwrap();
        assert!(encoded.volatile);
        assert_eq!(encoded.first, Frame::Text(r#"2["up",1]"#.into()));
    }

    #[test]
    fn decoders_of_each_wire() {
        let mut msgpack = Wire::for_revision(Revision::V4, Parser::Msgpack).decoder();
        assert!(msgpack.feed(Frame::Text("2[\"a\"]".into())).is_err());
        let mut legacy = Wire::Legacy09.decoder();
        let decoded = legacy.feed(Frame::Text("3:7::hi".into())).unwrap();
        assert_eq!(
            decoded.packet,
            Some(Packet::event("/", "message", vec![Value::from("hi")]))
        );
        assert_eq!(decoded.auto_ack, Some(Frame::Text("6:::7".into())));
        assert!(legacy.feed(Frame::Binary(vec![1].into())).is_err());
    }
}
