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

/// The two kinds of cleanup.
pub enum CleanupAction {
    /// `defer`: call this parameterless function.
    Defer(Value),
    /// A block statement's context object: call its `exit(error)`.
    Exit(Value),
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
}

impl Fiber {
    /// An empty fiber.
    pub fn new() -> Fiber {
        Fiber {
            stack: Vec::with_capacity(256),
            ..Fiber::default()
        }
    }

    /// The cn stack trace of frames above `stop`, innermost first.
    pub fn trace(&self, stop: usize) -> Vec<TraceFrame> {
        self.frames[stop.min(self.frames.len())..]
            .iter()
            .rev()
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
