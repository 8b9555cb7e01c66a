//! Every error path of the text decoder, the attachment state machine and the encoders.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use bytes::Bytes;
use sio_socketio_proto::{
    DecodeError, Decoder, DecoderConfig, EncodeError, Packet, PacketType, ProtocolVersion, Value,
    encode, encode_into, msgpack,
};

fn decoder() -> Decoder {
    Decoder::new(DecoderConfig::default())
}

fn err(text: &str) -> DecodeError {
    decoder().feed_text(text).unwrap_err()
}

fn ph(num: &str) -> String {
    format!("{{\"_placeholder\":true,\"num\":{num}}}")
}

#[test]
fn header_errors() {
    assert_eq!(err(""), DecodeError::Empty);
    assert_eq!(err("7"), DecodeError::UnknownPacketType { found: '7' });
    assert_eq!(err("é2"), DecodeError::UnknownPacketType { found: 'é' });
    assert_eq!(err("/"), DecodeError::UnknownPacketType { found: '/' });
    assert_eq!(
        err("5x-[]"),
        DecodeError::InvalidAttachmentCount { offset: 1 }
    );
    assert_eq!(
        err("511"),
        DecodeError::InvalidAttachmentCount { offset: 1 }
    );
    assert_eq!(
        err("511-[\"a\"]"),
        DecodeError::TooManyAttachments { offset: 1, max: 10 }
    );
    // A count that overflows any integer is refused the same way, without allocating.
    assert_eq!(
        err("5999999999999999999999999999-[\"a\"]"),
        DecodeError::TooManyAttachments { offset: 1, max: 10 }
    );
    assert_eq!(
        err("5100000000000-[\"a\"]"),
        DecodeError::TooManyAttachments { offset: 1, max: 10 }
    );
    assert_eq!(
        err("218446744073709551616[\"a\"]"),
        DecodeError::AckIdOverflow { offset: 1 }
    );
    assert_eq!(
        err("2/a,99999999999999999999[\"a\"]"),
        DecodeError::AckIdOverflow { offset: 4 }
    );
    // u64::MAX itself is fine.
    assert!(
        decoder()
            .feed_text("218446744073709551615[\"a\"]")
            .unwrap()
            .is_some()
    );
}

#[test]
fn payload_errors() {
    use PacketType::*;
    assert_eq!(
        err("0[]"),
        DecodeError::InvalidPayload {
            packet_type: Connect,
            expected: "an object"
        }
    );
    assert_eq!(
        err("0\"x\""),
        DecodeError::InvalidPayload {
            packet_type: Connect,
            expected: "an object"
        }
    );
    assert_eq!(
        err("1{}"),
        DecodeError::UnexpectedPayload {
            packet_type: Disconnect,
            offset: 1
        }
    );
    assert_eq!(
        err("1/a,[]"),
        DecodeError::UnexpectedPayload {
            packet_type: Disconnect,
            offset: 4
        }
    );
    assert_eq!(err("2"), DecodeError::MissingPayload { packet_type: Event });
    assert_eq!(
        err("2/admin,"),
        DecodeError::MissingPayload { packet_type: Event }
    );
    assert!(matches!(
        err("2[]"),
        DecodeError::InvalidPayload {
            packet_type: Event,
            ..
        }
    ));
    assert!(matches!(
        err("2[[\"a\"]]"),
        DecodeError::InvalidPayload { .. }
    ));
    assert!(matches!(
        err(&format!("51-[{}]", ph("0"))),
        DecodeError::InvalidPayload {
            packet_type: BinaryEvent,
            ..
        }
    ));
    for name in sio_socketio_proto::RESERVED_EVENTS {
        assert_eq!(
            err(&format!("2[\"{name}\"]")),
            DecodeError::ReservedEvent { name: name.into() }
        );
    }
    assert_eq!(err("3[]"), DecodeError::MissingAckId { packet_type: Ack });
    assert_eq!(err("3{}"), DecodeError::MissingAckId { packet_type: Ack });
    assert_eq!(
        err("31{}"),
        DecodeError::InvalidPayload {
            packet_type: Ack,
            expected: "an array"
        }
    );
    assert_eq!(
        err("4"),
        DecodeError::MissingPayload {
            packet_type: ConnectError
        }
    );
    assert!(matches!(
        err("4[]"),
        DecodeError::InvalidPayload {
            packet_type: ConnectError,
            ..
        }
    ));
    assert!(matches!(err("4null"), DecodeError::InvalidPayload { .. }));
    assert_eq!(
        err("012{}"),
        DecodeError::UnexpectedAckId {
            packet_type: Connect,
            offset: 1
        }
    );
    assert_eq!(
        err("1/a,5"),
        DecodeError::UnexpectedAckId {
            packet_type: Disconnect,
            offset: 4
        }
    );
}

