//! The msgpack parser: the exact bytes notepack.io / socket.io-msgpack-parser produce, and every error
//! path of the decoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use sio_socketio_proto::{DecodeError, EncodeError, Packet, PacketType, Value, msgpack};

/// Builds a msgpack map from `(key, already encoded value)` pairs, as a test input.
fn map(pairs: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = vec![0x80 | pairs.len() as u8];
    for (k, v) in pairs {
        out.push(0xa0 | k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(v);
    }
    out
}

fn mp(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, v).unwrap();
    out
}

const NSP_ROOT: &[u8] = b"\xa1/";
const UNDEFINED: &[u8] = b"\xd4\x00\x00";

#[test]
fn node_client_connect_without_auth() {
    // socket.io-client sends `{type: 0, data: undefined, nsp: "/"}` when it has no auth.
    let bytes = map(&[("type", b"\x00"), ("data", UNDEFINED), ("nsp", NSP_ROOT)]);
    let packet = Packet::Connect {
        nsp: "/".into(),
        data: None,
        query: None,
    };
    assert_eq!(msgpack::decode(&bytes).unwrap(), packet);
    assert_eq!(msgpack::encode(&packet).unwrap(), bytes);
    // Without the key at all it is the same packet.
    let bytes = map(&[("type", b"\x00"), ("nsp", NSP_ROOT)]);
    assert_eq!(msgpack::decode(&bytes).unwrap(), packet);
}

#[test]
fn node_server_connect() {
    // `{type: 0, data: {sid, pid: undefined}, nsp}` without connection state recovery.
    let data = b"\x82\xa3sid\xa4abcd\xa3pid\xd4\x00\x00";
    let bytes = map(&[("type", b"\x00"), ("data", data), ("nsp", b"\xa6/admin")]);
    let packet = Packet::Connect {
        nsp: "/admin".into(),
        data: Some(Value::Map(vec![(Value::from("sid"), Value::from("abcd"))])),
        query: None,
    };
    assert_eq!(msgpack::decode(&bytes).unwrap(), packet);
    let expected = map(&[
        ("type", b"\x00"),
        ("data", b"\x81\xa3sid\xa4abcd"),
        ("nsp", b"\xa6/admin"),
    ]);
    assert_eq!(msgpack::encode(&packet).unwrap(), expected);
}

