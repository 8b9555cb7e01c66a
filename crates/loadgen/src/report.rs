//! The result of a run.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::config::{Protocol, Scenario, TransportKind};

/// Above this share of its threads' CPU time the generator may be what limits the rate.
pub const SATURATION: f64 = 0.85;

/// What a run measured. Serialises to JSON with the field names below.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `echo`, `fanout` or `connect`.
    pub scenario: Scenario,
    /// What the clients spoke.
    pub protocol: Protocol,
    /// WebSocket or long-polling (`"websocket"`, `"polling"` in JSON).
    pub transport: TransportKind,
    /// The target.
    pub url: String,
    /// With [`Config::extra_urls`](crate::Config::extra_urls): each node's share, `url`'s first;
    /// empty (and not serialised) otherwise.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeCount>,
    /// Clients asked for (fan-out: receivers).
    pub clients: usize,
    /// Clients that connected.
    pub connected: usize,
    /// Generator threads.
    pub threads: usize,
    /// Payload size in bytes.
    pub payload_bytes: usize,
    /// Whether the payload travelled as a binary attachment.
    pub binary: bool,
    /// The requested rate (echo: per client, fan-out: broadcasts), if any.
    pub rate: Option<f64>,
    /// What one operation is: `round trips`, `deliveries` or `connections`.
    pub unit: &'static str,
    /// Length of the measured window in seconds.
    pub seconds: f64,
    /// Operations completed within the window.
    pub operations: u64,
    /// Operations per second.
    pub per_second: f64,
    /// Fan-out: broadcasts sent within the window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broadcasts: Option<u64>,
    /// Latency of the operations in the window (echo: send to ack; fan-out: send to delivery;
    /// connect: TCP connect to namespace CONNECT).
    pub latency: Latency,
    /// The generator's own CPU use over the window.
    pub generator_cpu: GeneratorCpu,
    /// Errors: failed connections, timeouts, protocol errors, connections lost.
    pub errors: u64,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// 1, 5 and 15 minute load averages when the run ended.
    pub loadavg: Option<[f64; 3]>,
}

impl Report {
    /// Whether the generator was busy enough (over [`SATURATION`]) to be the bottleneck.
    pub fn generator_saturated(&self) -> bool {
        self.generator_cpu.share_of_threads > SATURATION
    }
}

/// What the clients of one node of a cluster did.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NodeCount {
    /// The node's URL.
    pub url: String,
    /// Its clients that connected (fan-out: receivers, not the sender).
    pub connected: usize,
    /// Operations its clients completed within the window (fan-out: deliveries they received).
    pub operations: u64,
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct Latency {
    /// Number of samples.
    pub samples: u64,
    /// Smallest.
    pub min_us: f64,
    /// Mean.
    pub mean_us: f64,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
}

impl Latency {
    /// From a histogram of nanoseconds.
    pub(crate) fn from_nanos(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1000.0;
        Latency {
            samples: h.len(),
            min_us: us(h.min()),
            mean_us: h.mean() / 1000.0,
            p50_us: us(h.value_at_quantile(0.5)),
            p90_us: us(h.value_at_quantile(0.9)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// The generator's CPU over the measured window, from `/proc/self/stat`.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct GeneratorCpu {
    /// CPU seconds (user + system, all threads).
    pub seconds: f64,
    /// CPU seconds per wall second: 1.0 is one core busy.
    pub cores: f64,
    /// `cores` divided by the number of generator threads: near 1.0 the generator is the
    /// bottleneck.
    pub share_of_threads: f64,
    /// Seconds its threads were runnable but had no CPU (other work on the machine).
    pub waited: f64,
    /// Generator CPU microseconds per operation.
    pub us_per_operation: f64,
}
