#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Every way the decoders reject input, with what and where.

use sio_engineio_proto::payload;
use sio_engineio_proto::{
    DecodeError, EncodeError, Packet, PacketType, Revision, decode_binary, decode_text,
    decode_text_frame,
};

fn in_payload(index: usize, error: DecodeError) -> DecodeError {
    DecodeError::InPayload {
        index,
        error: Box::new(error),
    }
}

/// The first error of a payload decoder, after checking that it stops there.
fn first_err<'a>(mut it: impl Iterator<Item = Result<Packet<'a>, DecodeError>>) -> DecodeError {
    loop {
        match it.next() {
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                assert!(it.next().is_none(), "decoder goes on after an error");
                return e;
            }
            None => panic!("no error"),
        }
    }
}

fn v4_err(body: &[u8]) -> DecodeError {
    first_err(payload::decode_v4(body))
}

fn v3s_err(body: &[u8]) -> DecodeError {
    first_err(payload::decode_v3_string(body))
}

fn v3b_err(body: &[u8]) -> DecodeError {
    first_err(payload::decode_v3_binary(body))
}

#[test]
fn text_frames() {
    assert_eq!(decode_text(""), Err(DecodeError::Empty));
    assert_eq!(
        decode_text("7"),
        Err(DecodeError::UnknownPacketType {
            byte: b'7',
            offset: 0
        })
    );
    assert_eq!(
        decode_text("€"),
        Err(DecodeError::UnknownPacketType {
            byte: 0xe2,
            offset: 0
        })
    );
    assert_eq!(
        decode_text("bAQID"),
        Err(DecodeError::BinaryNotAllowed { offset: 0 })
    );
    for (frame, packet_type) in [
        ("1x", PacketType::Close),
        ("5probe", PacketType::Upgrade),
        ("6 ", PacketType::Noop),
    ] {
        assert_eq!(
            decode_text(frame),
            Err(DecodeError::UnexpectedData {
                packet_type,
                offset: 1
            })
        );
    }
    for frame in ["0", "0{}", "0[]", "0{\"sid\":\"x\"}"] {
        assert!(
            matches!(
                decode_text(frame),
                Err(DecodeError::InvalidHandshake { offset: 1, .. })
            ),
            "{frame}"
        );
    }
}

#[test]
fn base64_text_frames() {
    assert_eq!(decode_text_frame("", Revision::V4), Err(DecodeError::Empty));
    assert_eq!(
        decode_text_frame("bA=QI", Revision::V4),
        Err(DecodeError::InvalidBase64 { offset: 2 })
    );
    assert_eq!(
        decode_text_frame("b!", Revision::V4),
        Err(DecodeError::InvalidBase64 { offset: 1 })
    );
    assert_eq!(
        decode_text_frame("bA", Revision::V4),
        Err(DecodeError::InvalidBase64 { offset: 2 })
    );
    assert_eq!(
        decode_text_frame("b", Revision::V3),
        Err(DecodeError::Truncated { offset: 1 })
    );
    assert_eq!(
        decode_text_frame("b2AQID", Revision::V3),
        Err(DecodeError::BinaryNotMessage {
            packet_type: PacketType::Ping,
            offset: 1
        })
    );
    assert_eq!(
        decode_text_frame("b9AQID", Revision::V3),
        Err(DecodeError::UnknownPacketType {
            byte: b'9',
            offset: 1
        })
    );
    // In V4 there is no type after `b`: `b4…` is base64 starting with `4`.
    assert!(decode_text_frame("b4AQIDBA==", Revision::V4).is_err());
}

#[test]
fn binary_frames() {
    assert_eq!(decode_binary(&[], Revision::V3), Err(DecodeError::Empty));
    assert_eq!(
        decode_binary(&[0, 1], Revision::V3),
        Err(DecodeError::BinaryNotMessage {
            packet_type: PacketType::Open,
            offset: 0
        })
    );
    assert_eq!(
        decode_binary(&[b'4', 1], Revision::V3),
        Err(DecodeError::UnknownPacketType {
            byte: b'4',
            offset: 0
        })
    );
    // V4 binary frames are data only; an empty one is an empty message.
    assert_eq!(
        decode_binary(&[], Revision::V4),
        Ok(Packet::binary(&[][..]))
    );
}

