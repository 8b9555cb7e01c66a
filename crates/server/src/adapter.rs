//! Adapters: who receives a broadcast, and how server-wide operations reach other nodes.
//!
//! Every namespace owns one [`Adapter`]. [`LocalAdapter`] is the in-memory one: it knows the
//! rooms of this node's sockets, delivers broadcasts to them (encoding each packet once), and
//! keeps disconnected sessions for connection state recovery. A cluster adapter (Redis, …) wraps
//! a `LocalAdapter`, overrides the operations that must cross nodes, and calls back into its
//! local part for what arrives from other nodes. The server itself never needs to change.
//!
//! This module is the API of adapter authors; applications only hand an [`AdapterFactory`] to
//! [`SocketIo::with_adapter`](crate::SocketIo::with_adapter). A cluster adapter that speaks
//! socket.io-adapter's `ClusterAdapter` messages (Redis streams, sharded Redis, Postgres, …)
//! is better written as a transport of the `sio-cluster-adapter` crate, which does the rest.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    future::Future,
    pin::Pin,
    sync::{
        Arc, Mutex, OnceLock, RwLock, Weak,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use sio_socketio_proto::{Packet, Value};
use tokio::sync::mpsc;

pub use crate::error::AdapterError;
use crate::{config::RecoveryConfig, handler::SocketRef, handshake::Handshake, namespace::Encoded};

/// A room name. Every socket is also in the room named by its id.
pub type Room = String;

/// A boxed future, for the asynchronous operations of [`Adapter`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Who a broadcast or a server-wide operation targets, and how.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BroadcastOptions {
    /// Rooms to reach; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Rooms whose sockets are left out.
    pub except: Vec<Room>,
    /// Delivery flags.
    pub flags: BroadcastFlags,
}

/// Delivery flags of a broadcast.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// Only this node's sockets (no cluster traffic).
    pub local: bool,
    /// The packet may be dropped for sockets that are not ready to take it.
    pub volatile: bool,
    /// Whether to compress (Node's `compress`); `None` means the default.
    pub compress: Option<bool>,
    /// How long to wait for acknowledgements.
    pub timeout: Option<Duration>,
}

/// A socket as seen by `fetch_sockets`, on this node or another.
#[derive(Debug, Clone)]
pub struct SocketInfo {
    /// Socket id.
    pub id: String,
    /// Its handshake.
    pub handshake: Handshake,
    /// Its rooms.
    pub rooms: Vec<Room>,
    /// Its `data`.
    pub data: Value,
}

/// A disconnected socket kept for connection state recovery.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The socket id to give back.
    pub sid: String,
    /// The private session id the client presents.
    pub pid: String,
    /// Rooms to rejoin.
    pub rooms: Vec<Room>,
    /// The socket's `data`.
    pub data: Value,
    /// EVENT payloads (`[name, ...args, offset]`) the socket missed, filled in by `restore_session`.
    pub missed_packets: Vec<(String, Vec<Value>)>,
}

/// Answers to a broadcast that asked for acknowledgements.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastAcks {
    /// One argument list per socket that answered.
    pub responses: Vec<Vec<Value>>,
    /// How many sockets received the broadcast (on every node).
    pub expected: usize,
}

impl BroadcastAcks {
    /// Whether every receiver answered.
    pub fn is_complete(&self) -> bool {
        self.responses.len() >= self.expected
    }
}

/// Where the answers of a broadcast with acknowledgements go.
pub type AckCollector = mpsc::UnboundedSender<Vec<Value>>;

