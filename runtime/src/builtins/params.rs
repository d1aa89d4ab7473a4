//! Argument checks shared by builtins and methods: iterables, optional ints, flags, key
//! functions, and the size limits that keep absurd inputs from exhausting memory.

use crate::args::Args;
use crate::fault::Fault;
use crate::iter;
use crate::object::Iter;
use crate::value::Value;

/// Largest width accepted by padding methods (`ljust`, `zfill`, ...).
pub(crate) const MAX_WIDTH: usize = 100_000_000;

/// Most items a builtin will materialize from a range.
pub(crate) const MAX_ITEMS: usize = 100_000_000;

/// Largest string (in bytes) that `join`, `replace` and friends will build.
pub(crate) const MAX_RESULT_BYTES: usize = 1 << 30;

/// True for values `for` can loop over.
pub(crate) fn is_iterable(value: &Value) -> bool {
    matches!(
        value,
        Value::List(_)
            | Value::Tuple(_)
            | Value::Str(_)
            | Value::Bytes(_)
            | Value::Dict(_)
            | Value::Set(_)
            | Value::Range(_)
            | Value::Iterator(_)
    ) || matches!(value, Value::Variant(v) if v.is_ok() || v.is_err())
}

/// Positional argument `i`, which must be iterable.
pub(crate) fn iterable_arg<'a>(args: &Args<'a>, i: usize) -> Result<&'a Value, Fault> {
    let value = args.value(i)?;
    if is_iterable(value) {
        Ok(value)
    } else {
        Err(args.wrong_type(i, "iterable", value))
    }
}

/// Starts iterating positional argument `i`.
pub(crate) fn iterate_arg(args: &Args<'_>, i: usize) -> Result<Iter, Fault> {
    iter::iterate(iterable_arg(args, i)?)
}

/// Collects positional argument `i` into a vector.
pub(crate) fn collect_arg(args: &Args<'_>, i: usize) -> Result<Vec<Value>, Fault> {
    collect(iterable_arg(args, i)?)
}

/// Collects an iterable into a vector, refusing ranges too large to hold.
pub(crate) fn collect(value: &Value) -> Result<Vec<Value>, Fault> {
    if let Value::Range(r) = value {
        if r.len() > MAX_ITEMS {
            return Err(Fault::new(format!(
                "range of {} items is too large to collect",
                r.len()
            )));
        }
    }
    iter::collect(value)
}

/// An optional int given positionally at `i` or by keyword `name`; `nil` counts as absent.
pub(crate) fn opt_int(args: &Args<'_>, i: usize, name: &str) -> Result<Option<i64>, Fault> {
    match args.get(i) {
        Some(Value::Nil) => Ok(None),
        Some(Value::Int(n)) => Ok(Some(*n)),
        Some(other) => Err(args.wrong_type(i, "int", other)),
        None => match args.named(name) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Int(n)) => Ok(Some(*n)),
            Some(other) => Err(keyword_type(args, name, "int", other)),
        },
    }
}

/// A boolean keyword argument (`reverse=true`), false when absent.
pub(crate) fn flag(args: &Args<'_>, name: &str) -> Result<bool, Fault> {
    match args.named(name) {
        None | Some(Value::Nil) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(keyword_type(args, name, "bool", other)),
    }
}

/// The `key=` function, if one was given (`nil` means none).
pub(crate) fn key_fn<'a>(args: &Args<'a>) -> Option<&'a Value> {
    args.named("key").filter(|k| !matches!(k, Value::Nil))
}

/// The fault for keyword argument `name` having the wrong type.
pub(crate) fn keyword_type(args: &Args<'_>, name: &str, expected: &str, got: &Value) -> Fault {
    Fault::new(format!(
        "{}() argument '{name}' must be {expected}, not {}",
        args.function,
        got.type_name()
    ))
}

/// Positional argument `i` as a padding width: negative means 0, absurd widths fault.
pub(crate) fn width_arg(args: &Args<'_>, i: usize) -> Result<usize, Fault> {
    let width = args.int(i)?;
    let width = usize::try_from(width.max(0)).unwrap_or(usize::MAX);
    if width > MAX_WIDTH {
        return Err(Fault::new(format!(
            "{}() width too large: {width}",
            args.function
        )));
    }
    Ok(width)
}

/// Python slice bounds: `start`/`end` (negative counts from the end) clamped to `0..=len`.
pub(crate) fn slice_bounds(len: usize, start: Option<i64>, end: Option<i64>) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let norm = |x: i64| -> usize {
        let x = if x < 0 {
            x.saturating_add(len_i).max(0)
        } else {
            x.min(len_i)
        };
        usize::try_from(x).unwrap_or(0)
    };
    (start.map_or(0, norm), end.map_or(len, norm))
}
