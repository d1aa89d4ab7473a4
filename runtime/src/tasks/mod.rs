//! Tasks: script fibers running concurrently on tokio, structured with `concurrent:` blocks,
//! and the process lifecycle that ends them in order.
//!
//! `task` is the state other tasks can see, `driver` runs a fiber and awaits for it, `scope` is
//! `concurrent:`, `lifecycle` the orderly end of a run, `memory` giving memory back after bursts,
//! and `runtime` the entry points the CLI calls.

pub mod attach;
pub mod clock;
pub mod context;
pub(crate) mod deadlock;
pub mod driver;
pub mod lifecycle;
pub mod memory;
pub mod runtime;
pub mod scope;
pub mod task;
pub mod testing;

pub use context::{ContextValues, DerivedEntries};
pub(crate) use driver::Resume;
pub use driver::{yield_to_others, Callback, InlineCall, NativeFuture, VmRef};
pub use lifecycle::Lifecycle;
pub use runtime::Runtime;
pub use task::{Task, TaskHandle};
