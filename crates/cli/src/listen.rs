//! `sio listen`: connects to a namespace and prints what happens on it, until Ctrl-C.

use std::process::ExitCode;

use sio_client::{ClientEvent, DisconnectReason, Event};

use crate::connect::{self, ConnectArgs, EXIT_CONNECTION, EXIT_USAGE, Failure};
use crate::decode::json::Json;
use crate::decode::render::show_json;
use crate::decode::value::to_json;
use crate::output::{self, Style};

pub(crate) const EXAMPLES: &str = "\
Examples:
  sio listen http://localhost:3000                    every event of the main namespace
  sio listen http://localhost:3000/chat --event message --event typing
  sio listen https://example.com/live --auth '{\"token\":\"abc\"}' -H 'Cookie: session=1'
  sio listen http://localhost:3000 --json | jq -c 'select(.type == \"event\") | .args'
  sio listen http://old-server:8080 --protocol v4 --transport websocket

Output: one line per event (time in UTC, namespace, event, arguments; binary data as
<N bytes: …>), and a line when the connection opens, drops, retries and comes back. With
--json, one JSON object per line: {\"time\",\"type\":\"event\",\"namespace\",\"event\",\"args\",
\"ack_requested\"}, and types connect, disconnect, reconnect_attempt, reconnect_error, reconnect,
connect_error, error; binary data is {\"_binary\":true,\"length\":N,\"base64\":\"…\"}.

Exit status: 0 after Ctrl-C or SIGTERM, 1 when the connection fails or is refused (the
server's message is printed), or when the server ends the session, 2 on usage errors.";

/// Options of `sio listen`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListenArgs {
    /// Server URL; its path is the namespace (http://localhost:3000/chat → /chat).
    url: String,
    /// Show only this event (repeatable); connection changes are always shown.
    #[arg(long = "event", short = 'e', value_name = "NAME")]
    events: Vec<String>,
    /// One JSON object per line instead of text.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    signalr: crate::signalr::SignalrArgs,
    #[command(flatten)]
    signalr_listen: crate::signalr::SignalrListenArgs,
}

/// Runs `sio listen`.
pub(crate) async fn run(args: ListenArgs) -> ExitCode {
    match listen(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => failure.report(),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn listen(args: ListenArgs) -> Result<(), Failure> {
    let printer = Printer {
        style: Style::for_stdout(args.json),
        json: args.json,
        namespace: connect::namespace_of(&args.url),
    };
    // Signals are caught from the start, so Ctrl-C while connecting also exits cleanly.
    let stop = stop_signal();
    if let Some(target) = crate::signalr::target(&args.url, &args.connect, &args.signalr)? {
        let (events, json) = (&args.events, args.json);
        return crate::signalr::listen(target, events, json, &args.signalr_listen, stop).await;
    }
    tokio::pin!(stop);
    // `--emit EVENT ARGS…`: sent after every (re)connect, so a subscription survives.
    let mut subscriptions = Vec::new();
    for words in &args.signalr_listen.emits {
        let Some((event, rest)) = words.split_first() else {
            continue;
        };
        let values = rest
            .iter()
            .enumerate()
            .map(|(index, arg)| crate::emit::parse_arg(index, arg))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| Failure::new(EXIT_USAGE, format!("--emit {event}: {error}")))?;
        subscriptions.push((event.clone(), values));
    }
    let subscribe = |client: &sio_client::Client| {
        for (event, values) in &subscriptions {
            if let Err(error) = client.emit_values(event, values.clone()) {
                eprintln!("sio: --emit {event}: {error}");
            }
        }
    };
    let (client, mut events) = tokio::select! {
        opened = connect::open(&args.url, &args.connect, true) => opened?,
        () = &mut stop => return Ok(()),
    };
    printer.connected(
        &args.url,
        client.id().unwrap_or_default(),
        client.recovered(),
    );
    subscribe(&client);
    // The number of the reconnection attempt under way, for its failure.
    let mut attempt = 0;
    let outcome = loop {
        let event = tokio::select! {
            event = events.next() => event,
            () = &mut stop => break Ok(()),
        };
        let Some(event) = event else {
            break Err(Failure::new(EXIT_CONNECTION, "the connection is closed"));
        };
        match event {
            ClientEvent::Event(event)
                if args.events.is_empty() || args.events.contains(&event.name) =>
            {
                printer.event(&event);
            }
            ClientEvent::Connect { id, recovered } => {
                printer.connected(&args.url, id, recovered);
                subscribe(&client);
            }
            ClientEvent::Disconnect(reason) => {
                printer.disconnected(&reason);
                if !reason.will_reconnect() {
                    break Err(Failure::new(
                        EXIT_CONNECTION,
                        format!(
                            "the server ended the session ({reason}); socket.io clients do not \
                             reconnect after that"
                        ),
                    ));
                }
            }
            ClientEvent::ReconnectAttempt(number) => {
                attempt = number;
                printer.status(
                    "reconnect_attempt",
                    Json::object([("attempt", Json::from(u64::from(number)))]),
                    printer
                        .style
                        .yellow(format!("reconnecting (attempt {number})")),
                );
            }
            ClientEvent::ReconnectError(error) => printer.status(
                "reconnect_error",
                Json::object([
                    ("attempt", Json::from(u64::from(attempt))),
                    ("error", Json::from(error.as_str())),
                ]),
                printer
                    .style
                    .red(format!("attempt {attempt} failed: {error}")),
            ),
            ClientEvent::Reconnect(attempts) => printer.status(
                "reconnect",
                Json::object([("attempts", Json::from(u64::from(attempts)))]),
                printer.style.green(format!(
                    "reconnected after {attempts} attempt{}",
                    if attempts == 1 { "" } else { "s" }
                )),
            ),
            ClientEvent::ReconnectFailed => {
                break Err(Failure::new(
                    EXIT_CONNECTION,
                    "every reconnection attempt failed; giving up",
                ));
            }
            ClientEvent::ConnectError(data) => {
                let shown = to_json(&data);
                printer.status(
                    "connect_error",
                    Json::object([("data", shown.clone())]),
                    printer.style.red(format!("refused: {}", show_json(&shown))),
                );
                // After a CONNECT_ERROR the namespace is not retried, as in socket.io-client.
                break Err(Failure::new(
                    EXIT_CONNECTION,
                    format!(
                        "the server refused namespace {} on reconnection: {}",
                        printer.namespace,
                        shown.to_compact()
                    ),
                ));
            }
            ClientEvent::Error(error) => printer.status(
                "error",
                Json::object([("error", Json::from(error.as_str()))]),
                printer.style.red(format!("error: {error}")),
            ),
            // Events filtered out by --event, and kinds added later.
            _ => {}
        }
    };
    client.close().await;
    outcome
}

/// Writes the lines, as text or JSON.
struct Printer {
    style: Style,
    json: bool,
    namespace: String,
}

impl Printer {
    fn now(&self) -> String {
        crate::output::line_time(self.json)
    }

    /// A JSON line `{"time", "type", "namespace", …fields}`, or the text `line`.
    fn status(&self, kind: &str, fields: Json, line: String) {
        if self.json {
            let mut entries = vec![
                ("time".to_owned(), Json::from(self.now())),
                ("type".to_owned(), Json::from(kind)),
                ("namespace".to_owned(), Json::from(self.namespace.as_str())),
            ];
            if let Json::Object(more) = fields {
                entries.extend(more);
            }
            output::print_json_line(&Json::Object(entries));
        } else {
            output::print(&format!("{}  {line}\n", self.style.dim(self.now())));
        }
    }

    fn connected(&self, url: &str, id: String, recovered: bool) {
        let line = self.style.green(format!(
            "connected to {url} (namespace {}, id {id}{})",
            self.namespace,
            if recovered { ", session recovered" } else { "" }
        ));
        self.status(
            "connect",
            Json::object([("id", Json::from(id)), ("recovered", Json::from(recovered))]),
            line,
        );
    }

    fn disconnected(&self, reason: &DisconnectReason) {
        let reconnecting = reason.will_reconnect();
        let line = self.style.yellow(format!(
            "disconnected: {reason}{}",
            if reconnecting { "; reconnecting" } else { "" }
        ));
        self.status(
            "disconnect",
            Json::object([
                ("reason", Json::from(reason.to_string())),
                ("reconnecting", Json::from(reconnecting)),
            ]),
            line,
        );
    }

    fn event(&self, event: &Event) {
        let args: Vec<Json> = event.args.iter().map(to_json).collect();
        if self.json {
            output::print_json_line(&Json::object([
                ("time", Json::from(self.now())),
                ("type", Json::from("event")),
                ("namespace", Json::from(self.namespace.as_str())),
                ("event", Json::from(event.name.as_str())),
                ("args", Json::Array(args)),
                ("ack_requested", Json::from(event.ack.is_some())),
            ]));
            return;
        }
        let mut line = format!(
            "{}  {}  {}",
            self.style.dim(self.now()),
            self.style.cyan(&self.namespace),
            self.style.bold(output::escape_control(&event.name, 200)),
        );
        for arg in &args {
            line.push_str("  ");
            line.push_str(&self.style.magenta(show_json(arg)));
        }
        if event.ack.is_some() {
            line.push_str(&self.style.dim("  (the server asks for an acknowledgement)"));
        }
        line.push('\n');
        output::print(&line);
    }
}
