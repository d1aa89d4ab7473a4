//! Robustness: `parse`, `needs_more_input`, `tokens`, the compiler (resolver, codegen,
//! disassembler) and `cn fmt` never panic or overflow the stack, on mutated programs and
//! adversarial inputs; `cn fmt` never changes a program's tokens and is idempotent.
//!
//! Inputs are the test programs mutated by a deterministic PRNG (characters, words and lines
//! deleted, duplicated, swapped, re-indented; odd characters inserted), plus hand-built
//! adversarial inputs at and past every nesting limit. A crashing input is written to
//! `tests/fuzz_regressions/` and the test fails; the files there are replayed on every run.

mod common;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use cn_compiler::compile::{compile_module, CompileEnv, GlobalSlots, ModuleScope};
use cn_compiler::syntax::{needs_more_input, parse, tokens};

/// A builtin table like the runtime's, so that resolution succeeds on ordinary programs.
const BUILTINS: &[&str] = &[
    "print", "len", "range", "str", "int", "float", "list", "dict", "Ok", "Err",
];

/// Number of mutated inputs per run.
const CASES: usize = 24_000;

/// SplitMix64: tiny, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Fragments worth inserting: layout-sensitive characters, keywords, quotes, Unicode.
const SNIPPETS: &[&str] = &[
    "\n",
    "\t",
    " ",
    "    ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ":",
    ",",
    ".",
    "\"",
    "'",
    "\"\"\"",
    "f\"",
    "{x}",
    "\\",
    "#",
    "fn",
    "fn(",
    "fn():\n",
    "fn(x):",
    "->",
    "=",
    "==",
    "?",
    "@",
    "|",
    "-",
    "not ",
    "type ",
    "match ",
    "case ",
    "é",
    "🎉",
    "名",
    "\r",
    "\r\n",
    "0x",
    "1.",
    "1e",
    "...",
    "{{",
    "}}",
    "!r",
    "_",
    "9999999999999999999999",
];

fn mutate(rng: &mut Rng, source: &str) -> String {
    let mut chars: Vec<char> = source.chars().collect();
    for _ in 0..1 + rng.below(4) {
        let len = chars.len();
        let at = rng.below(len + 1);
        let span = 1 + rng.below(8);
        match rng.below(9) {
            // Delete a range of characters.
            0 => {
                let end = (at + span).min(len);
                chars.drain(at..end);
            }
            // Duplicate a range.
            1 => {
                let end = (at + span).min(len);
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
            // Swap two characters.
            2 if len > 1 => {
                let other = rng.below(len);
                chars.swap(at.min(len - 1), other);
            }
            // Insert a snippet.
            3 | 4 => {
                let snippet = SNIPPETS[rng.below(SNIPPETS.len())];
                chars.splice(at..at, snippet.chars());
            }
            // Line-level: delete, duplicate, swap or re-indent a line.
            5..=7 => {
                let text: String = chars.iter().collect();
                let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
                let n = lines.len();
                let i = rng.below(n);
                match rng.below(4) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let line = lines[i].clone();
                        lines.insert(i, line);
                    }
                    2 => {
                        let j = rng.below(n);
                        lines.swap(i, j);
                    }
                    _ => {
                        let trimmed = lines[i].trim_start().to_owned();
                        lines[i] = format!("{}{trimmed}", " ".repeat(rng.below(13)));
                    }
                }
                chars = lines.join("\n").chars().collect();
            }
            // Word-level: delete, duplicate or swap a whitespace-separated word.
            _ => {
                let text: String = chars.iter().collect();
                let mut words: Vec<&str> = text.split(' ').collect();
                let n = words.len();
                let i = rng.below(n);
                match rng.below(3) {
                    0 => {
                        words.remove(i);
                    }
                    1 => words.insert(i, words[i]),
                    _ => {
                        let j = rng.below(n);
                        words.swap(i, j);
                    }
                }
                chars = words.join(" ").chars().collect();
            }
        }
    }
    chars.into_iter().collect()
}

/// Runs every entry point on `source`; returns the panic message if one panicked, or a broken
/// invariant.
fn exercise(source: &str) -> Option<String> {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let (module, diags) = parse(source);
        let _ = needs_more_input(source);
        let _ = tokens(source);
        // The resolver and codegen must cope with every tree the parser returns, including the
        // partial trees of inputs with errors.
        let env = CompileEnv {
            builtins: BUILTINS,
            echo_last_expression: false,
            library: None,
        };
        let compiled = compile_module(
            &module,
            &mut ModuleScope::default(),
            &mut GlobalSlots::default(),
            env,
        );
        if let Ok(proto) = &compiled {
            let _ = cn_compiler::bytecode::disassemble(proto);
        }
        let mut problems = common::spans::check(source, &module);
        // `cn fmt` on everything that parses: it never changes the tokens, and a second run
        // changes nothing.
        if diags.is_empty() {
            match cn_compiler::syntax::format::format(source) {
                Ok(once) => match cn_compiler::syntax::format::format(&once) {
                    Ok(twice) if twice == once => {}
                    Ok(_) => problems.push("cn fmt is not idempotent here".to_string()),
                    Err(e) => problems.push(format!("cn fmt's output does not format: {e:?}")),
                },
                Err(cn_compiler::syntax::format::FormatError::Changed(why)) => {
                    problems.push(format!("cn fmt: {why}"));
                }
                Err(_) => {}
            }
        }
        for d in &diags {
            let (s, e) = (d.span.start as usize, d.span.end as usize);
            if s > e
                || e > source.len()
                || !source.is_char_boundary(s)
                || !source.is_char_boundary(e)
            {
                problems.push(format!(
                    "diagnostic {} `{}` has bad span {s}..{e}",
                    d.code, d.message
                ));
            }
            if d.message.ends_with('.') {
                problems.push(format!(
                    "diagnostic message ends with a period: {}",
                    d.message
                ));
            }
        }
        problems
    }));
    match result {
        Ok(problems) if problems.is_empty() => None,
        Ok(problems) => Some(problems.join("\n")),
        Err(panic) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "panic".to_owned()),
        ),
    }
}

