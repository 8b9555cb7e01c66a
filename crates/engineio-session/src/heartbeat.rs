//! The heartbeat rules of both roles and both revisions, as one small machine.
//!
//! Engine.IO has one side send pings and the other answer them, and which side pings depends
//! on the revision: in v4 the server pings and the client answers; in v3 the client pings and
//! the server answers. So each session has either a [`Heartbeat::Pinger`] (server v4, client
//! v3) or a [`Heartbeat::Watcher`] (server v3, client v4):
//!
//! - a pinger sends a ping every `ping_interval` and gives up when no pong comes within
//!   `ping_timeout` of it;
//! - a watcher expects a ping at least every `ping_interval + ping_timeout`.
//!
//! Deadlines are absolute instants counted from the session's start, so a driver that wakes
//! late never stretches a timeout the peer can observe.

use std::time::{Duration, Instant};

use sio_engineio_proto::Revision;

/// Which side of the connection a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The server: it accepted the handshake.
    Server,
    /// The client: it asked for the handshake.
    Client,
}

/// The two timings a handshake announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// `pingInterval`.
    pub ping_interval: Duration,
    /// `pingTimeout`.
    pub ping_timeout: Duration,
}

/// What a heartbeat asks its session to do when its time comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    /// Nothing yet.
    Wait,
    /// Send a ping now.
    SendPing,
    /// The peer is gone: close with "ping timeout".
    TimedOut,
}

/// Heartbeat state of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heartbeat {
    /// This side sends the pings.
    Pinger {
        /// The timings.
        timing: Timing,
        /// The next ping is due then (while no pong is awaited).
        next_ping: Instant,
        /// A ping is unanswered and the peer is given up on then.
        pong_deadline: Option<Instant>,
    },
    /// This side expects the peer's pings.
    Watcher {
        /// The timings.
        timing: Timing,
        /// The peer is given up on then.
        deadline: Instant,
    },
}

impl Heartbeat {
    /// The heartbeat of a session of this role and revision, opened at `opened`.
    pub fn new(role: Role, revision: Revision, timing: Timing, opened: Instant) -> Self {
        let pings = matches!(
            (role, revision),
            (Role::Server, Revision::V4) | (Role::Client, Revision::V3)
        );
        if pings {
            Heartbeat::Pinger {
                timing,
                next_ping: opened + timing.ping_interval,
                pong_deadline: None,
            }
        } else {
            Heartbeat::Watcher {
                timing,
                deadline: opened + timing.ping_interval + timing.ping_timeout,
            }
        }
    }

    /// Whether this side is the one that sends pings.
    pub fn pings(&self) -> bool {
        matches!(self, Heartbeat::Pinger { .. })
    }

    /// When [`Heartbeat::handle_timeout`] must be called next.
    pub fn poll_timeout(&self) -> Instant {
        match *self {
            Heartbeat::Pinger {
                next_ping,
                pong_deadline,
                ..
            } => pong_deadline.unwrap_or(next_ping),
            Heartbeat::Watcher { deadline, .. } => deadline,
        }
    }

    /// The time has come (or not: a driver may call early, and nothing happens).
    pub fn handle_timeout(&mut self, now: Instant) -> Beat {
        match self {
            Heartbeat::Pinger {
                timing,
                next_ping,
                pong_deadline,
            } => match *pong_deadline {
                Some(deadline) if now >= deadline => Beat::TimedOut,
                Some(_) => Beat::Wait,
                None if now >= *next_ping => {
                    // Counted from when the ping was due, not from when the driver woke. The
                    // ping after it is due an interval later, should traffic stand in for the
                    // pong (see `on_traffic`).
                    *pong_deadline = Some(*next_ping + timing.ping_timeout);
                    *next_ping += timing.ping_interval;
                    Beat::SendPing
                }
                None => Beat::Wait,
            },
            Heartbeat::Watcher { deadline, .. } if now >= *deadline => Beat::TimedOut,
            Heartbeat::Watcher { .. } => Beat::Wait,
        }
    }

    /// A ping arrived. Returns false when this side is the pinger (a ping in the wrong
    /// direction, which a server treats as an error).
    pub fn on_ping(&mut self, now: Instant) -> bool {
        match self {
            Heartbeat::Watcher { timing, deadline } => {
                *deadline = now + timing.ping_interval + timing.ping_timeout;
                true
            }
            Heartbeat::Pinger { .. } => false,
        }
    }

