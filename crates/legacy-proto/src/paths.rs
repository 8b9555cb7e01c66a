//! Request paths: `/<resource>/1/` for the handshake, `/<resource>/1/<transport>/<sid>` for
//! a transport.

use std::fmt::{self, Write as _};

/// The protocol revision that appears in every path (`/socket.io/1/`).
pub const PROTOCOL_VERSION: u32 = 1;

/// The resource both 0.9 server and client use unless configured otherwise.
pub const DEFAULT_RESOURCE: &str = "socket.io";

/// The transports of Socket.IO 0.9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyTransport {
    /// `websocket`: one message per frame.
    Websocket,
    /// `flashsocket`: WebSocket through a Flash shim.
    Flashsocket,
    /// `htmlfile`: a forever-iframe (Internet Explorer).
    Htmlfile,
    /// `xhr-polling`: long polling with framed payloads; the client POSTs its messages.
    XhrPolling,
    /// `jsonp-polling`: long polling through `<script>` tags; see [`crate::jsonp`].
    JsonpPolling,
}

impl LegacyTransport {
    /// All transports, in the 0.9 server's default order of preference.
    pub const ALL: [Self; 5] = [
        Self::Websocket,
        Self::Flashsocket,
        Self::Htmlfile,
        Self::XhrPolling,
        Self::JsonpPolling,
    ];

    /// The name used in paths and in the handshake.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Websocket => "websocket",
            Self::Flashsocket => "flashsocket",
            Self::Htmlfile => "htmlfile",
            Self::XhrPolling => "xhr-polling",
            Self::JsonpPolling => "jsonp-polling",
        }
    }

    /// The transport with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

impl fmt::Display for LegacyTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Builds and matches request paths under a resource prefix.
///
/// ```
/// use sio_legacy_proto::{Paths, Route};
///
/// let paths = Paths::default();
/// assert_eq!(paths.handshake(), "/socket.io/1/");
/// assert_eq!(paths.websocket("Fh9E"), "/socket.io/1/websocket/Fh9E");
/// assert_eq!(paths.xhr_polling("Fh9E"), "/socket.io/1/xhr-polling/Fh9E");
/// assert_eq!(paths.jsonp_polling("Fh9E", 0), "/socket.io/1/jsonp-polling/Fh9E?i=0");
/// assert_eq!(
///     paths.route("/socket.io/1/xhr-polling/Fh9E?t=1"),
///     Some(Route::LegacyTransport { transport: "xhr-polling", sid: "Fh9E" })
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Paths {
    /// `/<resource>/1`, without a trailing slash.
    base: String,
}

impl Default for Paths {
    fn default() -> Self {
        Self::new(DEFAULT_RESOURCE)
    }
}

/// What a request path asks for; see [`Paths::route`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route<'a> {
    /// `/<resource>/1/`: a handshake.
    Handshake,
    /// `/<resource>/1/<transport>/<sid>`. Both are the raw path segments (not
    /// percent-decoded, as the 0.9 server compares them).
    LegacyTransport {
        /// The transport name.
        transport: &'a str,
        /// The session id.
        sid: &'a str,
    },
}

impl Paths {
    /// Paths under `resource`; leading and trailing slashes do not matter (`"socket.io"`,
    /// `"/socket.io"` and `"/socket.io/"` are the same).
    pub fn new(resource: &str) -> Self {
        let resource = resource.trim_matches('/');
        let mut base = String::with_capacity(resource.len() + 3);
        if !resource.is_empty() {
            base.push('/');
            base.push_str(resource);
        }
        let _ = write!(base, "/{PROTOCOL_VERSION}");
        Self { base }
    }

    /// The handshake path, `/<resource>/1/`.
    pub fn handshake(&self) -> String {
        format!("{}/", self.base)
    }

    /// The path of `transport` for session `sid`, `/<resource>/1/<transport>/<sid>`.
    /// Characters of `sid` outside `A-Z a-z 0-9 - . _ ~` are percent-encoded (ids the 0.9
    /// server generates have none).
    pub fn transport(&self, transport: &str, sid: &str) -> String {
        let mut out = String::with_capacity(self.base.len() + transport.len() + sid.len() + 2);
        out.push_str(&self.base);
        out.push('/');
        out.push_str(transport);
        out.push('/');
        push_segment(&mut out, sid);
        out
    }

