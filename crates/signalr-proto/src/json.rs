//! The JSON hub protocol: one JSON object per message, each followed by the record separator
//! `0x1E`; a frame (WebSocket message, poll body, server-sent event) holds whole records.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::error::{DecodeError, EncodeError};
use crate::message::{Completion, Headers, HubMessage, Invocation, Outcome, StreamItem};
use crate::value::{Value, json_null};

/// Ends every JSON record, the handshake's included.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// The messages of one JSON frame, in order; after the first error the iterator ends.
#[derive(Debug, Clone)]
pub struct JsonMessages<'a> {
    frame: &'a [u8],
    pos: usize,
    max_len: usize,
    done: bool,
}

/// Reads the records of `frame`; a record longer than `max_len` bytes is an error.
pub fn decode_json_frame(frame: &[u8], max_len: usize) -> JsonMessages<'_> {
    JsonMessages {
        frame,
        pos: 0,
        max_len,
        done: false,
    }
}

impl Iterator for JsonMessages<'_> {
    type Item = Result<HubMessage, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.frame.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        let offset = self.pos;
        let result = match memchr::memchr(RECORD_SEPARATOR, rest) {
            None if rest.len() > self.max_len => Err(DecodeError::TooLarge {
                offset,
                len: rest.len(),
                max: self.max_len,
            }),
            None => Err(DecodeError::Incomplete { offset }),
            Some(len) if len > self.max_len => Err(DecodeError::TooLarge {
                offset,
                len,
                max: self.max_len,
            }),
            Some(0) => Err(DecodeError::EmptyRecord { offset }),
            Some(len) => {
                self.pos = offset + len + 1;
                decode_json_message(rest.get(..len).unwrap_or_default(), offset)
            }
        };
        if result.is_err() {
            self.done = true;
        }
        Some(result)
    }
}

#[derive(Deserialize)]
struct WireIn<'a> {
    #[serde(rename = "type")]
    kind: Option<u64>,
    #[serde(default, rename = "invocationId", deserialize_with = "lenient_id")]
    invocation_id: Option<String>,
    target: Option<String>,
    #[serde(borrow)]
    arguments: Option<Vec<&'a RawValue>>,
    #[serde(rename = "streamIds")]
    stream_ids: Option<Vec<String>>,
    #[serde(default, borrow, deserialize_with = "present")]
    item: Option<&'a RawValue>,
    #[serde(default, borrow, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    error: Option<String>,
    #[serde(borrow)]
    headers: Option<&'a RawValue>,
    #[serde(rename = "allowReconnect")]
    allow_reconnect: Option<bool>,
    #[serde(rename = "sequenceId")]
    sequence_id: Option<u64>,
}

/// A present field, `null` included (`"result":null` is a result, unlike no `result` at all).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

/// Invocation ids are strings; an integer is taken as its decimal text, as the JavaScript client's
/// callback lookup does.
fn lenient_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Unsigned(u64),
        Signed(i64),
    }
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Text(text) => text,
        Id::Unsigned(n) => n.to_string(),
        Id::Signed(n) => n.to_string(),
    }))
}

/// The byte of `record` that a serde_json error's line and column point to.
fn error_offset(record: &[u8], error: &serde_json::Error) -> usize {
    let mut line_start = 0;
    if error.line() > 1 {
        let newlines = memchr::memchr_iter(b'\n', record).nth(error.line() - 2);
        line_start = newlines.map_or(record.len(), |at| at + 1);
    }
    (line_start + error.column().saturating_sub(1)).min(record.len())
}

