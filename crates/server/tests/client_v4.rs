//! The official `socket.io-client` 4.8 (protocol v5) against our server, driven by
//! `peers/sio-client.js`: transports, handshake data, middlewares, events, acknowledgements,
//! binary, namespaces, rooms, server-wide operations, disconnections, dynamic namespaces and the
//! msgpack parser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::string_slice,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::{Peer, TestServer, args_json, from_json, probe, start, to_json};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use sio_server::{
    AckError, ConnectError, DisconnectReason, Event, Parser, ServerConfig, SocketRef, Value,
};

/// Echo server: `echo` is emitted back with its arguments, or acknowledged with them; each
/// echo reports the socket's id and transport.
async fn echo_server(config: ServerConfig) -> (TestServer, common::Probe<(String, String)>) {
    let server = start(config).await;
    let (tx, seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            socket.on("echo", move |socket: SocketRef, mut event: Event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send((
                        socket.id().to_owned(),
                        socket.conn().transport().as_str().to_owned(),
                    ));
                    let args = std::mem::take(&mut event.args);
                    match event.ack.take() {
                        Some(ack) => ack.send_values(args).unwrap(),
                        None => socket.emit("echo", &args).unwrap(),
                    }
                }
            });
        }
    });
    (server, seen)
}

async fn transport_scenario(opts: Json, opens_on: &str, upgrades: bool) {
    let (server, mut seen) = echo_server(ServerConfig::default()).await;
    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", opts).await;
    client.socket("a", "m", "/", json!({})).await;
    let open = client.wait("open", |e| e["ev"] == "open").await;
    assert_eq!(open["transport"], opens_on);
    let connect = client.wait_ev("connect", "a").await;
    if upgrades {
        client
            .wait("upgrade", |e| {
                e["ev"] == "upgrade" && e["transport"] == "websocket"
            })
            .await;
    }
    let args = json!([
        1,
        "two € 😀 \u{0} \u{2028} \"q\" \\",
        {"three": [true, null, 4.5]},
        {"$bin": [0, 1, 255]},
        [9_007_199_254_740_991i64, -9_007_199_254_740_991i64, 1e300, -0.5, 0.1, 1e-7, 123456789012.5],
    ]);
    client.emit("a", "echo", args.clone()).await;
    let echo = client.wait_event("a", "echo").await;
    assert_eq!(echo["args"], args);
    let ends_on = if upgrades { "websocket" } else { opens_on };
    let (id, transport) = seen.next().await;
    assert_eq!(id, connect["id"].as_str().unwrap(), "socket id");
    assert_eq!(transport, ends_on, "server-side transport");
    let state = client.state("a").await;
    assert_eq!(state["transport"], ends_on);
    assert_eq!(state["engine"], open["engine"]);
}

/// Default transports: polling first, then the upgrade to WebSocket, events on both sides.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_transports_upgrade_to_websocket() {
    transport_scenario(json!({}), "polling", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_only() {
    transport_scenario(json!({"transports": ["websocket"]}), "websocket", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_only() {
    transport_scenario(json!({"transports": ["polling"]}), "polling", false).await;
}

/// Binary as base64 text: `b…` packets over polling and in WebSocket text frames.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn force_base64() {
    transport_scenario(json!({"forceBase64": true}), "polling", true).await;
}

/// What the server reads from the handshake: auth, headers, query, and a middleware that
/// sees the same socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_auth_headers_and_query() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    let mw_tx = tx.clone();
    server.io.use_middleware(move |socket: SocketRef| {
        let tx = mw_tx.clone();
        async move {
            let _ = tx.send(json!({"middleware": to_json(&socket.handshake().auth)}));
            Ok(())
        }
    });
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            let handshake = socket.handshake();
            let header = |name: &str| {
                handshake
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let _ = tx.send(json!({
                "id": socket.id(),
                "auth": to_json(&handshake.auth),
                "header": header("x-sio-test"),
                "query": handshake.query("room"),
                "eio": handshake.query("EIO"),
                "address": handshake.address.map(|a| a.ip().to_string()),
            }));
        }
    });
    let mut client = Peer::node(&server, "v4").await;
    let connect = client
        .connect(
            "a",
            "/",
            json!({
                "auth": {"token": "abc", "n": 1},
                "query": {"room": "lobby €"},
                "extraHeaders": {"x-sio-test": "yes"},
            }),
        )
        .await;
    assert_eq!(
        seen.next().await,
        json!({"middleware": {"token": "abc", "n": 1}})
    );
    assert_eq!(
        seen.next().await,
        json!({
            "id": connect["id"],
            "auth": {"token": "abc", "n": 1},
            "header": "yes",
            "query": "lobby €",
            "eio": "4",
            "address": "127.0.0.1",
        })
    );
}

/// A middleware refusal reaches the client as `connect_error` with its message and data; the
/// connection handlers never run for it, and another client is still accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn middleware_refusal_with_data() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut connected) = probe();
    server.io.use_middleware(|socket: SocketRef| async move {
        let token = socket.handshake().auth.as_map().and_then(|fields| {
            fields
                .iter()
                .find(|(k, _)| k.as_str() == Some("token"))
                .and_then(|(_, v)| v.as_str().map(str::to_owned))
        });
        match token.as_deref() {
            Some("good") => Ok(()),
            _ => Err(ConnectError::new("not authorized")
                .with_data(from_json(&json!({"code": 401, "hint": ["token"]})))),
        }
    });
    server.io.on_connection(move |socket: SocketRef| {
        let _ = tx.send(socket.handshake().auth.clone());
        async {}
    });
    let mut client = Peer::node(&server, "v4").await;
    client
        .manager("bad", json!({"auth": {"token": "bad"}}))
        .await;
    client
        .socket("bad", "bad", "/", json!({"auth": {"token": "bad"}}))
        .await;
    let error = client.wait_ev("connect_error", "bad").await;
    assert_eq!(error["message"], "not authorized");
    assert_eq!(error["data"], json!({"code": 401, "hint": ["token"]}));

    client
        .connect("good", "/", json!({"auth": {"token": "good"}}))
        .await;
    assert_eq!(to_json(&connected.next().await), json!({"token": "good"}));
    assert!(
        connected.try_next().is_none(),
        "a refused socket was connected"
    );
}

