//! Engine.IO v3 (Socket.IO 1.x/2.x clients) on the wire: length-prefixed payloads, client
//! heartbeats, XHR2 binary payloads, base64 and JSONP polling, typed binary WebSocket frames.
//! The official compliance suite does not cover any of it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{Event, TestServer, calm_config, start, start_recording};
use http::StatusCode;
use sio_engineio::{CloseReason, EngineConfig, Revision, TransportKind};

fn v3(config: EngineConfig) -> EngineConfig {
    EngineConfig {
        allow_eio3: true,
        ..config
    }
}

fn heartbeat(interval_ms: u64, timeout_ms: u64) -> EngineConfig {
    v3(EngineConfig {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
        ..EngineConfig::default()
    })
}

const HANDSHAKE: &str = "/engine.io/?EIO=3&transport=polling";

fn polling(sid: &str) -> String {
    format!("/engine.io/?EIO=3&transport=polling&sid={sid}")
}

/// The sid inside any answer that carries an open packet.
fn sid_in(text: &str) -> String {
    // JSONP escapes the quotes: read past the backslashes.
    let text = text.replace('\\', "");
    let start = text.find(r#""sid":""#).unwrap() + 7;
    text[start..start + 20].to_owned()
}

async fn open_ws(server: &TestServer, query: &str) -> (common::Ws, String) {
    let mut ws = server
        .ws(&format!("/engine.io/?EIO=3&transport=websocket{query}"))
        .await;
    let open = ws.next_text().await;
    let sid = sid_in(&open);
    assert_eq!(
        open,
        format!(r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":25000,"pingTimeout":20000}}"#)
    );
    (ws, sid)
}

#[tokio::test]
async fn eio3_is_refused_unless_allowed() {
    let server = start(calm_config()).await;
    let reply = server.get(HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({"code": 5, "message": "Unsupported protocol version"})
    );
    assert_eq!(
        server
            .ws_refused("/engine.io/?EIO=3&transport=websocket")
            .await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn handshake_is_a_length_prefixed_open_packet_without_max_payload() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let reply = server.get(HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    let sid = sid_in(reply.text());
    let packet = format!(
        r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}}"#
    );
    assert_eq!(reply.text(), format!("{}:{packet}", packet.len()));
    assert_eq!(events.next().await, Event::Open(sid.clone()));
    assert_eq!(
        server.engine.session(&sid).unwrap().revision(),
        Revision::V3
    );

    // An EIO value other than 4 (or none) means the 3rd revision, as in Node.
    for query in [
        "/engine.io/?transport=polling",
        "/engine.io/?EIO=2&transport=polling",
    ] {
        let text = server.get(query).await.text().to_owned();
        assert!(!text.contains("maxPayload"), "{query}: {text}");
        assert_eq!(
            server.engine.session(&sid_in(&text)).unwrap().revision(),
            Revision::V3
        );
    }
}

#[tokio::test]
async fn client_ping_gets_a_pong_and_the_server_never_pings() {
    let (server, mut events) = start_recording(heartbeat(200, 200)).await;
    let started = Instant::now();
    let (sid, _) = server.open_polling("3").await;

    assert_eq!(server.post(&polling(&sid), "1:2").await.text(), "ok");
    assert_eq!(server.get(&polling(&sid)).await.text(), "1:3");

    // Now stay silent. The poll waiting meanwhile receives no ping from the server, only the
    // close once pingInterval + pingTimeout passed without a client ping.
    let pending = server.start_poll(&polling(&sid)).await;
    let reply = pending.reply().await;
    assert_eq!(reply.text(), "1:1");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(events.close_of(&sid).await, CloseReason::PingTimeout);
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn client_pings_keep_the_session_alive() {
    // The session dies after 400 ms without a ping; ping every 100 ms for well over that.
    let (server, mut events) = start_recording(heartbeat(100, 300)).await;
    let (sid, _) = server.open_polling("3").await;
    let started = Instant::now();
    let mut pace = tokio::time::interval(Duration::from_millis(100));
    while started.elapsed() < Duration::from_millis(1000) {
        pace.tick().await;
        assert_eq!(server.post(&polling(&sid), "1:2").await.text(), "ok");
        assert_eq!(server.get(&polling(&sid)).await.text(), "1:3");
    }
    assert!(server.engine.session(&sid).unwrap().is_open());
    assert!(!events.drain().iter().any(|e| matches!(e, Event::Close(..))));
}

#[tokio::test]
async fn a_pong_from_a_v3_client_is_an_error() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (sid, _) = server.open_polling("3").await;
    server.post(&polling(&sid), "1:3").await;
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportError);
}

#[tokio::test]
async fn string_payload_lengths_count_utf16_units() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (sid, _) = server.open_polling("3").await;

    // `€` is one UTF-16 unit (three UTF-8 bytes), `😀` two units (four bytes).
    let payload = "6:4hello2:4€3:4😀6:4a€😀b";
    assert_eq!(server.post(&polling(&sid), payload).await.text(), "ok");
    for text in ["hello", "€", "😀", "a€😀b"] {
        assert_eq!(
            events.message_of(&sid).await,
            (text.as_bytes().to_vec(), false)
        );
    }
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(reply.text(), payload);

    // A length in bytes instead of units is an invalid payload.
    let reply = server.post(&polling(&sid), "4:4€").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(events.close_of(&sid).await, CloseReason::ParseError);
}