/// A namespace's view of the cluster. See the module documentation.
///
/// Every method has a default that serves this node alone through [`Adapter::local`].
pub trait Adapter: Send + Sync + 'static {
    /// The in-memory part: this node's sockets and rooms.
    fn local(&self) -> &LocalAdapter;

    /// Sends `packet` (an EVENT) to the sockets `opts` selects, everywhere.
    fn broadcast(&self, packet: Packet, opts: BroadcastOptions) {
        self.local().broadcast(packet, &opts);
    }

    /// Sends `packet` asking every receiver for an acknowledgement, and waits for the answers
    /// until `timeout`.
    fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<'static, BroadcastAcks> {
        let (collector, answers) = mpsc::unbounded_channel();
        let expected = self.local().broadcast_with_ack(packet, &opts, collector);
        Box::pin(collect_acks(answers, expected, timeout))
    }

    /// Makes the selected sockets join `rooms`.
    fn add_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local().add_sockets(&opts, &rooms);
    }

    /// Makes the selected sockets leave `rooms`.
    fn del_sockets(&self, opts: BroadcastOptions, rooms: Vec<Room>) {
        self.local().del_sockets(&opts, &rooms);
    }

    /// Disconnects the selected sockets (and their whole connection when `close`).
    fn disconnect_sockets(&self, opts: BroadcastOptions, close: bool) {
        self.local().disconnect_sockets(&opts, close);
    }

    /// The selected sockets, everywhere.
    fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> BoxFuture<'static, Result<Vec<SocketInfo>, AdapterError>> {
        let sockets = self.local().fetch_sockets(&opts);
        Box::pin(async move { Ok(sockets) })
    }

    /// Sends an event to the OTHER nodes' server-side handlers; with `ack_timeout`, waits for
    /// one answer per node. A single node has no one to tell.
    fn server_side_emit(
        &self,
        _event: String,
        _args: Vec<Value>,
        _ack_timeout: Option<Duration>,
    ) -> BoxFuture<'static, Result<Vec<Vec<Value>>, AdapterError>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// Number of nodes in the cluster.
    fn server_count(&self) -> BoxFuture<'static, usize> {
        Box::pin(async { 1 })
    }

    /// Keeps a disconnected socket's state for recovery.
    fn persist_session(&self, session: Session) {
        self.local().persist_session(session);
    }

    /// Takes back a kept session with the packets missed since `offset`.
    fn restore_session(&self, pid: String, offset: String) -> BoxFuture<'static, Option<Session>> {
        let session = self.local().restore_session(&pid, &offset);
        Box::pin(async move { session })
    }

    /// The namespace is going away (server shutdown).
    fn close(&self) {}
}

/// Waits for `expected` answers, or for `timeout`.
pub async fn collect_acks(
    mut answers: mpsc::UnboundedReceiver<Vec<Value>>,
    expected: usize,
    timeout: Duration,
) -> BroadcastAcks {
    let mut responses = Vec::with_capacity(expected);
    let deadline = tokio::time::Instant::now() + timeout;
    while responses.len() < expected {
        match tokio::time::timeout_at(deadline, answers.recv()).await {
            Ok(Some(answer)) => responses.push(answer),
            // Every receiver is gone (disconnected) or the time is up.
            Ok(None) | Err(_) => break,
        }
    }
    BroadcastAcks {
        responses,
        expected,
    }
}

/// Creates a namespace's adapter around its [`LocalAdapter`].
pub trait AdapterFactory: Send + Sync + 'static {
    /// The adapter of namespace `local.namespace_name()`.
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter>;
}

/// The default: this node alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct InMemory;

impl AdapterFactory for InMemory {
    fn create(&self, local: LocalAdapter) -> Arc<dyn Adapter> {
        Arc::new(local)
    }
}

impl Adapter for LocalAdapter {
    fn local(&self) -> &LocalAdapter {
        self
    }
}

/// Maps keyed by room names, socket ids and event names, looked up for every delivery or
/// event: foldhash rather than SipHash (still seeded per process).
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
pub(crate) type FastSet<T> = HashSet<T, foldhash::fast::RandomState>;

#[derive(Debug, Default)]
struct Rooms {
    members: FastMap<Room, FastSet<Arc<str>>>,
    of_socket: FastMap<Arc<str>, FastSet<Room>>,
}

/// Told when a room gets its first local socket (`true`) or loses its last one (`false`).
/// Sockets' own rooms (named by their id) are left out. Called with the room table updated
/// and still locked, so that calls come in the order of the changes (a deletion heard after
/// the creation that followed it would leave a cluster adapter unsubscribed from a room in
/// use): it must not block nor call back into this adapter.
pub type RoomListener = Box<dyn Fn(&str, bool) + Send + Sync>;

