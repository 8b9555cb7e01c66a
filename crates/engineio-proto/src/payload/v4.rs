use std::iter::FusedIterator;

use crate::packet::{decode_base64, decode_plain};
use crate::{DecodeError, EncodeError, Packet, Revision};

/// The record separator between packets of a V4 payload.
pub const SEPARATOR: char = '\x1e';

const SEPARATOR_BYTE: u8 = 0x1e;

/// Decodes a V4 polling body: packets joined by `\x1e`, binary messages as `b<base64>`.
///
/// An empty body, or an empty packet anywhere (`4a\x1e`), is an error, as in Node.
///
/// ```
/// use sio_engineio_proto::{payload, Packet};
/// let packets: Vec<_> = payload::decode_v4(b"4test1\x1e4test2\x1e4test3")
///     .collect::<Result<_, _>>()?;
/// assert_eq!(packets, [Packet::text("test1"), Packet::text("test2"), Packet::text("test3")]);
/// # Ok::<(), sio_engineio_proto::DecodeError>(())
/// ```
pub fn decode_v4(body: &[u8]) -> V4Decoder<'_> {
    V4Decoder {
        body,
        pos: 0,
        index: 0,
        done: false,
    }
}

/// Iterator over the packets of a V4 payload; see [`decode_v4`].
#[derive(Debug, Clone)]
pub struct V4Decoder<'a> {
    body: &'a [u8],
    pos: usize,
    index: usize,
    done: bool,
}

impl V4Decoder<'_> {
    /// Byte offset of the next packet in the body.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for V4Decoder<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.body.is_empty() {
            self.done = true;
            return Some(Err(DecodeError::Empty));
        }
        let start = self.pos;
        let rest = self.body.get(start..).unwrap_or_default();
        let segment = match memchr::memchr(SEPARATOR_BYTE, rest) {
            Some(len) => {
                self.pos = start + len + 1;
                rest.get(..len).unwrap_or_default()
            }
            None => {
                self.done = true;
                rest
            }
        };
        let index = self.index;
        self.index += 1;
        let result = decode_segment(segment, start).map_err(|e| e.in_payload(index));
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl FusedIterator for V4Decoder<'_> {}

fn decode_segment(segment: &[u8], offset: usize) -> Result<Packet<'_>, DecodeError> {
    match segment.split_first() {
        None => Err(DecodeError::EmptyPacket { offset }),
        Some((b'b', data)) => decode_base64(data, Revision::V4, offset + 1),
        Some(_) => {
            let text = std::str::from_utf8(segment).map_err(|e| DecodeError::InvalidUtf8 {
                offset: offset + e.valid_up_to(),
            })?;
            decode_plain(text, offset)
        }
    }
}

/// Appends packets as a V4 polling body: joined by `\x1e`, binary messages as
/// `b<base64>`.
///
/// Text containing `\x1e` would split into several packets on the other side, so it is
/// refused with [`EncodeError::RecordSeparatorInText`] (and `out` is left as it was).
/// Socket.IO packets never contain it: JSON escapes control characters. An empty list
/// appends nothing, which is not a valid body: send at least one packet.
pub fn encode_v4<'p, 'a: 'p, I>(packets: I, out: &mut String) -> Result<(), EncodeError>
where
    I: IntoIterator<Item = &'p Packet<'a>>,
{
    let start = out.len();
    for (index, packet) in packets.into_iter().enumerate() {
        if packet
            .text_data()
            .is_some_and(|text| memchr::memchr(SEPARATOR_BYTE, text.as_bytes()).is_some())
        {
            out.truncate(start);
            return Err(EncodeError::RecordSeparatorInText { index });
        }
        if index > 0 {
            out.push(SEPARATOR);
        }
        packet.encode_text_base64(Revision::V4, out);
    }
    Ok(())
}
