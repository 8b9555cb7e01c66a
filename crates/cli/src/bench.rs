//! `sio bench`: load a Socket.IO server with the `sio-loadgen` generator and report rate,
//! latency and the generator's own CPU.

use std::io::IsTerminal;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sio_loadgen::{Config, Observer, Phase, Progress, Protocol, Report, Scenario, TransportKind};

pub(crate) const EXAMPLES: &str = "\
Scenarios (the server follows the benchmark contract: every socket joins room `room`; `echo`
acks with its arguments; `fan` broadcasts `f` with its arguments to `room`. `sio serve` does
`echo`; examples/bench_server does all three):
  echo     each client emits `echo` with the payload and waits for the ack (closed loop),
           or sends --rate messages per second (latency at a fixed load)
  fanout   one more client emits `fan`; every client counts its `f` deliveries
  connect  connect storm: Engine.IO handshake + namespace CONNECT for every client

The generator's own CPU is reported: above ~85% of its threads the rate is the generator's
limit, not the server's. Run it on other cores than the server (taskset -c 1 sio bench …).

Exit status: 0 run without errors, 1 the run could not be made (no connection, or a server that
does not follow the contract: nothing measured), 3 the run had errors.

Examples:
  sio bench http://127.0.0.1:3000 --scenario echo --clients 100 --duration 10
  sio bench http://127.0.0.1:3000 --scenario echo --clients 1000 --rate 10
  sio bench http://127.0.0.1:3000 --scenario echo --payload 65536 --binary
  sio bench http://127.0.0.1:3000 --scenario echo --transport polling
  sio bench http://127.0.0.1:3000 --scenario fanout --clients 1000
  sio bench http://127.0.0.1:3000 --scenario connect --clients 10000 --json > connect.json";