#[test]
fn v4_payloads() {
    assert_eq!(v4_err(b""), DecodeError::Empty);
    assert_eq!(
        v4_err(b"4a\x1e"),
        in_payload(1, DecodeError::EmptyPacket { offset: 3 })
    );
    assert_eq!(
        v4_err(b"\x1e4a"),
        in_payload(0, DecodeError::EmptyPacket { offset: 0 })
    );
    assert_eq!(
        v4_err(b"4a\x1e\x1e4b"),
        in_payload(1, DecodeError::EmptyPacket { offset: 3 })
    );
    assert_eq!(
        v4_err(b"4a\x1e9"),
        in_payload(
            1,
            DecodeError::UnknownPacketType {
                byte: b'9',
                offset: 3
            }
        )
    );
    assert_eq!(
        v4_err(b"4a\x1e4\xff"),
        in_payload(1, DecodeError::InvalidUtf8 { offset: 4 })
    );
    assert_eq!(
        v4_err(b"4\xe2\x82"),
        in_payload(0, DecodeError::InvalidUtf8 { offset: 1 })
    );
    assert_eq!(
        v4_err(b"4a\x1eb!!!"),
        in_payload(1, DecodeError::InvalidBase64 { offset: 4 })
    );
    assert_eq!(
        v4_err(b"1x"),
        in_payload(
            0,
            DecodeError::UnexpectedData {
                packet_type: PacketType::Close,
                offset: 1
            }
        )
    );
    let err = v4_err(b"2\x1e4ok\x1e0{");
    assert_eq!(err.packet_index(), Some(2));
    assert_eq!(err.offset(), Some(7));
    assert!(matches!(err.kind(), DecodeError::InvalidHandshake { .. }));
}

#[test]
fn v3_string_payloads() {
    assert_eq!(v3s_err(b""), DecodeError::Empty);
    assert_eq!(
        v3s_err(b"abc"),
        in_payload(0, DecodeError::InvalidLength { offset: 0 })
    );
    assert_eq!(
        v3s_err(b":4a"),
        in_payload(0, DecodeError::InvalidLength { offset: 0 })
    );
    assert_eq!(
        v3s_err(b"1a:4"),
        in_payload(0, DecodeError::InvalidLength { offset: 1 })
    );
    assert_eq!(
        v3s_err(b"-1:4"),
        in_payload(0, DecodeError::InvalidLength { offset: 0 })
    );
    assert_eq!(
        v3s_err(b"12"),
        in_payload(0, DecodeError::Truncated { offset: 2 })
    );
    assert_eq!(
        v3s_err(b"2:4a1"),
        in_payload(1, DecodeError::Truncated { offset: 5 })
    );
    // A length of 10^12 is refused before anything is read or allocated.
    assert_eq!(
        v3s_err(b"1000000000000:4a"),
        in_payload(
            0,
            DecodeError::LengthBeyondInput {
                length: 1_000_000_000_000,
                offset: 0
            }
        )
    );
    assert_eq!(
        v3s_err(b"99999999999999999999999:4"),
        in_payload(0, DecodeError::InvalidLength { offset: 19 })
    );
    assert_eq!(
        v3s_err("3:4€".as_bytes()),
        in_payload(
            0,
            DecodeError::LengthBeyondInput {
                length: 3,
                offset: 0
            }
        )
    );
    // `2:4😀` would cut the emoji's surrogate pair in two.
    assert_eq!(
        v3s_err("2:4😀".as_bytes()),
        in_payload(0, DecodeError::SplitSurrogatePair { offset: 3 })
    );
    assert_eq!(
        v3s_err(b"2:4\xff"),
        in_payload(0, DecodeError::InvalidUtf8 { offset: 3 })
    );
    assert_eq!(
        v3s_err(b"2:4\xe2\x82"),
        in_payload(0, DecodeError::InvalidUtf8 { offset: 3 })
    );
    assert_eq!(
        v3s_err(b"2:4a\xff"),
        in_payload(1, DecodeError::InvalidLength { offset: 4 })
    );
    assert_eq!(
        v3s_err(b"1:7"),
        in_payload(
            0,
            DecodeError::UnknownPacketType {
                byte: b'7',
                offset: 2
            }
        )
    );
    assert_eq!(
        v3s_err(b"3:b4A"),
        in_payload(0, DecodeError::InvalidBase64 { offset: 5 })
    );
    assert_eq!(
        v3s_err(b"6:4hello5:b2AQI"),
        in_payload(
            1,
            DecodeError::BinaryNotMessage {
                packet_type: PacketType::Ping,
                offset: 11
            }
        )
    );
}