#[test]
fn json_errors_have_offsets() {
    assert!(matches!(
        err("2[\"a\""),
        DecodeError::InvalidJson { offset: 5, .. }
    ));
    assert!(matches!(
        err("2/abc,7[\"a\"]]"),
        DecodeError::InvalidJson { offset: 12, .. }
    ));
    assert!(matches!(
        err("2[\"a\",\"\\ud800\"]"),
        DecodeError::InvalidJson { .. }
    ));
    assert!(matches!(
        err("2[\"a\",1e400]"),
        DecodeError::InvalidJson { .. }
    ));
    // Nesting is bounded (serde_json's 128 levels), without recursion beyond it.
    let deep = format!("2[\"a\",{}1{}]", "[".repeat(200), "]".repeat(200));
    assert!(matches!(err(&deep), DecodeError::InvalidJson { .. }));
    let ok = format!("2[\"a\",{}1{}]", "[".repeat(120), "]".repeat(120));
    let packet = decoder().feed_text(&ok).unwrap().unwrap();
    // Whatever decodes re-encodes.
    assert_eq!(encode(&packet, ProtocolVersion::V5).unwrap().text, ok);
    assert!(msgpack::encode(&packet).is_ok());
}

#[test]
fn multibyte_utf8_at_every_boundary() {
    // Any prefix (on a char boundary) of a valid packet with multibyte text decodes or errors cleanly.
    let full = "52-/é€,12[\"𝄞é\",{\"ü\":\"€\"},{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
    for (i, _) in full.char_indices() {
        let _ = decoder().feed_text(&full[..i]);
        let _ = decoder().feed_text(&full[i..]);
    }
    let mut d = decoder();
    assert_eq!(d.feed_text(full).unwrap(), None);
    assert_eq!(d.pending_attachments(), 2);
}

#[test]
fn attachment_state_machine() {
    let mut d = decoder();
    assert_eq!(
        d.feed_binary(Bytes::from_static(b"x")),
        Err(DecodeError::UnexpectedBinary)
    );

    // A text packet while attachments are pending is refused and the decoder starts over.
    assert_eq!(
        d.feed_text(&format!("52-[\"a\",{},{}]", ph("0"), ph("1"))),
        Ok(None)
    );
    assert_eq!(d.feed_binary(Bytes::from_static(b"1")), Ok(None));
    assert_eq!(d.pending_attachments(), 1);
    assert_eq!(
        d.feed_text("2[\"b\"]"),
        Err(DecodeError::UnexpectedText { pending: 1 })
    );
    assert_eq!(d.pending_attachments(), 0);
    assert!(d.feed_text("2[\"b\"]").unwrap().is_some());

    // reset() drops a partial packet, like socket.io-parser's destroy().
    assert_eq!(d.feed_text(&format!("51-[\"a\",{}]", ph("0"))), Ok(None));
    d.reset();
    assert!(d.feed_text("2[\"hello\"]").unwrap().is_some());
    assert_eq!(
        d.feed_binary(Bytes::from_static(b"x")),
        Err(DecodeError::UnexpectedBinary)
    );
}

