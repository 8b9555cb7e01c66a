//! Polling payloads: several messages framed as `\u{fffd}<length>\u{fffd}<message>…`.
//!
//! The length counts UTF-16 code units, because the 0.9 parsers take it from a JavaScript
//! string's `length`. A body that does not start with `\u{fffd}` is a single unframed
//! message, and the 0.9 server sends a lone message that way.

use std::iter::FusedIterator;

use crate::error::DecodeError;
use crate::message::{Message, decode, parse_u64};

/// The character that opens and closes a frame length.
pub const FRAME_MARKER: char = '\u{fffd}';

/// The length of `s` in UTF-16 code units, the unit of JavaScript's `String.length`.
pub fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        return s.len();
    }
    s.chars().map(char::len_utf16).sum()
}

/// Splits a polling body into its messages' text, lazily.
///
/// An empty body yields nothing (the 0.9 client ignores empty responses). After a framing
/// error the iterator ends, since the next frame cannot be found.
///
/// ```
/// let frames: Vec<_> = sio_legacy_proto::frames("\u{fffd}5\u{fffd}3:::5\u{fffd}3\u{fffd}0::")
///     .collect::<Result<_, _>>()?;
/// assert_eq!(frames, ["3:::5", "0::"]);
/// # Ok::<(), sio_legacy_proto::DecodeError>(())
/// ```
pub fn frames(payload: &str) -> Frames<'_> {
    Frames {
        payload,
        pos: 0,
        index: 0,
        state: if payload.is_empty() {
            State::Done
        } else if payload.starts_with(FRAME_MARKER) {
            State::Framed
        } else {
            State::Single
        },
    }
}

/// Decodes a polling body into messages, lazily, so a caller can stop after as many as it
/// accepts.
///
/// A message that fails to decode inside a well-formed frame gives a
/// [`DecodeError::Frame`] and decoding goes on with the next frame; a framing error ends
/// the iteration.
///
/// ```
/// use sio_legacy_proto::{decode_payload, Message};
///
/// let mut msgs = decode_payload("\u{fffd}5\u{fffd}3:::€\u{fffd}3\u{fffd}2::");
/// assert!(matches!(msgs.next(), Some(Ok(Message::Message { data, .. })) if data == "€"));
/// assert!(matches!(msgs.next(), Some(Ok(Message::Heartbeat))));
/// assert!(msgs.next().is_none());
/// ```
pub fn decode_payload(payload: &str) -> Payload<'_> {
    Payload {
        frames: frames(payload),
    }
}

/// Appends `messages` as one polling body: a single message unframed, as the 0.9 server
/// sends it, several framed; nothing at all for none.
pub fn encode_payload<'m, I>(messages: I, out: &mut String)
where
    I: IntoIterator<Item = &'m Message>,
{
    let mut messages = messages.into_iter();
    let Some(first) = messages.next() else {
        return;
    };
    let Some(second) = messages.next() else {
        first.encode(out);
        return;
    };
    // The frame header needs the encoded length first: encode into one reused buffer.
    let mut scratch = String::new();
    for msg in [first, second].into_iter().chain(messages) {
        scratch.clear();
        msg.encode(&mut scratch);
        push_frame(&scratch, out);
    }
}

/// Like [`encode_payload`] for messages encoded already (e.g. a broadcast encoded once).
pub fn encode_payload_raw<'s, I>(encoded: I, out: &mut String)
where
    I: IntoIterator<Item = &'s str>,
{
    let mut encoded = encoded.into_iter();
    let Some(first) = encoded.next() else {
        return;
    };
    let Some(second) = encoded.next() else {
        out.push_str(first);
        return;
    };
    for msg in [first, second].into_iter().chain(encoded) {
        push_frame(msg, out);
    }
}

/// Appends one frame, `\u{fffd}<UTF-16 length>\u{fffd}<encoded>`.
pub fn push_frame(encoded: &str, out: &mut String) {
    use std::fmt::Write as _;
    out.reserve(encoded.len() + 10);
    out.push(FRAME_MARKER);
    let _ = write!(out, "{}", utf16_len(encoded));
    out.push(FRAME_MARKER);
    out.push_str(encoded);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Single,
    Framed,
    Done,
}

/// Iterator over the messages' text in a polling body; see [`frames`].
#[derive(Debug, Clone)]
pub struct Frames<'a> {
    payload: &'a str,
    /// Byte offset of the next frame; always a char boundary.
    pos: usize,
    index: usize,
    state: State,
}

/// One frame's message and where it is.
struct Frame<'a> {
    index: usize,
    offset: usize,
    text: &'a str,
    framed: bool,
}

impl<'a> Frames<'a> {
    /// Whether the body is framed (starts with `\u{fffd}`).
    pub fn is_framed(&self) -> bool {
        self.payload.starts_with(FRAME_MARKER)
    }

