//! CPU time and memory of a process, from `/proc` (Linux).
//!
//! Used for the generator's own CPU ([`ProcessTimes::of_self`]) and, by benchmark harnesses, for
//! the server's ([`ProcessTimes::of`] a child's pid, [`rss_bytes`]).

use std::collections::HashMap;
use std::sync::OnceLock;

/// Where a process's time went so far.
#[derive(Debug, Clone, Default)]
pub struct ProcessTimes {
    /// Seconds on a CPU: utime + stime from `/proc/<pid>/stat`, all threads.
    pub cpu: f64,
    /// Per thread, nanoseconds runnable but waiting for a CPU (another process had it), from
    /// `/proc/<pid>/task/<tid>/schedstat`. Empty where the kernel has no schedstat.
    waits: HashMap<String, f64>,
}

/// The difference between two [`ProcessTimes`], in seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Spent {
    /// Seconds on a CPU (1.0 per second of wall time = one core busy).
    pub cpu: f64,
    /// Seconds the threads were runnable but had no CPU: how much other work on the machine
    /// got in the way.
    pub wait: f64,
}

impl ProcessTimes {
    /// This process.
    pub fn of_self() -> std::io::Result<ProcessTimes> {
        Self::read("self")
    }

    /// Another process.
    pub fn of(pid: u32) -> std::io::Result<ProcessTimes> {
        Self::read(&pid.to_string())
    }

    fn read(pid: &str) -> std::io::Result<ProcessTimes> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "unexpected /proc stat");
        // The command name may contain spaces and parentheses: the fields we want follow its
        // last closing parenthesis. After it: state (field 3), ppid (4), … utime (14), stime (15).
        let (_, fields) = stat.rsplit_once(')').ok_or_else(bad)?;
        let mut fields = fields.split_whitespace().skip(11);
        let mut tick_field = || -> std::io::Result<f64> {
            fields
                .next()
                .and_then(|f| f.parse::<f64>().ok())
                .ok_or_else(bad)
        };
        let utime = tick_field()?;
        let stime = tick_field()?;
        let mut waits = HashMap::new();
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                // schedstat: ns on a CPU, ns waiting on a run queue, timeslices.
                let wait = std::fs::read_to_string(task.path().join("schedstat"))
                    .ok()
                    .and_then(|text| text.split_whitespace().nth(1)?.parse::<f64>().ok());
                if let Some(wait) = wait {
                    waits.insert(task.file_name().to_string_lossy().into_owned(), wait);
                }
            }
        }
        Ok(ProcessTimes {
            cpu: (utime + stime) / clock_ticks(),
            waits,
        })
    }

    /// What was spent since `start`; threads that ended in between are not counted in `wait`.
    pub fn since(&self, start: &ProcessTimes) -> Spent {
        let wait_ns: f64 = self
            .waits
            .iter()
            .map(|(tid, wait)| wait - start.waits.get(tid).copied().unwrap_or(0.0))
            .sum();
        Spent {
            cpu: self.cpu - start.cpu,
            wait: wait_ns / 1e9,
        }
    }
}

/// Resident set size of a process in bytes (`VmRSS` of `/proc/<pid>/status`).
pub fn rss_bytes(pid: u32) -> std::io::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|kb| kb.trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "no VmRSS"))
}

/// The 1, 5 and 15 minute load averages, from `/proc/loadavg`.
pub fn loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`; 100 on Linux in practice).
pub fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_cpu_and_memory() {
        let start = ProcessTimes::of_self().unwrap();
        // Burn some CPU so that at least one clock tick passes.
        let begin = std::time::Instant::now();
        let mut x = 0u64;
        while begin.elapsed().as_millis() < 50 {
            x = x.wrapping_mul(31).wrapping_add(7);
        }
        assert_ne!(x, 1);
        let spent = ProcessTimes::of_self().unwrap().since(&start);
        assert!(spent.cpu > 0.0, "{spent:?}");
        assert!(rss_bytes(std::process::id()).unwrap() > 100_000);
        assert!(loadavg().is_some());
    }
}
