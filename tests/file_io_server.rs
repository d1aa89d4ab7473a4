//! File I/O does not hold up a server: a handler waiting on a file (a named pipe that nothing has
//! written yet, so the wait is certain, not a matter of timing) leaves every other request
//! answered, under concurrent load, and finishes once the data comes.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;

use common::{get, Script, PATIENCE};

const SERVICE: &str = r#"
import fs
import http
import log
import os

fn slurp(req):
    log.info("reading the whole pipe")
    text = fs.read_text(os.getenv("WHOLE")).unwrap()
    return f"read {len(text)} chars"

fn count_lines(req):
    log.info("streaming the pipe")
    n = 0
    for line in fs.lines(os.getenv("STREAM")).unwrap():
        n += 1
    return f"{n} lines"

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/ping", fn(req): "pong")
    server.route("GET", "/slurp", slurp)
    server.route("GET", "/lines", count_lines)
    server.run()
"#;

/// A fresh directory with two named pipes.
fn pipes(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("cn-fileio-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let (whole, stream) = (dir.join("whole"), dir.join("stream"));
    for pipe in [&whole, &stream] {
        let status = Command::new("mkfifo")
            .arg(pipe)
            .status()
            .expect("mkfifo runs");
        assert!(status.success(), "mkfifo {}", pipe.display());
    }
    (dir, whole, stream)
}

/// Answers `/ping` `n` times from each of `threads` client threads at once.
fn ping_under_load(port: u16, threads: usize, n: usize) {
    let clients: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                for _ in 0..n {
                    let response = get(port, "/ping");
                    assert_eq!((response.status, response.body.as_str()), (200, "pong"));
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client thread");
    }
}

/// Starts `GET path` on a thread; its body arrives on the returned channel.
fn pending_get(port: u16, path: &'static str) -> mpsc::Receiver<(u16, String)> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        let response = get(port, path);
        let _ = send.send((response.status, response.body));
    });
    receive
}

fn write_pipe(path: &Path, chunks: &[Vec<u8>], between: impl Fn()) {
    let mut pipe = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("the pipe opens for writing");
    for chunk in chunks {
        pipe.write_all(chunk).expect("written to the pipe");
        pipe.flush().expect("flushed");
        between();
    }
}

#[test]
fn a_server_answers_under_load_while_a_handler_waits_on_a_file() {
    let (_dir, whole, stream) = pipes("read");
    let script = Script::start_with_env(
        "fileio",
        SERVICE,
        &[
            ("WHOLE", whole.to_str().expect("utf-8 path")),
            ("STREAM", stream.to_str().expect("utf-8 path")),
        ],
    );
    let port = script.server_port();

    // fs.read_text of a pipe nobody writes: the read waits on the blocking pool.
    let slurp = pending_get(port, "/slurp");
    script.wait_log_msg("reading the whole pipe", &mut Vec::new());
    ping_under_load(port, 4, 100);
    assert!(
        slurp.try_recv().is_err(),
        "the read cannot have finished: nothing was written"
    );

    // fs.lines streams: each chunk is counted while the server goes on answering.
    let lines = pending_get(port, "/lines");
    script.wait_log_msg("streaming the pipe", &mut Vec::new());
    let chunk: Vec<u8> = (0..1000)
        .flat_map(|i| format!("line {i}\n").into_bytes())
        .collect();
    write_pipe(&stream, &[chunk.clone(), chunk.clone(), chunk], || {
        ping_under_load(port, 2, 20)
    });
    let (status, body) = lines.recv_timeout(PATIENCE).expect("/lines answered");
    assert_eq!((status, body.as_str()), (200, "3000 lines"));

    // Still waiting on the first pipe all along; a megabyte ends it.
    assert!(slurp.try_recv().is_err());
    write_pipe(&whole, &[vec![b'x'; 1 << 20]], || {});
    let (status, body) = slurp.recv_timeout(PATIENCE).expect("/slurp answered");
    assert_eq!((status, body.as_str()), (200, "read 1048576 chars"));

    script.signal("TERM");
    let (_, _, code) = script.finish();
    assert_eq!(code, 0);
}
