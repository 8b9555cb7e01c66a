//! The text decoder: a state machine fed Engine.IO message frames.

use bytes::Bytes;
use rmpv::Value;

use super::{binary, json};
use crate::error::DecodeError;
use crate::packet::{Packet, PacketType, ProtocolVersion};
use crate::validate;

/// Settings of a [`Decoder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Protocol revision of the peer.
    pub version: ProtocolVersion,
    /// Most binary attachments one packet may announce (socket.io-parser's default is 10). A header
    /// announcing more is refused before anything is allocated for them.
    pub max_attachments: usize,
}

impl Default for DecoderConfig {
    fn default() -> Self {
        Self {
            version: ProtocolVersion::V5,
            max_attachments: 10,
        }
    }
}

/// Decodes text frames and binary attachment frames into [`Packet`]s.
///
/// Feed each Engine.IO message in order: text frames to [`feed_text`](Self::feed_text) (without the
/// Engine.IO `4` prefix), binary frames to [`feed_binary`](Self::feed_binary). A BINARY_EVENT or
/// BINARY_ACK header announcing `n` attachments yields `Ok(None)`; the `n`-th binary frame after it yields
/// the complete packet. After any error the decoder is back to its initial state; the connection should
/// be closed anyway, as the reference server does.
///
/// ```
/// use bytes::Bytes;
/// use sio_socketio_proto::{Decoder, DecoderConfig, Packet, Value};
///
/// let mut decoder = Decoder::new(DecoderConfig::default());
/// assert_eq!(decoder.feed_text(r#"51-["upload",{"_placeholder":true,"num":0}]"#)?, None);
/// let packet = decoder.feed_binary(Bytes::from_static(&[1, 2, 3]))?;
/// assert_eq!(packet, Some(Packet::event("/", "upload", vec![Value::Binary(vec![1, 2, 3])])));
/// # Ok::<(), sio_socketio_proto::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct Decoder {
    config: DecoderConfig,
    pending: Option<Pending>,
}

/// A BINARY_* packet waiting for its attachments.
#[derive(Debug)]
struct Pending {
    kind: Kind,
    expected: usize,
    received: Vec<Bytes>,
}

/// A decoded header whose data still holds placeholders.
#[derive(Debug)]
enum Kind {
    Event {
        nsp: String,
        id: Option<u64>,
        event: String,
        args: Vec<Value>,
    },
    Ack {
        nsp: String,
        id: u64,
        args: Vec<Value>,
    },
}

impl Kind {
    fn finish(self, attachments: Vec<Bytes>) -> Result<Packet, DecodeError> {
        Ok(match self {
            Self::Event {
                nsp,
                id,
                event,
                mut args,
            } => {
                binary::reconstruct(&mut args, attachments)?;
                Packet::Event {
                    nsp,
                    id,
                    event,
                    args,
                }
            }
            Self::Ack { nsp, id, mut args } => {
                binary::reconstruct(&mut args, attachments)?;
                Packet::Ack { nsp, id, args }
            }
        })
    }
}

enum Decoded {
    Complete(Packet),
    Binary { kind: Kind, attachments: usize },
}

impl Decoder {
    /// A decoder with the given settings.
    pub fn new(config: DecoderConfig) -> Self {
        Self {
            config,
            pending: None,
        }
    }

    /// The settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.config
    }

    /// Attachments still expected by the current BINARY_* packet (0 when idle).
    pub fn pending_attachments(&self) -> usize {
        self.pending
            .as_ref()
            .map_or(0, |p| p.expected.saturating_sub(p.received.len()))
    }

    /// Drops a partially received packet.
    pub fn reset(&mut self) {
        self.pending = None;
    }

    /// Decodes a text frame. `Ok(None)` means a BINARY_* header was read and its attachments are
    /// awaited.
    ///
    /// # Errors
    /// Malformed packets (see [`DecodeError`]), or a text frame while attachments are pending.
    pub fn feed_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if self.pending.is_some() {
            let pending = self.pending_attachments();
            self.pending = None;
            return Err(DecodeError::UnexpectedText { pending });
        }
        match decode_text(text, &self.config)? {
            Decoded::Complete(packet) => Ok(Some(packet)),
            Decoded::Binary {
                kind,
                attachments: 0,
            } => kind.finish(Vec::new()).map(Some),
            Decoded::Binary { kind, attachments } => {
                self.pending = Some(Pending {
                    kind,
                    expected: attachments,
                    // Bounded by `max_attachments`, checked while parsing the header.
                    received: Vec::with_capacity(attachments),
                });
                Ok(None)
            }
        }
    }

    /// Decodes a binary frame: the next attachment of the pending BINARY_* packet. Returns the packet
    /// once its last attachment has arrived. Takes [`Bytes`] (or a `Vec<u8>`…), so that an attachment
    /// used once becomes its [`Value::Binary`] without a copy when the buffer is not shared.
    ///
    /// # Errors
    /// A binary frame when none is expected, or placeholders that do not match the attachments.
    pub fn feed_binary(&mut self, data: impl Into<Bytes>) -> Result<Option<Packet>, DecodeError> {
        let Some(pending) = self.pending.as_mut() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        pending.received.push(data.into());
        if pending.received.len() < pending.expected {
            return Ok(None);
        }
        let Some(Pending { kind, received, .. }) = self.pending.take() else {
            return Err(DecodeError::UnexpectedBinary);
        };
        kind.finish(received).map(Some)
    }
}