/// Decodes one JSON record (without its separator); `offset` is where it starts in its frame.
pub fn decode_json_message(record: &[u8], offset: usize) -> Result<HubMessage, DecodeError> {
    let wire: WireIn<'_> = serde_json::from_slice(record).map_err(|source| DecodeError::Json {
        offset: offset + error_offset(record, &source),
        source,
    })?;
    let missing = |field| DecodeError::MissingField { offset, field };
    let kind = wire.kind.ok_or(missing("type"))?;
    // Headers that are not a string map are dropped rather than refused: some servers send
    // other shapes, and no message depends on them.
    let headers = || -> Headers {
        wire.headers
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .unwrap_or_default()
    };
    let arguments = || -> Vec<Value> {
        wire.arguments
            .iter()
            .flatten()
            .map(|raw| Value::Json((*raw).to_owned()))
            .collect()
    };
    Ok(match kind {
        1 | 4 => {
            let invocation = Invocation {
                headers: headers(),
                invocation_id: wire.invocation_id.clone(),
                target: wire.target.clone().ok_or(missing("target"))?,
                arguments: arguments(),
                stream_ids: wire.stream_ids.clone().unwrap_or_default(),
            };
            if kind == 1 {
                HubMessage::Invocation(invocation)
            } else {
                if invocation.invocation_id.is_none() {
                    return Err(missing("invocationId"));
                }
                HubMessage::StreamInvocation(invocation)
            }
        }
        2 => HubMessage::StreamItem(StreamItem {
            headers: headers(),
            invocation_id: wire.invocation_id.clone().ok_or(missing("invocationId"))?,
            item: Value::Json(wire.item.map_or_else(json_null, ToOwned::to_owned)),
        }),
        3 => {
            let outcome = match (wire.result, &wire.error) {
                (Some(_), Some(_)) => {
                    return Err(DecodeError::InvalidField {
                        offset,
                        field: "result",
                        problem: "and error are both present",
                    });
                }
                (Some(result), None) => Outcome::Result(Value::Json(result.to_owned())),
                (None, Some(error)) => Outcome::Error(error.clone()),
                (None, None) => Outcome::Void,
            };
            HubMessage::Completion(Completion {
                headers: headers(),
                invocation_id: wire.invocation_id.clone(),
                outcome,
            })
        }
        5 => HubMessage::CancelInvocation {
            headers: headers(),
            invocation_id: wire.invocation_id.clone().ok_or(missing("invocationId"))?,
        },
        6 => HubMessage::Ping,
        7 => HubMessage::Close {
            error: wire.error.clone(),
            allow_reconnect: wire.allow_reconnect.unwrap_or(false),
        },
        8 => HubMessage::Ack {
            sequence_id: wire.sequence_id.ok_or(missing("sequenceId"))?,
        },
        9 => HubMessage::Sequence {
            sequence_id: wire.sequence_id.ok_or(missing("sequenceId"))?,
        },
        kind => HubMessage::Unknown { kind },
    })
}

#[derive(Serialize, Default)]
struct WireOut<'a> {
    #[serde(rename = "type")]
    kind: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<&'a Headers>,
    #[serde(rename = "invocationId", skip_serializing_if = "Option::is_none")]
    invocation_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    target: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<Vec<Box<RawValue>>>,
    #[serde(rename = "streamIds", skip_serializing_if = "Option::is_none")]
    stream_ids: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(rename = "allowReconnect", skip_serializing_if = "Option::is_none")]
    allow_reconnect: Option<bool>,
    #[serde(rename = "sequenceId", skip_serializing_if = "Option::is_none")]
    sequence_id: Option<u64>,
}

fn non_empty(headers: &Headers) -> Option<&Headers> {
    (!headers.is_empty()).then_some(headers)
}

fn raw_arguments(arguments: &[Value]) -> Result<Vec<Box<RawValue>>, EncodeError> {
    arguments
        .iter()
        .map(|a| a.to_raw_json().map_err(EncodeError::Json))
        .collect()
}

/// Appends `message` and its record separator to `out`.
pub fn encode_json(message: &HubMessage, out: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = message.kind();
    let wire = match message {
        HubMessage::Invocation(call) | HubMessage::StreamInvocation(call) => WireOut {
            kind,
            headers: non_empty(&call.headers),
            invocation_id: call.invocation_id.as_deref(),
            target: Some(&call.target),
            arguments: Some(raw_arguments(&call.arguments)?),
            stream_ids: (!call.stream_ids.is_empty()).then_some(call.stream_ids.as_slice()),
            ..WireOut::default()
        },
        HubMessage::StreamItem(item) => WireOut {
            kind,
            headers: non_empty(&item.headers),
            invocation_id: Some(&item.invocation_id),
            item: Some(item.item.to_raw_json().map_err(EncodeError::Json)?),
            ..WireOut::default()
        },
        HubMessage::Completion(done) => {
            let (result, error) = match &done.outcome {
                Outcome::Void => (None, None),
                Outcome::Result(v) => (Some(v.to_raw_json().map_err(EncodeError::Json)?), None),
                Outcome::Error(e) => (None, Some(e.as_str())),
            };
            WireOut {
                kind,
                headers: non_empty(&done.headers),
                invocation_id: done.invocation_id.as_deref(),
                result,
                error,
                ..WireOut::default()
            }
        }
        HubMessage::CancelInvocation {
            headers,
            invocation_id,
        } => WireOut {
            kind,
            headers: non_empty(headers),
            invocation_id: Some(invocation_id),
            ..WireOut::default()
        },
        HubMessage::Ping => WireOut {
            kind,
            ..WireOut::default()
        },
        HubMessage::Close {
            error,
            allow_reconnect,
        } => WireOut {
            kind,
            error: error.as_deref(),
            allow_reconnect: allow_reconnect.then_some(true),
            ..WireOut::default()
        },
        HubMessage::Ack { sequence_id } | HubMessage::Sequence { sequence_id } => WireOut {
            kind,
            sequence_id: Some(*sequence_id),
            ..WireOut::default()
        },
        HubMessage::Unknown { kind } => return Err(EncodeError::UnknownType(*kind)),
    };
    let start = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, &wire) {
        // Leave `out` as it was: a half-written record would corrupt the next one.
        out.truncate(start);
        return Err(EncodeError::Json(e));
    }
    out.push(RECORD_SEPARATOR);
    Ok(())
}
