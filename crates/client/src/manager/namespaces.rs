//! The namespace state machine: every namespace socket of one manager (connected or not,
//! pending acknowledgements, the offline send buffer, the recovery pid and offset) and the
//! Socket.IO rules of each dialect (who connects the main namespace, what a CONNECT carries).
//!
//! It does no I/O: inputs are method calls (a packet arrived, the application emitted, the
//! connection opened or went down), outputs are [`Action`]s the driver takes with
//! [`Namespaces::poll_action`], in order. So every transition is unit-tested below.

use std::collections::{HashMap, VecDeque};

use sio_socketio_proto::value::str_field;
use sio_socketio_proto::{ArgsError, Packet, Value};
use tokio::sync::oneshot;

use crate::event::{ClientEvent, DisconnectReason};

/// Most events kept while a namespace waits for its CONNECT answer (a recovering server
/// replays the missed ones first).
const MAX_EARLY_EVENTS: usize = 10_000;

/// The Socket.IO rules a connection follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Socket.IO v5 (servers 3.x and 4.x): every namespace, the main one included, is
    /// connected with a CONNECT whose answer carries the socket id.
    V5,
    /// Socket.IO v4 (servers 1.x and 2.x): the server connects the main namespace by itself.
    V4,
    /// Socket.IO 0.9: as v4, and an endpoint's CONNECT must wait for the server's own `1::`.
    Legacy09,
}

/// A namespace socket as the machine needs it: what a CONNECT carries.
pub(crate) trait NamespaceSocket: Clone {
    /// The CONNECT auth payload (v5), evaluated again for every connection.
    fn auth(&self) -> Option<Result<Value, ArgsError>>;
    /// The CONNECT query string (v4 and 0.9).
    fn query(&self) -> Option<String>;
}

/// What the driver must do, in order.
#[derive(Debug)]
pub(crate) enum Action<S> {
    /// Encode and send a packet on the connection.
    Send { packet: Packet, volatile: bool },
    /// Hand an event to a socket's handlers.
    Deliver { socket: S, event: ClientEvent },
    /// Hand a server event to a socket's handlers; `ack` is the id to answer, when asked.
    Event {
        socket: S,
        nsp: String,
        name: String,
        args: Vec<Value>,
        ack: Option<u64>,
    },
    /// The socket's id and state: connected with `Some(id)`, disconnected with `None`.
    State {
        socket: S,
        id: Option<String>,
        recovered: bool,
    },
    /// The answer to an acknowledgement the application waits for.
    Answer {
        reply: oneshot::Sender<Vec<Value>>,
        args: Vec<Value>,
    },
    /// Open a connection, unless one is open, opening or waiting to reconnect.
    Connect,
    /// Reconnect later, unless already connecting: the connection was lost.
    Reconnect,
    /// No socket is left: stop connecting and reconnecting.
    StopReconnecting,
    /// Close the connection after what was sent before; `done` is answered once the close
    /// packet is written.
    CloseConnection { done: Option<oneshot::Sender<()>> },
}

/// What the machine knows of the open connection.
#[derive(Debug)]
struct Link {
    dialect: Dialect,
    sid: String,
    /// v4 and 0.9 servers connect the main namespace by themselves: whether they did.
    root_connected: bool,
}

/// An event that arrived before the namespace's CONNECT answer.
#[derive(Debug)]
struct Early {
    name: String,
    args: Vec<Value>,
    ack: Option<u64>,
}

#[derive(Debug)]
struct Ns<S> {
    socket: S,
    connected: bool,
    buffer: VecDeque<Packet>,
    /// Events that arrived before the CONNECT answer (a recovering server replays missed
    /// events first): delivered right after the `connect` event, as the JavaScript client does.
    received: Vec<Early>,
    acks: HashMap<u64, oneshot::Sender<Vec<Value>>>,
    pid: Option<String>,
    offset: Option<String>,
}

/// Every namespace socket of one manager.
#[derive(Debug)]
pub(crate) struct Namespaces<S> {
    sockets: HashMap<String, Ns<S>>,
    link: Option<Link>,
    actions: VecDeque<Action<S>>,
}

