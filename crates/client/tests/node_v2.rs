//! The client against the npm `socket.io` 2.5 server (protocol v4 over Engine.IO 3), run by
//! `peers/sio-server.js v2`: detection, transports, base64 mode, query auth, events,
//! acknowledgements both ways, binary, two namespaces on one connection, reconnection after a
//! server restart.
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
use futures_util::FutureExt;
use serde_json::json;
use sio_client::{Client, ClientBuilder, ClientEvent, Error, Protocol, TransportKind};

fn builder(server: &Server, nsp: &str) -> ClientBuilder {
    Client::builder(&server.url(nsp))
        .force_new(true)
        .query("token", "ok")
}

#[tokio::test]
async fn auto_detects_engine_io_3_and_upgrades() {
    let server = Server::start("v2", json!({})).await;
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
async fn forced_v4_protocol_polling_only() {
    let server = Server::start("v2", json!({"transports": ["polling"]})).await;
    let b = builder(&server, "/")
        .protocol(Protocol::V4)
        .transports([TransportKind::Polling]);
    let (client, _) = exercise(b, true).await;
    assert_eq!(transport_of(&client).await, "polling");
    client.disconnect();
}

#[tokio::test]
async fn base64_polling() {
    let server = Server::start("v2", json!({"transports": ["polling"]})).await;
    let b = builder(&server, "/")
        .protocol(Protocol::V4)
        .force_base64(true)
        .transports([TransportKind::Polling]);
    let (client, _) = exercise(b, true).await;
    client.disconnect();
}

#[tokio::test]
async fn websocket_only_auto() {
    let server = Server::start("v2", json!({"transports": ["websocket"]})).await;
    let b = builder(&server, "/").transports([TransportKind::WebSocket]);
    let (client, _) = exercise(b, true).await;
    assert_eq!(transport_of(&client).await, "websocket");
    client.disconnect();
}

#[tokio::test]
async fn client_pings_keep_the_connection() {
    // pingInterval 300 ms, pingTimeout 300 ms: without the client's pings the server would
    // close the connection within 600 ms.
    let server = Server::start("v2", json!({"pingInterval": 300, "pingTimeout": 300})).await;
    let (client, mut events) = builder(&server, "/").connect_with_events().await.unwrap();
    next_event(&mut events, "welcome").await;
    // Waiting is the point: 1.5 s is well past the 600 ms the server would give a silent client.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(client.connected());
    // The same connection all along: no disconnection or reconnection behind our back.
    while let Some(Some(event)) = events.next().now_or_never() {
        assert!(
            !matches!(
                event,
                ClientEvent::Disconnect(_)
                    | ClientEvent::Connect { .. }
                    | ClientEvent::ReconnectAttempt(_)
            ),
            "the connection did not hold: {event:?}"
        );
    }
    let (n,): (u32,) = client
        .emit_with_ack_timeout("echo", &(3,), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(n, 3);
    client.disconnect();
}

#[tokio::test]
async fn two_namespaces_share_one_connection() {
    let server = Server::start("v2", json!({})).await;
    let (root, root_conn) = exercise(builder(&server, "/"), false).await;
    let (admin, admin_conn) = exercise(root.manager().socket("/admin"), true).await;
    assert_eq!(root_conn, admin_conn);
    assert_eq!(admin.id().unwrap(), format!("/admin#{root_conn}"));
    admin.disconnect();
    root.disconnect();
}

#[tokio::test]
async fn only_a_namespace_other_than_the_main_one() {
    let server = Server::start("v2", json!({})).await;
    let (client, _) = exercise(builder(&server, "/admin"), true).await;
    client.disconnect();
}

#[tokio::test]
async fn auth_refused() {
    let server = Server::start("v2", json!({})).await;
    // The main namespace, and another one: a 2.x server refuses the main namespace (which it
    // connects by itself) and never answers the other's CONNECT, so the refusal of `/` is
    // the other's too, at once rather than after the connect timeout.
    for nsp in ["/", "/admin"] {
        let result = Client::builder(&server.url(nsp))
            .force_new(true)
            .query("token", "bad")
            .timeout(Duration::from_secs(10))
            .connect()
            .await;
        match result {
            Err(Error::ConnectRefused { message, .. }) => assert_eq!(message, "unauthorized"),
            other => panic!("{nsp}: {other:?}"),
        }
    }
}

/// The main namespace and another one waiting on one connection: the 2.x server's refusal
/// of `/` is the other's too (it never answers its CONNECT), at once rather than after the
/// connect timeout.
#[tokio::test]
async fn auth_refused_with_the_main_namespace_open_too() {
    let server = Server::start("v2", json!({})).await;
    // Without force_new both share one manager, hence one connection.
    let connect = |nsp: &str| {
        Client::builder(&server.url(nsp))
            .query("token", "bad")
            .timeout(Duration::from_secs(10))
            .connect()
    };
    let (main, admin) = tokio::join!(connect("/"), connect("/admin"));
    for (nsp, result) in [("/", main), ("/admin", admin)] {
        match result {
            Err(Error::ConnectRefused { message, .. }) => assert_eq!(message, "unauthorized"),
            other => panic!("{nsp}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn reconnection_after_restart() {
    let mut server = Server::start("v2", json!({})).await;
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
