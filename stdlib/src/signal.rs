//! `signal`: the process lifecycle as scripts see it.
//!
//! SIGTERM and SIGINT start the orderly shutdown described in `cn_runtime::tasks::lifecycle`:
//! tasks waiting in `signal.wait()` wake up and finish their work; if none is waiting, the main
//! task is cancelled (its `defer`s run). Either way every remaining task is cancelled when `main`
//! ends, then the `on_shutdown` hooks run in reverse order of registration and the process exits
//! 0 (or with the status given to `exit`). A second signal exits at once with 130 or 143.

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("on_shutdown", on_shutdown)
        .doc("on_shutdown(f)\nRegisters a hook; returns `f`, so it also works as a decorator.")
        .params(Params::exactly(1)),
    Function::new("wait", wait)
        .doc("wait()\nWaits until shutdown starts; returns `\"SIGTERM\"`, `\"SIGINT\"` or `\"exit\"`.")
        .params(Params::exactly(0)),
    Function::new("shutting_down", shutting_down)
        .doc("shutting_down()\nWhether shutdown has started.")
        .params(Params::exactly(0)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("The process lifecycle: shutdown hooks and waiting for SIGTERM or SIGINT.")
        .functions(FUNCTIONS);
}

/// signal.on_shutdown(f): registers a hook; returns `f`, so it also works as a decorator.
fn on_shutdown(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let hook = args.value(0)?.clone();
    if !hook.is_callable() {
        return Err(args.wrong_type(0, "function", &hook));
    }
    vm.lifecycle.hooks.borrow_mut().push(hook.clone());
    Ok(hook)
}

/// signal.wait(): waits until shutdown starts; returns `"SIGTERM"`, `"SIGINT"` or `"exit"`.
fn wait(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let lifecycle = vm.lifecycle.clone();
    let main_waits = lifecycle.main_waits(vm.current_task());
    Ok(vm.suspend(async move {
        let _main_waits = main_waits;
        let _waiting = lifecycle.register_waiter();
        Ok(Value::str(lifecycle.wait_for_stop().await))
    }))
}

/// signal.shutting_down(): whether shutdown has started.
fn shutting_down(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::Bool(vm.lifecycle.stopping()))
}
