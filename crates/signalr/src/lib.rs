//! An async SignalR hub client for ASP.NET Core SignalR, modelled on the official
//! `@microsoft/signalr` client: [`HubConnectionBuilder`] / [`HubConnection`] with `on`, `send`,
//! `invoke`, `stream`, `start`, `stop`, `on_close`, `on_reconnecting`, `on_reconnected`,
//! `connection_id` and `state`, serde arguments and a [`futures_core::Stream`] of events.
//!
//! Transports: WebSockets, Server-Sent Events and Long Polling, tried in the server's order
//! (the official fallback); hub protocols JSON and MessagePack; keep-alive pings (15 s), server
//! timeout (30 s), automatic reconnect (0, 2, 10, 30 s or a policy of your own).
//!
//! ```no_run
//! # async fn demo() -> Result<(), sio_signalr::HubError> {
//! use sio_signalr::{HubConnectionBuilder, HubProtocol};
//! let connection = HubConnectionBuilder::new()
//!     .with_url("https://example.com/hubs/prices")
//!     .with_hub_protocol(HubProtocol::MessagePack)
//!     .with_automatic_reconnect()
//!     .build()?;
//! connection.on("price", |args| {
//!     if let Ok((symbol, price)) = args.parse::<(String, f64)>() {
//!         println!("{symbol} {price}");
//!     }
//! });
//! connection.start().await?;
//! connection.send("Subscribe", &("EURUSD",)).await?;
//! let sum: i64 = connection.invoke("Add", &(1, 2)).await?;
//! # let _ = sum; Ok(()) }
//! ```

mod arguments;
mod connection;
mod error;
mod http;
mod retry;
mod transport;

pub use arguments::Arguments;
pub use connection::{
    HubConnection, HubConnectionBuilder, HubConnectionState, HubEvent, HubEvents, HubStream,
};
pub use error::{BoxError, HubError};
pub use retry::{DefaultRetryPolicy, RetryContext, RetryPolicy};
pub use sio_signalr_proto as proto;
pub use sio_signalr_proto::negotiate::HttpTransportType;
pub use sio_signalr_proto::{HubProtocol, Value};
