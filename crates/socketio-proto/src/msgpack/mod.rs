//! The msgpack parser, byte-compatible with npm `socket.io-msgpack-parser` (built on notepack.io).
//!
//! Each packet is one msgpack map sent as one binary Engine.IO message; binary values stay native `bin`
//! and there are no attachments nor BINARY_* types. The encoder writes the keys in the order the Node
//! server builds its packet objects, so its output is the same bytes Node sends:
//!
//! | packet        | map                                                                  |
//! |---------------|----------------------------------------------------------------------|
//! | CONNECT       | `{type, data, nsp}` (`data` is notepack's `undefined`, `d4 00 00`, when absent, as the Node client sends it) |
//! | DISCONNECT    | `{type, nsp}`                                                        |
//! | EVENT         | `{type, data, id?, nsp}`                                             |
//! | ACK           | `{id, type, data, nsp}`                                              |
//! | CONNECT_ERROR | `{type, data, nsp}`                                                  |
//!
//! Values follow notepack: integers in their smallest form (unsigned forms for positive numbers),
//! floats as float 64, and floats without fractional part as integers (JavaScript has one number type).
//! The decoder accepts keys in any order and ignores unknown keys (the Node client adds `options`); a key
//! whose value is `undefined` counts as absent, `undefined` in an array becomes `nil`, and notepack's
//! ArrayBuffer (extension type 0) becomes [`Value::Binary`].
//!
//! ```
//! use sio_socketio_proto::{msgpack, Packet, Value};
//!
//! let packet = Packet::event("/", "hello", vec![Value::from(1)]);
//! let bytes = msgpack::encode(&packet)?;
//! assert_eq!(bytes, b"\x83\xa4type\x02\xa4data\x92\xa5hello\x01\xa3nsp\xa1/");
//! assert_eq!(msgpack::decode(&bytes)?, packet);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod read;
mod write;

pub use write::MapKeys;

use rmpv::Value;

use crate::error::{DecodeError, EncodeError};
use crate::packet::{Packet, PacketType, is_reserved_event};
use crate::validate;
use read::{Item, Reader};

/// Encodes `packet` as one msgpack map.
///
/// # Errors
/// See [`EncodeError`]: reserved event names, namespaces not starting with `/`, a CONNECT query (v4
/// only, which has no msgpack parser), payloads of the wrong shape.
pub fn encode(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(packet, &mut out)?;
    Ok(out)
}

/// Appends `value` in the forms notepack.io writes for the JavaScript value it stands for (the
/// forms of this parser's packets), for other msgpack peers of Node programs, such as the Redis
/// adapters' messages; on error `out` is left as it was.
///
/// ```
/// use sio_socketio_proto::{msgpack::{self, MapKeys}, Value};
///
/// let value = Value::Map(vec![(Value::from(1), Value::F64(2.0))]);
/// let mut out = Vec::new();
/// msgpack::write_value(&mut out, &value, MapKeys::JsStrings)?;
/// assert_eq!(out, b"\x81\xa11\x02");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`EncodeError::UnsupportedValue`] for a string, binary, array or map longer than 2^32-1 or an
/// extension notepack would misread; [`EncodeError::InvalidUtf8String`];
/// [`EncodeError::DepthLimit`]; [`EncodeError::InvalidMapKey`] with [`MapKeys::JsStrings`].
pub fn write_value(out: &mut Vec<u8>, value: &Value, keys: MapKeys) -> Result<(), EncodeError> {
    let len = out.len();
    let result = write::value_with(out, value, 0, keys);
    if result.is_err() {
        out.truncate(len);
    }
    result
}

/// Appends the encoding of `packet` to `out`; on error `out` is left as it was.
///
/// # Errors
/// As [`encode`].
pub fn encode_into(packet: &Packet, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let len = out.len();
    let result = write_packet(packet, out);
    if result.is_err() {
        out.truncate(len);
    }
    result
}

fn write_packet(packet: &Packet, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    check_nsp(packet.nsp())?;
    let ty = |out: &mut Vec<u8>, t: PacketType| {
        out.extend_from_slice(b"\xa4type");
        write::uint(out, u64::from(t.as_u8()));
    };
    let nsp = |out: &mut Vec<u8>, nsp: &str| {
        out.extend_from_slice(b"\xa3nsp");
        write::str(out, nsp)
    };
    match packet {
        Packet::Connect {
            nsp: n,
            data,
            query,
        } => {
            if query.is_some() {
                return Err(EncodeError::QueryNotSupported);
            }
            write::map_len(out, 3)?;
            ty(out, PacketType::Connect);
            out.extend_from_slice(b"\xa4data");
            match data {
                Some(data @ Value::Map(_)) => write::value(out, data, 1)?,
                Some(_) => {
                    return Err(EncodeError::InvalidPayload {
                        packet_type: PacketType::Connect,
                        expected: "a map",
                    });
                }
                None => write::undefined(out),
            }
            nsp(out, n)?;
        }
        Packet::Disconnect { nsp: n } => {
            write::map_len(out, 2)?;
            ty(out, PacketType::Disconnect);
            nsp(out, n)?;
        }
        Packet::Event {
            nsp: n,
            id,
            event,
            args,
        } => {
            if is_reserved_event(event) {
                return Err(EncodeError::ReservedEvent {
                    name: event.clone(),
                });
            }
            write::map_len(out, if id.is_some() { 4 } else { 3 })?;
            ty(out, PacketType::Event);
            out.extend_from_slice(b"\xa4data");
            write::array_len(out, args.len().saturating_add(1))?;
            write::str(out, event)?;
            for arg in args {
                write::value(out, arg, 2)?;
            }
            if let Some(id) = id {
                out.extend_from_slice(b"\xa2id");
                write::uint(out, *id);
            }
            nsp(out, n)?;
        }
        Packet::Ack { nsp: n, id, args } => {
            write::map_len(out, 4)?;
            out.extend_from_slice(b"\xa2id");
            write::uint(out, *id);
            ty(out, PacketType::Ack);
            out.extend_from_slice(b"\xa4data");
            write::array_len(out, args.len())?;
            for arg in args {
                write::value(out, arg, 2)?;
            }
            nsp(out, n)?;
        }
        Packet::ConnectError { nsp: n, data } => {
            if !(data.is_map() || data.is_str()) {
                return Err(EncodeError::InvalidPayload {
                    packet_type: PacketType::ConnectError,
                    expected: "a map or a string",
                });
            }
            write::map_len(out, 3)?;
            ty(out, PacketType::ConnectError);
            out.extend_from_slice(b"\xa4data");
            write::value(out, data, 1)?;
            nsp(out, n)?;
        }
    }
    Ok(())
}

