//! The checks the fuzz targets run (fuzz/fuzz_targets/sio_*.rs include this file), shared with the
//! regression test that replays fuzz/regressions/. Each asserts only properties that hold for any input:
//! decoders return errors instead of panicking, and whatever decodes re-encodes to the same packet.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use bytes::Bytes;
use sio_socketio_proto::{
    Codec, DecodeError, Decoder, DecoderConfig, EncodedPacket, Packet, Parser, ProtocolVersion,
    encode, msgpack,
};

const VERSIONS: [ProtocolVersion; 2] = [ProtocolVersion::V4, ProtocolVersion::V5];

/// A decoded text packet encodes again, and the frames decode to the same packet and encode to the
/// same frames.
pub(crate) fn text_round_trip(packet: &Packet, version: ProtocolVersion) {
    let encoded = encode(packet, version).expect("a decoded packet re-encodes");
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        max_attachments: usize::MAX,
    });
    let mut again = decoder
        .feed_text(&encoded.text)
        .expect("re-encoded text decodes");
    for attachment in &encoded.attachments {
        assert!(again.is_none(), "packet complete before its attachments");
        again = decoder
            .feed_binary(attachment.clone())
            .expect("re-encoded attachment decodes");
    }
    let again = again.expect("re-encoded packet complete");
    assert_eq!(&again, packet, "{}", encoded.text);
    assert_eq!(encode(&again, version).unwrap(), encoded);
}

/// `sio_packet`: the input as one text frame, both revisions.
pub(crate) fn sio_packet(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for version in VERSIONS {
        let mut decoder = Decoder::new(DecoderConfig {
            version,
            ..DecoderConfig::default()
        });
        match decoder.feed_text(&text) {
            Ok(Some(packet)) => text_round_trip(&packet, version),
            Ok(None) => assert!(decoder.pending_attachments() > 0),
            Err(_) => assert_eq!(decoder.pending_attachments(), 0),
        }
    }
}

/// `sio_binary`: byte 0 picks the revision (bit 0) and `max_attachments` (bits 1-4); then frames, each
/// a tag byte (bit 0: binary), a length byte and that many bytes (text frames are read as lossy UTF-8).
pub(crate) fn sio_binary(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[usize::from(flags & 1)];
    let max_attachments = usize::from((flags >> 1) & 0x0f);
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        max_attachments,
    });
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let result = if tag & 1 == 1 {
            decoder.feed_binary(Bytes::copy_from_slice(frame))
        } else {
            decoder.feed_text(&String::from_utf8_lossy(frame))
        };
        assert!(decoder.pending_attachments() <= max_attachments);
        match result {
            Ok(Some(packet)) => {
                assert_eq!(decoder.pending_attachments(), 0);
                text_round_trip(&packet, version);
            }
            Ok(None) => assert!(decoder.pending_attachments() > 0),
            Err(_) => assert_eq!(decoder.pending_attachments(), 0),
        }
    }
}

/// `sio_msgpack`: the input as one msgpack packet. NaN never equals itself, so packets are compared
/// through their debug form and their encoding.
pub(crate) fn sio_msgpack(data: &[u8]) {
    let Ok(packet) = msgpack::decode(data) else {
        return;
    };
    let bytes = msgpack::encode(&packet).expect("a decoded packet re-encodes");
    let again = msgpack::decode(&bytes).expect("re-encoded packet decodes");
    assert_eq!(format!("{again:?}"), format!("{packet:?}"));
    assert_eq!(msgpack::encode(&again).unwrap(), bytes);
}

/// `sio_frames`: the parser seam. The first byte picks the protocol version (bit 0), the parser
/// (bit 1) and the attachment limit (bits 2-5); then frames as in `sio_binary`, fed to one
/// `FrameDecoder`. Whatever decodes encodes again through the same `Codec` and decodes back to a
/// packet that prints the same (msgpack floats may be NaN, which equals nothing).
pub(crate) fn sio_frames(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let version = VERSIONS[usize::from(flags & 1)];
    let parser = if flags & 2 == 0 {
        Parser::Default
    } else {
        Parser::Msgpack
    };
    let max_attachments = usize::from((flags >> 2) & 0x0f);
    let codec = Codec::new(parser, version);
    let mut decoder = codec.decoder(max_attachments);
    while let [tag, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (frame, tail) = tail.split_at(len);
        rest = tail;
        let result = if tag & 1 == 1 {
            decoder.feed_binary(frame)
        } else {
            decoder.feed_text(&String::from_utf8_lossy(frame))
        };
        assert!(decoder.pending_attachments() <= max_attachments);
        match (parser, result) {
            (_, Ok(Some(packet))) => {
                assert_eq!(decoder.pending_attachments(), 0);
                seam_round_trip(codec, &packet);
            }
            (Parser::Default, Ok(None)) => assert!(decoder.pending_attachments() > 0),
            (Parser::Msgpack, Ok(None)) => panic!("a msgpack frame is a whole packet"),
            (Parser::Msgpack, Err(error)) if tag & 1 == 0 => {
                assert_eq!(error, DecodeError::TextWithMsgpack);
            }
            (_, Err(_)) => assert_eq!(decoder.pending_attachments(), 0),
        }
    }
}

fn seam_round_trip(codec: Codec, packet: &Packet) {
    let mut decoder = codec.decoder(usize::MAX);
    let again = match codec
        .encode_string(packet)
        .expect("a decoded packet re-encodes")
    {
        EncodedPacket::Text { frame, attachments } => {
            let mut again = decoder.feed_text(&frame).expect("re-encoded text decodes");
            for attachment in attachments {
                assert!(again.is_none(), "packet complete before its attachments");
                again = decoder
                    .feed_binary(attachment)
                    .expect("re-encoded attachment decodes");
            }
            again
        }
        EncodedPacket::Binary(bytes) => decoder.feed_binary(bytes).expect("re-encoded decodes"),
    };
    let again = again.expect("re-encoded packet complete");
    assert_eq!(format!("{again:?}"), format!("{packet:?}"));
}