/// What the in-memory adapter asks of the namespace it serves, and all it asks of it: its
/// sockets, one encoding of a broadcast for all of them, acknowledgement ids, and its
/// server-side handlers (the seam socketioxide calls `SocketEmitter`). `Namespace` is the host;
/// the adapter holds it weakly, as the namespace owns the adapter.
pub(crate) trait SocketHost: Send + Sync {
    /// This node's sockets of the namespace whose ids `keep` accepts.
    fn sockets_where(&self, keep: &dyn Fn(&str) -> bool) -> Vec<SocketRef>;

    /// This node's sockets with these ids, under one look-up; ids of sockets gone are skipped.
    fn sockets_with_ids(&self, ids: &[&Arc<str>]) -> Vec<SocketRef>;

    /// `packet` encoded once for every receiver (`None`, logged, when it cannot be).
    fn encode_broadcast(&self, packet: &Packet) -> Option<Encoded>;

    /// A fresh acknowledgement id for a broadcast that asks for acknowledgements.
    fn next_ack_id(&self) -> u64;

    /// Runs the namespace's server-side handler of `event`, if it has one.
    fn run_server_side_handlers(&self, event: String, args: Vec<Value>, ack: Option<AckCollector>);
}

/// What the in-memory adapter does to one of its namespace's sockets, and all it does.
pub(crate) trait LocalSocket {
    /// The socket id, shared.
    fn id_arc(&self) -> Arc<str>;

    /// Queues an already-encoded broadcast; `false` when the socket did not take it (gone, or
    /// busy and the broadcast volatile).
    fn deliver_encoded(&self, packet: &Packet, encoded: &Encoded, volatile: bool) -> bool;

    /// Sends the acknowledgement with id `ack_id` to `collector` when it comes.
    fn expect_broadcast_ack(&self, ack_id: u64, collector: AckCollector);

    /// No longer waits for acknowledgement `ack_id`.
    fn forget_ack(&self, ack_id: u64);

    /// Joins `rooms`.
    fn join_rooms(&self, rooms: &[Room]);

    /// Leaves `room`.
    fn leave_room(&self, room: &str);

    /// Disconnects from the namespace (and closes the connection when `close`).
    fn disconnect_from_namespace(&self, close: bool);

    /// Its details for `fetch_sockets`.
    fn socket_info(&self) -> SocketInfo;
}

/// The in-memory adapter of one namespace on this node.
pub struct LocalAdapter {
    host: Weak<dyn SocketHost>,
    name: String,
    rooms: RwLock<Rooms>,
    recovery: Option<RecoveryStore>,
    room_listener: OnceLock<RoomListener>,
}

impl std::fmt::Debug for LocalAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAdapter")
            .field("name", &self.name)
            .field("rooms", &self.rooms)
            .field("recovery", &self.recovery)
            .finish_non_exhaustive()
    }
}

impl LocalAdapter {
    pub(crate) fn new(
        host: Weak<dyn SocketHost>,
        name: String,
        recovery: Option<RecoveryConfig>,
    ) -> Self {
        LocalAdapter {
            host,
            name,
            rooms: RwLock::new(Rooms::default()),
            recovery: recovery.map(RecoveryStore::new),
            room_listener: OnceLock::new(),
        }
    }

    /// Sets the listener of room creations and deletions (Node's `create-room` and
    /// `delete-room` adapter events), e.g. for a cluster adapter with one channel per room.
    /// Only the first listener set is kept; returns whether this one was.
    pub fn on_room_change(&self, listener: RoomListener) -> bool {
        self.room_listener.set(listener).is_ok()
    }

    fn notify_rooms(&self, changes: Vec<(Room, bool)>) {
        if let Some(listener) = self.room_listener.get() {
            for (room, created) in changes {
                listener(&room, created);
            }
        }
    }

    /// The namespace this adapter serves.
    pub fn namespace_name(&self) -> &str {
        &self.name
    }

    /// Whether connection state recovery is on.
    pub fn recovery_enabled(&self) -> bool {
        self.recovery.is_some()
    }

    /// How long a disconnected session may be recovered (`max_disconnection_duration`), when
    /// recovery is on: what a cluster adapter that stores sessions elsewhere needs.
    pub fn recovery_ttl(&self) -> Option<Duration> {
        self.recovery.as_ref().map(|store| store.max_age)
    }

