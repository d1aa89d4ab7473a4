//! `cn fmt [--check | --diff] [PATH...]`: rewrites `.cn` files in the canonical layout
//! (`cn_compiler::syntax::format`). Paths are files or folders (searched for `.cn` files,
//! skipping hidden folders and `target`); the default is the current folder; `-` formats
//! standard input to standard output (for editors). `--check` changes
//! nothing and lists the files that are not formatted; `--diff` shows what would change. A file
//! that does not parse is reported with its error and left alone. The exit status is 1 when
//! something is not formatted (`--check`, `--diff`) or could not be formatted, else 0.

use std::path::PathBuf;

use cn_compiler::syntax::format::{format, FormatError};

/// What to do with each file.
#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    Write,
    Check,
    Diff,
}

pub fn run(paths: &[PathBuf], mode: Mode) -> u8 {
    if paths.len() == 1 && paths[0].as_os_str() == "-" {
        return stdin_to_stdout(mode);
    }
    let files = crate::files::find(paths, ".cn");
    let mut status = 0;
    for file in &files {
        let shown = file.display().to_string();
        let source = match std::fs::read_to_string(file) {
            Ok(source) => source,
            Err(e) => {
                eprintln!("cn fmt: cannot read {shown}: {e}");
                status = 1;
                continue;
            }
        };
        let formatted = match format(&source) {
            Ok(formatted) => formatted,
            Err(FormatError::Syntax(diagnostic)) => {
                crate::report::print_diagnostics(&shown, &source, &[diagnostic]);
                eprintln!("cn fmt: {shown} does not parse; it is left as it is");
                status = 1;
                continue;
            }
            Err(FormatError::Changed(why)) => {
                eprintln!("cn fmt: {shown}: {why} (please report this)");
                status = 1;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        match mode {
            Mode::Write => {
                if let Err(e) = std::fs::write(file, &formatted) {
                    eprintln!("cn fmt: cannot write {shown}: {e}");
                    status = 1;
                } else {
                    println!("{shown}");
                }
            }
            Mode::Check => {
                println!("{shown}");
                status = 1;
            }
            Mode::Diff => {
                print!("{}", diff(&shown, &source, &formatted));
                status = 1;
            }
        }
    }
    if mode == Mode::Check && status == 1 {
        eprintln!("cn fmt --check: the files above are not formatted (run cn fmt)");
    }
    status
}

/// `cn fmt -`: standard input formatted to standard output (`--check`: only the status;
/// `--diff`: the diff). Text that does not parse is reported and nothing is written.
fn stdin_to_stdout(mode: Mode) -> u8 {
    use std::io::Read;
    let mut source = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut source) {
        eprintln!("cn fmt: cannot read standard input: {e}");
        return 1;
    }
    match format(&source) {
        Ok(formatted) => match mode {
            Mode::Write => {
                print!("{formatted}");
                0
            }
            Mode::Check => u8::from(formatted != source),
            Mode::Diff => {
                print!("{}", diff("<stdin>", &source, &formatted));
                u8::from(formatted != source)
            }
        },
        Err(FormatError::Syntax(diagnostic)) => {
            crate::report::print_diagnostics("<stdin>", &source, &[diagnostic]);
            1
        }
        Err(FormatError::Changed(why)) => {
            eprintln!("cn fmt: <stdin>: {why} (please report this)");
            1
        }
    }
}

/// A unified diff of the two texts (similar's, three lines of context).
fn diff(path: &str, before: &str, after: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}
