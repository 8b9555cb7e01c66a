//! One timer per engine for every session's heartbeat.
//!
//! A task per session (what this replaced) costs about 0.6 KB of memory per connection and a
//! wake-up per deadline; here a session is one entry in a heap, and one task sleeps until the
//! earliest deadline. Entries are never moved: each session remembers the one deadline it has
//! filed (see `Socket::on_timer`), an entry that no longer matches it is stale and is dropped
//! when it comes up, and a deadline that moves earlier (a pong, when `ping_timeout` exceeds
//! `ping_interval`) is filed anew.

use std::{
    cmp::Reverse,
    collections::BinaryHeap,
    panic::AssertUnwindSafe,
    sync::{Arc, Mutex, MutexGuard, Weak},
    time::Instant,
};

use tokio::{sync::Notify, task::JoinHandle};

use crate::sid::Sid;

/// Where a timer finds its sessions.
pub(crate) trait Sessions: Send + Sync + 'static {
    /// Fires the timer entry `(sid, at)`; returns the session's next deadline to file, if any.
    fn fire(&self, sid: Sid, at: Instant) -> Option<Instant>;
}

type Deadlines = BinaryHeap<Reverse<(Instant, Sid)>>;

/// The deadlines of an engine's sessions.
#[derive(Debug, Default)]
pub(crate) struct Timer {
    deadlines: Mutex<Deadlines>,
    /// Wakes the task when a deadline earlier than all others is filed, or the engine is gone.
    earlier: Notify,
    /// The task, started with the first session inside a runtime, and started again if that
    /// runtime ended (an engine shared by several runtimes, as tests do).
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, Deadlines> {
        self.deadlines.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Files a session's deadline, starting the timer task when none runs.
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
        let mut task = self.task.lock().unwrap_or_else(|e| e.into_inner());
        if task.as_ref().is_none_or(JoinHandle::is_finished) {
            *task = Some(tokio::spawn(run(self.clone(), sessions.clone())));
        } else if earliest {
            self.earlier.notify_one();
        }
    }

    /// Ends the task (the engine is gone).
    pub(crate) fn stop(&self) {
        self.earlier.notify_one();
    }

    /// Takes the entries due at `now`, or tells when the next one is.
    fn due(&self, now: Instant) -> Result<Vec<(Instant, Sid)>, Option<Instant>> {
        let mut deadlines = self.lock();
        let mut due = Vec::new();
        while let Some(Reverse((at, sid))) = deadlines.peek().copied() {
            if at > now {
                break;
            }
            deadlines.pop();
            due.push((at, sid));
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
                for (at, sid) in due {
                    // A session's close runs the application's handler: its panic must not end
                    // every other session's heartbeat.
                    match std::panic::catch_unwind(AssertUnwindSafe(|| engine.fire(sid, at))) {
                        Ok(Some(next)) => timer.lock().push(Reverse((next, sid))),
                        Ok(None) => {}
                        Err(_) => tracing::error!(%sid, "panic while firing a session's timer"),
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
