//! The client role: one connection to a server, over polling and/or WebSocket.
//!
//! A driver owns one [`ClientSession`] and runs a loop: it performs what
//! [`ClientSession::poll_transmit`] asks (start a poll, post a body, write a frame, open the
//! upgrade's WebSocket), feeds back what happened (`handle_*`), hands
//! [`ClientSession::poll_event`]s to the layer above, and calls
//! [`ClientSession::handle_timeout`] at [`ClientSession::poll_timeout`]. The machine never
//! waits and never touches a socket, so every rule (heartbeat, upgrade, batching, closing)
//! is tested here with a manual clock, and a browser or a native driver runs the same rules.

use std::{
    collections::VecDeque,
    time::{Duration, Instant},
};

use bytes::Bytes;
use sio_engineio_proto::{
    Data, DecodeError, EncodeError, Handshake, Packet, PacketType, Revision, decode_binary,
    decode_text_frame, encode_binary_frame,
};

use crate::{
    handshake::{decode_polling_body, encode_polling_body},
    heartbeat::{Beat, Heartbeat, Role, Timing},
    transport::{CloseReason, TransportKind},
};

/// Most packets per polling POST: python-engineio refuses more than 16 by default, and a long
/// queue is better sent in several requests anyway.
pub const MAX_PACKETS_PER_POST: usize = 16;

/// The largest `pingInterval`/`pingTimeout` taken from a server (a day, in milliseconds).
const MAX_TIMING_MS: u64 = 24 * 60 * 60 * 1000;

/// Client options the session rules depend on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// Upgrade from polling to WebSocket when the server offers it (and the driver can).
    pub upgrade: bool,
    /// v3 only: binary travels as base64 text (`b64=1`).
    pub force_base64: bool,
    /// How long the server has to answer the upgrade's probe.
    pub probe_timeout: Duration,
    /// How long closing may take (writing what is queued, then the close packet) when the
    /// server stops answering.
    pub close_timeout: Duration,
}

impl ClientConfig {
    /// The default [`ClientConfig::close_timeout`].
    pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            upgrade: true,
            force_base64: false,
            probe_timeout: Duration::from_secs(10),
            close_timeout: Self::DEFAULT_CLOSE_TIMEOUT,
        }
    }
}

/// One of the session's WebSockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Link {
    /// The WebSocket that carries the session.
    Main,
    /// The WebSocket of an upgrade under way.
    Probe,
}

/// A WebSocket message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsFrame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

/// A WebSocket message as read, borrowed from the driver's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRef<'a> {
    /// A text frame.
    Text(&'a str),
    /// A binary frame.
    Binary(&'a [u8]),
}

/// What the driver must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Start a polling GET; report its answer with [`ClientSession::handle_poll_response`].
    Poll,
    /// Send a polling POST with this body; report with [`ClientSession::handle_post_response`].
    Post {
        /// The body.
        body: Bytes,
        /// Its `Content-Type`.
        content_type: &'static str,
    },
    /// Write this frame on a WebSocket.
    Frame {
        /// Which one.
        link: Link,
        /// What.
        frame: WsFrame,
    },
    /// Open the upgrade's WebSocket (`transport=websocket&sid=…`); report with
    /// [`ClientSession::handle_probe_opened`].
    OpenProbe,
    /// The probe WebSocket now carries the session: from here on, [`Link::Main`] is it, and
    /// polling requests still in flight are to be dropped.
    PromoteProbe,
    /// Close this WebSocket, after the frames transmitted before.
    CloseWebSocket(Link),
}

/// What the session tells the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A message from the server that came in a polling body (those read from a WebSocket
    /// are returned by [`ClientSession::handle_frame`]).
    Message(Data<'static>),
    /// The session moved to WebSocket.
    Upgraded,
    /// The session ended. Nothing more will be transmitted or reported.
    Closed(CloseReason, Cause),
}

