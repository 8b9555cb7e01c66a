//! The default parser (socket.io-parser): `<type>[<n>-][<nsp>,][<id>][<json>]` text frames, each binary
//! value sent as a separate binary frame after its packet.

mod binary;
mod decode;
mod json;

use bytes::Bytes;
use rmpv::Value;

pub use decode::{Decoder, DecoderConfig};

use crate::error::EncodeError;
use crate::packet::{Packet, PacketType, ProtocolVersion, is_reserved_event};
use json::{Binary, JsonWriter};

/// An encoded packet: one text frame, then one binary frame per attachment, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    /// The text frame (without the Engine.IO `4` message prefix).
    pub text: String,
    /// The binary attachments the text's placeholders refer to.
    pub attachments: Vec<Bytes>,
}

/// Encodes `packet`. Binary values are copied into [`Encoded::attachments`]; see [`encode_owned`] to
/// move them instead.
///
/// # Errors
/// See [`EncodeError`]: reserved event names, invalid namespaces, payloads of the wrong shape, values
/// JSON cannot carry.
pub fn encode(packet: &Packet, version: ProtocolVersion) -> Result<Encoded, EncodeError> {
    let mut encoded = Encoded::default();
    encode_into(packet, version, &mut encoded.text, &mut encoded.attachments)?;
    Ok(encoded)
}

/// Appends the encoding of `packet` to `text` and its attachments to `attachments`, so that one buffer
/// can be reused or a broadcast encoded once. On error both are left as they were.
///
/// # Errors
/// As [`encode`].
pub fn encode_into(
    packet: &Packet,
    version: ProtocolVersion,
    text: &mut String,
    attachments: &mut Vec<Bytes>,
) -> Result<(), EncodeError> {
    let (text_len, attachments_len) = (text.len(), attachments.len());
    let result = write_packet(packet, version, text, Some(attachments));
    if result.is_err() {
        text.truncate(text_len);
        attachments.truncate(attachments_len);
    }
    result
}

/// Encodes `packet`, moving its binary values into [`Encoded::attachments`] without copying them.
///
/// # Errors
/// As [`encode`].
pub fn encode_owned(mut packet: Packet, version: ProtocolVersion) -> Result<Encoded, EncodeError> {
    let mut encoded = Encoded::default();
    write_packet(&packet, version, &mut encoded.text, None)?;
    if let Packet::Event { args, .. } | Packet::Ack { args, .. } = &mut packet {
        for arg in args {
            json::take_binaries(arg, &mut encoded.attachments);
        }
    }
    Ok(encoded)
}

fn write_packet(
    packet: &Packet,
    version: ProtocolVersion,
    out: &mut String,
    sink: Option<&mut Vec<Bytes>>,
) -> Result<(), EncodeError> {
    match packet {
        Packet::Connect { nsp, data, query } => {
            if query.is_some() && version == ProtocolVersion::V5 {
                return Err(EncodeError::QueryNotSupported);
            }
            if data.as_ref().is_some_and(|d| !d.is_map()) {
                return Err(EncodeError::InvalidPayload {
                    packet_type: PacketType::Connect,
                    expected: "a map",
                });
            }
            if version == ProtocolVersion::V4 && nsp.contains('?') {
                return Err(EncodeError::InvalidNamespace {
                    nsp: nsp.clone(),
                    reason: "contains '?' (the query goes in the `query` field)",
                });
            }
            out.push('0');
            write_nsp(out, nsp, query.as_deref())?;
            if let Some(data) = data {
                reject_binary(out, PacketType::Connect).value(data, 0)?;
            }
        }
        Packet::Disconnect { nsp } => {
            out.push('1');
            write_nsp(out, nsp, None)?;
        }
        Packet::ConnectError { nsp, data } => {
            if !(data.is_map() || data.is_str()) {
                return Err(EncodeError::InvalidPayload {
                    packet_type: PacketType::ConnectError,
                    expected: "a map or a string",
                });
            }
            out.push('4');
            write_nsp(out, nsp, None)?;
            reject_binary(out, PacketType::ConnectError).value(data, 0)?;
        }
        Packet::Event {
            nsp,
            id,
            event,
            args,
        } => {
            if is_reserved_event(event) {
                return Err(EncodeError::ReservedEvent {
                    name: event.clone(),
                });
            }
            write_header(out, PacketType::Event, nsp, *id, args)?;
            out.push('[');
            crate::js::write_json_str(out, event);
            write_args(out, args, true, sink)?;
        }
        Packet::Ack { nsp, id, args } => {
            write_header(out, PacketType::Ack, nsp, Some(*id), args)?;
            out.push('[');
            write_args(out, args, false, sink)?;
        }
    }
    Ok(())
}

fn reject_binary<'a>(out: &'a mut String, packet_type: PacketType) -> JsonWriter<'a, 'a> {
    JsonWriter {
        out,
        binary: Binary::Reject(packet_type),
    }
}

/// `<type>[<n>-][<nsp>,][<id>]` for EVENT/ACK, choosing the BINARY_ type when an argument holds binary.
fn write_header(
    out: &mut String,
    plain: PacketType,
    nsp: &str,
    id: Option<u64>,
    args: &[Value],
) -> Result<(), EncodeError> {
    let mut attachments = 0;
    for arg in args {
        attachments += json::count_binaries(arg, 1)?;
    }
    let mut digits = itoa::Buffer::new();
    if attachments == 0 {
        out.push_str(digits.format(plain.as_u8()));
    } else {
        let binary = if plain == PacketType::Event {
            PacketType::BinaryEvent
        } else {
            PacketType::BinaryAck
        };
        out.push_str(digits.format(binary.as_u8()));
        out.push_str(digits.format(attachments));
        out.push('-');
    }
    write_nsp(out, nsp, None)?;
    if let Some(id) = id {
        out.push_str(digits.format(id));
    }
    Ok(())
}

/// The rest of the data array after `[` (and the event name when `after_first`).
fn write_args(
    out: &mut String,
    args: &[Value],
    after_first: bool,
    sink: Option<&mut Vec<Bytes>>,
) -> Result<(), EncodeError> {
    let mut writer = JsonWriter {
        out,
        binary: Binary::Placeholder { next: 0, sink },
    };
    for (i, arg) in args.iter().enumerate() {
        if after_first || i > 0 {
            writer.out.push(',');
        }
        writer.value(arg, 1)?;
    }
    writer.out.push(']');
    Ok(())
}

/// `<nsp>,` unless the namespace is `/` without query.
fn write_nsp(out: &mut String, nsp: &str, query: Option<&str>) -> Result<(), EncodeError> {
    if !nsp.starts_with('/') {
        return Err(EncodeError::InvalidNamespace {
            nsp: nsp.to_owned(),
            reason: "must start with '/'",
        });
    }
    // The decoder ends the namespace at the first comma.
    if nsp.contains(',') || query.is_some_and(|q| q.contains(',')) {
        return Err(EncodeError::InvalidNamespace {
            nsp: nsp.to_owned(),
            reason: "namespace and query must not contain ','",
        });
    }
    if nsp == "/" && query.is_none() {
        return Ok(());
    }
    out.push_str(nsp);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out.push(',');
    Ok(())
}
