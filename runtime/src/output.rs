//! The process's standard output: one sink shared by `print` and log lines, written by its own
//! thread so that a slow reader never blocks the interpreter.
//!
//! The interpreter thread only appends bytes to a shared buffer under a mutex (uncontended, so
//! about as cheap as a `BufWriter`); the writer thread swaps the whole buffer out and writes it
//! outside the lock, so under load many lines go out in one `write`. Because `print` and log
//! lines go through the same buffer, their order is kept. Pending bytes are bounded
//! ([`PENDING_LIMIT`]): past the bound `print` waits (back-pressure is right for
//! `cn run x.cn | head`), while log lines are dropped and counted ([`dropped_lines`]), because a
//! service must keep serving when its log reader stalls. `print` waits as a task
//! ([`Sink::room`]): only the printing task stops, the server's other requests and its probes go
//! on. [`Sink::flush`] waits until everything
//! appended so far is written; the VM calls it before a fault report goes to stderr and at exit.
//!
//! Waking a sleeping thread costs a system call, so appends wake the writer only when it sleeps.
//! A line after a quiet spell is written at once; after each write the writer lets output
//! gather for up to `GATHER_INTERVAL` or `BATCH_BYTES`, since every wake-up of the writer
//! costs the interpreter's core a context switch, then polls a few times at `POLL_INTERVAL`
//! before it sleeps. A steady stream (an access log) thus costs the interpreter no wake-ups and
//! about a hundred writes a second.

use std::fs::File;
use std::future::Future;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::task::{Poll, Waker};
use std::time::Duration;

/// Bytes that may wait for the writer before `print` waits and log lines are dropped.
pub const PENDING_LIMIT: usize = 8 << 20;

/// How long the writer waits for more output after a write before it looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(1);

/// Empty looks after which the writer sleeps until an append wakes it.
const POLLS: u32 = 3;

/// Under a steady stream of appends (an access log at tens of thousands of lines a second) the
/// writer lets output gather after each write for this long, or until [`BATCH_BYTES`] are
/// waiting. With 1 ms the writer of a server at 80k requests/s woke ~900 times a second and
/// took ~2 % of the server's core in wake-ups alone; log lines a few milliseconds late cost
/// nobody anything (`print` before a fault report, and at exit, is flushed in full).
const GATHER_INTERVAL: Duration = Duration::from_millis(10);

/// Pending bytes at which a gathering writer is woken to write them.
const BATCH_BYTES: usize = 256 << 10;

/// A batch buffer larger than this is released once output slows down (a batch of under a
/// quarter of it), so a burst does not pin megabytes for the life of the process; while output
/// stays heavy both buffers keep their size, since growing them again costs copies.
const KEEP_CAPACITY: usize = 1 << 20;

/// What the writer thread is doing, so appends know whether to wake it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Writer {
    /// Waiting without a timeout: must be woken.
    Sleeping,
    /// Waiting with a short timeout: will look again by itself.
    Polling,
    /// Letting a steady stream gather: will look again by itself, or when an append brings
    /// the buffer to [`BATCH_BYTES`].
    Gathering,
    /// Awake, or already woken: will look at the buffer before it waits again.
    Writing,
    /// Stopped (the output failed, or the thread could not start).
    Gone,
}

struct State {
    /// Bytes appended and not yet taken by the writer.
    buf: Vec<u8>,
    /// Total bytes ever appended.
    appended: u64,
    /// Total bytes written (or discarded after a failure).
    written: u64,
    writer: Writer,
    /// Threads waiting on `progress` (for room or for a flush).
    waiting: usize,
    /// Tasks waiting for room ([`Sink::room`]), woken after each write.
    room_wakers: Vec<Waker>,
    /// Why the output stopped: every later append and flush reports it.
    failure: Option<(io::ErrorKind, String)>,
    /// The sink was dropped: the writer drains what is left and ends.
    closing: bool,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here for work.
    work: Condvar,
    /// Appenders waiting for room and flushers wait here for the writer's progress.
    progress: Condvar,
    limit: usize,
    dropped: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state consistent (every update is a few
        // plain assignments), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes sure the writer will look at the buffer soon.
    fn wake_writer(&self, state: &mut State) {
        if matches!(
            state.writer,
            Writer::Sleeping | Writer::Polling | Writer::Gathering
        ) {
            state.writer = Writer::Writing;
            self.work.notify_one();
        }
    }

    /// Whether `size` more bytes may be appended now. One larger than the whole limit goes
    /// through once nothing else waits.
    fn fits(&self, state: &State, size: usize) -> bool {
        let pending = (state.appended - state.written) as usize;
        pending == 0 || pending + size <= self.limit
    }

    /// Makes sure the writer will look at the buffer, then waits until it reports progress.
    fn wait_for_writer<'a>(&self, mut state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.wake_writer(&mut state);
        state.waiting += 1;
        let mut state = self
            .progress
            .wait(state)
            .unwrap_or_else(PoisonError::into_inner);
        state.waiting -= 1;
        state
    }
}

