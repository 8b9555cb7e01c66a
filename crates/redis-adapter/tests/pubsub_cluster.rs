//! Clusters on the classic pub/sub adapter: Rust nodes alone, and Rust and Node nodes
//! (npm socket.io + @socket.io/redis-adapter) mixed, with official socket.io-client clients on
//! every node.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{Kind, cluster_works};

#[tokio::test]
async fn rust_nodes_form_a_cluster() {
    cluster_works(&[Kind::Rust, Kind::Rust, Kind::Rust], "pubsub", "socket.io").await;
}

#[tokio::test]
async fn rust_and_node_nodes_form_one_cluster() {
    // A key prefix of its own, as an application would set it on both kinds of node.
    cluster_works(
        &[Kind::Rust, Kind::Node, Kind::Rust, Kind::Node],
        "pubsub",
        "myapp",
    )
    .await;
}
