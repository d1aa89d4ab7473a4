//! Operators on values with Python's meaning: arithmetic, equality, ordering and membership.
//!
//! The VM's dispatch loop handles the int-int fast paths inline and calls these for everything
//! else, so these functions favour clarity over speed.

use std::cmp::Ordering;
use std::rc::Rc;

use cn_compiler::syntax::ast::BinOp;

use crate::builtins::params::{MAX_ITEMS, MAX_RESULT_BYTES};
use crate::dict::Key;
use crate::fault::Fault;
use crate::value::Value;

/// How deeply `==`, ordering and `in` follow nested containers before they fault instead: as
/// deep as Python's default recursion limit. A value that contains itself gets there at once,
/// and the Rust stack never runs out.
pub const MAX_NESTING: usize = 1000;

/// How many pairs of containers one `==`, ordering or `in` may compare before it faults: two
/// values that share one child at every level (no cycle, so no depth limit is reached) hold
/// exponentially many, and comparing them would hold the thread for centuries.
pub const MAX_COMPARED: usize = 10_000_000;

/// The state of one structural comparison.
#[derive(Default)]
struct Walk {
    /// Container pairs compared so far.
    compared: usize,
}

impl Walk {
    /// Steps into a pair of containers at `depth`; the depth below it, or the fault that stops.
    fn enter(&mut self, depth: usize, what: &str) -> Result<usize, Fault> {
        self.compared += 1;
        if depth >= MAX_NESTING {
            return Err(Fault::new(format!(
                "{what}: values nested more than {MAX_NESTING} deep (does one contain itself?)"
            )));
        }
        if self.compared > MAX_COMPARED {
            return Err(Fault::new(format!(
                "{what}: more than {MAX_COMPARED} nested containers compared"
            )));
        }
        Ok(depth + 1)
    }
}

/// Structural equality (`==`): numbers compare by value across int and float; containers,
/// records and variants compare element-wise; functions and objects by identity. Faults only
/// when the values nest deeper than [`MAX_NESTING`].
pub fn equal(a: &Value, b: &Value) -> Result<bool, Fault> {
    match equal_shallow(a, b) {
        Some(equal) => Ok(equal),
        None => equal_at(a, b, 0, &mut Walk::default()),
    }
}

/// `a == b` when it needs no walk into containers (everything but two containers of one kind
/// that are not the same object): `x == nil` in a loop costs no more than it did.
#[inline]
fn equal_shallow(a: &Value, b: &Value) -> Option<bool> {
    use Value::*;
    Some(match (a, b) {
        (Nil, Nil) => true,
        (Bool(x), Bool(y)) => x == y,
        (Int(x), Int(y)) => x == y,
        (Float(x), Float(y)) => x == y,
        (Int(x), Float(y)) | (Float(y), Int(x)) => int_float_order(*x, *y) == Some(Ordering::Equal),
        (Duration(x), Duration(y)) => x == y,
        (Str(x), Str(y)) => x == y,
        (Bytes(x), Bytes(y)) => x == y,
        (List(x), List(y)) if Rc::ptr_eq(x, y) => true,
        (Dict(x), Dict(y)) if Rc::ptr_eq(x, y) => true,
        // IndexSet's `==` is set equality: the same members, in any order.
        (Set(x), Set(y)) => Rc::ptr_eq(x, y) || *x.borrow() == *y.borrow(),
        (Record(x), Record(y)) if crate::record::RecordRef::ptr_eq(x, y) => true,
        (Record(x), Record(y)) if !Rc::ptr_eq(&x.ty, &y.ty) => false,
        (Variant(x), Variant(y)) if x.name != y.name || x.type_name != y.type_name => false,
        (List(_), List(_))
        | (Tuple(_), Tuple(_))
        | (Dict(_), Dict(_))
        | (Record(_), Record(_))
        | (Variant(_), Variant(_)) => return None,
        (Range(x), Range(y)) => (x.start, x.stop, x.step) == (y.start, y.stop, y.step),
        (Type(x), Type(y)) => Rc::ptr_eq(x, y),
        (Enum(x), Enum(y)) => Rc::ptr_eq(x, y),
        (Module(x), Module(y)) => Rc::ptr_eq(x, y),
        (Object(x), Object(y)) => x.inner.equals(y).unwrap_or_else(|| a.same(b)),
        _ => a.same(b),
    })
}

