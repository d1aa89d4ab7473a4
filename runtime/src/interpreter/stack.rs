//! The operand stack as the dispatch loop touches it: pushes written straight into their slot,
//! pops and overwrites that skip `Value`'s drop glue for inline values.

use crate::value::Value;

/// Drops a value that is usually inline without calling drop glue in that case.
#[inline(always)]
pub(super) fn release(value: Value) {
    if value.is_inline() {
        std::mem::forget(value);
    } else {
        release_heap(value);
    }
}

#[cold]
#[inline(never)]
pub(super) fn release_heap(value: Value) {
    drop(value);
}

/// Pushes a value, growing the stack out of line. The value expression is evaluated after the
/// capacity check, straight into its slot: evaluated first, it must survive the possible call to
/// `grow`, so it was assembled in a stack temporary (a one-byte store for `nil`) and reloaded as
/// one 16-byte move, which stalls on store forwarding (17 % of the List benchmark).
macro_rules! push {
    ($stack:expr, $value:expr) => {{
        let len = $stack.len();
        if len == $stack.capacity() {
            $crate::interpreter::stack::grow(&mut $stack);
        }
        // SAFETY: the check above leaves room for one more value past `len`, and the length
        // covers the slot only once it is written.
        #[allow(unused_unsafe)]
        unsafe {
            let slot = $stack.as_mut_ptr().add(len);
            slot.write($value);
            $stack.set_len(len + 1);
        }
    }};
}

#[cold]
#[inline(never)]
pub(super) fn grow(stack: &mut Vec<Value>) {
    stack.reserve(1);
}

/// Pops and drops the top value; an inline one (an int it just read) is not even read.
#[inline(always)]
#[allow(unsafe_code)]
pub(super) fn discard(stack: &mut Vec<Value>) {
    match stack.last() {
        Some(v) if v.is_inline() => {
            // SAFETY: shortening the vector forgets the last value, which owns nothing.
            unsafe { stack.set_len(stack.len() - 1) }
        }
        Some(_) => {
            if let Some(v) = stack.pop() {
                release_heap(v);
            }
        }
        None => {}
    }
}

/// Writes `value` into `slot`, dropping the old value cheaply when it was inline.
#[inline(always)]
pub(super) fn store(slot: &mut Value, value: Value) {
    release(std::mem::replace(slot, value));
}

pub(super) use push;
