//! Scripts as Unix tools: stdin streamed through a pipeline, `input()`, stderr, a closed stdout
//! pipe, and subprocesses that never outlive the task or the program that started them. Each
//! test runs the real `cn` binary under `sh`, as a user's shell would.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use common::{CN, PATIENCE};

/// A script file in a fresh directory of its own.
fn script(name: &str, source: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("cn-scripting-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.cn"));
    std::fs::write(&path, source).expect("script written");
    (dir, path)
}

/// Runs `sh -c line` with `$CN` and `$SCRIPT` set, `stdin` fed to it.
fn shell(line: &str, script: &Path, stdin: &[u8]) -> Output {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(line)
        .env("CN", CN)
        .env("SCRIPT", script)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let mut input = child.stdin.take().expect("stdin piped");
    input.write_all(stdin).expect("stdin written");
    drop(input);
    child.wait_with_output().expect("sh finishes")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const WORD_COUNT: &str = r#"
import io

counts = {}
lines = 0
for line in io.stdin.lines():
    lines += 1
    for word in line.split():
        counts[word] = counts.get(word, 0) + 1
top = sorted(counts.items(), key=fn(kv): (-kv[1], kv[0]))
print(lines, "lines", len(counts), "words")
for (word, n) in top[:3]:
    print(word, n)
"#;

#[test]
fn a_script_counts_words_streamed_through_a_pipeline() {
    let (_dir, path) = script("wc", WORD_COUNT);
    // 30,000 lines, more than the stream's 64 KiB chunk, the last without a newline.
    let mut input = String::new();
    for i in 0..30_000 {
        input.push_str(&format!("the cat {} sat\r\n", i % 7));
    }
    input.push_str("the end");
    let out = shell(
        "printf '%s' \"$(cat)\" | \"$CN\" run \"$SCRIPT\"",
        &path,
        input.as_bytes(),
    );
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "30001 lines 11 words\nthe 30001\ncat 30000\nsat 30000\n"
    );
    assert!(out.status.success());
}

#[test]
fn a_closed_stdout_pipe_ends_the_script_quietly() {
    let (dir, path) = script(
        "yes",
        "i = 0\nwhile true:\n    print(\"y\", i)\n    i += 1\n",
    );
    let out = shell(
        "{ \"$CN\" run \"$SCRIPT\"; echo $? > \"$(dirname \"$SCRIPT\")/status\"; } | head -1",
        &path,
        b"",
    );
    assert_eq!(text(&out.stdout), "y 0\n");
    assert_eq!(
        text(&out.stderr),
        "",
        "nothing on stderr when the reader goes"
    );
    let status = std::fs::read_to_string(dir.join("status")).expect("status written");
    assert_eq!(status.trim(), "0", "the script ends with status 0");
}

#[test]
fn input_reads_lines_until_the_end_of_input_and_eprint_writes_stderr() {
    let source = r#"
import io
while true:
    name = input("name? ")
    if name == nil:
        break
    print(f"hello {name}")
eprint("done", 2, sep="-")
print("also stderr", file=io.stderr)
io.stderr.write("raw\n")
"#;
    let (_dir, path) = script("input", source);
    let out = shell("\"$CN\" run \"$SCRIPT\"", &path, b"ann\nbob\r\n");
    assert_eq!(
        text(&out.stdout),
        "name? hello ann\nname? hello bob\nname? "
    );
    assert_eq!(text(&out.stderr), "done-2\nalso stderr\nraw\n");
    assert!(out.status.success());
}

#[test]
fn print_to_something_else_is_a_clear_fault() {
    let (_dir, path) = script("print_file", "print(\"x\", file=\"out.txt\")\n");
    let out = shell("\"$CN\" run \"$SCRIPT\"", &path, b"");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains(
            "print() argument 'file' must be io.stdout or io.stderr, not str (write files with fs.write_text)"
        ),
        "{}",
        text(&out.stderr)
    );
}

/// Waits until no process has id `pid` (it was killed and reaped), or panics after PATIENCE.
fn wait_gone(pid: u32) {
    let start = Instant::now();
    while Path::new(&format!("/proc/{pid}")).exists() {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        assert!(
            !zombie || start.elapsed() < PATIENCE,
            "child {pid} left a zombie"
        );
        assert!(start.elapsed() < PATIENCE, "child {pid} still runs");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The pid a script's child wrote to `file`, once it is there.
fn read_pid(file: &Path) -> u32 {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(file) {
            if let Ok(pid) = text.trim().parse() {
                return pid;
            }
        }
        assert!(start.elapsed() < PATIENCE, "the child never wrote its pid");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_subprocess_dies_with_the_task_that_started_it() {
    let source = r#"
import os
import time

fn child():
    return os.run(["sh", "-c", "echo $$ > child.pid; exec sleep 60"])

print(time.timeout(2.seconds, child))
print("main goes on")
"#;
    let (dir, path) = script("cancel", source);
    let out = shell(
        "cd \"$(dirname \"$SCRIPT\")\" && \"$CN\" run \"$SCRIPT\"",
        &path,
        b"",
    );
    assert_eq!(text(&out.stdout), "Err(Timeout)\nmain goes on\n");
    wait_gone(read_pid(&dir.join("child.pid")));
}

#[test]
fn sigterm_stops_a_script_waiting_on_a_subprocess_and_kills_the_child() {
    let source = r#"
import os
print("starting")
r = os.run(["sh", "-c", "echo $$ > child.pid; exec sleep 60"])
print("never", r)
"#;
    let (dir, path) = script("sigterm", source);
    let child = Command::new(CN)
        .arg("run")
        .arg(&path)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cn runs");
    let pid = read_pid(&dir.join("child.pid"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = child.wait_with_output().expect("cn ends");
    assert_eq!(text(&out.stdout), "starting\n");
    assert!(!text(&out.stdout).contains("never"));
    wait_gone(pid);
}
