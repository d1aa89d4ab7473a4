//! Dict methods: `keys`, `values`, `items`, `get`, `pop`, `setdefault`, `update`, `clear` and
//! `copy`, plus the (key, value) pair reading that `dict()` shares.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{is_iterable, no_args};
use crate::dict::Key;
use crate::fault::Fault;
use crate::format;
use crate::iter;
use crate::symbol::{self, Symbol};
use crate::value::Value;

type DictRef = Rc<crate::teardown::DictCell>;

/// Every dict method.
pub(super) const NAMES: &[&str] = &[
    "keys",
    "values",
    "items",
    "get",
    "pop",
    "setdefault",
    "update",
    "clear",
    "copy",
];

/// Calls dict method `name`; `None` if there is no such method.
pub(super) fn call(d: &DictRef, name: Symbol, args: Args<'_>) -> Option<Result<Value, Fault>> {
    Some(match name {
        symbol::KEYS => no_args(&args)
            .map(|()| Value::list(d.borrow().keys().map(|k| k.value().clone()).collect())),
        symbol::VALUES => {
            no_args(&args).map(|()| Value::list(d.borrow().values().cloned().collect()))
        }
        symbol::ITEMS => no_args(&args).map(|()| {
            let items = d
                .borrow()
                .iter()
                .map(|(k, v)| Value::tuple(vec![k.value().clone(), v.clone()]))
                .collect();
            Value::list(items)
        }),
        symbol::GET => get(d, args),
        symbol::POP => pop(d, args),
        symbol::SETDEFAULT => setdefault(d, args),
        symbol::UPDATE => update(d, args),
        symbol::CLEAR => no_args(&args).map(|()| {
            d.borrow_mut().clear();
            Value::Nil
        }),
        symbol::COPY => no_args(&args).map(|()| Value::dict(d.borrow().clone())),
        _ => return None,
    })
}

/// `d.get(k, default=nil)`: the value for `k`, or `default`.
fn get(d: &DictRef, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 2)?;
    args.allow_named(&[])?;
    let key = Key::new(args.value(0)?.clone())?;
    let found = d.borrow().get(&key).cloned();
    Ok(found.unwrap_or_else(|| args.get(1).cloned().unwrap_or_default()))
}

/// `d.pop(k, default)`: removes `k` and returns its value, or `default` if given.
fn pop(d: &DictRef, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 2)?;
    args.allow_named(&[])?;
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
fn setdefault(d: &DictRef, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 2)?;
    args.allow_named(&[])?;
    let key = Key::new(args.value(0)?.clone())?;
    let default = args.get(1).cloned().unwrap_or_default();
    let value = d.borrow_mut().entry(key).or_insert(default).clone();
    Ok(value)
}

/// `d.update(other=nil, **items)`: copies in the items of a dict or (key, value) pairs.
fn update(d: &DictRef, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    let mut pairs = match args.get(0) {
        None | Some(Value::Nil) => Vec::new(),
        Some(source) if is_iterable(source) => pairs_of(source, args.function)?,
        Some(other) => return Err(args.wrong_type(0, "dict or iterable of pairs", other)),
    };
    pairs.extend(
        args.names
            .iter()
            .zip(args.named)
            .map(|(n, v)| (Key::str(&n.name()), v.clone())),
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
