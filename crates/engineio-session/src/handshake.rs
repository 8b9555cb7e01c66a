//! The client's side of the Engine.IO handshake: what to ask, and what an answer means,
//! including the fall-back from revision 4 to 3 that servers of Socket.IO 1.x/2.x need.
//!
//! Shared by every client of the project (the library client, the load generator, `sio
//! probe`), so that they agree on what a server is.

use bytes::Bytes;
use sio_engineio_proto::{
    DecodeError, EncodeError, ErrorCode, ErrorResponse, Handshake, Packet, Revision,
    decode_text_frame, payload,
};

use crate::transport::TransportKind;

/// Why a handshake failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The server answered with an unexpected HTTP status.
    #[error("server answered {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// The server refused this Engine.IO revision (`{"code":5}`).
    #[error("the server does not support Engine.IO {0}")]
    UnsupportedRevision(Revision),
    /// The answer does not decode as Engine.IO.
    #[error("not an Engine.IO handshake: {body}")]
    NotEngineIo {
        /// The start of the answer.
        body: String,
        /// Why it does not decode.
        #[source]
        error: DecodeError,
    },
    /// The answer decodes, but does not start with an open packet.
    #[error("expected an open packet, got {body}")]
    ExpectedOpen {
        /// The start of the answer.
        body: String,
    },
}

/// What a handshake answer means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandshakeOutcome {
    /// The session is open.
    Opened {
        /// The revision the server speaks (may differ from the one asked for).
        revision: Revision,
        /// The open packet's contents.
        handshake: Handshake,
        /// Packets that came with the open packet (Engine.IO 3 servers send the first
        /// Socket.IO packet with it).
        rest: Vec<Packet<'static>>,
    },
    /// Ask again with this revision.
    Retry(Revision),
}

/// The revision to ask for first: the forced one, else 4.
pub fn first_revision(forced: Option<Revision>) -> Revision {
    forced.unwrap_or(Revision::V4)
}

/// The Engine.IO query parameters of a request (`EIO`, `transport`, and `b64` for a v3 client
/// that asks for base64).
pub fn query_params(
    revision: Revision,
    transport: TransportKind,
    force_base64: bool,
) -> Vec<(&'static str, &'static str)> {
    let mut params = vec![
        ("EIO", revision.as_str()),
        ("transport", transport.as_str()),
    ];
    if revision == Revision::V3 && force_base64 {
        params.push(("b64", "1"));
    }
    params
}

/// The start of a body, for error messages.
pub fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body.get(..200).unwrap_or(body)).into_owned()
}

/// The revision a polling body is framed in, judged from its shape: v3 text bodies start
/// with a length and `:`, v3 binary (XHR2) bodies with a 0 or 1 byte; v4 bodies with a packet
/// type digit and no length.
pub fn sniff_revision(body: &[u8]) -> Revision {
    let digits = body.iter().take_while(|b| b.is_ascii_digit()).count();
    let v3 = (digits > 0 && body.get(digits) == Some(&b':')) || matches!(body.first(), Some(0 | 1));
    if v3 { Revision::V3 } else { Revision::V4 }
}

/// Decodes a polling response body of `revision`, all packets or the first error (as Node
/// reads a body). A v3 body is binary (XHR2) when the content type says so, or, without a
/// content type, when it looks so.
pub fn decode_polling_body(
    revision: Revision,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<Vec<Packet<'static>>, DecodeError> {
    let owned = |p: Result<Packet<'_>, DecodeError>| p.map(Packet::into_owned);
    match (revision, content_type) {
        (Revision::V4, _) => payload::decode_v4(body).map(owned).collect(),
        (Revision::V3, None) => payload::decode_v3(body).map(owned).collect(),
        (Revision::V3, Some(content_type))
            if content_type.starts_with("application/octet-stream") =>
        {
            payload::decode_v3_binary(body).map(owned).collect()
        }
        (Revision::V3, Some(_)) => payload::decode_v3_string(body).map(owned).collect(),
    }
}

