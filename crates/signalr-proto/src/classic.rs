//! Classic ASP.NET SignalR 2.x: the negotiate answer, the URLs of its requests, the envelopes the
//! server sends (`{"C":…,"M":[…]}`), hub calls both ways (`{"H","M","A","I"}`) and their results
//! (`{"I","R","E","P"}`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::value::Value;

/// The client protocol this crate announces (that of the jQuery client 2.4).
pub const CLASSIC_CLIENT_PROTOCOL: &str = "2.1";

/// A classic payload that is not one.
#[derive(Debug, thiserror::Error)]
pub enum ClassicError {
    /// The payload is not JSON, or not an object of the expected shape.
    #[error("invalid classic SignalR JSON at line {line}, column {column}: {source}", line = .source.line(), column = .source.column())]
    Json {
        /// What the JSON parser refused.
        #[source]
        source: serde_json::Error,
    },
    /// A frame longer than the decoder's limit.
    #[error("a classic SignalR message of {len} bytes is over the {max}-byte limit")]
    TooLarge {
        /// The frame's length in bytes.
        len: usize,
        /// The limit in bytes.
        max: usize,
    },
}

fn json_error(source: serde_json::Error) -> ClassicError {
    ClassicError::Json { source }
}

/// The answer of `GET …/negotiate`.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct ClassicNegotiation {
    /// `Url`: the server's path of the SignalR endpoint (e.g. `/signalr`).
    pub url: Option<String>,
    /// `ConnectionToken`: the secret that goes in `connectionToken=` on every later request.
    pub connection_token: Option<String>,
    /// `ConnectionId`: the public id of the connection.
    pub connection_id: Option<String>,
    /// `KeepAliveTimeout`: seconds; `None`: the server sends no keep-alives.
    pub keep_alive_timeout: Option<f64>,
    /// `DisconnectTimeout`: seconds the server keeps a connection whose transport dropped.
    pub disconnect_timeout: Option<f64>,
    /// `ConnectionTimeout`: seconds the server holds a long poll open.
    pub connection_timeout: Option<f64>,
    /// `TryWebSockets`: whether the server accepts the WebSocket transport.
    pub try_web_sockets: Option<bool>,
    /// `ProtocolVersion`: the protocol the server speaks, e.g. `1.5`.
    pub protocol_version: Option<String>,
    /// `TransportConnectTimeout`: seconds the client waits for a transport to connect.
    pub transport_connect_timeout: Option<f64>,
    /// `LongPollDelay`: seconds the client waits between long polls.
    pub long_poll_delay: Option<f64>,
    /// `RedirectUrl` (protocol 2.0 and later): negotiate again there, with `access_token`.
    pub redirect_url: Option<String>,
    /// `AccessToken`: the bearer token for the redirected negotiate and the requests after it.
    pub access_token: Option<String>,
    /// `Error`: the server refuses the connection with this message.
    pub error: Option<String>,
}

/// Reads a classic negotiate answer.
pub fn decode_classic_negotiate(body: &[u8]) -> Result<ClassicNegotiation, ClassicError> {
    serde_json::from_slice(body).map_err(json_error)
}

/// A classic transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClassicTransport {
    /// `webSockets`.
    WebSockets,
    /// `serverSentEvents`.
    ServerSentEvents,
    /// `foreverFrame`: browser-only (a hidden iframe); named so it can be reported as unsupported.
    ForeverFrame,
    /// `longPolling`.
    LongPolling,
}

impl ClassicTransport {
    /// The name in the `transport` query parameter.
    pub fn name(self) -> &'static str {
        match self {
            Self::WebSockets => "webSockets",
            Self::ServerSentEvents => "serverSentEvents",
            Self::ForeverFrame => "foreverFrame",
            Self::LongPolling => "longPolling",
        }
    }
}

/// The `connectionData` parameter: the hubs the client uses, lower-cased as the jQuery client
/// sends them.
pub fn connection_data<'a>(hubs: impl IntoIterator<Item = &'a str>) -> String {
    #[derive(Serialize)]
    struct Hub {
        name: String,
    }
    let hubs: Vec<Hub> = hubs
        .into_iter()
        .map(|h| Hub {
            name: h.to_lowercase(),
        })
        .collect();
    serde_json::to_string(&hubs).unwrap_or_else(|_| "[]".to_owned())
}

/// The query of a classic request.
#[derive(Debug, Clone, Default)]
pub struct ClassicQuery<'a> {
    /// `transport`: the transport the request is for.
    pub transport: Option<ClassicTransport>,
    /// `connectionToken`: the token from the negotiate answer.
    pub connection_token: Option<&'a str>,
    /// `connectionData`: the hubs, as [`connection_data`] writes them.
    pub connection_data: Option<&'a str>,
    /// `messageId`, on `/reconnect` and `/poll`: the last message cursor `C`.
    pub message_id: Option<&'a str>,
    /// `groupsToken`: the groups token `G` of the last envelope, on `/reconnect` and `/poll`.
    pub groups_token: Option<&'a str>,
    /// `tid`: a cache-busting counter, as the jQuery client adds to `/connect`.
    pub tid: Option<u32>,
}

