//! Fibers: one script task's frames, value stack and pending cleanups.
//!
//! Script-to-script calls push a [`Frame`] instead of recursing on the Rust stack, so a fiber can
//! be suspended between any two instructions and deep recursion ends with a clean fault.

use std::rc::Rc;

use crate::fault::TraceFrame;
use crate::object::Closure;
use crate::value::Value;

/// Most frames one fiber may hold before "stack overflow" (each costs a few dozen bytes plus its
/// locals on the value stack).
pub const MAX_FRAMES: usize = 100_000;

/// What happens to a frame's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// An ordinary call: the result is pushed for the caller.
    Call,
    /// A cleanup (`defer`, block `enter`/`exit`): the result is dropped and the caller resumes
    /// whatever it was doing (continuing, returning or unwinding).
    Cleanup,
}

/// One activation of a script function.
pub struct Frame {
    /// The running function.
    pub closure: Rc<Closure>,
    /// Next instruction.
    pub ip: usize,
    /// Stack index of local slot 0.
    pub base: usize,
    /// Stack length to restore on return; the result (for `Call` frames) goes there.
    pub ret: usize,
    /// What happens to the result.
    pub kind: FrameKind,
}

/// A pending cleanup and the frame depth that registered it.
pub struct Cleanup {
    /// `frames.len()` when it was registered; runs when that frame ends.
    pub depth: usize,
    /// What to run.
    pub action: CleanupAction,
}

/// The kinds of cleanup.
pub enum CleanupAction {
    /// `defer`: call this parameterless function.
    Defer(Value),
    /// A block statement's context object: call its `exit(error)`.
    Exit(Value),
    /// Leaving a `concurrent:` block: call this native with the fault message (or nil); it may
    /// wait, so it runs inside the runtime's cleanup trampoline frame.
    Concurrent(Value),
}

/// One script task.
#[derive(Default)]
pub struct Fiber {
    /// Locals and operands of every frame.
    pub stack: Vec<Value>,
    /// Active calls, innermost last.
    pub frames: Vec<Frame>,
    /// Registered cleanups, innermost last.
    pub cleanups: Vec<Cleanup>,
    /// The fault being unwound while a cleanup frame runs.
    pub unwinding: Option<crate::fault::Fault>,
    /// Values being returned while their frame's cleanups run, with that frame's depth.
    pub pending_returns: Vec<(usize, Value)>,
    /// Whether the fiber runs on a task driver and so may yield when its budget runs out
    /// (natives calling back into scripts synchronously run fibers that may not).
    pub yieldable: bool,
}

#[cold]
#[inline(never)]
fn grow_frames(frames: &mut Vec<Frame>) {
    frames.reserve(frames.len().max(16));
}

impl Fiber {
    /// An empty fiber.
    pub fn new() -> Fiber {
        Fiber {
            stack: Vec::with_capacity(256),
            ..Fiber::default()
        }
    }

    /// Pushes a frame starting at instruction 0: the one frame builder, used by the dispatch
    /// loop's fast path and by [`crate::Vm`]'s general calls alike.
    ///
    /// Written field by field into the vector's spare room: `frames.push(Frame { .. })` makes
    /// rustc build the frame in a stack temporary with 8-byte stores and copy it with 16-byte
    /// loads, which the CPU cannot forward from its store buffer; that stall was the largest
    /// single cost of a script call.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub fn push_frame(&mut self, closure: Rc<Closure>, base: usize, ret: usize, kind: FrameKind) {
        if self.frames.len() == self.frames.capacity() {
            grow_frames(&mut self.frames);
        }
        let len = self.frames.len();
        // SAFETY: the check above guarantees room for one more frame; every field of the slot is
        // initialised before the length covers it.
        unsafe {
            let slot = self.frames.as_mut_ptr().add(len);
            std::ptr::addr_of_mut!((*slot).closure).write(closure);
            std::ptr::addr_of_mut!((*slot).ip).write(0);
            std::ptr::addr_of_mut!((*slot).base).write(base);
            std::ptr::addr_of_mut!((*slot).ret).write(ret);
            std::ptr::addr_of_mut!((*slot).kind).write(kind);
            self.frames.set_len(len + 1);
        }
    }

    /// A fiber for a task: small to start with, since a service may hold many thousands of
    /// idle tasks.
    pub fn for_task() -> Fiber {
        Fiber {
            stack: Vec::with_capacity(8),
            frames: Vec::with_capacity(2),
            yieldable: true,
            ..Fiber::default()
        }
    }

    /// The cn stack trace of frames above `stop`, innermost first (the runtime's own frames are
    /// left out).
    pub fn trace(&self, stop: usize) -> Vec<TraceFrame> {
        self.frames[stop.min(self.frames.len())..]
            .iter()
            .rev()
            .filter(|frame| &*frame.closure.code.file.path != crate::vm::RUNTIME_FILE)
            .map(|frame| {
                let proto = &frame.closure.code.proto;
                let at = frame.ip.saturating_sub(1);
                TraceFrame {
                    function: proto.name.clone(),
                    file: frame.closure.code.file.clone(),
                    span: proto.spans.get(at).copied().unwrap_or(proto.span),
                }
            })
            .collect()
    }
}
