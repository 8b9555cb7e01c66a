//! `sio listen` and `sio emit` with `--protocol signalr`: ASP.NET Core SignalR hubs, through
//! sio-signalr. The output follows the Socket.IO commands: the hub's invocations are events
//! (target and arguments), connection changes are status lines.

use std::time::Duration;

use serde_json::{Value as Json, json};
use sio_signalr::{
    HttpTransportType, HubConnection, HubConnectionBuilder, HubError, HubEvent, HubProtocol,
    RetryContext,
};

use crate::connect::{
    ConnectArgs, EXIT_ACK_TIMEOUT, EXIT_CONNECTION, EXIT_USAGE, Failure, ProtocolArg, TransportArg,
};
use crate::output::{self, Style};

/// The hub protocol of `--hub-protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum HubProtocolArg {
    /// JSON records (every transport).
    Json,
    /// MessagePack (WebSockets and Long Polling: Server-Sent Events carry text only).
    #[value(alias = "msgpack")]
    Messagepack,
}

/// SignalR options of `sio listen` and `sio emit` (with `--protocol signalr`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SignalrArgs {
    /// SignalR: the hub protocol.
    #[arg(long, value_enum, default_value = "json")]
    hub_protocol: HubProtocolArg,
    /// SignalR: open a WebSocket straight to the URL, without negotiate.
    #[arg(long)]
    skip_negotiation: bool,
    /// SignalR: access token, sent as `Authorization: Bearer` (as access_token in the query on
    /// Server-Sent Events).
    #[arg(long, value_name = "TOKEN")]
    access_token: Option<String>,
}

/// SignalR options of `sio listen` only: `--emit TARGET ARG…`, repeatable. (Written by hand:
/// clap's derive groups the values of each occurrence only with its unstable-v5 feature.)
#[derive(Debug, Clone, Default)]
pub(crate) struct SignalrListenArgs {
    pub(crate) emits: Vec<Vec<String>>,
}

impl clap::FromArgMatches for SignalrListenArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = Self::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        if let Some(occurrences) = matches.get_occurrences::<String>("emit") {
            self.emits = occurrences.map(|words| words.cloned().collect()).collect();
        }
        Ok(())
    }
}

impl clap::Args for SignalrListenArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        command.arg(
            clap::Arg::new("emit")
                .long("emit")
                .value_names(["TARGET", "ARG"])
                .num_args(1..)
                .action(clap::ArgAction::Append)
                .allow_negative_numbers(true)
                .help(
                    "Emit this event (SignalR: send this invocation) after every (re)connect, so \
                     a subscription survives reconnection (repeatable; each ARG is JSON or else \
                     a string)",
                ),
        )
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

/// SignalR options of `sio emit` only.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SignalrEmitArgs {
    /// SignalR: invoke a server-to-client stream; print each item as a JSON line and exit 0
    /// when it completes.
    #[arg(long, conflicts_with = "ack")]
    stream: bool,
}

/// What `sio listen`/`sio emit` pass on: the URL and the connection flags they share.
pub(crate) struct Target<'a> {
    pub(crate) url: &'a str,
    pub(crate) headers: &'a [(String, String)],
    pub(crate) query: &'a [(String, String)],
    pub(crate) transport: Option<TransportArg>,
    pub(crate) signalr: &'a SignalrArgs,
}

/// The SignalR target of a command, `None` when it speaks Socket.IO (then `--transport sse` is
/// a usage error).
pub(crate) fn target<'a>(
    url: &'a str,
    connect: &'a ConnectArgs,
    signalr: &'a SignalrArgs,
) -> Result<Option<Target<'a>>, Failure> {
    if connect.protocol != ProtocolArg::Signalr {
        if connect.transport == Some(TransportArg::Sse) {
            return Err(Failure::new(
                EXIT_USAGE,
                "--transport sse is a SignalR transport: add --protocol signalr",
            ));
        }
        return Ok(None);
    }
    Ok(Some(Target {
        url,
        headers: &connect.headers,
        query: &connect.query,
        transport: connect.transport,
        signalr,
    }))
}

/// Reconnects like the official default (0, 2, 10, 30 s), then every 30 s for as long as the
/// command runs: a listener should outlive an outage.
fn keep_trying(context: &RetryContext<'_>) -> Option<Duration> {
    let delays = [0, 2, 10, 30];
    let index = usize::try_from(context.previous_retry_count).unwrap_or(usize::MAX);
    Some(Duration::from_secs(
        delays.get(index).copied().unwrap_or(30),
    ))
}

