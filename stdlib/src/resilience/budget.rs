//! The retry budget: over the last 10 seconds, retries may be at most 20 % of the calls made
//! through the same policy, with a floor of 3 retries a second so a quiet service can still
//! retry. An outage of the dependency then adds at most a fifth to the load on it, where three
//! attempts per call would triple it (Envoy's and failsafe-go's defaults; the SRE book's
//! argument).

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::Duration;
// tokio's instant: it follows `time.pause()` in tests.
use tokio::time::Instant;

/// How far back the budget looks.
const TTL: Duration = Duration::from_secs(10);
/// Retries allowed per call made.
const RATIO: f64 = 0.2;
/// Retries allowed per second whatever the traffic.
const MIN_PER_SECOND: f64 = 3.0;

/// Calls and retries of one policy, by second.
#[derive(Default)]
pub struct Budget {
    seconds: RefCell<VecDeque<(Instant, u32, u32)>>,
}

impl Budget {
    /// Counts a call (its first attempt).
    pub fn call(&self) {
        self.bucket(|b| b.1 += 1);
    }

    /// Takes one retry from the budget; `false` when it is spent.
    pub fn try_retry(&self) -> bool {
        let (calls, retries) = self.totals();
        let allowed = (RATIO * calls as f64).max(MIN_PER_SECOND * TTL.as_secs_f64());
        if (retries as f64) < allowed {
            self.bucket(|b| b.2 += 1);
            true
        } else {
            false
        }
    }

    fn totals(&self) -> (u64, u64) {
        self.expire();
        let seconds = self.seconds.borrow();
        seconds.iter().fold((0, 0), |(c, r), (_, calls, retries)| {
            (c + u64::from(*calls), r + u64::from(*retries))
        })
    }

    fn expire(&self) {
        let now = Instant::now();
        let mut seconds = self.seconds.borrow_mut();
        while seconds
            .front()
            .is_some_and(|(start, _, _)| now.duration_since(*start) >= TTL)
        {
            seconds.pop_front();
        }
    }

    fn bucket(&self, update: impl FnOnce(&mut (Instant, u32, u32))) {
        self.expire();
        let now = Instant::now();
        let mut seconds = self.seconds.borrow_mut();
        let fresh = seconds
            .back()
            .is_none_or(|(start, _, _)| now.duration_since(*start) >= Duration::from_secs(1));
        if fresh {
            seconds.push_back((now, 0, 0));
        }
        if let Some(last) = seconds.back_mut() {
            update(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_stop_at_the_floor_without_traffic_and_at_a_fifth_with_it() {
        let budget = Budget::default();
        let mut granted = 0;
        while budget.try_retry() {
            granted += 1;
        }
        assert_eq!(granted, 30);
        let busy = Budget::default();
        for _ in 0..1000 {
            busy.call();
        }
        let mut granted = 0;
        while busy.try_retry() {
            granted += 1;
        }
        assert_eq!(granted, 200);
    }
}
