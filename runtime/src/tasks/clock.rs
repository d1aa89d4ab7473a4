//! The clock tests control: `time.pause()` freezes the task runtime's clock, `time.advance(d)`
//! moves it, `time.resume()` lets it run again (tokio's paused time underneath).
//!
//! While it is paused, every timer (sleeps, timeouts, request deadlines, a breaker's recovery,
//! a retry's backoff) and the monotonic and wall clocks the library reads stand still, except
//! that when every task is waiting on a timer the clock jumps to the earliest one, so a test of
//! a 30-second breaker or a retry with backoff takes no real time and still sees each wait in
//! order. `cn test` resumes a clock a test left paused.

use std::cell::Cell;
use std::time::{Duration, SystemTime};

use crate::fault::Fault;

thread_local! {
    /// While paused: the wall-clock time and the runtime's instant when the pause began.
    static PAUSED: Cell<Option<(SystemTime, tokio::time::Instant)>> = const { Cell::new(None) };
}

/// Whether the clock is paused.
pub fn is_paused() -> bool {
    PAUSED.with(Cell::get).is_some()
}

/// Freezes the clock; faults if it is already frozen.
pub fn pause() -> Result<(), Fault> {
    if is_paused() {
        return Err(Fault::new("time.pause(): the clock is already paused"));
    }
    let at = (SystemTime::now(), tokio::time::Instant::now());
    tokio::time::pause();
    PAUSED.with(|p| p.set(Some(at)));
    Ok(())
}

/// Lets the clock run again; faults if it is not paused.
pub fn resume() -> Result<(), Fault> {
    if !resume_if_paused() {
        return Err(Fault::new("time.resume(): the clock is not paused"));
    }
    Ok(())
}

/// Lets the clock run again if it is paused; returns whether it was.
pub fn resume_if_paused() -> bool {
    if PAUSED.with(|p| p.take()).is_none() {
        return false;
    }
    tokio::time::resume();
    true
}

/// Moves a paused clock forward by `by`, firing the timers that come due on the way.
pub async fn advance(by: Duration) {
    tokio::time::advance(by).await;
}

/// The wall-clock time: the real one, or while paused the time the pause began plus how far
/// the clock has moved since.
pub fn wall_now() -> SystemTime {
    match PAUSED.with(Cell::get) {
        Some((wall, at)) => wall + tokio::time::Instant::now().saturating_duration_since(at),
        None => SystemTime::now(),
    }
}
