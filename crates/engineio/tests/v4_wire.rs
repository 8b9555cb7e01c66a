//! Engine.IO v4 as it appears on the wire: raw HTTP requests and WebSocket frames against a
//! real server, each test asserting on what came back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::{io::Read, sync::Arc, time::Duration};

use bytes::Bytes;
use common::{Event, calm_config, eventually, start, start_recording, suite_config};
use http::StatusCode;
use sio_engineio::{
    AllowRequest, CloseReason, Cookie, Cors, CorsOrigin, EngineConfig, RemoteAddr, TransportKind,
};
use tokio::net::TcpStream;

const HANDSHAKE: &str = "/engine.io/?EIO=4&transport=polling";
const WS_HANDSHAKE: &str = "/engine.io/?EIO=4&transport=websocket";

fn polling(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=polling&sid={sid}")
}

fn websocket(sid: &str) -> String {
    format!("/engine.io/?EIO=4&transport=websocket&sid={sid}")
}

/// Config with a heartbeat of our choosing and nothing else changed.
fn heartbeat(interval_ms: u64, timeout_ms: u64) -> EngineConfig {
    EngineConfig {
        ping_interval: Duration::from_millis(interval_ms),
        ping_timeout: Duration::from_millis(timeout_ms),
        ..EngineConfig::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake

#[tokio::test]
async fn polling_handshake_is_the_open_packet_with_exactly_five_keys() {
    let (server, mut events) = start_recording(suite_config()).await;
    let reply = server.get(HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; charset=UTF-8")
    );

    let body = reply.text();
    let json: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ]
    );
    let sid = json["sid"].as_str().unwrap();
    assert_eq!(sid.len(), 20);
    assert!(
        sid.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    );
    // Byte for byte what Node writes, key order included.
    assert_eq!(
        body,
        format!(
            r#"0{{"sid":"{sid}","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
        )
    );

    assert_eq!(events.next().await, Event::Open(sid.to_owned()));
    assert_eq!(server.engine.session_count(), 1);
    assert!(server.engine.session(sid).is_some());
    // Each handshake opens a new session with a new id.
    let (other, _) = server.open_polling("4").await;
    assert_ne!(other, sid);
    assert_eq!(server.engine.session_count(), 2);
}

#[tokio::test]
async fn handshake_values_follow_the_config() {
    let config = EngineConfig {
        ping_interval: Duration::from_millis(1234),
        ping_timeout: Duration::from_millis(567),
        max_http_buffer_size: 4321,
        ..EngineConfig::default()
    };
    let server = start(config).await;
    let (sid, json) = server.open_polling("4").await;
    assert_eq!(
        json,
        serde_json::json!({"sid": sid, "upgrades": ["websocket"], "pingInterval": 1234,
            "pingTimeout": 567, "maxPayload": 4321})
    );
}

#[tokio::test]
async fn refused_handshakes_answer_node_error_codes_and_open_nothing() {
    let server = start(calm_config()).await;
    let cases: &[(&str, &str, u16, u64, &str)] = &[
        (
            "GET",
            "/engine.io/?transport=polling",
            400,
            5,
            "Unsupported protocol version",
        ),
        (
            "GET",
            "/engine.io/?EIO=abc&transport=polling",
            400,
            5,
            "Unsupported protocol version",
        ),
        ("GET", "/engine.io/?EIO=4", 400, 0, "Transport unknown"),
        (
            "GET",
            "/engine.io/?EIO=4&transport=abc",
            400,
            0,
            "Transport unknown",
        ),
        ("POST", HANDSHAKE, 400, 2, "Bad handshake method"),
        ("PUT", HANDSHAKE, 400, 2, "Bad handshake method"),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
            400,
            1,
            "Session ID unknown",
        ),
        (
            "GET",
            "/engine.io/?EIO=4&transport=polling&sid=not-a-sid",
            400,
            1,
            "Session ID unknown",
        ),
        (
            "POST",
            "/engine.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
            400,
            1,
            "Session ID unknown",
        ),
        // A websocket transport asked for by plain HTTP, without the upgrade headers.
        ("GET", WS_HANDSHAKE, 400, 3, "Bad request"),
    ];
    for &(method, uri, status, code, message) in cases {
        let reply = server.request(method, uri, &[], "4hello").await;
        assert_eq!(
            reply.status.as_u16(),
            status,
            "{method} {uri}: {}",
            reply.text()
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/json"),
            "{method} {uri}"
        );
        assert_eq!(
            reply.json(),
            serde_json::json!({"code": code, "message": message}),
            "{method} {uri}"
        );
    }
    assert_eq!(server.engine.session_count(), 0);
}

