//! Running a fiber: [`Vm::step`] runs a task's fiber until it ends, waits or yields (the driver
//! awaits and resumes it); [`Vm::run`] runs a callback's fiber until its first frame returns (a
//! native needs the answer at once: a sort key, a module body). Both go through one loop,
//! [`Vm::run_until`], that dispatches and unwinds faults through the frames' cleanups.

use crate::fault::Fault;
use crate::fiber::Fiber;
use crate::tasks::{NativeFuture, Resume};
use crate::unwind::Stop;
use crate::value::Value;
use crate::vm::Vm;

/// Why a fiber stopped running.
pub(crate) enum Step {
    /// It ended.
    Done(Result<Value, Fault>),
    /// It waits for this.
    Await(NativeFuture),
    /// It used up its instruction budget.
    Yield,
}

impl Vm {
    /// Runs a task's `fiber` until it ends, waits or yields.
    pub(crate) fn step(&mut self, fiber: &mut Fiber, resume: Resume) -> Step {
        let outcome = match resume {
            Resume::Begin(argc) => return self.begin(fiber, argc),
            Resume::Continue => self.dispatch(fiber, 0),
            Resume::Value(value) if fiber.frames.is_empty() => return Step::Done(Ok(value)),
            Resume::Value(value) => {
                fiber.stack.push(value);
                self.dispatch(fiber, 0)
            }
            Resume::Fault(fault) => Stop::Faulted(*fault),
        };
        self.run_until(fiber, 0, outcome)
    }

    /// The first step of a task: the call of `stack[0]` with `argc` arguments.
    fn begin(&mut self, fiber: &mut Fiber, argc: usize) -> Step {
        match self.call_general(fiber, 0, argc, &[]) {
            Err(fault) => Step::Done(Err(fault)),
            Ok(true) => self.step(fiber, Resume::Continue),
            Ok(false) => match self.suspended.take() {
                Some(future) => Step::Await(future),
                None => Step::Done(Ok(fiber.stack.pop().unwrap_or_default())),
            },
        }
    }

    /// Runs `fiber` until its frame count drops to `stop`, returning that frame's result. Nothing
    /// may wait here: a native that tries faults, and the fault unwinds like any other.
    /// It faults once the fiber has used `slices` instruction budgets (`u32::MAX`: never).
    pub(crate) fn run(
        &mut self,
        fiber: &mut Fiber,
        stop: usize,
        mut slices: u32,
    ) -> Result<Value, Fault> {
        let mut outcome = self.dispatch(fiber, stop);
        loop {
            outcome = match self.run_until(fiber, stop, outcome) {
                Step::Done(result) => return result,
                Step::Yield if slices <= 1 => Stop::Faulted(Fault::new(
                    "took too long: this callback must answer at once (it runs while \
                     everything else waits)",
                )),
                Step::Yield => {
                    slices -= 1;
                    self.dispatch(fiber, stop)
                }
                Step::Await(_) => Stop::Faulted(Fault::new(
                    "cannot wait here: this callback was called by a function that needs its \
                     answer at once (a sort key, a module body, ...)",
                )),
            };
        }
    }

    /// From a dispatch `outcome`, dispatches and unwinds until the frame at `stop` returns, the
    /// fault has unwound every frame above `stop`, a native waits, or the budget is used up.
    fn run_until(&mut self, fiber: &mut Fiber, stop: usize, mut outcome: Stop) -> Step {
        loop {
            let fault = match outcome {
                Stop::Returned(value) => return Step::Done(Ok(value)),
                Stop::Await => match self.suspended.take() {
                    // What a task printed before it waits needs no flush to become visible:
                    // the output thread writes it (runtime/src/output.rs).
                    Some(future) => return Step::Await(future),
                    None => Some(Fault::new("internal error: a wait without a future")),
                },
                Stop::Yield => return Step::Yield,
                Stop::Faulted(fault) => Some(fault),
                Stop::CleanupDone => None,
            };
            if let Err(fault) = self.unwind(fiber, stop, fault) {
                return Step::Done(Err(fault));
            }
            outcome = self.dispatch(fiber, stop);
        }
    }
}
