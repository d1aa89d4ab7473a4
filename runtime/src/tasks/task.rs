//! A script task: the shared state of one fiber running on the driver, and the `Task` handle
//! scripts get from `spawn`.
//!
//! The fiber itself (frames and stack) belongs to its driver future; everything other tasks may
//! look at or poke — the outcome, cancellation, the context values, the `concurrent:` scopes it
//! has open — lives here behind an `Rc`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use tokio::sync::Notify;

use crate::fault::{Fault, FaultKind};
use crate::native::{Member, Members, Table};
use crate::object::{NativeObject, NativeType};
use crate::tasks::context::ContextValues;
use crate::tasks::scope::Scope;
use crate::value::Value;

/// How a task ended, or that it has not.
pub enum Outcome {
    /// Still running (or not started).
    Running,
    /// Returned a value.
    Returned(Value),
    /// Faulted (including cancellation and `exit`); boxed, since an idle task should not carry
    /// room for a fault inline.
    Faulted(Box<Fault>),
}

/// One script task.
pub struct Task {
    /// Small sequential number, shown in `repr` and fault notes.
    pub id: u64,
    outcome: RefCell<Outcome>,
    finished: Notify,
    /// A fault to raise at the task's next await point (cancellation, or a sibling's fault
    /// raised by a `concurrent:` block).
    interrupt: RefCell<Option<Box<Fault>>>,
    interrupted: Notify,
    cancel_requested: Cell<bool>,
    /// Whether someone took the fault (a `join`, a `concurrent:` block): unclaimed faults are
    /// reported when the task is dropped.
    claimed: Cell<bool>,
    /// `context.get` / `context.set` values; a spawned task starts with a copy of its parent's.
    pub context: RefCell<ContextValues>,
    /// Open `concurrent:` scopes, innermost last; `spawn` joins the innermost.
    pub scopes: RefCell<Vec<Rc<Scope>>>,
    /// The scope this task was spawned into, if any.
    pub(crate) parent_scope: RefCell<Option<Rc<Scope>>>,
    /// Callback tasks cancelled because this task stopped waiting for them; its driver waits
    /// for them before the task goes on.
    pub(crate) abandoned: RefCell<Vec<Rc<Task>>>,
}

impl Task {
    /// A new task with the given context values.
    pub fn new(id: u64, context: ContextValues) -> Rc<Task> {
        Rc::new(Task {
            id,
            outcome: RefCell::new(Outcome::Running),
            finished: Notify::new(),
            interrupt: RefCell::new(None),
            interrupted: Notify::new(),
            cancel_requested: Cell::new(false),
            claimed: Cell::new(false),
            context: RefCell::new(context),
            scopes: RefCell::new(Vec::new()),
            parent_scope: RefCell::new(None),
            abandoned: RefCell::new(Vec::new()),
        })
    }

    /// Whether the task has ended.
    pub fn is_done(&self) -> bool {
        !matches!(*self.outcome.borrow(), Outcome::Running)
    }

    /// Records how the task ended and wakes everyone waiting for it.
    pub(crate) fn finish(&self, result: Result<Value, Fault>) {
        *self.outcome.borrow_mut() = match result {
            Ok(value) => Outcome::Returned(value),
            Err(fault) => Outcome::Faulted(Box::new(fault)),
        };
        self.finished.notify_waiters();
    }

    /// Waits until the task has ended.
    pub async fn wait(&self) {
        while !self.is_done() {
            self.finished.notified().await;
        }
    }

    /// The task's result once it has ended, claiming its fault.
    pub fn result(&self) -> Option<Result<Value, Fault>> {
        match &*self.outcome.borrow() {
            Outcome::Running => None,
            Outcome::Returned(value) => Some(Ok(value.clone())),
            Outcome::Faulted(fault) => {
                self.claimed.set(true);
                Some(Err((**fault).clone()))
            }
        }
    }

    /// The fault the task ended with, if any, without claiming it.
    pub(crate) fn fault(&self) -> Option<Fault> {
        match &*self.outcome.borrow() {
            Outcome::Faulted(fault) => Some((**fault).clone()),
            _ => None,
        }
    }

    /// The fault the task ended with, if nobody has taken it.
    pub(crate) fn unclaimed_fault(&self) -> Option<Fault> {
        if self.claimed.get() {
            return None;
        }
        self.fault()
    }

    /// Marks the task's fault as handled by someone else (its `concurrent:` block).
    pub(crate) fn claim(&self) {
        self.claimed.set(true);
    }

