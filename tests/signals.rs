//! The process lifecycle under real signals: a `cn run` process gets SIGTERM or SIGINT (sent with
//! `kill`, as Kubernetes and a terminal would) and must run its cleanups and shutdown hooks in
//! order and exit with the right status; a second signal must end it at once.

mod common;

use common::Script;

const SERVICE: &str = r#"
import signal
import time

signal.on_shutdown(fn(): print("hook: close database"))
signal.on_shutdown(fn(): print("hook: flush cache"))

fn worker():
    defer print("worker: stopped")
    while true:
        time.sleep(10.ms)

fn main():
    defer print("main: stopped")
    spawn worker()
    print("ready")
    time.sleep(1000.seconds)
"#;

#[test]
fn sigterm_runs_cleanups_then_hooks_in_reverse_and_exits_0() {
    let script = Script::start("term", SERVICE);
    script.expect_line("ready");
    script.signal("TERM");
    let (lines, stderr, status) = script.finish();
    let stderr = stderr.join("\n");
    assert_eq!(
        lines,
        [
            "main: stopped",
            "worker: stopped",
            "hook: flush cache",
            "hook: close database"
        ],
        "stderr: {stderr}"
    );
    assert_eq!(status, 0, "stderr: {stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn sigint_takes_the_same_orderly_path() {
    let script = Script::start("int", SERVICE);
    script.expect_line("ready");
    script.signal("INT");
    let (lines, stderr, status) = script.finish();
    let stderr = stderr.join("\n");
    assert_eq!(
        lines.last().map(String::as_str),
        Some("hook: close database")
    );
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(status, 0, "stderr: {stderr}");
}

#[test]
fn a_task_waiting_for_the_signal_handles_it_itself() {
    let script = Script::start(
        "wait",
        r#"
import signal
import time

signal.on_shutdown(fn(): print("hook ran"))

fn main():
    print("ready")
    name = signal.wait()
    print("got", name, signal.shutting_down())
    time.sleep(20.ms)
    print("drained")
"#,
    );
    script.expect_line("ready");
    script.signal("TERM");
    let (lines, stderr, status) = script.finish();
    let stderr = stderr.join("\n");
    assert_eq!(
        lines,
        ["got SIGTERM true", "drained", "hook ran"],
        "{stderr}"
    );
    assert_eq!(status, 0);
}

#[test]
fn a_busy_loop_is_stopped_by_sigterm() {
    let script = Script::start(
        "busy",
        r#"
fn main():
    defer print("busy loop: stopped")
    print("ready")
    n = 0
    while true:
        n += 1
"#,
    );
    script.expect_line("ready");
    script.signal("TERM");
    let (lines, stderr, status) = script.finish();
    let stderr = stderr.join("\n");
    assert_eq!(lines, ["busy loop: stopped"], "{stderr}");
    assert_eq!(status, 0);
}

fn second_signal_exits_at_once(signal: &str, expected_status: i32) {
    let script = Script::start(
        "twice",
        r#"
import signal
import time

signal.on_shutdown(fn():
    print("slow hook started")
    time.sleep(1000.seconds)
)

fn main():
    print("ready")
    time.sleep(1000.seconds)
"#,
    );
    script.expect_line("ready");
    script.signal(signal);
    script.expect_line("slow hook started");
    script.signal(signal);
    let (lines, stderr, status) = script.finish();
    let stderr = stderr.join("\n");
    assert!(lines.is_empty(), "{lines:?}");
    assert_eq!(status, expected_status, "stderr: {stderr}");
    assert!(
        stderr.contains(&format!("second SIG{signal} during shutdown")),
        "{stderr}"
    );
}

#[test]
fn second_sigterm_exits_143() {
    second_signal_exits_at_once("TERM", 143);
}

#[test]
fn second_sigint_exits_130() {
    second_signal_exits_at_once("INT", 130);
}
