//! A client machine and a server machine wired together in memory, with a manual clock: every
//! timing rule of a session, for both revisions, without a socket or a runtime (the shape of
//! quinn-proto's `Pair`).
// Test helpers outside `#[test]` functions are not covered by clippy.toml's test allowances.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::time::{Duration, Instant};

use sio_engineio_proto::{Data, Handshake, Packet, Revision, decode_text_frame, payload};
use sio_engineio_session::{
    CloseReason, ServerSession, Timing, TransportKind,
    client::{ClientConfig, ClientEvent, FrameRef, Link, Transmit, WsFrame},
    handshake::{HandshakeOutcome, read_polling_answer},
    server::{Drained, Effect, Outgoing, ProbeStep, ServerConfig, probe_step},
};

const TIMING: Timing = Timing {
    ping_interval: Duration::from_millis(300),
    ping_timeout: Duration::from_millis(200),
};

fn encode_body(revision: Revision, packets: &[Outgoing<String>]) -> Vec<u8> {
    let packets: Vec<_> = packets.iter().map(Outgoing::to_packet).collect();
    match revision {
        Revision::V4 => {
            let mut out = String::new();
            payload::encode_v4(&packets, &mut out).unwrap();
            out.into_bytes()
        }
        Revision::V3 => payload::encode_v3(&packets, true).into_bytes(),
    }
}

struct Pair {
    start: Instant,
    now: Instant,
    server: ServerSession<String>,
    client: sio_engineio_session::ClientSession,
    /// A GET the client started and the server holds.
    pending_poll: bool,
    /// Polling bodies the client posted, answered already.
    posts: usize,
    /// The upgrade's WebSocket is open (server side probing), and whether it answered 3probe.
    probe: Option<bool>,
    /// What the client told the layer above.
    events: Vec<ClientEvent>,
    /// What reached the server's layer above.
    received: Vec<String>,
    /// Frames the client wrote on its main WebSocket.
    server_closed: Option<CloseReason>,
    /// Answer probes (false: let the probe time out).
    answer_probes: bool,
}

