//! Peers for the interop tests, started per test on a free port: `peers/signalr-hub.js` (a hub
//! fixture that the official `@microsoft/signalr` client is run against in the same test, see
//! `peers/signalr-official.js`) and aiosignalr (PyPI). Installed by `scripts/setup-peers`; a
//! missing peer fails the test, it is never skipped.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use sio_signalr::{HttpTransportType, HubConnection, HubConnectionBuilder, HubProtocol};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// A peer process; killed when dropped.
pub(crate) struct Peer {
    _child: Child,
    pub(crate) port: u16,
}

impl Peer {
    /// Starts `program args…`, which prints `{"port":N}` once listening.
    pub(crate) async fn start(mut command: Command) -> Peer {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start the peer");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let port = loop {
            let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("the peer prints its port")
                .unwrap()
                .expect("a line");
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                && let Some(port) = v["port"].as_u64()
            {
                break u16::try_from(port).unwrap();
            }
        };
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Peer {
            _child: child,
            port,
        }
    }

    /// The Node hub fixture.
    pub(crate) async fn hub() -> Peer {
        Peer::hub_with(serde_json::json!({})).await
    }

    /// The Node hub fixture with options (`{"pingMs":N}`).
    pub(crate) async fn hub_with(opts: serde_json::Value) -> Peer {
        assert!(
            peers_dir().join("node_modules/@microsoft/signalr").exists(),
            "peers/node_modules is missing: run scripts/setup-peers"
        );
        let mut c = Command::new("node");
        c.arg(peers_dir().join("signalr-hub.js"))
            .arg(opts.to_string());
        Peer::start(c).await
    }

    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

pub(crate) fn transport_name(t: HttpTransportType) -> &'static str {
    t.name()
}

pub(crate) fn protocol_name(p: HubProtocol) -> &'static str {
    p.name()
}

/// Runs `cases` with the official client against the hub at `base`; panics unless all pass.
pub(crate) async fn official(
    base: &str,
    transport: HttpTransportType,
    protocol: HubProtocol,
    cases: &[&str],
) {
    let opts = serde_json::json!({
        "base": base,
        "transport": transport.name(),
        "protocol": protocol.name(),
        "cases": cases,
    });
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        Command::new("node")
            .arg(peers_dir().join("signalr-official.js"))
            .arg(opts.to_string())
            .stdin(Stdio::null())
            .output(),
    )
    .await
    .expect("the official client finishes")
    .expect("run node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let passed: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["ok"] == true)
        .filter_map(|v| v["case"].as_str().map(str::to_owned))
        .collect();
    assert!(
        out.status.success() && passed.len() == cases.len(),
        "the official client failed on {transport:?}/{protocol:?}: {stdout}"
    );
}

pub(crate) fn builder(
    url: &str,
    transport: HttpTransportType,
    protocol: HubProtocol,
) -> HubConnectionBuilder {
    HubConnectionBuilder::new()
        .with_url(url)
        .with_transports(&[transport])
        .with_hub_protocol(protocol)
}

pub(crate) async fn connected(
    url: &str,
    transport: HttpTransportType,
    protocol: HubProtocol,
) -> HubConnection {
    let c = builder(url, transport, protocol).build().unwrap();
    c.start().await.unwrap();
    c
}

impl Peer {
    /// aiosignalr (PyPI) as shipped, hub at `/hub`.
    pub(crate) async fn aiosignalr() -> Peer {
        let python = peers_dir().join(".venv/bin/python");
        assert!(
            python.exists(),
            "peers/.venv is missing: run scripts/setup-peers"
        );
        let mut c = Command::new(python);
        c.arg(peers_dir().join("signalr_aiosignalr.py"));
        Peer::start(c).await
    }
}
