//! `sio probe`, driven as a built binary against real servers: ours (in-process and `sio serve`),
//! npm socket.io 4 (several configurations), socket.io 2.5.1, plain engine.io 3 and 6,
//! socket.io 0.9.19, python-socketio, a fake ASP.NET Core SignalR negotiate endpoint, a plain
//! web server, a refused port and bad URLs.
//!
//! The Node and Python servers are `peers/probe-servers.js` and `peers/probe_server.py`, on the
//! packages `scripts/setup-peers` installs (`scripts/test` runs it first). Without them these
//! tests fail and say so: they are never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;
use sio_server::{ServerConfig, SocketIo};

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// A server process that printed `PORT <n>`; killed when dropped.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args`, which prints `PORT <n>` once it listens.
fn spawn_peer(mut command: Command, what: &str) -> Peer {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(port) = line.strip_prefix("PORT ") {
                let _ = tx.send(port.trim().parse::<u16>().unwrap());
            }
        }
    });
    let port = match rx.recv_timeout(Duration::from_secs(20)) {
        Ok(port) => port,
        Err(_) => {
            let _ = child.kill();
            panic!("{what} did not print its port within 20 s");
        }
    };
    Peer { child, port }
}

fn node(kind: &str) -> Peer {
    for package in ["socket.io", "socket.io-v2", "socket.io-v09", "engine.io"] {
        assert!(
            peers()
                .join("node_modules")
                .join(package)
                .join("package.json")
                .is_file(),
            "npm package {package} is missing from peers/node_modules: run scripts/setup-peers \
             (scripts/test runs it before cargo test)"
        );
    }
    let mut command = Command::new("node");
    command.arg(peers().join("probe-servers.js")).arg(kind);
    spawn_peer(
        command,
        &format!("node peers/probe-servers.js {kind} (Node.js 18+ on PATH)"),
    )
}

fn python() -> Peer {
    let python = peers().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "peers/.venv is missing: run scripts/setup-peers (scripts/test runs it before cargo test)"
    );
    let mut command = Command::new(python);
    command.arg(peers().join("probe_server.py"));
    spawn_peer(command, "peers/probe_server.py")
}

