//! The process lifecycle, one owner for the whole process (DESIGN.md, "Lifecycle").
//!
//! A run ends in one of three ways — `main` returns (or faults), `exit(code)` is called from any
//! task, or SIGTERM/SIGINT arrives — and all three take the same orderly path: the main task
//! ends (cancelled, if it is still running and not itself waiting for the stop in
//! `signal.wait()`, `server.run()` or `application.run()`), every task still
//! running is cancelled and waited for (their `defer`s run), the shutdown hooks run in reverse
//! order of registration, output is flushed, the Rust-side finalizers run (library flushes such
//! as the span exporter's, together bounded by [`FINALIZER_TIMEOUT`]), and the process exits. A
//! second signal during that path exits at once with 128 + the signal number (130 for SIGINT,
//! 143 for SIGTERM).

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::tasks::task::Task;
use crate::value::Value;

/// A library's last step at exit: makes the future that flushes what it still holds (spans
/// waiting for export, buffered log lines). Script code no longer runs when it is called.
pub type Finalizer = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>>>;

/// How long all finalizers together may take: an unreachable collector must not hang exit.
pub const FINALIZER_TIMEOUT: Duration = Duration::from_secs(5);

/// Lifecycle state shared by the runtime and the `signal` module.
#[derive(Default)]
pub struct Lifecycle {
    /// `on_shutdown` hooks in registration order (they run in reverse).
    pub hooks: RefCell<Vec<Value>>,
    /// Rust-side finalizers in registration order (they run in reverse, after the hooks).
    finalizers: RefCell<Vec<Finalizer>>,
    /// The signal that started shutdown (`"SIGTERM"`), if one did.
    signal: Cell<Option<&'static str>>,
    /// Set by `exit(code)` in a task other than main.
    exit_code: Cell<Option<i32>>,
    stopping: Cell<bool>,
    stop_requested: Notify,
    /// The main task, cancelled when shutdown starts and nobody waits for the signal.
    pub(crate) main: RefCell<Option<Rc<Task>>>,
    /// Tasks waiting in `signal.wait()` (and servers, which wait the same way).
    waiters: Cell<usize>,
    waiter_left: Notify,
    /// The main task itself waits for the stop (in `application.run()`, `server.run()`,
    /// `signal.wait()`): `exit(code)` elsewhere then lets it finish the orderly path instead of
    /// cancelling it.
    main_waits: Cell<usize>,
}

/// Marks the main task as waiting for the stop while it lives (see [`Lifecycle::main_waits`]).
pub struct MainWaiting(Rc<Lifecycle>);

impl Drop for MainWaiting {
    fn drop(&mut self) {
        self.0
            .main_waits
            .set(self.0.main_waits.get().saturating_sub(1));
    }
}

/// Counts a task as waiting in `signal.wait()` while it lives.
pub struct Waiter(Rc<Lifecycle>);

impl Drop for Waiter {
    fn drop(&mut self) {
        self.0.waiters.set(self.0.waiters.get().saturating_sub(1));
        self.0.waiter_left.notify_waiters();
    }
}

impl Lifecycle {
    /// Whether shutdown has started.
    pub fn stopping(&self) -> bool {
        self.stopping.get()
    }

