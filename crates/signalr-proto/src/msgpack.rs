//! The MessagePack hub protocol: each message is a length prefix (a varint: 7 bits a byte, low
//! bits first, at most 5 bytes, at most 2 GB) and a MessagePack array whose first element is the
//! message type.

use rmpv::Value as Mp;

use crate::error::{DecodeError, EncodeError};
use crate::message::{Completion, Headers, HubMessage, Invocation, Outcome, StreamItem};
use crate::value::Value;

/// Nesting allowed inside one message (rmpv counts a level for each container and string).
const MAX_DEPTH: usize = 128;
/// The largest length a prefix may announce (2 GB - 1, as the spec's 5-byte prefix allows).
const MAX_PREFIXED_LEN: usize = 0x7fff_ffff;

/// The messages of one binary frame, in order; after the first error the iterator ends.
#[derive(Debug, Clone)]
pub struct MessagePackMessages<'a> {
    frame: &'a [u8],
    pos: usize,
    max_len: usize,
    done: bool,
}

/// Reads the length-prefixed messages of `frame`; a message longer than `max_len` is an error.
pub fn decode_message_pack_frame(frame: &[u8], max_len: usize) -> MessagePackMessages<'_> {
    MessagePackMessages {
        frame,
        pos: 0,
        max_len,
        done: false,
    }
}

/// Reads the varint at `frame[pos..]`: the announced length and the prefix's own length.
fn read_length(frame: &[u8], pos: usize) -> Result<(usize, usize), DecodeError> {
    let mut len = 0usize;
    for i in 0..5 {
        let byte = *frame
            .get(pos + i)
            .ok_or(DecodeError::Incomplete { offset: pos })?;
        if i == 4 && byte > 0x07 {
            return Err(DecodeError::LengthPrefix { offset: pos });
        }
        len |= usize::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok((len, i + 1));
        }
    }
    // The fifth byte is at most 7, so its continuation bit is clear and the loop has returned.
    Err(DecodeError::LengthPrefix { offset: pos })
}

impl Iterator for MessagePackMessages<'_> {
    type Item = Result<HubMessage, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.frame.len() {
            self.done = true;
            return None;
        }
        let result = self.next_message();
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

impl MessagePackMessages<'_> {
    fn next_message(&mut self) -> Result<HubMessage, DecodeError> {
        let offset = self.pos;
        let (len, prefix) = read_length(self.frame, offset)?;
        if len > self.max_len {
            return Err(DecodeError::TooLarge {
                offset,
                len,
                max: self.max_len,
            });
        }
        let start = offset + prefix;
        let body = self
            .frame
            .get(start..start + len)
            .ok_or(DecodeError::Incomplete { offset })?;
        self.pos = start + len;
        decode_message_pack_message(body, start)
    }
}

fn invalid(offset: usize, field: &'static str, problem: &'static str) -> DecodeError {
    DecodeError::InvalidField {
        offset,
        field,
        problem,
    }
}

