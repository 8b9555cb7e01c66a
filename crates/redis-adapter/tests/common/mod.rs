//! A private redis-server per test file, cluster nodes (the `cluster_node` example, or
//! `peers/cluster-node.js` with the npm adapters), and official socket.io-client clients driven
//! line by line through `peers/sio-client.js`.
//!
//! Nothing sleeps to synchronise: each step waits for the event it expects, within [`STEP`].
//! Missing tools (redis-server, node, the npm peers) fail the tests with what to install.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::{
    collections::VecDeque,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex, OnceLock},
    time::Duration,
};

use serde_json::{Value as Json, json};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::mpsc,
};

/// How long a test waits for any one thing.
pub(crate) const STEP: Duration = Duration::from_secs(10);

pub(crate) fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn peers() -> PathBuf {
    workspace().join("peers")
}

fn require_npm(package: &str) {
    let manifest = peers()
        .join("node_modules")
        .join(package)
        .join("package.json");
    assert!(
        manifest.is_file(),
        "npm package {package} is missing from peers/node_modules: run scripts/setup-peers \
         (scripts/test runs it before cargo test)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts TCP connections on `port`.
async fn wait_for_port(port: u16, what: &str) {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not listen on port {port} within {STEP:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A redis-server of the test's own on a free port (never the machine's 6379).
pub(crate) struct Redis {
    pub(crate) port: u16,
    child: Option<Child>,
}

impl Redis {
    pub(crate) async fn start() -> Redis {
        let mut redis = Redis {
            port: free_port(),
            child: None,
        };
        redis.spawn().await;
        redis
    }

    async fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("could not run redis-server ({e}): install Redis 7 (apt-get install redis-server)")
            });
        self.child = Some(child);
        wait_for_port(self.port, "redis-server").await;
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would).
    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// Starts it again on the same port, empty.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        self.spawn().await;
    }
}

/// Builds the `cluster_node` example once per test binary.
fn cluster_node_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let output = std::process::Command::new(env!("CARGO"))
                .current_dir(workspace())
                .args(["build", "-p", "sio-examples", "--example", "cluster_node"])
                .args(["--message-format=json-render-diagnostics"])
                .stderr(Stdio::inherit())
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "cargo build --example cluster_node failed"
            );
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .filter_map(|line| serde_json::from_str::<Json>(line).ok())
                .filter(|m| m["target"]["name"] == "cluster_node")
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .expect("cargo built no cluster_node executable")
        })
        .clone()
}

/// Which implementation a node runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Rust,
    Node,
}

/// A cluster node: a child process serving on a free port, killed when dropped.
pub(crate) struct ClusterNode {
    pub(crate) kind: Kind,
    pub(crate) port: u16,
    child: Child,
    stderr: Arc<Mutex<String>>,
}

impl ClusterNode {
    /// Starts a node of `kind` with `adapter` (`pubsub`, `streams`) and key prefix `key`.
    pub(crate) async fn start(kind: Kind, redis: &Redis, adapter: &str, key: &str) -> ClusterNode {
        Self::start_with(kind, redis, adapter, key, &[]).await
    }

    /// As [`ClusterNode::start`], with more command-line options.
    pub(crate) async fn start_with(
        kind: Kind,
        redis: &Redis,
        adapter: &str,
        key: &str,
        extra: &[&str],
    ) -> ClusterNode {
        let port = free_port();
        let mut command = match kind {
            Kind::Rust => Command::new(cluster_node_binary()),
            Kind::Node => {
                require_npm("socket.io");
                require_npm("@socket.io/redis-adapter");
                require_npm("@socket.io/redis-streams-adapter");
                require_npm("ioredis");
                let mut command = Command::new("node");
                command.arg(peers().join("cluster-node.js"));
                command
            }
        };
        command
            .args(["--port", &port.to_string(), "--redis", &redis.url()])
            .args(["--adapter", adapter, "--key", key])
            .args(extra);
        Self::launch(kind, command, port).await
    }

