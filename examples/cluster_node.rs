//! One node of a Socket.IO cluster on Redis, a drop-in member of a Node cluster using
//! `@socket.io/redis-adapter` (`peers/cluster-node.js` is the same node in Node).
//!
//! ```text
//! redis-server --port 6390 --save "" --appendonly no &
//! cargo run -p sio-examples --example cluster_node -- --port 3001 --redis redis://127.0.0.1:6390
//! cargo run -p sio-examples --example cluster_node -- --port 3002 --redis redis://127.0.0.1:6390
//! node peers/cluster-node.js --port 3003 --redis redis://127.0.0.1:6390
//! ```
//!
//! | client emits (with ack)               | node does                                                |
//! |---------------------------------------|----------------------------------------------------------|
//! | (connects)                            | emits `auth` with the handshake's auth                   |
//! | `join` room / `leave` room            | joins / leaves the room, acks `true`                     |
//! | `to-room` room, event, ...args        | emits event(...args) to the room on every node, acks `true` |
//! | `count`                               | acks the number of sockets of `/` on this node           |
//! | `server-count`                        | acks the number of nodes in the cluster                  |
//! | `fetch-sockets` room                  | acks the sorted ids of the room's sockets on every node  |
//! | `ask-room` room, event, ...args       | emits with acks to the room (2 s limit), acks the sorted first answers |
//! | `sockets-join` room, new / `sockets-leave` room, old | makes the room's sockets on every node join / leave |
//! | `disconnect-room` room                | disconnects the room's sockets on every node             |
//! | `server-side-emit` event, ...args     | sends the event to the other nodes, acks their sorted answers |
//!
//! `--adapter streams` uses the Redis streams adapter (`@socket.io/redis-streams-adapter`),
//! `--adapter sharded` sharded pub/sub on Redis 7 (`createShardedAdapter`);
//! `--recovery` turns on connection state recovery, across nodes with streams.
//!
//! Every node answers the server-side event `whoami` with `node:PORT`; the server-side event
//! `relay` room, event, ...args emits the event to this node's sockets of the room (what an
//! emitter's `serverSideEmit` can ask). On a failure a request is acked with `{error}`. Once listening the node prints `listening on PORT`.
//!
//! ```js
//! const { io } = require("socket.io-client");
//! const a = io("http://127.0.0.1:3001"), b = io("http://127.0.0.1:3003");
//! b.on("news", console.log);
//! await b.emitWithAck("join", "r1");
//! await a.emitWithAck("to-room", "r1", "news", "hello");   // b prints "hello"
//! await a.emitWithAck("server-count");                     // 3
//! ```

use std::time::Duration;

use sio_redis_adapter::{AdapterKind, ClusterAdapter};
use sio_server::{Event, RecoveryConfig, ServerConfig, SocketIo, SocketRef, Value};
use tokio::net::TcpListener;

/// Options from the command line.
struct Args {
    port: u16,
    redis: String,
    adapter: AdapterKind,
    key: String,
    requests_timeout: Option<Duration>,
    recovery: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        port: 3000,
        redis: "redis://127.0.0.1:6379".into(),
        adapter: AdapterKind::PubSub,
        key: "socket.io".into(),
        requests_timeout: None,
        recovery: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--port" => args.port = value()?.parse().map_err(|e| format!("--port: {e}"))?,
            "--redis" => args.redis = value()?,
            "--adapter" => {
                args.adapter = value()?.parse().map_err(|e| format!("--adapter: {e}"))?
            }
            "--key" => args.key = value()?,
            "--recovery" => args.recovery = true,
            "--requests-timeout" => {
                let ms = value()?
                    .parse()
                    .map_err(|e| format!("--requests-timeout: {e}"))?;
                args.requests_timeout = Some(Duration::from_millis(ms));
            }
            other => return Err(format!("unknown option {other}")),
        }
    }
    Ok(args)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = parse_args().map_err(|e| {
        format!("{e}\nusage: cluster_node --port N --redis redis://HOST:PORT [--adapter pubsub|streams|sharded] [--key PREFIX] [--requests-timeout MS] [--recovery]")
    })?;
    let server_config = ServerConfig {
        recovery: args.recovery.then(RecoveryConfig::default),
        ..ServerConfig::default()
    };
    let adapter =
        ClusterAdapter::connect(args.adapter, &args.redis, &args.key, args.requests_timeout)
            .await?;
    let io = SocketIo::with_adapter(server_config, adapter);
    let port = args.port;
    io.of("/").on_server_side(
        "whoami",
        move |_args: Vec<Value>, ack: Option<_>| async move {
            if let Some(ack) = ack {
                let ack: sio_server::AckCollector = ack;
                let _ = ack.send(vec![Value::from(format!("node:{port}"))]);
            }
        },
    );
    let relay_io = io.clone();
    io.of("/")
        .on_server_side("relay", move |args: Vec<Value>, ack: Option<_>| {
            let io = relay_io.clone();
            async move {
                let mut args = args.into_iter();
                let room = args.next().and_then(|v| v.as_str().map(str::to_owned));
                let name = args.next().and_then(|v| v.as_str().map(str::to_owned));
                if let (Some(room), Some(name)) = (room, name) {
                    let rest: Vec<Value> = args.collect();
                    let _ = io.of("/").local().to(room).emit(&name, &rest);
                }
                if let Some(ack) = ack {
                    let ack: sio_server::AckCollector = ack;
                    let _ = ack.send(vec![Value::from(true)]);
                }
            }
        });
    io.on_connection(on_connection);

    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    println!("listening on {}", listener.local_addr()?.port());
    io.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}

