//! An Engine.IO server: the transport layer under Socket.IO, usable on its own like Node's
//! `engine.io` package.
//!
//! For a Socket.IO server start with the `sio-server` crate, which runs this one underneath
//! and re-exports it as `sio_server::engineio` (its [`EngineConfig`] is
//! `ServerConfig::engine`); for a client, `sio-client`. Use this crate directly for raw
//! Engine.IO sessions, or to serve the engine over TLS ([`serve_connection`], [`Secure`]).
//!
//! It serves Engine.IO v4 clients (Socket.IO 3.x and 4.x) and, with
//! [`EngineConfig::allow_eio3`], v3 clients (Socket.IO 1.x and 2.x): HTTP long-polling (with
//! base64 and JSONP variants for old clients), WebSocket, the upgrade from one to the other, and
//! heartbeats in either direction. Options carry Node's names and defaults.
//!
//! A handler receives sessions and their messages:
//!
//! ```no_run
//! use std::sync::Arc;
//! use sio_engineio::{CloseReason, Data, Engine, EngineConfig, EngineHandler, Message, Socket};
//!
//! struct Echo;
//!
//! impl EngineHandler for Echo {
//!     type Data = ();
//!     fn on_open(&self, socket: Arc<Socket<()>>) {
//!         println!("{} opened", socket.id());
//!     }
//!     fn on_message(&self, socket: &Arc<Socket<()>>, data: Data<'_>) {
//!         match data {
//!             Data::Text(text) => socket.send(Message::text(&text)),
//!             Data::Binary(bytes) => socket.send(Message::binary(bytes.into_owned())),
//!         }
//!     }
//!     fn on_close(&self, socket: &Arc<Socket<()>>, reason: CloseReason) {
//!         println!("{} closed: {reason}", socket.id());
//!     }
//! }
//!
//! # async fn run() -> std::io::Result<()> {
//! sio_engineio::listen("127.0.0.1:3000", Engine::new(EngineConfig::default(), Echo)).await
//! # }
//! ```
//!
//! To mount it in an axum or hyper application, wrap your service with [`EngineLayer`].

mod config;
mod engine;
mod lean_read;
mod message;
mod polling;
mod query;
mod server;
mod service;
mod sid;
mod socket;
mod timer;
mod websocket;

pub use config::{AllowRequest, Cookie, Cors, CorsOrigin, EngineConfig};
pub use engine::{Engine, EngineHandler, RemoteAddr, Secure};
pub use message::Message;
pub use server::{listen, serve, serve_connection};
pub use service::{BoxError, EngineBody, EngineLayer, EngineService, NotFound};
pub use sid::Sid;
pub use sio_engineio_proto::{Data, Revision};
pub use sio_engineio_session::{CloseReason, TransportKind};
pub use socket::{RequestInfo, Socket};
