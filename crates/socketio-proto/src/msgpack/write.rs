//! Msgpack output in the forms notepack.io picks for the JavaScript value a peer would hold.

use rmpv::Value;

use crate::error::EncodeError;
use crate::js::{self, MAX_ENCODE_DEPTH};

const TOO_LONG: EncodeError = EncodeError::UnsupportedValue {
    kind: "string, binary, array or map longer than 2^32-1",
};

/// Positive numbers always take the unsigned forms, as notepack does.
pub(crate) fn uint(out: &mut Vec<u8>, n: u64) {
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

fn negative_int(out: &mut Vec<u8>, n: i64) {
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

/// A JavaScript number: integral values take integer forms, the rest float 64.
fn number(out: &mut Vec<u8>, v: f64) {
    match js::number_from_f64(v) {
        Value::Integer(i) => match i.as_u64() {
            Some(u) => uint(out, u),
            None => negative_int(out, i.as_i64().unwrap_or_default()),
        },
        _ => {
            out.push(0xcb);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

/// Header of a str/bin/array/map: fix form when it exists for the length, then 8/16/32-bit forms.
fn header(
    out: &mut Vec<u8>,
    len: usize,
    fix: Option<(u8, usize)>,
    markers: [Option<u8>; 3],
) -> Result<(), EncodeError> {
    let len = u32::try_from(len).map_err(|_| TOO_LONG)?;
    if let Some((base, limit)) = fix
        && (len as usize) < limit
    {
        out.push(base | len as u8);
        return Ok(());
    }
    match markers {
        [Some(m8), _, _] if len < 0x100 => out.extend_from_slice(&[m8, len as u8]),
        [_, Some(m16), _] if len < 0x1_0000 => {
            out.push(m16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        [_, _, Some(m32)] => {
            out.push(m32);
            out.extend_from_slice(&len.to_be_bytes());
        }
        _ => return Err(TOO_LONG),
    }
    Ok(())
}

pub(crate) fn str(out: &mut Vec<u8>, s: &str) -> Result<(), EncodeError> {
    header(
        out,
        s.len(),
        Some((0xa0, 0x20)),
        [Some(0xd9), Some(0xda), Some(0xdb)],
    )?;
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

pub(crate) fn array_len(out: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    header(out, len, Some((0x90, 0x10)), [None, Some(0xdc), Some(0xdd)])
}

pub(crate) fn map_len(out: &mut Vec<u8>, len: usize) -> Result<(), EncodeError> {
    header(out, len, Some((0x80, 0x10)), [None, Some(0xde), Some(0xdf)])
}

/// notepack's encoding of `undefined` (fixext 1, type 0).
pub(crate) fn undefined(out: &mut Vec<u8>) {
    out.extend_from_slice(&[0xd4, 0x00, 0x00]);
}

/// How [`super::write_value`] writes map keys that are not strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MapKeys {
    /// As they are: msgpack allows a key of any kind (what this parser's packets carry).
    #[default]
    AsIs,
    /// As the JavaScript property names they become (`1` → `"1"`, `null` → `"null"`), which is
    /// what notepack.io writes for a JavaScript object: its keys are strings. A key with no such
    /// name (array, map, binary, extension) is an [`EncodeError::InvalidMapKey`].
    JsStrings,
}

/// Writes `v`, a container at `depth` checks the encoder's nesting limit.
pub(crate) fn value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), EncodeError> {
    value_with(out, v, depth, MapKeys::AsIs)
}

/// [`value`], with the map keys written as `keys` says.
pub(crate) fn value_with(
    out: &mut Vec<u8>,
    v: &Value,
    depth: usize,
    keys: MapKeys,
) -> Result<(), EncodeError> {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(i) => match i.as_u64() {
            Some(u) => uint(out, u),
            None => negative_int(out, i.as_i64().unwrap_or_default()),
        },
        Value::F32(f) => number(out, js::f32_as_js(*f)),
        Value::F64(f) => number(out, *f),
        Value::String(s) => str(out, s.as_str().ok_or(EncodeError::InvalidUtf8String)?)?,
        Value::Binary(b) => {
            header(out, b.len(), None, [Some(0xc4), Some(0xc5), Some(0xc6)])?;
            out.extend_from_slice(b);
        }
        Value::Array(items) => {
            let depth = check_depth(depth)?;
            array_len(out, items.len())?;
            for item in items {
                value_with(out, item, depth, keys)?;
            }
        }
        Value::Map(pairs) => {
            let depth = check_depth(depth)?;
            map_len(out, pairs.len())?;
            for (k, item) in pairs {
                match (keys, k) {
                    (MapKeys::JsStrings, Value::String(_)) | (MapKeys::AsIs, _) => {
                        value_with(out, k, depth, keys)?;
                    }
                    (MapKeys::JsStrings, other) => str(out, &js::property_name(other)?)?,
                }
                value_with(out, item, depth, keys)?;
            }
        }
        Value::Ext(ty, data) => ext(out, *ty, data)?,
    }
    Ok(())
}

fn check_depth(depth: usize) -> Result<usize, EncodeError> {
    if depth >= MAX_ENCODE_DEPTH {
        return Err(EncodeError::DepthLimit {
            max: MAX_ENCODE_DEPTH,
        });
    }
    Ok(depth + 1)
}

fn ext(out: &mut Vec<u8>, ty: i8, data: &[u8]) -> Result<(), EncodeError> {
    let fixed = match data.len() {
        1 => Some(0xd4),
        2 => Some(0xd5),
        4 => Some(0xd6),
        8 => Some(0xd7),
        16 => Some(0xd8),
        _ => None,
    };
    // notepack reads type 0 as `undefined` (fixext 1) or an ArrayBuffer (ext 8/16/32): such a value would
    // not come back as the same extension.
    if ty == 0 && !matches!(data.len(), 2 | 4 | 8 | 16) {
        return Err(EncodeError::UnsupportedValue {
            kind: "extension type 0 (notepack's undefined and ArrayBuffer) of this length",
        });
    }
    match fixed {
        Some(marker) => out.push(marker),
        None => header(out, data.len(), None, [Some(0xc7), Some(0xc8), Some(0xc9)])?,
    }
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}
