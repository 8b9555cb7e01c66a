//! Payload rules shared by both parsers, after socket.io-parser 4.x `isPayloadValid`.

use rmpv::Value;

use crate::error::DecodeError;
use crate::js;
use crate::packet::{PacketType, is_reserved_event};

/// CONNECT: nothing, or an object.
pub(crate) fn connect_data(payload: Option<Value>) -> Result<Option<Value>, DecodeError> {
    match payload {
        None => Ok(None),
        Some(v @ Value::Map(_)) => Ok(Some(v)),
        Some(_) => Err(DecodeError::InvalidPayload {
            packet_type: PacketType::Connect,
            expected: "an object",
        }),
    }
}

/// CONNECT_ERROR: an object (v5) or a string (v4 ERROR); the reference parsers accept both in both.
pub(crate) fn connect_error_data(payload: Option<Value>) -> Result<Value, DecodeError> {
    match payload {
        None => Err(DecodeError::MissingPayload {
            packet_type: PacketType::ConnectError,
        }),
        Some(v @ (Value::Map(_) | Value::String(_))) => Ok(v),
        Some(_) => Err(DecodeError::InvalidPayload {
            packet_type: PacketType::ConnectError,
            expected: "an object or a string",
        }),
    }
}

/// EVENT: a non-empty array whose first element is the event name, a string that is not reserved or a
/// number (which becomes its JavaScript string, as socket.io-parser 4.2 accepts numeric names).
pub(crate) fn event_data(
    packet_type: PacketType,
    payload: Option<Value>,
) -> Result<(String, Vec<Value>), DecodeError> {
    let invalid = DecodeError::InvalidPayload {
        packet_type,
        expected: "a non-empty array starting with the event name",
    };
    let mut items = match payload {
        None => return Err(DecodeError::MissingPayload { packet_type }),
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => return Err(invalid),
    };
    // In place: the arguments keep the array's allocation.
    let event = match items.remove(0) {
        Value::String(s) => match s.into_str() {
            Some(name) if is_reserved_event(&name) => {
                return Err(DecodeError::ReservedEvent { name });
            }
            Some(name) => name,
            None => return Err(invalid),
        },
        other => js::number_to_event_name(&other).ok_or(invalid)?,
    };
    Ok((event, items))
}

/// ACK: an array, possibly empty; no payload at all counts as no arguments, as socket.io-parser accepts
/// `3<id>` alone.
pub(crate) fn ack_data(
    packet_type: PacketType,
    payload: Option<Value>,
) -> Result<Vec<Value>, DecodeError> {
    match payload {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(DecodeError::InvalidPayload {
            packet_type,
            expected: "an array",
        }),
    }
}
