//! Sequence builtins: sorting (`sorted`, shared with `list.sort`), `reversed`, the lazy
//! `enumerate` and `zip`, `any`/`all`, and the eager `map`/`filter`.

use std::cmp::Ordering;

use crate::args::Args;
use crate::fault::Fault;
use crate::iter::iterator_value;
use crate::object::Iter;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;

use super::params::{collect_arg, flag, iterate_arg, key_fn, opt_int, MAX_ITEMS};
use super::sliced::{self, Flow, Fold};

/// sorted(iterable, key=nil, reverse=false): a new sorted list (stable).
pub(super) fn sorted(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let items = collect_arg(&args, 0)?;
    let reverse = flag(&args, "reverse")?;
    Ok(Value::list(sort_values(vm, items, key_fn(&args), reverse)?))
}

/// Sorts `items` stably by `key` (called once per item) or by the items themselves; with
/// `reverse`, equal items keep their original order, as in Python.
pub(crate) fn sort_values(
    vm: &mut Vm,
    items: Vec<Value>,
    key: Option<&Value>,
    reverse: bool,
) -> Result<Vec<Value>, Fault> {
    let Some(key) = key else {
        return sort_plain(items, reverse);
    };
    let mut keys = Vec::with_capacity(items.len());
    for item in &items {
        keys.push(vm.call_value(key, std::slice::from_ref(item))?);
    }
    let order = sort_order(&keys, reverse)?;
    Ok(order
        .into_iter()
        .filter_map(|i| items.get(i).cloned())
        .collect())
}

fn direction(reverse: bool) -> impl Fn(Ordering) -> Ordering {
    move |o| if reverse { o.reverse() } else { o }
}

/// Sorts values by themselves, with fast paths for lists of one primitive type.
fn sort_plain(mut items: Vec<Value>, reverse: bool) -> Result<Vec<Value>, Fault> {
    let direction = direction(reverse);
    if items.len() < 2 {
        return Ok(items);
    }
    // Equal ints are indistinguishable, so an unstable sort of the numbers is the answer.
    if let Some(mut ints) = items
        .iter()
        .map(|v| {
            if let Value::Int(n) = v {
                Some(*n)
            } else {
                None
            }
        })
        .collect::<Option<Vec<i64>>>()
    {
        ints.sort_unstable_by(|a, b| direction(a.cmp(b)));
        return Ok(ints.into_iter().map(Value::Int).collect());
    }
    // Floats without nan are totally ordered; the sort stays stable so -0.0 and 0.0 keep
    // their order.
    if let Some(mut floats) = items
        .iter()
        .map(|v| match v {
            Value::Float(x) if !x.is_nan() => Some(*x),
            _ => None,
        })
        .collect::<Option<Vec<f64>>>()
    {
        floats.sort_by(|a, b| direction(a.partial_cmp(b).unwrap_or(Ordering::Equal)));
        return Ok(floats.into_iter().map(Value::Float).collect());
    }
    if items.iter().all(|v| matches!(v, Value::Str(_))) {
        items.sort_by(|a, b| direction(a.as_str().unwrap_or("").cmp(b.as_str().unwrap_or(""))));
        return Ok(items);
    }
    let order = sort_order(&items, reverse)?;
    Ok(order
        .into_iter()
        .filter_map(|i| items.get(i).cloned())
        .collect())
}

/// The stable sorting permutation of `keys`.
fn sort_order(keys: &[Value], reverse: bool) -> Result<Vec<usize>, Fault> {
    let direction = direction(reverse);
    // Fast paths sort (key, index) pairs, which keeps the keys next to each other in memory.
    let ints: Option<Vec<(i64, usize)>> = keys
        .iter()
        .enumerate()
        .map(|(i, v)| {
            if let Value::Int(n) = v {
                Some((*n, i))
            } else {
                None
            }
        })
        .collect();
    if let Some(mut pairs) = ints {
        pairs.sort_by(|a, b| direction(a.0.cmp(&b.0)));
        return Ok(pairs.into_iter().map(|(_, i)| i).collect());
    }
    let floats: Option<Vec<(f64, usize)>> = keys
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::Float(x) if !x.is_nan() => Some((*x, i)),
            _ => None,
        })
        .collect();
    if let Some(mut pairs) = floats {
        pairs.sort_by(|a, b| direction(a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal)));
        return Ok(pairs.into_iter().map(|(_, i)| i).collect());
    }
    let strs: Option<Vec<(&str, usize)>> = keys
        .iter()
        .enumerate()
        .map(|(i, v)| v.as_str().map(|t| (t, i)))
        .collect();
    if let Some(mut pairs) = strs {
        pairs.sort_by(|a, b| direction(a.0.cmp(b.0)));
        return Ok(pairs.into_iter().map(|(_, i)| i).collect());
    }
    // General case: comparisons can fail (mixed types, nan), so use a merge sort that stops at
    // the first fault instead of `sort_by`, which needs a total order.
    let mut order: Vec<usize> = (0..keys.len()).collect();
    merge_sort(&mut order, &mut |a, b| match (keys.get(a), keys.get(b)) {
        (Some(x), Some(y)) => ops::compare(x, y).map(&direction),
        _ => Ok(Ordering::Equal),
    })?;
    Ok(order)
}

