//! `sio emit`, driven as a built binary against real servers: `sio serve`, our server
//! in-process (auth, headers, query, refusal with data), npm socket.io 4.8, socket.io 2.5
//! (Engine.IO 3), socket.io 0.9.19 and python-socketio (`peers/`, installed by
//! `scripts/setup-peers`; a missing peer fails the test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use common::{Ours, Peer, Serve, run};
use serde_json::{Value as Json, json};

/// The arguments every server echoes back, and how they are written on the command line.
const ARGS: [&str; 6] = [
    "1",
    "two",
    r#"{"three":[true,null,4.5],"a":"é€😀"}"#,
    r#""4""#,
    "-5",
    "[]",
];

fn expected() -> Json {
    json!([1, "two", {"three": [true, null, 4.5], "a": "é€😀"}, "4", -5, []])
}

/// `sio emit URL echo ARGS… --ack [extra]`: the printed array is what the server acknowledged.
async fn echo_ack(url: &str, extra: &[&str]) {
    echo_ack_ordered(url, extra, true).await;
}

async fn echo_ack_ordered(url: &str, extra: &[&str], ordered: bool) {
    let mut args = vec!["emit", url, "echo"];
    args.extend_from_slice(&ARGS);
    args.push("--ack");
    args.extend_from_slice(extra);
    let output = run(&args).await;
    assert_eq!(output.code, Some(0), "{args:?}: {output:?}");
    let lines: Vec<&str> = output.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON array on stdout: {output:?}");
    let answer: Json = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(answer, expected(), "{args:?}");
    // The object's keys keep the order the server sent (except through Socket.IO 0.9, whose
    // client path goes through serde_json maps, which sort keys).
    if ordered {
        assert!(
            lines[0].contains(r#"{"three":[true,null,4.5],"a":"é€😀"}"#),
            "{}",
            lines[0]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_from_sio_serve() {
    let serve = Serve::start().await;
    echo_ack(&serve.url("/"), &[]).await;
    echo_ack(&serve.url("/"), &["--transport", "websocket"]).await;
    echo_ack(
        &serve.url("/"),
        &["--transport", "polling", "--protocol", "v5"],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_from_socket_io_4() {
    let server = Peer::start("v4", json!({})).await;
    echo_ack(&server.url("/"), &[]).await;
    echo_ack(&server.url("/admin"), &["--transport", "websocket"]).await;
    // The transport asked for is the one used.
    for transport in ["polling", "websocket"] {
        let output = run(&[
            "emit",
            &server.url("/"),
            "transport",
            "--ack",
            "--transport",
            transport,
        ])
        .await;
        assert_eq!(output.code, Some(0), "{output:?}");
        let answer: Json = serde_json::from_str(output.stdout.trim()).unwrap();
        assert_eq!(answer, json!([transport]));
    }
    // Binary in the acknowledgement is shown as in `sio listen`.
    let output = run(&["emit", &server.url("/"), "binary", "--ack"]).await;
    assert_eq!(output.code, Some(0), "{output:?}");
    let answer: Json = serde_json::from_str(output.stdout.trim()).unwrap();
    assert_eq!(
        answer,
        json!([{"_binary": true, "length": 2, "base64": "Bgc="}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_from_socket_io_2() {
    let server = Peer::start("v2", json!({})).await;
    echo_ack(&server.url("/"), &[]).await;
    echo_ack(
        &server.url("/admin"),
        &["--protocol", "v4", "--transport", "polling"],
    )
    .await;
    // A Socket.IO 2 server does not speak v5: the failure says what to check.
    let output = run(&["emit", &server.url("/"), "echo", "--protocol", "v5"]).await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("cannot connect"), "{output:?}");
    assert!(output.stderr.contains("--protocol"), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_from_socket_io_0_9() {
    let server = Peer::start("v09", json!({})).await;
    echo_ack_ordered(&server.url("/"), &[], false).await;
    echo_ack_ordered(
        &server.url("/admin"),
        &["--protocol", "0.9", "--transport", "websocket"],
        false,
    )
    .await;
}

/// Socket.IO 0.9 cannot carry binary data: `sio emit` says so instead of exiting 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_to_socket_io_0_9_is_an_error() {
    let server = Peer::start("v09", json!({})).await;
    let output = run(&[
        "emit",
        &server.url("/"),
        "tick",
        r#"{"_binary":true,"base64":"AQID"}"#,
    ])
    .await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(
        output.stderr.contains("socket.io 0.9 cannot carry"),
        "{output:?}"
    );
    let output = run(&[
        "emit",
        &server.url("/"),
        "echo",
        r#"{"_binary":true,"base64":"AQID"}"#,
        "--ack",
    ])
    .await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(
        output.stderr.contains("socket.io 0.9 cannot carry"),
        "{output:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_from_python_socketio() {
    let server = Peer::start("py", json!({})).await;
    echo_ack(&server.url("/"), &[]).await;
    echo_ack(&server.url("/admin"), &["--transport", "polling"]).await;
}

/// Without `--ack`, `sio emit` exits once the event is written: `sio serve` logs it, on each
/// transport (on polling the event goes in a POST that must not be cut off by the exit).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emit_without_ack_reaches_the_server() {
    let mut serve = Serve::start().await;
    let url = serve.url("/");
    for (n, transport) in ["polling", "websocket", "auto"].into_iter().enumerate() {
        let marker = format!("m{n}-{transport}");
        let mut args = vec!["emit", &url, "hello", &marker, "42"];
        if transport != "auto" {
            args.extend(["--transport", transport]);
        }
        let output = run(&args).await;
        assert_eq!(output.code, Some(0), "{output:?}");
        assert!(output.stdout.is_empty(), "{output:?}");
        let line = serve
            .running
            .line_where("the server's log of the event", |l| l.contains(&marker))
            .await;
        assert!(line.contains("event=hello"), "{line}");
        assert!(line.contains(&format!(r#"args=["{marker}",42]"#)), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_headers_and_query_reach_the_server() {
    let ours = Ours::start();
    let output = run(&[
        "emit",
        &ours.url("/"),
        "handshake",
        "--ack",
        "--auth",
        r#"{"token":"t1"}"#,
        "-H",
        "X-Token: h1",
        "--query",
        "k=v w",
    ])
    .await;
    assert_eq!(output.code, Some(0), "{output:?}");
    let answer: Json = serde_json::from_str(output.stdout.trim()).unwrap();
    assert_eq!(
        answer,
        json!([{"auth": {"token": "t1"}, "header": "h1", "query": "v w"}])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_show_the_servers_message_and_data() {
    let ours = Ours::start();
    let output = run(&[
        "emit",
        &ours.url("/"),
        "echo",
        "--auth",
        r#"{"token":"bad"}"#,
    ])
    .await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(
        output
            .stderr
            .contains("the server refused namespace /: unauthorized"),
        "{output:?}"
    );
    assert!(
        output.stderr.contains(r#"data: {"reason":"expired"}"#),
        "{output:?}"
    );

    let v4 = Peer::start("v4", json!({})).await;
    let output = run(&[
        "emit",
        &v4.url("/admin"),
        "echo",
        "--ack",
        "--auth",
        r#"{"token":"bad"}"#,
    ])
    .await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("unauthorized"), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");

    let v09 = Peer::start("v09", json!({})).await;
    let output = run(&["emit", &v09.url("/"), "echo", "--query", "token=bad"]).await;
    assert_eq!(output.code, Some(1), "{output:?}");
    assert!(output.stderr.contains("sio: "), "{output:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_timeout_exits_3() {
    let server = Peer::start("v4", json!({})).await;
    // Nobody handles `nothing`, so no acknowledgement comes.
    let output = run(&[
        "emit",
        &server.url("/"),
        "nothing",
        "--ack",
        "--timeout",
        "300",
    ])
    .await;
    assert_eq!(output.code, Some(3), "{output:?}");
    assert!(
        output
            .stderr
            .contains(r#"no acknowledgement of "nothing" within 300 ms"#),
        "{output:?}"
    );
    assert!(output.stdout.is_empty(), "{output:?}");
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let output = run(&["emit", "http://127.0.0.1:1/", "connect"]).await;
    assert_eq!(output.code, Some(2), "{output:?}");
    assert!(output.stderr.contains("reserved"), "{output:?}");

    let output = run(&["emit", "http://127.0.0.1:1/"]).await;
    assert_eq!(output.code, Some(2), "{output:?}");

    let output = run(&["emit", "http://127.0.0.1:1/", "x", "-H", "no colon"]).await;
    assert_eq!(output.code, Some(2), "{output:?}");
    assert!(output.stderr.contains("Name: value"), "{output:?}");

    let output = run(&["emit", "http://127.0.0.1:1/", "x", "--timeout", "5"]).await;
    assert_eq!(output.code, Some(2), "--timeout needs --ack: {output:?}");

    let output = run(&["emit", "not a url", "x"]).await;
    assert_eq!(output.code, Some(2), "{output:?}");
    assert!(output.stderr.contains("invalid URL"), "{output:?}");
}

/// An HTTP server that is not Socket.IO and closes the connection after each response
/// (`python3 -m http.server`, HTTP/1.0): its 404 is reported, not lost to the closed
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_server_answering_404() {
    let port = common::free_port();
    let dir = std::env::temp_dir();
    let mut server = tokio::process::Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 -m http.server");
    let stdout = server.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let line = tokio::time::timeout(common::WAIT, lines.next_line())
        .await
        .expect("http.server says it serves")
        .unwrap()
        .unwrap();
    assert!(line.starts_with("Serving HTTP"), "{line}");
    for transport in ["polling", "websocket"] {
        let url = format!("http://127.0.0.1:{port}");
        let output = run(&["emit", &url, "hello", "--transport", transport]).await;
        assert_eq!(output.code, Some(1), "{transport}: {output:?}");
        if transport == "polling" {
            assert!(
                output.stderr.contains("server answered 404"),
                "{transport}: {output:?}"
            );
            assert!(
                !output.stderr.contains("connection closed"),
                "{transport}: {output:?}"
            );
        }
    }
}

/// Binary data written wrongly is a usage error, before any connection is made.
#[tokio::test]
async fn binary_argument_that_is_not_base64() {
    let port = common::free_port();
    let url = format!("http://127.0.0.1:{port}");
    let output = run(&["emit", &url, "x", r#"{"_binary":true,"base64":"!!!"}"#]).await;
    assert_eq!(output.code, Some(2), "{output:?}");
    assert!(
        output.stderr.contains("argument 1: binary data"),
        "{output:?}"
    );
    assert!(!output.stderr.contains("connect"), "{output:?}");
}
