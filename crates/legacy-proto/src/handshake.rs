//! The handshake answer: `<sid>:<heartbeat timeout>:<close timeout>:<transports>`.

use std::fmt;
use std::time::Duration;

use crate::error::DecodeError;
use crate::message::parse_u64;

/// The body of a successful `GET /socket.io/1/` answer, e.g.
/// `Fh9EeeuAekJ_tQtguLVj:60:60:websocket,htmlfile,xhr-polling,jsonp-polling`.
///
/// ```
/// use sio_legacy_proto::Handshake;
///
/// let hs = Handshake::parse("4d4f185e96a7b:15:10:websocket,xhr-polling")?;
/// assert_eq!(hs.sid, "4d4f185e96a7b");
/// assert_eq!(hs.heartbeat_timeout, Some(15));
/// assert_eq!(hs.close_timeout, Some(10));
/// assert_eq!(hs.transports, ["websocket", "xhr-polling"]);
/// assert_eq!(hs.to_string(), "4d4f185e96a7b:15:10:websocket,xhr-polling");
/// # Ok::<(), sio_legacy_proto::DecodeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Handshake {
    /// The session id, used in every transport URL.
    pub sid: String,
    /// Seconds within which a heartbeat must arrive; `None` (empty field): no heartbeats.
    pub heartbeat_timeout: Option<u64>,
    /// Seconds after a transport closes before the session is dropped; `None`: empty field.
    pub close_timeout: Option<u64>,
    /// Transports the server offers, in its order of preference.
    pub transports: Vec<String>,
}

impl Handshake {
    /// Parses a handshake answer.
    ///
    /// Exactly four fields; the sid must not be empty; the timeouts are decimal seconds or
    /// empty; the transport list may be empty but holds no empty names.
    pub fn parse(input: &str) -> Result<Self, DecodeError> {
        let mut fields = input.splitn(5, ':');
        let mut next = || fields.next();
        let (Some(sid), Some(heartbeat), Some(close), Some(transports), None) =
            (next(), next(), next(), next(), next())
        else {
            return Err(DecodeError::HandshakeFields {
                found: input.split(':').count(),
            });
        };
        if sid.is_empty() {
            return Err(DecodeError::HandshakeSid);
        }
        let heartbeat_offset = sid.len() + 1;
        let close_offset = heartbeat_offset + heartbeat.len() + 1;
        let transports_offset = close_offset + close.len() + 1;
        let timeout =
            |text: &str, offset: usize, field: &'static str| -> Result<Option<u64>, DecodeError> {
                if text.is_empty() {
                    return Ok(None);
                }
                match parse_u64(text, offset, field)? {
                    Some(n) => Ok(Some(n)),
                    None => Err(DecodeError::HandshakeTimeout { field, offset }),
                }
            };
        let heartbeat_timeout = timeout(heartbeat, heartbeat_offset, "heartbeat timeout")?;
        let close_timeout = timeout(close, close_offset, "close timeout")?;
        let mut names = Vec::new();
        if !transports.is_empty() {
            let mut offset = transports_offset;
            for name in transports.split(',') {
                if name.is_empty() {
                    return Err(DecodeError::HandshakeTransport { offset });
                }
                names.push(name.to_owned());
                offset += name.len() + 1;
            }
        }
        Ok(Self {
            sid: sid.to_owned(),
            heartbeat_timeout,
            close_timeout,
            transports: names,
        })
    }

    /// Appends the answer's wire form.
    pub fn encode(&self, out: &mut String) {
        use std::fmt::Write as _;
        let _ = write!(out, "{self}");
    }

    /// The heartbeat timeout as a duration.
    pub fn heartbeat_timeout_duration(&self) -> Option<Duration> {
        self.heartbeat_timeout.map(Duration::from_secs)
    }

    /// The close timeout as a duration.
    pub fn close_timeout_duration(&self) -> Option<Duration> {
        self.close_timeout.map(Duration::from_secs)
    }

    /// Whether the server offers `transport` (e.g. `"websocket"`).
    pub fn offers(&self, transport: &str) -> bool {
        self.transports.iter().any(|t| t == transport)
    }
}

impl fmt::Display for Handshake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sid)?;
        f.write_str(":")?;
        if let Some(t) = self.heartbeat_timeout {
            write!(f, "{t}")?;
        }
        f.write_str(":")?;
        if let Some(t) = self.close_timeout {
            write!(f, "{t}")?;
        }
        f.write_str(":")?;
        for (i, t) in self.transports.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(t)?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Handshake {
    type Err = DecodeError;

    fn from_str(s: &str) -> Result<Self, DecodeError> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples() {
        let hs = Handshake::parse(
            "Fh9EeeuAekJ_tQtguLVj:60:60:websocket,htmlfile,xhr-polling,jsonp-polling",
        )
        .unwrap();
        assert_eq!(hs.sid, "Fh9EeeuAekJ_tQtguLVj");
        assert_eq!(
            hs.heartbeat_timeout_duration(),
            Some(Duration::from_secs(60))
        );
        assert_eq!(hs.close_timeout_duration(), Some(Duration::from_secs(60)));
        assert_eq!(hs.transports.len(), 4);
        assert!(hs.offers("jsonp-polling"));
        assert!(!hs.offers("flashsocket"));

        let hs = Handshake::parse("abc:::").unwrap();
        assert_eq!(hs.heartbeat_timeout, None);
        assert_eq!(hs.close_timeout, None);
        assert!(hs.transports.is_empty());
        assert_eq!(hs.to_string(), "abc:::");
    }

    #[test]
    fn errors() {
        assert!(matches!(
            Handshake::parse("abc:1:2"),
            Err(DecodeError::HandshakeFields { found: 3 })
        ));
        assert!(matches!(
            Handshake::parse(""),
            Err(DecodeError::HandshakeFields { found: 1 })
        ));
        assert!(matches!(
            Handshake::parse("a:1:2:ws:x:y:z"),
            Err(DecodeError::HandshakeFields { found: 7 })
        ));
        assert!(matches!(
            Handshake::parse(":1:2:ws"),
            Err(DecodeError::HandshakeSid)
        ));
        assert!(matches!(
            Handshake::parse("ab:x:2:ws"),
            Err(DecodeError::HandshakeTimeout {
                field: "heartbeat timeout",
                offset: 3
            })
        ));
        assert!(matches!(
            Handshake::parse("ab:1:-2:ws"),
            Err(DecodeError::HandshakeTimeout {
                field: "close timeout",
                offset: 5
            })
        ));
        assert!(matches!(
            Handshake::parse("ab:1:99999999999999999999:ws"),
            Err(DecodeError::NumberOverflow { offset: 5, .. })
        ));
        assert!(matches!(
            Handshake::parse("ab:1:2:ws,,xhr-polling"),
            Err(DecodeError::HandshakeTransport { offset: 10 })
        ));
        assert!(matches!(
            Handshake::parse("ab:1:2:ws,"),
            Err(DecodeError::HandshakeTransport { offset: 10 })
        ));
        assert!(Handshake::parse("ab:1:2:€").is_ok());
    }
}
