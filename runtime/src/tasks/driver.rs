//! The driver: runs one task's fiber on the interpreter, awaiting on tokio whenever the fiber
//! waits.
//!
//! The dispatch loop never blocks. A native that has to wait (`time.sleep`, `task.join()`, an
//! http call) hands a future to [`Vm::suspend`]; the loop stops with `Stop::Await`, the driver
//! releases the VM, awaits the future on the `LocalSet` — other tasks run meanwhile — and resumes
//! the fiber with the result pushed where the call's result goes, or with the fault raised there.
//! A fiber that runs too long without waiting stops with `Stop::Yield` and is rescheduled behind
//! the other ready tasks and the timers. Cancellation and a sibling's fault reach a task as an
//! interrupt raised at its next await or yield.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};

use crate::fault::{Fault, FaultKind};
use crate::fiber::Fiber;
use crate::run::Step;
use crate::tasks::context::ContextValues;
use crate::tasks::task::{Task, TaskHandle};
use crate::value::Value;
use crate::vm::Vm;

/// What a suspending native waits for.
pub type NativeFuture = Pin<Box<dyn Future<Output = Result<Value, Fault>>>>;

/// The VM as tasks share it: borrowed only while a fiber runs, never across an await.
pub type VmRef = Rc<RefCell<Vm>>;

/// How a fiber goes on.
pub(crate) enum Resume {
    /// Call the callee at the bottom of its stack with this many arguments.
    Begin(usize),
    /// Continue where it stopped (after a yield).
    Continue,
    /// The awaited call returned this.
    Value(Value),
    /// Raise this at the point where the fiber stopped (boxed: a resume value lives in every
    /// waiting task's driver state).
    Fault(Box<Fault>),
}

impl Vm {
    /// Makes the native being called wait for `future`: returns a placeholder the native returns
    /// as its result; the real result is what the future yields. Only natives called from script
    /// code running on a task may suspend.
    pub fn suspend(
        &mut self,
        future: impl Future<Output = Result<Value, Fault>> + 'static,
    ) -> Value {
        self.suspended = Some(Box::pin(future));
        self.waits_on_tasks = false;
        Value::Nil
    }

    /// [`Vm::suspend`] for a future that only another task can complete (a channel, a join):
    /// while it waits the task counts as blocked for deadlock reports (`tasks::deadlock`).
    pub fn suspend_on_tasks(
        &mut self,
        future: impl Future<Output = Result<Value, Fault>> + 'static,
    ) -> Value {
        self.suspended = Some(Box::pin(future));
        self.waits_on_tasks = true;
        Value::Nil
    }

    /// `spawn callee(args)`: the callee and `argc` arguments are on top of `fiber`'s stack.
    /// Starts them as a task (in the innermost open `concurrent:` block, with a copy of the
    /// context) and returns its handle.
    pub(crate) fn spawn_task(&mut self, fiber: &mut Fiber, argc: usize) -> Result<Value, Fault> {
        let start = fiber.stack.len() - argc - 1;
        let mut child = Fiber::for_task();
        child.stack.extend(fiber.stack.drain(start..));
        let parent = self.current_task().cloned();
        let context = parent
            .as_ref()
            .map(|p| p.context.borrow().clone())
            .unwrap_or_default();
        let task = Task::new(self.next_task_id(), context);
        let scope = parent.and_then(|p| p.scopes.borrow().last().cloned());
        if let Some(scope) = scope {
            scope.add(task.clone());
            *task.parent_scope.borrow_mut() = Some(scope);
        }
        self.start_task(task.clone(), child, argc);
        Ok(TaskHandle::value(task))
    }

