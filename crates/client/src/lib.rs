//! An async Socket.IO client for servers from Socket.IO 0.9 to 4.x.
//!
//! It follows the JavaScript client (`socket.io-client`): a [`Manager`] holds one connection
//! per server and multiplexes the namespaces opened on it; a [`Client`] is one namespace
//! socket (`io("http://host/chat")`). Options keep the JavaScript names and defaults.
//!
//! Start here for a client: [`Client::builder`]. For a server, see `sio-server`; for SignalR
//! hubs, `sio-signalr`.
//!
//! - Transports: long-polling, then upgrade to WebSocket; WebSocket only; polling only; TLS
//!   (rustls) for `https://` URLs; an HTTP `CONNECT` proxy.
//! - Protocols ([`Protocol`]): Socket.IO v5 (servers 3.x and 4.x, Engine.IO 4), v4 (servers
//!   1.x and 2.x, Engine.IO 3), 0.9 (`/socket.io/1/`); `Auto` detects which one a server
//!   speaks.
//! - Events: handlers with typed (serde) arguments and a catch-all, or a [`Stream`] of
//!   [`ClientEvent`]s; acknowledgements both ways; binary anywhere in the arguments
//!   (`bytes::Bytes`); volatile emits; an offline buffer flushed on (re)connection; the
//!   msgpack [`Parser`].
//! - Reconnection with exponential backoff and jitter, connection state recovery
//!   ([`Client::recovered`]). Namespaces are joined again automatically after a
//!   reconnection; restoring application state (rooms, subscriptions) is up to the
//!   application, in a `connect` handler, as with the JavaScript client.
//! - A server that breaks the protocol gives an `error` event and a clean disconnect (then a
//!   reconnection), never a panic.
//!
//! The [`engine`] module is the Engine.IO client underneath, usable on its own.
//!
//! [`Stream`]: futures_util::Stream
//!
//! # Example
//!
//! ```no_run
//! use std::time::Duration;
//! use sio_client::{Client, Event};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("http://localhost:3000/chat")
//!     .auth(serde_json::json!({ "token": "secret" }))
//!     .ack_timeout(Duration::from_secs(5))
//!     .on("message", |_client: Client, event: Event| async move {
//!         if let Ok((from, text)) = event.args::<(String, String)>() {
//!             println!("{from}: {text}");
//!         }
//!     })
//!     .on("ping", |_client: Client, event: Event| async move {
//!         // The server asked for an acknowledgement.
//!         let _ = event.ack(&"pong");
//!     })
//!     .connect()
//!     .await?;
//!
//! client.emit("join", &"rust")?;
//! let count: u32 = client.emit_with_ack("count", &()).await?;
//! println!("{count} members");
//! client.disconnect();
//! # Ok(())
//! # }
//! ```
#![forbid(unsafe_code)]

mod backoff;
mod client;
pub mod engine;
mod error;
mod event;
mod legacy;
mod lock;
mod manager;
mod options;

pub use client::{Client, ClientBuilder, EventStream};
pub use error::{AckError, Error, LegacyError};
pub use event::{AckSender, ClientEvent, DisconnectReason, Event};
pub use manager::Manager;
pub use options::{Auth, Parser, Protocol, Reconnection, TransportKind};
/// The TLS library, for [`ClientBuilder::tls_config`].
pub use rustls;
pub use sio_socketio_proto::{Bytes, Value, from_args, to_args};
