use std::borrow::Cow;

use crate::{DecodeError, EncodeError, Handshake, InvalidPacketType, Revision, base64};

/// The seven Engine.IO packet types, numbered as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum PacketType {
    /// `0`: the server opens a session ([`Handshake`] JSON).
    Open = 0,
    /// `1`: close the session (or, from a polling client, the transport).
    Close = 1,
    /// `2`: heartbeat ping, or `2probe` during an upgrade.
    Ping = 2,
    /// `3`: heartbeat pong, or `3probe` during an upgrade.
    Pong = 3,
    /// `4`: application data.
    Message = 4,
    /// `5`: the client switches to the probed transport.
    Upgrade = 5,
    /// `6`: does nothing; ends a pending poll during an upgrade.
    Noop = 6,
}

impl PacketType {
    /// The type's number.
    pub fn as_u8(self) -> u8 {
        self as u8
    }

    /// The type's digit, as written in text packets.
    pub fn as_char(self) -> char {
        char::from(b'0' + self as u8)
    }

    /// The type for a number (as in V3 binary frames).
    pub fn from_u8(n: u8) -> Option<PacketType> {
        Some(match n {
            0 => PacketType::Open,
            1 => PacketType::Close,
            2 => PacketType::Ping,
            3 => PacketType::Pong,
            4 => PacketType::Message,
            5 => PacketType::Upgrade,
            6 => PacketType::Noop,
            _ => return None,
        })
    }

    /// The type for an ASCII digit (as in text packets).
    pub fn from_digit(byte: u8) -> Option<PacketType> {
        PacketType::from_u8(byte.wrapping_sub(b'0'))
    }
}

impl TryFrom<u8> for PacketType {
    type Error = InvalidPacketType;

    /// Converts a number `0`..`6` (not a digit character).
    fn try_from(n: u8) -> Result<Self, Self::Error> {
        PacketType::from_u8(n).ok_or(InvalidPacketType)
    }
}

impl TryFrom<char> for PacketType {
    type Error = InvalidPacketType;

    /// Converts a digit `'0'`..`'6'`.
    fn try_from(c: char) -> Result<Self, Self::Error> {
        u8::try_from(c)
            .ok()
            .and_then(PacketType::from_digit)
            .ok_or(InvalidPacketType)
    }
}

/// The data of a message: text, or binary.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Data<'a> {
    /// UTF-8 text.
    Text(Cow<'a, str>),
    /// Raw bytes.
    Binary(Cow<'a, [u8]>),
}

impl Data<'_> {
    /// Whether this is binary data.
    pub fn is_binary(&self) -> bool {
        matches!(self, Data::Binary(_))
    }

    /// The text, if this is text.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Data::Text(t) => Some(t),
            Data::Binary(_) => None,
        }
    }

    /// The bytes, if this is binary.
    pub fn as_binary(&self) -> Option<&[u8]> {
        match self {
            Data::Text(_) => None,
            Data::Binary(b) => Some(b),
        }
    }

    /// Copies borrowed data so that the value outlives its input.
    pub fn into_owned(self) -> Data<'static> {
        match self {
            Data::Text(t) => Data::Text(Cow::Owned(t.into_owned())),
            Data::Binary(b) => Data::Binary(Cow::Owned(b.into_owned())),
        }
    }
}

impl<'a> From<&'a str> for Data<'a> {
    fn from(s: &'a str) -> Self {
        Data::Text(Cow::Borrowed(s))
    }
}

impl From<String> for Data<'static> {
    fn from(s: String) -> Self {
        Data::Text(Cow::Owned(s))
    }
}

impl<'a> From<&'a [u8]> for Data<'a> {
    fn from(b: &'a [u8]) -> Self {
        Data::Binary(Cow::Borrowed(b))
    }
}

impl From<Vec<u8>> for Data<'static> {
    fn from(b: Vec<u8>) -> Self {
        Data::Binary(Cow::Owned(b))
    }
}