// ---------------------------------------------------------------------------------------------
// Polling

#[tokio::test]
async fn three_posted_packets_come_back_in_one_poll() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let reply = server
        .post(&polling(&sid), "4test1\x1e4test2\x1e4test3")
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "ok");
    assert_eq!(reply.header("content-type"), Some("text/html"));
    for expected in ["test1", "test2", "test3"] {
        assert_eq!(
            events.message_of(&sid).await,
            (expected.as_bytes().to_vec(), false)
        );
    }

    let reply = server.get(&polling(&sid)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "4test1\x1e4test2\x1e4test3");
    assert_eq!(reply.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn binary_message_travels_as_base64() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    assert_eq!(server.post(&polling(&sid), "bAQIDBA==").await.text(), "ok");
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3, 4], true));
    assert_eq!(server.get(&polling(&sid)).await.text(), "bAQIDBA==");

    // Text and binary mixed in one payload keep their order and kinds.
    server.post(&polling(&sid), "4a\x1ebAQ==\x1e4€").await;
    assert_eq!(server.get(&polling(&sid)).await.text(), "4a\x1ebAQ==\x1e4€");
}

#[tokio::test]
async fn invalid_packet_closes_the_session() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let reply = server.post(&polling(&sid), "abc").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(events.close_of(&sid).await, CloseReason::ParseError);

    let reply = server.get(&polling(&sid)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["code"], 1);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn packets_before_an_invalid_one_are_delivered() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let reply = server
        .post(&polling(&sid), "4first\x1e9nope\x1e4never")
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(events.next().await, Event::Open(sid.clone()));
    assert_eq!(
        events.next().await,
        Event::Message(sid.clone(), b"first".to_vec(), false)
    );
    assert_eq!(
        events.next().await,
        Event::Close(sid.clone(), CloseReason::ParseError)
    );
}

#[tokio::test]
async fn a_second_concurrent_poll_ends_the_session() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let first = server.start_poll(&polling(&sid)).await;
    let second = server.get(&polling(&sid)).await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);

    let first = first.reply().await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.text(), "1");
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportError);

    let third = server.get(&polling(&sid)).await;
    assert_eq!(third.status, StatusCode::BAD_REQUEST);
    assert_eq!(third.json()["code"], 1);
}

#[tokio::test]
async fn unsupported_method_on_a_session_is_a_server_error() {
    let server = start(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    let reply = server.request("PUT", &polling(&sid), &[], "4x").await;
    assert_eq!(reply.status, StatusCode::INTERNAL_SERVER_ERROR);
}

// ---------------------------------------------------------------------------------------------
// Heartbeat and close

#[tokio::test]
async fn server_pings_and_each_pong_keeps_the_session() {
    // A long timeout: this test is about the pings, not about a slow machine missing a pong.
    let (server, mut events) = start_recording(heartbeat(150, 2000)).await;
    let (sid, _) = server.open_polling("4").await;

    for _ in 0..3 {
        let reply = server.get(&polling(&sid)).await;
        assert_eq!(reply.text(), "2");
        assert_eq!(server.post(&polling(&sid), "3").await.text(), "ok");
    }
    assert!(server.engine.session(&sid).unwrap().is_open());
    assert!(
        !events.drain().iter().any(|e| matches!(e, Event::Close(..))),
        "the session closed although every ping was answered"
    );
}

#[tokio::test]
async fn a_missing_pong_closes_with_ping_timeout() {
    let (server, mut events) = start_recording(heartbeat(100, 300)).await;
    let (sid, _) = server.open_polling("4").await;

    assert_eq!(server.get(&polling(&sid)).await.text(), "2");
    // No pong: the poll waiting meanwhile learns that the server closed the session.
    let pending = server.start_poll(&polling(&sid)).await;
    let reply = pending.reply().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "1");
    assert_eq!(events.close_of(&sid).await, CloseReason::PingTimeout);

    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_pong_without_a_ping_is_harmless_but_a_ping_from_a_v4_client_is_an_error() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    assert_eq!(server.post(&polling(&sid), "3").await.text(), "ok");
    assert!(server.engine.session(&sid).unwrap().is_open());

    // In v4 only the server pings.
    server.post(&polling(&sid), "2").await;
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportError);
}

