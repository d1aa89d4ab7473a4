//! What `cn test` prints, in the manner of `go test`: each failing test with its output and
//! report (`-v`: every test), one line per file, then `N passed, N failed`.

use std::fmt::Write;

use super::protocol::{Outcome, TestResult};
use super::FileRun;

/// The counts over every file.
pub struct Totals {
    pub passed: usize,
    pub failed: usize,
    pub broken_files: usize,
}

/// Prints one file's report.
pub fn file(run: &FileRun, verbose: bool) {
    let mut out = String::new();
    let shown = run.path.display().to_string();
    let file_name = run
        .path
        .file_name()
        .map_or(shown.clone(), |n| n.to_string_lossy().into_owned());
    for result in &run.results {
        let failed = result.outcome != Outcome::Passed;
        if !failed && !verbose {
            continue;
        }
        let verdict = if failed { "FAIL" } else { "PASS" };
        let _ = writeln!(
            out,
            "--- {verdict}: {} ({file_name}:{}, {:.2}s)",
            result.name, result.line, result.seconds
        );
        indent(&mut out, &result.output);
        indent(&mut out, &failure_text(result));
    }
    let failed = run.failed();
    let passed = run.results.len() - failed;
    let verdict = if failed > 0 || run.error.is_some() {
        "FAIL"
    } else {
        "ok"
    };
    let mut counts = format!("{passed} passed");
    if failed > 0 {
        let _ = write!(counts, ", {failed} failed");
    }
    if run.error.is_some() {
        counts = format!("{counts}, did not finish");
    }
    let _ = writeln!(out, "{verdict:<5} {shown}  {counts}  {:.2}s", run.seconds);
    if verdict == "FAIL" || verbose {
        indent(&mut out, &run.other_output);
    }
    if let Some(error) = &run.error {
        indent(&mut out, error);
    }
    print!("{out}");
}

/// Why a test failed, as shown under it (nothing for a passed test).
pub fn failure_text(result: &TestResult) -> String {
    match &result.outcome {
        Outcome::Passed => String::new(),
        Outcome::Failed(report) => report.clone(),
        Outcome::TimedOut(limit) => format!(
            "timed out after {}: the test was cancelled and its defers ran (cn test --timeout)\n",
            seconds(*limit)
        ),
    }
}

/// Prints the closing line and returns the counts.
pub fn summary(runs: &[FileRun], took: f64) -> Totals {
    let failed: usize = runs.iter().map(FileRun::failed).sum();
    let tests: usize = runs.iter().map(|r| r.results.len()).sum();
    let timed_out = runs
        .iter()
        .flat_map(|r| &r.results)
        .filter(|r| matches!(r.outcome, Outcome::TimedOut(_)))
        .count();
    let totals = Totals {
        passed: tests - failed,
        failed,
        broken_files: runs.iter().filter(|r| r.error.is_some()).count(),
    };
    let mut line = format!("{} passed, {} failed", totals.passed, totals.failed);
    if timed_out > 0 {
        let _ = write!(line, " ({timed_out} timed out)");
    }
    if totals.broken_files > 0 {
        let files = if totals.broken_files == 1 {
            "file"
        } else {
            "files"
        };
        let _ = write!(line, ", {} {files} did not finish", totals.broken_files);
    }
    if tests == 0 && totals.broken_files == 0 {
        line.push_str(": no tests ran (no fn test_*() matched)");
    }
    println!("\n{line} in {:.2}s", took);
    totals
}

/// `text` indented by four spaces, one line at a time.
fn indent(out: &mut String, text: &str) {
    for line in text.lines() {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// A limit in seconds the way a user would write it (`5s`, `0.5s`).
fn seconds(limit: f64) -> String {
    if limit.fract() == 0.0 {
        format!("{limit:.0}s")
    } else {
        format!("{limit}s")
    }
}
