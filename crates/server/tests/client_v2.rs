//! The official `socket.io-client` 2.5 (Socket.IO protocol v4 on Engine.IO v3) against our
//! server with `allow_eio3`, driven by `peers/sio-client.js v2`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Peer, Probe, TestServer, args_json, probe, start, to_json};
use serde_json::{Value as Json, json};
use sio_engineio::EngineConfig;
use sio_server::{ConnectError, Event, ServerConfig, SocketRef, Value};

fn bin(bytes: &[u8]) -> Json {
    json!({ "$bin": bytes })
}

/// A server for 2.x clients: `echo` (emit back or ack), `ask` (the server asks for an ack),
/// `/admin` reports its auth, `/secure` refuses, each connection reports its namespace and id.
async fn v2_server() -> (TestServer, Probe<Json>) {
    let server = start(ServerConfig {
        engine: EngineConfig {
            path: "/socket.io/".into(),
            allow_eio3: true,
            ..EngineConfig::default()
        },
        ..ServerConfig::default()
    })
    .await;
    let (tx, seen) = probe();
    for name in ["/", "/admin"] {
        let tx = tx.clone();
        server.io.of(name).on_connection(move |socket: SocketRef| {
            let _ = tx.send(json!({
                "nsp": socket.namespace().name(),
                "id": socket.id(),
                "auth": to_json(&socket.handshake().auth),
                "protocol": format!("{:?}", socket.protocol()),
            }));
            let tx = tx.clone();
            async move {
                socket.on("echo", |socket: SocketRef, mut event: Event| async move {
                    let args = std::mem::take(&mut event.args);
                    match event.ack.take() {
                        Some(ack) => ack.send_values(args).unwrap(),
                        None => socket.emit("echo", &args).unwrap(),
                    }
                });
                socket.on("ask", move |socket: SocketRef, event: Event| {
                    let tx = tx.clone();
                    async move {
                        let answer = socket
                            .timeout(Duration::from_secs(5))
                            .emit_with_ack("question", &event.args)
                            .await;
                        let _ = tx.send(json!({"answer": answer.map(|a| args_json(&a)).map_err(|e| e.to_string()).unwrap_or_else(|e| json!(e))}));
                    }
                });
            }
        });
    }
    server
        .io
        .of("/secure")
        .use_middleware(
            |_socket: SocketRef| async move { Err(ConnectError::new("not authorized")) },
        );
    server
        .io
        .of("/secure-data")
        .use_middleware(|_socket: SocketRef| async move {
            Err(ConnectError::new("not authorized").with_data(Value::from("see data")))
        });
    (server, seen)
}

