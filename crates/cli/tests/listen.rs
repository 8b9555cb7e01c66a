//! `sio listen`, driven as a built binary against real servers: `sio serve`, npm socket.io 4.8,
//! socket.io 2.5 (Engine.IO 3), socket.io 0.9.19 and python-socketio (`peers/`, installed by
//! `scripts/setup-peers`; a missing peer fails the test). Events are produced by `sio emit`
//! runs, so both commands are exercised together; every wait is on an output line, with a
//! timeout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use common::{Peer, Running, Serve, free_port, run};
use serde_json::json;

/// `sio emit` that must succeed.
async fn emit(args: &[&str]) {
    let mut full = vec!["emit"];
    full.extend_from_slice(args);
    let output = run(&full).await;
    assert_eq!(output.code, Some(0), "sio {full:?}: {output:?}");
}

/// Listens with `--json` on `url` (namespace `nsp`), waits for the connection and the peer's
/// `welcome`, has `sio emit` send `tick` (which the peer broadcasts to the namespace), checks the
/// event line, then stops the listener with SIGINT.
async fn listen_to_peer(url: &str, nsp: &str, extra: &[&str]) {
    let mut args = vec!["listen", url, "--json"];
    args.extend_from_slice(extra);
    let mut listen = Running::start(&args);
    let connect = listen.json_of("connect").await;
    assert_eq!(connect["namespace"], nsp);
    assert!(connect["id"].as_str().is_some_and(|id| !id.is_empty()));
    // The time is RFC 3339 UTC, to the millisecond.
    let time = connect["time"].as_str().unwrap();
    assert_eq!(time.len(), "2026-12-01T08:33:05.123Z".len(), "{connect}");
    assert!(
        time.ends_with('Z') && time.as_bytes()[10] == b'T',
        "{connect}"
    );

    let welcome = listen.json_of("event:welcome").await;
    assert_eq!(welcome["namespace"], nsp);
    assert_eq!(welcome["args"][0]["nsp"], nsp);
    assert_eq!(welcome["ack_requested"], false);

    let mut emit_args = vec![url, "tick", r#"{"n":7,"list":[1,"two",null]}"#];
    emit_args.extend_from_slice(extra);
    emit(&emit_args).await;
    let tick = listen.json_of("event:tick").await;
    assert_eq!(tick["args"], json!([{"n": 7, "list": [1, "two", null]}]));
    assert_eq!(tick["namespace"], nsp);

    let (code, stderr) = listen.signal("INT").await;
    assert_eq!(code, Some(0), "stderr: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_to_socket_io_4() {
    let server = Peer::start("v4", json!({})).await;
    listen_to_peer(&server.url("/"), "/", &[]).await;
    listen_to_peer(
        &server.url("/admin"),
        "/admin",
        &["--transport", "websocket"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_to_socket_io_2() {
    let server = Peer::start("v2", json!({})).await;
    listen_to_peer(&server.url("/"), "/", &[]).await;
    listen_to_peer(&server.url("/admin"), "/admin", &["--protocol", "v4"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_to_socket_io_0_9() {
    let server = Peer::start("v09", json!({})).await;
    listen_to_peer(&server.url("/"), "/", &[]).await;
    listen_to_peer(&server.url("/admin"), "/admin", &["--protocol", "0.9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_to_python_socketio() {
    let server = Peer::start("py", json!({})).await;
    listen_to_peer(&server.url("/"), "/", &["--transport", "polling"]).await;
    listen_to_peer(&server.url("/admin"), "/admin", &[]).await;
}

/// Against `sio serve`: the listener's socket id is a room, so `sio emit … to ID EVENT ARGS`
/// reaches it; binary arguments are shown readably in both output forms.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_to_sio_serve_with_binary() {
    let serve = Serve::start().await;
    let url = serve.url("/");
    let mut listen = Running::start(&["listen", &url, "--json"]);
    let connect = listen.json_of("connect").await;
    let id = connect["id"].as_str().unwrap().to_owned();
    // `--`: a socket id may start with `-`, which would read as an option.
    emit(&[
        "--",
        &url,
        "to",
        &id,
        "news",
        r#"{"title":"hi","z":1,"a":2}"#,
        r#"{"_binary":true,"base64":"AAH/"}"#,
        "plain text",
    ])
    .await;
    let news = listen.json_of("event:news").await;
    assert_eq!(
        news["args"],
        json!([
            {"title": "hi", "z": 1, "a": 2},
            {"_binary": true, "length": 3, "base64": "AAH/"},
            "plain text"
        ])
    );
    // Object keys keep the order they were sent in.
    let line = listen.seen.last().unwrap();
    assert!(line.contains(r#"{"title":"hi","z":1,"a":2}"#), "{line}");
    let (code, _) = listen.signal("TERM").await;
    assert_eq!(code, Some(0));

    // Text output: time, namespace, event, arguments, binary as bytes.
    let mut listen = Running::start(&["listen", &url]);
    let connected = listen.line().await;
    assert!(connected.contains("connected to"), "{connected}");
    let id = connected
        .split("id ")
        .nth(1)
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    // `--`: a socket id may start with `-`, which would read as an option.
    emit(&[
        "--",
        &url,
        "to",
        &id,
        "news",
        r#"{"_binary":true,"base64":"AAH/"}"#,
        "5",
    ])
    .await;
    let line = listen.line().await;
    // No colours when stdout is not a terminal.
    assert!(!line.contains('\x1b'), "{line:?}");
    let (time, rest) = line.split_once("  ").unwrap();
    assert_eq!(time.len(), "08:33:05.123Z".len(), "{line}");
    assert_eq!(rest, "/  news  <3 bytes: 00 01 ff>  5");
    let (code, _) = listen.signal("INT").await;
    assert_eq!(code, Some(0));
}

/// `--event` shows only the named events: the `welcome` the peer sends first is not printed,
/// the `tick` after it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_filter() {
    let server = Peer::start("v4", json!({})).await;
    let url = server.url("/");
    let mut listen = Running::start(&["listen", &url, "--event", "tick", "--event", "other"]);
    let connected = listen.line().await;
    assert!(connected.contains("connected to"), "{connected}");
    emit(&[&url, "tick", "3"]).await;
    let line = listen
        .line_where("the tick line", |l| l.contains("tick"))
        .await;
    assert!(line.ends_with("/  tick  3"), "{line}");
    assert!(
        !listen.seen.iter().any(|l| l.contains("welcome")),
        "{:#?}",
        listen.seen
    );
    let (code, _) = listen.signal("INT").await;
    assert_eq!(code, Some(0));
}

/// The server goes away and comes back on the same port: the listener says so and keeps
/// receiving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_says_so() {
    let mut server = Peer::start("v4", json!({})).await;
    let url = server.url("/");
    let mut listen = Running::start(&["listen", &url, "--json", "--event", "tick"]);
    let first = listen.json_of("connect").await;
    server.restart().await;
    let down = listen.json_of("disconnect").await;
    assert_eq!(down["reconnecting"], true, "{down}");
    listen.json_of("reconnect_attempt").await;
    let back = listen.json_of("reconnect").await;
    assert!(back["attempts"].as_u64().unwrap() >= 1, "{back}");
    let again = listen.json_of("connect").await;
    assert_ne!(again["id"], first["id"]);
    emit(&[&url, "tick", "after"]).await;
    let tick = listen.json_of("event:tick").await;
    assert_eq!(tick["args"], json!(["after"]));
    let (code, stderr) = listen.signal("INT").await;
    assert_eq!(code, Some(0), "{stderr}");
}

/// `--emit EVENT ARGS…` goes to the official Node server after the first connect and again
/// after a reconnection (its `tick` handler sends the value back to the whole namespace).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emits_again_after_every_reconnect() {
    let mut server = Peer::start("v4", json!({})).await;
    let url = server.url("/");
    let mut listen = Running::start(&[
        "listen",
        &url,
        "--json",
        "--event",
        "tick",
        "--emit",
        "tick",
        r#"{"sub":1}"#,
    ]);
    listen.json_of("connect").await;
    let first = listen.json_of("event:tick").await;
    assert_eq!(first["args"], json!([{"sub": 1}]));
    server.restart().await;
    listen.json_of("disconnect").await;
    listen.json_of("reconnect").await;
    let again = listen.json_of("event:tick").await;
    assert_eq!(again["args"], json!([{"sub": 1}]));
    let (code, stderr) = listen.signal("INT").await;
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_explained() {
    let v4 = Peer::start("v4", json!({})).await;
    let refused = run(&["listen", &v4.url("/"), "--auth", r#"{"token":"bad"}"#]).await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(
        refused
            .stderr
            .contains("the server refused namespace /: unauthorized"),
        "{refused:?}"
    );
    assert!(refused.stderr.contains("--auth"), "{refused:?}");

    let unknown = run(&["listen", &v4.url("/nope")]).await;
    assert_eq!(unknown.code, Some(1), "{unknown:?}");
    assert!(
        unknown
            .stderr
            .contains("the server refused namespace /nope: Invalid namespace"),
        "{unknown:?}"
    );
    assert!(
        unknown.stderr.contains("the URL path is the namespace"),
        "{unknown:?}"
    );

    let python = Peer::start("py", json!({})).await;
    let refused = run(&[
        "listen",
        &python.url("/admin"),
        "--auth",
        r#"{"token":"bad"}"#,
    ])
    .await;
    assert_eq!(refused.code, Some(1), "{refused:?}");
    assert!(refused.stderr.contains("unauthorized"), "{refused:?}");

    // Socket.IO 2 servers read the token from the query.
    let v2 = Peer::start("v2", json!({})).await;
    for nsp in ["/", "/admin"] {
        let started = std::time::Instant::now();
        let refused = run(&["listen", &v2.url(nsp), "--query", "token=bad"]).await;
        assert_eq!(refused.code, Some(1), "{refused:?}");
        assert!(refused.stderr.contains("unauthorized"), "{refused:?}");
        // Refused at once, not after the connect timeout (20 s).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{nsp}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_urls_and_closed_ports() {
    let bad = run(&["listen", "ftp://example.com/"]).await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("invalid URL"), "{bad:?}");
    assert!(bad.stderr.contains("unknown scheme ftp"), "{bad:?}");
    assert!(bad.stderr.contains("http://HOST:PORT/NAMESPACE"), "{bad:?}");

    let bad = run(&["listen", "http://"]).await;
    assert_eq!(bad.code, Some(2), "{bad:?}");
    assert!(bad.stderr.contains("invalid URL"), "{bad:?}");

    let port = free_port();
    let closed = run(&["listen", &format!("http://127.0.0.1:{port}/")]).await;
    assert_eq!(closed.code, Some(1), "{closed:?}");
    assert!(
        closed.stderr.contains(&format!(
            "nothing accepts connections on 127.0.0.1:{port}: is the server running"
        )),
        "{closed:?}"
    );

    let usage = run(&["listen"]).await;
    assert_eq!(usage.code, Some(2), "{usage:?}");
    let usage = run(&["listen", "http://127.0.0.1:1/", "--auth", "{not json"]).await;
    assert_eq!(usage.code, Some(2), "{usage:?}");
    assert!(usage.stderr.contains("not JSON"), "{usage:?}");
}

/// An endpoint that answers HTTP but not Socket.IO (`sio serve` at another path) gets the
/// hint for a wrong path, chosen from the error's type.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_paths_are_explained() {
    let serve = Serve::start().await;
    let wrong = run(&["listen", &serve.url("/"), "--path", "/not-socket.io/"]).await;
    assert_eq!(wrong.code, Some(1), "{wrong:?}");
    assert!(
        wrong.stderr.contains(&format!(
            "127.0.0.1:{} answers HTTP but not Socket.IO at /not-socket.io/",
            serve.port
        )),
        "{wrong:?}"
    );
}

#[tokio::test]
async fn help_has_examples() {
    for command in ["listen", "emit"] {
        let help = run(&[command, "--help"]).await;
        assert_eq!(help.code, Some(0));
        assert!(help.stdout.contains("Examples:"), "{}", help.stdout);
        assert!(help.stdout.contains("Exit status:"), "{}", help.stdout);
        assert!(help.stdout.contains("--protocol"), "{}", help.stdout);
    }
}
