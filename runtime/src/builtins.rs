//! The builtin functions every script sees without an import (`print`, `len`, `range`, ...).
//!
//! [`all`] lists them in a fixed order: the compiler resolves builtin names to indexes into it.

use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::format;
use crate::object::{NativeFunction, Range};
use crate::value::Value;
use crate::vm::Vm;

/// Every builtin, by name, in index order.
pub fn all() -> Vec<(&'static str, Value)> {
    let table: &[(&'static str, crate::object::NativeFn)] = &[
        ("print", print),
        ("len", len),
        ("range", range),
        ("str", str),
        ("repr", repr),
        ("args", args),
        ("Ok", ok),
        ("Err", err),
        ("exit", exit),
    ];
    table.iter().map(|(name, f)| (*name, NativeFunction::value(*name, *f))).collect()
}

/// `print(*values, sep=" ", end="\n")`: writes values separated by `sep`.
fn print(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&["sep", "end"])?;
    let sep = match args.named("sep") {
        Some(Value::Str(s)) => s.as_str(),
        _ => " ",
    };
    let end = match args.named("end") {
        Some(Value::Str(s)) => s.as_str(),
        _ => "\n",
    };
    let mut line = String::new();
    for (i, value) in args.positional.iter().enumerate() {
        if i > 0 {
            line.push_str(sep);
        }
        format::display_into(&mut line, value);
    }
    line.push_str(end);
    vm.write_out(&line)?;
    Ok(Value::Nil)
}

/// `len(x)`: items of a list, tuple, dict or range; characters of a string.
fn len(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    let n = match args.value(0)? {
        Value::Str(s) => s.chars().count(),
        Value::List(items) => items.borrow().len(),
        Value::Tuple(items) => items.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Range(r) => r.len(),
        other => return Err(Fault::new(format!("len() of {} is not defined", other.type_name()))),
    };
    Ok(Value::Int(n as i64))
}

/// `range(stop)`, `range(start, stop)`, `range(start, stop, step)`.
fn range(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 3)?;
    let (start, stop, step) = match args.len() {
        1 => (0, args.int(0)?, 1),
        2 => (args.int(0)?, args.int(1)?, 1),
        _ => (args.int(0)?, args.int(1)?, args.int(2)?),
    };
    if step == 0 {
        return Err(Fault::new("range() step must not be zero"));
    }
    Ok(Value::Range(Rc::new(Range { start, stop, step })))
}

/// `str(x)`.
fn str(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    Ok(match args.get(0) {
        None => Value::str(""),
        Some(v @ Value::Str(_)) => v.clone(),
        Some(v) => Value::str(format::display(v)),
    })
}

/// `repr(x)`.
fn repr(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    Ok(Value::str(format::repr(args.value(0)?)))
}

/// `args()`: the script's command-line arguments (after the script path), as strings.
fn args(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 0)?;
    Ok(Value::list(vm.script_args.iter().map(Value::str).collect()))
}

/// `Ok(value)`.
fn ok(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    Ok(Value::ok(args.get(0).cloned().unwrap_or_default()))
}

/// `Err(error)`.
fn err(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    Ok(Value::err(args.value(0)?.clone()))
}

/// `exit(code=0)`: ends the program after running pending `defer`s.
fn exit(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    let code = match args.get(0) {
        None => 0,
        Some(Value::Int(n)) => (*n).clamp(0, 255) as i32,
        Some(other) => return Err(args.wrong_type(0, "int", other)),
    };
    Err(Fault::exit(code))
}
