//! python-socketio's AsyncClient (5.x, protocol v5) against our server, driven by
//! `peers/sio_client.py`: auth, two namespaces on one connection, events, acknowledgements
//! both ways and binary.
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
use sio_server::{ConnectError, DisconnectReason, Event, ServerConfig, SocketRef};

fn bin(bytes: &[u8]) -> Json {
    json!({ "$bin": bytes })
}

async fn python_server() -> (TestServer, Probe<Json>) {
    let server = start(ServerConfig::default()).await;
    let (tx, seen) = probe();
    for name in ["/", "/chat"] {
        let tx = tx.clone();
        server.io.of(name).on_connection(move |socket: SocketRef| {
            let _ = tx.send(json!({
                "nsp": socket.namespace().name(),
                "id": socket.id(),
                "auth": to_json(&socket.handshake().auth),
                "header": socket.handshake().headers.get("x-client").and_then(|v| v.to_str().ok()),
            }));
            let tx = tx.clone();
            async move {
                socket.emit("welcome", &socket.namespace().name()).unwrap();
                socket.on("echo", |socket: SocketRef, mut event: Event| async move {
                    let args = std::mem::take(&mut event.args);
                    match event.ack.take() {
                        Some(ack) => ack.send_values(args).unwrap(),
                        None => socket.emit("echo", &args).unwrap(),
                    }
                });
                let on_ask = tx.clone();
                socket.on("ask", move |socket: SocketRef, event: Event| {
                    let tx = on_ask.clone();
                    async move {
                        let answer = socket
                            .timeout(Duration::from_secs(5))
                            .emit_with_ack("question", &event.args)
                            .await;
                        let answer = match answer {
                            Ok(args) => args_json(&args),
                            Err(error) => json!(error.to_string()),
                        };
                        let _ = tx.send(json!({"answer": answer}));
                    }
                });
                socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
                    let _ = tx.send(
                        json!({"left": socket.namespace().name(), "reason": reason.as_str()}),
                    );
                    async {}
                });
            }
        });
    }
    server
        .io
        .of("/chat")
        .use_middleware(|socket: SocketRef| async move {
            match socket.handshake().auth.as_map() {
                Some(fields) if fields.iter().any(|(k, _)| k.as_str() == Some("token")) => Ok(()),
                _ => Err(ConnectError::new("no token")),
            }
        });
    (server, seen)
}

async fn python_scenario(transports: Json) {
    let (server, mut seen) = python_server().await;
    let mut client = Peer::python(&server).await;
    client
        .send(json!({
            "op": "connect",
            "namespaces": ["/", "/chat"],
            "auth": {"token": "py", "n": [1, 2]},
            "headers": {"x-client": "python"},
            "transports": transports,
        }))
        .await;
    let mut ids = std::collections::HashMap::new();
    for nsp in ["/", "/chat"] {
        let connect = client.wait_ev("connect", nsp).await;
        ids.insert(nsp, connect["id"].clone());
    }
    let mut connected = [seen.next().await, seen.next().await];
    connected.sort_by_key(|c| c["nsp"].to_string());
    for (c, nsp) in connected.iter().zip(["/", "/chat"]) {
        assert_eq!(
            c,
            &json!({"nsp": nsp, "id": ids[nsp], "auth": {"token": "py", "n": [1, 2]}, "header": "python"})
        );
    }
    for nsp in ["/", "/chat"] {
        assert_eq!(
            client.wait_event(nsp, "welcome").await["args"],
            json!([nsp])
        );
    }

    // Events and acknowledgements both ways, binary included, on each namespace.
    let args = json!(["text", 1.5, {"a": {"b": [bin(&[1, 2, 3]), bin(&[])]}}, null, bin(&[255])]);
    for nsp in ["/", "/chat"] {
        client.emit(nsp, "echo", args.clone()).await;
        assert_eq!(client.wait_event(nsp, "echo").await["args"], args);
        let ack = client.call(nsp, "echo", args.clone(), json!({})).await;
        assert_eq!(ack["args"], args);
        client.emit(nsp, "ask", json!(["q", bin(&[7])])).await;
        let question = client.wait_event(nsp, "question").await;
        assert_eq!(question["args"], json!(["q", bin(&[7])]));
        client
            .ack(nsp, &question["ack"], json!([{"x": bin(&[4, 5])}, nsp]))
            .await;
        assert_eq!(
            seen.next().await,
            json!({"answer": [{"x": bin(&[4, 5])}, nsp]})
        );
    }

    client.send(json!({"op": "disconnect"})).await;
    for _ in 0..2 {
        client.wait("disconnect", |e| e["ev"] == "disconnect").await;
    }
    let mut left = [seen.next().await, seen.next().await];
    left.sort_by_key(|c| c["left"].to_string());
    for (left, nsp) in left.iter().zip(["/", "/chat"]) {
        assert_eq!(left["left"], nsp);
        // python-socketio queues a DISCONNECT per namespace, then closes a WebSocket without
        // waiting for its writer to send them: Node's server then reports "transport close" too.
        let reasons: &[&str] = if transports == json!(["polling"]) {
            &["client namespace disconnect"]
        } else {
            &["client namespace disconnect", "transport close"]
        };
        assert!(
            reasons.contains(&left["reason"].as_str().unwrap()),
            "{left}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_default_transports() {
    python_scenario(json!(["polling", "websocket"])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websocket_only() {
    python_scenario(json!(["websocket"])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_polling_only() {
    python_scenario(json!(["polling"])).await;
}

/// A refusal by a middleware reaches python-socketio's `connect_error` with the message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_refused() {
    let (server, _seen) = python_server().await;
    let mut client = Peer::python(&server).await;
    client
        .send(json!({"op": "connect", "namespaces": ["/chat"], "transports": ["websocket"]}))
        .await;
    let error = client.wait_ev("connect_error", "/chat").await;
    assert_eq!(error["data"], json!({"message": "no token"}));
}
