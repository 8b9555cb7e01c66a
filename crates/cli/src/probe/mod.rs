//! `sio probe`: what does this endpoint speak, and how does a client connect to it?
//!
//! Every probe runs at once: the Engine.IO v4 and v3 polling handshakes (each followed by a
//! Socket.IO CONNECT, a real WebSocket upgrade and a close), the 0.9 handshake and SignalR's
//! negotiate. The verdict is drawn from what answered.

mod engine;
mod http;
mod other;

use std::process::ExitCode;
use std::time::Duration;

use ::http::header::{HeaderName, HeaderValue};
use serde::Serialize;
use serde_json::Value as Json;

use crate::output::{self, Style};
use engine::{EngineFinding, EngineOutcome};
use http::{Failure, Http, Target};
use other::{LegacyFinding, SignalRFinding};

pub(crate) const EXAMPLES: &str = r#"What it tries (all at once, each answer within --timeout):
  GET  <path>?EIO=4&transport=polling    Engine.IO v4 (Socket.IO 3.x/4.x), then CONNECT (40) to tell
                                         Socket.IO v5 from v4, a WebSocket upgrade, and a close (1)
  GET  <path>?EIO=3&transport=polling    Engine.IO v3 (Socket.IO 1.x/2.x)
  GET  /socket.io/1/?t=…                 Socket.IO 0.9
  POST <url>/negotiate?negotiateVersion=1  ASP.NET Core SignalR

Examples:
  sio probe http://localhost:3000
  sio probe https://example.com/admin                  (the path is the namespace, as in the JS client)
  sio probe 'wss://example.com/socket.io/?EIO=4&transport=websocket'   (a URL copied from DevTools)
  sio probe https://example.com --path /realtime/ -H 'Authorization: Bearer abc'
  sio probe https://example.com/hubs/chat --json

Exit status: 0 when the endpoint speaks Engine.IO, Socket.IO or SignalR, 1 when it does not or
cannot be reached, 2 on usage errors (such as a bad URL)."#;

/// Options of `sio probe`.
#[derive(Debug, clap::Args)]
pub(crate) struct ProbeArgs {
    /// The endpoint: http(s):// or ws(s)://host[:port][/namespace]. A URL copied from DevTools
    /// (…/socket.io/?EIO=4&transport=websocket) gives the path too.
    url: String,
    /// Print one JSON object instead of the report.
    #[arg(long)]
    json: bool,
    /// The Engine.IO path on the server [default: from the URL when it holds `socket.io`, else
    /// /socket.io/].
    #[arg(long, value_name = "PATH")]
    path: Option<String>,
    /// An extra request header, such as a token or a cookie (repeatable).
    #[arg(short = 'H', long = "header", value_name = "'NAME: VALUE'")]
    headers: Vec<String>,
    /// Seconds to wait for each answer.
    #[arg(long, value_name = "SECONDS", default_value_t = 5.0)]
    timeout: f64,
}

/// One request and what its answer means.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Attempt {
    /// `GET /socket.io/?EIO=4…`
    pub request: String,
    /// HTTP status (101 for a WebSocket), absent when nothing answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The start of the answer, or why there was none.
    pub answer: String,
    /// What it tells.
    pub finding: String,
    /// It found what it looked for.
    #[serde(skip)]
    pub good: bool,
}

impl Attempt {
    /// A request that got no answer.
    pub(crate) fn failed(request: String, failure: &http::Failure) -> Self {
        Attempt {
            request,
            status: None,
            answer: failure.to_string(),
            finding: "no answer".into(),
            good: false,
        }
    }
}

/// A way to connect.
#[derive(Debug, Clone, Serialize)]
struct Advice {
    client: &'static str,
    code: String,
}

