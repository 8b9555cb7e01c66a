//! Clusters on the classic pub/sub adapter: Rust nodes alone, and Rust and Node nodes
//! (npm socket.io + @socket.io/redis-adapter) mixed, with official socket.io-client clients on
//! every node.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::needless_range_loop
)]

mod common;

use common::{Clients, ClusterNode, Kind, Redis, until_answer};
use serde_json::json;

/// Every server-wide operation, from every node, seen by clients on every node.
async fn cluster_works(kinds: &[Kind], key: &str) {
    let redis = Redis::start().await;
    let mut nodes = Vec::new();
    for kind in kinds {
        nodes.push(ClusterNode::start(*kind, &redis, "pubsub", key).await);
    }
    let n = nodes.len();
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(Clients::new(node).await);
    }
    // Two sockets per node: a{i} in room r1, b{i} in room other.
    let mut a_ids = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        let a = format!("a{i}");
        let b = format!("b{i}");
        a_ids.push(c.connect(&a, json!({"node": i})).await);
        c.connect(&b, json!({})).await;
        assert_eq!(c.event(&a, "auth").await["args"], json!([{"node": i}]));
        assert_eq!(c.ask(&a, "join", json!(["r1"])).await, json!(true));
        assert_eq!(c.ask(&b, "join", json!(["other"])).await, json!(true));
    }
    a_ids.sort();
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer(c, &format!("a{i}"), "server-count", json!([]), json!(n)).await;
        assert_eq!(c.ask(&format!("a{i}"), "count", json!([])).await, json!(2));
    }

    // Room broadcasts from every node reach the room's sockets on every node, only them.
    for i in 0..n {
        let from = format!("a{i}");
        let args =
            json!(["r1", "news", i, format!("from {:?}", nodes[i].kind), {"nested": [1.5, null]}]);
        assert_eq!(clients[i].ask(&from, "to-room", args).await, json!(true));
        for (j, c) in clients.iter_mut().enumerate() {
            let news = c.event(&format!("a{j}"), "news").await;
            assert_eq!(
                news["args"],
                json!([i, format!("from {:?}", nodes[i].kind), {"nested": [1.5, null]}]),
                "node {j} got news from node {i}"
            );
        }
    }
    // A marker to the other room, after the news: the b sockets saw no news before it.
    let last = format!("a{}", n - 1);
    assert_eq!(
        clients[n - 1]
            .ask(&last, "to-room", json!(["other", "marker"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        let b = format!("b{j}");
        c.event(&b, "marker").await;
        assert!(
            !c.received(&b, "news"),
            "b{j} is not in r1 but got its news"
        );
    }

    // fetchSockets from every node sees every node's sockets.
    for (i, c) in clients.iter_mut().enumerate() {
        let ids = c
            .ask(&format!("a{i}"), "fetch-sockets", json!(["r1"]))
            .await;
        assert_eq!(ids, json!(a_ids), "fetch-sockets on node {i}");
    }

    // Broadcast with acks: answers from the clients of every node.
    for i in 0..n {
        let req = clients[i]
            .start_call(&format!("a{i}"), "ask-room", json!(["r1", "question", i]))
            .await;
        let mut expected = Vec::new();
        for (j, c) in clients.iter_mut().enumerate() {
            let s = format!("a{j}");
            let question = c.event(&s, "question").await;
            assert_eq!(question["args"], json!([i]));
            let answer = format!("answer {j}");
            c.answer(&s, &question, json!([answer])).await;
            expected.push(answer);
        }
        expected.sort();
        assert_eq!(
            clients[i].wait_ack(&req).await,
            json!([expected]),
            "acks on node {i}"
        );
    }

    // Server-side emit with acks: one answer per other node.
    for i in 0..n {
        let mut others: Vec<String> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, node)| format!("node:{}", node.port))
            .collect();
        others.sort();
        let answers = clients[i]
            .ask(&format!("a{i}"), "server-side-emit", json!(["whoami"]))
            .await;
        assert_eq!(answers, json!(others), "server-side emit from node {i}");
    }

    // socketsJoin from the first node: every b joins r2 wherever it is.
    assert_eq!(
        clients[0]
            .ask("a0", "sockets-join", json!(["other", "r2"]))
            .await,
        json!(true)
    );
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer_len(c, &format!("a{i}"), "r2", n).await;
    }
    assert_eq!(
        clients[n - 1]
            .ask(&last, "to-room", json!(["r2", "r2news", "x"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            c.event(&format!("b{j}"), "r2news").await["args"],
            json!(["x"])
        );
    }
    // socketsLeave from the last node.
    assert_eq!(
        clients[n - 1]
            .ask(&last, "sockets-leave", json!(["other", "r2"]))
            .await,
        json!(true)
    );
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer_len(c, &format!("a{i}"), "r2", 0).await;
    }

    // disconnectSockets from the last node disconnects every b.
    assert_eq!(
        clients[n - 1]
            .ask(&last, "disconnect-room", json!(["other"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        let reason = c.wait_disconnect(&format!("b{j}")).await;
        assert_eq!(reason["reason"], "io server disconnect");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.ask(&format!("a{i}"), "count", json!([])).await, json!(1));
    }
    drop(redis);
}

/// Waits until `fetch-sockets room` lists `len` sockets.
async fn until_answer_len(c: &mut Clients, s: &str, room: &str, len: usize) {
    let deadline = tokio::time::Instant::now() + common::STEP;
    loop {
        let ids = c.ask(s, "fetch-sockets", json!([room])).await;
        if ids.as_array().map(Vec::len) == Some(len) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{room} has {ids}, not {len} sockets"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn rust_nodes_form_a_cluster() {
    cluster_works(&[Kind::Rust, Kind::Rust, Kind::Rust], "socket.io").await;
}

#[tokio::test]
async fn rust_and_node_nodes_form_one_cluster() {
    // A key prefix of its own, as an application would set it on both kinds of node.
    cluster_works(&[Kind::Rust, Kind::Node, Kind::Rust, Kind::Node], "myapp").await;
}