/// An unknown namespace is refused with `Invalid namespace`; the same connection may still
/// join a namespace that exists.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_namespace() {
    let server = start(ServerConfig::default()).await;
    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", json!({})).await;
    client.socket("main", "m", "/", json!({})).await;
    client.wait_ev("connect", "main").await;
    client.socket("nope", "m", "/nope", json!({})).await;
    let error = client.wait_ev("connect_error", "nope").await;
    assert_eq!(error["message"], "Invalid namespace");
    assert_eq!(error["data"], Json::Null);
    // The main namespace socket is unaffected.
    let state = client.state("main").await;
    assert_eq!(state["connected"], true);
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Move {
    steps: u32,
    direction: String,
    speed: f64,
    tags: Vec<String>,
}

/// Events both ways with typed arguments: the client's arguments decode into Rust types, and
/// Rust types arrive as the JSON a JavaScript client expects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_events_both_ways() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            socket.on("move", move |socket: SocketRef, event: Event| {
                let tx = tx.clone();
                async move {
                    let (player, mv, flag): (String, Move, Option<bool>) = event.args().unwrap();
                    let reply = Move {
                        steps: mv.steps * 2,
                        ..mv
                    };
                    let _ = tx.send((player.clone(), flag));
                    socket.emit("moved", &(player, reply, 7u8, ())).unwrap();
                }
            });
            socket.emit("welcome", &"hi").unwrap();
            socket.emit("nothing", &()).unwrap();
            // Reserved names are refused, as Node throws for them: report any that is not.
            let accepted: Vec<&str> = ["connect", "connect_error", "disconnect", "disconnecting"]
                .into_iter()
                .filter(|name| {
                    socket.emit(name, &()).is_ok() || socket.broadcast().emit(name, &()).is_ok()
                })
                .collect();
            socket.emit("reserved-accepted", &(accepted,)).unwrap();
        }
    });
    let mut client = Peer::node(&server, "v4").await;
    client.connect("a", "/", json!({})).await;
    assert_eq!(
        client.wait_event("a", "welcome").await["args"],
        json!(["hi"])
    );
    assert_eq!(client.wait_event("a", "nothing").await["args"], json!([]));
    assert_eq!(
        client.wait_event("a", "reserved-accepted").await["args"],
        json!([[]])
    );
    client
        .emit(
            "a",
            "move",
            json!(["p1", {"steps": 3, "direction": "up", "speed": 1.5, "tags": ["x"]}, null]),
        )
        .await;
    let moved = client.wait_event("a", "moved").await;
    assert_eq!(
        moved["args"],
        json!(["p1", {"steps": 6, "direction": "up", "speed": 1.5, "tags": ["x"]}, 7, null])
    );
    assert_eq!(seen.next().await, ("p1".to_owned(), None));
}

/// Acknowledgements both ways: the client's `emitWithAck` and callbacks answered by the server,
/// the server's `timeout(..).emit_with_ack` answered by the client, and a timeout when the
/// client does not answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_both_ways() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut answers) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            socket.on("sum", |_socket: SocketRef, mut event: Event| async move {
                let (a, b): (i64, i64) = event.args().unwrap();
                event.ack(&(a + b)).unwrap();
            });
            socket.on("many", |_socket: SocketRef, mut event: Event| async move {
                event.ack(&("one", 2, [3])).unwrap();
            });
            socket.on("ask", move |socket: SocketRef, event: Event| {
                let tx = tx.clone();
                async move {
                    let timeout: u64 = event.args().unwrap();
                    let answer = socket
                        .timeout(Duration::from_millis(timeout))
                        .emit_with_ack("question", &("what?", 1))
                        .await;
                    let _ = tx.send(answer.map(|args| args_json(&args)));
                }
            });
        }
    });
    let mut client = Peer::node(&server, "v4").await;
    client.connect("a", "/", json!({})).await;

    let ack = client
        .call("a", "sum", json!([2, 40]), json!({"promise": true}))
        .await;
    assert_eq!(ack, json!({"ev": "ack", "req": ack["req"], "args": [42]}));
    let ack = client.call("a", "many", json!([]), json!({})).await;
    assert_eq!(ack["args"], json!(["one", 2, [3]]));
    let ack = client
        .call("a", "many", json!([]), json!({"timeout": 5000}))
        .await;
    assert_eq!(ack["args"], json!(["one", 2, [3]]));

    // The server asks, the client answers.
    client.emit("a", "ask", json!([5000])).await;
    let question = client.wait_event("a", "question").await;
    assert_eq!(question["args"], json!(["what?", 1]));
    assert!(question["ack"].is_number(), "no ack requested: {question}");
    client
        .ack("a", &question["ack"], json!(["answer", {"n": 42}]))
        .await;
    assert_eq!(answers.next().await.unwrap(), json!(["answer", {"n": 42}]));

    // The server asks, the client stays silent.
    client.emit("a", "ask", json!([200])).await;
    client.wait_event("a", "question").await;
    assert!(matches!(answers.next().await, Err(AckError::Timeout)));

    // The server asks, the client leaves before answering.
    client.emit("a", "ask", json!([60_000])).await;
    client.wait_event("a", "question").await;
    client.send(json!({"op": "disconnect", "s": "a"})).await;
    assert!(matches!(answers.next().await, Err(AckError::Disconnected)));
}

fn bin(bytes: &[u8]) -> Json {
    json!({ "$bin": bytes })
}