#[tokio::test]
async fn client_close_releases_the_pending_poll_with_a_noop() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let pending = server.start_poll(&polling(&sid)).await;
    assert_eq!(server.post(&polling(&sid), "1").await.text(), "ok");
    let reply = pending.reply().await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.text(), "6");
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportClose);

    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_poll_arriving_just_after_the_client_close_still_gets_its_noop() {
    // A client sends its GET and its POST of `1` at once; the POST may win the race.
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    assert_eq!(server.post(&polling(&sid), "1").await.text(), "ok");
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportClose);
    assert_eq!(server.engine.session_count(), 0);

    let late = server.get(&polling(&sid)).await;
    assert_eq!(late.status, StatusCode::OK);
    assert_eq!(late.text(), "6");
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
}

// ---------------------------------------------------------------------------------------------
// WebSocket

#[tokio::test]
async fn polling_session_upgrades_to_websocket() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let pending = server.start_poll(&polling(&sid)).await;
    let mut ws = server.ws(&websocket(&sid)).await;
    ws.send_text("2probe").await;
    assert_eq!(ws.next_text().await, "3probe");
    // The poll that was waiting is released so the client can pause polling.
    let reply = pending.reply().await;
    assert_eq!((reply.status, reply.text()), (StatusCode::OK, "6"));
    assert_eq!(
        server.engine.session(&sid).unwrap().transport(),
        TransportKind::Polling
    );

    // What the server sends before the upgrade completes is not lost: it goes over the WebSocket.
    server.engine.session(&sid).unwrap().send_text("during");
    ws.send_text("5").await;
    assert_eq!(ws.next_text().await, "4during");
    assert_eq!(
        server.engine.session(&sid).unwrap().transport(),
        TransportKind::WebSocket
    );

    ws.send_text("4hello").await;
    assert_eq!(ws.next_text().await, "4hello");
    ws.send_binary(&[1, 2, 3]).await;
    assert_eq!(ws.next_binary().await, [1, 2, 3]);
    assert_eq!(events.message_of(&sid).await, (b"hello".to_vec(), false));
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3], true));

    // Polling is over for this session.
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["code"], 3);
    let reply = server.post(&polling(&sid), "4late").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);

    // A second WebSocket for the session is accepted, then closed (an HTTP error would make
    // some clients throw); the first one carries on.
    let mut intruder = server.ws(&websocket(&sid)).await;
    intruder.expect_closed().await;
    ws.send_text("4still here").await;
    assert_eq!(ws.next_text().await, "4still here");
    assert!(server.engine.session(&sid).unwrap().is_open());
}

