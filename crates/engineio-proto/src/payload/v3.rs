use std::iter::FusedIterator;

use crate::packet::{decode_str, decode_typed_binary};
use crate::{Data, DecodeError, Packet, PacketType, Revision, base64};

use super::{utf16_len, utf16_units};

/// Longest length prefix we read. Node gives up after 310 digits; 20 is enough for any
/// `u64`, and the length is then checked against the rest of the input anyway.
const MAX_LENGTH_DIGITS: usize = 20;

/// A V3 polling body, as [`encode_v3`] chooses it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Body {
    /// A string payload; send with `Content-Type: text/plain; charset=UTF-8`.
    Text(String),
    /// An XHR2 binary payload; send with `Content-Type: application/octet-stream`.
    Binary(Vec<u8>),
}

impl Body {
    /// The `Content-Type` Node sends with this body.
    pub fn content_type(&self) -> &'static str {
        match self {
            Body::Text(_) => "text/plain; charset=UTF-8",
            Body::Binary(_) => "application/octet-stream",
        }
    }

    /// The body's bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        match self {
            Body::Text(s) => s.into_bytes(),
            Body::Binary(b) => b,
        }
    }

    /// The body's bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Body::Text(s) => s.as_bytes(),
            Body::Binary(b) => b,
        }
    }
}

/// Encodes packets as a V3 polling body the way a Node Engine.IO 3 server does: an XHR2
/// binary payload when some packet is binary and the client supports binary (it did not
/// send `b64=1`), a string payload (binary as base64) otherwise.
///
/// ```
/// use sio_engineio_proto::{payload::{self, Body}, Packet};
/// let packets = [Packet::text("hello"), Packet::binary(&[1u8, 2, 3, 4][..])];
/// assert_eq!(payload::encode_v3(&packets, false), Body::Text("6:4hello10:b4AQIDBA==".into()));
/// assert_eq!(
///     payload::encode_v3(&packets, true),
///     Body::Binary(vec![0, 6, 255, b'4', b'h', b'e', b'l', b'l', b'o', 1, 5, 255, 4, 1, 2, 3, 4])
/// );
/// ```
pub fn encode_v3<'p, 'a: 'p, I>(packets: I, supports_binary: bool) -> Body
where
    I: IntoIterator<Item = &'p Packet<'a>>,
    I::IntoIter: Clone,
{
    let packets = packets.into_iter();
    if supports_binary && packets.clone().any(Packet::is_binary) {
        let mut out = Vec::new();
        encode_v3_binary(packets, &mut out);
        Body::Binary(out)
    } else {
        let mut out = String::new();
        encode_v3_string(packets, &mut out);
        Body::Text(out)
    }
}

/// Appends packets as a V3 string payload: `<length>:<packet>` each, the length in UTF-16
/// code units, binary messages as `b4<base64>`.
///
/// An empty list gives `0:`, as in Node.
pub fn encode_v3_string<'p, 'a: 'p, I>(packets: I, out: &mut String)
where
    I: IntoIterator<Item = &'p Packet<'a>>,
{
    let mut empty = true;
    let mut scratch = String::new();
    for packet in packets {
        empty = false;
        // The length comes first, so text and base64 are measured before being written
        // straight into `out`; only handshake JSON goes through a scratch buffer.
        match packet {
            Packet::Message(Data::Binary(bytes)) => {
                push_length(out, base64::encoded_len(bytes.len()) + 2);
                out.push_str("b4");
                base64::encode(bytes, out);
            }
            Packet::Open(_) => {
                scratch.clear();
                packet.encode_text_base64(Revision::V3, &mut scratch);
                push_length(out, utf16_len(&scratch));
                out.push_str(&scratch);
            }
            _ => {
                let text = packet.text_data().unwrap_or_default();
                push_length(out, utf16_len(text) + 1);
                out.push(packet.packet_type().as_char());
                out.push_str(text);
            }
        }
    }
    if empty {
        out.push_str("0:");
    }
}

