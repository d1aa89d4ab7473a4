//! `cn test`'s interpreter side: load a test file, then run each of its `test_*` functions as a
//! task of its own, with a time limit, and say how each ended.
//!
//! The module body runs once (as a module's body does for `cn run`), so helpers and fixtures at
//! the top level are shared. Each test then starts with a fresh task context (no deadline, no
//! values, no trace), and whatever it spawned and left running is cancelled when it ends, its
//! `defer`s run, so one test's server or worker never serves the next one. A test that runs
//! past its limit is cancelled the same way (a busy loop included: the interpreter yields at
//! its budget checks), so its `defer`s run too.

use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::fault::{Fault, FaultKind};
use crate::format;
use crate::tasks::runtime::{run_in_task, Runtime};
use crate::tasks::task::Task;
use crate::tasks::VmRef;
use crate::value::Value;
use crate::vm::RunError;

/// A test function of the file, in definition order.
#[derive(Clone, Debug)]
pub struct TestFunction {
    /// Its name (`test_...`).
    pub name: String,
    /// The line of its `fn`.
    pub line: usize,
}

/// How one test ended.
#[derive(Clone, Debug)]
pub enum Verdict {
    /// It returned something other than `Err`.
    Passed,
    /// It faulted (the fault report, with the cn stack trace) or returned `Err(e)`.
    Failed(String),
    /// It was still running at the limit and was cancelled.
    TimedOut(Duration),
}

/// What the runner reports as it goes, so output printed by a test can be told apart.
pub enum TestEvent<'a> {
    /// The file's module body ran; these tests will run, in this order.
    Loaded(&'a [TestFunction]),
    /// A test is about to start.
    Started(&'a TestFunction),
    /// A test ended.
    Finished(&'a TestFunction, &'a Verdict, Duration),
}

impl Runtime {
    /// Runs the module body of the test file `path`, then each of its parameterless functions
    /// whose name starts with `test_` and passes `select`, one after another, each stopped after
    /// `limit`. A file that does not compile, or whose module body faults, is an error; a test
    /// that fails is a [`Verdict`].
    pub fn run_tests(
        &self,
        path: &Path,
        select: &dyn Fn(&str) -> bool,
        limit: Duration,
        observe: &mut dyn FnMut(TestEvent<'_>),
    ) -> Result<(), RunError> {
        let program = self.vm().load_main(path)?;
        let vm = self.vm_ref();
        self.block_on(async move {
            // A module body that serves forever (a server started at the top level) would
            // keep every test from running: it has the tests' limit too.
            let body = Value::Function(program.body.clone());
            match run_limited(&vm, body, limit).await {
                Some(Ok(_)) => {}
                Some(Err(fault)) => return Err(RunError::Fault(fault)),
                None => {
                    return Err(RunError::Fault(Fault::new(format!(
                        "the module body was still running after {}: start servers and other \
                         long-running work inside the tests",
                        format::repr(&Value::Duration(
                            limit.as_nanos().min(i64::MAX as u128) as i64
                        ))
                    ))))
                }
            }
            let tests: Vec<(TestFunction, Value)> = {
                let vm = vm.borrow();
                program
                    .scope
                    .iter()
                    .filter(|(name, _)| name.starts_with("test_") && select(name))
                    .filter_map(|(name, slot)| match &vm.globals[slot as usize] {
                        Value::Function(f)
                            if f.code.proto.params.len() as u32 == f.code.proto.defaults =>
                        {
                            let line = f.code.file.line_col(f.code.proto.span).0;
                            let test = TestFunction {
                                name: name.to_string(),
                                line,
                            };
                            Some((test, Value::Function(f.clone())))
                        }
                        _ => None,
                    })
                    .collect()
            };
            let listed: Vec<TestFunction> = tests.iter().map(|(t, _)| t.clone()).collect();
            observe(TestEvent::Loaded(&listed));
            for (test, function) in tests {
                observe(TestEvent::Started(&test));
                let started = Instant::now();
                let verdict = run_one(&vm, function, limit).await;
                vm.borrow_mut().flush();
                observe(TestEvent::Finished(&test, &verdict, started.elapsed()));
            }
            vm.borrow_mut().finish_main(&program);
            Ok(())
        })
    }
}

/// Runs one test function on a task of its own; then cancels what it left running.
async fn run_one(vm: &VmRef, function: Value, limit: Duration) -> Verdict {
    let before: Vec<u64> = vm.borrow().running.keys().copied().collect();
    let verdict = match run_limited(vm, function, limit).await {
        Some(Ok(Value::Variant(v))) if v.is_err() => Verdict::Failed(format!(
            "returned {}\n",
            format::repr(&Value::Variant(v.clone()))
        )),
        Some(Ok(_)) => Verdict::Passed,
        Some(Err(fault)) => match fault.kind {
            FaultKind::Exit(code) => Verdict::Failed(format!("called exit({code})\n")),
            _ => Verdict::Failed(fault.report()),
        },
        None => Verdict::TimedOut(limit),
    };
    // A clock the test paused runs again for the next one.
    crate::tasks::clock::resume_if_paused();
    // Tasks the test spawned and left running end with it.
    let left: Vec<Rc<Task>> = vm
        .borrow()
        .running
        .iter()
        .filter(|(id, _)| !before.contains(id))
        .map(|(_, task)| task.clone())
        .collect();
    left.iter().for_each(|t| t.cancel());
    for task in &left {
        task.wait().await;
    }
    verdict
}

/// Calls `function()` on a new task with a fresh context; past `limit` the task is cancelled
/// (its `defer`s run) and the answer is `None`.
async fn run_limited(vm: &VmRef, function: Value, limit: Duration) -> Option<Result<Value, Fault>> {
    let task = Task::new(vm.borrow_mut().next_task_id(), Default::default());
    let run = run_in_task(vm, &task, function);
    tokio::pin!(run);
    let (_stop_watchdog, expired) = watchdog(limit);
    tokio::select! {
        result = &mut run => Some(result),
        // An `Err` (no watchdog thread could start) disables this branch: no limit then.
        Ok(()) = expired => {
            task.cancel();
            let _ = run.await;
            None
        }
    }
}

/// A limit on real time: the tokio clock may be paused by the test (`time.pause()`) and jump
/// ahead, so the limit is kept by a thread. The receiver fires once `limit` has passed; dropping
/// the sender ends the thread at once.
fn watchdog(
    limit: Duration,
) -> (
    std::sync::mpsc::Sender<()>,
    tokio::sync::oneshot::Receiver<()>,
) {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let (fire, expired) = tokio::sync::oneshot::channel();
    let _ = std::thread::Builder::new()
        .name("cn-test-limit".into())
        .spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(limit) {
                let _ = fire.send(());
            }
        });
    (stop, expired)
}
