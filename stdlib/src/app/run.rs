//! `application.run(*servers_and_tasks)`: the whole life of a service, in the order Kubernetes
//! needs it.
//!
//! 1. The startup hooks run, in order, within `startup_timeout`. Nothing listens yet: a probe
//!    is refused, so no traffic and no "ready" can reach a half-started process. A hook that
//!    faults or runs out of time ends the process with status 1 here, its stack trace on
//!    stderr; the shutdown hooks do not run (what they would release was never set up).
//! 2. Every server binds its port and serves; `/startupz` answers 200, `/readyz` still 503.
//!    Background tasks start (a function given is started as a task; a task given is adopted).
//! 3. The ready hooks run; then `/readyz` passes on every server. A failing ready hook shuts
//!    the application down (as SIGTERM would) and the exit status becomes 1.
//! 4. SIGTERM, SIGINT or `exit()`: every server fails `/readyz`, serves on through the
//!    propagation delay, closes its listener and drains (serve.rs), all at once.
//! 5. The background tasks still running are cancelled (their `defer`s run), then the shutdown
//!    hooks run in reverse order; together within `shutdown_timeout`.
//! 6. `run()` returns; the lifecycle flushes telemetry and the process exits.
//!
//! A background task that faults is reported and shuts the application down with status 1,
//! as errgroup does in Go: a service whose worker died should be restarted, not limp on.
//! Each phase is logged with its duration.

use std::rc::Rc;
use std::time::Instant;

use futures_util::stream::{FuturesUnordered, StreamExt};

use cn_runtime::fault::FaultKind;
use cn_runtime::tasks::{Callback, Lifecycle, Task, VmRef};
use cn_runtime::{Fault, Value};

use super::hooks::{self, millis, Outcome, Phase};
use super::State;
use crate::http::server::{Listening, Server, Shutdown};
use crate::log::{self, Field, Level};

/// Something running beside the servers: a task started for a function, or one adopted.
pub(super) enum Background {
    Function(Value),
    Task(Rc<Task>),
}

/// A started background task; a `Callback` cancels its task when dropped.
enum Running {
    Started(Callback),
    Adopted(Rc<Task>),
}

impl Running {
    fn task(&self) -> &Rc<Task> {
        match self {
            Running::Started(callback) => callback.task(),
            Running::Adopted(task) => task,
        }
    }
}

/// What `run()` was given.
pub(super) struct Plan {
    pub servers: Vec<Server>,
    pub background: Vec<Background>,
    pub shutdown: Shutdown,
}

/// The run, as the suspended future of `application.run()`.
pub(super) async fn run(
    app: Rc<State>,
    vm: VmRef,
    lifecycle: Rc<Lifecycle>,
    plan: Plan,
) -> Result<Value, Fault> {
    // A waiter: SIGTERM is ours to handle, the main task is not cancelled under us.
    let _waiter = lifecycle.register_waiter();
    let name = app.name.as_str();
    let started = Instant::now();
    // One budget from here until ready: what a startupProbe allows.
    let startup_budget = (
        tokio::time::Instant::now() + app.startup_timeout,
        app.startup_timeout,
    );
    line(
        &vm,
        Level::Info,
        "app starting",
        &[
            ("app", Field::Str(name)),
            ("servers", Field::Int(plan.servers.len() as i64)),
            (
                "startup_hooks",
                Field::Int(app.startup.borrow().len() as i64),
            ),
        ],
    );
    let startup = app.startup.borrow().clone();
    match hooks::run(
        &vm,
        &lifecycle,
        name,
        Phase::Startup,
        startup,
        startup_budget,
    )
    .await
    {
        Outcome::Completed => step(&vm, name, "app: startup hooks done", started),
        Outcome::Failed(code) => {
            line(
                &vm,
                Level::Error,
                "app: startup failed; exiting before serving",
                &[
                    ("app", Field::Str(name)),
                    ("status", Field::Int(code as i64)),
                ],
            );
            return Err(Fault::exit(code));
        }
        Outcome::Stopped => {
            step(&vm, name, "app: stopped during startup", started);
            return Ok(Value::Nil);
        }
    }
    let listening = match listen_all(&plan.servers) {
        Ok(listening) => listening,
        Err(fault) => {
            // Startup succeeded, so what it set up is released before the fault ends the run.
            shut_down(&app, &vm, &lifecycle, Vec::new()).await;
            return Err(fault);
        }
    };
    for server in &listening {
        server.state.health.ready_held.set(true);
        server.announce(&vm);
    }
    let states: Vec<_> = listening.iter().map(|l| l.state.clone()).collect();
    let background = start_background(&vm, plan.background);
    let serving = futures_util::future::join_all(
        listening
            .into_iter()
            .map(|server| server.serve(vm.clone(), &lifecycle, plan.shutdown.clone())),
    );
    let until_stop = async {
        let ready = app.ready.borrow().clone();
        match hooks::run(&vm, &lifecycle, name, Phase::Ready, ready, startup_budget).await {
            Outcome::Completed => {
                states.iter().for_each(|s| s.health.ready_held.set(false));
                crate::metrics::app::startup_duration(started.elapsed().as_secs_f64());
                step(&vm, name, "app ready", started);
            }
            Outcome::Failed(code) => return lifecycle.stop_with_status(code),
            Outcome::Stopped => return,
        }
        watch_background(&vm, &lifecycle, name, &background).await;
    };
    let (drained, ()) = tokio::join!(serving, until_stop);
    if drained.iter().any(|ok| !ok) {
        lifecycle.set_exit_status(1);
    }
    shut_down(&app, &vm, &lifecycle, background).await;
    Ok(Value::Nil)
}

