//! `sio serve`: a ready server for trying clients against.

use std::io::IsTerminal;

use sio_server::{
    Event, RecoveryConfig, ServerConfig, SocketIo, SocketRef, Value,
    engineio::{Cors, CorsOrigin},
};
use tokio::net::TcpListener;

pub(crate) const EXAMPLES: &str = "\
Events the server understands:
  echo ...args          acknowledged with the same arguments, or emitted back as `echo`
  join ROOM             joins a room (acknowledged with true)
  leave ROOM            leaves a room (acknowledged with true)
  to ROOM EVENT ...args emits EVENT with args to everyone in ROOM (acknowledged with true)

Examples:
  sio serve
  sio serve --port 8080 --host 0.0.0.0 --cors http://localhost:5173
  sio serve --allow-eio3 --recovery
  sio serve --port 3001 --redis redis://127.0.0.1:6379          # a cluster node (pub/sub)
  sio serve --port 3002 --redis redis://127.0.0.1:6379 --adapter streams --recovery";

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
    /// Allow browsers from this origin (repeatable; `*` for any).
    #[arg(long = "cors", value_name = "ORIGIN")]
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
    #[arg(long, value_name = "KIND", value_enum, default_value_t = AdapterKind::Pubsub)]
    adapter: AdapterKind,
    /// Prefix of the cluster's Redis channels and stream (Node's `key` / `channelPrefix`).
    #[arg(long, value_name = "PREFIX", default_value = "socket.io")]
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
    let io = match &args.redis {
        None => SocketIo::new(config),
        Some(url) => cluster_server(config, url, &args).await?,
    };
    io.on_connection(on_connection);

    let listener = TcpListener::bind((args.host.as_str(), args.port))
        .await
        .map_err(|error| {
            format!(
                "cannot listen on {}:{}: {error}\n  try another port with --port, or check what uses it (ss -ltnp)",
                args.host, args.port
            )
        })?;
    let url = format!("http://{}:{}", args.host, args.port);
    // The server outlives a closed stdout (a script that read the first line and went away).
    crate::output::print(&format!(
        "sio server listening on {url}{}\n  try: sio listen {url} --event echo    (or any Socket.IO client)\n  stop with Ctrl-C\n",
        args.path
    ));
    io.serve(listener, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .map_err(|error| format!("server stopped: {error}"))?;
    tracing::info!("shut down");
    Ok(())
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
    socket.on_any(|socket: SocketRef, event: Event| async move {
        tracing::info!(id = socket.id(), event = %event.name, args = %show(&event.args), "event");
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
    socket.on_disconnect(|socket: SocketRef, reason| async move {
        tracing::info!(id = socket.id(), %reason, "disconnected");
    });
    std::future::ready(())
}

/// Arguments as compact JSON for the log.
fn show(args: &[Value]) -> String {
    let json: Vec<serde_json::Value> = args
        .iter()
        .map(|v| {
            sio_server::proto::from_value::<serde_json::Value>(v.clone())
                .unwrap_or(serde_json::Value::Null)
        })
        .collect();
    serde_json::to_string(&json).unwrap_or_default()
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
        let argv = std::iter::once("serve").chain(args.iter().copied());
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
    }
}