/// Binary nested in objects and arrays, several attachments, in events and acknowledgements,
/// both directions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_nested_both_ways() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            let tx2 = tx.clone();
            socket.on("upload", move |socket: SocketRef, mut event: Event| {
                let tx = tx.clone();
                async move {
                    let _ = tx.send(Ok(args_json(&event.args)));
                    // Answer with other binary, nested differently.
                    let reply = from_json(&json!([
                        {"x": [{"$bin": [9, 8]}, {"y": {"$bin": []}}]},
                        {"$bin": [0, 255, 128]},
                    ]));
                    let Value::Array(reply) = reply else {
                        unreachable!()
                    };
                    match event.ack.take() {
                        Some(ack) => ack.send_values(reply).unwrap(),
                        None => socket.emit("download", &reply).unwrap(),
                    }
                }
            });
            socket.on("ask-binary", move |socket: SocketRef, _event: Event| {
                let tx = tx2.clone();
                async move {
                    let answer = socket
                        .timeout(Duration::from_secs(5))
                        .emit_with_ack(
                            "need-binary",
                            &(bytes::Bytes::from_static(b"\x01\x02"), "plain"),
                        )
                        .await;
                    let _ = tx.send(
                        answer
                            .map(|args| args_json(&args))
                            .map_err(|e| e.to_string()),
                    );
                }
            });
        }
    });
    let mut client = Peer::node(&server, "v4").await;
    client.connect("a", "/", json!({})).await;

    let upload = json!([{"a": {"b": [bin(&[1, 2, 3]), "text", bin(&[4])]}}, bin(&[255, 0]), 5]);
    client.emit("a", "upload", upload.clone()).await;
    assert_eq!(seen.next().await.unwrap(), upload);
    let download = client.wait_event("a", "download").await;
    let expected = json!([{"x": [bin(&[9, 8]), {"y": bin(&[])}]}, bin(&[0, 255, 128])]);
    assert_eq!(download["args"], expected);

    // The same in acknowledgements.
    let ack = client.call("a", "upload", upload.clone(), json!({})).await;
    assert_eq!(seen.next().await.unwrap(), upload);
    assert_eq!(ack["args"], expected);

    client.emit("a", "ask-binary", json!([])).await;
    let request = client.wait_event("a", "need-binary").await;
    assert_eq!(request["args"], json!([bin(&[1, 2]), "plain"]));
    client
        .ack(
            "a",
            &request["ack"],
            json!([{"file": bin(&[7, 7, 7])}, bin(&[1])]),
        )
        .await;
    assert_eq!(
        seen.next().await.unwrap(),
        json!([{"file": bin(&[7, 7, 7])}, bin(&[1])])
    );
}

/// One Manager multiplexes `/` and `/chat` on one Engine.IO connection; each namespace has its
/// own handlers and socket id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_share_one_connection() {
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    for name in ["/", "/chat"] {
        let tx = tx.clone();
        server.io.of(name).on_connection(move |socket: SocketRef| {
            let _ = tx.send((
                socket.namespace().name().to_owned(),
                socket.id().to_owned(),
                socket.conn().id().to_owned(),
            ));
            async move {
                socket.on("where", |socket: SocketRef, mut event: Event| async move {
                    event.ack(&socket.namespace().name()).unwrap();
                });
            }
        });
    }
    let mut client = Peer::node(&server, "v4").await;
    client
        .manager("m", json!({"transports": ["websocket"]}))
        .await;
    client.socket("main", "m", "/", json!({})).await;
    client.socket("chat", "m", "/chat", json!({})).await;
    let main = client.wait_ev("connect", "main").await;
    let chat = client.wait_ev("connect", "chat").await;
    let mut connected = [seen.next().await, seen.next().await];
    connected.sort();
    let [(n1, id1, conn1), (n2, id2, conn2)] = connected;
    assert_eq!((n1.as_str(), n2.as_str()), ("/", "/chat"));
    assert_eq!(id1, main["id"].as_str().unwrap());
    assert_eq!(id2, chat["id"].as_str().unwrap());
    assert_ne!(id1, id2);
    assert_eq!(conn1, conn2, "both namespaces on one Engine.IO session");
    assert_eq!(client.state("main").await["engine"], conn1.as_str());
    assert_eq!(client.state("chat").await["engine"], conn1.as_str());
    assert_eq!(
        client.call("main", "where", json!([]), json!({})).await["args"],
        json!(["/"])
    );
    assert_eq!(
        client.call("chat", "where", json!([]), json!({})).await["args"],
        json!(["/chat"])
    );
}

/// Names of the `event`s in `events`, with their arguments.
fn names(events: &[Json]) -> Vec<(String, Json)> {
    events
        .iter()
        .filter(|e| e["ev"] == "event")
        .map(|e| (e["name"].as_str().unwrap().to_owned(), e["args"].clone()))
        .collect()
}

/// A server whose clients join and leave rooms on request, shout to everyone else, and speak
/// to a room; three clients a, b, c on their own connections.
async fn rooms_setup() -> (TestServer, Peer) {
    let server = start(ServerConfig::default()).await;
    server.io.on_connection(|socket: SocketRef| async move {
        socket.on("join", |socket: SocketRef, mut event: Event| async move {
            let rooms: Vec<String> = event.args().unwrap();
            socket.join(rooms);
            event.ack(&socket.rooms().len()).unwrap();
        });
        socket.on("leave", |socket: SocketRef, mut event: Event| async move {
            let room: String = event.args().unwrap();
            socket.leave(&room);
            event.ack(&()).unwrap();
        });
        socket.on("shout", |socket: SocketRef, mut event: Event| async move {
            let text: String = event.args().unwrap();
            socket.broadcast().emit("shout", &text).unwrap();
            event.ack(&()).unwrap();
        });
        socket.on("say", |socket: SocketRef, mut event: Event| async move {
            let (room, text): (String, String) = event.args().unwrap();
            socket.to(room).emit("say", &text).unwrap();
            event.ack(&()).unwrap();
        });
    });
    let mut client = Peer::node(&server, "v4").await;
    for s in ["a", "b", "c"] {
        client
            .connect(s, "/", json!({"transports": ["websocket"]}))
            .await;
    }
    (server, client)
}

