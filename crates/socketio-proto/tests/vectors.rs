//! Test vectors: every example of the v5 specification (socket.io-protocol main), of the v4 branch, the
//! compliance suite's literal strings (test-suite/test-suite.js, without the Engine.IO `4` prefix) and
//! socket.io-parser's own cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use bytes::Bytes;
use sio_socketio_proto::{
    DecodeError, Decoder, DecoderConfig, Packet, ProtocolVersion, Value, encode,
};

const V4: ProtocolVersion = ProtocolVersion::V4;
const V5: ProtocolVersion = ProtocolVersion::V5;

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(
        pairs
            .iter()
            .map(|(k, v)| (Value::from(*k), v.clone()))
            .collect(),
    )
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn placeholder(num: u64) -> String {
    format!("{{\"_placeholder\":true,\"num\":{num}}}")
}

fn decode(text: &str, version: ProtocolVersion, attachments: &[&[u8]]) -> Packet {
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        ..DecoderConfig::default()
    });
    let mut packet = decoder.feed_text(text).unwrap();
    for (i, a) in attachments.iter().enumerate() {
        assert!(packet.is_none(), "packet complete before attachment {i}");
        packet = decoder.feed_binary(Bytes::copy_from_slice(a)).unwrap();
    }
    assert_eq!(decoder.pending_attachments(), 0);
    packet.expect("packet complete")
}

/// Decodes `text` (+ attachments), checks the packet, and re-encodes it to exactly the same frames.
fn vector(text: &str, version: ProtocolVersion, attachments: &[&[u8]], expected: Packet) {
    let packet = decode(text, version, attachments);
    assert_eq!(packet, expected, "decoding {text}");
    let encoded = encode(&packet, version).unwrap();
    assert_eq!(encoded.text, text, "re-encoding {text}");
    let got: Vec<&[u8]> = encoded.attachments.iter().map(|b| &b[..]).collect();
    assert_eq!(got, attachments, "attachments of {text}");
}

fn invalid(text: &str, version: ProtocolVersion) -> DecodeError {
    let mut decoder = Decoder::new(DecoderConfig {
        version,
        ..DecoderConfig::default()
    });
    match decoder.feed_text(text) {
        Err(e) => e,
        Ok(p) => panic!("{text} decoded as {p:?}"),
    }
}

fn connect(nsp: &str, data: Option<Value>) -> Packet {
    Packet::Connect {
        nsp: nsp.into(),
        data,
        query: None,
    }
}

fn event(nsp: &str, id: Option<u64>, event: &str, args: Vec<Value>) -> Packet {
    Packet::Event {
        nsp: nsp.into(),
        id,
        event: event.into(),
        args,
    }
}

