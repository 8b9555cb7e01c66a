//! Values on the wire between nodes: msgpack as notepack.io writes and reads it (written by the
//! msgpack parser's writer of `sio-socketio-proto`), and JSON as `JSON.stringify` writes it. Both are read into [`Value`] maps, so one model serves both.
//!
//! notepack.io 3 (what `@socket.io/redis-adapter` 8.3 and `@socket.io/redis-emitter` 5 use):
//! integers in their smallest form (unsigned forms for positive numbers), every other number as
//! float 64, a number without fractional part as an integer (JavaScript has one number type),
//! `Buffer` and typed arrays as `bin`, `undefined` as nil and map keys whose value is `undefined`
//! left out, `Date` as the msgpack timestamp extension. It still reads its 2.x forms: `d4 00 00`
//! for `undefined` and extension type 0 for an ArrayBuffer, which we accept too.

use rmpv::Value;
use sio_server::proto::{
    EncodeError,
    msgpack::{self, MapKeys},
};

use crate::error::WireError;

/// Deepest nesting accepted from another node.
const MAX_DEPTH: usize = 64;

/// Encodes `value` as notepack.io would encode the JavaScript value it stands for: the writer of
/// the msgpack parser, with map keys as JavaScript property names (an object's keys are strings).
///
/// # Errors
/// A value notepack could not stand for: a string, binary, array or map longer than 2^32-1, an
/// invalid UTF-8 string, nesting past the writer's limit, a key with no property name.
pub fn to_msgpack(value: &Value) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(64);
    msgpack::write_value(&mut out, value, MapKeys::JsStrings)?;
    Ok(out)
}

/// [`to_msgpack`] for a message about to be sent: `None`, logged, when it cannot be encoded, and
/// the message is not sent (nothing else is affected).
pub fn encode_message(value: &Value) -> Option<Vec<u8>> {
    to_msgpack(value)
        .map_err(|error| tracing::warn!(%error, "a cluster message cannot be encoded: not sent"))
        .ok()
}

/// The string JavaScript makes of a non-string map key.
fn js_key(key: &Value) -> String {
    match key {
        Value::Nil => "null".into(),
        Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
        other => other.to_string(),
    }
}

/// Reads one msgpack value (a whole Redis message), normalised to what a notepack.io peer would
/// hold: `undefined` left out of maps (nil in arrays), ArrayBuffers as binary, timestamps as the
/// ISO strings `JSON.stringify` makes of a `Date`, float 32 as float 64.
pub fn from_msgpack(bytes: &[u8]) -> Result<Value, WireError> {
    let mut reader = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| WireError::Msgpack(e.to_string()))?;
    if !reader.is_empty() {
        return Err(WireError::Msgpack(format!(
            "{} bytes after the value",
            reader.len()
        )));
    }
    Ok(normalize(value).unwrap_or(Value::Nil))
}

/// `None` for notepack's `undefined`.
fn normalize(value: Value) -> Option<Value> {
    Some(match value {
        Value::Ext(0, data) if data == [0] => return None,
        Value::Ext(0, data) => Value::Binary(data),
        Value::Ext(-1, data) => timestamp(&data).map_or(Value::Nil, Value::from),
        Value::F32(f) => Value::F64(f64::from(f)),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| normalize(item).unwrap_or(Value::Nil))
                .collect(),
        ),
        Value::Map(fields) => Value::Map(
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k, normalize(v)?)))
                .collect(),
        ),
        other => other,
    })
}

/// A msgpack timestamp (32, 64 or 96 bits) as an ISO 8601 string with milliseconds.
fn timestamp(data: &[u8]) -> Option<String> {
    let (secs, nanos): (i64, u32) = match data.len() {
        4 => (i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0),
        8 => {
            let raw = u64::from_be_bytes(data.try_into().ok()?);
            ((raw & 0x3_ffff_ffff) as i64, (raw >> 34) as u32)
        }
        12 => {
            let nanos = u32::from_be_bytes(data.get(..4)?.try_into().ok()?);
            let secs = i64::from_be_bytes(data.get(4..)?.try_into().ok()?);
            (secs, nanos)
        }
        _ => return None,
    };
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    Some(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        nanos / 1_000_000
    ))
}

/// Days since 1970-01-01 to a (year, month, day) date (Howard Hinnant's algorithm).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Reads a message that is JSON when its first byte is `{`, msgpack otherwise (the adapters' rule).
pub fn decode_any(bytes: &[u8]) -> Result<Value, WireError> {
    if bytes.first() == Some(&b'{') {
        from_json_bytes(bytes)
    } else {
        from_msgpack(bytes)
    }
}

/// Parses JSON into a [`Value`] (numbers without fraction become integers).
pub fn from_json_bytes(bytes: &[u8]) -> Result<Value, WireError> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| WireError::Json(e.to_string()))?;
    Ok(from_json(json))
}

/// Converts JSON into a [`Value`] (numbers without fraction become integers).
pub fn from_json(json: serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(b),
        serde_json::Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => Value::from(u),
            (None, Some(i), _) => Value::from(i),
            (None, None, Some(f)) => Value::F64(f),
            _ => Value::Nil,
        },
        serde_json::Value::String(s) => Value::from(s),
        serde_json::Value::Array(items) => Value::Array(items.into_iter().map(from_json).collect()),
        serde_json::Value::Object(fields) => Value::Map(
            fields
                .into_iter()
                .map(|(k, v)| (Value::from(k), from_json(v)))
                .collect(),
        ),
    }
}