/// Encodes packets as a polling request body: the bytes and their content type. A v4 text
/// holding the record separator is refused: it would reach the server as several packets.
pub fn encode_polling_body(
    revision: Revision,
    packets: &[Packet<'_>],
    force_base64: bool,
) -> Result<(Bytes, &'static str), EncodeError> {
    match revision {
        Revision::V4 => {
            let mut out = String::new();
            payload::encode_v4(packets, &mut out)?;
            Ok((Bytes::from(out), "text/plain;charset=UTF-8"))
        }
        Revision::V3 => {
            let body = payload::encode_v3(packets, !force_base64);
            let content_type = body.content_type();
            Ok((Bytes::from(body.into_bytes()), content_type))
        }
    }
}

/// Reads the answer to a polling handshake asked with `asked`; `forced` is true when the
/// user fixed the revision (no fall-back then).
pub fn read_polling_answer(
    asked: Revision,
    forced: bool,
    status: u16,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<HandshakeOutcome, HandshakeError> {
    if status != 200 {
        let refused = ErrorResponse::decode(body)
            .ok()
            .and_then(|e| e.error_code())
            == Some(ErrorCode::UnsupportedProtocolVersion);
        if refused {
            if !forced && asked == Revision::V4 {
                return Ok(HandshakeOutcome::Retry(Revision::V3));
            }
            return Err(HandshakeError::UnsupportedRevision(asked));
        }
        return Err(HandshakeError::Status {
            status,
            body: snippet(body),
        });
    }
    // An Engine.IO 3 server answers whatever `EIO` it is asked with its own framing.
    let revision = if !forced && sniff_revision(body) == Revision::V3 {
        Revision::V3
    } else {
        asked
    };
    let mut packets = decode_polling_body(revision, body, content_type)
        .map_err(|error| HandshakeError::NotEngineIo {
            body: snippet(body),
            error,
        })?
        .into_iter();
    match packets.next() {
        Some(Packet::Open(handshake)) => Ok(HandshakeOutcome::Opened {
            revision,
            handshake,
            rest: packets.collect(),
        }),
        _ => Err(HandshakeError::ExpectedOpen {
            body: snippet(body),
        }),
    }
}

/// Reads the first text frame of a WebSocket opened with `asked`. Only Engine.IO 4 servers
/// announce `maxPayload`: without it (and no forced revision) the server is taken as v3.
pub fn read_websocket_open(
    asked: Revision,
    forced: bool,
    frame: &str,
) -> Result<(Revision, Handshake), HandshakeError> {
    match decode_text_frame(frame, asked) {
        Ok(Packet::Open(handshake)) => {
            let revision = if !forced && handshake.max_payload.is_none() {
                Revision::V3
            } else {
                asked
            };
            Ok((revision, handshake))
        }
        Ok(_) => Err(HandshakeError::ExpectedOpen {
            body: snippet(frame.as_bytes()),
        }),
        Err(error) => Err(HandshakeError::NotEngineIo {
            body: snippet(frame.as_bytes()),
            error,
        }),
    }
}

/// Whether a WebSocket handshake refused with `asked` is worth retrying with v3 (a v4-only
/// server refuses `EIO=3` and a v3-only one `EIO=4`, both at the HTTP level).
pub fn retry_websocket_with(asked: Revision, forced: bool) -> Option<Revision> {
    (!forced && asked == Revision::V4).then_some(Revision::V3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v4_answer_opens_a_v4_session() {
        let body = br#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;
        let outcome = read_polling_answer(Revision::V4, false, 200, body, None);
        let Ok(HandshakeOutcome::Opened {
            revision,
            handshake,
            rest,
        }) = outcome
        else {
            panic!("{outcome:?}");
        };
        assert_eq!(revision, Revision::V4);
        assert_eq!(handshake.sid, "abc");
        assert!(rest.is_empty());
    }

    #[test]
    fn a_v3_server_answering_in_its_own_framing_is_taken_as_v3_with_its_first_packet() {
        let open = r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":5000}"#;
        let body = format!("{}:{open}2:40", open.len());
        let outcome = read_polling_answer(Revision::V4, false, 200, body.as_bytes(), None);
        let Ok(HandshakeOutcome::Opened { revision, rest, .. }) = outcome else {
            panic!("{outcome:?}");
        };
        assert_eq!(revision, Revision::V3);
        assert_eq!(rest, vec![Packet::text("0")]);
        // Forced to v4, the same answer is an error.
        assert!(matches!(
            read_polling_answer(Revision::V4, true, 200, body.as_bytes(), None),
            Err(HandshakeError::NotEngineIo { .. })
        ));
    }

    #[test]
    fn a_refused_revision_is_retried_once_unless_forced() {
        let body = br#"{"code":5,"message":"Unsupported protocol version"}"#;
        assert_eq!(
            read_polling_answer(Revision::V4, false, 400, body, None),
            Ok(HandshakeOutcome::Retry(Revision::V3))
        );
        assert_eq!(
            read_polling_answer(Revision::V3, false, 400, body, None),
            Err(HandshakeError::UnsupportedRevision(Revision::V3))
        );
        assert_eq!(
            read_polling_answer(Revision::V4, true, 400, body, None),
            Err(HandshakeError::UnsupportedRevision(Revision::V4))
        );
    }

    #[test]
    fn other_answers_are_typed_errors() {
        assert!(matches!(
            read_polling_answer(Revision::V4, false, 404, b"Not Found", None),
            Err(HandshakeError::Status { status: 404, .. })
        ));
        assert!(matches!(
            read_polling_answer(Revision::V4, false, 200, b"4hello", None),
            Err(HandshakeError::ExpectedOpen { .. })
        ));
        assert!(matches!(
            read_polling_answer(Revision::V4, false, 200, b"<html>", None),
            Err(HandshakeError::NotEngineIo { .. })
        ));
    }

    #[test]
    fn a_websocket_open_without_max_payload_is_v3() {
        let v3 = r#"0{"sid":"a","upgrades":[],"pingInterval":1,"pingTimeout":1}"#;
        assert_eq!(
            read_websocket_open(Revision::V4, false, v3).map(|(r, _)| r),
            Ok(Revision::V3)
        );
        assert_eq!(
            read_websocket_open(Revision::V4, true, v3).map(|(r, _)| r),
            Ok(Revision::V4)
        );
        assert!(read_websocket_open(Revision::V4, false, "40").is_err());
    }

    #[test]
    fn the_framing_tells_the_revision() {
        assert_eq!(sniff_revision(b"96:0{}"), Revision::V3);
        assert_eq!(sniff_revision(&[0, 1, 255, b'4']), Revision::V3);
        assert_eq!(sniff_revision(b"0{\"sid\":1}"), Revision::V4);
        assert_eq!(sniff_revision(b"<html>"), Revision::V4);
        assert_eq!(sniff_revision(b""), Revision::V4);
    }

    #[test]
    fn query_params_ask_for_base64_only_in_v3() {
        assert_eq!(
            query_params(Revision::V3, TransportKind::Polling, true),
            [("EIO", "3"), ("transport", "polling"), ("b64", "1")]
        );
        assert_eq!(
            query_params(Revision::V4, TransportKind::WebSocket, true),
            [("EIO", "4"), ("transport", "websocket")]
        );
    }
}
