//! One Engine.IO session, as the transports and the layer above share it.
//!
//! The rules (outbox, which transport writes, poll guards, upgrade phases, heartbeat, what a
//! close flushes) are `sio-engineio-session`'s [`ServerSession`], kept behind a lock here;
//! this module wakes whoever must act on what the machine decided. A session is driven by
//! whichever transport currently owns it: a pending polling GET or the WebSocket task drains
//! the outbox when woken. No task runs per message or per session: the engine's one timer
//! ([`crate::timer`]) fires every session's heartbeat.

use std::{
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
use sio_engineio_proto::{Data, Packet, Revision};
use sio_engineio_session::{
    CloseReason, ServerSession, TransportKind,
    server::{Effect, UpgradePhase},
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{message::Message, sid::Sid};

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
pub(crate) type Outgoing = sio_engineio_session::server::Outgoing<Message>;

/// What a transport takes from the session when it is woken.
pub(crate) type Drained = sio_engineio_session::server::Drained<Message>;

/// The driver's clock: tokio's (so that tests with paused time move it), as the machine's
/// `std` instant.
pub(crate) fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}

/// The engine-side callbacks a session needs, without knowing the handler's type.
pub(crate) trait Host<D>: Send + Sync {
    fn on_message(&self, socket: &Arc<Socket<D>>, data: Data<'_>);
    fn on_close(&self, socket: &Arc<Socket<D>>, reason: CloseReason);
    /// Files the session's timer for `at` with the engine's timer.
    fn schedule(&self, sid: Sid, at: std::time::Instant);
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
    session: Mutex<ServerSession<Message>>,
    /// Wakes the transport that currently writes (a pending GET or the WebSocket task).
    pub(crate) writer: Notify,
    /// Wakes whoever waits for a closed polling session's last poll (see
    /// [`ServerSession::awaits_final_poll`]).
    pub(crate) final_poll: Notify,
    /// Wakes polling requests waiting for an upgrade to complete or fail.
    pub(crate) upgrade_settled: Notify,
    pub(crate) closed: CancellationToken,
    /// The deadline the engine's timer holds for this session: its other entries are stale.
    filed: Mutex<Option<std::time::Instant>>,
    /// Mirrors the machine's phase for [`Socket::is_open`], which every send asks, without
    /// the lock.
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
        supports_binary: bool,
        request: RequestInfo,
        host: Weak<dyn Host<D>>,
        session: ServerSession<Message>,
        data: D,
    ) -> Self {
        Socket {
            id,
            revision: session.revision(),
            supports_binary,
            request,
            session: Mutex::new(session),
            writer: Notify::new(),
            final_poll: Notify::new(),
            upgrade_settled: Notify::new(),
            closed: CancellationToken::new(),
            filed: Mutex::new(None),
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
        self.lock().transport()
    }

    /// Waits, at most `grace`, for an upgrade under way to complete or fail (see
    /// [`sio_engineio_session::server::UPGRADE_GRACE`]). A poll that was merely in flight
    /// waits `grace`, then is served as before.
    pub(crate) async fn settle_upgrade(&self, grace: std::time::Duration) {
        let upgrading = || self.lock().upgrade() == UpgradePhase::Probing;
        if !upgrading() {
            return;
        }
        let wait = async {
            loop {
                let settled = self.upgrade_settled.notified();
                let mut settled = std::pin::pin!(settled);
                settled.as_mut().enable();
                if !upgrading() {
                    return;
                }
                settled.await;
            }
        };
        let _ = tokio::time::timeout(grace, wait).await;
    }

    /// Ends an upgrade under way: the session now runs on the WebSocket, or stays on polling.
    pub(crate) fn end_upgrade(&self, upgraded: bool) {
        self.lock().end_upgrade(upgraded);
        self.upgrade_settled.notify_waiters();
    }

    /// Whether the session is still open.
    pub fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    /// Number of packets waiting to be written: a socket with none is ready for a volatile
    /// message.
    pub fn queued(&self) -> usize {
        self.lock().queued()
    }

    /// Queues a message. Messages sent after the session closed are dropped.
    pub fn send(&self, message: Message) {
        self.push(Outgoing::Message(message));
    }

    /// Queues several messages and wakes the transport once.
    pub fn send_all(&self, messages: impl IntoIterator<Item = Message>) {
        if self.lock().queue_messages(messages) {
            self.writer.notify_one();
        }
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

    /// The session machine. A panic while the lock was held cannot leave the state
    /// half-written in a way that matters more than refusing to serve the session, so the
    /// data is taken as it is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, ServerSession<Message>> {
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn push(&self, packet: Outgoing) {
        if self.lock().queue(packet) {
            self.writer.notify_one();
        }
    }

    /// Asks a pending poll to return at once with a noop, so the client can finish an upgrade.
    pub(crate) fn request_noop(&self) {
        if self.lock().request_noop() {
            self.writer.notify_one();
        }
    }

    /// Takes what `transport` should write now, if it is the session's current transport.
    pub(crate) fn drain_for(&self, transport: TransportKind) -> Drained {
        self.lock().drain_for(transport)
    }

    /// Carries out what the machine decided.
    pub(crate) fn apply(self: &Arc<Self>, effect: Effect) {
        match effect {
            Effect::None => {}
            Effect::Wake => self.writer.notify_one(),
            Effect::Closed(reason) => {
                tracing::debug!(sid = %self.id, %reason, "engine.io session closed");
                self.open.store(false, Ordering::Release);
                self.closed.cancel();
                self.writer.notify_one();
                if let Some(host) = self.host.upgrade() {
                    host.on_close(self, reason);
                }
            }
        }
    }

    /// Ends the session once: wakes its transports and tells the handler.
    pub(crate) fn close_with(self: &Arc<Self>, reason: CloseReason) {
        let effect = self.lock().close(reason);
        self.apply(effect);
    }

    /// Whether this closed session still owes its client a last poll answer.
    pub(crate) fn awaits_final_poll(&self) -> bool {
        self.lock().awaits_final_poll()
    }

    /// Handles one packet from the client, whatever the transport. Messages go to the handler
    /// without the lock (they change no session state); a closed session ignores what still
    /// arrives, as Node does.
    pub(crate) fn on_packet(self: &Arc<Self>, packet: Packet<'_>) {
        if !self.is_open() {
            return;
        }
        if ServerSession::<Message>::is_stateless(&packet) {
            if let Packet::Message(data) = packet
                && let Some(host) = self.host.upgrade()
            {
                host.on_message(self, data);
            }
            return;
        }
        let (effect, next) = {
            let mut session = self.lock();
            let effect = session.handle_control(now(), &packet);
            (effect, session.poll_timeout())
        };
        if effect == Effect::Closed(CloseReason::TransportError) {
            tracing::debug!(sid = %self.id, "invalid heartbeat direction");
        }
        self.apply(effect);
        // A pong may bring the next ping closer than the deadline the timer holds (when
        // `ping_timeout` exceeds `ping_interval`): file the earlier one.
        if let Some(next) = next {
            let earlier = {
                let mut filed = self.filed_lock();
                let earlier = filed.is_none_or(|at| next < at);
                if earlier {
                    *filed = Some(next);
                }
                earlier
            };
            if earlier && let Some(host) = self.host.upgrade() {
                host.schedule(self.id, next);
            }
        }
    }

    fn filed_lock(&self) -> MutexGuard<'_, Option<std::time::Instant>> {
        self.filed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The engine's timer reached the deadline it held for this session at `at`: returns the
    /// next one to file. An entry that is no longer the filed one is stale and does nothing.
    pub(crate) fn on_timer(self: &Arc<Self>, at: std::time::Instant) -> Option<std::time::Instant> {
        if *self.filed_lock() != Some(at) {
            return None;
        }
        let (effect, next) = {
            let mut session = self.lock();
            let effect = session.handle_timeout(now());
            (effect, session.poll_timeout())
        };
        *self.filed_lock() = next;
        self.apply(effect);
        next
    }

    /// Files the session's first deadline: when the engine's timer must fire first.
    pub(crate) fn first_deadline(&self) -> Option<std::time::Instant> {
        let first = self.lock().poll_timeout();
        *self.filed_lock() = first;
        first
    }
}

#[cfg(test)]
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
