//! `concurrent:` scopes: structured concurrency.
//!
//! Entering the block opens a [`Scope`] on the current task; every task that task spawns while
//! the block runs (directly or from functions it calls) becomes a member. Leaving the block —
//! at its end, or through `return`/`break` — waits for every member. The first member to fault
//! cancels the others and interrupts the block's owner at its next await point; the block then
//! raises that fault. Leaving the block by a fault of its own cancels the members and still waits
//! for them, so no task outlives the block that started it.
//!
//! The leave step is a cleanup registered at block entry, so all ways out pass through it; it
//! runs as a call of a native function inside the runtime's cleanup trampoline, which is what lets
//! it await.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::args::Args;
use crate::fault::{Fault, FaultKind};
use crate::fiber::{Cleanup, CleanupAction, Fiber};
use crate::object::NativeFunction;
use crate::tasks::task::Task;
use crate::value::Value;
use crate::vm::Vm;

/// One open `concurrent:` block.
pub struct Scope {
    members: RefCell<Vec<Rc<Task>>>,
    failure: RefCell<Option<Fault>>,
    owner: Weak<Task>,
    /// True while the owner waits for the members at the block's end: a member's fault is then
    /// handled by that wait, not by interrupting the owner.
    closing: Cell<bool>,
}

impl Scope {
    /// Adds a newly spawned task.
    pub(crate) fn add(&self, task: Rc<Task>) {
        let mut members = self.members.borrow_mut();
        // Keep the list from growing without bound in long-lived blocks.
        if members.len() >= 64 && members.len().is_power_of_two() {
            members.retain(|t| !t.is_done());
        }
        members.push(task);
    }

    /// Called by the driver when member `task` has ended.
    pub(crate) fn member_finished(&self, task: &Task) {
        if let Some(fault) = task.fault() {
            task.claim();
            if fault.kind != FaultKind::Cancelled && self.failure.borrow().is_none() {
                let mut fault = fault;
                fault.notes.push(format!(
                    "raised in task {}, inside a concurrent: block",
                    task.id
                ));
                *self.failure.borrow_mut() = Some(fault.clone());
                self.cancel_members();
                if !self.closing.get() {
                    if let Some(owner) = self.owner.upgrade() {
                        owner.interrupt_with(fault);
                    }
                }
            }
        }
    }

    fn cancel_members(&self) {
        let members: Vec<Rc<Task>> = self.members.borrow().clone();
        members.iter().for_each(|t| t.cancel());
    }

    async fn wait_members(&self) {
        loop {
            let running = self.members.borrow().iter().find(|t| !t.is_done()).cloned();
            match running {
                Some(task) => task.wait().await,
                None => return,
            }
        }
    }
}

impl Vm {
    /// `EnterConcurrent`: opens a scope on the current task and registers its leave step.
    pub(crate) fn enter_concurrent(&mut self, fiber: &mut Fiber) -> Result<(), Fault> {
        let Some(owner) = self.current_task().cloned() else {
            return Err(Fault::new("`concurrent:` needs a running task"));
        };
        let scope = Rc::new(Scope {
            members: RefCell::new(Vec::new()),
            failure: RefCell::new(None),
            owner: Rc::downgrade(&owner),
            closing: Cell::new(false),
        });
        owner.scopes.borrow_mut().push(scope.clone());
        let leave =
            NativeFunction::closure("concurrent", move |vm, args| leave_scope(vm, &scope, args));
        fiber.cleanups.push(Cleanup {
            depth: fiber.frames.len(),
            action: CleanupAction::Concurrent(leave),
        });
        Ok(())
    }
}

/// The leave step; its one argument is the fault message when the block is left by a fault.
fn leave_scope(vm: &mut Vm, scope: &Rc<Scope>, args: Args<'_>) -> Result<Value, Fault> {
    if let Some(owner) = vm.current_task() {
        owner.scopes.borrow_mut().retain(|s| !Rc::ptr_eq(s, scope));
    }
    let by_fault = !matches!(args.get(0), None | Some(Value::Nil));
    if by_fault {
        scope.cancel_members();
    }
    scope.closing.set(true);
    // A member's fault that interrupted the owner while it was not waiting is raised once, here.
    if let (Some(owner), Some(failure)) = (vm.current_task(), &*scope.failure.borrow()) {
        owner.take_interrupt_if(|f| f.kind == FaultKind::Error && f.message == failure.message);
    }
    let scope = scope.clone();
    let guard = AbandonGuard {
        scope: scope.clone(),
        owner: vm.current_task().map(Rc::downgrade).unwrap_or_default(),
        finished: false,
    };
    Ok(vm.suspend_on_tasks(async move {
        let mut guard = guard;
        scope.wait_members().await;
        guard.finished = true;
        // Members' faults belong to the block; drop the member list so finished tasks go.
        scope.members.borrow_mut().clear();
        match scope.failure.borrow_mut().take() {
            Some(fault) if !by_fault => Err(fault),
            _ => Ok(Value::Nil),
        }
    }))
}

/// Cancels the members if the owner stops waiting for them (it was cancelled while leaving the
/// block); its driver then waits for them before the owner unwinds further.
struct AbandonGuard {
    scope: Rc<Scope>,
    owner: Weak<Task>,
    finished: bool,
}

impl Drop for AbandonGuard {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        self.scope.cancel_members();
        if let Some(owner) = self.owner.upgrade() {
            let members = self.scope.members.borrow();
            let running = members.iter().filter(|t| !t.is_done()).cloned();
            owner.abandoned.borrow_mut().extend(running);
        }
    }
}
