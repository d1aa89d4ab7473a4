//! Faults: the runtime's one error type. A fault ends the task that raised it, carrying the
//! message, the cn stack trace at the point it was raised, and the source line.

use std::fmt;
use std::rc::Rc;

use cn_compiler::syntax::ast::Span;

use crate::source::SourceFile;

/// Frames shown at each end of a long stack trace.
const TRACE_ENDS: usize = 10;

/// One frame of a cn stack trace.
#[derive(Clone, Debug)]
pub struct TraceFrame {
    /// Function name (`<module>`, `<lambda>`, `main`).
    pub function: Rc<str>,
    /// File the function is in.
    pub file: Rc<SourceFile>,
    /// The instruction's span.
    pub span: Span,
}

/// Why a fault unwinds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A bug in the script: type errors, missing keys, `unwrap` of an `Err`, ...
    Error,
    /// `exit(code)`: unwinds like a fault (running `defer`s), then ends the process with `code`.
    Exit(i32),
    /// The task was cancelled (by `task.cancel()`, its `concurrent:` block, a timeout or
    /// shutdown): unwinds like a fault, running `defer`s, and ends the task quietly.
    Cancelled,
}

/// A runtime fault.
#[derive(Clone, Debug)]
pub struct Fault {
    /// What went wrong, one line without a trailing period.
    pub message: String,
    /// Why the fault unwinds.
    pub kind: FaultKind,
    /// Innermost frame first; empty until the VM attaches it.
    pub trace: Vec<TraceFrame>,
    /// Further context (a fault raised while cleaning up after this one).
    pub notes: Vec<String>,
}

impl Fault {
    /// A fault with a message.
    pub fn new(message: impl Into<String>) -> Fault {
        Fault {
            message: message.into(),
            kind: FaultKind::Error,
            trace: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The fault that `exit(code)` raises.
    pub fn exit(code: i32) -> Fault {
        Fault {
            message: format!("exit({code})"),
            kind: FaultKind::Exit(code),
            trace: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// The fault a cancelled task stops with.
    pub fn cancelled() -> Fault {
        Fault {
            message: "task cancelled".into(),
            kind: FaultKind::Cancelled,
            trace: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// A type error: "expected X, got Y".
    pub fn type_error(context: &str, expected: &str, got: &crate::Value) -> Fault {
        Fault::new(format!(
            "{context}: expected {expected}, got {}",
            got.type_name()
        ))
    }

    /// Renders the report printed when a fault ends a program: message, stack trace (innermost
    /// last, like Python), and the source line of the innermost frame with a caret.
    pub fn report(&self) -> String {
        let mut out = String::new();
        if !self.trace.is_empty() {
            out.push_str("stack trace (most recent call last):\n");
            let frames: Vec<&TraceFrame> = self.trace.iter().rev().collect();
            let line = |frame: &TraceFrame| {
                let (line, col) = frame.file.line_col(frame.span);
                format!(
                    "  {} at {}:{}:{}\n",
                    frame.function, frame.file.path, line, col
                )
            };
            // Deep recursion would print thousands of identical lines: keep both ends.
            if frames.len() > 2 * TRACE_ENDS + 1 {
                frames[..TRACE_ENDS]
                    .iter()
                    .for_each(|f| out.push_str(&line(f)));
                out.push_str(&format!(
                    "  ... {} more frames ...\n",
                    frames.len() - 2 * TRACE_ENDS
                ));
                frames[frames.len() - TRACE_ENDS..]
                    .iter()
                    .for_each(|f| out.push_str(&line(f)));
            } else {
                frames.iter().for_each(|f| out.push_str(&line(f)));
            }
        }
        out.push_str(&format!("fault: {}\n", self.message));
        if let Some(frame) = self.trace.first() {
            let (line, col) = frame.file.line_col(frame.span);
            let text = frame.file.line_text(line);
            let gutter = line.to_string();
            out.push_str(&format!(" {gutter} | {text}\n"));
            let width = frame
                .span
                .len()
                .max(1)
                .min(text.len().saturating_sub(col - 1).max(1));
            out.push_str(&format!(
                " {} | {}{}\n",
                " ".repeat(gutter.len()),
                " ".repeat(col - 1),
                "^".repeat(width)
            ));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        out
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fault {}

// Every fallible operation returns `Result<_, Fault>`, so its size is the size of most results
// the dispatch loop moves around: a fault that grows makes every call slower. Box what is rare.
const _: () = assert!(std::mem::size_of::<Fault>() <= 80);
