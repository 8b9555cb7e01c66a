//! ASP.NET Core negotiate (TransportProtocols.md): the URLs the client builds and the answer it
//! reads, and the official client's choice of transport from that answer.

use serde::Deserialize;

/// The negotiate version this crate speaks (1: a secret connection token apart from the id).
pub const NEGOTIATE_VERSION: u32 = 1;

/// A transport of ASP.NET Core SignalR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpTransportType {
    /// `WebSockets`: one WebSocket carries both directions.
    WebSockets,
    /// `ServerSentEvents`: an event stream from the server, POST requests to it (text only).
    ServerSentEvents,
    /// `LongPolling`: GET requests poll the server, POST requests send to it.
    LongPolling,
}

impl HttpTransportType {
    /// The name in a negotiate answer.
    pub fn name(self) -> &'static str {
        match self {
            Self::WebSockets => "WebSockets",
            Self::ServerSentEvents => "ServerSentEvents",
            Self::LongPolling => "LongPolling",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::WebSockets, Self::ServerSentEvents, Self::LongPolling]
            .into_iter()
            .find(|t| t.name() == name)
    }

    /// Whether the transport can carry binary frames (server-sent events carry text only).
    pub fn supports(self, format: TransferFormat) -> bool {
        self != Self::ServerSentEvents || format == TransferFormat::Text
    }
}

/// How frames travel: text (the JSON hub protocol) or binary (MessagePack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransferFormat {
    /// `Text`: UTF-8 frames (the JSON hub protocol).
    Text,
    /// `Binary`: binary frames (the MessagePack hub protocol).
    Binary,
}

impl TransferFormat {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "Text" => Some(Self::Text),
            "Binary" => Some(Self::Binary),
            _ => None,
        }
    }
}

/// A transport the server offers, with the formats it offers it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvailableTransport {
    /// `transport`: the transport offered.
    pub transport: HttpTransportType,
    /// `transferFormats`: the formats it is offered in, those this crate does not know left out.
    pub transfer_formats: Vec<TransferFormat>,
}

/// A negotiate answer that opens a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Negotiation {
    /// The public id of the connection.
    pub connection_id: Option<String>,
    /// The secret that goes in `?id=` (version 1 and later).
    pub connection_token: Option<String>,
    /// `negotiateVersion`: the version the server answered in (0 when absent).
    pub negotiate_version: u32,
    /// The transports in the server's order of preference, those this crate does not know
    /// left out.
    pub available_transports: Vec<AvailableTransport>,
    /// The server agreed to stateful reconnect (only when the client asked).
    pub use_stateful_reconnect: bool,
}

impl Negotiation {
    /// What goes in the `id` query parameter: the token, or in version 0 the connection id.
    pub fn url_id(&self) -> Option<&str> {
        if self.negotiate_version >= 1 {
            self.connection_token.as_deref()
        } else {
            self.connection_id.as_deref()
        }
    }
}

/// What a negotiate answer says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NegotiateResponse {
    /// Connect with these parameters.
    Connect(Negotiation),
    /// Negotiate again at `url` (Azure SignalR and the like), with this token from then on.
    Redirect {
        /// `url`: where to negotiate next.
        url: String,
        /// `accessToken`: the bearer token for the requests from then on.
        access_token: Option<String>,
    },
    /// The server refuses the connection.
    Error(String),
    /// A classic ASP.NET SignalR server answered (its answer has `ProtocolVersion`).
    Classic {
        /// `ProtocolVersion`: the classic server's protocol version, e.g. `1.5`.
        protocol_version: String,
    },
}