/// Options of `sio bench`.
#[derive(Debug, clap::Args)]
pub(crate) struct BenchArgs {
    /// Server URL; its path is the namespace (http://127.0.0.1:3000/admin).
    url: String,
    /// What to run.
    #[arg(long, short, value_enum, default_value_t = ScenarioArg::Echo)]
    scenario: ScenarioArg,
    /// Number of clients (fan-out: receivers; the sender is one more).
    #[arg(long, short, default_value_t = 100)]
    clients: usize,
    /// Seconds measured (echo, fan-out).
    #[arg(long, short, default_value_t = 5.0, value_name = "S")]
    duration: f64,
    /// Seconds of load before measuring (echo, fan-out).
    #[arg(long, default_value_t = 1.0, value_name = "S")]
    warmup: f64,
    /// Payload size in bytes.
    #[arg(long, short, default_value_t = 32, value_name = "BYTES")]
    payload: usize,
    /// Send the payload as a binary attachment.
    #[arg(long)]
    binary: bool,
    /// Echo: messages per second per client; fan-out: broadcasts per second (default: closed loop).
    #[arg(long, value_name = "PER_SECOND")]
    rate: Option<f64>,
    /// Transport.
    #[arg(long, value_enum, default_value_t = TransportArg::Websocket)]
    transport: TransportArg,
    /// Speak bare WebSocket frames instead of Socket.IO (for a raw WebSocket floor server).
    #[arg(long)]
    raw: bool,
    /// Generator threads, one runtime each (default: one per CPU).
    #[arg(long)]
    threads: Option<usize>,
    /// Socket.IO path.
    #[arg(long, default_value = "/socket.io/")]
    path: String,
    /// Connections set up at once.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Connect: seconds to hold the connections open once all are set up.
    #[arg(long, default_value_t = 0.0, value_name = "S")]
    hold: f64,
    /// Local addresses to connect from, in turn (more ephemeral ports: 127.0.0.2,127.0.0.3).
    #[arg(long, value_delimiter = ',', value_name = "IP,...")]
    source: Vec<IpAddr>,
    /// Seconds a connection or an answer may take before it counts as an error.
    #[arg(long, default_value_t = 10.0, value_name = "S")]
    timeout: f64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ScenarioArg {
    Echo,
    Fanout,
    Connect,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum TransportArg {
    Websocket,
    Polling,
}

fn seconds(value: f64, option: &str) -> Result<Duration, String> {
    Duration::try_from_secs_f64(value)
        .map_err(|_| format!("--{option} must be a number of seconds, 0 or more"))
}

fn config(args: &BenchArgs) -> Result<Config, String> {
    let mut config = Config::new(args.url.clone());
    config.path.clone_from(&args.path);
    config.scenario = match args.scenario {
        ScenarioArg::Echo => Scenario::Echo,
        ScenarioArg::Fanout => Scenario::Fanout,
        ScenarioArg::Connect => Scenario::Connect,
    };
    config.transport = match args.transport {
        TransportArg::Websocket => TransportKind::WebSocket,
        TransportArg::Polling => TransportKind::Polling,
    };
    if args.raw {
        config.protocol = Protocol::RawWebSocket;
    }
    config.clients = args.clients;
    config.threads = args.threads.unwrap_or(0);
    config.duration = seconds(args.duration, "duration")?;
    config.warmup = seconds(args.warmup, "warmup")?;
    config.hold = seconds(args.hold, "hold")?;
    config.timeout = seconds(args.timeout, "timeout")?;
    config.payload_bytes = args.payload;
    config.binary = args.binary;
    config.rate = args.rate;
    config.connect_concurrency = args.concurrency.max(1);
    config.source_addrs.clone_from(&args.source);
    Ok(config)
}

pub(crate) fn run(args: BenchArgs) -> ExitCode {
    let config = match config(&args) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("sio bench: {message}");
            return ExitCode::FAILURE;
        }
    };
    let mut bar = Bar::new(std::io::stderr().is_terminal());
    let report = match sio_loadgen::run(&config, &mut bar) {
        Ok(report) => report,
        Err(error) => {
            bar.bar.finish_and_clear();
            eprintln!("sio bench: {error}");
            if matches!(error, sio_loadgen::Error::NoConnection { .. }) {
                eprintln!(
                    "  is the server running? try: sio serve --port <PORT>, or check the URL and --path"
                );
            }
            return ExitCode::FAILURE;
        }
    };
    bar.bar.finish_and_clear();
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(json) => println!("{json}"),
            Err(error) => {
                eprintln!("sio bench: cannot write the report: {error}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        print!("{}", readable(&report, &config));
    }
    if report.generator_saturated() {
        eprintln!(
            "warning: the generator used {:.0}% of its {} thread(s): it may be the bottleneck, \
             not the server; give it more cores (--threads) or fewer clients",
            report.generator_cpu.share_of_threads * 100.0,
            report.threads
        );
    }
    if let Some(message) = contract_broken(&report) {
        eprintln!("sio bench: {message}");
        return ExitCode::FAILURE;
    }
    if report.errors > 0 {
        eprintln!(
            "sio bench: {} error(s); first: {}",
            report.errors,
            report.error_samples.join("; ")
        );
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

/// Why a run measured nothing although clients connected: the server does not do what the
/// scenario needs (the benchmark contract), so the figures would be meaningless.
fn contract_broken(report: &Report) -> Option<String> {
    if report.connected == 0 || report.operations > 0 {
        return None;
    }
    let missing = match report.scenario {
        Scenario::Fanout => {
            "no client received an `f` broadcast: the server does not follow the benchmark \
             contract for fan-out (every socket joins room `room`; `fan` broadcasts `f` with its \
             arguments to `room`)"
        }
        Scenario::Echo => {
            "no `echo` was answered: the server does not follow the benchmark contract for echo \
             (`echo` acknowledged with its arguments)"
        }
        Scenario::Connect => return None,
    };
    Some(format!(
        "{missing}\n  run a server that does: target/release/examples/bench_server --port N \
         (cargo build --release -p sio-examples --example bench_server)"
    ))
}

/// The report for people.
fn readable(report: &Report, config: &Config) -> String {
    let what = match (report.protocol, report.transport) {
        (Protocol::RawWebSocket, _) => "bare WebSocket",
        (Protocol::SocketIo, TransportKind::WebSocket) => "WebSocket",
        (Protocol::SocketIo, TransportKind::Polling) => "long-polling",
    };
    let payload = format!(
        "{}-byte {} payload",
        report.payload_bytes,
        if report.binary { "binary" } else { "string" }
    );
    let load = match (report.scenario, report.rate) {
        (Scenario::Echo, Some(rate)) => format!(", {rate} msg/s per client"),
        (Scenario::Fanout, Some(rate)) => format!(", {rate} broadcasts/s"),
        _ => String::new(),
    };
    let mut out = format!(
        "sio bench {}: {} clients over {what} to {}, {payload}{load}\n",
        report.scenario.name(),
        report.clients,
        report.url
    );
    let window = match report.scenario {
        Scenario::Connect => format!("{:.2} s to connect {}", report.seconds, report.connected),
        _ => format!(
            "{:.2} s after {:.1} s of warm-up",
            report.seconds,
            config.warmup.as_secs_f64()
        ),
    };
    let line = |out: &mut String, label: &str, value: String| {
        out.push_str(&format!("  {label:<14}{value}\n"));
    };
    line(
        &mut out,
        "measured",
        format!(
            "{window}, {} generator thread(s), {} of {} clients connected",
            report.threads, report.connected, report.clients
        ),
    );
    line(
        &mut out,
        report.unit,
        format!(
            "{} ({}/s)",
            group(report.operations as f64),
            group(report.per_second)
        ),
    );
    if let Some(broadcasts) = report.broadcasts {
        line(&mut out, "broadcasts", group(broadcasts as f64));
    }
    let l = &report.latency;
    line(
        &mut out,
        "latency",
        format!(
            "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
            time(l.p50_us),
            time(l.p90_us),
            time(l.p99_us),
            time(l.p999_us),
            time(l.max_us)
        ),
    );
    let cpu = &report.generator_cpu;
    line(
        &mut out,
        "generator CPU",
        format!(
            "{:.0}% of one core ({:.0}% of its {} thread(s)), {:.2} µs per {}",
            cpu.cores * 100.0,
            cpu.share_of_threads * 100.0,
            report.threads,
            cpu.us_per_operation,
            match report.scenario {
                Scenario::Echo => "round trip",
                Scenario::Fanout => "delivery",
                Scenario::Connect => "connection",
            }
        ),
    );
    line(&mut out, "errors", report.errors.to_string());
    out
}

/// `1234567.8` → `1,234,568`.
fn group(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn time(us: f64) -> String {
    if us < 1000.0 {
        format!("{us:.0} µs")
    } else if us < 1_000_000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{:.2} s", us / 1e6)
    }
}

/// The progress bar on stderr (hidden when stderr is not a terminal).
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new(visible: bool) -> Bar {
        let bar = if visible {
            ProgressBar::new(0)
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} {msg:<28} [{bar:30}] {pos}/{len}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }
}

impl Observer for Bar {
    fn phase(&mut self, phase: Phase, progress: &Progress) {
        self.bar.reset();
        match phase {
            Phase::Connecting => self.bar.set_length(progress.connections as u64),
            Phase::Finished => self.bar.finish_and_clear(),
            _ => match progress.phase_length {
                Some(length) => self.bar.set_length(length.as_millis() as u64),
                // The connect storm's window: the connections are the progress.
                None => self.bar.set_length(progress.connections as u64),
            },
        }
        self.tick(progress);
    }

    fn tick(&mut self, progress: &Progress) {
        let (message, position) = match (progress.phase, progress.phase_length) {
            (Phase::Connecting, _) | (Phase::Measuring, None) => (
                format!("connecting ({} failed)", progress.failed),
                progress.connected as u64,
            ),
            (Phase::WarmingUp, _) => (
                "warming up".to_owned(),
                progress.phase_elapsed.as_millis() as u64,
            ),
            (Phase::Measuring, Some(_)) => (
                format!("measuring: {} ops", group(progress.operations as f64)),
                progress.phase_elapsed.as_millis() as u64,
            ),
            (Phase::Holding, _) => (
                format!("holding {} connections", progress.connected),
                progress.phase_elapsed.as_millis() as u64,
            ),
            (Phase::Finished, _) => return,
        };
        self.bar.set_message(message);
        self.bar.set_position(position);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_well() {
        assert_eq!(group(1_234_567.8), "1,234,568");
        assert_eq!(group(999.0), "999");
        assert_eq!(group(1000.0), "1,000");
        assert_eq!(time(850.0), "850 µs");
        assert_eq!(time(1520.0), "1.52 ms");
        assert_eq!(time(2_500_000.0), "2.50 s");
    }
}
