//! Engine.IO message throughput, over WebSocket and over long-polling, against a raw WebSocket
//! echo server as the floor.
//!
//! ```text
//! cargo build --release -p sio-examples --example engine_bench
//! target/release/examples/engine_bench --clients 100 --duration 5
//! ```
//!
//! Options: `--clients N` (100), `--duration S` seconds measured per run (5), `--warmup S`
//! seconds before measuring (1), `--runs R` (3), `--only raw,ws,polling` (all three),
//! `--no-pin`.
//!
//! Each run starts two child processes of this same program: a server (`engine_bench serve
//! raw|engine`) and a load generator (`engine_bench load …`), pinned with `taskset` to CPU 0
//! and CPU 1 when there are two CPUs and `taskset` exists, so that they do not steal each
//! other's time. Every client is an echo loop: send a 32-byte text message, wait for the echo,
//! repeat. A "message" below is one such round trip: one message in and one out of the
//! server.
//!
//! - **raw WS floor**: tokio-tungstenite echo server, 4 KiB read buffer, TCP_NODELAY, no
//!   write buffering: the least a WebSocket server on this stack can do per message.
//! - **Engine.IO WebSocket**: `sio_engineio` with an echo handler (the `engine_echo`
//!   example), clients on `?EIO=4&transport=websocket`, frames `4<payload>`.
//! - **Engine.IO polling**: the same server; each client keeps a GET pending on one
//!   keep-alive connection and POSTs its message on another, as engine.io-client does.
//!
//! Throughput is counted by the generator over the measured window. CPU times come from
//! `/proc/<pid>/stat` (utime + stime, all threads) of each child, read when the window opens
//! and closes: server µs per message = server CPU time / messages. The generator's own CPU is
//! shown too: when the server's core is not saturated, the generator is the limit. Each figure
//! is the median of the runs (computed per column).

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, ExitCode, Stdio},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, client::conn::http1::SendRequest, header};
use hyper_util::rt::TokioIo;
use sio_engineio::{
    CloseReason, Data, Engine, EngineConfig, EngineHandler, EngineService, Message, Socket,
};
use sio_loadgen::process::ProcessTimes;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::{
    WebSocketStream,
    tungstenite::{Message as WsMessage, Utf8Bytes, protocol::WebSocketConfig},
};

/// The 32 bytes every client sends.
const PAYLOAD: &str = "abcdefghijklmnopqrstuvwxyz012345";
/// The same as an Engine.IO message packet.
const EIO_MESSAGE: &str = "4abcdefghijklmnopqrstuvwxyz012345";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1).peekable();
    let result = match args.peek().map(String::as_str) {
        Some("serve") => {
            args.next();
            serve_main(args.next().as_deref())
        }
        Some("load") => {
            args.next();
            load_main(args.collect())
        }
        _ => bench_main(args.collect()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("engine_bench: {error}");
            ExitCode::FAILURE
        }
    }
}

/// One worker thread per CPU this process may run on: one when pinned.
fn runtime() -> Result<tokio::runtime::Runtime, String> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start tokio: {e}"))
}

// ---------------------------------------------------------------------------------------------
// The servers.

fn serve_main(kind: Option<&str>) -> Result<(), String> {
    let kind = kind.unwrap_or_default().to_owned();
    runtime()?.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        println!("listening {addr}");
        match kind.as_str() {
            "raw" => serve_raw(listener).await,
            "engine" => {
                let engine = Engine::new(EngineConfig::default(), Echo);
                sio_engineio::serve(listener, EngineService::new(engine), std::future::pending())
                    .await
                    .map_err(|e| e.to_string())
            }
            other => Err(format!("unknown server {other:?}: raw or engine")),
        }
    })
}