/// A negotiate answer that is not one.
#[derive(Debug, thiserror::Error)]
pub enum NegotiateError {
    /// The body is not JSON, or not an object of the expected shape.
    #[error("invalid negotiate answer at line {line}, column {column}: {0}", line = .0.line(), column = .0.column())]
    Json(#[source] serde_json::Error),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireTransport {
    transport: String,
    #[serde(default)]
    transfer_formats: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    connection_id: Option<String>,
    connection_token: Option<String>,
    negotiate_version: Option<u32>,
    available_transports: Option<Vec<WireTransport>>,
    use_stateful_reconnect: Option<bool>,
    url: Option<String>,
    access_token: Option<String>,
    error: Option<String>,
    #[serde(rename = "ProtocolVersion")]
    protocol_version: Option<String>,
}

/// Reads a negotiate answer, in the official client's order: an error first, then a classic
/// server, then a redirect, else the connection.
pub fn decode_negotiate_response(body: &[u8]) -> Result<NegotiateResponse, NegotiateError> {
    let wire: Wire = serde_json::from_slice(body).map_err(NegotiateError::Json)?;
    if let Some(error) = wire.error {
        return Ok(NegotiateResponse::Error(error));
    }
    if let Some(protocol_version) = wire.protocol_version {
        return Ok(NegotiateResponse::Classic { protocol_version });
    }
    if let Some(url) = wire.url {
        return Ok(NegotiateResponse::Redirect {
            url,
            access_token: wire.access_token,
        });
    }
    let available_transports = wire
        .available_transports
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| {
            Some(AvailableTransport {
                transport: HttpTransportType::from_name(&t.transport)?,
                transfer_formats: t
                    .transfer_formats
                    .iter()
                    .filter_map(|f| TransferFormat::from_name(f))
                    .collect(),
            })
        })
        .collect();
    Ok(NegotiateResponse::Connect(Negotiation {
        connection_id: wire.connection_id,
        connection_token: wire.connection_token,
        negotiate_version: wire.negotiate_version.unwrap_or(0),
        available_transports,
        use_stateful_reconnect: wire.use_stateful_reconnect.unwrap_or(false),
    }))
}

/// The transports to try, in order: the server's order, keeping those the client allows that
/// carry `format` (the official client's fallback).
pub fn transport_order(
    available: &[AvailableTransport],
    allowed: &[HttpTransportType],
    format: TransferFormat,
) -> Vec<HttpTransportType> {
    available
        .iter()
        .filter(|t| allowed.contains(&t.transport))
        .filter(|t| t.transport.supports(format) && t.transfer_formats.contains(&format))
        .map(|t| t.transport)
        .collect()
}

/// `url` split into the part before the query, the query (without `?`), dropping any fragment.
fn split_url(url: &str) -> (&str, &str) {
    let url = url.split_once('#').map_or(url, |(before, _)| before);
    url.split_once('?').unwrap_or((url, ""))
}

fn query_has(query: &str, key: &str) -> bool {
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == key)
}

/// Appends `key=value` (value percent-encoded) to the query of `url`.
pub fn append_query(url: &str, key: &str, value: &str) -> String {
    let (base, query) = split_url(url);
    let pair: String = form_urlencoded::Serializer::new(String::new())
        .append_pair(key, value)
        .finish();
    if query.is_empty() {
        format!("{base}?{pair}")
    } else {
        format!("{base}?{query}&{pair}")
    }
}

/// The negotiate URL for a hub URL: `negotiate` appended to the path, `negotiateVersion=1` and,
/// when asked, `useStatefulReconnect=true` added unless the query already has them. Also says
/// whether the resulting URL asks for stateful reconnect (the query may say so itself).
pub fn negotiate_url(hub_url: &str, stateful_reconnect: bool) -> (String, bool) {
    let (base, query) = split_url(hub_url);
    let path = if base.ends_with('/') {
        format!("{base}negotiate")
    } else {
        format!("{base}/negotiate")
    };
    let mut url = if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    };
    if !query_has(query, "negotiateVersion") {
        url = append_query(&url, "negotiateVersion", &NEGOTIATE_VERSION.to_string());
    }
    let stateful =
        match form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "useStatefulReconnect") {
            Some((_, v)) => v == "true",
            None => {
                if stateful_reconnect {
                    url = append_query(&url, "useStatefulReconnect", "true");
                }
                stateful_reconnect
            }
        };
    (url, stateful)
}

/// The URL of the connection's transport requests: the hub URL with `id=<token>` when negotiated.
pub fn connect_url(hub_url: &str, id: Option<&str>) -> String {
    let (base, query) = split_url(hub_url);
    let url = if query.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{query}")
    };
    match id {
        Some(id) => append_query(&url, "id", id),
        None => url,
    }
}

/// `http(s)://` turned into `ws(s)://` for the WebSocket transport; `ws(s)://` kept; `None` for
/// any other scheme.
pub fn websocket_url(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        _ => return None,
    };
    Some(format!("{scheme}://{rest}"))
}
