//! Conversion builtins: `int`, `float`, `bool`, `list`, `tuple`, `dict`, `bytes`, and the character and
//! radix helpers `ord`, `chr`, `hex`, `bin`, `oct`.

use crate::args::Args;
use crate::dict::{new_dict, Key};
use crate::fault::Fault;
use crate::format;
use crate::value::Value;
use crate::vm::Vm;

use super::params::{collect_arg, iterable_arg};

/// int(x=0, base=10): `x` as an int; strings are parsed in `base`, floats truncate.
pub(super) fn int(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let base = match args.get_or_named(1, "base") {
        None => None,
        Some(Value::Int(b)) => Some(*b),
        Some(other) => return Err(args.wrong_type(1, "int", other)),
    };
    let Some(value) = args.get(0) else {
        return match base {
            None => Ok(Value::Int(0)),
            Some(_) => Err(Fault::new("int() missing string argument")),
        };
    };
    match (value, base) {
        (Value::Str(s), base) => {
            let base = base.unwrap_or(10);
            if base != 0 && !(2..=36).contains(&base) {
                return Err(Fault::new("int() base must be >= 2 and <= 36, or 0"));
            }
            parse_int(s, base as u32).map(Value::Int).map_err(|error| {
                let what = match base {
                    10 => String::from("int()"),
                    b => format!("int() with base {b}"),
                };
                match error {
                    IntError::Invalid => Fault::new(format!(
                        "invalid literal for {what}: {}",
                        format::repr(value)
                    )),
                    IntError::Overflow => Fault::new(format!(
                        "integer overflow in {what}: {}",
                        format::repr(value)
                    )),
                }
            })
        }
        (_, Some(_)) => Err(Fault::new(format!(
            "int() cannot convert {} with an explicit base",
            value.type_name()
        ))),
        (Value::Int(n), None) => Ok(Value::Int(*n)),
        (Value::Float(f), None) => float_to_int(*f).map(Value::Int),
        (other, None) => Err(args.wrong_type(0, "str, int or float", other)),
    }
}

/// Why a string is not an int.
enum IntError {
    Invalid,
    Overflow,
}

/// Parses an int literal like Python's `int(s, base)`: surrounding whitespace, a sign, an
/// optional `0x`/`0o`/`0b` prefix matching the base (any prefix when base is 0), and `_`
/// between digits.
fn parse_int(text: &str, base: u32) -> Result<i64, IntError> {
    let s = text.trim();
    let (negative, s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let prefix = |s: &str| -> Option<u32> {
        let bytes = s.as_bytes();
        if bytes.len() >= 2 && bytes[0] == b'0' {
            match bytes[1] {
                b'x' | b'X' => return Some(16),
                b'o' | b'O' => return Some(8),
                b'b' | b'B' => return Some(2),
                _ => {}
            }
        }
        None
    };
    let auto = base == 0;
    let (base, digits, after_prefix) = match (base, prefix(s)) {
        (0, Some(p)) => (p, &s[2..], true),
        (0, None) => (10, s, false),
        (b, Some(p)) if b == p => (b, &s[2..], true),
        (b, _) => (b, s, false),
    };
    if digits.is_empty() {
        return Err(IntError::Invalid);
    }
    let mut magnitude: u64 = 0;
    let mut overflow = false;
    let mut previous_underscore = !after_prefix;
    let mut nonzero_seen = false;
    for c in digits.chars() {
        if c == '_' {
            if previous_underscore {
                return Err(IntError::Invalid);
            }
            previous_underscore = true;
            continue;
        }
        previous_underscore = false;
        let d = c.to_digit(base).ok_or(IntError::Invalid)?;
        nonzero_seen |= d != 0;
        match magnitude
            .checked_mul(u64::from(base))
            .and_then(|m| m.checked_add(u64::from(d)))
        {
            Some(m) => magnitude = m,
            None => overflow = true,
        }
    }
    if previous_underscore {
        return Err(IntError::Invalid);
    }
    // Python's base 0 rejects leading zeros in decimal literals ("010").
    if auto && !after_prefix && digits.starts_with('0') && nonzero_seen {
        return Err(IntError::Invalid);
    }
    if overflow {
        return Err(IntError::Overflow);
    }
    if negative {
        if magnitude <= i64::MAX as u64 + 1 {
            Ok((magnitude as i64).wrapping_neg())
        } else {
            Err(IntError::Overflow)
        }
    } else {
        i64::try_from(magnitude).map_err(|_| IntError::Overflow)
    }
}

/// A float truncated to an int, faulting for nan, infinities and out-of-range values.
pub(super) fn float_to_int(f: f64) -> Result<i64, Fault> {
    if f.is_nan() {
        return Err(Fault::new("cannot convert float nan to int"));
    }
    if f.is_infinite() {
        return Err(Fault::new(format!(
            "cannot convert float {} to int",
            if f > 0.0 { "inf" } else { "-inf" }
        )));
    }
    let t = f.trunc();
    // 2^63 is exactly representable; every float in [-2^63, 2^63) fits in an i64.
    if (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&t) {
        Ok(t as i64)
    } else {
        Err(Fault::new(format!(
            "integer overflow: float {} does not fit in int",
            format::repr(&Value::Float(f))
        )))
    }
}

/// float(x=0.0): `x` as a float; strings may be "inf", "-inf" or "nan".
pub(super) fn float(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    match args.get(0) {
        None => Ok(Value::Float(0.0)),
        Some(Value::Float(f)) => Ok(Value::Float(*f)),
        Some(Value::Int(n)) => Ok(Value::Float(*n as f64)),
        Some(value @ Value::Str(s)) => parse_float(s).map(Value::Float).ok_or_else(|| {
            Fault::new(format!(
                "could not convert string to float: {}",
                format::repr(value)
            ))
        }),
        Some(other) => Err(args.wrong_type(0, "str, int or float", other)),
    }
}

/// Parses a float literal like Python: whitespace around, `_` between digits, inf/nan words.
fn parse_float(text: &str) -> Option<f64> {
    let s = text.trim();
    if s.is_empty() {
        return None;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let word = body.to_ascii_lowercase();
    if matches!(word.as_str(), "inf" | "infinity" | "nan") {
        return s.to_ascii_lowercase().parse().ok();
    }
    // Only digits, '.', 'e', signs and underscores; Rust's parser handles the rest.
    if !body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'))
    {
        return None;
    }
    if s.contains('_') {
        let bytes = s.as_bytes();
        for (i, b) in bytes.iter().enumerate() {
            if *b == b'_' {
                let before = i
                    .checked_sub(1)
                    .and_then(|j| bytes.get(j))
                    .is_some_and(u8::is_ascii_digit);
                let after = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
                if !before || !after {
                    return None;
                }
            }
        }
        return s.replace('_', "").parse().ok();
    }
    s.parse().ok()
}

/// bool(x=false): whether `x` is truthy (nil, false, 0, empty containers are not).
pub(super) fn bool(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::Bool(args.get(0).is_some_and(Value::truthy)))
}

/// list(iterable=[]): a new list of the iterable's items.
pub(super) fn list(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    if args.is_empty() {
        return Ok(Value::list(Vec::new()));
    }
    Ok(Value::list(collect_arg(&args, 0)?))
}

/// bytes(source=b""): a str's UTF-8 bytes, or an iterable of ints 0-255 as bytes.
pub(super) fn bytes(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    match args.get(0) {
        None => Ok(Value::bytes(Vec::new())),
        Some(b @ Value::Bytes(_)) => Ok(b.clone()),
        Some(Value::Str(s)) => Ok(Value::bytes(s.as_bytes().to_vec())),
        Some(Value::Int(_)) => Err(Fault::new(
            "bytes() of an int is not supported; use bytes([n]) for one byte",
        )),
        Some(_) => {
            let items = collect_arg(&args, 0)?;
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                match item {
                    Value::Int(n) => match u8::try_from(*n) {
                        Ok(byte) => out.push(byte),
                        Err(_) => {
                            return Err(Fault::new(format!(
                                "bytes() items must be in range 0-255, got {n}"
                            )))
                        }
                    },
                    other => {
                        return Err(Fault::new(format!(
                            "bytes() items must be ints, got {}",
                            other.type_name()
                        )))
                    }
                }
            }
            Ok(Value::bytes(out))
        }
    }
}

