#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]
//! Test vectors: the examples of the 0.9 specification, of protocols.md and the cases of
//! the 0.9 reference parser's test suite (socket.io@0.9.19 test/parser.test.js), decoded
//! and encoded.

use serde_json::json;
use sio_legacy_proto::{
    DecodeError, Handshake, Message, MessageId, Paths, decode, decode_payload, encode_payload,
    encode_payload_raw, frames,
};

fn s(x: &str) -> String {
    x.to_owned()
}

fn error(endpoint: &str, reason: &str, advice: Option<&str>) -> Message {
    Message::Error {
        endpoint: s(endpoint),
        reason: s(reason),
        advice: advice.map(s),
    }
}

fn text(id: Option<MessageId>, endpoint: &str, data: &str) -> Message {
    Message::Message {
        id,
        endpoint: s(endpoint),
        data: s(data),
    }
}

fn event(
    id: Option<MessageId>,
    endpoint: &str,
    name: &str,
    args: Vec<serde_json::Value>,
) -> Message {
    Message::Event {
        id,
        endpoint: s(endpoint),
        name: s(name),
        args,
    }
}

fn ack(ack_id: u64, args: Vec<serde_json::Value>) -> Message {
    Message::Ack {
        endpoint: String::new(),
        ack_id,
        args,
    }
}

fn connect(endpoint: &str, query: Option<&str>) -> Message {
    Message::Connect {
        endpoint: s(endpoint),
        query: query.map(s),
    }
}

fn disconnect(endpoint: &str) -> Message {
    Message::Disconnect {
        endpoint: s(endpoint),
    }
}

/// Wire strings that decode to the value and that the value encodes back to.
fn canonical() -> Vec<(&'static str, Message)> {
    vec![
        // Reference parser tests (decoding and encoding).
        ("7::", error("", "", None)),
        ("7:::0", error("", "transport not supported", None)),
        ("7:::2+0", error("", "unauthorized", Some("reconnect"))),
        ("7::/woot", error("/woot", "", None)),
        ("6:::140", ack(140, vec![])),
        (
            "6:::12+[\"woot\",\"wa\"]",
            ack(12, vec![json!("woot"), json!("wa")]),
        ),
        (
            "4:::\"2\"",
            Message::Json {
                id: None,
                endpoint: s(""),
                data: json!("2"),
            },
        ),
        (
            "4:1+::{\"a\":\"b\"}",
            Message::Json {
                id: Some(MessageId::user(1)),
                endpoint: s(""),
                data: json!({"a": "b"}),
            },
        ),
        ("5:::{\"name\":\"woot\"}", event(None, "", "woot", vec![])),
        (
            "5:1+::{\"name\":\"tobi\"}",
            event(Some(MessageId::user(1)), "", "tobi", vec![]),
        ),
        (
            "5:::{\"name\":\"edwald\",\"args\":[{\"a\":\"b\"},2,\"3\"]}",
            event(
                None,
                "",
                "edwald",
                vec![json!({"a": "b"}), json!(2), json!("3")],
            ),
        ),
        ("3:::woot", text(None, "", "woot")),
        ("3:5:/tobi", text(Some(MessageId::auto(5)), "/tobi", "")),
        ("2::", Message::Heartbeat),
        ("1::/tobi", connect("/tobi", None)),
        ("1::/test:?test=1", connect("/test", Some("?test=1"))),
        ("0::/woot", disconnect("/woot")),
        ("3:::\n", text(None, "", "\n")),
        // protocols.md
        ("2::", Message::Heartbeat),
        ("3:::text", text(None, "", "text")),
        (
            "4:::{\"a\":\"b\"}",
            Message::Json {
                id: None,
                endpoint: s(""),
                data: json!({"a": "b"}),
            },
        ),
        (
            "5:1+:/chat:{\"name\":\"join\",\"args\":[{\"room\":1}]}",
            event(
                Some(MessageId::user(1)),
                "/chat",
                "join",
                vec![json!({"room": 1})],
            ),
        ),
        ("6:::1+[\"ok\"]", ack(1, vec![json!("ok")])),
        ("0::/chat", disconnect("/chat")),
        // A free-form reason and advice are kept verbatim.
        ("7:::reason+advice", error("", "reason", Some("advice"))),
        // The specification.
        ("0::/test", disconnect("/test")),
        ("3:1::blabla", text(Some(MessageId::auto(1)), "", "blabla")),
        (
            "4:1::{\"a\":\"b\"}",
            Message::Json {
                id: Some(MessageId::auto(1)),
                endpoint: s(""),
                data: json!({"a": "b"}),
            },
        ),
        ("6:::4", ack(4, vec![])),
        ("6:::4+[\"A\",\"B\"]", ack(4, vec![json!("A"), json!("B")])),
        // What the 0.9 server sends: noop closing a poll, the whole-socket disconnect, the
        // JSONP transport's parse error (`error('parse', 'reconnect')` writes the unknown
        // reason as "undefined").
        ("8::", Message::Noop),
        ("0::", disconnect("")),
        ("7:::undefined+0", error("", "undefined", Some("reconnect"))),
        ("7::/admin:2", error("/admin", "unauthorized", None)),
        // Ids and endpoints together, multibyte data.
        (
            "5:18446744073709551615:/ns:{\"name\":\"é😀\",\"args\":[[],{},null,true,-1,1.5]}",
            event(
                Some(MessageId::auto(u64::MAX)),
                "/ns",
                "é😀",
                vec![
                    json!([]),
                    json!({}),
                    json!(null),
                    json!(true),
                    json!(-1),
                    json!(1.5),
                ],
            ),
        ),
        ("3:::a:b:c", text(None, "", "a:b:c")),
        ("3:::\u{fffd}5\u{fffd}", text(None, "", "\u{fffd}5\u{fffd}")),
        ("3:7+:/é:€", text(Some(MessageId::user(7)), "/é", "€")),
    ]
}

