//! socket.io-adapter's `ClusterMessage`: the envelope `{uid, nsp, type, data?}` every
//! ClusterAdapter-based adapter (Redis streams, sharded Redis, Postgres, MongoDB) exchanges, and
//! the encodings Node's adapters use for it.

use std::borrow::Cow;

use sio_server::Value;

use crate::value::{encode_message, get, get_str, take, to_json_string};

/// socket.io-adapter's `MessageType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageType {
    /// A node announces itself (heartbeat variants); the others answer [`MessageType::Heartbeat`].
    InitialHeartbeat = 1,
    /// A node is alive (heartbeat variants).
    Heartbeat = 2,
    /// `{packet, opts, requestId?}`: a broadcast, with acknowledgements when it has a request id.
    Broadcast = 3,
    /// `{opts, rooms}`: the selected sockets join rooms.
    SocketsJoin = 4,
    /// `{opts, rooms}`: the selected sockets leave rooms.
    SocketsLeave = 5,
    /// `{opts, close}`: the selected sockets are disconnected.
    DisconnectSockets = 6,
    /// `{opts, requestId}`: the selected sockets' details are asked for.
    FetchSockets = 7,
    /// `{requestId, sockets}`: an answer to [`MessageType::FetchSockets`].
    FetchSocketsResponse = 8,
    /// `{packet: [event, ...args], requestId?}`: an event for the servers' own handlers.
    ServerSideEmit = 9,
    /// `{requestId, packet}`: a handler's answer to [`MessageType::ServerSideEmit`].
    ServerSideEmitResponse = 10,
    /// `{requestId, clientCount}`: how many clients of a node a broadcast with acks reached.
    BroadcastClientCount = 11,
    /// `{requestId, packet}`: one client's acknowledgement of a broadcast.
    BroadcastAck = 12,
    /// A node leaves the cluster (heartbeat variants).
    AdapterClose = 13,
}

impl MessageType {
    /// The type numbered `n`; `None` for a number socket.io-adapter does not define.
    pub fn from_u64(n: u64) -> Option<Self> {
        use MessageType::*;
        Some(match n {
            1 => InitialHeartbeat,
            2 => Heartbeat,
            3 => Broadcast,
            4 => SocketsJoin,
            5 => SocketsLeave,
            6 => DisconnectSockets,
            7 => FetchSockets,
            8 => FetchSocketsResponse,
            9 => ServerSideEmit,
            10 => ServerSideEmitResponse,
            11 => BroadcastClientCount,
            12 => BroadcastAck,
            13 => AdapterClose,
            _ => return None,
        })
    }

    /// Its number on the wire.
    pub fn as_u64(self) -> u64 {
        self as u64
    }

    /// Whether a message of this type carries application values, which may hold binary: the
    /// types Node's adapters send as msgpack (rather than JSON) when they do.
    pub fn may_hold_binary(self) -> bool {
        matches!(
            self,
            MessageType::Broadcast
                | MessageType::FetchSocketsResponse
                | MessageType::ServerSideEmit
                | MessageType::ServerSideEmitResponse
                | MessageType::BroadcastAck
        )
    }

    /// Whether it answers a request of the node it is sent to.
    pub fn is_response(self) -> bool {
        matches!(
            self,
            MessageType::FetchSocketsResponse
                | MessageType::ServerSideEmitResponse
                | MessageType::BroadcastClientCount
                | MessageType::BroadcastAck
        )
    }
}

/// One ClusterAdapter message: sent (borrowing this node's uid and namespace) or received.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage<'a> {
    /// The sending node's uid (`emitter` for an emitter).
    pub uid: Cow<'a, str>,
    /// The namespace.
    pub nsp: Cow<'a, str>,
    /// What it is.
    pub kind: MessageType,
    /// Its fields, by type (see [`MessageType`]).
    pub data: Option<Value>,
}

impl<'a> ClusterMessage<'a> {
    /// A message of this node.
    pub fn new(uid: &'a str, nsp: &'a str, kind: MessageType, data: Option<Value>) -> Self {
        ClusterMessage {
            uid: Cow::Borrowed(uid),
            nsp: Cow::Borrowed(nsp),
            kind,
            data,
        }
    }

