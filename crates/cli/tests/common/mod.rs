//! What the `sio listen` and `sio emit` tests share: the built `sio` binary as a child process
//! whose output lines are awaited with a timeout, `sio serve` on a free port, our server
//! in-process, and the real Node and Python peers (the client crate's test helper, shared).
#![allow(dead_code)]

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value as Json, json};
use sio_server::{ConnectError, Event, ServerConfig, SocketIo, SocketRef};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// `peers/sio-server.js` (npm socket.io 4.8, 2.5, 0.9.19) and `peers/sio_server.py`
/// (python-socketio), as the client's interop tests start them.
#[path = "../../../client/tests/common/mod.rs"]
mod peers;
#[allow(unused_imports)]
pub(crate) use peers::Server as Peer;

/// How long any awaited line or exit may take.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// The `sio` binary with `args`.
pub(crate) fn sio(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sio"));
    command
        .args(args)
        .env_remove("NO_COLOR")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// What a finished `sio` run gave.
#[derive(Debug)]
pub(crate) struct Output {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `sio args` to the end.
pub(crate) async fn run(args: &[&str]) -> Output {
    let output = tokio::time::timeout(WAIT, sio(args).output())
        .await
        .unwrap_or_else(|_| panic!("sio {args:?} did not finish within {WAIT:?}"))
        .expect("run sio");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// A running `sio` process whose stdout is read line by line.
pub(crate) struct Running {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Every line read so far, for failure messages and order checks.
    pub(crate) seen: Vec<String>,
    stderr: tokio::task::JoinHandle<String>,
}

impl Running {
    pub(crate) fn start(args: &[&str]) -> Running {
        Running::spawn(sio(args))
    }

    /// Starts `command` (made by [`sio`], then changed: another `RUST_LOG`, say).
    pub(crate) fn spawn(mut command: Command) -> Running {
        let mut child = command.spawn().expect("start sio");
        let stdout = child.stdout.take().unwrap();
        let mut stderr = child.stderr.take().unwrap();
        let stderr = tokio::spawn(async move {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text).await;
            text
        });
        Running {
            child,
            lines: BufReader::new(stdout).lines(),
            seen: Vec::new(),
            stderr,
        }
    }

    /// The next stdout line.
    pub(crate) async fn line(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.lines.next_line()).await {
            Ok(Ok(Some(line))) => {
                self.seen.push(line.clone());
                line
            }
            Ok(_) => {
                let stderr = self.stderr_now().await;
                panic!(
                    "stdout ended; lines so far: {:#?}; stderr: {stderr}",
                    self.seen
                )
            }
            Err(_) => panic!("no line within {WAIT:?}; lines so far: {:#?}", self.seen),
        }
    }

    /// Reads lines until one satisfies `pred`; returns it.
    pub(crate) async fn line_where(&mut self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let next = tokio::time::timeout_at(deadline, self.lines.next_line()).await;
            match next {
                Ok(Ok(Some(line))) => {
                    self.seen.push(line.clone());
                    if pred(&line) {
                        return line;
                    }
                }
                Ok(_) => {
                    let stderr = self.stderr_now().await;
                    panic!(
                        "stdout ended before {what}; lines: {:#?}; stderr: {stderr}",
                        self.seen
                    )
                }
                Err(_) => panic!("no {what} within {WAIT:?}; lines: {:#?}", self.seen),
            }
        }
    }

    /// Reads JSON lines until one satisfies `pred`; returns it.
    pub(crate) async fn json_where(&mut self, what: &str, pred: impl Fn(&Json) -> bool) -> Json {
        let line = self
            .line_where(what, |line| {
                let value: Json = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                pred(&value)
            })
            .await;
        serde_json::from_str(&line).unwrap()
    }

    /// The next JSON line of type `kind` (`event` lines are matched on their event name too:
    /// `event:tick`).
    pub(crate) async fn json_of(&mut self, kind: &str) -> Json {
        let (kind, event) = match kind.split_once(':') {
            Some((kind, event)) => (kind.to_owned(), Some(event.to_owned())),
            None => (kind.to_owned(), None),
        };
        self.json_where(&format!("a {kind} line"), |v| {
            v["type"] == kind.as_str() && event.as_deref().is_none_or(|name| v["event"] == name)
        })
        .await
    }

    /// The stderr of a process whose stdout ended.
    async fn stderr_now(&mut self) -> String {
        match tokio::time::timeout(Duration::from_secs(5), &mut self.stderr).await {
            Ok(Ok(text)) => text,
            _ => "(not available)".to_owned(),
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id().expect("still running")
    }

    /// Sends `signal` (`INT`, `TERM`) and waits for the exit; returns the code and stderr.
    pub(crate) async fn signal(self, signal: &str) -> (Option<i32>, String) {
        let status = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success());
        self.wait().await
    }

    /// Waits for the exit; returns the code and stderr.
    pub(crate) async fn wait(mut self) -> (Option<i32>, String) {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("sio did not exit; lines: {:#?}", self.seen))
            .unwrap();
        let stderr = self.stderr.await.unwrap();
        (status.code(), stderr)
    }
}

