//! A Socket.IO server: the API a Node Socket.IO developer knows, in async Rust.
//!
//! Namespaces (static and dynamic), connection middlewares, events with acknowledgements both
//! ways, rooms and broadcasts encoded once for every receiver, binary anywhere in the
//! arguments, the msgpack parser, connection state recovery, and an
//! [`Adapter`](adapter::Adapter) trait through which cluster adapters reach other nodes. It serves Socket.IO 3.x/4.x clients (protocol v5)
//! and, with `allow_eio3`, 1.x/2.x clients (protocol v4).
//!
//! Start here for a server: [`SocketIo`] and [`SocketRef`]. The Engine.IO layer underneath is
//! [`engineio`] (`sio-engineio`); cluster adapters are in `sio-redis-adapter` (and
//! `sio-cluster-adapter` to write one); the client is `sio-client`.
//!
//! ```no_run
//! use sio_server::{Event, ServerConfig, SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::new(ServerConfig::default());
//! io.on_connection(|socket: SocketRef| async move {
//!     socket.on("join", |socket: SocketRef, event: Event| async move {
//!         if let Ok(room) = event.args::<String>() {
//!             socket.join(room);
//!         }
//!     });
//!     socket.on("say", |socket: SocketRef, event: Event| async move {
//!         if let Ok((room, text)) = event.args::<(String, String)>() {
//!             let _ = socket.to(room).emit("said", &(socket.id(), text));
//!         }
//!     });
//! });
//! io.listen("127.0.0.1:3000").await
//! # }
//! ```
//!
//! Handlers are `async` closures; one that completes without waiting runs inline, so the
//! common case costs no task per message.
//!
//! The crate root is the application's API. What a cluster adapter's author needs (the
//! [`Adapter`](adapter::Adapter) trait, [`LocalAdapter`](adapter::LocalAdapter), broadcast
//! options, sessions, the sockets of `fetch_sockets` answers) is in [`adapter`].

pub mod adapter;
mod broadcast;
mod client;
mod config;
mod error;
mod event;
mod handler;
mod handshake;
mod namespace;
mod server;
mod socket;

/// What applications name of the adapter layer: where a server-side handler's answer goes,
/// the answers of a broadcast with acknowledgements, and rooms.
pub use adapter::{AckCollector, BroadcastAcks, Room};
pub use broadcast::{BroadcastOperator, RemoteSocket};
pub use client::ConnectionState;
pub use config::{Parser, RecoveryConfig, ServerConfig};
pub use error::{AckError, AdapterError, ConnectError, EmitError};
pub use event::{AckSender, Event};
pub use handler::{
    ConnectionHandler, DisconnectHandler, EventHandler, Flow, Middleware, PacketMiddleware,
    ServerSideHandler, SocketRef,
};
pub use handshake::Handshake;
pub use namespace::{Namespace, ParentNamespace};
pub use server::{Dispatcher, SocketIo};
pub use sio_engineio as engineio;
pub use sio_socketio_proto::{self as proto, Value};
pub use socket::{DisconnectReason, IntoRooms, Socket, SocketEmitter};