#[test]
fn v3_string_utf8_is_checked_lazily() {
    // Invalid bytes after the packets that were asked for are not looked at.
    let mut it = payload::decode_v3_string(b"2:4a2:4\xff");
    assert_eq!(it.next(), Some(Ok(Packet::text("a"))));
    assert!(matches!(it.next(), Some(Err(_))));
}

#[test]
fn v3_binary_payloads() {
    assert_eq!(v3b_err(&[]), DecodeError::Empty);
    assert_eq!(
        v3b_err(&[2, 1, 255, 4]),
        in_payload(0, DecodeError::InvalidEntryKind { byte: 2, offset: 0 })
    );
    assert_eq!(
        v3b_err(&[0, 255, b'4']),
        in_payload(0, DecodeError::InvalidLength { offset: 1 })
    );
    assert_eq!(
        v3b_err(&[0, 1, 10, 255, b'4']),
        in_payload(0, DecodeError::InvalidLength { offset: 2 })
    );
    assert_eq!(
        v3b_err(&[0, 1]),
        in_payload(0, DecodeError::Truncated { offset: 2 })
    );
    assert_eq!(
        v3b_err(&[0, 2, 255, b'4']),
        in_payload(
            0,
            DecodeError::LengthBeyondInput {
                length: 2,
                offset: 1
            }
        )
    );
    let mut huge = vec![1];
    huge.extend([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 4]);
    assert_eq!(
        v3b_err(&huge),
        in_payload(
            0,
            DecodeError::LengthBeyondInput {
                length: 1_000_000_000_000,
                offset: 1
            }
        )
    );
    let mut overflow = vec![1];
    overflow.extend([9; 25]);
    overflow.push(255);
    assert_eq!(
        v3b_err(&overflow),
        in_payload(0, DecodeError::InvalidLength { offset: 20 })
    );
    assert_eq!(
        v3b_err(&[1, 0, 255]),
        in_payload(0, DecodeError::EmptyPacket { offset: 3 })
    );
    assert_eq!(
        v3b_err(&[0, 0, 255]),
        in_payload(0, DecodeError::EmptyPacket { offset: 3 })
    );
    assert_eq!(
        v3b_err(&[1, 2, 255, 2, 9]),
        in_payload(
            0,
            DecodeError::BinaryNotMessage {
                packet_type: PacketType::Ping,
                offset: 3
            }
        )
    );
    assert_eq!(
        v3b_err(&[1, 2, 255, 7, 9]),
        in_payload(0, DecodeError::UnknownPacketType { byte: 7, offset: 3 })
    );
    assert_eq!(
        v3b_err(&[1, 1, 255, 4, 0, 2, 255, b'4', 0xc3]),
        in_payload(1, DecodeError::InvalidUtf8 { offset: 8 })
    );
    assert_eq!(
        v3b_err(&[0, 2, 255, b'4', b'a', 0, 1, 255, b'x']),
        in_payload(
            1,
            DecodeError::UnknownPacketType {
                byte: b'x',
                offset: 8
            }
        )
    );
}

