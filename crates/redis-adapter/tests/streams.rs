//! The streams adapter: Rust and Node (`@socket.io/redis-streams-adapter`) nodes in one cluster,
//! and connection state recovery on ANOTHER node than the one the client lost.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::{collections::VecDeque, process::Stdio, time::Duration};

use common::{Clients, ClusterNode, Kind, Redis, STEP, cluster_works, peers, until_answer};
use serde_json::{Value as Json, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::mpsc,
};

#[tokio::test]
async fn rust_nodes_form_a_streams_cluster() {
    cluster_works(&[Kind::Rust, Kind::Rust], "streams", "socket.io").await;
}

#[tokio::test]
async fn rust_and_node_nodes_form_one_streams_cluster() {
    cluster_works(
        &[Kind::Rust, Kind::Node, Kind::Rust],
        "streams",
        "socket.io",
    )
    .await;
}

/// `peers/recovery-client.js`: one socket whose connection is dropped and resumed elsewhere.
struct RecoveryClient {
    _child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Json>,
    pending: VecDeque<Json>,
}

impl RecoveryClient {
    async fn start(url: &str) -> RecoveryClient {
        let mut child = Command::new("node")
            .arg(peers().join("recovery-client.js"))
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let mut reader = BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = reader.next_line().await {
                let _ = tx.send(serde_json::from_str(&line).unwrap());
            }
        });
        let mut client = RecoveryClient {
            _child: child,
            stdin,
            lines,
            pending: VecDeque::new(),
        };
        client.wait(|e| e["ev"] == "ready").await;
        client
    }

    async fn send(&mut self, command: Json) {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    async fn wait(&mut self, matches: impl Fn(&Json) -> bool) -> Json {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i).unwrap();
        }
        loop {
            let event = tokio::time::timeout(STEP, self.lines.recv())
                .await
                .expect("the recovery client said nothing in time")
                .expect("the recovery client exited");
            assert_ne!(event["ev"], "fail", "{event}");
            if matches(&event) {
                return event;
            }
            self.pending.push_back(event);
        }
    }

    /// Events named `name` received so far, in order (taken).
    fn take_events(&mut self, name: &str) -> Vec<Json> {
        let (taken, rest) = self
            .pending
            .drain(..)
            .partition(|e| e["ev"] == "event" && e["name"] == name);
        self.pending = rest;
        taken.into_iter().collect()
    }
}

/// Waits until Redis holds `n` stored sessions.
async fn until_sessions(redis: &Redis, n: usize) {
    let client = sio_redis_adapter::redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let keys: Vec<String> = sio_redis_adapter::redis::cmd("KEYS")
            .arg("sio:session:*")
            .query_async(&mut conn)
            .await
            .unwrap();
        if keys.len() == n {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} sessions stored, not {n}",
            keys.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn recovery_on_another_node(lost: Kind, found: Kind) {
    let redis = Redis::start().await;
    let args = ["--recovery"];
    let a = ClusterNode::start_with(lost, &redis, "streams", "socket.io", &args).await;
    let b = ClusterNode::start_with(found, &redis, "streams", "socket.io", &args).await;
    // An observer on B broadcasts; the recovering client starts on A.
    let mut x = Clients::new(&b).await;
    x.connect("x", json!({})).await;
    until_answer(&mut x, "x", "server-count", json!([]), json!(2)).await;

    let mut r = RecoveryClient::start(&a.url()).await;
    let first = r.wait(|e| e["ev"] == "connect").await;
    let id = first["id"].as_str().unwrap().to_owned();
    r.send(json!({"op": "join", "room": "r1"})).await;
    r.wait(|e| e["ev"] == "joined").await;
    assert_eq!(
        x.ask("x", "to-room", json!(["r1", "before", 0])).await,
        json!(true)
    );
    let before = r
        .wait(|e| e["ev"] == "event" && e["name"] == "before")
        .await;
    assert_eq!(before["args"], json!([0]));

    r.send(json!({"op": "drop"})).await;
    r.wait(|e| e["ev"] == "disconnect").await;
    until_sessions(&redis, 1).await;
    // Missed while away: two to its room, one to everyone, one to a room it is not in.
    for (room, n) in [("r1", 1), ("r1", 2), ("other", 3)] {
        assert_eq!(
            x.ask("x", "to-room", json!([room, "missed", n])).await,
            json!(true)
        );
    }
    assert_eq!(
        x.ask("x", "to-room", json!([id, "missed", 4])).await,
        json!(true)
    );

    r.send(json!({"op": "resume", "url": b.url()})).await;
    let again = r.wait(|e| e["ev"] == "connect").await;
    assert_eq!(
        again["id"],
        json!(id),
        "the id is given back on the other node"
    );
    assert_eq!(again["recovered"], json!(true));
    // Node writes missed packets before CONNECT; a marker after shows all that came.
    assert_eq!(
        x.ask("x", "to-room", json!(["r1", "after", 5])).await,
        json!(true)
    );
    assert_eq!(
        r.wait(|e| e["ev"] == "event" && e["name"] == "after").await["args"],
        json!([5])
    );
    let missed: Vec<Json> = r
        .take_events("missed")
        .into_iter()
        .map(|e| e["args"].clone())
        .collect();
    assert_eq!(missed, vec![json!([1]), json!([2]), json!([4])]);
    // Its rooms came back with it: it is in r1 on B, seen from the cluster.
    let ids = x.ask("x", "fetch-sockets", json!(["r1"])).await;
    assert_eq!(ids, json!([id]));
    assert_eq!(x.ask("x", "count", json!([])).await, json!(2));
}

#[tokio::test]
async fn recovery_from_rust_node_to_rust_node() {
    recovery_on_another_node(Kind::Rust, Kind::Rust).await;
}

#[tokio::test]
async fn recovery_from_rust_node_to_node_node() {
    recovery_on_another_node(Kind::Rust, Kind::Node).await;
}

#[tokio::test]
async fn recovery_from_node_node_to_rust_node() {
    recovery_on_another_node(Kind::Node, Kind::Rust).await;
}