/// Appends packets as a V3 XHR2 binary payload: for each packet, a byte 0 (string) or 1
/// (binary), the length as one byte per decimal digit, a byte 255, then the packet. String
/// packets are UTF-8 and their length counts bytes; binary packets start with the type
/// byte 4.
///
/// An empty list appends nothing, as in Node.
pub fn encode_v3_binary<'p, 'a: 'p, I>(packets: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = &'p Packet<'a>>,
{
    let mut scratch = String::new();
    for packet in packets {
        match packet {
            Packet::Message(Data::Binary(bytes)) => {
                push_entry_header(out, 1, bytes.len().saturating_add(1));
                out.push(PacketType::Message.as_u8());
                out.extend_from_slice(bytes);
            }
            Packet::Open(_) => {
                scratch.clear();
                packet.encode_text_base64(Revision::V3, &mut scratch);
                push_entry_header(out, 0, scratch.len());
                out.extend_from_slice(scratch.as_bytes());
            }
            _ => {
                let text = packet.text_data().unwrap_or_default();
                push_entry_header(out, 0, text.len() + 1);
                out.push(packet.packet_type().as_char() as u8);
                out.extend_from_slice(text.as_bytes());
            }
        }
    }
}

fn push_entry_header(out: &mut Vec<u8>, kind: u8, len: usize) {
    out.push(kind);
    let mut buf = [0u8; 20];
    out.extend_from_slice(decimal_digits(len, &mut buf));
    out.push(0xff);
}

/// Appends `n:` to a string payload. (`write!` costs more than the rest of a short packet.)
fn push_length(out: &mut String, n: usize) {
    let mut buf = [0u8; 20];
    out.extend(
        decimal_digits(n, &mut buf)
            .iter()
            .map(|&d| char::from(b'0' + d)),
    );
    out.push(':');
}

/// The decimal digits of `n` as values 0 to 9, most significant first.
fn decimal_digits(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    // A usize has at most 20 digits.
    let mut first = buf.len();
    for slot in buf.iter_mut().rev() {
        *slot = (n % 10) as u8;
        n /= 10;
        first -= 1;
        if n == 0 {
            break;
        }
    }
    buf.get(first..).unwrap_or_default()
}

/// Decodes a V3 polling body of either kind, telling them apart by the first byte: an XHR2
/// binary payload starts with byte 0 or 1, a string payload with a digit.
///
/// Node chooses by the `Content-Type` instead; use [`decode_v3_string`] or
/// [`decode_v3_binary`] to do the same.
pub fn decode_v3(body: &[u8]) -> V3Decoder<'_> {
    match body.first() {
        Some(0 | 1) => V3Decoder::Binary(decode_v3_binary(body)),
        _ => V3Decoder::String(decode_v3_string(body)),
    }
}

/// Iterator over the packets of either kind of V3 payload; see [`decode_v3`].
#[derive(Debug, Clone)]
pub enum V3Decoder<'a> {
    /// A string payload.
    String(V3StringDecoder<'a>),
    /// An XHR2 binary payload.
    Binary(V3BinaryDecoder<'a>),
}

impl<'a> Iterator for V3Decoder<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            V3Decoder::String(d) => d.next(),
            V3Decoder::Binary(d) => d.next(),
        }
    }
}

impl FusedIterator for V3Decoder<'_> {}

/// Decodes a V3 string payload: `<length>:<packet>` each, the length in UTF-16 code units.
/// Packets may be `b<type><base64>` binary (only messages are accepted).
///
/// An empty body is an error; `0:` (an empty packet, what Node sends for no packets) yields
/// nothing.
///
/// ```
/// use sio_engineio_proto::{payload, Packet};
/// let packets: Vec<_> = payload::decode_v3_string("6:4hello2:4€".as_bytes())
///     .collect::<Result<_, _>>()?;
/// assert_eq!(packets, [Packet::text("hello"), Packet::text("€")]);
/// # Ok::<(), sio_engineio_proto::DecodeError>(())
/// ```
pub fn decode_v3_string(body: &[u8]) -> V3StringDecoder<'_> {
    V3StringDecoder {
        body,
        pos: 0,
        index: 0,
        done: false,
    }
}

