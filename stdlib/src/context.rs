//! `context`: values that travel with a task (seed 000, section 9).
//!
//! `context.set(key, value)` stores a value for the current task; `context.get(key)` reads it
//! back. A task started with `spawn` (or a callback started by a library function) begins with a
//! copy of its parent's values, so setting a value in a child never changes the parent. The http
//! server puts `request_id`, `trace_id` and the request deadline here.

use std::rc::Rc;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::object::NativeFunction;
use cn_runtime::tasks::Task;
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's members.
pub fn members(_vm: &mut Vm) -> Vec<(&'static str, Value)> {
    vec![
        ("get", NativeFunction::value("context.get", get)),
        ("set", NativeFunction::value("context.set", set)),
        ("all", NativeFunction::value("context.all", all)),
    ]
}

fn current<'a>(vm: &'a Vm, args: &Args<'_>) -> Result<&'a Rc<Task>, Fault> {
    vm.current_task()
        .ok_or_else(|| Fault::new(format!("{}: no task is running", args.function)))
}

/// context.get(key, default=nil)
fn get(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&["default"])?;
    args.expect_count(1, 2)?;
    let key = args.str(0)?;
    let default = args.get_or_named(1, "default").cloned().unwrap_or_default();
    let task = current(vm, &args)?;
    let value = task.context.borrow().get(key.as_str()).cloned();
    Ok(value.unwrap_or(default))
}

/// context.set(key, value)
fn set(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&[])?;
    args.expect_count(2, 2)?;
    let key: Rc<str> = args.str(0)?.as_str().into();
    let value = args.value(1)?.clone();
    current(vm, &args)?.context.borrow_mut().insert(key, value);
    Ok(Value::Nil)
}

/// context.all(): a dict copy of every value, keys sorted. The tracing module's span handle is
/// left out: it is there only when spans are exported, and scripts read the span through
/// `trace_id`/`span_id` and the `tracing` functions.
fn all(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&[])?;
    args.expect_count(0, 0)?;
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