/// `{base}/{action}?clientProtocol=…&transport=…&connectionData=…&connectionToken=…`: the URL of
/// `negotiate`, `connect`, `reconnect`, `start`, `send`, `poll`, `abort` (`base` is the
/// `/signalr` URL, its own query kept).
pub fn classic_url(base: &str, action: &str, query: &ClassicQuery<'_>) -> String {
    let (path, own_query) = base.split_once('?').unwrap_or((base, ""));
    let mut url = if path.ends_with('/') {
        format!("{path}{action}")
    } else {
        format!("{path}/{action}")
    };
    let mut pairs = form_urlencoded::Serializer::new(String::new());
    pairs.append_pair("clientProtocol", CLASSIC_CLIENT_PROTOCOL);
    if let Some(t) = query.transport {
        pairs.append_pair("transport", t.name());
    }
    if let Some(data) = query.connection_data {
        pairs.append_pair("connectionData", data);
    }
    if let Some(token) = query.connection_token {
        pairs.append_pair("connectionToken", token);
    }
    if let Some(id) = query.message_id {
        pairs.append_pair("messageId", id);
    }
    if let Some(groups) = query.groups_token {
        pairs.append_pair("groupsToken", groups);
    }
    if let Some(tid) = query.tid {
        pairs.append_pair("tid", &tid.to_string());
    }
    url.push('?');
    url.push_str(&pairs.finish());
    if !own_query.is_empty() {
        url.push('&');
        url.push_str(own_query);
    }
    url
}

/// The form body of `POST …/send` (and of `/poll`'s cursor fields): `data=<JSON>` url-encoded.
pub fn classic_send_body(json: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("data", json)
        .finish()
}

/// A server-to-client hub call carried in an envelope's `M`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicHubCall {
    /// The hub name (`H`), as the server spells it.
    pub hub: String,
    /// The client method (`M`).
    pub method: String,
    /// `A`.
    pub arguments: Vec<Value>,
    /// `S`: the hub state the server changed, if any.
    pub state: Option<Value>,
}

/// One entry of an envelope's `M`.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassicItem {
    /// A hub calls a client method.
    HubCall(ClassicHubCall),
    /// A message of a persistent connection (not a hub): any JSON value.
    Raw(Value),
}

/// An envelope (`PersistentResponse`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassicEnvelope {
    /// `C`: the cursor to send back as `messageId` on reconnect and poll.
    pub cursor: Option<String>,
    /// `S:1`: the transport is initialized (the first envelope).
    pub initialized: bool,
    /// `M`: the messages, in order.
    pub messages: Vec<ClassicItem>,
    /// `G`: the groups token to send back on reconnect.
    pub groups_token: Option<String>,
    /// `T:1`: the server wants the client to reconnect.
    pub reconnect: bool,
    /// `L`: milliseconds to wait before the next long poll.
    pub long_poll_delay: Option<f64>,
    /// `E`: the server stops the connection with this error.
    pub error: Option<String>,
}

/// Progress of a hub call (`P`): `{"I":"2","D":50}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassicProgress {
    /// `I`: the id of the call the progress is for.
    pub invocation_id: String,
    /// `D`: the progress value (JSON `null` when absent).
    pub data: Value,
}

/// The answer to a client-to-server hub call.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassicHubResult {
    /// `I`: the call's id (for progress, `P|<id>`).
    pub invocation_id: String,
    /// `R`: the method's return value; `None` when it returned nothing.
    pub result: Option<Value>,
    /// `E`: the method failed with this message.
    pub error: Option<String>,
    /// `H`: the error was thrown as a `HubException` (its `D` is meant for the caller).
    pub hub_error: bool,
    /// `D`: the data of a `HubException`.
    pub error_data: Option<Value>,
    /// `P`: a progress report instead of the end of the call.
    pub progress: Option<ClassicProgress>,
    /// `S`: the hub state the server changed, if any.
    pub state: Option<Value>,
}

/// What one classic frame (a WebSocket message, an SSE event, a poll body) holds.
#[derive(Debug, Clone, PartialEq)]
pub enum ClassicFrame {
    /// `{}`.
    KeepAlive,
    /// Messages from the server (a `PersistentResponse`).
    Envelope(ClassicEnvelope),
    /// The answer to one of the client's hub calls.
    HubResult(ClassicHubResult),
}