impl Pair {
    /// A session opened over polling: the server's handshake answer read by the client.
    fn polling(revision: Revision, upgrades: &[&str], config: ClientConfig) -> Pair {
        let start = Instant::now();
        let handshake = Handshake {
            sid: "sid1".into(),
            upgrades: upgrades.iter().map(|u| u.to_string()).collect(),
            ping_interval: 300,
            ping_timeout: 200,
            max_payload: (revision == Revision::V4).then_some(1_000_000),
        };
        let mut server = ServerSession::new(
            start,
            revision,
            TransportKind::Polling,
            ServerConfig { timing: TIMING },
            handshake,
        );
        // The handshake GET.
        server.begin_poll().unwrap();
        let Drained::Packets(open) = server.drain_for(TransportKind::Polling) else {
            panic!("no open packet")
        };
        assert_eq!(server.end_poll(true), Effect::None);
        let body = encode_body(revision, &open);
        let Ok(HandshakeOutcome::Opened {
            revision: seen,
            handshake,
            rest,
        }) = read_polling_answer(Revision::V4, false, 200, &body, None)
        else {
            panic!("handshake not read")
        };
        assert_eq!(seen, revision);
        let info =
            sio_engineio_session::ClientSession::open_info(seen, TransportKind::Polling, handshake);
        let client = sio_engineio_session::ClientSession::new(start, info, rest, config);
        Pair {
            start,
            now: start,
            server,
            client,
            pending_poll: false,
            posts: 0,
            probe: None,
            events: Vec::new(),
            received: Vec::new(),
            server_closed: None,
            answer_probes: true,
        }
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    fn server_effect(&mut self, effect: Effect) {
        if let Effect::Closed(reason) = effect {
            self.server_closed.get_or_insert(reason);
        }
    }

    /// Delivers client packets to the server as its driver would.
    fn server_receives(&mut self, packet: Packet<'_>) {
        if ServerSession::<String>::is_stateless(&packet) {
            if let Packet::Message(Data::Text(text)) = packet
                && self.server.is_open()
            {
                self.received.push(text.into_owned());
            }
            return;
        }
        let effect = self.server.handle_control(self.now, &packet);
        self.server_effect(effect);
    }

    /// The server answers the pending poll if it has something for it.
    fn answer_poll(&mut self) {
        if !self.pending_poll {
            return;
        }
        let (packets, last) = match self.server.drain_for(TransportKind::Polling) {
            Drained::Nothing => return,
            Drained::Superseded => (Vec::new(), Some(Outgoing::Noop)),
            Drained::Packets(packets) => (packets, None),
            Drained::Closed {
                packets,
                client_closed,
            } => (
                packets,
                Some(if client_closed {
                    Outgoing::Noop
                } else {
                    Outgoing::Close
                }),
            ),
        };
        let mut packets = packets;
        packets.extend(last);
        let effect = self.server.end_poll(true);
        self.server_effect(effect);
        self.pending_poll = false;
        let body = encode_body(self.server.revision(), &packets);
        self.client
            .handle_poll_response(self.now, Ok((200, &body, None)));
    }

    /// Runs both machines until neither has anything to do at this instant.
    fn settle(&mut self) {
        for _ in 0..100 {
            let mut progressed = false;
            while let Some(transmit) = self.client.poll_transmit() {
                progressed = true;
                self.carry(transmit);
            }
            while let Some(event) = self.client.poll_event() {
                progressed = true;
                self.events.push(event);
            }
            if self.pending_poll && !matches!(self.server.drain_for_peek(), Peek::Nothing) {
                self.answer_poll();
                progressed = true;
            }
            if !progressed {
                return;
            }
        }
        panic!("the machines do not settle");
    }

    fn carry(&mut self, transmit: Transmit) {
        match transmit {
            Transmit::Poll => {
                self.server.begin_poll().unwrap();
                self.pending_poll = true;
            }
            Transmit::Post { body, .. } => {
                self.server.begin_post().unwrap();
                let packets: Vec<_> = match self.server.revision() {
                    Revision::V4 => payload::decode_v4(&body).collect::<Result<_, _>>().unwrap(),
                    Revision::V3 => payload::decode_v3_string(&body)
                        .collect::<Result<_, _>>()
                        .unwrap(),
                };
                for packet in packets {
                    self.server_receives(packet);
                }
                self.server.end_post();
                self.posts += 1;
                self.client.handle_post_response(self.now, Ok(200));
            }
            Transmit::OpenProbe => {
                let may = self.server.begin_upgrade();
                assert!(may, "the server refused the upgrade");
                self.probe = Some(false);
                self.client.handle_probe_opened(self.now, Ok(()));
            }
            Transmit::Frame {
                link: Link::Probe,
                frame: WsFrame::Text(text),
            } => {
                let probed = self.probe.unwrap_or(false);
                let packet = decode_text_frame(&text, self.server.revision()).unwrap();
                match (self.probe.is_some(), probe_step(probed, &packet)) {
                    (true, ProbeStep::AnswerProbe) if self.answer_probes => {
                        self.probe = Some(true);
                        // The server writes 3probe, then releases the pending poll.
                        self.client
                            .handle_frame(self.now, Link::Probe, FrameRef::Text("3probe"));
                        if self.server.request_noop() {
                            // The driver wakes the pending poll: it answers a noop.
                            self.answer_poll();
                        }
                    }
                    (true, ProbeStep::AnswerProbe) => {}
                    (true, ProbeStep::Upgraded) => {
                        self.server.end_upgrade(true);
                        // The pending poll, woken, finds itself superseded.
                        self.answer_poll();
                    }
                    // After the upgrade, the probe link carries data until promoted.
                    _ => self.server_receives(packet),
                }
            }
            Transmit::Frame { link, frame } => {
                assert!(link == Link::Main || self.probe.is_some());
                let WsFrame::Text(text) = frame else {
                    panic!("binary frame in a text test")
                };
                let packet = decode_text_frame(&text, self.server.revision()).unwrap();
                self.server_receives(packet.into_owned());
            }
            Transmit::PromoteProbe => {
                self.probe = None;
            }
            Transmit::CloseWebSocket(Link::Probe) => {
                self.probe = None;
                self.server.end_upgrade(false);
            }
            Transmit::CloseWebSocket(Link::Main) => {
                let effect = self.server.close(CloseReason::TransportClose);
                self.server_effect(effect);
                self.client
                    .handle_websocket_closed(self.now, Link::Main, false);
            }
        }
    }

    /// Moves the clock to `ms` after the start, firing both machines' timers on the way, in
    /// order.
    fn advance_to(&mut self, ms: u64) {
        let target = self.at(ms);
        loop {
            self.settle();
            let next = [self.client.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .filter(|t| *t <= target)
                .min();
            let Some(next) = next else { break };
            self.now = next.max(self.now);
            self.client.handle_timeout(self.now);
            let effect = self.server.handle_timeout(self.now);
            self.server_effect(effect);
        }
        self.now = target;
        self.settle();
    }

    /// WebSocket frames the server writes go straight to the client (for upgraded sessions).
    fn server_writes_websocket(&mut self) {
        if let Drained::Packets(packets) = self.server.drain_for(TransportKind::WebSocket) {
            for packet in &packets {
                let mut text = String::new();
                packet.to_packet().encode_text(&mut text).unwrap();
                if let Some(Data::Text(message)) =
                    self.client
                        .handle_frame(self.now, Link::Main, FrameRef::Text(&text))
                {
                    self.events.push(ClientEvent::Message(Data::Text(
                        message.into_owned().into(),
                    )));
                }
            }
        }
    }

    fn closed_reason(&self) -> Option<CloseReason> {
        self.events.iter().find_map(|e| match e {
            ClientEvent::Closed(reason, _) => Some(*reason),
            _ => None,
        })
    }

    fn messages(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|e| match e {
                ClientEvent::Message(Data::Text(text)) => Some(text.to_string()),
                _ => None,
            })
            .collect()
    }
}

/// Whether the server has something for a pending poll, without taking it.
enum Peek {
    Nothing,
    Something,
}

trait PeekExt {
    fn drain_for_peek(&self) -> Peek;
}

impl PeekExt for ServerSession<String> {
    fn drain_for_peek(&self) -> Peek {
        if self.queued() > 0 || !self.is_open() || self.transport() != TransportKind::Polling {
            Peek::Something
        } else {
            Peek::Nothing
        }
    }
}

fn no_upgrade() -> ClientConfig {
    ClientConfig {
        upgrade: false,
        ..ClientConfig::default()
    }
}

#[test]
fn v4_the_server_pings_over_polling_and_the_clients_pong_keeps_the_session() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.advance_to(299);
    assert_eq!(pair.posts, 0, "nothing to post before the first ping");
    pair.advance_to(300);
    assert_eq!(pair.posts, 1, "the pong went by POST at once");
    // Many intervals later, the session is alive on both sides.
    pair.advance_to(5_000);
    assert_eq!(pair.server_closed, None);
    assert_eq!(pair.closed_reason(), None);
    assert!(pair.posts >= 15);
}

