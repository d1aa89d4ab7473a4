//! Work that would stop the thread (reading a file, walking a directory, waiting for stdin)
//! runs on tokio's blocking pool while the calling task waits like any task that suspends: the
//! interpreter's thread goes on serving requests and running other tasks meanwhile.
//!
//! Values are reference counted per thread and cannot cross into the pool, so the work returns
//! plain Rust data and `finish` turns it into a value back on the script's thread.

use cn_runtime::{Fault, Value, Vm};

/// Runs `work` on the blocking pool; the native calling this returns the placeholder this
/// returns, and the script receives what `finish` makes of the work's result.
pub fn run<T: Send + 'static>(
    vm: &mut Vm,
    what: &'static str,
    work: impl FnOnce() -> T + Send + 'static,
    finish: impl FnOnce(T) -> Result<Value, Fault> + 'static,
) -> Value {
    vm.suspend(async move {
        let done = tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| Fault::new(format!("{what}: the operation failed: {error}")))?;
        finish(done)
    })
}