/// The JSON `JSON.stringify` would make of the JavaScript value `value` stands for (a Buffer
/// becomes `{"type":"Buffer","data":[…]}`, a non-finite number `null`).
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Nil | Value::Ext(..) => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Integer(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => J::from(u),
            (None, Some(i)) => J::from(i),
            _ => J::Null,
        },
        Value::F32(f) => json_number(f64::from(*f)),
        Value::F64(f) => json_number(*f),
        Value::String(s) => J::String(s.as_str().unwrap_or_default().to_owned()),
        Value::Binary(bytes) => serde_json::json!({ "type": "Buffer", "data": bytes }),
        Value::Array(items) => J::Array(items.iter().map(to_json).collect()),
        Value::Map(fields) => J::Object(
            fields
                .iter()
                .map(|(k, v)| (js_key(k), to_json(v)))
                .collect(),
        ),
    }
}

fn json_number(f: f64) -> serde_json::Value {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
        serde_json::Value::from(f as i64)
    } else {
        serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// `value` as a JSON string.
pub fn to_json_string(value: &Value) -> String {
    to_json(value).to_string()
}

/// A map value from `(key, value)` pairs, in order.
pub fn map<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// The field `key` of a map value.
pub fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// The field `key` of a map value, taken out of it.
pub fn take(value: &mut Value, key: &str) -> Option<Value> {
    let Value::Map(fields) = value else {
        return None;
    };
    let i = fields.iter().position(|(k, _)| k.as_str() == Some(key))?;
    Some(fields.swap_remove(i).1)
}

/// A string field.
pub fn get_str<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    get(value, key)?.as_str()
}

/// A list of strings (rooms): non-strings are written as JavaScript would print them.
pub fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().map(js_key).collect(),
        _ => Vec::new(),
    }
}

/// A list of strings as a value.
pub fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_take_notepack_forms() {
        assert_eq!(to_msgpack(&Value::from(1)).unwrap(), [0x01]);
        assert_eq!(to_msgpack(&Value::from(200)).unwrap(), [0xcc, 200]);
        assert_eq!(to_msgpack(&Value::from(-1)).unwrap(), [0xff]);
        assert_eq!(to_msgpack(&Value::from(-100)).unwrap(), [0xd0, 0x9c]);
        assert_eq!(to_msgpack(&Value::F64(2.0)).unwrap(), [0x02]);
        assert_eq!(to_msgpack(&Value::F32(1.5)).unwrap()[0], 0xcb);
        assert_eq!(to_msgpack(&Value::F64(0.5)).unwrap()[0], 0xcb);
        assert_eq!(to_msgpack(&Value::F64(f64::NAN)).unwrap()[0], 0xcb);
    }

    #[test]
    fn map_keys_are_javascript_property_names() {
        let keys = Value::Map(vec![
            (Value::from(1), Value::Nil),
            (Value::Nil, Value::Nil),
            (Value::Boolean(true), Value::Nil),
        ]);
        assert_eq!(
            to_msgpack(&keys).unwrap(),
            b"\x83\xa11\xc0\xa4null\xc0\xa4true\xc0"
        );
        // A key JavaScript has no property name for is an error, not a guess.
        let array_key = Value::Map(vec![(Value::Array(vec![]), Value::Nil)]);
        assert!(to_msgpack(&array_key).is_err());
        assert!(encode_message(&array_key).is_none());
    }

    #[test]
    fn undefined_and_arraybuffer_of_notepack_2_are_read() {
        // {a: undefined, b: ArrayBuffer([1, 2])}, [undefined]
        let bytes = [0x82, 0xa1, b'a', 0xd4, 0, 0, 0xa1, b'b', 0xc7, 2, 0, 1, 2];
        let v = from_msgpack(&bytes).unwrap();
        assert_eq!(v, map([("b", Value::Binary(vec![1, 2]))]));
        assert_eq!(
            from_msgpack(&[0x91, 0xd4, 0, 0]).unwrap(),
            Value::Array(vec![Value::Nil])
        );
    }

    #[test]
    fn dates_become_iso_strings() {
        // timestamp 32: 2021-01-01T00:00:00Z
        let v = from_msgpack(&[0xd6, 0xff, 0x5f, 0xee, 0x66, 0x00]).unwrap();
        assert_eq!(v, Value::from("2021-01-01T00:00:00.000Z"));
    }

    #[test]
    fn malformed_input_is_an_error() {
        assert!(from_msgpack(&[0x92, 0x01]).is_err());
        assert!(from_msgpack(&[0x01, 0x02]).is_err());
        assert!(decode_any(b"{not json").is_err());
        // A declared length far beyond the input allocates nothing big and fails.
        assert!(from_msgpack(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        let mut deep = vec![0x91; 1000];
        deep.push(0x01);
        assert!(from_msgpack(&deep).is_err());
    }

    #[test]
    fn round_trip_and_json() {
        let v = map([
            ("s", Value::from("é")),
            ("bin", Value::Binary(vec![1])),
            ("arr", Value::Array(vec![Value::from(1), Value::Nil])),
        ]);
        assert_eq!(from_msgpack(&to_msgpack(&v).unwrap()).unwrap(), v);
        let json: serde_json::Value = serde_json::from_str(&to_json_string(&v)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"s": "é", "bin": {"type": "Buffer", "data": [1]}, "arr": [1, null]})
        );
        assert_eq!(
            from_json_bytes(br#"{"a":[1,-2,1.5]}"#).unwrap(),
            map([(
                "a",
                Value::Array(vec![Value::from(1), Value::from(-2), Value::F64(1.5)])
            )])
        );
    }
}
