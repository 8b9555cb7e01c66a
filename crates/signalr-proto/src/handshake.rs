//! The handshake: the client's first message names the hub protocol, the server's first message
//! accepts or refuses it. Both are JSON records, whatever the hub protocol.

use serde::{Deserialize, Serialize};

use crate::json::RECORD_SEPARATOR;

/// Why a handshake answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// No record separator yet: the answer continues in a later frame (or never ends).
    #[error("the handshake answer has not ended after {len} bytes")]
    Incomplete {
        /// How many bytes have arrived so far.
        len: usize,
    },
    /// The answer is longer than the limit.
    #[error("the handshake answer is over {max} bytes long")]
    TooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// The answer is not a JSON object.
    #[error("invalid handshake answer at byte {offset}: {source}")]
    Json {
        /// The byte of the answer the JSON parser stopped at.
        offset: usize,
        /// What the JSON parser refused.
        #[source]
        source: serde_json::Error,
    },
    /// The server sent a hub message where the handshake answer belongs.
    #[error("expected a handshake answer, got a message of type {kind}")]
    NotHandshake {
        /// The message's numeric `type`.
        kind: u64,
    },
}

/// The server's answer to the handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeResponse {
    /// `{}`: the hub protocol is accepted.
    Accepted,
    /// `{"error":"…"}`: the server refuses, with its reason.
    Refused(String),
}

#[derive(Serialize)]
struct Request<'a> {
    protocol: &'a str,
    version: u32,
}

/// Appends the handshake request (`{"protocol":"json","version":1}` and the separator) to `out`.
pub fn encode_handshake_request(protocol: &str, version: u32, out: &mut Vec<u8>) {
    // Two plain fields always serialize; the fallback writes the same text by hand.
    if serde_json::to_writer(&mut *out, &Request { protocol, version }).is_err() {
        out.extend_from_slice(
            format!("{{\"protocol\":{protocol:?},\"version\":{version}}}").as_bytes(),
        );
    }
    out.push(RECORD_SEPARATOR);
}

#[derive(Deserialize)]
struct Response {
    error: Option<String>,
    #[serde(rename = "type")]
    kind: Option<u64>,
}

/// Reads the handshake answer at the start of `frame` and returns it with the length it took,
/// separator included: hub messages may follow in the same frame.
///
/// Lenient like the official client: a `"type"` of 0 is taken as part of the answer (some
/// servers send `{"type":0}`); any other type is a hub message, not an answer.
pub fn decode_handshake_response(
    frame: &[u8],
    max_len: usize,
) -> Result<(HandshakeResponse, usize), HandshakeError> {
    let Some(end) = memchr::memchr(RECORD_SEPARATOR, frame) else {
        return Err(if frame.len() > max_len {
            HandshakeError::TooLarge { max: max_len }
        } else {
            HandshakeError::Incomplete { len: frame.len() }
        });
    };
    if end > max_len {
        return Err(HandshakeError::TooLarge { max: max_len });
    }
    let record = frame.get(..end).unwrap_or_default();
    let response: Response =
        serde_json::from_slice(record).map_err(|source| HandshakeError::Json {
            offset: source.column().saturating_sub(1).min(end),
            source,
        })?;
    if let Some(kind) = response.kind.filter(|&k| k != 0) {
        return Err(HandshakeError::NotHandshake { kind });
    }
    let answer = match response.error {
        Some(error) => HandshakeResponse::Refused(error),
        None => HandshakeResponse::Accepted,
    };
    Ok((answer, end + 1))
}