/// The floor: a WebSocket echo server with nothing on top.
async fn serve_raw(listener: TcpListener) -> Result<(), String> {
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let config = WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let Ok(mut ws) =
                tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            // tungstenite answers pings itself; data frames are echoed as they are.
            while let Some(Ok(message)) = ws.next().await {
                if message.is_close() {
                    return;
                }
                if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The `engine_echo` example's handler.
struct Echo;

impl EngineHandler for Echo {
    type Data = ();

    fn on_open(&self, _socket: Arc<Socket<()>>) {}

    fn on_message(&self, socket: &Arc<Socket<()>>, data: Data<'_>) {
        match data {
            Data::Text(text) => socket.send(Message::text(&text)),
            Data::Binary(bytes) => socket.send(Message::binary(bytes.into_owned())),
        }
    }

    fn on_close(&self, _socket: &Arc<Socket<()>>, _reason: CloseReason) {}
}

// ---------------------------------------------------------------------------------------------
// The load generator: `load <raw|ws|polling> <addr> <clients> <warmup s> <duration s>`.
// Prints `measure` when the window opens and `result <messages> <seconds> <errors>` when it
// closes, then exits.

fn load_main(args: Vec<String>) -> Result<(), String> {
    let [scenario, addr, clients, warmup, duration] = args.as_slice() else {
        return Err("usage: load <raw|ws|polling> <addr> <clients> <warmup> <duration>".into());
    };
    let scenario = Scenario::parse(scenario).ok_or("unknown scenario")?;
    let addr: SocketAddr = addr.parse().map_err(|e| format!("address: {e}"))?;
    let clients: usize = clients.parse().map_err(|e| format!("clients: {e}"))?;
    let warmup = seconds(warmup)?;
    let duration = seconds(duration)?;
    runtime()?.block_on(async move {
        let echoes = Arc::new(AtomicU64::new(0));
        let errors = Arc::new(AtomicU64::new(0));
        // Every client connects before anything is measured.
        let connecting = (0..clients).map(|_| Client::connect(scenario, addr));
        let connected = futures_util::future::try_join_all(connecting).await?;
        for client in connected {
            let echoes = echoes.clone();
            let errors = errors.clone();
            tokio::spawn(async move {
                if let Err(error) = client.run(&echoes).await
                    && errors.fetch_add(1, Ordering::Relaxed) == 0
                {
                    eprintln!("engine_bench load: a client failed: {error}");
                }
            });
        }
        tokio::time::sleep(warmup).await;
        let start_count = echoes.load(Ordering::Relaxed);
        let start = Instant::now();
        println!("measure");
        tokio::time::sleep(duration).await;
        let messages = echoes.load(Ordering::Relaxed) - start_count;
        let elapsed = start.elapsed().as_secs_f64();
        println!(
            "result {messages} {elapsed} {}",
            errors.load(Ordering::Relaxed)
        );
        Ok::<(), String>(())
    })?;
    // The clients are still looping: leave without waiting for them.
    std::process::exit(0)
}

fn seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("not a number of seconds: {text}"))
}

type Ws = WebSocketStream<TcpStream>;
type Http = SendRequest<Full<Bytes>>;

/// A connected client, ready to loop.
enum Client {
    RawWs(Ws),
    EngineWs(Ws),
    EnginePolling { get: Http, post: Http, uri: String },
}

impl Client {
    async fn connect(scenario: Scenario, addr: SocketAddr) -> Result<Client, String> {
        match scenario {
            Scenario::RawWs => Ok(Client::RawWs(ws_connect(addr, "/").await?)),
            Scenario::EngineWs => {
                let mut ws = ws_connect(addr, "/engine.io/?EIO=4&transport=websocket").await?;
                // The open packet comes first.
                match ws.next().await {
                    Some(Ok(WsMessage::Text(open))) if open.starts_with('0') => {}
                    other => return Err(format!("no open packet: {other:?}")),
                }
                Ok(Client::EngineWs(ws))
            }
            Scenario::EnginePolling => {
                let mut get = http_connect(addr).await?;
                let post = http_connect(addr).await?;
                let open = request(
                    &mut get,
                    Method::GET,
                    "/engine.io/?EIO=4&transport=polling",
                    "",
                )
                .await?;
                let handshake: serde_json::Value = open
                    .strip_prefix(b"0")
                    .and_then(|json| serde_json::from_slice(json).ok())
                    .ok_or("no open packet")?;
                let sid = handshake
                    .get("sid")
                    .and_then(serde_json::Value::as_str)
                    .ok_or("no sid")?;
                Ok(Client::EnginePolling {
                    get,
                    post,
                    uri: format!("/engine.io/?EIO=4&transport=polling&sid={sid}"),
                })
            }
        }
    }

