//! Round-trip properties: for every packet kind and both revisions, `decode(encode(p)) == p` with the
//! text parser (attachments included) and the msgpack parser; decoders never panic on arbitrary input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use bytes::Bytes;
use proptest::prelude::*;
use sio_socketio_proto::{
    Decoder, DecoderConfig, Packet, ProtocolVersion, Value, encode, encode_owned,
    is_reserved_event, msgpack,
};

/// Strings with multibyte characters, escapes and control characters.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{0,8}",
        any::<String>(),
        "[\"\\\\/\\x00-\\x1f\u{e9}\u{20ac}\u{1d11e}\u{2028}]{0,6}",
    ]
}

/// A float that is not an integer (those become integers, as in JavaScript: see `floats_as_javascript`).
fn fractional() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("fractional", |f| f.is_finite() && f.fract() != 0.0)
}

fn leaf(binary: bool) -> BoxedStrategy<Value> {
    let scalars = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        fractional().prop_map(Value::F64),
        text().prop_map(Value::from),
    ];
    if binary {
        prop_oneof![
            4 => scalars,
            1 => prop::collection::vec(any::<u8>(), 0..64).prop_map(Value::Binary),
        ]
        .boxed()
    } else {
        scalars.boxed()
    }
}

fn value(binary: bool) -> impl Strategy<Value = Value> {
    leaf(binary).prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((text().prop_map(Value::from), inner), 0..5).prop_map(Value::Map),
        ]
    })
}

fn object(binary: bool) -> impl Strategy<Value = Value> {
    prop::collection::vec((text().prop_map(Value::from), value(binary)), 0..5).prop_map(Value::Map)
}

fn nsp() -> impl Strategy<Value = String> {
    prop_oneof![Just("/".to_owned()), "/[a-zA-Z0-9_\\-\u{e9}/.]{0,10}"]
}

fn event_name() -> impl Strategy<Value = String> {
    text().prop_filter("not reserved", |s| !is_reserved_event(s))
}

fn args(binary: bool) -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(value(binary), 0..5)
}

/// Packets the text parser can carry in `version`.
fn text_packet(version: ProtocolVersion) -> impl Strategy<Value = Packet> {
    let query = match version {
        ProtocolVersion::V4 => prop::option::of("[a-z0-9=&%]{0,10}").boxed(),
        ProtocolVersion::V5 => Just(None).boxed(),
    };
    prop_oneof![
        (nsp(), prop::option::of(object(false)), query)
            .prop_map(|(nsp, data, query)| { Packet::Connect { nsp, data, query } }),
        nsp().prop_map(|nsp| Packet::Disconnect { nsp }),
        (
            nsp(),
            prop::option::of(any::<u64>()),
            event_name(),
            args(true)
        )
            .prop_map(|(nsp, id, event, args)| Packet::Event {
                nsp,
                id,
                event,
                args
            }),
        (nsp(), any::<u64>(), args(true)).prop_map(|(nsp, id, args)| Packet::Ack { nsp, id, args }),
        (
            nsp(),
            prop_oneof![object(false), text().prop_map(Value::from)]
        )
            .prop_map(|(nsp, data)| Packet::ConnectError { nsp, data }),
    ]
}

/// Packets for the msgpack parser: binary anywhere, commas in namespaces, no query.
fn msgpack_packet() -> impl Strategy<Value = Packet> {
    let nsp = prop_oneof![nsp(), "/[a-z,?]{0,6}"];
    prop_oneof![
        (nsp.clone(), prop::option::of(object(true))).prop_map(|(nsp, data)| Packet::Connect {
            nsp,
            data,
            query: None
        }),
        nsp.clone().prop_map(|nsp| Packet::Disconnect { nsp }),
        (
            nsp.clone(),
            prop::option::of(any::<u64>()),
            event_name(),
            args(true)
        )
            .prop_map(|(nsp, id, event, args)| Packet::Event {
                nsp,
                id,
                event,
                args
            }),
        (nsp.clone(), any::<u64>(), args(true)).prop_map(|(nsp, id, args)| Packet::Ack {
            nsp,
            id,
            args
        }),
        (nsp, prop_oneof![object(true), text().prop_map(Value::from)])
            .prop_map(|(nsp, data)| Packet::ConnectError { nsp, data }),
    ]
}

fn decode_frames(version: ProtocolVersion, text: &str, attachments: &[Bytes]) -> Packet {
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        max_attachments: usize::MAX,
    });
    let mut packet = decoder.feed_text(text).unwrap();
    for a in attachments {
        assert!(packet.is_none());
        packet = decoder.feed_binary(a.clone()).unwrap();
    }
    packet.expect("complete")
}