fn regressions_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fuzz_regressions")
}

fn corpus() -> Vec<String> {
    let mut sources = Vec::new();
    for folder in ["seed000", "syntax", "tokens", "fuzz_regressions"] {
        for path in common::cn_files(folder) {
            sources.push(std::fs::read_to_string(path).expect("readable test file"));
        }
    }
    sources
}

#[test]
fn mutated_programs_never_panic() {
    let corpus = corpus();
    let mut rng = Rng(0x00C0_FFEE_D00D_F00D);
    let mut failures = Vec::new();
    for case in 0..CASES {
        let base = &corpus[rng.below(corpus.len())];
        let input = mutate(&mut rng, base);
        if let Some(problem) = exercise(&input) {
            let path = regressions_dir().join(format!("crash_{case:05}.cn"));
            let _ = std::fs::write(&path, &input);
            failures.push(format!("case {case} ({}): {problem}", path.display()));
            if failures.len() >= 10 {
                break;
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn saved_regressions_never_panic() {
    for path in common::cn_files("fuzz_regressions") {
        let source = std::fs::read_to_string(&path).expect("readable test file");
        if let Some(problem) = exercise(&source) {
            panic!("{}: {problem}", path.display());
        }
    }
}

/// Inputs at and past every nesting limit, and other shapes that stress recursion.
fn adversarial() -> Vec<String> {
    let mut v = Vec::new();
    for n in [199, 200, 201, 1000, 100_000] {
        v.push(format!("x = {}1{}", "(".repeat(n), ")".repeat(n)));
        v.push(format!("x = {}", "[".repeat(n)));
        v.push(format!("x = {}y", "- ".repeat(n)));
        v.push(format!("x = {}y", "not ".repeat(n)));
        v.push(format!("x = {}y", "spawn ".repeat(n)));
        v.push(format!("x = 1{}", " + 1".repeat(n)));
        v.push(format!("x = a{}", ".b".repeat(n)));
        v.push(format!("x = f{}", "()".repeat(n)));
        v.push(format!("x = a{}", "?".repeat(n)));
        v.push(format!("x = 2{}", " ** 2".repeat(n)));
        v.push(format!("x = {}1", "fn(): ".repeat(n)));
        v.push(format!("x = a{}", " if b else a".repeat(n)));
        v.push(format!("x = {}", "{".repeat(n)));
        v.push(format!("case {}", "[".repeat(n)));
        v.push(format!(
            "match x:\n    case {}1{}:\n        pass",
            "Ok(".repeat(n),
            ")".repeat(n)
        ));
        v.push(format!(
            "fn f(x: {}int{}):\n    pass",
            "list[".repeat(n),
            "]".repeat(n)
        ));
        v.push(format!("x = 1{}", " | 1".repeat(n)));
        v.push("\n".repeat(n));
        v.push("# comment\n".repeat(n));
    }
    for depth in [99, 100, 101, 150] {
        let mut s = String::new();
        for i in 0..depth {
            s.push_str(&format!("{}if x:\n", "    ".repeat(i)));
        }
        s.push_str(&format!("{}pass\n", "    ".repeat(depth)));
        v.push(s);
        let mut lambdas = String::new();
        for i in 0..depth {
            lambdas.push_str(&format!("{}f(fn():\n", "    ".repeat(i)));
        }
        lambdas.push_str(&format!("{}pass\n", "    ".repeat(depth)));
        v.push(lambdas);
    }
    v.push("f\"{f'{f\"\"\"{f'''{x}'''}\"\"\"}'}\"".to_owned());
    v.push("x = \"\\u{".to_owned());
    v.push("x = \"\\x".to_owned());
    v.push("x = f\"{".to_owned());
    v.push("x = f\"{x!".to_owned());
    v.push("x = f\"{x:".to_owned());
    v.push("x = f\"{'".to_owned());
    v.push("\u{FEFF}x = 1".to_owned());
    v.push("\r".to_owned());
    v.push("\t".to_owned());
    v.push("\t\n\tx".to_owned());
    v.push(" x".to_owned());
    v.push("é".repeat(1000));
    v.push("fn(".repeat(500));
    v.push("fn():\n".repeat(200));
    v.push("foo(fn():\n".repeat(60));
    v.push(")".repeat(100));
    v
}

#[test]
fn adversarial_inputs_never_panic() {
    // Run on a thread with the default test stack size, like every other test.
    let failures: Vec<String> = std::thread::spawn(|| {
        adversarial()
            .into_iter()
            .enumerate()
            .filter_map(|(i, input)| {
                exercise(&input).map(|p| format!("adversarial input {i}: {p}"))
            })
            .collect()
    })
    .join()
    .expect("the fuzz thread itself does not panic");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
