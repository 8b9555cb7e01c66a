//! socket.io-adapter's `ClusterAdapter` (and `ClusterAdapterWithHeartbeat`) over any
//! [`ClusterTransport`]: what each message means, the requests of this node and its answers to
//! the others', acknowledgements from every node's clients, and the count of nodes.

use std::{
    borrow::Cow,
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex, MutexGuard, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use sio_server::{
    Value,
    adapter::{
        Adapter, AdapterError, BoxFuture, BroadcastAcks, BroadcastOptions, LocalAdapter, Room,
        Session, SocketInfo,
    },
    proto::Packet,
};
use tokio::sync::mpsc;

use crate::{
    message::{ClusterMessage, MessageType, random_id},
    requests::{self, AckAnswer, Pending, PendingRequest, Requester},
    socket_info,
    transport::{ClusterTransport, Membership},
    value::{get, map, string_array, strings, take},
    wire::{event_data, opts_from_value, opts_to_value, packet_from_value, packet_to_value},
};

/// The uid emitters send with; it is no node of the cluster.
const EMITTER_UID: &str = "emitter";

/// How often a heartbeat adapter looks for nodes gone silent (as Node's, every second).
const CLEANUP_INTERVAL: Duration = Duration::from_secs(1);

/// An answer to one of this node's requests: its type and its data.
#[derive(Debug)]
struct Answer {
    kind: MessageType,
    data: Value,
}

/// The adapter of one namespace in a cluster of ClusterAdapter nodes, over transport `T`:
/// give it to the server from an [`AdapterFactory`](sio_server::adapter::AdapterFactory), and
/// hand it what the transport receives ([`TransportAdapter::receive`]).
pub struct TransportAdapter<T: ClusterTransport> {
    local: LocalAdapter,
    transport: T,
    uid: String,
    requests_timeout: Duration,
    /// Requests of this node waiting for answers.
    pending: Arc<Pending<Answer>>,
    /// With heartbeats: the other nodes, by uid, with when they were last heard.
    nodes: Option<Mutex<HashMap<String, Instant>>>,
    /// Set by `close`: the heartbeats stop.
    closed: AtomicBool,
    me: Weak<TransportAdapter<T>>,
}

impl<T: ClusterTransport + std::fmt::Debug> std::fmt::Debug for TransportAdapter<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportAdapter")
            .field("nsp", &self.local.namespace_name())
            .field("uid", &self.uid)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<T: ClusterTransport> TransportAdapter<T> {
    /// The adapter of `local`'s namespace, as node `uid` (a [`new_uid`](Self::new_uid), which
    /// the transport may need first, e.g. for the channel of this node's answers), waiting
    /// `requests_timeout` for the other nodes' answers. With [`Membership::Heartbeat`] it
    /// announces itself and keeps a task for its heartbeats while it lives (so it must be
    /// called within a Tokio runtime).
    pub fn new(
        local: LocalAdapter,
        uid: String,
        transport: T,
        requests_timeout: Duration,
    ) -> Arc<Self> {
        let membership = transport.membership();
        let adapter = Arc::new_cyclic(|me| TransportAdapter {
            local,
            transport,
            uid,
            requests_timeout,
            pending: Arc::default(),
            nodes: matches!(membership, Membership::Heartbeat { .. })
                .then(|| Mutex::new(HashMap::new())),
            closed: AtomicBool::new(false),
            me: me.clone(),
        });
        if let Membership::Heartbeat { interval, timeout } = membership {
            adapter.publish(MessageType::InitialHeartbeat, None);
            tokio::spawn(heartbeats(Arc::downgrade(&adapter), interval, timeout));
        }
        adapter
    }

    /// A fresh node uid (socket.io-adapter's `randomId`: 16 hex characters).
    pub fn new_uid() -> String {
        random_id()
    }

    /// This node's uid in the cluster.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn message(&self, kind: MessageType, data: Option<Value>) -> ClusterMessage<'_> {
        ClusterMessage::new(&self.uid, self.local.namespace_name(), kind, data)
    }

    fn publish(&self, kind: MessageType, data: Option<Value>) {
        self.transport.publish(self.message(kind, data));
    }

    fn publish_to(&self, node: &str, kind: MessageType, data: Value) {
        self.transport
            .publish_to(node, self.message(kind, Some(data)));
    }

    fn nodes(&self) -> Option<MutexGuard<'_, HashMap<String, Instant>>> {
        let nodes = self.nodes.as_ref()?;
        Some(nodes.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Appends the offset as Node does: recovery on, an EVENT without ack id, not volatile.
    fn with_offset(&self, packet: &mut Packet, opts: &BroadcastOptions, offset: Option<String>) {
        if !self.local.recovery_enabled() || opts.flags.volatile {
            return;
        }
        if let (Packet::Event { id: None, args, .. }, Some(offset)) = (packet, offset) {
            args.push(Value::from(offset));
        }
    }

    /// A message from the cluster, with its offset when the transport keeps a log (a stream
    /// entry's id). This node's own messages and other namespaces' are dropped.
    pub fn receive(&self, message: ClusterMessage<'_>, offset: Option<String>) {
        if message.uid == self.uid {
            return;
        }
        if let Some(mut nodes) = self.nodes() {
            if message.uid != EMITTER_UID {
                // Any message tells that its sender is alive.
                nodes.insert(message.uid.to_string(), Instant::now());
            }
            match message.kind {
                MessageType::InitialHeartbeat => {
                    drop(nodes);
                    self.publish(MessageType::Heartbeat, None);
                    return;
                }
                MessageType::Heartbeat => return,
                MessageType::AdapterClose => {
                    nodes.remove(&*message.uid);
                    return;
                }
                _ => {}
            }
        }
        if message.nsp != self.local.namespace_name() {
            return;
        }
        let ClusterMessage {
            uid: sender,
            kind,
            data,
            ..
        } = message;
        let mut data = data.unwrap_or(Value::Nil);
        match kind {
            MessageType::Broadcast => {
                let Some(mut packet) = take(&mut data, "packet").and_then(packet_from_value) else {
                    return;
                };
                let opts = opts_from_value(get(&data, "opts"));
                match take(&mut data, "requestId") {
                    Some(request_id) => {
                        self.relay_broadcast_acks(sender.into_owned(), request_id, packet, &opts);
                    }
                    None => {
                        self.with_offset(&mut packet, &opts, offset);
                        self.local.deliver(&packet, &opts);
                    }
                }
            }
            MessageType::SocketsJoin => {
                let opts = opts_from_value(get(&data, "opts"));
                self.local.add_sockets(&opts, &strings(get(&data, "rooms")));
            }
            MessageType::SocketsLeave => {
                let opts = opts_from_value(get(&data, "opts"));
                self.local.del_sockets(&opts, &strings(get(&data, "rooms")));
            }
            MessageType::DisconnectSockets => {
                let opts = opts_from_value(get(&data, "opts"));
                let close = get(&data, "close")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                self.local.disconnect_sockets(&opts, close);
            }
            MessageType::FetchSockets => {
                let opts = opts_from_value(get(&data, "opts"));
                let sockets = Value::Array(
                    self.local
                        .fetch_sockets(&opts)
                        .iter()
                        .map(socket_info::to_value)
                        .collect(),
                );
                let request_id = take(&mut data, "requestId").unwrap_or(Value::Nil);
                self.publish_to(
                    &sender,
                    MessageType::FetchSocketsResponse,
                    map([("requestId", request_id), ("sockets", sockets)]),
                );
            }
            MessageType::ServerSideEmit => self.run_server_side_emit(sender, data),
            kind if kind.is_response() => {
                let Some(id) = get(&data, "requestId").and_then(Value::as_str) else {
                    return;
                };
                let id = id.to_owned();
                self.pending.answer(&id, Answer { kind, data });
            }
            // Heartbeats and ADAPTER_CLOSE without heartbeat membership carry nothing for us.
            _ => {}
        }
    }

    /// Another node's broadcast with acknowledgements: delivered here, and this node's count of
    /// clients and their acknowledgements sent back to `requester`.
    fn relay_broadcast_acks(
        &self,
        requester: String,
        request_id: Value,
        packet: Packet,
        opts: &BroadcastOptions,
    ) {
        let Some(me) = self.me.upgrade() else { return };
        let count_id = request_id.clone();
        let send_count = |count: usize| {
            let data = map([("requestId", count_id), ("clientCount", Value::from(count))]);
            self.publish_to(&requester, MessageType::BroadcastClientCount, data);
        };
        let requester = requester.clone();
        requests::relay_broadcast_acks(&self.local, packet, opts, send_count, move |packet| {
            let mut fields = vec![(Value::from("requestId"), request_id.clone())];
            fields.extend(packet.map(|packet| (Value::from("packet"), packet)));
            me.publish_to(&requester, MessageType::BroadcastAck, Value::Map(fields));
        });
    }

    /// Another node's server-side emit: run by this node's handlers, the first answer sent back
    /// when the sender asked for one.
    fn run_server_side_emit(&self, sender: Cow<'_, str>, mut data: Value) {
        let reply = take(&mut data, "requestId")
            .zip(self.me.upgrade())
            .map(|(id, me)| {
                let sender = sender.into_owned();
                move |packet: Option<Value>| {
                    let mut fields = vec![(Value::from("requestId"), id)];
                    fields.extend(packet.map(|packet| (Value::from("packet"), packet)));
                    me.publish_to(
                        &sender,
                        MessageType::ServerSideEmitResponse,
                        Value::Map(fields),
                    );
                }
            });
        let packet = take(&mut data, "packet");
        requests::run_server_side_emit(&self.local, packet, reply, self.requests_timeout);
    }

    /// Forgets nodes silent for longer than `timeout`; whether this adapter still has nodes to
    /// watch (heartbeat membership).
    fn forget_silent_nodes(&self, timeout: Duration) -> bool {
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        let Some(mut nodes) = self.nodes() else {
            return false;
        };
        nodes.retain(|_, seen| seen.elapsed() <= timeout);
        true
    }
}

impl<T: ClusterTransport> Requester<Answer> for TransportAdapter<T> {
    fn node_count(&self) -> impl Future<Output = Result<usize, AdapterError>> + Send + '_ {
        // Counted now: a heartbeat count holds a lock that must not live across an await.
        let heard = self.nodes().map(|nodes| nodes.len().saturating_add(1));
        async move {
            match heard {
                Some(count) => Ok(count),
                None => self.transport.node_count().await,
            }
        }
    }

    fn register(&self) -> PendingRequest<Answer> {
        self.pending.register(random_id())
    }
}