fn text_round_trip(packet: &Packet, version: ProtocolVersion) {
    let encoded = encode(packet, version).unwrap();
    let decoded = decode_frames(version, &encoded.text, &encoded.attachments);
    assert_eq!(&decoded, packet, "{}", encoded.text);
    // The owned encoder gives the same frames.
    assert_eq!(encode_owned(packet.clone(), version).unwrap(), encoded);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_v5_round_trip(packet in text_packet(ProtocolVersion::V5)) {
        text_round_trip(&packet, ProtocolVersion::V5);
    }

    #[test]
    fn text_v4_round_trip(packet in text_packet(ProtocolVersion::V4)) {
        text_round_trip(&packet, ProtocolVersion::V4);
    }

    #[test]
    fn msgpack_round_trip(packet in msgpack_packet()) {
        let bytes = msgpack::encode(&packet).unwrap();
        prop_assert_eq!(msgpack::decode(&bytes).unwrap(), packet);
    }

    /// Text-carriable packets survive a trip through msgpack and back to text unchanged.
    #[test]
    fn text_and_msgpack_agree(packet in text_packet(ProtocolVersion::V5)) {
        let via_msgpack = msgpack::decode(&msgpack::encode(&packet).unwrap()).unwrap();
        prop_assert_eq!(
            encode(&via_msgpack, ProtocolVersion::V5).unwrap(),
            encode(&packet, ProtocolVersion::V5).unwrap()
        );
    }

    /// Any float is what a JavaScript peer would make of it: integral ones come back as integers,
    /// others unchanged, non-finite ones as null (text) or the same float (msgpack).
    #[test]
    fn floats_as_javascript(f in any::<f64>()) {
        let packet = Packet::ack("/", 1, vec![Value::F64(f)]);
        let text = encode(&packet, ProtocolVersion::V5).unwrap().text;
        let Packet::Ack { args, .. } = decode_frames(ProtocolVersion::V5, &text, &[]) else { panic!() };
        let expected = if !f.is_finite() {
            Value::Nil
        } else if f.fract() == 0.0 && (-9.223_372_036_854_776e18..1.844_674_407_370_955_2e19).contains(&f) {
            if f >= 0.0 { Value::from(f as u64) } else { Value::from(f as i64) }
        } else {
            Value::F64(f)
        };
        match (&args[0], &expected) {
            // Beyond 2^53 JavaScript prints the shortest digits (`3229711157753661400`), another
            // integer that is the same double.
            (Value::Integer(got), Value::Integer(_)) => prop_assert_eq!(got.as_f64(), Some(f)),
            (got, expected) => prop_assert_eq!(got, expected),
        }

        let Packet::Ack { args, .. } = msgpack::decode(&msgpack::encode(&packet).unwrap()).unwrap() else { panic!() };
        match (&args[0], &expected) {
            (Value::F64(got), Value::Nil) => prop_assert!(got.to_bits() == f.to_bits() || (got.is_nan() && f.is_nan())),
            (got, expected) => prop_assert_eq!(got, expected),
        }
    }

    #[test]
    fn text_decoder_never_panics(input in any::<String>(), frames in prop::collection::vec(prop::option::of(any::<Vec<u8>>()), 0..4)) {
        for version in [ProtocolVersion::V4, ProtocolVersion::V5] {
            let mut decoder = Decoder::new(DecoderConfig { version, ..DecoderConfig::default() });
            let mut result = decoder.feed_text(&input);
            for frame in &frames {
                result = match frame {
                    Some(bytes) => decoder.feed_binary(Bytes::copy_from_slice(bytes)),
                    None => decoder.feed_text(&input),
                };
            }
            if let Ok(Some(packet)) = result {
                text_round_trip(&packet, version);
            }
        }
    }

    #[test]
    fn text_decoder_on_packet_like_input(
        ty in 0u8..7,
        attachments in prop::option::of(0usize..12),
        nsp in prop::option::of("/[a-z,?]{0,4}"),
        id in prop::option::of("[0-9]{1,22}"),
        payload in prop::option::of(value(false)),
    ) {
        let mut text = ty.to_string();
        if let Some(n) = attachments { text.push_str(&format!("{n}-")); }
        if let Some(nsp) = nsp { text.push_str(&nsp); text.push(','); }
        if let Some(id) = id { text.push_str(&id); }
        if let Some(payload) = payload {
            let Ok(encoded) = encode(&Packet::ack("/", 0, vec![payload]), ProtocolVersion::V5) else { return Ok(()) };
            // `30[<payload>]` → `<payload>`
            text.push_str(&encoded.text[3..encoded.text.len() - 1]);
        }
        let mut decoder = Decoder::new(DecoderConfig::default());
        if let Ok(Some(packet)) = decoder.feed_text(&text) {
            text_round_trip(&packet, ProtocolVersion::V5);
        }
    }

    #[test]
    fn msgpack_decoder_never_panics(bytes in any::<Vec<u8>>()) {
        if let Ok(packet) = msgpack::decode(&bytes) {
            let again = msgpack::encode(&packet).unwrap();
            let decoded = msgpack::decode(&again).unwrap();
            prop_assert_eq!(msgpack::encode(&decoded).unwrap(), again);
        }
    }
}
