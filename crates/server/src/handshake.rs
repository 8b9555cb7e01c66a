//! What a handler can know about how a socket connected.

use std::{net::SocketAddr, sync::Arc, time::SystemTime};

use http::{HeaderMap, Uri};
use sio_socketio_proto::Value;

/// The handshake details of a socket (Node's `socket.handshake`).
#[derive(Debug, Clone)]
pub struct Handshake {
    /// Headers of the request that opened the connection.
    pub headers: Arc<HeaderMap>,
    /// When the connection was opened.
    pub time: SystemTime,
    /// The peer's address, when known.
    pub address: Option<SocketAddr>,
    /// Whether the connection used TLS, as far as the server knows.
    pub secure: bool,
    /// The request URI of the connection (path and query).
    pub url: Uri,
    /// The auth payload of the namespace CONNECT (for Socket.IO 2.x clients: the namespace's query).
    pub auth: Value,
}

impl Handshake {
    /// The auth payload as a Rust type.
    pub fn auth_as<T: serde::de::DeserializeOwned>(
        &self,
    ) -> Result<T, sio_socketio_proto::ArgsError> {
        sio_socketio_proto::from_value(self.auth.clone())
    }

    /// A query parameter of the connection URL (percent-decoded).
    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.url.query()?.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }
}

/// Turns a query string (`a=1&b=x`) into a map value, as Node does for a 2.x client's namespace query.
pub(crate) fn query_to_value(query: &str) -> Value {
    Value::Map(
        form_urlencoded::parse(query.as_bytes())
            .map(|(key, value)| (Value::from(key.as_ref()), Value::from(value.as_ref())))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_becomes_a_map() {
        let v = query_to_value("token=abc%20d&x=");
        assert_eq!(
            v,
            Value::Map(vec![
                (Value::from("token"), Value::from("abc d")),
                (Value::from("x"), Value::from("")),
            ])
        );
    }
}