/// More about why a session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Cause {
    /// The reason says it all (a close packet, a timeout, the user's close).
    None,
    /// The driver reported this transport failure (it holds the error itself).
    Driver,
    /// A polling request was answered with this HTTP status.
    Status {
        /// GET or POST.
        request: &'static str,
        /// The status.
        status: u16,
    },
    /// The server sent data that does not decode.
    Decode(DecodeError),
    /// The server sent a packet a client never expects.
    Unexpected(PacketType),
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cause::None | Cause::Driver => Ok(()),
            Cause::Status { request, status } => write!(f, "{request} answered {status}"),
            Cause::Decode(error) => write!(f, "{error}"),
            Cause::Unexpected(kind) => write!(f, "unexpected {kind:?} packet"),
        }
    }
}

/// A polling request's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InFlight {
    Idle,
    Pending,
}

/// The upgrade from polling to WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// None under way (none wanted, none offered, or one failed).
    None,
    /// The probe WebSocket is opening.
    Opening,
    /// `2probe` sent; `3probe` awaited until then.
    Probing { deadline: Instant },
    /// The probe answered: polling pauses, and the switch happens once no request is in flight.
    Paused,
}

/// What carries the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Active {
    Polling {
        get: InFlight,
        post: InFlight,
        upgrade: Upgrade,
    },
    WebSocket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    /// The user closed: the queue drains, then the close packet goes, until then at most.
    Closing {
        deadline: Instant,
        close_sent: bool,
    },
    Closed,
}

/// The server's announcement, as a session keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenInfo {
    /// The session id.
    pub sid: String,
    /// The revision spoken.
    pub revision: Revision,
    /// The transport the session opened on.
    pub transport: TransportKind,
    /// The upgrades the server offered.
    pub upgrades: Vec<String>,
    /// The heartbeat timings.
    pub timing: Timing,
    /// The server's `maxPayload` (v4).
    pub max_payload: Option<u64>,
}

/// One Engine.IO session, client side.
#[derive(Debug)]
pub struct ClientSession {
    info: OpenInfo,
    config: ClientConfig,
    active: Active,
    phase: Phase,
    heartbeat: Heartbeat,
    /// Packets waiting for the next polling POST (or for the upgrade to finish).
    queue: VecDeque<Packet<'static>>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

impl ClientSession {
    /// A session whose handshake completed at `now` on `info.transport`. `rest` holds the
    /// packets that came with the open packet. The upgrade is attempted when `config.upgrade`
    /// is set, the session opened on polling and the server offers `websocket`.
    pub fn new(
        now: Instant,
        info: OpenInfo,
        rest: Vec<Packet<'static>>,
        config: ClientConfig,
    ) -> Self {
        let heartbeat = Heartbeat::new(Role::Client, info.revision, info.timing, now);
        let active = match info.transport {
            TransportKind::Polling => {
                let offered = info.upgrades.iter().any(|u| u == "websocket");
                Active::Polling {
                    get: InFlight::Idle,
                    post: InFlight::Idle,
                    upgrade: if config.upgrade && offered {
                        Upgrade::Opening
                    } else {
                        Upgrade::None
                    },
                }
            }
            TransportKind::WebSocket => Active::WebSocket,
        };
        let mut session = ClientSession {
            info,
            config,
            active,
            phase: Phase::Open,
            heartbeat,
            queue: VecDeque::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        if let Active::Polling {
            upgrade: Upgrade::Opening,
            ..
        } = session.active
        {
            session.transmits.push_back(Transmit::OpenProbe);
        }
        for packet in rest {
            session.on_packet(now, packet);
        }
        session.schedule();
        session
    }

    /// A session built from a handshake answer.
    pub fn open_info(
        revision: Revision,
        transport: TransportKind,
        handshake: Handshake,
    ) -> OpenInfo {
        OpenInfo {
            sid: handshake.sid,
            revision,
            transport,
            upgrades: handshake.upgrades,
            // A day at most: a server's number must not overflow the clock's arithmetic.
            timing: Timing {
                ping_interval: Duration::from_millis(handshake.ping_interval.min(MAX_TIMING_MS)),
                ping_timeout: Duration::from_millis(handshake.ping_timeout.min(MAX_TIMING_MS)),
            },
            max_payload: handshake.max_payload,
        }
    }

    /// What the server announced.
    pub fn info(&self) -> &OpenInfo {
        &self.info
    }

    /// The transport that carries the session now.
    pub fn transport(&self) -> TransportKind {
        match self.active {
            Active::Polling { .. } => TransportKind::Polling,
            Active::WebSocket => TransportKind::WebSocket,
        }
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// The next thing the driver must do.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next thing to tell the layer above.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// When [`ClientSession::handle_timeout`] must be called next; `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut at = match self.phase {
            Phase::Open => self.heartbeat.poll_timeout(),
            Phase::Closing { deadline, .. } => deadline,
            Phase::Closed => return None,
        };
        if let Active::Polling {
            upgrade: Upgrade::Probing { deadline },
            ..
        } = self.active
        {
            at = at.min(deadline);
        }
        Some(at)
    }