#[derive(Deserialize)]
struct WireProgress<'a> {
    #[serde(rename = "I", deserialize_with = "id_text")]
    id: String,
    #[serde(rename = "D", borrow, default)]
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct WireFrame<'a> {
    #[serde(rename = "C")]
    cursor: Option<String>,
    #[serde(rename = "S", borrow)]
    state_or_init: Option<&'a RawValue>,
    #[serde(rename = "M", borrow)]
    messages: Option<Vec<&'a RawValue>>,
    #[serde(rename = "G")]
    groups: Option<String>,
    #[serde(rename = "T", borrow)]
    reconnect_or_trace: Option<&'a RawValue>,
    #[serde(rename = "L")]
    long_poll_delay: Option<f64>,
    #[serde(rename = "E")]
    error: Option<String>,
    #[serde(rename = "I", default, deserialize_with = "opt_id_text")]
    id: Option<String>,
    #[serde(rename = "R", borrow, default, deserialize_with = "present")]
    result: Option<&'a RawValue>,
    #[serde(rename = "H")]
    hub_error: Option<bool>,
    #[serde(rename = "D", borrow)]
    error_data: Option<&'a RawValue>,
    #[serde(rename = "P", borrow)]
    progress: Option<WireProgress<'a>>,
}

#[derive(Deserialize)]
struct WireCall<'a> {
    #[serde(rename = "H")]
    hub: String,
    #[serde(rename = "M")]
    method: String,
    #[serde(rename = "A", borrow, default)]
    arguments: Vec<&'a RawValue>,
    #[serde(rename = "S", borrow)]
    state: Option<&'a RawValue>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<&'de RawValue>, D::Error> {
    <&RawValue>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Text(String),
    Number(u64),
}

fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Id::deserialize(d)? {
        Id::Text(t) => t,
        Id::Number(n) => n.to_string(),
    })
}

fn opt_id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Id>::deserialize(d)?.map(|id| match id {
        Id::Text(t) => t,
        Id::Number(n) => n.to_string(),
    }))
}

fn owned(raw: &RawValue) -> Value {
    Value::Json(raw.to_owned())
}

/// Reads one classic frame of at most `max_len` bytes.
pub fn decode_classic_frame(frame: &[u8], max_len: usize) -> Result<ClassicFrame, ClassicError> {
    if frame.len() > max_len {
        return Err(ClassicError::TooLarge {
            len: frame.len(),
            max: max_len,
        });
    }
    let wire: WireFrame<'_> = serde_json::from_slice(frame).map_err(json_error)?;
    if let Some(invocation_id) = wire.id {
        return Ok(ClassicFrame::HubResult(ClassicHubResult {
            invocation_id,
            result: wire.result.map(owned),
            error: wire.error,
            hub_error: wire.hub_error.unwrap_or(false),
            error_data: wire.error_data.map(owned),
            progress: wire.progress.map(|p| ClassicProgress {
                invocation_id: p.id,
                data: p.data.map_or_else(Value::json_null, owned),
            }),
            state: wire.state_or_init.map(owned),
        }));
    }
    let is_one = |raw: Option<&RawValue>| raw.is_some_and(|r| r.get().trim() == "1");
    let envelope = ClassicEnvelope {
        cursor: wire.cursor,
        initialized: is_one(wire.state_or_init),
        messages: wire
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(
                |raw| match serde_json::from_str::<WireCall<'_>>(raw.get()) {
                    Ok(call) => ClassicItem::HubCall(ClassicHubCall {
                        hub: call.hub,
                        method: call.method,
                        arguments: call.arguments.into_iter().map(owned).collect(),
                        state: call.state.map(owned),
                    }),
                    Err(_) => ClassicItem::Raw(owned(raw)),
                },
            )
            .collect(),
        groups_token: wire.groups,
        reconnect: is_one(wire.reconnect_or_trace),
        long_poll_delay: wire.long_poll_delay,
        error: wire.error,
    };
    if envelope == ClassicEnvelope::default() {
        return Ok(ClassicFrame::KeepAlive);
    }
    Ok(ClassicFrame::Envelope(envelope))
}

/// A client-to-server hub call: `{"H":"chathub","M":"Echo","A":["x"],"I":0}` (`S` when there is
/// hub state). Arguments in MessagePack form are converted to JSON.
pub fn encode_classic_hub_call(
    hub: &str,
    method: &str,
    arguments: &[Value],
    invocation_id: u64,
    state: Option<&Value>,
) -> Result<String, serde_json::Error> {
    #[derive(Serialize)]
    struct Call<'a> {
        #[serde(rename = "H")]
        hub: &'a str,
        #[serde(rename = "M")]
        method: &'a str,
        #[serde(rename = "A")]
        arguments: Vec<Box<RawValue>>,
        #[serde(rename = "I")]
        id: u64,
        #[serde(rename = "S", skip_serializing_if = "Option::is_none")]
        state: Option<Box<RawValue>>,
    }
    let call = Call {
        hub,
        method,
        arguments: arguments
            .iter()
            .map(Value::to_raw_json)
            .collect::<Result<_, _>>()?,
        id: invocation_id,
        state: state.map(Value::to_raw_json).transpose()?,
    };
    serde_json::to_string(&call)
}
