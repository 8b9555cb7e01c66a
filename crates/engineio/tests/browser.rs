//! Real browsers: headless Chromium runs the official engine.io-client browser bundles (v3 from
//! socket.io-client 2's generation, and v4) against our server, from a page of another origin.
//! JSONP polling only exists in browsers (it loads each poll as a `<script>`), so this is where
//! it meets a real client.
//!
//! Chromium is `$CHROMIUM`, `/usr/bin/chromium` or `chromium` (or Chrome) on the `PATH`;
//! `scripts/setup-peers` installs Debian's `chromium` package when none is found, and npm the
//! bundles. Without them these tests fail, saying so: they are never skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::{convert::Infallible, path::PathBuf, process::Stdio, time::Duration};

use bytes::Bytes;
use common::{Event, start_recording};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sio_engineio::{CloseReason, Cors, CorsOrigin, EngineConfig};
use tokio::sync::mpsc;

/// The Chromium to run: `$CHROMIUM`, else Debian's `/usr/bin/chromium`, else the first of the
/// usual names found on the `PATH`.
fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.is_file() {
        return Some(debian);
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|candidate| candidate.is_file())
}

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../peers")
}

/// The page every scenario runs: it opens a socket with the options in its query, sends a
/// text and a binary message, and posts what it saw (echoes, transports) back to `/result`.
const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8">
<script src="/client.js"></script>
<script>
const params = new URLSearchParams(location.search);
const opts = JSON.parse(params.get("opts"));
const seen = { opened: null, upgrades: [], messages: [], errors: [] };
function report() {
  fetch("/result", { method: "POST", body: JSON.stringify(seen) });
}
window.onerror = (message) => { seen.errors.push(String(message)); report(); };
// The v3 bundle exports the constructor as `eio.Socket`; the v4 one exports `eio(uri, opts)`.
const socket = typeof eio === "function" ? eio(params.get("server"), opts) : new eio.Socket(params.get("server"), opts);
socket.binaryType = "arraybuffer";
socket.on("open", () => {
  seen.opened = socket.transport.name;
  // The v3 JSONP transport numbers its script callbacks in the `j` query parameter.
  seen.jsonp = "j" in (socket.transport.query || {});
  socket.send("héllo €");
  socket.send(new Uint8Array([1, 2, 3, 250]).buffer);
});
socket.on("upgrade", (transport) => seen.upgrades.push(transport.name));
socket.on("message", (data) => {
  seen.messages.push(typeof data === "string"
    ? { text: data, transport: socket.transport.name }
    : { binary: Array.from(new Uint8Array(data)), transport: socket.transport.name });
  if (seen.messages.length === 2) {
    // Wait for the upgrade when one is expected, so the report says where traffic ended.
    const done = () => { seen.closedOn = socket.transport.name; socket.close(); report(); };
    if (seen.opened === "websocket" || !opts.transports.includes("websocket") || seen.upgrades.length) done();
    // Not from inside the upgrade handler: the v3 client emits "upgrade" while it still counts
    // itself as upgrading, and a close() there waits for an upgrade that never comes.
    else socket.on("upgrade", () => setTimeout(done, 0));
  }
});
socket.on("error", (e) => { seen.errors.push(String(e)); report(); });
</script>
"#;

