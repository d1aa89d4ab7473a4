//! Log output as a process sees it: a stdout reader that stalls does not stop the interpreter
//! (log lines wait in the sink, or are dropped and counted past its bound, while `print` waits
//! for room), JSON lines parse with their types, and the format follows the terminal and
//! Kubernetes.
//!
//! "The interpreter got past its logging" is observed without reading stdout: after logging, the
//! script makes an http request to a listener of this test, so the connection arrives only if no
//! log call blocked on the full pipe.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CN: &str = env!("CARGO_BIN_EXE_cn");

/// Longest any step may take (CI machines are slow, and this is a debug build).
const PATIENCE: Duration = Duration::from_secs(60);

fn script_file(name: &str, source: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("cn-log-{}-{name}.cn", std::process::id()));
    std::fs::write(&path, source).expect("script is writable");
    path
}

fn start(path: &Path, env: &[(&str, &str)]) -> Child {
    Command::new(CN)
        .arg("run")
        .arg(path)
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL")
        .env_remove("LOG_FORMAT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cn starts")
}

/// Waits for the script's request to `listener` and answers it; false if none came in time.
fn marker_arrives(listener: &TcpListener) -> bool {
    listener.set_nonblocking(true).expect("listener can poll");
    let deadline = Instant::now() + PATIENCE;
    let mut stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => return false,
        }
    };
    stream.set_nonblocking(false).expect("blocking stream");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
    true
}

/// Reads the rest of the child's stdout and its exit status; stderr must be empty.
fn finish(mut child: Child) -> Vec<String> {
    let stderr = child.stderr.take().map(|mut pipe| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    });
    let stdout = child.stdout.take().expect("stdout is piped");
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .collect();
    let status = child.wait().expect("cn exits");
    let stderr = stderr
        .and_then(|reader| reader.join().ok())
        .unwrap_or_default();
    assert!(status.success(), "cn failed: {status}\n{stderr}");
    assert_eq!(stderr, "", "unexpected stderr");
    lines
}

fn parse(line: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!("not a JSON object: {line:?} ({other:?})"),
    }
}

/// Runs a script that logs `count` lines of ~110 bytes while nobody reads its stdout, then
/// requests a marker from this test and runs `after` (cn statements). Returns whether the
/// marker arrived before stdout was read (no log call waited for the pipe) and every line.
fn log_while_unread(name: &str, count: usize, after: &str) -> (bool, Vec<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener binds");
    let port = listener.local_addr().expect("bound address").port();
    let path = script_file(
        name,
        &format!(
            "import http\nimport log\n\
             for i in range({count}):\n    \
                 log.info(\"line\", i=i, padding=\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\")\n\
             http.get(\"http://127.0.0.1:{port}/logged\")\n\
             {after}"
        ),
    );
    let child = start(&path, &[]);
    let arrived = marker_arrives(&listener);
    let lines = finish(child);
    let _ = std::fs::remove_file(&path);
    (arrived, lines)
}

#[test]
fn a_stalled_stdout_reader_does_not_block_logging() {
    // 50k lines: far more than a pipe holds, less than the sink's bound.
    let (arrived, lines) = log_while_unread("stalled", 50_000, "print(\"end\")\n");
    assert!(
        arrived,
        "the script did not get past its logging while stdout was not read"
    );
    assert_eq!(lines.len(), 50_001, "every line arrives, none is lost");
    for (i, line) in lines[..50_000].iter().enumerate() {
        let fields = parse(line);
        assert_eq!(fields["i"], serde_json::json!(i), "lines stay in order");
    }
    assert_eq!(lines[50_000], "end");
}

#[test]
fn past_the_bound_log_lines_are_dropped_but_prints_wait() {
    // 120k lines is well over the sink's 8 MiB bound.
    let (arrived, lines) = log_while_unread(
        "dropped",
        120_000,
        "for i in range(20000):\n    print(\"printed\", i)\n",
    );
    assert!(
        arrived,
        "the script did not get past its logging while stdout was not read"
    );
    let (logged, printed): (Vec<&String>, Vec<&String>) =
        lines.iter().partition(|line| line.starts_with('{'));
    // The gap is announced once output flows again, with how many lines it lost.
    let (warnings, logged): (Vec<&String>, Vec<&String>) = logged
        .into_iter()
        .partition(|line| line.contains("log lines dropped"));
    let announced: i64 = warnings
        .iter()
        .map(|line| parse(line)["dropped"].as_i64().expect("dropped is an int"))
        .sum();
    assert!(!warnings.is_empty(), "no warning about the dropped lines");
    assert_eq!(
        announced + logged.len() as i64,
        120_000,
        "every dropped line is counted in a warning"
    );
    assert!(
        logged.len() > 50_000 && logged.len() < 120_000,
        "some log lines are dropped, most are kept: {} of 120000",
        logged.len()
    );
    let mut last = -1;
    for line in &logged {
        // Whole lines are dropped, never parts of one.
        let i = parse(line)["i"].as_i64().expect("i is an int");
        assert!(i > last, "kept lines stay in order");
        last = i;
    }
    let expected: Vec<String> = (0..20_000).map(|i| format!("printed {i}")).collect();
    let printed: Vec<String> = printed.into_iter().cloned().collect();
    assert_eq!(printed, expected, "no printed line is dropped");
}

