//! `sio serve`, driven as a built binary: its path written with or without slashes, graceful
//! shutdown on SIGTERM and SIGINT seen by the official socket.io-client 4 (npm, through
//! `peers/sio-client.js`), its log levels, the events its `--help` lists, and options that
//! cannot work refused with a hint.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::process::Stdio;

use common::{Running, Serve, WAIT, free_port, run, sio};
use serde_json::{Value as Json, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

fn peers() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// `sio serve` with these options on a free port, once it listens; returns it, its port and the
/// listening line.
async fn serve_with(options: &[&str]) -> (Running, u16, String) {
    let port = free_port();
    let port_text = port.to_string();
    let mut args = vec!["serve", "--port", &port_text];
    args.extend_from_slice(options);
    let mut running = Running::start(&args);
    let line = running
        .line_where("the listening line", |l| l.contains("listening on"))
        .await;
    (running, port, line)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_with_or_without_slashes() {
    for written in ["socket", "/socket", "socket/", "/socket/"] {
        let (mut serve, port, line) = serve_with(&["--path", written]).await;
        assert!(
            line.ends_with(&format!("listening on http://127.0.0.1:{port}/socket/")),
            "{written}: {line}"
        );
        for client_path in ["socket", "/socket/"] {
            let output = run(&[
                "emit",
                &format!("http://127.0.0.1:{port}"),
                "echo",
                "1",
                "--ack",
                "--path",
                client_path,
            ])
            .await;
            assert_eq!(
                output.code,
                Some(0),
                "{written} / {client_path}: {output:?}"
            );
            assert_eq!(output.stdout.trim(), "[1]");
        }
        // The start-up hint names the path when it is not the default.
        let hint = serve
            .line_where("the hint", |l| l.contains("try: sio listen"))
            .await;
        assert!(
            hint.contains(&format!(
                "sio listen http://127.0.0.1:{port} --path /socket/"
            )),
            "{hint}"
        );
    }
}

/// `peers/sio-client.js`: official socket.io-client 4 connections, commands on stdin, what they
/// see as JSON lines on stdout.
struct JsClients {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
}

impl JsClients {
    fn start(url: &str) -> JsClients {
        assert!(
            peers().join("node_modules/socket.io-client").exists(),
            "peers/node_modules is missing: run scripts/setup-peers"
        );
        let mut child = Command::new("node")
            .arg(peers().join("sio-client.js"))
            .arg(url)
            .arg("v4")
            .env("SIO_CLIENT_TIMEOUT_MS", "60000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start node peers/sio-client.js");
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        JsClients {
            _child: child,
            stdin,
            lines,
        }
    }

    async fn send(&mut self, command: Json) {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    async fn wait(&mut self, what: &str, pred: impl Fn(&Json) -> bool) -> Json {
        let found = tokio::time::timeout(WAIT, async {
            while let Ok(Some(line)) = self.lines.next_line().await {
                let event: Json = serde_json::from_str(&line).unwrap();
                if pred(&event) {
                    return Some(event);
                }
            }
            None
        })
        .await;
        match found {
            Ok(Some(event)) => event,
            Ok(None) => panic!("the clients ended before {what}"),
            Err(_) => panic!("no {what} within {WAIT:?}"),
        }
    }
}

/// SIGTERM (`docker stop`, systemd) and SIGINT (Ctrl-C) both end `sio serve` with exit status 0
/// after telling every client: a WebSocket client gets a close frame (not 1006, a connection
/// dropped without one), a long-polling client's pending poll is answered with the close
/// packet (`transport close`, not the `transport error` of a poll cut off).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_on_term_and_int() {
    for signal in ["TERM", "INT"] {
        let serve = Serve::start().await;
        let mut clients = JsClients::start(&serve.url(""));
        for (m, transport) in [("ws", "websocket"), ("poll", "polling")] {
            clients
                .send(json!({"op": "manager", "m": m, "opts": {
                    "transports": [transport], "reconnection": false,
                }}))
                .await;
            clients
                .send(json!({"op": "socket", "s": m, "m": m, "nsp": "/"}))
                .await;
            clients
                .wait(&format!("{m} connected"), |e| {
                    e["ev"] == "connect" && e["s"] == m
                })
                .await;
        }
        // The polling client has a poll pending now: an acknowledged round trip on it has
        // completed, and it polls again right after each answer.
        clients
            .send(json!({"op": "call", "s": "poll", "req": 1, "event": "echo", "args": [1]}))
            .await;
        clients
            .wait("the ack", |e| e["ev"] == "ack" && e["req"] == 1)
            .await;

        let (code, stderr) = serve.running.signal(signal).await;
        assert_eq!(code, Some(0), "SIG{signal}: {stderr}");
        let mut closes = Vec::new();
        for _ in 0..2 {
            let close = clients.wait("a close", |e| e["ev"] == "close").await;
            closes.push(close);
        }
        closes.sort_by_key(|c| c["m"].as_str().unwrap_or_default().to_owned());
        assert_eq!(closes[0]["m"], "poll", "{closes:?}");
        assert_eq!(
            closes[0]["reason"], "transport close",
            "SIG{signal}: {closes:?}"
        );
        assert_eq!(closes[1]["m"], "ws", "{closes:?}");
        assert_eq!(
            closes[1]["reason"], "transport close",
            "SIG{signal}: {closes:?}"
        );
        assert_ne!(
            closes[1]["code"], 1006,
            "SIG{signal}: the WebSocket was dropped without a close frame: {closes:?}"
        );
    }
}

/// Connections at INFO, events (with binary arguments shown as `sio listen` shows them) only
/// at DEBUG.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_logged_at_debug() {
    for level in ["info", "debug"] {
        let port = free_port();
        let mut command = sio(&["serve", "--port", &port.to_string()]);
        command.env("RUST_LOG", level);
        let mut serve = Running::spawn(command);
        serve
            .line_where("the listening line", |l| l.contains("listening on"))
            .await;
        let output = run(&[
            "emit",
            &format!("http://127.0.0.1:{port}"),
            "echo",
            r#"{"_binary":true,"base64":"AAH/"}"#,
            "--ack",
        ])
        .await;
        assert_eq!(output.code, Some(0), "{output:?}");
        // The event is logged before its ack is sent, the disconnection after.
        serve
            .line_where("the connection", |l| {
                l.contains("INFO") && l.contains(" connected")
            })
            .await;
        serve
            .line_where("the disconnection", |l| l.contains("disconnected"))
            .await;
        let event_lines: Vec<&String> = serve
            .seen
            .iter()
            .filter(|l| l.contains("event=echo"))
            .collect();
        if level == "info" {
            assert!(event_lines.is_empty(), "{:#?}", serve.seen);
        } else {
            assert_eq!(event_lines.len(), 1, "{:#?}", serve.seen);
            assert!(event_lines[0].contains("DEBUG"), "{}", event_lines[0]);
            assert!(
                event_lines[0].contains(r#"[{"_binary":true,"length":3,"base64":"AAH/"}]"#),
                "{}",
                event_lines[0]
            );
        }
    }
}

/// The events `sio serve --help` lists for the README's examples, in `/` and `/chat`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn example_events() {
    let serve = Serve::start().await;
    let cases: [(&str, &[&str], Json); 6] = [
        ("/", &["add", r#"{"a":2,"b":40}"#], json!([{"sum": 42}])),
        ("/chat", &["add", "1.5", "2"], json!([{"sum": 3.5}])),
        (
            "/chat",
            &[
                "upload",
                "report.bin",
                r#"{"_binary":true,"base64":"AAECAw=="}"#,
            ],
            json!([{"name": "report.bin", "bytes": 4}]),
        ),
        ("/chat", &["count"], json!([1])),
        ("/chat", &["count", "nobody-here"], json!([0])),
        ("/chat", &["join", "r1"], json!([true])),
    ];
    for (nsp, args, expected) in cases {
        let url = serve.url(nsp);
        let mut argv = vec!["emit", url.as_str()];
        argv.extend_from_slice(args);
        argv.push("--ack");
        let output = run(&argv).await;
        assert_eq!(output.code, Some(0), "{argv:?}: {output:?}");
        let answer: Json = serde_json::from_str(output.stdout.trim()).unwrap();
        assert_eq!(answer, expected, "{argv:?}");
    }
    // Other namespaces are refused, as Node refuses them.
    let output = run(&["emit", &serve.url("/nope"), "hello"]).await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("Invalid namespace"), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn options_that_cannot_work_are_refused() {
    let output = run(&["serve", "--host", "nope.invalid", "--port", "0"]).await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("--host"), "{output:?}");
    assert!(!output.stderr.contains("--port"), "{output:?}");

    // The port taken: the hint is another port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let output = run(&["serve", "--port", &port]).await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("--port"), "{output:?}");

    for args in [
        &["serve", "--adapter", "streams"][..],
        &["serve", "--redis-key", "app"],
    ] {
        let output = run(args).await;
        assert_eq!(output.code, Some(2), "{args:?}: {output:?}");
        assert!(output.stderr.contains("--redis <URL>"), "{output:?}");
    }
    for origin in [
        "not a url",
        "localhost:5173",
        "http://localhost:5173/",
        "http://h/app",
    ] {
        let output = run(&["serve", "--cors", origin]).await;
        assert_eq!(output.code, Some(2), "{origin}: {output:?}");
        assert!(output.stderr.contains("not an origin"), "{output:?}");
    }
    // What a browser sends is accepted, and `*`.
    let (_serve, _, _) = serve_with(&["--cors", "http://localhost:5173", "--cors", "*"]).await;
}

#[tokio::test]
async fn help_documents_events_logs_and_signals() {
    let output = run(&["serve", "--help"]).await;
    assert_eq!(output.code, Some(0));
    for needle in [
        "/chat",
        "count [ROOM]",
        "add ",
        "upload NAME DATA",
        "RUST_LOG",
        "SIGTERM",
    ] {
        assert!(
            output.stdout.contains(needle),
            "{needle}: {}",
            output.stdout
        );
    }
}
