//! What a cluster adapter must provide: a way to put [`ClusterMessage`]s in front of the other
//! nodes of a namespace. Everything else (what the messages mean, requests and their answers,
//! acknowledgements, heartbeats) is [`TransportAdapter`](crate::TransportAdapter)'s.

use std::time::Duration;

use sio_server::adapter::{AdapterError, BoxFuture, LocalAdapter, Session};

use crate::message::ClusterMessage;

/// How a cluster knows how many nodes serve a namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Membership {
    /// The transport counts them ([`ClusterTransport::node_count`]), e.g. Redis's
    /// `PUBSUB NUMSUB` of a channel every node subscribes to (socket.io-adapter's
    /// `ClusterAdapter`: the streams and sharded Redis adapters).
    Counted,
    /// The adapter counts the nodes it hears from (socket.io-adapter's
    /// `ClusterAdapterWithHeartbeat`: the Postgres and MongoDB adapters): it announces itself
    /// with `INITIAL_HEARTBEAT` (answered `HEARTBEAT`), sends a `HEARTBEAT` every `interval`,
    /// forgets a node silent for `timeout` or that sent `ADAPTER_CLOSE`, and sends
    /// `ADAPTER_CLOSE` when it closes. Node's defaults: 5 s and 10 s.
    Heartbeat {
        /// Between two heartbeats of this node.
        interval: Duration,
        /// Silence after which a node is taken for gone.
        timeout: Duration,
    },
}

impl Membership {
    /// `Heartbeat` with Node's defaults (`heartbeatInterval` 5000 ms, `heartbeatTimeout`
    /// 10000 ms).
    pub const HEARTBEAT: Membership = Membership::Heartbeat {
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(10),
    };
}

/// One namespace's way to the other nodes: implemented by each cluster adapter (Redis streams,
/// sharded Redis; a Postgres `LISTEN`/`NOTIFY` or NATS adapter would be another), driven by a
/// [`TransportAdapter`](crate::TransportAdapter).
///
/// Sending never waits: a transport queues what it cannot send at once, and drops (and logs)
/// what cannot reach the cluster; this node's own clients are served either way. Incoming
/// messages go to [`TransportAdapter::receive`](crate::TransportAdapter::receive), in the order
/// they arrived, the node's own included (they are recognised by their uid and dropped).
pub trait ClusterTransport: Send + Sync + Sized + 'static {
    /// Sends `message` to every node of the namespace.
    fn publish(&self, message: ClusterMessage<'_>);

    /// Sends a broadcast without acknowledgements, which this node delivers to its own clients
    /// when `then` is called: once it has its place in the cluster's order, with its offset when
    /// the transport keeps a log it can be replayed from (connection state recovery on another
    /// node). `then` must be called exactly once, also when sending fails.
    ///
    /// The default sends it with [`publish`](ClusterTransport::publish) and calls `then(None)`
    /// at once.
    fn publish_broadcast(
        &self,
        message: ClusterMessage<'_>,
        then: impl FnOnce(Option<String>) + Send + 'static,
    ) {
        self.publish(message);
        then(None);
    }

    /// Sends `message`, an answer to a request, to node `node` alone, or to every node when the
    /// transport cannot address one (nodes drop answers to requests they did not make).
    fn publish_to(&self, node: &str, message: ClusterMessage<'_>);

    /// How the nodes are counted; [`Membership::Counted`] by default.
    fn membership(&self) -> Membership {
        Membership::Counted
    }

    /// The number of nodes serving the namespace, this one included, with
    /// [`Membership::Counted`] (not asked otherwise). The default, 1, knows of no other node.
    fn node_count(&self) -> BoxFuture<'static, Result<usize, AdapterError>> {
        Box::pin(async { Ok(1) })
    }

    /// Keeps a disconnected socket's session for recovery; by default in this node's memory.
    fn persist_session(&self, local: &LocalAdapter, session: Session) {
        local.persist_session(session);
    }

    /// Takes back a kept session with the packets missed since `offset`; by default from this
    /// node's memory.
    fn restore_session(
        &self,
        local: &LocalAdapter,
        pid: String,
        offset: String,
    ) -> BoxFuture<'static, Option<Session>> {
        let session = local.restore_session(&pid, &offset);
        Box::pin(async move { session })
    }

    /// The namespace is going away: stop receiving its messages.
    fn close(&self, local: &LocalAdapter) {
        let _ = local;
    }
}