impl<S: NamespaceSocket> Default for Namespaces<S> {
    fn default() -> Self {
        Self {
            sockets: HashMap::new(),
            link: None,
            actions: VecDeque::new(),
        }
    }
}

impl<S: NamespaceSocket> Namespaces<S> {
    /// The next thing to do.
    pub(crate) fn poll_action(&mut self) -> Option<Action<S>> {
        self.actions.pop_front()
    }

    /// Whether no socket is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The socket of `nsp`.
    pub(crate) fn socket(&self, nsp: &str) -> Option<&S> {
        self.sockets.get(nsp).map(|ns| &ns.socket)
    }

    /// Every socket.
    pub(crate) fn sockets(&self) -> impl Iterator<Item = &S> {
        self.sockets.values().map(|ns| &ns.socket)
    }

    /// An event for every socket.
    pub(crate) fn broadcast(&mut self, event: &ClientEvent) {
        for ns in self.sockets.values() {
            self.actions.push_back(Action::Deliver {
                socket: ns.socket.clone(),
                event: event.clone(),
            });
        }
    }

    fn deliver(&mut self, socket: S, event: ClientEvent) {
        self.actions.push_back(Action::Deliver { socket, event });
    }

    fn send(&mut self, packet: Packet) {
        self.actions.push_back(Action::Send {
            packet,
            volatile: false,
        });
    }

    fn set_disconnected(actions: &mut VecDeque<Action<S>>, ns: &mut Ns<S>) {
        ns.connected = false;
        actions.push_back(Action::State {
            socket: ns.socket.clone(),
            id: None,
            recovered: false,
        });
    }

    /// A socket opens namespace `nsp` (replacing an earlier socket of the same namespace).
    pub(crate) fn open(&mut self, nsp: String, socket: S) {
        let ns = Ns {
            socket,
            connected: false,
            buffer: VecDeque::new(),
            received: Vec::new(),
            acks: HashMap::new(),
            pid: None,
            offset: None,
        };
        if let Some(old) = self.sockets.insert(nsp.clone(), ns)
            && old.connected
        {
            self.deliver(
                old.socket,
                ClientEvent::Disconnect(DisconnectReason::ClientDisconnect),
            );
        }
        if self.link.is_some() {
            self.send_connect(&nsp);
        } else {
            self.actions.push_back(Action::Connect);
        }
    }

    /// The application emits; without a connection the packet waits (unless volatile).
    pub(crate) fn emit(
        &mut self,
        nsp: String,
        event: String,
        args: Vec<Value>,
        ack: Option<(u64, oneshot::Sender<Vec<Value>>)>,
        volatile: bool,
    ) {
        let linked = self.link.is_some();
        let Some(ns) = self.sockets.get_mut(&nsp) else {
            return;
        };
        let id = ack.map(|(id, reply)| {
            ns.acks.insert(id, reply);
            id
        });
        let packet = Packet::Event {
            nsp,
            id,
            event,
            args,
        };
        if linked && ns.connected {
            self.actions.push_back(Action::Send { packet, volatile });
        } else if !volatile {
            ns.buffer.push_back(packet);
        }
    }

    /// The application answers the server's acknowledgement request `id`.
    pub(crate) fn ack_reply(&mut self, nsp: String, id: u64, args: Vec<Value>) {
        if self.sockets.get(&nsp).is_some_and(|ns| ns.connected) {
            self.send(Packet::Ack { nsp, id, args });
        }
    }

    /// The application stopped waiting for acknowledgement `id`.
    pub(crate) fn cancel_ack(&mut self, nsp: &str, id: u64) {
        if let Some(ns) = self.sockets.get_mut(nsp) {
            ns.acks.remove(&id);
        }
    }

    /// A socket leaves its namespace; `done` as for [`Action::CloseConnection`] when that was
    /// the last one (dropped otherwise).
    pub(crate) fn leave(&mut self, nsp: String, done: Option<oneshot::Sender<()>>) {
        if let Some(mut ns) = self.sockets.remove(&nsp) {
            if ns.connected {
                self.send(Packet::Disconnect { nsp });
            }
            if ns.connected || self.link.is_none() {
                self.deliver(
                    ns.socket.clone(),
                    ClientEvent::Disconnect(DisconnectReason::ClientDisconnect),
                );
            }
            Self::set_disconnected(&mut self.actions, &mut ns);
        }
        self.close_if_unused(done);
    }

