//! Golden tests: every `.cn` file under `tests/programs/`, `tests/errors/` and `examples/` runs
//! through the real `cn` binary, and its stdout, stderr and exit status must match the `.out` file
//! beside it.
//!
//! A missing `.out` is written on the first run (outside CI); `CN_UPDATE_GOLDEN=1` rewrites them
//! all. Programs run with their folder as the working directory and a relative path, so paths in
//! diagnostics are stable. A first-line comment `# args: a b` passes script arguments,
//! `# cmd: check` runs `cn check` instead of `cn run`, and `# env: KEY=VALUE ...` sets
//! environment variables. The log settings of the machine running the tests (`LOG_LEVEL`,
//! `LOG_FORMAT`, `KUBERNETES_SERVICE_HOST`) are removed, and the timestamp at the start of a log
//! line is replaced by `<time>` (see [`normalize_log_times`]).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a golden program may run (they are all small; CI machines are slow).
const TIMEOUT: Duration = Duration::from_secs(60);

fn cn_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            cn_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "cn") {
            out.push(path);
        }
    }
}

/// Runs one program and renders what a user would see.
fn observe(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let first = source.lines().next().unwrap_or("");
    let command = first
        .strip_prefix("# cmd: ")
        .map(str::trim)
        .unwrap_or("run");
    let args: Vec<&str> = first
        .strip_prefix("# args: ")
        .map(|a| a.split_whitespace().collect())
        .unwrap_or_default();
    let env: Vec<(&str, &str)> = first
        .strip_prefix("# env: ")
        .map(|e| {
            e.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .collect()
        })
        .unwrap_or_default();
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cn"))
        .arg(command)
        .arg(name)
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL")
        .env_remove("LOG_FORMAT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .envs(env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the cn binary runs");
    // Drain both pipes while waiting, so a program that prints a lot cannot block.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    // A program that hangs must fail its test, not hang the suite.
    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return format!("--- timed out after {}s ---\n", TIMEOUT.as_secs());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    let mut seen = normalize_log_times(&String::from_utf8_lossy(&stdout));
    let stderr = String::from_utf8_lossy(&stderr);
    if !stderr.is_empty() {
        seen.push_str("--- stderr ---\n");
        seen.push_str(&stderr);
    }
    match status.code() {
        Some(0) => {}
        Some(code) => seen.push_str(&format!("--- exit status {code} ---\n")),
        None => seen.push_str("--- killed by a signal ---\n"),
    }
    seen
}

/// Replaces the timestamp of log lines, and nothing else: `{"time":"2024-01-15T10:30:00.123Z",`
/// at the start of a JSON line and `10:30:00.123 INFO ` (any level) at the start of a text line.
fn normalize_log_times(stdout: &str) -> String {
    const JSON_START: &str = "{\"time\":\"";
    let digits_at = |line: &[u8], positions: &[usize]| {
        positions
            .iter()
            .all(|&i| line.get(i).is_some_and(u8::is_ascii_digit))
    };
    let mut out = String::with_capacity(stdout.len());
    for line in stdout.split_inclusive('\n') {
        let bytes = line.as_bytes();
        if let Some(rest) = line.strip_prefix(JSON_START) {
            // 2024-01-15T10:30:00.123Z"
            let r = rest.as_bytes();
            let shape = r.len() > 25
                && digits_at(
                    r,
                    &[0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22],
                )
                && &r[4..5] == b"-"
                && &r[10..11] == b"T"
                && &r[23..25] == b"Z\"";
            if shape {
                out.push_str(JSON_START);
                out.push_str("<time>");
                out.push_str(&rest[24..]);
                continue;
            }
        }
        let text_shape = bytes.len() > 13
            && digits_at(bytes, &[0, 1, 3, 4, 6, 7, 9, 10, 11])
            && bytes[2] == b':'
            && bytes[5] == b':'
            && bytes[8] == b'.'
            && bytes[12] == b' '
            && ["DEBUG ", "INFO ", "WARN ", "ERROR "]
                .iter()
                .any(|level| line[13..].starts_with(level));
        if text_shape {
            out.push_str("<time>");
            out.push_str(&line[12..]);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn check_dir(dir: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files = Vec::new();
    cn_files(&root, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no .cn files under {dir}");
    let update = std::env::var_os("CN_UPDATE_GOLDEN").is_some();
    let in_ci = std::env::var_os("CI").is_some();
    let mut failures = Vec::new();
    for file in &files {
        let golden = file.with_extension("out");
        let seen = observe(file);
        match std::fs::read_to_string(&golden) {
            Ok(expected) if expected == seen => {}
            Ok(_) if update => std::fs::write(&golden, &seen).expect("golden file is writable"),
            Err(_) if !in_ci => std::fs::write(&golden, &seen).expect("golden file is writable"),
            Ok(expected) => failures.push(format!(
                "{}: output differs\n--- expected ---\n{expected}--- seen ---\n{seen}",
                file.display()
            )),
            Err(_) => failures.push(format!(
                "{}: missing golden file {}",
                file.display(),
                golden.display()
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (CN_UPDATE_GOLDEN=1 rewrites):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn programs() {
    check_dir("tests/programs");
}

#[test]
fn errors() {
    check_dir("tests/errors");
}

#[test]
fn examples() {
    check_dir("examples");
}
