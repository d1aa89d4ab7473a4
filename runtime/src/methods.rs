//! Methods of builtin types (`xs.append(x)`, `d.get(k)`, `s.split(",")`), dispatched by
//! receiver type and interned name.
//!
//! Each submodule covers one receiver type and exports its method names (`NAMES`, for bound
//! methods and "did you mean" hints) and a `call` that returns `None` for unknown names, so
//! [`has_method`] and [`call_method`] always agree.

mod bytes;
mod dict;
mod duration;
mod list;
mod result;
#[path = "methods/str.rs"]
mod string;
mod tuple;

pub(crate) use dict::pairs_of;

use crate::args::Args;
use crate::fault::Fault;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

/// Method names of a receiver's type, for `has_method` and "did you mean" hints.
pub fn method_names(receiver: &Value) -> &'static [&'static str] {
    match receiver {
        Value::List(_) => list::NAMES,
        Value::Dict(_) => dict::NAMES,
        Value::Str(_) => string::NAMES,
        Value::Bytes(_) => bytes::NAMES,
        Value::Tuple(_) => tuple::NAMES,
        Value::Duration(_) => duration::NAMES,
        Value::Variant(v) if v.is_ok() || v.is_err() => result::NAMES,
        _ => &[],
    }
}

/// Whether `receiver` has a builtin method `name`.
pub fn has_method(receiver: &Value, name: Symbol) -> bool {
    let names = method_names(receiver);
    if names.is_empty() {
        return false;
    }
    let text = name.name();
    names.contains(&&*text)
}

/// Calls builtin method `name` on `receiver`.
pub fn call_method(
    vm: &mut Vm,
    receiver: &Value,
    name: Symbol,
    args: Args<'_>,
) -> Result<Value, Fault> {
    let result = match receiver {
        Value::List(items) => list::call(vm, items, name, args),
        Value::Dict(d) => dict::call(d, name, args),
        Value::Str(s) => string::call(receiver, s, name, args),
        Value::Bytes(data) => bytes::call(data, name, args),
        Value::Tuple(items) => tuple::call(items, name, args),
        Value::Duration(nanos) => duration::call(*nanos, name, args),
        Value::Variant(v) if v.is_ok() || v.is_err() => result::call(vm, receiver, v, name, args),
        // A bound method of a library object (`f = server.stop`) is called through here.
        Value::Object(native) => native.inner.call_method(native, vm, name, args),
        _ => None,
    };
    result.unwrap_or_else(|| Err(no_method(receiver, name)))
}

/// The fault for calling a method the receiver's type does not have, with a hint.
fn no_method(receiver: &Value, name: Symbol) -> Fault {
    let text = name.name();
    let mut message = format!("{} has no method '{text}'", receiver.type_name());
    if let Some(close) =
        cn_compiler::diagnostic::closest_name(&text, method_names(receiver).iter().copied())
    {
        message.push_str(&format!("; did you mean '{close}'?"));
    }
    Fault::new(message)
}
