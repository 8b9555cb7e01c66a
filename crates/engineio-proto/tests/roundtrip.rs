#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
//! Property tests: encode then decode gives the same value, for every packet kind and
//! every framing of every revision; decoders never panic on arbitrary input.

use proptest::prelude::*;
use sio_engineio_proto::payload::{self, Body};
use sio_engineio_proto::{
    Data, Handshake, Packet, Revision, decode_binary, decode_text, decode_text_frame,
    encode_binary_frame,
};

fn revision() -> impl Strategy<Value = Revision> {
    prop_oneof![Just(Revision::V3), Just(Revision::V4)]
}

/// Any text, with a bias towards the characters that matter to the framings.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => any::<String>(),
        1 => proptest::collection::vec(
            prop_oneof![
                Just('\x1e'), Just(':'), Just('b'), Just('4'), Just('\\'), Just('n'),
                Just('\n'), Just('"'), Just('€'), Just('😀'), Just('\u{2028}'), Just('%'),
                Just('+'), Just('&'), Just('='), Just('\0'), any::<char>(),
            ],
            0..24,
        )
        .prop_map(|chars| chars.into_iter().collect()),
    ]
}

fn handshake() -> impl Strategy<Value = Handshake> {
    (
        text(),
        proptest::collection::vec(text(), 0..3),
        any::<u64>(),
        any::<u64>(),
        proptest::option::of(any::<u64>()),
    )
        .prop_map(
            |(sid, upgrades, ping_interval, ping_timeout, max_payload)| Handshake {
                sid,
                upgrades,
                ping_interval,
                ping_timeout,
                max_payload,
            },
        )
}

/// Any packet; binary messages only when `binary`.
fn packet(binary: bool) -> impl Strategy<Value = Packet<'static>> {
    let bin = if binary { 2 } else { 0 };
    prop_oneof![
        1 => handshake().prop_map(Packet::Open),
        1 => Just(Packet::Close),
        1 => text().prop_map(|t| Packet::Ping(t.into())),
        1 => text().prop_map(|t| Packet::Pong(t.into())),
        3 => text().prop_map(Packet::text),
        bin => proptest::collection::vec(any::<u8>(), 0..64).prop_map(Packet::binary),
        1 => Just(Packet::Upgrade),
        1 => Just(Packet::Noop),
    ]
}

/// Packets whose text has no record separator, as a V4 payload requires.
fn v4_packet() -> impl Strategy<Value = Packet<'static>> {
    packet(true).prop_map(|p| match p {
        Packet::Ping(t) => Packet::Ping(t.replace('\x1e', "").into()),
        Packet::Pong(t) => Packet::Pong(t.replace('\x1e', "").into()),
        Packet::Message(Data::Text(t)) => Packet::text(t.replace('\x1e', "")),
        other => other,
    })
}

