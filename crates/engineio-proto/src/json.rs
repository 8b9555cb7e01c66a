//! JSON string escaping, byte for byte as JavaScript's `JSON.stringify` does it, so that
//! what we send matches what a Node server sends.

/// Appends `s` as a JSON string literal (with quotes).
///
/// With `js_safe`, U+2028 and U+2029 are escaped too: they are valid in JSON but end a
/// line in JavaScript before ES2019, which breaks a JSONP response.
pub(crate) fn write_string(out: &mut String, s: &str, js_safe: bool) {
    out.reserve(s.len().saturating_add(2));
    out.push('"');
    let bytes = s.as_bytes();
    let mut run_start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let (escape, width): (Escape, usize) = match b {
            b'"' => (Escape::Short("\\\""), 1),
            b'\\' => (Escape::Short("\\\\"), 1),
            b'\n' => (Escape::Short("\\n"), 1),
            b'\r' => (Escape::Short("\\r"), 1),
            b'\t' => (Escape::Short("\\t"), 1),
            0x08 => (Escape::Short("\\b"), 1),
            0x0c => (Escape::Short("\\f"), 1),
            0x00..=0x1f => (Escape::Control(b), 1),
            // U+2028 is E2 80 A8 and U+2029 is E2 80 A9 in UTF-8.
            0xe2 if js_safe && bytes.get(i + 1) == Some(&0x80) => match bytes.get(i + 2) {
                Some(0xa8) => (Escape::Short("\\u2028"), 3),
                Some(0xa9) => (Escape::Short("\\u2029"), 3),
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        // Escaped bytes are ASCII or start a whole character, so both ends of the run are
        // character boundaries.
        out.push_str(s.get(run_start..i).unwrap_or_default());
        match escape {
            Escape::Short(text) => out.push_str(text),
            Escape::Control(c) => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                for nibble in [c >> 4, c & 0x0f] {
                    if let Some(&h) = HEX.get(usize::from(nibble)) {
                        out.push(char::from(h));
                    }
                }
            }
        }
        i += width;
        run_start = i;
    }
    out.push_str(s.get(run_start..).unwrap_or_default());
    out.push('"');
}

enum Escape {
    Short(&'static str),
    Control(u8),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str, js: bool) -> String {
        let mut out = String::new();
        write_string(&mut out, s, js);
        out
    }

    #[test]
    fn matches_json_stringify() {
        // Expected values are what `JSON.stringify` gives in Node.
        assert_eq!(esc("packet data", false), r#""packet data""#);
        assert_eq!(esc("a\"b\\c", false), r#""a\"b\\c""#);
        assert_eq!(esc("\n\r\t\u{8}\u{c}", false), r#""\n\r\t\b\f""#);
        assert_eq!(esc("\u{0}\u{1f}\u{1e}", false), r#""\u0000\u001f\u001e""#);
        assert_eq!(esc("\u{7f}é€😀", false), "\"\u{7f}é€😀\"");
        assert_eq!(esc("\u{2028}\u{2029}", false), "\"\u{2028}\u{2029}\"");
        assert_eq!(esc("a\u{2028}b\u{2029}c", true), r#""a\u2028b\u2029c""#);
        assert_eq!(esc("\u{2020}\u{2030}", true), "\"\u{2020}\u{2030}\"");
    }

    #[test]
    fn serde_json_reads_it_back() {
        for s in ["", "x", "\u{0}\u{1}ü\u{2028}\"\\", "\u{10ffff}"] {
            for js in [false, true] {
                let back: String = serde_json::from_str(&esc(s, js)).unwrap();
                assert_eq!(back, s);
            }
        }
    }
}
