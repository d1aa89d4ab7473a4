//! Natives that walk an iterable of any length (`sum(range(2_000_000_000))`, `all(...)`,
//! `map(f, ...)`) run in slices, so they cannot freeze the process.
//!
//! A native is plain Rust: while it loops nothing else on the interpreter thread runs, so a
//! handler summing a huge range would hold up every other request, the health probes, its own
//! request timeout and SIGTERM. [`fold`] steps the iterable [`SLICE`] items at a time; after the
//! first slice the rest continues as a suspended step of the calling task, which lets other
//! tasks, timers and I/O run between slices and ends the loop when the task is cancelled (a
//! timeout, a drain) like any other wait. Called where waiting is impossible (inside a sort key),
//! it runs to the end at once, as before.

use crate::fault::Fault;
use crate::object::Iter;
use crate::tasks::yield_to_others;
use crate::value::Value;
use crate::vm::Vm;

/// Items stepped between two chances for other tasks to run: about a millisecond of work.
pub(crate) const SLICE: usize = 1 << 16;

/// What a step of a fold says.
pub(crate) enum Flow {
    /// Go on with the next item.
    Continue,
    /// Stop here; the fold's result is this.
    Stop(Value),
}

/// What a fold does with each item and at the end.
pub(crate) trait Fold: 'static {
    fn step(&mut self, vm: &mut Vm, item: Value) -> Result<Flow, Fault>;
    fn finish(self, vm: &mut Vm) -> Result<Value, Fault>;
}

/// Runs `fold` over `it`, in slices once it takes longer than one.
pub(crate) fn fold<F: Fold>(vm: &mut Vm, mut it: Iter, mut fold: F) -> Result<Value, Fault> {
    if let Some(flow) = run_slice(vm, &mut it, &mut fold, SLICE)? {
        return finish(vm, flow, fold);
    }
    if !vm.can_suspend() {
        let flow = run_slice(vm, &mut it, &mut fold, usize::MAX)?.unwrap_or(Flow::Continue);
        return finish(vm, flow, fold);
    }
    let handle = vm.handle();
    Ok(vm.suspend(async move {
        loop {
            yield_to_others().await;
            let mut vm = handle.borrow_mut();
            if let Some(flow) = run_slice(&mut vm, &mut it, &mut fold, SLICE)? {
                return finish(&mut vm, flow, fold);
            }
        }
    }))
}

/// Steps up to `limit` items; `Some` when the fold is over (stopped, or the iterable ran out).
fn run_slice<F: Fold>(
    vm: &mut Vm,
    it: &mut Iter,
    fold: &mut F,
    limit: usize,
) -> Result<Option<Flow>, Fault> {
    for _ in 0..limit {
        let Some(item) = it.next_value()? else {
            return Ok(Some(Flow::Continue));
        };
        if let Flow::Stop(value) = fold.step(vm, item)? {
            return Ok(Some(Flow::Stop(value)));
        }
    }
    Ok(None)
}

fn finish<F: Fold>(vm: &mut Vm, flow: Flow, fold: F) -> Result<Value, Fault> {
    match flow {
        Flow::Stop(value) => Ok(value),
        Flow::Continue => fold.finish(vm),
    }
}
