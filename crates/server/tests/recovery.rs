//! Connection state recovery with the official `socket.io-client` 4.8: after the transport is
//! lost (closed by the client or by the server), the client reconnects with its private id and
//! last offset and gets back its id, rooms, `data` and the events it missed, in order.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use common::{Peer, Probe, TestServer, probe, start};
use serde_json::{Value as Json, json};
use sio_server::{DisconnectReason, Event, RecoveryConfig, ServerConfig, SocketRef};

/// What the server reports.
#[derive(Debug)]
enum Seen {
    Connected {
        id: String,
        recovered: bool,
        rooms: Vec<String>,
        data: Json,
    },
    Disconnected(String),
}

/// A recovery server. A new socket joins `room-a`, gets `data` and is sent `hello`; a
/// disconnected one triggers the events it will have missed: two to everyone, one to its room,
/// one to a room it is not in. `close-transport` sends `bye` and closes the Engine.IO session
/// from the server.
async fn recovery_server() -> (TestServer, Probe<Seen>) {
    let server = start(ServerConfig {
        recovery: Some(RecoveryConfig::default()),
        ..ServerConfig::default()
    })
    .await;
    let (tx, seen) = probe();
    let io = server.io.clone();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        let io = io.clone();
        async move {
            if !socket.recovered() {
                socket.join("room-a");
                socket.set_data(&json!({"n": 1, "name": "a"})).unwrap();
            }
            let mut rooms = socket.rooms();
            rooms.sort();
            let _ = tx.send(Seen::Connected {
                id: socket.id().to_owned(),
                recovered: socket.recovered(),
                rooms,
                data: socket.data().unwrap(),
            });
            socket.on(
                "close-transport",
                |socket: SocketRef, _event: Event| async move {
                    // Last words: they arrive before the disconnection, and are not replayed.
                    socket.emit("bye", &()).unwrap();
                    socket.conn().close();
                },
            );
            socket.on("more", |socket: SocketRef, event: Event| async move {
                let n: u32 = event.args().unwrap();
                socket.emit("more", &n).unwrap();
            });
            let tx = tx.clone();
            socket.on_disconnect(move |_socket: SocketRef, reason: DisconnectReason| {
                // The socket has left its rooms: these are what it misses.
                io.emit("missed", &1).unwrap();
                io.to("room-a").emit("missed", &2).unwrap();
                io.to("room-b").emit("not-for-you", &()).unwrap();
                io.of("/").volatile().emit("volatile", &()).unwrap();
                io.emit("missed", &(3, "three")).unwrap();
                let _ = tx.send(Seen::Disconnected(reason.as_str().to_owned()));
                async {}
            });
            if !socket.recovered() {
                socket.emit("hello", &"first").unwrap();
            }
        }
    });
    (server, seen)
}

/// Splits the offset (last argument, a string) off an event's arguments.
fn without_offset(event: &Json) -> (Json, String) {
    let mut args = event["args"].as_array().unwrap().clone();
    let offset = args.pop().unwrap_or_else(|| panic!("no offset in {event}"));
    let offset = offset
        .as_str()
        .unwrap_or_else(|| panic!("last argument of {event} is not an offset"))
        .to_owned();
    (Json::Array(args), offset)
}