/// Binds every server, or none.
fn listen_all(servers: &[Server]) -> Result<Vec<Listening>, Fault> {
    servers.iter().map(Server::listen).collect()
}

fn start_background(vm: &VmRef, background: Vec<Background>) -> Vec<Running> {
    background
        .into_iter()
        .map(|item| match item {
            Background::Function(f) => {
                Running::Started(vm.borrow_mut().start_callback(f, Vec::new()))
            }
            Background::Task(task) => Running::Adopted(task),
        })
        .collect()
}

/// Until shutdown starts: a background task that faults is reported and stops the
/// application with status 1; one that returns is noted.
async fn watch_background(vm: &VmRef, lifecycle: &Rc<Lifecycle>, app: &str, running: &[Running]) {
    let mut ends: FuturesUnordered<_> = running
        .iter()
        .map(|r| async move {
            r.task().wait().await;
            r.task()
        })
        .collect();
    loop {
        let task = tokio::select! {
            _ = lifecycle.wait_for_stop() => return,
            Some(task) = ends.next() => task,
            else => {
                lifecycle.wait_for_stop().await;
                return;
            }
        };
        match task.result() {
            // `exit(code)` in the task started the stop already: not a failure.
            Some(Err(fault)) if fault.kind == FaultKind::Error => {
                hooks::report(
                    vm,
                    &fault,
                    &format!("background task {}", task.id),
                    "app: a background task failed; shutting down",
                    &[
                        ("app", Field::Str(app)),
                        ("task", Field::Int(task.id as i64)),
                    ],
                );
                lifecycle.stop_with_status(1);
                return;
            }
            _ => line(
                vm,
                Level::Info,
                "app: a background task ended",
                &[
                    ("app", Field::Str(app)),
                    ("task", Field::Int(task.id as i64)),
                ],
            ),
        }
    }
}

/// Steps 5 and 6: background tasks cancelled, shutdown hooks in reverse, within the budget.
async fn shut_down(app: &State, vm: &VmRef, lifecycle: &Rc<Lifecycle>, background: Vec<Running>) {
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + app.shutdown_timeout;
    let name = app.name.as_str();
    let still_running: Vec<_> = background.iter().filter(|r| !r.task().is_done()).collect();
    if !still_running.is_empty() {
        still_running.iter().for_each(|r| r.task().cancel());
        let ended = tokio::time::timeout_at(deadline, async {
            for running in &still_running {
                running.task().wait().await;
            }
        })
        .await
        .is_ok();
        if ended {
            step(vm, name, "app: background tasks stopped", started);
        } else {
            line(
                vm,
                Level::Warn,
                "app: background tasks did not stop in time",
                &[("app", Field::Str(name))],
            );
        }
    }
    // A task adopted and already faulted was reported by the watch; claim the rest quietly.
    for running in &background {
        let _ = running.task().result();
    }
    let hooks: Vec<Value> = app.shutdown.borrow().iter().rev().cloned().collect();
    let budget = (deadline, app.shutdown_timeout);
    let outcome = hooks::run(vm, lifecycle, name, Phase::Shutdown, hooks, budget).await;
    if let Outcome::Failed(code) = outcome {
        lifecycle.set_exit_status(code);
    }
    step(vm, name, "app stopped", started);
}

fn line(vm: &VmRef, level: Level, msg: &str, fields: &[(&str, Field<'_>)]) {
    log::emit(&vm.borrow(), level, msg, fields);
}

/// A phase's end, with how long it took in milliseconds.
fn step(vm: &VmRef, app: &str, msg: &str, started: Instant) {
    line(
        vm,
        Level::Info,
        msg,
        &[
            ("app", Field::Str(app)),
            ("duration_ms", Field::Float(millis(started))),
        ],
    );
}
