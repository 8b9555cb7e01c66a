//! What to run: the target, the scenario and its numbers.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use serde::Serialize;
pub use sio_engineio_session::TransportKind;

use crate::Error;

/// The load to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Each client emits `echo` with the payload and an ack id and waits for the ack: a closed
    /// loop, or at [`Config::rate`] messages per second per client (open loop, for latency).
    Echo,
    /// One extra client emits `fan` (a timestamp and the payload); the server broadcasts `f` to
    /// room `room`, which every client joined; every client counts its `f` deliveries. The
    /// sender keeps [`Config::fanout_window`] broadcasts in flight, or sends at [`Config::rate`]
    /// broadcasts per second.
    Fanout,
    /// A connect storm: every client connects (Engine.IO handshake and namespace CONNECT) once,
    /// at most [`Config::connect_concurrency`] at a time; then the connections are held idle for
    /// [`Config::hold`].
    Connect,
}

impl Scenario {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Echo => "echo",
            Scenario::Fanout => "fanout",
            Scenario::Connect => "connect",
        }
    }

    /// What one operation of the scenario is.
    pub fn unit(self) -> &'static str {
        match self {
            Scenario::Echo => "round trips",
            Scenario::Fanout => "deliveries",
            Scenario::Connect => "connections",
        }
    }
}

/// What the clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protocol {
    /// Engine.IO v4 and Socket.IO v5 (`EIO=4`), as socket.io-client 3.x/4.x.
    SocketIo,
    /// Bare WebSocket frames, for a floor server with nothing above the WebSocket: echo sends
    /// a text frame `e<payload>` (or a binary frame) and waits for any data frame back; fan-out
    /// sends `f<timestamp> <payload>`, which the server relays to every other connection.
    RawWebSocket,
}

/// Everything a run needs. [`Config::new`] gives the defaults for a URL.
#[derive(Debug, Clone)]
pub struct Config {
    /// `http://host:port/namespace` (or `ws://`); the path is the namespace, as in the
    /// JavaScript client. Only plain (non-TLS) endpoints are supported.
    pub url: String,
    /// Further nodes of the same cluster (`http://host:port` with the same namespace as
    /// [`Config::url`]): client `i` connects to the `i mod n`th of `url` and these, so the clients
    /// are split evenly; the fan-out sender is on `url`. The [`Report`](crate::Report) then counts
    /// the connections and operations of each node. Empty (the default): every client on `url`.
    pub extra_urls: Vec<String>,
    /// The Socket.IO path on the server.
    pub path: String,
    /// What to run.
    pub scenario: Scenario,
    /// What the clients speak.
    pub protocol: Protocol,
    /// How the Socket.IO clients reach the server: one WebSocket per client from the start
    /// (`transport=websocket`, no upgrade), or HTTP long-polling only (a pending GET on one
    /// keep-alive connection, POSTs on another, as engine.io-client does; supports the `echo`
    /// and `connect` scenarios).
    pub transport: TransportKind,
    /// Number of clients (fan-out: receivers; the sender is one more).
    pub clients: usize,
    /// Generator threads, each with its own single-threaded runtime; 0 means one per CPU this
    /// process may run on.
    pub threads: usize,
    /// Length of the measured window (echo, fan-out).
    pub duration: Duration,
    /// Load before the window opens, not measured (echo, fan-out).
    pub warmup: Duration,
    /// Payload size in bytes.
    pub payload_bytes: usize,
    /// Send the payload as a binary attachment instead of a string.
    pub binary: bool,
    /// Echo: messages per second per client (open loop); fan-out: broadcasts per second.
    /// `None`: closed loop.
    pub rate: Option<f64>,
    /// Fan-out without a rate: how many broadcasts may be in flight (sent, not yet delivered to
    /// every client).
    pub fanout_window: u64,
    /// Connections being set up at once, over all threads.
    pub connect_concurrency: usize,
    /// Connect storm: how long to keep the connections open once all are set up.
    pub hold: Duration,
    /// Local addresses the clients bind to in turn (for example `127.0.0.2`–`127.0.0.9`, to
    /// have more ephemeral ports than one address gives); empty: let the system choose.
    pub source_addrs: Vec<IpAddr>,
    /// How long one connection attempt or one expected answer may take before it counts as an
    /// error.
    pub timeout: Duration,
}