    /// Every socket leaves at once, without DISCONNECT packets; `done` as for `leave`.
    pub(crate) fn close(&mut self, done: oneshot::Sender<()>) {
        let linked = self.link.is_some();
        for (_, mut ns) in self.sockets.drain() {
            if ns.connected || !linked {
                self.actions.push_back(Action::Deliver {
                    socket: ns.socket.clone(),
                    event: ClientEvent::Disconnect(DisconnectReason::ClientDisconnect),
                });
            }
            Self::set_disconnected(&mut self.actions, &mut ns);
        }
        self.close_if_unused(Some(done));
    }

    /// Stops connecting and closes the connection when no socket is left.
    fn close_if_unused(&mut self, done: Option<oneshot::Sender<()>>) {
        if self.sockets.is_empty() {
            self.actions.push_back(Action::StopReconnecting);
            if self.link.take().is_some() {
                self.actions.push_back(Action::CloseConnection { done });
            }
        }
    }

    /// A connection opened (session id `sid`): every namespace connects.
    pub(crate) fn connected(&mut self, dialect: Dialect, sid: String) {
        self.link = Some(Link {
            dialect,
            sid,
            root_connected: false,
        });
        let namespaces: Vec<String> = self.sockets.keys().cloned().collect();
        for nsp in namespaces {
            self.send_connect(&nsp);
        }
    }

    /// The connection went down.
    pub(crate) fn connection_lost(&mut self, reason: DisconnectReason) {
        self.link = None;
        for ns in self.sockets.values_mut() {
            if ns.connected {
                Self::set_disconnected(&mut self.actions, ns);
                self.actions.push_back(Action::Deliver {
                    socket: ns.socket.clone(),
                    event: ClientEvent::Disconnect(reason.clone()),
                });
            }
        }
        if reason != DisconnectReason::ClientDisconnect {
            self.actions.push_back(Action::Reconnect);
        }
    }

    /// The server broke the protocol: report it and drop the connection (then reconnect, as
    /// for any lost connection).
    pub(crate) fn violation(&mut self, error: String) {
        tracing::debug!(%error, "protocol violation");
        self.broadcast(&ClientEvent::Error(error.clone()));
        if self.link.take().is_some() {
            self.actions
                .push_back(Action::CloseConnection { done: None });
        }
        self.connection_lost(DisconnectReason::ParseError(error));
    }

    /// Sends the CONNECT of namespace `nsp`, with auth (evaluated now) and the recovery data.
    fn send_connect(&mut self, nsp: &str) {
        let Some(link) = &self.link else { return };
        let (dialect, root_connected) = (link.dialect, link.root_connected);
        let Some(ns) = self.sockets.get(nsp) else {
            return;
        };
        if nsp == "/" && dialect != Dialect::V5 {
            // The server connects the main namespace by itself.
            if root_connected {
                let sid = link.sid.clone();
                self.on_connected(nsp, Some(sid), None);
            }
            return;
        }
        if dialect == Dialect::Legacy09 && !root_connected {
            // A 0.9 server may drop an endpoint's CONNECT that comes before its own `1::`:
            // sent when that arrives, as the 0.9 JavaScript client does.
            return;
        }
        let data = match dialect {
            Dialect::V5 => {
                let mut entries: Vec<(Value, Value)> = Vec::new();
                if let Some(pid) = &ns.pid {
                    entries.push((Value::from("pid"), Value::from(pid.as_str())));
                    entries.push((
                        Value::from("offset"),
                        ns.offset.as_deref().map_or(Value::Nil, Value::from),
                    ));
                }
                match ns.socket.auth() {
                    Some(Ok(Value::Map(user))) => entries.extend(user),
                    Some(Ok(Value::Nil)) | None => {}
                    Some(Ok(other)) => {
                        if entries.is_empty() {
                            entries.push((Value::Nil, other));
                        }
                    }
                    Some(Err(e)) => {
                        let socket = ns.socket.clone();
                        self.deliver(socket, ClientEvent::Error(format!("auth: {e}")));
                    }
                }
                match entries.as_slice() {
                    [] => None,
                    // A non-object auth value is sent as it is.
                    [(Value::Nil, value)] => Some(value.clone()),
                    _ => Some(Value::Map(entries)),
                }
            }
            Dialect::V4 | Dialect::Legacy09 => None,
        };
        let query = self.sockets.get(nsp).and_then(|ns| ns.socket.query());
        self.send(Packet::Connect {
            nsp: nsp.to_owned(),
            data,
            query,
        });
    }

