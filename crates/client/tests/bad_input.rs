//! Servers that break the protocol: every malformed frame gives an `error` event and a clean
//! disconnect (then reconnection attempts), never a panic or a hang. The misbehaving servers
//! are scripted here on raw sockets, since no real server misbehaves on purpose.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sio_client::{Client, ClientEvent, DisconnectReason, Error, TransportKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;

const OPEN: &str =
    r#"0{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#;

/// A WebSocket server that opens an Engine.IO session, answers the CONNECT, then sends
/// `frames` (text, or binary when prefixed by `bin:`), then stays silent.
async fn ws_server(frames: Vec<&'static str>, open: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let frames = frames.clone();
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                ws.send(Message::text(open)).await.unwrap();
                // Wait for the client's CONNECT.
                let _ = ws.next().await;
                let _ = ws.send(Message::text(r#"40{"sid":"s1"}"#)).await;
                for frame in frames {
                    let message = match frame.strip_prefix("bin:") {
                        Some(hex) => Message::Binary(hex.as_bytes().to_vec().into()),
                        None => Message::text(frame),
                    };
                    let _ = ws.send(message).await;
                }
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    port
}

fn client(port: u16) -> sio_client::ClientBuilder {
    Client::builder(&format!("http://127.0.0.1:{port}/"))
        .force_new(true)
        .transports([TransportKind::WebSocket])
        .reconnection_delay(Duration::from_millis(100))
        .randomization_factor(0.0)
        .timeout(Duration::from_secs(3))
}

async fn expect_error_then_disconnect(
    frames: Vec<&'static str>,
    reason: fn(&DisconnectReason) -> bool,
) {
    let port = ws_server(frames, OPEN).await;
    let (client, mut events) = client(port).connect_with_events().await.unwrap();
    let mut saw_error = false;
    let outcome = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match events.next().await.unwrap() {
                ClientEvent::Error(_) => saw_error = true,
                ClientEvent::Disconnect(r) => return r,
                _ => {}
            }
        }
    })
    .await
    .expect("a disconnect, not a hang");
    assert!(reason(&outcome), "{outcome:?}");
    if matches!(outcome, DisconnectReason::ParseError(_)) && !saw_error {
        // Engine-level parse errors close the connection directly.
    }
    // It keeps trying to reconnect, and reconnects.
    let reconnected = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let ClientEvent::Connect { .. } = events.next().await.unwrap() {
                return;
            }
        }
    })
    .await;
    assert!(reconnected.is_ok(), "reconnects after the violation");
    client.disconnect();
}

fn parse_error(r: &DisconnectReason) -> bool {
    matches!(r, DisconnectReason::ParseError(_))
}

#[tokio::test]
async fn unknown_engine_packet_type() {
    expect_error_then_disconnect(vec!["x"], parse_error).await;
}

#[tokio::test]
async fn empty_frame() {
    expect_error_then_disconnect(vec![""], parse_error).await;
}

#[tokio::test]
async fn event_data_not_an_array() {
    expect_error_then_disconnect(vec![r#"42{"not":"an array"}"#], parse_error).await;
}

#[tokio::test]
async fn truncated_json() {
    expect_error_then_disconnect(vec![r#"42["ev",{"a":"#], parse_error).await;
}

#[tokio::test]
async fn unknown_socket_io_packet_type() {
    expect_error_then_disconnect(vec!["49"], parse_error).await;
}

#[tokio::test]
async fn deeply_nested_json() {
    let deep: &'static str = Box::leak(
        format!("42[\"ev\",{}{}]", "[".repeat(10_000), "]".repeat(10_000)).into_boxed_str(),
    );
    expect_error_then_disconnect(vec![deep], parse_error).await;
}

#[tokio::test]
async fn too_many_attachments_announced() {
    expect_error_then_disconnect(vec![r#"4599999999999-["ev"]"#], parse_error).await;
}

#[tokio::test]
async fn binary_frame_without_a_pending_packet() {
    expect_error_then_disconnect(vec!["bin:\u{1}\u{2}"], parse_error).await;
}

#[tokio::test]
async fn text_frame_while_attachments_are_pending() {
    expect_error_then_disconnect(
        vec![r#"451-["ev",{"_placeholder":true,"num":0}]"#, r#"42["ev"]"#],
        parse_error,
    )
    .await;
}

#[tokio::test]
async fn connect_without_sid() {
    // A second CONNECT for another namespace is ignored; one for ours without a sid is a
    // violation only while connecting, so a valid session stays up: check a bad first CONNECT.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else {
                    return;
                };
                ws.send(Message::text(OPEN)).await.unwrap();
                let _ = ws.next().await;
                let _ = ws.send(Message::text("40{}")).await;
                while let Some(Ok(_)) = ws.next().await {}
            });
        }
    });
    let (_client, mut events) = client(port)
        .reconnection(false)
        .build_with_events()
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let e @ ClientEvent::Error(_) = events.next().await.unwrap() {
                return e;
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(event, ClientEvent::Error(_)));
}

#[tokio::test]
async fn heartbeat_timeout_detects_a_dead_server() {
    const SHORT: &str =
        r#"0{"sid":"abc","upgrades":[],"pingInterval":100,"pingTimeout":100,"maxPayload":1000000}"#;
    let port = ws_server(vec![], SHORT).await;
    let (client, mut events) = client(port)
        .reconnection(false)
        .connect_with_events()
        .await
        .unwrap();
    let reason = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            if let ClientEvent::Disconnect(r) = events.next().await.unwrap() {
                return r;
            }
        }
    })
    .await
    .expect("the missing pings are noticed");
    assert_eq!(reason, DisconnectReason::PingTimeout);
    client.disconnect();
}

/// An HTTP server answering every request with `body`.
async fn http_server(status: &'static str, body: &'static [u8]) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(body).await;
            });
        }
    });
    port
}

#[tokio::test]
async fn garbage_handshakes_fail_cleanly() {
    for (status, body) in [
        ("200 OK", &b"0{\"sid\":"[..]),
        ("200 OK", b"not socket.io at all"),
        ("200 OK", b"\xff\xfe\x00"),
        ("200 OK", b"99999999999999999999999:0"),
        ("200 OK", b""),
        ("404 Not Found", b"nope"),
        ("500 Internal Server Error", b""),
    ] {
        let port = http_server(status, body).await;
        let result = Client::builder(&format!("http://127.0.0.1:{port}/"))
            .force_new(true)
            .reconnection(false)
            .timeout(Duration::from_secs(3))
            .connect()
            .await;
        // Not a refusal by a Socket.IO server: the connection itself failed.
        assert!(
            matches!(result, Err(Error::ConnectFailed(_))),
            "{status} {body:?}: {result:?}"
        );
    }
}

#[tokio::test]
async fn unreachable_server_times_out_or_fails() {
    // Nothing listens there.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let result = Client::builder(&format!("http://127.0.0.1:{port}/"))
        .force_new(true)
        .timeout(Duration::from_secs(2))
        .connect()
        .await;
    assert!(
        matches!(&result, Err(Error::ConnectFailed(_) | Error::Timeout)),
        "{result:?}"
    );
}
