//! The parser-independent packet model.

use std::fmt;

use rmpv::Value;

/// Socket.IO protocol revision.
///
/// The wire format of both revisions is the same `<type>[<n>-][<nsp>,][<id>][<json>]`; they differ in
/// what a few packets carry (see [`Packet`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ProtocolVersion {
    /// Revision 4: Socket.IO 1.x and 2.x, on Engine.IO v3.
    V4,
    /// Revision 5: Socket.IO 3.x and 4.x, on Engine.IO v4.
    #[default]
    V5,
}

/// The packet type digit that starts every encoded packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// `0`
    Connect,
    /// `1`
    Disconnect,
    /// `2`
    Event,
    /// `3`
    Ack,
    /// `4` (called ERROR in revision 4)
    ConnectError,
    /// `5`: an EVENT whose arguments contain binary values
    BinaryEvent,
    /// `6`: an ACK whose arguments contain binary values
    BinaryAck,
}

impl PacketType {
    /// The type for a wire digit value, `None` if it is not 0-6.
    pub fn from_u8(n: u8) -> Option<Self> {
        Some(match n {
            0 => Self::Connect,
            1 => Self::Disconnect,
            2 => Self::Event,
            3 => Self::Ack,
            4 => Self::ConnectError,
            5 => Self::BinaryEvent,
            6 => Self::BinaryAck,
            _ => return None,
        })
    }

    /// The wire value (0-6).
    pub fn as_u8(self) -> u8 {
        match self {
            Self::Connect => 0,
            Self::Disconnect => 1,
            Self::Event => 2,
            Self::Ack => 3,
            Self::ConnectError => 4,
            Self::BinaryEvent => 5,
            Self::BinaryAck => 6,
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Connect => "CONNECT",
            Self::Disconnect => "DISCONNECT",
            Self::Event => "EVENT",
            Self::Ack => "ACK",
            Self::ConnectError => "CONNECT_ERROR",
            Self::BinaryEvent => "BINARY_EVENT",
            Self::BinaryAck => "BINARY_ACK",
        })
    }
}

/// One Socket.IO packet, whatever the parser (text or msgpack) and revision.
///
/// Namespaces always start with `/`; the main namespace is `"/"`. BINARY_EVENT and BINARY_ACK are not
/// variants of their own: the text encoder picks them when an argument contains a [`Value::Binary`] at any
/// depth, and the decoder folds them back into [`Packet::Event`] / [`Packet::Ack`] once every attachment
/// has arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Packet {
    /// Request (client) or grant (server) of access to a namespace.
    ///
    /// v5: the client's CONNECT carries its auth object or nothing; the server's carries
    /// `{"sid":…[,"pid":…]}`. v4: no payload, but the client may append a query string to the namespace
    /// (`0/admin?token=1234,`), which is kept apart in `query` (without the `?`). `query` is always `None`
    /// in v5.
    Connect {
        /// Namespace, e.g. `/admin`.
        nsp: String,
        /// The payload, a map when present.
        data: Option<Value>,
        /// v4 only: the query string the client appended to the namespace, without the `?`.
        query: Option<String>,
    },
    /// Leave a namespace.
    Disconnect {
        /// Namespace.
        nsp: String,
    },
    /// An event with its arguments, asking for an acknowledgement when `id` is set.
    Event {
        /// Namespace.
        nsp: String,
        /// Acknowledgement id.
        id: Option<u64>,
        /// Event name (a numeric name received from the peer is turned into its JavaScript string).
        event: String,
        /// Arguments after the event name.
        args: Vec<Value>,
    },
    /// The answer to an event that asked for one.
    Ack {
        /// Namespace.
        nsp: String,
        /// The id of the event being acknowledged.
        id: u64,
        /// Arguments (possibly none).
        args: Vec<Value>,
    },
    /// Refusal of a namespace connection.
    ///
    /// v5: `{"message":…,"data":…}`; v4 (ERROR): a string such as `"Not authorized"`. Both revisions'
    /// reference parsers accept a string or an object, and so does this crate.
    ConnectError {
        /// Namespace.
        nsp: String,
        /// A map or a string.
        data: Value,
    },
}

impl Packet {
    /// The namespace the packet belongs to.
    pub fn nsp(&self) -> &str {
        match self {
            Self::Connect { nsp, .. }
            | Self::Disconnect { nsp }
            | Self::Event { nsp, .. }
            | Self::Ack { nsp, .. }
            | Self::ConnectError { nsp, .. } => nsp,
        }
    }

    /// The non-binary packet type of this packet (the text encoder may send EVENT/ACK as their BINARY_
    /// counterparts).
    pub fn packet_type(&self) -> PacketType {
        match self {
            Self::Connect { .. } => PacketType::Connect,
            Self::Disconnect { .. } => PacketType::Disconnect,
            Self::Event { .. } => PacketType::Event,
            Self::Ack { .. } => PacketType::Ack,
            Self::ConnectError { .. } => PacketType::ConnectError,
        }
    }

    /// An EVENT without acknowledgement id.
    pub fn event(nsp: impl Into<String>, event: impl Into<String>, args: Vec<Value>) -> Self {
        Self::Event {
            nsp: nsp.into(),
            id: None,
            event: event.into(),
            args,
        }
    }

    /// An ACK.
    pub fn ack(nsp: impl Into<String>, id: u64, args: Vec<Value>) -> Self {
        Self::Ack {
            nsp: nsp.into(),
            id,
            args,
        }
    }
}

/// Event names that have a meaning of their own in the reference implementation and therefore may not be
/// emitted or received as user events.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Whether `name` is one of [`RESERVED_EVENTS`].
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}
