//! The automatic metrics of `app.Application`: `app_info{app, version}` (always 1), the
//! application's name as a label Prometheus joins onto any series of the same target, and
//! `app_startup_duration_seconds`, how long startup took (hooks, binding, ready hooks).
//!
//! The name is an info metric rather than a label on every series: on Kubernetes the scrape
//! already adds the pod's labels (often an `app` label), and a second one on each series would
//! collide with them and with scripts' own labels; `* on(instance) group_left(app) app_info`
//! joins it where a query wants it, as Prometheus's own `*_build_info` metrics are used.

use super::family::{Child, Kind};
use super::registry;

/// The reserved names.
pub(crate) const NAMES: [(&str, Kind); 2] = [
    ("app_info", Kind::Gauge),
    ("app_startup_duration_seconds", Kind::Gauge),
];

fn gauge(index: usize, help: &str, labels: &[&str], values: Vec<String>, value: f64) {
    let (name, kind) = NAMES[index];
    if let Child::Gauge(gauge) = registry::automatic(name, kind, help, labels).child(values) {
        gauge.set(value);
    }
}

/// `app_info{app, version} 1` for the application `name`.
pub(crate) fn info(name: &str) {
    gauge(
        0,
        "The application: its name and the version of cn running it; always 1.",
        &["app", "version"],
        vec![name.to_string(), env!("CARGO_PKG_VERSION").to_string()],
        1.0,
    );
}

/// How long the application took from `run()` to ready.
pub(crate) fn startup_duration(seconds: f64) {
    gauge(
        1,
        "Seconds from application.run() until every server listened and the ready hooks ran.",
        &[],
        Vec::new(),
        seconds,
    );
}
