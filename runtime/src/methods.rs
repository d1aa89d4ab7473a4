//! Methods of builtin types (`xs.append(x)`, `d.get(k)`, `s.split(",")`), dispatched by
//! receiver type and interned name.

use crate::args::Args;
use crate::fault::Fault;
use crate::symbol::{self, Symbol};
use crate::value::Value;
use crate::vm::Vm;

/// Method names of a receiver's type, for `has_method` and "did you mean" hints.
pub fn method_names(receiver: &Value) -> &'static [&'static str] {
    match receiver {
        Value::List(_) => &["append", "pop"],
        Value::Dict(_) => &["get", "keys", "values", "items"],
        _ => &[],
    }
}

/// Whether `receiver` has a builtin method `name`.
pub fn has_method(receiver: &Value, name: Symbol) -> bool {
    let text = name.name();
    method_names(receiver).contains(&&*text)
}

/// Calls builtin method `name` on `receiver`.
pub fn call_method(vm: &mut Vm, receiver: &Value, name: Symbol, args: Args<'_>) -> Result<Value, Fault> {
    let _ = vm;
    match (receiver, name) {
        (Value::List(items), symbol::APPEND) => {
            args.expect_count(1, 1)?;
            items.borrow_mut().push(args.value(0)?.clone());
            Ok(Value::Nil)
        }
        (Value::Dict(d), symbol::GET) => {
            args.expect_count(1, 2)?;
            let key = crate::dict::Key::new(args.value(0)?.clone())?;
            Ok(d.borrow().get(&key).cloned().unwrap_or_else(|| args.get(1).cloned().unwrap_or_default()))
        }
        _ => Err(Fault::new(format!("{} has no method '{name}'", receiver.type_name()))),
    }
}
