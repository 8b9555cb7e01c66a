//! JSONP polling: the server answers a `<script>` GET with `io.j[<i>]("<payload>");` and the
//! client POSTs a form whose field `d` holds the payload as a JSON string.

use std::fmt::Write as _;

use crate::error::DecodeError;
use crate::json;
use crate::message::parse_u64;

/// A decoded JSONP script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jsonp {
    /// The callback index (the `i` or `jsonp` query parameter of the request).
    pub index: u64,
    /// What the script passes to the callback.
    pub body: JsonpBody,
}

/// The argument of a JSONP callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonpBody {
    /// A string: a payload (polling) or a handshake answer.
    Data(String),
    /// `new Error("<message>")`: how the 0.9 server refuses a JSONP handshake.
    Error(String),
}

const HEAD: &str = "io.j[";
const FOOT: &str = ");";
const ERROR_HEAD: &str = "new Error(\"";
const ERROR_FOOT: &str = "\")";

/// Appends `io.j[<index>]("<data>");`, the 0.9 server's answer to a JSONP poll (and to a
/// handshake made with `?jsonp=<index>`).
///
/// `data` is escaped as `JSON.stringify` does, and U+2028/U+2029 too, which old browsers
/// do not accept raw inside a script's string literal.
///
/// ```
/// let mut out = String::new();
/// sio_legacy_proto::encode_jsonp(2, "3:::\"hi\"", &mut out);
/// assert_eq!(out, r#"io.j[2]("3:::\"hi\"");"#);
/// ```
pub fn encode_jsonp(index: u64, data: &str, out: &mut String) {
    let _ = write!(out, "{HEAD}{index}](");
    json::push_str_literal(out, data, true);
    out.push_str(FOOT);
}

/// Appends `io.j[<index>](new Error("<message>"));`, how the 0.9 server refuses a JSONP
/// handshake. `message` is written verbatim (the server only sends fixed texts such as
/// `handshake unauthorized`), so it must not contain `"`, `\` or line breaks.
pub fn encode_jsonp_error(index: u64, message: &str, out: &mut String) {
    let _ = write!(
        out,
        "{HEAD}{index}]({ERROR_HEAD}{message}{ERROR_FOOT}{FOOT}"
    );
}

/// Decodes a JSONP script written by [`encode_jsonp`] or [`encode_jsonp_error`] (or a 0.9
/// server).
pub fn decode_jsonp(script: &str) -> Result<Jsonp, DecodeError> {
    let expected = |expected: &'static str, offset: usize| DecodeError::Jsonp { expected, offset };
    let rest = script.strip_prefix(HEAD).ok_or(expected("\"io.j[\"", 0))?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (index, rest) = rest
        .split_at_checked(digits)
        .ok_or(expected("a callback index", HEAD.len()))?;
    let index = parse_u64(index, HEAD.len(), "JSONP index")?
        .ok_or(expected("a callback index", HEAD.len()))?;
    let arg_offset = HEAD.len() + digits + 2;
    let arg = rest
        .strip_prefix("](")
        .ok_or(expected("\"](\"", HEAD.len() + digits))?;
    let arg = arg
        .strip_suffix(FOOT)
        .ok_or(expected("\");\" at the end", script.len()))?;
    let body = match arg.strip_prefix(ERROR_HEAD) {
        Some(error) => JsonpBody::Error(
            error
                .strip_suffix(ERROR_FOOT)
                .ok_or(expected(
                    "\"\\\")\" closing the error",
                    arg_offset + arg.len(),
                ))?
                .to_owned(),
        ),
        None => JsonpBody::Data(json::parse(arg, arg_offset, "JSONP argument")?),
    };
    Ok(Jsonp { index, body })
}