/// tuple(iterable=()): a new tuple of the iterable's items.
pub(super) fn tuple(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    match args.get(0) {
        None => Ok(Value::tuple(Vec::new())),
        Some(t @ Value::Tuple(_)) => Ok(t.clone()),
        Some(_) => Ok(Value::tuple(collect_arg(&args, 0)?)),
    }
}

/// dict(pairs=nil, **items): a new dict from a dict or (key, value) pairs, plus keyword items.
pub(super) fn dict(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let mut dict = new_dict();
    if args.len() == 1 {
        let source = iterable_arg(&args, 0)?;
        dict.extend(crate::methods::pairs_of(source, args.function)?);
    }
    for (name, value) in args.names.iter().zip(args.named) {
        dict.insert(Key::str(name.name()), value.clone());
    }
    Ok(Value::dict(dict))
}

/// ord(c): the Unicode code point of the one-character string `c`.
pub(super) fn ord(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let s = args.str(0)?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(Value::Int(i64::from(u32::from(c)))),
        _ => Err(Fault::new(format!(
            "ord() expected a single character, got a string of length {}",
            s.chars().count()
        ))),
    }
}

/// chr(i): the one-character string for Unicode code point `i`.
pub(super) fn chr(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let n = args.int(0)?;
    u32::try_from(n)
        .ok()
        .and_then(char::from_u32)
        .map(|c| Value::str(c.to_string()))
        .ok_or_else(|| {
            Fault::new(format!(
                "chr() argument {n} is not a valid Unicode code point"
            ))
        })
}

fn radix(args: &Args<'_>, prefix: &str, digits: fn(u64) -> String) -> Result<Value, Fault> {
    let n = args.int(0)?;
    let sign = if n < 0 { "-" } else { "" };
    Ok(Value::str(format!(
        "{sign}{prefix}{}",
        digits(n.unsigned_abs())
    )))
}

/// hex(i): `i` in hexadecimal with a "0x" prefix ("0xff", "-0x1").
pub(super) fn hex(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    radix(&args, "0x", |n| format!("{n:x}"))
}

/// bin(i): `i` in binary with a "0b" prefix ("0b101").
pub(super) fn bin(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    radix(&args, "0b", |n| format!("{n:b}"))
}

/// oct(i): `i` in octal with a "0o" prefix ("0o17").
pub(super) fn oct(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    radix(&args, "0o", |n| format!("{n:o}"))
}
