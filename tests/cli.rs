//! Process-level tests of the `cn` binary: subcommands, exit statuses, script arguments, and
//! behaviour at the edges (closed pipes, runaway recursion) that golden files cannot observe.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

const CN: &str = env!("CARGO_BIN_EXE_cn");

/// A scratch directory for one test, removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(name: &str) -> Scratch {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("cn-cli-{}-{unique}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        Scratch { dir }
    }

    /// Writes `source` to `name` inside the scratch directory and returns the file's path.
    fn file(&self, name: &str, source: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, source).expect("script is writable");
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn cn(args: &[&str], dir: &Path) -> Output {
    Command::new(CN)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL")
        .stdin(Stdio::null())
        .output()
        .expect("the cn binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `source` as a script with `args` and returns the output.
fn run_script(name: &str, source: &str, args: &[&str]) -> Output {
    let scratch = Scratch::new(name);
    scratch.file("main.cn", source);
    let mut all = vec!["run", "main.cn"];
    all.extend_from_slice(args);
    cn(&all, &scratch.dir)
}

#[test]
fn version_prints_the_package_version() {
    let out = cn(&["--version"], Path::new("."));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("cn "),
        "unexpected version output: {text:?}"
    );
    assert!(
        text.contains(env!("CARGO_PKG_VERSION")),
        "version missing from {text:?}"
    );
}

#[test]
fn help_lists_every_subcommand() {
    let out = cn(&["--help"], Path::new("."));
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    for command in ["run", "check", "repl", "dis"] {
        assert!(
            text.contains(command),
            "--help does not mention `{command}`:\n{text}"
        );
    }
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let out = cn(&["frobnicate"], Path::new("."));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("frobnicate"),
        "stderr: {}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn run_without_a_file_is_a_usage_error() {
    let out = cn(&["run"], Path::new("."));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn running_a_missing_file_says_so() {
    let scratch = Scratch::new("missing");
    let out = cn(&["run", "missing.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("missing.cn"),
        "the message should name the file: {err}"
    );
    assert!(
        err.contains("cannot read"),
        "the message should say what went wrong: {err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn checking_a_missing_file_says_so() {
    let scratch = Scratch::new("check-missing");
    let out = cn(&["check", "missing.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.cn"), "{}", stderr(&out));
}

#[test]
fn exit_status_zero_after_a_successful_run() {
    let out = run_script("ok", "print(\"fine\")\n", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "fine\n");
    assert!(stderr(&out).is_empty(), "{}", stderr(&out));
}

#[test]
fn exit_status_one_after_a_fault() {
    let out = run_script(
        "fault",
        "print(\"before\")\nx = [1][5]\nprint(\"after\")\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "before\n");
    let err = stderr(&out);
    assert!(err.contains("fault: list index 5 out of range"), "{err}");
    assert!(
        err.contains("stack trace (most recent call last):"),
        "{err}"
    );
}

#[test]
fn exit_status_two_after_a_compile_error_and_nothing_runs() {
    let out = run_script(
        "compile-error",
        "print(\"must not run\")\nprint(undefined_name)\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).is_empty(),
        "a program with compile errors must not run: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    assert!(err.contains("E0100"), "{err}");
    assert!(err.contains("unknown name 'undefined_name'"), "{err}");
}

#[test]
fn script_arguments_reach_args_including_dashes() {
    let source = "for a in args():\n    print(repr(a))\nprint(len(args()))\n";
    let out = run_script(
        "args",
        source,
        &["plain", "-x", "--flag", "--key=value", "two words", "", "-"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\"plain\"\n\"-x\"\n\"--flag\"\n\"--key=value\"\n\"two words\"\n\"\"\n\"-\"\n7\n"
    );
}

#[test]
fn arguments_that_look_like_cn_options_belong_to_the_script() {
    // Only `--help` or `--` right after the file go to cn itself (spec/cli.md); later ones and
    // everything after a leading `--` are the script's.
    let out = run_script(
        "args-help",
        "print(args())\n",
        &["x", "--help", "--version", "run"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "[\"x\", \"--help\", \"--version\", \"run\"]\n"
    );
    let out = run_script(
        "args-dashdash",
        "print(args())\n",
        &["--", "--help", "--", "-v"],
    );
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(stdout(&out), "[\"--help\", \"--\", \"-v\"]\n");
}

#[test]
fn help_right_after_the_file_is_the_run_help() {
    let out = run_script("run-help", "print(\"must not run\")\n", &["--help"]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(!text.contains("must not run"), "{text}");
    assert!(text.contains("Usage: cn run"), "{text}");
}

#[test]
fn exit_sets_the_status_after_running_defers() {
    let source = "\
fn cleanup():
    defer print(\"inner defer\")
    exit(3)
    print(\"not reached\")
fn main():
    defer print(\"outer defer\")
    cleanup()
";
    let out = run_script("exit", source, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(stdout(&out), "inner defer\nouter defer\n");
    assert!(
        stderr(&out).is_empty(),
        "exit() is not a fault: {}",
        stderr(&out)
    );
}

#[test]
fn exit_without_a_code_is_success() {
    let out = run_script("exit-zero", "print(\"a\")\nexit()\nprint(\"b\")\n", &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "a\n");
}

#[test]
fn output_before_a_fault_is_flushed_in_order() {
    let source = "for i in range(2000):\n    print(i)\nx = {}[\"k\"]\n";
    let out = run_script("flush", source, &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2000);
    assert!(text.ends_with("1999\n"));
}

#[test]
fn writing_to_a_closed_pipe_ends_quietly() {
    let scratch = Scratch::new("pipe");
    scratch.file(
        "many.cn",
        "for i in range(100000):\n    print(\"line\", i)\n",
    );
    let mut child = Command::new(CN)
        .args(["run", "many.cn"])
        .current_dir(&scratch.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cn binary starts");
    {
        let mut reader = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut first = String::new();
        reader.read_line(&mut first).expect("one line arrives");
        assert_eq!(first, "line 0\n");
        // Dropping the reader closes our end of the pipe while cn is still writing.
    }
    let out = child.wait_with_output().expect("cn ends");
    let err = stderr(&out);
    assert!(
        out.status.code().is_some(),
        "cn was killed by a signal: {:?}",
        out.status
    );
    assert!(
        !err.contains("panicked"),
        "cn panicked on a closed pipe:\n{err}"
    );
    assert!(
        err.is_empty(),
        "a closed pipe should end the program quietly, got:\n{err}"
    );
}

#[test]
fn unbounded_recursion_is_a_clean_fault() {
    let out = run_script("recursion", "fn f(n):\n    return f(n + 1)\nf(0)\n", &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a fault, not a crash: {:?}",
        out.status
    );
    let err = stderr(&out);
    assert!(
        err.contains("fault: stack overflow"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn stack_overflow_trace_is_short() {
    let out = run_script(
        "recursion-trace",
        "fn f(n):\n    return f(n + 1)\nf(0)\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(1));
    let lines = stderr(&out).lines().count();
    assert!(
        lines < 100,
        "a stack overflow printed {lines} lines of stack trace"
    );
}

#[test]
fn deep_recursion_inside_callbacks_is_a_clean_fault() {
    // Recursion through a native function (sorted's key) must not overflow the Rust stack.
    let source = "fn f(x):\n    return sorted([1, 2], key=f)\nf(0)\n";
    let out = run_script("callback-recursion", source, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a fault, not a crash: {:?}",
        out.status
    );
    let err = stderr(&out);
    assert!(
        err.contains("stack overflow"),
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
}

#[test]
fn check_reports_every_error_and_runs_nothing() {
    let scratch = Scratch::new("check");
    scratch.file(
        "broken.cn",
        "print(\"must not run\")\nfn f(a, a):\n    return b\nbreak\nx = Ok(1)?\nfn g(x=1, y):\n    continue\n",
    );
    let out = cn(&["check", "broken.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).is_empty(),
        "check must not run the program: {}",
        stdout(&out)
    );
    let err = stderr(&out);
    let codes: Vec<&str> = ["E0104", "E0100", "E0101", "E0105", "E0109", "E0102"]
        .into_iter()
        .filter(|code| !err.contains(code))
        .collect();
    assert!(codes.is_empty(), "missing error codes {codes:?} in:\n{err}");
    assert_eq!(
        err.matches("× ").count(),
        6,
        "expected six diagnostics:\n{err}"
    );
    assert!(err.contains("6 errors"), "{err}");
}

#[test]
fn check_accepts_a_valid_file_silently() {
    let scratch = Scratch::new("check-ok");
    scratch.file(
        "fine.cn",
        "print(\"must not run\")\nfn main():\n    return 1\n",
    );
    let out = cn(&["check", "fine.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).is_empty());
}

#[test]
fn check_takes_several_files() {
    let scratch = Scratch::new("check-many");
    scratch.file("good.cn", "x = 1\n");
    scratch.file("bad.cn", "print(nope)\n");
    let out = cn(&["check", "good.cn", "bad.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("bad.cn"), "{err}");
    assert!(!err.contains("good.cn"), "{err}");
}

#[test]
fn dis_prints_bytecode_with_function_names() {
    let scratch = Scratch::new("dis");
    scratch.file(
        "prog.cn",
        "fn add_numbers(a, b):\n    return a + b\nfn main():\n    print(add_numbers(1, 2))\n",
    );
    let out = cn(&["dis", "prog.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    for name in ["<module>", "add_numbers", "main"] {
        assert!(
            text.contains(name),
            "`{name}` missing from the disassembly:\n{text}"
        );
    }
}

#[test]
fn dis_of_a_broken_file_reports_errors() {
    let scratch = Scratch::new("dis-broken");
    scratch.file("prog.cn", "fn f(:\n");
    let out = cn(&["dis", "prog.cn"], &scratch.dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("E0"), "{}", stderr(&out));
}

#[test]
fn check_reports_every_error_of_a_large_file_at_its_own_line() {
    // 320 KB with 5,000 errors: each report shows only its own lines (rendering against the
    // whole file once took 33 s here), with the line numbers of the file.
    let dir = std::env::temp_dir().join(format!("cn-check-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut source = String::new();
    for i in 0..10_000 {
        if i % 2 == 0 {
            source.push_str(&format!("x{i} = {i} +\n"));
        } else {
            source.push_str(&format!("y{i} = {i} * 3 + len([1, 2, 3]) + {i}\n"));
        }
    }
    source.push_str(&"# padding to 320 KB\n".repeat(5_000));
    std::fs::write(dir.join("large.cn"), &source).expect("written");
    let output = cn(&["check", "large.cn"], &dir);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(
        err.ends_with("5000 errors\n"),
        "{}",
        &err[err.len().saturating_sub(300)..]
    );
    assert!(
        err.contains("╭─[large.cn:9999:15]\n  9998 │ y9997 = 9997 * 3 + len([1, 2, 3]) + 9997\n  9999 │ x9998 = 9998 +\n"),
        "{}",
        &err[err.len().saturating_sub(600)..]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
