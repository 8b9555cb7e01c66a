//! `sio listen` and `sio emit` with `--protocol signalr`, against the SignalR hub fixture
//! (peers/signalr-hub.js), which the official @microsoft/signalr client is run against first
//! in each test on the same cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The Socket.IO peers of `common` are not used here.
#[allow(unused_imports)]
mod common;
#[path = "../../signalr/tests/common/mod.rs"]
mod signalr_peers;

use common::{Running, run};
use serde_json::json;
use signalr_peers::{Peer, official};
use sio_signalr::{HttpTransportType, HubProtocol};

async fn run_owned(args: Vec<String>) -> common::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args).await
}

#[tokio::test]
async fn emit_sends_invokes_and_streams_on_every_transport() {
    let hub = Peer::hub().await;
    let url = format!("{}/hub", hub.base());
    for (transport, flag, protocol, hub_protocol) in [
        (
            HttpTransportType::WebSockets,
            "websocket",
            HubProtocol::Json,
            "json",
        ),
        (
            HttpTransportType::WebSockets,
            "websocket",
            HubProtocol::MessagePack,
            "messagepack",
        ),
        (
            HttpTransportType::ServerSentEvents,
            "sse",
            HubProtocol::Json,
            "json",
        ),
        (
            HttpTransportType::LongPolling,
            "polling",
            HubProtocol::MessagePack,
            "messagepack",
        ),
    ] {
        official(&hub.base(), transport, protocol, &["add", "fail", "stream"]).await;
        let common = [
            "--protocol",
            "signalr",
            "--transport",
            flag,
            "--hub-protocol",
            hub_protocol,
        ];
        let with = |args: &[&str]| -> Vec<String> {
            args.iter()
                .chain(&common)
                .map(|s| (*s).to_owned())
                .collect()
        };

        let out = run_owned(with(&["emit", &url, "Add", "2", "3", "--ack"])).await;
        assert_eq!((out.code, out.stdout.as_str()), (Some(0), "5\n"), "{out:?}");
        let out = run_owned(with(&["emit", &url, "Echo", "{\"a\":[1,\"x\"]}", "--ack"])).await;
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap(),
            json!({"a": [1, "x"]})
        );
        let out = run_owned(with(&["emit", &url, "Void", "--ack"])).await;
        assert_eq!(out.stdout, "null\n");

        let out = run_owned(with(&["emit", &url, "Fail", "boom", "--ack"])).await;
        assert_eq!(out.code, Some(1), "{out:?}");
        assert!(out.stderr.contains("boom"), "{out:?}");
        assert!(out.stdout.is_empty());

        let out = run_owned(with(&["emit", &url, "Counter", "3", "5", "--stream"])).await;
        assert_eq!(
            (out.code, out.stdout.as_str()),
            (Some(0), "0\n1\n2\n"),
            "{out:?}"
        );

        let out = run_owned(with(&["emit", &url, "Record", "1"])).await;
        assert_eq!(out.code, Some(0), "{out:?}");
    }
    let out = run(&["emit", &url, "Add", "1", "--transport", "sse"]).await;
    assert_eq!(out.code, Some(2), "{out:?}");
}

#[tokio::test]
async fn listen_prints_invocations_and_resubscribes_after_a_reconnect() {
    let hub = Peer::hub().await;
    official(
        &hub.base(),
        HttpTransportType::WebSockets,
        HubProtocol::Json,
        &["tick", "reconnect"],
    )
    .await;
    let url = format!("{}/hub", hub.base());
    for transport in ["websocket", "sse", "polling"] {
        let mut listen = Running::start(&[
            "listen",
            &url,
            "--protocol",
            "signalr",
            "--transport",
            transport,
            "--json",
            "--emit",
            "Tick",
            "t",
            "1",
            "--emit",
            "Tick",
            "u",
            "1",
            "--event",
            "tick",
        ]);
        let first = listen.json_of("connect").await;
        let tick = listen.json_of("event:tick").await;
        assert_eq!(
            (tick["hub"].clone(), tick["args"].clone()),
            (json!("/hub"), json!(["t", 0]))
        );
        assert_eq!(listen.json_of("event:tick").await["args"], json!(["u", 0]));

        // Another client breaks the listener's connection: it reconnects and subscribes again.
        let out = run(&["emit", &url, "DropOthers", "--ack", "--protocol", "signalr"]).await;
        assert_eq!(out.stdout, "1\n", "{out:?}");
        listen.json_of("reconnecting").await;
        let again = listen.json_of("connect").await;
        assert_ne!(again["id"], first["id"]);
        assert_eq!(listen.json_of("event:tick").await["args"], json!(["t", 0]));
        assert_eq!(listen.json_of("event:tick").await["args"], json!(["u", 0]));
        let (code, stderr) = listen.signal("INT").await;
        assert_eq!(code, Some(0), "{stderr}");
    }
}
