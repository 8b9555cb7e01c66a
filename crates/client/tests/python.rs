//! The client against a python-socketio 5 server (aiohttp), run by `peers/sio_server.py`:
//! transports, auth, events, acknowledgements both ways, binary, two namespaces on one
//! connection, reconnection after a server restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Server, exercise, json_args, next_event, transport_of, wait_for};
use serde_json::json;
use sio_client::{Client, ClientBuilder, ClientEvent, Error, TransportKind};

fn builder(server: &Server, nsp: &str) -> ClientBuilder {
    Client::builder(&server.url(nsp))
        .force_new(true)
        .auth(json!({"token": "ok"}))
}

#[tokio::test]
async fn default_transports_upgrade() {
    let server = Server::start("py", json!({})).await;
    let (client, _) = exercise(builder(&server, "/"), true).await;
    let mut transport = transport_of(&client).await;
    for _ in 0..50 {
        if transport == "websocket" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        transport = transport_of(&client).await;
    }
    assert_eq!(transport, "websocket");
    client.disconnect();
}

#[tokio::test]
async fn websocket_only() {
    let server = Server::start("py", json!({"transports": ["websocket"]})).await;
    let (client, _) = exercise(
        builder(&server, "/").transports([TransportKind::WebSocket]),
        true,
    )
    .await;
    client.disconnect();
}

#[tokio::test]
async fn polling_only() {
    let server = Server::start("py", json!({"transports": ["polling"]})).await;
    let (client, _) = exercise(
        builder(&server, "/").transports([TransportKind::Polling]),
        true,
    )
    .await;
    assert_eq!(transport_of(&client).await, "polling");
    client.disconnect();
}

#[tokio::test]
async fn two_namespaces_share_one_connection() {
    let server = Server::start("py", json!({})).await;
    let (root, root_conn) = exercise(builder(&server, "/"), false).await;
    let admin = root.manager().socket("/admin").auth(json!({"token": "ok"}));
    let (admin, admin_conn) = exercise(admin, true).await;
    assert_eq!(root_conn, admin_conn);
    admin.disconnect();
    root.disconnect();
}

#[tokio::test]
async fn auth_refused() {
    let server = Server::start("py", json!({})).await;
    let result = Client::builder(&server.url("/admin"))
        .force_new(true)
        .auth(json!({"token": "bad"}))
        .connect()
        .await;
    match result {
        Err(Error::ConnectRefused { message, .. }) => assert_eq!(message, "unauthorized"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn reconnection_after_restart() {
    let mut server = Server::start("py", json!({})).await;
    let (client, mut events) = builder(&server, "/")
        .reconnection_delay(Duration::from_millis(200))
        .reconnection_delay_max(Duration::from_millis(500))
        .connect_with_events()
        .await
        .unwrap();
    next_event(&mut events, "welcome").await;
    server.restart().await;
    wait_for(&mut events, "reconnect", |e| {
        matches!(e, ClientEvent::Reconnect(_))
    })
    .await;
    let welcome = json_args(&next_event(&mut events, "welcome").await)[0].clone();
    assert_eq!(welcome["id"], json!(client.id().unwrap()));
    client.disconnect();
}

#[tokio::test]
async fn bursts_over_polling_stay_within_python_limits_and_in_order() {
    let server = Server::start("py", json!({"transports": ["polling"]})).await;
    // Emitted before the connection exists: buffered, then flushed in order.
    let (client, mut events) = builder(&server, "/")
        .transports([TransportKind::Polling])
        .build_with_events()
        .unwrap();
    for i in 0..60 {
        client.emit("echo", &(i,)).unwrap();
    }
    for i in 0..60 {
        let echo = next_event(&mut events, "echo").await;
        assert_eq!(json_args(&echo), json!([i]));
    }
    client.disconnect();
}