/// Everything each client received before the marker `n`, emitted to all once the test's
/// emits are done (events to one connection keep their order).
async fn received(server: &TestServer, client: &mut Peer, n: u32) -> [Vec<(String, Json)>; 3] {
    server.io.emit("marker", &n).unwrap();
    let mut out = [Vec::new(), Vec::new(), Vec::new()];
    for (s, slot) in ["a", "b", "c"].into_iter().zip(out.iter_mut()) {
        *slot = names(&client.events_before(s, "marker").await);
    }
    out
}

fn ev(name: &str, args: Json) -> (String, Json) {
    (name.to_owned(), args)
}

/// Rooms: join/leave, `to`, `except`, a socket in two targeted rooms receives once, the
/// socket-level `broadcast` and `to` leave the sender out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_and_broadcasts() {
    let (server, mut client) = rooms_setup().await;
    let io = &server.io;
    // a: r1 r2, b: r2, c: none. Each socket is also in the room of its own id.
    let joined = client
        .call("a", "join", json!(["r1", "r2"]), json!({}))
        .await;
    assert_eq!(joined["args"], json!([3]));
    client.call("b", "join", json!(["r2"]), json!({})).await;

    io.to(["r1", "r2"]).emit("both", &1).unwrap();
    io.to("r2").except("r1").emit("r2-not-r1", &2).unwrap();
    io.except("r2").emit("not-r2", &3).unwrap();
    io.to("r1").to("r1").emit("r1", &4).unwrap();
    let [a, b, c] = received(&server, &mut client, 1).await;
    assert_eq!(a, [ev("both", json!([1])), ev("r1", json!([4]))]);
    assert_eq!(b, [ev("both", json!([1])), ev("r2-not-r1", json!([2]))]);
    assert_eq!(c, [ev("not-r2", json!([3]))]);

    // Socket-level broadcasts leave the sender out.
    client.call("a", "shout", json!(["hey"]), json!({})).await;
    client
        .call("a", "say", json!(["r2", "psst"]), json!({}))
        .await;
    client
        .call("c", "say", json!(["r2", "hello r2"]), json!({}))
        .await;
    let [a, b, c] = received(&server, &mut client, 2).await;
    assert_eq!(a, [ev("say", json!(["hello r2"]))]);
    assert_eq!(
        b,
        [
            ev("shout", json!(["hey"])),
            ev("say", json!(["psst"])),
            ev("say", json!(["hello r2"])),
        ]
    );
    assert_eq!(c, [ev("shout", json!(["hey"]))]);

    // After leaving, the room no longer reaches a; an emptied room is gone.
    client.call("a", "leave", json!(["r1"]), json!({})).await;
    assert!(!io.of("/").rooms().contains(&"r1".to_owned()));
    io.to("r1").emit("r1", &5).unwrap();
    io.to("r2").emit("r2", &6).unwrap();
    let [a, b, c] = received(&server, &mut client, 3).await;
    assert_eq!(a, [ev("r2", json!([6]))]);
    assert_eq!(b, [ev("r2", json!([6]))]);
    assert!(c.is_empty(), "{c:?}");
}

/// A broadcast with acknowledgements collects one answer per client; `to` narrows it; a
/// client that does not answer makes it time out with the answers that came.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcast_with_acks() {
    let (server, mut client) = rooms_setup().await;
    client.call("b", "join", json!(["r2"]), json!({})).await;
    client.call("c", "join", json!(["r2"]), json!({})).await;
    let io = server.io.clone();
    let all = tokio::spawn(async move {
        io.timeout(Duration::from_secs(5))
            .emit_with_ack("poll", &"ready?")
            .await
    });
    for s in ["a", "b", "c"] {
        let poll = client.wait_event(s, "poll").await;
        assert_eq!(poll["args"], json!(["ready?"]));
        client.ack(s, &poll["ack"], json!([s, true])).await;
    }
    let mut answers: Vec<Json> = all
        .await
        .unwrap()
        .unwrap()
        .iter()
        .map(|a| args_json(a))
        .collect();
    answers.sort_by_key(|a| a.to_string());
    assert_eq!(
        answers,
        [json!(["a", true]), json!(["b", true]), json!(["c", true])]
    );

    // Only r2 is asked; c stays silent.
    let io = server.io.clone();
    let partial = tokio::spawn(async move {
        io.to("r2")
            .timeout(Duration::from_millis(500))
            .collect_acks("poll", &"again?")
            .await
    });
    let poll = client.wait_event("b", "poll").await;
    client.ack("b", &poll["ack"], json!(["b"])).await;
    client.wait_event("c", "poll").await;
    let acks = partial.await.unwrap().unwrap();
    assert_eq!(acks.expected, 2);
    assert_eq!(acks.responses, vec![vec![Value::from("b")]]);
    assert!(!acks.is_complete());
    // a was not asked.
    let [a, _, _] = received(&server, &mut client, 1).await;
    assert!(a.is_empty(), "{a:?}");
}

