//! The cn runtime: values, the VM and its dispatch loop, builtins, and the native-function API
//! the standard library builds on.
//!
//! Layout: `value` and `object` define what values are; `interpreter` is the dispatch loop,
//! `fiber` its frames, `inline_cache` what its instructions remember, `call`/`attr`/`items`/`ops`/`iter` the operations it delegates to;
//! `builtins` and `methods` are the functions scripts see; `vm` ties it together; `tasks` runs
//! fibers concurrently on tokio and is what the CLI drives.

pub mod args;
pub mod ascii_cache;
mod attr;
pub mod builtins;
mod call;
mod cold_ops;
pub mod cycles;
mod definitions;
pub mod dict;
pub mod fault;
pub mod fiber;
pub mod format;
pub mod inline_cache;
mod interpreter;
pub mod items;
pub mod iter;
pub mod methods;
mod modules;
pub mod native;
pub mod object;
pub mod ops;
pub mod output;
mod printing;
pub mod record;
mod run;
pub mod set;
pub mod source;
mod spread;
pub mod symbol;
pub mod tasks;
pub mod teardown;
mod unwind;
pub mod value;
pub mod vm;

pub use args::Args;
pub use fault::Fault;
pub use tasks::Runtime;
pub use value::Value;
pub use vm::{RunError, Vm};
