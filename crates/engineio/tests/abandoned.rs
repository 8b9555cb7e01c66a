//! Sessions that clients open and then abandon must not outlive their heartbeat: each is
//! closed with "ping timeout", leaves the session table, and its memory is released.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::{
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use bytes::Bytes;
use common::{eventually, in_process_request};
use http::StatusCode;
use sio_engineio::{CloseReason, Data, Engine, EngineConfig, EngineHandler, Socket};

const SESSIONS: usize = 10_000;

/// Keeps only weak references to the sessions, so that it never holds one alive itself.
#[derive(Default)]
struct Recorder {
    opened: Mutex<Vec<Weak<Socket<()>>>>,
    ping_timeouts: AtomicUsize,
    other_closes: AtomicUsize,
}

impl EngineHandler for Recorder {
    type Data = ();

    fn on_open(&self, socket: Arc<Socket<()>>) {
        self.opened.lock().unwrap().push(Arc::downgrade(&socket));
    }

    fn on_message(&self, _socket: &Arc<Socket<()>>, _data: Data<'_>) {}

    fn on_close(&self, _socket: &Arc<Socket<()>>, reason: CloseReason) {
        let counter = if reason == CloseReason::PingTimeout {
            &self.ping_timeouts
        } else {
            &self.other_closes
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

fn live(recorder: &Recorder) -> usize {
    recorder
        .opened
        .lock()
        .unwrap()
        .iter()
        .filter(|weak| weak.upgrade().is_some())
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_abandoned_polling_sessions_are_closed_and_freed() {
    let config = EngineConfig {
        ping_interval: Duration::from_millis(100),
        ping_timeout: Duration::from_millis(100),
        ..EngineConfig::default()
    };
    // Handshakes go straight to `Engine::handle`: no sockets, so no OS limit gets in the way.
    let engine = Engine::new(config, Recorder::default());
    for _ in 0..SESSIONS {
        let req = in_process_request(
            "GET",
            "/engine.io/?EIO=4&transport=polling",
            &[],
            Bytes::new(),
        );
        let response = engine.handle(req).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let recorder = engine.handler();
    assert_eq!(recorder.opened.lock().unwrap().len(), SESSIONS);
    assert!(
        engine.session_count() > 0,
        "sessions vanished before their timeout"
    );

    let all_closed = eventually(Duration::from_secs(10), || {
        recorder.ping_timeouts.load(Ordering::Relaxed) == SESSIONS
    })
    .await;
    assert!(
        all_closed,
        "{} of {SESSIONS} sessions closed with ping timeout",
        recorder.ping_timeouts.load(Ordering::Relaxed)
    );
    assert_eq!(recorder.other_closes.load(Ordering::Relaxed), 0);
    assert_eq!(engine.session_count(), 0);

    // Every session's memory is released: nothing (heartbeat task, table, transport) still
    // holds a reference once its close is complete.
    let all_freed = eventually(Duration::from_secs(5), || live(recorder) == 0).await;
    assert!(
        all_freed,
        "{} of {SESSIONS} sessions are still referenced",
        live(recorder)
    );
}

#[tokio::test]
async fn an_abandoned_websocket_session_is_freed_too() {
    let config = EngineConfig {
        ping_interval: Duration::from_millis(50),
        ping_timeout: Duration::from_millis(50),
        ..EngineConfig::default()
    };
    let server = common::start(config).await;
    // A client that connects, reads the open packet and then never answers a ping.
    let (mut ws, sid) = server.open_ws("").await;
    let weak = Arc::downgrade(&server.engine.session(&sid).unwrap());
    assert_eq!(ws.next_text().await, "2");
    ws.expect_closed().await;
    assert!(eventually(Duration::from_secs(2), || weak.upgrade().is_none()).await);
    assert_eq!(server.engine.session_count(), 0);
    let closed = server.engine.handler().closed.lock().unwrap().clone();
    assert_eq!(closed, [(sid, CloseReason::PingTimeout)]);
}