fn binary_err(text: &str, attachments: usize) -> DecodeError {
    let mut d = decoder();
    let mut result = d.feed_text(text);
    for _ in 0..attachments {
        assert_eq!(result, Ok(None), "{text}");
        result = d.feed_binary(Bytes::from_static(b"bin"));
    }
    result.unwrap_err()
}

#[test]
fn placeholder_errors() {
    assert_eq!(
        binary_err(&format!("51-[\"a\",{}]", ph("1")), 1),
        DecodeError::PlaceholderOutOfRange {
            num: 1,
            attachments: 1
        }
    );
    assert_eq!(
        binary_err(&format!("50-[\"a\",{}]", ph("0")), 0),
        DecodeError::PlaceholderOutOfRange {
            num: 0,
            attachments: 0
        }
    );
    for bad in ["-1", "0.5", "\"0\"", "null", "[0]"] {
        assert_eq!(
            binary_err(&format!("51-[\"a\",{}]", ph(bad)), 1),
            DecodeError::InvalidPlaceholder,
            "{bad}"
        );
    }
    assert_eq!(
        binary_err("51-[\"a\",{\"_placeholder\":true}]", 1),
        DecodeError::InvalidPlaceholder
    );
    assert_eq!(
        binary_err(&format!("52-[\"a\",{}]", ph("1")), 2),
        DecodeError::UnusedAttachment { index: 0 }
    );
    assert_eq!(
        binary_err("61-1[]", 1),
        DecodeError::UnusedAttachment { index: 0 }
    );
    // `_placeholder` other than `true` is an ordinary object, as in socket.io-parser.
    let mut d = decoder();
    d.feed_text(&format!(
        "51-[\"a\",{{\"_placeholder\":1,\"num\":0}},{}]",
        ph("0")
    ))
    .unwrap();
    let p = d.feed_binary(Bytes::from_static(b"z")).unwrap().unwrap();
    let Packet::Event { args, .. } = p else {
        panic!()
    };
    assert!(args[0].is_map());
    assert_eq!(args[1], Value::Binary(b"z".to_vec()));
    // The same attachment referred to twice is copied.
    let mut d = decoder();
    d.feed_text(&format!("51-[\"a\",{},[{}]]", ph("0"), ph("0")))
        .unwrap();
    let p = d.feed_binary(Bytes::from_static(b"q")).unwrap().unwrap();
    assert_eq!(
        p,
        Packet::event(
            "/",
            "a",
            vec![
                Value::Binary(b"q".to_vec()),
                Value::Array(vec![Value::Binary(b"q".to_vec())])
            ]
        )
    );
    // In a non-binary packet a placeholder-shaped object is just an object.
    let p = decoder()
        .feed_text(&format!("2[\"a\",{}]", ph("0")))
        .unwrap()
        .unwrap();
    let Packet::Event { args, .. } = p else {
        panic!()
    };
    assert!(args[0].is_map());
}

