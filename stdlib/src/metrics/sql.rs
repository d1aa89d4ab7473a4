//! The automatic metrics of `sql`: statement durations by pool, operation and outcome, and each
//! pool's connections (in use, idle), its size limit, and the tasks waiting for a connection.
//! Names follow OpenTelemetry's database client conventions in Prometheus form; they are
//! reserved like the http ones.

use std::sync::Arc;

use super::family::{Child, Definition, Family, GaugeHandle, HistogramHandle, Kind};
use super::registry;

/// The reserved names.
pub(crate) const NAMES: [(&str, Kind); 4] = [
    ("db_client_connections", Kind::Gauge),
    ("db_client_connections_max", Kind::Gauge),
    ("db_client_connections_pending", Kind::Gauge),
    ("db_query_duration_seconds", Kind::Histogram),
];

/// Statement durations are mostly well under Prometheus's first default bucket (5 ms).
const QUERY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

fn gauge(index: usize, help: &str, labels: &[&str], values: &[&str]) -> GaugeHandle {
    let (name, kind) = NAMES[index];
    let family = registry::automatic(name, kind, help, labels);
    match family.child(values.iter().map(|v| v.to_string()).collect()) {
        Child::Gauge(gauge) => gauge,
        _ => GaugeHandle::default(),
    }
}

/// The gauges of one pool.
pub(crate) struct PoolMetrics {
    used: GaugeHandle,
    idle: GaugeHandle,
    max: GaugeHandle,
    pending: GaugeHandle,
}

impl PoolMetrics {
    pub(crate) fn new(pool: &str) -> PoolMetrics {
        let connections = |state: &str| {
            gauge(
                0,
                "Open connections of each database pool, by state: used (lent to a statement or transaction) or idle.",
                &["pool", "state"],
                &[pool, state],
            )
        };
        PoolMetrics {
            used: connections("used"),
            idle: connections("idle"),
            max: gauge(
                1,
                "The most connections each database pool may open (max_connections).",
                &["pool"],
                &[pool],
            ),
            pending: gauge(
                2,
                "Tasks waiting for a connection from each database pool.",
                &["pool"],
                &[pool],
            ),
        }
    }

    /// The pool's numbers now (all zero once it is closed).
    pub(crate) fn set(&self, used: usize, idle: usize, max: usize, pending: usize) {
        self.used.set(used as f64);
        self.idle.set(idle as f64);
        self.max.set(max as f64);
        self.pending.set(pending as f64);
    }
}

/// The duration histogram of one pool, operation and outcome.
pub(crate) struct StatementDurations(HistogramHandle);

impl StatementDurations {
    pub(crate) fn observe(&self, seconds: f64) {
        self.0.observe(seconds, None, None);
    }
}

fn durations() -> Arc<Family> {
    let (name, kind) = NAMES[3];
    registry::register_automatic(Definition {
        name: name.into(),
        help: "How long each database statement took, in seconds, by pool, operation (SELECT, INSERT, ...) and outcome (ok or the error kind).".into(),
        kind,
        labels: vec!["pool".into(), "operation".into(), "outcome".into()],
        buckets: QUERY_BUCKETS.to_vec(),
    })
}

/// The duration histogram of statements of `operation` on `pool` that ended with `outcome`
/// (callers keep it: finding it takes the registry's lock).
pub(crate) fn statement_durations(
    pool: &str,
    operation: &str,
    outcome: &str,
) -> StatementDurations {
    StatementDurations(
        match durations().child(vec![pool.into(), operation.into(), outcome.into()]) {
            Child::Histogram(histogram) => histogram,
            _ => HistogramHandle::new(QUERY_BUCKETS.iter().copied()),
        },
    )
}
