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