    /// Runs a node's `command` (already given `--port port`) until it says it listens, keeping
    /// what it logs on stderr for the failure messages.
    async fn launch(kind: Kind, mut command: Command, port: u16) -> ClusterNode {
        command
            .env("RUST_LOG", "sio_redis_adapter=info")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("could not start a {kind:?} node: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        let reader = tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(STEP, lines.next_line()).await;
        let expected = format!("listening on {port}");
        match line {
            Ok(Ok(Some(line))) if line.trim() == expected => {}
            other => {
                // Everything the node wrote before it went, for the message.
                let _ = child.kill().await;
                let _ = tokio::time::timeout(STEP, reader).await;
                panic!(
                    "{kind:?} node did not start: {other:?}\n--- stderr ---\n{}",
                    stderr.lock().unwrap()
                )
            }
        }
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        wait_for_port(port, "the node").await;
        ClusterNode {
            kind,
            port,
            child,
            stderr,
        }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What the node logged so far.
    pub(crate) fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub(crate) async fn kill(&mut self) {
        let _ = self.child.kill().await;
    }
}

/// A `peers/sio-client.js` process (official socket.io-client 4) connected to one node.
pub(crate) struct Clients {
    name: String,
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    pending: VecDeque<Json>,
    log: Vec<String>,
    requests: usize,
}

impl Clients {
    pub(crate) async fn new(node: &ClusterNode) -> Clients {
        let mut clients = Clients::for_url(&node.url()).await;
        clients.name = format!("clients of {:?} node :{}", node.kind, node.port);
        clients
    }

    /// Clients of the server at `url`.
    pub(crate) async fn for_url(url: &str) -> Clients {
        require_npm("socket.io-client");
        let mut child = Command::new("node")
            .arg(peers().join("sio-client.js"))
            .arg(url)
            .arg("v4")
            .env("SIO_CLIENT_TIMEOUT_MS", "60000")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not run node: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut clients = Clients {
            name: format!("clients of {url}"),
            child,
            stdin,
            lines,
            pending: VecDeque::new(),
            log: Vec::new(),
            requests: 0,
        };
        clients.wait("ready", |e| e["ev"] == "ready").await;
        clients
    }

    pub(crate) async fn send(&mut self, command: Json) {
        let mut line = command.to_string();
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await.unwrap();
    }

    /// The first event (already received or coming within [`STEP`]) that `matches`.
    pub(crate) async fn wait(&mut self, what: &str, matches: impl Fn(&Json) -> bool) -> Json {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i).unwrap();
        }
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => panic!(
                    "{}: exited while waiting for {what}\n{}",
                    self.name,
                    self.log.join("\n")
                ),
                Err(_) => panic!(
                    "{}: no {what} within {STEP:?}\n{}",
                    self.name,
                    self.log.join("\n")
                ),
            };
            self.log.push(line.clone());
            let event: Json = serde_json::from_str(&line).unwrap();
            assert_ne!(event["ev"], "fail", "{}: {line}", self.name);
            if matches(&event) {
                return event;
            }
            self.pending.push_back(event);
        }
    }

    /// The first event that `matches` within `within`, if any.
    pub(crate) async fn try_wait(
        &mut self,
        within: Duration,
        matches: impl Fn(&Json) -> bool,
    ) -> Option<Json> {
        if let Some(i) = self.pending.iter().position(&matches) {
            return self.pending.remove(i);
        }
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(line)) = tokio::time::timeout_at(deadline, self.lines.recv()).await {
            self.log.push(line.clone());
            let event: Json = serde_json::from_str(&line).unwrap();
            if matches(&event) {
                return Some(event);
            }
            self.pending.push_back(event);
        }
        None
    }

    /// Whether an event that `matches` has arrived (without waiting).
    pub(crate) fn has(&mut self, matches: impl Fn(&Json) -> bool) -> bool {
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line.clone());
            self.pending.push_back(serde_json::from_str(&line).unwrap());
        }
        self.pending.iter().any(matches)
    }

    /// Connects socket `s` (its own connection) with `auth`; returns its id.
    pub(crate) async fn connect(&mut self, s: &str, auth: Json) -> String {
        self.send(json!({"op": "manager", "m": s, "opts": {"transports": ["websocket"], "reconnectionDelay": 100, "reconnectionDelayMax": 300}}))
            .await;
        self.send(json!({"op": "socket", "s": s, "m": s, "nsp": "/", "opts": {"auth": auth}}))
            .await;
        let connect = self
            .wait(&format!("connect of {s}"), |e| {
                e["ev"] == "connect" && e["s"] == s
            })
            .await;
        connect["id"].as_str().unwrap().to_owned()
    }

    /// Emits with an acknowledgement without waiting for it; see [`Clients::wait_ack`].
    pub(crate) async fn start_call(&mut self, s: &str, event: &str, args: Json) -> String {
        self.requests += 1;
        let req = format!("{s}-{}", self.requests);
        self.send(json!({"op": "call", "s": s, "req": req, "event": event, "args": args}))
            .await;
        req
    }

    /// The arguments of the ack of request `req`.
    pub(crate) async fn wait_ack(&mut self, req: &str) -> Json {
        let ack = self
            .wait(&format!("ack of {req}"), |e| {
                (e["ev"] == "ack" || e["ev"] == "ack_error") && e["req"] == req
            })
            .await;
        assert_eq!(ack["ev"], "ack", "{}: {ack}", self.name);
        ack["args"].clone()
    }

    /// Emits with an acknowledgement; returns the ack's arguments.
    pub(crate) async fn call(&mut self, s: &str, event: &str, args: Json) -> Json {
        let req = self.start_call(s, event, args).await;
        self.wait_ack(&req).await
    }

    /// The first argument of the ack.
    pub(crate) async fn ask(&mut self, s: &str, event: &str, args: Json) -> Json {
        self.call(s, event, args).await[0].clone()
    }

    /// The next event `name` received by socket `s`.
    pub(crate) async fn event(&mut self, s: &str, name: &str) -> Json {
        self.wait(&format!("event {name} on {s}"), |e| {
            e["ev"] == "event" && e["s"] == s && e["name"] == name
        })
        .await
    }

    /// Answers a server's acknowledgement request.
    pub(crate) async fn answer(&mut self, s: &str, event: &Json, args: Json) {
        self.send(json!({"op": "ack", "s": s, "ack": event["ack"], "args": args}))
            .await;
    }

    /// Whether socket `s` received event `name` (among what arrived so far).
    pub(crate) fn received(&mut self, s: &str, name: &str) -> bool {
        self.has(|e| e["ev"] == "event" && e["s"] == s && e["name"] == name)
    }

    pub(crate) async fn wait_disconnect(&mut self, s: &str) -> Json {
        self.wait(&format!("disconnect of {s}"), |e| {
            e["ev"] == "disconnect" && e["s"] == s
        })
        .await
    }
}