#[test]
fn canonical_vectors_decode_and_encode() {
    for (wire, msg) in canonical() {
        assert_eq!(decode(wire).unwrap(), msg, "decoding {wire:?}");
        assert_eq!(msg.to_encoded(), wire, "encoding {msg:?}");
        assert_eq!(msg.validate(), Ok(()));
    }
}

/// Inputs the reference parser accepts that have another canonical form.
#[test]
fn non_canonical_inputs() {
    let cases: Vec<(&str, Message, &str)> = vec![
        ("7:::", error("", "", None), "7::"),
        ("2:::", Message::Heartbeat, "2::"),
        ("8:::", Message::Noop, "8::"),
        ("0::/woot:", disconnect("/woot"), "0::/woot"),
        ("1::/tobi:", connect("/tobi", None), "1::/tobi"),
        ("3:::", text(None, "", ""), "3::"),
        ("3:007:", text(Some(MessageId::auto(7)), "", ""), "3:7:"),
        ("6:::1+", ack(1, vec![]), "6:::1"),
        ("6:::1+[]", ack(1, vec![]), "6:::1"),
        ("7:::+", error("", "", None), "7::"),
        ("7:::1+", error("", "client not handshaken", None), "7:::1"),
        (
            "7:::transport not supported",
            error("", "transport not supported", None),
            "7:::0",
        ),
        ("7:::02+00", error("", "02", Some("00")), "7:::02+00"),
        (
            "7:::1+0+5",
            error("", "client not handshaken", Some("0+5")),
            "7:::1+0+5",
        ),
        (
            "5:::{\"name\":\"a\",\"args\":[]}",
            event(None, "", "a", vec![]),
            "5:::{\"name\":\"a\"}",
        ),
        (
            "5:::{\"name\":\"a\",\"args\":null}",
            event(None, "", "a", vec![]),
            "5:::{\"name\":\"a\"}",
        ),
        (
            "5:::{\"args\":[1],\"other\":{\"x\":[]},\"name\":\"a\"}",
            event(None, "", "a", vec![json!(1)]),
            "5:::{\"name\":\"a\",\"args\":[1]}",
        ),
        (
            "5:::{\"name\":\"edwald\",\"args\":[{\"a\": \"b\"},2,\"3\"]}",
            event(
                None,
                "",
                "edwald",
                vec![json!({"a": "b"}), json!(2), json!("3")],
            ),
            "5:::{\"name\":\"edwald\",\"args\":[{\"a\":\"b\"},2,\"3\"]}",
        ),
        (
            "4::: [1, 2] ",
            Message::Json {
                id: None,
                endpoint: s(""),
                data: json!([1, 2]),
            },
            "4:::[1,2]",
        ),
        // The specification writes the query inside the endpoint; the reference parser
        // reads the endpoint up to the next ':' so the query stays part of the endpoint.
        (
            "1::/chat?my=param",
            connect("/chat?my=param", None),
            "1::/chat?my=param",
        ),
    ];
    for (wire, msg, canonical) in cases {
        assert_eq!(decode(wire).unwrap(), msg, "decoding {wire:?}");
        assert_eq!(msg.to_encoded(), canonical, "encoding {msg:?}");
    }
}

#[test]
fn reference_payload_vectors() {
    let decoded: Vec<Message> =
        decode_payload("\u{fffd}5\u{fffd}3:::5\u{fffd}7\u{fffd}3:::53d\u{fffd}3\u{fffd}0::")
            .collect::<Result<_, _>>()
            .unwrap();
    assert_eq!(
        decoded,
        vec![text(None, "", "5"), text(None, "", "53d"), disconnect("")]
    );

    let mut out = String::new();
    encode_payload(&[text(None, "", "5"), text(None, "", "53d")], &mut out);
    assert_eq!(out, "\u{fffd}5\u{fffd}3:::5\u{fffd}7\u{fffd}3:::53d");

    let mut raw = String::new();
    encode_payload_raw(["3:::5", "3:::53d"], &mut raw);
    assert_eq!(raw, out);
}