    /// Echo loop: one message out, wait for it to come back, count it.
    async fn run(self, echoes: &AtomicU64) -> Result<(), String> {
        match self {
            Client::RawWs(mut ws) => loop {
                ws.send(WsMessage::Text(Utf8Bytes::from_static(PAYLOAD)))
                    .await
                    .map_err(|e| e.to_string())?;
                match ws.next().await {
                    Some(Ok(WsMessage::Text(_))) => {
                        echoes.fetch_add(1, Ordering::Relaxed);
                    }
                    other => return Err(format!("unexpected {other:?}")),
                }
            },
            Client::EngineWs(mut ws) => loop {
                ws.send(WsMessage::Text(Utf8Bytes::from_static(EIO_MESSAGE)))
                    .await
                    .map_err(|e| e.to_string())?;
                loop {
                    match ws.next().await {
                        Some(Ok(WsMessage::Text(text))) if text.starts_with('4') => {
                            echoes.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                        // A heartbeat (every 25 s by default) wants a pong.
                        Some(Ok(WsMessage::Text(text))) if text.as_str() == "2" => {
                            ws.send(WsMessage::Text(Utf8Bytes::from_static("3")))
                                .await
                                .map_err(|e| e.to_string())?;
                        }
                        other => return Err(format!("unexpected {other:?}")),
                    }
                }
            },
            Client::EnginePolling {
                mut get,
                mut post,
                uri,
            } => loop {
                // The GET waits on one connection while the POST goes on the other; the
                // echo answers the GET.
                let (posted, polled) = tokio::join!(
                    request(&mut post, Method::POST, &uri, EIO_MESSAGE),
                    request(&mut get, Method::GET, &uri, ""),
                );
                posted?;
                let mut payload = polled?;
                loop {
                    let (messages, pings) = count_packets(&payload)?;
                    for _ in 0..pings {
                        request(&mut post, Method::POST, &uri, "3").await?;
                    }
                    if messages > 0 {
                        echoes.fetch_add(messages, Ordering::Relaxed);
                        break;
                    }
                    payload = request(&mut get, Method::GET, &uri, "").await?;
                }
            },
        }
    }
}

/// Messages and pings in a polling payload (packets separated by 0x1e).
fn count_packets(payload: &[u8]) -> Result<(u64, usize), String> {
    let mut messages = 0;
    let mut pings = 0;
    for packet in payload.split(|&b| b == 0x1e) {
        match packet.first() {
            Some(b'4') => messages += 1,
            Some(b'2') => pings += 1,
            Some(b'6') | None => {}
            Some(_) => {
                return Err(format!(
                    "unexpected packet {:?}",
                    String::from_utf8_lossy(packet)
                ));
            }
        }
    }
    Ok((messages, pings))
}

async fn tcp_connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

async fn ws_connect(addr: SocketAddr, path: &str) -> Result<Ws, String> {
    let stream = tcp_connect(addr).await?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(
        format!("ws://{addr}{path}"),
        stream,
        Some(config),
    )
    .await
    .map_err(|e| format!("websocket handshake: {e}"))?;
    Ok(ws)
}

async fn http_connect(addr: SocketAddr) -> Result<Http, String> {
    let stream = tcp_connect(addr).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("http handshake: {e}"))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn request(
    sender: &mut Http,
    method: Method,
    uri: &str,
    body: &'static str,
) -> Result<Bytes, String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "127.0.0.1")
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()));
    }
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?;
    Ok(body.to_bytes())
}

// ---------------------------------------------------------------------------------------------
// The benchmark: runs the children, reads their CPU times, prints the table.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    RawWs,
    EngineWs,
    EnginePolling,
}

impl Scenario {
    const ALL: [Scenario; 3] = [Scenario::RawWs, Scenario::EngineWs, Scenario::EnginePolling];

    fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|s| s.arg() == name)
    }

    fn arg(self) -> &'static str {
        match self {
            Scenario::RawWs => "raw",
            Scenario::EngineWs => "ws",
            Scenario::EnginePolling => "polling",
        }
    }

    fn server(self) -> &'static str {
        match self {
            Scenario::RawWs => "raw",
            Scenario::EngineWs | Scenario::EnginePolling => "engine",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Scenario::RawWs => "raw WebSocket echo (floor)",
            Scenario::EngineWs => "Engine.IO, WebSocket",
            Scenario::EnginePolling => "Engine.IO, long-polling",
        }
    }
}