/// One Engine.IO packet.
///
/// Decoded packets borrow text from their input; [`Packet::into_owned`] detaches them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Packet<'a> {
    /// `0{…}`: the session is open.
    Open(Handshake),
    /// `1`: close.
    Close,
    /// `2…`: ping; the data is `""`, or `"probe"` during an upgrade.
    Ping(Cow<'a, str>),
    /// `3…`: pong, echoing the ping's data.
    Pong(Cow<'a, str>),
    /// `4…` (or binary): a message.
    Message(Data<'a>),
    /// `5`: upgrade.
    Upgrade,
    /// `6`: no-op.
    Noop,
}

impl<'a> Packet<'a> {
    /// A text message.
    pub fn text(text: impl Into<Cow<'a, str>>) -> Packet<'a> {
        Packet::Message(Data::Text(text.into()))
    }

    /// A binary message.
    pub fn binary(bytes: impl Into<Cow<'a, [u8]>>) -> Packet<'a> {
        Packet::Message(Data::Binary(bytes.into()))
    }

    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Open(_) => PacketType::Open,
            Packet::Close => PacketType::Close,
            Packet::Ping(_) => PacketType::Ping,
            Packet::Pong(_) => PacketType::Pong,
            Packet::Message(_) => PacketType::Message,
            Packet::Upgrade => PacketType::Upgrade,
            Packet::Noop => PacketType::Noop,
        }
    }

    /// Whether this is a binary message (which needs a binary frame, or base64).
    pub fn is_binary(&self) -> bool {
        matches!(self, Packet::Message(Data::Binary(_)))
    }

    /// Copies borrowed data so that the packet outlives its input.
    pub fn into_owned(self) -> Packet<'static> {
        match self {
            Packet::Open(h) => Packet::Open(h),
            Packet::Close => Packet::Close,
            Packet::Ping(d) => Packet::Ping(Cow::Owned(d.into_owned())),
            Packet::Pong(d) => Packet::Pong(Cow::Owned(d.into_owned())),
            Packet::Message(d) => Packet::Message(d.into_owned()),
            Packet::Upgrade => Packet::Upgrade,
            Packet::Noop => Packet::Noop,
        }
    }

    /// Appends the packet as a WebSocket text frame, `<type digit><data>`.
    ///
    /// A binary message has no text form: it gives [`EncodeError::BinaryInTextFrame`] and
    /// writes nothing (send it with [`encode_binary_frame`]).
    ///
    /// ```
    /// use sio_engineio_proto::{EncodeError, Packet};
    /// let mut out = String::new();
    /// Packet::Pong("probe".into()).encode_text(&mut out)?;
    /// assert_eq!(out, "3probe");
    /// assert_eq!(
    ///     Packet::binary(&[1u8][..]).encode_text(&mut out),
    ///     Err(EncodeError::BinaryInTextFrame)
    /// );
    /// # Ok::<(), EncodeError>(())
    /// ```
    pub fn encode_text(&self, out: &mut String) -> Result<(), EncodeError> {
        match self {
            Packet::Message(Data::Binary(_)) => Err(EncodeError::BinaryInTextFrame),
            _ => {
                self.write_text(out);
                Ok(())
            }
        }
    }

    /// Appends the packet as text, binary messages as base64: `b<base64>` in V4,
    /// `b4<base64>` in V3.
    ///
    /// This is the form of a packet inside a polling payload, and the form of a WebSocket
    /// text frame for a peer that asked for base64 (`b64=1` in V3, `forceBase64` clients).
    pub fn encode_text_base64(&self, revision: Revision, out: &mut String) {
        match self {
            Packet::Message(Data::Binary(bytes)) => {
                out.reserve(base64::encoded_len(bytes.len()).saturating_add(2));
                out.push('b');
                if revision == Revision::V3 {
                    out.push('4');
                }
                base64::encode(bytes, out);
            }
            _ => self.write_text(out),
        }
    }

    /// Writes the text form; a binary message is never passed here.
    fn write_text(&self, out: &mut String) {
        out.push(self.packet_type().as_char());
        match self {
            Packet::Open(handshake) => handshake.encode_json(out),
            Packet::Ping(d) | Packet::Pong(d) | Packet::Message(Data::Text(d)) => out.push_str(d),
            Packet::Close | Packet::Upgrade | Packet::Noop | Packet::Message(Data::Binary(_)) => {}
        }
    }

    /// The text this packet puts on the wire (ping, pong and text message data), used to
    /// check for the V4 record separator.
    pub(crate) fn text_data(&self) -> Option<&str> {
        match self {
            Packet::Ping(d) | Packet::Pong(d) | Packet::Message(Data::Text(d)) => Some(d),
            _ => None,
        }
    }
}

/// Appends a binary WebSocket frame carrying a binary message: the bytes as they are in
/// V4; the type byte `4` then the bytes in V3.
pub fn encode_binary_frame(data: &[u8], revision: Revision, out: &mut Vec<u8>) {
    if revision == Revision::V3 {
        out.reserve(data.len().saturating_add(1));
        out.push(PacketType::Message.as_u8());
    }
    out.extend_from_slice(data);
}

/// Decodes a WebSocket text frame, `<type digit><data>`, in any revision.
///
/// Base64 binary (`b…`) is rejected with [`DecodeError::BinaryNotAllowed`]: a peer that
/// sends binary uses binary frames. Use [`decode_text_frame`] to also accept the base64
/// form that Node peers use when asked to avoid binary frames.
///
/// ```
/// use sio_engineio_proto::{decode_text, DecodeError, Packet};
/// assert_eq!(decode_text("4hello")?, Packet::text("hello"));
/// assert_eq!(decode_text("6")?, Packet::Noop);
/// assert!(matches!(decode_text("abc"), Err(DecodeError::UnknownPacketType { byte: b'a', offset: 0 })));
/// # Ok::<(), DecodeError>(())
/// ```
pub fn decode_text(frame: &str) -> Result<Packet<'_>, DecodeError> {
    match frame.as_bytes().first() {
        None => Err(DecodeError::Empty),
        Some(b'b') => Err(DecodeError::BinaryNotAllowed { offset: 0 }),
        Some(_) => decode_plain(frame, 0),
    }
}

