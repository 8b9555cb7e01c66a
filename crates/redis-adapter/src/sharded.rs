//! The sharded pub/sub adapter (Redis 7+), a member of a cluster of Node servers using
//! `createShardedAdapter` of `@socket.io/redis-adapter` 8 (socket.io-adapter's
//! `ClusterAdapter` messages over `SSUBSCRIBE`/`SPUBLISH`).
//!
//! Channels of namespace `nsp` with prefix `p`: `p#nsp#` (every node), `p#nsp#uid#` (answers to
//! this node), and `p#nsp#room#` for each public room with local sockets (Node's default
//! `dynamic` subscription mode): a broadcast to exactly one room goes only to the nodes that have
//! it. Messages are JSON, or notepack msgpack when they hold binary. `PUBSUB SHARDNUMSUB p#nsp#`
//! is the number of nodes.

use std::{sync::Arc, time::Duration};

use sio_server::{Adapter, AdapterFactory, LocalAdapter};

use crate::{
    error::Error,
    redis_io::{Connections, SubscriberKind},
    streams::{Adapters, Mode, StreamsConfig, channel_handler, create_adapter},
    value::decode_any,
};

/// Options of the sharded adapter, with the names and defaults of `createShardedAdapter`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedConfig {
    /// Prefix of the channels (`channelPrefix`, default `socket.io`).
    pub channel_prefix: String,
    /// How long to wait for the other nodes' answers (default 5 s).
    pub requests_timeout: Duration,
}

impl Default for ShardedConfig {
    fn default() -> Self {
        ShardedConfig {
            channel_prefix: "socket.io".into(),
            requests_timeout: Duration::from_secs(5),
        }
    }
}

/// The sharded pub/sub adapter factory (Redis 7+).
///
/// ```no_run
/// use sio_redis_adapter::{RedisShardedAdapter, ShardedConfig};
/// use sio_server::{ServerConfig, SocketIo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let adapter = RedisShardedAdapter::connect("redis://127.0.0.1:6379", ShardedConfig::default()).await?;
/// let io = SocketIo::with_adapter(ServerConfig::default(), adapter);
/// io.listen("127.0.0.1:3000").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisShardedAdapter {
    conns: Connections,
    config: StreamsConfig,
    adapters: Arc<Adapters>,
    channels: Arc<Adapters>,
}

impl std::fmt::Debug for RedisShardedAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisShardedAdapter")
            .field("channel_prefix", &self.config.channel_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisShardedAdapter {
    /// Connects to Redis (7 or later: sharded pub/sub).
    ///
    /// # Errors
    /// The URL is invalid or Redis cannot be reached.
    pub async fn connect(url: &str, config: ShardedConfig) -> Result<Self, Error> {
        let client = crate::redis_io::open_client(url).await?;
        let channels: Arc<Adapters> = Arc::default();
        let handler = channel_handler(channels.clone(), decode_any);
        let conns = Connections::open_with(client, handler, SubscriberKind::Sharded).await?;
        Ok(RedisShardedAdapter {
            conns,
            config: StreamsConfig {
                channel_prefix: config.channel_prefix,
                requests_timeout: config.requests_timeout,
                ..StreamsConfig::default()
            },
            adapters: Arc::default(),
            channels,
        })
    }
}

impl AdapterFactory for RedisShardedAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        let adapter = create_adapter(
            local,
            Mode::Sharded,
            &self.conns,
            &self.config,
            &self.adapters,
            &self.channels,
        );
        // A channel per public room with local sockets, as Node's `dynamic` mode (set before any
        // socket of the new namespace can join a room).
        let (conns, routes, me, base) = (
            self.conns.clone(),
            Arc::downgrade(&self.channels),
            Arc::downgrade(&adapter),
            adapter.public_channel.clone(),
        );
        adapter
            .local
            .on_room_change(Box::new(move |room: &str, created: bool| {
                let channel = format!("{base}{room}#");
                let Some(routes) = routes.upgrade() else {
                    return;
                };
                let mut routes = routes.write().unwrap_or_else(|e| e.into_inner());
                if created {
                    routes.insert(channel.clone(), me.clone());
                    conns.subscribe(vec![channel]);
                } else {
                    routes.remove(&channel);
                    conns.unsubscribe(vec![channel]);
                }
            }));
        adapter
    }
}
