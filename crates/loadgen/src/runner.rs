//! The run: generator threads, each with a single-threaded runtime and its share of the
//! clients; the calling thread moves the run through its phases and reads the counters.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::LocalSet;
use tokio::time::MissedTickBehavior;

use crate::Error;
use crate::config::{Config, Scenario, Target};
use crate::conn::{ClientError, Conn, Frames, Incoming};
use crate::process::ProcessTimes;
use crate::report::{GeneratorCpu, Latency, NodeCount, Report};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// Clients are connecting (not measured, except in the connect storm).
    Connecting,
    /// The load runs, not measured yet.
    WarmingUp,
    /// The measured window.
    Measuring,
    /// Connect storm: every client connected; the connections are held idle.
    Holding,
    /// The window closed; the connections are still open when [`Observer::phase`] is told.
    Finished,
}

/// The counters of a run, as [`Observer`]s see them.
#[derive(Debug, Clone)]
pub struct Progress {
    /// The current phase.
    pub phase: Phase,
    /// Connections asked for (fan-out: the receivers and the sender).
    pub connections: usize,
    /// Connections set up so far.
    pub connected: usize,
    /// Connection attempts that failed.
    pub failed: usize,
    /// Operations completed in the measured window so far.
    pub operations: u64,
    /// Errors so far.
    pub errors: u64,
    /// Time spent in the current phase.
    pub phase_elapsed: Duration,
    /// Planned length of the current phase, when it has one.
    pub phase_length: Option<Duration>,
}

/// Watches a run from the thread that called [`run`](crate::run): told of every phase change
/// as it happens (so that a harness can read a server's CPU time exactly when the measured
/// window opens and closes), and of the counters about ten times a second.
pub trait Observer {
    /// The run entered `phase`.
    fn phase(&mut self, _phase: Phase, _progress: &Progress) {}
    /// The counters, about every 100 ms.
    fn tick(&mut self, _progress: &Progress) {}
}

/// An [`Observer`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Observer for Quiet {}

const TICK: Duration = Duration::from_millis(100);
const ERROR_SAMPLES: usize = 5;

/// What the threads and the calling thread share.
struct Shared {
    config: Config,
    /// The first node ([`Config::url`]).
    target: Target,
    /// The other nodes ([`Config::extra_urls`]).
    others: Vec<Target>,
    /// Per node, with more than one node (empty otherwise): receivers connected, operations in
    /// the window.
    node_connected: Vec<AtomicUsize>,
    node_operations: Vec<AtomicU64>,
    /// Timestamps in fan-out packets are nanoseconds since this instant.
    epoch: Instant,
    /// The phase as [`Phase`] `as u8`; read on every operation to decide whether it counts.
    phase: AtomicU8,
    /// The same, for tasks that wait for a phase.
    phase_tx: watch::Sender<Phase>,
    connected: AtomicUsize,
    failed: AtomicUsize,
    sender_connected: AtomicBool,
    last_connect_ns: AtomicU64,
    operations: AtomicU64,
    errors: AtomicU64,
    error_samples: Mutex<Vec<String>>,
    /// Fan-out: every delivery, measured or not, for the sender's window.
    delivered: AtomicU64,
    /// Fan-out: the delivery count the sender waits for, and its wake-up.
    fan_target: AtomicU64,
    fan_notify: Notify,
    /// Fan-out: connected receivers, fixed before the load starts.
    members: AtomicU64,
    broadcasts: AtomicU64,
}

impl Shared {
    /// How many nodes the clients are split over.
    fn nodes(&self) -> usize {
        1 + self.others.len()
    }

    /// Node `node` (`0` is [`Config::url`]).
    fn target(&self, node: usize) -> &Target {
        match node.checked_sub(1) {
            Some(other) => self.others.get(other).unwrap_or(&self.target),
            None => &self.target,
        }
    }

    fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Connecting,
            1 => Phase::WarmingUp,
            2 => Phase::Measuring,
            3 => Phase::Holding,
            _ => Phase::Finished,
        }
    }

    fn measuring(&self) -> bool {
        self.phase.load(Ordering::Relaxed) == Phase::Measuring as u8
    }

    fn set_phase(&self, phase: Phase) {
        self.phase.store(phase as u8, Ordering::Relaxed);
        if phase != Phase::Finished {
            self.phase_tx.send_replace(phase);
        }
    }

    fn stop(&self) {
        self.phase.store(Phase::Finished as u8, Ordering::Relaxed);
        self.phase_tx.send_replace(Phase::Finished);
    }

    fn now_ns(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn error(&self, error: impl std::fmt::Display) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut samples) = self.error_samples.lock()
            && samples.len() < ERROR_SAMPLES
        {
            samples.push(error.to_string());
        }
    }

    fn delivered_one(&self) {
        let delivered = self.delivered.fetch_add(1, Ordering::Relaxed) + 1;
        if delivered >= self.fan_target.load(Ordering::Relaxed) {
            self.fan_notify.notify_one();
        }
    }

    fn progress(&self, phase_start: Instant, phase_length: Option<Duration>) -> Progress {
        self.progress_in(self.phase(), phase_start, phase_length)
    }

    fn progress_in(
        &self,
        phase: Phase,
        phase_start: Instant,
        phase_length: Option<Duration>,
    ) -> Progress {
        Progress {
            phase,
            connections: self.connections(),
            connected: self.connected.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            operations: self.operations.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            phase_elapsed: phase_start.elapsed(),
            phase_length,
        }
    }

    fn connections(&self) -> usize {
        self.config.clients + usize::from(self.config.scenario == Scenario::Fanout)
    }
}

