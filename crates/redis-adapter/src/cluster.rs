//! One constructor for whichever adapter a node is told to run (a command-line flag, a setting).

use std::{str::FromStr, sync::Arc, time::Duration};

use sio_server::adapter::{Adapter, AdapterFactory, LocalAdapter};

use crate::{
    PubSubConfig, RedisAdapter, RedisShardedAdapter, RedisStreamsAdapter, ShardedConfig,
    StreamsConfig, error::Error,
};

/// Which cluster adapter a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AdapterKind {
    /// [`RedisAdapter`]: `@socket.io/redis-adapter`'s `createAdapter`.
    #[default]
    PubSub,
    /// [`RedisStreamsAdapter`]: `@socket.io/redis-streams-adapter`, recovery across nodes.
    Streams,
    /// [`RedisShardedAdapter`]: `createShardedAdapter`, Redis 7 sharded pub/sub.
    Sharded,
}

/// An adapter name that is not `pubsub`, `streams` or `sharded`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown adapter {0:?}: pubsub, streams or sharded")]
pub struct UnknownAdapterKind(pub String);

impl FromStr for AdapterKind {
    type Err = UnknownAdapterKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pubsub" => Ok(AdapterKind::PubSub),
            "streams" => Ok(AdapterKind::Streams),
            "sharded" => Ok(AdapterKind::Sharded),
            other => Err(UnknownAdapterKind(other.to_owned())),
        }
    }
}

/// The adapter of any [`AdapterKind`], made by [`ClusterAdapter::connect`]; give it to
/// [`SocketIo::with_adapter`](sio_server::SocketIo::with_adapter).
///
/// ```no_run
/// use sio_redis_adapter::{AdapterKind, ClusterAdapter};
/// use sio_server::{ServerConfig, SocketIo};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let kind: AdapterKind = "streams".parse()?;
/// let adapter = ClusterAdapter::connect(kind, "redis://127.0.0.1:6379", "socket.io", None).await?;
/// let io = SocketIo::with_adapter(ServerConfig::default(), adapter);
/// io.listen("127.0.0.1:3000").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub enum ClusterAdapter {
    /// The pub/sub adapter.
    PubSub(RedisAdapter),
    /// The streams adapter.
    Streams(RedisStreamsAdapter),
    /// The sharded adapter.
    Sharded(RedisShardedAdapter),
}

impl ClusterAdapter {
    /// Connects the adapter `kind` to Redis at `url` with the other options at their defaults but
    /// the channels' prefix `key` (`key` of the pub/sub adapter, `channelPrefix` of the others) and,
    /// when given, `requests_timeout`.
    ///
    /// # Errors
    /// The URL is invalid or Redis cannot be reached.
    pub async fn connect(
        kind: AdapterKind,
        url: &str,
        key: &str,
        requests_timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        Ok(match kind {
            AdapterKind::PubSub => {
                let defaults = PubSubConfig::default();
                let config = PubSubConfig {
                    key: key.to_owned(),
                    requests_timeout: requests_timeout.unwrap_or(defaults.requests_timeout),
                    ..defaults
                };
                ClusterAdapter::PubSub(RedisAdapter::connect(url, config).await?)
            }
            AdapterKind::Streams => {
                let defaults = StreamsConfig::default();
                let config = StreamsConfig {
                    channel_prefix: key.to_owned(),
                    requests_timeout: requests_timeout.unwrap_or(defaults.requests_timeout),
                    ..defaults
                };
                ClusterAdapter::Streams(RedisStreamsAdapter::connect(url, config).await?)
            }
            AdapterKind::Sharded => {
                let defaults = ShardedConfig::default();
                let config = ShardedConfig {
                    channel_prefix: key.to_owned(),
                    requests_timeout: requests_timeout.unwrap_or(defaults.requests_timeout),
                };
                ClusterAdapter::Sharded(RedisShardedAdapter::connect(url, config).await?)
            }
        })
    }

    /// Which adapter this is.
    pub fn kind(&self) -> AdapterKind {
        match self {
            ClusterAdapter::PubSub(_) => AdapterKind::PubSub,
            ClusterAdapter::Streams(_) => AdapterKind::Streams,
            ClusterAdapter::Sharded(_) => AdapterKind::Sharded,
        }
    }
}

impl AdapterFactory for ClusterAdapter {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        match self {
            ClusterAdapter::PubSub(adapter) => adapter.create(local),
            ClusterAdapter::Streams(adapter) => adapter.create(local),
            ClusterAdapter::Sharded(adapter) => adapter.create(local),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!("pubsub".parse(), Ok(AdapterKind::PubSub));
        assert_eq!("streams".parse(), Ok(AdapterKind::Streams));
        assert_eq!("sharded".parse(), Ok(AdapterKind::Sharded));
        assert_eq!(
            "redis".parse::<AdapterKind>(),
            Err(UnknownAdapterKind("redis".into()))
        );
    }
}
