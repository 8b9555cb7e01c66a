//! Client CPU per received message: asks the hub fixture's `Flood(n, 16)` to push `n`
//! invocations over WebSockets as fast as it can and reads each one's arguments with serde.
//! Prints one JSON line. Run by bench/signalr/run.
//!
//!     cargo run --release -p sio-signalr --example flood -- http://127.0.0.1:PORT/hub json 200000

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sio_signalr::{HttpTransportType, HubConnectionBuilder, HubProtocol};

/// User plus system CPU time of this process (Linux: /proc/self/stat, in clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // After the parenthesised command name: state, ppid, …; utime and stime are the 12th and
    // 13th of those (fields 14 and 15 of proc(5)).
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let field = |i: usize| -> u64 {
        after
            .split_whitespace()
            .nth(i)
            .and_then(|f| f.parse().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).ok_or("usage: flood URL json|messagepack N")?;
    let protocol = match args.get(2).map(String::as_str) {
        Some("messagepack") => HubProtocol::MessagePack,
        _ => HubProtocol::Json,
    };
    let n: u64 = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let connection = HubConnectionBuilder::new()
        .with_url(url)
        .with_transports(&[HttpTransportType::WebSockets])
        .with_hub_protocol(protocol)
        .build()?;
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    connection.on("tick", move |args| {
        if let Ok((_, pad)) = args.parse::<(u64, String)>() {
            counter.fetch_add(1, Ordering::Relaxed);
            std::hint::black_box(pad);
        }
    });
    connection.start().await?;
    let (cpu, wall) = (cpu_time(), Instant::now());
    let sent: u64 = connection.invoke("Flood", &(n, 16)).await?;
    let (cpu, wall) = (cpu_time() - cpu, wall.elapsed());
    connection.stop().await;
    let got = received.load(Ordering::Relaxed);
    if got != sent || sent != n {
        return Err(format!("received {got} of {sent} (asked {n})").into());
    }
    println!(
        "{{\"client\":\"sio-signalr\",\"protocol\":\"{}\",\"messages\":{n},\"cpu_ms\":{},\"wall_ms\":{},\"cpu_us_per_message\":{:.3}}}",
        protocol.name(),
        cpu.as_millis(),
        wall.as_millis(),
        cpu.as_secs_f64() * 1e6 / n as f64
    );
    Ok(())
}
