//! The benchmark harness behind `bench/run`: every scenario against every server, each run on a
//! fresh server process pinned to CPU 0 while this process (the load generator, `sio-loadgen`
//! in-process) runs on CPU 1; servers interleaved A/B/C… with the order rotated every round;
//! medians, paired ratios, server CPU per operation from `/proc/<pid>/stat`, idle memory per
//! connection from RSS; Markdown, JSON and SVG into `bench/results/`.
//!
//! ```text
//! bench/run --quick          # small numbers: checks the whole pipeline end to end
//! bench/run                  # the full scenarios, 3 rounds
//! bench/run --runs 5 --servers sio,socketioxide --only echo-100-32B,fanout-1k
//! ```
//!
//! Scenarios (`--only` takes their ids; `--quick` keeps them all with small numbers):
//! `echo-100-32B`, `echo-100-4KB`, `echo-1000-32B`, `echo-1000-4KB` (closed-loop echo with
//! ack), `latency-1000x10` (fixed rate), `fanout-1k`, `fanout-10k` (one sender, every other
//! socket of room `room` receives), `fanout-redis-2x1k` (the same fan-out to 1000 members split
//! over two nodes of the server joined through a fresh `redis-server`; sio and node-socket.io
//! only), `connect-10k` (connect storm), `idle-memory-10k`, `polling-echo-100`, `binary-4KB`,
//! `binary-64KB`.
//!
//! `fanout-redis-2x1k` starts its own `redis-server` (a free port, `--save '' --appendonly no`)
//! and two nodes with `--redis`, all three pinned to CPU 0; the sender is on the first node, the
//! receivers alternate between the two. Its server µs/op is the CPU of both nodes together per
//! delivery; redis-server's own CPU per delivery is reported beside it. A run fails unless each
//! node's receivers got that node's share of the broadcasts.
//!
//! `sio-bench floor --port N` is the raw WebSocket floor server.

mod floor;
mod output;

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use sio_loadgen::process::{ProcessTimes, Spent, rss_bytes};
use sio_loadgen::{Config, Observer, Phase, Progress, Protocol, Report, Scenario, TransportKind};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("floor") => parse_port(args.get(1..).unwrap_or_default()).and_then(floor::serve),
        _ => harness(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("sio-bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn parse_port(args: &[String]) -> Result<u16, String> {
    match args {
        [flag, port] if flag == "--port" => port.parse().map_err(|e| format!("--port: {e}")),
        _ => Err("usage: sio-bench floor --port N".into()),
    }
}

/// The servers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Server {
    Sio,
    Floor,
    Socketioxide,
    Node,
    Python,
}

impl Server {
    const ALL: [Server; 5] = [
        Server::Sio,
        Server::Floor,
        Server::Socketioxide,
        Server::Node,
        Server::Python,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Server::Sio => "sio",
            Server::Floor => "raw-ws-floor",
            Server::Socketioxide => "socketioxide",
            Server::Node => "node-socket.io",
            Server::Python => "python-socketio",
        }
    }

    /// The server on `port`; a cluster node through Redis at `redis` when given.
    fn command(self, root: &Path, port: u16, redis: Option<&str>) -> Result<Command, String> {
        let port = port.to_string();
        let need = |path: PathBuf| {
            if path.exists() {
                Ok(path)
            } else {
                Err(format!(
                    "{} is missing: run bench/run, which builds and installs every server",
                    path.display()
                ))
            }
        };
        let mut command = match self {
            Server::Sio => Command::new(need(root.join("target/release/examples/bench_server"))?),
            Server::Floor => {
                let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
                c.arg("floor");
                c
            }
            Server::Socketioxide => Command::new(need(
                root.join("bench/target/release/socketioxide-bench-server"),
            )?),
            Server::Node => {
                let mut c = Command::new("node");
                c.arg(need(root.join("bench/servers/node-server.js"))?);
                c
            }
            Server::Python => {
                let mut c = Command::new(need(root.join("peers/.venv/bin/python"))?);
                c.arg(need(root.join("bench/servers/python-server.py"))?);
                c
            }
        };
        command.args(["--port", &port]);
        if let Some(url) = redis {
            command.args(["--redis", url]);
        }
        Ok(command)
    }

    /// The floor has no Socket.IO and so no long-polling; only sio's and Node's servers take
    /// `--redis`.
    fn supports(self, spec: &Spec) -> bool {
        if spec.redis_nodes > 0 {
            return matches!(self, Server::Sio | Server::Node);
        }
        !(self == Server::Floor && spec.transport == TransportKind::Polling)
    }
}

