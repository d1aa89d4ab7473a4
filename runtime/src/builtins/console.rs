//! The console: `input(prompt)`, `eprint(...)`, and the `io.stdout` / `io.stderr` objects that
//! `print(..., file=)` and the `io` module use.
//!
//! stdout is the shared, asynchronously written sink of `output` (print and log lines in one
//! order); stderr is written directly, a line at a time, as every runtime does, so it is never
//! held back behind a stalled stdout reader. The two are separate streams: a terminal shows
//! them interleaved as they arrive. `input` reads stdin on the blocking pool, so other tasks
//! (a server) go on while a script waits for its user.

use std::io::{BufRead, Write};
use std::rc::Rc;

use crate::args::Args;
use crate::fault::Fault;
use crate::native::{Member, Members, Params, Table};
use crate::object::{NativeObject, NativeType};
use crate::value::Value;
use crate::vm::Vm;

/// Which standard stream an `io.Stream` writes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Std {
    Out,
    Err,
}

/// `io.stdout` or `io.stderr`.
pub struct StdStream(pub Std);

type M = Member<StdStream>;

static STREAM: Table<StdStream> = Table::new(
    "io.Stream",
    "A standard output stream: `io.stdout` or `io.stderr`; `print(..., file=io.stderr)` writes to one.",
    &[
        M::method("write", |s, vm, args| {
            let text = args.str(0)?;
            write_to(vm, s.0, text.to_string())
        })
        .doc("write(text)\nWrites `text` as it is (no newline added).")
        .params(Params::exactly(1)),
        M::method("flush", |s, vm, _| {
            match s.0 {
                Std::Out => vm.flush(),
                Std::Err => {
                    let _ = std::io::stderr().flush();
                }
            }
            Ok(Value::Nil)
        })
        .doc("flush()\nWaits until everything written so far is out."),
    ],
);

impl NativeType for StdStream {
    fn type_name(&self) -> &str {
        "io.Stream"
    }

    fn members(&self) -> &'static dyn Members {
        &STREAM
    }

    fn display(&self) -> String {
        match self.0 {
            Std::Out => "<io.stdout>".into(),
            Std::Err => "<io.stderr>".into(),
        }
    }
}

/// The value `io.stdout` / `io.stderr`.
pub fn stream_value(which: Std) -> Value {
    NativeObject::value(StdStream(which))
}

/// Writes `text` to the stream: stdout through `print`'s sink, stderr directly. A closed
/// stderr is ignored (there is nowhere left to report it).
pub(crate) fn write_to(vm: &mut Vm, which: Std, text: String) -> Result<Value, Fault> {
    match which {
        Std::Out => vm.print(text),
        Std::Err => {
            let _ = std::io::stderr().lock().write_all(text.as_bytes());
            Ok(Value::Nil)
        }
    }
}

/// The stream `print`'s `file=` names: stdout when absent or nil.
pub(crate) fn file_option(args: &Args<'_>) -> Result<Std, Fault> {
    match args.named("file") {
        None | Some(Value::Nil) => Ok(Std::Out),
        Some(Value::Object(object)) => match object.downcast::<StdStream>() {
            Some(stream) => Ok(stream.0),
            None => Err(file_error(args, &Value::Object(object.clone()))),
        },
        Some(other) => Err(file_error(args, other)),
    }
}

fn file_error(args: &Args<'_>, got: &Value) -> Fault {
    Fault::new(format!(
        "{}() argument 'file' must be io.stdout or io.stderr, not {} (write files with fs.write_text)",
        args.function,
        got.type_name()
    ))
}

/// eprint(*values, sep=" ", end="\n"): print to stderr.
pub(super) fn eprint(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let line = super::basic::print_line(vm, &args)?;
    write_to(vm, Std::Err, line)
}

/// input(prompt=""): writes the prompt, reads one line from stdin; the line without its
/// newline, or nil at the end of input.
pub fn input(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    if let Some(prompt) = args.get(0) {
        let mut text = String::new();
        crate::format::display_into(&mut text, prompt);
        vm.write_out(&text)?;
    }
    // The prompt must be on the screen before the wait.
    vm.flush();
    if !vm.can_suspend() {
        return Ok(line_value(read_line()));
    }
    Ok(vm.suspend(async move {
        let line = tokio::task::spawn_blocking(read_line)
            .await
            .map_err(|error| Fault::new(format!("input(): {error}")))?;
        Ok(line_value(line))
    }))
}

/// One line of stdin: `Ok(None)` at the end of input.
fn read_line() -> Result<Option<String>, String> {
    let mut line = String::new();
    match std::io::stdin().lock().read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => {
            if line.ends_with('\n') {
                line.pop();
                if line.ends_with('\r') {
                    line.pop();
                }
            }
            Ok(Some(line))
        }
        Err(error) => Err(error.to_string()),
    }
}

fn line_value(line: Result<Option<String>, String>) -> Value {
    match line {
        Ok(Some(line)) => Value::Str(Rc::new(line)),
        Ok(None) => Value::Nil,
        // A failed stdin (not text, closed badly) reads as the end of input, with the reason
        // on stderr: a prompt loop ends instead of spinning.
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "input(): cannot read stdin: {error}");
            Value::Nil
        }
    }
}
