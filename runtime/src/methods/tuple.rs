//! Tuple methods: `index` and `count`.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{opt_int, slice_bounds};
use crate::fault::Fault;
use crate::format;
use crate::ops;
use crate::symbol::{self, Symbol};
use crate::value::Value;

/// Every tuple method.
pub(super) const NAMES: &[&str] = &["index", "count"];

/// Calls tuple method `name`; `None` if there is no such method.
pub(super) fn call(
    items: &Rc<crate::teardown::TupleItems>,
    name: Symbol,
    args: Args<'_>,
) -> Option<Result<Value, Fault>> {
    Some(match name {
        symbol::INDEX => index(items, args),
        symbol::COUNT => count(items, args),
        _ => return None,
    })
}

/// `t.index(x, start=0, end=len)`: position of the first item equal to `x`.
fn index(items: &[Value], args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 3)?;
    args.allow_named(&[])?;
    let x = args.value(0)?;
    let (start, end) = slice_bounds(
        items.len(),
        opt_int(&args, 1, "start")?,
        opt_int(&args, 2, "end")?,
    );
    let found = ops::position(items.get(start..end).unwrap_or_default(), x)?;
    found
        .map(|i| Value::Int((start + i) as i64))
        .ok_or_else(|| Fault::new(format!("tuple.index(x): {} not in tuple", format::repr(x))))
}

/// `t.count(x)`: how many items equal `x`.
fn count(items: &[Value], args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let x = args.value(0)?;
    Ok(Value::Int(ops::count(items, x)? as i64))
}
