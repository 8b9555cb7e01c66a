//! Sharded pub/sub (Redis 7): Rust nodes alone, and Rust and Node nodes
//! (`createShardedAdapter` of npm @socket.io/redis-adapter) mixed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

mod common;

use common::{Kind, cluster_works};

#[tokio::test]
async fn rust_nodes_form_a_sharded_cluster() {
    cluster_works(&[Kind::Rust, Kind::Rust], "sharded", "socket.io").await;
}

#[tokio::test]
async fn rust_and_node_nodes_form_one_sharded_cluster() {
    cluster_works(
        &[Kind::Rust, Kind::Node, Kind::Rust],
        "sharded",
        "socket.io",
    )
    .await;
}
