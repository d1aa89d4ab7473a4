//! Methods of `bytes`: decoding to text, hex, and prefix/suffix/search tests.
//!
//! Bytes are what an http body or a file holds before anyone decides it is text; decoding is
//! where that decision happens, so it returns a Result instead of guessing.

use std::fmt::Write;

use crate::args::Args;
use crate::builtins::params::no_args;
use crate::fault::Fault;
use crate::symbol::{self, Symbol};
use crate::value::Value;

/// Every bytes method.
pub(super) const NAMES: &[&str] = &[
    "decode",
    "decode_lossy",
    "hex",
    "startswith",
    "endswith",
    "find",
];

/// Calls bytes method `name`.
pub(super) fn call(data: &[u8], name: Symbol, args: Args<'_>) -> Option<Result<Value, Fault>> {
    Some(match name {
        symbol::DECODE => no_args(&args).map(|()| decode(data)),
        symbol::DECODE_LOSSY => {
            no_args(&args).map(|()| Value::str(String::from_utf8_lossy(data).into_owned()))
        }
        symbol::HEX => no_args(&args).map(|()| Value::str(hex(data))),
        symbol::STARTSWITH => affix(&args).map(|part| Value::Bool(data.starts_with(part))),
        symbol::ENDSWITH => affix(&args).map(|part| Value::Bool(data.ends_with(part))),
        symbol::FIND => find(data, &args),
        _ => return None,
    })
}

/// `b.decode()`: `Ok(str)` for valid UTF-8, else `Err` naming the first bad byte.
fn decode(data: &[u8]) -> Value {
    match std::str::from_utf8(data) {
        Ok(text) => Value::ok(Value::str(text)),
        Err(e) => Value::err(Value::str(format!(
            "invalid UTF-8 at byte {}",
            e.valid_up_to()
        ))),
    }
}

fn hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len() * 2);
    for byte in data {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

fn affix<'a>(args: &Args<'a>) -> Result<&'a [u8], Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    bytes_arg(args, 0)
}

fn bytes_arg<'a>(args: &Args<'a>, i: usize) -> Result<&'a [u8], Fault> {
    match args.value(i)? {
        Value::Bytes(b) => Ok(b),
        other => Err(Fault::new(format!(
            "{}() needs bytes, got {}",
            args.function,
            other.type_name()
        ))),
    }
}

/// `b.find(sub)`: index of the first occurrence of bytes `sub` (or of the byte value `sub`),
/// -1 when absent.
fn find(data: &[u8], args: &Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let found = match args.value(0)? {
        Value::Int(n) => u8::try_from(*n)
            .ok()
            .and_then(|byte| data.iter().position(|&b| b == byte)),
        _ => {
            let part = bytes_arg(args, 0)?;
            if part.is_empty() {
                Some(0)
            } else {
                data.windows(part.len()).position(|w| w == part)
            }
        }
    };
    Ok(Value::Int(found.map_or(-1, |i| i as i64)))
}