/// What the scenario's headline figure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) enum Metric {
    /// Server CPU µs per operation.
    CpuPerOp,
    /// Server RSS growth per idle connection.
    MemoryPerConnection,
}

/// One scenario of the table.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Spec {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) scenario: Scenario,
    pub(crate) clients: usize,
    pub(crate) payload: usize,
    pub(crate) binary: bool,
    pub(crate) rate: Option<f64>,
    pub(crate) transport: TransportKind,
    pub(crate) metric: Metric,
    /// 0: one server process. N: N nodes of the server joined through a fresh redis-server
    /// (pub/sub adapter), the clients split over them.
    pub(crate) redis_nodes: usize,
    #[serde(skip)]
    hold: Duration,
}

fn specs(quick: bool) -> Vec<Spec> {
    // Quick mode keeps every scenario but with small numbers.
    let n = |full: usize, small: usize| if quick { small } else { full };
    let spec = |id: &str, title: String, scenario, clients, payload| Spec {
        id: id.into(),
        title,
        scenario,
        clients,
        payload,
        binary: false,
        rate: None,
        transport: TransportKind::WebSocket,
        metric: Metric::CpuPerOp,
        redis_nodes: 0,
        hold: Duration::ZERO,
    };
    let (c100, c1k, c10k) = (n(100, 20), n(1000, 50), n(10_000, 200));
    vec![
        spec(
            "echo-100-32B",
            format!("echo with ack, {c100} clients, 32 B"),
            Scenario::Echo,
            c100,
            32,
        ),
        spec(
            "echo-100-4KB",
            format!("echo with ack, {c100} clients, 4 KB"),
            Scenario::Echo,
            c100,
            4096,
        ),
        spec(
            "echo-1000-32B",
            format!("echo with ack, {c1k} clients, 32 B"),
            Scenario::Echo,
            c1k,
            32,
        ),
        spec(
            "echo-1000-4KB",
            format!("echo with ack, {c1k} clients, 4 KB"),
            Scenario::Echo,
            c1k,
            4096,
        ),
        Spec {
            rate: Some(10.0),
            ..spec(
                "latency-1000x10",
                format!("fixed rate, {c1k} clients x 10 msg/s"),
                Scenario::Echo,
                c1k,
                32,
            )
        },
        spec(
            "fanout-1k",
            format!("fan-out to {c1k} room members"),
            Scenario::Fanout,
            c1k,
            32,
        ),
        spec(
            "fanout-10k",
            format!("fan-out to {c10k} room members"),
            Scenario::Fanout,
            c10k,
            32,
        ),
        Spec {
            redis_nodes: 2,
            ..spec(
                "fanout-redis-2x1k",
                format!("fan-out to {c1k} room members across two nodes through Redis"),
                Scenario::Fanout,
                c1k,
                32,
            )
        },
        spec(
            "connect-10k",
            format!("connect storm, {c10k} sockets"),
            Scenario::Connect,
            c10k,
            32,
        ),
        Spec {
            metric: Metric::MemoryPerConnection,
            hold: Duration::from_secs(2),
            ..spec(
                "idle-memory-10k",
                format!("idle memory, {c10k} connections"),
                Scenario::Connect,
                c10k,
                32,
            )
        },
        Spec {
            transport: TransportKind::Polling,
            ..spec(
                "polling-echo-100",
                format!("long-polling echo, {c100} clients"),
                Scenario::Echo,
                c100,
                32,
            )
        },
        Spec {
            binary: true,
            ..spec(
                "binary-4KB",
                format!("binary echo, {c100} clients, 4 KB"),
                Scenario::Echo,
                c100,
                4096,
            )
        },
        Spec {
            binary: true,
            ..spec(
                "binary-64KB",
                format!("binary echo, {c100} clients, 64 KB"),
                Scenario::Echo,
                c100,
                65536,
            )
        },
    ]
}

struct Options {
    quick: bool,
    runs: usize,
    duration: Duration,
    warmup: Duration,
    servers: Vec<Server>,
    only: Option<Vec<String>>,
    root: PathBuf,
    out: PathBuf,
    /// Base name of the result files (default: the mode, `quick` or `full`).
    name: Option<String>,
}