#[test]
fn node_packets_byte_for_byte() {
    // Server `socket.emit("hello", "world")`: {type, data, nsp}.
    let p = Packet::event("/", "hello", vec![Value::from("world")]);
    let bytes = map(&[
        ("type", b"\x02"),
        ("data", b"\x92\xa5hello\xa5world"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);

    // With an ack: {type, data, id, nsp}.
    let p = Packet::Event {
        nsp: "/".into(),
        id: Some(300),
        event: "q".into(),
        args: vec![],
    };
    let bytes = map(&[
        ("type", b"\x02"),
        ("data", b"\x91\xa1q"),
        ("id", b"\xcd\x01\x2c"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);

    // Server ack: {id, type, data, nsp}.
    let p = Packet::ack("/", 0, vec![Value::from(42)]);
    let bytes = map(&[
        ("id", b"\x00"),
        ("type", b"\x03"),
        ("data", b"\x91\x2a"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);

    // Client ack order {type, id, data, nsp} decodes too.
    let bytes = map(&[
        ("type", b"\x03"),
        ("id", b"\x00"),
        ("data", b"\x91\x2a"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);

    // Client emit: {type, data, options: {compress: true}, nsp}: unknown keys are ignored.
    let bytes = map(&[
        ("type", b"\x02"),
        ("data", b"\x91\xa2hi"),
        ("options", b"\x81\xa8compress\xc3"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(
        msgpack::decode(&bytes).unwrap(),
        Packet::event("/", "hi", vec![])
    );

    // {type, nsp}.
    let p = Packet::Disconnect {
        nsp: "/chat".into(),
    };
    let bytes = map(&[("type", b"\x01"), ("nsp", b"\xa5/chat")]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);

    // Middleware error: {type, data, nsp}, object or string.
    let p = Packet::ConnectError {
        nsp: "/".into(),
        data: Value::Map(vec![(Value::from("message"), Value::from("invalid"))]),
    };
    let bytes = map(&[
        ("type", b"\x04"),
        ("data", b"\x81\xa7message\xa7invalid"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);
    let p = Packet::ConnectError {
        nsp: "/".into(),
        data: Value::from("no"),
    };
    assert_eq!(msgpack::decode(&msgpack::encode(&p).unwrap()).unwrap(), p);

    // The test of socket.io-msgpack-parser: emit("binary", [], {a: "b"}, Buffer).
    let p = Packet::event(
        "/",
        "binary",
        vec![
            Value::Array(vec![]),
            Value::Map(vec![(Value::from("a"), Value::from("b"))]),
            Value::Binary(b"asdfasdf".to_vec()),
        ],
    );
    let bytes = map(&[
        ("type", b"\x02"),
        ("data", b"\x94\xa6binary\x90\x81\xa1a\xa1b\xc4\x08asdfasdf"),
        ("nsp", NSP_ROOT),
    ]);
    assert_eq!(msgpack::encode(&p).unwrap(), bytes);
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);
}

/// The bytes of one argument value as the encoder writes it.
fn arg_bytes(v: Value) -> Vec<u8> {
    let bytes = msgpack::encode(&Packet::ack("/", 0, vec![v])).unwrap();
    let head = map(&[("id", b"\x00"), ("type", b"\x03")]);
    let data_start = head.len() + 5 + 1; // `\xa4data` then the fixarray marker
    let nsp_len = 4 + 2;
    bytes[data_start..bytes.len() - nsp_len].to_vec()
}

#[test]
fn notepack_value_forms() {
    let cases: Vec<(Value, &[u8])> = vec![
        (Value::from(0), b"\x00"),
        (Value::from(127), b"\x7f"),
        (Value::from(128), b"\xcc\x80"),
        (Value::from(255), b"\xcc\xff"),
        (Value::from(256), b"\xcd\x01\x00"),
        (Value::from(65535), b"\xcd\xff\xff"),
        (Value::from(65536), b"\xce\x00\x01\x00\x00"),
        (
            Value::from(4_294_967_296u64),
            b"\xcf\x00\x00\x00\x01\x00\x00\x00\x00",
        ),
        (Value::from(-1), b"\xff"),
        (Value::from(-32), b"\xe0"),
        (Value::from(-33), b"\xd0\xdf"),
        (Value::from(-128), b"\xd0\x80"),
        (Value::from(-129), b"\xd1\xff\x7f"),
        (Value::from(-32768), b"\xd1\x80\x00"),
        (Value::from(-32769), b"\xd2\xff\xff\x7f\xff"),
        (
            Value::from(-2_147_483_649i64),
            b"\xd3\xff\xff\xff\xff\x7f\xff\xff\xff",
        ),
        // Integral floats are JavaScript integers; the others float 64, f32 included.
        (Value::F64(1.0), b"\x01"),
        (Value::F64(-0.0), b"\x00"),
        (Value::F64(-300.0), b"\xd1\xfe\xd4"),
        (Value::F64(0.5), b"\xcb\x3f\xe0\x00\x00\x00\x00\x00\x00"),
        (Value::F32(0.1), b"\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"),
        (Value::Nil, b"\xc0"),
        (Value::Boolean(false), b"\xc2"),
        (Value::Boolean(true), b"\xc3"),
        (Value::Ext(5, vec![1, 2, 3]), b"\xc7\x03\x05\x01\x02\x03"),
        (
            Value::Ext(-1, vec![0; 8]),
            b"\xd7\xff\x00\x00\x00\x00\x00\x00\x00\x00",
        ),
    ];
    for (v, expected) in cases {
        assert_eq!(arg_bytes(v.clone()), expected, "{v:?}");
    }
    let s31 = "x".repeat(31);
    assert_eq!(arg_bytes(Value::from(s31.as_str()))[0], 0xbf);
    let s32 = "x".repeat(32);
    assert_eq!(&arg_bytes(Value::from(s32.as_str()))[..2], b"\xd9\x20");
    let s256 = "x".repeat(256);
    assert_eq!(&arg_bytes(Value::from(s256.as_str()))[..3], b"\xda\x01\x00");
    assert_eq!(&arg_bytes(Value::Binary(vec![0; 255]))[..2], b"\xc4\xff");
    assert_eq!(
        &arg_bytes(Value::Binary(vec![0; 256]))[..3],
        b"\xc5\x01\x00"
    );
    assert_eq!(
        &arg_bytes(Value::Binary(vec![0; 65536]))[..5],
        b"\xc6\x00\x01\x00\x00"
    );
    assert_eq!(arg_bytes(Value::Array(vec![Value::Nil; 15]))[0], 0x9f);
    assert_eq!(
        &arg_bytes(Value::Array(vec![Value::Nil; 16]))[..3],
        b"\xdc\x00\x10"
    );
    let pairs: Vec<_> = (0..16)
        .map(|i| (Value::from(format!("k{i}")), Value::Nil))
        .collect();
    assert_eq!(&arg_bytes(Value::Map(pairs))[..3], b"\xde\x00\x10");
}

#[test]
fn notepack_specials_decode() {
    let packet_with = |arg: &[u8]| {
        let mut data = vec![0x92, 0xa1, b'e'];
        data.extend_from_slice(arg);
        map(&[("type", b"\x02"), ("data", &data), ("nsp", NSP_ROOT)])
    };
    let arg = |bytes: &[u8]| {
        let Packet::Event { mut args, .. } = msgpack::decode(&packet_with(bytes)).unwrap() else {
            panic!()
        };
        args.pop().unwrap()
    };
    // A browser's ArrayBuffer (ext 8/16/32 type 0) is binary.
    assert_eq!(
        arg(b"\xc7\x03\x00\x01\x02\x03"),
        Value::Binary(vec![1, 2, 3])
    );
    assert_eq!(arg(b"\xc8\x00\x01\x00\x09"), Value::Binary(vec![9]));
    assert_eq!(arg(b"\xc9\x00\x00\x00\x00\x00"), Value::Binary(vec![]));
    // `undefined` in an array is null.
    assert_eq!(
        arg(b"\x92\xd4\x00\x00\x01"),
        Value::Array(vec![Value::Nil, Value::from(1)])
    );
    // A Date (fixext 8 type 0) stays an extension and re-encodes to the same bytes.
    let date = b"\xd7\x00\x00\x00\x01\x8b\xcf\xe5\x68\x00";
    assert_eq!(arg(date), Value::Ext(0, date[2..].to_vec()));
    let packet = msgpack::decode(&packet_with(date)).unwrap();
    assert_eq!(msgpack::encode(&packet).unwrap(), packet_with(date));
    // Floats from other encoders: float 32 and integral float 64.
    assert_eq!(arg(b"\xca\x3f\xc0\x00\x00"), Value::F64(1.5));
    assert_eq!(arg(b"\xcb\x40\x00\x00\x00\x00\x00\x00\x00"), Value::from(2));
    // Oversized integer forms.
    assert_eq!(arg(b"\xcf\x00\x00\x00\x00\x00\x00\x00\x05"), Value::from(5));
    assert_eq!(
        arg(b"\xd3\xff\xff\xff\xff\xff\xff\xff\xff"),
        Value::from(-1)
    );
    // A numeric event name becomes its string.
    let bytes = map(&[("type", b"\x02"), ("data", b"\x91\x07"), ("nsp", NSP_ROOT)]);
    assert_eq!(
        msgpack::decode(&bytes).unwrap(),
        Packet::event("/", "7", vec![])
    );
    // Duplicate keys: the last one wins, as in a JavaScript object.
    let bytes = map(&[("type", b"\x01"), ("nsp", b"\xa2/a"), ("nsp", b"\xa2/b")]);
    assert_eq!(
        msgpack::decode(&bytes).unwrap(),
        Packet::Disconnect { nsp: "/b".into() }
    );
    // Keys in the longer string forms, and keys that are not strings (ignored).
    let bytes = b"\x83\xd9\x04type\x01\xdb\x00\x00\x00\x03nsp\xa2/c\x01\x02";
    assert_eq!(
        msgpack::decode(bytes).unwrap(),
        Packet::Disconnect { nsp: "/c".into() }
    );
}

#[test]
fn encode_errors() {
    assert!(matches!(
        msgpack::encode(&Packet::event("/", "connect", vec![])),
        Err(EncodeError::ReservedEvent { .. })
    ));
    assert!(matches!(
        msgpack::encode(&Packet::event("nsp", "a", vec![])),
        Err(EncodeError::InvalidNamespace { .. })
    ));
    assert_eq!(
        msgpack::encode(&Packet::Connect {
            nsp: "/".into(),
            data: None,
            query: Some("a".into())
        }),
        Err(EncodeError::QueryNotSupported)
    );
    assert!(matches!(
        msgpack::encode(&Packet::Connect {
            nsp: "/".into(),
            data: Some(Value::from(1)),
            query: None
        }),
        Err(EncodeError::InvalidPayload { .. })
    ));
    assert!(matches!(
        msgpack::encode(&Packet::ConnectError {
            nsp: "/".into(),
            data: Value::Array(vec![])
        }),
        Err(EncodeError::InvalidPayload { .. })
    ));
    // Extension type 0 would come back as undefined or binary.
    for len in [0, 1, 3, 17] {
        assert!(matches!(
            msgpack::encode(&Packet::event("/", "a", vec![Value::Ext(0, vec![0; len])])),
            Err(EncodeError::UnsupportedValue { .. })
        ));
    }
    let mut out = b"keep".to_vec();
    assert!(
        msgpack::encode_into(
            &Packet::event("/", "a", vec![Value::Ext(0, vec![])]),
            &mut out
        )
        .is_err()
    );
    assert_eq!(out, b"keep");
    // A comma is fine in a msgpack namespace (no framing to break).
    let p = Packet::Disconnect { nsp: "/a,b".into() };
    assert_eq!(msgpack::decode(&msgpack::encode(&p).unwrap()).unwrap(), p);
}

#[test]
fn decode_errors() {
    let dec = |b: &[u8]| msgpack::decode(b).unwrap_err();
    assert_eq!(dec(b""), DecodeError::MsgpackTruncated { offset: 0 });
    assert_eq!(dec(b"\xc0"), DecodeError::NotAMap);
    assert_eq!(dec(b"\x90"), DecodeError::NotAMap);
    assert_eq!(
        dec(b"\xc1"),
        DecodeError::MsgpackInvalidMarker {
            offset: 0,
            marker: 0xc1
        }
    );
    assert_eq!(
        dec(b"\x80\x00"),
        DecodeError::TrailingBytes {
            offset: 1,
            count: 1
        }
    );
    // Length prefixes far beyond the input fail before allocating.
    for huge in [
        &b"\xdd\xff\xff\xff\xff"[..],
        b"\xdf\xff\xff\xff\xff",
        b"\xdb\xff\xff\xff\xff",
        b"\xc6\xff\xff\xff\xff",
        b"\xc9\xff\xff\xff\xff\x00",
        b"\x81\xa1a\xdd\x10\x00\x00\x00",
    ] {
        assert!(
            matches!(dec(huge), DecodeError::MsgpackTruncated { .. }),
            "{huge:?}"
        );
    }
    // Nesting beyond 128 levels.
    let mut deep = b"\x81\xa4data".to_vec();
    deep.extend(std::iter::repeat_n(0x91, 200));
    deep.push(0xc0);
    assert!(matches!(
        dec(&deep),
        DecodeError::DepthLimit { max: 128, .. }
    ));
    assert_eq!(
        dec(b"\x81\xa1a\xa2\xc3\x28"),
        DecodeError::InvalidUtf8 { offset: 4 }
    );
    assert_eq!(
        dec(&map(&[("nsp", NSP_ROOT)])),
        DecodeError::MissingField { field: "type" }
    );
    assert_eq!(
        dec(&map(&[("type", b"\x01")])),
        DecodeError::MissingField { field: "nsp" }
    );
    for bad_type in [
        &b"\x05"[..],
        b"\x06",
        b"\xff",
        b"\xa12",
        b"\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00",
        b"\xc0",
    ] {
        assert!(
            matches!(
                dec(&map(&[("type", bad_type), ("nsp", NSP_ROOT)])),
                DecodeError::InvalidField { field: "type", .. }
            ),
            "{bad_type:?}"
        );
    }
    assert!(matches!(
        dec(&map(&[("type", b"\x01"), ("nsp", b"\x01")])),
        DecodeError::InvalidField { field: "nsp", .. }
    ));
    assert_eq!(
        dec(&map(&[("type", b"\x01"), ("nsp", b"\xa5admin")])),
        DecodeError::InvalidNamespace {
            nsp: "admin".into()
        }
    );
    for bad_id in [
        &b"\xff"[..],
        b"\xa11",
        b"\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00",
        b"\xc0",
    ] {
        assert!(matches!(
            dec(&map(&[
                ("type", b"\x03"),
                ("data", b"\x90"),
                ("id", bad_id),
                ("nsp", NSP_ROOT)
            ])),
            DecodeError::InvalidField { field: "id", .. }
        ));
    }
    assert_eq!(
        dec(&map(&[
            ("type", b"\x00"),
            ("id", b"\x01"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::UnexpectedAckId {
            packet_type: PacketType::Connect,
            offset: 0
        }
    );
    assert!(matches!(
        dec(&map(&[
            ("type", b"\x00"),
            ("data", b"\x90"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::InvalidPayload {
            packet_type: PacketType::Connect,
            ..
        }
    ));
    assert!(matches!(
        dec(&map(&[
            ("type", b"\x01"),
            ("data", b"\x80"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::UnexpectedPayload { .. }
    ));
    assert_eq!(
        dec(&map(&[("type", b"\x02"), ("nsp", NSP_ROOT)])),
        DecodeError::MissingPayload {
            packet_type: PacketType::Event
        }
    );
    for bad in [&b"\x90"[..], b"\x91\xc0", b"\x91\x90", b"\x80", b"\xa1x"] {
        assert!(matches!(
            dec(&map(&[("type", b"\x02"), ("data", bad), ("nsp", NSP_ROOT)])),
            DecodeError::InvalidPayload { .. }
        ));
    }
    assert_eq!(
        dec(&map(&[
            ("type", b"\x02"),
            ("data", b"\x91\xa7connect"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::ReservedEvent {
            name: "connect".into()
        }
    );
    assert_eq!(
        dec(&map(&[
            ("type", b"\x03"),
            ("data", b"\x90"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::MissingAckId {
            packet_type: PacketType::Ack
        }
    );
    assert_eq!(
        dec(&map(&[
            ("type", b"\x03"),
            ("id", b"\x01"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::MissingPayload {
            packet_type: PacketType::Ack
        }
    );
    assert!(matches!(
        dec(&map(&[
            ("type", b"\x03"),
            ("id", b"\x01"),
            ("data", b"\x80"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::InvalidPayload { .. }
    ));
    assert_eq!(
        dec(&map(&[("type", b"\x04"), ("nsp", NSP_ROOT)])),
        DecodeError::MissingPayload {
            packet_type: PacketType::ConnectError
        }
    );
    assert!(matches!(
        dec(&map(&[
            ("type", b"\x04"),
            ("data", b"\x01"),
            ("nsp", NSP_ROOT)
        ])),
        DecodeError::InvalidPayload { .. }
    ));
}

#[test]
fn every_truncation_is_an_error() {
    let p = Packet::Event {
        nsp: "/é€".into(),
        id: Some(70000),
        event: "𝄞".into(),
        args: vec![
            Value::from(-70000),
            Value::F64(0.25),
            Value::Binary(vec![1; 300]),
            Value::Map(vec![(Value::from("ü"), Value::Array(vec![Value::Nil; 20]))]),
            Value::Ext(9, vec![1, 2]),
        ],
    };
    let bytes = msgpack::encode(&p).unwrap();
    assert_eq!(msgpack::decode(&bytes).unwrap(), p);
    for i in 0..bytes.len() {
        assert!(msgpack::decode(&bytes[..i]).is_err(), "prefix {i}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        msgpack::decode(&longer),
        Err(DecodeError::TrailingBytes { .. })
    ));
}

#[test]
fn rmpv_written_packets_decode() {
    // Another msgpack encoder's output (rmpv: different key order, its own integer forms).
    let v = Value::Map(vec![
        (Value::from("nsp"), Value::from("/x")),
        (Value::from("id"), Value::from(5)),
        (
            Value::from("data"),
            Value::Array(vec![Value::from("ev"), Value::F32(2.5)]),
        ),
        (Value::from("type"), Value::from(2)),
    ]);
    assert_eq!(
        msgpack::decode(&mp(&v)).unwrap(),
        Packet::Event {
            nsp: "/x".into(),
            id: Some(5),
            event: "ev".into(),
            args: vec![Value::F64(2.5)]
        }
    );
}
