//! `metrics`: Prometheus metrics (seed 000, section 5) in one process-wide registry.
//!
//! Scripts create counters, gauges and histograms with labels (`script`); the http server
//! records its RED metrics through [`HttpMetrics`] and serves [`render`] at `/metrics`, which
//! also reports process metrics read from `/proc/self` (`process`). Values live in
//! prometheus-client's types (`family`, `registry`); `exposition` renders them as OpenMetrics
//! or as the Prometheus text format, and `names` holds the rules names must follow.

pub(crate) mod app;
pub mod controller;
mod exemplar;
mod exposition;
mod family;
mod http;
mod names;
mod process;
mod registry;
pub mod resilience;
mod script;
pub(crate) mod sql;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::Vm;

pub use exposition::{render, OPENMETRICS, PROMETHEUS_TEXT};
pub use http::{Finished, HttpMetrics, InFlightGuard, EXEMPLAR_REFRESH};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("counter", script::counter)
        .doc("counter(name, help=nil, labels=[])\nA counter, registered once per name; `_total` is appended to a name without it.")
        .params(Params::between(1, 3).keywords(&["help", "labels"])),
    Function::new("gauge", script::gauge)
        .doc("gauge(name, help=nil, labels=[])\nA gauge, registered once per name.")
        .params(Params::between(1, 3).keywords(&["help", "labels"])),
    Function::new("histogram", script::histogram)
        .doc("histogram(name, help=nil, labels=[], buckets=[.005, ..., 10])\nA histogram, registered once per name.")
        .params(Params::between(1, 4).keywords(&["help", "labels", "buckets"])),
    Function::new("expose", script::expose)
        .doc("expose(openmetrics=false)\nEvery metric's exposition, as `/metrics` serves it.")
        .params(Params::between(0, 1).keywords(&["openmetrics"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc(
        "Prometheus metrics in one process-wide registry, served at /metrics by every http server.",
    )
    .functions(FUNCTIONS);
}