    /// The signal that started shutdown, if any.
    pub fn signal(&self) -> Option<&'static str> {
        self.signal.get()
    }

    /// The exit status `exit(code)` in a task asked for.
    pub fn exit_code(&self) -> Option<i32> {
        self.exit_code.get()
    }

    /// Marks the caller as handling shutdown itself (see [`Lifecycle::signal_received`]).
    pub fn register_waiter(self: &Rc<Self>) -> Waiter {
        self.waiters.set(self.waiters.get() + 1);
        Waiter(self.clone())
    }

    /// Called by a native that waits for the stop on behalf of `caller`: when that is the main
    /// task, `exit(code)` from another task no longer cancels it while the guard lives, so the
    /// native can drain and run its hooks.
    pub fn main_waits(self: &Rc<Self>, caller: Option<&Rc<Task>>) -> Option<MainWaiting> {
        let main = self.main.borrow();
        let is_main = matches!((main.as_ref(), caller), (Some(m), Some(c)) if Rc::ptr_eq(m, c));
        is_main.then(|| {
            self.main_waits.set(self.main_waits.get() + 1);
            MainWaiting(self.clone())
        })
    }

    /// Sets the exit status the process ends with (unless one is set already), without
    /// starting shutdown: a server whose drain timed out reports it this way.
    pub fn set_exit_status(&self, code: i32) {
        if self.exit_code.get().is_none() {
            self.exit_code.set(Some(code));
        }
    }

    /// Starts shutdown ending with status `code` (unless one is set already): what a task that
    /// handles shutdown itself does on a failure it cannot serve through (an application whose
    /// ready hook failed). Its servers drain as after SIGTERM; the main task is not cancelled
    /// while someone waits for the stop.
    pub fn stop_with_status(&self, code: i32) {
        self.set_exit_status(code);
        self.begin_stop();
    }

    /// Registers `finalizer` to run at the end of every run that goes through the orderly path
    /// (`main` returning or faulting, `exit(code)`, a signal), after the shutdown hooks.
    pub fn add_finalizer(&self, finalizer: Finalizer) {
        self.finalizers.borrow_mut().push(finalizer);
    }

    /// Runs the finalizers, last registered first (one registered meanwhile runs too), until
    /// they are done or [`FINALIZER_TIMEOUT`] has passed; the ones left then are abandoned with a
    /// note on stderr, since exiting late is worse than losing a last batch of telemetry.
    pub(crate) async fn run_finalizers(&self) {
        let deadline = tokio::time::Instant::now() + FINALIZER_TIMEOUT;
        loop {
            let next = self.finalizers.borrow_mut().pop();
            let Some(finalizer) = next else {
                return;
            };
            if tokio::time::timeout_at(deadline, finalizer())
                .await
                .is_err()
            {
                let left = self.finalizers.borrow_mut().drain(..).count();
                eprintln!(
                    "cn: exit flushing did not finish within {}s; {} step{} abandoned",
                    FINALIZER_TIMEOUT.as_secs(),
                    left + 1,
                    if left == 0 { "" } else { "s" }
                );
                return;
            }
        }
    }

    /// Waits until shutdown starts; returns the signal name (or `"exit"`).
    pub async fn wait_for_stop(&self) -> &'static str {
        while !self.stopping.get() {
            self.stop_requested.notified().await;
        }
        self.signal.get().unwrap_or("exit")
    }

    /// A signal arrived: start shutdown. Tasks in `signal.wait()` wake and handle it; when there
    /// are none, the main task is cancelled.
    pub fn signal_received(&self, name: &'static str) {
        self.signal.set(Some(name));
        self.begin_stop();
    }

    /// An interactive entry has ended: an interrupt it got stops nothing that comes after.
    pub(crate) fn reset_after_entry(&self) {
        self.stopping.set(false);
        self.signal.set(None);
        *self.main.borrow_mut() = None;
    }

    /// `exit(code)` in a task: end the process through the orderly path with `code`.
    pub fn request_exit(&self, code: i32) {
        if self.exit_code.get().is_none() {
            self.exit_code.set(Some(code));
        }
        if self.main_waits.get() == 0 {
            if let Some(main) = self.main.borrow().as_ref() {
                main.cancel();
            }
        }
        self.begin_stop();
    }

    /// `main` has ended: tasks still waiting for shutdown (servers) are told to stop, and this
    /// resolves once they have finished handling it.
    pub(crate) async fn stop_waiters(&self) {
        if self.waiters.get() == 0 {
            return;
        }
        if !self.stopping.replace(true) {
            self.stop_requested.notify_waiters();
        }
        while self.waiters.get() > 0 {
            self.waiter_left.notified().await;
        }
    }

    fn begin_stop(&self) {
        let waiting = self.waiters.get() > 0;
        if !self.stopping.replace(true) {
            self.stop_requested.notify_waiters();
        }
        if !waiting {
            if let Some(main) = self.main.borrow().as_ref() {
                main.cancel();
            }
        }
    }
}
