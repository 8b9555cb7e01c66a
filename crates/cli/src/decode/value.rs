//! Socket.IO argument values (`rmpv::Value`, which can hold binary) as JSON for display.

use base64::Engine as _;
use serde_json::Number;
use sio_socketio_proto::Value;

use super::json::Json;

/// Bytes standing in for attachment `num` while a BINARY_* header is decoded without its
/// attachments: they become `Value::Binary` in the arguments and are turned back into the
/// placeholder the frame held.
pub(crate) fn attachment_marker(num: usize) -> Vec<u8> {
    format!("\0sio-decode attachment {num} not in this frame\0").into_bytes()
}

fn marker_number(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let num = text
        .strip_prefix("\0sio-decode attachment ")?
        .strip_suffix(" not in this frame\0")?;
    num.parse().ok()
}

/// Binary data as shown in JSON output: `{"_binary":true,"length":n,"base64":"…"}`.
pub(crate) fn binary_json(bytes: &[u8]) -> Json {
    Json::object([
        ("_binary", Json::Bool(true)),
        ("length", Json::from(bytes.len() as u64)),
        (
            "base64",
            Json::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
        ),
    ])
}

/// `value` as JSON, the way JavaScript would see it after the parser ran.
pub(crate) fn to_json(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => i
            .as_u64()
            .map(Number::from)
            .or_else(|| i.as_i64().map(Number::from))
            .map_or(Json::Null, Json::Number),
        Value::F32(f) => Number::from_f64(f64::from(*f)).map_or(Json::Null, Json::Number),
        Value::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => match s.as_str() {
            Some(text) => Json::String(text.to_owned()),
            None => binary_json(s.as_bytes()),
        },
        Value::Binary(bytes) => match marker_number(bytes) {
            Some(num) => {
                Json::object([("_placeholder", Json::Bool(true)), ("num", Json::from(num))])
            }
            None => binary_json(bytes),
        },
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
                        other => match to_json(other) {
                            Json::String(s) => s,
                            json => json.to_compact(),
                        },
                    };
                    (key, to_json(value))
                })
                .collect(),
        ),
        Value::Ext(kind, bytes) => Json::object([
            ("_ext", Json::Number((*kind).into())),
            (
                "base64",
                Json::from(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Json {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn markers_become_placeholders() {
        let value = Value::Binary(attachment_marker(3));
        assert_eq!(to_json(&value), json(r#"{"_placeholder": true, "num": 3}"#));
        assert_eq!(
            to_json(&Value::Binary(vec![1, 2, 3])),
            json(r#"{"_binary": true, "length": 3, "base64": "AQID"}"#)
        );
    }

    #[test]
    fn numbers_and_maps() {
        let value = Value::Map(vec![
            (Value::from("a"), Value::from(1.5)),
            (Value::from(3), Value::from(-2)),
        ]);
        assert_eq!(to_json(&value), json(r#"{"a": 1.5, "3": -2}"#));
        assert_eq!(to_json(&Value::F64(f64::NAN)), Json::Null);
    }
}
