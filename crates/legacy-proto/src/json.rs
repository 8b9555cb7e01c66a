//! JSON helpers: string escaping like `JSON.stringify`, the event object, error positions.

use std::fmt::{self, Write as _};

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::error::DecodeError;

/// Appends `s` as a JSON string literal, escaping exactly what `JSON.stringify` escapes.
///
/// With `script_safe`, U+2028 and U+2029 are escaped too: they are valid in JSON but end a
/// line inside a JavaScript string literal in the browsers 0.9 targets, which would break a
/// JSONP script. The escaped form evaluates to the same string.
pub(crate) fn push_str_literal(out: &mut String, s: &str, script_safe: bool) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut run_start = 0;
    for (i, c) in s.char_indices() {
        let escape: Option<&str> = match c {
            '"' => Some("\\\""),
            '\\' => Some("\\\\"),
            '\n' => Some("\\n"),
            '\r' => Some("\\r"),
            '\t' => Some("\\t"),
            '\u{8}' => Some("\\b"),
            '\u{c}' => Some("\\f"),
            '\u{0}'..='\u{1f}' => None,
            '\u{2028}' | '\u{2029}' if script_safe => None,
            _ => continue,
        };
        out.push_str(s.get(run_start..i).unwrap_or_default());
        run_start = i + c.len_utf8();
        match escape {
            Some(e) => out.push_str(e),
            None => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    out.push('"');
}

/// Appends a JSON array of `values` in compact form, as `JSON.stringify` writes it.
pub(crate) fn push_array(out: &mut String, values: &[Value]) {
    out.push('[');
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_value(out, v);
    }
    out.push(']');
}

/// Appends one JSON value in compact form.
pub(crate) fn push_value(out: &mut String, value: &Value) {
    // `Value`'s Display writes straight into the String: no temporary buffer.
    let _ = write!(out, "{value}");
}

/// Parses `text` (found at `offset` in the caller's input) as a `T`, mapping errors to
/// [`DecodeError::InvalidJson`] with the byte position serde_json reports.
pub(crate) fn parse<'a, T: serde::Deserialize<'a>>(
    text: &'a str,
    offset: usize,
    what: &'static str,
) -> Result<T, DecodeError> {
    serde_json::from_str(text).map_err(|source| DecodeError::InvalidJson {
        what,
        offset: offset + error_position(text, &source),
        source,
    })
}

/// Byte position in `text` of a serde_json error given as line and column (both 1-based;
/// column counts bytes). Errors without a position map to the start of `text`.
fn error_position(text: &str, err: &serde_json::Error) -> usize {
    let (line, column) = (err.line(), err.column());
    if line == 0 {
        return 0;
    }
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)).min(text.len())
}

/// The data of an event message: `{"name": <string>, "args": [<values>]?}`.
///
/// A hand-written visitor rather than a derive: a derived struct would also accept a JSON
/// array (`["name", []]`), which the 0.9 parser does not.
#[derive(Debug)]
pub(crate) struct EventData {
    pub(crate) name: String,
    pub(crate) args: Vec<Value>,
}

impl<'de> serde::Deserialize<'de> for EventData {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EventVisitor)
    }
}

struct EventVisitor;

enum Key {
    Name,
    Args,
    Other,
}

impl<'de> serde::Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "name" => Key::Name,
                    "args" => Key::Args,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for EventVisitor {
    type Value = EventData;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an object {"name": <string>, "args": <array>}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventData, A::Error> {
        let mut name = None;
        let mut args = None;
        // Later duplicates win, as with JSON.parse.
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Name => name = Some(map.next_value::<String>()?),
                // `"args": null` reads as no arguments, as in the 0.9 parser (`args || []`).
                Key::Args => args = map.next_value::<Option<Vec<Value>>>()?,
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
        Ok(EventData {
            name,
            args: args.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str, script_safe: bool) -> String {
        let mut out = String::new();
        push_str_literal(&mut out, s, script_safe);
        out
    }

    #[test]
    fn string_literals_match_serde_json() {
        for s in [
            "",
            "plain",
            "quote\" backslash\\ slash/",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f} \u{7f}",
            "é€😀",
        ] {
            assert_eq!(lit(s, false), serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn script_safe_escapes_line_separators() {
        assert_eq!(lit("a\u{2028}b\u{2029}", true), r#""a\u2028b\u2029""#);
        assert_eq!(lit("a\u{2028}", false), "\"a\u{2028}\"");
        let back: String = serde_json::from_str(&lit("a\u{2028}b", true)).unwrap();
        assert_eq!(back, "a\u{2028}b");
    }

    #[test]
    fn error_positions() {
        let err = parse::<Value>("{\"a\":\n  x}", 10, "test").unwrap_err();
        match err {
            DecodeError::InvalidJson { offset, .. } => assert_eq!(offset, 10 + 8),
            other => panic!("{other:?}"),
        }
        let err = parse::<Value>("", 3, "test").unwrap_err();
        assert!(matches!(err, DecodeError::InvalidJson { offset: 3, .. }));
    }

    #[test]
    fn event_shape() {
        let e: EventData =
            serde_json::from_str(r#"{"x":[1,{"y":2}],"name":"a","args":null}"#).unwrap();
        assert_eq!(e.name, "a");
        assert!(e.args.is_empty());
        assert!(serde_json::from_str::<EventData>(r#"["a",[]]"#).is_err());
        assert!(serde_json::from_str::<EventData>(r#"{"args":[]}"#).is_err());
        assert!(serde_json::from_str::<EventData>(r#"{"name":1}"#).is_err());
        assert!(serde_json::from_str::<EventData>(r#"{"name":"a","args":{}}"#).is_err());
        let e: EventData = serde_json::from_str(r#"{"name":"a","name":"b"}"#).unwrap();
        assert_eq!(e.name, "b");
    }
}
