//! Tables (Markdown, JSON) and the plot (SVG, drawn here) of a harness run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::{Metric, Results, Sample, Server, Spec};

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.retain(|v| v.is_finite());
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match (values.len(), values.get(middle)) {
        (0, _) | (_, None) => None,
        (n, Some(&value)) if n % 2 == 1 => Some(value),
        (_, Some(&high)) => values.get(middle - 1).map(|&low| (low + high) / 2.0),
    }
}

/// The medians of one server in one scenario.
struct Row<'a> {
    server: Server,
    samples: Vec<&'a Sample>,
}

impl Row<'_> {
    fn ok(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter().copied().filter(|s| s.ok)
    }

    fn median(&self, field: impl Fn(&Sample) -> f64) -> Option<f64> {
        median(self.ok().map(field).collect())
    }

    fn latency(&self, field: impl Fn(&sio_loadgen::Latency) -> f64) -> Option<f64> {
        median(
            self.ok()
                .filter_map(|s| s.report.as_ref().map(|r| field(&r.latency)))
                .collect(),
        )
    }
}

/// The headline figure of a sample for its scenario.
fn metric(spec: &Spec, sample: &Sample) -> f64 {
    match spec.metric {
        Metric::CpuPerOp => sample.server_us_per_op,
        Metric::MemoryPerConnection => sample.memory_per_connection_kb.unwrap_or(f64::NAN),
    }
}

fn rows<'a>(results: &'a Results, spec: &Spec) -> Vec<Row<'a>> {
    results
        .servers
        .iter()
        .map(|&server| Row {
            server,
            samples: results
                .samples
                .iter()
                .filter(|(id, s)| *id == spec.id && s.server == server)
                .map(|(_, s)| s)
                .collect(),
        })
        .filter(|row| !row.samples.is_empty())
        .collect()
}

/// Median over rounds of sio's figure divided by `peer`'s in the same round.
fn paired_ratio(results: &Results, spec: &Spec, peer: Server) -> Option<f64> {
    let of = |server: Server, round: usize| {
        results
            .samples
            .iter()
            .find(|(id, s)| *id == spec.id && s.server == server && s.round == round && s.ok)
            .map(|(_, s)| metric(spec, s))
    };
    median(
        (0..results.runs)
            .filter_map(|round| Some(of(Server::Sio, round)? / of(peer, round)?))
            .collect(),
    )
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "–".into(),
    }
}

fn latency(value: Option<f64>) -> String {
    match value {
        Some(us) if us >= 1000.0 => format!("{:.2} ms", us / 1000.0),
        Some(us) if us.is_finite() => format!("{us:.0} µs"),
        _ => "–".into(),
    }
}

fn loadavg(value: Option<[f64; 3]>) -> String {
    value.map_or_else(|| "?".into(), |[a, b, c]| format!("{a:.2} {b:.2} {c:.2}"))
}