/// Our server, in-process on a free port, on a runtime of its own; stops when dropped.
struct Ours {
    port: u16,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn ours(config: ServerConfig) -> Ours {
    let (port_tx, port_rx) = mpsc::channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            port_tx.send(listener.local_addr().unwrap().port()).unwrap();
            let io = SocketIo::new(config);
            io.on_connection(|_socket| std::future::ready(()));
            io.serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    Ours {
        port: port_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
        _stop: stop,
    }
}

/// Runs `sio probe --json <args>`; returns the report and the exit code.
fn probe(args: &[&str]) -> (Value, i32) {
    let output = cargo_bin_cmd!("sio")
        .arg("probe")
        .arg("--json")
        .args(args)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let report = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (report, output.status.code().unwrap())
}

fn notes(report: &Value) -> String {
    report["notes"].to_string()
}

/// The Engine.IO sessions the probe opened were closed, over the WebSocket after the upgrade
/// or with a POST of `1`.
fn assert_cleaned_up(report: &Value) {
    let attempts = report["attempts"].as_array().unwrap();
    let opened = attempts
        .iter()
        .filter(|a| a["finding"].as_str().unwrap().contains("open packet"))
        .count();
    let closed = attempts
        .iter()
        .filter(|a| {
            a["answer"].as_str().unwrap().contains("1 (close)")
                || a["finding"].as_str().unwrap().contains("session closed")
        })
        .count();
    assert!(opened > 0 && closed >= opened, "{report:#}");
}

#[test]
fn our_server() {
    let server = ours(ServerConfig::default());
    let url = format!("http://127.0.0.1:{}", server.port);
    let (report, code) = probe(&[&url]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5", "{report:#}");
    let engine = &report["engineio"];
    assert_eq!(engine["revision"], 4);
    assert_eq!(engine["websocket"], "works");
    assert_eq!(engine["polling"], true);
    assert_eq!(engine["pingInterval"], 25000);
    assert_eq!(engine["maxPayload"], 1_000_000);
    assert!(
        engine["connect_answer"]
            .as_str()
            .unwrap()
            .starts_with("40{\"sid\":")
    );
    assert!(notes(&report).contains("refuses Socket.IO 1.x/2.x clients"));
    assert_cleaned_up(&report);
    assert_eq!(
        report["connect"][1]["code"],
        format!("sio listen {url} --protocol v5")
    );

    // The URL's path is a namespace: ours has none but `/`.
    let (report, code) = probe(&[&format!("{url}/admin")]);
    assert_eq!(code, 0);
    assert_eq!(report["engineio"]["namespace"], "/admin");
    assert_eq!(
        report["engineio"]["connect_error"]["message"],
        "Invalid namespace"
    );
    assert!(notes(&report).contains("the namespace /admin refused the connection"));
}

#[test]
fn our_server_with_eio3_and_a_custom_path() {
    let mut config = ServerConfig::default();
    config.engine.allow_eio3 = true;
    config.engine.path = "/rt/".into();
    let server = ours(config);
    let url = format!("http://127.0.0.1:{}", server.port);
    let (report, code) = probe(&[&url, "--path", "/rt"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert_eq!(report["engineio"]["path"], "/rt/");
    assert_eq!(report["engineio_v3"]["socketio"], "v4");
    assert_eq!(report["engineio_v3"]["websocket"], "works");
    assert!(notes(&report).contains("also accepts Socket.IO 2.x clients"));
    assert!(
        report["connect"][0]["code"]
            .as_str()
            .unwrap()
            .contains(r#"path: "/rt/""#)
    );
}

#[test]
fn sio_serve_binary() {
    // A free port for `sio serve` (it prints the port it was given).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sio"));
    command.args(["serve", "--port", &port.to_string(), "--allow-eio3"]);
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening"), "{line}");
    let (report, code) = probe(&[&format!("127.0.0.1:{port}")]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert!(notes(&report).contains("also accepts Socket.IO 2.x clients"));
}

#[test]
fn npm_socket_io_4() {
    let server = node("socket.io");
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert_eq!(report["engineio"]["websocket"], "works");
    assert_eq!(report["engineio"]["upgrades"][0], "websocket");
    assert!(notes(&report).contains("refuses Socket.IO 1.x/2.x clients"));
    assert_cleaned_up(&report);

    // A URL copied from DevTools gives the path.
    let devtools = format!(
        "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket&sid=abc",
        server.port
    );
    let (report, code) = probe(&[&devtools]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert!(report.get("signalr").is_none());

    // The human report, as a person sees it.
    cargo_bin_cmd!("sio")
        .args(["probe", &server.url("")])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "Socket.IO protocol v5 (a Socket.IO 3.x/4.x server) over Engine.IO v4",
        ))
        .stdout(predicate::str::contains(
            "polling, upgrade to websocket (tested: works)",
        ))
        .stdout(predicate::str::contains(format!(
            "io(\"{}\")",
            server.url("")
        )))
        .stdout(predicate::str::contains("\x1b[").not());
}

#[test]
fn npm_socket_io_4_configurations() {
    let server = node("socket.io-eio3");
    let (report, _) = probe(&[&server.url("")]);
    assert_eq!(report["verdict"], "socket.io-v5", "{report:#}");
    assert!(notes(&report).contains("also accepts Socket.IO 2.x clients"));

    let server = node("socket.io-ws-only");
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert_eq!(report["engineio"]["polling"], false);
    assert!(
        report["connect"][0]["code"]
            .as_str()
            .unwrap()
            .contains(r#"transports: ["websocket"]"#)
    );

    let server = node("socket.io-path");
    let (report, code) = probe(&[&server.url(""), "--path", "/realtime/"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    // Without --path there is nothing at /socket.io/.
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], "none");

    let server = node("socket.io-auth");
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert_eq!(
        report["engineio"]["connect_error"]["message"],
        "not authorized"
    );
    assert!(notes(&report).contains("auth"));
}

#[test]
fn npm_socket_io_2() {
    let server = node("socket.io-v2");
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v4");
    assert_eq!(report["engineio"]["revision"], 3);
    assert_eq!(report["engineio"]["socketio"], "v4");
    assert_eq!(report["engineio"]["connect_answer"], "40");
    assert_eq!(report["engineio"]["websocket"], "works");
    assert!(notes(&report).contains("Socket.IO 3.x/4.x clients cannot connect"));
    assert!(
        report["connect"][1]["code"]
            .as_str()
            .unwrap()
            .ends_with("--protocol v4")
    );
    assert_cleaned_up(&report);
}

#[test]
fn plain_engine_io_servers() {
    // engine.io 3 under socket.io 2.5.1, with no Socket.IO on top (it echoes messages).
    let server = node("engine.io-v3");
    let (report, code) = probe(&[&server.url(""), "--path", "/engine.io/"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "engine.io-v3");
    assert!(report["engineio"].get("socketio").is_none());
    assert_eq!(report["engineio"]["websocket"], "works");

    // engine.io 6 (it echoes our CONNECT: that is not a Socket.IO answer).
    let server = node("engine.io-v4");
    let (report, code) = probe(&[&server.url(""), "--path", "/engine.io/"]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "engine.io-v4");
    assert!(report["attempts"].to_string().contains("echoing"));
}

#[test]
fn npm_socket_io_0_9() {
    let server = node("socket.io-v09");
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-0.9");
    let legacy = &report["legacy"];
    assert_eq!(legacy["heartbeat_timeout"], 60);
    assert_eq!(legacy["transports"][0], "websocket");
    assert_eq!(legacy["websocket"], "works");
    assert!(
        report["attempts"]
            .to_string()
            .contains("Welcome to socket.io")
    );
    assert!(report["attempts"].to_string().contains("disconnect=1"));
    assert_eq!(
        report["connect"][1]["code"],
        format!("sio listen {} --protocol 0.9", server.url(""))
    );
}

#[test]
fn python_socketio() {
    let server = python();
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "socket.io-v5");
    assert_eq!(report["engineio"]["websocket"], "works");
    assert!(notes(&report).contains("refuses Socket.IO 1.x/2.x clients"));
}

#[test]
fn signalr_negotiate() {
    let server = node("signalr");
    let (report, code) = probe(&[&server.url("/hubs/chat")]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["verdict"], "signalr");
    let signalr = &report["signalr"];
    assert_eq!(signalr["hub"], "/hubs/chat");
    assert_eq!(signalr["negotiate_version"], 1);
    assert_eq!(signalr["transports"][0]["transport"], "WebSockets");
    assert_eq!(signalr["transports"][2]["formats"][1], "Binary");
    assert!(
        report["connect"][0]["code"]
            .as_str()
            .unwrap()
            .contains("HubConnectionBuilder")
    );
}

#[test]
fn plain_web_server_is_not_socket_io() {
    let server = node("plain");
    cargo_bin_cmd!("sio")
        .args(["probe", &server.url("")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "answered, but not as Socket.IO, Engine.IO or SignalR",
        ))
        .stderr(predicate::str::contains("HTTP 404: Not Found"))
        .stderr(predicate::str::contains("try: --path"));
    let (report, code) = probe(&[&server.url("")]);
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], "none");
}

#[test]
fn refused_port_and_bad_urls() {
    // A port nothing listens on: bind one, then let it go.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    cargo_bin_cmd!("sio")
        .args(["probe", &format!("http://127.0.0.1:{port}")])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "cannot reach 127.0.0.1:{port}: connection refused"
        )))
        .stderr(predicate::str::contains("is the server running"));
    let (report, code) = probe(&[&format!("http://127.0.0.1:{port}")]);
    assert_eq!(code, 1);
    assert_eq!(report["verdict"], "unreachable");

    for (url, message) in [
        ("ftp://example.com", "unsupported scheme \"ftp\""),
        ("http://exa mple.com", "is not a URL"),
        ("http://", "is not a URL"),
        ("", "the URL is empty"),
    ] {
        cargo_bin_cmd!("sio")
            .args(["probe", url])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("bad URL"))
            .stderr(predicate::str::contains(message));
    }
    cargo_bin_cmd!("sio")
        .args(["probe", "http://127.0.0.1:1", "-H", "no colon"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no ':'"));
    cargo_bin_cmd!("sio")
        .args(["probe", "http://127.0.0.1:1", "--timeout", "0"])
        .assert()
        .code(2);
    cargo_bin_cmd!("sio").args(["probe"]).assert().code(2);
}

#[test]
fn help_has_examples() {
    cargo_bin_cmd!("sio")
        .args(["probe", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"))
        .stdout(predicate::str::contains("sio probe http://localhost:3000"))
        .stdout(predicate::str::contains("Exit status"));
}
