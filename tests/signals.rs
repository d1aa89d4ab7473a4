//! The process lifecycle under real signals: a `cn run` process gets SIGTERM or SIGINT (sent with
//! `kill`, as Kubernetes and a terminal would) and must run its cleanups and shutdown hooks in
//! order and exit with the right status; a second signal must end it at once.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const CN: &str = env!("CARGO_BIN_EXE_cn");

/// Longest any step may take before the test gives up (CI machines are slow).
const PATIENCE: Duration = Duration::from_secs(30);

/// A running script whose stdout is read line by line.
struct Script {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
    path: PathBuf,
}

impl Script {
    fn start(name: &str, source: &str) -> Script {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "cn-signals-{}-{unique}-{name}.cn",
            std::process::id()
        ));
        std::fs::write(&path, source).expect("script is writable");
        let mut child = Command::new(CN)
            .arg("run")
            .arg(&path)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the cn binary runs");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Script { child, lines, path }
    }

    /// Waits for the script to print `expected` (it prints it once it is ready for the signal).
    fn expect_line(&self, expected: &str) {
        let line = self
            .lines
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no line from the script; expected {expected:?}"));
        assert_eq!(line, expected);
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end; returns its remaining stdout lines, stderr and status.
    fn finish(mut self) -> (Vec<String>, String, i32) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                break status;
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("the script did not exit after the signal");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        let rest: Vec<String> =
            std::iter::from_fn(|| self.lines.recv_timeout(PATIENCE).ok()).collect();
        let _ = std::fs::remove_file(&self.path);
        (rest, stderr, status.code().unwrap_or(-1))
    }
}

impl Drop for Script {
    /// A failed assertion must not leave the script running (the busy-loop one would spin on).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