/// Decodes a WebSocket text frame, accepting base64 binary messages too: `b<base64>` in
/// V4, `b4<base64>` in V3.
///
/// Node servers and clients send these over WebSocket when the peer asked for base64
/// (`b64=1` in V3, the client option `forceBase64`), and accept them from such peers.
pub fn decode_text_frame(frame: &str, revision: Revision) -> Result<Packet<'_>, DecodeError> {
    if frame.is_empty() {
        return Err(DecodeError::Empty);
    }
    decode_str(frame, revision, 0)
}

/// Decodes a WebSocket binary frame.
///
/// V4: the whole frame is a binary message. V3: the first byte is the packet type as a
/// number and must be `4` (message), the rest is the data.
///
/// ```
/// use sio_engineio_proto::{decode_binary, Packet, Revision};
/// assert_eq!(decode_binary(&[1, 2, 3], Revision::V4)?, Packet::binary(&[1u8, 2, 3][..]));
/// assert_eq!(decode_binary(&[4, 1, 2, 3], Revision::V3)?, Packet::binary(&[1u8, 2, 3][..]));
/// # Ok::<(), sio_engineio_proto::DecodeError>(())
/// ```
pub fn decode_binary(frame: &[u8], revision: Revision) -> Result<Packet<'_>, DecodeError> {
    match revision {
        Revision::V4 => Ok(Packet::Message(Data::Binary(Cow::Borrowed(frame)))),
        Revision::V3 => match frame.split_first() {
            None => Err(DecodeError::Empty),
            Some((&ty, data)) => decode_typed_binary(ty, data, 0),
        },
    }
}

/// A V3 binary packet: type number `ty` at `offset`, then `data`.
pub(crate) fn decode_typed_binary(
    ty: u8,
    data: &[u8],
    offset: usize,
) -> Result<Packet<'_>, DecodeError> {
    match PacketType::from_u8(ty) {
        Some(PacketType::Message) => Ok(Packet::Message(Data::Binary(Cow::Borrowed(data)))),
        Some(packet_type) => Err(DecodeError::BinaryNotMessage {
            packet_type,
            offset,
        }),
        None => Err(DecodeError::UnknownPacketType { byte: ty, offset }),
    }
}

