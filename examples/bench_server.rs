//! The server side of the benchmark contract, for `sio bench` and the harness in `bench/`.
//!
//! ```text
//! cargo build --release -p sio-examples --example bench_server
//! target/release/examples/bench_server --port 3000              # single-threaded runtime
//! target/release/examples/bench_server --port 3000 --threads 2  # multi-threaded runtime
//! target/release/examples/bench_server --port 3000 --redis redis://127.0.0.1:6390  # cluster node
//! ```
//!
//! With `--redis URL` the server is a node of a cluster on the Redis pub/sub adapter
//! (`sio-redis-adapter`, the same channels as `@socket.io/redis-adapter`'s `createAdapter`), so a
//! `fan` broadcast also reaches the room's members on the other nodes.
//!
//! The contract every benchmarked server implements: every socket joins room `room`; `echo`
//! acks with its arguments (or emits `echo` back with them when no ack is asked); `fan`
//! broadcasts `f` with its arguments to `room` (every member but the sender). It prints
//! `listening <port>` once it accepts connections.
//!
//! Try it from a `node` prompt in `peers/`:
//!
//! ```js
//! const s = require("socket.io-client").io("http://127.0.0.1:3000");
//! await s.emitWithAck("echo", "hi");   // → "hi"
//! ```

use sio_redis_adapter::{PubSubConfig, RedisAdapter};
use sio_server::{Event, ServerConfig, SocketIo, SocketRef};
use tokio::net::TcpListener;

fn on_connection(socket: SocketRef) -> std::future::Ready<()> {
    socket.join("room");
    socket.on("echo", |socket: SocketRef, mut event: Event| async move {
        let args = std::mem::take(&mut event.args);
        let _ = match event.ack.take() {
            Some(ack) => ack.send_values(args),
            None => socket.emit("echo", &args),
        };
    });
    socket.on("fan", |socket: SocketRef, mut event: Event| async move {
        let args = std::mem::take(&mut event.args);
        let _ = socket.to("room").emit("f", &args);
    });
    std::future::ready(())
}

fn parse_args() -> Result<(u16, usize, Option<String>), String> {
    let (mut port, mut threads, mut redis) = (3000, 1, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--threads" => threads = value()?.parse().map_err(|e| format!("--threads: {e}"))?,
            "--redis" => redis = Some(value()?),
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: bench_server [--port N] [--threads N] \
                     [--redis redis://HOST:PORT]"
                ));
            }
        }
    }
    Ok((port, threads, redis))
}

fn main() -> std::process::ExitCode {
    let result = parse_args().and_then(|(port, threads, redis)| {
        let runtime = if threads <= 1 {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
        } else {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .enable_all()
                .build()
        }
        .map_err(|e| format!("cannot start tokio: {e}"))?;
        runtime.block_on(async move {
            // Redis is reached before `listening` is printed (the subscriptions follow).
            let io = match redis {
                Some(url) => {
                    let adapter = RedisAdapter::connect(&url, PubSubConfig::default())
                        .await
                        .map_err(|e| format!("cannot join the cluster through {url}: {e}"))?;
                    SocketIo::with_adapter(ServerConfig::default(), adapter)
                }
                None => SocketIo::new(ServerConfig::default()),
            };
            let listener = TcpListener::bind(("127.0.0.1", port))
                .await
                .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
            let port = listener.local_addr().map_err(|e| e.to_string())?.port();
            println!("listening {port}");
            io.on_connection(on_connection);
            // Ctrl-C ends the process normally, so profilers (heaptrack, perf) get their data.
            let interrupted = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            io.serve(listener, interrupted)
                .await
                .map_err(|e| format!("server stopped: {e}"))
        })
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("bench_server: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