fn check_end(reader: &Reader<'_>) -> Result<(), DecodeError> {
    if reader.remaining() > 0 {
        return Err(DecodeError::TrailingBytes {
            offset: reader.pos(),
            count: reader.remaining(),
        });
    }
    Ok(())
}

fn check_nsp(nsp: &str) -> Result<(), EncodeError> {
    if nsp.starts_with('/') {
        Ok(())
    } else {
        Err(EncodeError::InvalidNamespace {
            nsp: nsp.to_owned(),
            reason: "must start with '/'",
        })
    }
}

/// Decodes one msgpack packet (a whole binary Engine.IO message).
///
/// The rules are the default parser's (see [`Decoder`](crate::Decoder)), applied to the map's `type`
/// (0-4), `nsp`, `data` and `id`.
///
/// # Errors
/// Malformed msgpack (truncated, invalid marker or UTF-8, nesting deeper than 128, trailing bytes) or a
/// packet that breaks the rules, see [`DecodeError`].
pub fn decode(bytes: &[u8]) -> Result<Packet, DecodeError> {
    let mut reader = Reader::new(bytes);
    let Some(len) = reader.map_header()? else {
        // Report malformed msgpack before the wrong kind of value.
        reader.item(1)?;
        check_end(&reader)?;
        return Err(DecodeError::NotAMap);
    };
    let (mut ty, mut nsp, mut data, mut id) = (None, None, None, None);
    for _ in 0..len {
        let key = reader.key(2)?;
        let value = match reader.item(2)? {
            Item::Value(v) => Some(v),
            // A key set to `undefined` is as good as absent (Node's client sends `data: undefined`).
            Item::Undefined => None,
        };
        // Later duplicates win, as with a JavaScript object; unknown keys (the Node client's
        // `options`) are ignored.
        match key {
            Some("type") => ty = value,
            Some("nsp") => nsp = value,
            Some("data") => data = value,
            Some("id") => id = value,
            _ => {}
        }
    }
    check_end(&reader)?;

    let packet_type = ty
        .ok_or(DecodeError::MissingField { field: "type" })?
        .as_u64()
        .and_then(|t| u8::try_from(t).ok())
        .and_then(PacketType::from_u8)
        .filter(|t| t.as_u8() <= PacketType::ConnectError.as_u8())
        .ok_or(DecodeError::InvalidField {
            field: "type",
            expected: "an integer from 0 to 4",
        })?;
    let nsp = match nsp {
        None => return Err(DecodeError::MissingField { field: "nsp" }),
        Some(Value::String(s)) => s.into_str().ok_or(DecodeError::InvalidField {
            field: "nsp",
            expected: "a string",
        })?,
        Some(_) => {
            return Err(DecodeError::InvalidField {
                field: "nsp",
                expected: "a string",
            });
        }
    };
    if !nsp.starts_with('/') {
        return Err(DecodeError::InvalidNamespace { nsp });
    }
    let id = match id {
        None => None,
        Some(v) => Some(v.as_u64().ok_or(DecodeError::InvalidField {
            field: "id",
            expected: "a non-negative integer",
        })?),
    };
    if id.is_some() && !matches!(packet_type, PacketType::Event | PacketType::Ack) {
        return Err(DecodeError::UnexpectedAckId {
            packet_type,
            offset: 0,
        });
    }

    Ok(match packet_type {
        PacketType::Connect => Packet::Connect {
            nsp,
            data: validate::connect_data(data)?,
            query: None,
        },
        PacketType::Disconnect => {
            if data.is_some() {
                return Err(DecodeError::UnexpectedPayload {
                    packet_type,
                    offset: 0,
                });
            }
            Packet::Disconnect { nsp }
        }
        PacketType::Event => {
            let (event, args) = validate::event_data(packet_type, data)?;
            Packet::Event {
                nsp,
                id,
                event,
                args,
            }
        }
        PacketType::Ack => {
            let id = id.ok_or(DecodeError::MissingAckId { packet_type })?;
            if data.is_none() {
                return Err(DecodeError::MissingPayload { packet_type });
            }
            let args = validate::ack_data(packet_type, data)?;
            Packet::Ack { nsp, id, args }
        }
        PacketType::ConnectError => Packet::ConnectError {
            nsp,
            data: validate::connect_error_data(data)?,
        },
        PacketType::BinaryEvent | PacketType::BinaryAck => {
            return Err(DecodeError::InvalidField {
                field: "type",
                expected: "an integer from 0 to 4",
            });
        }
    })
}
