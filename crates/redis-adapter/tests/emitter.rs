//! The emitter both ways: Node's `@socket.io/redis-emitter` reaching the clients of Rust nodes,
//! and ours reaching the clients of Node nodes (npm socket.io + @socket.io/redis-adapter).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{Clients, ClusterNode, Kind, Redis, STEP, peers, until_answer};
use serde_json::{Value as Json, json};
use sio_redis_adapter::Emitter;
use sio_server::Value;

/// What an emitter is asked to do, by either implementation.
enum Step {
    Emit {
        to: Vec<&'static str>,
        except: Vec<&'static str>,
        event: &'static str,
        args: Json,
    },
    Join(&'static str, &'static str),
    Leave(&'static str, &'static str),
    Disconnect(&'static str),
    ServerSideEmit(&'static str, Json),
}

/// Runs the steps with Node's emitter (`peers/redis-emit.js`).
async fn node_emitter(redis: &Redis, key: &str, steps: &[Step]) {
    let steps: Vec<Json> = steps
        .iter()
        .map(|step| match step {
            Step::Emit {
                to,
                except,
                event,
                args,
            } => json!({"op": "emit", "to": to, "except": except, "event": event, "args": args}),
            Step::Join(room, new) => json!({"op": "socketsJoin", "to": [room], "rooms": new}),
            Step::Leave(room, old) => json!({"op": "socketsLeave", "to": [room], "rooms": old}),
            Step::Disconnect(room) => json!({"op": "disconnectSockets", "to": [room]}),
            Step::ServerSideEmit(event, args) => {
                json!({"op": "serverSideEmit", "event": event, "args": args})
            }
        })
        .collect();
    let output = tokio::time::timeout(
        STEP,
        tokio::process::Command::new("node")
            .arg(peers().join("redis-emit.js"))
            .arg(redis.url())
            .arg(key)
            .arg(Json::from(steps).to_string())
            .output(),
    )
    .await
    .expect("the Node emitter did not finish")
    .unwrap();
    assert!(
        output.status.success() && output.stdout == b"done\n",
        "Node emitter failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `{"$bin": [...]}` as binary, like the client script.
fn value(json: &Json) -> Value {
    match json {
        Json::Object(fields) if fields.len() == 1 && fields.contains_key("$bin") => Value::Binary(
            fields["$bin"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b.as_u64().unwrap() as u8)
                .collect(),
        ),
        Json::Array(items) => Value::Array(items.iter().map(value).collect()),
        Json::Object(fields) => Value::Map(
            fields
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), value(v)))
                .collect(),
        ),
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::from(*b),
        Json::Number(n) => n
            .as_i64()
            .map_or(Value::F64(n.as_f64().unwrap()), Value::from),
        Json::String(s) => Value::from(s.as_str()),
    }
}

/// Runs the steps with our emitter.
async fn rust_emitter(redis: &Redis, key: &str, steps: &[Step]) {
    let emitter = Emitter::connect(&redis.url(), key).await.unwrap();
    for step in steps {
        match step {
            Step::Emit {
                to,
                except,
                event,
                args,
            } => {
                let args: Vec<Value> = args.as_array().unwrap().iter().map(value).collect();
                let mut op = emitter.to(to[0]);
                for room in &to[1..] {
                    op = op.to(*room);
                }
                for room in except {
                    op = op.except(*room);
                }
                op.emit(event, &args).await.unwrap();
            }
            Step::Join(room, new) => emitter.to(*room).sockets_join(*new).await.unwrap(),
            Step::Leave(room, old) => emitter.to(*room).sockets_leave(*old).await.unwrap(),
            Step::Disconnect(room) => emitter.to(*room).disconnect_sockets(false).await.unwrap(),
            Step::ServerSideEmit(event, args) => {
                let args: Vec<Value> = args.as_array().unwrap().iter().map(value).collect();
                emitter.server_side_emit(event, &args).await.unwrap();
            }
        }
    }
}

async fn emitter_reaches_nodes(node_kind: Kind, emitter_is_node: bool) {
    let key = "socket.io";
    let redis = Redis::start().await;
    let nodes = [
        ClusterNode::start(node_kind, &redis, "pubsub", key).await,
        ClusterNode::start(node_kind, &redis, "pubsub", key).await,
    ];
    let mut c0 = Clients::new(&nodes[0]).await;
    let mut c1 = Clients::new(&nodes[1]).await;
    // a0 and a1 in r1; b0 in r1 and r2.
    let mut ids = vec![
        c0.connect("a0", json!({})).await,
        c0.connect("b0", json!({})).await,
        c1.connect("a1", json!({})).await,
    ];
    ids.sort();
    for s in ["a0", "b0"] {
        assert_eq!(c0.ask(s, "join", json!(["r1"])).await, json!(true));
    }
    assert_eq!(c1.ask("a1", "join", json!(["r1"])).await, json!(true));
    assert_eq!(c0.ask("b0", "join", json!(["r2"])).await, json!(true));
    until_answer(&mut c0, "a0", "server-count", json!([]), json!(2)).await;

    let run = async |steps: &[Step]| {
        if emitter_is_node {
            node_emitter(&redis, key, steps).await;
        } else {
            rust_emitter(&redis, key, steps).await;
        }
    };

    // A broadcast to r1 except r2, with binary; then a marker to r2.
    let args = json!([1, {"x": "y", "f": 0.5}, {"$bin": [1, 2, 3]}, null]);
    run(&[
        Step::Emit {
            to: vec!["r1"],
            except: vec!["r2"],
            event: "hello",
            args: args.clone(),
        },
        Step::Emit {
            to: vec!["r2"],
            except: vec![],
            event: "marker",
            args: json!([]),
        },
    ])
    .await;
    assert_eq!(c0.event("a0", "hello").await["args"], args);
    assert_eq!(c1.event("a1", "hello").await["args"], args);
    c0.event("b0", "marker").await;
    assert!(
        !c0.received("b0", "hello"),
        "b0 is in r2, which was excepted"
    );

    // socketsJoin / socketsLeave on every node.
    run(&[Step::Join("r1", "r3")]).await;
    until_answer(&mut c1, "a1", "fetch-sockets", json!(["r3"]), json!(ids)).await;
    run(&[Step::Leave("r3", "r3")]).await;
    until_answer(&mut c0, "a0", "fetch-sockets", json!(["r3"]), json!([])).await;

    // serverSideEmit reaches every node's server-side handler.
    run(&[Step::ServerSideEmit(
        "relay",
        json!(["r1", "relayed", "via-server"]),
    )])
    .await;
    for s in ["a0", "b0"] {
        assert_eq!(c0.event(s, "relayed").await["args"], json!(["via-server"]));
    }
    assert_eq!(
        c1.event("a1", "relayed").await["args"],
        json!(["via-server"])
    );

    // disconnectSockets.
    run(&[Step::Disconnect("r2")]).await;
    assert_eq!(
        c0.wait_disconnect("b0").await["reason"],
        "io server disconnect"
    );
    assert_eq!(c0.ask("a0", "count", json!([])).await, json!(1));
    drop(nodes);
}

#[tokio::test]
async fn node_emitter_reaches_rust_nodes() {
    emitter_reaches_nodes(Kind::Rust, true).await;
}

#[tokio::test]
async fn rust_emitter_reaches_node_nodes() {
    emitter_reaches_nodes(Kind::Node, false).await;
}

#[tokio::test]
async fn rust_emitter_reaches_rust_nodes() {
    emitter_reaches_nodes(Kind::Rust, false).await;
}

#[tokio::test]
async fn emitter_refuses_reserved_events() {
    let redis = Redis::start().await;
    let emitter = Emitter::connect(&redis.url(), "socket.io").await.unwrap();
    let error = emitter.emit("connect", &()).await.unwrap_err();
    assert!(error.to_string().contains("reserved"), "{error}");
    assert!(Emitter::connect("redis://127.0.0.1:1", "x").await.is_err());
}
