//! The automatic metrics of `k8s.controller`: reconciles by result, their duration, the depth of
//! the work queue, and whether this process leads. Every controller reports here without setup,
//! labelled with its name; the names are reserved like the http ones.

use std::sync::Arc;

use super::family::{
    Child, CounterHandle, Family, GaugeHandle, HistogramHandle, Kind, DEFAULT_BUCKETS,
};
use super::registry;

/// The reserved names.
pub(crate) const NAMES: [(&str, Kind); 4] = [
    ("controller_leader", Kind::Gauge),
    ("controller_queue_depth", Kind::Gauge),
    ("controller_reconcile_duration_seconds", Kind::Histogram),
    ("controller_reconcile_total", Kind::Counter),
];

fn family(index: usize, help: &str, labels: &[&str]) -> Arc<Family> {
    let (name, kind) = NAMES[index];
    registry::automatic(name, kind, help, labels)
}

/// One controller's handles.
pub struct ControllerMetrics {
    name: String,
    results: Arc<Family>,
    pub leader: GaugeHandle,
    pub queue_depth: GaugeHandle,
    duration: HistogramHandle,
}

impl ControllerMetrics {
    pub fn new(name: &str) -> ControllerMetrics {
        let gauge = |family: Arc<Family>| match family.child(vec![name.to_string()]) {
            Child::Gauge(gauge) => gauge,
            _ => GaugeHandle::default(),
        };
        let leader = gauge(family(
            0,
            "1 while this process leads the controller (or runs it without leader election).",
            &["controller"],
        ));
        let queue_depth = gauge(family(
            1,
            "Keys waiting in the controller's work queue.",
            &["controller"],
        ));
        let durations = family(
            2,
            "How long each reconcile took, in seconds.",
            &["controller"],
        );
        let duration = match durations.child(vec![name.to_string()]) {
            Child::Histogram(histogram) => histogram,
            _ => HistogramHandle::new(DEFAULT_BUCKETS.iter().copied()),
        };
        let results = family(
            3,
            "Reconciles by result: success, requeue or error.",
            &["controller", "result"],
        );
        ControllerMetrics {
            name: name.to_string(),
            results,
            leader,
            queue_depth,
            duration,
        }
    }

    /// One reconcile that ended with `result` after `seconds`.
    pub fn reconciled(&self, result: &str, seconds: f64) {
        self.duration.observe(seconds, None, None);
        if let Child::Counter(counter) = self
            .results
            .child(vec![self.name.clone(), result.to_string()])
        {
            CounterHandle::inc(&counter);
        }
    }
}