impl Config {
    /// The defaults: closed-loop echo, 100 clients over WebSocket, 32-byte string payload, 1 s
    /// warm-up, 5 s measured, one thread per CPU.
    pub fn new(url: impl Into<String>) -> Self {
        Config {
            url: url.into(),
            extra_urls: Vec::new(),
            path: "/socket.io/".into(),
            scenario: Scenario::Echo,
            protocol: Protocol::SocketIo,
            transport: TransportKind::WebSocket,
            clients: 100,
            threads: 0,
            duration: Duration::from_secs(5),
            warmup: Duration::from_secs(1),
            payload_bytes: 32,
            binary: false,
            rate: None,
            fanout_window: 1,
            connect_concurrency: 256,
            hold: Duration::ZERO,
            source_addrs: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }

    /// The number of generator threads this configuration runs.
    pub fn thread_count(&self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
    }

    /// The endpoints: [`Config::url`] first, then [`Config::extra_urls`].
    pub(crate) fn validate(&self) -> Result<Vec<Target>, Error> {
        let invalid = |reason: &str| Err(Error::InvalidConfig(reason.to_owned()));
        if self.clients == 0 {
            return invalid("the number of clients must be at least 1");
        }
        if self.scenario != Scenario::Connect && self.duration.is_zero() {
            return invalid("the measured duration must be more than 0 s");
        }
        if let Some(rate) = self.rate
            && !(rate.is_finite() && rate > 0.0)
        {
            return invalid("the rate must be a positive number of messages per second");
        }
        if self.fanout_window == 0 {
            return invalid("the fan-out window must be at least 1");
        }
        if self.transport == TransportKind::Polling {
            if self.protocol == Protocol::RawWebSocket {
                return invalid("the raw WebSocket protocol has no long-polling transport");
            }
            if self.scenario == Scenario::Fanout || self.rate.is_some() {
                return invalid(
                    "long-polling supports the closed-loop echo and connect scenarios only",
                );
            }
        }
        if !self.path.starts_with('/') {
            return invalid("the Socket.IO path must start with '/'");
        }
        let mut targets = vec![Target::parse(&self.url)?];
        for url in &self.extra_urls {
            let target = Target::parse(url)?;
            if targets
                .first()
                .is_some_and(|first| first.namespace != target.namespace)
            {
                return Err(Error::InvalidUrl {
                    url: url.clone(),
                    reason: format!(
                        "namespace {} differs from {}'s: every node must serve the same one",
                        target.namespace, self.url
                    ),
                });
            }
            targets.push(target);
        }
        Ok(targets)
    }
}

/// A resolved endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub addr: SocketAddr,
    /// `host:port` as written in the URL, for the Host header.
    pub authority: String,
    /// The namespace (`/` when the URL has no path).
    pub namespace: String,
    /// The URL's path as written, for raw WebSocket connections.
    pub raw_path: String,
}

impl Target {
    pub(crate) fn parse(url: &str) -> Result<Target, Error> {
        let invalid = |reason: String| Error::InvalidUrl {
            url: url.to_owned(),
            reason,
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| invalid(e.to_string()))?;
        let default_port = match uri.scheme_str() {
            Some("http" | "ws") => 80,
            Some("https" | "wss") => {
                return Err(invalid(
                    "TLS endpoints are not supported by the load generator; benchmark the plain \
                     endpoint behind the TLS terminator"
                        .into(),
                ));
            }
            Some(other) => return Err(invalid(format!("unknown scheme {other:?}"))),
            None => return Err(invalid("expected http://host:port/namespace".into())),
        };
        let host = uri.host().ok_or_else(|| invalid("no host".into()))?;
        let port = uri.port_u16().unwrap_or(default_port);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addr = (host, port)
            .to_socket_addrs()
            .map_err(|e| invalid(format!("cannot resolve {host}: {e}")))?
            .next()
            .ok_or_else(|| invalid(format!("{host} resolves to no address")))?;
        let raw_path = uri.path().to_owned();
        let namespace = match raw_path.as_str() {
            "" | "/" => "/".to_owned(),
            path => path.trim_end_matches('/').to_owned(),
        };
        Ok(Target {
            addr,
            authority: uri
                .authority()
                .map_or_else(|| format!("{host}:{port}"), |a| a.to_string()),
            namespace,
            raw_path: if raw_path.is_empty() {
                "/".into()
            } else {
                raw_path
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = Target::parse("http://127.0.0.1:3000").unwrap();
        assert_eq!(t.addr, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(t.namespace, "/");
        let t = Target::parse("ws://127.0.0.1:3001/admin/").unwrap();
        assert_eq!(t.namespace, "/admin");
        assert_eq!(t.authority, "127.0.0.1:3001");
        assert!(matches!(
            Target::parse("https://127.0.0.1"),
            Err(Error::InvalidUrl { .. })
        ));
        assert!(Target::parse("127.0.0.1:3000").is_err());
    }

    #[test]
    fn polling_limits() {
        let mut config = Config::new("http://127.0.0.1:1");
        config.transport = TransportKind::Polling;
        config.scenario = Scenario::Fanout;
        assert!(matches!(config.validate(), Err(Error::InvalidConfig(_))));
        config.scenario = Scenario::Echo;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn extra_urls() {
        let mut config = Config::new("http://127.0.0.1:1/chat");
        assert_eq!(config.validate().unwrap().len(), 1);
        config.extra_urls = vec!["http://127.0.0.1:2/chat/".into()];
        let targets = config.validate().unwrap();
        let ports: Vec<u16> = targets.iter().map(|t| t.addr.port()).collect();
        assert_eq!(ports, [1, 2]);
        config.extra_urls = vec!["http://127.0.0.1:2/".into()];
        assert!(matches!(config.validate(), Err(Error::InvalidUrl { .. })));
        config.extra_urls = vec!["https://127.0.0.1:2/chat".into()];
        assert!(matches!(config.validate(), Err(Error::InvalidUrl { .. })));
    }
}
