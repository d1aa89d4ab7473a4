//! Iterators a library provides whose next item may have to be waited for: a Kubernetes watch,
//! a channel, lines of a log that is still being written.
//!
//! `for x in stream:` steps one with [`NativeStream::next`]. An item that is ready is used at
//! once; when none is, the stream hands back a future that makes one ready, the task waits for
//! it like any native that suspends, and the loop instruction runs again. That keeps the loop
//! instructions synchronous: they never hold a borrow across a wait, and a stream never has to
//! hand its item through the driver.

use std::future::Future;
use std::pin::Pin;

use crate::fault::Fault;
use crate::value::Value;

/// What makes a stream's next step ready (it buffers the item inside the stream).
pub type StreamWait = Pin<Box<dyn Future<Output = Result<(), Fault>>>>;

/// One step of a stream.
pub enum StreamStep {
    /// The next item.
    Item(Value),
    /// The stream has ended.
    Done,
    /// Nothing is ready yet: await this, then ask again.
    Wait(StreamWait),
}

/// A library's iterator (wrapped in `Iter::Native`; scripts see an `<iterator>`).
pub trait NativeStream {
    /// The next step. A stream that returns `Wait` must return `Item` or `Done` once the wait
    /// has finished (or `Wait` again, if what arrived was not an item, e.g. a bookmark).
    fn next(&mut self) -> Result<StreamStep, Fault>;

    /// Whether its waits are for other tasks only (a channel), for deadlock reports.
    fn waits_on_tasks(&self) -> bool {
        false
    }
}
