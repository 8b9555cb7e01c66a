#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]
//! Every way a message or payload can be wrong gives a typed error with its position.

use sio_legacy_proto::{DecodeError, Message, MessageType, decode, decode_payload, frames};

fn err(input: &str) -> DecodeError {
    match decode(input) {
        Err(e) => {
            // Every error renders to a message.
            assert!(!e.to_string().is_empty());
            e
        }
        Ok(m) => panic!("{input:?} decoded to {m:?}"),
    }
}

#[test]
fn structure() {
    assert!(matches!(err(""), DecodeError::Empty));
    // The specification shows a bare `0`; the reference parser needs `type:id:` at least.
    assert!(matches!(
        err("0"),
        DecodeError::MissingSeparator {
            after: "message type",
            offset: 1
        }
    ));
    assert!(matches!(
        err("3:"),
        DecodeError::MissingSeparator {
            after: "message id",
            offset: 2
        }
    ));
    assert!(matches!(
        err("3:12"),
        DecodeError::MissingSeparator {
            after: "message id",
            offset: 4
        }
    ));
    for bad in [
        "9::",
        "a::",
        ":::",
        "10::",
        "-1::",
        "3x::",
        " 3::",
        "\u{fffd}3::",
        "é::",
        "３::",
    ] {
        assert!(
            matches!(err(bad), DecodeError::InvalidType { offset: 0 }),
            "{bad:?}"
        );
    }
}

#[test]
fn message_ids() {
    for bad in [
        "3:+::x", "3:a::x", "3:1a::x", "3:1++::x", "3:+1::x", "3:-1::x", "3: 1::x", "3:١::x",
    ] {
        assert!(
            matches!(err(bad), DecodeError::InvalidId { offset: 2 }),
            "{bad:?}"
        );
    }
    assert!(matches!(
        err("3:18446744073709551616::x"),
        DecodeError::NumberOverflow {
            what: "message id",
            offset: 2
        }
    ));
    assert!(matches!(
        err("3:99999999999999999999999999999999999999999999+::x"),
        DecodeError::NumberOverflow { offset: 2, .. }
    ));
    for (input, kind) in [
        ("0:1::", MessageType::Disconnect),
        ("1:1::/a", MessageType::Connect),
        ("2:1::", MessageType::Heartbeat),
        ("6:1:::1", MessageType::Ack),
        ("7:1::", MessageType::Error),
        ("8:1+::", MessageType::Noop),
    ] {
        match err(input) {
            DecodeError::UnexpectedId { kind: k, offset: 2 } => assert_eq!(k, kind),
            other => panic!("{input:?}: {other:?}"),
        }
    }
}

#[test]
fn fields_a_type_does_not_carry() {
    assert!(matches!(
        err("2::/chat"),
        DecodeError::UnexpectedEndpoint {
            kind: MessageType::Heartbeat,
            offset: 3
        }
    ));
    assert!(matches!(
        err("8::x:"),
        DecodeError::UnexpectedEndpoint {
            kind: MessageType::Noop,
            ..
        }
    ));
    assert!(matches!(
        err("2:::x"),
        DecodeError::UnexpectedData {
            kind: MessageType::Heartbeat,
            offset: 4
        }
    ));
    assert!(matches!(
        err("0::/a:x"),
        DecodeError::UnexpectedData {
            kind: MessageType::Disconnect,
            offset: 6
        }
    ));
    assert!(matches!(
        err("8:::x"),
        DecodeError::UnexpectedData {
            kind: MessageType::Noop,
            ..
        }
    ));
}