    fn on_connected(&mut self, nsp: &str, id: Option<String>, pid: Option<String>) {
        let Some(link) = &self.link else { return };
        let Some(ns) = self.sockets.get_mut(nsp) else {
            return;
        };
        if ns.connected {
            return;
        }
        // v4 servers name sockets `<nsp>#<engine id>` outside the main namespace; 0.9
        // servers use the session id everywhere.
        let id = id.unwrap_or_else(|| {
            if nsp == "/" || link.dialect == Dialect::Legacy09 {
                link.sid.clone()
            } else {
                format!("{nsp}#{}", link.sid)
            }
        });
        let recovered = pid.is_some() && ns.pid == pid;
        ns.pid = pid;
        ns.connected = true;
        let socket = ns.socket.clone();
        self.actions.push_back(Action::State {
            socket: socket.clone(),
            id: Some(id.clone()),
            recovered,
        });
        self.actions.push_back(Action::Deliver {
            socket: socket.clone(),
            event: ClientEvent::Connect { id, recovered },
        });
        for early in ns.received.drain(..) {
            self.actions.push_back(Action::Event {
                socket: socket.clone(),
                nsp: nsp.to_owned(),
                name: early.name,
                args: early.args,
                ack: early.ack,
            });
        }
        for packet in ns.buffer.drain(..) {
            self.actions.push_back(Action::Send {
                packet,
                volatile: false,
            });
        }
    }

