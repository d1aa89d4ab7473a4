//! The cn standard library: one native module per file, each with a `members` function that
//! builds the module on first import.
//!
//! Modules arrive with the issues that define them; [`register`] installs every module into a
//! VM.

pub mod config;
pub mod context;
pub mod http;
pub mod ids;
pub mod json;
pub mod log;
pub mod metrics;
pub mod percent;
pub mod signal;
pub mod sync;
pub mod time;
pub mod trace;

use cn_runtime::Vm;

/// Installs every standard-library module into `vm`.
pub fn register(vm: &mut Vm) {
    vm.register_module("time", time::members);
    vm.register_module("tracing", trace::members);
    vm.register_module("context", context::members);
    vm.register_module("config", config::members);
    vm.register_module("http", http::members);
    vm.register_module("json", json::members);
    vm.register_module("log", log::members);
    log::install();
    log::report_drops_at_exit(vm);
    vm.register_module("metrics", metrics::members);
    vm.register_module("signal", signal::members);
    vm.register_module("sync", sync::members);
}