/// Runs `config` to the end on its own threads, telling `observer` how it goes.
///
/// # Errors
/// A bad URL or configuration, a thread or runtime that cannot be started, or no client able
/// to connect. Failures of single clients are counted in [`Report::errors`] instead.
pub fn run(config: &Config, observer: &mut dyn Observer) -> Result<Report, Error> {
    let mut targets = config.validate()?.into_iter();
    let target = targets
        .next()
        .ok_or_else(|| Error::InvalidConfig("no URL".into()))?;
    let others: Vec<Target> = targets.collect();
    let per_node = if others.is_empty() {
        0
    } else {
        1 + others.len()
    };
    Frames::new(config, &target.namespace).map_err(Error::InvalidConfig)?;
    let connections = config.clients + usize::from(config.scenario == Scenario::Fanout);
    let threads = config.thread_count().clamp(1, connections);
    let (phase_tx, _) = watch::channel(Phase::Connecting);
    let shared = Arc::new(Shared {
        config: config.clone(),
        target,
        others,
        node_connected: (0..per_node).map(|_| AtomicUsize::new(0)).collect(),
        node_operations: (0..per_node).map(|_| AtomicU64::new(0)).collect(),
        epoch: Instant::now(),
        phase: AtomicU8::new(Phase::Connecting as u8),
        phase_tx,
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        sender_connected: AtomicBool::new(false),
        last_connect_ns: AtomicU64::new(0),
        operations: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        error_samples: Mutex::new(Vec::new()),
        delivered: AtomicU64::new(0),
        fan_target: AtomicU64::new(u64::MAX),
        fan_notify: Notify::new(),
        members: AtomicU64::new(0),
        broadcasts: AtomicU64::new(0),
    });

    let storm = config.scenario == Scenario::Connect;
    let mut phase_start = Instant::now();
    let mut cpu_start = ProcessTimes::default();
    let mut window_start = Instant::now();
    if storm {
        // The connections are what is measured: the window opens before the first.
        cpu_start = ProcessTimes::of_self().unwrap_or_default();
        shared.set_phase(Phase::Measuring);
        observer.phase(Phase::Measuring, &shared.progress(phase_start, None));
        window_start = Instant::now();
    } else {
        observer.phase(
            Phase::Connecting,
            &shared.progress_in(Phase::Connecting, phase_start, None),
        );
    }

    let mut handles = Vec::with_capacity(threads);
    for thread in 0..threads {
        let for_thread = shared.clone();
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-{thread}"))
            .spawn(move || worker(&for_thread, thread, threads))
            .map_err(|e| Error::Runtime(e.to_string()));
        match handle {
            Ok(handle) => handles.push(handle),
            Err(error) => {
                shared.stop();
                return Err(error);
            }
        }
    }
    let finish = |shared: &Shared, handles: Vec<std::thread::JoinHandle<_>>| {
        shared.stop();
        let mut merged: Option<Histogram<u64>> = None;
        let mut failure = None;
        for handle in handles {
            match handle.join() {
                Ok(Ok(histogram)) => match &mut merged {
                    Some(total) => {
                        let _ = total.add(&histogram);
                    }
                    None => merged = Some(histogram),
                },
                Ok(Err(message)) => failure = Some(Error::Runtime(message)),
                Err(_) => failure = Some(Error::Runtime("a generator thread panicked".into())),
            }
        }
        match (merged, failure) {
            (_, Some(error)) => Err(error),
            (Some(histogram), None) => Ok(histogram),
            (None, None) => Err(Error::Runtime("no generator thread".into())),
        }
    };

    // Every connection attempt ends, one way or the other, within its timeout.
    while shared.connected.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed)
        < connections
    {
        std::thread::sleep(Duration::from_millis(10).min(TICK));
        observer.tick(&shared.progress(phase_start, None));
    }
    let connected = shared.connected.load(Ordering::Relaxed);
    let sender_missing =
        config.scenario == Scenario::Fanout && !shared.sender_connected.load(Ordering::Relaxed);
    if connected == 0 || sender_missing {
        let reason = shared
            .error_samples
            .lock()
            .ok()
            .and_then(|samples| samples.first().cloned())
            .unwrap_or_else(|| "no error recorded".into());
        let _ = finish(&shared, handles);
        return Err(Error::NoConnection {
            url: config.url.clone(),
            reason: if sender_missing && connected > 0 {
                format!("the fan-out sender could not connect: {reason}")
            } else {
                reason
            },
        });
    }

    let (window_end, cpu_end);
    if storm {
        let last = Duration::from_nanos(shared.last_connect_ns.load(Ordering::Relaxed));
        window_end = (shared.epoch + last).max(window_start);
        cpu_end = ProcessTimes::of_self().unwrap_or_default();
        shared.set_phase(Phase::Holding);
        phase_start = Instant::now();
        observer.phase(
            Phase::Holding,
            &shared.progress(phase_start, Some(config.hold)),
        );
        wait(&shared, observer, phase_start, config.hold);
    } else {
        let members = connected - usize::from(shared.sender_connected.load(Ordering::Relaxed));
        shared.members.store(members as u64, Ordering::Relaxed);
        shared.set_phase(Phase::WarmingUp);
        phase_start = Instant::now();
        observer.phase(
            Phase::WarmingUp,
            &shared.progress(phase_start, Some(config.warmup)),
        );
        wait(&shared, observer, phase_start, config.warmup);
        cpu_start = ProcessTimes::of_self().unwrap_or_default();
        phase_start = Instant::now();
        observer.phase(
            Phase::Measuring,
            &shared.progress_in(Phase::Measuring, phase_start, Some(config.duration)),
        );
        window_start = Instant::now();
        shared.set_phase(Phase::Measuring);
        wait(&shared, observer, phase_start, config.duration);
        shared.set_phase(Phase::Holding);
        window_end = Instant::now();
        cpu_end = ProcessTimes::of_self().unwrap_or_default();
    }
    shared.phase.store(Phase::Finished as u8, Ordering::Relaxed);
    observer.phase(Phase::Finished, &shared.progress(phase_start, None));
    let histogram = finish(&shared, handles)?;

    let seconds = window_end.duration_since(window_start).as_secs_f64();
    let operations = histogram.len();
    let spent = cpu_end.since(&cpu_start);
    let per = |x: f64, by: f64| if by > 0.0 { x / by } else { 0.0 };
    let cores = per(spent.cpu, seconds);
    let error_samples = shared
        .error_samples
        .lock()
        .map(|samples| samples.clone())
        .unwrap_or_default();
    Ok(Report {
        scenario: config.scenario,
        protocol: config.protocol,
        transport: config.transport,
        url: config.url.clone(),
        nodes: std::iter::once(&config.url)
            .chain(&config.extra_urls)
            .zip(shared.node_connected.iter().zip(&shared.node_operations))
            .map(|(url, (connected, operations))| NodeCount {
                url: url.clone(),
                connected: connected.load(Ordering::Relaxed),
                operations: operations.load(Ordering::Relaxed),
            })
            .collect(),
        clients: config.clients,
        connected: connected - usize::from(shared.sender_connected.load(Ordering::Relaxed)),
        threads,
        payload_bytes: config.payload_bytes,
        binary: config.binary,
        rate: config.rate,
        unit: config.scenario.unit(),
        seconds,
        operations,
        per_second: per(operations as f64, seconds),
        broadcasts: (config.scenario == Scenario::Fanout)
            .then(|| shared.broadcasts.load(Ordering::Relaxed)),
        latency: Latency::from_nanos(&histogram),
        generator_cpu: GeneratorCpu {
            seconds: spent.cpu,
            cores,
            share_of_threads: per(cores, threads as f64),
            waited: spent.wait,
            us_per_operation: per(spent.cpu * 1e6, operations as f64),
        },
        errors: shared.errors.load(Ordering::Relaxed),
        error_samples,
        loadavg: crate::process::loadavg(),
    })
}