/// A heartbeat adapter's task: a heartbeat every `interval`, silent nodes forgotten, for as long
/// as the adapter lives.
async fn heartbeats<T: ClusterTransport>(
    adapter: Weak<TransportAdapter<T>>,
    interval: Duration,
    timeout: Duration,
) {
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    let mut cleanup = tokio::time::interval(CLEANUP_INTERVAL);
    loop {
        tokio::select! {
            _ = beat.tick() => {
                let Some(adapter) = adapter.upgrade() else { return };
                if adapter.closed.load(Ordering::Relaxed) {
                    return;
                }
                adapter.publish(MessageType::Heartbeat, None);
            }
            _ = cleanup.tick() => {
                let Some(adapter) = adapter.upgrade() else { return };
                if !adapter.forget_silent_nodes(timeout) {
                    return;
                }
            }
        }
    }
}

impl<T: ClusterTransport> Adapter for TransportAdapter<T> {
    fn local(&self) -> &LocalAdapter {
        &self.local
    }

    fn broadcast(&self, packet: Packet, opts: BroadcastOptions) {
        let wire = packet_to_value(&packet).filter(|_| !opts.flags.local);
        let (Some(wire), Some(me)) = (wire, self.me.upgrade()) else {
            self.local.deliver(&packet, &opts);
            return;
        };
        let data = map([("packet", wire), ("opts", opts_to_value(&opts, true))]);
        // Delivered here once the transport has sent it (and knows its offset), in order with
        // the other nodes' broadcasts.
        self.transport.publish_broadcast(
            self.message(MessageType::Broadcast, Some(data)),
            move |offset| {
                let mut packet = packet;
                me.with_offset(&mut packet, &opts, offset);
                me.local.deliver(&packet, &opts);
            },
        );
    }

    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, BroadcastAcks> {
        let (collector, answers) = mpsc::unbounded_channel();
        let me = self.me.upgrade().filter(|_| !opts.flags.local);
        let mut request = None;
        if let (Some(me), Some(wire)) = (&me, packet_to_value(&packet)) {
            let pending = me.register();
            let mut wire_opts = opts.clone();
            wire_opts.flags.timeout = Some(timeout);
            self.publish(
                MessageType::Broadcast,
                Some(map([
                    ("packet", wire),
                    ("requestId", Value::from(pending.id.as_str())),
                    ("opts", opts_to_value(&wire_opts, true)),
                ])),
            );
            request = Some(pending);
        }
        let local_count = self.local.broadcast_with_ack(packet, &opts, collector);
        Box::pin(async move {
            let read = |answer: Answer| {
                let field = |key: &str| get(&answer.data, key);
                match answer.kind {
                    MessageType::BroadcastClientCount => {
                        AckAnswer::client_count(field("clientCount"))
                    }
                    MessageType::BroadcastAck => AckAnswer::ack(field("packet")),
                    _ => AckAnswer::Other,
                }
            };
            let asked = me.as_ref().zip(request).map(|(me, r)| (r, me.node_count()));
            requests::collect_broadcast_acks(answers, local_count, asked, timeout, read).await
        })
    }

    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.add_sockets(&opts, &rooms);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("rooms", string_array(&rooms)),
            ]);
            self.publish(MessageType::SocketsJoin, Some(data));
        }
    }

    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local.del_sockets(&opts, &rooms);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("rooms", string_array(&rooms)),
            ]);
            self.publish(MessageType::SocketsLeave, Some(data));
        }
    }

    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool) {
        self.local.disconnect_sockets(&opts, close);
        if !opts.flags.local {
            let data = map([
                ("opts", opts_to_value(&opts, true)),
                ("close", Value::from(close)),
            ]);
            self.publish(MessageType::DisconnectSockets, Some(data));
        }
    }

    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketInfo>, AdapterError>> {
        let mut sockets = self.local.fetch_sockets(&opts);
        let me = self.me.upgrade().filter(|_| !opts.flags.local);
        Box::pin(async move {
            let Some(me) = me else { return Ok(sockets) };
            let timeout = opts.flags.timeout.unwrap_or(me.requests_timeout);
            let opts = opts_to_value(&opts, true);
            let publish = |id: &str| {
                let data = map([("opts", opts), ("requestId", Value::from(id))]);
                me.publish(MessageType::FetchSockets, Some(data));
            };
            requests::ask_other_nodes(&*me, publish, timeout, |answer| {
                let remote = get(&answer.data, "sockets");
                socket_info::extend_from(&mut sockets, remote);
            })
            .await?;
            Ok(sockets)
        })
    }

    fn server_side_emit(
        &self,
        event: String,
        args: Vec<Value>,
        ack_timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<Vec<Vec<Value>>, AdapterError>> {
        let packet = event_data(event, args);
        let Some(timeout) = ack_timeout else {
            self.publish(MessageType::ServerSideEmit, Some(map([("packet", packet)])));
            return Box::pin(async { Ok(Vec::new()) });
        };
        let publish = |me: &Self, id: &str| {
            let data = map([("requestId", Value::from(id)), ("packet", packet)]);
            me.publish(MessageType::ServerSideEmit, Some(data));
        };
        requests::server_side_answers(self.me.upgrade(), publish, timeout, |answer: &Answer| {
            get(&answer.data, "packet")
        })
    }

    fn server_count(&self) -> BoxFuture<'static, usize> {
        let me = self.me.upgrade();
        Box::pin(async move { requests::server_count(me.as_ref().map(|me| me.node_count())).await })
    }

    fn persist_session(&self, session: Session) {
        self.transport.persist_session(&self.local, session);
    }

    fn restore_session(&self, pid: String, offset: String) -> BoxFuture<'static, Option<Session>> {
        self.transport.restore_session(&self.local, pid, offset)
    }

    fn close(&self) {
        if self.nodes.is_some() && !self.closed.swap(true, Ordering::Relaxed) {
            self.publish(MessageType::AdapterClose, None);
        }
        self.transport.close(&self.local);
    }
}
