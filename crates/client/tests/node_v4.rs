//! The client against the npm `socket.io` 4.8 server (protocol v5, Engine.IO 4), run by
//! `peers/sio-server.js v4`: transports, auth, events, acknowledgements both ways, binary, two
//! namespaces on one connection, the msgpack parser, connection state recovery, reconnection
//! after a server restart.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Server, connect, exercise, json_args, next_event, transport_of, wait_for};
use serde_json::json;
use sio_client::{
    Client, ClientBuilder, ClientEvent, DisconnectReason, Error, Event, Parser, Protocol,
    TransportKind,
};

fn builder(server: &Server, nsp: &str) -> ClientBuilder {
    Client::builder(&server.url(nsp))
        .force_new(true)
        .auth(json!({"token": "ok"}))
}

#[tokio::test]
async fn default_transports_upgrade_and_everything_works() {
    let server = Server::start("v4", json!({})).await;
    let (client, _) = exercise(builder(&server, "/"), true).await;
    // Polling first, then the upgrade.
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
    let server = Server::start("v4", json!({"transports": ["websocket"]})).await;
    let b = builder(&server, "/").transports([TransportKind::WebSocket]);
    let (client, _) = exercise(b, true).await;
    assert_eq!(transport_of(&client).await, "websocket");
    client.disconnect();
}

#[tokio::test]
async fn polling_only() {
    let server = Server::start("v4", json!({"transports": ["polling"]})).await;
    let b = builder(&server, "/").transports([TransportKind::Polling]);
    let (client, _) = exercise(b, true).await;
    assert_eq!(transport_of(&client).await, "polling");
    client.disconnect();
}