    /// Asks the task to stop: it faults with "cancelled" at its next await point, running its
    /// `defer`s. Cancelling a finished task does nothing; cancelling twice is cancelling once.
    pub fn cancel(&self) {
        if self.is_done() || self.cancel_requested.replace(true) {
            return;
        }
        self.interrupt_with(Fault::cancelled());
    }

    /// Whether `cancel` was called.
    pub fn cancel_requested(&self) -> bool {
        self.cancel_requested.get()
    }

    /// Raises `fault` in the task at its next await point (unless one is already pending).
    pub(crate) fn interrupt_with(&self, fault: Fault) {
        let mut slot = self.interrupt.borrow_mut();
        if slot.is_none() {
            *slot = Some(Box::new(fault));
            self.interrupted.notify_one();
        }
    }

    /// The pending interrupt, if any (checked when the task resumes after yielding).
    pub(crate) fn take_interrupt(&self) -> Option<Fault> {
        self.interrupt.borrow_mut().take().map(|fault| *fault)
    }

    /// Drops the pending interrupt if `matches` says it is one already dealt with.
    pub(crate) fn take_interrupt_if(&self, matches: impl Fn(&Fault) -> bool) {
        let mut slot = self.interrupt.borrow_mut();
        if slot.as_deref().is_some_and(matches) {
            *slot = None;
        }
    }

    /// Resolves when an interrupt arrives, taking it.
    pub(crate) async fn interrupted(&self) -> Fault {
        loop {
            if let Some(fault) = self.take_interrupt() {
                return fault;
            }
            self.interrupted.notified().await;
        }
    }
}

impl Drop for Task {
    /// A fault nobody joined must not vanish: it is reported when the last handle goes.
    fn drop(&mut self) {
        if self.claimed.get() {
            return;
        }
        if let Outcome::Faulted(fault) = &*self.outcome.borrow() {
            if fault.kind == FaultKind::Error {
                // What the program printed before comes first, as with any fault report.
                let _ = crate::output::flush_stdout();
                eprint!("{}", fault.report());
                eprintln!("note: task {} faulted and was never joined", self.id);
            }
        }
    }
}

/// The `Task` value scripts hold: `join()`, `cancel()`, `done()`, `id`.
pub struct TaskHandle(pub Rc<Task>);

impl TaskHandle {
    /// A handle value for `task`.
    pub fn value(task: Rc<Task>) -> Value {
        NativeObject::value(TaskHandle(task))
    }
}

/// Waits for `task` and gives its result; a fault is raised in the joiner with a note naming the
/// task.
pub(crate) async fn join(task: Rc<Task>) -> Result<Value, Fault> {
    task.wait().await;
    match task.result() {
        Some(Ok(value)) => Ok(value),
        Some(Err(mut fault)) => {
            if fault.kind == FaultKind::Cancelled {
                return Err(Fault::new(format!("task {} was cancelled", task.id)));
            }
            fault.notes.push(format!("raised in task {}", task.id));
            Err(fault)
        }
        None => Err(Fault::new("internal error: task ended without an outcome")),
    }
}

/// A member of `Task`.
type M = Member<TaskHandle>;

/// What `spawn` returns.
static TASK: Table<TaskHandle> = Table::new(
    "Task",
    "A running task, as `spawn f(x)` returns it; its result is read with `join()`.",
    &[
        M::attribute("id", |t, _| Ok(Value::Int(t.0.id as i64)))
            .doc("id\nThe task's number, unique in this process."),
        M::method(
            "join",
            |t, vm, _| Ok(vm.suspend_on_tasks(join(t.0.clone()))),
        )
        .doc("join()\nWaits for the task and returns its result; its fault, if it faulted."),
        M::method("cancel", |t, _, _| {
            t.0.cancel();
            Ok(Value::Nil)
        })
        .doc("cancel()\nCancels the task at its next wait."),
        M::method("done", |t, _, _| Ok(Value::Bool(t.0.is_done())))
            .doc("done()\nWhether the task has finished."),
    ],
);

impl NativeType for TaskHandle {
    fn type_name(&self) -> &str {
        "Task"
    }

    fn members(&self) -> &'static dyn Members {
        &TASK
    }

    fn display(&self) -> String {
        let state = match &*self.0.outcome.borrow() {
            Outcome::Running => "running",
            Outcome::Returned(_) => "done",
            Outcome::Faulted(f) if f.kind == FaultKind::Cancelled => "cancelled",
            Outcome::Faulted(_) => "faulted",
        };
        format!("<Task {} {state}>", self.0.id)
    }
}
