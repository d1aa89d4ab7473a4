//! Methods of `bytes`: decoding to text, hex, and prefix/suffix/search tests.
//!
//! Bytes are what an http body or a file holds before anyone decides it is text; decoding is
//! where that decision happens, so it returns a Result instead of guessing.

use std::fmt::Write;

use crate::args::Args;
use crate::fault::Fault;
use crate::native::{Member, Params, Table};
use crate::value::Value;

type Bytes = std::rc::Rc<bytes::Bytes>;

/// A member of this type's table.
type M = Member<Bytes>;

/// Every bytes method.
pub(super) static TABLE: Table<Bytes> = Table::new(
    "bytes",
    "Immutable raw bytes: `b\"abc\"`, `bytes(list_of_ints)`, `s.encode()`.",
    &[
        M::method("decode", |data, _, _| Ok(decode(data)))
            .doc("decode()\nOk(str) for valid UTF-8, else Err naming the first bad byte."),
        M::method("decode_lossy", |data, _, _| {
            Ok(Value::str(String::from_utf8_lossy(data).into_owned()))
        })
        .doc("decode_lossy()\nThe text, with invalid UTF-8 replaced by U+FFFD."),
        M::method("hex", |data, _, _| Ok(Value::str(hex(data))))
            .doc("hex()\nTwo lowercase hex digits per byte."),
        M::method("startswith", |data, _, args| {
            Ok(Value::Bool(data.starts_with(bytes_arg(&args, 0)?)))
        })
        .doc("startswith(prefix)\nWhether the bytes start with bytes `prefix`.")
        .params(Params::exactly(1)),
        M::method("endswith", |data, _, args| {
            Ok(Value::Bool(data.ends_with(bytes_arg(&args, 0)?)))
        })
        .doc("endswith(suffix)\nWhether the bytes end with bytes `suffix`.")
        .params(Params::exactly(1)),
        M::method("find", |data, _, args| find(data, &args))
            .doc("find(sub)\nThe index of the first occurrence of bytes `sub` (or of the byte value `sub`), -1 when absent.")
            .params(Params::exactly(1)),
    ],
);

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
