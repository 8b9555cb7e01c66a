//! One Engine.IO session: its outgoing queue, transport state, heartbeat and close.
//!
//! A session is driven by whichever transport currently owns it: a pending polling GET or the
//! WebSocket task drains [`Socket`]'s outbox when woken. No task runs per message; one small
//! heartbeat task runs per session.

use std::{
    collections::VecDeque,
    fmt,
    net::SocketAddr,
    sync::{
        Arc, Mutex, MutexGuard, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::SystemTime,
};

use bytes::{Bytes, BytesMut};
use http::{HeaderMap, HeaderValue, Method, Uri};
use sio_engineio_proto::{Data, Handshake, Packet, Revision};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{config::TransportKind, message::Message, sid::Sid};

/// Why a session ended, named as Node's `engine.io` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The client closed the transport (WebSocket closed, or a close packet).
    TransportClose,
    /// The transport failed: a broken connection, an overlapping poll, an invalid frame type.
    TransportError,
    /// No pong (v4) or ping (v3) in time.
    PingTimeout,
    /// The client sent a packet that does not decode.
    ParseError,
    /// The server closed the session ([`Socket::close`]).
    ForcedClose,
    /// The server is shutting down.
    ServerShuttingDown,
}

impl CloseReason {
    /// The reason string Node uses.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ForcedClose => "forced close",
            CloseReason::ServerShuttingDown => "server shutting down",
        }
    }

    /// Whether packets still queued should be delivered before the transport closes.
    fn flushes(self) -> bool {
        matches!(
            self,
            CloseReason::ForcedClose | CloseReason::ServerShuttingDown
        )
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the server knows of the request that opened a session.
#[derive(Debug, Clone)]
pub struct RequestInfo {
    /// Request method of the handshake.
    pub method: Method,
    /// Request URI (path and query) of the handshake.
    pub uri: Uri,
    /// Request headers of the handshake (shared with the layers above, which keep them too).
    pub headers: Arc<HeaderMap>,
    /// The peer's address, when the server knows it (see [`crate::RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
    /// Whether the connection was made over TLS, as far as the server knows.
    pub secure: bool,
    /// When the handshake arrived.
    pub time: SystemTime,
}

impl RequestInfo {
    /// Keeps a copy of the URI and headers in one allocation of their own: hyper parses them
    /// as slices of the connection's read buffer (8 KB), which a session kept for hours would
    /// otherwise keep alive.
    pub(crate) fn detach(uri: &Uri, headers: &HeaderMap) -> (Uri, HeaderMap) {
        let uri_text = uri.to_string();
        let size = uri_text.len() + headers.values().map(|v| v.len()).sum::<usize>();
        let mut buf = BytesMut::with_capacity(size);
        buf.extend_from_slice(uri_text.as_bytes());
        for value in headers.values() {
            buf.extend_from_slice(value.as_bytes());
        }
        let buf = buf.freeze();
        let uri =
            Uri::from_maybe_shared(buf.slice(..uri_text.len())).unwrap_or_else(|_| uri.clone());
        let mut copy = HeaderMap::with_capacity(headers.len());
        let mut at = uri_text.len();
        for (name, value) in headers {
            let end = at + value.len();
            // The bytes come from a valid value, so this check cannot fail.
            let mut detached = HeaderValue::from_maybe_shared(buf.slice(at..end))
                .unwrap_or_else(|_| value.clone());
            detached.set_sensitive(value.is_sensitive());
            copy.append(name.clone(), detached);
            at = end;
        }
        (uri, copy)
    }

    /// The value of a query parameter of the handshake URI (percent-decoded).
    pub fn query(&self, name: &str) -> Option<String> {
        crate::query::get(self.uri.query().unwrap_or(""), name).map(|v| v.into_owned())
    }
}

/// A packet waiting in a session's outbox.
#[derive(Debug, Clone)]
pub(crate) enum Outgoing {
    Open(Box<Handshake>),
    Ping,
    Pong(Option<Box<str>>),
    Noop,
    /// Tells a polling client that the server closed the session.
    Close,
    Message(Message),
}

impl Outgoing {
    pub(crate) fn to_packet(&self) -> Packet<'_> {
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
#[derive(Debug)]
pub(crate) enum Drained {
    /// Nothing to write yet.
    Nothing,
    /// Another transport took the session over (an upgrade completed).
    Superseded,
    /// Packets to write.
    Packets(Vec<Outgoing>),
    /// The session is over: write these packets, then end the transport. `client_closed` is
    /// true when the client asked for the close, which a pending poll answers with a noop.
    Closed {
        packets: Vec<Outgoing>,
        client_closed: bool,
    },
}

#[derive(Debug)]
pub(crate) struct State {
    outbox: VecDeque<Outgoing>,
    pub(crate) transport: TransportKind,
    closed: Option<CloseReason>,
    pub(crate) upgrading: bool,
    pub(crate) upgraded: bool,
    pub(crate) poll_pending: bool,
    pub(crate) post_pending: bool,
    noop_requested: bool,
}

/// The engine-side callbacks a session needs, without knowing the handler's type.
pub(crate) trait Host<D>: Send + Sync {
    fn on_message(&self, socket: &Arc<Socket<D>>, data: Data<'_>);
    fn on_close(&self, socket: &Arc<Socket<D>>, reason: CloseReason);
}

/// An Engine.IO session, shared by the transports that serve it and by the layer above.
///
/// `D` is per-session data owned by the [`EngineHandler`](crate::EngineHandler), such as the
/// Socket.IO layer's namespaces.
pub struct Socket<D> {
    id: Sid,
    revision: Revision,
    supports_binary: bool,
    request: RequestInfo,
    state: Mutex<State>,
    /// Wakes the transport that currently writes (a pending GET or the WebSocket task).
    pub(crate) writer: Notify,
    /// Wakes the heartbeat: a pong (v4) or a ping (v3) arrived.
    pub(crate) heartbeat: Notify,
    /// Wakes whoever waits for a closed polling session's last poll (see
    /// [`Socket::awaits_final_poll`]).
    pub(crate) final_poll: Notify,
    /// Wakes polling requests waiting for an upgrade to complete or fail.
    pub(crate) upgrade_settled: Notify,
    pub(crate) closed: CancellationToken,
    /// Mirrors `closed` for [`Socket::is_open`]: the token's own check takes a lock, and
    /// every send asks.
    open: AtomicBool,
    host: Weak<dyn Host<D>>,
    /// Data of the layer above.
    pub data: D,
}

impl<D> fmt::Debug for Socket<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("revision", &self.revision)
            .finish_non_exhaustive()
    }
}

impl<D: Send + Sync + 'static> Socket<D> {
    pub(crate) fn new(
        id: Sid,
        revision: Revision,
        transport: TransportKind,
        supports_binary: bool,
        request: RequestInfo,
        host: Weak<dyn Host<D>>,
        data: D,
    ) -> Self {
        Socket {
            id,
            revision,
            supports_binary,
            request,
            state: Mutex::new(State {
                outbox: VecDeque::new(),
                transport,
                closed: None,
                upgrading: false,
                upgraded: false,
                poll_pending: false,
                post_pending: false,
                noop_requested: false,
            }),
            writer: Notify::new(),
            heartbeat: Notify::new(),
            final_poll: Notify::new(),
            upgrade_settled: Notify::new(),
            closed: CancellationToken::new(),
            open: AtomicBool::new(true),
            host,
            data,
        }
    }

    /// The session id (`sid`).
    pub fn id(&self) -> &str {
        self.id.as_str()
    }

    pub(crate) fn sid(&self) -> Sid {
        self.id
    }

    /// The Engine.IO protocol revision the client speaks.
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// Whether the client can take binary data (false for v3 clients polling with `b64=1`).
    pub fn supports_binary(&self) -> bool {
        self.supports_binary
    }

    /// The request that opened the session.
    pub fn request(&self) -> &RequestInfo {
        &self.request
    }

    /// The transport the session currently uses.
    pub fn transport(&self) -> TransportKind {
        self.lock().transport
    }

    /// Waits, at most `grace`, for an upgrade under way to complete or fail.
    ///
    /// A client sends its probe and upgrade packets on the new WebSocket and then pauses
    /// polling, so a polling request arriving mid-upgrade was most likely sent after them, and
    /// the WebSocket task may not have read them yet (Node, reading in arrival order, sees the
    /// upgrade first and refuses the request). A poll that was merely in flight waits `grace`,
    /// then is served as before.
    pub(crate) async fn settle_upgrade(&self, grace: std::time::Duration) {
        if !self.lock().upgrading {
            return;
        }
        let wait = async {
            loop {
                let settled = self.upgrade_settled.notified();
                let mut settled = std::pin::pin!(settled);
                settled.as_mut().enable();
                if !self.lock().upgrading {
                    return;
                }
                settled.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
    }

    /// Ends an upgrade under way: the session now runs on the WebSocket, or stays on polling.
    pub(crate) fn end_upgrade(&self, upgraded: bool) {
        {
            let mut state = self.lock();
            state.upgrading = false;
            if upgraded {
                state.upgraded = true;
                state.transport = TransportKind::WebSocket;
            }
        }
        self.upgrade_settled.notify_waiters();
    }

    /// Whether the session is still open.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Number of packets waiting to be written: a socket with none is ready for a volatile
    /// message.
    pub fn queued(&self) -> usize {
        self.lock().outbox.len()
    }

    /// Queues a message. Messages sent after the session closed are dropped.
    pub fn send(&self, message: Message) {
        self.push(Outgoing::Message(message));
    }

    /// Queues several messages and wakes the transport once.
    pub fn send_all(&self, messages: impl IntoIterator<Item = Message>) {
        let mut state = self.lock();
        if state.closed.is_some() {
            return;
        }
        state
            .outbox
            .extend(messages.into_iter().map(Outgoing::Message));
        drop(state);
        self.writer.notify_one();
    }

    /// Convenience for [`Socket::send`] of a text message.
    pub fn send_text(&self, text: &str) {
        self.send(Message::text(text));
    }

    /// Convenience for [`Socket::send`] of a binary message.
    pub fn send_binary(&self, data: impl Into<Bytes>) {
        self.send(Message::binary(data));
    }

    /// Closes the session from the server side, after the queued packets are written.
    pub fn close(self: &Arc<Self>) {
        self.close_with(CloseReason::ForcedClose);
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held cannot leave the state half-written in a way that
        // matters more than refusing to serve the session, so take the data as it is.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push(&self, packet: Outgoing) {
        let mut state = self.lock();
        if state.closed.is_some() {
            return;
        }
        state.outbox.push_back(packet);
        drop(state);
        self.writer.notify_one();
    }

    /// Asks a pending poll to return at once with a noop, so the client can finish an upgrade.
    pub(crate) fn request_noop(&self) {
        let mut state = self.lock();
        if state.transport == TransportKind::Polling && state.poll_pending {
            state.noop_requested = true;
            drop(state);
            self.writer.notify_one();
        }
    }

    /// Takes what `transport` should write now, if it is the session's current transport.
    pub(crate) fn drain_for(&self, transport: TransportKind) -> Drained {
        let mut state = self.lock();
        if state.transport != transport {
            return Drained::Superseded;
        }
        if let Some(reason) = state.closed {
            let packets = state.outbox.drain(..).collect();
            return Drained::Closed {
                packets,
                client_closed: reason == CloseReason::TransportClose,
            };
        }
        if state.noop_requested {
            state.noop_requested = false;
            return Drained::Packets(vec![Outgoing::Noop]);
        }
        if state.outbox.is_empty() {
            return Drained::Nothing;
        }
        Drained::Packets(state.outbox.drain(..).collect())
    }

    /// Ends the session once: wakes its transports and tells the handler.
    pub(crate) fn close_with(self: &Arc<Self>, reason: CloseReason) {
        {
            let mut state = self.lock();
            if state.closed.is_some() {
                return;
            }
            state.closed = Some(reason);
            if !reason.flushes() {
                state.outbox.clear();
            }
        }
        tracing::debug!(sid = %self.id, %reason, "engine.io session closed");
        self.open.store(false, Ordering::Release);
        self.closed.cancel();
        self.writer.notify_one();
        if let Some(host) = self.host.upgrade() {
            host.on_close(self, reason);
        }
    }

    /// Whether this closed session still owes its client a last poll answer: the close packet
    /// after a server close (and the flushed outbox before it), or, no poll being pending now,
    /// the noop that acknowledges a client's close (its GET may arrive just after its POST of
    /// `1`).
    pub(crate) fn awaits_final_poll(&self) -> bool {
        let state = self.lock();
        state.transport == TransportKind::Polling
            && match state.closed {
                // Even with a poll pending: it answers the flushed packets alone, and the close
                // packet waits for the next poll.
                Some(reason) if reason.flushes() => true,
                Some(CloseReason::TransportClose) => !state.poll_pending,
                _ => false,
            }
    }

    /// Handles one packet from the client, whatever the transport. A closed session ignores
    /// what still arrives, as Node does.
    pub(crate) fn on_packet(self: &Arc<Self>, packet: Packet<'_>) {
        if !self.is_open() {
            return;
        }
        match packet {
            Packet::Message(data) => {
                if let Some(host) = self.host.upgrade() {
                    host.on_message(self, data);
                }
            }
            Packet::Ping(data) if self.revision == Revision::V3 => {
                self.heartbeat.notify_one();
                let data = (!data.is_empty()).then(|| Box::<str>::from(data.as_ref()));
                self.push(Outgoing::Pong(data));
            }
            Packet::Pong(_) if self.revision == Revision::V4 => self.heartbeat.notify_one(),
            Packet::Ping(_) | Packet::Pong(_) => {
                tracing::debug!(sid = %self.id, "invalid heartbeat direction");
                self.close_with(CloseReason::TransportError);
            }
            Packet::Close => self.close_with(CloseReason::TransportClose),
            Packet::Open(_) | Packet::Upgrade | Packet::Noop => {}
        }
    }
}

/// Keeps a session alive or closes it with "ping timeout".
///
/// v4: the server pings every `ping_interval` and expects a pong within `ping_timeout`.
/// v3: the client pings; the server waits at most `ping_interval + ping_timeout` for each.
/// Deadlines are absolute and counted from `opened` (before the handshake answer is written),
/// so a late wake-up of this task never stretches a timeout the client can observe.
pub(crate) async fn heartbeat<D: Send + Sync + 'static>(
    socket: Arc<Socket<D>>,
    opened: tokio::time::Instant,
    ping_interval: std::time::Duration,
    ping_timeout: std::time::Duration,
) {
    let closed = socket.closed.clone();
    let run = async {
        match socket.revision {
            Revision::V4 => {
                let mut next_ping = opened + ping_interval;
                loop {
                    tokio::time::sleep_until(next_ping).await;
                    socket.push(Outgoing::Ping);
                    let deadline = next_ping + ping_timeout;
                    if tokio::time::timeout_at(deadline, socket.heartbeat.notified())
                        .await
                        .is_err()
                    {
                        break;
                    }
                    next_ping = tokio::time::Instant::now() + ping_interval;
                }
            }
            Revision::V3 => {
                let mut deadline = opened + ping_interval + ping_timeout;
                loop {
                    if tokio::time::timeout_at(deadline, socket.heartbeat.notified())
                        .await
                        .is_err()
                    {
                        break;
                    }
                    deadline = tokio::time::Instant::now() + ping_interval + ping_timeout;
                }
            }
        }
    };
    tokio::select! {
        _ = closed.cancelled() => {}
        _ = run => socket.close_with(CloseReason::PingTimeout),
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_request_keeps_its_values_but_not_the_read_buffer() {
        // hyper hands out URI and header values as slices of its read buffer, like this one.
        let read_buffer = Bytes::from(
            "/socket.io/?EIO=4&transport=websocket\0text/plain\0secret\0one\0two".to_owned()
                + &"\0".repeat(8000),
        );
        let uri = Uri::from_maybe_shared(read_buffer.slice(0..37)).unwrap();
        let mut headers = HeaderMap::new();
        let value = |range| HeaderValue::from_maybe_shared(read_buffer.slice(range)).unwrap();
        headers.insert(http::header::CONTENT_TYPE, value(38..48));
        let mut secret = value(49..55);
        secret.set_sensitive(true);
        headers.insert(http::header::AUTHORIZATION, secret);
        headers.append("x-many", value(56..59));
        headers.append("x-many", value(60..63));

        let (detached_uri, detached) = RequestInfo::detach(&uri, &headers);

        assert_eq!(detached_uri, uri);
        assert_eq!(detached, headers);
        assert!(detached[http::header::AUTHORIZATION].is_sensitive());
        let many: Vec<_> = detached.get_all("x-many").iter().collect();
        assert_eq!(many, ["one", "two"]);
        let buffer = read_buffer.as_ptr_range();
        let outside = |bytes: &[u8]| !buffer.contains(&bytes.as_ptr());
        assert!(outside(detached_uri.path().as_bytes()));
        assert!(detached.values().all(|v| outside(v.as_bytes())));
    }
}