#[test]
fn json_lines_carry_typed_fields_in_order() {
    let path = script_file(
        "json",
        "import context\nimport log\n\
         type Login:\n    user: str\n    @secret\n    password: str\n\
         context.set(\"request_id\", \"r-1\")\n\
         log.warn(\"Request handled\", method=\"GET\", status=200, duration=0.023, cached=false, \
         missing=nil, tags=[\"a\"], login=Login(\"ann\", \"hunter2\"), timeout=30.seconds)\n",
    );
    let lines = finish(start(&path, &[]));
    let _ = std::fs::remove_file(&path);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    let fields = parse(line);
    let time = fields["time"].as_str().expect("time is a string");
    // RFC 3339 in UTC with milliseconds: 2024-01-15T10:30:00.123Z
    let shape: String = time
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "9999-99-99T99:99:99.999Z");
    assert_eq!(fields["level"], "warn");
    assert_eq!(fields["msg"], "Request handled");
    assert_eq!(fields["request_id"], "r-1");
    assert_eq!(fields["method"], "GET");
    assert!(fields["status"].is_i64());
    assert_eq!(fields["status"], 200);
    assert_eq!(fields["duration"].as_f64(), Some(0.023));
    assert_eq!(fields["cached"], false);
    assert!(fields["missing"].is_null());
    assert_eq!(fields["tags"], serde_json::json!(["a"]));
    assert_eq!(
        fields["login"],
        serde_json::json!({"user": "ann", "password": "***"})
    );
    assert!(!line.contains("hunter2"));
    assert_eq!(fields["timeout"], "30s");
    // Keys in order: fixed keys, context ids, then fields as passed.
    let keys = [
        "time",
        "level",
        "msg",
        "request_id",
        "method",
        "status",
        "duration",
        "cached",
        "missing",
        "tags",
        "login",
        "timeout",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| line.find(&format!("\"{k}\":")).expect("key present"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{line}");
}

/// Runs a script with stdout on a terminal (`script` from util-linux gives it a pty).
fn run_in_terminal(path: &Path, env: &[(&str, &str)]) -> String {
    let command = format!("{CN} run {}", path.display());
    let output = Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env("NO_COLOR", "1")
        .env_remove("LOG_LEVEL")
        .env_remove("LOG_FORMAT")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("script(1) from util-linux runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).replace("\r\n", "\n")
}

#[test]
fn a_terminal_gets_text_unless_running_in_kubernetes() {
    let path = script_file(
        "terminal",
        "import log\nlog.info(\"Request handled\", method=\"GET\", status=200)\n",
    );
    let text = run_in_terminal(&path, &[]);
    let json = run_in_terminal(&path, &[("KUBERNETES_SERVICE_HOST", "10.0.0.1")]);
    let forced = run_in_terminal(&path, &[("LOG_FORMAT", "json")]);
    let _ = std::fs::remove_file(&path);
    // 10:30:00.123 INFO Request handled method=GET status=200
    let line = text.trim_end();
    let (time, rest) = line.split_at(line.len().min(12));
    let shape: String = time
        .chars()
        .map(|c| if c.is_ascii_digit() { '9' } else { c })
        .collect();
    assert_eq!(shape, "99:99:99.999", "{text:?}");
    assert_eq!(rest, " INFO Request handled method=GET status=200");
    for output in [json, forced] {
        let fields = parse(output.trim_end());
        assert_eq!(fields["msg"], "Request handled");
        assert_eq!(fields["status"], 200);
    }
}

#[test]
fn a_print_waiting_for_a_stalled_reader_stops_only_its_own_task() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener binds");
    let port = listener.local_addr().expect("bound address").port();
    // 20 MB of prints: over the sink's 8 MiB bound, so the printing task has to wait.
    let path = script_file(
        "print-task",
        &format!(
            "import http\nimport time\n\
             fn printer():\n    \
                 for i in range(20000):\n        \
                     print(\"x\" * 1000, i)\n\
             t = spawn printer()\n\
             time.sleep(0.2)\n\
             http.get(\"http://127.0.0.1:{port}/printing\")\n\
             t.join()\n\
             print(\"end\")\n"
        ),
    );
    let child = start(&path, &[]);
    assert!(
        marker_arrives(&listener),
        "the other task did not run while the printer waited for the reader"
    );
    let lines = finish(child);
    let _ = std::fs::remove_file(&path);
    assert_eq!(lines.len(), 20_001, "every printed line arrives");
    for (i, line) in lines[..20_000].iter().enumerate() {
        assert!(line.ends_with(&format!(" {i}")), "out of order at {i}");
    }
    assert_eq!(lines[20_000], "end");
}
