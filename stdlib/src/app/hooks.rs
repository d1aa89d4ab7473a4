//! Running one phase's lifecycle hooks: one after another, each as its own task (so it may wait:
//! connect to a database, call a service), all of them together within the phase's budget.
//!
//! A hook that faults or returns `Err(..)` is reported with its cn stack trace on stderr and an error line in the
//! log; one still running at the deadline is cancelled (its `defer`s run) and reported the same
//! way. Startup and ready hooks stop at the first failure; shutdown hooks go on with the next
//! one after a fault, since each releases something of its own, but none starts past the
//! deadline. Startup and ready hooks are also interrupted when shutdown starts (SIGTERM while
//! connecting to a database that is down must not wait out the whole budget).

use std::rc::Rc;
use std::time::{Duration, Instant};

use cn_runtime::fault::FaultKind;
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::{Fault, Value};

use crate::log::{self, Field, Level};

/// How long a cancelled hook may take to run its `defer`s before it is left behind.
const CANCEL_GRACE: Duration = Duration::from_secs(1);

/// Which hooks these are.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Phase {
    Startup,
    Ready,
    Shutdown,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Startup => "startup",
            Phase::Ready => "ready",
            Phase::Shutdown => "shutdown",
        }
    }

    /// Whether shutdown starting interrupts these hooks.
    fn interruptible(self) -> bool {
        self != Phase::Shutdown
    }
}

/// How a phase's hooks ended.
#[derive(Debug, PartialEq)]
pub(super) enum Outcome {
    /// Every hook returned.
    Completed,
    /// A hook faulted or ran out of time; the process should end with this status.
    Failed(i32),
    /// Shutdown started while they ran; the running hook was cancelled.
    Stopped,
}

/// The name a hook is reported by: its function's name.
fn hook_name(hook: &Value) -> String {
    match hook {
        Value::Function(closure) => closure.name().to_string(),
        other => cn_runtime::format::display(other),
    }
}

/// Runs `hooks` in order until `deadline` (the end of the phase's `budget`), on behalf of the
/// application `app`.
pub(super) async fn run(
    vm: &VmRef,
    lifecycle: &Rc<Lifecycle>,
    app: &str,
    phase: Phase,
    hooks: Vec<Value>,
    (deadline, budget): (tokio::time::Instant, Duration),
) -> Outcome {
    let mut outcome = Outcome::Completed;
    for hook in hooks {
        let name = hook_name(&hook);
        if tokio::time::Instant::now() >= deadline {
            failure(vm, app, phase, &name, &timed_out(phase, budget));
            return Outcome::Failed(1);
        }
        let started = Instant::now();
        let callback = vm.borrow_mut().start_callback(hook, Vec::new());
        let stop = async {
            if phase.interruptible() {
                lifecycle.wait_for_stop().await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        // Biased: a hook that ended by calling `exit(code)` also started the stop; its end wins.
        let result = tokio::select! {
            biased;
            result = callback.result() => Some(result),
            _ = tokio::time::sleep_until(deadline) => None,
            _ = stop => {
                cancel(&callback).await;
                return Outcome::Stopped;
            }
        };
        // A hook that returns `Err(e)` (by `?`, say) failed as much as one that faulted.
        let result = result.map(|r| match r {
            Ok(Value::Variant(v)) if v.is_err() => Err(Fault::new(format!(
                "the {} hook {name} returned {}",
                phase.name(),
                cn_runtime::format::repr(&Value::Variant(v))
            ))),
            other => other,
        });
        match result {
            Some(Ok(_)) => log::emit(
                &vm.borrow(),
                Level::Debug,
                &format!("app: {} hook done", phase.name()),
                &[
                    ("app", Field::Str(app)),
                    ("hook", Field::Str(&name)),
                    ("duration_ms", Field::Float(millis(started))),
                ],
            ),
            Some(Err(fault)) => {
                let code = match fault.kind {
                    FaultKind::Exit(code) => code,
                    _ => 1,
                };
                if !matches!(fault.kind, FaultKind::Exit(_)) {
                    failure(vm, app, phase, &name, &fault);
                }
                if phase != Phase::Shutdown {
                    return Outcome::Failed(code);
                }
                outcome = Outcome::Failed(code);
            }
            None => {
                cancel(&callback).await;
                failure(vm, app, phase, &name, &timed_out(phase, budget));
                return Outcome::Failed(1);
            }
        }
    }
    outcome
}

/// Cancels a running hook and gives it a moment for its `defer`s.
async fn cancel(callback: &cn_runtime::tasks::Callback) {
    callback.task().cancel();
    let _ = tokio::time::timeout(CANCEL_GRACE, callback.task().wait()).await;
}

fn timed_out(phase: Phase, budget: Duration) -> Fault {
    let option = match phase {
        Phase::Shutdown => "shutdown_timeout",
        _ => "startup_timeout",
    };
    Fault::new(format!(
        "the {} hooks did not finish within {} ({option}=)",
        phase.name(),
        seconds(budget)
    ))
}

/// Reports a failed hook: the fault with its stack trace on stderr, an error line in the log.
fn failure(vm: &VmRef, app: &str, phase: Phase, hook: &str, fault: &Fault) {
    report(
        vm,
        fault,
        &format!("the {} hook {hook}", phase.name()),
        &format!("app: {} hook failed", phase.name()),
        &[("app", Field::Str(app)), ("hook", Field::Str(hook))],
    );
}

/// A fault in something the application runs: its report on stderr with `note: raised by
/// WHAT`, and an error line `msg` with `fields` and the fault's message in the log.
pub(super) fn report(
    vm: &VmRef,
    fault: &Fault,
    what: &str,
    msg: &str,
    fields: &[(&str, Field<'_>)],
) {
    let mut vm = vm.borrow_mut();
    vm.flush();
    eprint!("{}", fault.report());
    eprintln!("note: raised by {what}");
    let mut fields = fields.to_vec();
    fields.push(("error", Field::Str(&fault.message)));
    log::emit(&vm, Level::Error, msg, &fields);
}

/// Milliseconds since `started`, to a tenth.
pub(super) fn millis(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1e4).round() / 10.0
}

/// `30s`, `1.5s`: a budget as the messages show it.
pub(super) fn seconds(d: Duration) -> String {
    format!("{}s", (d.as_secs_f64() * 1000.0).round() / 1000.0)
}