/// A packet in text form, base64 binary allowed, starting at `offset` of the caller's
/// input. `s` must not be empty.
pub(crate) fn decode_str(
    s: &str,
    revision: Revision,
    offset: usize,
) -> Result<Packet<'_>, DecodeError> {
    match s.as_bytes().split_first() {
        Some((b'b', rest)) => decode_base64(rest, revision, offset + 1),
        _ => decode_plain(s, offset),
    }
}

/// The base64 form after its `b`, which is at `offset - 1`.
pub(crate) fn decode_base64(
    rest: &[u8],
    revision: Revision,
    offset: usize,
) -> Result<Packet<'static>, DecodeError> {
    let (data, data_offset) = match revision {
        Revision::V4 => (rest, offset),
        // V3 writes the type digit after the `b`.
        Revision::V3 => match rest.split_first() {
            None => return Err(DecodeError::Truncated { offset }),
            Some((&digit, data)) => match PacketType::from_digit(digit) {
                Some(PacketType::Message) => (data, offset + 1),
                Some(packet_type) => {
                    return Err(DecodeError::BinaryNotMessage {
                        packet_type,
                        offset,
                    });
                }
                None => {
                    return Err(DecodeError::UnknownPacketType {
                        byte: digit,
                        offset,
                    });
                }
            },
        },
    };
    let bytes = base64::decode(data, data_offset)?;
    Ok(Packet::Message(Data::Binary(Cow::Owned(bytes))))
}

/// `<type digit><data>`, starting at `offset` of the caller's input.
pub(crate) fn decode_plain(s: &str, offset: usize) -> Result<Packet<'_>, DecodeError> {
    let Some((&first, _)) = s.as_bytes().split_first() else {
        return Err(DecodeError::EmptyPacket { offset });
    };
    let Some(packet_type) = PacketType::from_digit(first) else {
        return Err(DecodeError::UnknownPacketType {
            byte: first,
            offset,
        });
    };
    // The digit is one ASCII byte, so byte 1 is a character boundary.
    let data = s.get(1..).unwrap_or_default();
    let data_offset = offset + 1;
    Ok(match packet_type {
        PacketType::Open => Packet::Open(Handshake::decode_at(data, data_offset)?),
        PacketType::Ping => Packet::Ping(Cow::Borrowed(data)),
        PacketType::Pong => Packet::Pong(Cow::Borrowed(data)),
        PacketType::Message => Packet::Message(Data::Text(Cow::Borrowed(data))),
        PacketType::Close | PacketType::Upgrade | PacketType::Noop => {
            if !data.is_empty() {
                return Err(DecodeError::UnexpectedData {
                    packet_type,
                    offset: data_offset,
                });
            }
            match packet_type {
                PacketType::Close => Packet::Close,
                PacketType::Upgrade => Packet::Upgrade,
                _ => Packet::Noop,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_type_conversions() {
        for n in 0u8..=6 {
            let t = PacketType::try_from(n).unwrap();
            assert_eq!(t.as_u8(), n);
            assert_eq!(PacketType::try_from(t.as_char()).unwrap(), t);
            assert_eq!(PacketType::from_digit(b'0' + n), Some(t));
        }
        assert_eq!(PacketType::try_from(7u8), Err(InvalidPacketType));
        assert_eq!(PacketType::try_from('7'), Err(InvalidPacketType));
        assert_eq!(PacketType::try_from('é'), Err(InvalidPacketType));
        assert_eq!(PacketType::from_digit(b'/'), None);
        assert_eq!(PacketType::from_digit(0), None);
    }

    #[test]
    fn decoded_text_borrows() {
        let frame = String::from("4hello");
        match decode_text(&frame).unwrap() {
            Packet::Message(Data::Text(Cow::Borrowed(s))) => assert_eq!(s, "hello"),
            other => panic!("{other:?}"),
        }
        match decode_binary(b"\x04ab", Revision::V3).unwrap() {
            Packet::Message(Data::Binary(Cow::Borrowed(s))) => assert_eq!(s, b"ab"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn into_owned_keeps_value() {
        let frame = String::from("2probe");
        let owned = decode_text(&frame).unwrap().into_owned();
        drop(frame);
        assert_eq!(owned, Packet::Ping("probe".into()));
    }
}