/// Headers that are not a map (one server sends the integer 128 for an empty map) are read as
/// no headers, and entries that are not string pairs are skipped: no message depends on them.
fn headers(value: Option<&Mp>) -> Headers {
    let Some(Mp::Map(entries)) = value else {
        return Headers::new();
    };
    entries
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

fn text(value: &Mp, offset: usize, field: &'static str) -> Result<String, DecodeError> {
    match value {
        Mp::String(s) => {
            s.as_str()
                .map(str::to_owned)
                .ok_or(invalid(offset, field, "is not UTF-8"))
        }
        _ => Err(invalid(offset, field, "is not a string")),
    }
}

/// An invocation id: nil is none; an integer is taken as its decimal text.
fn id(value: Option<&Mp>, offset: usize) -> Result<Option<String>, DecodeError> {
    match value {
        None | Some(Mp::Nil) => Ok(None),
        Some(Mp::Integer(n)) => Ok(Some(n.to_string())),
        Some(v) => text(v, offset, "invocationId").map(Some),
    }
}

fn required_id(value: Option<&Mp>, offset: usize) -> Result<String, DecodeError> {
    id(value, offset)?.ok_or(DecodeError::MissingField {
        offset,
        field: "invocationId",
    })
}

fn stream_ids(value: Option<&Mp>, offset: usize) -> Result<Vec<String>, DecodeError> {
    match value {
        None | Some(Mp::Nil) => Ok(Vec::new()),
        Some(Mp::Array(ids)) => ids.iter().map(|v| text(v, offset, "streamIds")).collect(),
        Some(_) => Err(invalid(offset, "streamIds", "is not an array")),
    }
}

/// Decodes one message body (after its length prefix); `offset` is where it starts in its frame.
pub fn decode_message_pack_message(body: &[u8], offset: usize) -> Result<HubMessage, DecodeError> {
    let mut cursor = body;
    let value =
        rmpv::decode::read_value_with_max_depth(&mut cursor, MAX_DEPTH).map_err(|source| {
            DecodeError::MessagePack {
                offset: offset + (body.len() - cursor.len()),
                source,
            }
        })?;
    let Mp::Array(mut items) = value else {
        return Err(invalid(offset, "message", "is not an array"));
    };
    let kind = items
        .first()
        .ok_or(DecodeError::MissingField {
            offset,
            field: "type",
        })?
        .as_u64()
        .ok_or(invalid(offset, "type", "is not a non-negative integer"))?;
    let at_least = |n: usize| {
        if items.len() < n {
            Err(invalid(offset, "message", "has too few elements"))
        } else {
            Ok(())
        }
    };
    Ok(match kind {
        1 | 4 => {
            at_least(5)?;
            let arguments = match items.get_mut(4) {
                Some(Mp::Array(args)) => std::mem::take(args)
                    .into_iter()
                    .map(Value::MessagePack)
                    .collect(),
                _ => return Err(invalid(offset, "arguments", "is not an array")),
            };
            let target = text(items.get(3).unwrap_or(&Mp::Nil), offset, "target")?;
            let call = Invocation {
                headers: headers(items.get(1)),
                invocation_id: id(items.get(2), offset)?,
                target,
                arguments,
                stream_ids: stream_ids(items.get(5), offset)?,
            };
            if kind == 1 {
                HubMessage::Invocation(call)
            } else {
                if call.invocation_id.is_none() {
                    return Err(DecodeError::MissingField {
                        offset,
                        field: "invocationId",
                    });
                }
                HubMessage::StreamInvocation(call)
            }
        }
        2 => {
            at_least(4)?;
            HubMessage::StreamItem(StreamItem {
                headers: headers(items.get(1)),
                invocation_id: required_id(items.get(2), offset)?,
                item: take(&mut items, 3),
            })
        }
        3 => {
            at_least(4)?;
            let outcome = match items.get(3).and_then(Mp::as_u64) {
                Some(1) => {
                    at_least(5)?;
                    Outcome::Error(text(items.get(4).unwrap_or(&Mp::Nil), offset, "error")?)
                }
                Some(2) => Outcome::Void,
                Some(3) => {
                    at_least(5)?;
                    Outcome::Result(take(&mut items, 4))
                }
                _ => return Err(invalid(offset, "resultKind", "is not 1, 2 or 3")),
            };
            HubMessage::Completion(Completion {
                headers: headers(items.get(1)),
                invocation_id: id(items.get(2), offset)?,
                outcome,
            })
        }
        5 => {
            at_least(3)?;
            HubMessage::CancelInvocation {
                headers: headers(items.get(1)),
                invocation_id: required_id(items.get(2), offset)?,
            }
        }
        6 => HubMessage::Ping,
        7 => {
            let error = match items.get(1) {
                None | Some(Mp::Nil) => None,
                Some(v) => Some(text(v, offset, "error")?),
            };
            let allow_reconnect = match items.get(2) {
                None | Some(Mp::Nil) => false,
                Some(Mp::Boolean(b)) => *b,
                Some(_) => return Err(invalid(offset, "allowReconnect", "is not a boolean")),
            };
            HubMessage::Close {
                error,
                allow_reconnect,
            }
        }
        8 | 9 => {
            at_least(2)?;
            let sequence_id = items.get(1).and_then(Mp::as_u64).ok_or(invalid(
                offset,
                "sequenceId",
                "is not a non-negative integer",
            ))?;
            if kind == 8 {
                HubMessage::Ack { sequence_id }
            } else {
                HubMessage::Sequence { sequence_id }
            }
        }
        kind => HubMessage::Unknown { kind },
    })
}

/// Element `i`, moved out of the decoded array (nil when absent).
fn take(items: &mut [Mp], i: usize) -> Value {
    Value::MessagePack(
        items
            .get_mut(i)
            .map_or(Mp::Nil, |v| std::mem::replace(v, Mp::Nil)),
    )
}

fn mp_headers(headers: &Headers) -> Mp {
    Mp::Map(
        headers
            .iter()
            .map(|(k, v)| (Mp::from(k.as_str()), Mp::from(v.as_str())))
            .collect(),
    )
}

fn mp_id(id: Option<&str>) -> Mp {
    id.map_or(Mp::Nil, Mp::from)
}

fn mp_value(value: &Value) -> Result<Mp, EncodeError> {
    value.to_message_pack().map_err(EncodeError::Json)
}

/// Appends `message`, length prefix first, to `out`. Invocations carry their (possibly empty)
/// stream ids as a sixth element, as the .NET server writes them.
pub fn encode_message_pack(message: &HubMessage, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = Mp::from(message.kind());
    let array = match message {
        HubMessage::Invocation(call) | HubMessage::StreamInvocation(call) => vec![
            kind,
            mp_headers(&call.headers),
            mp_id(call.invocation_id.as_deref()),
            Mp::from(call.target.as_str()),
            Mp::Array(
                call.arguments
                    .iter()
                    .map(mp_value)
                    .collect::<Result<_, _>>()?,
            ),
            Mp::Array(
                call.stream_ids
                    .iter()
                    .map(|s| Mp::from(s.as_str()))
                    .collect(),
            ),
        ],
        HubMessage::StreamItem(item) => vec![
            kind,
            mp_headers(&item.headers),
            Mp::from(item.invocation_id.as_str()),
            mp_value(&item.item)?,
        ],
        HubMessage::Completion(done) => {
            let mut array = vec![
                kind,
                mp_headers(&done.headers),
                mp_id(done.invocation_id.as_deref()),
            ];
            match &done.outcome {
                Outcome::Error(e) => array.extend([Mp::from(1), Mp::from(e.as_str())]),
                Outcome::Void => array.push(Mp::from(2)),
                Outcome::Result(v) => array.extend([Mp::from(3), mp_value(v)?]),
            }
            array
        }
        HubMessage::CancelInvocation {
            headers,
            invocation_id,
        } => vec![kind, mp_headers(headers), Mp::from(invocation_id.as_str())],
        HubMessage::Ping => vec![kind],
        HubMessage::Close {
            error,
            allow_reconnect,
        } => vec![
            kind,
            error.as_deref().map_or(Mp::Nil, Mp::from),
            Mp::Boolean(*allow_reconnect),
        ],
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => {
            vec![kind, Mp::from(*sequence_id)]
        }
        HubMessage::Unknown { kind } => return Err(EncodeError::UnknownType(*kind)),
    };
    let mut body = Vec::new();
    // Writing into a Vec cannot fail; the error arm keeps the code free of unwraps anyway.
    rmpv::encode::write_value(&mut body, &Mp::Array(array))
        .map_err(|e| EncodeError::MessagePack(rmpv::ext::Error::Syntax(e.to_string())))?;
    if body.len() > MAX_PREFIXED_LEN {
        return Err(EncodeError::TooLarge(body.len()));
    }
    let mut len = body.len();
    while len >= 0x80 {
        out.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    out.push(len as u8);
    out.extend_from_slice(&body);
    Ok(())
}