/// Polls `ask` on a client until it answers `expected` (cluster membership settles
/// asynchronously: a node counts once its subscriptions are in place).
pub(crate) async fn until_answer(
    clients: &mut Clients,
    s: &str,
    event: &str,
    args: Json,
    expected: Json,
) {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let answer = clients.ask(s, event, args.clone()).await;
        if answer == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{event} answered {answer}, not {expected}, within {STEP:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every server-wide operation, from every node, seen by clients on every node.
#[allow(clippy::needless_range_loop)]
pub(crate) async fn cluster_works(kinds: &[Kind], adapter: &str, key: &str) {
    let redis = Redis::start().await;
    let mut nodes = Vec::new();
    for kind in kinds {
        nodes.push(ClusterNode::start(*kind, &redis, adapter, key).await);
    }
    let n = nodes.len();
    let mut clients = Vec::new();
    for node in &nodes {
        clients.push(Clients::new(node).await);
    }
    // Two sockets per node: a{i} in room r1, b{i} in room other.
    let mut a_ids = Vec::new();
    for (i, c) in clients.iter_mut().enumerate() {
        let a = format!("a{i}");
        let b = format!("b{i}");
        a_ids.push(c.connect(&a, json!({"node": i})).await);
        c.connect(&b, json!({})).await;
        assert_eq!(c.event(&a, "auth").await["args"], json!([{"node": i}]));
        assert_eq!(c.ask(&a, "join", json!(["r1"])).await, json!(true));
        assert_eq!(c.ask(&b, "join", json!(["other"])).await, json!(true));
    }
    a_ids.sort();
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer(c, &format!("a{i}"), "server-count", json!([]), json!(n)).await;
        assert_eq!(c.ask(&format!("a{i}"), "count", json!([])).await, json!(2));
    }

    // Room broadcasts from every node reach the room's sockets on every node, only them.
    for i in 0..n {
        let from = format!("a{i}");
        let args =
            json!(["r1", "news", i, format!("from {:?}", nodes[i].kind), {"nested": [1.5, null]}]);
        assert_eq!(clients[i].ask(&from, "to-room", args).await, json!(true));
        for (j, c) in clients.iter_mut().enumerate() {
            let news = c.event(&format!("a{j}"), "news").await;
            assert_eq!(
                news["args"],
                json!([i, format!("from {:?}", nodes[i].kind), {"nested": [1.5, null]}]),
                "node {j} got news from node {i}"
            );
        }
    }
    // A marker to the other room, after the news: the b sockets saw no news before it.
    let last = format!("a{}", n - 1);
    assert_eq!(
        clients[n - 1]
            .ask(&last, "to-room", json!(["other", "marker"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        let b = format!("b{j}");
        c.event(&b, "marker").await;
        assert!(
            !c.received(&b, "news"),
            "b{j} is not in r1 but got its news"
        );
    }

    // fetchSockets from every node sees every node's sockets.
    for (i, c) in clients.iter_mut().enumerate() {
        let ids = c
            .ask(&format!("a{i}"), "fetch-sockets", json!(["r1"]))
            .await;
        assert_eq!(ids, json!(a_ids), "fetch-sockets on node {i}");
    }

    // Broadcast with acks: answers from the clients of every node.
    for i in 0..n {
        let req = clients[i]
            .start_call(&format!("a{i}"), "ask-room", json!(["r1", "question", i]))
            .await;
        let mut expected = Vec::new();
        for (j, c) in clients.iter_mut().enumerate() {
            let s = format!("a{j}");
            let question = c.event(&s, "question").await;
            assert_eq!(question["args"], json!([i]));
            let answer = format!("answer {j}");
            c.answer(&s, &question, json!([answer])).await;
            expected.push(answer);
        }
        expected.sort();
        assert_eq!(
            clients[i].wait_ack(&req).await,
            json!([expected]),
            "acks on node {i}"
        );
    }

    // Server-side emit with acks: one answer per other node.
    for i in 0..n {
        let mut others: Vec<String> = nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, node)| format!("node:{}", node.port))
            .collect();
        others.sort();
        let answers = clients[i]
            .ask(&format!("a{i}"), "server-side-emit", json!(["whoami"]))
            .await;
        assert_eq!(answers, json!(others), "server-side emit from node {i}");
    }

    // socketsJoin from the first node: every b joins r2 wherever it is.
    assert_eq!(
        clients[0]
            .ask("a0", "sockets-join", json!(["other", "r2"]))
            .await,
        json!(true)
    );
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer_len(c, &format!("a{i}"), "r2", n).await;
    }
    assert_eq!(
        clients[n - 1]
            .ask(&last, "to-room", json!(["r2", "r2news", "x"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        assert_eq!(
            c.event(&format!("b{j}"), "r2news").await["args"],
            json!(["x"])
        );
    }
    // socketsLeave from the last node.
    assert_eq!(
        clients[n - 1]
            .ask(&last, "sockets-leave", json!(["other", "r2"]))
            .await,
        json!(true)
    );
    for (i, c) in clients.iter_mut().enumerate() {
        until_answer_len(c, &format!("a{i}"), "r2", 0).await;
    }

    // disconnectSockets from the last node disconnects every b.
    assert_eq!(
        clients[n - 1]
            .ask(&last, "disconnect-room", json!(["other"]))
            .await,
        json!(true)
    );
    for (j, c) in clients.iter_mut().enumerate() {
        let reason = c.wait_disconnect(&format!("b{j}")).await;
        assert_eq!(reason["reason"], "io server disconnect");
    }
    for (i, c) in clients.iter_mut().enumerate() {
        assert_eq!(c.ask(&format!("a{i}"), "count", json!([])).await, json!(1));
    }
    drop(redis);
}

/// Waits until `fetch-sockets room` lists `len` sockets.
async fn until_answer_len(c: &mut Clients, s: &str, room: &str, len: usize) {
    let deadline = tokio::time::Instant::now() + STEP;
    loop {
        let ids = c.ask(s, "fetch-sockets", json!([room])).await;
        if ids.as_array().map(Vec::len) == Some(len) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{room} has {ids}, not {len} sockets"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A free TCP port on 127.0.0.1, for servers a test starts itself.
pub(crate) fn any_free_port() -> u16 {
    free_port()
}

/// Waits until something accepts TCP connections on `port` (within [`STEP`]).
pub(crate) async fn wait_listening(port: u16, what: &str) {
    wait_for_port(port, what).await;
}

impl ClusterNode {
    /// A Rust node (`cluster_node`) on `redis_url` (any URL the adapters accept, e.g.
    /// `rediss://…`), with `envs` set for the node's process.
    pub(crate) async fn start_rust_at(
        redis_url: &str,
        adapter: &str,
        key: &str,
        envs: &[(&str, &str)],
    ) -> ClusterNode {
        let port = free_port();
        let mut command = Command::new(cluster_node_binary());
        command
            .args(["--port", &port.to_string(), "--redis", redis_url])
            .args(["--adapter", adapter, "--key", key])
            .envs(envs.iter().copied());
        Self::launch(Kind::Rust, command, port).await
    }
}