fn connection(target: &Target<'_>, reconnect: bool) -> Result<HubConnection, Failure> {
    let mut url = target.url.to_owned();
    for (key, value) in target.query {
        url = sio_signalr::proto::negotiate::append_query(&url, key, value);
    }
    let transports: &[HttpTransportType] = match target.transport {
        None => &[
            HttpTransportType::WebSockets,
            HttpTransportType::ServerSentEvents,
            HttpTransportType::LongPolling,
        ],
        Some(TransportArg::Websocket) => &[HttpTransportType::WebSockets],
        Some(TransportArg::Sse) => &[HttpTransportType::ServerSentEvents],
        Some(TransportArg::Polling) => &[HttpTransportType::LongPolling],
    };
    let protocol = match target.signalr.hub_protocol {
        HubProtocolArg::Json => HubProtocol::Json,
        HubProtocolArg::Messagepack => HubProtocol::MessagePack,
    };
    let mut builder = HubConnectionBuilder::new()
        .with_url(url)
        .with_transports(transports)
        .with_hub_protocol(protocol)
        .with_skip_negotiation(target.signalr.skip_negotiation);
    for (name, value) in target.headers {
        builder = builder.with_header(name, value);
    }
    if let Some(token) = &target.signalr.access_token {
        builder = builder.with_access_token(token);
    }
    if reconnect {
        builder = builder.with_retry_policy(keep_trying);
    }
    builder
        .build()
        .map_err(|e| Failure::new(EXIT_CONNECTION, e.to_string()))
}

/// One command-line argument: JSON when it parses, else the text itself.
fn parse_arg(arg: &str) -> Json {
    serde_json::from_str(arg).unwrap_or_else(|_| Json::from(arg))
}

fn start_failure(url: &str, error: &HubError) -> Failure {
    let hint = match error {
        HubError::Status { status: 404, .. } => {
            "\n  is this the hub's URL (e.g. http://host/hubs/chat)? 404 means no hub there"
        }
        HubError::Status { status: 401, .. } => "\n  the hub needs a token: --access-token TOKEN",
        HubError::ClassicServer(_) => {
            "\n  this is a classic ASP.NET SignalR server; sio does not speak it yet"
        }
        HubError::NoTransport(_) => {
            "\n  try another --transport (MessagePack needs WebSockets or polling)"
        }
        _ => "",
    };
    Failure::new(
        EXIT_CONNECTION,
        format!("cannot connect to {url}: {error}{hint}"),
    )
}

/// Runs `sio listen URL --protocol signalr`.
pub(crate) async fn listen(
    target: Target<'_>,
    events: &[String],
    json: bool,
    listen: &SignalrListenArgs,
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), Failure> {
    let printer = Printer {
        style: Style::for_stdout(json),
        json,
        hub: hub_of(target.url),
    };
    let connection = connection(&target, true)?;
    let mut hub_events = connection.events();
    tokio::pin!(stop);
    tokio::select! {
        started = connection.start() => started.map_err(|e| start_failure(target.url, &e))?,
        () = &mut stop => return Ok(()),
    }
    printer.connected(target.url, &connection);
    let emits: Vec<(String, Vec<Json>)> = listen
        .emits
        .iter()
        .filter_map(|words| {
            let (name, args) = words.split_first()?;
            Some((name.clone(), args.iter().map(|a| parse_arg(a)).collect()))
        })
        .collect();
    send_all(&connection, &emits, &printer).await;
    let outcome = loop {
        let event = tokio::select! {
            event = hub_events.next() => event,
            () = &mut stop => break Ok(()),
        };
        match event {
            Some(HubEvent::Invocation {
                target: name,
                arguments,
            }) => {
                if events.is_empty() || events.iter().any(|e| e.eq_ignore_ascii_case(&name)) {
                    let args = arguments.to_json().unwrap_or_default();
                    printer.event(&name, &args);
                }
            }
            Some(HubEvent::Reconnecting { error }) => {
                let reason = error.map(|e| e.to_string()).unwrap_or_default();
                printer.status(
                    "reconnecting",
                    json!({ "error": reason }),
                    printer
                        .style
                        .yellow(format!("connection lost ({reason}); reconnecting")),
                );
            }
            Some(HubEvent::Reconnected { .. }) => {
                printer.connected(target.url, &connection);
                send_all(&connection, &emits, &printer).await;
            }
            Some(HubEvent::Closed { error }) => {
                let reason = error.map_or_else(|| "closed".to_owned(), |e| e.to_string());
                break Err(Failure::new(
                    EXIT_CONNECTION,
                    format!("the connection ended: {reason}"),
                ));
            }
            None => break Err(Failure::new(EXIT_CONNECTION, "the connection ended")),
        }
    };
    connection.stop().await;
    outcome
}

