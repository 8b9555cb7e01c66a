//! Runnable examples of sio; each is an `[[example]]` of this package (see `Cargo.toml`), in
//! the folder above this file:
//!
//! | example            | shows                                                                      |
//! |--------------------|----------------------------------------------------------------------------|
//! | `chat`             | rooms: join/leave, messages to a room, users per room, departures          |
//! | `auth_middleware`  | namespace middlewares checking `handshake().auth.token`, `ConnectError`    |
//! | `acks`             | acks both ways, `timeout(..).emit_with_ack`, broadcasts with acks          |
//! | `axum_integration` | `io.layer()` in an axum 0.8 app, an HTTP route that emits to every socket  |
//! | `engine_echo`      | the Engine.IO server alone (Node's `engine.io`): an echo server            |
//! | `engine_bench`     | Engine.IO throughput over WebSocket and polling against a raw WebSocket floor |
//! | `conformance`      | the server the official protocol test suites run against                   |
//!
//! `cargo run -p sio-examples --example chat` starts one; each file's documentation says what
//! to try. `tests/examples.rs` runs every example against the real JS clients through the
//! scripts in `peers/examples/`.

/// The README's code blocks, compiled by `cargo test --doc` (the servers and clients are
/// `no_run`: they need a network peer; `crates/cli/tests/readme.rs` runs the client example
/// and the README's commands).
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct Readme;

/// The code blocks of the guides in `docs/`, compiled the same way.
#[cfg(doctest)]
pub mod guides {
    #[doc = include_str!("../../docs/server.md")]
    pub struct Server;
    #[doc = include_str!("../../docs/client.md")]
    pub struct Client;
    #[doc = include_str!("../../docs/cluster.md")]
    pub struct Cluster;
}
