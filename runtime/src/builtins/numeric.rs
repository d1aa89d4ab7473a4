//! Numeric builtins: `abs`, `round`, `divmod`, `sum`, `min` and `max`.

use std::cmp::Ordering;

use cn_compiler::syntax::ast::BinOp;

use crate::args::Args;
use crate::fault::Fault;
use crate::ops;
use crate::value::Value;
use crate::vm::Vm;

use super::convert::float_to_int;
use super::params::{collect_arg, iterate_arg, key_fn};
use super::sliced;

/// abs(x): the absolute value of an int, float or duration.
pub(super) fn abs(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let overflow = || Fault::new("integer overflow in abs()");
    match args.value(0)? {
        Value::Int(n) => n.checked_abs().map(Value::Int).ok_or_else(overflow),
        Value::Float(f) => Ok(Value::Float(f.abs())),
        Value::Duration(d) => d.checked_abs().map(Value::Duration).ok_or_else(overflow),
        other => Err(args.wrong_type(0, "int, float or duration", other)),
    }
}

/// round(x, ndigits=nil): `x` rounded half to even; an int without `ndigits`, else like `x`.
pub(super) fn round(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let ndigits = match args.get_or_named(1, "ndigits") {
        None | Some(Value::Nil) => None,
        Some(Value::Int(n)) => Some(*n),
        Some(other) => return Err(args.wrong_type(1, "int", other)),
    };
    match (args.value(0)?, ndigits) {
        (Value::Int(n), None) => Ok(Value::Int(*n)),
        (Value::Int(n), Some(digits)) => round_int(*n, digits).map(Value::Int),
        (Value::Float(f), None) => float_to_int(f.round_ties_even()).map(Value::Int),
        (Value::Float(f), Some(digits)) => Ok(Value::Float(round_float(*f, digits))),
        (other, _) => Err(args.wrong_type(0, "int or float", other)),
    }
}

/// Rounds an int to `digits` decimal places (only negative `digits` change it), half to even.
fn round_int(n: i64, digits: i64) -> Result<i64, Fault> {
    if digits >= 0 {
        return Ok(n);
    }
    // |n| < 10^19 / 2 rounds to 0 for any coarser precision (and keeps 2 * r within i128).
    if digits < -19 {
        return Ok(0);
    }
    let p = 10i128.pow(digits.unsigned_abs() as u32);
    let n = i128::from(n);
    let (mut q, r) = (n.div_euclid(p), n.rem_euclid(p));
    if 2 * r > p || (2 * r == p && q % 2 != 0) {
        q += 1;
    }
    i64::try_from(q * p).map_err(|_| Fault::new("integer overflow in round()"))
}

/// Rounds a float to `digits` decimal places, half to even on its exact binary value (Python).
fn round_float(f: f64, digits: i64) -> f64 {
    if !f.is_finite() || f == 0.0 {
        return f;
    }
    if digits >= 0 {
        if digits > 350 {
            return f;
        }
        // Rust formats from the exact binary value and breaks exact ties to even, as Python does.
        let precision = digits as usize;
        return format!("{f:.precision$}").parse().unwrap_or(f);
    }
    if digits < -308 {
        return 0.0f64.copysign(f);
    }
    let p = 10f64.powi(digits.unsigned_abs() as i32);
    let y = (f / p).round_ties_even() * p;
    if y.is_finite() {
        y
    } else {
        f
    }
}

/// divmod(a, b): the tuple (a // b, a % b), with Python's floor semantics.
pub(super) fn divmod(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    for i in 0..2 {
        let v = args.value(i)?;
        if !matches!(v, Value::Int(_) | Value::Float(_) | Value::Duration(_)) {
            return Err(args.wrong_type(i, "int, float or duration", v));
        }
    }
    let (a, b) = (args.value(0)?, args.value(1)?);
    let quotient = ops::binary(BinOp::FloorDiv, a, b)?;
    let remainder = ops::binary(BinOp::Mod, a, b)?;
    Ok(Value::tuple(vec![quotient, remainder]))
}

/// A running sum: ints stay exact (overflow faults), floats use compensated summation like
/// Python 3.12, anything else goes through `+`.
enum Total {
    Int(i64),
    Float { sum: f64, compensation: f64 },
    Other(Value),
}

