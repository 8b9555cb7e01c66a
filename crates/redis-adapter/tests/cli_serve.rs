//! `sio serve --redis URL [--adapter …]`: CLI servers join a cluster, Node nodes included.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::{path::PathBuf, process::Stdio, sync::OnceLock};

use common::{Clients, ClusterNode, Kind, Redis, STEP, workspace};
use serde_json::{Value as Json, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

fn sio_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let output = std::process::Command::new(env!("CARGO"))
                .current_dir(workspace())
                .args(["build", "-p", "sio-cli", "--bin", "sio"])
                .args(["--message-format=json-render-diagnostics"])
                .stderr(Stdio::inherit())
                .output()
                .unwrap();
            assert!(output.status.success(), "cargo build -p sio-cli failed");
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<Json>(line).ok())
                .filter(|m| m["target"]["name"] == "sio")
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .expect("cargo built no sio executable")
        })
        .clone()
}

/// `sio serve` on a free port with `extra` options; the node's URL.
async fn serve(extra: &[&str]) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(sio_binary())
        .args(["serve", "--port", &port.to_string()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = format!("http://127.0.0.1:{port}");
    // Log lines may come first; the "listening on" line names the URL.
    let listening = tokio::time::timeout(STEP, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("listening on") && line.contains(&url) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(listening, Ok(true), "sio serve did not start");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, url)
}

async fn cli_nodes_share_rooms(adapter: &str) {
    let redis = Redis::start().await;
    let url = redis.url();
    let args = ["--redis", url.as_str(), "--adapter", adapter];
    let (_a, url_a) = serve(&args).await;
    let (_b, url_b) = serve(&args).await;
    let node = ClusterNode::start(Kind::Node, &redis, adapter, "socket.io").await;

    let mut ca = Clients::for_url(&url_a).await;
    let mut cb = Clients::for_url(&url_b).await;
    let mut cn = Clients::new(&node).await;
    ca.connect("a", json!({})).await;
    cb.connect("b", json!({})).await;
    cn.connect("n", json!({})).await;
    assert_eq!(ca.ask("a", "join", json!(["r1"])).await, json!(true));
    assert_eq!(cn.ask("n", "join", json!(["r1"])).await, json!(true));
    common::until_answer(&mut cn, "n", "server-count", json!([]), json!(3)).await;

    // From a CLI node: reaches the other CLI node's and the Node node's room members.
    assert_eq!(
        cb.ask("b", "to", json!(["r1", "hello", 1, "x"])).await,
        json!(true)
    );
    assert_eq!(ca.event("a", "hello").await["args"], json!([1, "x"]));
    assert_eq!(cn.event("n", "hello").await["args"], json!([1, "x"]));
    // From the Node node: reaches the CLI node's room member.
    assert_eq!(
        cn.ask("n", "to-room", json!(["r1", "back", 2])).await,
        json!(true)
    );
    assert_eq!(ca.event("a", "back").await["args"], json!([2]));
    assert!(!cb.received("b", "hello") && !cb.received("b", "back"));
}

#[tokio::test]
async fn sio_serve_joins_a_pubsub_cluster() {
    cli_nodes_share_rooms("pubsub").await;
}

#[tokio::test]
async fn sio_serve_joins_a_streams_cluster() {
    cli_nodes_share_rooms("streams").await;
}

#[tokio::test]
async fn sio_serve_joins_a_sharded_cluster() {
    cli_nodes_share_rooms("sharded").await;
}

#[tokio::test]
async fn sio_serve_says_what_to_do_without_redis() {
    let output = Command::new(sio_binary())
        .args(["serve", "--port", "0", "--redis", "redis://127.0.0.1:1"])
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot join the cluster through redis://127.0.0.1:1"),
        "{stderr}"
    );
    assert!(stderr.contains("start redis-server"), "{stderr}");
}
