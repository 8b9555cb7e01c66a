//! JavaScript value semantics shared by both parsers: the peers are JavaScript programs with a single
//! number type, so numbers are printed and normalised the way they would see them.

use std::fmt::Write as _;

use rmpv::Value;

/// Decoders accept at most this many nested arrays/maps (serde_json's limit for the text parser).
pub(crate) const MAX_DECODE_DEPTH: usize = 128;
/// Encoders accept deeper values than decoders produce, so that anything decoded can be re-encoded.
pub(crate) const MAX_ENCODE_DEPTH: usize = 256;

const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
const MINUS_TWO_POW_63: f64 = -9_223_372_036_854_775_808.0;

/// A float as a JavaScript peer sees it: a number with no fractional part is an integer (so `1.0`,
/// `1e3` and `-0` decode as integers and re-encode as `1`, `1000`, `0`, as `JSON.stringify` prints them).
pub(crate) fn number_from_f64(v: f64) -> Value {
    if v.is_finite() && v.fract() == 0.0 {
        if (0.0..TWO_POW_64).contains(&v) {
            return Value::from(v as u64);
        }
        if (MINUS_TWO_POW_63..0.0).contains(&v) {
            return Value::from(v as i64);
        }
    }
    Value::F64(v)
}

/// The f64 a JavaScript peer gets for an `f32`: the f32's shortest decimal form read as a double, so
/// that `0.1f32` travels as `0.1`.
pub(crate) fn f32_as_js(v: f32) -> f64 {
    let mut buf = String::new();
    let _ = write!(buf, "{v}");
    buf.parse::<f64>().unwrap_or(f64::from(v))
}

/// Appends `v` as `Number.prototype.toString` would (`1e+21`, `1e-7`, `0.000001`, `100`), or `null` for
/// NaN and infinities as `JSON.stringify` does.
pub(crate) fn write_f64(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    // `{:e}` gives the shortest digits that round-trip, e.g. `-1.2345e-7`.
    let mut sci = String::new();
    let _ = write!(sci, "{v:e}");
    write_sci_as_js(out, &sci);
}

/// Like [`write_f64`] for an `f32`, with the f32's own shortest digits.
pub(crate) fn write_f32(out: &mut String, v: f32) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    if v == 0.0 {
        out.push('0');
        return;
    }
    let mut sci = String::new();
    let _ = write!(sci, "{v:e}");
    write_sci_as_js(out, &sci);
}

/// Rewrites Rust's `<sign><d>[.<ddd>]e<exp>` into the JavaScript layout (ECMA-262 Number::toString).
fn write_sci_as_js(out: &mut String, sci: &str) {
    let (negative, rest) = match sci.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, sci),
    };
    let (mantissa, exp) = rest.split_once('e').unwrap_or((rest, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    let n = exp + 1;
    if negative {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        for _ in 0..(n - k) {
            out.push('0');
        }
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at_checked(n as usize).unwrap_or((&digits, ""));
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        for _ in 0..(-n) {
            out.push('0');
        }
        out.push_str(&digits);
    } else {
        let e = n - 1;
        let (first, others) = digits.split_at_checked(1).unwrap_or((&digits, ""));
        out.push_str(first);
        if !others.is_empty() {
            out.push('.');
            out.push_str(others);
        }
        out.push('e');
        out.push(if e < 0 { '-' } else { '+' });
        let _ = write!(out, "{}", e.unsigned_abs());
    }
}

/// Whether `bytes` holds a `"`, a `\\` or a control character. Each 32-byte block is tested
/// without an early exit, which the compiler turns into vector compares.
fn needs_escape(bytes: &[u8]) -> bool {
    let special = |b: u8| (b < 0x20) | (b == b'"') | (b == b'\\');
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        if block.iter().fold(false, |found, &b| found | special(b)) {
            return true;
        }
    }
    blocks.remainder().iter().any(|&b| special(b))
}

/// Appends `s` as a JSON string literal escaped like `JSON.stringify` (only `"`, `\` and control
/// characters; `/` and non-ASCII characters are written as they are).
pub(crate) fn write_json_str(out: &mut String, s: &str) {
    out.push('"');
    // Most strings need no escape: one scan, one copy.
    if !needs_escape(s.as_bytes()) {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0x08 => Some("\\b"),
            0x0c => Some("\\f"),
            0..=0x1f => Some(""),
            _ => None,
        };
        let Some(escape) = escape else { continue };
        // `i` is at an ASCII byte, so both ends are char boundaries.
        out.push_str(s.get(start..i).unwrap_or_default());
        if escape.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(s.get(start..).unwrap_or_default());
    out.push('"');
}

/// Appends a map key as the JavaScript property name it would become (`String(key)`), for scalar keys.
pub(crate) fn write_json_key(out: &mut String, key: &Value) -> Result<(), crate::EncodeError> {
    write_json_str(out, &property_name(key)?);
    Ok(())
}