#[test]
fn encode_errors() {
    use ProtocolVersion::*;
    let enc = |p: &Packet| encode(p, V5).unwrap_err();
    assert_eq!(
        enc(&Packet::event("/", "disconnecting", vec![])),
        EncodeError::ReservedEvent {
            name: "disconnecting".into()
        }
    );
    assert!(matches!(
        enc(&Packet::event("admin", "a", vec![])),
        EncodeError::InvalidNamespace { .. }
    ));
    assert!(matches!(
        enc(&Packet::event("", "a", vec![])),
        EncodeError::InvalidNamespace { .. }
    ));
    assert!(matches!(
        enc(&Packet::event("/a,b", "a", vec![])),
        EncodeError::InvalidNamespace { .. }
    ));
    let with_query = Packet::Connect {
        nsp: "/a".into(),
        data: None,
        query: Some("x=1".into()),
    };
    assert_eq!(enc(&with_query), EncodeError::QueryNotSupported);
    assert_eq!(encode(&with_query, V4).unwrap().text, "0/a?x=1,");
    assert!(matches!(
        encode(
            &Packet::Connect {
                nsp: "/a?x".into(),
                data: None,
                query: None
            },
            V4
        ),
        Err(EncodeError::InvalidNamespace { .. })
    ));
    assert!(matches!(
        encode(
            &Packet::Connect {
                nsp: "/a".into(),
                data: None,
                query: Some("a,b".into())
            },
            V4
        ),
        Err(EncodeError::InvalidNamespace { .. })
    ));
    assert!(matches!(
        enc(&Packet::Connect {
            nsp: "/".into(),
            data: Some(Value::Array(vec![])),
            query: None
        }),
        EncodeError::InvalidPayload {
            packet_type: PacketType::Connect,
            ..
        }
    ));
    assert_eq!(
        enc(&Packet::Connect {
            nsp: "/".into(),
            data: Some(Value::Map(vec![(Value::from("k"), Value::Binary(vec![1]))])),
            query: None
        }),
        EncodeError::BinaryNotAllowed {
            packet_type: PacketType::Connect
        }
    );
    assert!(matches!(
        enc(&Packet::ConnectError {
            nsp: "/".into(),
            data: Value::Nil
        }),
        EncodeError::InvalidPayload { .. }
    ));
    assert!(matches!(
        enc(&Packet::event(
            "/",
            "a",
            vec![Value::Map(vec![(Value::Array(vec![]), Value::Nil)])]
        )),
        EncodeError::InvalidMapKey { kind: "array" }
    ));
    assert!(matches!(
        enc(&Packet::event("/", "a", vec![Value::Ext(3, vec![1])])),
        EncodeError::UnsupportedValue { .. }
    ));
    // rmpv keeps invalid UTF-8 it reads in a `Value::String`; neither encoder writes it.
    let bad_utf8 = rmpv::decode::read_value(&mut &[0xa1, 0xff][..]).unwrap();
    let bad_packet = Packet::event("/", "a", vec![bad_utf8]);
    assert_eq!(enc(&bad_packet), EncodeError::InvalidUtf8String);
    assert_eq!(
        msgpack::encode(&bad_packet),
        Err(EncodeError::InvalidUtf8String)
    );
    let mut deep = Value::from(1);
    for _ in 0..300 {
        deep = Value::Array(vec![deep]);
    }
    let deep_packet = Packet::event("/", "a", vec![deep]);
    assert!(matches!(enc(&deep_packet), EncodeError::DepthLimit { .. }));
    assert!(matches!(
        msgpack::encode(&deep_packet),
        Err(EncodeError::DepthLimit { .. })
    ));

    // On error, encode_into leaves the buffers as they were.
    let mut text = String::from("kept");
    let mut attachments = vec![Bytes::from_static(b"kept")];
    let bad = Packet::event(
        "/",
        "a",
        vec![Value::Binary(vec![1]), Value::Ext(1, vec![])],
    );
    assert!(encode_into(&bad, V5, &mut text, &mut attachments).is_err());
    assert_eq!(text, "kept");
    assert_eq!(attachments.len(), 1);
    let good = Packet::event("/", "a", vec![Value::Binary(vec![1])]);
    encode_into(&good, V5, &mut text, &mut attachments).unwrap();
    assert_eq!(text, format!("kept51-[\"a\",{}]", ph("0")));
    assert_eq!(attachments.len(), 2);
}

#[test]
fn encode_owned_moves_attachments() {
    let data = vec![7u8; 4096];
    let ptr = data.as_ptr();
    let packet = Packet::ack("/", 1, vec![Value::Binary(data)]);
    let borrowed = encode(&packet, ProtocolVersion::V5).unwrap();
    let owned = sio_socketio_proto::encode_owned(packet, ProtocolVersion::V5).unwrap();
    assert_eq!(borrowed, owned);
    assert_eq!(owned.attachments[0].as_ptr(), ptr);
}