/// Sleeps `length`, ticking the observer.
fn wait(shared: &Shared, observer: &mut dyn Observer, start: Instant, length: Duration) {
    loop {
        let left = length.saturating_sub(start.elapsed());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(TICK));
        observer.tick(&shared.progress(start, Some(length)));
    }
}

/// One thread's latencies, in nanoseconds.
struct Recorder {
    shared: Arc<Shared>,
    histogram: RefCell<Histogram<u64>>,
}

impl Recorder {
    /// Counts one operation of a client of `node`, if the window is open.
    fn record(&self, node: usize, nanos: u64) {
        if self.shared.measuring() {
            self.histogram.borrow_mut().saturating_record(nanos.max(1));
            self.shared.operations.fetch_add(1, Ordering::Relaxed);
            if let Some(count) = self.shared.node_operations.get(node) {
                count.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn record_since(&self, node: usize, start: tokio::time::Instant) {
        self.record(
            node,
            u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX),
        );
    }
}

/// What a client does once connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Member,
    FanSender,
}

/// One generator thread: a single-threaded runtime running clients `thread`, `thread +
/// threads`, … until the run finishes. Client `i` goes to node `i mod nodes`, the fan-out sender
/// to the first.
fn worker(shared: &Arc<Shared>, thread: usize, threads: usize) -> Result<Histogram<u64>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let histogram = Histogram::new_with_bounds(1, 3_600_000_000_000, 3)
        .map_err(|e| format!("histogram: {e}"))?;
    let recorder = Rc::new(Recorder {
        shared: shared.clone(),
        histogram: RefCell::new(histogram),
    });
    let frames = Rc::new(Frames::new(&shared.config, &shared.target.namespace)?);
    let permits = Rc::new(Semaphore::new(
        (shared.config.connect_concurrency / threads).max(1),
    ));
    let local = LocalSet::new();
    local.block_on(&runtime, async {
        let clients = shared.config.clients;
        for index in (thread..clients).step_by(threads) {
            let client = Client {
                recorder: recorder.clone(),
                frames: frames.clone(),
                index,
                node: index % shared.nodes(),
                role: Role::Member,
            };
            tokio::task::spawn_local(client.run(permits.clone()));
        }
        if thread == 0 && shared.config.scenario == Scenario::Fanout {
            let client = Client {
                recorder: recorder.clone(),
                frames: frames.clone(),
                index: clients,
                node: 0,
                role: Role::FanSender,
            };
            tokio::task::spawn_local(client.run(permits.clone()));
        }
        let mut phase = shared.phase_tx.subscribe();
        let _ = phase.wait_for(|p| *p == Phase::Finished).await;
    });
    // Dropping the tasks closes their connections.
    drop(local);
    Ok(recorder.histogram.borrow().clone())
}

struct Client {
    recorder: Rc<Recorder>,
    frames: Rc<Frames>,
    index: usize,
    /// The node it connects to (see [`Shared::target`]).
    node: usize,
    role: Role,
}

