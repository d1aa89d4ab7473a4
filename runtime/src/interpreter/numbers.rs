//! The operator cases the dispatch loop answers itself: comparisons of ints, floats, nil and
//! bools, and numbers read as floats for mixed arithmetic.

use std::rc::Rc;

use cn_compiler::bytecode::Cmp;

use crate::value::Value;

/// An int or a float as f64 (callers have matched one of the two).
#[inline(always)]
pub(super) fn number(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// The comparisons answered without the general path, of `a` and `b` (the two values on top of
/// the stack):
/// two ints; two floats (unless one is NaN and the comparison is an ordering, which faults);
/// `==` and `!=` with `nil` or two bools on either side, by identity, and of two strings. `None`: ask `ops`.
#[inline(always)]
pub(super) fn quick_compare(cmp: Cmp, a: &Value, b: &Value) -> Option<bool> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Some(int_compare(cmp, *x, *y)),
        (Value::Float(x), Value::Float(y)) => match cmp {
            Cmp::Eq => Some(x == y),
            Cmp::Ne => Some(x != y),
            _ => x
                .partial_cmp(y)
                .map(|order| int_compare(cmp, order as i64, 0)),
        },
        (a, b) if matches!(cmp, Cmp::Eq | Cmp::Ne) => {
            let same = match (a, b) {
                (Value::Nil, other) | (other, Value::Nil) => matches!(other, Value::Nil),
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Str(x), Value::Str(y)) => Rc::ptr_eq(x, y) || same_text(x, y),
                _ => return None,
            };
            Some(same == (cmp == Cmp::Eq))
        }
        _ => None,
    }
}

#[inline(always)]
pub(super) fn int_compare(cmp: Cmp, x: i64, y: i64) -> bool {
    match cmp {
        Cmp::Lt => x < y,
        Cmp::Le => x <= y,
        Cmp::Gt => x > y,
        Cmp::Ge => x >= y,
        Cmp::Eq => x == y,
        Cmp::Ne => x != y,
    }
}

/// String equality without a call to `memcmp` for the short strings most comparisons are
/// about (a parser's `c == "n"`), where the call cost more than the comparison.
#[inline(always)]
fn same_text(x: &str, y: &str) -> bool {
    let (x, y) = (x.as_bytes(), y.as_bytes());
    if x.len() != y.len() {
        return false;
    }
    if x.len() <= 8 {
        return x.iter().zip(y).all(|(a, b)| a == b);
    }
    x == y
}
