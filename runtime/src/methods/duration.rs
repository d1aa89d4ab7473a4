//! Duration methods: `total_seconds` and `total_milliseconds`, both floats.

use crate::args::Args;
use crate::builtins::params::no_args;
use crate::fault::Fault;
use crate::symbol::{self, Symbol};
use crate::value::Value;

/// Every duration method.
pub(super) const NAMES: &[&str] = &["total_seconds", "total_milliseconds"];

/// Calls duration method `name` on a duration of `nanos` nanoseconds.
pub(super) fn call(nanos: i64, name: Symbol, args: Args<'_>) -> Option<Result<Value, Fault>> {
    let per_unit = match name {
        symbol::TOTAL_SECONDS => 1e9,
        symbol::TOTAL_MILLISECONDS => 1e6,
        _ => return None,
    };
    Some(no_args(&args).map(|()| Value::Float(nanos as f64 / per_unit)))
}