#[test]
fn v4_a_server_that_stops_pinging_is_given_up_after_interval_plus_timeout() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.advance_to(100);
    // The server's driver stops writing: its heartbeat is never fired again.
    let silent_from = pair.now;
    loop {
        pair.settle();
        let Some(at) = pair.client.poll_timeout() else {
            break;
        };
        pair.now = at;
        pair.client.handle_timeout(at);
        while let Some(event) = pair.client.poll_event() {
            pair.events.push(event);
        }
        if pair.client.is_closed() {
            break;
        }
    }
    assert_eq!(pair.closed_reason(), Some(CloseReason::PingTimeout));
    // Counted from the open (the last traffic), not from when the server fell silent.
    assert_eq!(pair.now, pair.at(500));
    assert!(pair.now >= silent_from);
}

#[test]
fn v4_a_client_that_never_pongs_is_closed_by_the_server_with_ping_timeout() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    // Fire only the server's timer: the client never answers.
    let mut now = pair.start;
    while pair.server.is_open() {
        now = pair.server.poll_timeout().unwrap();
        let effect = pair.server.handle_timeout(now);
        pair.server_effect(effect);
    }
    assert_eq!(pair.server_closed, Some(CloseReason::PingTimeout));
    // The ping was due at 300; the pong was awaited until 500.
    assert_eq!(now, pair.at(500));
    // A ping-timed-out session delivers nothing more.
    assert!(matches!(
        pair.server.drain_for(TransportKind::Polling),
        Drained::Closed { ref packets, .. } if packets.is_empty()
    ));
}

#[test]
fn v3_the_client_pings_and_the_server_answers() {
    let mut pair = Pair::polling(Revision::V3, &[], no_upgrade());
    pair.advance_to(300);
    assert_eq!(pair.posts, 1, "the client's first ping");
    pair.advance_to(3_000);
    assert_eq!(pair.server_closed, None);
    assert_eq!(pair.closed_reason(), None);
}

#[test]
fn v3_a_silent_client_is_given_up_by_the_server_after_interval_plus_timeout() {
    let mut pair = Pair::polling(Revision::V3, &[], no_upgrade());
    assert_eq!(pair.server.poll_timeout(), Some(pair.at(500)));
    assert_eq!(pair.server.handle_timeout(pair.at(499)), Effect::None);
    assert_eq!(
        pair.server.handle_timeout(pair.at(500)),
        Effect::Closed(CloseReason::PingTimeout)
    );
}