fn decode_text(text: &str, config: &DecoderConfig) -> Result<Decoded, DecodeError> {
    let bytes = text.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(DecodeError::Empty);
    };
    let packet_type = first
        .checked_sub(b'0')
        .and_then(PacketType::from_u8)
        .ok_or_else(|| DecodeError::UnknownPacketType {
            found: text.chars().next().unwrap_or_default(),
        })?;
    let mut pos = 1;

    let mut attachments = 0;
    let is_binary = matches!(packet_type, PacketType::BinaryEvent | PacketType::BinaryAck);
    if is_binary {
        let start = pos;
        let end = start + count_digits(bytes, start);
        if end == start || bytes.get(end) != Some(&b'-') {
            return Err(DecodeError::InvalidAttachmentCount { offset: start });
        }
        let too_many = DecodeError::TooManyAttachments {
            offset: start,
            max: config.max_attachments,
        };
        attachments = parse_decimal(bytes, start, end)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or(too_many.clone())?;
        if attachments > config.max_attachments {
            return Err(too_many);
        }
        pos = end + 1;
    }

    let mut nsp = "/";
    if bytes.get(pos) == Some(&b'/') {
        let tail = bytes.get(pos..).unwrap_or_default();
        let end = memchr::memchr(b',', tail).map_or(bytes.len(), |i| pos + i);
        // `pos` and `end` sit next to ASCII bytes (or at the ends), so they are char boundaries.
        nsp = text.get(pos..end).unwrap_or_default();
        pos = (end + 1).min(bytes.len());
    }

    let id_start = pos;
    let id_end = id_start + count_digits(bytes, id_start);
    let id = if id_end > id_start {
        Some(
            parse_decimal(bytes, id_start, id_end)
                .ok_or(DecodeError::AckIdOverflow { offset: id_start })?,
        )
    } else {
        None
    };
    pos = id_end;

    let payload_offset = pos;
    let payload = match text.get(pos..) {
        Some(rest) if !rest.is_empty() => Some(json::parse(rest, pos)?),
        _ => None,
    };

    let plain = match packet_type {
        PacketType::BinaryEvent => PacketType::Event,
        PacketType::BinaryAck => PacketType::Ack,
        other => other,
    };
    if id.is_some() && !matches!(plain, PacketType::Event | PacketType::Ack) {
        return Err(DecodeError::UnexpectedAckId {
            packet_type,
            offset: id_start,
        });
    }
    let nsp = nsp.to_owned();
    let kind = match plain {
        PacketType::Connect => {
            let data = validate::connect_data(payload)?;
            let (nsp, query) = match (config.version, nsp.split_once('?')) {
                (ProtocolVersion::V4, Some((path, query))) => {
                    (path.to_owned(), Some(query.to_owned()))
                }
                _ => (nsp, None),
            };
            return Ok(Decoded::Complete(Packet::Connect { nsp, data, query }));
        }
        PacketType::Disconnect => {
            if payload.is_some() {
                return Err(DecodeError::UnexpectedPayload {
                    packet_type,
                    offset: payload_offset,
                });
            }
            return Ok(Decoded::Complete(Packet::Disconnect { nsp }));
        }
        PacketType::ConnectError => {
            let data = validate::connect_error_data(payload)?;
            return Ok(Decoded::Complete(Packet::ConnectError { nsp, data }));
        }
        PacketType::Event | PacketType::BinaryEvent => {
            let (event, args) = validate::event_data(packet_type, payload)?;
            Kind::Event {
                nsp,
                id,
                event,
                args,
            }
        }
        PacketType::Ack | PacketType::BinaryAck => {
            let id = id.ok_or(DecodeError::MissingAckId { packet_type })?;
            let args = validate::ack_data(packet_type, payload)?;
            Kind::Ack { nsp, id, args }
        }
    };
    if is_binary {
        return Ok(Decoded::Binary { kind, attachments });
    }
    Ok(Decoded::Complete(match kind {
        Kind::Event {
            nsp,
            id,
            event,
            args,
        } => Packet::Event {
            nsp,
            id,
            event,
            args,
        },
        Kind::Ack { nsp, id, args } => Packet::Ack { nsp, id, args },
    }))
}

fn count_digits(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// The decimal number in `bytes[start..end]` (all digits), `None` on u64 overflow.
fn parse_decimal(bytes: &[u8], start: usize, end: usize) -> Option<u64> {
    bytes.get(start..end)?.iter().try_fold(0u64, |n, &b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}