async fn send_all(connection: &HubConnection, emits: &[(String, Vec<Json>)], printer: &Printer) {
    for (name, args) in emits {
        if let Err(e) = connection.send(name, args).await {
            printer.status(
                "error",
                json!({ "error": format!("--emit {name}: {e}") }),
                printer.style.red(format!("--emit {name}: {e}")),
            );
        }
    }
}

/// Runs `sio emit URL TARGET ARGS… --protocol signalr`: send, `--ack` (invoke) or `--stream`.
pub(crate) async fn emit(
    target: Target<'_>,
    name: &str,
    args: &[String],
    ack: Option<Duration>,
    emit: &SignalrEmitArgs,
) -> Result<(), Failure> {
    let values: Vec<Json> = args.iter().map(|a| parse_arg(a)).collect();
    let connection = connection(&target, false)?;
    connection
        .start()
        .await
        .map_err(|e| start_failure(target.url, &e))?;
    let outcome = if emit.stream {
        stream(&connection, name, &values).await
    } else if let Some(wait) = ack {
        match tokio::time::timeout(wait, connection.invoke_value(name, &values)).await {
            Err(_) => Err(Failure::new(
                EXIT_ACK_TIMEOUT,
                format!(
                    "no completion of {name:?} within {} ms (raise the wait with --timeout MS)",
                    wait.as_millis()
                ),
            )),
            Ok(Ok(result)) => {
                let shown = match result {
                    Some(value) => value.to_json().unwrap_or(Json::Null),
                    None => Json::Null,
                };
                output::print_json_line(&shown);
                Ok(())
            }
            Ok(Err(HubError::Hub(message))) => Err(Failure::new(EXIT_CONNECTION, message)),
            Ok(Err(e)) => Err(Failure::new(EXIT_CONNECTION, format!("{name}: {e}"))),
        }
    } else {
        connection
            .send(name, &values)
            .await
            .map_err(|e| Failure::new(EXIT_CONNECTION, format!("cannot send: {e}")))
    };
    connection.stop().await;
    outcome
}

async fn stream(connection: &HubConnection, name: &str, values: &[Json]) -> Result<(), Failure> {
    let mut items = connection
        .stream::<Json, _>(name, values)
        .await
        .map_err(|e| Failure::new(EXIT_CONNECTION, format!("cannot start {name}: {e}")))?;
    while let Some(item) = items.next().await {
        match item {
            Ok(item) => output::print_json_line(&item),
            Err(HubError::Hub(message)) => return Err(Failure::new(EXIT_CONNECTION, message)),
            Err(e) => return Err(Failure::new(EXIT_CONNECTION, format!("{name}: {e}"))),
        }
    }
    Ok(())
}

/// The hub path of a URL, shown where Socket.IO lines show the namespace.
fn hub_of(url: &str) -> String {
    url.parse::<http::Uri>()
        .map_or_else(|_| "/".to_owned(), |uri| uri.path().to_owned())
}

struct Printer {
    style: Style,
    json: bool,
    hub: String,
}

impl Printer {
    fn now(&self) -> String {
        crate::output::line_time(self.json)
    }

    fn status(&self, kind: &str, fields: Json, line: String) {
        if self.json {
            let mut object = serde_json::Map::new();
            object.insert("time".into(), Json::from(self.now()));
            object.insert("type".into(), Json::from(kind));
            object.insert("hub".into(), Json::from(self.hub.as_str()));
            if let Json::Object(more) = fields {
                object.extend(more);
            }
            output::print_json_line(&Json::Object(object));
        } else {
            output::print(&format!("{}  {line}\n", self.style.dim(self.now())));
        }
    }

    fn connected(&self, url: &str, connection: &HubConnection) {
        let id = connection.connection_id();
        let transport = connection.transport().map(HttpTransportType::name);
        let line = self.style.green(format!(
            "connected to {url} (SignalR hub {}, {}, id {})",
            self.hub,
            transport.unwrap_or("?"),
            id.as_deref().unwrap_or("none")
        ));
        self.status("connect", json!({ "id": id, "transport": transport }), line);
    }

    fn event(&self, name: &str, args: &[Json]) {
        if self.json {
            output::print_json_line(&json!({
                "time": self.now(),
                "type": "event",
                "hub": self.hub,
                "event": name,
                "args": args,
            }));
            return;
        }
        let mut line = format!(
            "{}  {}  {}",
            self.style.dim(self.now()),
            self.style.cyan(&self.hub),
            self.style.bold(output::escape_control(name, 200)),
        );
        for arg in args {
            line.push_str("  ");
            line.push_str(&self.style.magenta(arg.to_string()));
        }
        line.push('\n');
        output::print(&line);
    }
}