/// The JavaScript property name a scalar map key becomes (`String(key)`: `1` → `"1"`, `null` →
/// `"null"`); arrays, maps, binary and extensions have none a peer would agree on.
pub(crate) fn property_name(key: &Value) -> Result<std::borrow::Cow<'_, str>, crate::EncodeError> {
    use std::borrow::Cow;
    let mut tmp = String::new();
    Ok(match key {
        Value::String(s) => Cow::Borrowed(s.as_str().ok_or(crate::EncodeError::InvalidUtf8String)?),
        Value::Nil => Cow::Borrowed("null"),
        Value::Boolean(true) => Cow::Borrowed("true"),
        Value::Boolean(false) => Cow::Borrowed("false"),
        Value::Integer(i) => {
            let _ = write!(tmp, "{i}");
            Cow::Owned(tmp)
        }
        Value::F32(f) => {
            write_f32(&mut tmp, *f);
            if !f.is_finite() {
                tmp = js_non_finite(f64::from(*f)).to_owned();
            }
            Cow::Owned(tmp)
        }
        Value::F64(f) => {
            write_f64(&mut tmp, *f);
            if !f.is_finite() {
                tmp = js_non_finite(*f).to_owned();
            }
            Cow::Owned(tmp)
        }
        Value::Binary(_) => return Err(crate::EncodeError::InvalidMapKey { kind: "binary" }),
        Value::Array(_) => return Err(crate::EncodeError::InvalidMapKey { kind: "array" }),
        Value::Map(_) => return Err(crate::EncodeError::InvalidMapKey { kind: "map" }),
        Value::Ext(..) => return Err(crate::EncodeError::InvalidMapKey { kind: "extension" }),
    })
}

fn js_non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// A JavaScript event name received as a number becomes its string form (Node's EventEmitter does the
/// same with property keys).
pub(crate) fn number_to_event_name(v: &Value) -> Option<String> {
    let mut out = String::new();
    match v {
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::F64(f) if f.is_finite() => write_f64(&mut out, *f),
        Value::F32(f) if f.is_finite() => write_f32(&mut out, *f),
        _ => return None,
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn the_word_scan_finds_what_a_byte_scan_finds(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
            special in proptest::sample::select(vec![b'"', b'\\', 0x00, 0x1f, 0x0a]),
            at in 0usize..40,
        ) {
            let naive = |b: &[u8]| b.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
            proptest::prop_assert_eq!(needs_escape(&bytes), naive(&bytes));
            // The same bytes with one special byte somewhere, so that hits are often tested.
            let mut hit: Vec<u8> = bytes.iter().map(|&b| b.max(0x20)).filter(|&b| b != b'"' && b != b'\\').collect();
            hit.insert(at.min(hit.len()), special);
            proptest::prop_assert!(needs_escape(&hit));
            hit.retain(|&b| b != special);
            proptest::prop_assert!(!needs_escape(&hit));
        }
    }

    fn js(v: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, v);
        s
    }

    #[test]
    fn numbers_print_like_javascript() {
        assert_eq!(js(1.0), "1");
        assert_eq!(js(-0.0), "0");
        assert_eq!(js(1.5), "1.5");
        assert_eq!(js(0.1), "0.1");
        assert_eq!(js(-2.25), "-2.25");
        assert_eq!(js(1e21), "1e+21");
        assert_eq!(js(1e20), "100000000000000000000");
        assert_eq!(js(123456789012345680000.0), "123456789012345680000");
        assert_eq!(js(1e-6), "0.000001");
        assert_eq!(js(1e-7), "1e-7");
        assert_eq!(js(1.5e-7), "1.5e-7");
        assert_eq!(js(2f64.powi(60)), "1152921504606847000");
        assert_eq!(js(1.7976931348623157e308), "1.7976931348623157e+308");
        assert_eq!(js(5e-324), "5e-324");
        assert_eq!(js(f64::NAN), "null");
        assert_eq!(js(f64::INFINITY), "null");
        assert_eq!(js(123.456), "123.456");
        let mut s = String::new();
        write_f32(&mut s, 0.1);
        assert_eq!(s, "0.1");
        assert_eq!(f32_as_js(0.1), 0.1);
    }

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(number_from_f64(1.0), Value::from(1u64));
        assert_eq!(number_from_f64(-0.0), Value::from(0u64));
        assert_eq!(number_from_f64(-3.0), Value::from(-3i64));
        assert_eq!(
            number_from_f64(1e19),
            Value::from(10_000_000_000_000_000_000u64)
        );
        assert_eq!(number_from_f64(1e20), Value::F64(1e20));
        assert_eq!(number_from_f64(0.5), Value::F64(0.5));
    }

    #[test]
    fn strings_escape_like_json_stringify() {
        let mut s = String::new();
        write_json_str(&mut s, "a\"b\\c\n\u{1}/é\u{7f}\u{2028}");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001/é\u{7f}\u{2028}\"");
    }
}