#[test]
fn heartbeats_in_the_wrong_direction_close_the_server_session() {
    let mut v4 = Pair::polling(Revision::V4, &[], no_upgrade());
    let effect = v4.server.handle_control(v4.now, &Packet::Ping("".into()));
    assert_eq!(effect, Effect::Closed(CloseReason::TransportError));
    let mut v3 = Pair::polling(Revision::V3, &[], no_upgrade());
    let effect = v3.server.handle_control(v3.now, &Packet::Pong("".into()));
    assert_eq!(effect, Effect::Closed(CloseReason::TransportError));
}

#[test]
fn messages_both_ways_over_polling_in_order() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.settle();
    for i in 0..40 {
        pair.client
            .send(Data::Text(format!("c{i}").into()), false)
            .unwrap();
    }
    pair.server.queue_messages((0..3).map(|i| format!("s{i}")));
    pair.settle();
    let expected: Vec<_> = (0..40).map(|i| format!("c{i}")).collect();
    assert_eq!(pair.received, expected);
    // The first message goes at once; the 39 queued meanwhile go 16 at most a POST.
    assert_eq!(pair.posts, 4);
    assert_eq!(pair.messages(), ["s0", "s1", "s2"]);
}

#[test]
fn a_volatile_message_is_dropped_while_a_post_is_in_flight() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.settle();
    pair.client.send(Data::Text("first".into()), false).unwrap();
    // The POST is transmitted but not carried yet.
    pair.client
        .send(Data::Text("dropped".into()), true)
        .unwrap();
    pair.settle();
    assert_eq!(pair.received, ["first"]);
}

#[test]
fn a_record_separator_cannot_be_sent_over_v4_polling() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    assert!(
        pair.client
            .send(Data::Text("a\u{1e}4forged".into()), false)
            .is_err()
    );
}

#[test]
fn the_upgrade_pauses_polling_and_sends_what_waited_after_the_switch_in_order() {
    let mut pair = Pair::polling(Revision::V4, &["websocket"], ClientConfig::default());
    pair.settle();
    assert!(
        pair.events.contains(&ClientEvent::Upgraded),
        "{:?}",
        pair.events
    );
    assert_eq!(pair.client.transport(), TransportKind::WebSocket);
    assert_eq!(pair.server.transport(), TransportKind::WebSocket);
    // The polling transport is superseded: a poll now gets a noop at once.
    assert_eq!(
        pair.server.drain_for(TransportKind::Polling),
        Drained::Superseded
    );
    pair.client
        .send(Data::Text("over ws".into()), false)
        .unwrap();
    pair.settle();
    assert_eq!(pair.received, ["over ws"]);
    pair.server.queue_messages(["to client".to_string()]);
    pair.server_writes_websocket();
    pair.settle();
    assert_eq!(pair.messages(), ["to client"]);
}

#[test]
fn messages_sent_while_the_upgrade_is_paused_wait_for_the_websocket() {
    let mut pair = Pair::polling(Revision::V4, &["websocket"], ClientConfig::default());
    // Start: the client asks for a poll and for the probe.
    let mut transmits = Vec::new();
    while let Some(t) = pair.client.poll_transmit() {
        transmits.push(t);
    }
    assert_eq!(transmits, [Transmit::OpenProbe, Transmit::Poll]);
    pair.server.begin_poll().unwrap();
    pair.pending_poll = true;
    assert!(pair.server.begin_upgrade());
    pair.probe = Some(false);
    pair.client.handle_probe_opened(pair.now, Ok(()));
    // 2probe → 3probe: the client pauses, but its poll is still held by the server.
    let probe = pair.client.poll_transmit().unwrap();
    assert!(matches!(
        probe,
        Transmit::Frame {
            link: Link::Probe,
            ..
        }
    ));
    pair.client
        .handle_frame(pair.now, Link::Probe, FrameRef::Text("3probe"));
    pair.client
        .send(Data::Text("waited".into()), false)
        .unwrap();
    assert_eq!(
        pair.client.poll_transmit(),
        None,
        "nothing goes while paused"
    );
    // The server releases the poll with a noop; then the client switches.
    assert!(pair.server.request_noop());
    pair.answer_poll();
    let switch: Vec<_> = std::iter::from_fn(|| pair.client.poll_transmit()).collect();
    assert_eq!(
        switch,
        [
            Transmit::Frame {
                link: Link::Probe,
                frame: WsFrame::Text("5".into())
            },
            Transmit::Frame {
                link: Link::Probe,
                frame: WsFrame::Text("4waited".into())
            },
            Transmit::PromoteProbe,
        ]
    );
}

