//! Session ids: 15 random bytes in URL-safe base64, the form Node's `base64id` produces.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use rand::RngCore;

const LEN: usize = 20;

/// A session id: 20 URL-safe base64 characters, copied by value.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; LEN]);

impl Sid {
    /// A new random id.
    pub fn generate() -> Self {
        let mut random = [0u8; 15];
        rand::rng().fill_bytes(&mut random);
        let mut id = [0u8; LEN];
        // 15 bytes always encode to exactly 20 characters.
        let _ = URL_SAFE_NO_PAD.encode_slice(random, &mut id);
        Sid(id)
    }

    /// Parses an id received from a client; anything but 20 URL-safe base64 characters is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes: [u8; LEN] = text.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .then_some(Sid(bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored (checked in `parse`, produced by base64 in `generate`).
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_back() {
        let id = Sid::generate();
        assert_eq!(id.as_str().len(), 20);
        assert_eq!(Sid::parse(id.as_str()), Some(id));
        assert_ne!(Sid::generate(), id);
    }

    #[test]
    fn parse_refuses_other_shapes() {
        assert_eq!(Sid::parse("short"), None);
        assert_eq!(Sid::parse("aaaaaaaaaaaaaaaaaaa/"), None);
        assert_eq!(Sid::parse("aaaaaaaaaaaaaaaaaaaé"), None);
    }
}
