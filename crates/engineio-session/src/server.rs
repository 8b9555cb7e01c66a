//! The server role: one accepted session, whatever transports carry it.
//!
//! A server session is reached from several places at once — a pending polling GET, a POST,
//! the WebSocket task, the engine's timer, the layer above sending messages — so the driver
//! keeps a [`ServerSession`] behind a lock and calls it from each. Every rule lives here:
//! which transport may write, what a poll answers, the heartbeat, what closing flushes; the
//! driver only moves bytes and wakes whoever must write.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use sio_engineio_proto::{Data, Handshake, Packet, Revision};

use crate::{
    heartbeat::{Beat, Heartbeat, Role, Timing},
    transport::{CloseReason, TransportKind},
};

/// A packet waiting in a session's outbox. `M` is the driver's message type (encoded once,
/// shared between the sessions of a broadcast).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing<M> {
    /// The handshake answer.
    Open(Box<Handshake>),
    /// A ping (v4).
    Ping,
    /// A pong (v3), echoing the ping's data.
    Pong(Option<Box<str>>),
    /// Releases a pending poll without data.
    Noop,
    /// Tells a polling client that the server closed the session.
    Close,
    /// A message of the layer above.
    Message(M),
}

/// A message of the layer above, as it goes on the wire.
pub trait OutgoingMessage {
    /// The message's data, borrowed.
    fn data(&self) -> Data<'_>;
}

impl OutgoingMessage for String {
    fn data(&self) -> Data<'_> {
        Data::Text(self.as_str().into())
    }
}

impl<M: OutgoingMessage> Outgoing<M> {
    /// The packet to encode for this outgoing entry.
    pub fn to_packet(&self) -> Packet<'_> {
        match self {
            Outgoing::Open(handshake) => Packet::Open(handshake.as_ref().clone()),
            Outgoing::Ping => Packet::Ping("".into()),
            Outgoing::Pong(data) => Packet::Pong(data.as_deref().unwrap_or("").into()),
            Outgoing::Noop => Packet::Noop,
            Outgoing::Close => Packet::Close,
            Outgoing::Message(message) => Packet::Message(message.data()),
        }
    }
}

/// What a transport takes from the session when it is woken.
#[derive(Debug, PartialEq, Eq)]
pub enum Drained<M> {
    /// Nothing to write yet.
    Nothing,
    /// Another transport took the session over (an upgrade completed).
    Superseded,
    /// Packets to write.
    Packets(Vec<Outgoing<M>>),
    /// The session is over: write these packets, then end the transport. `client_closed` is
    /// true when the client asked for the close, which a pending poll answers with a noop.
    Closed {
        /// What is left to deliver.
        packets: Vec<Outgoing<M>>,
        /// The client closed the session.
        client_closed: bool,
    },
}

/// What the driver must do after the session handled a packet or a timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Effect {
    /// Nothing.
    None,
    /// Packets were queued: wake the writing transport.
    Wake,
    /// The session closed for this reason (just now): wake the transports, tell the layer
    /// above, release the session's resources.
    Closed(CloseReason),
}

/// The upgrade from polling to WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradePhase {
    /// No upgrade has started.
    None,
    /// A WebSocket is probing (`2probe` … `5`); polling still carries the session.
    Probing,
    /// The session moved to WebSocket for good.
    Done,
}

/// Whether a polling request of one kind (GET or POST) is in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// None is.
    Idle,
    /// One is; a second at the same time is an error.
    Pending,
}

/// A second polling request of a kind while one is pending: a transport error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("overlapping {0} request")]
pub struct Overlap(pub &'static str);

/// The session's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Serving.
    Open,
    /// Ended, for this reason; a polling client may still collect what was flushed.
    Closed(CloseReason),
}

/// The configuration a server session needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    /// The heartbeat timings announced in the handshake.
    pub timing: Timing,
}

/// One Engine.IO session, server side.
#[derive(Debug)]
pub struct ServerSession<M> {
    revision: Revision,
    transport: TransportKind,
    phase: Phase,
    upgrade: UpgradePhase,
    poll: Request,
    post: Request,
    /// A pending poll must return a noop so the client can finish an upgrade.
    noop_requested: bool,
    heartbeat: Heartbeat,
    outbox: VecDeque<Outgoing<M>>,
}

