//! Leaving frames: returns that run cleanups first, and unwinding after a fault.
//!
//! `defer`s and block-statement exits are cleanups registered per frame. They may be script code,
//! so running one can mean pushing a cleanup frame and re-entering the dispatch loop; when that
//! frame returns, [`Vm::finish_return`] resumes whatever was in progress: continuing the frame
//! below, finishing its return, or going on unwinding a fault.

use crate::fault::Fault;
use crate::fiber::{Cleanup, CleanupAction, Fiber, FrameKind};
use crate::value::Value;
use crate::vm::Vm;

/// Why the dispatch loop stopped.
pub(crate) enum Stop {
    /// The frame at the stop depth returned this value.
    Returned(Value),
    /// An instruction faulted.
    Faulted(Fault),
    /// A cleanup frame finished while a fault was being unwound: continue unwinding.
    CleanupDone,
    /// A native suspended (`Vm::suspend`): the driver awaits its future.
    Await,
    /// The fiber used up its instruction budget and may yield.
    Yield,
}

/// What finishing a return did.
pub(crate) enum ReturnOutcome {
    /// The frame at the stop depth returned.
    Finished(Value),
    /// Control moved to another frame (the caller, or a cleanup frame).
    Switched,
    /// Go back to the unwinder.
    ResumeUnwind,
}

