//! The server the official compliance suites test against.
//!
//! `/engine.io/`: a raw Engine.IO server that echoes every message (socketio/engine.io-protocol).
//! `/socket.io/`: the Socket.IO contract of socketio/socket.io-protocol: on connection emit `auth`
//! with the handshake auth, `message` is emitted back as `message-back`, `message-with-ack` is
//! acknowledged with its arguments; `/custom` emits `auth` too.
//!
//! ```text
//! cargo build --release --examples
//! target/release/examples/conformance --port 3000 [--allow-eio3]
//! ```
//!
//! Settings are the suites' contract: pingInterval 300 ms, pingTimeout 200 ms, maxPayload 1e6,
//! connectTimeout 1 s, CORS for any origin. `--recovery` turns connection state recovery on.

use std::{sync::Arc, time::Duration};

use sio_engineio::{
    CloseReason, Cors, CorsOrigin, Data, Engine, EngineConfig, EngineHandler, EngineService,
    Message, Socket,
};
use sio_server::{Event, RecoveryConfig, ServerConfig, SocketIo, SocketRef};
use tower_layer::Layer;

struct Echo;

impl EngineHandler for Echo {
    type Data = ();

    fn on_open(&self, _socket: Arc<Socket<()>>) {}

    fn on_message(&self, socket: &Arc<Socket<()>>, data: Data<'_>) {
        match data {
            Data::Text(text) => socket.send(Message::text(&text)),
            Data::Binary(bytes) => socket.send(Message::binary(bytes.into_owned())),
        }
    }

    fn on_close(&self, _socket: &Arc<Socket<()>>, _reason: CloseReason) {}
}

struct Args {
    host: String,
    port: u16,
    allow_eio3: bool,
    recovery: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        host: "127.0.0.1".into(),
        port: 3000,
        allow_eio3: false,
        recovery: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--port" => {
                let value = it.next().ok_or("--port needs a value")?;
                args.port = value.parse().map_err(|_| format!("bad port: {value}"))?;
            }
            "--host" => args.host = it.next().ok_or("--host needs a value")?,
            "--allow-eio3" => args.allow_eio3 = true,
            "--recovery" => args.recovery = true,
            other => return Err(format!("unknown argument: {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!(
                "conformance: {message}\nusage: conformance [--host ADDR] [--port N] [--allow-eio3] [--recovery]"
            );
            std::process::exit(2);
        }
    };
    let engine_config = EngineConfig {
        path: "/engine.io/".into(),
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_http_buffer_size: 1_000_000,
        allow_eio3: args.allow_eio3,
        cors: Cors {
            origin: CorsOrigin::Any,
            credentials: false,
        },
        ..EngineConfig::default()
    };
    let io = SocketIo::new(ServerConfig {
        engine: EngineConfig {
            path: "/socket.io/".into(),
            ..engine_config.clone()
        },
        connect_timeout: Duration::from_millis(1000),
        recovery: args.recovery.then(RecoveryConfig::default),
        ..ServerConfig::default()
    });
    serve_contract(&io);

    let service = io
        .layer()
        .layer(EngineService::new(Engine::new(engine_config, Echo)));
    let addr = (args.host.as_str(), args.port);
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!(
                "conformance: cannot listen on {}:{}: {error}",
                args.host, args.port
            );
            std::process::exit(1);
        }
    };
    println!(
        "conformance server on http://{}:{} (/engine.io/ and /socket.io/)",
        args.host, args.port
    );
    if let Err(error) = sio_engineio::serve(listener, service, std::future::pending()).await {
        eprintln!("conformance: server stopped: {error}");
        std::process::exit(1);
    }
}

/// The socket.io-protocol suite's server behaviour.
fn serve_contract(io: &SocketIo) {
    io.of("/").on_connection(|socket: SocketRef| async move {
        let _ = socket.emit("auth", &(&socket.handshake().auth,));
        socket.on("message", |socket: SocketRef, event: Event| async move {
            let _ = socket.emit("message-back", &event.args);
        });
        socket.on(
            "message-with-ack",
            |_socket: SocketRef, mut event: Event| async move {
                let args = std::mem::take(&mut event.args);
                if let Some(ack) = event.ack.take() {
                    let _ = ack.send_values(args);
                }
            },
        );
    });
    io.of("/custom")
        .on_connection(|socket: SocketRef| async move {
            let _ = socket.emit("auth", &(&socket.handshake().auth,));
        });
}