/// Serves the page, the client bundle and the `/result` endpoint, on an origin other than
/// the Engine.IO server's, and passes each report on.
async fn page_server(bundle: &'static str) -> (u16, mpsc::UnboundedReceiver<Value>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let script = std::fs::read(peers().join("node_modules").join(bundle)).unwrap_or_else(|e| {
        panic!(
            "npm bundle {bundle} is missing from peers/node_modules ({e}): run scripts/setup-peers"
        )
    });
    let script = Bytes::from(script);
    let (reports, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let script = script.clone();
            let reports = reports.clone();
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let script = script.clone();
                let reports = reports.clone();
                async move {
                    let (status, kind, body) = match req.uri().path() {
                        "/" => (
                            StatusCode::OK,
                            "text/html",
                            Bytes::from_static(PAGE.as_bytes()),
                        ),
                        "/client.js" => (StatusCode::OK, "application/javascript", script),
                        "/result" => {
                            let body = req.into_body().collect().await.unwrap().to_bytes();
                            let _ = reports.send(serde_json::from_slice(&body).unwrap());
                            (StatusCode::OK, "text/plain", Bytes::new())
                        }
                        _ => (StatusCode::NOT_FOUND, "text/plain", Bytes::new()),
                    };
                    let response = Response::builder()
                        .status(status)
                        .header("content-type", kind)
                        .body(Full::new(body))
                        .unwrap();
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (port, received)
}

/// Opens the page in headless Chromium and returns its report.
async fn run_in_browser(bundle: &'static str, opts: Value, config: EngineConfig) -> Value {
    let chromium = chromium().expect(
        "no Chromium: set CHROMIUM to its binary, put chromium on the PATH, or run \
         scripts/setup-peers (it installs Debian's chromium package)",
    );
    assert!(
        chromium.is_file(),
        "{} is missing (from CHROMIUM?)",
        chromium.display()
    );
    let (server, mut events) = start_recording(config).await;
    let (page_port, mut reports) = page_server(bundle).await;
    let profile =
        std::env::temp_dir().join(format!("sio-chromium-{}-{page_port}", std::process::id()));
    let query: String = url_encode(&[
        (
            "server",
            &format!("http://127.0.0.1:{}", server.addr.port()),
        ),
        ("opts", &opts.to_string()),
    ]);
    let mut browser = tokio::process::Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("http://127.0.0.1:{page_port}/?{query}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("could not start chromium");
    let report = tokio::time::timeout(Duration::from_secs(30), reports.recv())
        .await
        .expect("the page reported nothing within 30 s")
        .unwrap();
    assert_eq!(report["errors"], json!([]), "the page failed: {report}");
    // The server saw the same conversation, then the client's close.
    let mut received = Vec::new();
    let closed = loop {
        let event = tokio::time::timeout(Duration::from_secs(10), events.0.recv()).await;
        let Ok(Some(event)) = event else {
            panic!(
                "the server saw no close within 10 s; it received {received:?}; the page reported {report}"
            );
        };
        match event {
            Event::Message(_, bytes, binary) => received.push((bytes, binary)),
            Event::Close(_, reason) => break reason,
            Event::Open(_) => {}
        }
    };
    let _ = browser.kill().await;
    let _ = std::fs::remove_dir_all(&profile);
    assert_eq!(
        received,
        vec![
            ("héllo €".as_bytes().to_vec(), false),
            (vec![1, 2, 3, 250], true)
        ],
        "what the server received"
    );
    assert_eq!(closed, CloseReason::TransportClose, "the client closed");
    report
}

fn url_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(key, value)| {
            let value: String = value
                .bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect();
            format!("{key}={value}")
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// The page's origin is not the server's. The v3 client sends its XHRs with credentials, so a
/// browser accepts only a reflected origin with `Access-Control-Allow-Credentials` (as with
/// Node's `cors: { origin: true, credentials: true }`).
fn config(allow_eio3: bool) -> EngineConfig {
    EngineConfig {
        allow_eio3,
        cors: Cors {
            origin: CorsOrigin::Any,
            credentials: true,
        },
        ..EngineConfig::default()
    }
}

fn echoes(transport: &str) -> Value {
    json!([
        { "text": "héllo €", "transport": transport },
        { "binary": [1, 2, 3, 250], "transport": transport },
    ])
}

#[tokio::test]
async fn v3_client_over_jsonp_polling() {
    let report = run_in_browser(
        "engine.io-client-v3/engine.io.js",
        json!({ "transports": ["polling"], "forceJSONP": true }),
        config(true),
    )
    .await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["opened"], "polling", "{report}");
    assert_eq!(report["jsonp"], true, "{report}");
    assert_eq!(report["messages"], echoes("polling"), "{report}");
}

#[tokio::test]
async fn v3_client_over_xhr_polling_with_base64() {
    let report = run_in_browser(
        "engine.io-client-v3/engine.io.js",
        json!({ "transports": ["polling"], "forceBase64": true }),
        config(true),
    )
    .await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["jsonp"], false, "{report}");
    assert_eq!(report["messages"], echoes("polling"), "{report}");
}

#[tokio::test]
async fn v3_client_upgrades_to_websocket() {
    let report = run_in_browser(
        "engine.io-client-v3/engine.io.js",
        json!({ "transports": ["polling", "websocket"] }),
        config(true),
    )
    .await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["opened"], "polling", "{report}");
    assert_eq!(report["upgrades"], json!(["websocket"]), "{report}");
    assert_eq!(report["closedOn"], "websocket", "{report}");
    // Both echoes may arrive before the upgrade completes; what matters is their content.
    let texts: Vec<&Value> = report["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.get("text").or(m.get("binary")).unwrap())
        .collect();
    assert_eq!(texts, vec![&json!("héllo €"), &json!([1, 2, 3, 250])]);
}

#[tokio::test]
async fn v4_client_upgrades_to_websocket() {
    let report = run_in_browser(
        "engine.io-client/dist/engine.io.js",
        json!({ "transports": ["polling", "websocket"] }),
        config(false),
    )
    .await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["opened"], "polling", "{report}");
    assert_eq!(report["upgrades"], json!(["websocket"]), "{report}");
    assert_eq!(report["closedOn"], "websocket", "{report}");
}

#[tokio::test]
async fn v4_client_websocket_only() {
    let report = run_in_browser(
        "engine.io-client/dist/engine.io.js",
        json!({ "transports": ["websocket"] }),
        config(false),
    )
    .await;
    assert_eq!(report["errors"], json!([]), "{report}");
    assert_eq!(report["opened"], "websocket", "{report}");
    assert_eq!(report["messages"], echoes("websocket"), "{report}");
}
