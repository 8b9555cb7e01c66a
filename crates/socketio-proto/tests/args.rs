//! Typed arguments: `to_args` / `from_args`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sio_socketio_proto::{
    ArgsError, Decoder, DecoderConfig, Packet, ProtocolVersion, Value, encode, from_args,
    from_value, msgpack, to_args, to_value,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Message {
    text: String,
    count: u32,
    tags: Vec<String>,
    reply_to: Option<u64>,
    ratio: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Upload {
    name: String,
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    buf: serde_bytes::ByteBuf,
    bytes: Bytes,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Shape {
    Empty,
    Circle(f64),
    Point(i32, i32),
    Rect { w: u8, h: u8 },
}

fn message() -> Message {
    Message {
        text: "hé".into(),
        count: 3,
        tags: vec!["a".into()],
        reply_to: None,
        ratio: 0.5,
    }
}

/// Through the wire and back, both parsers.
fn through_wire(args: Vec<Value>) -> [Vec<Value>; 2] {
    let packet = Packet::event("/", "ev", args);
    let encoded = encode(&packet, ProtocolVersion::V5).unwrap();
    let mut decoder = Decoder::new(DecoderConfig::default());
    let mut got = decoder.feed_text(&encoded.text).unwrap();
    for a in encoded.attachments {
        got = decoder.feed_binary(a).unwrap();
    }
    let Some(Packet::Event { args: text, .. }) = got else {
        panic!()
    };
    let Packet::Event { args: mp, .. } =
        msgpack::decode(&msgpack::encode(&packet).unwrap()).unwrap()
    else {
        panic!()
    };
    [text, mp]
}

#[test]
fn struct_is_one_argument_with_keys_in_field_order() {
    let args = to_args(&message()).unwrap();
    assert_eq!(args.len(), 1);
    let packet = Packet::event("/", "m", args.clone());
    assert_eq!(
        encode(&packet, ProtocolVersion::V5).unwrap().text,
        r#"2["m",{"text":"hé","count":3,"tags":["a"],"reply_to":null,"ratio":0.5}]"#
    );
    for args in through_wire(args) {
        assert_eq!(from_args::<Message>(args).unwrap(), message());
    }
}

#[test]
fn tuples_and_vecs_are_argument_lists() {
    let args = to_args(&("a", 1u8, message())).unwrap();
    assert_eq!(args.len(), 3);
    for args in through_wire(args) {
        let (a, b, m): (String, u8, Message) = from_args(args).unwrap();
        assert_eq!((a.as_str(), b, m), ("a", 1, message()));
    }
    let args = to_args(&vec![1, 2, 3]).unwrap();
    assert_eq!(args, vec![Value::from(1), Value::from(2), Value::from(3)]);
    assert_eq!(from_args::<Vec<i64>>(args).unwrap(), vec![1, 2, 3]);
    // A single array argument needs a 1-tuple.
    let args = to_args(&(vec![1, 2],)).unwrap();
    assert_eq!(args.len(), 1);
    assert_eq!(from_args::<(Vec<u8>,)>(args).unwrap(), (vec![1, 2],));
    // Too many or too few elements for a tuple.
    assert!(from_args::<(u8,)>(vec![Value::from(1), Value::from(2)]).is_err());
    assert!(from_args::<(u8, u8)>(vec![Value::from(1)]).is_err());
}

#[test]
fn unit_and_option() {
    assert_eq!(to_args(&()).unwrap(), Vec::<Value>::new());
    from_args::<()>(vec![]).unwrap();
    assert_eq!(to_args(&None::<u8>).unwrap(), vec![Value::Nil]);
    assert_eq!(from_args::<Option<u8>>(vec![]).unwrap(), None);
    assert_eq!(from_args::<Option<u8>>(vec![Value::Nil]).unwrap(), None);
    assert_eq!(
        from_args::<Option<u8>>(vec![Value::from(4)]).unwrap(),
        Some(4)
    );
}

#[test]
fn scalars_need_exactly_one_argument() {
    assert_eq!(from_args::<String>(vec![Value::from("x")]).unwrap(), "x");
    assert_eq!(
        from_args::<String>(vec![]),
        Err(ArgsError::ArgumentCount {
            expected: 1,
            found: 0
        })
    );
    assert_eq!(
        from_args::<Message>(vec![Value::Nil, Value::Nil]),
        Err(ArgsError::ArgumentCount {
            expected: 1,
            found: 2
        })
    );
    assert!(matches!(
        from_args::<u8>(vec![Value::from(300)]),
        Err(ArgsError::Message(_))
    ));
    // Numbers convert as in JSON: an integer is a fine f64.
    assert_eq!(from_args::<f64>(vec![Value::from(2)]).unwrap(), 2.0);
}

#[test]
fn binary_round_trips() {
    let upload = Upload {
        name: "f".into(),
        data: vec![1, 2, 3],
        buf: serde_bytes::ByteBuf::from(vec![4, 5]),
        bytes: Bytes::from_static(&[6]),
    };
    let args = to_args(&upload).unwrap();
    let Value::Map(pairs) = &args[0] else {
        panic!()
    };
    assert_eq!(pairs[1].1, Value::Binary(vec![1, 2, 3]));
    assert_eq!(pairs[2].1, Value::Binary(vec![4, 5]));
    assert_eq!(pairs[3].1, Value::Binary(vec![6]));
    let packet = Packet::event("/", "up", args.clone());
    let encoded = encode(&packet, ProtocolVersion::V5).unwrap();
    assert!(encoded.text.starts_with("53-"));
    for args in through_wire(args) {
        assert_eq!(from_args::<Upload>(args).unwrap(), upload);
    }
    // A plain Vec<u8> is an array of numbers, but also reads binary.
    assert_eq!(
        to_value(&vec![1u8, 2]).unwrap(),
        Value::Array(vec![Value::from(1), Value::from(2)])
    );
    assert_eq!(
        from_value::<Vec<u8>>(Value::Binary(vec![9, 8])).unwrap(),
        vec![9, 8]
    );
    assert_eq!(
        from_args::<Bytes>(vec![Value::Binary(vec![7])]).unwrap(),
        Bytes::from_static(&[7])
    );
}

#[test]
fn serde_json_value_from_args() {
    let args = through_wire(to_args(&("a", message(), 1.5, -2, true)).unwrap());
    for args in args {
        let v: serde_json::Value = from_args(args).unwrap();
        assert_eq!(
            v,
            serde_json::json!(["a", {"text":"hé","count":3,"tags":["a"],"reply_to":null,"ratio":0.5}, 1.5, -2, true])
        );
    }
    let v: Vec<serde_json::Value> = from_args(vec![Value::from("x"), Value::Map(vec![])]).unwrap();
    assert_eq!(v, vec![serde_json::json!("x"), serde_json::json!({})]);
    // And the other way: serde_json values as arguments.
    let args = to_args(&serde_json::json!(["x", {"k": [1, null]}])).unwrap();
    assert_eq!(args.len(), 2);
    assert!(from_args::<serde_json::Value>(vec![Value::Binary(vec![1])]).is_err());
}

#[test]
fn enums_are_externally_tagged() {
    let shapes = vec![
        Shape::Empty,
        Shape::Circle(1.5),
        Shape::Point(-1, 2),
        Shape::Rect { w: 1, h: 2 },
    ];
    let args = to_args(&shapes).unwrap();
    let text = encode(&Packet::event("/", "s", args.clone()), ProtocolVersion::V5)
        .unwrap()
        .text;
    assert_eq!(
        text,
        r#"2["s","Empty",{"Circle":1.5},{"Point":[-1,2]},{"Rect":{"w":1,"h":2}}]"#
    );
    for args in through_wire(args) {
        assert_eq!(from_args::<Vec<Shape>>(args).unwrap(), shapes);
    }
}

#[test]
fn maps_with_non_string_keys() {
    let mut m = BTreeMap::new();
    m.insert(3u32, "three".to_string());
    m.insert(10, "ten".to_string());
    let args = to_args(&m).unwrap();
    let text = encode(&Packet::event("/", "m", args.clone()), ProtocolVersion::V5)
        .unwrap()
        .text;
    assert_eq!(text, r#"2["m",{"3":"three","10":"ten"}]"#);
    for args in through_wire(args) {
        assert_eq!(from_args::<BTreeMap<u32, String>>(args).unwrap(), m);
    }
    let h: HashMap<bool, u8> = from_args(vec![Value::Map(vec![(
        Value::from("true"),
        Value::from(1),
    )])])
    .unwrap();
    assert_eq!(h[&true], 1);
    assert!(to_args(&HashMap::from([((1, 2), 3)])).is_err());
}
