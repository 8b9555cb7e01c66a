//! What `sio decode` found in one frame: printed as text, or as one JSON object with `--json`.

use super::json::Json;
use serde::Serialize;

/// The reading of one frame (one argument or one line of input).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FrameReport {
    /// The frame as given.
    pub frame: String,
    /// Every layer of every packet decoded.
    pub ok: bool,
    /// Which protocol family this reading is: `engine.io`, `socket.io-0.9`, `signalr`, or
    /// `unknown` when nothing decoded.
    pub protocol: &'static str,
    /// How the packets are framed, in words.
    pub framing: String,
    /// The packets, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packets: Vec<PacketReport>,
    /// Why the frame could not be decoded at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Remarks on the whole frame.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Other readings that also decode, less likely.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternatives: Vec<String>,
}

impl FrameReport {
    pub(crate) fn new(protocol: &'static str, framing: impl Into<String>) -> FrameReport {
        FrameReport {
            frame: String::new(),
            ok: true,
            protocol,
            framing: framing.into(),
            packets: Vec::new(),
            error: None,
            notes: Vec::new(),
            alternatives: Vec::new(),
        }
    }

    pub(crate) fn failed(
        protocol: &'static str,
        framing: impl Into<String>,
        error: String,
    ) -> Self {
        FrameReport {
            ok: false,
            error: Some(error),
            ..FrameReport::new(protocol, framing)
        }
    }

    /// Recomputes `ok` from the packets.
    pub(crate) fn finish(mut self) -> FrameReport {
        self.ok = self.error.is_none() && self.packets.iter().all(|p| p.error.is_none());
        self
    }

    /// How good this reading is: 2 every layer decoded, 1 some packet failed, 0 nothing decoded.
    pub(crate) fn quality(&self) -> u8 {
        if self.error.is_some() {
            0
        } else if self.packets.iter().all(|p| p.error.is_none()) {
            2
        } else {
            1
        }
    }

    /// One line telling this reading, for the list of alternatives.
    pub(crate) fn summary(&self) -> String {
        let packets: Vec<String> = self.packets.iter().map(PacketReport::summary).collect();
        match packets.as_slice() {
            [] => self.framing.clone(),
            [one] => one.clone(),
            many => format!("{}: {}", self.framing, many.join("; ")),
        }
    }
}

/// One packet (or message, or record) of a frame, layer by layer.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct PacketReport {
    /// The Engine.IO layer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engineio: Option<EngineIoReport>,
    /// The Socket.IO layer (protocol v5/v4, text or msgpack parser).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub socketio: Option<SocketIoReport>,
    /// A Socket.IO 0.9 message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy: Option<LegacyReport>,
    /// An ASP.NET Core SignalR record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signalr: Option<SignalRReport>,
    /// What failed to decode in this packet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Remarks.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl PacketReport {
    pub(crate) fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(eio) = &self.engineio {
            let mut s = match eio.packet_type {
                Some(t) => format!("Engine.IO {t} {}", eio.name),
                None => format!("Engine.IO {}", eio.name),
            };
            if let Some(data) = &eio.data
                && self.socketio.is_none()
            {
                s.push_str(&format!(" with data {}", data.to_compact()));
            }
            parts.push(s);
        }
        if let Some(sio) = &self.socketio {
            let mut s = format!("Socket.IO {} {}", sio.packet_type, sio.name);
            if sio.namespace != "/" {
                s.push_str(&format!(" on {}", sio.namespace));
            }
            if let Some(event) = &sio.event {
                s.push_str(&format!(" {event:?}"));
            }
            parts.push(s);
        }
        if let Some(legacy) = &self.legacy {
            let mut s = format!("Socket.IO 0.9 {} {}", legacy.message_type, legacy.name);
            if !legacy.endpoint.is_empty() {
                s.push_str(&format!(" on {}", legacy.endpoint));
            }
            if let Some(event) = &legacy.event {
                s.push_str(&format!(" {event:?}"));
            }
            parts.push(s);
        }
        if let Some(signalr) = &self.signalr {
            parts.push(format!("SignalR {}", signalr.name));
        }
        if let Some(error) = &self.error {
            parts.push(format!("error: {error}"));
        }
        parts.join(", ")
    }
}

/// An Engine.IO packet.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct EngineIoReport {
    /// `v4`, `v3`, or absent when the frame looks the same in both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<&'static str>,
    /// 0 to 6; absent for an HTTP error answer.
    #[serde(rename = "type")]
    pub packet_type: Option<u8>,
    /// `open`, `close`, `ping`, `pong`, `message`, `upgrade`, `noop`.
    pub name: &'static str,
    /// A binary message.
    pub binary: bool,
    /// Text data (ping/pong/message), or the binary data as `{"_binary":true,…}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Json>,
    /// The open packet's handshake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake: Option<HandshakeReport>,
}

/// The JSON of an Engine.IO open packet, keys in the wire order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HandshakeReport {
    pub sid: String,
    pub upgrades: Vec<String>,
    pub ping_interval: u64,
    pub ping_timeout: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_payload: Option<u64>,
}

impl From<&sio_engineio_proto::Handshake> for HandshakeReport {
    fn from(handshake: &sio_engineio_proto::Handshake) -> Self {
        HandshakeReport {
            sid: handshake.sid.clone(),
            upgrades: handshake.upgrades.clone(),
            ping_interval: handshake.ping_interval,
            ping_timeout: handshake.ping_timeout,
            max_payload: handshake.max_payload,
        }
    }
}

/// A Socket.IO packet of protocol v5 or v4.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SocketIoReport {
    /// `v5`, `v4`, or absent when the packet is written the same in both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    /// `text` (the default parser) or `msgpack` (socket.io-msgpack-parser).
    pub parser: &'static str,
    /// 0 to 6.
    #[serde(rename = "type")]
    pub packet_type: u8,
    /// CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR (ERROR in v4), BINARY_EVENT, BINARY_ACK.
    pub name: String,
    /// The namespace.
    pub namespace: String,
    /// The CONNECT query of protocol v4 (`40/admin?token=1,`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The acknowledgement id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_id: Option<u64>,
    /// Binary attachments announced by a BINARY_* header.
    pub attachments: usize,
    /// The event name (EVENT, BINARY_EVENT).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// The arguments (EVENT, ACK), with binary as `{"_binary":true,…}` and attachments not yet
    /// received as their `{"_placeholder":true,"num":n}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Json>>,
    /// CONNECT or CONNECT_ERROR data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Json>,
}

/// A Socket.IO 0.9 message.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct LegacyReport {
    /// 0 to 8.
    #[serde(rename = "type")]
    pub message_type: u8,
    /// disconnect, connect, heartbeat, message, json, event, ack, error, noop.
    pub name: &'static str,
    /// The message id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    /// With an id: `user` (`+`, the receiver's code acknowledges) or `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack: Option<&'static str>,
    /// The endpoint (namespace); empty for the default one.
    pub endpoint: String,
    /// The connect query.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The event name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Event or ack arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<Json>>,
    /// The id an ack answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_id: Option<u64>,
    /// Message text or json data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Json>,
    /// Error reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Error advice.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advice: Option<String>,
}

/// One ASP.NET Core SignalR record (JSON hub protocol) or negotiate answer.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SignalRReport {
    /// The message type (1 to 9), absent for handshakes and negotiate answers.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub message_type: Option<u64>,
    /// Invocation, StreamItem, …, or `handshake request`, `handshake response`, …
    pub name: String,
    /// The record as sent.
    pub fields: Json,
}
