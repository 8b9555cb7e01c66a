use serde::Deserialize;

use crate::{DecodeError, json};

/// The JSON payload of an `open` packet.
///
/// Encoded with its keys in exactly this order, as Node does and as the compliance suite
/// checks: `{"sid":…,"upgrades":[…],"pingInterval":N,"pingTimeout":N,"maxPayload":N}`.
/// `maxPayload` is written only when set: V3 servers do not send it.
///
/// Decoding tolerates unknown keys, a missing `upgrades` (the V3 specification's
/// WebSocket-only example has none) and a missing `maxPayload`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// The session id, sent back by the client as the `sid` query parameter.
    pub sid: String,
    /// Transports the session may upgrade to: `["websocket"]` over polling, `[]` over
    /// WebSocket.
    #[serde(default)]
    pub upgrades: Vec<String>,
    /// Milliseconds between pings (sent by the server in V4, by the client in V3).
    pub ping_interval: u64,
    /// Milliseconds to wait for the pong (V4) or for any packet (V3).
    pub ping_timeout: u64,
    /// Largest polling body the server accepts, in bytes (V4 only).
    #[serde(default)]
    pub max_payload: Option<u64>,
}

impl Handshake {
    /// Appends the handshake's JSON to `out`.
    pub fn encode_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        out.push_str("{\"sid\":");
        json::write_string(out, &self.sid, false);
        out.push_str(",\"upgrades\":[");
        for (i, upgrade) in self.upgrades.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::write_string(out, upgrade, false);
        }
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "],\"pingInterval\":{},\"pingTimeout\":{}",
            self.ping_interval, self.ping_timeout
        );
        if let Some(max) = self.max_payload {
            let _ = write!(out, ",\"maxPayload\":{max}");
        }
        out.push('}');
    }

    /// The handshake's JSON.
    ///
    /// ```
    /// use sio_engineio_proto::Handshake;
    /// let hs = Handshake {
    ///     sid: "lv_VI97HAXpY6yYWAAAC".into(),
    ///     upgrades: vec!["websocket".into()],
    ///     ping_interval: 25000,
    ///     ping_timeout: 20000,
    ///     max_payload: Some(1000000),
    /// };
    /// assert_eq!(
    ///     hs.to_json(),
    ///     r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#
    /// );
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(96 + self.sid.len());
        self.encode_json(&mut out);
        out
    }

    /// Parses the JSON of an open packet.
    pub fn from_json(json: &str) -> Result<Handshake, DecodeError> {
        Self::decode_at(json, 0)
    }

    /// `offset` is where the JSON starts in the caller's input, for error reports.
    pub(crate) fn decode_at(json: &str, offset: usize) -> Result<Handshake, DecodeError> {
        // serde_json bounds nesting (depth 128), so hostile JSON cannot exhaust the stack.
        serde_json::from_str(json).map_err(|e| DecodeError::InvalidHandshake {
            offset,
            reason: e.to_string(),
        })
    }
}

/// The error codes of a Node Engine.IO server's handshake and transport errors.
///
/// A server answers them with HTTP 400 (403 for [`ErrorCode::Forbidden`]) and the body
/// [`ErrorCode::to_json`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ErrorCode {
    /// 0: the `transport` query parameter is missing or not enabled.
    UnknownTransport = 0,
    /// 1: the `sid` is not a live session (or not on this transport).
    UnknownSid = 1,
    /// 2: a handshake with a method other than GET.
    BadHandshakeMethod = 2,
    /// 3: any other malformed request.
    BadRequest = 3,
    /// 4: refused by the application (`allowRequest`).
    Forbidden = 4,
    /// 5: the `EIO` revision is not supported.
    UnsupportedProtocolVersion = 5,
}

impl ErrorCode {
    /// Every code, in order.
    pub const ALL: [ErrorCode; 6] = [
        ErrorCode::UnknownTransport,
        ErrorCode::UnknownSid,
        ErrorCode::BadHandshakeMethod,
        ErrorCode::BadRequest,
        ErrorCode::Forbidden,
        ErrorCode::UnsupportedProtocolVersion,
    ];

    /// The numeric code (the `code` of the JSON body).
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The code for a number, if it is one.
    pub fn from_code(code: u64) -> Option<ErrorCode> {
        ErrorCode::ALL
            .into_iter()
            .find(|c| u64::from(c.code()) == code)
    }