    /// A pong arrived. Returns false when this side is the watcher (a pong in the wrong
    /// direction). As in Node, the next ping is due `ping_interval` after the pong.
    pub fn on_pong(&mut self, now: Instant) -> bool {
        match self {
            Heartbeat::Pinger {
                timing,
                next_ping,
                pong_deadline,
            } => {
                *pong_deadline = None;
                *next_ping = now + timing.ping_interval;
                true
            }
            Heartbeat::Watcher { .. } => false,
        }
    }

    /// Any packet arrived. A client takes every packet as a sign of life (the peer is
    /// there even if its ping is queued behind data); a server counts only heartbeats, as
    /// Node does.
    pub fn on_traffic(&mut self, role: Role, now: Instant) {
        if role != Role::Client {
            return;
        }
        match self {
            Heartbeat::Watcher { timing, deadline } => {
                *deadline = now + timing.ping_interval + timing.ping_timeout;
            }
            Heartbeat::Pinger { pong_deadline, .. } => *pong_deadline = None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMING: Timing = Timing {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
    };

    fn ms(start: Instant, n: u64) -> Instant {
        start + Duration::from_millis(n)
    }

    #[test]
    fn who_pings_depends_on_role_and_revision() {
        let t = Instant::now();
        assert!(Heartbeat::new(Role::Server, Revision::V4, TIMING, t).pings());
        assert!(!Heartbeat::new(Role::Server, Revision::V3, TIMING, t).pings());
        assert!(!Heartbeat::new(Role::Client, Revision::V4, TIMING, t).pings());
        assert!(Heartbeat::new(Role::Client, Revision::V3, TIMING, t).pings());
    }

    #[test]
    fn a_pinger_pings_every_interval_and_gives_up_a_timeout_after_an_unanswered_ping() {
        let t = Instant::now();
        let mut hb = Heartbeat::new(Role::Server, Revision::V4, TIMING, t);
        assert_eq!(hb.poll_timeout(), ms(t, 300));
        assert_eq!(hb.handle_timeout(ms(t, 299)), Beat::Wait);
        // Woken late: the deadline still counts from when the ping was due.
        assert_eq!(hb.handle_timeout(ms(t, 350)), Beat::SendPing);
        assert_eq!(hb.poll_timeout(), ms(t, 500));
        assert!(hb.on_pong(ms(t, 400)));
        assert_eq!(hb.poll_timeout(), ms(t, 700));
        assert_eq!(hb.handle_timeout(ms(t, 700)), Beat::SendPing);
        assert_eq!(hb.handle_timeout(ms(t, 899)), Beat::Wait);
        assert_eq!(hb.handle_timeout(ms(t, 900)), Beat::TimedOut);
    }

    #[test]
    fn a_watcher_waits_interval_plus_timeout_from_the_last_ping() {
        let t = Instant::now();
        let mut hb = Heartbeat::new(Role::Server, Revision::V3, TIMING, t);
        assert_eq!(hb.poll_timeout(), ms(t, 500));
        assert!(hb.on_ping(ms(t, 450)));
        assert_eq!(hb.handle_timeout(ms(t, 500)), Beat::Wait);
        assert_eq!(hb.poll_timeout(), ms(t, 950));
        assert_eq!(hb.handle_timeout(ms(t, 950)), Beat::TimedOut);
    }

    #[test]
    fn heartbeats_in_the_wrong_direction_are_reported() {
        let t = Instant::now();
        let mut pinger = Heartbeat::new(Role::Server, Revision::V4, TIMING, t);
        assert!(!pinger.on_ping(t));
        let mut watcher = Heartbeat::new(Role::Server, Revision::V3, TIMING, t);
        assert!(!watcher.on_pong(t));
    }

    #[test]
    fn a_client_counts_any_traffic_and_a_server_only_heartbeats() {
        let t = Instant::now();
        let mut client = Heartbeat::new(Role::Client, Revision::V4, TIMING, t);
        client.on_traffic(Role::Client, ms(t, 400));
        assert_eq!(client.poll_timeout(), ms(t, 900));
        let mut server = Heartbeat::new(Role::Server, Revision::V3, TIMING, t);
        server.on_traffic(Role::Server, ms(t, 400));
        assert_eq!(server.poll_timeout(), ms(t, 500));
        // A v3 client's unanswered ping is answered by any packet.
        let mut v3 = Heartbeat::new(Role::Client, Revision::V3, TIMING, t);
        assert_eq!(v3.handle_timeout(ms(t, 300)), Beat::SendPing);
        v3.on_traffic(Role::Client, ms(t, 310));
        assert_eq!(v3.poll_timeout(), ms(t, 600));
        assert_eq!(v3.handle_timeout(ms(t, 310)), Beat::Wait);
        assert_eq!(v3.handle_timeout(ms(t, 600)), Beat::SendPing);
    }
}