async fn scenario(transports: &[&str], server_closes: bool) {
    let (server, mut seen) = recovery_server().await;
    let mut client = Peer::node(&server, "v4").await;
    client
        .connect(
            "a",
            "/",
            json!({
                "transports": transports,
                // Reconnect at once, so the test does not wait for the backoff.
                "reconnectionDelay": 1,
                "randomizationFactor": 0,
            }),
        )
        .await;
    let Seen::Connected { id, recovered, .. } = seen.next().await else {
        panic!("expected a connection")
    };
    assert!(!recovered);
    let hello = client.wait_event("a", "hello").await;
    let (args, first_offset) = without_offset(&hello);
    assert_eq!(args, json!(["first"]));

    if server_closes {
        client.emit("a", "close-transport", json!([])).await;
    } else {
        client.send(json!({"op": "close-engine", "m": "a"})).await;
    }
    let client_reason = if server_closes {
        "transport close"
    } else {
        "forced close"
    };
    let (disconnect, before) = client
        .before("a", "disconnect", |e| {
            e["ev"] == "disconnect" && e["s"] == "a"
        })
        .await;
    assert_eq!(disconnect["reason"], client_reason);
    let last_words: Vec<_> = before.iter().map(|e| e["name"].clone()).collect();
    if server_closes {
        assert_eq!(last_words, [json!("bye")], "{}", client.log());
    } else {
        assert!(last_words.is_empty(), "{}", client.log());
    }
    let server_reason = if server_closes {
        "forced close"
    } else {
        "transport close"
    };
    let Seen::Disconnected(reason) = seen.next().await else {
        panic!("expected a disconnection")
    };
    assert_eq!(reason, server_reason);

    // The client reconnects by itself: the missed events come first, in order, then `connect`.
    let (connect, missed) = client
        .before("a", "connect", |e| e["ev"] == "connect" && e["s"] == "a")
        .await;
    let Seen::Connected {
        id: new_id,
        recovered,
        rooms,
        data,
    } = seen.next().await
    else {
        panic!("expected a connection")
    };
    assert!(recovered, "the server did not recover the session");
    assert_eq!(connect["recovered"], true, "{}", client.log());
    assert_eq!(new_id, id);
    assert_eq!(connect["id"], id.as_str());
    let mut expected_rooms = vec![id.clone(), "room-a".to_owned()];
    expected_rooms.sort();
    assert_eq!(rooms, expected_rooms);
    assert_eq!(data, json!({"n": 1, "name": "a"}));

    let mut offsets = vec![first_offset];
    let missed: Vec<(String, Json)> = missed
        .iter()
        .map(|event| {
            let (args, offset) = without_offset(event);
            offsets.push(offset);
            (event["name"].as_str().unwrap().to_owned(), args)
        })
        .collect();
    assert_eq!(
        missed,
        [
            ("missed".to_owned(), json!([1])),
            ("missed".to_owned(), json!([2])),
            ("missed".to_owned(), json!([3, "three"])),
        ],
        "{}",
        client.log()
    );

    // The recovered socket goes on: its events still carry offsets, all distinct.
    client.emit("a", "more", json!([4])).await;
    let (args, offset) = without_offset(&client.wait_event("a", "more").await);
    assert_eq!(args, json!([4]));
    offsets.push(offset);
    let distinct: std::collections::HashSet<_> = offsets.iter().collect();
    assert_eq!(distinct.len(), offsets.len(), "offsets repeat: {offsets:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closes_websocket() {
    scenario(&["websocket"], false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_closes_polling() {
    scenario(&["polling"], false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closes_websocket() {
    scenario(&["websocket"], true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closes_polling() {
    scenario(&["polling"], true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closes_after_upgrade() {
    scenario(&["polling", "websocket"], true).await;
}

/// Events emitted to the disconnected socket object itself are kept for it, as in Node
/// (`socket.emit` goes through the adapter when recovery is on), and both namespaces of the
/// connection come back, each with its own missed events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_namespace_recovers_with_its_own_events() {
    let server = start(ServerConfig {
        recovery: Some(RecoveryConfig::default()),
        ..ServerConfig::default()
    })
    .await;
    let (tx, mut seen) = probe();
    for name in ["/", "/chat"] {
        let tx = tx.clone();
        server.io.of(name).on_connection(move |socket: SocketRef| {
            let _ = tx.send((
                socket.namespace().name().to_owned(),
                socket.id().to_owned(),
                socket.recovered(),
            ));
            socket.emit("hello", &socket.namespace().name()).unwrap();
            let on_leave = tx.clone();
            socket.on_disconnect(move |socket: SocketRef, _reason: DisconnectReason| {
                let nsp = socket.namespace().name().to_owned();
                // A late answer to this very socket, e.g. from a task that outlived the transport.
                if let Err(error) = socket.emit("direct", &nsp) {
                    let _ = on_leave.send((nsp.clone(), format!("direct emit: {error}"), false));
                }
                socket.namespace().emit("all", &nsp).unwrap();
                async {}
            });
            socket.on(
                "close-transport",
                |socket: SocketRef, _event: Event| async move {
                    socket.conn().close();
                },
            );
            async {}
        });
    }
    let mut client = Peer::node(&server, "v4").await;
    client
        .manager(
            "m",
            json!({"transports": ["websocket"], "reconnectionDelay": 1, "randomizationFactor": 0}),
        )
        .await;
    let mut ids = std::collections::HashMap::new();
    for (s, nsp) in [("main", "/"), ("chat", "/chat")] {
        client.socket(s, "m", nsp, json!({})).await;
        let connect = client.wait_ev("connect", s).await;
        ids.insert(s, connect["id"].clone());
        client.wait_event(s, "hello").await;
    }
    for _ in 0..2 {
        assert!(!seen.next().await.2);
    }
    client.emit("main", "close-transport", json!([])).await;
    for (s, nsp) in [("main", "/"), ("chat", "/chat")] {
        let (connect, missed) = client
            .before(s, "connect", |e| e["ev"] == "connect" && e["s"] == s)
            .await;
        assert_eq!(connect["recovered"], true, "{}", client.log());
        assert_eq!(connect["id"], ids[s]);
        let missed: Vec<_> = missed
            .iter()
            .filter(|e| e["ev"] == "event")
            .map(|e| (e["name"].as_str().unwrap().to_owned(), without_offset(e).0))
            .collect();
        assert_eq!(
            missed,
            [
                ("direct".to_owned(), json!([nsp])),
                ("all".to_owned(), json!([nsp])),
            ],
            "{}",
            client.log()
        );
    }
    for _ in 0..2 {
        let (nsp, id, recovered) = seen.next().await;
        assert!(recovered, "{nsp} {id}");
    }
}

/// No recovery after a disconnection the client asked for, nor after the session expired:
/// the socket starts afresh with a new id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_recovery_when_not_recoverable_or_expired() {
    let server = start(ServerConfig {
        recovery: Some(RecoveryConfig {
            max_disconnection_duration: std::time::Duration::from_millis(200),
            ..RecoveryConfig::default()
        }),
        ..ServerConfig::default()
    })
    .await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let _ = tx.send((socket.id().to_owned(), socket.recovered()));
        socket.emit("hello", &()).unwrap();
        async {}
    });
    let mut client = Peer::node(&server, "v4").await;
    client
        .connect(
            "a",
            "/",
            json!({"transports": ["websocket"], "reconnection": false}),
        )
        .await;
    client.wait_event("a", "hello").await;
    let (first, _) = seen.next().await;

    // The client leaves the namespace: its session is not kept.
    client.send(json!({"op": "disconnect", "s": "a"})).await;
    client.wait_ev("disconnect", "a").await;
    client.send(json!({"op": "connect", "s": "a"})).await;
    let connect = client.wait_ev("connect", "a").await;
    let (second, recovered) = seen.next().await;
    assert!(!recovered && connect["recovered"] == false);
    assert_ne!(second, first);
    assert_eq!(connect["id"], second.as_str());
    client.wait_event("a", "hello").await;

    // The transport is lost, but the client comes back too late.
    client.send(json!({"op": "close-engine", "m": "a"})).await;
    client.wait_ev("disconnect", "a").await;
    // Waiting is the point here: the session must outlive its 200 ms.
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    client.send(json!({"op": "connect", "s": "a"})).await;
    let connect = client.wait_ev("connect", "a").await;
    let (third, recovered) = seen.next().await;
    assert!(!recovered && connect["recovered"] == false);
    assert_ne!(third, second);
}

/// Recovery with the msgpack parser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_with_msgpack() {
    let server = start(ServerConfig {
        recovery: Some(RecoveryConfig::default()),
        parser: sio_server::Parser::Msgpack,
        ..ServerConfig::default()
    })
    .await;
    let io = server.io.clone();
    server.io.on_connection(move |socket: SocketRef| {
        let io = io.clone();
        socket
            .emit(
                "hello",
                &(socket.recovered(), bytes::Bytes::from_static(b"\x01")),
            )
            .unwrap();
        socket.on_disconnect(move |_socket: SocketRef, _reason: DisconnectReason| {
            io.emit("missed", &(bytes::Bytes::from_static(b"\x02"), "m"))
                .unwrap();
            async {}
        });
        async {}
    });
    let mut client = Peer::node(&server, "v4").await;
    let first = client
        .connect(
            "a",
            "/",
            json!({"parser": "msgpack", "reconnectionDelay": 1, "randomizationFactor": 0}),
        )
        .await;
    let hello = client.wait_event("a", "hello").await;
    assert_eq!(without_offset(&hello).0, json!([false, {"$bin": [1]}]));
    client.send(json!({"op": "close-engine", "m": "a"})).await;
    let (connect, missed) = client
        .before("a", "reconnection", |e| {
            e["ev"] == "connect" && e["s"] == "a"
        })
        .await;
    assert_eq!(connect["recovered"], true);
    assert_eq!(connect["id"], first["id"]);
    let missed: Vec<_> = missed
        .iter()
        .filter(|e| e["ev"] == "event")
        .map(|e| (e["name"].clone(), without_offset(e).0))
        .collect();
    assert_eq!(missed, [(json!("missed"), json!([{"$bin": [2]}, "m"]))]);
    let hello = client.wait_event("a", "hello").await;
    assert_eq!(without_offset(&hello).0, json!([true, {"$bin": [1]}]));
}

/// Events the server sends while the client is dropping its transport arrive exactly once and
/// in order: those the client processed before the drop are not replayed, the others are.
async fn in_flight_scenario(transport: &str) {
    const N: u64 = 50;
    let server = start(ServerConfig {
        recovery: Some(RecoveryConfig::default()),
        ..ServerConfig::default()
    })
    .await;
    server.io.on_connection(|socket: SocketRef| async move {
        socket.emit("hello", &()).unwrap();
        socket.on("spam", |socket: SocketRef, _event: Event| async move {
            for i in 0..N {
                socket.emit("n", &i).unwrap();
            }
            socket.emit("end", &()).unwrap();
        });
    });
    let mut client = Peer::node(&server, "v4").await;
    let first = client
        .connect(
            "a",
            "/",
            json!({"transports": [transport], "reconnectionDelay": 1, "randomizationFactor": 0}),
        )
        .await;
    client.wait_event("a", "hello").await;
    // Both commands run in one turn of the client's event loop.
    client.emit("a", "spam", json!([])).await;
    client.send(json!({"op": "close-engine", "m": "a"})).await;
    let connect = client
        .wait("recovered connect", |e| {
            e["ev"] == "connect" && e["s"] == "a"
        })
        .await;
    assert_eq!(connect["recovered"], true, "{}", client.log());
    assert_eq!(connect["id"], first["id"]);
    let received: Vec<u64> = client
        .events_before("a", "end")
        .await
        .iter()
        .filter(|e| e["ev"] == "event" && e["name"] == "n")
        .map(|e| without_offset(e).0[0].as_u64().unwrap())
        .collect();
    assert_eq!(received, (0..N).collect::<Vec<_>>(), "{}", client.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_events_arrive_once_websocket() {
    in_flight_scenario("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_events_arrive_once_polling() {
    in_flight_scenario("polling").await;
}
