//! Exponential backoff with jitter, as the JavaScript client computes it.

use std::time::Duration;

use crate::options::Reconnection;

#[derive(Debug, Clone)]
pub(crate) struct Backoff {
    min_ms: f64,
    max_ms: f64,
    jitter: f64,
    pub(crate) attempts: u32,
}

impl Backoff {
    pub(crate) fn new(options: &Reconnection) -> Self {
        Self {
            min_ms: options.delay.as_secs_f64() * 1000.0,
            max_ms: options.delay_max.as_secs_f64() * 1000.0,
            jitter: options.randomization_factor.clamp(0.0, 1.0),
            attempts: 0,
        }
    }

    /// The delay before the next attempt, given a random number in `[0, 1)`.
    pub(crate) fn next_with(&mut self, random: f64) -> Duration {
        let exponent = i32::try_from(self.attempts).unwrap_or(i32::MAX).min(64);
        let mut ms = self.min_ms * 2f64.powi(exponent);
        if self.jitter > 0.0 {
            let deviation = (random * self.jitter * ms).floor();
            // The JavaScript client picks the sign from the same random number.
            ms = if ((random * 10.0).floor() as i64) & 1 == 0 {
                ms - deviation
            } else {
                ms + deviation
            };
        }
        self.attempts = self.attempts.saturating_add(1);
        Duration::from_secs_f64(ms.min(self.max_ms).max(0.0) / 1000.0)
    }

    pub(crate) fn next(&mut self) -> Duration {
        self.next_with(rand::random::<f64>())
    }

    pub(crate) fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_until_the_maximum() {
        let options = Reconnection {
            randomization_factor: 0.0,
            ..Reconnection::default()
        };
        let mut backoff = Backoff::new(&options);
        let delays: Vec<u128> = (0..5).map(|_| backoff.next().as_millis()).collect();
        assert_eq!(delays, [1000, 2000, 4000, 5000, 5000]);
        backoff.reset();
        assert_eq!(backoff.next().as_millis(), 1000);
    }

    #[test]
    fn jitter_stays_within_the_factor() {
        let mut backoff = Backoff::new(&Reconnection::default());
        // random 0.25: floor(2.5) = 2 is even, so the deviation is subtracted.
        assert_eq!(backoff.next_with(0.25).as_millis(), 875);
        // random 0.35: floor(3.5) = 3 is odd, so it is added.
        assert_eq!(backoff.next_with(0.35).as_millis(), 2350);
        for _ in 0..100 {
            let d = Backoff::new(&Reconnection::default()).next().as_millis();
            assert!((500..=1500).contains(&d), "{d}");
        }
    }
}
