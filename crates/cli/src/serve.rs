//! `sio serve`: a ready server for trying clients against.

use std::io::IsTerminal;
use std::net::SocketAddr;

use sio_server::{
    Event, RecoveryConfig, ServerConfig, SocketIo, SocketRef, Value,
    engineio::{Cors, CorsOrigin},
};
use tokio::net::TcpListener;

use crate::decode::json::Json;
use crate::decode::value::to_json;

pub(crate) const EXAMPLES: &str = "\
Namespaces: / and /chat (any other is refused with \"Invalid namespace\", as Node does).

Events the server understands, in both namespaces:
  echo ...args          acknowledged with the same arguments, or emitted back as `echo`
  join ROOM             joins a room (acknowledged with true)
  leave ROOM            leaves a room (acknowledged with true)
  to ROOM EVENT ...args emits EVENT with args to everyone in ROOM (acknowledged with true)
  broadcast EVENT ...args
                        emits EVENT with args to every socket of the namespace, the sender
                        included (acknowledged with true)
  count [ROOM]          acknowledged with the number of sockets in ROOM (in the namespace
                        without one)
  add {\"a\":A,\"b\":B}     acknowledged with {\"sum\":A+B} (also `add A B`)
  upload NAME DATA      acknowledged with {\"name\":NAME,\"bytes\":N}, N the length of the binary
                        (or text) DATA
Every socket is also in a room named by its id.

Logs: connections and disconnections at INFO, every event with its arguments at DEBUG
(RUST_LOG=debug sio serve); RUST_LOG takes tracing's filters, e.g. RUST_LOG=warn.
SIGTERM and Ctrl-C (SIGINT) shut down gracefully: every client is told its session is closed
(WebSocket close, pending polls answered), at most 5 s, then exit status 0.

Examples:
  sio serve
  sio serve --port 8080 --host 0.0.0.0 --cors http://localhost:5173
  sio serve --allow-eio3 --recovery
  sio serve --port 3001 --redis redis://127.0.0.1:6379          # a cluster node (pub/sub)
  sio serve --port 3002 --redis redis://127.0.0.1:6379 --adapter streams --recovery";

/// The namespaces `sio serve` has.
const NAMESPACES: [&str; 2] = ["/", "/chat"];

/// Options of `sio serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Port to listen on.
    #[arg(long, short, default_value_t = 3000)]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Accept Socket.IO 1.x/2.x clients (Engine.IO v3).
    #[arg(long)]
    allow_eio3: bool,
    /// Turn on connection state recovery (2 minutes).
    #[arg(long)]
    recovery: bool,
    /// Allow browsers from this origin (repeatable; `*` for any), e.g. http://localhost:5173.
    #[arg(long = "cors", value_name = "ORIGIN", value_parser = parse_origin)]
    cors: Vec<String>,
    /// Socket.IO path.
    #[arg(long, default_value = "/socket.io/")]
    path: String,
    /// Join a cluster through this Redis (redis://[user:password@]host:port[/db], rediss:// for
    /// TLS, redis+sentinel://host[:port][,…]/master-name for a Sentinel-monitored master); the
    /// other nodes may be Node servers using @socket.io/redis-adapter or -streams-adapter.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// Cluster adapter, with --redis: pubsub (@socket.io/redis-adapter), streams
    /// (@socket.io/redis-streams-adapter, recovery across nodes) or sharded (Redis 7 sharded pub/sub).
    #[arg(long, value_name = "KIND", value_enum, default_value_t = AdapterKind::Pubsub, requires = "redis")]
    adapter: AdapterKind,
    /// Prefix of the cluster's Redis channels and stream (Node's `key` / `channelPrefix`).
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = "socket.io",
        requires = "redis"
    )]
    redis_key: String,
}

/// The cluster adapter `sio serve --redis` runs (described in `--adapter`'s help: doc comments
/// here would turn the whole help into its long form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum AdapterKind {
    Pubsub,
    Streams,
    Sharded,
}