async fn v2_scenario(opts: Json) {
    let (server, mut seen) = v2_server().await;
    let mut client = Peer::node(&server, "v2").await;
    client.manager("m", opts).await;
    client.socket("main", "m", "/", json!({})).await;
    let connect = client.wait_ev("connect", "main").await;
    let engine = client.state("main").await["engine"].clone();
    // Node gives a 2.x client's main socket the Engine.IO id.
    assert_eq!(connect["id"], engine);
    assert_eq!(
        seen.next().await,
        json!({"nsp": "/", "id": engine, "auth": {}, "protocol": "V4"})
    );

    // Events and acknowledgements both ways, with binary nested in objects.
    let args =
        json!(["text € 😀 \u{2028}", 1.5, {"a": {"b": [bin(&[1, 2, 3]), bin(&[255])]}}, null]);
    client.emit("main", "echo", args.clone()).await;
    assert_eq!(client.wait_event("main", "echo").await["args"], args);
    let ack = client.call("main", "echo", args.clone(), json!({})).await;
    assert_eq!(ack["args"], args);
    client
        .emit("main", "ask", json!(["q", {"bin": bin(&[9])}]))
        .await;
    let question = client.wait_event("main", "question").await;
    assert_eq!(question["args"], json!(["q", {"bin": bin(&[9])}]));
    client
        .ack(
            "main",
            &question["ack"],
            json!([{"x": bin(&[4, 5])}, "done"]),
        )
        .await;
    assert_eq!(
        seen.next().await,
        json!({"answer": [{"x": bin(&[4, 5])}, "done"]})
    );

    // A custom namespace: its query is the auth, its id is `<nsp>#<engine id>`.
    client
        .socket(
            "admin",
            "m",
            "/admin",
            json!({"query": {"token": "abc", "n": "1"}}),
        )
        .await;
    let admin = client.wait_ev("connect", "admin").await;
    assert_eq!(admin["id"], format!("/admin#{}", engine.as_str().unwrap()));
    assert_eq!(
        seen.next().await,
        json!({"nsp": "/admin", "id": admin["id"], "auth": {"token": "abc", "n": "1"}, "protocol": "V4"})
    );
    let ack = client
        .call("admin", "echo", json!([{"in": "admin"}]), json!({}))
        .await;
    assert_eq!(ack["args"], json!([{"in": "admin"}]));

    // Refusals: the ERROR packet carries the message, or the data when there is some.
    client.socket("secure", "m", "/secure", json!({})).await;
    assert_eq!(
        client.wait_ev("error", "secure").await["error"],
        "not authorized"
    );
    client
        .socket("secure2", "m", "/secure-data", json!({}))
        .await;
    assert_eq!(
        client.wait_ev("error", "secure2").await["error"],
        "see data"
    );
    // The connection is still up for the others.
    let ack = client.call("main", "echo", json!([1]), json!({})).await;
    assert_eq!(ack["args"], json!([1]));

    // An unknown namespace, last: socket.io-client 2 closes its Manager after that.
    client.socket("nope", "m", "/nope", json!({})).await;
    assert_eq!(
        client.wait_ev("error", "nope").await["error"],
        "Invalid namespace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_default_transports() {
    v2_scenario(json!({"transports": ["polling", "websocket"]})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_websocket_only() {
    v2_scenario(json!({"transports": ["websocket"]})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_polling_only() {
    v2_scenario(json!({"transports": ["polling"]})).await;
}

/// Binary as base64 text (`b64=1` on polling, text frames on WebSocket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_force_base64() {
    v2_scenario(json!({"forceBase64": true})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_force_base64_polling() {
    v2_scenario(json!({"transports": ["polling"], "forceBase64": true})).await;
}

/// A 2.x client's disconnection of a namespace, and a server-side one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_disconnects() {
    let (server, mut seen) = v2_server().await;
    server
        .io
        .of("/admin")
        .on_connection(|socket: SocketRef| async move {
            socket.on("kick-me", |socket: SocketRef, _event: Event| async move {
                socket.disconnect(false);
            });
        });
    let mut client = Peer::node(&server, "v2").await;
    client.manager("m", json!({})).await;
    client.socket("main", "m", "/", json!({})).await;
    client.socket("admin", "m", "/admin", json!({})).await;
    client.wait_ev("connect", "main").await;
    client.wait_ev("connect", "admin").await;
    seen.next().await;
    seen.next().await;
    client.emit("admin", "kick-me", json!([])).await;
    assert_eq!(
        client.wait_ev("disconnect", "admin").await["reason"],
        "io server disconnect"
    );
    let ack = client
        .call("main", "echo", json!(["still here"]), json!({}))
        .await;
    assert_eq!(ack["args"], json!(["still here"]));
}

/// What the server sends just before closing a 2.x client's connection arrives first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn v2_last_words_before_a_server_close() {
    let (server, _seen) = v2_server().await;
    server.io.on_connection(|socket: SocketRef| async move {
        socket.on("go", |socket: SocketRef, event: Event| async move {
            let how: String = event.args().unwrap();
            socket.emit("last", &1).unwrap();
            socket.emit("last", &2).unwrap();
            match how.as_str() {
                "conn" => socket.conn().close(),
                _ => socket.disconnect(true),
            }
        });
    });
    let mut client = Peer::node(&server, "v2").await;
    for transport in ["polling", "websocket"] {
        for (how, reason) in [
            ("conn", "transport close"),
            ("close", "io server disconnect"),
        ] {
            let s = format!("{transport}-{how}");
            client
                .connect(
                    &s,
                    "/",
                    json!({"transports": [transport], "reconnection": false, "forceNew": true}),
                )
                .await;
            client.emit(&s, "go", json!([how])).await;
            let (disconnect, before) = client
                .before(&s, "disconnect", |e| e["ev"] == "disconnect" && e["s"] == s)
                .await;
            assert_eq!(disconnect["reason"], reason, "{}", client.log());
            let last: Vec<_> = before
                .iter()
                .filter(|e| e["ev"] == "event")
                .map(|e| e["args"].clone())
                .collect();
            assert_eq!(last, [json!([1]), json!([2])], "{}", client.log());
        }
    }
}