#[tokio::test]
async fn xhr2_binary_payload_is_echoed_as_binary() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (sid, _) = server.open_polling("3").await;
    let binary = [("content-type", "application/octet-stream")];

    // One binary packet: 1 (binary), length 4 as the digit byte 4, 0xFF, then type 4 + data.
    let body = Bytes::from_static(&[1, 4, 0xFF, 4, 1, 2, 3]);
    let reply = server
        .request("POST", &polling(&sid), &binary, body.clone())
        .await;
    assert_eq!(reply.text(), "ok");
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3], true));
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(
        reply.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(reply.body, body);

    // A string packet and an 11-byte binary packet (length digits 1, 1).
    let mut body = vec![0, 6, 0xFF];
    body.extend_from_slice(b"4hello");
    body.extend_from_slice(&[1, 1, 1, 0xFF, 4]);
    body.extend(0..10u8);
    let reply = server
        .request("POST", &polling(&sid), &binary, body.clone())
        .await;
    assert_eq!(reply.text(), "ok");
    assert_eq!(events.message_of(&sid).await, (b"hello".to_vec(), false));
    assert_eq!(events.message_of(&sid).await, ((0..10).collect(), true));
    assert_eq!(server.get(&polling(&sid)).await.body, body);

    // Only text queued: a string payload again.
    server.post(&polling(&sid), "3:4hi").await;
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(reply.text(), "3:4hi");
}

#[tokio::test]
async fn b64_sessions_get_binary_as_base64_text() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let reply = server
        .get("/engine.io/?EIO=3&transport=polling&b64=1")
        .await;
    let sid = sid_in(reply.text());
    assert!(!server.engine.session(&sid).unwrap().supports_binary());

    assert_eq!(
        server
            .post(&polling(&sid), "10:b4AQIDBA==3:4hi")
            .await
            .text(),
        "ok"
    );
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3, 4], true));
    assert_eq!(events.message_of(&sid).await, (b"hi".to_vec(), false));
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );
    assert_eq!(reply.text(), "10:b4AQIDBA==3:4hi");
}