    /// Starts `task` running `fiber` (callee and `argc` arguments on its stack) on the driver.
    pub(crate) fn start_task(&mut self, task: Rc<Task>, fiber: Fiber, argc: usize) {
        let vm = self.handle();
        self.running.insert(task.id, task.clone());
        super::deadlock::touch();
        tokio::task::spawn_local(async move {
            // Boxed so the driver's state holds a pointer, not the fiber itself twice.
            let result = drive(&vm, &task, Box::new(fiber), Resume::Begin(argc)).await;
            finish_task(&vm, &task, result);
        });
    }

    /// Starts `callee(args)` as a task with a copy of the current context: how natives call back
    /// into scripts that may themselves wait (`time.timeout`, health checks, hooks).
    pub fn start_callback(&mut self, callee: Value, args: Vec<Value>) -> Callback {
        let context = self
            .current_task()
            .map(|p| p.context.borrow().clone())
            .unwrap_or_default();
        self.start_callback_in(callee, args, context)
    }

    /// [`Vm::start_callback`] with the context given: a caller that narrows what the callee
    /// sees (a shorter deadline, say) passes its own copy, changed.
    pub fn start_callback_in(
        &mut self,
        callee: Value,
        args: Vec<Value>,
        context: ContextValues,
    ) -> Callback {
        let argc = args.len();
        let mut fiber = Fiber::for_task();
        fiber.stack.push(callee);
        fiber.stack.extend(args);
        let task = Task::new(self.next_task_id(), context);
        self.start_task(task.clone(), fiber, argc);
        let caller = self.current_task().map(Rc::downgrade).unwrap_or_default();
        Callback { task, caller }
    }

    /// Calls `callee(args)` as a task and waits for its result (see [`Vm::start_callback`]).
    pub fn call_async(
        &mut self,
        callee: Value,
        args: Vec<Value>,
    ) -> impl Future<Output = Result<Value, Fault>> {
        let callback = self.start_callback(callee, args);
        async move { callback.result().await }
    }
}

impl Vm {
    /// Prepares `callee(args)` as a task that the caller drives inside its own future (no
    /// separate tokio task, no wake-up through a `Notify`): the cheapest way to run a callback
    /// the caller waits for anyway, such as an http handler. `context` is the task's context.
    pub fn inline_call(
        &mut self,
        callee: Value,
        args: Vec<Value>,
        context: ContextValues,
    ) -> InlineCall {
        let argc = args.len();
        let mut fiber = Box::new(Fiber::for_task());
        fiber.stack.push(callee);
        fiber.stack.extend(args);
        let task = Task::new(self.next_task_id(), context);
        self.running.insert(task.id, task.clone());
        let vm = self.handle();
        let driven = task.clone();
        let future = Box::pin(async move {
            let result = drive(&vm, &driven, fiber, Resume::Begin(argc)).await;
            let outcome = match &result {
                Ok(value) => Ok(value.clone()),
                Err(fault) => Err(fault.clone()),
            };
            finish_task(&vm, &driven, result);
            driven.claim();
            outcome
        });
        InlineCall {
            task,
            future: Some(future),
        }
    }
}

/// A task driven by its caller's future (see [`Vm::inline_call`]). If the caller drops it
/// before it ends (the client went away), the task is cancelled and finishes its cleanups as a
/// task of its own.
pub struct InlineCall {
    task: Rc<Task>,
    future: Option<NativeFuture>,
}

impl InlineCall {
    /// The task (to cancel it).
    pub fn task(&self) -> &Rc<Task> {
        &self.task
    }

    /// Drives the task until it ends and gives its result. After a result, calling it again
    /// faults.
    pub async fn result(&mut self) -> Result<Value, Fault> {
        let Some(future) = self.future.as_mut() else {
            return Err(Fault::new(
                "internal error: an inline call was awaited twice",
            ));
        };
        let result = future.as_mut().await;
        self.future = None;
        result
    }
}

impl Drop for InlineCall {
    fn drop(&mut self) {
        if let Some(future) = self.future.take() {
            self.task.cancel();
            tokio::task::spawn_local(async move {
                let _ = future.await;
            });
        }
    }
}

