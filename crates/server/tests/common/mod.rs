//! A Socket.IO server on a free port, and real clients (Node and Python) driven line by line.
//!
//! The clients are the official packages installed by `scripts/setup-peers` into `peers/`
//! (`scripts/test` runs it before `cargo test`). Without them the tests fail and say so: they are
//! never skipped. Each client runs `peers/sio-client.js` or `peers/sio_client.py`, which read
//! JSON commands on stdin and print one JSON event per line; a test sends a command, then waits
//! for the events it expects, each within a deadline. Nothing sleeps to synchronise.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

use std::{
    collections::VecDeque,
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::{Value as Json, json};
use sio_server::{ServerConfig, SocketIo, Value};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    process::{Child, ChildStdin, Command},
    sync::{mpsc, oneshot},
};

/// How long a test waits for any one thing a client or the server should do.
pub(crate) const STEP: Duration = Duration::from_secs(10);

/// A server serving on 127.0.0.1 on a free port; stops when dropped.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) io: SocketIo,
    _stop: oneshot::Sender<()>,
}

impl TestServer {
    /// The base URL clients connect to.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts `SocketIo::new(config)` on a free port. Handlers may be added afterwards.
pub(crate) async fn start(config: ServerConfig) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = SocketIo::new(config);
    let (stop, stopped) = oneshot::channel::<()>();
    let server = io.clone();
    tokio::spawn(async move {
        server
            .serve(listener, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    TestServer {
        addr,
        io,
        _stop: stop,
    }
}

/// A channel from server handlers to the test.
pub(crate) fn probe<T>() -> (mpsc::UnboundedSender<T>, Probe<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Probe(rx))
}

/// The receiving end of [`probe`].
pub(crate) struct Probe<T>(mpsc::UnboundedReceiver<T>);

impl<T> Probe<T> {
    /// The next value, within [`STEP`].
    pub(crate) async fn next(&mut self) -> T {
        tokio::time::timeout(STEP, self.0.recv())
            .await
            .unwrap_or_else(|_| panic!("the server reported nothing within {STEP:?}"))
            .expect("every sender of the probe is gone")
    }

    /// A value already sent, if any.
    pub(crate) fn try_next(&mut self) -> Option<T> {
        self.0.try_recv().ok()
    }
}

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

fn require_node_peers() {
    for package in [
        "socket.io-client",
        "socket.io-client-v2",
        "socket.io-msgpack-parser",
    ] {
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
}

fn python() -> PathBuf {
    // setup-peers writes this stamp once requirements.txt is installed.
    let installed = peers().join(".venv/.sio-lock-hash");
    assert!(
        installed.is_file(),
        "python-socketio is not installed in peers/.venv: run scripts/setup-peers \
         (scripts/test runs it before cargo test)"
    );
    peers().join(".venv/bin/python")
}

/// One client process and what it printed so far.
pub(crate) struct Peer {
    name: String,
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Arc<Mutex<String>>,
    /// Events received but not yet taken by a `wait`.
    pending: VecDeque<Json>,
    /// Every line, for failure messages.
    log: Vec<String>,
}

impl Peer {
    /// `peers/sio-client.js` with socket.io-client 4 (`"v4"`) or 2 (`"v2"`).
    pub(crate) async fn node(server: &TestServer, version: &str) -> Peer {
        require_node_peers();
        let mut command = Command::new("node");
        command
            .arg(peers().join("sio-client.js"))
            .arg(server.url())
            .arg(version);
        Peer::spawn(
            format!("socket.io-client {version}"),
            command,
            "node (Node.js 18+)",
        )
        .await
    }

    /// `peers/sio_client.py` with python-socketio's AsyncClient.
    pub(crate) async fn python(server: &TestServer) -> Peer {
        let mut command = Command::new(python());
        command.arg(peers().join("sio_client.py")).arg(server.url());
        Peer::spawn("python-socketio".into(), command, "peers/.venv/bin/python").await
    }

    async fn spawn(name: String, mut command: Command, program: &str) -> Peer {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("could not run {program}: {e}"));
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = reader.next_line().await {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stderr_pipe.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut peer = Peer {
            name,
            child,
            stdin,
            lines,
            stderr,
            pending: VecDeque::new(),
            log: Vec::new(),
        };
        peer.wait("the script to start", |e| e["ev"] == "ready")
            .await;
        peer
    }

    /// Sends one command.
    pub(crate) async fn send(&mut self, command: Json) {
        let mut line = command.to_string();
        line.push('\n');
        if let Err(error) = self.stdin.write_all(line.as_bytes()).await {
            self.die(&format!("could not send {command}: {error}"))
                .await;
        }
    }

    async fn die(&mut self, why: &str) -> ! {
        // Whatever is left on stdout tells what happened last.
        while let Ok(line) = self.lines.try_recv() {
            self.log.push(line);
        }
        let _ = self.child.start_kill();
        panic!(
            "{}: {why}\n--- client output ---\n{}\n--- client stderr ---\n{}",
            self.name,
            self.log.join("\n"),
            self.stderr.lock().unwrap()
        );
    }

    /// The first event (already received or coming within [`STEP`]) that `matches`; other
    /// events stay available to later waits. A `fail` event from the script ends the test.
    pub(crate) async fn wait(&mut self, what: &str, matches: impl Fn(&Json) -> bool) -> Json {
        let i = self.fill_until(what, matches).await;
        self.pending.remove(i).unwrap()
    }

    /// Waits for the event named `name` on socket `s` and returns the events of `s` that
    /// arrived before it and were not taken yet, in order (the marker itself is taken too).
    /// With a marker sent last, this shows everything a socket received before it.
    pub(crate) async fn events_before(&mut self, s: &str, name: &str) -> Vec<Json> {
        let what = format!("event {name} on {s}");
        self.before(s, &what, |e| {
            e["ev"] == "event" && e["s"] == s && e["name"] == name
        })
        .await
        .1
    }

    /// The first event that `matches` (as [`Peer::wait`]) and the events of socket `s` that
    /// arrived before it and were not taken yet, in order; all are taken.
    pub(crate) async fn before(
        &mut self,
        s: &str,
        what: &str,
        matches: impl Fn(&Json) -> bool,
    ) -> (Json, Vec<Json>) {
        let i = self.fill_until(what, matches).await;
        let mut found = Json::Null;
        let mut before = Vec::new();
        let mut rest = VecDeque::new();
        for (j, event) in self.pending.drain(..).enumerate() {
            if j == i {
                found = event;
            } else if j < i && event["s"] == s {
                before.push(event);
            } else {
                rest.push_back(event);
            }
        }
        self.pending = rest;
        (found, before)
    }

    /// Reads events until one `matches`; returns its index in `pending`.
    async fn fill_until(&mut self, what: &str, matches: impl Fn(&Json) -> bool) -> usize {
        if let Some(i) = self.pending.iter().position(&matches) {
            return i;
        }
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let line = match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => line,
                Ok(None) => {
                    let status = self.child.wait().await;
                    self.die(&format!("exited ({status:?}) while waiting for {what}"))
                        .await
                }
                Err(_) => self.die(&format!("no {what} within {STEP:?}")).await,
            };
            self.log.push(line.clone());
            let event: Json = match serde_json::from_str(&line) {
                Ok(event) => event,
                Err(_) => {
                    self.die(&format!("printed a line that is not JSON: {line}"))
                        .await
                }
            };
            if event["ev"] == "fail" {
                self.die(&format!("the script failed while waiting for {what}"))
                    .await;
            }
            let found = matches(&event);
            self.pending.push_back(event);
            if found {
                return self.pending.len() - 1;
            }
        }
    }

    /// The next event `ev` of socket `s`.
    pub(crate) async fn wait_ev(&mut self, ev: &str, s: &str) -> Json {
        self.wait(&format!("{ev} on {s}"), |e| e["ev"] == ev && e["s"] == s)
            .await
    }

    /// The next event named `name` received by socket `s`.
    pub(crate) async fn wait_event(&mut self, s: &str, name: &str) -> Json {
        self.wait(&format!("event {name} on {s}"), |e| {
            e["ev"] == "event" && e["s"] == s && e["name"] == name
        })
        .await
    }

    /// The answer to the client's request `req`.
    pub(crate) async fn wait_ack(&mut self, req: &str) -> Json {
        self.wait(&format!("ack {req}"), |e| {
            (e["ev"] == "ack" || e["ev"] == "ack_error") && e["req"] == req
        })
        .await
    }

    /// Creates a Manager (one connection) with client options.
    pub(crate) async fn manager(&mut self, m: &str, opts: Json) {
        self.send(json!({"op": "manager", "m": m, "opts": opts}))
            .await;
    }

    /// Creates socket `s` on namespace `nsp` of manager `m` (created with default options
    /// if needed); it connects at once.
    pub(crate) async fn socket(&mut self, s: &str, m: &str, nsp: &str, opts: Json) {
        self.send(json!({"op": "socket", "s": s, "m": m, "nsp": nsp, "opts": opts}))
            .await;
    }

    /// A socket on its own manager with `opts` (client options and socket options together),
    /// and its `connect` event.
    pub(crate) async fn connect(&mut self, s: &str, nsp: &str, opts: Json) -> Json {
        self.manager(s, opts.clone()).await;
        self.socket(s, s, nsp, opts).await;
        self.wait_ev("connect", s).await
    }

    pub(crate) async fn emit(&mut self, s: &str, event: &str, args: Json) {
        self.send(json!({"op": "emit", "s": s, "event": event, "args": args}))
            .await;
    }

    /// Emits with an acknowledgement and returns the `ack` (or `ack_error`) event.
    pub(crate) async fn call(&mut self, s: &str, event: &str, args: Json, extra: Json) -> Json {
        let req = format!("{s}-{event}-{}", self.log.len());
        let mut command = json!({"op": "call", "s": s, "req": req, "event": event, "args": args});
        if let (Some(command), Some(extra)) = (command.as_object_mut(), extra.as_object()) {
            command.extend(extra.clone());
        }
        self.send(command).await;
        self.wait_ack(&req).await
    }

    /// Answers the server's acknowledgement request `ack` (from an `event`).
    pub(crate) async fn ack(&mut self, s: &str, ack: &Json, args: Json) {
        self.send(json!({"op": "ack", "s": s, "ack": ack, "args": args}))
            .await;
    }

    /// The socket's state as the client sees it.
    pub(crate) async fn state(&mut self, s: &str) -> Json {
        self.send(json!({"op": "state", "s": s})).await;
        self.wait_ev("state", s).await
    }

    /// Every line printed so far (for assertion messages).
    pub(crate) fn log(&self) -> String {
        self.log.join("\n")
    }
}

/// A server value as JSON, binary as `{"$bin": [bytes]}` (the client scripts' convention).
pub(crate) fn to_json(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => match (i.as_i64(), i.as_u64()) {
            (Some(n), _) => json!(n),
            (None, Some(n)) => json!(n),
            _ => Json::Null,
        },
        Value::F32(f) => json!(f),
        Value::F64(f) => json!(f),
        Value::String(s) => Json::String(s.as_str().unwrap_or_default().to_owned()),
        Value::Binary(bytes) => json!({ "$bin": bytes }),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(fields) => Json::Object(
            fields
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
                        other => other.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect(),
        ),
        Value::Ext(..) => panic!("unexpected msgpack extension value {value:?}"),
    }
}

/// Arguments as JSON.
pub(crate) fn args_json(args: &[Value]) -> Json {
    Json::Array(args.iter().map(to_json).collect())
}

/// JSON as a server value, `{"$bin": [bytes]}` as binary.
pub(crate) fn from_json(json: &Json) -> Value {
    match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::from(i),
            (None, Some(u)) => Value::from(u),
            _ => Value::from(n.as_f64().unwrap()),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        Json::Object(fields) => {
            if let (1, Some(Json::Array(bytes))) = (fields.len(), fields.get("$bin")) {
                return Value::Binary(bytes.iter().map(|b| b.as_u64().unwrap() as u8).collect());
            }
            Value::Map(
                fields
                    .iter()
                    .map(|(k, v)| (Value::from(k.as_str()), from_json(v)))
                    .collect(),
            )
        }
    }
}