/// Appends the form body a 0.9 client POSTs on the JSONP transport: `d=` and the payload
/// as a JSON string, form-urlencoded.
///
/// ```
/// let mut out = String::new();
/// sio_legacy_proto::encode_jsonp_form("3:::a b", &mut out);
/// assert_eq!(out, "d=%223%3A%3A%3Aa+b%22");
/// assert_eq!(sio_legacy_proto::decode_jsonp_form(&out)?, "3:::a b");
/// # Ok::<(), sio_legacy_proto::DecodeError>(())
/// ```
pub fn encode_jsonp_form(payload: &str, out: &mut String) {
    let mut literal = String::with_capacity(payload.len() + 2);
    json::push_str_literal(&mut literal, payload, false);
    out.push_str("d=");
    for b in literal.bytes() {
        match b {
            b' ' => out.push('+'),
            b if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') => {
                out.push(char::from(b))
            }
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
}

/// Reads the payload from a JSONP form body (`…&d=<form-urlencoded JSON string>&…`), as the
/// 0.9 server does (first `d` field).
pub fn decode_jsonp_form(body: &str) -> Result<String, DecodeError> {
    let mut offset = 0;
    for field in body.split('&') {
        if let Some(value) = field.strip_prefix("d=") {
            let value_offset = offset + 2;
            let text = form_decode(value, value_offset)?;
            // Positions inside the decoded text do not map back to the body: point at the field.
            return json::parse(&text, 0, "JSONP form field").map_err(|e| match e {
                DecodeError::InvalidJson { what, source, .. } => DecodeError::InvalidJson {
                    what,
                    offset: value_offset,
                    source,
                },
                other => other,
            });
        }
        offset += field.len() + 1;
    }
    Err(DecodeError::JsonpForm {
        reason: "no `d` field",
        offset: body.len(),
    })
}

/// Decodes `+` and `%XX`; the output is never longer than the input.
fn form_decode(value: &str, offset: usize) -> Result<String, DecodeError> {
    let mut bytes = Vec::with_capacity(value.len());
    let mut iter = value.bytes().enumerate();
    while let Some((i, b)) = iter.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = |c: Option<(usize, u8)>| c.and_then(|(_, c)| char::from(c).to_digit(16));
                match (hex(iter.next()), hex(iter.next())) {
                    (Some(hi), Some(lo)) => bytes.push(((hi << 4) | lo) as u8),
                    _ => {
                        return Err(DecodeError::JsonpForm {
                            reason: "invalid percent escape",
                            offset: offset + i,
                        });
                    }
                }
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).map_err(|_| DecodeError::JsonpForm {
        reason: "invalid UTF-8 after percent-decoding",
        offset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts() {
        let mut out = String::new();
        encode_jsonp(
            0,
            "\u{fffd}3\u{fffd}2::\u{fffd}5\u{fffd}3:::\n\u{2028}",
            &mut out,
        );
        assert_eq!(
            out,
            "io.j[0](\"\u{fffd}3\u{fffd}2::\u{fffd}5\u{fffd}3:::\\n\\u2028\");"
        );
        let back = decode_jsonp(&out).unwrap();
        assert_eq!(back.index, 0);
        assert_eq!(
            back.body,
            JsonpBody::Data("\u{fffd}3\u{fffd}2::\u{fffd}5\u{fffd}3:::\n\u{2028}".into())
        );

        // The 0.9 server's handshake answer over JSONP.
        let hs = decode_jsonp(r#"io.j[1]("abc:60:60:websocket,xhr-polling");"#).unwrap();
        assert_eq!(
            hs.body,
            JsonpBody::Data("abc:60:60:websocket,xhr-polling".into())
        );

        let mut out = String::new();
        encode_jsonp_error(3, "handshake unauthorized", &mut out);
        assert_eq!(out, r#"io.j[3](new Error("handshake unauthorized"));"#);
        assert_eq!(
            decode_jsonp(&out).unwrap(),
            Jsonp {
                index: 3,
                body: JsonpBody::Error("handshake unauthorized".into())
            }
        );
    }

    #[test]
    fn script_errors() {
        let err = |s: &str| decode_jsonp(s).unwrap_err();
        assert!(matches!(err(""), DecodeError::Jsonp { offset: 0, .. }));
        assert!(matches!(
            err("io.j[]"),
            DecodeError::Jsonp { offset: 5, .. }
        ));
        assert!(matches!(
            err("io.j[1)"),
            DecodeError::Jsonp { offset: 6, .. }
        ));
        assert!(matches!(
            err("io.j[1](\"a\")"),
            DecodeError::Jsonp { offset: 12, .. }
        ));
        let e = err("io.j[1](\"a);");
        assert!(
            matches!(e, DecodeError::InvalidJson { offset: 9, .. }),
            "{e:?}"
        );
        assert!(matches!(
            err("io.j[1](5);"),
            DecodeError::InvalidJson { .. }
        ));
        assert!(matches!(
            err("io.j[1](new Error(\"x);"),
            DecodeError::Jsonp { .. }
        ));
        assert!(matches!(
            err("io.j[99999999999999999999](\"\");"),
            DecodeError::NumberOverflow { offset: 5, .. }
        ));
        assert!(matches!(
            err("io.j[1](\"\u{e9});"),
            DecodeError::InvalidJson { .. }
        ));
    }

    #[test]
    fn forms() {
        let payload = "\u{fffd}6\u{fffd}3:::é+\u{fffd}4\u{fffd}2::%";
        let mut out = String::new();
        encode_jsonp_form(payload, &mut out);
        assert!(out.is_ascii());
        assert_eq!(decode_jsonp_form(&out).unwrap(), payload);
        assert_eq!(decode_jsonp_form("x=1&d=%22a%22&d=%22b%22").unwrap(), "a");
        assert_eq!(decode_jsonp_form("d=\"a\"").unwrap(), "a");

        let err = |s: &str| decode_jsonp_form(s).unwrap_err();
        assert!(matches!(
            err("x=1"),
            DecodeError::JsonpForm { offset: 3, .. }
        ));
        assert!(matches!(
            err("x=1&d=%2"),
            DecodeError::JsonpForm { offset: 6, .. }
        ));
        assert!(matches!(
            err("d=%zz"),
            DecodeError::JsonpForm { offset: 2, .. }
        ));
        assert!(matches!(
            err("d=%22%FF%22"),
            DecodeError::JsonpForm { offset: 2, .. }
        ));
        assert!(matches!(err("d=%C3"), DecodeError::JsonpForm { .. }));
        assert!(matches!(
            err("x&d=5"),
            DecodeError::InvalidJson { offset: 4, .. }
        ));
    }
}
