//! Deadlock reports: when every task is waiting for something only another waiting task could
//! provide (a channel value, room in a channel, a task's end) and nothing else can wake any of
//! them, the program ends with an error naming the waiting tasks and where they wait, as Go
//! ends with `all goroutines are asleep - deadlock!`, instead of hanging forever. Tasks that
//! faulted without anyone joining them are reported with it: a dead worker is usually why.
//!
//! The driver marks a task *blocked* while it waits on another task (`Vm::suspend_on_tasks`,
//! and `for` loops over channels); waits on anything from outside (a timer, a socket, a signal,
//! a subprocess, the blocking pool) do not count. When the blocked tasks are all the running
//! tasks, a check is scheduled behind every ready task and the I/O driver; if by then nothing
//! has changed (the `generation` counts every wait's start and end and every task's start and
//! end), no wake-up can come from inside the program, and none from outside either, since no
//! task waits on the outside.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::rc::{Rc, Weak};

use crate::fault::FaultKind;
use crate::fiber::Fiber;
use crate::object::Closure;
use crate::tasks::{Task, VmRef};

/// Where a blocked task waits: its function and the instruction after the wait.
struct Place {
    closure: Rc<Closure>,
    ip: usize,
}

#[derive(Default)]
struct Waits {
    blocked: RefCell<BTreeMap<u64, Place>>,
    generation: Cell<u64>,
    check_pending: Cell<bool>,
    /// Tasks that ended with a fault nobody has taken yet.
    faulted: RefCell<Vec<Weak<Task>>>,
}

thread_local! {
    static WAITS: Waits = Waits::default();
}

/// Something changed that could wake a task: a task started or ended.
pub(crate) fn touch() {
    let _ = WAITS.try_with(|w| w.generation.set(w.generation.get() + 1));
}

/// A task ended (after it left `running`): if every task left is blocked, the one that ended
/// may have been the last that could wake them.
pub(crate) fn task_ended(vm: &VmRef) {
    touch();
    let all_blocked = WAITS
        .try_with(|w| {
            let blocked = w.blocked.borrow().len();
            blocked > 0 && blocked >= vm.borrow().running.len()
        })
        .unwrap_or(false);
    if all_blocked {
        schedule_check(vm);
    }
}

/// Remembers a task that faulted, for a deadlock report.
pub(crate) fn faulted(task: &Rc<Task>) {
    let _ = WAITS.try_with(|w| {
        let mut faulted = w.faulted.borrow_mut();
        faulted.retain(|t| t.strong_count() > 0);
        faulted.push(Rc::downgrade(task));
    });
}

/// A task blocked on other tasks, for as long as this lives.
pub(crate) struct Blocked(u64);

impl Blocked {
    /// `task` waits on another task at the top frame of `fiber`.
    pub(crate) fn new(vm: &VmRef, task: &Task, fiber: &Fiber) -> Option<Blocked> {
        // The script's frame, not the runtime's cleanup trampoline (a `concurrent:` block's end).
        let frame = fiber
            .frames
            .iter()
            .rev()
            .find(|f| &*f.closure.code.file.path != crate::vm::RUNTIME_FILE)?;
        let place = Place {
            closure: frame.closure.clone(),
            ip: frame.ip,
        };
        let all_blocked = WAITS
            .try_with(|w| {
                w.blocked.borrow_mut().insert(task.id, place);
                w.generation.set(w.generation.get() + 1);
                w.blocked.borrow().len() >= vm.borrow().running.len()
            })
            .unwrap_or(false);
        if all_blocked {
            schedule_check(vm);
        }
        Some(Blocked(task.id))
    }
}

impl Drop for Blocked {
    fn drop(&mut self) {
        let _ = WAITS.try_with(|w| {
            w.blocked.borrow_mut().remove(&self.0);
            w.generation.set(w.generation.get() + 1);
        });
    }
}

fn schedule_check(vm: &VmRef) {
    let pending = WAITS
        .try_with(|w| w.check_pending.replace(true))
        .unwrap_or(true);
    if pending {
        return;
    }
    let vm = vm.clone();
    let generation = WAITS.with(|w| w.generation.get());
    tokio::task::spawn_local(async move {
        // Behind every ready task, then behind the I/O driver and timers that are due.
        for _ in 0..3 {
            crate::tasks::yield_to_others().await;
        }
        tokio::task::yield_now().await;
        crate::tasks::yield_to_others().await;
        let report = WAITS.with(|w| {
            w.check_pending.set(false);
            let unchanged = w.generation.get() == generation;
            let everyone = w.blocked.borrow().len() >= vm.borrow().running.len();
            (unchanged && everyone && !vm.borrow().lifecycle.stopping()).then(|| report(&vm, w))
        });
        if let Some(report) = report {
            let _ = crate::output::flush_stdout();
            eprint!("{report}");
            vm.borrow().lifecycle.request_exit(1);
        }
    });
}

/// The report: the waiting tasks and where they wait, then the faults nobody took.
fn report(vm: &VmRef, waits: &Waits) -> String {
    let main = vm.borrow().lifecycle.main.borrow().as_ref().map(|t| t.id);
    let mut out = String::from(
        "fault: deadlock: every task is waiting for another task, and nothing else can wake them\n",
    );
    for (id, place) in waits.blocked.borrow().iter() {
        let code = &place.closure.code;
        let span = code
            .proto
            .spans
            .get(place.ip.saturating_sub(1))
            .copied()
            .unwrap_or(code.proto.span);
        let (line, col) = code.file.line_col(span);
        let who = if Some(*id) == main {
            format!("task {id} (main)")
        } else {
            format!("task {id}")
        };
        let _ = writeln!(
            out,
            "  {who} waits in {} at {}:{line}:{col}",
            code.proto.name, code.file.path
        );
    }
    for task in waits.faulted.borrow_mut().drain(..) {
        let Some(task) = task.upgrade() else { continue };
        if let Some(fault) = task.unclaimed_fault() {
            if fault.kind == FaultKind::Error {
                task.claim();
                let _ = write!(out, "{}", fault.report());
                let _ = writeln!(
                    out,
                    "note: task {} faulted before the deadlock; nothing joined it",
                    task.id
                );
            }
        }
    }
    out
}