struct Options {
    clients: usize,
    duration: String,
    warmup: String,
    runs: usize,
    scenarios: Vec<Scenario>,
    pin: bool,
}

fn parse_options(args: Vec<String>) -> Result<Options, String> {
    let mut options = Options {
        clients: 100,
        duration: "5".into(),
        warmup: "1".into(),
        runs: 3,
        scenarios: Scenario::ALL.to_vec(),
        pin: true,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--clients" => {
                options.clients = value()?.parse().map_err(|e| format!("--clients: {e}"))?;
            }
            "--duration" => options.duration = value()?,
            "--warmup" => options.warmup = value()?,
            "--runs" => options.runs = value()?.parse().map_err(|e| format!("--runs: {e}"))?,
            "--only" => {
                options.scenarios = value()?
                    .split(',')
                    .map(|name| Scenario::parse(name).ok_or(format!("unknown scenario {name}")))
                    .collect::<Result<_, _>>()?;
            }
            "--no-pin" => options.pin = false,
            "-h" | "--help" => {
                return Err(
                    "usage: engine_bench [--clients N] [--duration S] [--warmup S] \
                            [--runs R] [--only raw,ws,polling] [--no-pin]"
                        .into(),
                );
            }
            other => return Err(format!("unknown argument {other} (try --help)")),
        }
    }
    seconds(&options.duration)?;
    seconds(&options.warmup)?;
    if options.runs == 0 || options.clients == 0 {
        return Err("--runs and --clients must be at least 1".into());
    }
    Ok(options)
}

/// One measured run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    messages_per_sec: f64,
    server_us_per_message: f64,
    server_cpu_share: f64,
    server_wait_share: f64,
    generator_us_per_message: f64,
    generator_cpu_share: f64,
    generator_wait_share: f64,
}

