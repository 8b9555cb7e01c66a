//! A bounded msgpack reader producing the values a notepack.io peer would see.
//!
//! Lengths are checked against the bytes left before anything is allocated, and nesting is limited, so
//! a hostile frame costs at most a small multiple of its own size.

use rmpv::Value;

use crate::error::DecodeError;
use crate::js::{self, MAX_DECODE_DEPTH};

/// A decoded msgpack item: notepack's `undefined` (fixext 1 of type 0) has no [`Value`] counterpart.
pub(crate) enum Item {
    Value(Value),
    Undefined,
}

pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.buf.len())
            .ok_or(DecodeError::MsgpackTruncated {
                offset: self.buf.len(),
            })?;
        let bytes = self.buf.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_be_bytes(self.array()?))
    }

    fn len16(&mut self) -> Result<usize, DecodeError> {
        Ok(usize::from(u16::from_be_bytes(self.array()?)))
    }

    fn len32(&mut self) -> Result<usize, DecodeError> {
        let n = u32::from_be_bytes(self.array()?);
        usize::try_from(n).map_err(|_| DecodeError::MsgpackTruncated {
            offset: self.buf.len(),
        })
    }

    /// Reads one item; a container read here is at nesting `depth` (the packet map is 1).
    pub(crate) fn item(&mut self, depth: usize) -> Result<Item, DecodeError> {
        let start = self.pos;
        let marker = self.u8()?;
        let value = match marker {
            0x00..=0x7f => Value::from(marker),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f), depth, start)?,
            0x90..=0x9f => self.array_items(usize::from(marker & 0x0f), depth, start)?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Value::Nil,
            0xc1 => {
                return Err(DecodeError::MsgpackInvalidMarker {
                    offset: start,
                    marker,
                });
            }
            0xc2 => Value::Boolean(false),
            0xc3 => Value::Boolean(true),
            0xc4 => {
                let n = usize::from(self.u8()?);
                Value::Binary(self.take(n)?.to_vec())
            }
            0xc5 => {
                let n = self.len16()?;
                Value::Binary(self.take(n)?.to_vec())
            }
            0xc6 => {
                let n = self.len32()?;
                Value::Binary(self.take(n)?.to_vec())
            }
            0xc7 => {
                let n = usize::from(self.u8()?);
                self.ext_or_arraybuffer(n)?
            }
            0xc8 => {
                let n = self.len16()?;
                self.ext_or_arraybuffer(n)?
            }
            0xc9 => {
                let n = self.len32()?;
                self.ext_or_arraybuffer(n)?
            }
            0xca => js::number_from_f64(f64::from(f32::from_be_bytes(self.array()?))),
            0xcb => js::number_from_f64(f64::from_be_bytes(self.array()?)),
            0xcc => Value::from(self.u8()?),
            0xcd => Value::from(u16::from_be_bytes(self.array()?)),
            0xce => Value::from(u32::from_be_bytes(self.array()?)),
            0xcf => Value::from(u64::from_be_bytes(self.array()?)),
            0xd0 => Value::from(i8::from_be_bytes(self.array()?)),
            0xd1 => Value::from(i16::from_be_bytes(self.array()?)),
            0xd2 => Value::from(i32::from_be_bytes(self.array()?)),
            0xd3 => Value::from(i64::from_be_bytes(self.array()?)),
            0xd4 => {
                let ty = i8::from_be_bytes(self.array()?);
                let data = self.take(1)?;
                if ty == 0 {
                    return Ok(Item::Undefined);
                }
                Value::Ext(ty, data.to_vec())
            }
            0xd5..=0xd8 => {
                let n = 1usize << (marker - 0xd4);
                let ty = i8::from_be_bytes(self.array()?);
                Value::Ext(ty, self.take(n)?.to_vec())
            }
            0xd9 => {
                let n = usize::from(self.u8()?);
                self.str(n)?
            }
            0xda => {
                let n = self.len16()?;
                self.str(n)?
            }
            0xdb => {
                let n = self.len32()?;
                self.str(n)?
            }
            0xdc => {
                let n = self.len16()?;
                self.array_items(n, depth, start)?
            }
            0xdd => {
                let n = self.len32()?;
                self.array_items(n, depth, start)?
            }
            0xde => {
                let n = self.len16()?;
                self.map(n, depth, start)?
            }
            0xdf => {
                let n = self.len32()?;
                self.map(n, depth, start)?
            }
            0xe0..=0xff => Value::from(i8::from_be_bytes([marker])),
        };
        Ok(Item::Value(value))
    }

    fn str(&mut self, n: usize) -> Result<Value, DecodeError> {
        self.borrowed_str(n).map(Value::from)
    }

    fn borrowed_str(&mut self, n: usize) -> Result<&'a str, DecodeError> {
        let offset = self.pos;
        let bytes = self.take(n)?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::InvalidUtf8 { offset })
    }

    /// The number of pairs if the next item is a map header (consumed), `None` otherwise (untouched).
    pub(crate) fn map_header(&mut self) -> Result<Option<usize>, DecodeError> {
        let Some(&marker) = self.buf.get(self.pos) else {
            return Err(DecodeError::MsgpackTruncated { offset: self.pos });
        };
        let n = match marker {
            0x80..=0x8f => {
                self.pos += 1;
                usize::from(marker & 0x0f)
            }
            0xde => {
                self.pos += 1;
                self.len16()?
            }
            0xdf => {
                self.pos += 1;
                self.len32()?
            }
            _ => return Ok(None),
        };
        if n > self.remaining() / 2 {
            return Err(DecodeError::MsgpackTruncated {
                offset: self.buf.len(),
            });
        }
        Ok(Some(n))
    }

    /// A map key at `depth`: borrowed when it is a string (the packet map's keys need no allocation),
    /// `None` for keys of other types, which are read and dropped.
    pub(crate) fn key(&mut self, depth: usize) -> Result<Option<&'a str>, DecodeError> {
        let n = match self.buf.get(self.pos) {
            Some(&m @ 0xa0..=0xbf) => {
                self.pos += 1;
                usize::from(m & 0x1f)
            }
            Some(0xd9) => {
                self.pos += 1;
                usize::from(self.u8()?)
            }
            Some(0xda) => {
                self.pos += 1;
                self.len16()?
            }
            Some(0xdb) => {
                self.pos += 1;
                self.len32()?
            }
            _ => {
                self.item(depth)?;
                return Ok(None);
            }
        };
        self.borrowed_str(n).map(Some)
    }

    /// notepack encodes an `ArrayBuffer` (the browser's binary) as extension type 0.
    fn ext_or_arraybuffer(&mut self, n: usize) -> Result<Value, DecodeError> {
        let ty = i8::from_be_bytes(self.array()?);
        let data = self.take(n)?.to_vec();
        Ok(if ty == 0 {
            Value::Binary(data)
        } else {
            Value::Ext(ty, data)
        })
    }

    fn enter(&self, depth: usize, start: usize) -> Result<usize, DecodeError> {
        if depth > MAX_DECODE_DEPTH {
            return Err(DecodeError::DepthLimit {
                offset: start,
                max: MAX_DECODE_DEPTH,
            });
        }
        Ok(depth + 1)
    }

    fn array_items(&mut self, n: usize, depth: usize, start: usize) -> Result<Value, DecodeError> {
        let inner = self.enter(depth, start)?;
        // Every element takes at least one byte.
        if n > self.remaining() {
            return Err(DecodeError::MsgpackTruncated {
                offset: self.buf.len(),
            });
        }
        let mut items = Vec::with_capacity(n);
        for _ in 0..n {
            items.push(match self.item(inner)? {
                Item::Value(v) => v,
                // JSON.stringify and socket.io see `undefined` array slots as null.
                Item::Undefined => Value::Nil,
            });
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, n: usize, depth: usize, start: usize) -> Result<Value, DecodeError> {
        let inner = self.enter(depth, start)?;
        // Every pair takes at least two bytes.
        if n > self.remaining() / 2 {
            return Err(DecodeError::MsgpackTruncated {
                offset: self.buf.len(),
            });
        }
        let mut pairs = Vec::with_capacity(n);
        for _ in 0..n {
            let key = match self.item(inner)? {
                Item::Value(v) => v,
                Item::Undefined => Value::Nil,
            };
            // A property whose value is `undefined` is as good as absent (`data: undefined` in a CONNECT
            // without auth, `pid: undefined` without connection state recovery).
            if let Item::Value(v) = self.item(inner)? {
                pairs.push((key, v));
            }
        }
        Ok(Value::Map(pairs))
    }
}
