//! One timer per engine for every session's heartbeat.
//!
//! A task per session (what this replaced) costs about 0.6 KB of memory per connection and a
//! wake-up per deadline; here a session is one entry in a heap, and one task sleeps until the
//! earliest deadline. Entries are never moved: when a session's deadline changes (a pong
//! postpones the next ping), its old entry fires early, the machine finds nothing due
//! (`handle_timeout` is harmless when early) and the session is filed again under its real
//! deadline. Heartbeat deadlines only ever move later, so no entry has to be pulled forward.

use std::{
    cmp::Reverse,
    collections::BinaryHeap,
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Instant,
};

use tokio::sync::Notify;

use crate::sid::Sid;

/// Where a timer finds its sessions.
pub(crate) trait Sessions: Send + Sync + 'static {
    /// Fires the session's timer, if it still exists; returns its next deadline.
    fn fire(&self, sid: Sid) -> Option<Instant>;
}

/// The deadlines of an engine's sessions.
#[derive(Debug, Default)]
pub(crate) struct Timer {
    deadlines: Mutex<BinaryHeap<Reverse<(Instant, Sid)>>>,
    /// Wakes the task when a deadline earlier than all others is filed.
    earlier: Notify,
    /// Whether the task runs (started with the first session, inside the runtime).
    started: AtomicBool,
}

impl Timer {
    fn lock(&self) -> std::sync::MutexGuard<'_, BinaryHeap<Reverse<(Instant, Sid)>>> {
        self.deadlines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Files a session's deadline, starting the timer task on first use.
    pub(crate) fn schedule<S: Sessions>(
        self: &Arc<Self>,
        at: Instant,
        sid: Sid,
        sessions: &Weak<S>,
    ) {
        let earliest = {
            let mut deadlines = self.lock();
            let earliest = deadlines
                .peek()
                .is_none_or(|Reverse((first, _))| at < *first);
            deadlines.push(Reverse((at, sid)));
            earliest
        };
        if !self.started.swap(true, Ordering::AcqRel) {
            tokio::spawn(run(self.clone(), sessions.clone()));
        } else if earliest {
            self.earlier.notify_one();
        }
    }

    /// Ends the task (the engine is gone).
    pub(crate) fn stop(&self) {
        self.earlier.notify_one();
    }

    /// Takes the entries due at `now`, or tells when the next one is.
    fn due(&self, now: Instant) -> Result<Vec<Sid>, Option<Instant>> {
        let mut deadlines = self.lock();
        let mut due = Vec::new();
        while let Some(Reverse((at, sid))) = deadlines.peek().copied() {
            if at > now {
                break;
            }
            deadlines.pop();
            due.push(sid);
        }
        if due.is_empty() {
            Err(deadlines.peek().map(|Reverse((at, _))| *at))
        } else {
            Ok(due)
        }
    }
}

/// The timer task: holds the engine only while it fires, so it ends with the engine.
async fn run<S: Sessions>(timer: Arc<Timer>, sessions: Weak<S>) {
    loop {
        let earlier = timer.earlier.notified();
        match timer.due(crate::socket::now()) {
            Ok(due) => {
                let Some(engine) = sessions.upgrade() else {
                    return;
                };
                for sid in due {
                    if let Some(next) = engine.fire(sid) {
                        timer.lock().push(Reverse((next, sid)));
                    }
                }
            }
            Err(next) => {
                match next {
                    Some(at) => {
                        let at = tokio::time::Instant::from_std(at);
                        tokio::select! {
                            () = tokio::time::sleep_until(at) => {}
                            () = earlier => {}
                        }
                    }
                    None => earlier.await,
                }
                if sessions.strong_count() == 0 {
                    return;
                }
            }
        }
    }
}