/// A byte sink written by its own thread; see the module documentation.
pub struct Sink {
    shared: Arc<Shared>,
}

/// What an append does when the bytes do not fit under the limit.
#[derive(Clone, Copy)]
enum Overflow {
    Wait,
    Drop,
    /// Neither: report it, so the caller can wait as a task ([`Sink::room`]).
    Refuse,
}

fn failure_error(failure: &(io::ErrorKind, String)) -> io::Error {
    io::Error::new(failure.0, failure.1.clone())
}

impl Sink {
    /// A sink writing to `dest` on a new thread, holding at most `limit` pending bytes.
    pub fn new(dest: impl Write + Send + 'static, limit: usize) -> Sink {
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                buf: Vec::new(),
                appended: 0,
                written: 0,
                // The new thread looks at the buffer before it first waits.
                writer: Writer::Writing,
                waiting: 0,
                room_wakers: Vec::new(),
                failure: None,
                closing: false,
            }),
            work: Condvar::new(),
            progress: Condvar::new(),
            limit,
            dropped: AtomicU64::new(0),
        });
        let for_writer = shared.clone();
        let started = std::thread::Builder::new()
            .name("cn-output".into())
            .spawn(move || run_writer(&for_writer, dest));
        if let Err(error) = started {
            let mut state = shared.lock();
            state.writer = Writer::Gone;
            state.failure = Some((
                io::ErrorKind::Other,
                format!("cannot start the output thread: {error}"),
            ));
        }
        Sink { shared }
    }

    /// Appends `bytes`, waiting while the pending bytes are over the limit (`print`).
    pub fn write(&self, bytes: &[u8]) -> io::Result<()> {
        self.append(bytes.len(), Overflow::Wait, |buf| {
            buf.extend_from_slice(bytes)
        })
        .map(|_| ())
    }

    /// Appends `bytes` if they fit under the limit now; `Ok(false)` if not (nothing appended).
    pub fn try_write(&self, bytes: &[u8]) -> io::Result<bool> {
        self.append(bytes.len(), Overflow::Refuse, |buf| {
            buf.extend_from_slice(bytes)
        })
    }

    /// Resolves once `size` more bytes fit under the limit (or the output failed): a task waits
    /// on this instead of blocking the thread every task runs on.
    pub fn room(&self, size: usize) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let shared = &*self.shared;
            let mut state = shared.lock();
            if state.failure.is_some() || shared.fits(&state, size) {
                return Poll::Ready(());
            }
            if !state.room_wakers.iter().any(|w| w.will_wake(cx.waker())) {
                state.room_wakers.push(cx.waker().clone());
            }
            shared.wake_writer(&mut state);
            Poll::Pending
        })
    }

    /// Appends one log line, or drops and counts it when the pending bytes are over the limit;
    /// `Ok(false)` when it was dropped. Never waits for the writer.
    pub fn write_or_drop(&self, line: &[u8]) -> io::Result<bool> {
        self.append(line.len(), Overflow::Drop, |buf| {
            buf.extend_from_slice(line)
        })
    }

    /// [`Sink::write_or_drop`] for a line that `render` writes straight into the pending bytes
    /// (saving a copy, for the access log); `size` is about how long it will be, for the limit.
    /// `render` runs under the sink's lock, so it must not write to the sink itself.
    pub fn write_or_drop_with(
        &self,
        size: usize,
        render: impl FnOnce(&mut Vec<u8>),
    ) -> io::Result<bool> {
        self.append(size, Overflow::Drop, render)
    }

    fn append(
        &self,
        size: usize,
        overflow: Overflow,
        fill: impl FnOnce(&mut Vec<u8>),
    ) -> io::Result<bool> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        loop {
            if let Some(failure) = &state.failure {
                return Err(failure_error(failure));
            }
            if shared.fits(&state, size) {
                break;
            }
            match overflow {
                Overflow::Drop => {
                    shared.dropped.fetch_add(1, Ordering::Relaxed);
                    return Ok(false);
                }
                Overflow::Refuse => return Ok(false),
                Overflow::Wait => state = shared.wait_for_writer(state),
            }
        }
        let before = state.buf.len();
        fill(&mut state.buf);
        state.appended += (state.buf.len() - before) as u64;
        let wake = match state.writer {
            Writer::Sleeping => true,
            Writer::Gathering => state.buf.len() >= BATCH_BYTES,
            Writer::Polling | Writer::Writing | Writer::Gone => false,
        };
        if wake {
            state.writer = Writer::Writing;
            shared.work.notify_one();
        }
        Ok(true)
    }

    /// Waits until everything appended so far is written; fails if the output has failed.
    pub fn flush(&self) -> io::Result<()> {
        let shared = &*self.shared;
        let mut state = shared.lock();
        let target = state.appended;
        while state.written < target && state.failure.is_none() {
            state = shared.wait_for_writer(state);
        }
        match &state.failure {
            Some(failure) => Err(failure_error(failure)),
            None => Ok(()),
        }
    }

    /// Log lines dropped because the output was too far behind.
    pub fn dropped(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for Sink {
    /// Lets the writer finish what is pending and end (without waiting for it).
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closing = true;
        self.shared.work.notify_one();
    }
}

