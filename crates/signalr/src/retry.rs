//! Automatic reconnect policies (the official client's `IRetryPolicy`).

use std::time::Duration;

use crate::error::HubError;

/// What a retry policy is told before each reconnect attempt.
#[derive(Debug)]
pub struct RetryContext<'a> {
    /// Attempts made so far in this reconnect (0 before the first).
    pub previous_retry_count: u32,
    /// Time since the connection was lost.
    pub elapsed_time: Duration,
    /// Why the connection was lost, or why the last attempt failed.
    pub retry_reason: Option<&'a HubError>,
}

/// Decides whether and when to try reconnecting.
pub trait RetryPolicy: Send + Sync {
    /// The delay before the next attempt, or `None` to give up (the connection then closes).
    fn next_retry_delay(&self, context: &RetryContext<'_>) -> Option<Duration>;
}

/// Retries after each delay of a list, then gives up: the official default is 0, 2, 10 and 30
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRetryPolicy {
    delays: Vec<Duration>,
}

impl DefaultRetryPolicy {
    /// The official delays: 0, 2, 10, 30 seconds.
    pub fn new() -> Self {
        Self::with_delays([0, 2, 10, 30].map(Duration::from_secs).to_vec())
    }

    /// Retries after each of `delays`, in order.
    pub fn with_delays(delays: Vec<Duration>) -> Self {
        Self { delays }
    }
}

impl Default for DefaultRetryPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryPolicy for DefaultRetryPolicy {
    fn next_retry_delay(&self, context: &RetryContext<'_>) -> Option<Duration> {
        let index = usize::try_from(context.previous_retry_count).ok()?;
        self.delays.get(index).copied()
    }
}

impl<F> RetryPolicy for F
where
    F: Fn(&RetryContext<'_>) -> Option<Duration> + Send + Sync,
{
    fn next_retry_delay(&self, context: &RetryContext<'_>) -> Option<Duration> {
        self(context)
    }
}
