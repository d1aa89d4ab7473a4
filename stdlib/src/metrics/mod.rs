//! `metrics`: Prometheus metrics (seed 000, section 5) in one process-wide registry.
//!
//! Scripts create counters, gauges and histograms with labels (`script`); the http server
//! records its RED metrics through [`HttpMetrics`] and serves [`render`] at `/metrics`, which
//! also reports process metrics read from `/proc/self` (`process`). Values live in
//! prometheus-client's types (`family`, `registry`); `exposition` renders them as OpenMetrics
//! or as the Prometheus text format, and `names` holds the rules names must follow.

mod exemplar;
mod exposition;
mod family;
mod http;
mod names;
mod process;
mod registry;
mod script;

use cn_runtime::object::NativeFunction;
use cn_runtime::{Value, Vm};

pub use exposition::{render, OPENMETRICS, PROMETHEUS_TEXT};
pub use http::{Finished, HttpMetrics, InFlightGuard, EXEMPLAR_REFRESH};

/// The module's members.
pub fn members(_vm: &mut Vm) -> Vec<(&'static str, Value)> {
    vec![
        (
            "counter",
            NativeFunction::value("metrics.counter", script::counter),
        ),
        (
            "gauge",
            NativeFunction::value("metrics.gauge", script::gauge),
        ),
        (
            "histogram",
            NativeFunction::value("metrics.histogram", script::histogram),
        ),
        (
            "expose",
            NativeFunction::value("metrics.expose", script::expose),
        ),
    ]
}
