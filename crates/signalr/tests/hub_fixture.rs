//! Our client against the hub fixture (peers/signalr-hub.js), on every transport and hub
//! protocol; in each test the official @microsoft/signalr client first runs the same cases on
//! the same hub, so the fixture is shown to be one the official client accepts.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Peer, builder, connected, official};
use serde_json::{Value as Json, json};
use sio_signalr::{HttpTransportType, HubConnectionState, HubError, HubEvent, HubProtocol};
use tokio::sync::mpsc;

const ALL: &[&str] = &[
    "echo",
    "add",
    "void",
    "fail",
    "record",
    "stream",
    "cancel",
    "tick",
    "transport",
    "header",
    "token",
    "redirect",
    "refuse",
    "v0",
    "reconnect",
    "close",
    "upload",
    "results",
    "garbage",
];

async fn ours(base: &str, transport: HttpTransportType, protocol: HubProtocol, case: &str) {
    let hub = format!("{base}/hub");
    let within = |secs| Duration::from_secs(secs);
    match case {
        "echo" => {
            let c = connected(&hub, transport, protocol).await;
            let back: String = c.invoke("Echo", &("héllo",)).await.unwrap();
            assert_eq!(back, "héllo");
            c.stop().await;
        }
        "add" => {
            let c = connected(&hub, transport, protocol).await;
            assert_eq!(c.invoke::<i64, _>("Add", &(2, 3)).await.unwrap(), 5);
            c.stop().await;
        }
        "void" => {
            let c = connected(&hub, transport, protocol).await;
            assert_eq!(c.invoke_value("Void", &()).await.unwrap(), None);
            c.invoke::<(), _>("Void", &()).await.unwrap();
            c.stop().await;
        }
        "fail" => {
            let c = connected(&hub, transport, protocol).await;
            match c.invoke::<Json, _>("Fail", &("boom",)).await {
                Err(HubError::Hub(message)) => assert!(message.contains("boom"), "{message}"),
                other => panic!("{other:?}"),
            }
            c.stop().await;
        }
        "record" => {
            let c = connected(&hub, transport, protocol).await;
            c.send("Record", &(1,)).await.unwrap();
            c.send("Record", &(json!({"a": [2]}),)).await.unwrap();
            let recorded: Json = c.invoke("Recorded", &()).await.unwrap();
            assert_eq!(recorded, json!([1, {"a": [2]}]));
            c.stop().await;
        }
        "stream" => {
            let c = connected(&hub, transport, protocol).await;
            let mut stream = c.stream::<i64, _>("Counter", &(3, 10)).await.unwrap();
            let mut items = Vec::new();
            while let Some(item) = tokio::time::timeout(within(10), stream.next())
                .await
                .unwrap()
            {
                items.push(item.unwrap());
            }
            assert_eq!(items, [0, 1, 2]);
            c.stop().await;
        }
        "cancel" => {
            let c = connected(&hub, transport, protocol).await;
            let before: Vec<String> = c.invoke("Cancelled", &()).await.unwrap();
            let mut stream = c.stream::<i64, _>("Counter", &(1000, 10)).await.unwrap();
            assert_eq!(stream.next().await.unwrap().unwrap(), 0);
            assert_eq!(stream.next().await.unwrap().unwrap(), 1);
            drop(stream);
            // The CancelInvocation is queued before this invocation on the same transport.
            let after: Vec<String> = c.invoke("Cancelled", &()).await.unwrap();
            assert_eq!(after.len(), before.len() + 1, "{after:?}");
            c.stop().await;
        }
        "tick" => {
            let c = builder(&hub, transport, protocol).build().unwrap();
            let got = Arc::new(Mutex::new(Vec::new()));
            let sink = got.clone();
            c.on("TICK", move |args| {
                sink.lock()
                    .unwrap()
                    .push(args.parse::<(String, i64)>().unwrap())
            });
            let mut events = c.events();
            c.start().await.unwrap();
            assert_eq!(c.invoke::<i64, _>("Tick", &("t", 3)).await.unwrap(), 3);
            let expected: Vec<(String, i64)> = (0..3).map(|i| ("t".to_owned(), i)).collect();
            assert_eq!(*got.lock().unwrap(), expected);
            for i in 0..3 {
                match events.next().await.unwrap() {
                    HubEvent::Invocation { target, arguments } => {
                        assert_eq!(target, "tick");
                        assert_eq!(arguments.to_json().unwrap(), [json!("t"), json!(i)]);
                    }
                    other => panic!("{other:?}"),
                }
            }
            c.stop().await;
        }
        "transport" => {
            let c = connected(&hub, transport, protocol).await;
            assert_eq!(c.transport(), Some(transport));
            assert_eq!(
                c.invoke::<String, _>("Transport", &()).await.unwrap(),
                transport.name()
            );
            assert!(c.connection_id().is_some());
            c.stop().await;
        }
        "header" => {
            let c = builder(&hub, transport, protocol)
                .with_header("X-Test", "yes")
                .build()
                .unwrap();
            c.start().await.unwrap();
            assert_eq!(
                c.invoke::<String, _>("Header", &("X-Test",)).await.unwrap(),
                "yes"
            );
            c.stop().await;
        }
        "token" => {
            let url = format!("{base}/auth/hub");
            let calls = Arc::new(Mutex::new(0));
            let counter = calls.clone();
            let c = builder(&url, transport, protocol)
                .with_access_token_factory(move || {
                    *counter.lock().unwrap() += 1;
                    async { Ok("secret".to_owned()) }
                })
                .build()
                .unwrap();
            c.start().await.unwrap();
            assert_eq!(c.invoke::<String, _>("Token", &()).await.unwrap(), "secret");
            assert_eq!(*calls.lock().unwrap(), 1);
            c.stop().await;

            // Without the token the hub answers 401.
            let refused = builder(&url, transport, protocol).build().unwrap();
            match refused.start().await {
                Err(HubError::Status { status: 401, .. }) => {}
                other => panic!("{other:?}"),
            }
        }
        "redirect" => {
            let c = connected(&format!("{base}/redirect/hub"), transport, protocol).await;
            assert_eq!(c.invoke::<String, _>("Token", &()).await.unwrap(), "secret");
            c.stop().await;
        }
        "refuse" => {
            let c = builder(&format!("{base}/refuse/hub"), transport, protocol)
                .build()
                .unwrap();
            match c.start().await {
                Err(HubError::Refused(message)) => assert_eq!(message, "refused by test"),
                other => panic!("{other:?}"),
            }
            assert_eq!(c.state(), HubConnectionState::Disconnected);
        }
        "v0" => {
            let c = connected(&format!("{base}/v0/hub"), transport, protocol).await;
            assert_eq!(c.invoke::<i64, _>("Add", &(1, 1)).await.unwrap(), 2);
            c.stop().await;
        }
        "reconnect" => {
            let c = builder(&hub, transport, protocol)
                .with_automatic_reconnect_delays(vec![
                    Duration::ZERO,
                    Duration::from_millis(100),
                    Duration::from_millis(500),
                ])
                .build()
                .unwrap();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let reconnecting = tx.clone();
            c.on_reconnecting(move |e| {
                let _ = reconnecting.send(format!("reconnecting {}", e.is_some()));
            });
            c.on_reconnected(move |id| {
                let _ = tx.send(format!("reconnected {}", id.is_some()));
            });
            c.start().await.unwrap();
            let before = c.connection_id().unwrap();
            let connections: i64 = c.invoke("Connections", &()).await.unwrap();
            c.invoke::<(), _>("Drop", &()).await.unwrap();
            assert_eq!(
                tokio::time::timeout(within(15), rx.recv())
                    .await
                    .unwrap()
                    .unwrap(),
                "reconnecting true"
            );
            assert_eq!(
                tokio::time::timeout(within(15), rx.recv())
                    .await
                    .unwrap()
                    .unwrap(),
                "reconnected true"
            );
            assert_eq!(c.state(), HubConnectionState::Connected);
            let after = c.connection_id().unwrap();
            assert_ne!(after, before);
            assert_eq!(
                c.invoke::<String, _>("Echo", &("again",)).await.unwrap(),
                "again"
            );
            // The hub saw one more handshake: the reconnect is a new connection on the server.
            let now: i64 = c.invoke("Connections", &()).await.unwrap();
            assert!(now > connections, "{now} <= {connections}");
            c.stop().await;
            assert_eq!(c.state(), HubConnectionState::Disconnected);
        }
        "close" => {
            let c = builder(&hub, transport, protocol)
                .with_automatic_reconnect()
                .build()
                .unwrap();
            let (tx, mut rx) = mpsc::unbounded_channel();
            c.on_close(move |e| {
                let _ = tx.send(e.map(ToString::to_string));
            });
            c.start().await.unwrap();
            c.invoke::<(), _>("CloseMe", &(false,)).await.unwrap();
            let error = tokio::time::timeout(within(10), rx.recv())
                .await
                .unwrap()
                .unwrap();
            assert!(
                error
                    .as_deref()
                    .is_some_and(|e| e.contains("closed by request")),
                "{error:?}"
            );
            // allowReconnect false: closed for good, even with automatic reconnect on.
            assert_eq!(c.state(), HubConnectionState::Disconnected);
        }
        "upload" => {
            let c = connected(&hub, transport, protocol).await;
            let items = futures_util::stream::iter([1, 2, 39]);
            assert_eq!(
                c.invoke_with_stream::<i64, _, _>("Sum", &(), items)
                    .await
                    .unwrap(),
                42
            );
            c.stop().await;
        }
        "results" => {
            let c = builder(&hub, transport, protocol).build().unwrap();
            c.on_invoke("Double", |args| {
                args.get::<i64>(0).map(|x| x * 2).map_err(|e| e.to_string())
            });
            c.on_invoke("refuse", |_| Err::<(), _>("not today".to_owned()));
            c.start().await.unwrap();
            assert_eq!(
                c.invoke::<i64, _>("AskClient", &("double", 21))
                    .await
                    .unwrap(),
                42
            );
            match c.invoke::<Json, _>("AskClient", &("refuse",)).await {
                Err(HubError::Hub(message)) => assert_eq!(message, "not today"),
                other => panic!("{other:?}"),
            }
            match c.invoke::<Json, _>("AskClient", &("nobody",)).await {
                Err(HubError::Hub(message)) => {
                    assert_eq!(message, "Client didn't provide a result.")
                }
                other => panic!("{other:?}"),
            }
            c.stop().await;
        }
        "garbage" => {
            let c = builder(&hub, transport, protocol)
                .with_automatic_reconnect_delays(vec![Duration::ZERO])
                .build()
                .unwrap();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let reconnected = tx.clone();
            c.on_reconnecting(move |e| {
                let protocol_error = e.is_some_and(|e| matches!(e, HubError::Protocol(_)));
                let _ = tx.send(format!("reconnecting, protocol error: {protocol_error}"));
            });
            c.on_reconnected(move |_| {
                let _ = reconnected.send("reconnected".to_owned());
            });
            c.start().await.unwrap();
            c.invoke::<(), _>("Garbage", &()).await.unwrap();
            // A typed protocol error, then a clean reconnect.
            for expected in ["reconnecting, protocol error: true", "reconnected"] {
                let got = tokio::time::timeout(within(10), rx.recv())
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(got, expected);
            }
            assert_eq!(c.invoke::<i64, _>("Add", &(1, 2)).await.unwrap(), 3);
            c.stop().await;
        }
        other => panic!("no case {other}"),
    }
}

