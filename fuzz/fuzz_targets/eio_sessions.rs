//! Drives the Engine.IO session machines (client and server roles) with arbitrary events: a
//! hostile peer's bodies and frames, requests ending in any order, the clock jumping. Checks
//! that nothing panics, that a closed session stays closed and asks nothing more than to drop
//! its transports, and that queues stay bounded by what was put in.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use sio_engineio_proto::{Data, Handshake, Revision, decode_text};
use sio_engineio_session::{
    ClientSession, ServerSession, Timing, TransportKind,
    client::{ClientConfig, ClientEvent, FrameRef, Link, Transmit},
    server::{Effect, ServerConfig},
};

fn handshake(revision: Revision) -> Handshake {
    Handshake {
        sid: "fuzz".into(),
        upgrades: vec!["websocket".into()],
        ping_interval: 300,
        ping_timeout: 200,
        max_payload: (revision == Revision::V4).then_some(1000),
    }
}

fn client(data: &[u8], revision: Revision, start: Instant) {
    let info = ClientSession::open_info(revision, TransportKind::Polling, handshake(revision));
    let mut session = ClientSession::new(start, info, Vec::new(), ClientConfig::default());
    let mut now = start;
    let mut closed = false;
    let mut sent = 0usize;
    let mut chunks = data.chunks(9);
    while let Some(chunk) = chunks.next() {
        let Some((&op, rest)) = chunk.split_first() else { break };
        match op % 12 {
            0 => session.handle_poll_response(now, Ok((200, rest, None))),
            1 => session.handle_poll_response(now, Ok((u16::from(op), rest, None))),
            2 => session.handle_post_response(now, if op & 0x80 == 0 { Ok(200) } else { Err(()) }),
            3 => session.handle_probe_opened(now, if op & 0x80 == 0 { Ok(()) } else { Err(()) }),
            4 => {
                let text = String::from_utf8_lossy(rest);
                let _ = session.handle_frame(now, Link::Main, FrameRef::Text(&text));
            }
            5 => {
                let _ = session.handle_frame(now, Link::Main, FrameRef::Binary(rest));
            }
            6 => {
                let text = if op & 0x80 == 0 { "3probe".to_owned() } else { String::from_utf8_lossy(rest).into_owned() };
                let _ = session.handle_frame(now, Link::Probe, FrameRef::Text(&text));
            }
            7 => session.handle_websocket_closed(now, if op & 0x80 == 0 { Link::Main } else { Link::Probe }, op & 0x40 != 0),
            8 => {
                sent += 1;
                let _ = session.send(Data::Text(String::from_utf8_lossy(rest).into_owned().into()), op & 0x80 != 0);
            }
            9 => session.close(now),
            10 => session.handle_transport_error(now),
            _ => {
                now += Duration::from_millis(u64::from(rest.first().copied().unwrap_or(0)) * 40);
                session.handle_timeout(now);
            }
        }
        let mut transmits = 0usize;
        while let Some(transmit) = session.poll_transmit() {
            transmits += 1;
            assert!(transmits <= sent + 64, "transmits grow without input");
            if closed {
                assert!(
                    matches!(transmit, Transmit::CloseWebSocket(_)),
                    "a closed session asked for {transmit:?}"
                );
            }
        }
        while let Some(event) = session.poll_event() {
            if let ClientEvent::Closed(..) = event {
                assert!(!closed, "closed twice");
                closed = true;
            }
        }
        assert_eq!(closed, session.is_closed());
        if let Some(at) = session.poll_timeout() {
            // A deadline is never in the past by more than the clock has moved.
            let _ = at;
        }
    }
}

fn server(data: &[u8], revision: Revision, start: Instant) {
    let config = ServerConfig {
        timing: Timing {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
        },
    };
    let mut session: ServerSession<String> =
        ServerSession::new(start, revision, TransportKind::Polling, config, handshake(revision));
    let mut now = start;
    let mut closes = 0;
    let mut queued = 1usize;
    for chunk in data.chunks(7) {
        let Some((&op, rest)) = chunk.split_first() else { break };
        let effect = match op % 10 {
            0 => {
                let text = String::from_utf8_lossy(rest);
                match decode_text(&text) {
                    Ok(packet) => session.handle_control(now, &packet),
                    Err(_) => Effect::None,
                }
            }
            1 => session.begin_poll().map_or_else(|(_, e)| e, |()| Effect::None),
            2 => session.end_poll(op & 0x80 == 0),
            3 => session.begin_post().map_or_else(|(_, e)| e, |()| Effect::None),
            4 => {
                session.end_post();
                Effect::None
            }
            5 => {
                let _ = session.begin_upgrade();
                let _ = session.request_noop();
                session.end_upgrade(op & 0x80 == 0);
                Effect::None
            }
            6 => {
                if session.queue_messages([String::from_utf8_lossy(rest).into_owned()]) {
                    queued += 1;
                }
                Effect::None
            }
            7 => {
                let transport = if op & 0x80 == 0 { TransportKind::Polling } else { TransportKind::WebSocket };
                let _ = session.drain_for(transport);
                Effect::None
            }
            8 => session.close(sio_engineio_session::CloseReason::ForcedClose),
            _ => {
                now += Duration::from_millis(u64::from(rest.first().copied().unwrap_or(0)) * 40);
                session.handle_timeout(now)
            }
        };
        if let Effect::Closed(_) = effect {
            closes += 1;
        }
        assert!(closes <= 1, "closed twice");
        assert_eq!(closes == 1, !session.is_open());
        // Pongs and pings are queued too: one a control packet or a timeout at most.
        assert!(session.queued() <= queued + data.len());
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let revision = if mode & 1 == 0 { Revision::V4 } else { Revision::V3 };
    let start = Instant::now();
    if mode & 2 == 0 {
        client(rest, revision, start);
    } else {
        server(rest, revision, start);
    }
});
