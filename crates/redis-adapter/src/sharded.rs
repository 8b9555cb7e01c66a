//! The sharded pub/sub adapter (Redis 7+), a member of a cluster of Node servers using
//! `createShardedAdapter` of `@socket.io/redis-adapter` 8 (socket.io-adapter's
//! `ClusterAdapter` messages over `SSUBSCRIBE`/`SPUBLISH`).
//!
//! Channels of namespace `nsp` with prefix `p`: `p#nsp#` (every node), `p#nsp#uid#` (answers to
//! this node), and `p#nsp#room#` for each public room with local sockets (Node's default
//! `dynamic` subscription mode): a broadcast to exactly one room goes only to the nodes that have
//! it. Messages are JSON, or notepack msgpack when they hold binary. `PUBSUB SHARDNUMSUB p#nsp#`
//! is the number of nodes.

use std::{
    sync::{Arc, Weak},
    time::Duration,
};

use sio_cluster_adapter::{
    ClusterMessage, ClusterTransport, DEFAULT_REQUESTS_TIMEOUT, MessageType, TransportAdapter,
    value::{decode_any, get, strings},
};
use sio_server::adapter::{Adapter, AdapterError, AdapterFactory, BoxFuture, LocalAdapter};

use crate::{
    channels::{NamespaceChannels, Routes, channel_handler},
    error::Error,
    redis_io::{Connections, SubscriberKind},
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
            requests_timeout: DEFAULT_REQUESTS_TIMEOUT,
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
    config: ShardedConfig,
    /// Channel → adapter.
    channels: Arc<Routes<ShardedTransport>>,
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
        let channels: Arc<Routes<ShardedTransport>> = Arc::default();
        let handler = channel_handler(channels.clone(), decode_any);
        let conns = Connections::open_with(client, handler, SubscriberKind::Sharded).await?;
        Ok(RedisShardedAdapter {
            conns,
            config,
            channels,
        })
    }
}

impl AdapterFactory for RedisShardedAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        let uid = TransportAdapter::<ShardedTransport>::new_uid();
        let channels =
            NamespaceChannels::new(&self.config.channel_prefix, local.namespace_name(), &uid);
        let transport = ShardedTransport {
            conns: self.conns.clone(),
            channels: channels.clone(),
            routes: Arc::downgrade(&self.channels),
        };
        let adapter = TransportAdapter::new(local, uid, transport, self.config.requests_timeout);
        channels.open(&adapter, &self.channels, &self.conns);
        // A channel per public room with local sockets, as Node's `dynamic` mode (set before any
        // socket of the new namespace can join a room).
        let (conns, routes, me, base) = (
            self.conns.clone(),
            Arc::downgrade(&self.channels),
            Arc::downgrade(&adapter),
            channels.public,
        );
        adapter
            .local()
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

/// How the sharded adapter's messages travel: `SPUBLISH` of JSON (or notepack msgpack when they
/// hold binary) on the namespace's channel, a room's channel, or the requester's.
pub struct ShardedTransport {
    conns: Connections,
    channels: NamespaceChannels,
    routes: Weak<Routes<ShardedTransport>>,
}

impl std::fmt::Debug for ShardedTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedTransport")
            .field("channel", &self.channels.public)
            .finish_non_exhaustive()
    }
}

impl ClusterTransport for ShardedTransport {
    /// Node's `computeChannel`: a broadcast without acks to exactly one room that does not look
    /// like a socket id (20 characters) goes to the room's own channel.
    fn publish(&self, message: ClusterMessage<'_>) {
        let room = match (message.kind, message.request_id(), &message.data) {
            (MessageType::Broadcast, None, Some(data)) => {
                match strings(get(data, "opts").and_then(|opts| get(opts, "rooms"))).as_slice() {
                    [room] if room.chars().count() != 20 => Some(self.channels.sub_channel(room)),
                    _ => None,
                }
            }
            _ => None,
        };
        let channel = room.unwrap_or_else(|| self.channels.public.clone());
        if let Some(payload) = message.to_json_or_msgpack() {
            self.conns.spublish(channel, payload);
        }
    }

    fn publish_to(&self, node: &str, message: ClusterMessage<'_>) {
        if let Some(payload) = message.to_json_or_msgpack() {
            self.conns
                .spublish(self.channels.sub_channel(node), payload);
        }
    }

    fn node_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        self.channels
            .count_nodes(&self.conns, SubscriberKind::Sharded)
    }

    fn close(&self, local: &LocalAdapter) {
        let rooms = local
            .all_rooms()
            .iter()
            .map(|room| self.channels.sub_channel(room))
            .collect();
        self.channels.close(rooms, &self.routes, &self.conns);
    }
}
