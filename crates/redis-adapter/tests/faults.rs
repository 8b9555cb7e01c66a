//! Faults: Redis restarted under a running cluster, and nodes that never answer.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use std::time::Duration;

use common::{Clients, ClusterNode, Kind, Redis, STEP, until_answer};
use serde_json::json;

/// Sends numbered `to-room` broadcasts from `from` until `to`'s socket receives one.
async fn until_delivered(from: &mut Clients, s_from: &str, to: &mut Clients, s_to: &str) {
    let deadline = tokio::time::Instant::now() + STEP;
    for attempt in 0.. {
        assert!(
            tokio::time::Instant::now() < deadline,
            "broadcasts from {s_from} did not reach {s_to} again within {STEP:?}"
        );
        let ack = from
            .ask(s_from, "to-room", json!(["r1", "after", attempt]))
            .await;
        assert_eq!(ack, json!(true));
        let got = to
            .try_wait(Duration::from_millis(200), |e| {
                e["ev"] == "event" && e["s"] == s_to && e["name"] == "after"
            })
            .await;
        if got.is_some() {
            return;
        }
    }
}

async fn restart_under(kinds: [Kind; 2]) {
    let mut redis = Redis::start().await;
    let mut nodes = Vec::new();
    for kind in kinds {
        nodes.push(ClusterNode::start(kind, &redis, "pubsub", "socket.io").await);
    }
    let mut c0 = Clients::new(&nodes[0]).await;
    let mut c1 = Clients::new(&nodes[1]).await;
    c0.connect("a0", json!({})).await;
    c1.connect("a1", json!({})).await;
    assert_eq!(c0.ask("a0", "join", json!(["r1"])).await, json!(true));
    assert_eq!(c1.ask("a1", "join", json!(["r1"])).await, json!(true));
    until_answer(&mut c0, "a0", "server-count", json!([]), json!(2)).await;
    until_answer(&mut c1, "a1", "server-count", json!([]), json!(2)).await;
    assert_eq!(
        c0.ask("a0", "to-room", json!(["r1", "before", 1])).await,
        json!(true)
    );
    assert_eq!(c1.event("a1", "before").await["args"], json!([1]));

    redis.stop().await;
    // Meanwhile, each node serves its own clients: events, acks, local room broadcasts.
    for i in 0..20 {
        assert_eq!(
            c0.ask("a0", "to-room", json!(["r1", "during", i])).await,
            json!(true)
        );
        assert_eq!(c0.event("a0", "during").await["args"], json!([i]));
        assert_eq!(c1.ask("a1", "count", json!([])).await, json!(1));
    }
    // A client connecting during the outage is served too.
    c0.connect("late", json!({"late": true})).await;
    assert_eq!(
        c0.event("late", "auth").await["args"],
        json!([{"late": true}])
    );

    redis.restart().await;
    until_delivered(&mut c0, "a0", &mut c1, "a1").await;
    until_delivered(&mut c1, "a1", &mut c0, "a0").await;
    until_answer(&mut c0, "a0", "server-count", json!([]), json!(2)).await;
    assert_eq!(
        c0.ask("a0", "fetch-sockets", json!(["r1"]))
            .await
            .as_array()
            .map(Vec::len),
        Some(2)
    );

    for node in &nodes {
        if node.kind != Kind::Rust {
            continue;
        }
        let log = node.stderr();
        let count = |needle: &str| log.matches(needle).count();
        // 20 broadcasts were dropped during the outage: the errors were logged once each.
        assert!(count("could not publish to redis") <= 1, "{log}");
        assert_eq!(count("lost the redis subscriber connection"), 1, "{log}");
        assert!(
            count("could not reach redis for the subscriber") <= 1,
            "{log}"
        );
        assert_eq!(count("redis subscriber reconnected"), 1, "{log}");
    }
}

#[tokio::test]
async fn rust_nodes_survive_a_redis_restart() {
    restart_under([Kind::Rust, Kind::Rust]).await;
}

#[tokio::test]
async fn mixed_cluster_survives_a_redis_restart() {
    restart_under([Kind::Rust, Kind::Node]).await;
}

/// A member that counts in `PUBSUB NUMSUB` but never answers (a node that hangs): requests to
/// the cluster fail after the request timeout, and the node goes on serving.
#[tokio::test]
async fn requests_to_a_silent_node_time_out() {
    let redis = Redis::start().await;
    let node = ClusterNode::start_with(
        Kind::Rust,
        &redis,
        "pubsub",
        "socket.io",
        &["--requests-timeout", "500"],
    )
    .await;
    let client = sio_redis_adapter::redis::Client::open(redis.url()).unwrap();
    let mut silent = client.get_async_pubsub().await.unwrap();
    silent.subscribe("socket.io-request#/#").await.unwrap();

    let mut c = Clients::new(&node).await;
    c.connect("a", json!({})).await;
    until_answer(&mut c, "a", "server-count", json!([]), json!(2)).await;
    let started = tokio::time::Instant::now();
    let answer = c.ask("a", "fetch-sockets", json!(["r1"])).await;
    let elapsed = started.elapsed();
    assert!(
        answer["error"]
            .as_str()
            .unwrap()
            .contains("timeout reached"),
        "{answer}"
    );
    assert!(
        elapsed >= Duration::from_millis(450) && elapsed < Duration::from_secs(3),
        "{elapsed:?}"
    );
    let answer = c.ask("a", "server-side-emit", json!(["whoami"])).await;
    assert!(
        answer["error"].as_str().unwrap().contains("timed out")
            || answer["error"].as_str().unwrap().contains("timeout"),
        "{answer}"
    );
    // The node still serves.
    assert_eq!(c.ask("a", "count", json!([])).await, json!(1));
    drop(silent);
    until_answer(&mut c, "a", "server-count", json!([]), json!(1)).await;
    assert_eq!(c.ask("a", "fetch-sockets", json!(["r1"])).await, json!([]));
}

/// A node that dies leaves the cluster at once (Redis drops its subscriptions with its
/// connection): the others count one node less and their requests do not wait for it.
async fn dead_node_is_forgotten(adapter: &str) {
    let redis = Redis::start().await;
    let mut nodes = Vec::new();
    for kind in [Kind::Rust, Kind::Node, Kind::Rust] {
        nodes.push(ClusterNode::start(kind, &redis, adapter, "socket.io").await);
    }
    let mut c = Clients::new(&nodes[0]).await;
    c.connect("a", json!({})).await;
    assert_eq!(c.ask("a", "join", json!(["r1"])).await, json!(true));
    until_answer(&mut c, "a", "server-count", json!([]), json!(3)).await;
    nodes[2].kill().await;
    until_answer(&mut c, "a", "server-count", json!([]), json!(2)).await;
    let started = tokio::time::Instant::now();
    let ids = c.ask("a", "fetch-sockets", json!(["r1"])).await;
    assert_eq!(ids.as_array().map(Vec::len), Some(1), "{ids}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn dead_node_leaves_a_pubsub_cluster() {
    dead_node_is_forgotten("pubsub").await;
}

#[tokio::test]
async fn dead_node_leaves_a_streams_cluster() {
    dead_node_is_forgotten("streams").await;
}