    fn read_rooms(&self) -> std::sync::RwLockReadGuard<'_, Rooms> {
        self.rooms.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_rooms(&self) -> std::sync::RwLockWriteGuard<'_, Rooms> {
        self.rooms.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a socket to rooms.
    pub fn add_all(&self, id: &str, rooms: &[Room]) {
        let id: Arc<str> = Arc::from(id);
        let mut created = Vec::new();
        let mut state = self.write_rooms();
        for room in rooms {
            let members = state.members.entry(room.clone()).or_default();
            if members.is_empty() && room.as_str() != &*id {
                created.push((room.clone(), true));
            }
            members.insert(id.clone());
        }
        state
            .of_socket
            .entry(id)
            .or_default()
            .extend(rooms.iter().cloned());
        // Told before the table is unlocked, so that the listener hears concurrent
        // changes in the order they were made.
        self.notify_rooms(created);
    }

    /// Removes a socket from a room.
    pub fn del(&self, id: &str, room: &str) {
        let mut deleted = Vec::new();
        let mut state = self.write_rooms();
        if let Some(members) = state.members.get_mut(room) {
            members.remove(id);
            if members.is_empty() {
                state.members.remove(room);
                if room != id {
                    deleted.push((room.to_owned(), false));
                }
            }
        }
        if let Some(rooms) = state.of_socket.get_mut(id) {
            rooms.remove(room);
        }
        self.notify_rooms(deleted);
    }

    /// Removes a socket from every room.
    pub fn del_all(&self, id: &str) {
        let mut deleted = Vec::new();
        let mut state = self.write_rooms();
        let Some(rooms) = state.of_socket.remove(id) else {
            return;
        };
        for room in rooms {
            if let Some(members) = state.members.get_mut(&room) {
                members.remove(id);
                if members.is_empty() {
                    state.members.remove(&room);
                    if room != id {
                        deleted.push((room, false));
                    }
                }
            }
        }
        self.notify_rooms(deleted);
    }

