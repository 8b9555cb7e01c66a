//! `TransportAdapter` over an in-process bus: what a new transport gets from the core, heartbeat
//! membership included. The bus encodes every message as the Postgres and sharded Redis adapters
//! do (JSON, msgpack when binary) and decodes it again, so the messages cross a real encoding.
//! Node's own interop with these messages is proven by the Redis adapters' mixed-cluster tests.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sio_cluster_adapter::{
    ClusterMessage, ClusterTransport, Membership, TransportAdapter, value::decode_any,
};
use sio_server::{
    AckCollector, ServerConfig, SocketIo, Value,
    adapter::{Adapter, AdapterFactory, LocalAdapter},
};
use tokio::sync::mpsc;

type Node = TransportAdapter<BusTransport>;

/// Every node's adapter, and a task that hands each encoded message to all of them in order.
struct Bus {
    nodes: Mutex<Vec<Weak<Node>>>,
    wire: mpsc::UnboundedSender<Vec<u8>>,
}

impl Bus {
    fn new() -> Arc<Bus> {
        let (wire, mut messages) = mpsc::unbounded_channel::<Vec<u8>>();
        let bus = Arc::new(Bus {
            nodes: Mutex::new(Vec::new()),
            wire,
        });
        let weak = Arc::downgrade(&bus);
        tokio::spawn(async move {
            while let Some(bytes) = messages.recv().await {
                let Some(bus) = weak.upgrade() else { return };
                let nodes: Vec<_> = bus.nodes.lock().unwrap().clone();
                for node in nodes.iter().filter_map(Weak::upgrade) {
                    let mut value = decode_any(&bytes).unwrap();
                    node.receive(ClusterMessage::from_value(&mut value).unwrap(), None);
                }
            }
        });
        bus
    }
}

struct BusTransport {
    bus: Arc<Bus>,
    membership: Membership,
    /// Set to make this node fall silent (a crash, as its peers see it).
    muted: Arc<AtomicBool>,
}

impl ClusterTransport for BusTransport {
    fn publish(&self, message: ClusterMessage<'_>) {
        if !self.muted.load(Ordering::Relaxed) {
            let _ = self.bus.wire.send(message.to_json_or_msgpack().unwrap());
        }
    }

    fn publish_to(&self, _node: &str, message: ClusterMessage<'_>) {
        // As Postgres' single channel: every node hears the answer, the requester keeps it.
        self.publish(message);
    }

    fn membership(&self) -> Membership {
        self.membership
    }
}

struct BusFactory {
    bus: Arc<Bus>,
    membership: Membership,
    muted: Arc<AtomicBool>,
}

impl AdapterFactory for BusFactory {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        let transport = BusTransport {
            bus: self.bus.clone(),
            membership: self.membership,
            muted: self.muted.clone(),
        };
        let node = TransportAdapter::new(local, Node::new_uid(), transport, Duration::from_secs(2));
        self.bus.nodes.lock().unwrap().push(Arc::downgrade(&node));
        node
    }
}

/// A server on the bus; its `muted` flag silences it.
fn server(bus: &Arc<Bus>, membership: Membership) -> (SocketIo, Arc<AtomicBool>) {
    let muted = Arc::new(AtomicBool::new(false));
    let factory = BusFactory {
        bus: bus.clone(),
        membership,
        muted: muted.clone(),
    };
    let io = SocketIo::with_adapter(ServerConfig::default(), factory);
    (io, muted)
}

/// Waits (up to 5 s) until `io` counts `expected` servers.
async fn until_server_count(io: &SocketIo, expected: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let count = io.of("/").server_count().await;
        if count == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "server count stayed {count}, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn answer_with(io: &SocketIo, name: &'static str) {
    io.of("/").on_server_side(
        "who",
        move |_args: Vec<Value>, ack: Option<AckCollector>| async move {
            if let Some(ack) = ack {
                let _ = ack.send(vec![Value::from(name)]);
            }
        },
    );
}

const FAST: Membership = Membership::Heartbeat {
    interval: Duration::from_millis(100),
    timeout: Duration::from_millis(400),
};

#[tokio::test]
async fn heartbeats_count_the_nodes_and_requests_reach_them() {
    let bus = Bus::new();
    let (a, _) = server(&bus, FAST);
    let (b, _) = server(&bus, FAST);
    answer_with(&a, "a");
    answer_with(&b, "b");
    until_server_count(&a, 2).await;
    until_server_count(&b, 2).await;

    // A request and its answer through the core: b's handler answers a.
    let answers = a
        .of("/")
        .server_side_emit("who", &(), Some(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(answers, vec![vec![Value::from("b")]]);

    // A third node announces itself and is counted by the others.
    let (c, c_muted) = server(&bus, FAST);
    answer_with(&c, "c");
    until_server_count(&a, 3).await;
    let mut answers = b
        .of("/")
        .server_side_emit("who", &(), Some(Duration::from_secs(2)))
        .await
        .unwrap();
    answers.sort_by_key(|a| a.first().and_then(Value::as_str).map(str::to_owned));
    assert_eq!(
        answers,
        vec![vec![Value::from("a")], vec![Value::from("c")]]
    );

    // c falls silent: forgotten after the timeout.
    c_muted.store(true, Ordering::Relaxed);
    until_server_count(&a, 2).await;
    until_server_count(&b, 2).await;

    // b closes: ADAPTER_CLOSE, forgotten at once (well before a timeout).
    let before = tokio::time::Instant::now();
    b.close();
    until_server_count(&a, 1).await;
    assert!(before.elapsed() < Duration::from_millis(400));
}

#[tokio::test]
async fn counted_membership_asks_the_transport() {
    // The default `node_count` knows no other node: nothing is asked, nothing waited for.
    let bus = Bus::new();
    let (a, _) = server(&bus, Membership::Counted);
    let (_b, _) = server(&bus, Membership::Counted);
    assert_eq!(a.of("/").server_count().await, 1);
    let answers = a
        .of("/")
        .server_side_emit("who", &(), Some(Duration::from_millis(100)))
        .await
        .unwrap();
    assert!(answers.is_empty());
}