fn markdown(results: &Results) -> String {
    let mut out = String::new();
    let m = &results.machine;
    let _ = writeln!(
        out,
        "# Benchmark results ({} mode)\n\nStarted {}; {} CPUs ({}), {} RAM, {}. {} round(s), \
         {} s measured after {} s of warm-up per run, a fresh server process per run, servers \
         interleaved with the order rotated each round. {}. Load average at start: {}, at end: \
         {}.\n",
        results.mode,
        results.started,
        m.cpus,
        m.cpu_model,
        m.memory,
        m.kernel,
        results.runs,
        results.duration_secs,
        results.warmup_secs,
        if results.pinned {
            "Server pinned to CPU 0, load generator (sio-loadgen, one thread) to CPU 1"
        } else {
            "NOT pinned: server and generator shared the CPUs"
        },
        loadavg(results.loadavg_start),
        loadavg(results.loadavg_end),
    );
    if results.mode == "quick" {
        out.push_str(
            "**Quick mode: small numbers that check the pipeline end to end; these figures are not \
             benchmarks.**\n\n",
        );
    }
    out.push_str(
        "Server µs/op: server CPU time (user + system, all threads, `/proc/<pid>/stat`) over the \
         window divided by the operations (round trips, deliveries or connections); – where the \
         server used less than 5 clock ticks (50 ms) of CPU, too little to count. Memory: \
         server RSS growth per connection once all are connected and idle. Generator: its CPU \
         share of its one thread; ⚠ marks runs above 85%, where the generator, not the server, \
         may be the limit. Medians over the rounds.\n\n",
    );
    out.push_str(
        "| scenario | server | ops/s | server µs/op | server CPU | p50 | p99 | p99.9 | KB/conn | \
         generator | errors |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    for spec in &results.scenarios {
        for row in rows(results, spec) {
            let failures: Vec<&str> = row
                .samples
                .iter()
                .filter_map(|s| s.failure.as_deref())
                .collect();
            let bound = row.ok().any(|s| s.generator_bound);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {}{} | {} |",
                spec.title,
                row.server.name(),
                fmt(row.median(|s| s.per_second), 0),
                fmt(row.median(|s| s.server_us_per_op), 2),
                fmt(row.median(|s| s.server_cpu_share * 100.0), 0) + "%",
                latency(row.latency(|l| l.p50_us)),
                latency(row.latency(|l| l.p99_us)),
                latency(row.latency(|l| l.p999_us)),
                fmt(
                    row.median(|s| s.memory_per_connection_kb.unwrap_or(f64::NAN)),
                    1
                ),
                fmt(row.median(|s| s.generator_share * 100.0), 0) + "%",
                if bound { " ⚠" } else { "" },
                if failures.is_empty() {
                    "0".to_owned()
                } else {
                    format!(
                        "{} failed: {}",
                        failures.len(),
                        failures.join("; ").replace('|', "/")
                    )
                },
            );
        }
    }
    cluster_table(&mut out, results);
    let peers: Vec<Server> = results
        .servers
        .iter()
        .copied()
        .filter(|s| *s != Server::Sio)
        .collect();
    if results.servers.contains(&Server::Sio) && !peers.is_empty() {
        out.push_str(
            "\n## sio's ratio to each server (median of per-round ratios; below 1 is better for \
             sio)\n\nServer CPU per operation, or memory per connection for the idle scenario.\n\n| scenario |",
        );
        for peer in &peers {
            let _ = write!(out, " sio / {} |", peer.name());
        }
        out.push_str("\n|---|");
        out.push_str(&"---:|".repeat(peers.len()));
        out.push('\n');
        for spec in &results.scenarios {
            let _ = write!(out, "| {} |", spec.title);
            for &peer in &peers {
                let _ = write!(out, " {} |", fmt(paired_ratio(results, spec, peer), 2));
            }
            out.push('\n');
        }
    }
    out
}

/// The scenarios across nodes through Redis: what the nodes and redis-server spent, and how the
/// deliveries were split.
fn cluster_table(out: &mut String, results: &Results) {
    let specs: Vec<&Spec> = results
        .scenarios
        .iter()
        .filter(|spec| spec.redis_nodes > 0)
        .collect();
    if specs.is_empty() {
        return;
    }
    out.push_str(
        "\n## Across nodes through Redis\n\nEach run starts a fresh redis-server and the nodes, all \
         on CPU 0; the sender is on node 1, the receivers alternate between the nodes. Server \
         µs/op above is the CPU of all the nodes together per delivery; redis-server's own CPU \
         is not in it but here. Only the servers with a Redis adapter in the benchmark (sio, \
         node-socket.io) run these scenarios.\n\n\
         | scenario | server | nodes µs/delivery | redis-server µs/delivery | redis-server CPU | \
         together µs/delivery | deliveries/s per node (receivers) |\n\
         |---|---|---:|---:|---:|---:|---|\n",
    );
    for spec in specs {
        for row in rows(results, spec) {
            let redis = row.median(|s| s.redis_us_per_op.unwrap_or(f64::NAN));
            let nodes = row.median(|s| s.server_us_per_op);
            let together =
                row.median(|s| s.server_us_per_op + s.redis_us_per_op.unwrap_or(f64::NAN));
            let split: Vec<String> = (0..spec.redis_nodes)
                .map(|node| {
                    let rate = row.median(|s| {
                        node_of(s, node).map_or(f64::NAN, |(n, seconds)| {
                            n.operations as f64 / seconds.max(1e-9)
                        })
                    });
                    let receivers = row
                        .median(|s| node_of(s, node).map_or(f64::NAN, |(n, _)| n.connected as f64));
                    format!("{} ({})", fmt(rate, 0), fmt(receivers, 0))
                })
                .collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                spec.title,
                row.server.name(),
                fmt(nodes, 2),
                fmt(redis, 2),
                fmt(
                    row.median(|s| s.redis_cpu_share.unwrap_or(f64::NAN) * 100.0),
                    0
                ) + "%",
                fmt(together, 2),
                split.join(" + "),
            );
        }
    }
}

