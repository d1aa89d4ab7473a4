//! Shared by the process tests: a `cn run` child process whose output is read line by line,
//! signals sent with `kill`, and a minimal raw HTTP/1.1 client (so the tests control every byte
//! on the wire: oversized bodies, malformed requests, keep-alive).
//!
//! A script's stdout carries both what it prints and its JSON log lines (stdout is a pipe, so
//! logs are JSON); the two are separated here: `stdout` gets the printed lines, and `log` gets
//! the JSON log lines together with everything on stderr.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

pub const CN: &str = env!("CARGO_BIN_EXE_cn");

/// Longest any step may take before a test gives up (CI machines are slow).
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A running script.
pub struct Script {
    pub child: Child,
    /// Printed lines.
    pub stdout: Receiver<String>,
    /// JSON log lines (from stdout) and stderr lines, as they arrive.
    pub log: Receiver<String>,
    path: PathBuf,
}

/// Whether a stdout line is one of the log module's JSON lines.
pub fn is_log_line(line: &str) -> bool {
    line.starts_with(r#"{"time":"#)
        && serde_json::from_str::<serde_json::Value>(line).is_ok_and(|v| v.get("msg").is_some())
}

/// Reads `pipe` line by line; lines `to_log` accepts go to `log`, the others to `rest`.
fn split_lines(
    pipe: impl Read + Send + 'static,
    rest: Option<std::sync::mpsc::Sender<String>>,
    log: std::sync::mpsc::Sender<String>,
    to_log: fn(&str) -> bool,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let target = match &rest {
                Some(rest) if !to_log(&line) => rest,
                _ => &log,
            };
            if target.send(line).is_err() {
                break;
            }
        }
    });
}

impl Script {
    /// Writes `source` to a temporary file and starts `cn run` on it.
    pub fn start(name: &str, source: &str) -> Script {
        Script::start_with_env(name, source, &[])
    }

    /// Like [`Script::start`] with extra environment variables.
    pub fn start_with_env(name: &str, source: &str, env: &[(&str, &str)]) -> Script {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let unique = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("cn-test-{}-{unique}-{name}.cn", std::process::id()));
        std::fs::write(&path, source).expect("script is writable");
        let mut command = Command::new(CN);
        command.arg("run").arg(&path).envs(env.iter().copied());
        let mut script = Script::start_command(&mut command);
        script.path = path;
        script
    }

    /// Starts `command` (which runs a script some other way: under a shell's `ulimit`, say)
    /// with the environment and pipes of [`Script::start`].
    pub fn start_command(command: &mut Command) -> Script {
        let mut child = command
            .env("NO_COLOR", "1")
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the cn binary runs");
        let (out_send, stdout) = std::sync::mpsc::channel();
        let (log_send, log) = std::sync::mpsc::channel();
        let pipe = child.stdout.take().expect("stdout is piped");
        split_lines(pipe, Some(out_send), log_send.clone(), is_log_line);
        let pipe = child.stderr.take().expect("stderr is piped");
        split_lines(pipe, None, log_send, |_| true);
        Script {
            child,
            stdout,
            log,
            path: PathBuf::new(),
        }
    }

    /// Waits for the script to print `expected` on stdout.
    pub fn expect_line(&self, expected: &str) {
        let line = self
            .stdout
            .recv_timeout(PATIENCE)
            .unwrap_or_else(|_| panic!("no line from the script; expected {expected:?}"));
        assert_eq!(line, expected);
    }

    /// Waits for a log (or stderr) line containing `needle`; returns it. Lines before it are
    /// kept in `skipped`.
    pub fn wait_log(&self, needle: &str, skipped: &mut Vec<String>) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.log.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => skipped.push(line),
                Err(_) => panic!("no log line containing {needle:?}; saw {skipped:?}"),
            }
        }
    }

    /// Waits for a JSON log line whose `msg` is `msg`; returns it parsed.
    pub fn wait_log_msg(&self, msg: &str, skipped: &mut Vec<String>) -> serde_json::Value {
        let needle = format!(r#""msg":{}"#, serde_json::Value::from(msg));
        let line = self.wait_log(&needle, skipped);
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// The port of the http server the script started (from its "http server listening" line).
    pub fn server_port(&self) -> u16 {
        let line = self.wait_log_msg("http server listening", &mut Vec::new());
        line["url"]
            .as_str()
            .and_then(|url| url.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line}"))
    }

    /// Sends a signal (`TERM`, `INT`) with kill(1).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{name} failed");
    }

    /// Waits for the process to end; returns its remaining printed lines, log and stderr lines,
    /// and status.
    pub fn finish(mut self) -> (Vec<String>, Vec<String>, i32) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                break status;
            }
            if start.elapsed() > PATIENCE {
                let _ = self.child.kill();
                panic!("the script did not exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let drain = |r: &Receiver<String>| -> Vec<String> {
            std::iter::from_fn(|| r.recv_timeout(PATIENCE).ok()).collect()
        };
        let out = drain(&self.stdout);
        let err = drain(&self.log);
        (out, err, status.code().unwrap_or(-1))
    }
}

impl Drop for Script {
    /// A failed assertion must not leave the script running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A parsed HTTP/1.1 response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends raw bytes to `127.0.0.1:port` and reads one response (the request should say
/// `Connection: close`, or the response must carry a content-length).
pub fn raw(port: u16, request: &[u8]) -> HttpResponse {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("server accepts");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream.write_all(request).expect("request sent");
    read_response(&mut stream)
}

/// Reads one response from a stream (content-length or close-delimited bodies).
pub fn read_response(stream: &mut TcpStream) -> HttpResponse {
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).expect("status line");
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).expect("header line");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            reader.read_exact(&mut body).expect("body");
        }
        None => {
            let _ = reader.read_to_end(&mut body);
        }
    }
    HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// `GET path` with `Connection: close`.
pub fn get(port: u16, path: &str) -> HttpResponse {
    raw(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// A request with a body.
pub fn send(port: u16, method: &str, path: &str, body: &str) -> HttpResponse {
    raw(
        port,
        format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
}

/// How a process that ran to its end finished.
pub struct Finished {
    pub stdout: String,
    pub stderr: String,
    /// The exit status; `None` when a signal ended it.
    pub status: Option<i32>,
    /// Killed for running past its limit.
    pub timed_out: bool,
}

/// Runs `command` to its end: `stdin` is written and closed (nothing: closed at once), both
/// output pipes are drained while it runs (a chatty child cannot block on a full pipe), and it
/// is killed after `limit`. The one way the tests run a child to completion.
pub fn finish(command: &mut Command, stdin: Option<&[u8]>, limit: Duration) -> Finished {
    let mut child = command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child process starts");
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A child that exits without reading all of it is not an error here.
        let _ = pipe.write_all(input);
    }
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
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
    let deadline = Instant::now() + limit;
    let mut timed_out = false;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("a killed child can be waited for");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Finished {
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        status: status.code(),
        timed_out,
    }
}

/// A self-signed certificate for `names`: the server's config and the certificate's PEM.
pub fn tls_config(names: &[&str]) -> (std::sync::Arc<rustls::ServerConfig>, String) {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let certified = rcgen::generate_simple_self_signed(names).expect("generate a certificate");
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        certified.key_pair.serialize_der(),
    ));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .expect("server certificate");
    (std::sync::Arc::new(config), certified.cert.pem())
}