#[test]
fn json_messages() {
    for (input, offset) in [
        ("4:::", 4),
        ("4:::{", 4),
        ("4:::{\"a\":}", 9),
        ("4::/é:[1,]", 9),
        ("4:::nul", 4),
    ] {
        match err(input) {
            DecodeError::InvalidJson {
                what: "json message data",
                offset: o,
                ..
            } => assert!(o >= offset && o <= input.len(), "{input:?}: offset {o}"),
            other => panic!("{input:?}: {other:?}"),
        }
    }
    // The reference parser silently makes `false` of bad JSON; here it is an error, with
    // serde_json's message as its source.
    let e = err("4:::{'a':1}");
    assert!(std::error::Error::source(&e).is_some());
    // Lone surrogates are valid for JSON.parse but have no Rust string.
    assert!(matches!(
        err("4:::\"\\ud800\""),
        DecodeError::InvalidJson { .. }
    ));
    // Numbers JSON.parse turns into Infinity.
    assert!(matches!(err("4:::1e999"), DecodeError::InvalidJson { .. }));
}

#[test]
fn events() {
    for input in [
        "5:::",
        "5:::[\"a\",[]]",
        "5:::\"a\"",
        "5:::{}",
        "5:::{\"args\":[]}",
        "5:::{\"name\":1}",
        "5:::{\"name\":null}",
        "5:::{\"name\":\"a\",\"args\":{}}",
        "5:::{\"name\":\"a\",\"args\":\"x\"}",
        "5:::{\"name\":\"a\"",
        "5:::{\"name\":\"a\"}x",
    ] {
        assert!(
            matches!(
                err(input),
                DecodeError::InvalidJson {
                    what: "event data",
                    ..
                }
            ),
            "{input:?}"
        );
    }
}

