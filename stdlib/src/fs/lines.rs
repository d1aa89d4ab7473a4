//! Lines of a file or of stdin, streamed: `for line in fs.lines(path).unwrap():` and
//! `for line in io.stdin.lines():` hold one chunk and the current line in memory, whatever the
//! size of the input, and read the next chunk on the blocking pool while the task waits.
//!
//! A line is the text up to a `\n`, without it (and without a `\r` before it, so files from
//! Windows read the same); a last line without a `\n` still counts. A line that is not UTF-8
//! faults, naming its number, rather than being altered.

use std::cell::RefCell;
use std::io::Read;
use std::rc::Rc;

use cn_runtime::iter::iterator_value;
use cn_runtime::native::{NativeStream, StreamStep};
use cn_runtime::object::Iter;
use cn_runtime::{Fault, Value};

/// How much one read asks for.
const CHUNK: usize = 64 * 1024;

/// A source of bytes that can be read on the blocking pool.
pub type Source = Box<dyn Read + Send>;

struct State {
    /// The source, absent while a read holds it.
    source: Option<Source>,
    /// Bytes read and not yet returned; `start` is where the next line begins.
    buffer: Vec<u8>,
    start: usize,
    /// The source has ended (or failed: `failure` then holds why).
    ended: bool,
    failure: Option<String>,
    /// Lines returned so far, for error messages.
    line: u64,
    /// What the lines come from (`fs.lines("/var/log/app.log")`), for error messages.
    name: String,
}

impl State {
    /// The next complete line in the buffer, or the rest once the source has ended.
    fn take_line(&mut self) -> Option<Result<Value, Fault>> {
        let rest = &self.buffer[self.start..];
        let (line, used) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None if self.ended && !rest.is_empty() => (rest, rest.len()),
            None => return None,
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        self.line += 1;
        let text = match std::str::from_utf8(line) {
            Ok(text) => Ok(Value::str(text)),
            Err(error) => Err(Fault::new(format!(
                "{}: line {} is not UTF-8 text (byte {} of the line); read it with fs.read_bytes",
                self.name,
                self.line,
                error.valid_up_to() + 1
            ))),
        };
        self.start += used;
        Some(text)
    }
}

struct Lines(Rc<RefCell<State>>);

impl NativeStream for Lines {
    fn next(&mut self) -> Result<StreamStep, Fault> {
        let mut state = self.0.borrow_mut();
        if let Some(line) = state.take_line() {
            return line.map(StreamStep::Item);
        }
        if let Some(failure) = state.failure.take() {
            return Err(Fault::new(format!("{}: {failure}", state.name)));
        }
        if state.ended {
            return Ok(StreamStep::Done);
        }
        // Keep only the partial line, then read more behind it.
        let start = state.start;
        state.buffer.drain(..start);
        state.start = 0;
        let Some(mut source) = state.source.take() else {
            return Ok(StreamStep::Done);
        };
        drop(state);
        let shared = self.0.clone();
        Ok(StreamStep::Wait(Box::pin(async move {
            let read = tokio::task::spawn_blocking(move || {
                let mut chunk = vec![0; CHUNK];
                let read = loop {
                    match source.read(&mut chunk) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        other => break other,
                    }
                };
                (source, chunk, read)
            })
            .await;
            let mut state = shared.borrow_mut();
            match read {
                Ok((source, chunk, Ok(n))) => {
                    state.buffer.extend_from_slice(&chunk[..n]);
                    state.ended = n == 0;
                    state.source = Some(source);
                }
                Ok((_, _, Err(error))) => {
                    state.ended = true;
                    state.failure = Some(error.to_string());
                }
                Err(error) => {
                    state.ended = true;
                    state.failure = Some(error.to_string());
                }
            }
            Ok(())
        })))
    }
}

/// An iterator over the lines of `source`, named `name` in error messages.
pub fn value(source: Source, name: String) -> Value {
    let state = State {
        source: Some(source),
        buffer: Vec::with_capacity(CHUNK),
        start: 0,
        ended: false,
        failure: None,
        line: 0,
        name,
    };
    iterator_value(Iter::Native(Box::new(Lines(Rc::new(RefCell::new(state))))))
}