    /// A packet from the server.
    pub(crate) fn packet(&mut self, packet: Packet) {
        match packet {
            Packet::Connect { nsp, data, .. } => {
                let Some(link) = self.link.as_mut() else {
                    return;
                };
                let v5 = link.dialect == Dialect::V5;
                let first_root = nsp == "/" && !v5 && !link.root_connected;
                if first_root {
                    link.root_connected = true;
                }
                if first_root && link.dialect == Dialect::Legacy09 {
                    // The endpoints' CONNECTs waited for this.
                    let waiting: Vec<String> = self
                        .sockets
                        .iter()
                        .filter(|(name, ns)| name.as_str() != "/" && !ns.connected)
                        .map(|(name, _)| name.clone())
                        .collect();
                    for name in waiting {
                        self.send_connect(&name);
                    }
                }
                let field = |key| data.as_ref().and_then(|d| str_field(d, key));
                let (id, pid) = if v5 {
                    (
                        field("sid").map(str::to_owned),
                        field("pid").map(str::to_owned),
                    )
                } else {
                    (None, None)
                };
                if v5 && id.is_none() {
                    self.violation(format!("CONNECT without a sid for {nsp}"));
                    return;
                }
                self.on_connected(&nsp, id, pid);
            }
            Packet::Disconnect { nsp } => {
                let legacy = self
                    .link
                    .as_ref()
                    .is_some_and(|link| link.dialect == Dialect::Legacy09);
                let gone: Vec<Ns<S>> = if legacy && nsp == "/" {
                    // `0::`: the 0.9 server closed the whole session.
                    self.sockets.drain().map(|(_, ns)| ns).collect()
                } else {
                    self.sockets.remove(&nsp).into_iter().collect()
                };
                for mut ns in gone {
                    Self::set_disconnected(&mut self.actions, &mut ns);
                    self.deliver(
                        ns.socket,
                        ClientEvent::Disconnect(DisconnectReason::ServerDisconnect),
                    );
                }
                self.close_if_unused(None);
            }
            Packet::Event {
                nsp,
                id,
                event,
                args,
            } => {
                let Some(ns) = self.sockets.get_mut(&nsp) else {
                    return;
                };
                if ns.pid.is_some()
                    && let Some(Value::String(offset)) = args.last()
                {
                    ns.offset = offset.as_str().map(str::to_owned);
                }
                if ns.connected {
                    let socket = ns.socket.clone();
                    self.actions.push_back(Action::Event {
                        socket,
                        nsp,
                        name: event,
                        args,
                        ack: id,
                    });
                } else if ns.received.len() < MAX_EARLY_EVENTS {
                    ns.received.push(Early {
                        name: event,
                        args,
                        ack: id,
                    });
                } else {
                    self.violation(format!(
                        "more than {MAX_EARLY_EVENTS} events before the CONNECT answer on {nsp}"
                    ));
                }
            }
            Packet::Ack { nsp, id, args } => {
                if let Some(reply) = self
                    .sockets
                    .get_mut(&nsp)
                    .and_then(|ns| ns.acks.remove(&id))
                {
                    self.actions.push_back(Action::Answer { reply, args });
                }
            }
            Packet::ConnectError { nsp, data } => {
                let v4_root_refused = nsp == "/"
                    && self
                        .link
                        .as_ref()
                        .is_some_and(|link| link.dialect == Dialect::V4 && !link.root_connected);
                let refused: Vec<String> = if v4_root_refused {
                    // A 2.x server that refuses the main namespace (which it connects by
                    // itself) never answers the others' CONNECTs: each socket still waiting,
                    // the main one included when it was opened, is refused with it.
                    self.sockets
                        .iter()
                        .filter(|(_, ns)| !ns.connected)
                        .map(|(name, _)| name.clone())
                        .collect()
                } else {
                    vec![nsp]
                };
                for name in refused {
                    if let Some(ns) = self.sockets.remove(&name) {
                        self.deliver(ns.socket, ClientEvent::ConnectError(data.clone()));
                    }
                }
                self.close_if_unused(None);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket of the tests: its namespace, and the auth value it sends.
    #[derive(Debug, Clone, PartialEq)]
    struct Sock(&'static str, Option<Value>);

    impl NamespaceSocket for Sock {
        fn auth(&self) -> Option<Result<Value, ArgsError>> {
            self.1.clone().map(Ok)
        }
        fn query(&self) -> Option<String> {
            None
        }
    }

    /// The actions, in a form easy to compare.
    fn drain(machine: &mut Namespaces<Sock>) -> Vec<String> {
        std::iter::from_fn(|| machine.poll_action())
            .map(|action| match action {
                Action::Send { packet, volatile } => {
                    let text = sio_socketio_proto::encode(&packet, Default::default())
                        .map(|e| e.text)
                        .unwrap_or_else(|e| e.to_string());
                    format!("send {text}{}", if volatile { " (volatile)" } else { "" })
                }
                Action::Deliver { socket, event } => format!("{} <- {event:?}", socket.0),
                Action::Event {
                    socket, name, ack, ..
                } => format!("{} <- event {name} ack {ack:?}", socket.0),
                Action::State { socket, id, .. } => format!("{} state {id:?}", socket.0),
                Action::Answer { args, .. } => format!("answer {args:?}"),
                Action::Connect => "connect".into(),
                Action::Reconnect => "reconnect".into(),
                Action::StopReconnecting => "stop reconnecting".into(),
                Action::CloseConnection { .. } => "close connection".into(),
            })
            .collect()
    }

    fn connect_answer(nsp: &str, sid: &str) -> Packet {
        Packet::Connect {
            nsp: nsp.into(),
            data: Some(Value::Map(vec![(Value::from("sid"), Value::from(sid))])),
            query: None,
        }
    }

    fn connected_v5(nsp: &'static str) -> Namespaces<Sock> {
        let mut machine = Namespaces::default();
        machine.open(nsp.into(), Sock(nsp, None));
        machine.connected(Dialect::V5, "e1".into());
        machine.packet(connect_answer(nsp, "s1"));
        drain(&mut machine);
        machine
    }

    #[test]
    fn v5_opens_then_connects_every_namespace_with_auth() {
        let mut machine = Namespaces::default();
        let auth = Value::Map(vec![(Value::from("token"), Value::from("t"))]);
        machine.open("/".into(), Sock("/", Some(auth)));
        assert_eq!(drain(&mut machine), ["connect"]);
        machine.connected(Dialect::V5, "e1".into());
        assert_eq!(drain(&mut machine), [r#"send 0{"token":"t"}"#]);
        machine.packet(connect_answer("/", "s1"));
        assert_eq!(
            drain(&mut machine),
            [
                r#"/ state Some("s1")"#,
                r#"/ <- Connect { id: "s1", recovered: false }"#
            ]
        );
    }

    #[test]
    fn v5_connect_without_sid_is_a_violation() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.connected(Dialect::V5, "e1".into());
        drain(&mut machine);
        machine.packet(Packet::Connect {
            nsp: "/".into(),
            data: None,
            query: None,
        });
        let actions = drain(&mut machine);
        assert_eq!(
            actions.first().unwrap(),
            r#"/ <- Error("CONNECT without a sid for /")"#
        );
        assert!(actions.contains(&"close connection".to_owned()));
        assert_eq!(actions.last().unwrap(), "reconnect");
    }

    #[test]
    fn emits_wait_for_the_connect_answer_and_volatile_ones_are_dropped() {
        let mut machine = Namespaces::default();
        machine.open("/chat".into(), Sock("/chat", None));
        machine.connected(Dialect::V5, "e1".into());
        drain(&mut machine);
        machine.emit("/chat".into(), "a".into(), vec![], None, false);
        machine.emit("/chat".into(), "b".into(), vec![], None, true);
        assert!(drain(&mut machine).is_empty());
        machine.packet(connect_answer("/chat", "s1"));
        let actions = drain(&mut machine);
        assert_eq!(actions.last().unwrap(), r#"send 2/chat,["a"]"#);
        assert_eq!(actions.len(), 3);
        machine.emit("/chat".into(), "c".into(), vec![], None, true);
        assert_eq!(drain(&mut machine), [r#"send 2/chat,["c"] (volatile)"#]);
    }

    #[test]
    fn early_events_follow_the_connect_event() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.connected(Dialect::V5, "e1".into());
        drain(&mut machine);
        machine.packet(Packet::Event {
            nsp: "/".into(),
            id: Some(4),
            event: "missed".into(),
            args: vec![],
        });
        assert!(drain(&mut machine).is_empty());
        machine.packet(connect_answer("/", "s1"));
        assert_eq!(
            drain(&mut machine),
            [
                r#"/ state Some("s1")"#,
                r#"/ <- Connect { id: "s1", recovered: false }"#,
                "/ <- event missed ack Some(4)"
            ]
        );
    }

    #[test]
    fn acks_are_answered_once() {
        let mut machine = connected_v5("/");
        let (reply, _answer) = oneshot::channel();
        machine.emit("/".into(), "q".into(), vec![], Some((7, reply)), false);
        assert_eq!(drain(&mut machine), [r#"send 27["q"]"#]);
        machine.packet(Packet::ack("/", 7, vec![Value::from(1)]));
        assert_eq!(drain(&mut machine), ["answer [Integer(PosInt(1))]"]);
        machine.packet(Packet::ack("/", 7, vec![Value::from(1)]));
        assert!(drain(&mut machine).is_empty());
    }

    #[test]
    fn recovery_sends_pid_and_last_offset_and_reports_recovered() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.connected(Dialect::V5, "e1".into());
        let answer = |sid: &str| Packet::Connect {
            nsp: "/".into(),
            data: Some(Value::Map(vec![
                (Value::from("sid"), Value::from(sid)),
                (Value::from("pid"), Value::from("p1")),
            ])),
            query: None,
        };
        machine.packet(answer("s1"));
        machine.packet(Packet::event("/", "e", vec![Value::from("off-9")]));
        drain(&mut machine);
        machine.connection_lost(DisconnectReason::TransportClose);
        assert_eq!(
            drain(&mut machine),
            [
                "/ state None",
                "/ <- Disconnect(TransportClose)",
                "reconnect"
            ]
        );
        machine.connected(Dialect::V5, "e2".into());
        assert_eq!(
            drain(&mut machine),
            [r#"send 0{"pid":"p1","offset":"off-9"}"#]
        );
        machine.packet(answer("s1"));
        assert_eq!(
            drain(&mut machine)[1],
            r#"/ <- Connect { id: "s1", recovered: true }"#
        );
    }

    #[test]
    fn v4_connects_the_main_namespace_by_itself() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.open("/chat".into(), Sock("/chat", None));
        drain(&mut machine);
        machine.connected(Dialect::V4, "e1".into());
        // Only /chat asks; the main namespace waits for the server's own CONNECT.
        assert_eq!(drain(&mut machine), ["send 0/chat,"]);
        machine.packet(Packet::Connect {
            nsp: "/".into(),
            data: None,
            query: None,
        });
        assert_eq!(
            drain(&mut machine),
            [
                r#"/ state Some("e1")"#,
                r#"/ <- Connect { id: "e1", recovered: false }"#
            ]
        );
        machine.packet(Packet::Connect {
            nsp: "/chat".into(),
            data: None,
            query: None,
        });
        assert_eq!(drain(&mut machine)[0], r#"/chat state Some("/chat#e1")"#);
    }

    #[test]
    fn v4_root_refusal_refuses_every_waiting_namespace() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.open("/chat".into(), Sock("/chat", None));
        machine.connected(Dialect::V4, "e1".into());
        drain(&mut machine);
        machine.packet(Packet::ConnectError {
            nsp: "/".into(),
            data: Value::from("Not authorized"),
        });
        let mut actions = drain(&mut machine);
        actions.sort();
        assert_eq!(
            actions,
            [
                r#"/ <- ConnectError(String(Utf8String { s: Ok("Not authorized") }))"#,
                r#"/chat <- ConnectError(String(Utf8String { s: Ok("Not authorized") }))"#,
                "close connection",
                "stop reconnecting",
            ]
        );
        assert!(machine.is_empty());
    }

    #[test]
    fn legacy_endpoints_wait_for_the_servers_own_connect() {
        let mut machine = Namespaces::default();
        machine.open("/chat".into(), Sock("/chat", None));
        drain(&mut machine);
        machine.connected(Dialect::Legacy09, "e1".into());
        assert!(drain(&mut machine).is_empty());
        machine.packet(Packet::Connect {
            nsp: "/".into(),
            data: None,
            query: None,
        });
        assert_eq!(drain(&mut machine), ["send 0/chat,"]);
        machine.packet(Packet::Connect {
            nsp: "/chat".into(),
            data: None,
            query: None,
        });
        // 0.9 servers use the session id in every endpoint.
        assert_eq!(drain(&mut machine)[0], r#"/chat state Some("e1")"#);
        machine.packet(Packet::Disconnect { nsp: "/".into() });
        assert_eq!(
            drain(&mut machine),
            [
                "/chat state None",
                "/chat <- Disconnect(ServerDisconnect)",
                "stop reconnecting",
                "close connection"
            ]
        );
    }

    #[test]
    fn the_last_leave_closes_the_connection_after_its_disconnect() {
        let mut machine = connected_v5("/");
        machine.leave("/".into(), None);
        assert_eq!(
            drain(&mut machine),
            [
                "send 1",
                "/ <- Disconnect(ClientDisconnect)",
                "/ state None",
                "stop reconnecting",
                "close connection"
            ]
        );
        // Nothing is left to connect.
        machine.connection_lost(DisconnectReason::ClientDisconnect);
        assert!(drain(&mut machine).is_empty());
    }

    #[test]
    fn too_many_early_events_are_a_violation() {
        let mut machine = Namespaces::default();
        machine.open("/".into(), Sock("/", None));
        machine.connected(Dialect::V5, "e1".into());
        drain(&mut machine);
        for _ in 0..MAX_EARLY_EVENTS {
            machine.packet(Packet::event("/", "e", vec![]));
        }
        assert!(drain(&mut machine).is_empty());
        machine.packet(Packet::event("/", "e", vec![]));
        assert_eq!(drain(&mut machine).last().unwrap(), "reconnect");
    }
}
