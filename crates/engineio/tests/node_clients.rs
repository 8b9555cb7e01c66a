//! Real clients from npm against our server: engine.io-client 6 (Engine.IO v4, Socket.IO 3/4)
//! and engine.io-client 3.5 (Engine.IO v3, Socket.IO 2), driven by `peers/eio-client.js`.
//!
//! The clients are installed by `scripts/setup-peers` (which `scripts/test` runs before
//! `cargo test`). Without them these tests fail, saying so: they are never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::{path::PathBuf, process::Stdio, time::Duration};

use common::{Event, TestServer, start_recording};
use serde_json::{Value, json};
use sio_engineio::{CloseReason, EngineConfig};

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

fn require_peers() {
    for package in ["engine.io-client", "engine.io-client-v3"] {
        let manifest = peers()
            .join("node_modules")
            .join(package)
            .join("package.json");
        assert!(
            manifest.is_file(),
            "npm package {package} is missing from peers/node_modules: run scripts/setup-peers \
             (scripts/test runs it before cargo test)"
        );
    }
}

/// Runs the client script to its end (it has its own 10 s deadline; ours is 20 s) and returns
/// the events it printed. The process is killed if the test gives up on it.
async fn run_client(server: &TestServer, scenario: &str, version: &str) -> Vec<Value> {
    require_peers();
    let child = tokio::process::Command::new("node")
        .arg(peers().join("eio-client.js"))
        .arg(server.url(""))
        .arg(scenario)
        .arg(version)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("could not run `node`: Node.js 18 or later must be on PATH");
    let output = tokio::time::timeout(Duration::from_secs(20), child.wait_with_output())
        .await
        .expect("the client script did not finish within 20 s (killed)")
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{version} {scenario}: client failed ({})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect()
}

/// What a scenario must show, on the client and on the server.
struct Expect {
    opens_on: &'static str,
    upgrades: bool,
    heartbeats: usize,
    ends_on: &'static str,
}

const DEFAULT: Expect = Expect {
    opens_on: "polling",
    upgrades: true,
    heartbeats: 0,
    ends_on: "websocket",
};
const WEBSOCKET: Expect = Expect {
    opens_on: "websocket",
    upgrades: false,
    heartbeats: 0,
    ends_on: "websocket",
};
const POLLING: Expect = Expect {
    opens_on: "polling",
    upgrades: false,
    heartbeats: 0,
    ends_on: "polling",
};

async fn scenario(version: &str, scenario: &str, config: EngineConfig, expect: Expect) {
    let config = EngineConfig {
        allow_eio3: true,
        ..config
    };
    let (server, mut events) = start_recording(config).await;
    let printed = run_client(&server, scenario, version).await;
    let context = format!("{version} {scenario}: {printed:#?}");
    let mut printed = printed.into_iter();
    let mut next = || {
        printed
            .next()
            .unwrap_or_else(|| panic!("missing events in {context}"))
    };

    let open = next();
    assert_eq!(open["event"], "open", "{context}");
    assert_eq!(open["transport"], expect.opens_on, "{context}");
    let sid = open["sid"].as_str().unwrap().to_owned();
    if expect.upgrades {
        assert_eq!(
            next(),
            json!({"event": "upgrade", "transport": "websocket"}),
            "{context}"
        );
    }
    for _ in 0..expect.heartbeats {
        assert_eq!(next(), json!({"event": "pong"}), "{context}");
    }
    assert_eq!(
        next(),
        json!({"event": "message", "text": "hello € 😀"}),
        "{context}"
    );
    assert_eq!(
        next(),
        json!({"event": "message", "binary": [1, 2, 3, 255]}),
        "{context}"
    );
    assert_eq!(
        next(),
        json!({"event": "transport", "transport": expect.ends_on}),
        "{context}"
    );
    assert_eq!(
        next(),
        json!({"event": "close", "reason": "forced close"}),
        "{context}"
    );
    assert_eq!(printed.next(), None, "{context}");

    // The server saw the same session, both messages, and a client close (never a timeout).
    assert_eq!(events.next().await, Event::Open(sid.clone()));
    assert_eq!(
        events.next().await,
        Event::Message(sid.clone(), "hello € 😀".as_bytes().to_vec(), false)
    );
    assert_eq!(
        events.next().await,
        Event::Message(sid.clone(), vec![1, 2, 3, 255], true)
    );
    assert_eq!(
        events.next().await,
        Event::Close(sid, CloseReason::TransportClose)
    );
    assert_eq!(server.engine.session_count(), 0);
}

fn calm() -> EngineConfig {
    EngineConfig::default()
}

/// Short heartbeats: several ping intervals pass during a scenario of about a second.
fn short_heartbeat() -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(200),
        ping_timeout: Duration::from_millis(300),
        ..EngineConfig::default()
    }
}

#[tokio::test]
async fn v4_client_upgrades_from_polling_to_websocket() {
    scenario("v4", "default", calm(), DEFAULT).await;
}

#[tokio::test]
async fn v4_client_websocket_only() {
    scenario("v4", "websocket", calm(), WEBSOCKET).await;
}

#[tokio::test]
async fn v4_client_polling_only() {
    scenario("v4", "polling", calm(), POLLING).await;
}

#[tokio::test]
async fn v4_client_force_base64_over_websocket() {
    scenario("v4", "base64", calm(), DEFAULT).await;
}

#[tokio::test]
async fn v4_client_force_base64_polling() {
    scenario("v4", "base64-polling", calm(), POLLING).await;
}

#[tokio::test]
async fn v4_client_answers_server_pings() {
    let expect = Expect {
        heartbeats: 5,
        ..DEFAULT
    };
    scenario("v4", "heartbeat", short_heartbeat(), expect).await;
}

#[tokio::test]
async fn v3_client_upgrades_from_polling_to_websocket() {
    scenario("v3", "default", calm(), DEFAULT).await;
}

#[tokio::test]
async fn v3_client_websocket_only() {
    scenario("v3", "websocket", calm(), WEBSOCKET).await;
}

#[tokio::test]
async fn v3_client_polling_only() {
    scenario("v3", "polling", calm(), POLLING).await;
}

#[tokio::test]
async fn v3_client_force_base64_over_websocket() {
    scenario("v3", "base64", calm(), DEFAULT).await;
}

#[tokio::test]
async fn v3_client_force_base64_polling() {
    scenario("v3", "base64-polling", calm(), POLLING).await;
}

#[tokio::test]
async fn v3_client_heartbeat_keeps_the_session_alive() {
    let expect = Expect {
        heartbeats: 5,
        ..DEFAULT
    };
    scenario("v3", "heartbeat", short_heartbeat(), expect).await;
}