#[test]
fn a_probe_without_answer_times_out_and_the_session_stays_on_polling() {
    let mut pair = Pair::polling(Revision::V4, &["websocket"], ClientConfig::default());
    pair.answer_probes = false;
    pair.settle();
    assert_eq!(pair.client.transport(), TransportKind::Polling);
    // The probe deadline (10 s) passes; the heartbeat keeps going meanwhile.
    pair.advance_to(10_001);
    assert_eq!(pair.probe, None, "the probe WebSocket was closed");
    assert_eq!(pair.server.transport(), TransportKind::Polling);
    assert_eq!(pair.closed_reason(), None);
    pair.client
        .send(Data::Text("by post".into()), false)
        .unwrap();
    pair.settle();
    assert_eq!(pair.received, ["by post"]);
}

#[test]
fn a_second_upgrade_or_an_overlapping_poll_is_refused() {
    let mut pair = Pair::polling(Revision::V4, &["websocket"], no_upgrade());
    assert!(pair.server.begin_upgrade());
    assert!(!pair.server.begin_upgrade());
    pair.server.begin_poll().unwrap();
    let Err((_, effect)) = pair.server.begin_poll() else {
        panic!("overlap accepted")
    };
    assert_eq!(effect, Effect::Closed(CloseReason::TransportError));
}

#[test]
fn the_clients_close_posts_the_queue_first_then_the_close_packet_alone() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.settle();
    pair.client
        .send(Data::Text("last words".into()), false)
        .unwrap();
    pair.client.close(pair.now);
    pair.settle();
    assert_eq!(pair.received, ["last words"]);
    assert_eq!(pair.server_closed, Some(CloseReason::TransportClose));
    assert_eq!(pair.posts, 2, "the message and the close in two POSTs");
    assert_eq!(pair.closed_reason(), Some(CloseReason::ForcedClose));
    // The server answers the client's pending poll with a noop, once.
    assert!(!pair.server.awaits_final_poll() || !pair.pending_poll);
}

#[test]
fn a_close_that_the_server_never_answers_ends_at_the_close_timeout() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.settle();
    pair.client.send(Data::Text("x".into()), false).unwrap();
    // The POST goes out but is never answered.
    let post = pair.client.poll_transmit();
    assert!(matches!(post, Some(Transmit::Post { .. })));
    pair.client.close(pair.now);
    let deadline = pair.client.poll_timeout().unwrap();
    assert_eq!(deadline, pair.now + Duration::from_secs(5));
    pair.client.handle_timeout(deadline);
    let closed: Vec<_> = std::iter::from_fn(|| pair.client.poll_event()).collect();
    assert!(closed.contains(&ClientEvent::Closed(
        CloseReason::ForcedClose,
        sio_engineio_session::client::Cause::None
    )));
}

#[test]
fn a_server_close_flushes_the_queue_and_the_close_packet_comes_with_the_next_poll() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.server.queue_messages(["bye".to_string()]);
    let effect = pair.server.close(CloseReason::ForcedClose);
    assert_eq!(effect, Effect::Closed(CloseReason::ForcedClose));
    assert_eq!(pair.server.close(CloseReason::ForcedClose), Effect::None);
    assert!(pair.server.awaits_final_poll());
    assert!(!pair.server.queue(Outgoing::Message("late".into())));
    pair.settle();
    assert_eq!(pair.messages(), ["bye"]);
    assert_eq!(pair.closed_reason(), Some(CloseReason::TransportClose));
}

#[test]
fn a_poll_abandoned_by_the_client_is_a_transport_error() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    pair.server.begin_poll().unwrap();
    assert_eq!(
        pair.server.end_poll(false),
        Effect::Closed(CloseReason::TransportError)
    );
}

#[test]
fn a_poll_answered_with_an_error_status_closes_the_client_with_its_cause() {
    let mut pair = Pair::polling(Revision::V4, &[], no_upgrade());
    assert_eq!(pair.client.poll_transmit(), Some(Transmit::Poll));
    pair.client
        .handle_poll_response(pair.now, Ok((400, b"{}", None)));
    let events: Vec<_> = std::iter::from_fn(|| pair.client.poll_event()).collect();
    assert_eq!(
        events,
        [ClientEvent::Closed(
            CloseReason::TransportError,
            sio_engineio_session::client::Cause::Status {
                request: "poll",
                status: 400
            }
        )]
    );
    assert_eq!(pair.client.poll_timeout(), None);
}