#[test]
fn acks() {
    for (input, offset) in [
        ("6:::", 4),
        ("6::/a:", 6),
        ("6:::+[1]", 4),
        ("6:::x", 4),
        ("6:::1x", 4),
        ("6:::-1", 4),
    ] {
        match err(input) {
            DecodeError::InvalidAckId { offset: o } => assert_eq!(o, offset, "{input:?}"),
            other => panic!("{input:?}: {other:?}"),
        }
    }
    // Without a data field the offset is the end of the input.
    assert!(matches!(
        err("6::"),
        DecodeError::InvalidAckId { offset: 3 }
    ));
    assert!(matches!(
        err("4::/a"),
        DecodeError::InvalidJson { offset: 5, .. }
    ));
    assert!(matches!(
        err("6:::99999999999999999999"),
        DecodeError::NumberOverflow {
            what: "ack id",
            offset: 4
        }
    ));
    // The reference parser's "bad json" case: it yields no arguments, we report the JSON.
    match err("6:::1+{\"++]") {
        DecodeError::InvalidJson {
            what: "ack arguments",
            offset,
            ..
        } => assert!((6..=11).contains(&offset)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        err("6:::1+{\"a\":1}"),
        DecodeError::InvalidJson {
            what: "ack arguments",
            ..
        }
    ));
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("4:::{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(err(&deep), DecodeError::InvalidJson { .. }));
    let deep_event = format!("5:::{{\"name\":\"a\",\"args\":{}}}", "[".repeat(10_000));
    assert!(matches!(err(&deep_event), DecodeError::InvalidJson { .. }));
    // 100 levels are fine.
    let ok = format!("4:::{}{}", "[".repeat(100), "]".repeat(100));
    assert!(decode(&ok).is_ok());
}

fn payload_errors(body: &str) -> Vec<DecodeError> {
    decode_payload(body).filter_map(Result::err).collect()
}

#[test]
fn framing() {
    let f = "\u{fffd}";
    let one = |e: Vec<DecodeError>| -> DecodeError {
        assert_eq!(e.len(), 1, "{e:?}");
        e.into_iter().next().unwrap()
    };
    // Missing or bad length.
    assert!(matches!(
        one(payload_errors(&format!("{f}{f}2::"))),
        DecodeError::FrameLength {
            index: 0,
            offset: 3
        }
    ));
    assert!(matches!(
        one(payload_errors(&format!("{f}x{f}2::"))),
        DecodeError::FrameLength {
            index: 0,
            offset: 3
        }
    ));
    assert!(matches!(
        one(payload_errors(&format!("{f}3"))),
        DecodeError::FrameLength {
            index: 0,
            offset: 3
        }
    ));
    assert!(matches!(
        one(payload_errors(&format!("{f}3x2::"))),
        DecodeError::FrameLength { .. }
    ));
    assert!(matches!(
        one(payload_errors(f)),
        DecodeError::FrameLength { .. }
    ));
    // A length too large for 64 bits, and one that is merely huge: neither allocates.
    assert!(matches!(
        one(payload_errors(&format!("{f}99999999999999999999999{f}2::"))),
        DecodeError::NumberOverflow {
            what: "frame length",
            offset: 3
        }
    ));
    assert!(matches!(
        one(payload_errors(&format!("{f}1000000000000{f}2::"))),
        DecodeError::FrameTruncated {
            index: 0,
            offset: 19,
            declared: 1_000_000_000_000,
            available: 3
        }
    ));
    // Truncated second frame; the first is still delivered.
    let body = format!("{f}3{f}2::{f}5{f}3:::");
    let got: Vec<_> = decode_payload(&body).collect();
    assert!(matches!(got[0], Ok(Message::Heartbeat)));
    assert!(matches!(
        got[1],
        Err(DecodeError::FrameTruncated {
            index: 1,
            declared: 5,
            available: 4,
            ..
        })
    ));
    assert_eq!(got.len(), 2);
    // Garbage between frames.
    assert!(matches!(
        one(payload_errors(&format!("{f}3{f}2::x{f}3{f}2::"))),
        DecodeError::FrameMarker {
            index: 1,
            offset: 10
        }
    ));
    // A length counted in bytes rather than UTF-16 units overshoots.
    let body = format!("{f}7{f}3:::€");
    assert!(matches!(
        one(payload_errors(&body)),
        DecodeError::FrameTruncated {
            declared: 7,
            available: 5,
            ..
        }
    ));
    // A length that ends between the halves of a surrogate pair.
    let body = format!("{f}5{f}3:::😀");
    assert!(matches!(
        one(payload_errors(&body)),
        DecodeError::FrameSplitsChar {
            index: 0,
            offset: 11
        }
    ));
    // An empty frame holds an empty message.
    match one(payload_errors(&format!("{f}0{f}"))) {
        DecodeError::Frame {
            index: 0, source, ..
        } => assert!(matches!(*source, DecodeError::Empty)),
        other => panic!("{other:?}"),
    }
    // Raw frames report the same framing errors.
    assert!(frames(&format!("{f}9{f}2::")).next().unwrap().is_err());
}

/// Cutting a valid message or payload anywhere (at every char boundary, so also just
/// before and after every multibyte character) gives a message, an error, never a panic.
#[test]
fn every_prefix_is_handled() {
    let samples = [
        "5:1+:/é:{\"name\":\"😀€\",\"args\":[\"é\",{\"k\":[1,2.5,null]}]}",
        "6::/ü:3+[\"ö\"]",
        "7::/é:2+0",
        "1::/ns:?q=€",
        "3:9:/a:😀:😀",
        "\u{fffd}6\u{fffd}3:::😀\u{fffd}5\u{fffd}3:::€\u{fffd}3\u{fffd}2::",
    ];
    for sample in samples {
        for (i, _) in sample.char_indices().chain([(sample.len(), ' ')]) {
            let prefix = &sample[..i];
            let _ = decode(prefix);
            let n = decode_payload(prefix).count();
            assert!(n <= prefix.len() + 1);
            let suffix = &sample[i..];
            let _ = decode(suffix);
            let _ = decode_payload(suffix).count();
        }
    }
}

#[test]
fn absolute_offsets() {
    // Inside a frame the offset adds the frame's start to the message's own offset.
    let body = "\u{fffd}3\u{fffd}2::\u{fffd}5\u{fffd}2:::x";
    let e = decode_payload(body).find_map(Result::err).unwrap();
    assert!(matches!(e, DecodeError::Frame { offset: 17, .. }));
    assert_eq!(e.offset(), Some(17 + 4));
    assert_eq!(&body[21..], "x");
    assert_eq!(err("").offset(), Some(0));
    assert_eq!(err("3:1a::").offset(), Some(2));
    assert_eq!(
        sio_legacy_proto::Handshake::parse("a:b")
            .unwrap_err()
            .offset(),
        None
    );
}