impl Vm {
    /// Unwinds frames above `stop`, running their cleanups. Returns `Ok` when a cleanup frame was
    /// pushed (dispatch must run it), `Err` with the fault once every frame above `stop` is gone.
    pub(crate) fn unwind(
        &mut self,
        fiber: &mut Fiber,
        stop: usize,
        incoming: Option<Fault>,
    ) -> Result<(), Fault> {
        let mut fault = match (incoming, fiber.unwinding.take()) {
            (Some(mut new), None) => {
                let trace = fiber.trace(stop);
                new.trace.extend(trace);
                new
            }
            (Some(new), Some(mut original)) => {
                original.notes.push(format!(
                    "a cleanup faulted while unwinding: {}",
                    new.message
                ));
                original
            }
            (None, Some(original)) => original,
            (None, None) => Fault::new("internal error: unwinding without a fault"),
        };
        loop {
            let depth = fiber.frames.len();
            if depth <= stop {
                return Err(fault);
            }
            if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
                let cleanup = fiber.cleanups.pop().map(|c| c.action);
                if let Some(action) = cleanup {
                    match self.start_cleanup(fiber, action, Some(&fault.message)) {
                        Ok(true) => {
                            fiber.unwinding = Some(fault);
                            return Ok(());
                        }
                        Ok(false) => {}
                        Err(e) => fault
                            .notes
                            .push(format!("a cleanup faulted while unwinding: {}", e.message)),
                    }
                }
                continue;
            }
            if let Some(frame) = fiber.frames.pop() {
                fiber.stack.truncate(frame.ret);
            }
        }
    }

    /// Starts one cleanup: natives run to completion here (returns `false`); script code gets
    /// a cleanup frame (returns `true`).
    pub(crate) fn start_cleanup(
        &mut self,
        fiber: &mut Fiber,
        action: CleanupAction,
        error: Option<&str>,
    ) -> Result<bool, Fault> {
        let (callee, args) = match action {
            CleanupAction::Defer(f) => (f, Vec::new()),
            CleanupAction::Concurrent(leave) => {
                let error = error.map_or(Value::Nil, Value::str);
                let trampoline = Value::Function(self.cleanup_trampoline.clone());
                (trampoline, vec![leave, error])
            }
            CleanupAction::Exit(object) => match &object {
                Value::Record(record) => match record.ty.method(crate::symbol::EXIT) {
                    Some(method) => {
                        let error = error.map_or(Value::Nil, Value::str);
                        (method.clone(), vec![object.clone(), error])
                    }
                    None => return Ok(false),
                },
                Value::Object(native) => {
                    let returning = pending_value(fiber);
                    match native.inner.exit_waiting(native, returning) {
                        Some(leave) => {
                            let error = error.map_or(Value::Nil, Value::str);
                            let trampoline = Value::Function(self.cleanup_trampoline.clone());
                            (trampoline, vec![leave, error])
                        }
                        None => {
                            native.inner.exit(native, self, error)?;
                            return Ok(false);
                        }
                    }
                }
                _ => return Ok(false),
            },
        };
        match &callee {
            Value::Function(closure) => {
                let ret = fiber.stack.len();
                fiber.stack.push(callee.clone());
                fiber.stack.extend(args.iter().cloned());
                self.push_frame(
                    fiber,
                    closure.clone(),
                    args.len(),
                    &[],
                    ret,
                    FrameKind::Cleanup,
                )?;
                Ok(true)
            }
            other => {
                self.call_value(other, &args)?;
                Ok(false)
            }
        }
    }

    /// Finishes a return from the top frame: runs its cleanups first, then pops it.
    pub(crate) fn finish_return(
        &mut self,
        fiber: &mut Fiber,
        stop: usize,
        value: Value,
    ) -> Result<ReturnOutcome, Fault> {
        let depth = fiber.frames.len();
        if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
            if let Some(cleanup) = fiber.cleanups.pop() {
                fiber.pending_returns.push((depth, value));
                if self.start_cleanup(fiber, cleanup.action, None)? {
                    return Ok(ReturnOutcome::Switched);
                }
                // A native cleanup ran; keep returning.
                let value = take_pending(fiber, depth).unwrap_or_default();
                return self.finish_return(fiber, stop, value);
            }
        }
        let Some(frame) = fiber.frames.pop() else {
            return Ok(ReturnOutcome::Finished(value));
        };
        fiber.stack.truncate(frame.ret);
        match frame.kind {
            FrameKind::Call => {
                if fiber.frames.len() <= stop {
                    return Ok(ReturnOutcome::Finished(value));
                }
                fiber.stack.push(value);
                Ok(ReturnOutcome::Switched)
            }
            FrameKind::Cleanup => {
                if fiber.unwinding.is_some() {
                    return Ok(ReturnOutcome::ResumeUnwind);
                }
                // The frame below resumes what it was doing: continuing or returning.
                let pending = take_pending(fiber, fiber.frames.len());
                match pending {
                    Some(value) => self.finish_return(fiber, stop, value),
                    None => Ok(ReturnOutcome::Switched),
                }
            }
        }
    }

    /// `enter` of a block statement; its `exit` is registered only once `enter` succeeded, as
    /// with Python's `with`. Returns whether a frame was pushed (never: `enter` runs to
    /// completion here).
    pub(crate) fn enter_block(&mut self, fiber: &mut Fiber, object: Value) -> Result<bool, Fault> {
        let depth = fiber.frames.len();
        match &object {
            Value::Record(record) => {
                let enter = record.ty.method(crate::symbol::ENTER).cloned();
                if enter.is_none() && record.ty.method(crate::symbol::EXIT).is_none() {
                    return Err(Fault::new(format!(
                        "{} cannot be used as a block statement: it has no enter or exit method",
                        record.ty.name
                    )));
                }
                if let Some(enter) = enter {
                    self.call_value(&enter, std::slice::from_ref(&object))?;
                }
                fiber.cleanups.push(Cleanup {
                    depth,
                    action: CleanupAction::Exit(object.clone()),
                });
                Ok(false)
            }
            Value::Object(native) => {
                native.inner.enter(native, self)?;
                fiber.cleanups.push(Cleanup {
                    depth,
                    action: CleanupAction::Exit(object.clone()),
                });
                Ok(false)
            }
            other => Err(Fault::new(format!(
                "{} cannot be used as a block statement",
                other.type_name()
            ))),
        }
    }
}

/// The value the top frame is returning, if it is in the middle of a return.
fn pending_value(fiber: &Fiber) -> Option<&Value> {
    match fiber.pending_returns.last() {
        Some((depth, value)) if *depth == fiber.frames.len() => Some(value),
        _ => None,
    }
}

/// The value being returned by the frame at `depth`, if it is in the middle of returning.
fn take_pending(fiber: &mut Fiber, depth: usize) -> Option<Value> {
    match fiber.pending_returns.last() {
        Some((d, _)) if *d == depth => fiber.pending_returns.pop().map(|(_, v)| v),
        _ => None,
    }
}