/// The whole result, as printed with `--json`.
#[derive(Debug, Clone, Serialize)]
struct ProbeReport {
    url: String,
    /// `socket.io-v5`, `socket.io-v4`, `socket.io-0.9`, `engine.io-v4`, `engine.io-v3`,
    /// `signalr`, `none` or `unreachable`.
    verdict: &'static str,
    summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    engineio: Option<EngineFinding>,
    /// The EIO=3 session, when the server opened one besides the main one.
    #[serde(skip_serializing_if = "Option::is_none")]
    engineio_v3: Option<EngineFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    legacy: Option<LegacyFinding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signalr: Option<SignalRFinding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    connect: Vec<Advice>,
    attempts: Vec<Attempt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Socket.IO argument values (which may hold binary) as JSON.
pub(crate) fn value_json(value: &sio_socketio_proto::Value) -> Json {
    sio_socketio_proto::from_value::<Json>(value.clone()).unwrap_or(Json::Null)
}

/// Where to look for Engine.IO, and with which namespace.
struct Plan {
    /// (Engine.IO path, namespace) pairs to try.
    engine: Vec<(String, String)>,
    /// The 0.9 resource (the Engine.IO path without its trailing slash).
    resource: String,
    /// The SignalR hub path, unless the URL is plainly a Socket.IO one.
    hub: Option<String>,
}

fn plan(target: &Target, path: Option<&str>) -> Plan {
    let with_slash = |p: &str| {
        let p = if p.starts_with('/') {
            p.to_owned()
        } else {
            format!("/{p}")
        };
        if p.ends_with('/') { p } else { format!("{p}/") }
    };
    let url_path = target.path.clone();
    let from_devtools = url_path.contains("socket.io")
        || target.query.as_deref().is_some_and(|q| q.contains("EIO="));
    let root = url_path == "/";
    let namespace = if root || from_devtools {
        "/".to_owned()
    } else {
        url_path.trim_end_matches('/').to_owned()
    };
    let engine = match path {
        Some(path) => vec![(with_slash(path), namespace)],
        None if from_devtools => vec![(with_slash(&url_path), "/".to_owned())],
        None if root => vec![("/socket.io/".to_owned(), "/".to_owned())],
        // `https://host/chat` is a namespace for the JS client, but may be where Socket.IO is
        // mounted: try both.
        None => vec![
            ("/socket.io/".to_owned(), namespace),
            (with_slash(&url_path), "/".to_owned()),
        ],
    };
    let resource = engine.first().map_or("/socket.io".to_owned(), |(p, _)| {
        p.trim_end_matches('/').to_owned()
    });
    Plan {
        engine,
        resource,
        hub: (!from_devtools).then_some(url_path),
    }
}

fn parse_headers(headers: &[String]) -> Result<Vec<(HeaderName, HeaderValue)>, String> {
    headers
        .iter()
        .map(|header| {
            let (name, value) = header.split_once(':').ok_or_else(|| {
                format!("header {header:?} has no ':'\n  try: -H 'Authorization: Bearer abc'")
            })?;
            let name = HeaderName::try_from(name.trim())
                .map_err(|_| format!("{:?} is not a header name", name.trim()))?;
            let value = HeaderValue::try_from(value.trim())
                .map_err(|_| format!("the value of header {name} is not valid"))?;
            Ok((name, value))
        })
        .collect()
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("sio probe: {message}");
    ExitCode::from(2)
}

/// Runs `sio probe`.
pub(crate) async fn run(args: ProbeArgs) -> ExitCode {
    let target = match Target::parse(&args.url) {
        Ok(target) => target,
        Err(message) => {
            return usage_error(&format!(
                "bad URL: {message}\n  try: sio probe http://localhost:3000"
            ));
        }
    };
    let headers = match parse_headers(&args.headers) {
        Ok(headers) => headers,
        Err(message) => return usage_error(&message),
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 3600.0) {
        return usage_error("--timeout must be a number of seconds between 0 and 3600");
    }
    let http = match Http::new(headers, Duration::from_secs_f64(args.timeout)) {
        Ok(http) => http,
        Err(message) => {
            eprintln!("sio probe: {message}");
            return ExitCode::FAILURE;
        }
    };
    let style = Style::for_stdout(args.json);
    if !args.json {
        output::print(&format!(
            "{} {}\n\n",
            style.bold("probing"),
            target.origin() + &target.path
        ));
    }
    let plan = plan(&target, args.path.as_deref());
    let report = investigate(&http, &target, &plan, &args.url).await;
    if args.json {
        output::print_json_line(&report);
    } else {
        output::print(&render(&report, style));
        if let Some(error) = &report.error {
            eprintln!("sio probe: {error}");
        }
    }
    if matches!(report.verdict, "none" | "unreachable") {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn investigate(http: &Http, target: &Target, plan: &Plan, url: &str) -> ProbeReport {
    let engine_probes = plan.engine.iter().flat_map(|(path, namespace)| {
        [4u8, 3].map(|asked| async move {
            let mut attempts = Vec::new();
            let outcome = engine::probe(http, target, path, namespace, asked, &mut attempts).await;
            (asked, outcome, attempts)
        })
    });
    let legacy = async {
        let mut attempts = Vec::new();
        let found = other::legacy(http, target, &plan.resource, &mut attempts).await;
        (found, attempts)
    };
    let signalr = async {
        let mut attempts = Vec::new();
        let found = match &plan.hub {
            Some(hub) => other::signalr(http, target, hub, &mut attempts).await,
            None => Ok(None),
        };
        (found, attempts)
    };
    let (engines, (legacy, legacy_attempts), (signalr, signalr_attempts)) = tokio::join!(
        futures_util::future::join_all(engine_probes),
        legacy,
        signalr
    );

    let mut attempts = Vec::new();
    let mut failures: Vec<Failure> = Vec::new();
    let mut v4: Option<EngineFinding> = None;
    let mut v3: Option<EngineFinding> = None;
    let mut eio3_refused = false;
    for (asked, outcome, probe_attempts) in engines {
        attempts.extend(probe_attempts);
        match outcome {
            EngineOutcome::Found(finding) if finding.revision == 4 => {
                let better = v4
                    .as_ref()
                    .is_none_or(|f| f.socketio.is_none() && finding.socketio.is_some());
                if better {
                    v4 = Some(finding);
                }
            }
            EngineOutcome::Found(finding) => {
                let better = v3.as_ref().is_none_or(|f| {
                    (f.socketio.is_none() && finding.socketio.is_some())
                        || (f.asked != 3 && finding.asked == 3)
                });
                if better {
                    v3 = Some(finding);
                }
            }
            EngineOutcome::Refused { code: 5, .. } if asked == 3 => eio3_refused = true,
            EngineOutcome::Refused { .. } | EngineOutcome::NotHere => {}
            EngineOutcome::Unreachable(failure) => failures.push(failure),
        }
    }
    attempts.extend(legacy_attempts);
    attempts.extend(signalr_attempts);
    let legacy = match legacy {
        Ok(found) => found,
        Err(failure) => {
            failures.push(failure);
            None
        }
    };
    let signalr = match signalr {
        Ok(found) => found,
        Err(failure) => {
            failures.push(failure);
            None
        }
    };

    let mut report = ProbeReport {
        url: url.to_owned(),
        verdict: "none",
        summary: String::new(),
        engineio: None,
        engineio_v3: None,
        legacy,
        signalr,
        notes: Vec::new(),
        connect: Vec::new(),
        attempts,
        error: None,
    };
    let answered = report.attempts.iter().any(|a| a.status.is_some());
    if !answered {
        let failure = failures
            .iter()
            .find(|f| f.is_unreachable())
            .or(failures.first())
            .cloned()
            .unwrap_or(Failure::Other("no answer".into()));
        report.verdict = "unreachable";
        report.summary = format!("cannot reach {}: {failure}", target.authority());
        report.error = Some(format!(
            "{}\n  try: {}",
            report.summary,
            match failure {
                Failure::Refused(_) => "is the server running, and on this port?",
                Failure::Timeout(_) =>
                    "a longer --timeout, or check that no firewall or proxy swallows the requests",
                Failure::Dns(_) => "check the host name",
                Failure::Tls(_) =>
                    "http:// if the server does not speak TLS, or check its certificate",
                _ => "check the URL",
            }
        ));
        return report;
    }
    verdict(&mut report, target, v4, v3, eio3_refused);
    report
}

fn verdict(
    report: &mut ProbeReport,
    target: &Target,
    v4: Option<EngineFinding>,
    v3: Option<EngineFinding>,
    eio3_refused: bool,
) {
    let main = v4.clone().or_else(|| v3.clone());
    if let Some(main) = &main {
        let revision = main.revision;
        let (verdict, summary) = match (revision, main.socketio) {
            (4, Some("v5")) => (
                "socket.io-v5",
                "Socket.IO protocol v5 (a Socket.IO 3.x/4.x server) over Engine.IO v4",
            ),
            (4, Some(_)) => (
                "socket.io-v4",
                "Socket.IO protocol v4 (CONNECT answered without sid) over Engine.IO v4",
            ),
            (4, None) => (
                "engine.io-v4",
                "Engine.IO v4 without Socket.IO (a plain engine.io server): no Socket.IO answer to CONNECT",
            ),
            (_, Some(_)) => (
                "socket.io-v4",
                "Socket.IO protocol v4 (a Socket.IO 1.x/2.x server) over Engine.IO v3",
            ),
            (_, None) => (
                "engine.io-v3",
                "Engine.IO v3 without Socket.IO (a plain engine.io 3.x server): no CONNECT answer",
            ),
        };
        report.verdict = verdict;
        report.summary = summary.to_owned();
        if revision == 4 {
            match &v3 {
                Some(v3) if v3.socketio.is_some() => report.notes.push(
                    "also accepts Socket.IO 2.x clients (EIO=3 answered: allowEIO3 is on)".into(),
                ),
                Some(_) => report
                    .notes
                    .push("also opens Engine.IO v3 sessions (EIO=3)".into()),
                None if eio3_refused => report.notes.push(
                    "refuses Socket.IO 1.x/2.x clients (EIO=3: unsupported protocol version; a Node server accepts them with allowEIO3)".into(),
                ),
                None => {}
            }
        } else if main.asked == 4 || v4.is_none() {
            report.notes.push(
                "Socket.IO 3.x/4.x clients cannot connect to it: use a 2.x client (or sio's v4 protocol)".into(),
            );
        }
        if let Some(error) = &main.connect_error {
            let message = error
                .get("message")
                .and_then(Json::as_str)
                .map(str::to_owned)
                .or_else(|| error.as_str().map(str::to_owned))
                .unwrap_or_else(|| error.to_string());
            report.notes.push(format!(
                "the namespace {} refused the connection: {message}{}",
                main.namespace,
                if message.contains("Invalid namespace") {
                    " (check the namespace: it is the URL's path)"
                } else {
                    " (it may want auth data or a token: --auth / -H)"
                }
            ));
        }
        if main.websocket.starts_with("failed") {
            report.notes.push(format!(
                "the WebSocket upgrade {}: clients should stay on polling, or a proxy in between must pass WebSocket",
                main.websocket
            ));
        }
        // `io=<sid>` is Engine.IO's own cookie option; others usually come from a load balancer.
        let cookies: Vec<&str> = main
            .cookies
            .iter()
            .map(String::as_str)
            .filter(|c| !c.starts_with("io="))
            .collect();
        if !cookies.is_empty() {
            report.notes.push(format!(
                "the server sets cookies ({}): often a load balancer's sticky session; clients must send them back",
                cookies.join(", ")
            ));
        }
        report.connect = advice_engine(target, main);
    } else if let Some(legacy) = &report.legacy {
        report.verdict = "socket.io-0.9";
        report.summary = "Socket.IO 0.9 (protocol 1, no Engine.IO)".into();
        report.connect = advice_legacy(target, legacy);
    } else if let Some(signalr) = &report.signalr {
        report.verdict = "signalr";
        report.summary = "ASP.NET Core SignalR, not Socket.IO".into();
        report.connect = advice_signalr(target, signalr);
    } else {
        report.verdict = "none";
        report.summary = format!(
            "no Socket.IO, Engine.IO or SignalR endpoint at {}{}",
            target.origin(),
            target.path
        );
        let answers: Vec<String> = report
            .attempts
            .iter()
            .filter_map(|a| {
                a.status
                    .map(|s| format!("{} → HTTP {s}: {}", a.request, a.answer))
            })
            .take(2)
            .collect();
        report.error = Some(format!(
            "{} answered, but not as Socket.IO, Engine.IO or SignalR ({})\n  try: --path if Socket.IO is mounted elsewhere (DevTools shows it in the request URL: …/socket.io/?EIO=4…), -H for a token",
            target.authority(),
            answers.join("; ")
        ));
    }
    report.engineio = main.clone();
    if main.as_ref().is_some_and(|m| m.revision == 4) {
        report.engineio_v3 = v3;
    }
    if report.legacy.is_some() && report.verdict != "socket.io-0.9" {
        report
            .notes
            .push("the Socket.IO 0.9 handshake answers too".into());
    }
    if report.signalr.is_some() && report.verdict != "signalr" {
        report
            .notes
            .push("a SignalR negotiate endpoint answers too".into());
    }
}

fn advice_engine(target: &Target, finding: &EngineFinding) -> Vec<Advice> {
    let url = if finding.namespace == "/" {
        target.origin()
    } else {
        format!("{}{}", target.origin(), finding.namespace)
    };
    let mut js_options = Vec::new();
    let mut py_options = Vec::new();
    let mut sio_options = String::new();
    if finding.path != "/socket.io/" {
        js_options.push(format!("path: \"{}\"", finding.path));
        py_options.push(format!(
            "socketio_path=\"{}\"",
            finding.path.trim_matches('/')
        ));
        sio_options.push_str(&format!(" --path {}", finding.path));
    }
    if !finding.polling {
        js_options.push("transports: [\"websocket\"]".into());
        py_options.push("transports=[\"websocket\"]".into());
        sio_options.push_str(" --transport websocket");
    } else if finding.websocket.starts_with("failed") || finding.websocket == "not offered" {
        js_options.push("transports: [\"polling\"]".into());
        py_options.push("transports=[\"polling\"]".into());
        sio_options.push_str(" --transport polling");
    }
    let js_args = if js_options.is_empty() {
        format!("\"{url}\"")
    } else {
        format!("\"{url}\", {{ {} }}", js_options.join(", "))
    };
    let mut advice = Vec::new();
    match (finding.revision, finding.socketio) {
        (4, Some(protocol)) => {
            advice.push(Advice {
                client: "JavaScript (socket.io-client 4)",
                code: format!("io({js_args})"),
            });
            advice.push(Advice {
                client: "sio",
                code: format!("sio listen {url} --protocol {protocol}{sio_options}"),
            });
            let mut py = vec![format!("\"{}\"", target.origin())];
            if finding.namespace != "/" {
                py.push(format!("namespaces=[\"{}\"]", finding.namespace));
            }
            py.extend(py_options);
            advice.push(Advice {
                client: "Python (python-socketio 5)",
                code: format!("socketio.Client().connect({})", py.join(", ")),
            });
        }
        (_, Some(_)) => {
            advice.push(Advice {
                client: "JavaScript (socket.io-client 2)",
                code: format!("require(\"socket.io-client\")({js_args})"),
            });
            advice.push(Advice {
                client: "sio",
                code: format!("sio listen {url} --protocol v4{sio_options}"),
            });
            advice.push(Advice {
                client: "Python (python-socketio 4.x)",
                code: format!("socketio.Client().connect(\"{}\")", target.origin()),
            });
        }
        (revision, None) => {
            let client = if revision == 4 {
                "JavaScript (engine.io-client 6)"
            } else {
                "JavaScript (engine.io-client 3)"
            };
            let mut options = vec![format!("path: \"{}\"", finding.path)];
            if !finding.polling {
                options.push("transports: [\"websocket\"]".into());
            }
            advice.push(Advice {
                client,
                code: format!(
                    "new (require(\"engine.io-client\").Socket)(\"{}\", {{ {} }})",
                    target.origin(),
                    options.join(", ")
                ),
            });
        }
    }
    advice
}

fn advice_legacy(target: &Target, legacy: &LegacyFinding) -> Vec<Advice> {
    let resource = legacy.resource.trim_start_matches('/');
    let options = if resource == "socket.io" {
        String::new()
    } else {
        format!(", {{ resource: \"{resource}\" }}")
    };
    vec![
        Advice {
            client: "JavaScript (socket.io-client 0.9)",
            code: format!("io.connect(\"{}\"{options})", target.origin()),
        },
        Advice {
            client: "sio",
            code: format!("sio listen {} --protocol 0.9", target.origin()),
        },
    ]
}

fn advice_signalr(target: &Target, signalr: &SignalRFinding) -> Vec<Advice> {
    let url = format!("{}{}", target.origin(), signalr.hub);
    vec![
        Advice {
            client: "JavaScript (@microsoft/signalr)",
            code: format!("new signalR.HubConnectionBuilder().withUrl(\"{url}\").build()"),
        },
        Advice {
            client: "Python (signalrcore)",
            code: format!("HubConnectionBuilder().with_url(\"{url}\").build()"),
        },
        Advice {
            client: ".NET (Microsoft.AspNetCore.SignalR.Client)",
            code: format!("new HubConnectionBuilder().WithUrl(\"{url}\").Build()"),
        },
    ]
}

fn render(report: &ProbeReport, style: Style) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if report.verdict == "unreachable" {
        // Every request failed the same way: the error on stderr says it once.
        return out;
    }
    for attempt in &report.attempts {
        let status = attempt
            .status
            .map_or_else(|| "---".to_owned(), |s| s.to_string());
        let mark = if attempt.good {
            style.green("✓")
        } else {
            style.dim("·")
        };
        let _ = writeln!(out, "  {mark} {}", attempt.request);
        let _ = writeln!(
            out,
            "      {}  {}",
            style.dim(&status),
            style.dim(&attempt.answer)
        );
        let _ = writeln!(out, "      → {}", attempt.finding);
    }
    out.push('\n');
    let headline = match report.verdict {
        "none" | "unreachable" => style.red(&report.summary),
        "signalr" => style.yellow(&report.summary),
        _ => style.green(&report.summary),
    };
    let _ = writeln!(out, "{}", style.bold(headline));
    let mut field = |label: &str, value: String| {
        let _ = writeln!(out, "  {} {value}", style.dim(format!("{label:<12}")));
    };
    if let Some(engine) = &report.engineio {
        field("path", engine.path.clone());
        if engine.namespace != "/" {
            field("namespace", engine.namespace.clone());
        }
        let transports = match (engine.polling, engine.websocket.as_str()) {
            (false, _) => "websocket only (polling refused)".to_owned(),
            (true, "works") => "polling, upgrade to websocket (tested: works)".to_owned(),
            (true, "not offered") => "polling only (no upgrade offered)".to_owned(),
            (true, other) => format!("polling; websocket upgrade offered but {other}"),
        };
        field("transports", transports);
        let who = if engine.revision == 4 {
            "server"
        } else {
            "client"
        };
        field(
            "heartbeat",
            format!(
                "the {who} pings every {} ms, timeout {} ms",
                engine.ping_interval, engine.ping_timeout
            ),
        );
        if let Some(max) = engine.max_payload {
            field("maxPayload", format!("{max} bytes"));
        }
        if let Some(answer) = &engine.connect_answer {
            field("CONNECT", format!("answered {answer}"));
        }
    }
    if let Some(legacy) = &report.legacy
        && report.verdict == "socket.io-0.9"
    {
        field("resource", legacy.resource.clone());
        field("transports", legacy.transports.join(", "));
        field("websocket", legacy.websocket.clone());
        field(
            "heartbeat",
            format!(
                "due within {} s, close timeout {} s",
                legacy
                    .heartbeat_timeout
                    .map_or("-".into(), |t| t.to_string()),
                legacy.close_timeout.map_or("-".into(), |t| t.to_string())
            ),
        );
    }
    if let Some(signalr) = &report.signalr
        && report.verdict == "signalr"
    {
        field("hub", signalr.hub.clone());
        if let Some(version) = signalr.negotiate_version {
            field("negotiate", format!("version {version}"));
        }
        for transport in &signalr.transports {
            field(
                "transport",
                format!("{} ({})", transport.transport, transport.formats.join(", ")),
            );
        }
        if let Some(url) = &signalr.redirect {
            field("redirect", format!("Azure SignalR Service: {url}"));
        }
    }
    for note in &report.notes {
        let _ = writeln!(
            out,
            "  {} {}",
            style.dim("note        "),
            style.yellow(note)
        );
    }
    if !report.connect.is_empty() {
        let _ = writeln!(out, "\n{}", style.bold("Connect with:"));
        for advice in &report.connect {
            let _ = writeln!(out, "  {}", style.dim(advice.client));
            let _ = writeln!(out, "    {}", style.cyan(&advice.code));
        }
    }
    out
}