    fn next_frame(&mut self) -> Option<Result<Frame<'a>, DecodeError>> {
        match self.state {
            State::Done => None,
            State::Single => {
                self.state = State::Done;
                Some(Ok(Frame {
                    index: 0,
                    offset: 0,
                    text: self.payload,
                    framed: false,
                }))
            }
            State::Framed => {
                let result = self.read_framed()?;
                if result.is_err() {
                    self.state = State::Done;
                }
                Some(result)
            }
        }
    }

    fn read_framed(&mut self) -> Option<Result<Frame<'a>, DecodeError>> {
        let index = self.index;
        let rest = self.payload.get(self.pos..).filter(|r| !r.is_empty())?;
        let Some(after_marker) = rest.strip_prefix(FRAME_MARKER) else {
            return Some(Err(DecodeError::FrameMarker {
                index,
                offset: self.pos,
            }));
        };
        let length_offset = self.pos + FRAME_MARKER.len_utf8();
        let bad_length = DecodeError::FrameLength {
            index,
            offset: length_offset,
        };
        let digits = after_marker.bytes().take_while(u8::is_ascii_digit).count();
        let Some((digits, after_digits)) = after_marker.split_at_checked(digits) else {
            return Some(Err(bad_length));
        };
        let Some(body) = after_digits.strip_prefix(FRAME_MARKER) else {
            return Some(Err(bad_length));
        };
        let declared = match parse_u64(digits, length_offset, "frame length") {
            Ok(Some(n)) => n,
            Ok(None) => return Some(Err(bad_length)),
            Err(e) => return Some(Err(e)),
        };
        let offset = length_offset + digits.len() + FRAME_MARKER.len_utf8();
        let len = match utf16_prefix(body, declared) {
            Ok(len) => len,
            Err(Utf16Error::Short { available }) => {
                return Some(Err(DecodeError::FrameTruncated {
                    index,
                    offset,
                    declared,
                    available,
                }));
            }
            Err(Utf16Error::Split { at }) => {
                return Some(Err(DecodeError::FrameSplitsChar {
                    index,
                    offset: offset + at,
                }));
            }
        };
        let (text, _) = body.split_at_checked(len)?;
        self.pos = offset + len;
        self.index += 1;
        Some(Ok(Frame {
            index,
            offset,
            text,
            framed: true,
        }))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a str, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        Some(self.next_frame()?.map(|f| f.text))
    }
}

impl FusedIterator for Frames<'_> {}

/// Iterator over the messages of a polling body; see [`decode_payload`].
#[derive(Debug, Clone)]
pub struct Payload<'a> {
    frames: Frames<'a>,
}

impl Payload<'_> {
    /// Whether the body is framed (starts with `\u{fffd}`).
    pub fn is_framed(&self) -> bool {
        self.frames.is_framed()
    }
}

impl Iterator for Payload<'_> {
    type Item = Result<Message, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let frame = match self.frames.next_frame()? {
            Ok(frame) => frame,
            Err(e) => return Some(Err(e)),
        };
        Some(decode(frame.text).map_err(|source| {
            if frame.framed {
                DecodeError::Frame {
                    index: frame.index,
                    offset: frame.offset,
                    source: Box::new(source),
                }
            } else {
                source
            }
        }))
    }
}

impl FusedIterator for Payload<'_> {}

enum Utf16Error {
    /// `s` has fewer code units than asked for.
    Short { available: u64 },
    /// The boundary falls inside the character starting at byte `at`.
    Split { at: usize },
}

/// The byte length of the first `units` UTF-16 code units of `s`.
fn utf16_prefix(s: &str, units: u64) -> Result<usize, Utf16Error> {
    let short = || Utf16Error::Short {
        available: utf16_len(s) as u64,
    };
    // A code unit takes at least one byte: a length beyond the byte count is short, and
    // checking first means no work is driven by a huge declared length.
    let Ok(units) = usize::try_from(units) else {
        return Err(short());
    };
    if units > s.len() {
        return Err(short());
    }
    if s.as_bytes().get(..units).is_some_and(<[u8]>::is_ascii) {
        return Ok(units);
    }
    let mut count = 0;
    for (i, c) in s.char_indices() {
        if count == units {
            return Ok(i);
        }
        count += c.len_utf16();
        if count > units {
            return Err(Utf16Error::Split { at: i });
        }
    }
    if count == units {
        Ok(s.len())
    } else {
        Err(short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf16_lengths() {
        assert_eq!(utf16_len(""), 0);
        assert_eq!(utf16_len("abc"), 3);
        assert_eq!(utf16_len("é€"), 2);
        assert_eq!(utf16_len("😀"), 2);
        assert!(matches!(utf16_prefix("a😀b", 1), Ok(1)));
        assert!(matches!(
            utf16_prefix("a😀b", 2),
            Err(Utf16Error::Split { at: 1 })
        ));
        assert!(matches!(utf16_prefix("a😀b", 3), Ok(5)));
        assert!(matches!(utf16_prefix("a😀b", 4), Ok(6)));
        assert!(matches!(
            utf16_prefix("a😀b", 5),
            Err(Utf16Error::Short { available: 4 })
        ));
        assert!(matches!(
            utf16_prefix("ab", u64::MAX),
            Err(Utf16Error::Short { available: 2 })
        ));
        assert!(matches!(utf16_prefix("€€€", 3), Ok(9)));
    }

    #[test]
    fn single_message_is_unframed() {
        let msgs = [Message::Heartbeat];
        let mut out = String::new();
        encode_payload(&msgs, &mut out);
        assert_eq!(out, "2::");
        let mut out = String::new();
        encode_payload(&[], &mut out);
        assert_eq!(out, "");
        encode_payload_raw(["2::"], &mut out);
        assert_eq!(out, "2::");
    }

    #[test]
    fn frames_are_fused_after_an_error() {
        let mut it = frames("\u{fffd}3\u{fffd}2::x");
        assert_eq!(it.next().unwrap().unwrap(), "2::");
        assert!(matches!(
            it.next(),
            Some(Err(DecodeError::FrameMarker {
                index: 1,
                offset: 10
            }))
        ));
        assert!(it.next().is_none());
    }
}
