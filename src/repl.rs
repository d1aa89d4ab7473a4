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

/// Completion of names, of members, and of keyword arguments; knows the VM's current names.
struct CnHelper {
    names: Vec<String>,
    members: Vec<(String, Vec<String>)>,
    /// For each callee (`print`, `http.Server`, a script function): its keyword arguments.
    keywords: Vec<(String, Vec<String>)>,
}

/// The callee whose argument list `before` ends in, when the cursor is where an argument
/// starts (right after `(` or `,`): `http.Server` in `http.Server(":8080", ac`.
fn callee_of_argument(before: &str) -> Option<&str> {
    let trimmed = before.trim_end();
    if !(trimmed.ends_with('(') || trimmed.ends_with(',')) {
        return None;
    }
    let mut depth = 0i32;
    for (i, c) in trimmed.char_indices().rev() {
        match c {
            ')' | ']' | '}' => depth += 1,
            '[' | '{' if depth == 0 => return None,
            '(' | '[' | '{' if depth > 0 => depth -= 1,
            '(' => {
                let head = &trimmed[..i];
                let start = head
                    .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
                    .map_or(0, |j| j + 1);
                return Some(&head[start..]).filter(|callee| !callee.is_empty());
            }
            _ => {}
        }
    }
    None
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
        // In an argument list, the callee's keyword arguments come first (`timeout=`).
        let callee = callee_of_argument(&before[..start]);
        if let Some((_, keywords)) = callee.and_then(|c| self.keywords.iter().find(|(k, _)| k == c))
        {
            let named: Vec<Pair> = keywords
                .iter()
                .filter(|k| k.starts_with(word))
                .map(|k| pair(&format!("{k}=")))
                .collect();
            found.splice(0..0, named);
        }
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

/// What completion offers now: keywords, builtins, modules and globals, and the members of
/// each global: a module's, or those its type declares (`server.ro` completes `route`).
fn completions(vm: &Vm) -> CnHelper {
    let mut names: Vec<String> = cn_compiler::syntax::keywords()
        .map(str::to_string)
        .collect();
    names.extend(vm.builtin_names().iter().map(|b| b.to_string()));
    names.extend(vm.native_module_names().iter().map(|m| m.to_string()));
    let globals = vm.repl_globals();
    names.extend(globals.iter().map(|g| g.to_string()));
    let members = globals
        .iter()
        .filter_map(|g| {
            let names = vm.member_names(&vm.repl_global(g)?);
            (!names.is_empty()).then(|| (g.to_string(), names))
        })
        .collect();
    let mut keywords = Vec::new();
    let mut add = |callee: String, value: &Value| {
        let names = vm.keyword_names(value);
        if !names.is_empty() {
            keywords.push((callee, names));
        }
    };
    for (name, value) in cn_runtime::builtins::all() {
        add(name.to_string(), &value);
    }
    for global in &globals {
        let Some(value) = vm.repl_global(global) else {
            continue;
        };
        add(global.to_string(), &value);
        for (member, value) in vm.module_member_values(&value) {
            add(format!("{global}.{member}"), &value);
        }
    }
    CnHelper {
        names,
        members,
        keywords,
    }
}

fn history_path() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".cn_history"))
}

/// What the reader thread hands the interpreter.
enum Input {
    /// A complete entry.
    Entry(String),
    /// End of input (or an input error): the session ends with this status.
    End(u8),
}

/// What the interpreter answers after an entry.
enum Reply {
    /// Read the next entry, completing these names now.
    Next(CnHelper),
    /// The entry called `exit`.
    Exit,
}

