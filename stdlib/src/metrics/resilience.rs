//! The automatic metrics of `resilience`: breaker state as a gauge and its transitions, retries
//! and rejections as counters with a `reason` label. Every breaker and retry policy reports
//! here without setup; the names are reserved like the http ones.

use std::sync::Arc;

use super::family::{Child, Family, GaugeHandle, Kind};
use super::registry;

/// The reserved names.
pub(crate) const NAMES: [(&str, Kind); 4] = [
    ("resilience_circuit_state", Kind::Gauge),
    ("resilience_circuit_transitions_total", Kind::Counter),
    ("resilience_rejections_total", Kind::Counter),
    ("resilience_retries_total", Kind::Counter),
];

fn family(index: usize, help: &str, labels: &[&str]) -> Arc<Family> {
    let (name, kind) = NAMES[index];
    registry::automatic(name, kind, help, labels)
}

/// `resilience_circuit_state{name}`: 0 closed, 1 open, 2 half-open.
pub(crate) fn circuit_state(name: &str) -> GaugeHandle {
    let family = family(
        0,
        "State of each circuit breaker: 0 closed, 1 open, 2 half-open.",
        &["name"],
    );
    match family.child(vec![name.to_string()]) {
        Child::Gauge(gauge) => gauge,
        // Defined as a gauge just above; a detached gauge keeps the value all the same.
        _ => GaugeHandle::default(),
    }
}

fn count(index: usize, help: &str, labels: &[&str], values: &[&str]) {
    let family = family(index, help, labels);
    if let Child::Counter(counter) = family.child(values.iter().map(|v| v.to_string()).collect()) {
        counter.inc();
    }
}

/// One breaker transition.
pub(crate) fn transition(name: &str, from: &str, to: &str) {
    count(
        1,
        "Circuit breaker state changes, by breaker and states.",
        &["name", "from", "to"],
        &[name, from, to],
    );
}

/// A call refused without running: an open circuit, a spent retry budget, a full bulkhead.
pub(crate) fn rejection(name: &str, reason: &str) {
    count(
        2,
        "Calls refused by a resilience policy without running, by policy and reason.",
        &["name", "reason"],
        &[name, reason],
    );
}

/// One retry (a second or later attempt), by why the attempt before was retried.
pub(crate) fn retry(name: &str, reason: &str) {
    count(
        3,
        "Retries made by a resilience policy, by policy and what the attempt before returned.",
        &["name", "reason"],
        &[name, reason],
    );
}
pub(crate) use super::family::GaugeHandle as Gauge;