fn parse_options(args: &[String]) -> Result<Options, String> {
    let root = std::env::var_os("SIO_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .ok_or("no working directory")?;
    let mut options = Options {
        quick: false,
        runs: 0,
        duration: Duration::ZERO,
        warmup: Duration::ZERO,
        servers: Server::ALL.to_vec(),
        only: None,
        out: root.join("bench/results"),
        root,
        name: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--runs" => options.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--duration" => {
                options.duration = Duration::from_secs_f64(
                    value()?.parse().map_err(|e| format!("--duration: {e}"))?,
                );
            }
            "--servers" => {
                options.servers = value()?
                    .split(',')
                    .map(|name| {
                        Server::ALL
                            .into_iter()
                            .find(|s| s.name() == name || s.name().starts_with(name))
                            .ok_or(format!("unknown server {name}"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--only" => options.only = Some(value()?.split(',').map(str::to_owned).collect()),
            "--out" => options.out = PathBuf::from(value()?),
            "--name" => options.name = Some(value()?.clone()),
            "-h" | "--help" => {
                return Err("usage: bench/run [--quick] [--runs N] [--duration S] \
                     [--servers sio,raw-ws-floor,socketioxide,node-socket.io,python-socketio] \
                     [--only SCENARIO,...] [--out DIR] [--name NAME]"
                    .into());
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    if options.runs == 0 {
        options.runs = if options.quick { 1 } else { 3 };
    }
    if options.duration.is_zero() {
        options.duration = Duration::from_secs(if options.quick { 1 } else { 5 });
    }
    options.warmup = Duration::from_millis(if options.quick { 300 } else { 1000 });
    Ok(options)
}

/// One measured run of one server.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Sample {
    pub(crate) server: Server,
    pub(crate) round: usize,
    pub(crate) ok: bool,
    pub(crate) failure: Option<String>,
    pub(crate) per_second: f64,
    pub(crate) server_us_per_op: f64,
    pub(crate) server_cpu_share: f64,
    pub(crate) server_waited_share: f64,
    /// Cluster scenarios: redis-server's CPU µs per operation (not in `server_us_per_op`).
    pub(crate) redis_us_per_op: Option<f64>,
    /// Cluster scenarios: redis-server's CPU share over the window.
    pub(crate) redis_cpu_share: Option<f64>,
    pub(crate) memory_per_connection_kb: Option<f64>,
    pub(crate) generator_share: f64,
    pub(crate) generator_bound: bool,
    pub(crate) report: Option<Report>,
}

/// Reads the server's CPU and memory (every node's, summed) and redis-server's CPU when the
/// loadgen opens and closes the window.
struct ServerWatch {
    pids: Vec<u32>,
    redis_pid: Option<u32>,
    /// CPU times of `pids` then `redis_pid`, the nodes' summed RSS.
    start: Option<(Vec<ProcessTimes>, u64)>,
    end: Option<Vec<ProcessTimes>>,
    rss_end: u64,
}

impl ServerWatch {
    fn times(&self) -> Vec<ProcessTimes> {
        self.pids
            .iter()
            .chain(&self.redis_pid)
            .map(|&pid| ProcessTimes::of(pid).unwrap_or_default())
            .collect()
    }

    fn rss(&self) -> u64 {
        self.pids
            .iter()
            .map(|&pid| rss_bytes(pid).unwrap_or(0))
            .sum()
    }

    /// Over the window: what the nodes spent together, and what redis-server spent.
    fn spent(&self) -> Option<(Spent, Option<Spent>)> {
        let (start, _) = self.start.as_ref()?;
        let end = self.end.as_ref()?;
        let mut spent = end.iter().zip(start).map(|(end, start)| end.since(start));
        let nodes = spent
            .by_ref()
            .take(self.pids.len())
            .fold(Spent::default(), |sum, one| Spent {
                cpu: sum.cpu + one.cpu,
                wait: sum.wait + one.wait,
            });
        Some((nodes, spent.next()))
    }
}

impl Observer for ServerWatch {
    fn phase(&mut self, phase: Phase, _progress: &Progress) {
        match phase {
            Phase::Measuring => self.start = Some((self.times(), self.rss())),
            Phase::Holding | Phase::Finished => {
                if self.end.is_none() {
                    self.end = Some(self.times());
                }
                if phase == Phase::Finished {
                    self.rss_end = self.rss();
                }
            }
            Phase::Connecting | Phase::WarmingUp => {}
        }
    }
}

/// A server process; killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port: {e}"))
}

/// `inner` on CPU 0 when pinned; taskset execs it, so the pid is the program's own.
fn on_cpu_0(inner: Command, pinned: bool) -> Command {
    if pinned {
        let mut c = Command::new("taskset");
        c.arg("-c")
            .arg("0")
            .arg(inner.get_program())
            .args(inner.get_args());
        c
    } else {
        inner
    }
}

fn start(
    server: Server,
    options: &Options,
    pinned: bool,
    redis: Option<&str>,
) -> Result<(Running, u16), String> {
    let port = free_port()?;
    let mut command = on_cpu_0(server.command(&options.root, port, redis)?, pinned);
    command
        .current_dir(&options.root)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server.name()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let running = Running(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Keep reading so that the server never blocks on a full pipe.
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("listening") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .map_err(|_| format!("{} did not start listening within 30 s", server.name()))?;
    // Some servers say so just before the socket accepts: wait until it does.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{} does not accept connections", server.name()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((running, port))
}

/// A fresh redis-server on a free port, nothing saved, pinned beside the nodes; once it answers
/// PING.
fn start_redis(options: &Options, pinned: bool) -> Result<(Running, u16), String> {
    let port = free_port()?;
    let mut inner = Command::new("redis-server");
    inner.args([
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
    ]);
    let child = on_cpu_0(inner, pinned)
        .current_dir(&options.root)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start redis-server (is it installed?): {e}"))?;
    let mut running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match redis_query(port, &["PING"]) {
            Ok(answer) if answer == "PONG" => return Ok((running, port)),
            Ok(answer) => return Err(format!("redis-server answered PING with {answer:?}")),
            Err(error) => {
                if let Ok(Some(status)) = running.0.try_wait() {
                    return Err(format!("redis-server on port {port} exited: {status}"));
                }
                if Instant::now() > deadline {
                    return Err(format!("redis-server on port {port}: {error}"));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

/// One command to the Redis on `port`; its answer as a string.
fn redis_query(port: u16, args: &[&str]) -> Result<String, String> {
    let client =
        redis::Client::open(format!("redis://127.0.0.1:{port}/")).map_err(|e| e.to_string())?;
    let mut connection = client
        .get_connection_with_timeout(Duration::from_secs(1))
        .map_err(|e| format!("cannot connect: {e}"))?;
    connection
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let (command, rest) = args.split_first().ok_or("no command")?;
    redis::cmd(command)
        .arg(rest)
        .query::<String>(&mut connection)
        .map_err(|e| format!("redis answered: {e}"))
}

/// Waits until `nodes` clients of the Redis on `port` have a pattern subscription (each
/// adapter's broadcast channel): before that a node would miss the others' broadcasts.
fn wait_subscribed(port: u16, nodes: usize) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let clients = redis_query(port, &["CLIENT", "LIST"])?;
        let subscribed = clients
            .lines()
            .filter(|client| {
                client.split(' ').any(|field| {
                    field
                        .strip_prefix("psub=")
                        .and_then(|n| n.parse::<u64>().ok())
                        .is_some_and(|n| n > 0)
                })
            })
            .count();
        if subscribed >= nodes {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!(
                "{subscribed} of the {nodes} nodes subscribed to Redis within 10 s"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Fan-out over several nodes: each node's receivers must have had that node's share of the
/// broadcasts (up to `window + 1` broadcasts partly delivered at the window's edges).
fn check_nodes(report: &Report, window: u64) -> Result<(), String> {
    let Some(broadcasts) = report.broadcasts else {
        return Ok(());
    };
    let wrong: Vec<String> = report
        .nodes
        .iter()
        .enumerate()
        .filter_map(|(index, node)| {
            let members = node.connected as u64;
            let expected = broadcasts * members;
            let slack = (window + 1) * members;
            (members == 0 || node.operations.abs_diff(expected) > slack).then(|| {
                format!(
                    "node {}: {} deliveries to {members} receivers, expected {broadcasts} \
                     broadcasts x {members} = {expected} (± {slack})",
                    index + 1,
                    node.operations
                )
            })
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

fn measure(server: Server, spec: &Spec, round: usize, options: &Options, pinned: bool) -> Sample {
    let failed = |failure: String| Sample {
        server,
        round,
        ok: false,
        failure: Some(failure),
        per_second: f64::NAN,
        server_us_per_op: f64::NAN,
        server_cpu_share: f64::NAN,
        server_waited_share: f64::NAN,
        redis_us_per_op: None,
        redis_cpu_share: None,
        memory_per_connection_kb: None,
        generator_share: f64::NAN,
        generator_bound: false,
        report: None,
    };
    // Dropped in reverse: the nodes are killed before their Redis.
    let redis = match (spec.redis_nodes > 0)
        .then(|| start_redis(options, pinned))
        .transpose()
    {
        Ok(redis) => redis,
        Err(message) => return failed(message),
    };
    let redis_url = redis
        .as_ref()
        .map(|(_, port)| format!("redis://127.0.0.1:{port}"));
    let mut nodes = Vec::new();
    for _ in 0..spec.redis_nodes.max(1) {
        match start(server, options, pinned, redis_url.as_deref()) {
            Ok(started) => nodes.push(started),
            Err(message) => return failed(message),
        }
    }
    if let Some((_, redis_port)) = &redis
        && let Err(message) = wait_subscribed(*redis_port, nodes.len())
    {
        return failed(message);
    }
    let mut urls = nodes
        .iter()
        .map(|(_, port)| format!("http://127.0.0.1:{port}"));
    let Some(url) = urls.next() else {
        return failed("no server started".into());
    };
    let mut config = Config::new(url);
    config.extra_urls = urls.collect();
    config.scenario = spec.scenario;
    config.protocol = if server == Server::Floor {
        Protocol::RawWebSocket
    } else {
        Protocol::SocketIo
    };
    config.transport = spec.transport;
    config.clients = spec.clients;
    config.payload_bytes = spec.payload;
    config.binary = spec.binary;
    config.rate = spec.rate;
    config.duration = options.duration;
    config.warmup = options.warmup;
    config.hold = spec.hold;
    config.threads = if pinned { 1 } else { 0 };
    config.connect_concurrency = 64;
    config.timeout = Duration::from_secs(20);
    if spec.clients >= 5000 {
        // More ephemeral ports than one source address has, and new addresses for every run:
        // the previous runs' connections sit in TIME_WAIT on theirs for a minute, and binding
        // among tens of thousands of those costs the generator more than the connects.
        static RUNS: AtomicU8 = AtomicU8::new(0);
        let run = RUNS.fetch_add(1, Ordering::Relaxed) % 200;
        config.source_addrs = (2..=9)
            .map(|last| IpAddr::V4(Ipv4Addr::new(127, 1, run, last)))
            .collect();
    }
    let mut watch = ServerWatch {
        pids: nodes.iter().map(|(running, _)| running.0.id()).collect(),
        redis_pid: redis.as_ref().map(|(running, _)| running.0.id()),
        start: None,
        end: None,
        rss_end: 0,
    };
    let report = match sio_loadgen::run(&config, &mut watch) {
        Ok(report) => report,
        Err(error) => return failed(error.to_string()),
    };
    drop(nodes);
    drop(redis);
    let (Some((spent, redis_spent)), Some((_, rss_start))) = (watch.spent(), &watch.start) else {
        return failed("the measured window never opened".into());
    };
    // /proc counts CPU time in clock ticks (10 ms): below a few ticks the figure is noise.
    let known = |cpu: f64| cpu >= 5.0 / sio_loadgen::process::clock_ticks();
    let operations = report.operations as f64;
    let memory = (spec.metric == Metric::MemoryPerConnection && report.connected > 0).then(|| {
        (watch.rss_end.saturating_sub(*rss_start)) as f64 / report.connected as f64 / 1024.0
    });
    let nodes_checked = check_nodes(&report, config.fanout_window);
    let ok = report.errors == 0 && report.operations > 0 && nodes_checked.is_ok();
    Sample {
        server,
        round,
        ok,
        failure: (!ok).then(|| {
            format!(
                "{} errors, {} operations: {}",
                report.errors,
                report.operations,
                report
                    .error_samples
                    .iter()
                    .cloned()
                    .chain(nodes_checked.err())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }),
        per_second: report.per_second,
        server_us_per_op: if operations > 0.0 && known(spent.cpu) {
            spent.cpu * 1e6 / operations
        } else {
            f64::NAN
        },
        server_cpu_share: spent.cpu / report.seconds.max(1e-9),
        server_waited_share: spent.wait / report.seconds.max(1e-9),
        redis_us_per_op: redis_spent.map(|redis| {
            if operations > 0.0 && known(redis.cpu) {
                redis.cpu * 1e6 / operations
            } else {
                f64::NAN
            }
        }),
        redis_cpu_share: redis_spent.map(|redis| redis.cpu / report.seconds.max(1e-9)),
        memory_per_connection_kb: memory,
        generator_share: report.generator_cpu.share_of_threads,
        generator_bound: report.generator_saturated(),
        report: Some(report),
    }
}

/// Everything a harness run produced.
#[derive(Debug, Serialize)]
pub(crate) struct Results {
    pub(crate) mode: &'static str,
    pub(crate) started: String,
    pub(crate) machine: Machine,
    pub(crate) runs: usize,
    pub(crate) duration_secs: f64,
    pub(crate) warmup_secs: f64,
    pub(crate) pinned: bool,
    pub(crate) servers: Vec<Server>,
    pub(crate) scenarios: Vec<Spec>,
    pub(crate) samples: Vec<(String, Sample)>,
    pub(crate) loadavg_start: Option<[f64; 3]>,
    pub(crate) loadavg_end: Option<[f64; 3]>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Machine {
    pub(crate) cpus: usize,
    pub(crate) cpu_model: String,
    pub(crate) kernel: String,
    pub(crate) memory: String,
}

fn machine() -> Machine {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let shell = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>().join(" "))
        })
        .unwrap_or_default();
    Machine {
        // All the machine's CPUs, not the one this process is pinned to.
        cpus: std::fs::read_to_string("/proc/cpuinfo")
            .map(|t| t.lines().filter(|l| l.starts_with("processor")).count())
            .unwrap_or(0),
        cpu_model,
        kernel: shell("uname", &["-sr"]),
        memory,
    }
}

fn harness(args: &[String]) -> Result<(), String> {
    let options = parse_options(args)?;
    let all = specs(options.quick);
    let specs: Vec<Spec> = match &options.only {
        None => all,
        Some(only) => all.into_iter().filter(|s| only.contains(&s.id)).collect(),
    };
    if specs.is_empty() {
        return Err("no scenario selected (see --only)".into());
    }
    // bench/run starts this process on CPU 1; the servers go to CPU 0.
    let machine_cpus =
        std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    let on_cpu_1 = std::thread::available_parallelism().map_or(0, |n| n.get()) == 1;
    let pinned = on_cpu_1
        && machine_cpus.trim() != "0"
        && Command::new("taskset").arg("-V").output().is_ok();
    if !pinned {
        eprintln!(
            "sio-bench: not pinned (start it as `taskset -c 1 …`, as bench/run does): server and \
             generator share the CPUs, figures are less steady"
        );
    }
    if cfg!(debug_assertions) {
        eprintln!("sio-bench: this is a debug build; bench/run builds --release");
    }
    let started = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default();
    let loadavg_start = sio_loadgen::process::loadavg();
    let mut samples = Vec::new();
    let total = options.runs * specs.len() * options.servers.len();
    let mut done = 0;
    for round in 0..options.runs {
        for spec in &specs {
            // A/B interleaving: every round starts with the next server.
            let count = options.servers.len();
            for k in 0..count {
                let Some(&server) = options.servers.get((k + round) % count) else {
                    continue;
                };
                done += 1;
                if !server.supports(spec) {
                    continue;
                }
                let sample = measure(server, spec, round, &options, pinned);
                eprintln!(
                    "[{done}/{total}] round {} {} {}: {}",
                    round + 1,
                    spec.id,
                    server.name(),
                    describe(&sample)
                );
                samples.push((spec.id.clone(), sample));
            }
        }
    }
    let results = Results {
        mode: if options.quick { "quick" } else { "full" },
        started,
        machine: machine(),
        runs: options.runs,
        duration_secs: options.duration.as_secs_f64(),
        warmup_secs: options.warmup.as_secs_f64(),
        pinned,
        servers: options.servers.clone(),
        scenarios: specs,
        samples,
        loadavg_start,
        loadavg_end: sio_loadgen::process::loadavg(),
    };
    let name = options.name.as_deref().unwrap_or(results.mode);
    let written = output::write(&results, &options.out, name)?;
    for path in written {
        eprintln!("wrote {}", path.display());
    }
    let failures = results.samples.iter().filter(|(_, s)| !s.ok).count();
    if failures > 0 {
        return Err(format!("{failures} run(s) failed; see the tables"));
    }
    Ok(())
}

fn describe(sample: &Sample) -> String {
    match (&sample.failure, sample.memory_per_connection_kb) {
        (Some(failure), _) => format!("FAILED: {failure}"),
        (None, Some(kb)) => format!("{kb:.1} KB per connection"),
        (None, None) => format!(
            "{:.0}/s, server {:.2} µs/op ({:.0}% CPU){}, generator {:.0}%{}",
            sample.per_second,
            sample.server_us_per_op,
            sample.server_cpu_share * 100.0,
            match (sample.redis_us_per_op, sample.redis_cpu_share) {
                (Some(us), Some(share)) => format!(
                    " over its nodes, redis-server {} µs/op ({:.0}% CPU)",
                    if us.is_finite() {
                        format!("{us:.2}")
                    } else {
                        "–".into()
                    },
                    share * 100.0
                ),
                _ => String::new(),
            },
            sample.generator_share * 100.0,
            if sample.generator_bound {
                " (generator-bound)"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use sio_loadgen::{GeneratorCpu, Latency, NodeCount};

    fn report(broadcasts: u64, nodes: &[(usize, u64)]) -> Report {
        Report {
            scenario: Scenario::Fanout,
            protocol: Protocol::SocketIo,
            transport: TransportKind::WebSocket,
            url: "http://127.0.0.1:1".into(),
            nodes: nodes
                .iter()
                .enumerate()
                .map(|(i, &(connected, operations))| NodeCount {
                    url: format!("http://127.0.0.1:{}", i + 1),
                    connected,
                    operations,
                })
                .collect(),
            clients: nodes.iter().map(|n| n.0).sum(),
            connected: nodes.iter().map(|n| n.0).sum(),
            threads: 1,
            payload_bytes: 32,
            binary: false,
            rate: None,
            unit: "deliveries",
            seconds: 1.0,
            operations: nodes.iter().map(|n| n.1).sum(),
            per_second: 0.0,
            broadcasts: Some(broadcasts),
            latency: Latency::default(),
            generator_cpu: GeneratorCpu::default(),
            errors: 0,
            error_samples: Vec::new(),
            loadavg: None,
        }
    }

    #[test]
    fn every_node_must_deliver_its_share() {
        // 100 broadcasts to 500 + 500 receivers, one in flight at each edge.
        assert!(check_nodes(&report(100, &[(500, 50_000), (500, 49_600)]), 1).is_ok());
        assert!(check_nodes(&report(100, &[(500, 50_900), (500, 49_100)]), 1).is_ok());
        // The second node's receivers got nothing: the first cannot make up for them.
        let error = check_nodes(&report(100, &[(500, 100_000), (500, 0)]), 1).unwrap_err();
        assert!(
            error.contains("node 1:") && error.contains("node 2:"),
            "{error}"
        );
        // A node without receivers is a failure of the split.
        assert!(check_nodes(&report(100, &[(1000, 100_000), (0, 0)]), 1).is_err());
        // One node (no extra URLs): nothing to check.
        assert!(check_nodes(&report(100, &[]), 1).is_ok());
    }

    #[test]
    fn only_sio_and_node_run_the_redis_scenario() {
        let redis = specs(true)
            .into_iter()
            .find(|s| s.id == "fanout-redis-2x1k")
            .unwrap();
        assert_eq!(redis.redis_nodes, 2);
        assert_eq!(redis.scenario, Scenario::Fanout);
        let runs: Vec<&str> = Server::ALL
            .into_iter()
            .filter(|s| s.supports(&redis))
            .map(Server::name)
            .collect();
        assert_eq!(runs, ["sio", "node-socket.io"]);
        let plain = specs(true)
            .into_iter()
            .find(|s| s.id == "fanout-1k")
            .unwrap();
        assert_eq!(plain.redis_nodes, 0);
        assert_eq!(
            Server::ALL
                .into_iter()
                .filter(|s| s.supports(&plain))
                .count(),
            5
        );
    }
}