    /// The rooms of a local socket.
    pub fn socket_rooms(&self, id: &str) -> Vec<Room> {
        self.read_rooms()
            .of_socket
            .get(id)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Every room that has a local socket.
    pub fn all_rooms(&self) -> Vec<Room> {
        self.read_rooms().members.keys().cloned().collect()
    }

    /// Ids of the local sockets `opts` selects.
    pub fn socket_ids(&self, opts: &BroadcastOptions) -> Vec<Arc<str>> {
        self.selected(opts)
            .into_iter()
            .map(|s| s.id_arc())
            .collect()
    }

    /// The local sockets `opts` selects: members of any of its rooms (each once), or all
    /// sockets when it names none, minus members of its `except` rooms.
    fn selected(&self, opts: &BroadcastOptions) -> Vec<SocketRef> {
        let Some(host) = self.host.upgrade() else {
            return Vec::new();
        };
        let state = self.read_rooms();
        let except: Vec<&FastSet<Arc<str>>> = opts
            .except
            .iter()
            .filter_map(|room| state.members.get(room))
            .collect();
        let excluded = |id: &str| except.iter().any(|members| members.contains(id));
        if opts.rooms.is_empty() {
            return host.sockets_where(&|id| !excluded(id));
        }
        let rooms: Vec<&FastSet<Arc<str>>> = opts
            .rooms
            .iter()
            .filter_map(|room| state.members.get(room))
            .collect();
        let ids: Vec<&Arc<str>> = match rooms.as_slice() {
            // One room holds each member once: nothing to deduplicate.
            [members] => members.iter().filter(|id| !excluded(id)).collect(),
            _ => {
                let mut seen = FastSet::with_capacity_and_hasher(
                    rooms.iter().map(|m| m.len()).sum(),
                    Default::default(),
                );
                rooms
                    .iter()
                    .flat_map(|members| members.iter())
                    .filter(|id| seen.insert(&***id) && !excluded(id))
                    .collect()
            }
        };
        host.sockets_with_ids(&ids)
    }

    /// Delivers an EVENT to the local sockets `opts` selects, encoding it once. With recovery
    /// on, a non-volatile event gets an offset as its last argument and is kept for replay.
    pub fn broadcast(&self, mut packet: Packet, opts: &BroadcastOptions) {
        if let (
            Some(store),
            Packet::Event {
                id: None,
                event,
                args,
                ..
            },
        ) = (&self.recovery, &mut packet)
            && !opts.flags.volatile
        {
            let offset = store.next_offset();
            args.push(Value::from(offset.as_str()));
            store.keep_packet(offset, opts, event.clone(), args.clone());
        }
        self.deliver(&packet, opts);
    }

    /// Delivers an EVENT to the local sockets `opts` selects, as it is (no offset): what a
    /// cluster adapter calls for a broadcast received from another node.
    pub fn deliver(&self, packet: &Packet, opts: &BroadcastOptions) {
        let Some(host) = self.host.upgrade() else {
            return;
        };
        let receivers = self.selected(opts);
        if receivers.is_empty() {
            return;
        }
        let Some(encoded) = host.encode_broadcast(packet) else {
            return;
        };
        for socket in receivers {
            socket.deliver_encoded(packet, &encoded, opts.flags.volatile);
        }
    }

    /// Delivers an EVENT that asks each receiver for an acknowledgement, whose answers go to
    /// `collector`. Returns how many local sockets received it.
    pub fn broadcast_with_ack(
        &self,
        mut packet: Packet,
        opts: &BroadcastOptions,
        collector: AckCollector,
    ) -> usize {
        let Some(host) = self.host.upgrade() else {
            return 0;
        };
        let receivers = self.selected(opts);
        if receivers.is_empty() {
            return 0;
        }
        let ack_id = host.next_ack_id();
        if let Packet::Event { id, .. } = &mut packet {
            *id = Some(ack_id);
        }
        let Some(encoded) = host.encode_broadcast(&packet) else {
            return 0;
        };
        let mut count = 0;
        for socket in receivers {
            socket.expect_broadcast_ack(ack_id, collector.clone());
            if socket.deliver_encoded(&packet, &encoded, opts.flags.volatile) {
                count += 1;
            } else {
                socket.forget_ack(ack_id);
            }
        }
        count
    }

    /// Makes the selected local sockets join `rooms`.
    pub fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for socket in self.selected(opts) {
            socket.join_rooms(rooms);
        }
    }

    /// Makes the selected local sockets leave `rooms`.
    pub fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        for socket in self.selected(opts) {
            for room in rooms {
                socket.leave_room(room);
            }
        }
    }

    /// Disconnects the selected local sockets.
    pub fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        for socket in self.selected(opts) {
            socket.disconnect_from_namespace(close);
        }
    }

    /// The selected local sockets' details.
    pub fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketInfo> {
        self.selected(opts)
            .into_iter()
            .map(|socket| socket.socket_info())
            .collect()
    }

    /// Runs this node's server-side handlers for an event from another node. `ack` receives the
    /// handler's answer when the sender asked for one.
    pub fn on_server_side_emit(&self, event: String, args: Vec<Value>, ack: Option<AckCollector>) {
        if let Some(host) = self.host.upgrade() {
            host.run_server_side_handlers(event, args, ack);
        }
    }

    /// Keeps a session (in memory) for recovery.
    pub fn persist_session(&self, session: Session) {
        if let Some(store) = &self.recovery {
            store.persist(session);
        }
    }

    /// Takes back a session kept in memory, with the packets missed since `offset`.
    pub fn restore_session(&self, pid: &str, offset: &str) -> Option<Session> {
        self.recovery.as_ref()?.restore(pid, offset)
    }
}

#[derive(Debug)]
struct StoredPacket {
    offset: String,
    kept_at: Instant,
    rooms: Vec<Room>,
    except: Vec<Room>,
    event: String,
    args: Vec<Value>,
}

#[derive(Debug)]
struct RecoveryStore {
    max_age: Duration,
    prefix: String,
    counter: AtomicU64,
    sessions: Mutex<HashMap<String, (Session, Instant)>>,
    packets: Mutex<VecDeque<StoredPacket>>,
}