#[tokio::test]
async fn a_poll_sent_just_after_the_upgrade_packet_is_refused() {
    // The socket.io-protocol suite sends the probe and upgrade packets, then at once a GET,
    // which the server may handle before the WebSocket task has read `5`: such a GET waits for
    // the upgrade rather than become the pending poll. (This test cannot force that order: the
    // suite's runs showed the race; here the GET is sent first but may still arrive second.)
    let (server, _events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    let mut ws = server.ws(&websocket(&sid)).await;
    let poll = server.start_poll(&polling(&sid)).await;
    ws.send_text("2probe").await;
    ws.send_text("5").await;
    let reply = poll.reply().await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
    assert_eq!(ws.next_text().await, "3probe");
}

#[tokio::test]
async fn an_upgrade_without_probe_does_not_take_the_session() {
    let (server, _events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;

    let mut ws = server.ws(&websocket(&sid)).await;
    // `5` before the probe is not a valid upgrade: the WebSocket is dropped.
    ws.send_text("5").await;
    ws.expect_closed().await;
    assert_eq!(
        server.engine.session(&sid).unwrap().transport(),
        TransportKind::Polling
    );
    assert_eq!(server.post(&polling(&sid), "4ok").await.text(), "ok");
    assert_eq!(server.get(&polling(&sid)).await.text(), "4ok");
}

#[tokio::test]
async fn websocket_only_session_echoes_and_heartbeats() {
    let (server, mut events) = start_recording(heartbeat(150, 2000)).await;
    let mut ws = server.ws(WS_HANDSHAKE).await;

    let open = ws.next_text().await;
    let json: serde_json::Value = serde_json::from_str(open.strip_prefix('0').unwrap()).unwrap();
    let sid = json["sid"].as_str().unwrap().to_owned();
    assert_eq!(
        open,
        format!(
            r#"0{{"sid":"{sid}","upgrades":[],"pingInterval":150,"pingTimeout":2000,"maxPayload":1000000}}"#
        )
    );
    assert_eq!(events.next().await, Event::Open(sid.clone()));

    ws.send_text("4héllo").await;
    assert_eq!(ws.next_text().await, "4héllo");
    ws.send_binary(&[0, 255, 7]).await;
    assert_eq!(ws.next_binary().await, [0, 255, 7]);

    for _ in 0..3 {
        assert_eq!(ws.next_text().await, "2");
        ws.send_text("3").await;
    }
    assert!(server.engine.session(&sid).unwrap().is_open());

    // A WebSocket-only session cannot be polled.
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );

    futures_util::SinkExt::close(&mut ws.0).await.unwrap();
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportClose);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_close_after_the_server_wrote_is_still_heard() {
    // The session task waits for the client with its reader idle; woken only to write, it
    // must keep listening (it once stopped until the next write).
    let (server, mut events) = start_recording(calm_config()).await;
    let (mut ws, sid) = server.open_ws("").await;
    ws.send_text("4ping").await;
    assert_eq!(ws.next_text().await, "4ping");
    for i in 0..3 {
        server
            .engine
            .session(&sid)
            .unwrap()
            .send_text(&format!("server {i}"));
        assert_eq!(ws.next_text().await, format!("4server {i}"));
    }
    futures_util::SinkExt::close(&mut ws.0).await.unwrap();
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportClose);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_websocket_dropped_without_closing_handshake_is_a_transport_close() {
    // As in Node, where `ws` reports a vanished peer as a close (code 1006), not an error.
    let (server, mut events) = start_recording(calm_config()).await;
    let (ws, sid) = server.open_ws("").await;
    drop(ws);
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportClose);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn invalid_websocket_frame_closes_the_session() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (mut ws, sid) = server.open_ws("").await;

    ws.send_text("abc").await;
    ws.expect_closed().await;
    assert_eq!(events.close_of(&sid).await, CloseReason::ParseError);
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn websocket_pings_unanswered_close_with_ping_timeout() {
    let (server, mut events) = start_recording(heartbeat(100, 200)).await;
    let (mut ws, sid) = server.open_ws("").await;
    assert_eq!(ws.next_text().await, "2");
    ws.expect_closed().await;
    assert_eq!(events.close_of(&sid).await, CloseReason::PingTimeout);
}

// ---------------------------------------------------------------------------------------------
// Options

#[tokio::test]
async fn polling_only_server_refuses_websocket() {
    let config = EngineConfig {
        transports: vec![TransportKind::Polling],
        ..calm_config()
    };
    let server = start(config).await;
    let (sid, json) = server.open_polling("4").await;
    assert_eq!(json["upgrades"], serde_json::json!([]));

    let reply = server.get(WS_HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.json(),
        serde_json::json!({"code": 0, "message": "Transport unknown"})
    );
    assert_eq!(
        server.ws_refused(WS_HANDSHAKE).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        server.ws_refused(&websocket(&sid)).await,
        StatusCode::BAD_REQUEST
    );

    // The polling session is untouched.
    assert_eq!(server.post(&polling(&sid), "4ok").await.text(), "ok");
    assert_eq!(server.get(&polling(&sid)).await.text(), "4ok");
    assert_eq!(server.engine.session_count(), 1);
}

#[tokio::test]
async fn websocket_only_server_refuses_polling() {
    let config = EngineConfig {
        transports: vec![TransportKind::WebSocket],
        ..calm_config()
    };
    let server = start(config).await;
    let reply = server.get(HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["code"], 0);

    let mut ws = server.ws(WS_HANDSHAKE).await;
    assert!(ws.next_text().await.contains(r#""upgrades":[]"#));
}

#[tokio::test]
async fn disallowed_upgrades_are_not_offered() {
    let config = EngineConfig {
        allow_upgrades: false,
        ..calm_config()
    };
    let server = start(config).await;
    let (sid, json) = server.open_polling("4").await;
    assert_eq!(json["upgrades"], serde_json::json!([]));
    assert_eq!(server.post(&polling(&sid), "4x").await.text(), "ok");
    assert_eq!(server.get(&polling(&sid)).await.text(), "4x");
}

fn small_buffer(max: usize) -> EngineConfig {
    EngineConfig {
        max_http_buffer_size: max,
        ..calm_config()
    }
}

#[tokio::test]
async fn oversized_post_is_refused_and_the_session_lives_on() {
    let (server, mut events) = start_recording(small_buffer(100)).await;
    let (sid, json) = server.open_polling("4").await;
    assert_eq!(json["maxPayload"], 100);

    let too_big = format!("4{}", "x".repeat(100));
    let reply = server.post(&polling(&sid), too_big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);

    // Exactly at the limit is accepted, and the session still works.
    let at_limit = format!("4{}", "y".repeat(99));
    assert_eq!(
        server.post(&polling(&sid), at_limit.clone()).await.text(),
        "ok"
    );
    assert_eq!(server.get(&polling(&sid)).await.text(), at_limit);
    assert!(server.engine.session(&sid).unwrap().is_open());
    let (first, _) = events.message_of(&sid).await;
    assert_eq!(
        first.len(),
        99,
        "the refused body must not have reached the handler"
    );
}

#[tokio::test]
async fn oversized_post_without_content_length_is_refused_too() {
    use futures_util::stream;
    use http_body_util::StreamBody;
    use hyper::body::Frame;

    let server = start(small_buffer(100)).await;
    let (sid, _) = server.open_polling("4").await;

    // Chunks with no announced length: the limit applies while reading.
    let chunks = (0..5).map(|_| Ok::<_, std::io::Error>(Frame::data(Bytes::from("4".repeat(30)))));
    let req = http::Request::post(polling(&sid))
        .body(StreamBody::new(stream::iter(chunks)))
        .unwrap();
    let response = server.engine.handle(req).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

    assert_eq!(server.post(&polling(&sid), "4fine").await.text(), "ok");
    assert_eq!(server.get(&polling(&sid)).await.text(), "4fine");
}

#[tokio::test]
async fn oversized_websocket_message_closes_the_websocket() {
    let (server, mut events) = start_recording(small_buffer(100)).await;
    let (mut ws, sid) = server.open_ws("").await;

    let fits = format!("4{}", "a".repeat(99));
    ws.send_text(&fits).await;
    assert_eq!(ws.next_text().await, fits);

    ws.send_text(&format!("4{}", "b".repeat(200))).await;
    ws.expect_closed().await;
    assert_eq!(events.close_of(&sid).await, CloseReason::TransportError);
}

fn with_cors(origin: CorsOrigin, credentials: bool) -> EngineConfig {
    EngineConfig {
        cors: Cors {
            origin,
            credentials,
        },
        ..calm_config()
    }
}

#[tokio::test]
async fn cors_any_origin() {
    let server = start(with_cors(CorsOrigin::Any, false)).await;
    let reply = server
        .request(
            "GET",
            HANDSHAKE,
            &[("origin", "https://a.example")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    assert_eq!(reply.header("access-control-allow-credentials"), None);

    // Error answers carry the header too, so that a browser can read them.
    let reply = server
        .request(
            "GET",
            "/engine.io/?EIO=4",
            &[("origin", "https://a.example")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn cors_with_credentials_reflects_the_origin() {
    let server = start(with_cors(CorsOrigin::Any, true)).await;
    let reply = server
        .request(
            "GET",
            HANDSHAKE,
            &[("origin", "https://a.example")],
            Bytes::new(),
        )
        .await;
    assert_eq!(
        reply.header("access-control-allow-origin"),
        Some("https://a.example")
    );
    assert_eq!(
        reply.header("access-control-allow-credentials"),
        Some("true")
    );
}

#[tokio::test]
async fn cors_origin_list_and_predicate() {
    let list = CorsOrigin::List(vec!["https://good.example".into()]);
    let predicate =
        CorsOrigin::Predicate(Arc::new(|origin: &str| origin.ends_with(".good.example")));
    for (origin_option, allowed, refused) in [
        (list, "https://good.example", "https://evil.example"),
        (
            predicate,
            "https://app.good.example",
            "https://good.example.evil",
        ),
    ] {
        let server = start(with_cors(origin_option, false)).await;
        let reply = server
            .request("GET", HANDSHAKE, &[("origin", allowed)], Bytes::new())
            .await;
        assert_eq!(reply.header("access-control-allow-origin"), Some(allowed));
        assert_eq!(reply.header("vary"), Some("Origin"));

        let reply = server
            .request("GET", HANDSHAKE, &[("origin", refused)], Bytes::new())
            .await;
        assert_eq!(
            reply.status,
            StatusCode::OK,
            "CORS is the browser's business, not a refusal"
        );
        assert_eq!(reply.header("access-control-allow-origin"), None);
    }
}

#[tokio::test]
async fn cors_preflight_and_disabled_cors() {
    let server = start(with_cors(CorsOrigin::Any, false)).await;
    let reply = server
        .request(
            "OPTIONS",
            HANDSHAKE,
            &[
                ("origin", "https://a.example"),
                ("access-control-request-method", "POST"),
                ("access-control-request-headers", "content-type,x-custom"),
            ],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let methods = reply.header("access-control-allow-methods").unwrap();
    assert!(methods.split(',').any(|m| m == "POST") && methods.split(',').any(|m| m == "GET"));
    assert_eq!(
        reply.header("access-control-allow-headers"),
        Some("content-type,x-custom")
    );
    assert_eq!(server.engine.session_count(), 0);

    let server = start(calm_config()).await;
    let reply = server
        .request(
            "GET",
            HANDSHAKE,
            &[("origin", "https://a.example")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn cookie_is_set_on_the_handshake_only() {
    let config = EngineConfig {
        cookie: Some(Cookie::default()),
        ..calm_config()
    };
    let server = start(config).await;
    let reply = server.get(HANDSHAKE).await;
    let sid = common::sid_of_open(reply.text());
    assert_eq!(
        reply.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );

    let post = server.post(&polling(&sid), "4x").await;
    assert_eq!(post.header("set-cookie"), None);
    let get = server.get(&polling(&sid)).await;
    assert_eq!(get.text(), "4x");
    assert_eq!(get.header("set-cookie"), None);

    // Off by default.
    let server = start(calm_config()).await;
    assert_eq!(server.get(HANDSHAKE).await.header("set-cookie"), None);
}

#[tokio::test]
async fn allow_request_can_refuse_a_handshake() {
    let allow: AllowRequest = Arc::new(|parts: &http::request::Parts| {
        if parts.headers.contains_key("x-ticket") {
            Ok(())
        } else {
            Err("no ticket, no entry".to_owned())
        }
    });
    let config = EngineConfig {
        allow_request: Some(allow),
        ..calm_config()
    };
    let server = start(config).await;

    let reply = server.get(HANDSHAKE).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(
        reply.json(),
        serde_json::json!({"code": 4, "message": "no ticket, no entry"})
    );
    // A refused WebSocket handshake is a plain HTTP 400, as Node aborts upgrades.
    assert_eq!(
        server.ws_refused(WS_HANDSHAKE).await,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(server.engine.session_count(), 0);

    let reply = server
        .request("GET", HANDSHAKE, &[("x-ticket", "1")], Bytes::new())
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(server.engine.session_count(), 1);
}

fn gunzip(data: &[u8]) -> String {
    let mut out = String::new();
    flate2::read::GzDecoder::new(data)
        .read_to_string(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn large_polls_are_compressed_when_the_client_accepts_it() {
    let server = start(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    let long = format!("4{}", "engine.io ".repeat(300));
    server.post(&polling(&sid), long.clone()).await;

    let reply = server
        .request(
            "GET",
            &polling(&sid),
            &[("accept-encoding", "gzip, deflate")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    assert!(reply.body.len() < long.len());
    assert_eq!(gunzip(&reply.body), long);

    // deflate when gzip is not accepted.
    server.post(&polling(&sid), long.clone()).await;
    let reply = server
        .request(
            "GET",
            &polling(&sid),
            &[("accept-encoding", "deflate")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.header("content-encoding"), Some("deflate"));
    let mut inflated = String::new();
    flate2::read::ZlibDecoder::new(&reply.body[..])
        .read_to_string(&mut inflated)
        .unwrap();
    assert_eq!(inflated, long);

    // Below the threshold (1024 bytes) the body goes as it is.
    server.post(&polling(&sid), "4short").await;
    let reply = server
        .request(
            "GET",
            &polling(&sid),
            &[("accept-encoding", "gzip")],
            Bytes::new(),
        )
        .await;
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.text(), "4short");

    // Without Accept-Encoding a large body is not compressed either.
    server.post(&polling(&sid), long.clone()).await;
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(reply.header("content-encoding"), None);
    assert_eq!(reply.text(), long);
}

#[tokio::test]
async fn engine_close_flushes_and_closes_every_session() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (polling_sid, _) = server.open_polling("4").await;
    let (mut ws, ws_sid) = server.open_ws("").await;
    assert_eq!(server.engine.session_count(), 2);

    let pending = server.start_poll(&polling(&polling_sid)).await;
    let polling_socket = server.engine.session(&polling_sid).unwrap();
    // Queued and closed before the pending poll gets a chance to run: it must carry both.
    polling_socket.send_text("a");
    polling_socket.send_text("b");
    server.engine.session(&ws_sid).unwrap().send_text("bye");
    server.engine.close();

    let reply = pending.reply().await;
    assert_eq!(reply.status, StatusCode::OK);
    // The close packet comes with the next poll, as in Node (see
    // `socket_close_flushes_to_the_pending_poll_then_closes`).
    assert_eq!(reply.text(), "4a\x1e4b");
    assert_eq!(ws.next_text().await, "4bye");
    ws.expect_closed().await;

    let mut closed = Vec::new();
    while closed.len() < 2 {
        if let Event::Close(sid, reason) = events.next().await {
            closed.push((sid, reason));
        }
    }
    closed.sort_by(|a, b| a.0.cmp(&b.0));
    let mut expected = vec![
        (polling_sid.clone(), CloseReason::ServerShuttingDown),
        (ws_sid.clone(), CloseReason::ServerShuttingDown),
    ];
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(closed, expected);
    assert_eq!(server.engine.session_count(), 0);
    assert!(!polling_socket.is_open());
    polling_socket.send_text("dropped");
    assert_eq!(server.get(&polling(&polling_sid)).await.text(), "1");
    assert_eq!(
        server.get(&polling(&polling_sid)).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn socket_close_flushes_to_the_pending_poll_then_closes() {
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    let pending = server.start_poll(&polling(&sid)).await;
    let socket = server.engine.session(&sid).unwrap();
    socket.send_text("last words");
    socket.close();
    // Like Node, the queued packets and the close packet go in separate polls:
    // socket.io-client handles a payload's messages on the next tick but its close packet at
    // once, so in one payload the messages would come after the disconnection.
    assert_eq!(pending.reply().await.text(), "4last words");
    assert_eq!(events.close_of(&sid).await, CloseReason::ForcedClose);
    assert_eq!(server.engine.session_count(), 0);
    assert_eq!(server.get(&polling(&sid)).await.text(), "1");
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn socket_close_between_polls_waits_for_the_next_poll() {
    // Node keeps a closing polling session until the client comes to collect what was queued
    // and the close packet; answering its next poll with 400 would lose both.
    let (server, mut events) = start_recording(calm_config()).await;
    let (sid, _) = server.open_polling("4").await;
    let socket = server.engine.session(&sid).unwrap();
    socket.send_text("last words");
    socket.close();
    assert_eq!(events.close_of(&sid).await, CloseReason::ForcedClose);
    assert!(!socket.is_open());

    // Data still posted by the client is not delivered to a closed session.
    assert_eq!(
        server.post(&polling(&sid), "4too late").await.status,
        StatusCode::OK
    );
    let reply = server.get(&polling(&sid)).await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "4last words")
    );
    assert_eq!(server.get(&polling(&sid)).await.text(), "1");
    assert_eq!(server.engine.session_count(), 0);
    assert_eq!(
        server.get(&polling(&sid)).await.status,
        StatusCode::BAD_REQUEST
    );
    assert!(events.drain().is_empty(), "events after the close");

    // Graceful shutdown likewise.
    let (sid, _) = server.open_polling("4").await;
    server.engine.session(&sid).unwrap().send_text("bye");
    server.engine.close();
    assert_eq!(server.get(&polling(&sid)).await.text(), "4bye");
    assert_eq!(server.get(&polling(&sid)).await.text(), "1");
    assert_eq!(server.engine.session_count(), 0);
}

#[tokio::test]
async fn a_closed_session_nobody_polls_is_forgotten_after_the_ping_timeout() {
    let (server, mut events) = start_recording(heartbeat(10_000, 100)).await;
    let (sid, _) = server.open_polling("4").await;
    let socket = server.engine.session(&sid).unwrap();
    let weak = Arc::downgrade(&socket);
    drop(socket);
    server.engine.close();
    assert_eq!(events.close_of(&sid).await, CloseReason::ServerShuttingDown);
    assert!(
        eventually(Duration::from_secs(2), || server.engine.session_count()
            == 0)
        .await
    );
    assert!(eventually(Duration::from_secs(2), || weak.upgrade().is_none()).await);
}

#[tokio::test]
async fn request_info_knows_the_peer_address() {
    let server = start(calm_config()).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let reply = server
        .request_on(
            stream,
            "GET",
            "/engine.io/?EIO=4&transport=polling&t=abc&name=caf%C3%A9",
            &[("x-custom", "yes")],
            Bytes::new(),
        )
        .await;
    let sid = common::sid_of_open(reply.text());

    let socket = server.engine.session(&sid).unwrap();
    let request = socket.request();
    assert_eq!(request.remote_addr, Some(local));
    assert_eq!(request.method, http::Method::GET);
    assert_eq!(request.query("name").as_deref(), Some("café"));
    assert_eq!(request.query("EIO").as_deref(), Some("4"));
    assert_eq!(request.headers.get("x-custom").unwrap(), "yes");
    assert!(!request.secure);

    // A WebSocket session knows it as well.
    let (_ws, ws_sid) = server.open_ws("").await;
    let ws_socket = server.engine.session(&ws_sid).unwrap();
    let peer = ws_socket.request().remote_addr.unwrap();
    assert!(peer.ip().is_loopback());
    assert_ne!(peer.port(), server.addr.port());

    // Without a server to insert it, the address is unknown; a custom server can supply it.
    let direct = server.handle("GET", HANDSHAKE, &[], Bytes::new()).await;
    let direct_sid = common::sid_of_open(direct.text());
    assert_eq!(
        server
            .engine
            .session(&direct_sid)
            .unwrap()
            .request()
            .remote_addr,
        None
    );

    let addr: std::net::SocketAddr = "10.1.2.3:4567".parse().unwrap();
    let mut req = common::in_process_request("GET", HANDSHAKE, &[], Bytes::new());
    req.extensions_mut().insert(RemoteAddr(addr));
    let response = server.engine.handle(req).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    let sid = serde_json::from_slice::<serde_json::Value>(&body[1..]).unwrap()["sid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.engine.session(&sid).unwrap().request().remote_addr,
        Some(addr)
    );
}

#[tokio::test]
async fn websocket_b64_sessions_use_base64_text_frames() {
    // What a `forceBase64` client does over WebSocket: `b<base64>` text frames both ways.
    let (server, mut events) = start_recording(calm_config()).await;
    let (mut ws, sid) = server.open_ws("&b64=1").await;
    ws.send_text("bAQID").await;
    assert_eq!(events.message_of(&sid).await, (vec![1, 2, 3], true));
    assert_eq!(ws.next_text().await, "bAQID");

    // Without b64, base64 text frames are still understood, and answers are binary frames.
    let mut ws = server.ws(WS_HANDSHAKE).await;
    ws.next_text().await;
    ws.send_text("bAQID").await;
    assert_eq!(ws.next_binary().await, [1, 2, 3]);
}
