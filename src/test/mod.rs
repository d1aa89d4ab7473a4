//! `cn test [PATH...]`: finds `*_test.cn` files and runs every `fn test_*()` in them.
//!
//! Each file runs in a worker process of its own (`worker`), several at once (`-j`), and reports
//! its tests through its standard output (`protocol`); this side gathers the results, prints
//! them as each file finishes (`report`) and writes JUnit XML for CI systems (`junit`). The exit
//! status is 0 when every test passed, 1 when one failed, timed out or a file could not be run
//! (or nothing ran at all), 2 for usage errors.

mod junit;
pub mod protocol;
mod report;
pub mod worker;

use std::collections::VecDeque;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use regex::Regex;

use protocol::{Outcome, TestResult};

/// What `cn test` was asked to do.
pub struct Options {
    pub paths: Vec<PathBuf>,
    pub filter: Option<String>,
    pub verbose: bool,
    pub junit: Option<PathBuf>,
    pub limit: Duration,
    pub jobs: Option<usize>,
}

/// One file's run.
pub struct FileRun {
    pub path: PathBuf,
    pub results: Vec<TestResult>,
    /// Why the file's tests did not all run (a compile error, a fault in the module body, the
    /// worker's death), with what the worker wrote to stderr.
    pub error: Option<String>,
    /// Output outside any test (the module body's) and the worker's stderr.
    pub other_output: String,
    pub seconds: f64,
}

impl FileRun {
    pub fn failed(&self) -> usize {
        self.results
            .iter()
            .filter(|r| r.outcome != Outcome::Passed)
            .count()
    }
}

pub fn run(options: Options) -> u8 {
    let filter = match options.filter.as_deref().map(Regex::new).transpose() {
        Ok(filter) => filter,
        Err(e) => {
            eprintln!("cn test: --filter is not a valid regular expression: {e}");
            return 2;
        }
    };
    if let Some(missing) = options.paths.iter().find(|p| !p.exists()) {
        eprintln!("cn test: {} does not exist", missing.display());
        return 2;
    }
    let files = crate::files::find(&options.paths, "_test.cn");
    if files.is_empty() {
        eprintln!("cn test: no test files (*_test.cn) found");
        return 1;
    }
    let started = Instant::now();
    let runs = run_files(&files, &options, filter.as_ref());
    let total = report::summary(&runs, started.elapsed().as_secs_f64());
    if let Some(path) = &options.junit {
        if let Err(e) = std::fs::write(path, junit::document(&runs)) {
            eprintln!("cn test: cannot write {}: {e}", path.display());
            return 1;
        }
    }
    u8::from(total.failed > 0 || total.broken_files > 0 || total.passed == 0)
}

/// Runs the files in worker processes, `-j` at once, printing each file's report as it ends;
/// returns the runs in the order of `files`.
fn run_files(files: &[PathBuf], options: &Options, filter: Option<&Regex>) -> Vec<FileRun> {
    let jobs = options
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len());
    let queue = Arc::new(Mutex::new(
        files.iter().cloned().enumerate().collect::<VecDeque<_>>(),
    ));
    let nonce = nonce();
    let (done, finished) = mpsc::channel();
    for _ in 0..jobs {
        let queue = queue.clone();
        let done = done.clone();
        let nonce = nonce.clone();
        let filter = filter.map(|f| f.as_str().to_string());
        let limit = options.limit;
        std::thread::spawn(move || loop {
            let next = queue.lock().map(|mut q| q.pop_front()).ok().flatten();
            let Some((index, path)) = next else { break };
            let run = run_file(&path, &nonce, filter.as_deref(), limit);
            if done.send((index, run)).is_err() {
                break;
            }
        });
    }
    drop(done);
    let mut runs: Vec<Option<FileRun>> = files.iter().map(|_| None).collect();
    for (index, run) in finished {
        report::file(&run, options.verbose);
        runs[index] = Some(run);
    }
    runs.into_iter().flatten().collect()
}

/// Runs one file's worker and reads what it said.
fn run_file(path: &Path, nonce: &str, filter: Option<&str>, limit: Duration) -> FileRun {
    let started = Instant::now();
    let mut run = FileRun {
        path: path.to_path_buf(),
        results: Vec::new(),
        error: None,
        other_output: String::new(),
        seconds: 0.0,
    };
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("cn"));
    let mut command = Command::new(exe);
    command
        .arg("test")
        .arg("--worker")
        .arg(nonce)
        .arg("--timeout")
        .arg(format!("{}ms", limit.as_millis()));
    if let Some(filter) = filter {
        command.arg("--filter").arg(filter);
    }
    command
        .arg("--")
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(e) => {
            run.error = Some(format!("cannot start a test process: {e}\n"));
            return run;
        }
    };
    // Both pipes are read at once, or a worker filling one would wait on us forever.
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    });
    let mut stdout = Vec::new();
    if let Some(mut pipe) = child.stdout.take() {
        let _ = pipe.read_to_end(&mut stdout);
    }
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    let status = child.wait();
    run.seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&stdout);
    let stderr = String::from_utf8_lossy(&stderr).into_owned();
    let transcript = protocol::read(nonce, &stdout);
    run.results = transcript.results;
    run.other_output = transcript.outside_output;
    let ended_well = matches!(&status, Ok(s) if s.success());
    if let Some((name, output)) = transcript.unfinished {
        let line = transcript
            .listed
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0, |(_, l)| *l);
        run.results.push(TestResult {
            name,
            line,
            outcome: Outcome::Failed(format!(
                "{stderr}the test process ended ({}) while this test ran\n",
                describe(&status)
            )),
            seconds: 0.0,
            output,
        });
    } else if !transcript.loaded {
        run.error = Some(format!(
            "{stderr}the file's tests did not run ({})\n",
            describe(&status)
        ));
    } else if !ended_well {
        run.error = Some(format!(
            "{stderr}the test process ended ({}) after its tests\n",
            describe(&status)
        ));
    } else {
        run.other_output.push_str(&stderr);
    }
    run
}

fn describe(status: &std::io::Result<std::process::ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) => match (s.code(), s.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            _ => "ended".to_string(),
        },
        Err(e) => format!("cannot wait for it: {e}"),
    }
}

/// A token for this run's event lines that no test can guess.
fn nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.write_u32(std::process::id());
    format!("{:016x}", hasher.finish())
}
