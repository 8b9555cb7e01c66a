//! What `sio listen` and `sio emit` share: the connection options, opening the connection with
//! the project's client (`sio-client`), exit codes and error messages people can act on.

use std::fmt::Write as _;
use std::process::ExitCode;

use sio_client::{Client, ClientBuilder, ClientEvent, Error, EventStream, Protocol, TransportKind};

use crate::decode::json::Json;
use crate::decode::value::to_json;

/// Exit code: the connection failed, was refused by the server or was lost for good.
pub(crate) const EXIT_CONNECTION: u8 = 1;
/// Exit code: bad usage (clap's own code for bad arguments), a bad URL or option.
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code: no acknowledgement in time (`sio emit --ack`).
pub(crate) const EXIT_ACK_TIMEOUT: u8 = 3;

/// The transport to open the connection with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportArg {
    /// HTTP long-polling only, never upgraded.
    Polling,
    /// WebSocket from the start.
    Websocket,
    /// Server-Sent Events (SignalR only).
    Sse,
}

/// The protocol revision to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProtocolArg {
    /// Detect it: Socket.IO v5, then v4, then 0.9.
    Auto,
    /// Socket.IO v5 over Engine.IO 4 (servers 3.x and 4.x).
    V5,
    /// Socket.IO v4 over Engine.IO 3 (servers 1.x and 2.x).
    V4,
    /// Socket.IO 0.9.
    #[value(name = "0.9", alias = "v09")]
    Legacy,
    /// ASP.NET Core SignalR (a hub URL such as http://host/hubs/chat).
    Signalr,
}

/// Connection options of `sio listen` and `sio emit`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ConnectArgs {
    /// CONNECT payload as JSON, read by the server's middleware (Socket.IO v5 servers; older
    /// servers read --query).
    #[arg(long, value_name = "JSON", value_parser = parse_json)]
    auth: Option<serde_json::Value>,
    /// Extra HTTP header on every request (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'K: V'", value_parser = parse_header)]
    pub(crate) headers: Vec<(String, String)>,
    /// Extra query parameter on every request (repeatable).
    #[arg(long = "query", value_name = "K=V", value_parser = parse_query)]
    pub(crate) query: Vec<(String, String)>,
    /// Only this transport (default: polling, then upgrade to WebSocket).
    #[arg(long, value_enum)]
    pub(crate) transport: Option<TransportArg>,
    /// Protocol revision.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) protocol: ProtocolArg,
    /// The server's Socket.IO path (the URL path is the namespace).
    #[arg(long, default_value = "/socket.io/")]
    path: String,
}

fn parse_json(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|e| {
        format!("not JSON ({e}); quote it for the shell, e.g. '{{\"token\":\"abc\"}}'")
    })
}

fn parse_header(text: &str) -> Result<(String, String), String> {
    match text.split_once(':') {
        Some((name, value)) if !name.trim().is_empty() => {
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        }
        _ => Err("expected 'Name: value', e.g. -H 'Authorization: Bearer abc'".to_owned()),
    }
}

fn parse_query(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
        _ => Err("expected KEY=VALUE, e.g. --query token=abc".to_owned()),
    }
}

/// Why a command stops: its exit code and what to tell on stderr.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: u8, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }

    /// Prints the message and gives the exit code.
    pub(crate) fn report(self) -> ExitCode {
        eprintln!("sio: {}", self.message);
        ExitCode::from(self.code)
    }
}

/// The namespace a URL connects to, as the client reads it (its path, `/` when empty).
pub(crate) fn namespace_of(url: &str) -> String {
    let path = url
        .parse::<http::Uri>()
        .map(|uri| uri.path().to_owned())
        .unwrap_or_default();
    if path.is_empty() {
        "/".to_owned()
    } else {
        path
    }
}

/// A client builder for `url` with the options; `reconnect` keeps the connection up after
/// failures (`sio listen`) or gives up at the first one (`sio emit`).
fn builder(url: &str, args: &ConnectArgs, reconnect: bool) -> ClientBuilder {
    let mut builder = Client::builder(url)
        .force_new(true)
        .path(&args.path)
        .reconnection(reconnect)
        .protocol(match args.protocol {
            ProtocolArg::Auto => Protocol::Auto,
            ProtocolArg::V5 => Protocol::V5,
            ProtocolArg::V4 => Protocol::V4,
            ProtocolArg::Legacy => Protocol::Legacy09,
            // `sio listen`/`sio emit` hand SignalR to crate::signalr before getting here.
            ProtocolArg::Signalr => Protocol::Auto,
        });
    if let Some(auth) = &args.auth {
        builder = builder.auth(auth.clone());
    }
    for (name, value) in &args.headers {
        builder = builder.header(name, value);
    }
    for (key, value) in &args.query {
        builder = builder.query(key, value);
    }
    match args.transport {
        Some(TransportArg::Polling) => builder.transports([TransportKind::Polling]),
        Some(TransportArg::Websocket) => builder.transports([TransportKind::WebSocket]),
        // Refused for Socket.IO by crate::signalr::target before getting here.
        Some(TransportArg::Sse) | None => builder,
    }
}

/// Connects and waits for the namespace's CONNECT answer; returns the client and the events
/// that follow.
pub(crate) async fn open(
    url: &str,
    args: &ConnectArgs,
    reconnect: bool,
) -> Result<(Client, EventStream), Failure> {
    builder(url, args, reconnect)
        .connect_with_events()
        .await
        .map_err(|error| explain(url, args, error))
}