/// The writer thread: takes the whole buffer, writes it outside the lock, reports progress.
fn run_writer(shared: &Shared, mut dest: impl Write) {
    let mut batch = Vec::new();
    let mut polls = 0;
    // Set after a write: the next batch may wait a moment to grow (the first output after a
    // quiet spell goes out at once).
    let mut just_wrote = false;
    let mut state = shared.lock();
    loop {
        // Gather even when the buffer is empty just now: on a server pinned to one core the
        // interpreter cannot run while the writer writes, so the buffer is always empty right
        // after a write, and waiting only POLL_INTERVAL made the writer wake (and preempt the
        // interpreter) ~1,250 times a second under an access log instead of ~100.
        if just_wrote
            && state.buf.len() < BATCH_BYTES
            && state.waiting == 0
            && state.room_wakers.is_empty()
            && !state.closing
        {
            just_wrote = false;
            state.writer = Writer::Gathering;
            state = match shared.work.wait_timeout(state, GATHER_INTERVAL) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
            continue;
        }
        if state.buf.is_empty() {
            if state.closing {
                state.writer = Writer::Gone;
                return;
            }
            if polls < POLLS {
                polls += 1;
                state.writer = Writer::Polling;
                state = match shared.work.wait_timeout(state, POLL_INTERVAL) {
                    Ok((state, _)) => state,
                    Err(poisoned) => poisoned.into_inner().0,
                };
            } else {
                state.writer = Writer::Sleeping;
                state = shared
                    .work
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            continue;
        }
        polls = 0;
        just_wrote = true;
        state.writer = Writer::Writing;
        std::mem::swap(&mut state.buf, &mut batch);
        drop(state);
        let result = write_batch(&mut dest, &batch);
        let taken = batch.len() as u64;
        batch.clear();
        if batch.capacity() > KEEP_CAPACITY && taken < (KEEP_CAPACITY / 4) as u64 {
            batch = Vec::new();
        }
        state = shared.lock();
        state.written += taken;
        // Tasks waiting for room look again (outside the lock: a waker may run code).
        let room = std::mem::take(&mut state.room_wakers);
        if !room.is_empty() {
            drop(state);
            room.into_iter().for_each(Waker::wake);
            state = shared.lock();
        }
        if let Err(error) = result {
            // Nothing more can be written: what is pending is discarded so flushes end, and
            // every later append reports the failure (a closed pipe ends the program quietly).
            state.failure = Some((error.kind(), error.to_string()));
            state.buf = Vec::new();
            state.written = state.appended;
            state.writer = Writer::Gone;
            shared.progress.notify_all();
            let room = std::mem::take(&mut state.room_wakers);
            drop(state);
            room.into_iter().for_each(Waker::wake);
            return;
        }
        if state.waiting > 0 {
            shared.progress.notify_all();
        }
    }
}

/// Writes all of `bytes`; a non-blocking descriptor (left so by a parent process) is retried
/// rather than treated as a failure.
fn write_batch(dest: &mut impl Write, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match dest.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(POLL_INTERVAL),
            Err(e) => return Err(e),
        }
    }
    dest.flush()
}