fn collect<'a>(
    it: impl Iterator<Item = Result<Packet<'a>, sio_engineio_proto::DecodeError>>,
) -> Vec<Packet<'static>> {
    it.map(|p| p.unwrap().into_owned()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_frame(p in packet(false)) {
        let mut out = String::new();
        p.encode_text(&mut out).unwrap();
        prop_assert_eq!(decode_text(&out).unwrap(), p.clone());
        prop_assert_eq!(decode_text_frame(&out, Revision::V3).unwrap(), p.clone());
        prop_assert_eq!(decode_text_frame(&out, Revision::V4).unwrap(), p);
    }

    #[test]
    fn base64_text_frame(p in packet(true), rev in revision()) {
        let mut out = String::new();
        p.encode_text_base64(rev, &mut out);
        prop_assert_eq!(decode_text_frame(&out, rev).unwrap(), p.clone());
        // Without binary it is the plain text form.
        if !p.is_binary() {
            let mut plain = String::new();
            p.encode_text(&mut plain).unwrap();
            prop_assert_eq!(plain, out);
        }
    }

    #[test]
    fn binary_frame(data in proptest::collection::vec(any::<u8>(), 0..256), rev in revision()) {
        let mut out = Vec::new();
        encode_binary_frame(&data, rev, &mut out);
        prop_assert_eq!(decode_binary(&out, rev).unwrap(), Packet::binary(data));
    }

    #[test]
    fn v4_payload(packets in proptest::collection::vec(v4_packet(), 1..8)) {
        let mut out = String::new();
        payload::encode_v4(&packets, &mut out).unwrap();
        prop_assert_eq!(collect(payload::decode_v4(out.as_bytes())), packets);
    }

    #[test]
    fn v4_payload_refuses_separator(packets in proptest::collection::vec(packet(true), 1..8)) {
        let mut out = String::new();
        match payload::encode_v4(&packets, &mut out) {
            Ok(()) => prop_assert_eq!(collect(payload::decode_v4(out.as_bytes())), packets),
            Err(_) => prop_assert!(out.is_empty()),
        }
    }

    #[test]
    fn v3_string_payload(packets in proptest::collection::vec(packet(true), 0..8)) {
        let mut out = String::new();
        payload::encode_v3_string(&packets, &mut out);
        prop_assert_eq!(collect(payload::decode_v3_string(out.as_bytes())), packets.clone());
        // Each length prefix counts UTF-16 code units, as JavaScript's `length` does.
        let mut rest = out.as_str();
        for p in &packets {
            let (len, tail) = rest.split_once(':').unwrap();
            let len: usize = len.parse().unwrap();
            let mut one = String::new();
            p.encode_text_base64(Revision::V3, &mut one);
            prop_assert_eq!(len, one.encode_utf16().count());
            rest = tail.strip_prefix(one.as_str()).unwrap();
        }
    }

    #[test]
    fn v3_string_long_multibyte(
        chars in proptest::collection::vec(
            prop_oneof![Just('a'), Just('é'), Just('€'), Just('😀')], 0..400),
        extra in proptest::collection::vec(
            prop_oneof![Just('a'), Just('é'), Just('€'), Just('😀')], 0..4),
    ) {
        // Long enough to cross the decoder's 64-byte counting chunks anywhere.
        let text: String = chars.into_iter().collect();
        let tail: String = extra.into_iter().collect();
        let packets = [Packet::text(text.clone()), Packet::text(tail.clone())];
        let mut out = String::new();
        payload::encode_v3_string(&packets, &mut out);
        prop_assert_eq!(collect(payload::decode_v3_string(out.as_bytes())), packets.to_vec());
        // A length one short or one long either cuts a character or lands elsewhere:
        // a packet of a different text or an error, never a panic.
        let units = text.encode_utf16().count() + 1;
        for wrong in [units.saturating_sub(1), units + 1] {
            let body = format!("{wrong}:4{text}");
            match payload::decode_v3_string(body.as_bytes()).next() {
                Some(Ok(Packet::Message(Data::Text(t)))) => {
                    prop_assert_eq!(t.encode_utf16().count() + 1, wrong);
                }
                Some(Ok(other)) => prop_assert!(false, "{:?}", other),
                Some(Err(_)) | None => {}
            }
        }
    }

    #[test]
    fn v3_binary_payload(packets in proptest::collection::vec(packet(true), 1..8)) {
        let mut out = Vec::new();
        payload::encode_v3_binary(&packets, &mut out);
        prop_assert_eq!(collect(payload::decode_v3_binary(&out)), packets);
    }

    #[test]
    fn v3_chosen_body(packets in proptest::collection::vec(packet(true), 1..8), binary in any::<bool>()) {
        let body = payload::encode_v3(&packets, binary);
        let has_binary = packets.iter().any(Packet::is_binary);
        prop_assert_eq!(matches!(body, Body::Binary(_)), binary && has_binary);
        prop_assert_eq!(collect(payload::decode_v3(body.as_bytes())), packets);
    }

    #[test]
    fn jsonp_body(s in text()) {
        let mut form = String::new();
        payload::encode_jsonp_body(&s, &mut form);
        prop_assert_eq!(payload::decode_jsonp_body(form.as_bytes()).unwrap(), s);
    }

    #[test]
    fn jsonp_script(index in "[0-9]{1,4}", s in text()) {
        let mut out = String::new();
        payload::encode_jsonp(&index, &s, &mut out).unwrap();
        let prefix = format!("___eio[{index}](");
        let literal = out.strip_prefix(&prefix).unwrap().strip_suffix(");").unwrap();
        // The literal is JSON (what `JSON.stringify` gives) and safe in any JavaScript.
        prop_assert_eq!(serde_json::from_str::<String>(literal).unwrap(), s);
        let unsafe_chars = ['\u{2028}', '\u{2029}', '\n', '\r'];
        prop_assert!(!literal.contains(unsafe_chars), "raw line terminator in {}", literal);
    }

    #[test]
    fn lazy_decoders_stop_when_asked(packets in proptest::collection::vec(v4_packet(), 1..8), n in 0usize..8) {
        let mut out = String::new();
        payload::encode_v4(&packets, &mut out).unwrap();
        prop_assert_eq!(payload::decode_v4(out.as_bytes()).take(n).count(), n.min(packets.len()));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Arbitrary bytes: never a panic, and whatever decodes re-encodes to something that
    /// decodes to the same packets.
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        if let Ok(v) = payload::decode_v4(&bytes).collect::<Result<Vec<_>, _>>() {
            let mut out = String::new();
            if payload::encode_v4(&v, &mut out).is_ok() {
                prop_assert_eq!(collect(payload::decode_v4(out.as_bytes())), v);
            }
        }
        if let Ok(v) = payload::decode_v3_string(&bytes).collect::<Result<Vec<_>, _>>() {
            let mut out = String::new();
            payload::encode_v3_string(&v, &mut out);
            prop_assert_eq!(collect(payload::decode_v3_string(out.as_bytes())), v);
        }
        if let Ok(v) = payload::decode_v3_binary(&bytes).collect::<Result<Vec<_>, _>>() {
            let mut out = Vec::new();
            payload::encode_v3_binary(&v, &mut out);
            prop_assert_eq!(collect(payload::decode_v3_binary(&out)), v);
        }
        for rev in [Revision::V3, Revision::V4] {
            if let Ok(p) = decode_binary(&bytes, rev) {
                let data = p.clone();
                let Packet::Message(Data::Binary(b)) = data else { panic!("not binary") };
                let mut out = Vec::new();
                encode_binary_frame(&b, rev, &mut out);
                prop_assert_eq!(out, bytes.clone());
            }
        }
        if let Ok(s) = payload::decode_jsonp_body(&bytes) {
            let mut form = String::new();
            payload::encode_jsonp_body(&s, &mut form);
            prop_assert_eq!(payload::decode_jsonp_body(form.as_bytes()).unwrap(), s);
        }
    }

    #[test]
    fn arbitrary_text(s in text(), rev in revision()) {
        if let Ok(p) = decode_text(&s) {
            let mut out = String::new();
            p.encode_text(&mut out).unwrap();
            prop_assert_eq!(decode_text(&out).unwrap(), p);
        }
        if let Ok(p) = decode_text_frame(&s, rev) {
            let mut out = String::new();
            p.encode_text_base64(rev, &mut out);
            prop_assert_eq!(decode_text_frame(&out, rev).unwrap(), p);
        }
        let digits = format!("{}:{s}", s.encode_utf16().count());
        let _ = payload::decode_v3_string(digits.as_bytes()).count();
    }
}