/// `fetch_sockets` (ids, rooms, data) and what a `RemoteSocket` can do; `sockets_join`,
/// `sockets_leave` and `disconnect_sockets` on a selection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_wide_operations() {
    let (server, mut client) = rooms_setup().await;
    let io = &server.io;
    let mut ids = std::collections::HashMap::new();
    for s in ["a", "b", "c"] {
        ids.insert(client.state(s).await["id"].as_str().unwrap().to_owned(), s);
    }
    for socket in io.of("/").sockets() {
        let name = ids[socket.id()];
        socket.set_data(&json!({"name": name})).unwrap();
    }
    client.call("a", "join", json!(["r1"]), json!({})).await;

    let mut fetched = io.fetch_sockets().await.unwrap();
    fetched.sort_by_key(|s| ids[s.id()]);
    assert_eq!(fetched.len(), 3);
    for socket in &fetched {
        let name = ids[socket.id()];
        assert_eq!(to_json(socket.data()), json!({"name": name}));
        let mut rooms = socket.rooms().to_vec();
        rooms.sort();
        let mut expected = vec![socket.id().to_owned()];
        if name == "a" {
            expected.push("r1".to_owned());
        }
        expected.sort();
        assert_eq!(rooms, expected, "rooms of {name}");
    }
    let in_r1 = io.to("r1").fetch_sockets().await.unwrap();
    assert_eq!(in_r1.len(), 1);
    assert_eq!(ids[in_r1[0].id()], "a");

    // A remote socket: emit, join, leave.
    let [b, c] = [&fetched[1], &fetched[2]];
    b.emit("direct", &"to b").unwrap();
    b.join(["vip", "x"]);
    io.to("vip").emit("vip", &1).unwrap();
    b.leave("vip");
    io.to("vip").emit("vip", &2).unwrap();
    io.to("x").emit("x", &3).unwrap();
    let [ra, rb, rc] = received(&server, &mut client, 1).await;
    assert!(ra.is_empty() && rc.is_empty(), "{ra:?} {rc:?}");
    assert_eq!(
        rb,
        [
            ev("direct", json!(["to b"])),
            ev("vip", json!([1])),
            ev("x", json!([3]))
        ]
    );

    // A remote socket's acknowledgement.
    let asking = b.clone();
    let answer = tokio::spawn(async move {
        asking
            .emit_with_ack("q", &"b?", Duration::from_secs(5))
            .await
    });
    let q = client.wait_event("b", "q").await;
    client.ack("b", &q["ack"], json!(["yes", 2])).await;
    assert_eq!(
        args_json(&answer.await.unwrap().unwrap()),
        json!(["yes", 2])
    );

    // Every socket, or a selection, joins and leaves.
    io.of("/").sockets_join("all");
    io.except("r1").sockets_join("not-a");
    io.to("all").emit("all", &()).unwrap();
    io.to("not-a").emit("not-a", &()).unwrap();
    io.of("/").sockets_leave("all");
    io.to("all").emit("all", &"nobody").unwrap();
    let [ra, rb, rc] = received(&server, &mut client, 2).await;
    assert_eq!(ra, [ev("all", json!([]))]);
    assert_eq!(rb, [ev("all", json!([])), ev("not-a", json!([]))]);
    assert_eq!(rc, [ev("all", json!([])), ev("not-a", json!([]))]);

    // Disconnections: a selection, then one remote socket.
    io.to("r1").disconnect_sockets(false);
    assert_eq!(
        client.wait_ev("disconnect", "a").await["reason"],
        "io server disconnect"
    );
    c.disconnect(true);
    assert_eq!(
        client.wait_ev("disconnect", "c").await["reason"],
        "io server disconnect"
    );
    client
        .wait("close of c", |e| e["ev"] == "close" && e["m"] == "c")
        .await;
    let left = io.fetch_sockets().await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(ids[left[0].id()], "b");
}

/// Reports `(namespace, reason, rooms at disconnecting)` of every socket that leaves (the
/// rooms it still has once gone, if any, instead), and serves `bye` (disconnect the socket,
/// `close` from its argument) and `ping` (ack).
async fn disconnect_server() -> (TestServer, common::Probe<(String, String, Vec<String>)>) {
    let server = start(ServerConfig::default()).await;
    let (tx, seen) = probe();
    for name in ["/", "/chat"] {
        let tx = tx.clone();
        server.io.of(name).on_connection(move |socket: SocketRef| {
            let tx = tx.clone();
            async move {
                socket.join("lobby");
                let rooms = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
                let at_disconnecting = rooms.clone();
                socket.on_disconnecting(move |socket: SocketRef, _reason: DisconnectReason| {
                    let mut now = socket.rooms();
                    now.sort();
                    *at_disconnecting.lock().unwrap() = now;
                    async {}
                });
                socket.on_disconnect(move |socket: SocketRef, reason: DisconnectReason| {
                    // Once gone, the socket is in no room.
                    let rooms = match socket.rooms().as_slice() {
                        [] => rooms.lock().unwrap().clone(),
                        left => vec![format!("still in {left:?}")],
                    };
                    let _ = tx.send((
                        socket.namespace().name().to_owned(),
                        reason.as_str().to_owned(),
                        rooms,
                    ));
                    async {}
                });
                socket.on("bye", |socket: SocketRef, event: Event| async move {
                    let close: bool = event.args().unwrap();
                    socket.disconnect(close);
                });
                socket.on("ping", |_socket: SocketRef, mut event: Event| async move {
                    event.ack(&"pong").unwrap();
                });
            }
        });
    }
    (server, seen)
}