    /// A message read from its envelope `{uid, nsp, type, data?}`, borrowing the sender and the
    /// namespace from it (`data` is taken out); `None` without a known type. A missing `uid` or
    /// `nsp` is empty (so a message without `nsp` reaches no namespace, as in Node).
    pub fn from_value(value: &'a mut Value) -> Option<Self> {
        let kind = MessageType::from_u64(get(value, "type")?.as_u64()?)?;
        let data = take(value, "data").filter(|d| !d.is_nil());
        let value: &'a Value = value;
        Some(ClusterMessage {
            uid: Cow::Borrowed(get_str(value, "uid").unwrap_or_default()),
            nsp: Cow::Borrowed(get_str(value, "nsp").unwrap_or_default()),
            kind,
            data,
        })
    }

    /// The envelope `{uid, nsp, type, data?}`, in the key order Node's objects have.
    pub fn into_value(self) -> Value {
        let mut fields = Vec::with_capacity(4);
        fields.push((Value::from("uid"), Value::from(&*self.uid)));
        fields.push((Value::from("nsp"), Value::from(&*self.nsp)));
        fields.push((Value::from("type"), Value::from(self.kind.as_u64())));
        if let Some(data) = self.data {
            fields.push((Value::from("data"), data));
        }
        Value::Map(fields)
    }

    /// `data.requestId`: set on requests and their answers.
    pub fn request_id(&self) -> Option<&Value> {
        self.data.as_ref().and_then(|data| get(data, "requestId"))
    }

    /// Whether Node's adapters would send it as msgpack: a type that may hold binary, and does.
    pub fn holds_binary(&self) -> bool {
        self.kind.may_hold_binary() && self.data.as_ref().is_some_and(has_binary)
    }

    /// The envelope as msgpack (notepack's forms); `None`, logged, when it cannot be encoded.
    pub fn to_msgpack(self) -> Option<Vec<u8>> {
        encode_message(&self.into_value())
    }

    /// The envelope as JSON, or as msgpack when it [holds binary](ClusterMessage::holds_binary):
    /// what the sharded Redis and the Postgres adapters send. `None`, logged, when msgpack
    /// cannot encode it.
    pub fn to_json_or_msgpack(self) -> Option<Vec<u8>> {
        if self.holds_binary() {
            self.to_msgpack()
        } else {
            Some(to_json_string(&self.into_value()).into_bytes())
        }
    }
}

/// Whether a value holds binary anywhere (Node's `hasBinary`).
pub fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(fields) => fields.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// 8 random bytes as 16 hex characters (socket.io-adapter's `randomId`): node uids and request
/// ids.
pub fn random_id() -> String {
    let bytes: [u8; 8] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::{decode_any, map};

    #[test]
    fn types_by_number() {
        for n in 1..=13 {
            assert_eq!(MessageType::from_u64(n).unwrap().as_u64(), n);
        }
        assert_eq!(MessageType::from_u64(0), None);
        assert_eq!(MessageType::from_u64(14), None);
        assert_eq!(random_id().len(), 16);
    }

    #[test]
    fn envelope_round_trip_in_json_and_msgpack() {
        let text = ClusterMessage::new(
            "abc",
            "/chat",
            MessageType::Broadcast,
            Some(map([("packet", Value::from("x"))])),
        );
        let json = text.clone().to_json_or_msgpack().unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
            serde_json::json!({"uid": "abc", "nsp": "/chat", "type": 3, "data": {"packet": "x"}})
        );
        assert_eq!(
            ClusterMessage::from_value(&mut decode_any(&json).unwrap()).unwrap(),
            text
        );
        let binary = ClusterMessage::new(
            "abc",
            "/",
            MessageType::BroadcastAck,
            Some(map([("packet", Value::Binary(vec![1, 2]))])),
        );
        assert!(binary.holds_binary());
        let packed = binary.clone().to_json_or_msgpack().unwrap();
        assert_ne!(packed.first(), Some(&b'{'));
        assert_eq!(
            ClusterMessage::from_value(&mut decode_any(&packed).unwrap()).unwrap(),
            binary
        );
        // A join carries no application values: JSON even with a binary-looking field.
        let join = ClusterMessage::new(
            "abc",
            "/",
            MessageType::SocketsJoin,
            Some(map([("rooms", Value::Binary(vec![1]))])),
        );
        assert!(!join.holds_binary());
    }

    #[test]
    fn defaults_of_a_sparse_envelope() {
        let mut bare = map([("type", Value::from(2))]);
        let bare = ClusterMessage::from_value(&mut bare).unwrap();
        assert_eq!((&*bare.uid, &*bare.nsp), ("", ""));
        assert_eq!(bare.kind, MessageType::Heartbeat);
        assert_eq!(bare.data, None);
        assert!(ClusterMessage::from_value(&mut map([("type", Value::from(99))])).is_none());
        assert!(ClusterMessage::from_value(&mut Value::from(3)).is_none());
    }
}
