#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]
//! Round-trips: encode then decode gives the same value, for every message type, payloads,
//! handshakes and JSONP; and arbitrary input never panics.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use sio_legacy_proto::{
    DecodeError, ERROR_ADVICE, ERROR_REASONS, Handshake, Jsonp, JsonpBody, Message, MessageId,
    decode, decode_jsonp, decode_jsonp_form, decode_payload, encode_jsonp, encode_jsonp_form,
    encode_payload, frames, utf16_len,
};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn args() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(json_value(), 0..5)
}

/// Endpoints: empty or a path; anything but ':' (the wire format ends the endpoint there).
fn endpoint() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "/[^:]{0,12}", "[^:]{1,12}"]
}

fn id() -> impl Strategy<Value = Option<MessageId>> {
    proptest::option::of(
        (any::<u64>(), any::<bool>()).prop_map(|(id, user_ack)| MessageId { id, user_ack }),
    )
}

/// A free-form reason: no '+', and not a bare index of a named reason.
fn free_text(table: &'static [&'static str], plus_ok: bool) -> impl Strategy<Value = String> {
    any::<String>().prop_filter("ambiguous", move |s| {
        (plus_ok || !s.contains('+')) && !(0..table.len()).any(|i| *s == i.to_string())
    })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        endpoint().prop_map(|endpoint| Message::Disconnect { endpoint }),
        (endpoint(), proptest::option::of(".+"))
            .prop_map(|(endpoint, query)| Message::Connect { endpoint, query }),
        Just(Message::Heartbeat),
        (id(), endpoint(), any::<String>()).prop_map(|(id, endpoint, data)| Message::Message {
            id,
            endpoint,
            data
        }),
        (id(), endpoint(), json_value()).prop_map(|(id, endpoint, data)| Message::Json {
            id,
            endpoint,
            data
        }),
        (id(), endpoint(), any::<String>(), args()).prop_map(|(id, endpoint, name, args)| {
            Message::Event {
                id,
                endpoint,
                name,
                args,
            }
        }),
        (endpoint(), any::<u64>(), args()).prop_map(|(endpoint, ack_id, args)| Message::Ack {
            endpoint,
            ack_id,
            args
        }),
        (
            endpoint(),
            prop_oneof![
                prop::sample::select(&ERROR_REASONS[..]).prop_map(str::to_owned),
                free_text(&ERROR_REASONS, false)
            ],
            proptest::option::of(prop_oneof![
                prop::sample::select(&ERROR_ADVICE[..]).prop_map(str::to_owned),
                free_text(&ERROR_ADVICE, true).prop_filter("empty", |s| !s.is_empty())
            ])
        )
            .prop_map(|(endpoint, reason, advice)| Message::Error {
                endpoint,
                reason,
                advice
            }),
        Just(Message::Noop),
    ]
}

/// Strings made of the protocol's structural characters, so random input reaches deep.
fn wire_like() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            prop::sample::select(vec![
                "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", "+", "/", "{", "}", "[",
                "]", "\"", ",", "name", "args", "\u{fffd}", "é", "😀", "null", " ", "\n", "io.j[",
                "](", ");", "%", "d=",
            ])
            .prop_map(str::to_owned),
            any::<char>().prop_map(String::from),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn message_round_trip(msg in message()) {
        prop_assert_eq!(msg.validate(), Ok(()));
        let wire = msg.to_encoded();
        let back = decode(&wire).map_err(|e| TestCaseError::fail(format!("{wire:?}: {e}")))?;
        prop_assert_eq!(&back, &msg);
        prop_assert_eq!(back.to_encoded(), wire);
    }

    #[test]
    fn payload_round_trip(msgs in prop::collection::vec(message(), 0..8)) {
        let mut body = String::new();
        encode_payload(&msgs, &mut body);
        let back: Vec<Message> = decode_payload(&body).collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("{body:?}: {e}")))?;
        prop_assert_eq!(&back, &msgs);
        // Each frame's length is its UTF-16 length, as JavaScript counts it.
        if msgs.len() > 1 {
            for (frame, msg) in frames(&body).zip(&msgs) {
                let frame = frame.unwrap();
                prop_assert_eq!(frame, msg.to_encoded());
                prop_assert_eq!(utf16_len(frame), frame.encode_utf16().count());
            }
        }
    }

    #[test]
    fn handshake_round_trip(
        sid in "[^:]{1,24}",
        heartbeat_timeout in proptest::option::of(any::<u64>()),
        close_timeout in proptest::option::of(any::<u64>()),
        transports in prop::collection::vec("[^:,]{1,12}", 0..6),
    ) {
        let hs = Handshake { sid, heartbeat_timeout, close_timeout, transports };
        let wire = hs.to_string();
        prop_assert_eq!(Handshake::parse(&wire).unwrap(), hs);
    }

    #[test]
    fn jsonp_round_trip(index in any::<u64>(), data in any::<String>()) {
        let mut script = String::new();
        encode_jsonp(index, &data, &mut script);
        let raw_line_break = script.contains(['\u{2028}', '\n']);
        prop_assert!(!raw_line_break);
        prop_assert_eq!(decode_jsonp(&script).unwrap(), Jsonp { index, body: JsonpBody::Data(data.clone()) });
        let mut form = String::new();
        encode_jsonp_form(&data, &mut form);
        prop_assert!(form.is_ascii());
        prop_assert_eq!(decode_jsonp_form(&form).unwrap(), data);
    }

    /// What the fuzz target checks: no panic, and whatever decodes re-encodes to itself.
    #[test]
    fn arbitrary_input(input in prop_oneof![wire_like(), any::<String>()]) {
        // Error positions are inside the input (or at its end).
        let in_bounds = |e: &DecodeError| e.offset().is_none_or(|o| o <= input.len());
        match decode(&input) {
            Ok(msg) => {
                prop_assert_eq!(msg.validate(), Ok(()));
                let wire = msg.to_encoded();
                prop_assert_eq!(decode(&wire).unwrap(), msg);
            }
            Err(e) => prop_assert!(in_bounds(&e), "{e:?}"),
        }
        for result in decode_payload(&input).take(1000) {
            match result {
                Ok(msg) => prop_assert_eq!(decode(&msg.to_encoded()).unwrap(), msg),
                Err(e) => prop_assert!(in_bounds(&e), "{e:?}"),
            }
        }
        match Handshake::parse(&input) {
            Ok(hs) => prop_assert_eq!(Handshake::parse(&hs.to_string()).unwrap(), hs),
            Err(e) => prop_assert!(in_bounds(&e), "{e:?}"),
        }
        if let Err(e) = decode_jsonp(&input) {
            prop_assert!(in_bounds(&e), "{e:?}");
        }
        if let Err(e) = decode_jsonp_form(&input) {
            prop_assert!(in_bounds(&e), "{e:?}");
        }
    }
}