/// `==` on two containers of one kind (what [`equal_shallow`] leaves), `depth` levels down.
fn equal_at(a: &Value, b: &Value, depth: usize, walk: &mut Walk) -> Result<bool, Fault> {
    use Value::*;
    if let Some(equal) = equal_shallow(a, b) {
        return Ok(equal);
    }
    let depth = walk.enter(depth, "==")?;
    Ok(match (a, b) {
        (List(x), List(y)) => seq_equal(&x.borrow(), &y.borrow(), depth, walk)?,
        (Tuple(x), Tuple(y)) => seq_equal(x, y, depth, walk)?,
        (Dict(x), Dict(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            if x.len() != y.len() {
                return Ok(false);
            }
            for (k, v) in x.iter() {
                match y.get(k) {
                    Some(w) if equal_at(v, w, depth, walk)? => {}
                    _ => return Ok(false),
                }
            }
            true
        }
        (Record(x), Record(y)) => seq_equal(&x.fields(), &y.fields(), depth, walk)?,
        (Variant(x), Variant(y)) => seq_equal(&x.payload, &y.payload, depth, walk)?,
        // `equal_shallow` answered every other pair.
        _ => false,
    })
}

/// Exact comparison of an int with a float, as Python does (no rounding of the int to a float):
/// `9007199254740993 == 9007199254740992.0` is false. `None` when the float is nan.
fn int_float_order(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // 2^63 as a float: every float at or beyond it is outside the int range.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f >= LIMIT {
        return Some(Ordering::Less);
    }
    if f < -LIMIT {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    match i.cmp(&(whole as i64)) {
        Ordering::Equal => 0.0_f64.partial_cmp(&(f - whole)),
        other => Some(other),
    }
}

fn seq_equal(a: &[Value], b: &[Value], depth: usize, walk: &mut Walk) -> Result<bool, Fault> {
    if a.len() != b.len() {
        return Ok(false);
    }
    for (x, y) in a.iter().zip(b) {
        if !equal_at(x, y, depth, walk)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Ordering for `<`, `<=`, `>`, `>=` and `sorted`: numbers, strings, durations, and lists or
/// tuples lexicographically. Anything else is a fault naming both types, as is nesting deeper
/// than [`MAX_NESTING`].
pub fn compare(a: &Value, b: &Value) -> Result<Ordering, Fault> {
    compare_at(a, b, 0, &mut Walk::default())
}

fn compare_at(a: &Value, b: &Value, depth: usize, walk: &mut Walk) -> Result<Ordering, Fault> {
    use Value::*;
    let unordered = || {
        Fault::new(format!(
            "cannot compare {} with {}",
            a.type_name(),
            b.type_name()
        ))
    };
    match (a, b) {
        (Int(x), Int(y)) => Ok(x.cmp(y)),
        (Float(x), Float(y)) => x.partial_cmp(y).ok_or_else(unordered),
        (Int(x), Float(y)) => int_float_order(*x, *y).ok_or_else(unordered),
        (Float(x), Int(y)) => int_float_order(*y, *x)
            .map(Ordering::reverse)
            .ok_or_else(unordered),
        (Str(x), Str(y)) => Ok(x.as_str().cmp(y.as_str())),
        (Bytes(x), Bytes(y)) => Ok(x.as_ref().cmp(y.as_ref())),
        (Duration(x), Duration(y)) => Ok(x.cmp(y)),
        (Bool(x), Bool(y)) => Ok(x.cmp(y)),
        (List(x), List(y)) => seq_compare(
            &x.borrow(),
            &y.borrow(),
            walk.enter(depth, "comparison")?,
            walk,
        ),
        (Tuple(x), Tuple(y)) => seq_compare(x, y, walk.enter(depth, "comparison")?, walk),
        (Object(x), Object(y)) => x.inner.compare(y).ok_or_else(unordered),
        (Set(_), Set(_)) => Err(Fault::new(
            "sets are not ordered: use a.is_subset(b) or a.is_superset(b)",
        )),
        _ => Err(unordered()),
    }
}

fn seq_compare(a: &[Value], b: &[Value], depth: usize, walk: &mut Walk) -> Result<Ordering, Fault> {
    for (x, y) in a.iter().zip(b) {
        match compare_at(x, y, depth, walk)? {
            Ordering::Equal => continue,
            other => return Ok(other),
        }
    }
    Ok(a.len().cmp(&b.len()))
}

/// `needle in haystack`.
pub fn contains(haystack: &Value, needle: &Value) -> Result<bool, Fault> {
    match haystack {
        Value::List(items) => position(&items.borrow(), needle).map(|at| at.is_some()),
        Value::Tuple(items) => position(items, needle).map(|at| at.is_some()),
        Value::Dict(d) => Ok(Key::new(needle.clone()).is_ok_and(|k| d.contains(&k))),
        Value::Set(s) => Ok(Key::new(needle.clone()).is_ok_and(|k| s.borrow().contains(&k))),
        Value::Str(s) => match needle {
            Value::Str(n) => Ok(s.contains(n.as_str())),
            other => Err(Fault::new(format!(
                "'in <str>' needs a str on the left, got {}",
                other.type_name()
            ))),
        },
        Value::Bytes(data) => match needle {
            Value::Bytes(part) => Ok(part.is_empty()
                || data
                    .windows(part.len())
                    .any(|window| window == part.as_ref())),
            Value::Int(n) => Ok(u8::try_from(*n).is_ok_and(|byte| data.contains(&byte))),
            other => Err(Fault::new(format!(
                "'in <bytes>' needs bytes or an int on the left, got {}",
                other.type_name()
            ))),
        },
        Value::Range(r) => Ok(match needle {
            Value::Int(n) => {
                let offset = n.wrapping_sub(r.start);
                let inside = if r.step > 0 {
                    *n >= r.start && *n < r.stop
                } else {
                    *n <= r.start && *n > r.stop
                };
                inside && offset % r.step == 0
            }
            _ => false,
        }),
        other => Err(Fault::new(format!(
            "'in' needs a list, tuple, dict, set, str, bytes or range, got {}",
            other.type_name()
        ))),
    }
}

/// Where `needle` first is in `items` (`==`), for `in`, `index` and `remove`.
pub fn position(items: &[Value], needle: &Value) -> Result<Option<usize>, Fault> {
    for (at, item) in items.iter().enumerate() {
        if equal(item, needle)? {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// How many of `items` equal `needle`, for `count`.
pub fn count(items: &[Value], needle: &Value) -> Result<usize, Fault> {
    let mut n = 0;
    for item in items {
        n += equal(item, needle)? as usize;
    }
    Ok(n)
}

fn overflow(op: BinOp) -> Fault {
    Fault::new(format!("integer overflow in '{op}'"))
}

fn unsupported(op: BinOp, a: &Value, b: &Value) -> Fault {
    Fault::new(format!(
        "unsupported operand types for {op}: {} and {}",
        a.type_name(),
        b.type_name()
    ))
}

/// Applies an arithmetic operator.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value, Fault> {
    use Value::*;
    match (a, b) {
        (Int(x), Int(y)) => int_binary(op, *x, *y),
        (Object(x), _) => x
            .inner
            .binary(op, b, false)
            .unwrap_or_else(|| Err(unsupported(op, a, b))),
        (_, Object(y)) => y
            .inner
            .binary(op, a, true)
            .unwrap_or_else(|| Err(unsupported(op, a, b))),
        (Set(x), Set(y)) => {
            use crate::set::SetOp;
            let set_op = match op {
                BinOp::BitOr => SetOp::Union,
                BinOp::BitAnd => SetOp::Intersection,
                BinOp::Sub => SetOp::Difference,
                BinOp::BitXor => SetOp::SymmetricDifference,
                _ => return Err(unsupported(op, a, b)),
            };
            Ok(Value::set(crate::set::combine(
                set_op,
                &x.borrow(),
                &y.borrow(),
            )))
        }
        _ if op.is_bitwise() => Err(unsupported(op, a, b)),
        (Float(_), Float(_)) | (Int(_), Float(_)) | (Float(_), Int(_)) => {
            let (x, y) = (as_f64(a), as_f64(b));
            float_binary(op, x, y)
        }
        (Str(x), Str(y)) if op == BinOp::Add => {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::str(s))
        }
        (Bytes(x), Bytes(y)) if op == BinOp::Add => {
            let mut joined = Vec::with_capacity(x.len() + y.len());
            joined.extend_from_slice(x);
            joined.extend_from_slice(y);
            Ok(Value::bytes(joined))
        }
        (Str(s), Int(n)) | (Int(n), Str(s)) if op == BinOp::Mul => {
            let count = repeat_count(*n, s.len(), MAX_RESULT_BYTES, "a str of", "bytes")?;
            Ok(Value::str(s.repeat(count)))
        }
        (List(x), List(y)) if op == BinOp::Add => {
            let mut items = x.borrow().clone();
            items.extend(y.borrow().iter().cloned());
            Ok(Value::list(items))
        }
        (List(x), Int(n)) | (Int(n), List(x)) if op == BinOp::Mul => {
            let items = x.borrow();
            let count = repeat_count(*n, items.len(), MAX_ITEMS, "a list of", "items")?;
            let mut out = Vec::with_capacity(items.len() * count);
            for _ in 0..count {
                out.extend(items.iter().cloned());
            }
            Ok(Value::list(out))
        }
        (Tuple(x), Tuple(y)) if op == BinOp::Add => {
            Ok(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
        }
        (Duration(x), Duration(y)) => match op {
            BinOp::Add => x.checked_add(*y).map(Duration).ok_or_else(|| overflow(op)),
            BinOp::Sub => x.checked_sub(*y).map(Duration).ok_or_else(|| overflow(op)),
            BinOp::Div if *y != 0 => Ok(Float(*x as f64 / *y as f64)),
            BinOp::FloorDiv if *y != 0 => Ok(Int(x.div_euclid(*y))),
            BinOp::Mod if *y != 0 => Ok(Duration(x.rem_euclid(*y))),
            BinOp::Div | BinOp::FloorDiv | BinOp::Mod => Err(Fault::new("division by zero")),
            _ => Err(unsupported(op, a, b)),
        },
        (Duration(d), Int(n)) | (Int(n), Duration(d)) if op == BinOp::Mul => {
            d.checked_mul(*n).map(Duration).ok_or_else(|| overflow(op))
        }
        (Duration(d), Float(f)) | (Float(f), Duration(d)) if op == BinOp::Mul => {
            float_duration(*d as f64 * f).ok_or_else(|| overflow(op))
        }
        (Duration(d), Int(n)) if matches!(op, BinOp::Div | BinOp::FloorDiv) => {
            if *n == 0 {
                return Err(Fault::new("division by zero"));
            }
            Ok(Duration(d.div_euclid(*n)))
        }
        (Duration(d), Float(f)) if op == BinOp::Div => {
            if *f == 0.0 {
                return Err(Fault::new("division by zero"));
            }
            float_duration(*d as f64 / f).ok_or_else(|| overflow(op))
        }
        _ => Err(unsupported(op, a, b)),
    }
}

/// A duration computed in floating point, if it still fits in 64-bit nanoseconds.
fn float_duration(nanos: f64) -> Option<Value> {
    (nanos.is_finite() && nanos.abs() < i64::MAX as f64).then_some(Value::Duration(nanos as i64))
}

/// How many times to repeat a sequence of `unit` bytes or items `n` times, if the result stays
/// within `max`: the result's size is what is limited, not the count (`("x" * 100000) * 100000`
/// has a small count and a 10 GB result).
#[inline]
fn repeat_count(n: i64, unit: usize, max: usize, what: &str, units: &str) -> Result<usize, Fault> {
    // A negative count repeats nothing; an i64 at or above 0 fits a usize on 64-bit targets.
    let count = usize::try_from(n.max(0)).unwrap_or(usize::MAX);
    match unit.checked_mul(count) {
        Some(total) if total <= max => Ok(count),
        total => Err(repetition_too_large(total, unit, count, max, what, units)),
    }
}

#[cold]
fn repetition_too_large(
    total: Option<usize>,
    unit: usize,
    count: usize,
    max: usize,
    what: &str,
    units: &str,
) -> Fault {
    let total = total.map_or_else(|| format!("{unit} x {count}"), |t| t.to_string());
    Fault::new(format!(
        "repetition would make {what} {total} {units}, over the limit of {max}"
    ))
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// Integer arithmetic with Python's floor semantics and overflow faults.
pub fn int_binary(op: BinOp, x: i64, y: i64) -> Result<Value, Fault> {
    let zero = || Fault::new("division by zero");
    Ok(Value::Int(match op {
        BinOp::Add => x.checked_add(y).ok_or_else(|| overflow(op))?,
        BinOp::Sub => x.checked_sub(y).ok_or_else(|| overflow(op))?,
        BinOp::Mul => x.checked_mul(y).ok_or_else(|| overflow(op))?,
        BinOp::Div => {
            if y == 0 {
                return Err(zero());
            }
            return Ok(Value::Float(x as f64 / y as f64));
        }
        BinOp::FloorDiv => {
            if y == 0 {
                return Err(zero());
            }
            let q = x.checked_div(y).ok_or_else(|| overflow(op))?;
            if (x % y != 0) && ((x < 0) != (y < 0)) {
                q - 1
            } else {
                q
            }
        }
        BinOp::Mod => {
            if y == 0 {
                return Err(zero());
            }
            // i64::MIN % -1 is 0, which fits, even though the quotient does not.
            let r = if y == -1 { 0 } else { x % y };
            if r != 0 && ((r < 0) != (y < 0)) {
                r + y
            } else {
                r
            }
        }
        BinOp::Pow => {
            if y < 0 {
                return Ok(Value::Float((x as f64).powf(y as f64)));
            }
            let exp = u32::try_from(y).map_err(|_| overflow(op))?;
            x.checked_pow(exp).ok_or_else(|| overflow(op))?
        }
        BinOp::BitAnd => x & y,
        BinOp::BitOr => x | y,
        BinOp::BitXor => x ^ y,
        BinOp::Shl => {
            if y < 0 {
                return Err(Fault::new("negative shift count"));
            }
            if x == 0 {
                0
            } else {
                // Past 63 bits, or bits shifted out: the result does not fit.
                let shifted = u32::try_from(y)
                    .ok()
                    .and_then(|s| x.checked_shl(s))
                    .filter(|r| r >> y == x);
                shifted.ok_or_else(|| overflow(op))?
            }
        }
        BinOp::Shr => {
            if y < 0 {
                return Err(Fault::new("negative shift count"));
            }
            // An arithmetic shift: past 63 bits only the sign is left.
            x >> y.min(63)
        }
    }))
}

fn float_binary(op: BinOp, x: f64, y: f64) -> Result<Value, Fault> {
    let zero = || Fault::new("division by zero");
    Ok(Value::Float(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => {
            if y == 0.0 {
                return Err(zero());
            }
            x / y
        }
        BinOp::FloorDiv => {
            if y == 0.0 {
                return Err(zero());
            }
            float_divmod(x, y).0
        }
        BinOp::Mod => {
            if y == 0.0 {
                return Err(zero());
            }
            float_divmod(x, y).1
        }
        BinOp::Pow => x.powf(y),
        // `binary` answers these before floats are reached.
        BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr => f64::NAN,
    }))
}

/// `~x`: the bitwise complement of an int (`-x - 1`).
pub fn invert(v: &Value) -> Result<Value, Fault> {
    match v {
        Value::Int(i) => Ok(Value::Int(!i)),
        other => Err(Fault::new(format!(
            "bad operand type for unary ~: {}",
            other.type_name()
        ))),
    }
}

/// Unary minus.
pub fn negate(v: &Value) -> Result<Value, Fault> {
    match v {
        Value::Int(i) => i
            .checked_neg()
            .map(Value::Int)
            .ok_or_else(|| Fault::new("integer overflow in '-'")),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Duration(d) => d
            .checked_neg()
            .map(Value::Duration)
            .ok_or_else(|| Fault::new("integer overflow in '-'")),
        other => Err(Fault::new(format!(
            "bad operand type for unary -: {}",
            other.type_name()
        ))),
    }
}

/// Unary plus (numbers only).
pub fn plus(v: &Value) -> Result<Value, Fault> {
    match v {
        Value::Int(_) | Value::Float(_) | Value::Duration(_) => Ok(v.clone()),
        other => Err(Fault::new(format!(
            "bad operand type for unary +: {}",
            other.type_name()
        ))),
    }
}

/// Python's float `divmod`: both results derive from `fmod`, so `q * y + r == x` as closely as
/// floats allow (`1 // 0.1` is 9.0, not 10.0).
pub fn float_divmod(x: f64, y: f64) -> (f64, f64) {
    let mut r = x % y;
    let mut q = (x - r) / y;
    if r != 0.0 {
        if (y < 0.0) != (r < 0.0) {
            r += y;
            q -= 1.0;
        }
    } else {
        r = 0.0_f64.copysign(y);
    }
    let q = if q != 0.0 {
        let floor = q.floor();
        if q - floor > 0.5 {
            floor + 1.0
        } else {
            floor
        }
    } else {
        0.0_f64.copysign(x / y)
    };
    (q, r)
}
