//! Each example, run as the program a user would run, driven by its Node script from
//! `peers/examples/` with the real socket.io-client / engine.io-client from npm.
//!
//! The binaries are built by `cargo build --examples` from the test itself: a no-op when
//! `cargo test` has just built them, and a short build when a single test is run. The Node
//! packages come from `scripts/setup-peers` (run by `scripts/test`); without them the tests
//! fail saying so, they are never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the examples once per test binary and returns the path of `name`'s executable.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo
            .current_dir(workspace())
            .args(["build", "-p", "sio-examples", "--examples"])
            .arg("--message-format=json-render-diagnostics")
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let output = cargo.output().expect("could not run cargo");
        assert!(output.status.success(), "cargo build --examples failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|message| message["reason"] == "compiler-artifact")
            .filter(|message| message["target"]["kind"] == json!(["example"]))
            .filter_map(|message| {
                Some((
                    message["target"]["name"].as_str()?.to_owned(),
                    PathBuf::from(message["executable"].as_str()?),
                ))
            })
            .collect()
    });
    built
        .get(name)
        .unwrap_or_else(|| panic!("cargo built no example named {name}"))
        .clone()
}

/// A running example: killed when dropped.
struct Server {
    _child: Child,
    url: String,
    /// What the example printed after its "listening" line.
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    /// Starts the example on a free port and waits for its "listening on http://…" line.
    async fn start(name: &str) -> Server {
        let mut child = Command::new(example(name))
            .env("PORT", "0")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("could not start example {name}: {error}"));
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("{name} printed nothing within 10 s"))
            .unwrap()
            .unwrap_or_else(|| panic!("{name} exited before listening"));
        let url = first
            .split_once(" listening on ")
            .map(|(_, url)| url.to_owned())
            .unwrap_or_else(|| panic!("unexpected first line from {name}: {first}"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Server {
            _child: child,
            url,
            log,
        }
    }

    /// Waits a little for a line of the server's output that contains `text`.
    async fn assert_logged(&self, text: &str) {
        for _ in 0..50 {
            if self
                .log
                .lock()
                .unwrap()
                .iter()
                .any(|line| line.contains(text))
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!(
            "the server never printed {text:?}; it printed:\n{}",
            self.log.lock().unwrap().join("\n")
        );
    }
}

fn require_peers() {
    for package in ["socket.io-client", "engine.io-client"] {
        let manifest = workspace()
            .join("peers/node_modules")
            .join(package)
            .join("package.json");
        assert!(
            manifest.is_file(),
            "npm package {package} is missing from peers/node_modules: run scripts/setup-peers \
             (scripts/test runs it before cargo test)"
        );
    }
}

/// Runs `peers/examples/<script>.js` against the server and returns its transcript, without
/// the final `{"done":true}`.
async fn drive(server: &Server, script: &str) -> Vec<Value> {
    require_peers();
    let child = Command::new("node")
        .arg(
            workspace()
                .join("peers/examples")
                .join(format!("{script}.js")),
        )
        .arg(&server.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("could not run `node`: Node.js 18 or later must be on PATH");
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the Node script did not finish within 30 s (killed)")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script}.js failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}\nserver:\n{}",
        output.status,
        server.log.lock().unwrap().join("\n")
    );
    let mut transcript: Vec<Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    assert_eq!(
        transcript.pop(),
        Some(json!({ "done": true })),
        "{script}.js did not finish"
    );
    transcript
}

/// Compares transcripts line by line, so that a failure names the first differing step.
fn assert_transcript(actual: &[Value], expected: &[Value]) {
    for (index, (actual, expected)) in actual.iter().zip(expected).enumerate() {
        assert_eq!(actual, expected, "step {index} differs");
    }
    assert_eq!(
        actual.len(),
        expected.len(),
        "transcript length differs:\n{}",
        actual
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test]
async fn chat() {
    let server = Server::start("chat").await;
    let transcript = drive(&server, "chat").await;
    assert_transcript(
        &transcript,
        &[
            json!({ "step": "connected" }),
            json!({ "alice_joins_rust": ["alice"] }),
            json!({
                "bob_joins_rust": ["alice", "bob"],
                "alice_sees": [{ "room": "rust", "name": "bob" }],
            }),
            json!({ "carol_joins_js": ["carol"] }),
            json!({
                "bob_says": { "ok": true },
                "alice_gets": [{ "room": "rust", "from": "bob", "text": "hello rustaceans" }],
            }),
            json!({ "carol_says": { "ok": false, "error": "join the room first" } }),
            json!({ "bob_sees": [{ "room": "rust", "name": "alice", "reason": "left" }] }),
            json!({ "users_in_rust": ["bob"] }),
            json!({
                "carol_joins_rust": ["bob", "carol"],
                "bob_sees": [{ "room": "rust", "name": "carol" }],
            }),
            json!({
                "carol_sees": [{
                    "room": "rust",
                    "name": "bob",
                    "reason": "client namespace disconnect",
                }],
            }),
            json!({ "users_in_rust": ["carol"] }),
        ],
    );
    server
        .assert_logged("bob disconnected: client namespace disconnect")
        .await;
}

#[tokio::test]
async fn auth_middleware() {
    let server = Server::start("auth_middleware").await;
    let transcript = drive(&server, "auth_middleware").await;
    let refused =
        |message: &str, code: &str| json!({ "message": message, "data": { "code": code } });
    assert_transcript(
        &transcript,
        &[
            json!({ "no_token": refused("authentication required", "NO_TOKEN") }),
            json!({ "bad_token": refused("invalid token", "BAD_TOKEN") }),
            json!({ "bob_welcome": [{ "name": "bob", "role": "member" }] }),
            json!({ "bob_whoami": { "name": "bob", "role": "member" } }),
            json!({ "bob_admin": refused("forbidden", "NOT_ADMIN") }),
            json!({ "no_token_admin": refused("authentication required", "NO_TOKEN") }),
            json!({ "alice_admin_online": ["bob"] }),
        ],
    );
    server.assert_logged("refused token \"nope\"").await;
    server
        .assert_logged("admin alice connected to /admin")
        .await;
}

#[tokio::test]
async fn acks() {
    let server = Server::start("acks").await;
    let mut transcript = drive(&server, "acks").await;
    // The wording of a deserialization error is serde's business; that it is one is ours.
    let bad = transcript
        .get_mut(1)
        .and_then(|step| step.get_mut("add_bad"))
        .and_then(|answer| answer.get_mut("error"))
        .expect("add_bad answers { error }");
    assert!(bad.is_string(), "error: {bad}");
    *bad = json!("…");
    assert_transcript(
        &transcript,
        &[
            json!({ "add": 5 }),
            json!({ "add_bad": { "error": "…" } }),
            json!({ "alice_asked": ["What is 6 × 7?"] }),
            json!({ "alice_result": [{ "answer": 42, "correct": true }] }),
            json!({ "carol_asked": ["What is 6 × 7?"] }),
            json!({
                "carol_result": [{ "error": "operation has timed out" }],
                "waited_for_the_limit": true,
            }),
            json!({ "poll": { "votes": { "js": 1, "rust": 1 }, "answered": 2, "expected": 3 } }),
            json!({
                "poll_everyone": { "votes": { "js": 1, "rust": 2 }, "answered": 3, "expected": 3 },
                "before_the_limit": true,
            }),
        ],
    );
    server.assert_logged("did not answer in time").await;
}

#[tokio::test]
async fn axum_integration() {
    let server = Server::start("axum_integration").await;
    let transcript = drive(&server, "axum_integration").await;
    let announcement = json!([{ "text": "deploy at 5pm" }]);
    assert_transcript(
        &transcript,
        &[
            json!({ "index": 200, "html": true, "has_client": true }),
            json!({ "stats_before": { "sockets": 0 } }),
            json!({ "welcomed": true }),
            json!({ "transports": ["websocket", "websocket"] }),
            json!({ "stats_connected": { "sockets": 2 } }),
            json!({
                "announce": 200,
                "body": { "sent_to": 2 },
                "a": announcement,
                "b": announcement,
            }),
            json!({ "bad_json": 400 }),
            json!({ "wrong_shape": 422 }),
            json!({ "not_found": 404 }),
            json!({ "stats_after_one_left": { "sockets": 1 } }),
        ],
    );
    server
        .assert_logged("announced \"deploy at 5pm\" to 2 sockets")
        .await;
}

#[tokio::test]
async fn engine_echo() {
    let server = Server::start("engine_echo").await;
    let transcript = drive(&server, "engine_echo").await;
    let echoes = json!([
        { "text": "hello € 😀" },
        { "binary": [1, 2, 3, 255] },
        { "text_length": 100_000 },
    ]);
    let session = |scenario: &str, transport: &str| {
        json!({
            "scenario": scenario,
            "transport": transport,
            "echoes": echoes,
            // engine.io-client's name for a close it asked for itself.
            "close": "forced close",
        })
    };
    assert_transcript(
        &transcript,
        &[
            session("polling", "polling"),
            session("websocket", "websocket"),
            session("upgrade", "websocket"),
        ],
    );
    server
        .assert_logged("closed: transport close after 3 messages")
        .await;
}
