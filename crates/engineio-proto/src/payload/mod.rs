//! HTTP long-polling bodies ("payloads"): several packets in one request or response.
//!
//! | revision | text body | binary body |
//! |----------|-----------|-------------|
//! | V4 | [`decode_v4`] / [`encode_v4`]: `4hello\x1ebAQIDBA==` | none (binary is base64) |
//! | V3 | [`decode_v3_string`] / [`encode_v3_string`]: `6:4hello10:b4AQIDBA==` | [`decode_v3_binary`] / [`encode_v3_binary`] (XHR2) |
//!
//! [`encode_v3`] picks the V3 body the way a Node server does, and [`decode_v3`] tells the
//! two V3 bodies apart. JSONP polling (V3, and V4 servers still serve it) wraps a text
//! body: see [`encode_jsonp`] and [`decode_jsonp_body`].
//!
//! Revision 2 payloads are V3 string payloads without binary packets.
//!
//! Decoders are lazy iterators over `Result<Packet, DecodeError>`: take as many packets as
//! the session allows and stop. After an error they yield nothing more. Errors about one
//! packet are [`DecodeError::InPayload`](crate::DecodeError::InPayload) with the packet's index.
//!
//! Node reads a body as a whole and drops it at the first error; do the same (collect into
//! a `Result<Vec<_>, _>`) to match it.

mod jsonp;
mod v3;
mod v4;

pub use jsonp::{decode_jsonp_body, encode_jsonp, encode_jsonp_body};
pub use v3::{
    Body, V3BinaryDecoder, V3Decoder, V3StringDecoder, decode_v3, decode_v3_binary,
    decode_v3_string, encode_v3, encode_v3_binary, encode_v3_string,
};
pub use v4::{SEPARATOR, V4Decoder, decode_v4, encode_v4};

/// The length of `s` in UTF-16 code units, which is what V3 string payloads count
/// (`€` is 1, an emoji 2).
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    utf16_units(s.as_bytes())
}

/// UTF-16 code units in UTF-8 `bytes`: every character is one unit, except four-byte ones
/// (outside the BMP) which are two. So count the bytes that start a character, plus one
/// per four-byte lead byte. Written as two plain counts so that it vectorises.
pub(crate) fn utf16_units(bytes: &[u8]) -> usize {
    // Per-byte counts (at most 2) summed in u8 lanes over chunks of 127 bytes, which
    // cannot overflow and lets the compiler use wide vector adds.
    bytes
        .chunks(127)
        .map(|chunk| {
            let units = chunk.iter().fold(0u8, |acc, &b| {
                acc.wrapping_add(u8::from((b as i8) >= -0x40) + u8::from(b >= 0xf0))
            });
            usize::from(units)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_len_counts_code_units() {
        for s in ["", "a", "€", "4€", "😀", "aé€😀\u{10ffff}\u{ffff}"] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s}");
        }
    }
}