/// The CONNECT_ERROR payload's `data` (v5 `{message, data}`), when there is one.
fn refusal_data(data: &sio_client::Value) -> Option<Json> {
    to_json(data)
        .get("data")
        .filter(|value| **value != Json::Null)
        .cloned()
}

/// What went wrong, and what to check.
pub(crate) fn explain(url: &str, args: &ConnectArgs, error: Error) -> Failure {
    let mut message = String::new();
    let code = match &error {
        Error::InvalidUrl(detail) => {
            let _ = write!(
                message,
                "invalid URL: {detail}\n  expected http://HOST:PORT/NAMESPACE (or https://, ws://, \
                 wss://), e.g. http://localhost:3000 or http://localhost:3000/chat"
            );
            EXIT_USAGE
        }
        Error::InvalidOption(detail) => {
            let _ = write!(message, "invalid option: {detail}");
            EXIT_USAGE
        }
        Error::ConnectRefused { message: why, data } => {
            let nsp = namespace_of(url);
            let _ = write!(message, "the server refused namespace {nsp}: {why}");
            if let Some(data) = refusal_data(data) {
                let _ = write!(message, "\n  data: {}", data.to_compact());
            }
            message.push_str("\n  ");
            if is_unknown_namespace(why) {
                message.push_str(
                    "the URL path is the namespace: check that the server has it (the Socket.IO \
                     path, usually /socket.io/, is given with --path)",
                );
            } else {
                message.push_str(
                    "the server's middleware refused the connection: check --auth (Socket.IO v5), \
                     --query and -H",
                );
            }
            EXIT_CONNECTION
        }
        Error::ConnectFailed(cause) => {
            let _ = write!(message, "cannot connect to {url}: {cause}\n  ");
            message.push_str(&connect_hint(url, args, Some(cause.as_ref())));
            EXIT_CONNECTION
        }
        Error::Timeout => {
            let _ = write!(message, "no connection to {url} in time\n  ");
            message.push_str(&connect_hint(url, args, None));
            EXIT_CONNECTION
        }
        other => {
            let _ = write!(message, "cannot connect to {url}: {other}");
            EXIT_CONNECTION
        }
    };
    Failure { code, message }
}

/// Refusals that mean the namespace does not exist: Node's `Invalid namespace`,
/// python-socketio's `Unable to connect`.
fn is_unknown_namespace(message: &str) -> bool {
    message == "Invalid namespace" || message == "Unable to connect"
}

/// What the first connection attempt's error says about the endpoint.
#[derive(Debug, PartialEq, Eq)]
enum Cause {
    NothingListens,
    NotSocketIo,
    Unknown,
}

fn cause_of(error: Option<&Error>) -> Cause {
    use sio_client::engine::EngineError;
    let Some(error) = error else {
        return Cause::Unknown;
    };
    // The refusal may sit below an HTTP or WebSocket error: look down the whole chain.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
        {
            return Cause::NothingListens;
        }
        source = e.source();
    }
    match error {
        Error::ConnectFailed(first) => cause_of(Some(first)),
        Error::Engine(EngineError::Status { .. } | EngineError::Protocol(_))
        | Error::Legacy(
            sio_client::LegacyError::Status { .. } | sio_client::LegacyError::Handshake { .. },
        ) => Cause::NotSocketIo,
        _ => Cause::Unknown,
    }
}

fn connect_hint(url: &str, args: &ConnectArgs, error: Option<&Error>) -> String {
    let target = url
        .parse::<http::Uri>()
        .ok()
        .and_then(|uri| uri.authority().map(|a| a.to_string()))
        .unwrap_or_else(|| url.to_owned());
    let cause = cause_of(error);
    if cause == Cause::NothingListens {
        format!(
            "nothing accepts connections on {target}: is the server running, on this host and port?"
        )
    } else if cause == Cause::NotSocketIo {
        format!(
            "{target} answers HTTP but not Socket.IO at {}: check --path and --protocol, or run \
             `sio probe {url}` to see what the endpoint speaks",
            args.path
        )
    } else {
        format!(
            "check the host, port, --path ({}) and --protocol; `sio probe {url}` tells what the \
             endpoint speaks",
            args.path
        )
    }
}

/// Waits for the connection to go down, or the client to report an error (an event it
/// could not send), while a command waits for something else.
pub(crate) async fn lost(events: &mut EventStream) -> String {
    while let Some(event) = events.next().await {
        match event {
            ClientEvent::Disconnect(reason) => return reason.to_string(),
            ClientEvent::Error(error) => return error,
            ClientEvent::ConnectError(data) => {
                return format!("refused by the server: {}", to_json(&data).to_compact());
            }
            _ => {}
        }
    }
    "the client closed".to_owned()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sio_client::engine::EngineError;

    use super::*;

    #[test]
    fn causes_come_from_the_error_types() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(
            cause_of(Some(&Error::Engine(EngineError::Io(refused)))),
            Cause::NothingListens
        );
        // Found below the wrapper that carries the first attempt's error.
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let wrapped = Error::ConnectFailed(Arc::new(Error::Engine(EngineError::Io(refused))));
        assert_eq!(cause_of(Some(&wrapped)), Cause::NothingListens);
        let status = EngineError::Status {
            status: 404,
            body: String::new(),
        };
        assert_eq!(cause_of(Some(&Error::Engine(status))), Cause::NotSocketIo);
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        assert_eq!(
            cause_of(Some(&Error::Engine(EngineError::Io(reset)))),
            Cause::Unknown
        );
        assert_eq!(cause_of(Some(&Error::Timeout)), Cause::Unknown);
        assert_eq!(cause_of(None), Cause::Unknown);
    }
}