    /// The message Node sends with the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::UnknownTransport => "Transport unknown",
            ErrorCode::UnknownSid => "Session ID unknown",
            ErrorCode::BadHandshakeMethod => "Bad handshake method",
            ErrorCode::BadRequest => "Bad request",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    /// The HTTP status of the answer: 403 for `Forbidden`, 400 otherwise.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Forbidden => 403,
            _ => 400,
        }
    }

    /// The JSON body of the answer, as Node writes it.
    ///
    /// ```
    /// use sio_engineio_proto::ErrorCode;
    /// assert_eq!(
    ///     ErrorCode::UnsupportedProtocolVersion.to_json(),
    ///     r#"{"code":5,"message":"Unsupported protocol version"}"#
    /// );
    /// ```
    pub fn to_json(self) -> String {
        format!(
            "{{\"code\":{},\"message\":\"{}\"}}",
            self.code(),
            self.message()
        )
    }
}

/// An error answer as a client receives it: `{"code":N,"message":"…"}`.
///
/// The message may differ from [`ErrorCode::message`]: Node lets middlewares set their own.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
pub struct ErrorResponse {
    /// The numeric code.
    pub code: u64,
    /// The human-readable message.
    pub message: String,
}

impl ErrorResponse {
    /// Parses an error body.
    pub fn decode(body: &[u8]) -> Result<ErrorResponse, DecodeError> {
        serde_json::from_slice(body).map_err(|e| DecodeError::InvalidErrorResponse {
            reason: e.to_string(),
        })
    }

    /// The known code, if it is one.
    pub fn error_code(&self) -> Option<ErrorCode> {
        ErrorCode::from_code(self.code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_handshake_without_max_payload() {
        let json = r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}"#;
        let hs = Handshake::from_json(json).unwrap();
        assert_eq!(hs.max_payload, None);
        assert_eq!(hs.to_json(), json);
    }

    #[test]
    fn v3_websocket_only_handshake_has_no_upgrades() {
        // From the V3 specification's "Sample session with WebSocket only".
        let hs = Handshake::from_json(
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","pingInterval":25000,"pingTimeout":5000}"#,
        )
        .unwrap();
        assert!(hs.upgrades.is_empty());
        assert_eq!(hs.ping_timeout, 5000);
    }

    #[test]
    fn unknown_keys_are_ignored_and_sid_is_escaped() {
        let hs = Handshake::from_json(
            r#"{"sid":"a\"b","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3,"x":[[1]]}"#,
        )
        .unwrap();
        assert_eq!(hs.sid, "a\"b");
        assert_eq!(
            hs.to_json(),
            r#"{"sid":"a\"b","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}"#
        );
    }

    #[test]
    fn bad_handshakes() {
        for json in [
            "",
            "{",
            "[]",
            r#"{"sid":1,"pingInterval":1,"pingTimeout":2}"#,
            r#"{"sid":"x","pingInterval":-1,"pingTimeout":2}"#,
            r#"{"sid":"x","pingInterval":1.5,"pingTimeout":2}"#,
            r#"{"sid":"x","pingTimeout":2}"#,
            r#"{"sid":"x","pingInterval":1,"pingTimeout":2} x"#,
            r#"{"sid":"x","sid":"y","pingInterval":1,"pingTimeout":2}"#,
        ] {
            let err = Handshake::decode_at(json, 1).unwrap_err();
            assert!(
                matches!(err, DecodeError::InvalidHandshake { offset: 1, .. }),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn deep_nesting_does_not_recurse() {
        // serde_json skips unknown values without recursion, and bounds the depth of
        // values it does read: neither can exhaust the stack.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let json = format!(r#"{{"sid":"x","pingInterval":1,"pingTimeout":2,"deep":{deep}}}"#);
        assert_eq!(Handshake::from_json(&json).unwrap().sid, "x");
        let json = format!(r#"{{"sid":"x","pingInterval":1,"pingTimeout":2,"upgrades":{deep}}}"#);
        assert!(Handshake::from_json(&json).is_err());
    }

    #[test]
    fn error_codes_as_node_sends_them() {
        let expected = [
            (0, "Transport unknown", 400),
            (1, "Session ID unknown", 400),
            (2, "Bad handshake method", 400),
            (3, "Bad request", 400),
            (4, "Forbidden", 403),
            (5, "Unsupported protocol version", 400),
        ];
        for (code, (n, message, status)) in ErrorCode::ALL.into_iter().zip(expected) {
            assert_eq!(code.code(), n);
            assert_eq!(code.message(), message);
            assert_eq!(code.http_status(), status);
            assert_eq!(ErrorCode::from_code(u64::from(n)), Some(code));
            let body = code.to_json();
            assert_eq!(body, format!(r#"{{"code":{n},"message":"{message}"}}"#));
            let back = ErrorResponse::decode(body.as_bytes()).unwrap();
            assert_eq!(back.error_code(), Some(code));
            assert_eq!(back.message, message);
        }
        assert_eq!(ErrorCode::from_code(6), None);
        assert!(matches!(
            ErrorResponse::decode(b"Bad Request"),
            Err(DecodeError::InvalidErrorResponse { .. })
        ));
    }
}