    /// The time has come (calling early is harmless).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Active::Polling {
            upgrade: Upgrade::Probing { deadline },
            ..
        } = self.active
            && now >= deadline
        {
            self.fail_upgrade(true);
        }
        match self.phase {
            Phase::Closed => {}
            Phase::Closing { deadline, .. } => {
                if now >= deadline {
                    self.finish(CloseReason::ForcedClose, Cause::None);
                }
            }
            Phase::Open => match self.heartbeat.handle_timeout(now) {
                Beat::Wait => {}
                Beat::SendPing => self.output(Packet::Ping("".into())),
                Beat::TimedOut => self.finish(CloseReason::PingTimeout, Cause::None),
            },
        }
        self.schedule();
    }

    /// Sends a message. A volatile one is dropped while the transport is busy (a POST in
    /// flight, an upgrade switching). Messages sent while closing or closed are dropped.
    ///
    /// # Errors
    /// A v4 text holding the record separator `\x1e` while polling: a polling body cannot
    /// carry it (it would reach the server as several packets).
    pub fn send(&mut self, data: Data<'static>, volatile: bool) -> Result<(), EncodeError> {
        if self.phase != Phase::Open {
            return Ok(());
        }
        if self.info.revision == Revision::V4
            && self.transport() == TransportKind::Polling
            && data.as_text().is_some_and(|text| text.contains('\x1e'))
        {
            return Err(EncodeError::RecordSeparatorInText { index: 0 });
        }
        let busy = match self.active {
            Active::Polling { post, upgrade, .. } => {
                post == InFlight::Pending || upgrade == Upgrade::Paused
            }
            Active::WebSocket => false,
        };
        if volatile && busy {
            return Ok(());
        }
        self.output(Packet::Message(data));
        self.schedule();
        Ok(())
    }

    /// Closes the session from this side. Like the JavaScript client, what is queued (and a
    /// POST in flight) goes first, then the close packet; a WebSocket is then closed. Ends
    /// with [`ClientEvent::Closed`] with [`CloseReason::ForcedClose`].
    pub fn close(&mut self, now: Instant) {
        if self.phase != Phase::Open {
            return;
        }
        self.phase = Phase::Closing {
            deadline: now + self.config.close_timeout,
            close_sent: false,
        };
        if let Active::Polling { upgrade, .. } = &mut self.active {
            if matches!(*upgrade, Upgrade::Probing { .. } | Upgrade::Paused) {
                self.transmits
                    .push_back(Transmit::CloseWebSocket(Link::Probe));
            }
            *upgrade = Upgrade::None;
        }
        self.schedule();
    }

    /// The answer to a polling GET: `Ok((status, body, content type))`, or `Err(())` when the
    /// request failed (the driver keeps its error).
    pub fn handle_poll_response(
        &mut self,
        now: Instant,
        answer: Result<(u16, &[u8], Option<&str>), ()>,
    ) {
        let Active::Polling { get, .. } = &mut self.active else {
            // A poll that outlived an upgrade: its answer is a noop, or nothing that matters.
            return;
        };
        *get = InFlight::Idle;
        if self.phase != Phase::Open {
            self.schedule();
            return;
        }
        match answer {
            Err(()) => self.finish(CloseReason::TransportError, Cause::Driver),
            Ok((200, body, content_type)) => {
                match decode_polling_body(self.info.revision, body, content_type) {
                    Ok(packets) => {
                        for packet in packets {
                            self.on_packet(now, packet);
                            if self.phase != Phase::Open {
                                break;
                            }
                        }
                    }
                    Err(error) => self.finish(CloseReason::ParseError, Cause::Decode(error)),
                }
            }
            Ok((status, _, _)) => self.finish(
                CloseReason::TransportError,
                Cause::Status {
                    request: "poll",
                    status,
                },
            ),
        }
        self.schedule();
    }

    /// The answer to a polling POST: its status, or `Err(())` when the request failed.
    pub fn handle_post_response(&mut self, _now: Instant, answer: Result<u16, ()>) {
        let Active::Polling { post, .. } = &mut self.active else {
            return;
        };
        *post = InFlight::Idle;
        match answer {
            Ok(200) => {}
            // While closing, a failed POST ends the close at once: nothing more can go.
            _ if matches!(self.phase, Phase::Closing { .. }) => {
                self.finish(CloseReason::ForcedClose, Cause::None);
            }
            Ok(status) => self.finish(
                CloseReason::TransportError,
                Cause::Status {
                    request: "post",
                    status,
                },
            ),
            Err(()) => self.finish(CloseReason::TransportError, Cause::Driver),
        }
        self.schedule();
    }

    /// The upgrade's WebSocket opened (`Ok`) or could not be opened.
    pub fn handle_probe_opened(&mut self, now: Instant, opened: Result<(), ()>) {
        let Active::Polling { upgrade, .. } = &mut self.active else {
            return;
        };
        if *upgrade != Upgrade::Opening {
            if opened.is_ok() {
                self.transmits
                    .push_back(Transmit::CloseWebSocket(Link::Probe));
            }
            return;
        }
        match opened {
            Ok(()) if self.phase == Phase::Open => {
                *upgrade = Upgrade::Probing {
                    deadline: now + self.config.probe_timeout,
                };
                self.transmits.push_back(Transmit::Frame {
                    link: Link::Probe,
                    frame: WsFrame::Text("2probe".into()),
                });
            }
            Ok(()) => {
                *upgrade = Upgrade::None;
                self.transmits
                    .push_back(Transmit::CloseWebSocket(Link::Probe));
            }
            Err(()) => *upgrade = Upgrade::None,
        }
    }

    /// A frame arrived on a WebSocket. A message on the main link is returned, borrowing from
    /// the frame (no copy on the hot path); everything else is the machine's business.
    pub fn handle_frame<'f>(
        &mut self,
        now: Instant,
        link: Link,
        frame: FrameRef<'f>,
    ) -> Option<Data<'f>> {
        if self.phase == Phase::Closed {
            return None;
        }
        if link == Link::Probe {
            self.on_probe_frame(frame);
            self.schedule();
            return None;
        }
        let revision = self.info.revision;
        let packet = match frame {
            FrameRef::Text(text) => decode_text_frame(text, revision),
            FrameRef::Binary(bytes) => decode_binary(bytes, revision),
        };
        let message = match packet {
            Ok(Packet::Message(data)) => {
                self.heartbeat.on_traffic(Role::Client, now);
                // A message while closing still reaches the layer above, as before the close.
                Some(data)
            }
            Ok(packet) => {
                self.on_packet(now, packet.into_owned());
                None
            }
            Err(error) => {
                self.finish(CloseReason::ParseError, Cause::Decode(error));
                None
            }
        };
        self.schedule();
        message
    }

    /// A WebSocket ended: the server closed it (`failed` false) or it broke.
    pub fn handle_websocket_closed(&mut self, _now: Instant, link: Link, failed: bool) {
        match link {
            Link::Probe => self.fail_upgrade(false),
            Link::Main if matches!(self.phase, Phase::Closing { .. }) => {
                self.finish(CloseReason::ForcedClose, Cause::None);
            }
            Link::Main if failed => self.finish(CloseReason::TransportError, Cause::Driver),
            Link::Main => self.finish(CloseReason::TransportClose, Cause::None),
        }
        self.schedule();
    }

    /// Writing to the session's transport failed.
    pub fn handle_transport_error(&mut self, _now: Instant) {
        if matches!(self.phase, Phase::Closing { .. }) {
            self.finish(CloseReason::ForcedClose, Cause::None);
        } else {
            self.finish(CloseReason::TransportError, Cause::Driver);
        }
    }

    fn on_probe_frame(&mut self, frame: FrameRef<'_>) {
        let Active::Polling { upgrade, .. } = &mut self.active else {
            return;
        };
        if !matches!(*upgrade, Upgrade::Probing { .. }) {
            return;
        }
        match frame {
            FrameRef::Text("3probe") => *upgrade = Upgrade::Paused,
            _ => self.fail_upgrade(true),
        }
    }

    /// The upgrade failed: the session stays on polling.
    fn fail_upgrade(&mut self, close_probe: bool) {
        let Active::Polling { upgrade, .. } = &mut self.active else {
            return;
        };
        if *upgrade == Upgrade::None {
            return;
        }
        let opened = matches!(*upgrade, Upgrade::Probing { .. } | Upgrade::Paused);
        *upgrade = Upgrade::None;
        if opened && close_probe {
            self.transmits
                .push_back(Transmit::CloseWebSocket(Link::Probe));
        }
        // What waited for the switch goes by POST again.
    }

    fn on_packet(&mut self, now: Instant, packet: Packet<'static>) {
        self.heartbeat.on_traffic(Role::Client, now);
        match packet {
            Packet::Message(data) => self.events.push_back(ClientEvent::Message(data)),
            Packet::Ping(_) => {
                self.heartbeat.on_ping(now);
                if let Some(reply) = reply_to(&packet) {
                    self.output(reply);
                }
            }
            Packet::Pong(_) => {
                self.heartbeat.on_pong(now);
            }
            Packet::Noop => {}
            Packet::Close => self.finish(CloseReason::TransportClose, Cause::None),
            Packet::Open(_) | Packet::Upgrade => self.finish(
                CloseReason::ParseError,
                Cause::Unexpected(packet.packet_type()),
            ),
        }
    }

    /// Sends over the WebSocket when there is one, else queues for the next POST.
    fn output(&mut self, packet: Packet<'static>) {
        match self.active {
            Active::WebSocket => {
                let frame = self.ws_frame(&packet);
                self.transmits.push_back(Transmit::Frame {
                    link: Link::Main,
                    frame,
                });
            }
            Active::Polling { .. } => self.queue.push_back(packet),
        }
    }

    fn ws_frame(&self, packet: &Packet<'_>) -> WsFrame {
        match packet {
            Packet::Message(Data::Binary(bytes)) if !self.config.force_base64 => {
                let mut out = Vec::with_capacity(bytes.len() + 1);
                encode_binary_frame(bytes, self.info.revision, &mut out);
                WsFrame::Binary(out.into())
            }
            _ => {
                let mut out = String::new();
                packet.encode_text_base64(self.info.revision, &mut out);
                WsFrame::Text(out)
            }
        }
    }

    /// Ends the session, once.
    fn finish(&mut self, reason: CloseReason, cause: Cause) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.queue.clear();
        if let Active::Polling { upgrade, .. } = &mut self.active {
            if matches!(*upgrade, Upgrade::Probing { .. } | Upgrade::Paused) {
                self.transmits
                    .push_back(Transmit::CloseWebSocket(Link::Probe));
            }
            *upgrade = Upgrade::None;
        }
        if self.active == Active::WebSocket && reason != CloseReason::TransportClose {
            self.transmits
                .push_back(Transmit::CloseWebSocket(Link::Main));
        }
        self.events.push_back(ClientEvent::Closed(reason, cause));
    }

    /// Decides what polling requests and switches are due now.
    fn schedule(&mut self) {
        match self.phase {
            Phase::Closed => {}
            Phase::Open => self.schedule_open(),
            Phase::Closing { close_sent, .. } => self.schedule_closing(close_sent),
        }
    }

    fn schedule_open(&mut self) {
        let Active::Polling { get, post, upgrade } = self.active else {
            return;
        };
        if upgrade == Upgrade::Paused {
            if get == InFlight::Idle && post == InFlight::Idle {
                self.switch_to_websocket();
            }
            return;
        }
        if get == InFlight::Idle {
            self.set_get(InFlight::Pending);
            self.transmits.push_back(Transmit::Poll);
        }
        if post == InFlight::Idle && !self.queue.is_empty() {
            self.post_batch();
        }
    }

    fn schedule_closing(&mut self, close_sent: bool) {
        match self.active {
            Active::WebSocket => {
                let close = self.ws_frame(&Packet::Close);
                self.transmits.push_back(Transmit::Frame {
                    link: Link::Main,
                    frame: close,
                });
                self.transmits
                    .push_back(Transmit::CloseWebSocket(Link::Main));
                // The driver reports the WebSocket's end (or the deadline passes).
                self.phase = match self.phase {
                    Phase::Closing { deadline, .. } => Phase::Closing {
                        deadline,
                        close_sent: true,
                    },
                    other => other,
                };
                if close_sent {
                    self.finish(CloseReason::ForcedClose, Cause::None);
                }
            }
            Active::Polling { post, .. } => {
                if post == InFlight::Pending {
                    return;
                }
                if close_sent {
                    self.finish(CloseReason::ForcedClose, Cause::None);
                } else if !self.queue.is_empty() {
                    // The messages first, the close packet in a POST of its own once they are
                    // answered: Node's socket.io drops an event read together with the close.
                    self.post_batch();
                } else {
                    self.queue.push_back(Packet::Close);
                    self.post_batch();
                    if let Phase::Closing { deadline, .. } = self.phase {
                        self.phase = Phase::Closing {
                            deadline,
                            close_sent: true,
                        };
                    }
                }
            }
        }
    }

    fn set_get(&mut self, state: InFlight) {
        if let Active::Polling { get, .. } = &mut self.active {
            *get = state;
        }
    }

    /// Posts the head of the queue: at most [`MAX_PACKETS_PER_POST`] packets, and below the
    /// server's `maxPayload` when possible.
    fn post_batch(&mut self) {
        let max_bytes = self
            .info
            .max_payload
            .and_then(|m| usize::try_from(m).ok())
            .unwrap_or(usize::MAX);
        let (mut count, mut size) = (0, 0usize);
        for packet in &self.queue {
            let len = wire_size(packet);
            if count > 0 && (count >= MAX_PACKETS_PER_POST || size.saturating_add(len) > max_bytes)
            {
                break;
            }
            count += 1;
            size = size.saturating_add(len);
        }
        let packets: Vec<Packet<'static>> = self.queue.drain(..count).collect();
        // `send` refuses a text that v4 polling cannot carry; one queued before the session
        // fell back from an upgrade is dropped.
        if let Ok((body, content_type)) =
            encode_polling_body(self.info.revision, &packets, self.config.force_base64)
        {
            if let Active::Polling { post, .. } = &mut self.active {
                *post = InFlight::Pending;
            }
            self.transmits
                .push_back(Transmit::Post { body, content_type });
        }
    }

    fn switch_to_websocket(&mut self) {
        self.transmits.push_back(Transmit::Frame {
            link: Link::Probe,
            frame: WsFrame::Text("5".into()),
        });
        let queued: Vec<_> = self.queue.drain(..).collect();
        for packet in &queued {
            let frame = self.ws_frame(packet);
            self.transmits.push_back(Transmit::Frame {
                link: Link::Probe,
                frame,
            });
        }
        self.transmits.push_back(Transmit::PromoteProbe);
        self.active = Active::WebSocket;
        self.events.push_back(ClientEvent::Upgraded);
    }
}

/// What a client answers to a packet of the server, whatever drives it: a ping gets a pong
/// with the same data (the server pings in v4; a v3 server answers pings and never sends
/// one). Lean clients that keep no session (the load generator) use this alone.
pub fn reply_to(packet: &Packet<'_>) -> Option<Packet<'static>> {
    match packet {
        Packet::Ping(data) => Some(Packet::Pong(data.to_string().into())),
        _ => None,
    }
}

/// About how many bytes a packet takes in a polling body.
fn wire_size(packet: &Packet<'_>) -> usize {
    match packet {
        Packet::Message(Data::Binary(bytes)) => bytes.len().div_ceil(3) * 4 + 3,
        Packet::Message(Data::Text(text)) | Packet::Ping(text) | Packet::Pong(text) => {
            text.len() + 8
        }
        _ => 8,
    }
}
