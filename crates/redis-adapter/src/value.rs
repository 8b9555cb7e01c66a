//! Values on the wire between nodes: msgpack as notepack.io writes and reads it, and JSON as
//! `JSON.stringify` writes it. Both are read into [`Value`] maps, so one model serves both.
//!
//! notepack.io 3 (what `@socket.io/redis-adapter` 8.3 and `@socket.io/redis-emitter` 5 use):
//! integers in their smallest form (unsigned forms for positive numbers), every other number as
//! float 64, a number without fractional part as an integer (JavaScript has one number type),
//! `Buffer` and typed arrays as `bin`, `undefined` as nil and map keys whose value is `undefined`
//! left out, `Date` as the msgpack timestamp extension. It still reads its 2.x forms: `d4 00 00`
//! for `undefined` and extension type 0 for an ArrayBuffer, which we accept too.

use rmpv::Value;

use crate::error::WireError;

/// Deepest nesting accepted from another node.
const MAX_DEPTH: usize = 64;

/// Encodes `value` as notepack.io would encode the JavaScript value it stands for.
pub(crate) fn to_msgpack(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    write(&mut out, value);
    out
}

fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => write_uint(out, u),
            (None, Some(i)) => write_negative(out, i),
            (None, None) => out.push(0xc0),
        },
        Value::F32(f) => write_number(out, f64::from(*f)),
        Value::F64(f) => write_number(out, *f),
        Value::String(s) => write_str(out, s.as_bytes()),
        Value::Binary(bytes) => {
            write_len(out, bytes.len(), [0xc4, 0xc5, 0xc6], None);
            out.extend_from_slice(bytes);
        }
        Value::Array(items) => {
            write_len(out, items.len(), [0xdc, 0xdc, 0xdd], Some(0x90));
            for item in items {
                write(out, item);
            }
        }
        Value::Map(fields) => {
            write_len(out, fields.len(), [0xde, 0xde, 0xdf], Some(0x80));
            for (key, item) in fields {
                match key {
                    Value::String(s) => write_str(out, s.as_bytes()),
                    // JavaScript object keys are strings.
                    other => write_str(out, js_key(other).as_bytes()),
                }
                write(out, item);
            }
        }
        Value::Ext(ty, data) => {
            match data.len() {
                1 => out.push(0xd4),
                2 => out.push(0xd5),
                4 => out.push(0xd6),
                8 => out.push(0xd7),
                16 => out.push(0xd8),
                n if n < 0x100 => out.extend_from_slice(&[0xc7, n as u8]),
                n if n < 0x1_0000 => {
                    out.push(0xc8);
                    out.extend_from_slice(&(n as u16).to_be_bytes());
                }
                n => {
                    out.push(0xc9);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                }
            }
            out.push(*ty as u8);
            out.extend_from_slice(data);
        }
    }
}

/// `[fix-or-8, 16, 32]` markers; `fix` is the fix form's base for lengths under 16.
fn write_len(out: &mut Vec<u8>, len: usize, markers: [u8; 3], fix: Option<u8>) {
    let [m8, m16, m32] = markers;
    match fix {
        Some(base) if len < 0x10 => out.push(base | len as u8),
        None if len < 0x100 => out.extend_from_slice(&[m8, len as u8]),
        _ if len < 0x1_0000 => {
            out.push(m16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m32);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = bytes.len();
    if len < 0x20 {
        out.push(0xa0 | len as u8);
    } else if len < 0x100 {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len < 0x1_0000 {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(bytes);
}

fn write_uint(out: &mut Vec<u8>, n: u64) {
    if n < 0x80 {
        out.push(n as u8);
    } else if n < 0x100 {
        out.extend_from_slice(&[0xcc, n as u8]);
    } else if n < 0x1_0000 {
        out.push(0xcd);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n < 0x1_0000_0000 {
        out.push(0xce);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn write_negative(out: &mut Vec<u8>, n: i64) {
    if n >= -0x20 {
        out.push(n as u8);
    } else if n >= -0x80 {
        out.extend_from_slice(&[0xd0, n as u8]);
    } else if n >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// JavaScript's single number type: integral values travel as integers.
fn write_number(out: &mut Vec<u8>, f: f64) {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && f > -TWO_63 && f < 2.0 * TWO_63 {
        if f >= 0.0 {
            write_uint(out, f as u64);
        } else {
            write_negative(out, f as i64);
        }
    } else {
        out.push(0xcb);
        out.extend_from_slice(&f.to_be_bytes());
    }
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
pub(crate) fn from_msgpack(bytes: &[u8]) -> Result<Value, WireError> {
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
pub(crate) fn decode_any(bytes: &[u8]) -> Result<Value, WireError> {
    if bytes.first() == Some(&b'{') {
        from_json_bytes(bytes)
    } else {
        from_msgpack(bytes)
    }
}

/// Parses JSON into a [`Value`] (numbers without fraction become integers).
pub(crate) fn from_json_bytes(bytes: &[u8]) -> Result<Value, WireError> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| WireError::Json(e.to_string()))?;
    Ok(from_json(json))
}

pub(crate) fn from_json(json: serde_json::Value) -> Value {
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
pub(crate) fn to_json(value: &Value) -> serde_json::Value {
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
pub(crate) fn to_json_string(value: &Value) -> String {
    to_json(value).to_string()
}

/// A map value from `(key, value)` pairs, in order.
pub(crate) fn map<const N: usize>(fields: [(&str, Value); N]) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// The field `key` of a map value.
pub(crate) fn get<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    value
        .as_map()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// The field `key` of a map value, taken out of it.
pub(crate) fn take(value: &mut Value, key: &str) -> Option<Value> {
    let Value::Map(fields) = value else {
        return None;
    };
    let i = fields.iter().position(|(k, _)| k.as_str() == Some(key))?;
    Some(fields.swap_remove(i).1)
}

/// A string field.
pub(crate) fn get_str<'a>(value: &'a Value, key: &str) -> Option<&'a str> {
    get(value, key)?.as_str()
}

/// A list of strings (rooms): non-strings are written as JavaScript would print them.
pub(crate) fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Array(items)) => items.iter().map(js_key).collect(),
        _ => Vec::new(),
    }
}

/// A list of strings as a value.
pub(crate) fn string_array(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn numbers_take_notepack_forms() {
        assert_eq!(to_msgpack(&Value::from(1)), [0x01]);
        assert_eq!(to_msgpack(&Value::from(200)), [0xcc, 200]);
        assert_eq!(to_msgpack(&Value::from(-1)), [0xff]);
        assert_eq!(to_msgpack(&Value::from(-100)), [0xd0, 0x9c]);
        assert_eq!(to_msgpack(&Value::F64(2.0)), [0x02]);
        assert_eq!(to_msgpack(&Value::F32(1.5))[0], 0xcb);
        assert_eq!(to_msgpack(&Value::F64(0.5))[0], 0xcb);
        assert_eq!(to_msgpack(&Value::F64(f64::NAN))[0], 0xcb);
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
        assert_eq!(from_msgpack(&to_msgpack(&v)).unwrap(), v);
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
