//! Golden tests: every `.cn` file under `tests/programs/`, `tests/errors/` and `examples/` runs
//! through the real `cn` binary, and its stdout, stderr and exit status must match the `.out` file
//! beside it.
//!
//! Goldens follow the workspace's one rule (`compiler/tests/common/golden.rs`): a missing `.out`
//! is written outside CI and fails in CI; `CN_UPDATE_GOLDEN=1` rewrites them all. Programs run
//! with their folder as the working directory and a relative path, so paths in diagnostics are
//! stable. A file with `# --- case: NAME` lines holds several programs: the lines before the
//! first case are shared, each case runs on its own (other cases' lines blanked, so line numbers
//! stay the file's), and the `.out` shows each under `=== NAME ===`. A first-line comment `# args: a b` passes script arguments,
//! `# cmd: check` runs `cn check` instead of `cn run`, and `# env: KEY=VALUE ...` sets
//! environment variables. The log settings of the machine running the tests (`LOG_LEVEL`,
//! `LOG_FORMAT`, `KUBERNETES_SERVICE_HOST`) are removed, and the timestamp at the start of a log
//! line is replaced by `<time>` (see [`normalize_log_times`]).

mod common;
#[path = "../compiler/tests/common/golden.rs"]
mod golden_rule;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

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

/// What the first line of a program asks for: `# cmd: check`, `# args: a b`, `# env: K=V ...`.
struct Header<'a> {
    command: &'a str,
    args: Vec<&'a str>,
    env: Vec<(&'a str, &'a str)>,
}

impl<'a> Header<'a> {
    fn of(source: &'a str) -> Header<'a> {
        let first = source.lines().next().unwrap_or("");
        Header {
            command: first.strip_prefix("# cmd: ").map_or("run", str::trim),
            args: first
                .strip_prefix("# args: ")
                .map(|a| a.split_whitespace().collect())
                .unwrap_or_default(),
            env: first
                .strip_prefix("# env: ")
                .map(|e| {
                    e.split_whitespace()
                        .filter_map(|kv| kv.split_once('='))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// Runs the program `name` in `dir` and renders what a user would see.
fn observe_in(dir: &Path, name: &std::ffi::OsStr, header: &Header<'_>) -> String {
    let mut command = Command::new(common::CN);
    command
        .arg(header.command)
        .arg(name)
        .args(&header.args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL")
        .env_remove("LOG_FORMAT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .envs(header.env.iter().copied());
    let run = common::finish(&mut command, None, TIMEOUT);
    if run.timed_out {
        return format!("--- timed out after {}s ---\n", TIMEOUT.as_secs());
    }
    let mut seen = normalize_log_times(&run.stdout);
    if !run.stderr.is_empty() {
        seen.push_str("--- stderr ---\n");
        seen.push_str(&run.stderr);
    }
    match run.status {
        Some(0) => {}
        Some(code) => seen.push_str(&format!("--- exit status {code} ---\n")),
        None => seen.push_str("--- killed by a signal ---\n"),
    }
    seen
}

/// A program's lines split into cases at `# --- case: NAME` lines: the lines before the first
/// case are shared by every case. `None` when the file has no cases.
fn cases(source: &str) -> Option<Vec<(String, String)>> {
    const MARK: &str = "# --- case: ";
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let starts: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].starts_with(MARK))
        .collect();
    let first = *starts.first()?;
    let mut out = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(lines.len());
        let name = lines[start][MARK.len()..].trim().to_string();
        // Other cases' lines become blank, so line numbers in diagnostics are the file's own.
        let program: String = lines
            .iter()
            .enumerate()
            .map(|(i, line)| {
                if i < first || (start..end).contains(&i) {
                    *line
                } else {
                    "\n"
                }
            })
            .collect();
        out.push((name, program));
    }
    Some(out)
}

/// Runs one program (each of its cases on its own, when it has them) and renders what a user
/// would see.
fn observe(path: &Path) -> String {
    let source = std::fs::read_to_string(path).unwrap_or_default();
    let header = Header::of(&source);
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default();
    let Some(cases) = cases(&source) else {
        return observe_in(dir, name, &header);
    };
    // Each case runs as a file of the same name, in a folder of its own.
    let scratch = std::env::temp_dir().join(format!(
        "cn-golden-{}-{}",
        std::process::id(),
        path.display().to_string().replace(['/', '.'], "_")
    ));
    let mut seen = String::new();
    for (case, program) in cases {
        let _ = std::fs::create_dir_all(&scratch);
        std::fs::write(scratch.join(name), program).expect("the scratch folder is writable");
        seen.push_str(&format!("=== {case} ===\n"));
        seen.push_str(&observe_in(&scratch, name, &header));
    }
    let _ = std::fs::remove_dir_all(&scratch);
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
    let mut failures = Vec::new();
    for file in &files {
        golden_rule::check_golden(&file.with_extension("out"), &observe(file), &mut failures);
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