impl<M> ServerSession<M> {
    /// A session opened at `now` on `transport`, its handshake answer queued.
    pub fn new(
        now: Instant,
        revision: Revision,
        transport: TransportKind,
        config: ServerConfig,
        handshake: Handshake,
    ) -> Self {
        let mut outbox = VecDeque::new();
        outbox.push_back(Outgoing::Open(Box::new(handshake)));
        ServerSession {
            revision,
            transport,
            phase: Phase::Open,
            upgrade: UpgradePhase::None,
            poll: Request::Idle,
            post: Request::Idle,
            noop_requested: false,
            heartbeat: Heartbeat::new(Role::Server, revision, config.timing, now),
            outbox,
        }
    }

    /// The revision the client speaks.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The transport that currently carries the session.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// Open or closed.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether the session is open.
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Where the upgrade stands.
    pub fn upgrade(&self) -> UpgradePhase {
        self.upgrade
    }

    /// Packets waiting to be written.
    pub fn queued(&self) -> usize {
        self.outbox.len()
    }

    /// Queues a packet; returns false (and drops it) when the session is closed.
    pub fn queue(&mut self, packet: Outgoing<M>) -> bool {
        if !self.is_open() {
            return false;
        }
        self.outbox.push_back(packet);
        true
    }

    /// Queues several messages; returns false (and drops them) when the session is closed.
    pub fn queue_messages(&mut self, messages: impl IntoIterator<Item = M>) -> bool {
        if !self.is_open() {
            return false;
        }
        self.outbox
            .extend(messages.into_iter().map(Outgoing::Message));
        true
    }

    /// Whether a message packet needs the session at all: messages go to the layer above and
    /// change no session state (only heartbeats and close do, as in Node), so a driver may
    /// hand them over without taking its lock.
    pub fn is_stateless(packet: &Packet<'_>) -> bool {
        matches!(
            packet,
            Packet::Message(_) | Packet::Open(_) | Packet::Upgrade | Packet::Noop
        )
    }

    /// Handles a packet from the client other than a message (see
    /// [`ServerSession::is_stateless`]). A closed session ignores what still arrives.
    pub fn handle_control(&mut self, now: Instant, packet: &Packet<'_>) -> Effect {
        if !self.is_open() {
            return Effect::None;
        }
        match packet {
            Packet::Ping(data) => {
                if !self.heartbeat.on_ping(now) {
                    // "invalid heartbeat direction"
                    return self.close(CloseReason::TransportError);
                }
                let data = (!data.is_empty()).then(|| Box::<str>::from(data.as_ref()));
                self.outbox.push_back(Outgoing::Pong(data));
                Effect::Wake
            }
            Packet::Pong(_) => {
                if !self.heartbeat.on_pong(now) {
                    return self.close(CloseReason::TransportError);
                }
                Effect::None
            }
            Packet::Close => self.close(CloseReason::TransportClose),
            Packet::Message(_) | Packet::Open(_) | Packet::Upgrade | Packet::Noop => Effect::None,
        }
    }

