//! The hub messages both hub protocols carry (HubProtocol.md).

use std::collections::BTreeMap;

use crate::value::Value;

/// Message headers: string keys and values (`"headers"` in JSON, the second array element in
/// MessagePack).
pub type Headers = BTreeMap<String, String>;

/// A call of a hub method (type 1), or a stream request (type 4, then `invocation_id` is set).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Invocation {
    /// The message's `headers`.
    pub headers: Headers,
    /// `invocationId`: the id the Completion (or the stream's items) will carry. `None`: a non-blocking call, to which no Completion may answer.
    pub invocation_id: Option<String>,
    /// `target`: the name of the hub method to call.
    pub target: String,
    /// `arguments`: the method's arguments, in order (without the ones streamed by `stream_ids`).
    pub arguments: Vec<Value>,
    /// `streamIds`: the ids of the client-to-server streams that stand in for some of the arguments.
    pub stream_ids: Vec<String>,
}

/// One item of a stream (type 2): server-to-client for a StreamInvocation, or client-to-server with
/// `invocation_id` = a stream id.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamItem {
    /// The message's `headers`.
    pub headers: Headers,
    /// `invocationId`: the stream the item belongs to.
    pub invocation_id: String,
    /// `item`: the value the stream yields.
    pub item: Value,
}

/// What a Completion says.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The method returned nothing (or the stream ended).
    Void,
    /// The method returned this value.
    Result(Value),
    /// The method failed with this message.
    Error(String),
}

/// The end of an invocation or stream (type 3).
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    /// The message's `headers`.
    pub headers: Headers,
    /// `invocationId`: the invocation or stream this completes. Always set by conforming peers; `None` accepts servers that answer a non-blocking call with
    /// an id-less Completion (such a Completion answers nothing and is dropped by the client).
    pub invocation_id: Option<String>,
    /// `result` or `error`, or neither.
    pub outcome: Outcome,
}

/// A message of one of the hub protocols.
#[derive(Clone, Debug, PartialEq)]
pub enum HubMessage {
    /// Type 1.
    Invocation(Invocation),
    /// Type 2.
    StreamItem(StreamItem),
    /// Type 3.
    Completion(Completion),
    /// Type 4: `invocation_id` is required.
    StreamInvocation(Invocation),
    /// Type 5: the client no longer wants the stream `invocation_id`.
    CancelInvocation {
        /// The message's `headers`.
        headers: Headers,
        /// `invocationId`: the stream to cancel.
        invocation_id: String,
    },
    /// Type 6: keep-alive.
    Ping,
    /// Type 7: the peer closes the connection; `allow_reconnect` lets the client reconnect.
    Close {
        /// `error`: why the connection was closed; `None` for a normal close.
        error: Option<String>,
        /// `allowReconnect`: whether the client may reconnect (`false` when absent).
        allow_reconnect: bool,
    },
    /// Type 8 (stateful reconnect): every message up to `sequence_id` has arrived.
    Ack {
        /// `sequenceId`: the number of the last message received.
        sequence_id: u64,
    },
    /// Type 9 (stateful reconnect): the next message the sender sends is number `sequence_id`.
    Sequence {
        /// `sequenceId`: the number of the sender's next message.
        sequence_id: u64,
    },
    /// A type this crate does not know: the spec says to ignore it, so it is reported, not refused.
    Unknown {
        /// The numeric `type` of the message.
        kind: u64,
    },
}

impl HubMessage {
    /// The numeric type of the message on the wire.
    pub fn kind(&self) -> u64 {
        match self {
            Self::Invocation(_) => 1,
            Self::StreamItem(_) => 2,
            Self::Completion(_) => 3,
            Self::StreamInvocation(_) => 4,
            Self::CancelInvocation { .. } => 5,
            Self::Ping => 6,
            Self::Close { .. } => 7,
            Self::Ack { .. } => 8,
            Self::Sequence { .. } => 9,
            Self::Unknown { kind } => *kind,
        }
    }

    /// Whether stateful reconnect numbers this message (types 1 to 5) and so buffers it until
    /// the peer acknowledges it.
    pub fn is_sequenced(&self) -> bool {
        matches!(self.kind(), 1..=5)
    }
}