/// Disconnect reasons as Node names them, on both sides; `disconnecting` handlers still see
/// the rooms; a namespace disconnect keeps the connection up for the other namespaces.
async fn disconnect_reasons(opts: Json) {
    let (server, mut seen) = disconnect_server().await;
    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", opts).await;
    client.socket("main", "m", "/", json!({})).await;
    client.socket("chat", "m", "/chat", json!({})).await;
    let chat = client.wait_ev("connect", "chat").await;
    client.wait_ev("connect", "main").await;
    let engine = client.state("main").await["engine"].clone();

    // The client leaves /chat.
    client.send(json!({"op": "disconnect", "s": "chat"})).await;
    assert_eq!(
        client.wait_ev("disconnect", "chat").await["reason"],
        "io client disconnect"
    );
    let (nsp, reason, rooms) = seen.next().await;
    let mut expected_rooms = vec![chat["id"].as_str().unwrap().to_owned(), "lobby".into()];
    expected_rooms.sort();
    assert_eq!(
        (nsp.as_str(), reason.as_str(), rooms),
        ("/chat", "client namespace disconnect", expected_rooms)
    );

    // The server disconnects /chat without closing: / stays on the same connection.
    client.send(json!({"op": "connect", "s": "chat"})).await;
    client.wait_ev("connect", "chat").await;
    client.emit("chat", "bye", json!([false])).await;
    assert_eq!(
        client.wait_ev("disconnect", "chat").await["reason"],
        "io server disconnect"
    );
    let (nsp, reason, _) = seen.next().await;
    assert_eq!(
        (nsp.as_str(), reason.as_str()),
        ("/chat", "server namespace disconnect")
    );
    let ack = client.call("main", "ping", json!([]), json!({})).await;
    assert_eq!(ack["args"], json!(["pong"]));
    let state = client.state("main").await;
    assert_eq!(state["engine"], engine);
    assert_eq!(state["connected"], true);

    // With `close`, every namespace of the connection goes, then the connection.
    client.send(json!({"op": "connect", "s": "chat"})).await;
    client.wait_ev("connect", "chat").await;
    client.emit("main", "bye", json!([true])).await;
    for s in ["main", "chat"] {
        assert_eq!(
            client.wait_ev("disconnect", s).await["reason"],
            "io server disconnect"
        );
    }
    client
        .wait("connection close", |e| e["ev"] == "close" && e["m"] == "m")
        .await;
    let mut reasons = [seen.next().await, seen.next().await];
    reasons.sort();
    assert_eq!(
        reasons.map(|(nsp, reason, _)| (nsp, reason)),
        [
            ("/".to_owned(), "server namespace disconnect".to_owned()),
            ("/chat".to_owned(), "server namespace disconnect".to_owned()),
        ]
    );
    assert_eq!(server.io.engine().session_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_reasons_websocket() {
    disconnect_reasons(json!({"transports": ["websocket"]})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_reasons_polling() {
    disconnect_reasons(json!({"transports": ["polling"]})).await;
}

/// The transport going away is "transport close" for every namespace of the connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_close_reason() {
    let (server, mut seen) = disconnect_server().await;
    let mut client = Peer::node(&server, "v4").await;
    client
        .manager(
            "m",
            json!({"transports": ["websocket"], "reconnection": false}),
        )
        .await;
    client.socket("main", "m", "/", json!({})).await;
    client.socket("chat", "m", "/chat", json!({})).await;
    client.wait_ev("connect", "main").await;
    client.wait_ev("connect", "chat").await;
    client.send(json!({"op": "close-engine", "m": "m"})).await;
    for s in ["main", "chat"] {
        assert_eq!(
            client.wait_ev("disconnect", s).await["reason"],
            "forced close"
        );
    }
    let mut reasons = [seen.next().await, seen.next().await];
    reasons.sort();
    assert_eq!(
        reasons.map(|(nsp, reason, _)| (nsp, reason)),
        [
            ("/".to_owned(), "transport close".to_owned()),
            ("/chat".to_owned(), "transport close".to_owned()),
        ]
    );
}

/// Dynamic namespaces: a pattern and a predicate on the name and auth create children on
/// first connection; names they refuse are invalid; an emptied child is removed when
/// `cleanup_empty_child_namespaces` is on, and a new one is made on the next connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_namespaces() {
    let server = start(ServerConfig {
        cleanup_empty_child_namespaces: true,
        ..ServerConfig::default()
    })
    .await;
    let (tx, mut seen) = probe();
    let pattern = server.io.of_pattern(r"^/room-\d+$").unwrap();
    let on_leave = tx.clone();
    pattern.on_connection(move |socket: SocketRef| {
        let on_leave = on_leave.clone();
        socket.emit("hello", &socket.namespace().name()).unwrap();
        socket.on_disconnect(move |socket: SocketRef, _reason: DisconnectReason| {
            let _ = on_leave.send(format!("left {}", socket.namespace().name()));
            async {}
        });
        async {}
    });
    let teams = server.io.of_matching(|name, auth| {
        name.starts_with("/team-")
            && auth.as_map().is_some_and(|fields| {
                fields
                    .iter()
                    .any(|(k, v)| k.as_str() == Some("key") && v.as_str() == Some("k"))
            })
    });
    teams.use_middleware(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            let _ = tx.send(format!("middleware {}", socket.namespace().name()));
            Ok(())
        }
    });
    teams.on_connection(|socket: SocketRef| async move {
        socket.emit("hello", &socket.namespace().name()).unwrap();
    });

    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", json!({})).await;
    client.socket("r1", "m", "/room-1", json!({})).await;
    client.wait_ev("connect", "r1").await;
    assert_eq!(
        client.wait_event("r1", "hello").await["args"],
        json!(["/room-1"])
    );
    let children = pattern.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].name(), "/room-1");
    let first_child = std::sync::Arc::downgrade(&children[0]);
    drop(children);

    client.socket("bad", "m", "/room-x", json!({})).await;
    assert_eq!(
        client.wait_ev("connect_error", "bad").await["message"],
        "Invalid namespace"
    );
    client
        .socket("nokey", "m", "/team-a", json!({"auth": {"key": "wrong"}}))
        .await;
    assert_eq!(
        client.wait_ev("connect_error", "nokey").await["message"],
        "Invalid namespace"
    );
    client
        .socket("team", "m", "/team-b", json!({"auth": {"key": "k"}}))
        .await;
    client.wait_ev("connect", "team").await;
    assert_eq!(
        client.wait_event("team", "hello").await["args"],
        json!(["/team-b"])
    );
    assert_eq!(seen.next().await, "middleware /team-b");
    assert_eq!(teams.children().len(), 1);

    // The last socket leaves /room-1: the child goes, and the next connection gets a new one.
    client.send(json!({"op": "disconnect", "s": "r1"})).await;
    assert_eq!(seen.next().await, "left /room-1");
    client.socket("r1-again", "m", "/room-1", json!({})).await;
    client.wait_ev("connect", "r1-again").await;
    assert!(
        first_child.upgrade().is_none(),
        "the emptied child is still alive"
    );
    let children = pattern.children();
    assert_eq!(children.len(), 1);
    assert_eq!(children[0].name(), "/room-1");
}