#[tokio::test]
async fn jsonp_polling_wraps_payloads_in_a_script() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let reply = server.get("/engine.io/?EIO=3&transport=polling&j=0").await;
    let sid = sid_in(reply.text());
    let packet = format!(
        r#"0{{\"sid\":\"{sid}\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000}}"#
    );
    let unescaped_len = packet.len() - 12; // 12 escaping backslashes
    assert_eq!(
        reply.text(),
        format!(r#"___eio[0]("{unescaped_len}:{packet}");"#)
    );
    assert!(!server.engine.session(&sid).unwrap().supports_binary());
    let jsonp = format!("/engine.io/?EIO=3&transport=polling&sid={sid}&j=0");

    // The client escapes real newlines as `\n` and a literal `\n` as `\\n` before posting
    // the payload in the `d` field of a form. Messages: "a⏎b\nc" and "\"q\"\u{2028}".
    let posted = "7:4a\\nb\\\\nc5:4\"q\"\u{2028}";
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("d", posted)
        .finish();
    let reply = server
        .request(
            "POST",
            &jsonp,
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(reply.text(), "ok");
    assert_eq!(events.message_of(&sid).await, (b"a\nb\\nc".to_vec(), false));
    assert_eq!(
        events.message_of(&sid).await,
        ("\"q\"\u{2028}".as_bytes().to_vec(), false)
    );

    // Back as JavaScript: a JSON string literal, with U+2028 escaped as well.
    let reply = server.get(&jsonp).await;
    assert_eq!(reply.text(), r#"___eio[0]("7:4a\nb\\nc5:4\"q\"\u2028");"#);

    // Binary goes as base64 inside the script.
    let form: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("d", "10:b4AQIDBA==")
        .finish();
    server
        .request(
            "POST",
            &jsonp,
            &[("content-type", "application/x-www-form-urlencoded")],
            form,
        )
        .await;
    assert_eq!(
        server.get(&jsonp).await.text(),
        r#"___eio[0]("10:b4AQIDBA==");"#
    );
}

#[tokio::test]
async fn websocket_binary_frames_start_with_the_message_type() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (mut ws, sid) = open_ws(&server, "").await;

    ws.send_binary(&[4, 1, 2, 3]).await;
    assert_eq!(ws.next_binary().await, [4, 1, 2, 3]);
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3], true));
    ws.send_text("4hi €").await;
    assert_eq!(ws.next_text().await, "4hi €");
    ws.send_text("2").await;
    assert_eq!(ws.next_text().await, "3");
    ws.send_text("2probe").await;
    assert_eq!(ws.next_text().await, "3probe");

    // A binary frame of another type than message is not valid.
    ws.send_binary(&[9, 1]).await;
    ws.expect_closed().await;
    assert_eq!(events.close_of(&sid).await, CloseReason::ParseError);
}

#[tokio::test]
async fn websocket_b64_sessions_use_base64_text_frames() {
    // A `forceBase64` client (b64=1) sends `b4<base64>` text frames and must get the same.
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (mut ws, sid) = open_ws(&server, "&b64=1").await;

    ws.send_text("b4AQID").await;
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3], true));
    assert_eq!(ws.next_text().await, "b4AQID");
    ws.send_text("4text").await;
    assert_eq!(ws.next_text().await, "4text");
}

#[tokio::test]
async fn websocket_heartbeat_is_the_client_s_job() {
    let (server, mut events) = start_recording(heartbeat(100, 100)).await;
    let started = Instant::now();
    let mut ws = server.ws("/engine.io/?EIO=3&transport=websocket").await;
    let sid = sid_in(&ws.next_text().await);
    // No ping comes from the server: the next thing is the close after 200 ms of silence.
    ws.expect_closed().await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(events.close_of(&sid).await, CloseReason::PingTimeout);
}

#[tokio::test]
async fn polling_session_upgrades_to_websocket() {
    let (server, mut events) = start_recording(v3(calm_config())).await;
    let (sid, _) = server.open_polling("3").await;

    let pending = server.start_poll(&polling(&sid)).await;
    let mut ws = server
        .ws(&format!("/engine.io/?EIO=3&transport=websocket&sid={sid}"))
        .await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_text().await, "3probe");
    assert_eq!(pending.reply().await.text(), "1:6");
    ws.send_text("5").await;

    ws.send_binary(&[4, 9, 8]).await;
    assert_eq!(ws.next_binary().await, [4, 9, 8]);
    assert_eq!(events.message_of(&sid).await, (vec![9, 8], true));
    ws.send_text("2").await;
    assert_eq!(ws.next_text().await, "3");
    assert_eq!(
        server.engine.session(&sid).unwrap().transport(),
        TransportKind::WebSocket
    );
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
}
