//! `sio bench`, driven as a built binary against the `sio serve` binary (whose `echo` acks
//! with its arguments): short runs with few clients, asserting on the JSON report.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// `sio serve` on a free port; killed when dropped.
struct Serve {
    child: Child,
    url: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sio_serve() -> Serve {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sio"))
        .args(["serve", "--port", &port.to_string()])
        // Only warnings: connections are logged at INFO.
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    // Read every line so that the server never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if line.contains("listening") {
                let _ = tx.send(());
            }
        }
    });
    let server = Serve {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    rx.recv_timeout(Duration::from_secs(20))
        .expect("sio serve did not say it was listening within 20 s");
    server
}

/// Runs `sio bench ARGS --json`; returns the report and the exit code.
fn bench(args: &[&str]) -> (Value, i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_sio"))
        .arg("bench")
        .args(args)
        .arg("--json")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (report, output.status.code().unwrap_or(-1), stderr)
}

fn assert_latencies_ordered(report: &Value) {
    let l = &report["latency"];
    let get = |k: &str| l[k].as_f64().unwrap_or_else(|| panic!("no {k} in {l}"));
    let (min, p50, p90, p99, p999, max) = (
        get("min_us"),
        get("p50_us"),
        get("p90_us"),
        get("p99_us"),
        get("p999_us"),
        get("max_us"),
    );
    assert!(min > 0.0, "{l}");
    assert!(
        min <= p50 && p50 <= p90 && p90 <= p99 && p99 <= p999 && p999 <= max,
        "{l}"
    );
    assert_eq!(l["samples"], report["operations"], "{report:#}");
}

fn assert_clean(report: &Value, code: i32, stderr: &str) {
    assert_eq!(code, 0, "{stderr}\n{report:#}");
    assert_eq!(report["errors"], 0, "{report:#}");
    assert_eq!(report["error_samples"], Value::Array(vec![]), "{report:#}");
    assert!(report["generator_cpu"]["seconds"].as_f64().unwrap() >= 0.0);
}

#[test]
fn echo_over_websocket() {
    let server = sio_serve();
    let (report, code, stderr) = bench(&[
        &server.url,
        "--scenario",
        "echo",
        "--clients",
        "4",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        "--threads",
        "2",
    ]);
    assert_clean(&report, code, &stderr);
    assert_eq!(report["scenario"], "echo");
    assert_eq!(report["connected"], 4);
    assert_eq!(report["threads"], 2);
    assert!(report["operations"].as_u64().unwrap() > 0, "{report:#}");
    assert!(report["per_second"].as_f64().unwrap() > 0.0);
    let seconds = report["seconds"].as_f64().unwrap();
    assert!((0.9..2.0).contains(&seconds), "{seconds}");
    assert_latencies_ordered(&report);
}

#[test]
fn binary_echo_at_a_fixed_rate() {
    let server = sio_serve();
    let (report, code, stderr) = bench(&[
        &server.url,
        "--clients",
        "3",
        "--duration",
        "1",
        "--warmup",
        "0.2",
        "--payload",
        "4096",
        "--binary",
        "--rate",
        "20",
    ]);
    assert_clean(&report, code, &stderr);
    assert_eq!(report["binary"], true);
    // 3 clients x 20/s over 1 s: about 60 acks (the server answers every one).
    let operations = report["operations"].as_u64().unwrap();
    assert!((40..=80).contains(&operations), "{report:#}");
    assert_latencies_ordered(&report);
}

#[test]
fn echo_over_long_polling() {
    let server = sio_serve();
    let (report, code, stderr) = bench(&[
        &server.url,
        "--transport",
        "polling",
        "--clients",
        "3",
        "--duration",
        "1",
        "--warmup",
        "0.2",
    ]);
    assert_clean(&report, code, &stderr);
    assert_eq!(report["transport"], "polling");
    assert!(report["operations"].as_u64().unwrap() > 0, "{report:#}");
    assert_latencies_ordered(&report);
}

#[test]
fn connect_storm() {
    let server = sio_serve();
    let (report, code, stderr) = bench(&[
        &server.url,
        "--scenario",
        "connect",
        "--clients",
        "30",
        "--concurrency",
        "8",
    ]);
    assert_clean(&report, code, &stderr);
    assert_eq!(report["unit"], "connections");
    assert_eq!(report["operations"], 30, "{report:#}");
    assert_eq!(report["connected"], 30);
    assert_latencies_ordered(&report);
}

#[test]
fn refused_connection_says_what_to_do() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let (report, code, stderr) = bench(&[&url, "--clients", "2", "--duration", "1"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(report, Value::Null);
    assert!(stderr.contains("no client could connect"), "{stderr}");
    assert!(stderr.contains("is the server running?"), "{stderr}");
}

#[test]
fn bad_options_are_refused() {
    let (_, code, stderr) = bench(&["https://127.0.0.1:1", "--duration", "1"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("TLS endpoints are not supported"),
        "{stderr}"
    );
    let (_, code, stderr) = bench(&[
        "http://127.0.0.1:1",
        "--transport",
        "polling",
        "--scenario",
        "fanout",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("long-polling supports"), "{stderr}");
}

/// `sio serve` has no `fan` event: a fan-out run against it delivers nothing, and says that the
/// server does not follow the contract instead of reporting 0 deliveries as a clean run.
#[test]
fn fanout_against_a_server_without_the_contract_fails() {
    let server = sio_serve();
    let (report, code, stderr) = bench(&[
        &server.url,
        "--scenario",
        "fanout",
        "--clients",
        "3",
        "--duration",
        "1",
        "--warmup",
        "0.2",
    ]);
    assert_eq!(code, 1, "{stderr}\n{report:#}");
    assert_eq!(report["operations"], 0, "{report:#}");
    assert_eq!(report["connected"], 3, "{report:#}");
    assert!(
        stderr.contains("does not follow the benchmark contract"),
        "{stderr}"
    );
}