/// A script callback running as its own task. Dropping it (the native that waits for it was
/// abandoned because its caller was interrupted) cancels the task, and the caller's driver waits
/// for it to finish its cleanups before the caller unwinds: inner `defer`s run before outer ones.
pub struct Callback {
    task: Rc<Task>,
    caller: Weak<Task>,
}

impl Callback {
    /// The task.
    pub fn task(&self) -> &Rc<Task> {
        &self.task
    }

    /// Waits for the callback's result; its fault becomes the caller's.
    pub async fn result(&self) -> Result<Value, Fault> {
        self.task.wait().await;
        let result = self.task.result();
        result.unwrap_or_else(|| Err(Fault::new("internal error: task ended without result")))
    }
}

impl Drop for Callback {
    fn drop(&mut self) {
        if self.task.is_done() {
            return;
        }
        self.task.cancel();
        if let Some(caller) = self.caller.upgrade() {
            caller.abandoned.borrow_mut().push(self.task.clone());
        }
    }
}

/// Lets every other ready task run once, then continues: the task goes to the back of the
/// `LocalSet`'s queue. (tokio's `yield_now` defers the wake-up behind the I/O driver and wakes
/// deferred tasks last-in first-out, which would make `time.sleep(0)` reorder tasks.)
pub async fn yield_to_others() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// Runs `task`'s fiber to its end.
pub(crate) async fn drive(
    vm: &VmRef,
    task: &Rc<Task>,
    mut fiber: Box<Fiber>,
    mut resume: Resume,
) -> Result<Value, Fault> {
    loop {
        if matches!(resume, Resume::Continue | Resume::Begin(_)) {
            if let Some(fault) = task.take_interrupt() {
                if matches!(resume, Resume::Begin(_)) {
                    return Err(fault);
                }
                resume = Resume::Fault(Box::new(fault));
            }
        }
        let step = {
            let mut vm = vm.borrow_mut();
            let outer = vm.current.replace(task.clone());
            let step = vm.step(&mut fiber, resume);
            vm.current = outer;
            step
        };
        resume = match step {
            Step::Done(result) => return result,
            Step::Await(future) => {
                let on_tasks = std::mem::take(&mut vm.borrow_mut().waits_on_tasks);
                let _blocked = if on_tasks {
                    super::deadlock::Blocked::new(vm, task, &fiber)
                } else {
                    None
                };
                let resume = tokio::select! {
                    biased;
                    fault = task.interrupted() => Resume::Fault(Box::new(fault)),
                    result = future => match result {
                        Ok(value) => Resume::Value(value),
                        Err(fault) => Resume::Fault(Box::new(fault)),
                    },
                };
                // Callbacks the abandoned wait had started finish their cleanups first.
                let abandoned = std::mem::take(&mut *task.abandoned.borrow_mut());
                for callback in abandoned {
                    callback.wait().await;
                }
                resume
            }
            Step::Yield => {
                tokio::task::yield_now().await;
                Resume::Continue
            }
        };
    }
}

/// Records a task's end: its outcome, its `concurrent:` block, and `exit(code)` from a task.
fn finish_task(vm: &VmRef, task: &Rc<Task>, result: Result<Value, Fault>) {
    let exit = match &result {
        Err(fault) => match fault.kind {
            FaultKind::Exit(code) => Some(code),
            _ => None,
        },
        Ok(_) => None,
    };
    if matches!(&result, Err(fault) if fault.kind == FaultKind::Error) {
        super::deadlock::faulted(task);
    }
    task.finish(result);
    let scope = task.parent_scope.borrow_mut().take();
    if let Some(scope) = scope {
        scope.member_finished(task);
    }
    let lifecycle = {
        let mut vm = vm.borrow_mut();
        vm.running.remove(&task.id);
        vm.lifecycle.clone()
    };
    super::deadlock::task_ended(vm);
    if let Some(code) = exit {
        task.claim();
        lifecycle.request_exit(code);
    }
}
