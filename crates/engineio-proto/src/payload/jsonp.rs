//! JSONP polling: the server answers with a script calling `___eio[<j>]`, the client posts
//! a form whose field `d` holds the payload.

use crate::{DecodeError, EncodeError, json};

/// Appends a JSONP response, `___eio[<index>]("<payload as a JS string>");`, escaped as a
/// Node server does it: `JSON.stringify`, then U+2028 and U+2029 as `\u2028` and `\u2029`
/// (they end a line in older JavaScript).
///
/// `index` is the `j` query parameter and must be one or more ASCII digits, otherwise
/// [`EncodeError::InvalidJsonpIndex`] is returned and nothing is written. (Node instead
/// strips non-digits, which can leave `___eio[]`, a script error in the browser.)
///
/// `payload` is a text body: a V3 string payload (binary as base64) or a V4 payload.
///
/// ```
/// use sio_engineio_proto::payload;
/// let mut out = String::new();
/// payload::encode_jsonp("4", "packet data", &mut out)?;
/// assert_eq!(out, r#"___eio[4]("packet data");"#);
/// # Ok::<(), sio_engineio_proto::EncodeError>(())
/// ```
pub fn encode_jsonp(index: &str, payload: &str, out: &mut String) -> Result<(), EncodeError> {
    if index.is_empty() || !index.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EncodeError::InvalidJsonpIndex);
    }
    out.reserve(payload.len().saturating_add(index.len()).saturating_add(13));
    out.push_str("___eio[");
    out.push_str(index);
    out.push_str("](");
    json::write_string(out, payload, true);
    out.push_str(");");
    Ok(())
}

/// Extracts the payload from a JSONP POST body, `d=<url-encoded payload>` (a form, so other
/// fields may be present and are ignored).
///
/// The value is URL-decoded (`+` is a space) and then unescaped as the Node server does:
/// the browser client writes newlines as `\n` and a literal backslash-`n` as `\\n`, so `\n`
/// not preceded by a backslash becomes a newline, then `\\n` becomes `\n`.
///
/// Errors: no `d` field, two `d` fields (Node ignores such a body), a malformed percent
/// escape (Node keeps it as it is), or a value that is not UTF-8.
///
/// ```
/// use sio_engineio_proto::payload;
/// assert_eq!(payload::decode_jsonp_body(b"d=6%3A4hello")?, "6:4hello");
/// assert_eq!(payload::decode_jsonp_body(br"d=7:4a\nb")?, "7:4a\nb");
/// # Ok::<(), sio_engineio_proto::DecodeError>(())
/// ```
pub fn decode_jsonp_body(body: &[u8]) -> Result<String, DecodeError> {
    let mut found: Option<(usize, &[u8])> = None;
    let mut field_start = 0;
    for field in body.split(|&b| b == b'&') {
        let (key, value, value_start) = match memchr::memchr(b'=', field) {
            Some(eq) => (
                field.get(..eq).unwrap_or_default(),
                field.get(eq + 1..).unwrap_or_default(),
                field_start + eq + 1,
            ),
            None => (field, &[][..], field_start + field.len()),
        };
        // The only spellings of the key `d`, encoded or not.
        if key == b"d" || key.eq_ignore_ascii_case(b"%64") {
            if found.is_some() {
                return Err(DecodeError::DuplicateJsonpData {
                    offset: field_start,
                });
            }
            found = Some((value_start, value));
        }
        field_start += field.len() + 1;
    }
    let (offset, raw) = found.ok_or(DecodeError::MissingJsonpData)?;
    let bytes = percent_decode(raw, offset)?;
    let text = String::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
        offset: offset + encoded_offset(raw, e.utf8_error().valid_up_to()),
    })?;
    Ok(unescape_newlines(&text))
}

/// Appends a JSONP POST body, `d=<payload>`, for a client: the inverse of
/// [`decode_jsonp_body`].
///
/// A backslash before `n` gets a second backslash (which the server removes) and the
/// whole value is URL-encoded, newlines included. The browser client also turns newlines
/// into `\n`, which loses a backslash followed by a newline; sending them URL-encoded
/// avoids that, and the server reads both forms.
pub fn encode_jsonp_body(payload: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.reserve(payload.len().saturating_add(2));
    out.push_str("d=");
    let mut previous = 0u8;
    for &b in payload.as_bytes() {
        if b == b'n' && previous == b'\\' {
            out.push_str("%5C");
        }
        previous = b;
        // Unreserved characters of `encodeURIComponent`.
        if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            for nibble in [b >> 4, b & 0x0f] {
                if let Some(&h) = HEX.get(usize::from(nibble)) {
                    out.push(char::from(h));
                }
            }
        }
    }
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// URL-decodes a form value that starts at `offset` of the body.
fn percent_decode(raw: &[u8], offset: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&b) = raw.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = raw.get(i + 1).copied().and_then(hex_value);
                let lo = raw.get(i + 2).copied().and_then(hex_value);
                let (Some(hi), Some(lo)) = (hi, lo) else {
                    return Err(DecodeError::InvalidFormEncoding { offset: offset + i });
                };
                out.push(hi << 4 | lo);
                i += 2;
            }
            _ => out.push(b),
        }
        i += 1;
    }
    Ok(out)
}

