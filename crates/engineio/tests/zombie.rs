//! A WebSocket peer that stops reading while the server has data for it must not hold its
//! connection for ever: once its session ends (here by ping timeout, since it cannot answer
//! pings it does not read), the server drops the connection within `close_timeout`, releasing
//! the file descriptor and the kernel's send buffer (Node's `ws` destroys such a socket 30 s
//! after closing it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::SinkExt;
use sio_engineio::{CloseReason, Data, EngineConfig, EngineHandler, Message, Socket};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// Answers any message with 32 MB, more than the kernel buffers between the two ends hold.
#[derive(Default)]
struct Flood {
    closed: Mutex<Vec<CloseReason>>,
}

impl EngineHandler for Flood {
    type Data = ();

    fn on_open(&self, _socket: Arc<Socket<()>>) {}

    fn on_message(&self, socket: &Arc<Socket<()>>, _data: Data<'_>) {
        let chunk = bytes::Bytes::from(vec![0x5a; 1 << 20]);
        socket.send_all((0..32).map(|_| Message::binary(chunk.clone())));
    }

    fn on_close(&self, _socket: &Arc<Socket<()>>, reason: CloseReason) {
        self.closed.lock().unwrap().push(reason);
    }
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[tokio::test]
async fn a_peer_that_stops_reading_loses_its_connection_after_its_session_ends() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = EngineConfig {
        close_timeout: Duration::from_millis(300),
        ..common::suite_config()
    };
    let engine = sio_engineio::Engine::new(config, Flood::default());
    let service = sio_engineio::EngineService::new(engine.clone());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        sio_engineio::serve(listener, service, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    let before = open_fds();

    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{addr}/engine.io/?EIO=4&transport=websocket"
    ))
    .await
    .unwrap();
    // Ask for the flood, then never read again (not even the open packet).
    ws.send(WsMessage::text("4flood")).await.unwrap();
    assert!(
        common::eventually(Duration::from_secs(2), || open_fds() == before + 2).await,
        "the connection is not open on both sides"
    );

    // Heartbeat (300 + 200 ms) plus the close timeout (300 ms), with room to spare.
    let released = common::eventually(Duration::from_secs(5), || open_fds() == before + 1).await;
    assert!(
        released,
        "the server still holds the connection of a peer that stopped reading ({} fds, {} before it connected)",
        open_fds(),
        before
    );
    assert_eq!(
        *engine.handler().closed.lock().unwrap(),
        [CloseReason::PingTimeout]
    );
    drop(ws);
}