fn bench_main(args: Vec<String>) -> Result<(), String> {
    let options = parse_options(args)?;
    if cfg!(debug_assertions) {
        eprintln!("engine_bench: this is a debug build; build with --release for real figures");
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = options.pin && cpus >= 2 && Command::new("taskset").arg("-V").output().is_ok();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    eprintln!(
        "{} clients, {} s warm-up + {} s measured, {} runs, {} CPUs, {}; load average at start: {}",
        options.clients,
        options.warmup,
        options.duration,
        options.runs,
        cpus,
        if pinned {
            "server on CPU 0, generator on CPU 1"
        } else {
            "not pinned"
        },
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );

    let mut rows = Vec::new();
    for scenario in &options.scenarios {
        let mut samples = Vec::new();
        for run in 1..=options.runs {
            let sample = measure(&exe, *scenario, &options, pinned)?;
            eprintln!(
                "{} run {run}/{}: {:.0} msgs/s; server {:.2} µs/msg, {:.0}% CPU, waited {:.0}%; \
                 generator {:.2} µs/msg, {:.0}% CPU, waited {:.0}%",
                scenario.label(),
                options.runs,
                sample.messages_per_sec,
                sample.server_us_per_message,
                sample.server_cpu_share * 100.0,
                sample.server_wait_share * 100.0,
                sample.generator_us_per_message,
                sample.generator_cpu_share * 100.0,
                sample.generator_wait_share * 100.0,
            );
            samples.push(sample);
        }
        rows.push((*scenario, samples));
    }

    println!(
        "| server | messages/s | server CPU µs/msg | server CPU | server waited | \
         generator CPU µs/msg | generator CPU | generator waited | messages/s of each run |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for (scenario, samples) in &rows {
        let runs: Vec<String> = samples
            .iter()
            .map(|s| format!("{:.0}", s.messages_per_sec))
            .collect();
        println!(
            "| {} | {:.0} | {:.2} | {:.0}% | {:.0}% | {:.2} | {:.0}% | {:.0}% | {} |",
            scenario.label(),
            median(samples, |s| s.messages_per_sec),
            median(samples, |s| s.server_us_per_message),
            median(samples, |s| s.server_cpu_share) * 100.0,
            median(samples, |s| s.server_wait_share) * 100.0,
            median(samples, |s| s.generator_us_per_message),
            median(samples, |s| s.generator_cpu_share) * 100.0,
            median(samples, |s| s.generator_wait_share) * 100.0,
            runs.join(", "),
        );
    }
    println!(
        "\n{} clients, 32-byte messages, {} s measured after {} s of warm-up, median of {} runs \
         (per column); {}. A message is one echo round trip. CPU: utime + stime of the child \
         process (100% = one core); waited: time its threads were runnable but had no CPU \
         (/proc/<pid>/task/*/schedstat), i.e. how much other work on the machine got in the way. \
         Load average at start: {}.",
        options.clients,
        options.duration,
        options.warmup,
        options.runs,
        if pinned {
            "server pinned to CPU 0 and generator to CPU 1 with taskset"
        } else {
            "processes not pinned"
        },
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    Ok(())
}

/// A child process that is killed if we leave early.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(
    exe: &std::path::Path,
    cpu: Option<usize>,
    args: &[&str],
) -> Result<(Guard, BufReader<std::process::ChildStdout>), String> {
    let mut command = match cpu {
        Some(cpu) => {
            // taskset execs the program: the pid we get is the program's.
            let mut command = Command::new("taskset");
            command.arg("-c").arg(cpu.to_string()).arg(exe);
            command
        }
        None => Command::new(exe),
    };
    let mut child = command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    Ok((Guard(child), BufReader::new(stdout)))
}

fn read_line(reader: &mut BufReader<std::process::ChildStdout>) -> Result<String, String> {
    let mut line = String::new();
    match reader.read_line(&mut line) {
        Ok(0) => Err("a child process exited early".into()),
        Ok(_) => Ok(line.trim_end().to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

fn measure(
    exe: &std::path::Path,
    scenario: Scenario,
    options: &Options,
    pinned: bool,
) -> Result<Sample, String> {
    let (server, mut server_out) = spawn(exe, pinned.then_some(0), &["serve", scenario.server()])?;
    let listening = read_line(&mut server_out)?;
    let addr = listening
        .strip_prefix("listening ")
        .ok_or(format!("unexpected server output: {listening}"))?
        .to_owned();
    let clients = options.clients.to_string();
    let (generator, mut generator_out) = spawn(
        exe,
        pinned.then_some(1),
        &[
            "load",
            scenario.arg(),
            &addr,
            &clients,
            &options.warmup,
            &options.duration,
        ],
    )?;
    let server_pid = server.0.id();
    let generator_pid = generator.0.id();

    let line = read_line(&mut generator_out)?;
    if line != "measure" {
        return Err(format!("unexpected generator output: {line}"));
    }
    let server_start = times(server_pid)?;
    let generator_start = times(generator_pid)?;
    let line = read_line(&mut generator_out)?;
    let server_times = times(server_pid)?.since(&server_start);
    let generator_times = times(generator_pid)?.since(&generator_start);

    let mut fields = line.split_whitespace();
    let (Some("result"), Some(messages), Some(elapsed), Some(errors)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(format!("unexpected generator output: {line}"));
    };
    let messages: f64 = messages.parse().map_err(|_| "bad message count")?;
    let elapsed: f64 = elapsed.parse().map_err(|_| "bad elapsed time")?;
    if errors != "0" {
        return Err(format!("{errors} clients failed during the run"));
    }
    if messages < 1.0 || elapsed <= 0.0 {
        return Err("no message went through".into());
    }
    drop(generator);
    drop(server);
    Ok(Sample {
        messages_per_sec: messages / elapsed,
        server_us_per_message: server_times.cpu * 1e6 / messages,
        server_cpu_share: server_times.cpu / elapsed,
        server_wait_share: server_times.wait / elapsed,
        generator_us_per_message: generator_times.cpu * 1e6 / messages,
        generator_cpu_share: generator_times.cpu / elapsed,
        generator_wait_share: generator_times.wait / elapsed,
    })
}

/// CPU and run-queue wait of a child so far (`/proc/<pid>/stat` and `schedstat`).
fn times(pid: u32) -> Result<ProcessTimes, String> {
    ProcessTimes::of(pid).map_err(|e| format!("/proc/{pid}: {e}"))
}

fn median(samples: &[Sample], field: impl Fn(&Sample) -> f64) -> f64 {
    let mut values: Vec<f64> = samples.iter().map(field).collect();
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match (values.get(middle.wrapping_sub(1)), values.get(middle)) {
        (Some(low), Some(high)) if values.len().is_multiple_of(2) => (low + high) / 2.0,
        (_, Some(value)) => *value,
        _ => f64::NAN,
    }
}