pub(crate) async fn run(args: ServeArgs) -> Result<(), String> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::stdout().is_terminal())
        .init();

    let mut config = ServerConfig {
        recovery: args.recovery.then(RecoveryConfig::default),
        ..ServerConfig::default()
    };
    config.engine.path = args.path.clone();
    config.engine.allow_eio3 = args.allow_eio3;
    config.engine.cors = Cors {
        origin: match args.cors.as_slice() {
            [] => CorsOrigin::Disabled,
            list if list.iter().any(|o| o == "*") => CorsOrigin::Any,
            list => CorsOrigin::List(list.to_vec()),
        },
        credentials: false,
    };
    // Installed before the server says it listens: a SIGTERM sent as soon as it says so must
    // find the handler, not the default action (death, exit 143).
    let stop = stop_signal();
    let listener = bind(&args.host, args.port).await?;
    let io = match &args.redis {
        None => SocketIo::new(config),
        Some(url) => cluster_server(config, url, &args).await?,
    };
    for name in NAMESPACES {
        io.of(name).on_connection(on_connection);
    }

    let url = match listener.local_addr() {
        Ok(addr) if args.host.parse::<std::net::IpAddr>().is_ok() => format!("http://{addr}"),
        _ => format!("http://{}:{}", args.host, args.port),
    };
    // The server outlives a closed stdout (a script that read the first line and went away).
    // The path printed is the one served: the engine gives it its slashes.
    let path = &io.engine().config().path;
    let path_option = if path == "/socket.io/" {
        String::new()
    } else {
        format!(" --path {path}")
    };
    crate::output::print(&format!(
        "sio server listening on {url}{path}\n  try: sio listen {url}{path_option} --event echo    (or any Socket.IO client)\n  stop with Ctrl-C\n"
    ));
    io.serve(listener, stop)
        .await
        .map_err(|error| format!("server stopped: {error}"))?;
    tracing::info!("shut down");
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed when this is called, not
/// when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let signals = signal(SignalKind::interrupt()).and_then(|interrupt| {
            signal(SignalKind::terminate()).map(|terminate| (interrupt, terminate))
        });
        async move {
            match signals {
                Ok((mut interrupt, mut terminate)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot handle SIGTERM; stop with Ctrl-C");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Listens on `host:port`, with an error that says what to change: the host when it is not a
/// name or an address of this machine, the port when it is taken or privileged.
async fn bind(host: &str, port: u16) -> Result<TcpListener, String> {
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| {
            format!(
                "cannot listen on {host}:{port}: {host:?} is not an address nor a name that \
                 resolves ({error})\n  give --host an address of this machine, e.g. 127.0.0.1 \
                 (this machine only) or 0.0.0.0 (every interface)"
            )
        })?
        .collect();
    TcpListener::bind(addrs.as_slice()).await.map_err(|error| {
        let hint = match error.kind() {
            std::io::ErrorKind::AddrInUse => format!(
                "port {port} is taken: try another with --port, or see what uses it (ss -ltnp)"
            ),
            std::io::ErrorKind::PermissionDenied => format!(
                "ports below 1024 need privileges: try --port {}",
                if port < 1024 { 3000 } else { port }
            ),
            std::io::ErrorKind::AddrNotAvailable => format!(
                "{host} is not an address of this machine: try --host 127.0.0.1 or --host 0.0.0.0"
            ),
            _ => "check --host and --port".to_owned(),
        };
        format!("cannot listen on {host}:{port}: {error}\n  {hint}")
    })
}

/// A `--cors` origin: `*`, or what browsers send in `Origin` (`scheme://host[:port]`, no path).
fn parse_origin(text: &str) -> Result<String, String> {
    const EXPECTED: &str = "expected `*` or an origin as browsers send it, scheme://host[:port] \
                            without a path, e.g. http://localhost:5173";
    if text == "*" {
        return Ok(text.to_owned());
    }
    let uri: http::Uri = text
        .parse()
        .map_err(|_| format!("{text:?} is not an origin: {EXPECTED}"))?;
    let has_path = uri.path_and_query().is_some_and(|p| p.as_str() != "/");
    match (uri.scheme_str(), uri.authority()) {
        (Some(_), Some(_)) if !has_path && !text.ends_with('/') => Ok(text.to_owned()),
        (Some(_), Some(_)) => Err(format!(
            "{text:?} is not an origin: an Origin header never has a path or a trailing slash; \
             {EXPECTED}"
        )),
        _ => Err(format!("{text:?} is not an origin: {EXPECTED}")),
    }
}

/// A server whose namespaces share their rooms and broadcasts with the cluster on `url`.
async fn cluster_server(
    config: ServerConfig,
    url: &str,
    args: &ServeArgs,
) -> Result<SocketIo, String> {
    let kind = match args.adapter {
        AdapterKind::Pubsub => sio_redis_adapter::AdapterKind::PubSub,
        AdapterKind::Streams => sio_redis_adapter::AdapterKind::Streams,
        AdapterKind::Sharded => sio_redis_adapter::AdapterKind::Sharded,
    };
    let adapter = sio_redis_adapter::ClusterAdapter::connect(kind, url, &args.redis_key, None)
        .await
        .map_err(|error| {
            format!(
                "cannot join the cluster through {url}: {error}\n  start redis-server, or point --redis at a running Redis"
            )
        })?;
    let io = SocketIo::with_adapter(config, adapter);
    tracing::info!(redis = url, adapter = ?args.adapter, "cluster node");
    Ok(io)
}

fn on_connection(socket: SocketRef) -> std::future::Ready<()> {
    let transport = socket.conn().transport().as_str();
    tracing::info!(
        id = socket.id(),
        nsp = socket.namespace().name(),
        transport,
        "connected"
    );
    // At DEBUG: a benchmark's events would fill a disk at INFO.
    socket.on_any(|socket: SocketRef, event: Event| async move {
        tracing::debug!(id = socket.id(), event = %event.name, args = %show(&event.args), "event");
    });
    socket.on("echo", |socket: SocketRef, mut event: Event| async move {
        let args = std::mem::take(&mut event.args);
        let result = match event.ack.take() {
            Some(ack) => ack.send_values(args),
            None => socket.emit("echo", &args),
        };
        if let Err(error) = result {
            tracing::warn!(id = socket.id(), %error, "echo failed");
        }
    });
    socket.on("join", |socket: SocketRef, mut event: Event| async move {
        match event.args.first().and_then(Value::as_str) {
            Some(room) => {
                socket.join(room);
                let _ = event.ack(&true);
            }
            None => {
                let _ = event.ack(&"usage: join ROOM");
            }
        }
    });
    socket.on("leave", |socket: SocketRef, mut event: Event| async move {
        match event.args.first().and_then(Value::as_str) {
            Some(room) => {
                socket.leave(room);
                let _ = event.ack(&true);
            }
            None => {
                let _ = event.ack(&"usage: leave ROOM");
            }
        }
    });
    socket.on("to", |socket: SocketRef, mut event: Event| async move {
        let mut args = std::mem::take(&mut event.args).into_iter();
        let (Some(Value::String(room)), Some(Value::String(name))) = (args.next(), args.next())
        else {
            let _ = event.ack(&"usage: to ROOM EVENT ...args");
            return;
        };
        let (Some(room), Some(name)) = (room.as_str(), name.as_str()) else {
            return;
        };
        let rest: Vec<Value> = args.collect();
        let result = socket.namespace().to(room).emit(name, &rest);
        let _ = match result {
            Ok(()) => event.ack(&true),
            Err(error) => event.ack(&error.to_string()),
        };
    });
    socket.on(
        "broadcast",
        |socket: SocketRef, mut event: Event| async move {
            let mut args = std::mem::take(&mut event.args).into_iter();
            let Some(Value::String(name)) = args.next() else {
                let _ = event.ack(&"usage: broadcast EVENT ...args");
                return;
            };
            let Some(name) = name.as_str() else {
                return;
            };
            let rest: Vec<Value> = args.collect();
            let _ = match socket.namespace().emit(name, &rest) {
                Ok(()) => event.ack(&true),
                Err(error) => event.ack(&error.to_string()),
            };
        },
    );
    socket.on("count", |socket: SocketRef, mut event: Event| async move {
        // Through the adapter, so that a cluster node counts the sockets of every node.
        let sockets = match event.args.first() {
            Some(Value::String(room)) => match room.as_str() {
                Some(room) => socket.namespace().to(room).fetch_sockets().await,
                None => return,
            },
            Some(_) => {
                let _ = event.ack(&"usage: count [ROOM]");
                return;
            }
            None => socket.namespace().fetch_sockets().await,
        };
        let _ = match sockets {
            Ok(sockets) => event.ack(&sockets.len()),
            Err(error) => event.ack(&error.to_string()),
        };
    });
    socket.on("add", |_socket: SocketRef, mut event: Event| async move {
        let terms = match event.args.as_slice() {
            [Value::Map(entries)] => {
                let term = |key: &str| {
                    entries
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(key))
                        .map(|(_, v)| v)
                };
                term("a").zip(term("b"))
            }
            [a, b] => Some((a, b)),
            _ => None,
        };
        let sum = terms.and_then(|(a, b)| sum(a, b));
        let _ = match sum {
            Some(sum) => event.ack(&serde_json::json!({ "sum": sum })),
            None => event.ack(&"usage: add {\"a\":A,\"b\":B} or add A B (numbers)"),
        };
    });
    socket.on(
        "upload",
        |_socket: SocketRef, mut event: Event| async move {
            let bytes = match event.args.get(1) {
                Some(Value::Binary(data)) => Some(data.len()),
                Some(Value::String(text)) => Some(text.as_bytes().len()),
                _ => None,
            };
            let answer = match (event.args.first().and_then(Value::as_str), bytes) {
                (Some(name), Some(bytes)) => serde_json::json!({ "name": name, "bytes": bytes }),
                _ => serde_json::json!("usage: upload NAME DATA"),
            };
            let _ = event.ack(&answer);
        },
    );
    socket.on_disconnect(|socket: SocketRef, reason| async move {
        tracing::info!(id = socket.id(), %reason, "disconnected");
    });
    std::future::ready(())
}

/// `a + b`: an integer for integers (as JSON shows a JavaScript integer), else a float.
fn sum(a: &Value, b: &Value) -> Option<serde_json::Number> {
    if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64())
        && let Some(sum) = a.checked_add(b)
    {
        return Some(sum.into());
    }
    serde_json::Number::from_f64(a.as_f64()? + b.as_f64()?)
}

