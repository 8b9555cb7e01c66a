//! Redis cluster adapters for [`sio_server`], wire-compatible with Node's
//! `@socket.io/redis-adapter` and `@socket.io/redis-emitter`: Rust and Node servers can share one
//! cluster, and a Node emitter reaches Rust servers' clients (and ours reaches Node's).
//!
//! - [`RedisAdapter`]: the classic pub/sub adapter (`createAdapter` of `@socket.io/redis-adapter` 8):
//!   broadcasts with rooms and exceptions, acknowledgements from every node's clients,
//!   `fetch_sockets`, `sockets_join`/`sockets_leave`, `disconnect_sockets`,
//!   `server_side_emit` with acknowledgements, `server_count`.
//! - [`RedisStreamsAdapter`]: the streams adapter (`@socket.io/redis-streams-adapter` 0.3), with
//!   connection state recovery across nodes: a client that reconnects to another node gets its
//!   id, rooms and missed events back.
//! - [`RedisShardedAdapter`]: sharded pub/sub on Redis 7 (`createShardedAdapter`), with a
//!   channel per public room.
//! - [`ClusterAdapter`]: whichever of the three an [`AdapterKind`] names (a setting, a flag).
//! - [`Emitter`]: sends broadcasts, room changes and disconnections into the cluster from a
//!   process that is not a server (`@socket.io/redis-emitter` 5).
//!
//! The streams and sharded adapters are transports of [`sio_cluster_adapter`] (socket.io-adapter's
//! `ClusterAdapter` messages, written once there); the pub/sub adapter speaks the older request
//! format of `@socket.io/redis-adapter` and shares that crate's requests and encodings.
//!
//! Redis restarts are survived: the adapter reconnects by itself and subscribes again, local
//! clients are served meanwhile, and each outage is logged once.
//!
//! ```no_run
//! use sio_redis_adapter::{PubSubConfig, RedisAdapter};
//! use sio_server::{ServerConfig, SocketIo, SocketRef};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let adapter = RedisAdapter::connect("redis://127.0.0.1:6379", PubSubConfig::default()).await?;
//! let io = SocketIo::with_adapter(ServerConfig::default(), adapter);
//! io.on_connection(|socket: SocketRef| async move {
//!     socket.join("news");
//!     // Reaches the room's sockets on every node of the cluster.
//!     let _ = socket.to("news").emit("joined", &socket.id());
//! });
//! io.listen("127.0.0.1:3000").await?;
//! # Ok(()) }
//! ```

mod channels;
mod cluster;
mod emitter;
mod error;
mod pubsub;
mod redis_io;
mod sharded;
mod streams;

pub use cluster::{AdapterKind, ClusterAdapter, UnknownAdapterKind};
pub use emitter::{Emitter, EmitterOperator};
pub use error::Error;
pub use pubsub::{PubSubAdapter, PubSubConfig, RedisAdapter};
pub use redis;
pub use redis_io::sentinel_master_url;
pub use sharded::{RedisShardedAdapter, ShardedConfig, ShardedTransport};
pub use streams::{RedisStreamsAdapter, StreamsAdapter, StreamsConfig, StreamsTransport};
