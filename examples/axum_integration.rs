//! Socket.IO inside an axum 0.8 application: Node's `new Server(httpServer)` next to Express.
//!
//! `io.layer()` is a tower layer: requests under `/socket.io/` go to Socket.IO (long-polling
//! and the WebSocket upgrade), everything else to the axum router. The router's handlers get
//! the `SocketIo` handle as state and can emit to the clients, like an Express route calling
//! `io.emit`.
//!
//! | route                    | what it does                                                  |
//! |--------------------------|---------------------------------------------------------------|
//! | `GET /`                  | a page with a browser client that shows the announcements     |
//! | `GET /api/stats`         | `{"sockets": n}`: clients connected to the main namespace     |
//! | `POST /api/announce`     | body `{"text": …}`: emits `announcement` to every client, answers `{"sent_to": n}` |
//! | `/socket.io/*`           | the Socket.IO server: each client gets `welcome` on connection |
//!
//! ```text
//! cargo run -p sio-examples --example axum_integration   # PORT=4000 to change the port
//! # open http://127.0.0.1:3000 in a browser (the page loads the client from the socket.io CDN), then:
//! curl -X POST -H 'content-type: application/json' -d '{"text":"hello"}' http://127.0.0.1:3000/api/announce
//! node peers/examples/axum_integration.js http://127.0.0.1:3000   # the scripted check
//! ```

use axum::{
    Json, Router,
    extract::State,
    response::Html,
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use sio_server::{ServerConfig, SocketIo, SocketRef};
use tokio::net::TcpListener;

#[derive(Debug, Deserialize, Serialize)]
struct Announcement {
    text: String,
}

#[derive(Debug, Serialize)]
struct Stats {
    sockets: usize,
}

#[derive(Debug, Serialize)]
struct Sent {
    sent_to: usize,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();

    let io = SocketIo::new(ServerConfig::default());
    io.on_connection(|socket: SocketRef| async move {
        println!("socket {} connected", socket.id());
        let _ = socket.emit("welcome", &serde_json::json!({ "id": socket.id() }));
    });

    let app = Router::new()
        .route("/", get(index))
        .route("/api/stats", get(stats))
        .route("/api/announce", post(announce))
        .with_state(io.clone())
        // Last, so that it wraps every route and the 404 fallback: `/socket.io/` never
        // reaches the router.
        .layer(io.layer());

    let port = std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(3000);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!(
        "axum_integration listening on http://{}",
        listener.local_addr()?
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            // Long-polling requests and WebSockets would keep the graceful shutdown waiting:
            // close the sessions ("server shutting down") so that they end.
            io.close();
        })
        .await
}

/// `app.get("/api/stats", (req, res) => res.json({ sockets: io.of("/").sockets.size }))`
async fn stats(State(io): State<SocketIo>) -> Json<Stats> {
    Json(Stats {
        sockets: io.of("/").socket_count(),
    })
}

/// `app.post("/api/announce", (req, res) => { io.emit("announcement", req.body); … })`
///
/// A body that is not `{"text": "…"}` is refused by the `Json` extractor (422 or 415).
async fn announce(
    State(io): State<SocketIo>,
    Json(announcement): Json<Announcement>,
) -> Result<Json<Sent>, (axum::http::StatusCode, String)> {
    let sent_to = io.of("/").socket_count();
    io.emit("announcement", &announcement).map_err(|error| {
        (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            error.to_string(),
        )
    })?;
    println!("announced {:?} to {sent_to} sockets", announcement.text);
    Ok(Json(Sent { sent_to }))
}

async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// A browser client: same origin, so no CORS settings are needed.
const INDEX: &str = r#"<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>sio + axum</title>
  <script src="https://cdn.socket.io/4.8.1/socket.io.min.js"></script>
</head>
<body>
  <h1>Announcements</h1>
  <form id="form"><input id="text" placeholder="say something to everyone"><button>Announce</button></form>
  <ul id="log"></ul>
  <script>
    function log(text) {
      const item = document.createElement("li");
      item.textContent = text;
      document.getElementById("log").append(item);
    }
    const socket = io();
    socket.on("welcome", ({ id }) => log(`connected as ${id} (${socket.io.engine.transport.name})`));
    socket.on("announcement", ({ text }) => log(`announcement: ${text}`));
    document.getElementById("form").addEventListener("submit", async (e) => {
      e.preventDefault();
      const text = document.getElementById("text").value;
      const res = await fetch("/api/announce", {
        method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
      });
      log(`sent to ${(await res.json()).sent_to} clients`);
    });
  </script>
</body>
</html>
"#;