async fn both(transport: HttpTransportType, protocol: HubProtocol, cases: &[&str]) {
    let hub = Peer::hub().await;
    official(&hub.base(), transport, protocol, cases).await;
    for case in cases {
        eprintln!("case {case} on {transport:?}/{protocol:?}");
        tokio::time::timeout(
            Duration::from_secs(60),
            ours(&hub.base(), transport, protocol, case),
        )
        .await
        .unwrap_or_else(|_| panic!("case {case} timed out"));
    }
}

#[tokio::test]
async fn websockets_json() {
    both(HttpTransportType::WebSockets, HubProtocol::Json, ALL).await;
}

#[tokio::test]
async fn websockets_messagepack() {
    both(HttpTransportType::WebSockets, HubProtocol::MessagePack, ALL).await;
}

#[tokio::test]
async fn server_sent_events_json() {
    both(HttpTransportType::ServerSentEvents, HubProtocol::Json, ALL).await;
}

#[tokio::test]
async fn long_polling_json() {
    both(HttpTransportType::LongPolling, HubProtocol::Json, ALL).await;
}

#[tokio::test]
async fn long_polling_messagepack() {
    both(
        HttpTransportType::LongPolling,
        HubProtocol::MessagePack,
        ALL,
    )
    .await;
}

#[tokio::test]
async fn skip_negotiation_websockets() {
    let hub = Peer::hub().await;
    for protocol in [HubProtocol::Json, HubProtocol::MessagePack] {
        official(
            &hub.base(),
            HttpTransportType::WebSockets,
            protocol,
            &["skip"],
        )
        .await;
        let c = builder(
            &format!("{}/hub", hub.base()),
            HttpTransportType::WebSockets,
            protocol,
        )
        .with_skip_negotiation(true)
        .build()
        .unwrap();
        c.start().await.unwrap();
        assert_eq!(c.connection_id(), None);
        assert_eq!(c.invoke::<i64, _>("Echo", &(7,)).await.unwrap(), 7);
        c.stop().await;
    }
}