static STDOUT: OnceLock<Sink> = OnceLock::new();

/// The process's standard output sink, started on first use.
pub fn stdout() -> &'static Sink {
    STDOUT.get_or_init(|| {
        // A duplicate of descriptor 1 is written directly, without std's line buffer in
        // between; std's handle is the fallback when there is none to duplicate.
        match io::stdout().as_fd().try_clone_to_owned() {
            Ok(fd) => Sink::new(File::from(fd), PENDING_LIMIT),
            Err(_) => Sink::new(io::stdout(), PENDING_LIMIT),
        }
    })
}

/// Waits until everything written to [`stdout`] so far is out; nothing to do if it never started.
pub fn flush_stdout() -> io::Result<()> {
    STDOUT.get().map_or(Ok(()), Sink::flush)
}

/// Log lines dropped from stdout because its reader was too far behind (for metrics).
pub fn dropped_lines() -> u64 {
    STDOUT.get().map_or(0, Sink::dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    /// A destination that writes only when the test allows it, and records what it wrote.
    struct Gate {
        open: mpsc::Receiver<()>,
        seen: Arc<Mutex<Vec<u8>>>,
    }

    impl Write for Gate {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.open
                .recv()
                .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn gated(limit: usize) -> (Sink, mpsc::Sender<()>, Arc<Mutex<Vec<u8>>>) {
        let (open, gate) = mpsc::channel();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let dest = Gate {
            open: gate,
            seen: seen.clone(),
        };
        (Sink::new(dest, limit), open, seen)
    }

    fn text(seen: &Arc<Mutex<Vec<u8>>>) -> String {
        String::from_utf8_lossy(&seen.lock().unwrap_or_else(PoisonError::into_inner)).into_owned()
    }

    #[test]
    fn flush_waits_until_written_in_order() {
        let (sink, open, seen) = gated(1 << 20);
        for i in 0..100 {
            sink.write(format!("line {i}\n").as_bytes()).ok();
        }
        let writes = std::thread::spawn(move || {
            for _ in 0..200 {
                if open.send(()).is_err() {
                    break;
                }
            }
        });
        sink.flush().ok();
        let expected: String = (0..100).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text(&seen), expected);
        drop(sink);
        writes.join().ok();
    }

    #[test]
    fn log_lines_are_dropped_and_counted_when_the_reader_stalls() {
        let (sink, open, seen) = gated(64);
        // The writer takes the first line and blocks in its write: 40 bytes are in flight.
        assert!(matches!(sink.write_or_drop(&[b'a'; 40]), Ok(true)));
        // Nothing else is pending, yet the in-flight bytes count against the limit.
        assert!(matches!(sink.write_or_drop(&[b'b'; 20]), Ok(true)));
        assert!(matches!(sink.write_or_drop(&[b'c'; 20]), Ok(false)));
        assert_eq!(sink.dropped(), 1);
        open.send(()).ok();
        open.send(()).ok();
        sink.flush().ok();
        assert_eq!(text(&seen), format!("{}{}", "a".repeat(40), "b".repeat(20)));
    }

    #[test]
    fn print_waits_for_room_instead_of_dropping() {
        let (sink, open, seen) = gated(64);
        sink.write(&[b'a'; 60]).ok();
        let opener = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            for _ in 0..10 {
                if open.send(()).is_err() {
                    break;
                }
            }
        });
        // Over the limit: returns only once the writer has made room.
        sink.write(&[b'b'; 60]).ok();
        sink.flush().ok();
        assert_eq!(sink.dropped(), 0);
        assert_eq!(text(&seen).len(), 120);
        drop(sink);
        opener.join().ok();
    }

    #[test]
    fn a_failed_output_is_reported_to_later_writes_and_flushes() {
        let (sink, open, _seen) = gated(1 << 20);
        drop(open);
        sink.write(b"lost\n").ok();
        assert_eq!(
            sink.flush().map_err(|e| e.kind()).err(),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert!(sink.write(b"more\n").is_err());
        assert!(sink.write_or_drop(b"log\n").is_err());
    }
}
