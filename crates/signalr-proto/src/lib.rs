//! SignalR wire formats, pure (no I/O, no async runtime):
//!
//! - ASP.NET Core SignalR: the negotiate URLs and answer ([`negotiate`]), the handshake
//!   ([`handshake`]), the hub messages ([`HubMessage`]) in the JSON hub protocol ([`json`],
//!   records ended by `0x1E`) and the MessagePack hub protocol ([`msgpack`], varint-prefixed), and
//!   the server-sent events framing its SSE transport uses ([`sse`]);
//! - classic ASP.NET SignalR 2.x: negotiate, request URLs, envelopes, hub calls and results
//!   ([`classic`]).
//!
//! Decoders take a frame of bytes and return typed errors that name the byte they were found
//! at; sizes are bounded by the caller's limit before anything is allocated. Where real servers
//! are sloppy the decoders are lenient in the same ways as the official TypeScript client:
//! `{"type":0}` as a handshake answer, headers that are not a map, a Completion without an
//! invocation id, integer invocation ids.

pub mod classic;
mod error;
pub mod handshake;
pub mod json;
mod message;
pub mod msgpack;
pub mod negotiate;
pub mod sse;
mod value;

pub use error::{DecodeError, EncodeError, ValueError};
pub use message::{Completion, Headers, HubMessage, Invocation, Outcome, StreamItem};
pub use rmpv;
pub use value::Value;

use negotiate::TransferFormat;

/// The largest message the decoders accept unless told otherwise (16 MiB).
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 16 * 1024 * 1024;

/// A hub protocol: how hub messages are written in frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HubProtocol {
    /// `json`: text frames, records ended by `0x1E`.
    #[default]
    Json,
    /// `messagepack`: binary frames, length-prefixed MessagePack arrays.
    MessagePack,
}

impl HubProtocol {
    /// The name in the handshake.
    pub fn name(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::MessagePack => "messagepack",
        }
    }

    /// The handshake version: 2 when stateful reconnect was negotiated (Ack and Sequence
    /// messages), else 1.
    pub fn version(self, stateful_reconnect: bool) -> u32 {
        if stateful_reconnect { 2 } else { 1 }
    }

    /// The transfer format the protocol needs from the transport.
    pub fn transfer_format(self) -> TransferFormat {
        match self {
            Self::Json => TransferFormat::Text,
            Self::MessagePack => TransferFormat::Binary,
        }
    }

    /// Decodes every message of a frame, stopping at the first error.
    pub fn decode_frame(
        self,
        frame: &[u8],
        max_len: usize,
    ) -> impl Iterator<Item = Result<HubMessage, DecodeError>> + '_ {
        enum Either<'a> {
            Json(json::JsonMessages<'a>),
            MessagePack(msgpack::MessagePackMessages<'a>),
        }
        impl Iterator for Either<'_> {
            type Item = Result<HubMessage, DecodeError>;
            fn next(&mut self) -> Option<Self::Item> {
                match self {
                    Either::Json(it) => it.next(),
                    Either::MessagePack(it) => it.next(),
                }
            }
        }
        match self {
            Self::Json => Either::Json(json::decode_json_frame(frame, max_len)),
            Self::MessagePack => {
                Either::MessagePack(msgpack::decode_message_pack_frame(frame, max_len))
            }
        }
    }

    /// Appends one message to `out`.
    pub fn encode(self, message: &HubMessage, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self {
            Self::Json => json::encode_json(message, out),
            Self::MessagePack => msgpack::encode_message_pack(message, out),
        }
    }

    /// A value in this protocol's form.
    pub fn value<T: serde::Serialize + ?Sized>(self, value: &T) -> Result<Value, ValueError> {
        match self {
            Self::Json => Value::json(value),
            Self::MessagePack => Value::message_pack(value),
        }
    }
}