/// The msgpack parser (`socket.io-msgpack-parser` on the client): events, nested binary,
/// acknowledgements both ways, a second namespace and a refusal with data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msgpack_parser() {
    let server = start(ServerConfig {
        parser: Parser::Msgpack,
        ..ServerConfig::default()
    })
    .await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        async move {
            socket.on("echo", |socket: SocketRef, mut event: Event| async move {
                let args = std::mem::take(&mut event.args);
                match event.ack.take() {
                    Some(ack) => ack.send_values(args).unwrap(),
                    None => socket.emit("echo", &args).unwrap(),
                }
            });
            let answer = socket
                .timeout(Duration::from_secs(5))
                .emit_with_ack("question", &(bytes::Bytes::from_static(&[1, 2]), 3.25))
                .await;
            let _ = tx.send(
                answer
                    .map(|args| args_json(&args))
                    .map_err(|e| e.to_string()),
            );
        }
    });
    server
        .io
        .of("/private")
        .use_middleware(|_socket: SocketRef| async move {
            Err(ConnectError::new("private").with_data(Value::from(7)))
        });
    let mut client = Peer::node(&server, "v4").await;
    client
        .manager("m", json!({"parser": "msgpack", "transports": ["polling"]}))
        .await;
    client.socket("a", "m", "/", json!({})).await;
    client.wait_ev("connect", "a").await;
    let question = client.wait_event("a", "question").await;
    assert_eq!(question["args"], json!([bin(&[1, 2]), 3.25]));
    client
        .ack("a", &question["ack"], json!([{"deep": [bin(&[3])]}, "ok"]))
        .await;
    assert_eq!(
        seen.next().await.unwrap(),
        json!([{"deep": [bin(&[3])]}, "ok"])
    );

    let args = json!([
        {"a": {"b": [bin(&[1, 2, 3]), bin(&[])]}},
        "x € 😀",
        -1,
        1.5,
        null,
        true,
        // Not 1e300: notepack.io (the client's msgpack) writes integral numbers of 2^64 and
        // more as uint64 0.
        [9_007_199_254_740_991i64, -4_294_967_297i64, 255, 65_536, 1_099_511_627_776i64, 0.1],
    ]);
    client.emit("a", "echo", args.clone()).await;
    assert_eq!(client.wait_event("a", "echo").await["args"], args);
    let ack = client.call("a", "echo", args.clone(), json!({})).await;
    assert_eq!(ack["args"], args);

    client.socket("p", "m", "/private", json!({})).await;
    let error = client.wait_ev("connect_error", "p").await;
    assert_eq!(
        (&error["message"], &error["data"]),
        (&json!("private"), &json!(7))
    );
    client.socket("nope", "m", "/nope", json!({})).await;
    let error = client.wait_ev("connect_error", "nope").await;
    assert_eq!(error["message"], "Invalid namespace");
}

/// Many events both ways while the connection upgrades from polling to WebSocket: none is
/// lost, duplicated or reordered, text and binary alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_during_upgrade() {
    const N: u64 = 300;
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        for i in 0..N {
            if i % 3 == 0 {
                socket
                    .emit("down", &(i, bytes::Bytes::from(vec![i as u8; 3])))
                    .unwrap();
            } else {
                socket.emit("down", &i).unwrap();
            }
        }
        let tx = tx.clone();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        socket.on("up", move |socket: SocketRef, event: Event| {
            let tx = tx.clone();
            let next = next.clone();
            async move {
                let (i, _): (u64, Option<bytes::Bytes>) = match event.args.len() {
                    1 => (event.args().unwrap(), None),
                    _ => event.args().unwrap(),
                };
                let expected = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i != expected {
                    let _ = tx.send(format!("got {i}, expected {expected}"));
                } else if i == N - 1 {
                    let _ = tx.send(format!(
                        "all {N} in order on {}",
                        socket.conn().transport().as_str()
                    ));
                }
            }
        });
        async {}
    });
    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", json!({})).await;
    client.socket("a", "m", "/", json!({})).await;
    client.wait_ev("connect", "a").await;
    for i in 0..N {
        let args = if i % 2 == 0 {
            json!([i, bin(&[1, 2])])
        } else {
            json!([i])
        };
        client.emit("a", "up", args).await;
    }
    for i in 0..N {
        let event = client.wait_event("a", "down").await;
        let expected = if i % 3 == 0 {
            json!([i, bin(&[i as u8; 3])])
        } else {
            json!([i])
        };
        assert_eq!(event["args"], expected, "event {i}");
    }
    let report = seen.next().await;
    assert!(report.starts_with("all 300 in order"), "{report}");
    client
        .wait("upgrade", |e| {
            e["ev"] == "upgrade" && e["transport"] == "websocket"
        })
        .await;
}

/// A connection that joins no namespace is closed after `connect_timeout`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_timeout_closes_idle_connections() {
    let server = start(ServerConfig {
        connect_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let mut client = Peer::node(&server, "v4").await;
    // A Manager opens its connection at once, with no socket.
    client
        .manager(
            "m",
            json!({"transports": ["websocket"], "reconnection": false}),
        )
        .await;
    client.wait("open", |e| e["ev"] == "open").await;
    let started = std::time::Instant::now();
    let close = client.wait("close", |e| e["ev"] == "close").await;
    assert_eq!(close["reason"], "transport close");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(server.io.engine().session_count(), 0);
}

/// Closing the server disconnects every socket with "server shutting down".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_shutdown() {
    let (server, mut seen) = disconnect_server().await;
    let mut client = Peer::node(&server, "v4").await;
    client.manager("m", json!({"reconnection": false})).await;
    client.socket("main", "m", "/", json!({})).await;
    client.socket("chat", "m", "/chat", json!({})).await;
    client.wait_ev("connect", "main").await;
    client.wait_ev("connect", "chat").await;
    server.io.close();
    for s in ["main", "chat"] {
        assert_eq!(
            client.wait_ev("disconnect", s).await["reason"],
            "transport close"
        );
    }
    for _ in 0..2 {
        assert_eq!(seen.next().await.1, "server shutting down");
    }
}