async fn on_connection(socket: SocketRef) {
    let _ = socket.emit("auth", &socket.handshake().auth);
    socket.on("join", |socket: SocketRef, mut event: Event| async move {
        if let Ok(room) = event.args::<String>() {
            socket.join(room);
        }
        let _ = event.ack(&true);
    });
    socket.on("leave", |socket: SocketRef, mut event: Event| async move {
        if let Ok(room) = event.args::<String>() {
            socket.leave(&room);
        }
        let _ = event.ack(&true);
    });
    socket.on(
        "to-room",
        |socket: SocketRef, mut event: Event| async move {
            let Some((room, name, args)) = room_event(&mut event) else {
                let _ = event.ack(&error("expected room, event, ...args"));
                return;
            };
            match socket.namespace().to(room).emit(&name, &args) {
                Ok(()) => {
                    let _ = event.ack(&true);
                }
                Err(e) => {
                    let _ = event.ack(&error(e));
                }
            }
        },
    );
    socket.on("count", |socket: SocketRef, mut event: Event| async move {
        let _ = event.ack(&socket.namespace().socket_count());
    });
    socket.on(
        "server-count",
        |socket: SocketRef, mut event: Event| async move {
            let _ = event.ack(&socket.namespace().server_count().await);
        },
    );
    socket.on(
        "fetch-sockets",
        |socket: SocketRef, mut event: Event| async move {
            let room = event.args::<String>().unwrap_or_default();
            match socket.namespace().to(room).fetch_sockets().await {
                Ok(sockets) => {
                    let mut ids: Vec<String> = sockets.iter().map(|s| s.id().to_owned()).collect();
                    ids.sort();
                    let _ = event.ack(&(ids,));
                }
                Err(e) => {
                    let _ = event.ack(&error(e));
                }
            }
        },
    );
    socket.on(
        "ask-room",
        |socket: SocketRef, mut event: Event| async move {
            let Some((room, name, args)) = room_event(&mut event) else {
                let _ = event.ack(&error("expected room, event, ...args"));
                return;
            };
            let acks = socket
                .namespace()
                .to(room)
                .timeout(Duration::from_secs(2))
                .collect_acks(&name, &args)
                .await;
            match acks {
                Ok(acks) => {
                    let firsts = acks
                        .responses
                        .into_iter()
                        .map(|answer| answer.into_iter().next().unwrap_or(Value::Nil))
                        .collect();
                    let _ = event.ack(&(sorted(firsts),));
                }
                Err(e) => {
                    let _ = event.ack(&error(e));
                }
            }
        },
    );
    socket.on(
        "sockets-join",
        |socket: SocketRef, mut event: Event| async move {
            if let Ok((room, new)) = event.args::<(String, String)>() {
                socket.namespace().to(room).sockets_join(new);
            }
            let _ = event.ack(&true);
        },
    );
    socket.on(
        "sockets-leave",
        |socket: SocketRef, mut event: Event| async move {
            if let Ok((room, old)) = event.args::<(String, String)>() {
                socket.namespace().to(room).sockets_leave(old);
            }
            let _ = event.ack(&true);
        },
    );
    socket.on(
        "disconnect-room",
        |socket: SocketRef, mut event: Event| async move {
            if let Ok(room) = event.args::<String>() {
                socket.namespace().to(room).disconnect_sockets(false);
            }
            let _ = event.ack(&true);
        },
    );
    socket.on(
        "server-side-emit",
        |socket: SocketRef, mut event: Event| async move {
            let mut args = std::mem::take(&mut event.args).into_iter();
            let Some(name) = args.next().and_then(|v| v.as_str().map(str::to_owned)) else {
                let _ = event.ack(&error("expected event, ...args"));
                return;
            };
            let rest: Vec<Value> = args.collect();
            let answers = socket
                .namespace()
                .server_side_emit(&name, &rest, Some(Duration::from_secs(2)))
                .await;
            match answers {
                Ok(answers) => {
                    let firsts = answers
                        .into_iter()
                        .map(|answer| answer.into_iter().next().unwrap_or(Value::Nil))
                        .collect();
                    let _ = event.ack(&(sorted(firsts),));
                }
                Err(e) => {
                    let _ = event.ack(&error(e));
                }
            }
        },
    );
}

/// `room, event, ...args` from a request.
fn room_event(event: &mut Event) -> Option<(String, String, Vec<Value>)> {
    let mut args = std::mem::take(&mut event.args).into_iter();
    let room = args.next()?.as_str()?.to_owned();
    let name = args.next()?.as_str()?.to_owned();
    Some((room, name, args.collect()))
}

/// Values in a stable order (by their printed form), so both kinds of node answer alike.
fn sorted(mut values: Vec<Value>) -> Vec<Value> {
    values.sort_by_key(|v| v.to_string());
    values
}

fn error(e: impl std::fmt::Display) -> serde_json::Value {
    serde_json::json!({ "error": e.to_string() })
}
