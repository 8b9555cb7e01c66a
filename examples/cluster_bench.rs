//! Fan-out across nodes against a single node: how many deliveries per second reach clients
//! when each broadcast comes from ANOTHER node through Redis (pub/sub adapter), compared with
//! the same broadcast made on the clients' own node (in-memory adapter).
//!
//! ```text
//! redis-server --port 6390 --save "" --appendonly no &
//! cargo run --release -p sio-examples --example cluster_bench -- --redis redis://127.0.0.1:6390 [--clients 200] [--duration 5]
//! ```
//!
//! The clients (sio-loadgen's `fanout` scenario, WebSocket) all connect to node B and join
//! `room`. Single node: B's `fan` handler broadcasts `f` to the room itself. Cluster: B hands
//! each `fan` to node A with a server-side emit, and A broadcasts `f` to the room, which reaches
//! the clients through Redis and B. Both nodes and the load generator share this process.

use std::time::Duration;

use sio_redis_adapter::{PubSubConfig, RedisAdapter};
use sio_server::{Event, ServerConfig, SocketIo, SocketRef, Value};
use tokio::net::TcpListener;

struct Args {
    redis: String,
    clients: usize,
    duration: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        redis: String::new(),
        clients: 200,
        duration: 5,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--redis" => args.redis = value,
            "--clients" => args.clients = value.parse().map_err(|e| format!("--clients: {e}"))?,
            "--duration" => {
                args.duration = value.parse().map_err(|e| format!("--duration: {e}"))?;
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    if args.redis.is_empty() {
        return Err("--redis URL is needed".into());
    }
    Ok(args)
}

async fn serve(io: &SocketIo) -> Result<u16, std::io::Error> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = io.clone();
    tokio::spawn(async move {
        let _ = server.serve(listener, std::future::pending()).await;
    });
    Ok(port)
}

fn join_room(io: &SocketIo) {
    io.on_connection(|socket: SocketRef| async move {
        socket.join("room");
        socket.on("fan", |socket: SocketRef, mut event: Event| async move {
            let args = std::mem::take(&mut event.args);
            let _ = socket.to("room").emit("f", &args);
        });
    });
}

fn fanout(url: String, clients: usize, duration: u64) -> Result<f64, String> {
    let mut config = sio_loadgen::Config::new(url);
    config.scenario = sio_loadgen::Scenario::Fanout;
    config.clients = clients;
    config.duration = Duration::from_secs(duration);
    config.warmup = Duration::from_secs(1);
    let report = sio_loadgen::run(&config, &mut sio_loadgen::Quiet).map_err(|e| e.to_string())?;
    if report.errors > 0 {
        return Err(format!(
            "the load generator reported {} errors",
            report.errors
        ));
    }
    Ok(report.per_second)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse_args().map_err(|e| {
        format!("{e}\nusage: cluster_bench --redis redis://HOST:PORT [--clients N] [--duration S]")
    })?;

    // Single node: the broadcast is made where the clients are.
    let single = SocketIo::new(ServerConfig::default());
    join_room(&single);
    let port = serve(&single).await?;
    let (clients, duration) = (args.clients, args.duration);
    let local = tokio::task::spawn_blocking(move || {
        fanout(format!("http://127.0.0.1:{port}"), clients, duration)
    })
    .await??;
    single.close();

    // Two nodes: B receives `fan`, A broadcasts, Redis carries it back to B's clients.
    let config = PubSubConfig {
        key: format!("bench-{}", std::process::id()),
        ..PubSubConfig::default()
    };
    let a = SocketIo::with_adapter(
        ServerConfig::default(),
        RedisAdapter::connect(&args.redis, config.clone()).await?,
    );
    let b = SocketIo::with_adapter(
        ServerConfig::default(),
        RedisAdapter::connect(&args.redis, config).await?,
    );
    let a_io = a.clone();
    a.of("/").on_server_side(
        "fan",
        move |args: Vec<Value>, _ack: Option<sio_server::AckCollector>| {
            let io = a_io.clone();
            async move {
                let mut args = args.into_iter();
                let Some(sender) = args.next().and_then(|v| v.as_str().map(str::to_owned)) else {
                    return;
                };
                let rest: Vec<Value> = args.collect();
                let _ = io.of("/").to("room").except(sender).emit("f", &rest);
            }
        },
    );
    b.on_connection(|socket: SocketRef| async move {
        socket.join("room");
        socket.on("fan", |socket: SocketRef, mut event: Event| async move {
            let mut args = vec![Value::from(socket.id())];
            args.append(&mut event.args);
            let _ = socket
                .namespace()
                .server_side_emit("fan", &args, None)
                .await;
        });
    });
    let _ = serve(&a).await?;
    let port = serve(&b).await?;
    // Both nodes are subscribed once each counts the other.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while b.of("/").server_count().await < 2 {
        if tokio::time::Instant::now() > deadline {
            return Err("the two nodes did not see each other through redis".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cross = tokio::task::spawn_blocking(move || {
        fanout(format!("http://127.0.0.1:{port}"), clients, duration)
    })
    .await??;

    println!("clients: {clients}, {duration} s per run (after 1 s of warm-up)");
    println!("single node (in-memory adapter): {local:>12.0} deliveries/s");
    println!("across nodes (redis pub/sub):     {cross:>12.0} deliveries/s");
    println!("ratio: {:.2}", cross / local);
    Ok(())
}