impl Total {
    fn add(self, item: Value) -> Result<Total, Fault> {
        Ok(match (self, item) {
            (Total::Int(a), Value::Int(b)) => Total::Int(
                a.checked_add(b)
                    .ok_or_else(|| Fault::new("integer overflow in sum()"))?,
            ),
            (Total::Int(a), Value::Float(b)) => Total::Float {
                sum: a as f64,
                compensation: 0.0,
            }
            .add_float(b),
            (Total::Float { sum, compensation }, Value::Int(b)) => {
                Total::Float { sum, compensation }.add_float(b as f64)
            }
            (Total::Float { sum, compensation }, Value::Float(b)) => {
                Total::Float { sum, compensation }.add_float(b)
            }
            (_, Value::Str(_)) => {
                return Err(Fault::new(
                    "sum() cannot add strings; use \"\".join(items) instead",
                ))
            }
            (total, item) => Total::Other(ops::binary(BinOp::Add, &total.value(), &item)?),
        })
    }

    fn add_float(self, x: f64) -> Total {
        let (sum, compensation) = match self {
            Total::Float { sum, compensation } => (sum, compensation),
            _ => (0.0, 0.0),
        };
        let t = sum + x;
        let compensation = if sum.abs() >= x.abs() {
            compensation + ((sum - t) + x)
        } else {
            compensation + ((x - t) + sum)
        };
        Total::Float {
            sum: t,
            compensation,
        }
    }

    fn value(self) -> Value {
        match self {
            Total::Int(n) => Value::Int(n),
            Total::Float { sum, compensation } => {
                if compensation != 0.0 && compensation.is_finite() {
                    Value::Float(sum + compensation)
                } else {
                    Value::Float(sum)
                }
            }
            Total::Other(v) => v,
        }
    }
}

/// sum(iterable, start=0): `start` plus every item (ints, floats, durations, ...).
pub(super) fn sum(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let start = args.get_or_named(1, "start");
    let total = match start {
        None => Total::Int(0),
        Some(Value::Int(n)) => Total::Int(*n),
        Some(Value::Float(f)) => Total::Float {
            sum: *f,
            compensation: 0.0,
        },
        Some(Value::Str(_)) => {
            return Err(Fault::new(
                "sum() cannot add strings; use \"\".join(items) instead",
            ))
        }
        Some(other) => Total::Other(other.clone()),
    };
    let it = iterate_arg(&args, 0)?;
    sliced::fold(
        vm,
        it,
        Sum {
            total: Some(total),
            first: start.is_none(),
        },
    )
}

/// `sum`'s fold.
struct Sum {
    /// `None` only while an item is being added.
    total: Option<Total>,
    /// Before the first item, when no `start` was given.
    first: bool,
}

impl sliced::Fold for Sum {
    fn step(&mut self, _vm: &mut Vm, item: Value) -> Result<sliced::Flow, Fault> {
        let total = self.total.take().unwrap_or(Total::Int(0));
        // Durations sum without an explicit `start=0.seconds`.
        self.total = Some(if self.first && matches!(item, Value::Duration(_)) {
            Total::Other(item)
        } else {
            total.add(item)?
        });
        self.first = false;
        Ok(sliced::Flow::Continue)
    }

    fn finish(self, _vm: &mut Vm) -> Result<Value, Fault> {
        Ok(self.total.unwrap_or(Total::Int(0)).value())
    }
}

/// min(iterable, key=nil, default=...) or min(a, b, ...): the smallest item (the first of equals).
pub(super) fn min(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    extreme(vm, args, Ordering::Less)
}

/// max(iterable, key=nil, default=...) or max(a, b, ...): the largest item (the first of equals).
pub(super) fn max(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    extreme(vm, args, Ordering::Greater)
}

fn extreme(vm: &mut Vm, args: Args<'_>, wanted: Ordering) -> Result<Value, Fault> {
    if args.is_empty() {
        return Err(Fault::new(format!(
            "{}() takes at least 1 argument, got 0",
            args.function
        )));
    }
    let key = key_fn(&args);
    let default = args.named("default");
    let items = if args.len() == 1 {
        collect_arg(&args, 0)?
    } else {
        if default.is_some() {
            return Err(Fault::new(format!(
                "{}() cannot take a default with several positional arguments",
                args.function
            )));
        }
        args.positional.to_vec()
    };
    let mut items = items.into_iter();
    let Some(mut best) = items.next() else {
        return match default {
            Some(d) => Ok(d.clone()),
            None => Err(Fault::new(format!(
                "{}() of an empty sequence",
                args.function
            ))),
        };
    };
    let mut best_key = match key {
        Some(k) => Some(vm.call_value(k, std::slice::from_ref(&best))?),
        None => None,
    };
    for item in items {
        match (key, &best_key) {
            (Some(k), Some(bk)) => {
                let item_key = vm.call_value(k, std::slice::from_ref(&item))?;
                if ops::compare(&item_key, bk)? == wanted {
                    best = item;
                    best_key = Some(item_key);
                }
            }
            _ => {
                if ops::compare(&item, &best)? == wanted {
                    best = item;
                }
            }
        }
    }
    Ok(best)
}