/// Iterator over the packets of a V3 string payload; see [`decode_v3_string`].
#[derive(Debug, Clone)]
pub struct V3StringDecoder<'a> {
    body: &'a [u8],
    pos: usize,
    index: usize,
    done: bool,
}

impl V3StringDecoder<'_> {
    /// Byte offset of the next packet in the body.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for V3StringDecoder<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.body.is_empty() {
            self.done = true;
            return Some(Err(DecodeError::Empty));
        }
        let result = self.next_packet().transpose();
        match result {
            None | Some(Err(_)) => self.done = true,
            Some(Ok(_)) => {}
        }
        result
    }
}

impl FusedIterator for V3StringDecoder<'_> {}

impl<'a> V3StringDecoder<'a> {
    fn next_packet(&mut self) -> Result<Option<Packet<'a>>, DecodeError> {
        loop {
            if self.pos >= self.body.len() {
                return Ok(None);
            }
            let index = self.index;
            let (units, data_start) =
                read_length(self.body, self.pos, b':').map_err(|e| e.in_payload(index))?;
            if units == 0 {
                // Node skips empty packets (it sends `0:` for an empty list).
                self.pos = data_start;
                continue;
            }
            let text = take_utf16_units(self.body, self.pos, data_start, units)
                .map_err(|e| e.in_payload(index))?;
            self.pos = data_start + text.len();
            self.index += 1;
            return decode_str(text, Revision::V3, data_start)
                .map(Some)
                .map_err(|e| e.in_payload(index));
        }
    }
}

/// Reads a decimal length from `start` up to the `end` byte; returns it and the offset
/// after `end`. In string payloads (`end` is `:`) the digits are ASCII; in binary payloads
/// (`end` is 255) they are raw values 0 to 9.
fn read_length(body: &[u8], start: usize, end: u8) -> Result<(u64, usize), DecodeError> {
    let digit_base = if end == b':' { b'0' } else { 0 };
    let mut value: u64 = 0;
    let mut pos = start;
    loop {
        let Some(&b) = body.get(pos) else {
            return Err(DecodeError::Truncated { offset: pos });
        };
        if b == end {
            break;
        }
        let digit = b.wrapping_sub(digit_base);
        if digit > 9 || pos - start >= MAX_LENGTH_DIGITS {
            return Err(DecodeError::InvalidLength { offset: pos });
        }
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or(DecodeError::InvalidLength { offset: pos })?;
        pos += 1;
    }
    if pos == start {
        return Err(DecodeError::InvalidLength { offset: start });
    }
    Ok((value, pos + 1))
}

/// The text of `units` UTF-16 code units starting at byte `start` (whose length prefix is
/// at `prefix`).
fn take_utf16_units(
    body: &[u8],
    prefix: usize,
    start: usize,
    units: u64,
) -> Result<&str, DecodeError> {
    let rest = body.get(start..).unwrap_or_default();
    let beyond = DecodeError::LengthBeyondInput {
        length: units,
        offset: prefix,
    };
    // Each code unit takes at least one byte: a length beyond the remaining bytes is
    // refused before looking at them.
    let Some(head) = usize::try_from(units).ok().and_then(|n| rest.get(..n)) else {
        return Err(beyond);
    };
    fn utf8(bytes: &[u8], start: usize) -> Result<&str, DecodeError> {
        std::str::from_utf8(bytes).map_err(|e| DecodeError::InvalidUtf8 {
            offset: start + e.valid_up_to(),
        })
    }
    // Most packets are ASCII, where units are bytes.
    if head.is_ascii() {
        return utf8(head, start);
    }
    // Otherwise count units byte by byte: every character is one unit, except four-byte
    // ones (lead byte 0xF0 and up) which are two. This is exact for valid UTF-8, and the
    // chosen bytes are validated afterwards.
    let mut counted: u64 = 0;
    let mut end = rest.len();
    let mut skip = 0;
    // Whole chunks that stay below the target are counted in bulk. A chunk may end inside
    // a character: its continuation bytes count for nothing in the next chunk.
    for chunk in rest.chunks(64) {
        let chunk_units = utf16_units(chunk) as u64;
        if counted + chunk_units >= units {
            break;
        }
        counted += chunk_units;
        skip += chunk.len();
    }
    for (i, &b) in rest.iter().enumerate().skip(skip) {
        if b & 0xc0 == 0x80 {
            continue;
        }
        if counted == units {
            end = i;
            break;
        }
        counted += 1 + u64::from(b >= 0xf0);
        if counted > units {
            // Report bad UTF-8 rather than a split if the character is not valid.
            let char_end = rest.len().min(i + 4);
            utf8(rest.get(..char_end).unwrap_or_default(), start)?;
            return Err(DecodeError::SplitSurrogatePair { offset: start + i });
        }
    }
    if counted < units {
        // Bad UTF-8 before the end is the better explanation, if there is some.
        utf8(rest, start)?;
        return Err(beyond);
    }
    utf8(rest.get(..end).unwrap_or_default(), start)
}

