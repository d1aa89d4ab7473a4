//! `io`: the standard streams. `io.stdin.lines()` streams stdin a chunk at a time (a pipeline
//! `cat big.log | cn run count.cn` holds one line, not the file); `io.stdin.read()` takes it
//! all; `io.stdout` and `io.stderr` are what `print(..., file=)` writes to. Reading waits on the
//! blocking pool, so a server in the same program keeps serving.

use std::io::Read;

use cn_runtime::builtins::console::{stream_value, Std};
use cn_runtime::native::{Member, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Value, Vm};

use crate::blocking;

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("The standard streams: io.stdin (lines, read, read_line), io.stdout, io.stderr.")
        .value(
            "stdin",
            "stdin\nStandard input: `lines()`, `read()`, `read_line()`.",
            NativeObject::value(Stdin),
        )
        .value(
            "stdout",
            "stdout\nStandard output, where `print` writes: `write(text)`, `flush()`.",
            stream_value(Std::Out),
        )
        .value(
            "stderr",
            "stderr\nStandard error: `print(..., file=io.stderr)`, `write(text)`.",
            stream_value(Std::Err),
        );
}

/// `io.stdin`.
struct Stdin;

type M = Member<Stdin>;

static STDIN: Table<Stdin> = Table::new(
    "io.Stdin",
    "Standard input.",
    &[
        M::method("lines", |_, _, _| {
            Ok(crate::fs::lines::value(
                Box::new(std::io::stdin()),
                "io.stdin.lines()".into(),
            ))
        })
        .doc("lines()\nAn iterator over stdin's lines without their newlines, read a chunk at a time; it ends at the end of input."),
        M::method("read", |_, vm, _| {
            Ok(blocking::run(
                vm,
                "io.stdin.read",
                || {
                    let mut text = String::new();
                    std::io::stdin()
                        .take(crate::fs::READ_LIMIT + 1)
                        .read_to_string(&mut text)?;
                    if text.len() as u64 > crate::fs::READ_LIMIT {
                        return Err(crate::fs::too_large("stdin"));
                    }
                    Ok(text)
                },
                |read| match read {
                    Ok(text) => Ok(Value::ok(Value::str(text))),
                    Err(error) => Ok(Value::err(Value::str(format!(
                        "cannot read stdin: {error}"
                    )))),
                },
            ))
        })
        .doc("read()\n`Ok(text)`: everything left on stdin, up to its end; `Err(message)` if it is not UTF-8 text or is over 1 GiB (stream it with `lines()`)."),
        M::method("read_line", |_, vm, args| {
            cn_runtime::builtins::console::input(vm, args)
        })
        .doc("read_line()\nThe next line without its newline, or nil at the end of input (`input()` without a prompt).")
        .params(Params::NONE),
    ],
);

impl NativeType for Stdin {
    fn type_name(&self) -> &str {
        "io.Stdin"
    }

    fn members(&self) -> &'static dyn Members {
        &STDIN
    }

    fn display(&self) -> String {
        "<io.stdin>".into()
    }
}
