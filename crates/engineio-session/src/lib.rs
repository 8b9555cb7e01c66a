//! Engine.IO sessions as state machines, with no I/O: the rules of the protocol above the wire
//! formats of `sio-engineio-proto`, for both roles and both revisions.
//!
//! Drivers — the server's HTTP and WebSocket tasks, the native client, a browser client, the
//! load generator, `sio probe` — feed a machine what happened (a packet read, a request
//! answered, the time) and carry out what it asks (write these frames, post this body, start
//! a poll, open the upgrade's WebSocket). Time is an argument (`now`), never read here, so
//! every timing rule is tested with a manual clock (see `tests/pair.rs`).
//!
//! - [`heartbeat`]: who pings whom and when a peer is given up on (v4: the server pings; v3:
//!   the client does), one [`Heartbeat`] for both roles.
//! - [`server`]: [`ServerSession`], one accepted session: outbox, which transport may write,
//!   polling request guards, the upgrade phases, close and what it flushes.
//! - [`client`]: [`ClientSession`], one connection: polling requests and batching, the
//!   upgrade (`2probe`/`3probe`/`5`, pausing polling), the heartbeat, the graceful close.
//! - [`handshake`]: what a client asks for and what the answer means (v4 → v3 fall-back),
//!   shared by every client of the project.
//!
//! A new transport (a browser WebSocket, WebTransport) is a driver: it reports frames and
//! closes to a machine as [`client::Link`]s or to the server session as a [`TransportKind`].
#![forbid(unsafe_code)]

pub mod client;
pub mod handshake;
pub mod heartbeat;
pub mod server;
mod transport;

pub use client::ClientSession;
pub use heartbeat::{Heartbeat, Role, Timing};
pub use server::ServerSession;
pub use transport::{CloseReason, TransportKind};
