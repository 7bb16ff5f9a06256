//! Waiting without busy-polling.
//!
//! MPICH's blocking calls spin on the CPU. A rank waiting for work instead
//! probes without blocking: for a short while right after the last message
//! (replies usually come quickly), then with sleeps that grow up to a
//! millisecond, so an idle rank costs almost no CPU time and a busy one still
//! answers within a millisecond.

use std::time::{Duration, Instant};

/// How long to keep probing without sleeping after the last message.
const SPIN: Duration = Duration::from_micros(50);
/// The first sleep after the spinning phase.
const FIRST_SLEEP: Duration = Duration::from_micros(20);
/// The longest sleep.
const MAX_SLEEP: Duration = Duration::from_millis(1);

/// Spin briefly, then sleep ever longer up to [`MAX_SLEEP`].
#[derive(Debug)]
pub(crate) struct Backoff {
    since: Instant,
    sleep: Duration,
}

impl Backoff {
    pub(crate) fn new() -> Backoff {
        Backoff {
            since: Instant::now(),
            sleep: FIRST_SLEEP,
        }
    }

    /// Something happened: go back to quick probing.
    pub(crate) fn reset(&mut self) {
        self.since = Instant::now();
        self.sleep = FIRST_SLEEP;
    }

    /// How long to wait before the next probe: zero while spinning, then a
    /// sleep that doubles each time, up to [`MAX_SLEEP`].
    pub(crate) fn next_wait(&mut self) -> Duration {
        if self.since.elapsed() < SPIN {
            return Duration::ZERO;
        }
        let wait = self.sleep;
        self.sleep = (self.sleep * 2).min(MAX_SLEEP);
        wait
    }

    /// Waits before the next probe: yields while spinning, else sleeps.
    pub(crate) fn pause(&mut self) {
        match self.next_wait() {
            Duration::ZERO => std::thread::yield_now(),
            d => std::thread::sleep(d),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_and_reset() {
        let mut b = Backoff::new();
        assert_eq!(b.next_wait(), Duration::ZERO);
        std::thread::sleep(SPIN * 2);
        let waits: Vec<Duration> = (0..10).map(|_| b.next_wait()).collect();
        assert_eq!(waits[0], FIRST_SLEEP);
        assert!(waits.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(*waits.last().unwrap(), MAX_SLEEP);
        b.reset();
        assert_eq!(b.next_wait(), Duration::ZERO);
    }
}