/// The offset in the encoded value of decoded byte `decoded`.
fn encoded_offset(raw: &[u8], decoded: usize) -> usize {
    let mut i = 0;
    for _ in 0..decoded {
        i += if raw.get(i) == Some(&b'%') { 3 } else { 1 };
    }
    i
}

/// The Node server's two replacements: `(\\)?\\n` → newline unless the backslash is
/// doubled, then `\\\\n` → `\\n` (as regular expressions, left to right).
fn unescape_newlines(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut run_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes.get(i..i + 3) == Some(b"\\\\n") {
            i += 3;
        } else if bytes.get(i..i + 2) == Some(b"\\n") {
            // Both ends are ASCII bytes, hence character boundaries.
            out.push_str(s.get(run_start..i).unwrap_or_default());
            out.push('\n');
            i += 2;
            run_start = i;
        } else {
            i += 1;
        }
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    if memchr::memmem::find(out.as_bytes(), b"\\\\n").is_some() {
        out = out.replace("\\\\n", "\\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_like_node() {
        // Expected values computed with the Node server's regular expressions.
        let cases = [
            (r"a\nb", "a\nb"),
            (r"a\\nb", r"a\nb"),
            (r"a\\\nb", r"a\\nb"),
            (r"\n\n", "\n\n"),
            (r"\\n\n", "\\n\n"),
            ("plain", "plain"),
            ("é\\n€", "é\n€"),
            ("\\", "\\"),
            ("n\\", "n\\"),
        ];
        for (input, expected) in cases {
            assert_eq!(unescape_newlines(input), expected, "{input}");
        }
    }

    #[test]
    fn form_fields() {
        assert_eq!(decode_jsonp_body(b"x=1&d=a+b&y").unwrap(), "a b");
        assert_eq!(decode_jsonp_body(b"%64=%E2%82%AC").unwrap(), "€");
        assert_eq!(decode_jsonp_body(b"d=").unwrap(), "");
        assert_eq!(decode_jsonp_body(b"d").unwrap(), "");
        assert_eq!(decode_jsonp_body(b""), Err(DecodeError::MissingJsonpData));
        assert_eq!(
            decode_jsonp_body(b"dd=1"),
            Err(DecodeError::MissingJsonpData)
        );
        assert_eq!(
            decode_jsonp_body(b"d=1&d=2"),
            Err(DecodeError::DuplicateJsonpData { offset: 4 })
        );
        assert_eq!(
            decode_jsonp_body(b"d=ab%4"),
            Err(DecodeError::InvalidFormEncoding { offset: 4 })
        );
        assert_eq!(
            decode_jsonp_body(b"d=%zz"),
            Err(DecodeError::InvalidFormEncoding { offset: 2 })
        );
        assert_eq!(
            decode_jsonp_body(b"d=ab%E2%82"),
            Err(DecodeError::InvalidUtf8 { offset: 4 })
        );
        assert_eq!(
            decode_jsonp_body(b"d=a\xffb"),
            Err(DecodeError::InvalidUtf8 { offset: 3 })
        );
    }

    #[test]
    fn body_round_trip() {
        for s in [
            "",
            "1:4\n",
            r"\n",
            r"\\n",
            "\\\n",
            "a&b=c+d%e",
            "€😀",
            "\\\\\\n\\",
        ] {
            let mut body = String::new();
            encode_jsonp_body(s, &mut body);
            assert_eq!(decode_jsonp_body(body.as_bytes()).unwrap(), s, "{body}");
        }
    }

    #[test]
    fn jsonp_index_is_digits() {
        let mut out = String::new();
        for bad in ["", "a", "1a", "-1", "١"] {
            assert_eq!(
                encode_jsonp(bad, "x", &mut out),
                Err(EncodeError::InvalidJsonpIndex)
            );
        }
        assert!(out.is_empty());
        encode_jsonp("12", "a\"\u{2028}\n", &mut out).unwrap();
        assert_eq!(out, r#"___eio[12]("a\"\u2028\n");"#);
    }
}