    /// When [`ServerSession::handle_timeout`] must be called next; `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.is_open().then(|| self.heartbeat.poll_timeout())
    }

    /// The time has come for the heartbeat (calling early is harmless).
    pub fn handle_timeout(&mut self, now: Instant) -> Effect {
        if !self.is_open() {
            return Effect::None;
        }
        match self.heartbeat.handle_timeout(now) {
            Beat::Wait => Effect::None,
            Beat::SendPing => {
                self.outbox.push_back(Outgoing::Ping);
                Effect::Wake
            }
            Beat::TimedOut => self.close(CloseReason::PingTimeout),
        }
    }

    /// Ends the session, once: [`Effect::Closed`] the first time, [`Effect::None`] after.
    /// What is queued is kept for delivery only when the reason [flushes](CloseReason::flushes).
    pub fn close(&mut self, reason: CloseReason) -> Effect {
        if !self.is_open() {
            return Effect::None;
        }
        self.phase = Phase::Closed(reason);
        if !reason.flushes() {
            self.outbox.clear();
        }
        Effect::Closed(reason)
    }

    /// Takes what `transport` should write now, if it is the session's current transport.
    pub fn drain_for(&mut self, transport: TransportKind) -> Drained<M> {
        if self.transport != transport {
            return Drained::Superseded;
        }
        if let Phase::Closed(reason) = self.phase {
            return Drained::Closed {
                packets: self.outbox.drain(..).collect(),
                client_closed: reason == CloseReason::TransportClose,
            };
        }
        if self.noop_requested {
            self.noop_requested = false;
            return Drained::Packets(vec![Outgoing::Noop]);
        }
        if self.outbox.is_empty() {
            return Drained::Nothing;
        }
        Drained::Packets(self.outbox.drain(..).collect())
    }

    /// A polling GET starts. A second one while one is pending is an error that closes the
    /// session (the caller answers 400).
    pub fn begin_poll(&mut self) -> Result<(), (Overlap, Effect)> {
        if self.poll == Request::Pending {
            let effect = self.close(CloseReason::TransportError);
            return Err((Overlap("poll"), effect));
        }
        self.poll = Request::Pending;
        Ok(())
    }

    /// The polling GET ended; `answered` is false when the client went away before the
    /// answer, which Node treats as a transport error.
    pub fn end_poll(&mut self, answered: bool) -> Effect {
        self.poll = Request::Idle;
        if answered {
            Effect::None
        } else {
            self.close(CloseReason::TransportError)
        }
    }

    /// A polling POST starts (see [`ServerSession::begin_poll`]).
    pub fn begin_post(&mut self) -> Result<(), (Overlap, Effect)> {
        if self.post == Request::Pending {
            let effect = self.close(CloseReason::TransportError);
            return Err((Overlap("data"), effect));
        }
        self.post = Request::Pending;
        Ok(())
    }

    /// The polling POST ended, however.
    pub fn end_post(&mut self) {
        self.post = Request::Idle;
    }

    /// A WebSocket asks to take the session over. Like Node, a WebSocket for a session that
    /// is closed, already upgrading or upgraded is accepted and then closed (refusing it with
    /// an HTTP error would make some clients throw): false means "close it".
    pub fn begin_upgrade(&mut self) -> bool {
        let may = self.is_open() && self.upgrade == UpgradePhase::None;
        if may {
            self.upgrade = UpgradePhase::Probing;
        }
        may
    }

    /// The probe answered (`3probe` was sent): release a pending poll with a noop so the
    /// client can pause polling. Returns whether a poll must be woken for it. Called again
    /// every 100 ms while the upgrade waits for the client's `5` (Node's interval).
    pub fn request_noop(&mut self) -> bool {
        let wanted = self.transport == TransportKind::Polling && self.poll == Request::Pending;
        if wanted {
            self.noop_requested = true;
        }
        wanted
    }

    /// Ends an upgrade under way: the session now runs on the WebSocket (`upgraded`), or
    /// stays on polling. After a success the pending poll (if any) must be woken: it finds
    /// itself superseded and answers a noop.
    pub fn end_upgrade(&mut self, upgraded: bool) {
        if self.upgrade != UpgradePhase::Probing {
            return;
        }
        // Even when the session closed meanwhile: what a close flushed must go out on the
        // WebSocket the client now reads, not wait for a poll that will never come.
        if upgraded {
            self.upgrade = UpgradePhase::Done;
            self.transport = TransportKind::WebSocket;
        } else {
            self.upgrade = UpgradePhase::None;
        }
    }

    /// Whether this closed session still owes its client a last poll answer: the close packet
    /// after a server close (and the flushed outbox before it), or, no poll being pending, the
    /// noop that acknowledges a client's close (its GET may arrive just after its POST of
    /// `1`). The driver keeps such a session reachable until that poll (at most a timeout).
    pub fn awaits_final_poll(&self) -> bool {
        self.transport == TransportKind::Polling
            && match self.phase {
                // Even with a poll pending: it answers the flushed packets alone, and the
                // close packet waits for the next poll.
                Phase::Closed(reason) if reason.flushes() => true,
                Phase::Closed(CloseReason::TransportClose) => self.poll == Request::Idle,
                _ => false,
            }
    }
}

/// How long a polling request that arrives mid-upgrade waits for the upgrade to settle: a
/// client sends its probe and upgrade packets on the new WebSocket and then pauses polling,
/// so such a request was most likely sent after them and the WebSocket task may not have read
/// them yet (Node, reading in arrival order, sees the upgrade first and refuses the request).
pub const UPGRADE_GRACE: Duration = Duration::from_millis(50);

/// How often a pending poll is released while an upgrade waits for the client's `5`
/// (Node: 100 ms).
pub const UPGRADE_NOOP_INTERVAL: Duration = Duration::from_millis(100);

/// What the WebSocket of an upgrade is to do with a packet it read while probing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeStep {
    /// Answer `3probe` and start releasing polls.
    AnswerProbe,
    /// The upgrade is complete.
    Upgraded,
    /// Anything else: the upgrade failed.
    Failed,
}

/// The upgrade handshake on the new WebSocket: `2probe` → `3probe`, then `5`.
pub fn probe_step(probed: bool, packet: &Packet<'_>) -> ProbeStep {
    match packet {
        Packet::Ping(data) if data == "probe" && !probed => ProbeStep::AnswerProbe,
        Packet::Upgrade if probed => ProbeStep::Upgraded,
        _ => ProbeStep::Failed,
    }
}