#[test]
fn payload_lengths_count_utf16_code_units() {
    // "3:::é" is 6 bytes but 5 UTF-16 units; "3:::😀" is 8 bytes, 6 units; "3:::€" 7 bytes, 5 units.
    let msgs = [
        text(None, "", "é"),
        text(None, "", "😀"),
        text(None, "", "€"),
    ];
    let mut out = String::new();
    encode_payload(&msgs, &mut out);
    assert_eq!(
        out,
        "\u{fffd}5\u{fffd}3:::é\u{fffd}6\u{fffd}3:::😀\u{fffd}5\u{fffd}3:::€"
    );
    let back: Vec<Message> = decode_payload(&out).collect::<Result<_, _>>().unwrap();
    assert_eq!(back, msgs);

    // Messages that contain the frame marker themselves.
    let msgs = [text(None, "", "\u{fffd}1\u{fffd}"), Message::Heartbeat];
    let mut out = String::new();
    encode_payload(&msgs, &mut out);
    assert_eq!(
        out,
        "\u{fffd}7\u{fffd}3:::\u{fffd}1\u{fffd}\u{fffd}3\u{fffd}2::"
    );
    let back: Vec<Message> = decode_payload(&out).collect::<Result<_, _>>().unwrap();
    assert_eq!(back, msgs);
}

#[test]
fn unframed_bodies() {
    let mut it = decode_payload("5:::{\"name\":\"a\"}");
    assert!(!it.is_framed());
    assert_eq!(it.next().unwrap().unwrap(), event(None, "", "a", vec![]));
    assert!(it.next().is_none());
    assert!(decode_payload("").next().is_none());
    assert_eq!(frames("2::").collect::<Vec<_>>().len(), 1);
    // One framed message is also accepted.
    let one: Vec<_> = decode_payload("\u{fffd}3\u{fffd}2::").collect();
    assert_eq!(one.len(), 1);
    assert!(decode_payload("\u{fffd}3\u{fffd}2::").is_framed());
}

#[test]
fn lazy_payload_decoding_can_stop_early() {
    let mut body = String::new();
    let msgs = vec![Message::Heartbeat; 1000];
    encode_payload(&msgs, &mut body);
    assert_eq!(decode_payload(&body).take(3).count(), 3);
}

#[test]
fn a_bad_message_inside_a_good_frame_does_not_stop_the_payload() {
    let body = "\u{fffd}3\u{fffd}2::\u{fffd}3\u{fffd}9::\u{fffd}3\u{fffd}8::";
    let got: Vec<_> = decode_payload(body).collect();
    assert_eq!(got.len(), 3);
    assert!(matches!(got[0], Ok(Message::Heartbeat)));
    match &got[1] {
        Err(DecodeError::Frame {
            index,
            offset,
            source,
        }) => {
            assert_eq!((*index, *offset), (1, 17));
            assert!(matches!(**source, DecodeError::InvalidType { offset: 0 }));
            assert!(got[1].as_ref().unwrap_err().to_string().contains("frame 1"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(got[2], Ok(Message::Noop)));
}

#[test]
fn spec_handshake_and_urls() {
    let hs = Handshake::parse("4d4f185e96a7b:15:10:websocket,xhr-polling").unwrap();
    assert_eq!(
        hs,
        Handshake {
            sid: s("4d4f185e96a7b"),
            heartbeat_timeout: Some(15),
            close_timeout: Some(10),
            transports: vec![s("websocket"), s("xhr-polling")],
        }
    );
    let wire = "Fh9EeeuAekJ_tQtguLVj:60:60:websocket,htmlfile,xhr-polling,jsonp-polling";
    let hs: Handshake = wire.parse().unwrap();
    assert_eq!(hs.to_string(), wire);
    let mut out = String::new();
    hs.encode(&mut out);
    assert_eq!(out, wire);
    // Heartbeats disabled: empty heartbeat timeout.
    let hs = Handshake::parse("abc::25:xhr-polling").unwrap();
    assert_eq!(hs.heartbeat_timeout, None);
    assert_eq!(hs.to_string(), "abc::25:xhr-polling");

    let paths = Paths::new("/socket.io");
    assert_eq!(paths.handshake(), "/socket.io/1/");
    assert_eq!(
        paths.websocket("4d4f185e96a7b"),
        "/socket.io/1/websocket/4d4f185e96a7b"
    );
    assert_eq!(
        paths.disconnect("xhr-polling", "812738127387123"),
        "/socket.io/1/xhr-polling/812738127387123?disconnect"
    );
    assert_eq!(
        paths.jsonp_polling("Fh9EeeuAekJ_tQtguLVj", 3),
        "/socket.io/1/jsonp-polling/Fh9EeeuAekJ_tQtguLVj?i=3"
    );
}