/// A port nothing listens on (bound, then released).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// `sio serve` on a free port, logging at DEBUG; its log lines (stdout) can be awaited.
pub(crate) struct Serve {
    pub(crate) running: Running,
    pub(crate) port: u16,
}

impl Serve {
    pub(crate) async fn start() -> Serve {
        let port = free_port();
        // Events are logged at DEBUG, and tests read the server's log of them.
        let mut command = sio(&["serve", "--port", &port.to_string()]);
        command.env("RUST_LOG", "debug");
        let mut running = Running::spawn(command);
        running
            .line_where("the listening line", |l| l.contains("listening on"))
            .await;
        Serve { running, port }
    }

    pub(crate) fn url(&self, nsp: &str) -> String {
        format!("http://127.0.0.1:{}{nsp}", self.port)
    }
}

/// Our server in-process, on a runtime of its own; stops when dropped. Namespace `/`:
/// a CONNECT whose auth token is `bad` is refused with `unauthorized` and data
/// `{"reason":"expired"}`; `handshake` is acknowledged with `{auth, header, query}` (the
/// `x-token` header and the `k` query parameter it received); `echo` is acknowledged with its
/// arguments.
pub(crate) struct Ours {
    pub(crate) port: u16,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Ours {
    pub(crate) fn start() -> Ours {
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                port_tx.send(listener.local_addr().unwrap().port()).unwrap();
                let io = SocketIo::new(ServerConfig::default());
                let root = io.of("/");
                root.use_middleware(|socket: SocketRef| async move {
                    let auth = auth_of(&socket);
                    if auth["token"] == "bad" {
                        Err(ConnectError::new("unauthorized")
                            .with_data(json!({"reason": "expired"})))
                    } else {
                        Ok(())
                    }
                });
                root.on_connection(|socket: SocketRef| async move {
                    socket.on(
                        "handshake",
                        |socket: SocketRef, mut event: Event| async move {
                            let handshake = socket.handshake();
                            let header = handshake
                                .headers
                                .get("x-token")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let answer = json!({
                                "auth": auth_of(&socket),
                                "header": header,
                                "query": handshake.query("k"),
                            });
                            event.ack(&answer).unwrap();
                        },
                    );
                    socket.on("echo", |_socket: SocketRef, mut event: Event| async move {
                        let args = std::mem::take(&mut event.args);
                        if let Some(ack) = event.ack.take() {
                            ack.send_values(args).unwrap();
                        }
                    });
                });
                io.serve(listener, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        Ours {
            port: port_rx.recv_timeout(Duration::from_secs(10)).unwrap(),
            _stop: stop,
        }
    }

    pub(crate) fn url(&self, nsp: &str) -> String {
        format!("http://127.0.0.1:{}{nsp}", self.port)
    }
}

fn auth_of(socket: &SocketRef) -> Json {
    sio_server::proto::from_value::<Json>(socket.handshake().auth.clone()).unwrap_or(Json::Null)
}
