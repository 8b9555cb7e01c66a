//! Server options, with the names and defaults of Node's `socket.io`.

use std::time::Duration;

use sio_engineio::EngineConfig;

/// How packets are written on the wire: [`Parser::Default`] (socket.io-parser, what every client
/// speaks) or [`Parser::Msgpack`] (socket.io-msgpack-parser; clients must use it too). The same type
/// as the client's and the protocol crate's.
pub use sio_socketio_proto::Parser;

/// Connection state recovery (Socket.IO 4.6+): a client that loses its connection gets its id,
/// rooms, data and missed events back if it reconnects in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected session is kept (Node: 2 minutes).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace middlewares (Node: true).
    pub skip_middlewares: bool,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
        }
    }
}

/// Socket.IO server options. `ServerConfig::default()` gives Node's defaults.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The Engine.IO options; the path defaults to `/socket.io/`.
    pub engine: EngineConfig,
    /// How long a client may take to join a namespace before it is dropped (Node: 45 s).
    pub connect_timeout: Duration,
    /// Wire format.
    pub parser: Parser,
    /// Most binary attachments a client packet may carry (socket.io-parser: 10).
    pub max_attachments: usize,
    /// Connection state recovery; off by default, like Node.
    pub recovery: Option<RecoveryConfig>,
    /// Remove a child of a dynamic namespace once its last socket leaves (Node: false).
    pub cleanup_empty_child_namespaces: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            engine: EngineConfig {
                path: "/socket.io/".into(),
                ..EngineConfig::default()
            },
            connect_timeout: Duration::from_secs(45),
            parser: Parser::Default,
            max_attachments: 10,
            recovery: None,
            cleanup_empty_child_namespaces: false,
        }
    }
}