/// A stable bottom-up merge sort of indexes with a fallible comparison.
fn merge_sort(
    order: &mut Vec<usize>,
    cmp: &mut impl FnMut(usize, usize) -> Result<Ordering, Fault>,
) -> Result<(), Fault> {
    const RUN: usize = 16;
    let n = order.len();
    // Insertion-sort short runs.
    for run in order.chunks_mut(RUN) {
        for i in 1..run.len() {
            let mut j = i;
            while j > 0 && cmp(run[j - 1], run[j])? == Ordering::Greater {
                run.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    let mut buffer = vec![0usize; n];
    let mut width = RUN;
    while width < n {
        for (lo, chunk) in (0..n).step_by(2 * width).zip(buffer.chunks_mut(2 * width)) {
            let mid = (lo + width).min(n);
            let hi = (lo + 2 * width).min(n);
            let (left, right) = (&order[lo..mid], &order[mid..hi]);
            let (mut i, mut j, mut k) = (0, 0, 0);
            while i < left.len() && j < right.len() {
                // Take from the right only when strictly smaller: keeps the sort stable.
                if cmp(right[j], left[i])? == Ordering::Less {
                    chunk[k] = right[j];
                    j += 1;
                } else {
                    chunk[k] = left[i];
                    i += 1;
                }
                k += 1;
            }
            let rest_left = &left[i..];
            chunk[k..k + rest_left.len()].copy_from_slice(rest_left);
            k += rest_left.len();
            let rest_right = &right[j..];
            chunk[k..k + rest_right.len()].copy_from_slice(rest_right);
        }
        std::mem::swap(order, &mut buffer);
        width *= 2;
    }
    Ok(())
}

/// reversed(iterable): a new list of the items in reverse order.
pub(super) fn reversed(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let mut items = collect_arg(&args, 0)?;
    items.reverse();
    Ok(Value::list(items))
}

/// enumerate(iterable, start=0): an iterator of (index, item) pairs.
pub(super) fn enumerate(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let start = opt_int(&args, 1, "start")?.unwrap_or(0);
    // The counter must not overflow while counting; no iteration reaches 2^48 items.
    if start > i64::MAX - (1 << 48) {
        return Err(Fault::new(format!(
            "enumerate() start {start} is too large"
        )));
    }
    let inner = iterate_arg(&args, 0)?;
    Ok(iterator_value(Iter::Enumerate(Box::new(inner), start)))
}

/// zip(*iterables): an iterator of tuples taking one item from each, stopping at the shortest.
pub(super) fn zip(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let iters = (0..args.len())
        .map(|i| iterate_arg(&args, i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(iterator_value(Iter::Zip(iters)))
}

/// any(iterable): whether some item is truthy (false for an empty iterable).
pub(super) fn any(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    sliced::fold(vm, iterate_arg(&args, 0)?, Truthy { stop_at: true })
}

/// `any` (stops at the first truthy item) and `all` (at the first falsy one).
struct Truthy {
    stop_at: bool,
}

impl Fold for Truthy {
    fn step(&mut self, _vm: &mut Vm, item: Value) -> Result<Flow, Fault> {
        Ok(if item.truthy() == self.stop_at {
            Flow::Stop(Value::Bool(self.stop_at))
        } else {
            Flow::Continue
        })
    }

    fn finish(self, _vm: &mut Vm) -> Result<Value, Fault> {
        Ok(Value::Bool(!self.stop_at))
    }
}

/// all(iterable): whether every item is truthy (true for an empty iterable).
pub(super) fn all(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    sliced::fold(vm, iterate_arg(&args, 0)?, Truthy { stop_at: false })
}

/// map(f, iterable, *more): a list of `f(item)`; with several iterables, `f(a, b, ...)` pairwise.
pub(super) fn map(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let f = args.value(0)?.clone();
    if args.len() == 2 {
        let it = iterate_arg(&args, 1)?;
        return sliced::fold(vm, it, Mapped::new(f, Keep::Results, false));
    }
    // Several iterables: their items, zipped, are the arguments of each call.
    let iters = (1..args.len())
        .map(|i| iterate_arg(&args, i))
        .collect::<Result<Vec<_>, _>>()?;
    sliced::fold(vm, Iter::Zip(iters), Mapped::new(f, Keep::Results, true))
}

/// What `map` and `filter` keep of each item.
enum Keep {
    /// `f(item)` (map).
    Results,
    /// The item, when `f(item)` (or, with `f` nil, the item itself) is truthy (filter).
    Truthy,
}

/// `map` and `filter`: a list built by calling `f` on each item.
struct Mapped {
    f: Value,
    keep: Keep,
    /// Items are tuples to spread into `f`'s arguments (map over several iterables).
    spread: bool,
    out: Vec<Value>,
}

impl Mapped {
    fn new(f: Value, keep: Keep, spread: bool) -> Mapped {
        Mapped {
            f,
            keep,
            spread,
            out: Vec::new(),
        }
    }
}

impl Fold for Mapped {
    fn step(&mut self, vm: &mut Vm, item: Value) -> Result<Flow, Fault> {
        if self.out.len() >= MAX_ITEMS {
            return Err(Fault::new(format!(
                "map()/filter() would make a list of more than {MAX_ITEMS} items"
            )));
        }
        match self.keep {
            Keep::Results => {
                let result = match (&item, self.spread) {
                    (Value::Tuple(items), true) => vm.call_value(&self.f, items)?,
                    _ => vm.call_value(&self.f, std::slice::from_ref(&item))?,
                };
                self.out.push(result);
            }
            Keep::Truthy => {
                let keep = match &self.f {
                    Value::Nil => item.truthy(),
                    f => vm.call_value(f, std::slice::from_ref(&item))?.truthy(),
                };
                if keep {
                    self.out.push(item);
                }
            }
        }
        Ok(Flow::Continue)
    }

    fn finish(self, _vm: &mut Vm) -> Result<Value, Fault> {
        Ok(Value::list(self.out))
    }
}

/// filter(f, iterable): a list of the items for which `f(item)` is truthy (`f` nil: the item).
pub(super) fn filter(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let f = args.value(0)?.clone();
    let it = iterate_arg(&args, 1)?;
    sliced::fold(vm, it, Mapped::new(f, Keep::Truthy, false))
}