#[tokio::test]
async fn forced_protocol_v5_over_polling_without_upgrade() {
    let server = Server::start("v4", json!({})).await;
    let b = builder(&server, "/").protocol(Protocol::V5).upgrade(false);
    let (client, _) = exercise(b, true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(transport_of(&client).await, "polling");
    client.disconnect();
}

#[tokio::test]
async fn msgpack_parser() {
    let server = Server::start("v4", json!({"parser": "msgpack"})).await;
    let (client, _) = exercise(builder(&server, "/").parser(Parser::Msgpack), true).await;
    client.disconnect();
}

#[tokio::test]
async fn msgpack_parser_over_polling() {
    let server = Server::start(
        "v4",
        json!({"parser": "msgpack", "transports": ["polling"]}),
    )
    .await;
    let b = builder(&server, "/")
        .parser(Parser::Msgpack)
        .transports([TransportKind::Polling]);
    let (client, _) = exercise(b, true).await;
    client.disconnect();
}

#[tokio::test]
async fn two_namespaces_share_one_connection() {
    let server = Server::start("v4", json!({})).await;
    let (root, root_conn) = exercise(builder(&server, "/"), false).await;
    let admin = root.manager().socket("/admin").auth(json!({"token": "ok"}));
    let (admin, admin_conn) = exercise(admin, true).await;
    assert_eq!(root_conn, admin_conn, "one Engine.IO connection");
    assert_ne!(root.id(), admin.id());
    // Leaving one namespace keeps the other.
    admin.close().await;
    let (a,): (u32,) = root
        .emit_with_ack_timeout("echo", &(5,), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(a, 5);
    root.disconnect();
}

#[tokio::test]
async fn url_path_is_the_namespace_and_managers_are_shared() {
    let server = Server::start("v4", json!({})).await;
    let url = format!("{}?from=url", server.url("/"));
    let root = connect(Client::builder(&url).auth(json!({"token": "ok"}))).await;
    let (admin, mut events) = Client::builder(&format!("http://127.0.0.1:{}/admin", server.port))
        .auth(json!({"token": "ok"}))
        .connect_with_events()
        .await
        .unwrap();
    assert_eq!(admin.namespace(), "/admin");
    let welcome = json_args(&next_event(&mut events, "welcome").await)[0].clone();
    assert_eq!(welcome["nsp"], "/admin");
    root.disconnect();
    admin.disconnect();
}

#[tokio::test]
async fn auth_refused() {
    let server = Server::start("v4", json!({})).await;
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
async fn auth_callback_is_called_again_on_reconnection() {
    let server = Server::start("v4", json!({})).await;
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let counter = calls.clone();
    let (client, mut events) = builder(&server, "/")
        .auth_fn(move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            json!({"token": "ok", "n": n})
        })
        .transports([TransportKind::WebSocket])
        .reconnection_delay(Duration::from_millis(100))
        .randomization_factor(0.0)
        .connect_with_events()
        .await
        .unwrap();
    let welcome = json_args(&next_event(&mut events, "welcome").await)[0].clone();
    assert_eq!(welcome["auth"]["n"], 0);
    client.emit("close-transport", &()).unwrap();
    wait_for(&mut events, "disconnect", |e| {
        matches!(e, ClientEvent::Disconnect(DisconnectReason::TransportClose))
    })
    .await;
    let welcome = json_args(&next_event(&mut events, "welcome").await)[0].clone();
    assert_eq!(welcome["auth"]["n"], 1);
    client.disconnect();
}

#[tokio::test]
async fn server_side_disconnect_does_not_reconnect() {
    let server = Server::start("v4", json!({})).await;
    let (client, mut events) = builder(&server, "/").connect_with_events().await.unwrap();
    client.emit("kick", &()).unwrap();
    wait_for(&mut events, "disconnect", |e| {
        matches!(
            e,
            ClientEvent::Disconnect(DisconnectReason::ServerDisconnect)
        )
    })
    .await;
    assert!(!client.connected());
}

#[tokio::test]
async fn connection_state_recovery() {
    let server = Server::start("v4", json!({"recovery": true})).await;
    let (client, mut events) = builder(&server, "/")
        .transports([TransportKind::WebSocket])
        .reconnection_delay(Duration::from_millis(400))
        .randomization_factor(0.0)
        .connect_with_events()
        .await
        .unwrap();
    assert!(!client.recovered());
    let id = client.id().unwrap();
    client.emit("tick", &1).unwrap();
    let tick = next_event(&mut events, "tick").await;
    // The server appends the offset to events sent with recovery on.
    assert_eq!(tick.args.len(), 2);
    client.emit("close-transport", &()).unwrap();
    wait_for(&mut events, "disconnect", |e| {
        matches!(e, ClientEvent::Disconnect(_))
    })
    .await;
    let connect = wait_for(&mut events, "connect", |e| {
        matches!(e, ClientEvent::Connect { .. })
    })
    .await;
    assert!(
        matches!(
            connect,
            ClientEvent::Connect {
                recovered: true,
                ..
            }
        ),
        "{connect:?}"
    );
    assert!(client.recovered());
    assert_eq!(client.id().unwrap(), id, "the session keeps its id");
    let missed = next_event(&mut events, "tick").await;
    assert_eq!(json_args(&missed)[0], "missed");
    client.disconnect();
}

#[tokio::test]
async fn offline_buffer_and_reconnection_after_restart() {
    let mut server = Server::start("v4", json!({})).await;
    let (client, mut events) = builder(&server, "/")
        .reconnection_delay(Duration::from_millis(200))
        .reconnection_delay_max(Duration::from_millis(500))
        .connect_with_events()
        .await
        .unwrap();
    let first_id = client.id().unwrap();
    server.restart().await;
    wait_for(&mut events, "disconnect", |e| {
        matches!(e, ClientEvent::Disconnect(_))
    })
    .await;
    // Emitted while offline: buffered, sent once connected again.
    client.emit("echo", &("buffered",)).unwrap();
    // Volatile events are dropped while offline.
    client.emit_volatile("echo", &("volatile",)).unwrap();
    wait_for(&mut events, "reconnect", |e| {
        matches!(e, ClientEvent::Reconnect(_))
    })
    .await;
    wait_for(&mut events, "connect", |e| {
        matches!(e, ClientEvent::Connect { .. })
    })
    .await;
    assert_ne!(client.id().unwrap(), first_id);
    let echo = next_event(&mut events, "echo").await;
    assert_eq!(json_args(&echo), json!(["buffered"]));
    let (x,): (String,) = client
        .emit_with_ack_timeout("echo", &("after",), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(x, "after");
    client.disconnect();
}

#[tokio::test]
async fn reconnection_gives_up_after_the_attempts() {
    let mut server = Server::start("v4", json!({})).await;
    let (client, mut events) = builder(&server, "/")
        .reconnection_attempts(2)
        .reconnection_delay(Duration::from_millis(50))
        .connect_with_events()
        .await
        .unwrap();
    server.stop().await;
    wait_for(&mut events, "attempt 1", |e| {
        matches!(e, ClientEvent::ReconnectAttempt(1))
    })
    .await;
    wait_for(&mut events, "attempt 2", |e| {
        matches!(e, ClientEvent::ReconnectAttempt(2))
    })
    .await;
    wait_for(&mut events, "failed", |e| {
        matches!(e, ClientEvent::ReconnectFailed)
    })
    .await;
    assert!(!client.connected());
    client.disconnect();
}

#[tokio::test]
async fn ack_timeout_and_retries() {
    let server = Server::start("v4", json!({})).await;
    let client = connect(
        builder(&server, "/")
            .ack_timeout(Duration::from_millis(200))
            .retries(2),
    )
    .await;
    // "kick-unknown" has no handler on the server: never acknowledged.
    let start = std::time::Instant::now();
    let result: Result<(), _> = client.emit_with_ack("nobody-answers", &()).await;
    assert!(
        matches!(result, Err(sio_client::AckError::Timeout)),
        "{result:?}"
    );
    assert!(start.elapsed() >= Duration::from_millis(600));
    // Answered on the first try.
    let (n,): (u32,) = client.emit_with_ack("echo", &(7,)).await.unwrap();
    assert_eq!(n, 7);
    client.disconnect();
}

#[tokio::test]
async fn fallback_handler_and_reserved_names() {
    let server = Server::start("v4", json!({})).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = connect(
        builder(&server, "/").on_fallback(move |_c: Client, e: Event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(e.name);
            }
        }),
    )
    .await;
    assert_eq!(
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap(),
        "welcome"
    );
    assert!(matches!(
        client.emit("disconnect", &()),
        Err(Error::ReservedEvent(_))
    ));
    client.disconnect();
}

#[tokio::test]
async fn remember_upgrade_reconnects_over_websocket() {
    let mut server = Server::start("v4", json!({})).await;
    let (client, mut events) = builder(&server, "/")
        .remember_upgrade(true)
        .reconnection_delay(Duration::from_millis(200))
        .connect_with_events()
        .await
        .unwrap();
    let mut transport = transport_of(&client).await;
    for _ in 0..50 {
        if transport == "websocket" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        transport = transport_of(&client).await;
    }
    assert_eq!(transport, "websocket");
    server.restart().await;
    wait_for(&mut events, "reconnect", |e| {
        matches!(e, ClientEvent::Reconnect(_))
    })
    .await;
    wait_for(&mut events, "connect", |e| {
        matches!(e, ClientEvent::Connect { .. })
    })
    .await;
    // No polling phase this time.
    assert_eq!(transport_of(&client).await, "websocket");
    client.disconnect();
}

/// An event emitted right before `Manager::close` is handled by the server on every transport
/// (the server broadcasts `tick`, a second client sees it). Node's socket.io ignores an
/// event read together with a DISCONNECT, and a WebSocket dropped with unread data is reset:
/// both lost most such events before.
#[tokio::test]
async fn event_before_close_is_handled() {
    let server = Server::start("v4", json!({})).await;
    let (_watcher, mut events) = Client::builder(&server.url("/"))
        .force_new(true)
        .connect_with_events()
        .await
        .unwrap();
    let transports: [&[TransportKind]; 3] = [
        &[TransportKind::WebSocket],
        &[TransportKind::Polling],
        &[TransportKind::Polling, TransportKind::WebSocket],
    ];
    let mut n = 0;
    for transports in transports {
        for _ in 0..5 {
            n += 1;
            let client = common::connect(
                Client::builder(&server.url("/"))
                    .force_new(true)
                    .transports(transports.iter().copied()),
            )
            .await;
            client.emit("tick", &n).unwrap();
            client.manager().close().await;
            let tick = next_event(&mut events, "tick").await;
            assert_eq!(json_args(&tick), json!([n]), "{transports:?}");
        }
    }
}
