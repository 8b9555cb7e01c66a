//! The client against our own server (`sio_server::SocketIo`, crates/server), in process,
//! with the contract of `peers/sio-server.js`: transports, protocol v5 and v4 (Engine.IO 3),
//! the msgpack parser, auth, events, acknowledgements both ways, binary, two namespaces on one
//! connection, connection state recovery.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{exercise, json_args, next_event, transport_of, wait_for};
use serde_json::{Value as Json, json};
use sio_client::{Bytes, Client, ClientBuilder, ClientEvent, Parser, Protocol, TransportKind};
use sio_server::{ConnectError, Event, RecoveryConfig, ServerConfig, SocketIo, SocketRef};
use tokio::sync::oneshot;

struct OwnServer {
    addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

fn auth_of(socket: &SocketRef) -> Json {
    sio_server::proto::from_value::<Json>(socket.handshake().auth.clone()).unwrap_or(Json::Null)
}

fn contract(io: &SocketIo, nsp: &'static str) {
    let namespace = io.of(nsp);
    namespace.use_middleware(|socket: SocketRef| async move {
        if auth_of(&socket)["token"] == "bad" {
            Err(ConnectError::new("unauthorized"))
        } else {
            Ok(())
        }
    });
    let io2 = io.clone();
    namespace.on_connection(move |socket: SocketRef| {
        let io = io2.clone();
        async move {
            let welcome = json!({
                "id": socket.id(),
                "nsp": nsp,
                "auth": auth_of(&socket),
                "conn": socket.conn().id(),
            });
            socket.emit("welcome", &welcome).unwrap();
            socket.on("echo", |socket: SocketRef, mut event: Event| async move {
                let args = std::mem::take(&mut event.args);
                match event.ack.take() {
                    Some(ack) => ack.send_values(args).unwrap(),
                    None => socket.emit("echo", &args).unwrap(),
                }
            });
            socket.on("binary", |socket: SocketRef, mut event: Event| async move {
                #[derive(serde::Serialize)]
                struct Nested {
                    buf: Bytes,
                }
                #[derive(serde::Serialize)]
                struct Payload {
                    nested: Nested,
                    list: Vec<Bytes>,
                    n: u32,
                }
                socket
                    .emit(
                        "binary",
                        &Payload {
                            nested: Nested {
                                buf: Bytes::from_static(&[1, 2, 3]),
                            },
                            list: vec![Bytes::from_static(&[4, 5])],
                            n: 1,
                        },
                    )
                    .unwrap();
                if let Some(ack) = event.ack.take() {
                    ack.send(&(Bytes::from_static(&[6, 7]),)).unwrap();
                }
            });
            socket.on("ask", |socket: SocketRef, mut event: Event| async move {
                let args = std::mem::take(&mut event.args);
                tokio::spawn(async move {
                    let answer = socket.emit_with_ack("question", &args).await.unwrap();
                    socket.emit("answer", &answer).unwrap();
                });
            });
            socket.on(
                "transport",
                |socket: SocketRef, mut event: Event| async move {
                    let name = socket.conn().transport().as_str().to_owned();
                    if let Some(ack) = event.ack.take() {
                        ack.send(&(name,)).unwrap();
                    }
                },
            );
            let io3 = io.clone();
            socket.on(
                "close-transport",
                move |socket: SocketRef, _event: Event| {
                    let io = io3.clone();
                    async move {
                        socket.conn().close();
                        tokio::spawn(async move {
                            tokio::time::sleep(Duration::from_millis(100)).await;
                            let _ = io.of(nsp).emit("tick", &"missed");
                        });
                    }
                },
            );
            let io4 = io.clone();
            socket.on("tick", move |_socket: SocketRef, event: Event| {
                let io = io4.clone();
                async move {
                    let _ = io.of(nsp).emit("tick", &event.args);
                }
            });
        }
    });
}

async fn start(config: ServerConfig) -> OwnServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = SocketIo::new(config);
    contract(&io, "/");
    contract(&io, "/admin");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        io.serve(listener, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    OwnServer { addr, _stop: stop }
}

fn builder(server: &OwnServer, nsp: &str) -> ClientBuilder {
    Client::builder(&format!("http://{}{nsp}", server.addr))
        .force_new(true)
        .auth(json!({"token": "ok"}))
}

#[tokio::test]
async fn default_transports_upgrade() {
    let server = start(ServerConfig::default()).await;
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
    let server = start(ServerConfig::default()).await;
    let (client, _) = exercise(
        builder(&server, "/").transports([TransportKind::WebSocket]),
        true,
    )
    .await;
    assert_eq!(transport_of(&client).await, "websocket");
    client.disconnect();
}

#[tokio::test]
async fn polling_only() {
    let mut config = ServerConfig::default();
    config.engine.transports = vec![TransportKind::Polling];
    let server = start(config).await;
    let (client, _) = exercise(
        builder(&server, "/").transports([TransportKind::Polling]),
        true,
    )
    .await;
    assert_eq!(transport_of(&client).await, "polling");
    client.disconnect();
}

#[tokio::test]
async fn msgpack_parser() {
    let config = ServerConfig {
        parser: sio_server::Parser::Msgpack,
        ..ServerConfig::default()
    };
    let server = start(config).await;
    let (client, _) = exercise(builder(&server, "/").parser(Parser::Msgpack), true).await;
    client.disconnect();
}

#[tokio::test]
async fn protocol_v4_over_engine_io_3() {
    let mut config = ServerConfig::default();
    config.engine.allow_eio3 = true;
    let server = start(config).await;
    let (client, _) = exercise(builder(&server, "/admin").protocol(Protocol::V4), true).await;
    client.disconnect();
}

#[tokio::test]
async fn two_namespaces_share_one_connection() {
    let server = start(ServerConfig::default()).await;
    let (root, root_conn) = exercise(builder(&server, "/"), false).await;
    let admin = root.manager().socket("/admin").auth(json!({"token": "ok"}));
    let (admin, admin_conn) = exercise(admin, true).await;
    assert_eq!(root_conn, admin_conn);
    admin.disconnect();
    root.disconnect();
}

#[tokio::test]
async fn connection_state_recovery() {
    let config = ServerConfig {
        recovery: Some(RecoveryConfig::default()),
        ..ServerConfig::default()
    };
    let server = start(config).await;
    let (client, mut events) = builder(&server, "/")
        .transports([TransportKind::WebSocket])
        .reconnection_delay(Duration::from_millis(400))
        .randomization_factor(0.0)
        .connect_with_events()
        .await
        .unwrap();
    let id = client.id().unwrap();
    next_event(&mut events, "welcome").await;
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
    assert_eq!(client.id().unwrap(), id);
    let missed = next_event(&mut events, "tick").await;
    assert_eq!(json_args(&missed)[0], "missed");
    client.disconnect();
}
