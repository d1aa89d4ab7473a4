//! Set methods: adding and removing members, and the set algebra by name, which (unlike the
//! operators `|`, `&`, `-`, `^`) accepts any iterable, as Python's does.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::collect;
use crate::fault::Fault;
use crate::format;
use crate::native::{Member, Params, Table};
use crate::set::{combine, items_of, member, SetCell, SetItems, SetOp};
use crate::value::Value;
use crate::vm::Vm;

type SetRef = Rc<SetCell>;

/// A member of this type's table.
type M = Member<SetRef>;

/// Every set method.
pub(super) static TABLE: Table<SetRef> = Table::new(
    "set",
    "A mutable set of distinct hashable values: `{1, 2}`, `set(iterable)`; `|` `&` `-` `^` combine two sets.",
    &[
        M::method("add", |s, _, args| {
            let key = member(args.value(0)?.clone())?;
            s.borrow_mut().insert(key);
            Ok(Value::Nil)
        })
        .doc("add(x)\nAdds `x` (nothing happens if it is already there).")
        .params(Params::exactly(1)),
        M::method("remove", |s, _, args| {
            let key = member(args.value(0)?.clone())?;
            if s.borrow_mut().swap_remove(&key) {
                Ok(Value::Nil)
            } else {
                Err(Fault::new(format!("not in the set: {}", format::repr(key.value()))))
            }
        })
        .doc("remove(x)\nRemoves `x`; faults if it is not there (`discard` does not).")
        .params(Params::exactly(1)),
        M::method("discard", |s, _, args| {
            let key = member(args.value(0)?.clone())?;
            Ok(Value::Bool(s.borrow_mut().swap_remove(&key)))
        })
        .doc("discard(x)\nRemoves `x` if it is there; `true` if it was.")
        .params(Params::exactly(1)),
        M::method("pop", |s, _, _| {
            s.borrow_mut()
                .pop()
                .map(|key| key.into_value())
                .ok_or_else(|| Fault::new("pop from an empty set"))
        })
        .doc("pop()\nRemoves and returns a member; faults on an empty set."),
        M::method("clear", |s, _, _| {
            s.borrow_mut().clear();
            Ok(Value::Nil)
        })
        .doc("clear()\nRemoves every member."),
        M::method("copy", |s, _, _| Ok(Value::set(s.borrow().clone())))
            .doc("copy()\nA new set with the same members."),
        M::method("update", |s, _, args| {
            for i in 0..args.len() {
                let added = others(&args, i)?;
                s.borrow_mut().extend(added);
            }
            Ok(Value::Nil)
        })
        .doc("update(*iterables)\nAdds every item of each iterable.")
        .params(Params::at_least(0)),
        M::method("union", |s, _, args| algebra(s, &args, SetOp::Union))
            .doc("union(*iterables)\nA new set of the members of this set and of every iterable (`a | b`).")
            .params(Params::at_least(0)),
        M::method("intersection", |s, _, args| algebra(s, &args, SetOp::Intersection))
            .doc("intersection(*iterables)\nA new set of the members found in this set and in every iterable (`a & b`).")
            .params(Params::at_least(0)),
        M::method("difference", |s, _, args| algebra(s, &args, SetOp::Difference))
            .doc("difference(*iterables)\nA new set of the members of this set found in none of the iterables (`a - b`).")
            .params(Params::at_least(0)),
        M::method("symmetric_difference", |s, _, args| {
            algebra(s, &args, SetOp::SymmetricDifference)
        })
        .doc("symmetric_difference(iterable)\nA new set of the members in exactly one of the two (`a ^ b`).")
        .params(Params::exactly(1)),
        M::method("is_subset", |s, _, args| {
            let other = others(&args, 0)?;
            Ok(Value::Bool(s.borrow().is_subset(&other)))
        })
        .doc("is_subset(iterable)\nWhether every member is also in `iterable`.")
        .params(Params::exactly(1)),
        M::method("is_superset", |s, _, args| {
            let other = others(&args, 0)?;
            Ok(Value::Bool(s.borrow().is_superset(&other)))
        })
        .doc("is_superset(iterable)\nWhether every item of `iterable` is a member.")
        .params(Params::exactly(1)),
        M::method("is_disjoint", |s, _, args| {
            let other = others(&args, 0)?;
            Ok(Value::Bool(s.borrow().is_disjoint(&other)))
        })
        .doc("is_disjoint(iterable)\nWhether no item of `iterable` is a member.")
        .params(Params::exactly(1)),
    ],
);

/// Argument `i` as members: a set's own, or an iterable's items, each checked to be hashable.
fn others(args: &Args<'_>, i: usize) -> Result<SetItems, Fault> {
    match args.value(i)? {
        Value::Set(other) => Ok(other.borrow().clone()),
        value => match collect(value) {
            Ok(items) => items_of(items),
            Err(_) => Err(args.wrong_type(i, "iterable", value)),
        },
    }
}

/// This set combined with each argument in turn.
fn algebra(s: &SetRef, args: &Args<'_>, op: SetOp) -> Result<Value, Fault> {
    let mut result = s.borrow().clone();
    for i in 0..args.len() {
        result = combine(op, &result, &others(args, i)?);
    }
    Ok(Value::set(result))
}

/// set(iterable=[]): a new set of the iterable's items.
pub(crate) fn construct(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    if args.is_empty() {
        return Ok(Value::set(crate::set::new_items()));
    }
    Ok(Value::set(others(&args, 0)?))
}
