//! A controller's work queue, after client-go's: keys (`namespace/name`) wait at most once; a
//! key being reconciled is not handed out again, and if it changes meanwhile it is queued once
//! more when that reconcile ends. A failed reconcile is retried after the larger of two delays,
//! the key's own exponential backoff (5 ms doubling to 1000 s, reset by a success) and a token
//! bucket shared by all keys (10 a second, bursts of 100), so one failing object backs off and
//! many cannot flood the API server. Changes that arrive by watch are queued at once and never
//! count as failures (the backoff inflation of kubernetes#132805).

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// The first retry delay of a failing key.
pub const BASE_DELAY: Duration = Duration::from_millis(5);
/// The longest retry delay of a failing key.
pub const MAX_DELAY: Duration = Duration::from_secs(1000);
/// The bucket's steady rate (retries a second) and burst.
const BUCKET_RATE: f64 = 10.0;
const BUCKET_BURST: f64 = 100.0;

#[derive(Default)]
struct Keys {
    ready: VecDeque<String>,
    queued: HashSet<String>,
    processing: HashSet<String>,
    /// Queued again while being processed.
    dirty: HashSet<String>,
    failures: HashMap<String, u32>,
    /// The token bucket's theoretical arrival time (GCRA).
    bucket_tat: Option<Instant>,
}

/// A work queue, shared by the controller's watchers and workers.
#[derive(Clone, Default)]
pub struct Queue {
    keys: Rc<RefCell<Keys>>,
    added: Rc<Notify>,
}

impl Queue {
    /// Queues `key` now (deduplicated).
    pub fn add(&self, key: &str) {
        let mut keys = self.keys.borrow_mut();
        if keys.processing.contains(key) {
            keys.dirty.insert(key.to_string());
        } else if keys.queued.insert(key.to_string()) {
            keys.ready.push_back(key.to_string());
            self.added.notify_one();
        }
    }

    /// Queues `key` after `delay`.
    pub fn add_after(&self, key: &str, delay: Duration) {
        let (queue, key) = (self.clone(), key.to_string());
        tokio::task::spawn_local(async move {
            tokio::time::sleep(delay).await;
            queue.add(&key);
        });
    }

    /// The next key to reconcile, waiting for one; it is marked as being processed.
    pub async fn next(&self) -> String {
        loop {
            let notified = self.added.notified();
            {
                let mut keys = self.keys.borrow_mut();
                if let Some(key) = keys.ready.pop_front() {
                    keys.queued.remove(&key);
                    keys.processing.insert(key.clone());
                    return key;
                }
            }
            notified.await;
        }
    }

    /// `key`'s reconcile has ended; a change that came meanwhile queues it again.
    pub fn done(&self, key: &str) {
        let mut keys = self.keys.borrow_mut();
        keys.processing.remove(key);
        if keys.dirty.remove(key) {
            drop(keys);
            self.add(key);
        }
    }

    /// A success: `key`'s backoff starts over.
    pub fn forget(&self, key: &str) {
        self.keys.borrow_mut().failures.remove(key);
    }

    /// A failure: how long until `key` is retried (and the failure is counted).
    pub fn failure_delay(&self, key: &str) -> Duration {
        let mut keys = self.keys.borrow_mut();
        let failures = keys.failures.entry(key.to_string()).or_insert(0);
        let exponent = (*failures).min(30);
        *failures += 1;
        let own = BASE_DELAY.saturating_mul(1 << exponent).min(MAX_DELAY);
        let now = Instant::now();
        let interval = Duration::from_secs_f64(1.0 / BUCKET_RATE);
        let tolerance = interval.mul_f64(BUCKET_BURST - 1.0);
        let tat = keys.bucket_tat.map_or(now, |t| t.max(now)) + interval;
        keys.bucket_tat = Some(tat);
        let shared = tat.saturating_duration_since(now + tolerance + interval);
        own.max(shared)
    }

    /// Keys waiting (not counting those being processed).
    pub fn depth(&self) -> usize {
        self.keys.borrow().ready.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failing_key_backs_off_exponentially_and_a_success_resets_it() {
        let queue = Queue::default();
        let delays: Vec<Duration> = (0..4).map(|_| queue.failure_delay("ns/a")).collect();
        assert_eq!(delays, [5, 10, 20, 40].map(Duration::from_millis).to_vec());
        queue.forget("ns/a");
        assert_eq!(queue.failure_delay("ns/a"), BASE_DELAY);
        for _ in 0..40 {
            queue.failure_delay("ns/b");
        }
        assert_eq!(queue.failure_delay("ns/b"), MAX_DELAY);
    }

    #[test]
    fn the_shared_bucket_holds_back_a_flood_of_failures_after_its_burst() {
        let queue = Queue::default();
        let delays: Vec<Duration> = (0..120)
            .map(|i| queue.failure_delay(&format!("ns/{i}")))
            .collect();
        assert!(delays[..100].iter().all(|d| *d == BASE_DELAY), "{delays:?}");
        assert!(delays[110] >= Duration::from_millis(900), "{delays:?}");
    }

    #[test]
    fn a_key_is_queued_once_and_again_if_it_changes_while_processed() {
        use futures_util::FutureExt;
        let next = |queue: &Queue| queue.next().now_or_never().expect("a key is ready");
        let queue = Queue::default();
        queue.add("ns/a");
        queue.add("ns/a");
        queue.add("ns/b");
        assert_eq!(queue.depth(), 2);
        assert_eq!(next(&queue), "ns/a");
        queue.add("ns/a");
        assert_eq!(queue.depth(), 1, "not handed out while processed");
        queue.done("ns/a");
        assert_eq!(next(&queue), "ns/b");
        assert_eq!(next(&queue), "ns/a");
        assert!(queue.next().now_or_never().is_none(), "nothing left");
    }
}
