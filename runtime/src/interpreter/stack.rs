//! The operand stack as the dispatch loop touches it: values released without drop glue when
//! they are inline, the out-of-line growth path, and moving a run of values out into a vector.
//! The stack pointer itself lives in the loop (`sp`, see `interpreter.rs`).

use crate::value::Value;

pub(super) use crate::value::release;

/// Keeps a panic from unwinding out of the dispatch loop. While the loop runs, the fiber's
/// stack length is stale (the loop's `sp` is the truth), so dropping that vector during
/// unwinding would drop values already moved out of it. A panic there is a bug in cn, and the
/// panic hook has already printed it; ending the process is the defined way out.
pub(super) struct NoUnwind;

impl Drop for NoUnwind {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::process::abort();
        }
    }
}

/// Makes room for at least a few more values (the loop re-reads its pointers afterwards):
/// as many as one instruction pushes.
#[cold]
#[inline(never)]
pub(super) fn grow(stack: &mut Vec<Value>) {
    stack.reserve(4);
}

/// Writes `value` into `slot`, dropping the old value cheaply when it was inline.
#[inline(always)]
pub(super) fn store(slot: &mut Value, value: Value) {
    release(std::mem::replace(slot, value));
}
