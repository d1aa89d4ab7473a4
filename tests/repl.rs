//! The REPL driven through piped stdin (rustyline reads plain lines when stdin is not a
//! terminal, and prints no prompts): values are echoed, definitions persist, blocks end at an
//! empty line, errors do not end the session, and end of input exits with status 0.

mod common;

use common::Finished as Output;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Runs `cn repl` with `input` on stdin and a private HOME (the REPL keeps its history there).
fn repl(input: &str) -> Output {
    repl_bytes(input.as_bytes())
}

/// [`repl`] with input that need not be UTF-8.
fn repl_bytes(input: &[u8]) -> Output {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let unique = NEXT.fetch_add(1, Ordering::Relaxed);
    let home: PathBuf =
        std::env::temp_dir().join(format!("cn-repl-{}-{unique}", std::process::id()));
    std::fs::create_dir_all(&home).expect("scratch HOME");
    let mut command = Command::new(common::CN);
    command
        .arg("repl")
        .current_dir(&home)
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL");
    let output = common::finish(&mut command, Some(input), common::PATIENCE);
    assert!(!output.timed_out, "the REPL did not end at end of input");
    let _ = std::fs::remove_dir_all(&home);
    output
}

/// The echoed lines after the banner. Prompts are removed: rustyline prints none when stdin is
/// not a terminal, but some terminal settings (TERM=dumb) make it print `>>> ` and `... `.
fn echoed(output: &Output) -> Vec<String> {
    let text = output.stdout.clone();
    let mut lines = text.lines();
    let banner = lines.next().unwrap_or_default();
    assert!(
        banner.starts_with("cn "),
        "the REPL should start with a banner, got {banner:?}"
    );
    let mut out = Vec::new();
    for line in lines {
        let mut rest = line;
        while let Some(after) = rest
            .strip_prefix(">>> ")
            .or_else(|| rest.strip_prefix("... "))
        {
            rest = after;
        }
        let only_prompts = rest.is_empty() && !line.is_empty();
        if !only_prompts {
            out.push(rest.to_string());
        }
    }
    out
}

fn stderr(output: &Output) -> String {
    output.stderr.clone()
}

#[test]
fn banner_names_the_version() {
    let out = repl("");
    assert_eq!(out.status, Some(0));
    let text = out.stdout.clone();
    assert!(
        text.starts_with(&format!("cn {}", env!("CARGO_PKG_VERSION"))),
        "{text:?}"
    );
}

#[test]
fn expression_values_are_echoed() {
    let out = repl("1 + 2\n\"text\"\n[1, \"a\"]\n2.5 * 2\n10 // 3, 10 % 3\n3.seconds\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        echoed(&out),
        ["3", "\"text\"", "[1, \"a\"]", "5.0", "(3, 1)", "3s"]
    );
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn statements_and_nil_are_not_echoed() {
    let out = repl("x = 5\nnil\nprint(\"printed\")\n[].append(1)\nx\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["printed", "5"]);
}

#[test]
fn definitions_persist_across_inputs() {
    let input = "\
x = 5
items = [1, 2]
items.append(x)
fn double(n):
    return n * 2

double(x)
items
type Point:
    x: int
    y: int = 0

Point(3)
enum Shape:
    Circle(r)
    Empty

Circle(x)
";
    let out = repl(input);
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        echoed(&out),
        ["10", "[1, 2, 5]", "Point(x=3, y=0)", "Circle(5)"]
    );
}

#[test]
fn a_multi_line_block_ends_at_an_empty_line() {
    let input = "\
fn classify(n):
    if n < 0:
        return \"negative\"
    elif n == 0:
        return \"zero\"
    return \"positive\"

classify(-3)
classify(0)
classify(7)
for i in range(3):
    print(i * i)

total = 0
for i in range(4):
    total += i

total
";
    let out = repl(input);
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        echoed(&out),
        [
            "\"negative\"",
            "\"zero\"",
            "\"positive\"",
            "0",
            "1",
            "4",
            "6"
        ]
    );
}

#[test]
fn brackets_continue_over_several_lines() {
    let out = repl("[1,\n2,\n3]\n\"next\"\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["[1, 2, 3]", "\"next\""]);
}

#[test]
fn indented_lines_inside_brackets_do_not_open_a_block() {
    // Inside brackets indentation means nothing: the input is complete at the closing bracket,
    // as in Python's REPL, without waiting for an empty line.
    let out = repl("[1,\n 2,\n 3]\n{\"a\": 1,\n \"b\": 2}\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["[1, 2, 3]", "{\"a\": 1, \"b\": 2}"]);
}

#[test]
fn a_compile_error_is_reported_and_the_session_continues() {
    let out = repl("count = 1\ncoutn\n1 +\ncount + 1\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["2"]);
    let err = stderr(&out);
    assert!(err.contains("E0100"), "{err}");
    assert!(err.contains("unknown name 'coutn'"), "{err}");
    assert!(err.contains("did you mean 'count'?"), "{err}");
    assert!(
        err.contains("E0003"),
        "the syntax error should be reported too: {err}"
    );
}

#[test]
fn a_fault_is_reported_and_the_session_continues() {
    let out = repl("x = 10\nx // 0\n{}[\"missing\"]\nx + 1\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["11"]);
    let err = stderr(&out);
    assert!(err.contains("fault: division by zero"), "{err}");
    assert!(err.contains("fault: key not found: \"missing\""), "{err}");
}

#[test]
fn a_faulting_assignment_leaves_the_old_value() {
    // The second input faults before its assignment happens, so b keeps its earlier value.
    let out = repl("b = 1\nb = 2 // 0\nb\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["1"]);
}

#[test]
fn a_pending_block_runs_at_end_of_input() {
    // A block still waiting for its closing empty line when input ends is run, as Python does.
    let out = repl("for i in range(2):\n    print(i)\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["0", "1"]);
}

#[test]
fn end_of_input_exits_with_status_zero() {
    let out = repl("1\n");
    assert_eq!(out.status, Some(0));
    let out = repl("fn unfinished():\n    return 1\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
}

#[test]
fn exit_ends_the_session_with_its_code() {
    let out = repl("print(\"before\")\nexit(4)\nprint(\"after\")\n");
    assert_eq!(out.status, Some(4), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["before"]);
}

#[test]
fn a_line_that_is_not_utf8_is_reported_and_the_session_goes_on() {
    let out = repl_bytes(b"1 + 1\n\xff\xfe oops\n2 + 2\n");
    assert_eq!(out.status, Some(0), "stderr: {}", stderr(&out));
    assert_eq!(echoed(&out), ["2", "4"]);
    assert!(stderr(&out).contains("not valid UTF-8"), "{}", stderr(&out));
}
