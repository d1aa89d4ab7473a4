//! `cn repl --attach PID|SOCKET`: a prompt inside a service started with `cn run --repl`.
//! Entries are read as the REPL reads them (a block until its blank line), sent over the
//! service's owner-only Unix socket, and run there against the script's globals; what comes back
//! (a value, a fault report, compile errors) is printed. The framing is the runtime's
//! (`cn_runtime::tasks::attach`): a decimal length, a newline, the bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;

use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::Editor;

pub fn run(target: &str) -> u8 {
    let socket = match target.parse::<u32>() {
        Ok(pid) => cn_runtime::tasks::attach::socket_path(pid),
        Err(_) => PathBuf::from(target),
    };
    let stream = match UnixStream::connect(&socket) {
        Ok(stream) => stream,
        Err(e) => {
            eprintln!(
                "cn repl --attach: cannot connect to {}: {e} (was the service started with `cn run --repl`?)",
                socket.display()
            );
            return 1;
        }
    };
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(clone) => clone,
        Err(e) => {
            eprintln!("cn repl --attach: {e}");
            return 1;
        }
    });
    let mut writer = stream;
    let mut editor: Editor<(), DefaultHistory> = match Editor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("cn repl --attach: cannot start the prompt: {e}");
            return 1;
        }
    };
    println!("attached to {} — Ctrl-D to detach", socket.display());
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            "attached>>> "
        } else {
            "... "
        };
        match editor.readline(prompt) {
            Ok(line) => {
                let finished_block = !buffer.is_empty() && line.trim().is_empty();
                buffer.push_str(&line);
                buffer.push('\n');
                if !finished_block && cn_compiler::syntax::needs_more_input(&buffer) {
                    continue;
                }
            }
            Err(ReadlineError::Interrupted) => {
                buffer.clear();
                continue;
            }
            Err(_) if buffer.trim().is_empty() => return 0,
            Err(_) => {}
        }
        let entry = std::mem::take(&mut buffer);
        if entry.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(entry.trim_end());
        let sent = writer
            .write_all(format!("{}\n{entry}", entry.len()).as_bytes())
            .and_then(|_| writer.flush());
        match sent.ok().and_then(|_| receive(&mut reader)) {
            Some(reply) => {
                print!("{reply}");
                let _ = std::io::stdout().flush();
            }
            None => {
                eprintln!("cn repl --attach: the service closed the connection");
                return 1;
            }
        }
    }
}

fn receive(reader: &mut BufReader<UnixStream>) -> Option<String> {
    let mut header = String::new();
    reader.read_line(&mut header).ok()?;
    let length: usize = header.trim_end().parse().ok()?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    String::from_utf8(body).ok()
}