impl Client {
    fn shared(&self) -> &Shared {
        &self.recorder.shared
    }

    async fn run(self, permits: Rc<Semaphore>) {
        let shared = self.shared();
        let config = &shared.config;
        let conn = {
            let _permit = permits.acquire().await;
            let start = tokio::time::Instant::now();
            let opened = tokio::time::timeout(
                config.timeout,
                Conn::open(config, shared.target(self.node), self.index),
            )
            .await
            .unwrap_or(Err(ClientError::Timeout("the connection")));
            match opened {
                Ok(conn) => {
                    if self.role == Role::FanSender {
                        shared.sender_connected.store(true, Ordering::Relaxed);
                    } else {
                        self.recorder.record_since(self.node, start);
                        if let Some(count) = shared.node_connected.get(self.node) {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    shared
                        .last_connect_ns
                        .fetch_max(shared.now_ns(), Ordering::Relaxed);
                    shared.connected.fetch_add(1, Ordering::Relaxed);
                    conn
                }
                Err(error) => {
                    shared.error(error);
                    shared.failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        };
        let result = match (config.scenario, self.role) {
            (Scenario::Echo, _) => match config.rate {
                None => self.echo_closed_loop(conn).await,
                Some(rate) => self.echo_at_rate(conn, rate).await,
            },
            (Scenario::Fanout, Role::Member) => self.receive_fanout(conn).await,
            (Scenario::Fanout, Role::FanSender) => self.send_fanout(conn).await,
            (Scenario::Connect, _) => idle(conn).await,
        };
        if let Err(error) = result
            && shared.phase() < Phase::Finished
        {
            shared.error(error);
        }
    }

    /// Waits until the load may start.
    async fn started(&self) {
        let mut phase = self.shared().phase_tx.subscribe();
        let _ = phase.wait_for(|p| *p >= Phase::WarmingUp).await;
    }

    async fn echo_closed_loop(&self, mut conn: Conn) -> Result<(), ClientError> {
        self.started().await;
        let timeout = self.shared().config.timeout;
        for id in 1u64.. {
            let start = tokio::time::Instant::now();
            conn.send_echo(&self.frames, id).await?;
            loop {
                match tokio::time::timeout(timeout, conn.next()).await {
                    Err(_) => return Err(ClientError::Timeout("an echo ack")),
                    Ok(incoming) => match incoming? {
                        Incoming::Ack(None) => break,
                        Incoming::Ack(Some(got)) if got == id => break,
                        _ => {}
                    },
                }
            }
            self.recorder.record_since(self.node, start);
        }
        Ok(())
    }

    /// Sends at `rate` per second whatever the answers (open loop: no coordinated omission).
    ///
    /// Latency runs from when the tick fired, not from when it was due: tokio's timer has a
    /// granularity of 1 ms and fires up to that late (more when the host schedules the
    /// generator late), which would add the generator's own lateness to every sample. A tick
    /// that fell due while the previous send was still waiting on the socket was held up by
    /// the server's back-pressure, so it counts from when it was due.
    async fn echo_at_rate(&self, mut conn: Conn, rate: f64) -> Result<(), ClientError> {
        self.started().await;
        let config = &self.shared().config;
        let period = Duration::from_secs_f64(1.0 / rate);
        // Spread the clients over the period rather than all sending at once.
        let offset = period.mul_f64(self.index as f64 / config.clients as f64);
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + offset, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
        let mut in_flight: VecDeque<(u64, tokio::time::Instant)> = VecDeque::new();
        let mut id = 0;
        let mut last_send_done = tokio::time::Instant::now();
        loop {
            tokio::select! {
                due = ticker.tick() => {
                    if in_flight.front().is_some_and(|(_, sent)| sent.elapsed() > config.timeout) {
                        return Err(ClientError::Timeout("an echo ack"));
                    }
                    let start = if due < last_send_done { due } else { tokio::time::Instant::now() };
                    id += 1;
                    conn.send_echo(&self.frames, id).await?;
                    last_send_done = tokio::time::Instant::now();
                    in_flight.push_back((id, start));
                }
                incoming = conn.next() => {
                    let position = match incoming? {
                        Incoming::Ack(None) => Some(0),
                        Incoming::Ack(Some(got)) => in_flight.iter().position(|(id, _)| *id == got),
                        _ => None,
                    };
                    if let Some((_, due)) = position.and_then(|p| in_flight.remove(p)) {
                        self.recorder.record_since(self.node, due);
                    }
                }
            }
        }
    }

    async fn receive_fanout(&self, mut conn: Conn) -> Result<(), ClientError> {
        let shared = self.shared();
        loop {
            if let Incoming::Fan(stamp) = conn.next().await? {
                let Some(sent) = stamp else {
                    return Err(ClientError::Unexpected("`f` without a timestamp".into()));
                };
                self.recorder
                    .record(self.node, shared.now_ns().saturating_sub(sent));
                shared.delivered_one();
            }
        }
    }

    async fn send_fanout(&self, mut conn: Conn) -> Result<(), ClientError> {
        self.started().await;
        let shared = self.shared();
        let config = &shared.config;
        let members = shared.members.load(Ordering::Relaxed);
        let mut ticker = config.rate.map(|rate| {
            let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
            ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
            ticker
        });
        // Deliveries expected before broadcast `sent + 1` may go: all of those older than the
        // window. After a timeout the count starts again from what had arrived.
        let (mut base_delivered, mut base_sent, mut sent) = (0u64, 0u64, 0u64);
        loop {
            match &mut ticker {
                Some(ticker) => loop {
                    tokio::select! {
                        _ = ticker.tick() => break,
                        incoming = conn.next() => { incoming?; }
                    }
                },
                None => {
                    let ahead = (sent - base_sent).saturating_sub(config.fanout_window);
                    let needed = base_delivered + ahead * members;
                    if !self.delivered(&mut conn, needed).await? {
                        shared.error(ClientError::Timeout("fan-out deliveries"));
                        base_delivered = shared.delivered.load(Ordering::Relaxed);
                        base_sent = sent;
                    }
                }
            }
            conn.send_fan(&self.frames, shared.now_ns()).await?;
            sent += 1;
            if shared.measuring() {
                shared.broadcasts.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Waits until `needed` deliveries have arrived (`false` after the timeout), reading the
    /// sender's own connection meanwhile.
    async fn delivered(&self, conn: &mut Conn, needed: u64) -> Result<bool, ClientError> {
        let shared = self.shared();
        let deadline = tokio::time::Instant::now() + shared.config.timeout;
        loop {
            let notified = shared.fan_notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            shared.fan_target.store(needed, Ordering::Relaxed);
            if shared.delivered.load(Ordering::Relaxed) >= needed {
                return Ok(true);
            }
            tokio::select! {
                () = &mut notified => {}
                incoming = conn.next() => { incoming?; }
                () = tokio::time::sleep_until(deadline) => return Ok(false),
            }
        }
    }
}

/// Keeps a connection alive (answering pings) until the run ends.
async fn idle(mut conn: Conn) -> Result<(), ClientError> {
    loop {
        conn.next().await?;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use futures_util::{SinkExt, StreamExt};
    use tokio::sync::broadcast;
    use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

    use crate::{Config, Protocol, Quiet, Scenario};

    /// Per listener: connections set up, `f` frames received.
    #[derive(Default)]
    struct NodeSeen {
        connections: AtomicUsize,
        fans: AtomicUsize,
    }

    /// Two raw WebSocket listeners relaying every `f` frame to every other connection of
    /// either: a two-node cluster speaking the loadgen's raw protocol.
    fn raw_cluster() -> ([u16; 2], [Arc<NodeSeen>; 2]) {
        let listeners: Vec<std::net::TcpListener> = (0..2)
            .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
            .collect();
        let ports = [
            listeners[0].local_addr().unwrap().port(),
            listeners[1].local_addr().unwrap().port(),
        ];
        let seen = [Arc::new(NodeSeen::default()), Arc::new(NodeSeen::default())];
        let for_thread = seen.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (fan, _) = broadcast::channel::<(u64, Utf8Bytes)>(1024);
                let ids = Arc::new(std::sync::atomic::AtomicU64::new(0));
                let mut accepting = Vec::new();
                for (listener, seen) in listeners.into_iter().zip(for_thread) {
                    listener.set_nonblocking(true).unwrap();
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let (fan, ids) = (fan.clone(), ids.clone());
                    accepting.push(tokio::spawn(async move {
                        loop {
                            let (stream, _) = listener.accept().await.unwrap();
                            let id = ids.fetch_add(1, Ordering::Relaxed);
                            let (fan, seen) = (fan.clone(), seen.clone());
                            tokio::spawn(async move {
                                let mut ws = tokio_tungstenite::accept_async(stream).await.unwrap();
                                seen.connections.fetch_add(1, Ordering::Relaxed);
                                let mut relayed = fan.subscribe();
                                loop {
                                    tokio::select! {
                                        message = ws.next() => match message {
                                            Some(Ok(Message::Text(text))) if text.starts_with('f') => {
                                                seen.fans.fetch_add(1, Ordering::Relaxed);
                                                let _ = fan.send((id, text));
                                            }
                                            Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                                            Some(Ok(_)) => {}
                                        },
                                        relayed = relayed.recv() => match relayed {
                                            Ok((from, text)) if from != id => {
                                                if ws.send(Message::Text(text)).await.is_err() {
                                                    return;
                                                }
                                            }
                                            Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                                            Err(broadcast::error::RecvError::Closed) => return,
                                        },
                                    }
                                }
                            });
                        }
                    }));
                }
                for task in accepting {
                    let _ = task.await;
                }
            });
        });
        (ports, seen)
    }

    #[test]
    fn fanout_splits_the_receivers_over_the_nodes() {
        let (ports, seen) = raw_cluster();
        let mut config = Config::new(format!("http://127.0.0.1:{}/", ports[0]));
        config.extra_urls = vec![format!("http://127.0.0.1:{}/", ports[1])];
        config.protocol = Protocol::RawWebSocket;
        config.scenario = Scenario::Fanout;
        config.clients = 5;
        config.threads = 1;
        config.warmup = Duration::from_millis(100);
        config.duration = Duration::from_millis(300);
        let report = crate::run(&config, &mut Quiet).unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.error_samples);
        // Clients 0, 2, 4 on the first node, 1 and 3 on the second; the sender on the first.
        let connected: Vec<usize> = report.nodes.iter().map(|n| n.connected).collect();
        assert_eq!(connected, [3, 2]);
        assert_eq!(report.nodes[1].url, config.extra_urls[0]);
        // Every receiver got deliveries (the sender waits for all of them), so each one's
        // handshake had been counted by its node before.
        assert_eq!(seen[0].connections.load(Ordering::Relaxed), 4);
        assert_eq!(seen[1].connections.load(Ordering::Relaxed), 2);
        assert!(seen[0].fans.load(Ordering::Relaxed) > 0);
        assert_eq!(seen[1].fans.load(Ordering::Relaxed), 0);
        let broadcasts = report.broadcasts.unwrap();
        assert!(broadcasts > 0);
        let total: u64 = report.nodes.iter().map(|n| n.operations).sum();
        assert_eq!(total, report.operations);
        // Each broadcast reaches each node's members once; at the window's edges up to
        // `fanout_window + 1` broadcasts are partly delivered.
        for node in &report.nodes {
            let members = node.connected as u64;
            let expected = broadcasts * members;
            let slack = (config.fanout_window + 1) * members;
            assert!(
                node.operations.abs_diff(expected) <= slack,
                "{node:?}: expected {expected} ± {slack} deliveries for {broadcasts} broadcasts"
            );
        }
    }

    #[test]
    fn one_url_reports_no_nodes() {
        let (ports, _) = raw_cluster();
        let mut config = Config::new(format!("http://127.0.0.1:{}/", ports[0]));
        config.protocol = Protocol::RawWebSocket;
        config.scenario = Scenario::Fanout;
        config.clients = 2;
        config.threads = 1;
        config.warmup = Duration::from_millis(50);
        config.duration = Duration::from_millis(100);
        let report = crate::run(&config, &mut Quiet).unwrap();
        assert_eq!(report.errors, 0, "{:?}", report.error_samples);
        assert!(report.nodes.is_empty());
        assert!(report.operations > 0);
    }
}
