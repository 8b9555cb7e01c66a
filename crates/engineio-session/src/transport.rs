//! The transports a session runs on, and why a session ends.

use std::fmt;

/// A transport an Engine.IO session may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum TransportKind {
    /// HTTP long-polling (`transport=polling`).
    Polling,
    /// WebSocket (`transport=websocket`).
    WebSocket,
}

impl TransportKind {
    /// The name used in the `transport` query parameter and in `upgrades`.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        }
    }

    /// The transport a `transport` query value names.
    pub fn from_query(name: &str) -> Option<Self> {
        match name {
            "polling" => Some(TransportKind::Polling),
            "websocket" => Some(TransportKind::WebSocket),
            _ => None,
        }
    }
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a session ended, named as Node's `engine.io` and `engine.io-client` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "snake_case")
)]
pub enum CloseReason {
    /// The peer closed the transport (WebSocket closed, or a close packet).
    TransportClose,
    /// The transport failed: a broken connection, an overlapping poll, an invalid frame type.
    TransportError,
    /// No heartbeat in time.
    PingTimeout,
    /// The peer sent a packet that does not decode.
    ParseError,
    /// This side closed the session.
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl CloseReason {
    /// The reason string Node uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ServerShuttingDown => "server shutting down",
        }
    }

    /// Whether packets still queued are delivered before the transport closes: only when this
    /// side closes on purpose (a failed or timed-out peer could not read them anyway).
    pub fn flushes(self) -> bool {
        matches!(
            self,
            CloseReason::ForcedClose | CloseReason::ServerShuttingDown
        )
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
