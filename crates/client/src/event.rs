//! What a client receives.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sio_socketio_proto::{Value, from_args, to_args};
use tokio::sync::mpsc;

use crate::error::Error;
use crate::manager::Cmd;

/// An event sent by the server.
#[derive(Debug, Clone)]
pub struct Event {
    /// The event name.
    pub name: String,
    /// The arguments, binary values included (as [`Value::Binary`]).
    pub args: Vec<Value>,
    /// Present when the server waits for an acknowledgement.
    pub ack: Option<AckSender>,
}

impl Event {
    /// The arguments as `T` (a tuple for several arguments, see
    /// [`from_args`](sio_socketio_proto::from_args)).
    ///
    /// # Errors
    /// When the arguments do not match `T`.
    pub fn args<T: DeserializeOwned>(&self) -> Result<T, Error> {
        Ok(from_args(self.args.clone())?)
    }

    /// Answers the server's acknowledgement request with `data` (a tuple for several
    /// arguments). Does nothing when there is no request or it was already answered.
    ///
    /// # Errors
    /// When `data` cannot be converted.
    pub fn ack<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), Error> {
        match &self.ack {
            Some(ack) => ack.send(data),
            None => Ok(()),
        }
    }
}

/// Answers one acknowledgement request of the server; clones share the request, so only the
/// first answer is sent.
#[derive(Debug, Clone)]
pub struct AckSender {
    pub(crate) cmds: mpsc::UnboundedSender<Cmd>,
    pub(crate) nsp: String,
    pub(crate) id: u64,
    pub(crate) sent: Arc<AtomicBool>,
}

impl AckSender {
    /// Sends `data` (a tuple for several arguments) as the acknowledgement.
    ///
    /// # Errors
    /// When `data` cannot be converted.
    pub fn send<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), Error> {
        self.send_values(to_args(data)?);
        Ok(())
    }

    /// Sends raw values as the acknowledgement.
    pub fn send_values(&self, args: Vec<Value>) {
        if !self.sent.swap(true, Ordering::SeqCst) {
            let _ = self.cmds.send(Cmd::AckReply {
                nsp: self.nsp.clone(),
                id: self.id,
                args,
            });
        }
    }

    /// Whether an answer was sent already.
    pub fn is_sent(&self) -> bool {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Why a namespace socket was disconnected, named as in the JavaScript client.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The server disconnected this namespace (`io server disconnect`); no reconnection.
    ServerDisconnect,
    /// [`Client::disconnect`](crate::Client::disconnect) was called.
    ClientDisconnect,
    /// The server did not keep up the heartbeat.
    PingTimeout,
    /// The server closed the connection.
    TransportClose,
    /// The connection failed.
    TransportError(String),
    /// The server sent something that is not the protocol.
    ParseError(String),
}

impl DisconnectReason {
    /// The reason as the JavaScript client names it.
    pub fn as_str(&self) -> &'static str {
        match self {
            DisconnectReason::ServerDisconnect => "io server disconnect",
            DisconnectReason::ClientDisconnect => "io client disconnect",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError(_) => "transport error",
            DisconnectReason::ParseError(_) => "parse error",
        }
    }

    /// Whether the manager reconnects after it.
    pub fn will_reconnect(&self) -> bool {
        !matches!(
            self,
            DisconnectReason::ServerDisconnect | DisconnectReason::ClientDisconnect
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DisconnectReason::TransportError(e) | DisconnectReason::ParseError(e) => {
                write!(f, "{}: {e}", self.as_str())
            }
            _ => f.write_str(self.as_str()),
        }
    }
}

/// Everything a namespace socket sees, in order: what [`Client::events`](crate::Client::events)
/// yields. Handlers registered with `on(name, …)` get the same events under the JavaScript
/// names (`connect`, `disconnect`, `connect_error`, `reconnect_attempt`, `reconnect`,
/// `reconnect_error`, `reconnect_failed`, `error`), their data as arguments.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ClientEvent {
    /// The namespace is connected.
    Connect {
        /// The socket id the server gave.
        id: String,
        /// Whether the server restored the previous session (connection state recovery).
        recovered: bool,
    },
    /// The server refused the namespace, or the connection could not be opened.
    ConnectError(Value),
    /// The namespace got disconnected.
    Disconnect(DisconnectReason),
    /// An event from the server.
    Event(Event),
    /// A reconnection attempt starts (its number, from 1).
    ReconnectAttempt(u32),
    /// Reconnected after this many attempts.
    Reconnect(u32),
    /// A reconnection attempt failed.
    ReconnectError(String),
    /// Every reconnection attempt failed; the manager gave up.
    ReconnectFailed,
    /// The server broke the protocol or a packet could not be sent; the connection is closed
    /// when the server is at fault.
    Error(String),
}

impl ClientEvent {
    /// The JavaScript name and arguments, for `on(name, …)` handlers.
    pub(crate) fn into_named(self) -> Event {
        let (name, args) = match self {
            ClientEvent::Event(event) => return event,
            ClientEvent::Connect { .. } => ("connect", vec![]),
            ClientEvent::ConnectError(data) => ("connect_error", vec![data]),
            ClientEvent::Disconnect(reason) => ("disconnect", vec![Value::from(reason.as_str())]),
            ClientEvent::ReconnectAttempt(n) => ("reconnect_attempt", vec![Value::from(n)]),
            ClientEvent::Reconnect(n) => ("reconnect", vec![Value::from(n)]),
            ClientEvent::ReconnectError(e) => ("reconnect_error", vec![Value::from(e)]),
            ClientEvent::ReconnectFailed => ("reconnect_failed", vec![]),
            ClientEvent::Error(e) => ("error", vec![Value::from(e)]),
        };
        Event {
            name: name.to_owned(),
            args,
            ack: None,
        }
    }
}
