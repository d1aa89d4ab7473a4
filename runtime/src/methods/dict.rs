//! Dict methods: `keys`, `values`, `items`, `get`, `pop`, `setdefault`, `update`, `clear` and
//! `copy`, plus the (key, value) pair reading that `dict()` shares.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::is_iterable;
use crate::dict::Key;
use crate::fault::Fault;
use crate::format;
use crate::iter;
use crate::native::{Member, Params, Table};
use crate::value::Value;
use crate::vm::Vm;

type DictRef = Rc<crate::teardown::DictCell>;

/// A member of this type's table.
type M = Member<DictRef>;

/// Every dict method.
pub(super) static TABLE: Table<DictRef> = Table::new(
    "dict",
    "A mutable mapping in insertion order: `{\"a\": 1}`, `dict(pairs, **items)`.",
    &[
        M::method("keys", |d, _, _| {
            Ok(Value::list(d.borrow().keys().map(|k| k.value().clone()).collect()))
        })
        .doc("keys()\nThe keys, as a list."),
        M::method("values", |d, _, _| {
            Ok(Value::list(d.borrow().values().cloned().collect()))
        })
        .doc("values()\nThe values, as a list."),
        M::method("items", |d, _, _| {
            let items = d
                .borrow()
                .iter()
                .map(|(k, v)| Value::tuple(vec![k.value().clone(), v.clone()]))
                .collect();
            Ok(Value::list(items))
        })
        .doc("items()\nThe (key, value) pairs, as a list of tuples."),
        M::method("get", get)
            .doc("get(key, default=nil)\nThe value for `key`, or `default` when it is missing.")
            .params(Params::between(1, 2)),
        M::method("pop", pop)
            .doc("pop(key, default)\nRemoves `key` and returns its value; `default` (or a fault) when it is missing.")
            .params(Params::between(1, 2)),
        M::method("setdefault", setdefault)
            .doc("setdefault(key, default=nil)\nThe value for `key`, inserting `default` first when it is missing.")
            .params(Params::between(1, 2)),
        M::method("update", update)
            .doc("update(other=nil, **items)\nCopies in the items of a dict or of (key, value) pairs, then the keywords.")
            .params(Params::between(0, 1).any_keywords()),
        M::method("clear", |d, _, _| {
            d.borrow_mut().clear();
            Ok(Value::Nil)
        })
        .doc("clear()\nRemoves every item."),
        M::method("copy", |d, _, _| Ok(Value::dict(d.borrow().clone())))
            .doc("copy()\nA new dict with the same items (a shallow copy)."),
    ],
);

/// `d.get(k, default=nil)`: the value for `k`, or `default`.
fn get(d: &DictRef, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key = Key::new(args.value(0)?.clone())?;
    let found = d.borrow().get(&key).cloned();
    Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or_default()))
}

/// `d.pop(k, default)`: removes `k` and returns its value, or `default` if given.
fn pop(d: &DictRef, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key = Key::new(args.value(0)?.clone())?;
    let removed = d.borrow_mut().shift_remove(&key);
    match (removed, args.get(1)) {
        (Some(v), _) => Ok(v),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(Fault::new(format!(
            "key not found: {}",
            format::repr(key.value())
        ))),
    }
}

/// `d.setdefault(k, default=nil)`: the value for `k`, inserting `default` first if missing.
fn setdefault(d: &DictRef, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key = Key::new(args.value(0)?.clone())?;
    let default = args.get(1).cloned().unwrap_or_default();
    let value = d.borrow_mut().entry(key).or_insert(default).clone();
    Ok(value)
}

/// `d.update(other=nil, **items)`: copies in the items of a dict or (key, value) pairs.
fn update(d: &DictRef, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let mut pairs = match args.get(0) {
        None | Some(Value::Nil) => Vec::new(),
        Some(source) if is_iterable(source) => pairs_of(source, args.function)?,
        Some(other) => return Err(args.wrong_type(0, "dict or iterable of pairs", other)),
    };
    pairs.extend(
        args.names
            .iter()
            .zip(args.named)
            .map(|(n, v)| (Key::str(n.name()), v.clone())),
    );
    // Pairs are read before borrowing: `d.update(d)` reads the dict it writes.
    d.borrow_mut().extend(pairs);
    Ok(Value::Nil)
}

/// The (key, value) pairs of a dict, or of an iterable of 2-item lists or tuples.
pub(crate) fn pairs_of(source: &Value, function: &str) -> Result<Vec<(Key, Value)>, Fault> {
    if let Value::Dict(other) = source {
        return Ok(other
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect());
    }
    let mut it = iter::iterate(source)?;
    let mut pairs = Vec::new();
    let mut i = 0usize;
    while let Some(item) = it.next_value()? {
        let pair = match &item {
            Value::Tuple(t) => t.to_vec(),
            Value::List(l) => l.borrow().clone(),
            other => {
                return Err(Fault::new(format!(
                    "{function}() item {i} must be a (key, value) pair, not {}",
                    other.type_name()
                )))
            }
        };
        match <[Value; 2]>::try_from(pair) {
            Ok([k, v]) => pairs.push((Key::new(k)?, v)),
            Err(pair) => {
                return Err(Fault::new(format!(
                    "{function}() item {i} has {} elements; a (key, value) pair needs 2",
                    pair.len()
                )))
            }
        }
        i += 1;
    }
    Ok(pairs)
}
