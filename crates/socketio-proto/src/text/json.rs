//! JSON ⇄ [`Value`] with JavaScript semantics: object key order kept, numbers printed as
//! `JSON.stringify` prints them, binary values replaced by placeholders.

use std::fmt;
use std::fmt::Write as _;

use bytes::Bytes;
use rmpv::Value;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::error::{DecodeError, EncodeError};
use crate::js::{self, MAX_ENCODE_DEPTH};
use crate::packet::PacketType;

/// What to do with [`Value::Binary`] while writing JSON.
pub(crate) enum Binary<'a> {
    /// The packet type cannot carry binary.
    Reject(PacketType),
    /// Write `{"_placeholder":true,"num":i}` and, when a sink is given, copy the bytes into it.
    Placeholder {
        next: usize,
        sink: Option<&'a mut Vec<Bytes>>,
    },
}

pub(crate) struct JsonWriter<'a, 'b> {
    pub(crate) out: &'a mut String,
    pub(crate) binary: Binary<'b>,
}

impl JsonWriter<'_, '_> {
    /// Writes `v`, which sits at nesting `depth` (the packet's data array is depth 1).
    pub(crate) fn value(&mut self, v: &Value, depth: usize) -> Result<(), EncodeError> {
        match v {
            Value::Nil => self.out.push_str("null"),
            Value::Boolean(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Integer(i) => {
                let mut digits = itoa::Buffer::new();
                match (i.as_u64(), i.as_i64()) {
                    (Some(u), _) => self.out.push_str(digits.format(u)),
                    (None, Some(n)) => self.out.push_str(digits.format(n)),
                    (None, None) => {
                        let _ = write!(self.out, "{i}");
                    }
                }
            }
            Value::F32(f) => js::write_f32(self.out, *f),
            Value::F64(f) => js::write_f64(self.out, *f),
            Value::String(s) => {
                js::write_json_str(self.out, s.as_str().ok_or(EncodeError::InvalidUtf8String)?)
            }
            Value::Binary(b) => match &mut self.binary {
                Binary::Reject(packet_type) => {
                    return Err(EncodeError::BinaryNotAllowed {
                        packet_type: *packet_type,
                    });
                }
                Binary::Placeholder { next, sink } => {
                    let _ = write!(self.out, "{{\"_placeholder\":true,\"num\":{next}}}");
                    *next += 1;
                    if let Some(sink) = sink {
                        sink.push(Bytes::copy_from_slice(b));
                    }
                }
            },
            Value::Array(items) => {
                let depth = check_depth(depth)?;
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.value(item, depth)?;
                }
                self.out.push(']');
            }
            Value::Map(pairs) => {
                let depth = check_depth(depth)?;
                self.out.push('{');
                for (i, (k, item)) in pairs.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    js::write_json_key(self.out, k)?;
                    self.out.push(':');
                    self.value(item, depth)?;
                }
                self.out.push('}');
            }
            Value::Ext(..) => {
                return Err(EncodeError::UnsupportedValue {
                    kind: "msgpack extension in JSON",
                });
            }
        }
        Ok(())
    }
}

/// The depth for the children of a container at `depth`.
fn check_depth(depth: usize) -> Result<usize, EncodeError> {
    if depth >= MAX_ENCODE_DEPTH {
        return Err(EncodeError::DepthLimit {
            max: MAX_ENCODE_DEPTH,
        });
    }
    Ok(depth + 1)
}

/// Number of binary values in `v`, depth-first (the order placeholders are numbered in).
pub(crate) fn count_binaries(v: &Value, depth: usize) -> Result<usize, EncodeError> {
    Ok(match v {
        Value::Binary(_) => 1,
        Value::Array(items) => {
            let depth = check_depth(depth)?;
            let mut n = 0;
            for item in items {
                n += count_binaries(item, depth)?;
            }
            n
        }
        Value::Map(pairs) => {
            let depth = check_depth(depth)?;
            let mut n = 0;
            for (_, item) in pairs {
                n += count_binaries(item, depth)?;
            }
            n
        }
        _ => 0,
    })
}

/// Moves the binary values out of `v` in placeholder order, leaving empty buffers behind.
pub(crate) fn take_binaries(v: &mut Value, out: &mut Vec<Bytes>) {
    match v {
        Value::Binary(b) => out.push(Bytes::from(std::mem::take(b))),
        Value::Array(items) => items.iter_mut().for_each(|item| take_binaries(item, out)),
        Value::Map(pairs) => pairs
            .iter_mut()
            .for_each(|(_, item)| take_binaries(item, out)),
        _ => {}
    }
}

/// Parses a JSON payload that starts at byte `base` of the packet.
pub(crate) fn parse(payload: &str, base: usize) -> Result<Value, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(payload);
    let result = JsonSeed
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v));
    result.map_err(|e| {
        let mut message = e.to_string();
        // serde_json appends a line/column position; ours is a byte offset in the packet.
        if let Some(at) = message.rfind(" at line ") {
            message.truncate(at);
        }
        let at = if e.is_eof() {
            payload.len()
        } else {
            byte_offset(payload, e.line(), e.column())
        };
        DecodeError::InvalidJson {
            offset: base + at,
            message,
        }
    })
}

fn byte_offset(s: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let line_start = if line == 1 {
        0
    } else {
        memchr::memchr_iter(b'\n', s.as_bytes())
            .nth(line - 2)
            .map_or(s.len(), |i| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(s.len())
}

struct JsonSeed;

impl<'de> DeserializeSeed<'de> for JsonSeed {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(js::number_from_f64(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(JsonSeed)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut pairs = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(JsonSeed)?;
            pairs.push((Value::from(key), value));
        }
        Ok(Value::Map(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_key_order_and_normalises_numbers() {
        let v = parse(r#"{"b":1,"a":[1.0,2.5,-0,1e2,null,"x"]}"#, 0).unwrap();
        let Value::Map(pairs) = &v else { panic!() };
        assert_eq!(pairs[0].0, Value::from("b"));
        assert_eq!(
            pairs[1].1,
            Value::Array(vec![
                Value::from(1),
                Value::F64(2.5),
                Value::from(0),
                Value::from(100),
                Value::Nil,
                Value::from("x")
            ])
        );
    }

    #[test]
    fn parse_error_offsets() {
        let e = parse("[1,", 10).unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidJson { offset: 13, .. }),
            "{e:?}"
        );
        let e = parse("[1]x", 2).unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidJson { offset: 5, .. }),
            "{e:?}"
        );
        let e = parse("[\n1,\n?]", 0).unwrap_err();
        assert!(
            matches!(e, DecodeError::InvalidJson { offset: 5, .. }),
            "{e:?}"
        );
    }

    #[test]
    fn parse_depth_is_bounded() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse(&deep, 0),
            Err(DecodeError::InvalidJson { .. })
        ));
    }
}
