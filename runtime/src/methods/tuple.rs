//! Tuple methods: `index` and `count`.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{opt_int, slice_bounds};
use crate::fault::Fault;
use crate::format;
use crate::native::{Member, Params, Table};
use crate::ops;
use crate::value::Value;

type Tuple = Rc<crate::teardown::TupleItems>;

/// A member of this type's table.
type M = Member<Tuple>;

/// Every tuple method.
pub(super) static TABLE: Table<Tuple> = Table::new(
    "tuple",
    "An immutable sequence: `(1, \"a\")`, `tuple(iterable)`.",
    &[
        M::method("index", |items, _, args| index(items, args))
            .doc("index(x, start=0, end=len)\nThe position of the first item equal to `x`; faults if there is none.")
            .params(Params::between(1, 3)),
        M::method("count", |items, _, args| count(items, args))
            .doc("count(x)\nHow many items equal `x`.")
            .params(Params::exactly(1)),
    ],
);

/// `t.index(x, start=0, end=len)`: position of the first item equal to `x`.
fn index(items: &[Value], args: Args<'_>) -> Result<Value, Fault> {
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
    let x = args.value(0)?;
    Ok(Value::Int(ops::count(items, x)? as i64))
}