    /// `/<resource>/1/websocket/<sid>`.
    pub fn websocket(&self, sid: &str) -> String {
        self.transport(LegacyTransport::Websocket.as_str(), sid)
    }

    /// `/<resource>/1/xhr-polling/<sid>`.
    pub fn xhr_polling(&self, sid: &str) -> String {
        self.transport(LegacyTransport::XhrPolling.as_str(), sid)
    }

    /// `/<resource>/1/jsonp-polling/<sid>?i=<index>`: the server wraps its answers in
    /// `io.j[<index>](…)`.
    pub fn jsonp_polling(&self, sid: &str, index: u64) -> String {
        let mut out = self.transport(LegacyTransport::JsonpPolling.as_str(), sid);
        let _ = write!(out, "?i={index}");
        out
    }

    /// `/<resource>/1/<transport>/<sid>?disconnect`: forces the session closed at once.
    pub fn disconnect(&self, transport: &str, sid: &str) -> String {
        let mut out = self.transport(transport, sid);
        out.push_str("?disconnect");
        out
    }

    /// What a request path (with or without its query) asks for; `None` when it is not
    /// under this resource and protocol revision or has another shape.
    pub fn route<'p>(&self, path: &'p str) -> Option<Route<'p>> {
        let path = path.split_once('?').map_or(path, |(p, _)| p);
        let rest = path.strip_prefix(self.base.as_str())?;
        if rest.is_empty() || rest == "/" {
            return Some(Route::Handshake);
        }
        let rest = rest.strip_prefix('/')?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (transport, sid) = rest.split_once('/')?;
        if transport.is_empty() || sid.is_empty() || sid.contains('/') {
            return None;
        }
        Some(Route::LegacyTransport { transport, sid })
    }
}

fn push_segment(out: &mut String, segment: &str) {
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources() {
        for r in ["socket.io", "/socket.io", "/socket.io/", "socket.io/"] {
            assert_eq!(Paths::new(r).handshake(), "/socket.io/1/");
        }
        assert_eq!(Paths::new("").handshake(), "/1/");
        assert_eq!(Paths::new("/a/b/").xhr_polling("x"), "/a/b/1/xhr-polling/x");
        assert_eq!(
            Paths::default().disconnect("xhr-polling", "s"),
            "/socket.io/1/xhr-polling/s?disconnect"
        );
        assert_eq!(
            Paths::default().websocket("a+b/c d"),
            "/socket.io/1/websocket/a%2Bb%2Fc%20d"
        );
    }

    #[test]
    fn routes() {
        let p = Paths::default();
        assert_eq!(p.route("/socket.io/1/"), Some(Route::Handshake));
        assert_eq!(p.route("/socket.io/1"), Some(Route::Handshake));
        assert_eq!(p.route("/socket.io/1/?t=123"), Some(Route::Handshake));
        assert_eq!(
            p.route("/socket.io/1/websocket/abc/"),
            Some(Route::LegacyTransport {
                transport: "websocket",
                sid: "abc"
            })
        );
        assert_eq!(p.route("/socket.io/2/"), None);
        assert_eq!(p.route("/socket.io/10/"), None);
        assert_eq!(p.route("/other/1/"), None);
        assert_eq!(p.route("/socket.io/1/websocket"), None);
        assert_eq!(p.route("/socket.io/1/websocket/"), None);
        assert_eq!(p.route("/socket.io/1/websocket/a/b"), None);
        assert_eq!(p.route("/socket.io/1//a"), None);
    }

    #[test]
    fn transports() {
        for t in LegacyTransport::ALL {
            assert_eq!(LegacyTransport::from_name(t.as_str()), Some(t));
            assert_eq!(t.to_string(), t.as_str());
        }
        assert_eq!(LegacyTransport::from_name("polling"), None);
    }
}
