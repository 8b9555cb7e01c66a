//! The Socket.IO 0.9 translation: 0.9 messages to and from the packets the rest of the client
//! handles, so that 0.9 is one more wire rather than special cases everywhere.

use serde_json::Value as Json;
use sio_socketio_proto::{Packet, Value, from_value, to_value};

/// `/` is the main endpoint `""` in 0.9.
fn endpoint_of(nsp: &str) -> String {
    if nsp == "/" {
        String::new()
    } else {
        nsp.to_owned()
    }
}

fn nsp_of(endpoint: &str) -> String {
    if endpoint.is_empty() {
        "/".to_owned()
    } else {
        endpoint.to_owned()
    }
}

fn to_json_args(args: &[Value]) -> Result<Vec<Json>, String> {
    args.iter()
        .map(|v| {
            from_value::<Json>(v.clone())
                .map_err(|e| format!("socket.io 0.9 cannot carry this value: {e}"))
        })
        .collect()
}

fn from_json_args(args: Vec<Json>) -> Vec<Value> {
    args.into_iter()
        .map(|j| to_value(&j).unwrap_or(Value::Nil))
        .collect()
}

/// A 0.9 message as a Socket.IO packet, plus an automatic acknowledgement to send back.
pub(super) fn legacy_to_packet(
    message: sio_legacy_proto::Message,
) -> (Option<Packet>, Option<sio_legacy_proto::Message>) {
    use sio_legacy_proto::{Message, MessageId};
    // Ids without `+` are acknowledged by the library at once; `+` ids by the application.
    let split_id = |id: Option<MessageId>, endpoint: &str| match id {
        Some(MessageId { id, user_ack: true }) => (Some(id), None),
        Some(MessageId {
            id,
            user_ack: false,
        }) => (
            None,
            Some(Message::Ack {
                endpoint: endpoint.to_owned(),
                ack_id: id,
                args: vec![],
            }),
        ),
        None => (None, None),
    };
    match message {
        Message::Connect { endpoint, .. } => (
            Some(Packet::Connect {
                nsp: nsp_of(&endpoint),
                data: None,
                query: None,
            }),
            None,
        ),
        Message::Disconnect { endpoint } => (
            Some(Packet::Disconnect {
                nsp: nsp_of(&endpoint),
            }),
            None,
        ),
        Message::Message { id, endpoint, data } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: "message".into(),
                    args: vec![Value::from(data)],
                }),
                auto,
            )
        }
        Message::Json { id, endpoint, data } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: "message".into(),
                    args: from_json_args(vec![data]),
                }),
                auto,
            )
        }
        Message::Event {
            id,
            endpoint,
            name,
            args,
        } => {
            let (id, auto) = split_id(id, &endpoint);
            (
                Some(Packet::Event {
                    nsp: nsp_of(&endpoint),
                    id,
                    event: name,
                    args: from_json_args(args),
                }),
                auto,
            )
        }
        Message::Ack {
            endpoint,
            ack_id,
            args,
        } => (
            Some(Packet::Ack {
                nsp: nsp_of(&endpoint),
                id: ack_id,
                args: from_json_args(args),
            }),
            None,
        ),
        Message::Error {
            endpoint, reason, ..
        } => (
            Some(Packet::ConnectError {
                nsp: nsp_of(&endpoint),
                data: Value::from(reason),
            }),
            None,
        ),
        Message::Heartbeat | Message::Noop => (None, None),
    }
}

pub(super) fn packet_to_legacy(packet: &Packet) -> Result<sio_legacy_proto::Message, String> {
    use sio_legacy_proto::{Message, MessageId};
    Ok(match packet {
        Packet::Connect { nsp, query, .. } => Message::Connect {
            endpoint: endpoint_of(nsp),
            query: query.clone().filter(|q| !q.is_empty()),
        },
        Packet::Disconnect { nsp } => Message::Disconnect {
            endpoint: endpoint_of(nsp),
        },
        Packet::Event {
            nsp,
            id,
            event,
            args,
        } => Message::Event {
            id: id.map(MessageId::user),
            endpoint: endpoint_of(nsp),
            name: event.clone(),
            args: to_json_args(args)?,
        },
        Packet::Ack { nsp, id, args } => Message::Ack {
            endpoint: endpoint_of(nsp),
            ack_id: *id,
            args: to_json_args(args)?,
        },
        Packet::ConnectError { .. } => return Err("a client does not send CONNECT_ERROR".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_legacy_proto::{Message, MessageId};

    #[test]
    fn legacy_events_become_packets() {
        let message =
            sio_legacy_proto::decode(r#"5:3+:/chat:{"name":"q","args":[1,"a"]}"#).unwrap();
        let (packet, auto) = legacy_to_packet(message);
        assert_eq!(
            packet,
            Some(Packet::Event {
                nsp: "/chat".into(),
                id: Some(3),
                event: "q".into(),
                args: vec![Value::from(1), Value::from("a")],
            })
        );
        assert!(auto.is_none());
    }

    #[test]
    fn legacy_ids_without_plus_are_acknowledged_at_once() {
        let message = sio_legacy_proto::decode(r#"5:7::{"name":"q"}"#).unwrap();
        let (packet, auto) = legacy_to_packet(message);
        assert!(matches!(packet, Some(Packet::Event { id: None, .. })));
        assert_eq!(auto.unwrap().to_encoded(), "6:::7");
    }

    #[test]
    fn legacy_message_and_json_are_message_events() {
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("3:::hi").unwrap());
        assert_eq!(
            packet,
            Some(Packet::event("/", "message", vec![Value::from("hi")]))
        );
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode(r#"4:::{"a":1}"#).unwrap());
        assert_eq!(
            packet,
            Some(Packet::event(
                "/",
                "message",
                vec![Value::Map(vec![(Value::from("a"), Value::from(1))])]
            ))
        );
    }

    #[test]
    fn legacy_errors_and_disconnects() {
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("7:::1+0").unwrap());
        assert!(matches!(packet, Some(Packet::ConnectError { nsp, .. }) if nsp == "/"));
        let (packet, _) = legacy_to_packet(sio_legacy_proto::decode("0::/chat").unwrap());
        assert_eq!(
            packet,
            Some(Packet::Disconnect {
                nsp: "/chat".into()
            })
        );
        let (packet, _) = legacy_to_packet(Message::Heartbeat);
        assert!(packet.is_none());
    }

    #[test]
    fn packets_become_legacy_messages() {
        let event = Packet::Event {
            nsp: "/".into(),
            id: Some(1),
            event: "join".into(),
            args: vec![Value::Map(vec![(Value::from("room"), Value::from(1))])],
        };
        assert_eq!(
            packet_to_legacy(&event).unwrap(),
            Message::Event {
                id: Some(MessageId::user(1)),
                endpoint: String::new(),
                name: "join".into(),
                args: vec![serde_json::json!({"room": 1})],
            }
        );
        let ack = Packet::ack("/chat", 4, vec![Value::from("ok")]);
        assert_eq!(
            packet_to_legacy(&ack).unwrap().to_encoded(),
            r#"6::/chat:4+["ok"]"#
        );
        let connect = Packet::Connect {
            nsp: "/chat".into(),
            data: None,
            query: None,
        };
        assert_eq!(packet_to_legacy(&connect).unwrap().to_encoded(), "1::/chat");
        let binary = Packet::event("/", "up", vec![Value::Binary(vec![1])]);
        assert!(packet_to_legacy(&binary).is_err());
    }
}
