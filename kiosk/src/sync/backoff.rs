//! Exponential backoff with jitter, so a town's tablets do not all retry at once when
//! the office comes back.

use std::time::Duration;

/// Delays that double from `min` up to `max`; each is drawn from its upper half
/// ("equal jitter"), so retries spread out but never come sooner than half the step.
#[derive(Debug, Clone)]
pub struct Backoff {
    min: Duration,
    max: Duration,
    step: Option<Duration>,
}

impl Backoff {
    pub fn new(min: Duration, max: Duration) -> Backoff {
        Backoff { min, max: max.max(min), step: None }
    }

    /// The delay before the next retry.
    pub fn next_delay(&mut self) -> Duration {
        let step = match self.step {
            None => self.min,
            Some(s) => (s * 2).min(self.max),
        };
        self.step = Some(step);
        let half = step / 2;
        half + half.mul_f64(unit_random())
    }

    /// After a success: the next failure starts again at `min`.
    pub fn reset(&mut self) {
        self.step = None;
    }
}

/// A uniform number in [0, 1) from the OS's randomness (through a v4 UUID's random
/// bits, which the kiosk already links; no extra generator needed).
fn unit_random() -> f64 {
    // The low 53 bits: clear of the version and variant bits.
    let bits = (uuid::Uuid::new_v4().as_u128() as u64) & ((1u64 << 53) - 1);
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_with_jitter_and_stay_under_the_cap() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
        let mut upper = Duration::from_secs(1);
        for _ in 0..20 {
            let d = b.next_delay();
            assert!(d >= upper / 2 && d <= upper, "{d:?} outside [{:?}, {upper:?}]", upper / 2);
            upper = (upper * 2).min(Duration::from_secs(300));
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn jitter_spreads_retries() {
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..50 {
            seen.insert(
                Backoff::new(Duration::from_secs(60), Duration::from_secs(60)).next_delay().as_millis(),
            );
        }
        assert!(seen.len() > 40, "only {} distinct delays", seen.len());
    }
}