/// Arguments as compact JSON for the log, binary data as `sio listen` shows it.
fn show(args: &[Value]) -> String {
    Json::Array(args.iter().map(to_json).collect()).to_compact()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn adapter(args: &[&str]) -> Result<AdapterKind, clap::Error> {
        let argv = ["serve", "--redis", "redis://127.0.0.1:1"]
            .into_iter()
            .chain(args.iter().copied());
        Serve::try_parse_from(argv).map(|serve| serve.args.adapter)
    }

    #[test]
    fn adapter_kinds_by_name() {
        assert_eq!(adapter(&[]).unwrap(), AdapterKind::Pubsub);
        assert_eq!(
            adapter(&["--adapter", "pubsub"]).unwrap(),
            AdapterKind::Pubsub
        );
        assert_eq!(
            adapter(&["--adapter", "streams"]).unwrap(),
            AdapterKind::Streams
        );
        assert_eq!(
            adapter(&["--adapter", "sharded"]).unwrap(),
            AdapterKind::Sharded
        );
        let error = adapter(&["--adapter", "cluster"]).unwrap_err().to_string();
        assert!(error.contains("pubsub, streams, sharded"), "{error}");
        // Without --redis there is no cluster to choose an adapter for.
        let error = Serve::try_parse_from(["serve", "--adapter", "streams"])
            .unwrap_err()
            .to_string();
        assert!(error.contains("--redis <URL>"), "{error}");
    }
}
