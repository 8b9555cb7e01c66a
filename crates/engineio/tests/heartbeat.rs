//! The engine's one timer keeps every session's heartbeat as Node does, including when
//! `pingTimeout` is longer than `pingInterval`: the next ping is due an interval after the
//! pong, not when the previous pong deadline would have passed.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use sio_engineio::EngineConfig;

#[tokio::test]
async fn pings_follow_pongs_by_the_interval_even_when_the_timeout_is_longer() {
    let server = common::start(EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(1500),
        ..common::suite_config()
    })
    .await;
    let (mut ws, _sid) = server.open_ws("").await;
    let opened = Instant::now();
    for _ in 0..4 {
        assert_eq!(ws.next_text().await, "2");
        ws.send_text("3").await;
    }
    // Four pings an interval (100 ms) after each pong: about 400 ms. Waiting for the pong
    // deadline instead would take 1.5 s per ping.
    let took = opened.elapsed();
    assert!(
        took < Duration::from_millis(1200),
        "four heartbeats took {took:?}"
    );
    assert!(server.engine.session_count() == 1);
}

#[tokio::test]
async fn a_client_that_stops_answering_is_closed_after_the_timeout() {
    let server = common::start(EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(300),
        ..common::suite_config()
    })
    .await;
    let (mut ws, sid) = server.open_ws("").await;
    assert_eq!(ws.next_text().await, "2");
    ws.send_text("3").await;
    assert_eq!(ws.next_text().await, "2");
    // No pong this time: the server gives up 300 ms after the ping.
    let pinged = Instant::now();
    ws.expect_closed().await;
    let waited = pinged.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_millis(2000),
        "closed {waited:?} after the unanswered ping"
    );
    let closed = server.engine.handler().closed.lock().unwrap().clone();
    assert_eq!(closed, [(sid, sio_engineio::CloseReason::PingTimeout)]);
}