#[tokio::test]
async fn messagepack_over_server_sent_events_is_refused_like_the_official_client() {
    let hub = Peer::hub().await;
    let c = builder(
        &format!("{}/hub", hub.base()),
        HttpTransportType::ServerSentEvents,
        HubProtocol::MessagePack,
    )
    .build()
    .unwrap();
    match c.start().await {
        Err(HubError::NoTransport(failures)) => assert!(failures.is_empty(), "{failures:?}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn fallback_follows_the_server_order() {
    // All transports allowed: the server lists WebSockets first.
    let hub = Peer::hub().await;
    let c = sio_signalr::HubConnectionBuilder::new()
        .with_url(format!("{}/hub", hub.base()))
        .build()
        .unwrap();
    c.start().await.unwrap();
    assert_eq!(c.transport(), Some(HttpTransportType::WebSockets));
    c.stop().await;
    // Without WebSockets, the next one the server lists that carries binary: Long Polling.
    let c = sio_signalr::HubConnectionBuilder::new()
        .with_url(format!("{}/hub", hub.base()))
        .with_transports(&[
            HttpTransportType::ServerSentEvents,
            HttpTransportType::LongPolling,
        ])
        .with_hub_protocol(HubProtocol::MessagePack)
        .build()
        .unwrap();
    c.start().await.unwrap();
    assert_eq!(c.transport(), Some(HttpTransportType::LongPolling));
    assert_eq!(
        c.invoke::<String, _>("Transport", &()).await.unwrap(),
        "LongPolling"
    );
    c.stop().await;
}

#[tokio::test]
async fn keep_alive_and_server_timeout() {
    let hub = Peer::hub_with(json!({"pingMs": 100})).await;
    for transport in [
        HttpTransportType::WebSockets,
        HttpTransportType::ServerSentEvents,
    ] {
        official(&hub.base(), transport, HubProtocol::Json, &["timeout"]).await;
        let c = builder(&format!("{}/hub", hub.base()), transport, HubProtocol::Json)
            .with_keep_alive_interval(Duration::from_millis(100))
            .with_server_timeout(Duration::from_millis(600))
            .with_automatic_reconnect_delays(vec![Duration::ZERO])
            .build()
            .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        c.on_reconnecting(move |e| {
            let _ = tx.send(e.map(ToString::to_string));
        });
        let started = tokio::time::Instant::now();
        c.start().await.unwrap();
        // Our pings reach the hub while we send nothing else...
        let deadline = started + Duration::from_secs(10);
        loop {
            let pings: u64 = c.invoke("Pings", &()).await.unwrap();
            if pings >= 3 {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "only {pings} pings");
            // Slower than the keep-alive interval: each invocation counts as sending and defers
            // the next ping.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        // ...and the hub's pings keep us connected past the server timeout.
        tokio::time::sleep_until(started + Duration::from_millis(800)).await;
        assert_eq!(c.state(), HubConnectionState::Connected);
        assert!(rx.try_recv().is_err());
        // A hub that goes silent is given up on after the server timeout.
        c.send("Mute", &()).await.unwrap();
        let error = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .unwrap()
            .unwrap();
        assert!(
            error
                .as_deref()
                .is_some_and(|e| e.contains("server timeout")),
            "{error:?}"
        );
        c.stop().await;
    }
}

#[tokio::test]
async fn stateful_reconnect_websockets() {
    let hub = Peer::hub().await;
    for protocol in [HubProtocol::Json, HubProtocol::MessagePack] {
        official(
            &hub.base(),
            HttpTransportType::WebSockets,
            protocol,
            &["stateful"],
        )
        .await;
        let c = builder(
            &format!("{}/hub", hub.base()),
            HttpTransportType::WebSockets,
            protocol,
        )
        .with_stateful_reconnect()
        .build()
        .unwrap();
        let (tx, mut rx) = mpsc::unbounded_channel();
        c.on_reconnecting(move |_| {
            let _ = tx.send(());
        });
        c.start().await.unwrap();
        let id = c.connection_id();
        assert!(c.invoke::<bool, _>("Stateful", &()).await.unwrap());
        let connections: i64 = c.invoke("Connections", &()).await.unwrap();
        // The hub breaks the socket, then answers while no socket is attached: the answer waits
        // in its buffer and arrives after the resume, on the same connection.
        assert_eq!(
            c.invoke::<String, _>("DropThenEcho", &("kept",))
                .await
                .unwrap(),
            "kept"
        );
        assert_eq!(c.connection_id(), id);
        assert_eq!(
            c.invoke::<i64, _>("Connections", &()).await.unwrap(),
            connections
        );
        c.send("Record", &(5,)).await.unwrap();
        assert_eq!(c.invoke::<Vec<i64>, _>("Recorded", &()).await.unwrap(), [5]);
        assert!(rx.try_recv().is_err(), "a resume is not a reconnect");
        c.stop().await;
    }
}

#[tokio::test]
async fn the_python_clients_accept_the_fixture() {
    // signalrcore on the three transports and pysignalr on WebSockets: clients written apart
    // from the official one, to catch fixture mistakes it lets pass.
    let hub = Peer::hub().await;
    let python = common::peers_dir().join(".venv/bin/python");
    assert!(
        python.exists(),
        "peers/.venv is missing: run scripts/setup-peers"
    );
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::process::Command::new(python)
            .arg(common::peers_dir().join("signalr_python_clients.py"))
            .arg(format!("{}/hub", hub.base()))
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .expect("the Python clients finish")
    .expect("run python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let passed = stdout
        .lines()
        .filter(|l| l.contains("\"ok\": true"))
        .count();
    assert!(out.status.success() && passed == 4, "{stdout}");
}

#[tokio::test]
async fn a_sloppy_hub_is_understood() {
    // {"type":0} as the handshake answer and headers that are not a map: accepted by the
    // official client and by ours. A Completion without id answering a non-blocking call (which
    // the official client refuses): ignored by ours.
    let hub = Peer::hub().await;
    for transport in [
        HttpTransportType::WebSockets,
        HttpTransportType::ServerSentEvents,
        HttpTransportType::LongPolling,
    ] {
        official(&hub.base(), transport, HubProtocol::Json, &["sloppy"]).await;
        for path in ["sloppy", "idless"] {
            let c = connected(
                &format!("{}/{path}/hub", hub.base()),
                transport,
                HubProtocol::Json,
            )
            .await;
            c.send("Record", &(1,)).await.unwrap();
            assert_eq!(c.invoke::<String, _>("Echo", &("x",)).await.unwrap(), "x");
            assert_eq!(c.invoke::<Vec<i64>, _>("Recorded", &()).await.unwrap(), [1]);
            assert_eq!(c.state(), HubConnectionState::Connected);
            c.stop().await;
        }
    }
}

#[tokio::test]
async fn stop_during_start_cancels_the_start() {
    let hub = Peer::hub().await;
    official(
        &hub.base(),
        HttpTransportType::WebSockets,
        HubProtocol::Json,
        &["slow"],
    )
    .await;
    let c = builder(
        &format!("{}/slow/hub", hub.base()),
        HttpTransportType::WebSockets,
        HubProtocol::Json,
    )
    .build()
    .unwrap();
    // join! polls start first: it is connecting (negotiate takes 300 ms) when stop comes.
    let (started, ()) = tokio::join!(c.start(), c.stop());
    assert!(
        matches!(started, Err(HubError::ConnectionStopped)),
        "{started:?}"
    );
    assert_eq!(c.state(), HubConnectionState::Disconnected);
    assert_eq!(c.connection_id(), None);
    // A stop before a start does not cancel that start.
    c.stop().await;
    c.start().await.unwrap();
    assert_eq!(c.invoke::<i64, _>("Echo", &(1,)).await.unwrap(), 1);
    c.stop().await;
}
