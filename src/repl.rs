//! The interactive prompt: multi-line blocks, history, completion, values echoed.
//!
//! Input is read until it is complete (no open bracket, no block header waiting for a body, no
//! unfinished indented block), then compiled and run against one persistent REPL module.

use std::borrow::Cow;

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{Context, Editor, Helper};

use cn_runtime::{RunError, Runtime, Value, Vm};

const KEYWORDS: &[&str] = &[
    "fn",
    "return",
    "if",
    "elif",
    "else",
    "while",
    "for",
    "in",
    "break",
    "continue",
    "pass",
    "import",
    "as",
    "type",
    "enum",
    "match",
    "case",
    "defer",
    "spawn",
    "concurrent",
    "and",
    "or",
    "not",
    "true",
    "false",
    "nil",
];

/// Completion of names and module members; knows the VM's current names.
struct CnHelper {
    names: Vec<String>,
    members: Vec<(String, Vec<String>)>,
}

impl Completer for CnHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before
            .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
            .map_or(0, |i| i + 1);
        let word = &before[start..];
        let pair = |s: &str| Pair {
            display: s.to_string(),
            replacement: s.to_string(),
        };
        if let Some((module, partial)) = word.rsplit_once('.') {
            let offset = start + module.len() + 1;
            let members = self
                .members
                .iter()
                .find(|(m, _)| m == module)
                .map(|(_, ms)| ms.as_slice())
                .unwrap_or(&[]);
            let found = members
                .iter()
                .filter(|m| m.starts_with(partial))
                .map(|m| pair(m))
                .collect();
            return Ok((offset, found));
        }
        let mut found: Vec<Pair> = self
            .names
            .iter()
            .filter(|n| n.starts_with(word))
            .map(|n| pair(n))
            .collect();
        found.sort_by(|a, b| a.display.cmp(&b.display));
        found.dedup_by(|a, b| a.display == b.display);
        Ok((start, found))
    }
}

impl Hinter for CnHelper {
    type Hint = String;
}

impl Highlighter for CnHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Borrowed(line)
    }
}

impl Validator for CnHelper {}

impl Helper for CnHelper {}

fn refresh_names(helper: &mut CnHelper, vm: &Vm) {
    let mut names: Vec<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
    names.extend(vm.builtin_names().iter().map(|b| b.to_string()));
    names.extend(vm.native_module_names().iter().map(|m| m.to_string()));
    let globals = vm.repl_globals();
    names.extend(globals.iter().map(|g| g.to_string()));
    helper.members = globals
        .iter()
        .filter_map(|g| match vm.repl_global(g) {
            Some(Value::Module(m)) => Some((g.to_string(), vm.module_members(&m.name))),
            _ => None,
        })
        .collect();
    helper.names = names;
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cn_history"))
}

/// Runs the REPL until end of input; returns the exit status.
pub fn run() -> u8 {
    let runtime = match Runtime::new(crate::new_vm(Vec::new())) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cn: {e}");
            return 2;
        }
    };
    let mut editor: Editor<CnHelper, DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("cn: cannot start the REPL: {e}");
            return 2;
        }
    };
    let mut helper = CnHelper {
        names: Vec::new(),
        members: Vec::new(),
    };
    refresh_names(&mut helper, &runtime.vm());
    editor.set_helper(Some(helper));
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("cn {} — Ctrl-D to exit", env!("CARGO_PKG_VERSION"));
    let mut buffer = String::new();
    let mut exit_status = 0;
    loop {
        let prompt = if buffer.is_empty() { ">>> " } else { "... " };
        match editor.readline(prompt) {
            Ok(line) => {
                let finished_block = !buffer.is_empty() && line.trim().is_empty();
                buffer.push_str(&line);
                buffer.push('\n');
                if !finished_block && cn_compiler::syntax::needs_more_input(&buffer) {
                    continue;
                }
                let source = std::mem::take(&mut buffer);
                if source.trim().is_empty() {
                    continue;
                }
                let _ = editor.add_history_entry(source.trim_end());
                if let Some(code) = evaluate(&runtime, &source) {
                    exit_status = code;
                    break;
                }
                if let Some(helper) = editor.helper_mut() {
                    refresh_names(helper, &runtime.vm());
                }
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                println!("^C");
            }
            Err(ReadlineError::Eof) => {
                // A block still being typed when input ends runs, as in Python.
                if !buffer.trim().is_empty() {
                    if let Some(code) = evaluate(&runtime, &std::mem::take(&mut buffer)) {
                        exit_status = code;
                    }
                }
                break;
            }
            Err(e) => {
                eprintln!("cn: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    exit_status.clamp(0, 255) as u8
}

/// Runs one entry and prints its value or error; returns an exit status when it called `exit`.
fn evaluate(runtime: &Runtime, source: &str) -> Option<i32> {
    match runtime.eval_repl(source) {
        Ok(Value::Nil) => {}
        Ok(value) => println!("{}", cn_runtime::format::repr(&value)),
        Err(RunError::Fault(fault)) => {
            if let cn_runtime::fault::FaultKind::Exit(code) = fault.kind {
                return Some(code);
            }
            crate::report_run_error(&RunError::Fault(fault));
        }
        Err(error) => crate::report_run_error(&error),
    }
    None
}
