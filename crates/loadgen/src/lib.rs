//! A Socket.IO load generator written for throughput.
//!
//! The clients speak Engine.IO v4 and Socket.IO v5 themselves (through the protocol crates
//! `sio-engineio-proto` and `sio-socketio-proto`), over WebSocket (tokio-tungstenite, 4 KiB read
//! buffer, TCP_NODELAY) or HTTP long-polling, with no client library in between; or bare
//! WebSocket frames for a floor server ([`Protocol::RawWebSocket`]). Each generator thread runs
//! its own single-threaded tokio runtime with a share of the clients, so nothing is shared
//! between cores but a few counters.
//!
//! Scenarios ([`Scenario`]), against any server that implements this contract: every socket
//! joins room `room`; `echo` acks with its arguments; `fan` broadcasts `f` with its arguments to
//! `room`.
//!
//! - `echo`: each client emits `echo` with the payload and an ack id and waits for the ack
//!   (closed loop), or sends at a fixed [`Config::rate`] for latency.
//! - `fanout`: one more client emits `fan`; every client counts its `f` deliveries.
//! - `connect`: a connect storm (handshake and namespace CONNECT), then the connections held.
//!
//! The clients may be split over several nodes of a cluster ([`Config::extra_urls`]; the
//! fan-out sender stays on the first), the report then counting each node's share.
//!
//! The [`Report`] has the operations in the measured window, their rate, latency percentiles
//! (HdrHistogram), the generator's own CPU use (from `/proc/self/stat`: when it nears one core
//! per thread the generator, not the server, is the limit) and the errors; it serialises to
//! JSON. [`process`] reads the same figures of another process, for harnesses that measure the
//! server.
//!
//! ```no_run
//! use std::time::Duration;
//! use sio_loadgen::{Config, Quiet, Scenario};
//!
//! let mut config = Config::new("http://127.0.0.1:3000");
//! config.scenario = Scenario::Echo;
//! config.clients = 50;
//! config.duration = Duration::from_secs(2);
//! let report = sio_loadgen::run(&config, &mut Quiet)?;
//! println!(
//!     "{:.0} round trips/s, p99 {:.0} µs, generator at {:.0}% of its threads",
//!     report.per_second,
//!     report.latency.p99_us,
//!     report.generator_cpu.share_of_threads * 100.0
//! );
//! println!("{}", serde_json::to_string_pretty(&report)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod conn;
pub mod process;
mod report;
mod runner;

pub use config::{Config, Protocol, Scenario, TransportKind};
pub use report::{GeneratorCpu, Latency, NodeCount, Report, SATURATION};
pub use runner::{Observer, Phase, Progress, Quiet, run};

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL cannot be used.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Numbers or options that do not go together.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// A generator thread or its runtime could not be started.
    #[error("cannot run the generator: {0}")]
    Runtime(String),
    /// Not a single client connected.
    #[error("no client could connect to {url}: {reason}")]
    NoConnection {
        /// The target.
        url: String,
        /// The first error met.
        reason: String,
    },
}
