//! `context`: values that travel with a task (seed 000, section 9).
//!
//! `context.set(key, value)` stores a value for the current task; `context.get(key)` reads it
//! back. A task started with `spawn` (or a callback started by a library function) begins with a
//! copy of its parent's values, so setting a value in a child never changes the parent. The http
//! server puts `request_id`, `trace_id` and the request deadline here.

use std::rc::Rc;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::tasks::Task;
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("get", get)
        .doc("get(key, default=nil)\nThe current task's value for `key`, or `default`.")
        .params(Params::between(1, 2).keywords(&["default"])),
    Function::new("set", set)
        .doc("set(key, value)\nStores `value` under `key` for the current task and the tasks it spawns from now on.")
        .params(Params::exactly(2)),
    Function::new("all", all)
        .doc("all()\nA dict copy of the current task's values, keys sorted.")
        .params(Params::exactly(0)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Values that travel with a task: set in one, read in it and in the tasks it spawns.")
        .functions(FUNCTIONS);
}

fn current<'a>(vm: &'a Vm, args: &Args<'_>) -> Result<&'a Rc<Task>, Fault> {
    vm.current_task()
        .ok_or_else(|| Fault::new(format!("{}: no task is running", args.function)))
}

/// context.get(key, default=nil)
fn get(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key = args.str(0)?;
    let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
    let task = current(vm, &args)?;
    let value = task.context.borrow().get(key.as_str()).cloned();
    Ok(value.unwrap_or(default))
}

/// context.set(key, value)
fn set(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key: Rc<str> = args.str(0)?.as_str().into();
    let value = args.value(1)?.clone();
    current(vm, &args)?.context.borrow_mut().insert(key, value);
    Ok(Value::Nil)
}

/// context.all(): a dict copy of every value, keys sorted. The tracing module's span handle is
/// left out: it is there only when spans are exported, and scripts read the span through
/// `trace_id`/`span_id` and the `tracing` functions.
fn all(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let task = current(vm, &args)?;
    let mut entries: Vec<(Rc<str>, Value)> = task
        .context
        .borrow()
        .iter()
        .filter(|(k, _)| *k != crate::trace::SPAN)
        .map(|(k, v)| (Rc::from(k), v.clone()))
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut dict = new_dict();
    for (key, value) in entries {
        dict.insert(Key::str(&key), value);
    }
    Ok(Value::dict(dict))
}
