//! The client's long-polling against a server that closes the connection after every response
//! (an HTTP/1.0 server, as some proxies are): python-socketio behind the standard library's
//! wsgiref, run by `peers/sio_server_http10.py`. Every request then needs a new connection, and
//! a response must not be lost when the connection ends right after it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Server, json_args, next_event};
use serde_json::json;
use sio_client::{Client, TransportKind};

#[tokio::test]
async fn polling_through_a_server_that_closes_after_each_response() {
    let server = Server::start("py-http10", json!({})).await;
    let (client, mut events) = tokio::time::timeout(
        Duration::from_secs(20),
        Client::builder(&server.url("/"))
            .force_new(true)
            .transports([TransportKind::Polling])
            .connect_with_events(),
    )
    .await
    .expect("connected in time")
    .expect("connected");
    assert!(client.connected());
    // Several round trips, each an acknowledged event and an event pushed by the server (which
    // arrives on a long poll): each request and each poll is a fresh connection.
    for n in 0..5u32 {
        let (text, number): (String, u32) = client
            .emit_with_ack_timeout("echo", &("ping", n), Duration::from_secs(10))
            .await
            .unwrap();
        assert_eq!((text.as_str(), number), ("ping", n));
        let echo = next_event(&mut events, "echo").await;
        assert_eq!(json_args(&echo), json!(["ping", n]));
    }
    client.close().await;
}
