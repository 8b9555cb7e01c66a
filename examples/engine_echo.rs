//! The Engine.IO server alone, like Node's `engine.io` package: an echo server.
//!
//! Engine.IO is the transport under Socket.IO: sessions over HTTP long-polling or WebSocket
//! (with the upgrade from one to the other), heartbeats, and messages that are plain text or
//! binary. No namespaces, events or acks. The Node version of this program:
//!
//! ```js
//! const engine = require("engine.io");
//! const server = engine.listen(3000, { cors: { origin: "*" } });
//! server.on("connection", (socket) => {
//!   socket.on("message", (data) => socket.send(data));
//!   socket.on("close", (reason) => console.log(`${socket.id} closed: ${reason}`));
//! });
//! ```
//!
//! ```text
//! cargo run -p sio-examples --example engine_echo          # PORT=4000 to change the port
//! node peers/examples/engine_echo.js http://127.0.0.1:3000  # each transport, text and binary
//! ```
//!
//! By hand, in a `node` REPL started in `peers/`:
//!
//! ```js
//! const { Socket } = require("engine.io-client");
//! const s = new Socket("http://127.0.0.1:3000");  // path /engine.io/ by default
//! s.on("message", (data) => console.log("echo:", data));
//! s.on("upgrade", (t) => console.log("upgraded to", t.name));
//! s.send("hello"); s.send(Buffer.from([1, 2, 3]));
//! ```

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use sio_engineio::{
    CloseReason, Cors, CorsOrigin, Data, Engine, EngineConfig, EngineHandler, EngineService,
    Message, Socket,
};
use tokio::net::TcpListener;

/// The handler: Node's `connection`, `message` and `close` events in one place.
struct Echo;

impl EngineHandler for Echo {
    /// Per-session data, kept in `socket.data`: here, how many messages the session echoed.
    type Data = AtomicU64;

    fn on_open(&self, socket: Arc<Socket<AtomicU64>>) {
        println!(
            "{} opened over {} (Engine.IO {:?})",
            socket.id(),
            socket.transport().as_str(),
            socket.revision()
        );
    }

    fn on_message(&self, socket: &Arc<Socket<AtomicU64>>, data: Data<'_>) {
        socket.data.fetch_add(1, Ordering::Relaxed);
        // `send` queues the message; whichever transport the session is on writes it.
        match data {
            Data::Text(text) => socket.send(Message::text(&text)),
            Data::Binary(bytes) => socket.send(Message::binary(bytes.into_owned())),
        }
    }

    fn on_close(&self, socket: &Arc<Socket<AtomicU64>>, reason: CloseReason) {
        println!(
            "{} closed: {reason} after {} messages",
            socket.id(),
            socket.data.load(Ordering::Relaxed)
        );
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let config = EngineConfig {
        // Lets a page served from elsewhere (a file, another port) connect with polling.
        cors: Cors {
            origin: CorsOrigin::Any,
            credentials: false,
        },
        // Every other option keeps Node's default: path /engine.io/, pingInterval 25 s,
        // pingTimeout 20 s, maxHttpBufferSize 1e6, both transports and upgrades.
        ..EngineConfig::default()
    };
    let engine = Engine::new(config, Echo);

    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("engine_echo listening on http://{}", listener.local_addr()?);
    // `sio_engineio::listen(addr, engine)` is the one-liner; `serve` takes a listener we bound
    // ourselves and a shutdown signal. Other paths answer 404.
    let shutdown = {
        let engine = engine.clone();
        async move {
            let _ = tokio::signal::ctrl_c().await;
            engine.close();
        }
    };
    sio_engineio::serve(listener, EngineService::new(engine), shutdown).await
}