#[test]
fn encode_errors_write_nothing() {
    let mut out = String::from("kept");
    assert_eq!(
        Packet::binary(&[1u8][..]).encode_text(&mut out),
        Err(EncodeError::BinaryInTextFrame)
    );
    assert_eq!(
        payload::encode_v4(
            &[Packet::text("fine"), Packet::text("a\x1e4forged")],
            &mut out
        ),
        Err(EncodeError::RecordSeparatorInText { index: 1 })
    );
    assert_eq!(
        payload::encode_v4(&[Packet::Ping("\x1e".into())], &mut out),
        Err(EncodeError::RecordSeparatorInText { index: 0 })
    );
    assert_eq!(
        payload::encode_jsonp("1;alert(1)", "x", &mut out),
        Err(EncodeError::InvalidJsonpIndex)
    );
    assert_eq!(out, "kept");
    // The V3 framings carry lengths, so the separator is harmless there.
    let mut s = String::new();
    payload::encode_v3_string(&[Packet::text("a\x1eb")], &mut s);
    assert_eq!(s, "4:4a\x1eb");
}

/// Valid bodies cut at every byte must decode to packets or a typed error, never panic;
/// a cut inside a length-prefixed packet (not between two) must be an error.
#[test]
fn truncation_at_every_byte() {
    let packets = [
        Packet::text("héllo €"),
        Packet::text("😀x"),
        Packet::binary(vec![0xffu8, 0, 1]),
        Packet::Ping("probe".into()),
        Packet::Open(sio_engineio_proto::Handshake {
            sid: "ü".into(),
            upgrades: vec!["websocket".into()],
            ping_interval: 1,
            ping_timeout: 2,
            max_payload: Some(3),
        }),
    ];
    let mut v4 = String::new();
    payload::encode_v4(&packets, &mut v4).unwrap();
    let mut v3s = String::new();
    payload::encode_v3_string(&packets, &mut v3s);
    let mut v3b = Vec::new();
    payload::encode_v3_binary(&packets, &mut v3b);

    // Where a V3 body may be cut and still be valid: between packets.
    let mut v3s_ends = Vec::new();
    let mut v3b_ends = Vec::new();
    for n in 1..=packets.len() {
        let mut s = String::new();
        payload::encode_v3_string(&packets[..n], &mut s);
        v3s_ends.push(s.len());
        let mut b = Vec::new();
        payload::encode_v3_binary(&packets[..n], &mut b);
        v3b_ends.push(b.len());
    }

    for cut in 0..v4.len() {
        let _ = payload::decode_v4(&v4.as_bytes()[..cut]).count();
    }
    for cut in 0..v3s.len() {
        let result: Result<Vec<_>, _> = payload::decode_v3_string(&v3s.as_bytes()[..cut]).collect();
        assert_eq!(result.is_ok(), v3s_ends.contains(&cut), "cut at {cut}");
    }
    for cut in 0..v3b.len() {
        let result: Result<Vec<_>, _> = payload::decode_v3_binary(&v3b[..cut]).collect();
        assert_eq!(result.is_ok(), v3b_ends.contains(&cut), "cut at {cut}");
    }
    for frame in ["2probe", "4héllo €", "4😀"] {
        for cut in 0..=frame.len() {
            if let Ok(s) = std::str::from_utf8(&frame.as_bytes()[..cut]) {
                let _ = decode_text(s);
            }
        }
    }
    let mut form = String::new();
    payload::encode_jsonp_body(&v3s, &mut form);
    for cut in 0..form.len() {
        let _ = payload::decode_jsonp_body(&form.as_bytes()[..cut]);
    }
}

#[test]
fn error_messages_say_where() {
    let err = v3s_err(b"2:4a1");
    assert_eq!(
        err.to_string(),
        "packet 1 of the payload: input ends early at byte 5"
    );
    assert_eq!(
        DecodeError::UnknownPacketType {
            byte: b'x',
            offset: 3
        }
        .to_string(),
        "unknown packet type 0x78 at byte 3"
    );
}
