//! Basic builtins: printing, text conversion, sizes, ranges, results and the program itself.

use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::format;
use crate::object::Range;
use crate::value::Value;
use crate::vm::Vm;

/// print(*values, sep=" ", end="\n"): writes the values separated by `sep`, then `end`.
pub(super) fn print(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let line = print_line(vm, &args)?;
    let file = super::console::file_option(&args)?;
    super::console::write_to(vm, file, line)
}

/// The line `print` and `eprint` write: the values' text joined by `sep`, then `end`.
pub(super) fn print_line(vm: &mut Vm, args: &Args<'_>) -> Result<String, Fault> {
    let text_option = |name: &str, default: &'static str| -> Result<&str, Fault> {
        match args.named(name) {
            None | Some(Value::Nil) => Ok(default),
            Some(Value::Str(s)) => Ok(s.as_str()),
            Some(other) => Err(Fault::new(format!(
                "{}() argument '{name}' must be str, not {}",
                args.function,
                other.type_name()
            ))),
        }
    };
    let sep = text_option("sep", " ")?;
    let end = text_option("end", "\n")?;
    let mut line = String::new();
    for (i, value) in args.positional.iter().enumerate() {
        if i > 0 {
            line.push_str(sep);
        }
        vm.display_into(&mut line, value)?;
    }
    line.push_str(end);
    Ok(line)
}

/// len(x): the number of items of a list, tuple, dict or range, or of characters of a string.
pub(super) fn len(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let n = match args.value(0)? {
        Value::Str(s) => {
            if crate::ascii_cache::is_ascii(s) {
                s.len()
            } else {
                s.chars().count()
            }
        }
        Value::Bytes(b) => b.len(),
        Value::List(items) => items.borrow().len(),
        Value::Tuple(items) => items.len(),
        Value::Dict(d) => d.borrow().len(),
        Value::Set(s) => s.borrow().len(),
        Value::Range(r) => r.len(),
        other => {
            return Err(Fault::new(format!(
                "len() of {} is not defined",
                other.type_name()
            )))
        }
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// range(stop) / range(start, stop, step=1): the ints from `start` up to (not including) `stop`.
pub(super) fn range(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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

/// str(x=""): `x` as text, the way `print` shows it.
pub(super) fn str(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(match args.get(0) {
        None => Value::str(""),
        Some(v @ Value::Str(_)) => v.clone(),
        Some(v) => Value::str(vm.display(v)?),
    })
}

/// repr(x): `x` as it would be written in source (strings quoted).
pub(super) fn repr(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(format::repr(args.value(0)?)))
}

/// type(x): the name of `x`'s type as a string ("int", "list", a record type's name).
pub(super) fn type_of(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(args.value(0)?.type_name()))
}

/// isinstance(x, t): whether `x` is of type `t` (a builtin type such as `int` or `list`, a
/// record type, an enum) or of any type in a tuple `t`.
pub(super) fn isinstance(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let value = args.value(0)?;
    let matched = match args.value(1)? {
        Value::Tuple(types) => {
            let mut any = false;
            for ty in types.iter() {
                any |= is_of(value, ty, &args)?;
            }
            any
        }
        ty => is_of(value, ty, &args)?,
    };
    Ok(Value::Bool(matched))
}

/// Whether `value` is of the single type `ty`.
fn is_of(value: &Value, ty: &Value, args: &Args<'_>) -> Result<bool, Fault> {
    Ok(match ty {
        Value::Type(record_type) => {
            matches!(value, Value::Record(r) if Rc::ptr_eq(&r.ty, record_type))
        }
        Value::Enum(enum_type) => {
            matches!(value, Value::Variant(v) if *v.type_name == *enum_type.name)
        }
        Value::Native(f) => match &*f.name {
            "int" => matches!(value, Value::Int(_)),
            "float" => matches!(value, Value::Float(_)),
            "str" => matches!(value, Value::Str(_)),
            "bool" => matches!(value, Value::Bool(_)),
            "bytes" => matches!(value, Value::Bytes(_)),
            "list" => matches!(value, Value::List(_)),
            "tuple" => matches!(value, Value::Tuple(_)),
            "dict" => matches!(value, Value::Dict(_)),
            "set" => matches!(value, Value::Set(_)),
            _ => return Err(not_a_type(args, ty)),
        },
        _ => return Err(not_a_type(args, ty)),
    })
}

fn not_a_type(args: &Args<'_>, ty: &Value) -> Fault {
    Fault::new(format!(
        "{}: the second argument must be a type (int, float, str, bool, bytes, list, tuple, dict, set, a record type or an enum) or a tuple of them, not {}",
        args.function,
        format::repr(ty)
    ))
}

/// format(value, spec=""): `value` formatted by a format spec such as ".2f", ">8" or ",".
pub(super) fn format(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let value = args.value(0)?;
    let spec = match args.get(1) {
        None => "",
        Some(_) => args.str(1)?.as_str(),
    };
    if spec.is_empty() {
        return Ok(Value::str(format::display(value)));
    }
    Ok(Value::str(format::format_spec(value, spec)?))
}

/// args(): the script's command-line arguments (after the script path), as strings.
pub(super) fn args(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::list(vm.script_args.iter().map(Value::str).collect()))
}

/// Ok(value=nil): a successful result.
pub(super) fn ok(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::ok(args.get(0).cloned().unwrap_or_default()))
}

/// Err(error): a failed result carrying `error`.
pub(super) fn err(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::err(args.value(0)?.clone()))
}

/// exit(code=0): ends the program with `code` after running pending `defer`s.
pub(super) fn exit(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let code = match args.get(0) {
        None => 0,
        Some(Value::Int(n)) => (*n).clamp(0, 255) as i32,
        Some(other) => return Err(args.wrong_type(0, "int", other)),
    };
    Err(Fault::exit(code))
}
