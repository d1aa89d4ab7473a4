//! List methods: `append`, `pop`, `extend`, `insert`, `remove`, `index`, `count`, `sort`,
//! `reverse`, `clear` and `copy`.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{
    collect, flag, iterable_arg, key_fn, no_args, opt_int, slice_bounds,
};
use crate::builtins::sort_values;
use crate::fault::Fault;
use crate::format;
use crate::ops;
use crate::symbol::{self, Symbol};
use crate::value::Value;
use crate::vm::Vm;

type List = Rc<crate::teardown::ListCell>;

/// Every list method.
pub(super) const NAMES: &[&str] = &[
    "append", "pop", "extend", "insert", "remove", "index", "count", "sort", "reverse", "clear",
    "copy",
];

/// Calls list method `name`; `None` if there is no such method.
pub(super) fn call(
    vm: &mut Vm,
    list: &List,
    name: Symbol,
    args: Args<'_>,
) -> Option<Result<Value, Fault>> {
    Some(match name {
        symbol::APPEND => append(list, args),
        symbol::POP => pop(list, args),
        symbol::EXTEND => extend(list, args),
        symbol::INSERT => insert(list, args),
        symbol::REMOVE => remove(list, args),
        symbol::INDEX => index(list, args),
        symbol::COUNT => count(list, args),
        symbol::SORT => sort(vm, list, args),
        symbol::REVERSE => no_args(&args).map(|()| {
            list.borrow_mut().reverse();
            Value::Nil
        }),
        symbol::CLEAR => no_args(&args).map(|()| {
            list.borrow_mut().clear();
            Value::Nil
        }),
        symbol::COPY => no_args(&args).map(|()| Value::list(list.borrow().clone())),
        _ => return None,
    })
}

/// `xs.append(x)`: adds `x` at the end.
fn append(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let x = args.value(0)?.clone();
    list.borrow_mut().push(x);
    Ok(Value::Nil)
}

/// `xs.pop(i=-1)`: removes and returns the item at `i`.
fn pop(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    args.allow_named(&[])?;
    let i = opt_int(&args, 0, "index")?.unwrap_or(-1);
    let mut items = list.borrow_mut();
    if items.is_empty() {
        return Err(Fault::new("pop from empty list"));
    }
    let len = items.len() as i64;
    let at = if i < 0 { i.saturating_add(len) } else { i };
    if at < 0 || at >= len {
        return Err(Fault::new(format!(
            "pop index {i} out of range for list of length {len}"
        )));
    }
    Ok(items.remove(at as usize))
}

/// `xs.extend(iterable)`: appends every item of `iterable`.
fn extend(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    // Collect first: `xs.extend(xs)` reads the list it grows.
    let new = collect(iterable_arg(&args, 0)?)?;
    list.borrow_mut().extend(new);
    Ok(Value::Nil)
}

/// `xs.insert(i, x)`: inserts `x` before position `i` (clamped to the list, like Python).
fn insert(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(2, 2)?;
    args.allow_named(&[])?;
    let i = args.int(0)?;
    let x = args.value(1)?.clone();
    let mut items = list.borrow_mut();
    let len = items.len() as i64;
    let at = if i < 0 {
        i.saturating_add(len).max(0)
    } else {
        i.min(len)
    };
    items.insert(at as usize, x);
    Ok(Value::Nil)
}

/// `xs.remove(x)`: removes the first item equal to `x`.
fn remove(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let x = args.value(0)?;
    let position = ops::position(&list.borrow(), x)?;
    match position {
        Some(i) => {
            list.borrow_mut().remove(i);
            Ok(Value::Nil)
        }
        None => Err(Fault::new(format!(
            "list.remove(x): {} not in list",
            format::repr(x)
        ))),
    }
}

/// `xs.index(x, start=0, end=len)`: position of the first item equal to `x`.
fn index(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 3)?;
    args.allow_named(&[])?;
    let x = args.value(0)?;
    let (start, end) = (opt_int(&args, 1, "start")?, opt_int(&args, 2, "end")?);
    let items = list.borrow();
    let (start, end) = slice_bounds(items.len(), start, end);
    let found = ops::position(items.get(start..end).unwrap_or_default(), x)?;
    found
        .map(|i| Value::Int((start + i) as i64))
        .ok_or_else(|| Fault::new(format!("list.index(x): {} not in list", format::repr(x))))
}

/// `xs.count(x)`: how many items equal `x`.
fn count(list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let x = args.value(0)?;
    let n = ops::count(&list.borrow(), x)?;
    Ok(Value::Int(n as i64))
}

/// `xs.sort(key=nil, reverse=false)`: sorts in place, stably.
fn sort(vm: &mut Vm, list: &List, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 0)?;
    args.allow_named(&["key", "reverse"])?;
    let reverse = flag(&args, "reverse")?;
    // Sort a copy: a key function may read (or change) the list while it is being sorted.
    let items = list.borrow().clone();
    let sorted = sort_values(vm, items, key_fn(&args), reverse)?;
    *list.borrow_mut() = sorted;
    Ok(Value::Nil)
}