/// Decodes a V3 XHR2 binary payload: for each packet, byte 0 (string) or 1 (binary), the
/// length as one byte per decimal digit (values 0 to 9), byte 255, then the packet.
///
/// String packets are UTF-8 text packets (their length counts bytes); binary packets are a
/// type byte, which must be 4 (message), then the data. An empty body is an error.
///
/// ```
/// use sio_engineio_proto::{payload, Packet};
/// let body = [0, 4, 255, 0x34, 0xe2, 0x82, 0xac, 1, 5, 255, 4, 1, 2, 3, 4];
/// let packets: Vec<_> = payload::decode_v3_binary(&body).collect::<Result<_, _>>()?;
/// assert_eq!(packets, [Packet::text("€"), Packet::binary(&[1u8, 2, 3, 4][..])]);
/// # Ok::<(), sio_engineio_proto::DecodeError>(())
/// ```
pub fn decode_v3_binary(body: &[u8]) -> V3BinaryDecoder<'_> {
    V3BinaryDecoder {
        body,
        pos: 0,
        index: 0,
        done: false,
    }
}

/// Iterator over the packets of a V3 XHR2 binary payload; see [`decode_v3_binary`].
#[derive(Debug, Clone)]
pub struct V3BinaryDecoder<'a> {
    body: &'a [u8],
    pos: usize,
    index: usize,
    done: bool,
}

impl V3BinaryDecoder<'_> {
    /// Byte offset of the next packet in the body.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for V3BinaryDecoder<'a> {
    type Item = Result<Packet<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.body.is_empty() {
            self.done = true;
            return Some(Err(DecodeError::Empty));
        }
        if self.pos >= self.body.len() {
            self.done = true;
            return None;
        }
        let index = self.index;
        self.index += 1;
        let result = self.next_packet().map_err(|e| e.in_payload(index));
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl FusedIterator for V3BinaryDecoder<'_> {}

impl<'a> V3BinaryDecoder<'a> {
    fn next_packet(&mut self) -> Result<Packet<'a>, DecodeError> {
        let body: &'a [u8] = self.body;
        let start = self.pos;
        let kind = match body.get(start) {
            Some(&k @ (0 | 1)) => k,
            Some(&byte) => {
                return Err(DecodeError::InvalidEntryKind {
                    byte,
                    offset: start,
                });
            }
            None => return Err(DecodeError::Truncated { offset: start }),
        };
        let (length, data_start) = read_length(body, start + 1, 0xff)?;
        let rest = body.get(data_start..).unwrap_or_default();
        let packet = usize::try_from(length)
            .ok()
            .and_then(|len| rest.get(..len))
            .ok_or(DecodeError::LengthBeyondInput {
                length,
                offset: start + 1,
            })?;
        self.pos = data_start + packet.len();
        if kind == 1 {
            return match packet.split_first() {
                None => Err(DecodeError::EmptyPacket { offset: data_start }),
                Some((&ty, data)) => decode_typed_binary(ty, data, data_start),
            };
        }
        if packet.is_empty() {
            return Err(DecodeError::EmptyPacket { offset: data_start });
        }
        let text = std::str::from_utf8(packet).map_err(|e| DecodeError::InvalidUtf8 {
            offset: data_start + e.valid_up_to(),
        })?;
        decode_str(text, Revision::V3, data_start)
    }
}