#[test]
fn v5_spec_examples() {
    vector("0", V5, &[], connect("/", None));
    vector(
        r#"0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}"#,
        V5,
        &[],
        connect("/admin", Some(map(&[("sid", s("oSO0OpakMV_3jnilAAAA"))]))),
    );
    vector(
        r#"4{"message":"Not authorized"}"#,
        V5,
        &[],
        Packet::ConnectError {
            nsp: "/".into(),
            data: map(&[("message", s("Not authorized"))]),
        },
    );
    vector(r#"2["foo"]"#, V5, &[], event("/", None, "foo", vec![]));
    vector(
        r#"2/admin,["bar"]"#,
        V5,
        &[],
        event("/admin", None, "bar", vec![]),
    );
    vector(
        &format!(r#"51-["baz",{}]"#, placeholder(0)),
        V5,
        &[&[1, 2, 3, 4]],
        event("/", None, "baz", vec![Value::Binary(vec![1, 2, 3, 4])]),
    );
    vector(
        &format!(r#"52-/admin,["baz",{},{}]"#, placeholder(0), placeholder(1)),
        V5,
        &[&[1, 2], &[3, 4]],
        event(
            "/admin",
            None,
            "baz",
            vec![Value::Binary(vec![1, 2]), Value::Binary(vec![3, 4])],
        ),
    );
    vector(
        r#"212["foo"]"#,
        V5,
        &[],
        event("/", Some(12), "foo", vec![]),
    );
    vector(
        r#"3/admin,13["bar"]"#,
        V5,
        &[],
        Packet::ack("/admin", 13, vec![s("bar")]),
    );
    vector(
        &format!(r#"61-15["bar",{}]"#, placeholder(0)),
        V5,
        &[&[1, 2, 3, 4]],
        Packet::ack("/", 15, vec![s("bar"), Value::Binary(vec![1, 2, 3, 4])]),
    );
    vector("1", V5, &[], Packet::Disconnect { nsp: "/".into() });
    vector(
        "1/admin,",
        V5,
        &[],
        Packet::Disconnect {
            nsp: "/admin".into(),
        },
    );
}

#[test]
fn v5_spec_sample_session() {
    vector(
        r#"0{"sid":"wZX3oN0bSVIhsaknAAAI"}"#,
        V5,
        &[],
        connect("/", Some(map(&[("sid", s("wZX3oN0bSVIhsaknAAAI"))]))),
    );
    vector(
        r#"2["hey","Jude"]"#,
        V5,
        &[],
        event("/", None, "hey", vec![s("Jude")]),
    );
    vector(r#"2["hello"]"#, V5, &[], event("/", None, "hello", vec![]));
    vector(r#"2["world"]"#, V5, &[], event("/", None, "world", vec![]));
    vector("0/admin,", V5, &[], connect("/admin", None));
    vector(
        r#"0/admin,{"sid":"-G5j-67EZFp-q59rADQM"}"#,
        V5,
        &[],
        connect("/admin", Some(map(&[("sid", s("-G5j-67EZFp-q59rADQM"))]))),
    );
    vector(
        r#"2/admin,1["tellme"]"#,
        V5,
        &[],
        event("/admin", Some(1), "tellme", vec![]),
    );
    vector(
        &format!("61-/admin,1[{}]", placeholder(0)),
        V5,
        &[b"binary"],
        Packet::ack("/admin", 1, vec![Value::Binary(b"binary".to_vec())]),
    );
}

#[test]
fn v4_spec_examples() {
    vector("0", V4, &[], connect("/", None));
    vector("0/admin,", V4, &[], connect("/admin", None));
    vector(
        "1/admin,",
        V4,
        &[],
        Packet::Disconnect {
            nsp: "/admin".into(),
        },
    );
    vector(
        r#"2["hello",1]"#,
        V4,
        &[],
        event("/", None, "hello", vec![Value::from(1)]),
    );
    vector(
        r#"2/admin,456["project:delete",123]"#,
        V4,
        &[],
        event(
            "/admin",
            Some(456),
            "project:delete",
            vec![Value::from(123)],
        ),
    );
    vector("3/admin,456[]", V4, &[], Packet::ack("/admin", 456, vec![]));
    vector(
        r#"4/admin,"Not authorized""#,
        V4,
        &[],
        Packet::ConnectError {
            nsp: "/admin".into(),
            data: s("Not authorized"),
        },
    );
    vector(
        &format!(r#"51-["hello",{}]"#, placeholder(0)),
        V4,
        &[&[1, 2, 3]],
        event("/", None, "hello", vec![Value::Binary(vec![1, 2, 3])]),
    );
    vector(
        &format!(r#"51-/admin,456["project:delete",{}]"#, placeholder(0)),
        V4,
        &[&[1, 2, 3]],
        event(
            "/admin",
            Some(456),
            "project:delete",
            vec![Value::Binary(vec![1, 2, 3])],
        ),
    );
    vector(
        &format!("61-/admin,456[{}]", placeholder(0)),
        V4,
        &[&[3, 2, 1]],
        Packet::ack("/admin", 456, vec![Value::Binary(vec![3, 2, 1])]),
    );
    // Sample session: the server's implicit CONNECT and its grant of /admin.
    vector("0", V4, &[], connect("/", None));
}

#[test]
fn v4_connect_query() {
    vector(
        "0/admin?token=1234&uid=abcd,",
        V4,
        &[],
        Packet::Connect {
            nsp: "/admin".into(),
            data: None,
            query: Some("token=1234&uid=abcd".into()),
        },
    );
    vector(
        "0/?token=1,",
        V4,
        &[],
        Packet::Connect {
            nsp: "/".into(),
            data: None,
            query: Some("token=1".into()),
        },
    );
    // v5 has no query: the `?` part stays in the namespace, which the server will not know.
    assert_eq!(
        decode("0/admin?token=1234,", V5, &[]),
        connect("/admin?token=1234", None)
    );
    // Only CONNECT carries a query in v4.
    assert_eq!(
        decode(r#"2/a?b,["x"]"#, V4, &[]),
        event("/a?b", None, "x", vec![])
    );
}

#[test]
fn compliance_suite_strings() {
    vector("0", V5, &[], connect("/", None));
    vector(
        r#"0{"token":"123"}"#,
        V5,
        &[],
        connect("/", Some(map(&[("token", s("123"))]))),
    );
    vector("0/custom,", V5, &[], connect("/custom", None));
    vector(
        r#"0/custom,{"token":"abc"}"#,
        V5,
        &[],
        connect("/custom", Some(map(&[("token", s("abc"))]))),
    );
    // Without the comma: accepted, re-encoded with it.
    assert_eq!(decode("0/custom", V5, &[]), connect("/custom", None));
    assert_eq!(decode("0/random", V5, &[]), connect("/random", None));
    vector(
        r#"4/random,{"message":"Invalid namespace"}"#,
        V5,
        &[],
        Packet::ConnectError {
            nsp: "/random".into(),
            data: map(&[("message", s("Invalid namespace"))]),
        },
    );
    vector(
        r#"2["auth",{}]"#,
        V5,
        &[],
        event("/", None, "auth", vec![Value::Map(vec![])]),
    );
    vector(
        r#"2["auth",{"token":"123"}]"#,
        V5,
        &[],
        event("/", None, "auth", vec![map(&[("token", s("123"))])]),
    );
    vector(
        r#"2/custom,["auth",{"token":"abc"}]"#,
        V5,
        &[],
        event("/custom", None, "auth", vec![map(&[("token", s("abc"))])]),
    );
    vector("1", V5, &[], Packet::Disconnect { nsp: "/".into() });
    assert_eq!(
        decode("1/custom", V5, &[]),
        Packet::Disconnect {
            nsp: "/custom".into()
        }
    );
    vector(
        r#"2["message","message to main namespace"]"#,
        V5,
        &[],
        event("/", None, "message", vec![s("message to main namespace")]),
    );

    let args = vec![
        Value::from(1),
        s("2"),
        map(&[("3", Value::Array(vec![Value::Boolean(true)]))]),
    ];
    vector(
        r#"2["message",1,"2",{"3":[true]}]"#,
        V5,
        &[],
        event("/", None, "message", args.clone()),
    );
    vector(
        r#"2["message-back",1,"2",{"3":[true]}]"#,
        V5,
        &[],
        event("/", None, "message-back", args),
    );

    let two = [&[1u8, 2, 3][..], &[4, 5, 6][..]];
    let bins = vec![Value::Binary(vec![1, 2, 3]), Value::Binary(vec![4, 5, 6])];
    vector(
        &format!(r#"52-["message",{},{}]"#, placeholder(0), placeholder(1)),
        V5,
        &two,
        event("/", None, "message", bins.clone()),
    );
    vector(
        &format!(
            r#"52-["message-back",{},{}]"#,
            placeholder(0),
            placeholder(1)
        ),
        V5,
        &two,
        event("/", None, "message-back", bins.clone()),
    );

    let args = vec![
        Value::from(1),
        s("2"),
        map(&[("3", Value::Array(vec![Value::Boolean(false)]))]),
    ];
    vector(
        r#"2456["message-with-ack",1,"2",{"3":[false]}]"#,
        V5,
        &[],
        event("/", Some(456), "message-with-ack", args.clone()),
    );
    vector(
        r#"3456[1,"2",{"3":[false]}]"#,
        V5,
        &[],
        Packet::ack("/", 456, args),
    );
    vector(
        &format!(
            r#"52-789["message-with-ack",{},{}]"#,
            placeholder(0),
            placeholder(1)
        ),
        V5,
        &two,
        event("/", Some(789), "message-with-ack", bins.clone()),
    );
    vector(
        &format!("62-789[{},{}]", placeholder(0), placeholder(1)),
        V5,
        &two,
        Packet::ack("/", 789, bins),
    );

    // First packet `4abc`, then `42{}` and `42abc[...]` after connecting: all refused.
    assert!(matches!(
        invalid("abc", V5),
        DecodeError::UnknownPacketType { found: 'a' }
    ));
    assert!(matches!(
        invalid("2{}", V5),
        DecodeError::InvalidPayload { .. }
    ));
    assert!(matches!(
        invalid(r#"2abc["message-with-ack",1,"2",{"3":[false]}]"#, V5),
        DecodeError::InvalidJson { offset: 1, .. }
    ));
}

#[test]
fn socket_io_parser_cases() {
    vector(
        r#"0/woot,{"token":"123"}"#,
        V5,
        &[],
        connect("/woot", Some(map(&[("token", s("123"))]))),
    );
    vector(
        r#"2["a",1,{}]"#,
        V5,
        &[],
        event("/", None, "a", vec![Value::from(1), Value::Map(vec![])]),
    );
    vector(
        r#"2/test,1["a",1,{}]"#,
        V5,
        &[],
        event(
            "/test",
            Some(1),
            "a",
            vec![Value::from(1), Value::Map(vec![])],
        ),
    );
    vector(
        r#"3123["a",1,{}]"#,
        V5,
        &[],
        Packet::ack("/", 123, vec![s("a"), Value::from(1), Value::Map(vec![])]),
    );
    vector(
        r#"4"Unauthorized""#,
        V5,
        &[],
        Packet::ConnectError {
            nsp: "/".into(),
            data: s("Unauthorized"),
        },
    );
    // An integer as event name is accepted and becomes its string.
    let p = decode(r#"2[1,"a",{}]"#, V5, &[]);
    assert_eq!(p, event("/", None, "1", vec![s("a"), Value::Map(vec![])]));
    assert_eq!(decode("2[1.5]", V5, &[]), event("/", None, "1.5", vec![]));

    for bad in [
        r#"42["some","data""#,
        r#"0/admin,"invalid""#,
        "0[]",
        "1/admin,{}",
        r#"2/admin,"invalid"#,
        "2/admin,{}",
        r#"2[{"toString":"foo"}]"#,
        r#"2[true,"foo"]"#,
        r#"2[null,"bar"]"#,
        r#"2["connect"]"#,
        r#"2["disconnect","123"]"#,
        "5",
        "51",
        "5a-",
        "51.23-",
        "999",
    ] {
        invalid(bad, V5);
        invalid(bad, V4);
    }
    assert!(matches!(
        invalid("999", V5),
        DecodeError::UnknownPacketType { found: '9' }
    ));
    assert!(matches!(
        invalid(r#"2["disconnect","123"]"#, V5),
        DecodeError::ReservedEvent { name } if name == "disconnect"
    ));
    for bad in ["5", "51", "5a-", "51.23-", "5-[\"a\"]"] {
        assert!(
            matches!(
                invalid(bad, V5),
                DecodeError::InvalidAttachmentCount { offset: 1 }
            ),
            "{bad}"
        );
    }
    // maxAttachments: 2 refuses a header announcing 3.
    let mut decoder = Decoder::new(DecoderConfig {
        version: V5,
        max_attachments: 2,
    });
    let header = format!(
        r#"53-["hello",{},{},{}]"#,
        placeholder(0),
        placeholder(1),
        placeholder(2)
    );
    assert_eq!(
        decoder.feed_text(&header),
        Err(DecodeError::TooManyAttachments { offset: 1, max: 2 })
    );
}

#[test]
fn encoder_output_matches_json_stringify() {
    let p = event(
        "/",
        None,
        "n",
        vec![
            Value::F64(1.0),
            Value::F64(-0.0),
            Value::F64(0.5),
            Value::F64(1e21),
            Value::F64(1e-7),
            Value::F64(f64::NAN),
            Value::F64(f64::NEG_INFINITY),
            Value::F32(0.1),
            Value::from(u64::MAX),
            Value::from(i64::MIN),
            s("é\u{0}\"\\/\u{2028}"),
            Value::Nil,
        ],
    );
    assert_eq!(
        encode(&p, V5).unwrap().text,
        concat!(
            r#"2["n",1,0,0.5,1e+21,1e-7,null,null,0.1,18446744073709551615,-9223372036854775808,"é\u0000\"\\/"#,
            "\u{2028}\",null]"
        )
    );
    // Non-string keys become the strings JavaScript makes of them.
    let p = event(
        "/",
        None,
        "k",
        vec![Value::Map(vec![
            (Value::from(3), Value::Nil),
            (Value::Boolean(true), Value::Nil),
            (Value::Nil, Value::Nil),
            (Value::F64(1.5), Value::Nil),
        ])],
    );
    assert_eq!(
        encode(&p, V5).unwrap().text,
        r#"2["k",{"3":null,"true":null,"null":null,"1.5":null}]"#
    );
}

#[test]
fn nested_binary_is_numbered_depth_first() {
    let p = event(
        "/",
        Some(3),
        "up",
        vec![
            map(&[
                ("a", Value::Binary(vec![0])),
                (
                    "b",
                    Value::Array(vec![Value::Binary(vec![1]), Value::from(7)]),
                ),
            ]),
            Value::Binary(vec![2]),
        ],
    );
    let text = format!(
        r#"53-3["up",{{"a":{},"b":[{},7]}},{}]"#,
        placeholder(0),
        placeholder(1),
        placeholder(2)
    );
    vector(&text, V5, &[&[0], &[1], &[2]], p);
}

#[test]
fn ack_without_payload_has_no_arguments() {
    assert_eq!(decode("312", V5, &[]), Packet::ack("/", 12, vec![]));
    assert_eq!(decode("3/a,12", V5, &[]), Packet::ack("/a", 12, vec![]));
}

#[test]
fn binary_header_without_attachments_completes_at_once() {
    assert_eq!(
        decode(r#"50-["a",1]"#, V5, &[]),
        event("/", None, "a", vec![Value::from(1)])
    );
}
