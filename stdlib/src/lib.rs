//! The cn standard library: one native module per file or folder, each with a `module` function
//! that fills its `ModuleBuilder` (declared functions, values) on first import.
//!
//! Modules arrive with the issues that define them; [`register`] installs every module into a
//! VM.

pub mod app;
pub mod base64;
pub mod blocking;
pub mod config;
pub mod context;
pub mod crypto;
pub mod describe;
pub mod formats;
pub mod fs;
pub mod http;
pub mod ids;
pub mod io;
pub mod json;
pub mod k8s;
pub mod log;
pub mod math;
pub mod metrics;
pub mod os;
pub mod path;
pub mod percent;
pub mod random;
pub mod re;
pub mod resilience;
pub mod runtime;
pub mod signal;
pub mod sql;
pub mod stream;
pub mod sync;
pub mod time;
pub mod trace;
pub mod url;
pub mod uuid;
pub mod variants;

use cn_runtime::Vm;

/// Installs every standard-library module into `vm`.
pub fn register(vm: &mut Vm) {
    vm.register_variants(variants::LIBRARY_VARIANTS);
    vm.register_module("time", time::module);
    vm.register_module("app", app::module);
    vm.register_module("tracing", trace::module);
    vm.register_module("context", context::module);
    vm.register_module("config", config::module);
    vm.register_module("http", http::module);
    vm.register_module("json", json::module);
    vm.register_module("k8s", k8s::module);
    vm.register_module("log", log::module);
    log::install();
    log::report_drops_at_exit(vm);
    vm.register_module("math", math::module);
    vm.register_module("fs", fs::module);
    vm.register_module("path", path::module);
    vm.register_module("io", io::module);
    vm.register_module("os", os::module);
    vm.register_module("re", re::module);
    vm.register_module("random", random::module);
    vm.register_module("crypto", crypto::module);
    vm.register_module("uuid", uuid::module);
    vm.register_module("base64", base64::module);
    vm.register_module("url", url::module);
    vm.register_module("csv", formats::csv::module);
    vm.register_module("yaml", formats::yaml::module);
    vm.register_module("toml", formats::toml::module);
    vm.register_module("metrics", metrics::module);
    vm.register_module("signal", signal::module);
    vm.register_module("sync", sync::module);
    vm.register_module("resilience", resilience::module);
    vm.register_module("runtime", runtime::module);
    vm.register_module("sql", sql::module);
}
