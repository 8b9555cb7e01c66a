#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Test vectors: the examples of the Engine.IO specification (v4 on main, v3 and v2
//! branches) and the literal strings of the Engine.IO compliance suites.

use sio_engineio_proto::payload::{self, Body};
use sio_engineio_proto::{
    Data, DecodeError, Handshake, Packet, PacketType, Revision, decode_binary, decode_text,
    decode_text_frame, encode_binary_frame,
};

fn v4(body: &[u8]) -> Vec<Packet<'_>> {
    payload::decode_v4(body).collect::<Result<_, _>>().unwrap()
}

fn v3s(body: &str) -> Vec<Packet<'_>> {
    payload::decode_v3_string(body.as_bytes())
        .collect::<Result<_, _>>()
        .unwrap()
}

fn v3b(body: &[u8]) -> Vec<Packet<'_>> {
    payload::decode_v3_binary(body)
        .collect::<Result<_, _>>()
        .unwrap()
}

fn enc_v4(packets: &[Packet<'_>]) -> String {
    let mut out = String::new();
    payload::encode_v4(packets, &mut out).unwrap();
    out
}

fn enc_v3s(packets: &[Packet<'_>]) -> String {
    let mut out = String::new();
    payload::encode_v3_string(packets, &mut out);
    out
}

fn enc_text(packet: &Packet<'_>) -> String {
    let mut out = String::new();
    packet.encode_text(&mut out).unwrap();
    out
}

fn bin(bytes: &[u8]) -> Packet<'static> {
    Packet::binary(bytes.to_vec())
}

// ---- v4 specification (main branch README) ----

const V4_HANDSHAKE: &str = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

#[test]
fn v4_spec_handshake() {
    let frame = format!("0{V4_HANDSHAKE}");
    let packet = decode_text(&frame).unwrap();
    let expected = Handshake {
        sid: "lv_VI97HAXpY6yYWAAAC".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 25000,
        ping_timeout: 20000,
        max_payload: Some(1_000_000),
    };
    assert_eq!(packet, Packet::Open(expected.clone()));
    assert_eq!(enc_text(&packet), frame);
    // The spec shows it pretty-printed; whitespace is accepted.
    let pretty = "0{\n  \"sid\": \"lv_VI97HAXpY6yYWAAAC\",\n  \"upgrades\": [\"websocket\"],\n  \"pingInterval\": 25000,\n  \"pingTimeout\": 20000,\n  \"maxPayload\": 1000000\n}";
    assert_eq!(decode_text(pretty).unwrap(), Packet::Open(expected));
}

#[test]
fn v4_spec_payload_examples() {
    let packets = v4(b"4hello\x1e2\x1e4world");
    assert_eq!(
        packets,
        [
            Packet::text("hello"),
            Packet::Ping("".into()),
            Packet::text("world")
        ]
    );
    assert_eq!(enc_v4(&packets), "4hello\x1e2\x1e4world");

    let packets = v4(b"4hello\x1ebAQIDBA==");
    assert_eq!(packets, [Packet::text("hello"), bin(&[1, 2, 3, 4])]);
    assert_eq!(enc_v4(&packets), "4hello\x1ebAQIDBA==");
}

#[test]
fn v4_spec_websocket_frames() {
    assert_eq!(decode_text("4hello").unwrap(), Packet::text("hello"));
    assert_eq!(decode_text("2").unwrap(), Packet::Ping("".into()));
    assert_eq!(decode_text("3").unwrap(), Packet::Pong("".into()));
    assert_eq!(decode_text("2probe").unwrap(), Packet::Ping("probe".into()));
    assert_eq!(decode_text("3probe").unwrap(), Packet::Pong("probe".into()));
    assert_eq!(decode_text("5").unwrap(), Packet::Upgrade);
    assert_eq!(decode_text("6").unwrap(), Packet::Noop);
    assert_eq!(decode_text("1").unwrap(), Packet::Close);
    // "Binary payloads are sent as is, without modification."
    assert_eq!(
        decode_binary(&[1, 2, 3, 4], Revision::V4).unwrap(),
        bin(&[1, 2, 3, 4])
    );
    let mut out = Vec::new();
    encode_binary_frame(&[1, 2, 3, 4], Revision::V4, &mut out);
    assert_eq!(out, [1, 2, 3, 4]);
}

#[test]
fn v4_spec_euro_is_not_length_prefixed() {
    // "For example, `€` was encoded to `2:4€`, though Buffer.byteLength('€') === 3."
    assert_eq!(enc_v4(&[Packet::text("€")]), "4€");
    assert_eq!(enc_v3s(&[Packet::text("€")]), "2:4€");
    assert_eq!(v3s("2:4€"), [Packet::text("€")]);
}

// ---- v4 compliance suite (test-suite/test-suite.js on main) ----

#[test]
fn compliance_v4_polling() {
    assert_eq!(v4(b"4hello"), [Packet::text("hello")]);
    let three = v4(b"4test1\x1e4test2\x1e4test3");
    assert_eq!(
        three,
        [
            Packet::text("test1"),
            Packet::text("test2"),
            Packet::text("test3")
        ]
    );
    assert_eq!(enc_v4(&three), "4test1\x1e4test2\x1e4test3");
    let mixed = v4(b"4hello\x1ebAQIDBA==");
    assert_eq!(enc_v4(&mixed), "4hello\x1ebAQIDBA==");
    // Server ping, client pong, close, noop for a pending GET.
    assert_eq!(v4(b"2"), [Packet::Ping("".into())]);
    assert_eq!(v4(b"3"), [Packet::Pong("".into())]);
    assert_eq!(v4(b"1"), [Packet::Close]);
    assert_eq!(enc_v4(&[Packet::Noop]), "6");
    assert_eq!(enc_v4(&[Packet::Close]), "1");
    // "abc" is an invalid packet: the session must be closed.
    let err = payload::decode_v4(b"abc").next().unwrap().unwrap_err();
    assert_eq!(
        err,
        DecodeError::InPayload {
            index: 0,
            error: Box::new(DecodeError::UnknownPacketType {
                byte: b'a',
                offset: 0
            }),
        }
    );
}

#[test]
fn compliance_v4_websocket() {
    assert_eq!(enc_text(&decode_text("4hello").unwrap()), "4hello");
    assert_eq!(enc_text(&Packet::Pong("probe".into())), "3probe");
    assert_eq!(enc_text(&Packet::Ping("".into())), "2");
    assert_eq!(enc_text(&Packet::Noop), "6");
    assert!(matches!(
        decode_text("abc"),
        Err(DecodeError::UnknownPacketType {
            byte: b'a',
            offset: 0
        })
    ));
    // The suite's binary frame, echoed unchanged.
    let frame = [1u8, 2, 3, 4];
    let packet = decode_binary(&frame, Revision::V4).unwrap();
    let mut out = Vec::new();
    if let Packet::Message(Data::Binary(b)) = &packet {
        encode_binary_frame(b, Revision::V4, &mut out);
    }
    assert_eq!(out, frame);
}

#[test]
fn compliance_handshake_keys_in_order() {
    let hs = Handshake {
        sid: "abc".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 300,
        ping_timeout: 200,
        max_payload: Some(1_000_000),
    };
    assert_eq!(
        enc_text(&Packet::Open(hs.clone())),
        r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
    );
    let ws = Handshake {
        upgrades: vec![],
        ..hs
    };
    assert_eq!(
        ws.to_json(),
        r#"{"sid":"abc","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
    );
}

// ---- v3 specification (v3 branch README) ----

const V3_HANDSHAKE: &str = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;

#[test]
fn v3_spec_sample_session() {
    let open = format!("96:{V3_HANDSHAKE}");
    let packets = v3s(&open);
    let expected = Packet::Open(Handshake {
        sid: "lv_VI97HAXpY6yYWAAAC".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 25000,
        ping_timeout: 5000,
        max_payload: None,
    });
    assert_eq!(packets, [expected]);
    assert_eq!(enc_v3s(&packets), open);

    assert_eq!(v3s("4:4hey"), [Packet::text("hey")]);
    let two = v3s("6:4hello6:4world");
    assert_eq!(two, [Packet::text("hello"), Packet::text("world")]);
    assert_eq!(enc_v3s(&two), "6:4hello6:4world");
}

#[test]
fn v3_spec_websocket_frames() {
    for (frame, packet) in [
        ("2probe", Packet::Ping("probe".into())),
        ("3probe", Packet::Pong("probe".into())),
        ("5", Packet::Upgrade),
        ("4hello", Packet::text("hello")),
        ("4HelloWorld", Packet::text("HelloWorld")),
        ("2", Packet::Ping("".into())),
        ("3", Packet::Pong("".into())),
        ("1", Packet::Close),
        ("6", Packet::Noop),
    ] {
        assert_eq!(decode_text(frame).unwrap(), packet);
        assert_eq!(enc_text(&packet), frame);
    }
    let ws_only = r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#;
    assert!(matches!(decode_text(ws_only).unwrap(), Packet::Open(h) if h.upgrades.is_empty()));
    // `4|0|1|2|3|4|5`: a binary message frame.
    let frame = [4u8, 0, 1, 2, 3, 4, 5];
    assert_eq!(
        decode_binary(&frame, Revision::V3).unwrap(),
        bin(&[0, 1, 2, 3, 4, 5])
    );
    let mut out = Vec::new();
    encode_binary_frame(&[0, 1, 2, 3, 4, 5], Revision::V3, &mut out);
    assert_eq!(out, frame);
}

#[test]
fn v3_spec_payload_examples() {
    let packets = [Packet::text("hello"), Packet::text("€")];
    assert_eq!(enc_v3s(&packets), "6:4hello2:4€");
    assert_eq!(v3s("6:4hello2:4€"), packets);

    let mixed = [Packet::text("€"), bin(&[1, 2, 3, 4])];
    let xhr2 = [
        0x00, 0x04, 0xff, 0x34, 0xe2, 0x82, 0xac, 0x01, 0x05, 0xff, 0x04, 0x01, 0x02, 0x03, 0x04,
    ];
    assert_eq!(
        payload::encode_v3(&mixed, true),
        Body::Binary(xhr2.to_vec())
    );
    assert_eq!(v3b(&xhr2), mixed);
    assert_eq!(
        payload::encode_v3(&mixed, false),
        Body::Text("2:4€10:b4AQIDBA==".into())
    );
    assert_eq!(v3s("2:4€10:b4AQIDBA=="), mixed);
}

#[test]
fn v3_spec_jsonp_frame() {
    let mut out = String::new();
    payload::encode_jsonp("4", "packet data", &mut out).unwrap();
    assert_eq!(out, r#"___eio[4]("packet data");"#);
}

// ---- v3 compliance suite (test-suite/test-suite.js on the v3 branch) ----

#[test]
fn compliance_v3_polling() {
    for body in [
        "6:4hello",
        "6:4test16:4test26:4test3",
        "6:4hello10:b4AQIDBA==",
        "1:1",
        "1:2",
        "1:3",
    ] {
        let packets = v3s(body);
        assert_eq!(enc_v3s(&packets), body);
        assert_eq!(payload::encode_v3(&packets, false), Body::Text(body.into()));
    }
    assert_eq!(v3s("1:1"), [Packet::Close]);
    // With binary support the echo comes back as an XHR2 binary payload.
    let packets = v3s("6:4hello10:b4AQIDBA==");
    let expected = [
        0u8, 6, 255, 52, 104, 101, 108, 108, 111, 1, 5, 255, 4, 1, 2, 3, 4,
    ];
    let body = payload::encode_v3(&packets, true);
    assert_eq!(body.content_type(), "application/octet-stream");
    assert_eq!(body, Body::Binary(expected.to_vec()));
    assert_eq!(v3b(&expected), packets);
    // Without binary packets the string form is used even when binary is supported.
    let body = payload::encode_v3(&v3s("6:4hello"), true);
    assert_eq!(body.content_type(), "text/plain; charset=UTF-8");
    // "abc" is not a payload.
    assert!(payload::decode_v3_string(b"abc").next().unwrap().is_err());
}

#[test]
fn compliance_v3_websocket() {
    let frame = [4u8, 1, 2, 3, 4];
    let packet = decode_binary(&frame, Revision::V3).unwrap();
    assert_eq!(packet, bin(&[1, 2, 3, 4]));
    assert!(decode_text("abc").is_err());
}

#[test]
fn v3_auto_detection() {
    let text: Vec<_> = payload::decode_v3(b"6:4hello")
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(text, [Packet::text("hello")]);
    let binary: Vec<_> = payload::decode_v3(&[1, 2, 255, 4, 9])
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(binary, [bin(&[9])]);
}

#[test]
fn v3_empty_list_and_zero_length_packets() {
    // Node encodes an empty list as `0:` and skips zero-length packets when decoding.
    assert_eq!(enc_v3s(&[]), "0:");
    assert!(v3s("0:").is_empty());
    assert_eq!(v3s("0:1:6"), [Packet::Noop]);
    let mut out = Vec::new();
    payload::encode_v3_binary(&[], &mut out);
    assert!(out.is_empty());
}

#[test]
fn v3_utf16_lengths() {
    // € is one UTF-16 code unit, an emoji two.
    assert_eq!(enc_v3s(&[Packet::text("😀")]), "3:4😀");
    assert_eq!(v3s("3:4😀"), [Packet::text("😀")]);
    assert_eq!(v3s("4:4a😀1:6"), [Packet::text("a😀"), Packet::Noop]);
    // In the XHR2 form, string lengths count UTF-8 bytes.
    let mut out = Vec::new();
    payload::encode_v3_binary(&[Packet::text("😀")], &mut out);
    assert_eq!(out, [0, 5, 255, b'4', 0xf0, 0x9f, 0x98, 0x80]);
}

#[test]
fn v3_colon_inside_packet() {
    let packets = v3s("5:4a:b:3:4c:");
    assert_eq!(packets, [Packet::text("a:b:"), Packet::text("c:")]);
}

#[test]
fn v3_base64_string_inside_xhr2() {
    // Node's decoder also reads `b4<base64>` string entries in the binary form.
    let mut body = vec![0, 1, 0, 255];
    body.extend_from_slice(b"b4AQIDBA==");
    assert_eq!(v3b(&body), [bin(&[1, 2, 3, 4])]);
}

#[test]
fn base64_text_frames() {
    // forceBase64 / b64=1 peers send binary messages as text over WebSocket.
    assert_eq!(
        decode_text_frame("bAQIDBA==", Revision::V4).unwrap(),
        bin(&[1, 2, 3, 4])
    );
    assert_eq!(
        decode_text_frame("b4AQIDBA==", Revision::V3).unwrap(),
        bin(&[1, 2, 3, 4])
    );
    assert_eq!(
        decode_text_frame("4b", Revision::V3).unwrap(),
        Packet::text("b")
    );
    let mut out = String::new();
    bin(&[1, 2, 3, 4]).encode_text_base64(Revision::V3, &mut out);
    assert_eq!(out, "b4AQIDBA==");
    out.clear();
    bin(&[1, 2, 3, 4]).encode_text_base64(Revision::V4, &mut out);
    assert_eq!(out, "bAQIDBA==");
    // Missing padding is tolerated, as Node does.
    assert_eq!(
        decode_text_frame("bAQIDBA", Revision::V4).unwrap(),
        bin(&[1, 2, 3, 4])
    );
}

#[test]
fn jsonp_round_trip_with_v3_payload() {
    let packets = [Packet::text("a\nb"), Packet::text(r"c\nd"), bin(&[0xff])];
    let Body::Text(text) = payload::encode_v3(&packets, false) else {
        panic!("JSONP needs a text body");
    };
    let mut script = String::new();
    payload::encode_jsonp("0", &text, &mut script).unwrap();
    assert_eq!(script, r#"___eio[0]("4:4a\nb5:4c\\nd6:b4/w==");"#);

    let mut form = String::new();
    payload::encode_jsonp_body(&text, &mut form);
    let back = payload::decode_jsonp_body(form.as_bytes()).unwrap();
    assert_eq!(back, text);
    assert_eq!(v3s(&back), packets);
}

#[test]
fn jsonp_body_as_the_browser_client_sends_it() {
    // The browser client turns newlines into `\n` and `\n` into `\\n` before posting.
    let body = br"d=4:4a%5Cnb5:4c%5C%5Cnd";
    let text = payload::decode_jsonp_body(body).unwrap();
    assert_eq!(text, "4:4a\nb5:4c\\nd");
    assert_eq!(v3s(&text), [Packet::text("a\nb"), Packet::text(r"c\nd")]);
}

#[test]
fn packet_types_on_the_wire() {
    for (c, t) in "0123456".chars().zip([
        PacketType::Open,
        PacketType::Close,
        PacketType::Ping,
        PacketType::Pong,
        PacketType::Message,
        PacketType::Upgrade,
        PacketType::Noop,
    ]) {
        assert_eq!(t.as_char(), c);
        assert_eq!(PacketType::try_from(c), Ok(t));
    }
}
