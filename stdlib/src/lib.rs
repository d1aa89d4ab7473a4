//! The cn standard library: one native module per file, each with a `register` function.
//!
//! Modules arrive with the issues that define them (http, config, log, metrics, tracing, ...);
//! [`register`] installs every module into a VM.

use cn_runtime::Vm;

/// Installs every standard-library module into `vm`.
pub fn register(vm: &mut Vm) {
    let _ = vm;
}
