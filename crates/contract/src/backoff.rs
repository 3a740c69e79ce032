//! The one retry policy of client and server: after a failure that may pass (the server out
//! of reach, a gateway error, SumUp unavailable, a wrong PIN), wait, then try again, waiting
//! twice as long each time up to a cap.

use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub const fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            next: first,
        }
    }

    /// Reconnecting to a server that went away: 1 s, 2 s, 4 s … 30 s.
    pub const fn reconnect() -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(30))
    }

    /// Inside one request, before it is reported as failed: 0.3 s, then 0.6 s.
    pub const fn within_request() -> Backoff {
        Backoff::new(Duration::from_millis(300), Duration::from_millis(600))
    }

    /// The pause before the next try; the one after it is longer.
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(self.max);
        delay
    }

    /// The pause after `failures` failures in a row, for a caller that keeps the count (in a
    /// database row, say) rather than a `Backoff`: the first pause after one, then doubling.
    pub fn after_failures(first: Duration, max: Duration, failures: u32) -> Duration {
        match failures {
            0 => Duration::ZERO,
            n => first
                .checked_mul(1 << (n - 1).min(30))
                .unwrap_or(max)
                .min(max),
        }
    }

    /// How long `failures` failures in a row have waited in all, pause after pause.
    pub fn waited_after(first: Duration, max: Duration, failures: u32) -> Duration {
        (1..=failures).fold(Duration::ZERO, |sum, n| {
            sum.saturating_add(Backoff::after_failures(first, max, n))
        })
    }

    /// It worked: the next failure starts again from the first pause.
    pub fn reset(&mut self) {
        self.next = self.first;
    }
}

impl Default for Backoff {
    fn default() -> Backoff {
        Backoff::reconnect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_cap_and_start_over_after_success() {
        let mut backoff = Backoff::reconnect();
        let pauses: Vec<u64> = (0..7).map(|_| backoff.next_delay().as_secs()).collect();
        assert_eq!(pauses, [1, 2, 4, 8, 16, 30, 30]);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn counted_failures_pause_as_a_backoff_would() {
        let (first, max) = (Duration::from_secs(1), Duration::from_secs(30));
        let mut backoff = Backoff::new(first, max);
        assert_eq!(Backoff::after_failures(first, max, 0), Duration::ZERO);
        for failures in 1..40 {
            assert_eq!(
                Backoff::after_failures(first, max, failures),
                backoff.next_delay(),
                "after {failures} failures"
            );
        }
        assert_eq!(Backoff::after_failures(first, max, u32::MAX), max);
        assert_eq!(
            Backoff::waited_after(first, max, 6),
            Duration::from_secs(1 + 2 + 4 + 8 + 16 + 30)
        );
    }
}