/// Runs the REPL until end of input; returns the exit status.
///
/// The line editor runs on a thread of its own and hands complete entries over; this thread
/// runs them and, between entries, keeps running the tasks they spawned (a server started with
/// `spawn server.run()` serves at the prompt). While an entry runs, Ctrl-C stops it as SIGINT
/// stops a script (a server drains) and the prompt comes back.
pub fn run() -> u8 {
    let runtime = match Runtime::new(crate::new_vm(Vec::new())) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cn: {e}");
            return 2;
        }
    };
    let helper = completions(&runtime.vm());
    // Tab completes what all candidates share, and a second Tab lists them (as bash does).
    let config = rustyline::Config::builder()
        .completion_type(rustyline::CompletionType::List)
        .build();
    let mut editor: Editor<CnHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("cn: cannot start the REPL: {e}");
            return 2;
        }
    };
    editor.set_helper(Some(helper));
    println!("cn {} — Ctrl-D to exit", env!("CARGO_PKG_VERSION"));
    let (entries, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let (replies, reply_box) = std::sync::mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("cn-repl-input".into())
        .spawn(move || read_entries(editor, &entries, &reply_box));
    if let Err(e) = reader {
        eprintln!("cn: cannot start the REPL: {e}");
        return 2;
    }
    runtime.block_on(async {
        let mut interrupts = match runtime.interrupts() {
            Ok(interrupts) => interrupts,
            Err(e) => {
                eprintln!("cn: cannot handle Ctrl-C: {e}");
                return 2;
            }
        };
        while let Some(input) = inbox.recv().await {
            let source = match input {
                Input::Entry(source) => source,
                Input::End(status) => return status,
            };
            if let Some(code) = evaluate(&runtime, &source, &mut interrupts).await {
                let _ = replies.send(Reply::Exit);
                return code.clamp(0, 255) as u8;
            }
            if replies
                .send(Reply::Next(completions(&runtime.vm())))
                .is_err()
            {
                return 0;
            }
        }
        0
    })
}

/// The reader thread: reads lines until an entry is complete, hands it over, and waits for the
/// interpreter before prompting again. History is saved after every entry, so an entry that
/// takes the process down loses none of it.
fn read_entries(
    mut editor: Editor<CnHelper, DefaultHistory>,
    entries: &tokio::sync::mpsc::UnboundedSender<Input>,
    replies: &std::sync::mpsc::Receiver<Reply>,
) {
    let history = history_path();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() { ">>> " } else { "... " };
        let source = match editor.readline(prompt) {
            Ok(line) => {
                let finished_block = !buffer.is_empty() && line.trim().is_empty();
                buffer.push_str(&line);
                buffer.push('\n');
                if !finished_block && cn_compiler::syntax::needs_more_input(&buffer) {
                    continue;
                }
                std::mem::take(&mut buffer)
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                println!("^C");
                continue;
            }
            Err(ReadlineError::Eof) => {
                // A block still being typed when input ends runs, as in Python.
                if !buffer.trim().is_empty() {
                    let _ = entries.send(Input::Entry(std::mem::take(&mut buffer)));
                    if let Ok(Reply::Exit) | Err(_) = replies.recv() {
                        return;
                    }
                }
                let _ = entries.send(Input::End(0));
                return;
            }
            Err(ReadlineError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData => {
                eprintln!("cn: that line is not valid UTF-8; it was ignored");
                continue;
            }
            Err(e) => {
                eprintln!("cn: cannot read input: {e}");
                let _ = entries.send(Input::End(1));
                return;
            }
        };
        if source.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(source.trim_end());
        if let Some(path) = &history {
            let _ = editor.append_history(path);
        }
        if entries.send(Input::Entry(source)).is_err() {
            return;
        }
        match replies.recv() {
            Ok(Reply::Next(helper)) => editor.set_helper(Some(helper)),
            Ok(Reply::Exit) | Err(_) => return,
        }
    }
}

/// Runs one entry and prints its value or error; returns an exit status when it called `exit`.
async fn evaluate(
    runtime: &Runtime,
    source: &str,
    interrupts: &mut tokio::signal::unix::Signal,
) -> Option<i32> {
    match runtime.eval_repl(source, interrupts).await {
        Ok(Value::Nil) => {}
        Ok(value) => println!("{}", cn_runtime::format::repr(&value)),
        Err(RunError::Fault(fault)) => match fault.kind {
            cn_runtime::fault::FaultKind::Exit(code) => return Some(code),
            // Ctrl-C: the terminal showed ^C; the prompt comes back on a line of its own.
            cn_runtime::fault::FaultKind::Cancelled => println!("\ninterrupted"),
            _ => crate::report_run_error(&RunError::Fault(fault)),
        },
        Err(error) => crate::report_run_error(&error),
    }
    None
}