/// Node `node`'s counts in a sample's report, and the window's length.
fn node_of(sample: &Sample, node: usize) -> Option<(&sio_loadgen::NodeCount, f64)> {
    let report = sample.report.as_ref()?;
    Some((report.nodes.get(node)?, report.seconds))
}

const COLORS: [&str; 5] = ["#d9480f", "#868e96", "#1971c2", "#2f9e44", "#7048e8"];

/// Grouped horizontal bars: one group per scenario, one bar per server, each group scaled to
/// its own largest value (the figures are written next to the bars).
fn svg(results: &Results) -> String {
    let bar = 14.0;
    let group_gap = 26.0;
    let left = 250.0;
    let width = 900.0;
    let bar_span = width - left - 120.0;
    let groups: Vec<(&Spec, Vec<(Server, f64)>)> = results
        .scenarios
        .iter()
        .map(|spec| {
            let values = rows(results, spec)
                .into_iter()
                .filter_map(|row| Some((row.server, row.median(|s| metric(spec, s))?)))
                .collect::<Vec<_>>();
            (spec, values)
        })
        .filter(|(_, values)| !values.is_empty())
        .collect();
    let bars: usize = groups.iter().map(|(_, v)| v.len()).sum();
    let height = 70.0 + bars as f64 * bar + groups.len() as f64 * group_gap + 40.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        out,
        r#"<rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">Server CPU µs per operation (idle: KB per connection), median; shorter is better ({} mode)</text>"#,
        results.mode
    );
    let mut y = 50.0;
    for (spec, values) in &groups {
        let max = values.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        let _ = writeln!(
            out,
            r#"<text x="10" y="{:.1}" font-weight="bold">{}</text>"#,
            y + 12.0,
            escape(&spec.title)
        );
        y += 16.0;
        for (server, value) in values {
            let index = crate::Server::ALL
                .iter()
                .position(|s| s == server)
                .unwrap_or(0);
            let color = COLORS.get(index).copied().unwrap_or("#000");
            let length = if max > 0.0 {
                value / max * bar_span
            } else {
                0.0
            };
            let unit = match spec.metric {
                Metric::CpuPerOp => "µs",
                Metric::MemoryPerConnection => "KB",
            };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{left}" y="{:.1}" width="{length:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}">{value:.2} {unit}</text>"#,
                left - 8.0,
                y + bar - 3.0,
                server.name(),
                y,
                bar - 2.0,
                left + length + 6.0,
                y + bar - 3.0,
            );
            y += bar;
        }
        y += group_gap - 16.0;
    }
    let _ = writeln!(
        out,
        r#"<text x="10" y="{:.1}" fill="dimgray">{} CPUs ({}), load average {} at start, {} at end; {}</text></svg>"#,
        y + 20.0,
        results.machine.cpus,
        escape(&results.machine.cpu_model),
        loadavg(results.loadavg_start),
        loadavg(results.loadavg_end),
        if results.pinned {
            "server on CPU 0, generator on CPU 1"
        } else {
            "not pinned"
        }
    );
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Writes `<name>.md`, `<name>.json` and `<name>.svg` into `dir`.
pub(crate) fn write(results: &Results, dir: &Path, name: &str) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let json = serde_json::to_string_pretty(results).map_err(|e| e.to_string())?;
    let files = [
        (format!("{name}.md"), markdown(results)),
        (format!("{name}.json"), json),
        (format!("{name}.svg"), svg(results)),
    ];
    let mut written = Vec::new();
    for (name, content) in files {
        let path = dir.join(name);
        std::fs::write(&path, content).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN]), None);
        assert_eq!(median(vec![]), None);
    }
}