/// Large text and binary payloads both ways, on each transport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_payloads() {
    let (server, _seen) = echo_server(ServerConfig::default()).await;
    let text: String = "é€😀abc".repeat(20_000);
    let blob: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let args = json!([text, {"blob": bin(&blob)}]);
    let mut client = Peer::node(&server, "v4").await;
    for transport in ["polling", "websocket"] {
        client
            .connect(transport, "/", json!({"transports": [transport]}))
            .await;
        client.emit(transport, "echo", args.clone()).await;
        let echo = client.wait_event(transport, "echo").await;
        assert!(echo["args"] == args, "{transport}: the echo differs");
        let ack = client
            .call(transport, "echo", args.clone(), json!({}))
            .await;
        assert!(ack["args"] == args, "{transport}: the ack differs");
    }
}

/// Packet middlewares see every event first and may drop it, refuse it (the error listeners
/// hear of it) or change it; catch-all listeners see events, outgoing listeners what is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn packet_middlewares_and_catch_alls() {
    use sio_server::Flow;
    let server = start(ServerConfig::default()).await;
    let (tx, mut seen) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        socket.use_packet(
            |_socket: &SocketRef, event: &mut Event| match event.name.as_str() {
                "secret" => Flow::Refuse("secret events are refused".into()),
                "noise" => Flow::Drop,
                "shout" => {
                    for arg in &mut event.args {
                        if let Some(text) = arg.as_str() {
                            *arg = Value::from(text.to_uppercase());
                        }
                    }
                    Flow::Continue
                }
                _ => Flow::Continue,
            },
        );
        let errors = tx.clone();
        socket.on_error(move |_socket: &SocketRef, message: &str| {
            let _ = errors.send(format!("error: {message}"));
        });
        let any = tx.clone();
        socket.on_any(move |_socket: SocketRef, event: Event| {
            let _ = any.send(format!("any: {} {}", event.name, args_json(&event.args)));
            async {}
        });
        let outgoing = tx.clone();
        socket.on_any_outgoing(move |_socket: &SocketRef, event: &str, args: &[Value]| {
            let _ = outgoing.send(format!("out: {event} {}", args_json(args)));
        });
        socket.on("shout", |socket: SocketRef, mut event: Event| async move {
            let args = std::mem::take(&mut event.args);
            match event.ack.take() {
                Some(ack) => ack.send_values(args).unwrap(),
                None => socket.emit("shout", &args).unwrap(),
            }
        });
        async {}
    });
    let mut client = Peer::node(&server, "v4").await;
    client.connect("a", "/", json!({})).await;
    client.emit("a", "noise", json!([1])).await;
    client.emit("a", "secret", json!([2])).await;
    assert_eq!(seen.next().await, "error: secret events are refused");
    client.emit("a", "shout", json!(["hi", 3])).await;
    assert_eq!(seen.next().await, r#"any: shout ["HI",3]"#);
    assert_eq!(seen.next().await, r#"out: shout ["HI",3]"#);
    assert_eq!(
        client.wait_event("a", "shout").await["args"],
        json!(["HI", 3])
    );
    // The acknowledgement goes to the named handler, not to the catch-all.
    let ack = client.call("a", "shout", json!(["ack"]), json!({})).await;
    assert_eq!(ack["args"], json!(["ACK"]));
    assert_eq!(seen.next().await, r#"any: shout ["ACK"]"#);
    assert!(seen.try_next().is_none());
}

/// A client packet may carry at most `max_attachments` binary attachments (10, as
/// socket.io-parser); one more closes the connection with "parse error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachment_limit() {
    let (server, _seen) = echo_server(ServerConfig::default()).await;
    let (tx, mut reasons) = probe();
    server.io.on_connection(move |socket: SocketRef| {
        let tx = tx.clone();
        socket.on_disconnect(move |_socket: SocketRef, reason: DisconnectReason| {
            let _ = tx.send(reason);
            async {}
        });
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
    let ten: Vec<Json> = (0..10u8).map(|i| bin(&[i])).collect();
    let ack = client.call("a", "echo", json!(ten), json!({})).await;
    assert_eq!(ack["args"], json!(ten));
    let eleven: Vec<Json> = (0..11u8).map(|i| bin(&[i])).collect();
    client.emit("a", "echo", json!(eleven)).await;
    assert_eq!(reasons.next().await, DisconnectReason::ParseError);
    client.wait_ev("disconnect", "a").await;
}

/// What the server sends just before it closes a connection arrives before the disconnection,
/// on every transport, as with Node: events, then "transport close" for an Engine.IO close,
/// or "io server disconnect" for `disconnect(true)`.
async fn last_words(transports: Json) {
    let server = start(ServerConfig::default()).await;
    server.io.on_connection(|socket: SocketRef| async move {
        socket.on("go", |socket: SocketRef, event: Event| async move {
            let how: String = event.args().unwrap();
            socket.emit("last", &1).unwrap();
            socket.emit("last", &2).unwrap();
            match how.as_str() {
                "conn" => socket.conn().close(),
                _ => socket.disconnect(true),
            }
        });
    });
    let mut client = Peer::node(&server, "v4").await;
    for (s, how, reason) in [
        ("conn", "conn", "transport close"),
        ("close", "close", "io server disconnect"),
    ] {
        client
            .connect(
                s,
                "/",
                json!({"transports": transports, "reconnection": false}),
            )
            .await;
        client.emit(s, "go", json!([how])).await;
        let (disconnect, before) = client
            .before(s, "disconnect", |e| e["ev"] == "disconnect" && e["s"] == s)
            .await;
        assert_eq!(disconnect["reason"], reason, "{}", client.log());
        assert_eq!(
            names(&before),
            [ev("last", json!([1])), ev("last", json!([2]))],
            "{}",
            client.log()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_words_polling() {
    last_words(json!(["polling"])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_words_websocket() {
    last_words(json!(["websocket"])).await;
}
