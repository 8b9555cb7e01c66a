//! Real servers for the interop tests: `peers/sio-server.js` (npm socket.io 4.8, 2.5, 0.9.19)
//! and `peers/sio_server.py` (python-socketio), started per test on a free port. The peers are
//! installed by `scripts/setup-peers`; a missing peer fails the test, it is never skipped.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value as Json;
use serde_json::json;
use sio_client::{Bytes, Client, ClientBuilder, ClientEvent, Event, EventStream};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub(crate) fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// A server process; killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    kind: String,
    opts: Json,
}

impl Server {
    /// `kind`: `v4`, `v2`, `v09` (Node), `py` (python-socketio on aiohttp) or `py-http10`
    /// (python-socketio behind an HTTP/1.0 server that closes every connection after its
    /// response, `peers/sio_server_http10.py`).
    pub(crate) async fn start(kind: &str, opts: Json) -> Server {
        let mut command = if kind.starts_with("py") {
            let python = peers_dir().join(".venv/bin/python");
            assert!(
                python.exists(),
                "peers/.venv is missing: run scripts/setup-peers"
            );
            let mut c = Command::new(python);
            c.arg(peers_dir().join(if kind == "py-http10" {
                "sio_server_http10.py"
            } else {
                "sio_server.py"
            }));
            c
        } else {
            assert!(
                peers_dir().join("node_modules/socket.io").exists(),
                "peers/node_modules is missing: run scripts/setup-peers"
            );
            let mut c = Command::new("node");
            c.arg(peers_dir().join("sio-server.js")).arg(kind);
            c
        };
        command
            .arg(opts.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("start the server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = tokio::time::timeout(Duration::from_secs(15), lines.next_line())
            .await
            .expect("the server prints its port")
            .unwrap()
            .expect("a line");
        let port: Json = serde_json::from_str(&line).unwrap();
        let port = u16::try_from(port["port"].as_u64().unwrap()).unwrap();
        // Keep draining stdout so the server never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server {
            child,
            port,
            kind: kind.to_owned(),
            opts,
        }
    }

    pub(crate) fn url(&self, nsp: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, nsp)
    }

    pub(crate) async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }

    /// Kills the process and starts it again on the same port.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        let mut opts = self.opts.clone();
        opts["port"] = self.port.into();
        let mut last = None;
        // The port may take a moment to be free again.
        for _ in 0..20 {
            match tokio::time::timeout(
                Duration::from_secs(5),
                Server::start(&self.kind, opts.clone()),
            )
            .await
            {
                Ok(server) => {
                    last = Some(server);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        *self = last.expect("restarted");
    }
}

/// Waits for the next server event named `name` (skipping others), as JSON arguments.
pub(crate) async fn next_event(events: &mut EventStream, name: &str) -> Event {
    tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match events.next().await {
                Some(ClientEvent::Event(event)) if event.name == name => return event,
                Some(_) => {}
                None => panic!("stream ended while waiting for {name}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for event {name}"))
}

/// Waits for a lifecycle event matching `pred`.
pub(crate) async fn wait_for(
    events: &mut EventStream,
    what: &str,
    pred: impl Fn(&ClientEvent) -> bool,
) -> ClientEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match events.next().await {
                Some(event) if pred(&event) => return event,
                Some(_) => {}
                None => panic!("stream ended while waiting for {what}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

/// The arguments as JSON (no binary inside).
pub(crate) fn json_args(event: &Event) -> Json {
    event.args::<Json>().unwrap()
}

pub(crate) async fn connect(builder: sio_client::ClientBuilder) -> Client {
    tokio::time::timeout(Duration::from_secs(20), builder.connect())
        .await
        .expect("connect in time")
        .expect("connected")
}

#[derive(Debug, Deserialize, PartialEq)]
struct Nested {
    buf: Bytes,
}

#[derive(Debug, Deserialize, PartialEq)]
struct BinaryPayload {
    nested: Nested,
    list: Vec<Bytes>,
    n: u32,
}

/// Events, acknowledgements both ways, binary both ways; returns the Engine.IO id.
pub(crate) async fn exercise(builder: ClientBuilder, binary: bool) -> (Client, String) {
    let builder = builder.on("question", |_client: Client, event: Event| async move {
        let (q, n): (String, u32) = event.args().unwrap();
        event.ack(&(format!("re: {q}"), n + 1)).unwrap();
    });
    let (client, mut events) =
        tokio::time::timeout(Duration::from_secs(20), builder.connect_with_events())
            .await
            .unwrap()
            .unwrap();
    assert!(client.connected());
    let welcome = json_args(&next_event(&mut events, "welcome").await)[0].clone();
    assert_eq!(welcome["id"], json!(client.id().unwrap()));
    assert_eq!(welcome["nsp"], json!(client.namespace()));

    // Plain event, echoed back as an event.
    let args = json!([1, "two", {"three": [true, null, 4.5]}, "é€😀"]);
    client.emit("echo", &args.as_array().unwrap()).unwrap();
    let echo = next_event(&mut events, "echo").await;
    assert_eq!(json_args(&echo), args);

    // Acknowledged by the server.
    let (a, b): (String, Vec<u32>) = client
        .emit_with_ack_timeout("echo", &("x", [1, 2]), Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!((a.as_str(), b), ("x", vec![1, 2]));

    // The server asks us for an acknowledgement; the handler above answers.
    client.emit("ask", &("life", 41)).unwrap();
    let answer = next_event(&mut events, "answer").await;
    assert_eq!(json_args(&answer), json!(["re: life", 42]));

    if binary {
        // Binary from the server, nested in objects and arrays, and in an acknowledgement.
        let (ack,): (Bytes,) = client
            .emit_with_ack_timeout("binary", &(), Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(&ack[..], &[6, 7]);
        let event = next_event(&mut events, "binary").await;
        let payload: BinaryPayload = event.args().unwrap();
        assert_eq!(
            payload,
            BinaryPayload {
                nested: Nested {
                    buf: Bytes::from_static(&[1, 2, 3])
                },
                list: vec![Bytes::from_static(&[4, 5])],
                n: 1
            }
        );
        // Binary to the server, echoed back.
        #[derive(serde::Serialize)]
        struct Deep {
            deep: Vec<Bytes>,
        }
        let sent = (
            Bytes::from_static(b"\x00\xffraw"),
            Deep {
                deep: vec![Bytes::from_static(&[9])],
            },
        );
        let (first, deep): (Bytes, serde_json::Map<String, serde_json::Value>) = {
            let values: Vec<sio_client::Value> = client
                .emit_with_ack_timeout("echo", &sent, Duration::from_secs(5))
                .await
                .unwrap();
            assert_eq!(values.len(), 2);
            let first = sio_client::from_args::<(Bytes,)>(vec![values[0].clone()])
                .unwrap()
                .0;
            let deep: Vec<Bytes> = match &values[1] {
                sio_client::Value::Map(entries) => {
                    sio_client::from_args::<(Vec<Bytes>,)>(vec![entries[0].1.clone()])
                        .unwrap()
                        .0
                }
                other => panic!("{other:?}"),
            };
            assert_eq!(deep, vec![Bytes::from_static(&[9])]);
            (first, serde_json::Map::new())
        };
        assert_eq!(&first[..], b"\x00\xffraw");
        assert!(deep.is_empty());
    }
    let conn = welcome["conn"].as_str().unwrap().to_owned();
    (client, conn)
}

pub(crate) async fn transport_of(client: &Client) -> String {
    let (name,): (String,) = client
        .emit_with_ack_timeout("transport", &(), Duration::from_secs(5))
        .await
        .unwrap();
    name
}
