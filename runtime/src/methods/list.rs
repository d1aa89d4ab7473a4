//! List methods: `append`, `pop`, `extend`, `insert`, `remove`, `index`, `count`, `sort`,
//! `reverse`, `clear` and `copy`.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{collect, flag, iterable_arg, key_fn, opt_int, slice_bounds};
use crate::builtins::sort_values;
use crate::fault::Fault;
use crate::format;
use crate::native::{Member, Params, Table};
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;

type List = Rc<crate::teardown::ListCell>;

/// A member of this type's table.
type M = Member<List>;

/// Every list method.
pub(super) static TABLE: Table<List> = Table::new(
    "list",
    "A mutable sequence: `[1, 2, 3]`, `list(iterable)`.",
    &[
        M::method("append", append)
            .doc("append(x)\nAdds `x` at the end.")
            .params(Params::exactly(1)),
        M::method("pop", pop)
            .doc("pop(index=-1)\nRemoves and returns the item at `index` (the last by default).")
            .params(Params::between(0, 1)),
        M::method("extend", extend)
            .doc("extend(iterable)\nAppends every item of `iterable`.")
            .params(Params::exactly(1)),
        M::method("insert", insert)
            .doc("insert(index, x)\nInserts `x` before position `index`.")
            .params(Params::exactly(2)),
        M::method("remove", remove)
            .doc("remove(x)\nRemoves the first item equal to `x`; faults if there is none.")
            .params(Params::exactly(1)),
        M::method("index", index)
            .doc("index(x, start=0, end=len)\nThe position of the first item equal to `x`; faults if there is none.")
            .params(Params::between(1, 3)),
        M::method("count", count)
            .doc("count(x)\nHow many items equal `x`.")
            .params(Params::exactly(1)),
        M::method("sort", sort)
            .doc("sort(key=nil, reverse=false)\nSorts in place, stably; `key` maps each item to what is compared.")
            .params(Params::NONE.keywords(&["key", "reverse"])),
        M::method("reverse", |list, _, _| {
            list.borrow_mut().reverse();
            Ok(Value::Nil)
        })
        .doc("reverse()\nReverses the items in place."),
        M::method("clear", |list, _, _| {
            list.borrow_mut().clear();
            Ok(Value::Nil)
        })
        .doc("clear()\nRemoves every item."),
        M::method("copy", |list, _, _| Ok(Value::list(list.borrow().clone())))
            .doc("copy()\nA new list with the same items (a shallow copy)."),
    ],
);

/// `xs.append(x)`: adds `x` at the end.
fn append(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let x = args.value(0)?.clone();
    list.borrow_mut().push(x);
    Ok(Value::Nil)
}

/// `xs.pop(i=-1)`: removes and returns the item at `i`.
fn pop(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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
fn extend(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    // Collect first: `xs.extend(xs)` reads the list it grows.
    let new = collect(iterable_arg(&args, 0)?)?;
    list.borrow_mut().extend(new);
    Ok(Value::Nil)
}

/// `xs.insert(i, x)`: inserts `x` before position `i` (clamped to the list, like Python).
fn insert(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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
fn remove(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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
fn index(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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
fn count(list: &List, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let x = args.value(0)?;
    let n = ops::count(&list.borrow(), x)?;
    Ok(Value::Int(n as i64))
}

/// `xs.sort(key=nil, reverse=false)`: sorts in place, stably.
fn sort(list: &List, vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let reverse = flag(&args, "reverse")?;
    // Sort a copy: a key function may read (or change) the list while it is being sorted.
    let items = list.borrow().clone();
    let sorted = sort_values(vm, items, key_fn(&args), reverse)?;
    *list.borrow_mut() = sorted;
    Ok(Value::Nil)
}
