//! Property: every message encodes, and decodes back to itself, in both hub protocols; frames of
//! several messages split back into the same messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use sio_signalr_proto::{
    Completion, Headers, HubMessage, HubProtocol, Invocation, Outcome, StreamItem, Value,
};

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn value(protocol: HubProtocol) -> impl Strategy<Value = Value> {
    json_value().prop_map(move |v| protocol.value(&v).unwrap())
}

fn headers() -> impl Strategy<Value = Headers> {
    prop::collection::btree_map(".{0,6}", ".{0,6}", 0..3)
}

fn message(protocol: HubProtocol) -> impl Strategy<Value = HubMessage> {
    let id = ".{0,8}";
    let invocation = || {
        (
            headers(),
            prop::option::of(id),
            ".{0,10}",
            prop::collection::vec(value(protocol), 0..4),
            prop::collection::vec(id, 0..3),
        )
            .prop_map(
                |(headers, invocation_id, target, arguments, stream_ids)| Invocation {
                    headers,
                    invocation_id,
                    target,
                    arguments,
                    stream_ids,
                },
            )
            .boxed()
    };
    let outcome = prop_oneof![
        Just(Outcome::Void),
        value(protocol).prop_map(Outcome::Result),
        ".{0,10}".prop_map(Outcome::Error),
    ];
    prop_oneof![
        invocation().prop_map(HubMessage::Invocation),
        (invocation(), id).prop_map(|(mut call, id)| {
            call.invocation_id = Some(id);
            HubMessage::StreamInvocation(call)
        }),
        (headers(), id, value(protocol)).prop_map(|(headers, id, item)| HubMessage::StreamItem(
            StreamItem {
                headers,
                invocation_id: id,
                item
            }
        )),
        (headers(), prop::option::of(id), outcome).prop_map(|(headers, invocation_id, outcome)| {
            HubMessage::Completion(Completion {
                headers,
                invocation_id,
                outcome,
            })
        }),
        (headers(), id).prop_map(|(headers, invocation_id)| HubMessage::CancelInvocation {
            headers,
            invocation_id
        }),
        Just(HubMessage::Ping),
        (prop::option::of(".{0,10}"), any::<bool>()).prop_map(|(error, allow_reconnect)| {
            HubMessage::Close {
                error,
                allow_reconnect,
            }
        }),
        any::<u64>().prop_map(|sequence_id| HubMessage::Ack { sequence_id }),
        any::<u64>().prop_map(|sequence_id| HubMessage::Sequence { sequence_id }),
    ]
}

fn round_trip(protocol: HubProtocol, messages: &[HubMessage]) {
    let mut frame = Vec::new();
    for m in messages {
        protocol.encode(m, &mut frame).unwrap();
    }
    let back: Vec<HubMessage> = protocol
        .decode_frame(&frame, usize::MAX)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(back, messages);
}

proptest! {
    #[test]
    fn json_messages_round_trip(messages in prop::collection::vec(message(HubProtocol::Json), 1..5)) {
        round_trip(HubProtocol::Json, &messages);
    }

    #[test]
    fn message_pack_messages_round_trip(messages in prop::collection::vec(message(HubProtocol::MessagePack), 1..5)) {
        round_trip(HubProtocol::MessagePack, &messages);
    }

    #[test]
    fn json_arguments_survive_message_pack(v in json_value()) {
        let item = HubMessage::StreamItem(StreamItem { headers: Headers::new(), invocation_id: "1".into(), item: Value::json(&v).unwrap() });
        let mut frame = Vec::new();
        HubProtocol::MessagePack.encode(&item, &mut frame).unwrap();
        let back = HubProtocol::MessagePack.decode_frame(&frame, usize::MAX).next().unwrap().unwrap();
        let HubMessage::StreamItem(back) = back else { panic!() };
        let as_json: serde_json::Value = back.item.deserialize().unwrap();
        prop_assert_eq!(as_json, v);
    }
}