impl RecoveryStore {
    fn new(config: RecoveryConfig) -> Self {
        RecoveryStore {
            max_age: config.max_disconnection_duration,
            // Offsets only need to be unique within this process's lifetime.
            prefix: format!("{:x}", rand::random::<u32>()),
            counter: AtomicU64::new(0),
            sessions: Mutex::new(HashMap::new()),
            packets: Mutex::new(VecDeque::new()),
        }
    }

    fn next_offset(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n:x}", self.prefix)
    }

    fn keep_packet(
        &self,
        offset: String,
        opts: &BroadcastOptions,
        event: String,
        args: Vec<Value>,
    ) {
        let now = Instant::now();
        let mut packets = self.packets.lock().unwrap_or_else(|e| e.into_inner());
        while packets
            .front()
            .is_some_and(|p| now.duration_since(p.kept_at) > self.max_age)
        {
            packets.pop_front();
        }
        packets.push_back(StoredPacket {
            offset,
            kept_at: now,
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            event,
            args,
        });
    }

    fn persist(&self, session: Session) {
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, (_, at)| now.duration_since(*at) <= self.max_age);
        sessions.insert(session.pid.clone(), (session, now));
    }

    fn restore(&self, pid: &str, offset: &str) -> Option<Session> {
        let (mut session, at) = self
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(pid)?;
        if at.elapsed() > self.max_age {
            return None;
        }
        let packets = self.packets.lock().unwrap_or_else(|e| e.into_inner());
        // An unknown offset means the packets the client missed are no longer all here.
        let start = packets.iter().position(|p| p.offset == offset)? + 1;
        let in_rooms = |rooms: &[Room]| rooms.iter().any(|r| session.rooms.contains(r));
        session.missed_packets = packets
            .iter()
            .skip(start)
            .filter(|p| (p.rooms.is_empty() || in_rooms(&p.rooms)) && !in_rooms(&p.except))
            .map(|p| (p.event.clone(), p.args.clone()))
            .collect();
        Some(session)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// No namespace: the room table alone.
    fn no_host() -> Weak<dyn SocketHost> {
        Weak::<crate::namespace::Namespace>::new()
    }

    #[test]
    fn room_listener_sees_first_join_and_last_leave_of_public_rooms() {
        let local = LocalAdapter::new(no_host(), "/".into(), None);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        assert!(
            local.on_room_change(Box::new(move |room: &str, created: bool| {
                sink.lock().unwrap().push((room.to_owned(), created));
            }))
        );
        assert!(!local.on_room_change(Box::new(|_: &str, _: bool| {})));
        local.add_all("a", &["a".into(), "r1".into()]);
        local.add_all("b", &["b".into(), "r1".into(), "r2".into()]);
        local.del("a", "r1");
        local.del_all("b");
        let mut seen = seen.lock().unwrap().clone();
        // del_all removes a socket's rooms in no particular order.
        seen.get_mut(2..).unwrap().sort();
        assert_eq!(
            seen,
            [
                ("r1".to_owned(), true),
                ("r2".to_owned(), true),
                ("r1".to_owned(), false),
                ("r2".to_owned(), false),
            ]
        );
    }

    #[test]
    fn room_listener_hears_concurrent_changes_in_their_order() {
        // Two sockets join and leave one room from two threads: every creation the listener
        // hears must follow a deletion (or nothing), and the last word must match the table.
        let local = Arc::new(LocalAdapter::new(no_host(), "/".into(), None));
        let exists = Arc::new(Mutex::new(false));
        let misordered = Arc::new(AtomicU64::new(0));
        let (state, bad) = (exists.clone(), misordered.clone());
        local.on_room_change(Box::new(move |_: &str, created: bool| {
            let mut exists = state.lock().unwrap();
            if *exists == created {
                bad.fetch_add(1, Ordering::Relaxed);
            }
            *exists = created;
        }));
        let threads: Vec<_> = ["a", "b"]
            .into_iter()
            .map(|id| {
                let local = local.clone();
                std::thread::spawn(move || {
                    for _ in 0..20_000 {
                        local.add_all(id, &["r".into()]);
                        local.del(id, "r");
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(misordered.load(Ordering::Relaxed), 0);
        assert!(!*exists.lock().unwrap());
        assert!(local.read_rooms().members.is_empty());
    }
}
