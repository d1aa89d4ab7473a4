//! The entry points that run scripts on tokio: `cn run` (with signals and the lifecycle) and REPL
//! entries.
//!
//! Everything runs on the calling thread: a current-thread tokio runtime and one `LocalSet` on
//! which every task's driver is a local task. Script code and the VM are single-threaded; only
//! the OS-level waiting (timers, sockets, signals) is tokio's.

use std::cell::{RefCell, RefMut};
use std::path::Path;
use std::rc::Rc;

use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::task::LocalSet;

use crate::fault::{Fault, FaultKind};
use crate::fiber::Fiber;
use crate::tasks::driver::{drive, Resume, VmRef};
use crate::tasks::lifecycle::Lifecycle;
use crate::tasks::memory::release_after_growth;
use crate::tasks::task::Task;
use crate::value::Value;
use crate::vm::{RunError, Vm};

/// A VM together with the tokio machinery its tasks run on.
pub struct Runtime {
    vm: VmRef,
    tokio: tokio::runtime::Runtime,
    local: LocalSet,
    /// `cn run --repl`: where attached sessions connect.
    attach: Option<std::path::PathBuf>,
}

impl Runtime {
    /// Wraps `vm`; fails only if the OS refuses tokio its timer or I/O driver.
    pub fn new(vm: Vm) -> Result<Runtime, String> {
        let tokio = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the task runtime: {e}"))?;
        let vm = Rc::new(RefCell::new(vm));
        let this = Rc::downgrade(&vm);
        vm.borrow_mut().this = this;
        Ok(Runtime {
            vm,
            tokio,
            local: LocalSet::new(),
            attach: None,
        })
    }

    /// Makes `run_file` listen for `cn repl --attach` at `socket` (owner-only).
    pub fn accept_attach(&mut self, socket: std::path::PathBuf) {
        self.attach = Some(socket);
    }

    /// The VM, for the CLI and the REPL's completion (not while a script runs).
    pub fn vm(&self) -> RefMut<'_, Vm> {
        self.vm.borrow_mut()
    }

    /// The shared VM, for code that runs tasks on it.
    pub(crate) fn vm_ref(&self) -> VmRef {
        self.vm.clone()
    }

    /// Runs a script file: its module body, then `main()` if it defines one, then the shutdown
    /// path. SIGTERM and SIGINT are handled as the lifecycle describes.
    pub fn run_file(&self, path: &Path) -> Result<(), RunError> {
        let program = self.vm.borrow_mut().load_main(path)?;
        let vm = self.vm.clone();
        let attach = self.attach.clone();
        let result = self.local.block_on(&self.tokio, async move {
            let lifecycle = vm.borrow().lifecycle.clone();
            let attached = match &attach {
                Some(socket) => match crate::tasks::attach::listen(socket) {
                    Ok(listener) => {
                        vm.borrow_mut().share_main_scope(&program);
                        eprintln!("cn: attach with `cn repl --attach {}`", std::process::id());
                        Some(tokio::task::spawn_local(crate::tasks::attach::serve(
                            vm.clone(),
                            listener,
                        )))
                    }
                    Err(e) => {
                        eprintln!("cn: --repl: cannot listen on {}: {e}", socket.display());
                        None
                    }
                },
                None => None,
            };
            // Installed before any script code runs, so a signal is never met by the default
            // action (instant death) once the script could have announced it is ready.
            let handlers = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            );
            let signals =
                tokio::task::spawn_local(watch_signals(vm.clone(), lifecycle.clone(), handlers));
            let memory = vm
                .borrow()
                .memory_release
                .map(|release| tokio::task::spawn_local(release_after_growth(release)));
            let main = Task::new(vm.borrow_mut().next_task_id(), Default::default());
            *lifecycle.main.borrow_mut() = Some(main.clone());
            let mut result = run_in_task(&vm, &main, Value::Function(program.body.clone())).await;
            if result.is_ok() {
                let entry = vm.borrow().main_function(&program);
                if let Some(entry) = entry {
                    result = run_in_task(&vm, &main, entry).await;
                }
            }
            vm.borrow_mut().finish_main(&program);
            let result = shut_down(&vm, &lifecycle, result).await;
            signals.abort();
            if let Some(memory) = memory {
                memory.abort();
            }
            if let (Some(attached), Some(socket)) = (attached, &attach) {
                attached.abort();
                let _ = std::fs::remove_file(socket);
            }
            result
        });
        self.vm.borrow_mut().flush();
        result.map_err(RunError::Fault)
    }

    /// Compiles and runs one REPL entry; returns the value of a final expression statement.
    /// Tasks it spawns run while later entries run (the REPL does not wait for them).
    /// Runs `future` on the interpreter thread's tasks, which go on running while it waits:
    /// the REPL waits here for its next line, so a server spawned by one entry keeps serving at
    /// the prompt.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.local.block_on(&self.tokio, future)
    }

    /// The interrupts (Ctrl-C, SIGINT) an interactive session hands to [`Runtime::eval_repl`];
    /// made inside [`Runtime::block_on`]. From then on SIGINT no longer ends the process.
    pub fn interrupts(&self) -> std::io::Result<Signal> {
        signal(SignalKind::interrupt())
    }

    /// Runs one REPL entry as a task (other tasks go on meanwhile). An interrupt stops it as
    /// SIGINT stops a script: servers drain and return, anything else is cancelled (its `defer`s
    /// run); a second interrupt cancels it at once. Afterwards the session can run servers again.
    pub async fn eval_repl(
        &self,
        source: &str,
        interrupts: &mut Signal,
    ) -> Result<Value, RunError> {
        let body = self.vm.borrow_mut().compile_repl(source)?;
        let vm = self.vm.clone();
        let lifecycle = vm.borrow().lifecycle.clone();
        let task = Task::new(vm.borrow_mut().next_task_id(), Default::default());
        *lifecycle.main.borrow_mut() = Some(task.clone());
        let entry = run_in_task(&vm, &task, Value::Function(body));
        tokio::pin!(entry);
        let mut interrupted = false;
        let mut result: Result<Value, Fault> = loop {
            tokio::select! {
                result = &mut entry => break result,
                _ = interrupts.recv() => {
                    if interrupted {
                        task.cancel();
                    } else {
                        interrupted = true;
                        lifecycle.signal_received("SIGINT");
                    }
                }
            }
        };
        if interrupted && result.is_ok() {
            // A server that drained returns normally; the entry was still interrupted.
            result = Err(Fault::cancelled());
        }
        lifecycle.reset_after_entry();
        self.vm.borrow_mut().flush();
        result.map_err(RunError::Fault)
    }
}

/// Calls `callee()` on `task` (the main task runs the module body, then `main`, on one task).
pub(crate) async fn run_in_task(
    vm: &VmRef,
    task: &Rc<Task>,
    callee: Value,
) -> Result<Value, Fault> {
    let mut fiber = Fiber::new();
    fiber.yieldable = true;
    fiber.stack.push(callee);
    vm.borrow_mut().running.insert(task.id, task.clone());
    let result = drive(vm, task, Box::new(fiber), Resume::Begin(0)).await;
    vm.borrow_mut().running.remove(&task.id);
    result
}

/// The orderly end of a run: cancel what still runs, run the shutdown hooks, flush what
/// libraries hold (the finalizers), settle the status.
async fn shut_down(
    vm: &VmRef,
    lifecycle: &Rc<Lifecycle>,
    result: Result<Value, Fault>,
) -> Result<(), Fault> {
    let mut result = result.map(|_| ());
    if let Err(fault) = &result {
        if fault.kind == FaultKind::Cancelled && lifecycle.signal().is_some() {
            // Cancelled by SIGTERM/SIGINT: that is a clean stop.
            result = Ok(());
        }
    }
    // Tasks handling shutdown themselves (servers draining, `signal.wait()`) finish first.
    lifecycle.stop_waiters().await;
    // Cancel every task still running and wait for their cleanups.
    let running: Vec<Rc<Task>> = vm.borrow().running.values().cloned().collect();
    running.iter().for_each(|t| t.cancel());
    for task in &running {
        task.wait().await;
    }
    // Hooks run in reverse order, each on its own task; a failing hook is reported and the
    // others still run.
    let hooks: Vec<Value> = lifecycle.hooks.borrow().iter().rev().cloned().collect();
    for hook in hooks {
        let call = vm.borrow_mut().call_async(hook, Vec::new());
        if let Err(fault) = call.await {
            if let FaultKind::Exit(code) = fault.kind {
                result = Err(Fault::exit(code));
                continue;
            }
            vm.borrow_mut().flush();
            eprint!("{}", fault.report());
            eprintln!("note: raised by a shutdown hook");
            if result.is_ok() {
                result = Err(Fault::exit(1));
            }
        }
    }
    // Script output is out before a finalizer may wait on the network.
    vm.borrow_mut().flush();
    lifecycle.run_finalizers().await;
    if let Some(code) = lifecycle.exit_code() {
        return Err(Fault::exit(code));
    }
    result
}

/// Turns SIGTERM and SIGINT into lifecycle events; a second one exits at once.
async fn watch_signals(
    vm: VmRef,
    lifecycle: Rc<Lifecycle>,
    handlers: (std::io::Result<Signal>, std::io::Result<Signal>),
) {
    let (Ok(mut term), Ok(mut int)) = handlers else {
        eprintln!("cn: cannot install signal handlers; SIGTERM and SIGINT keep their defaults");
        return;
    };
    loop {
        let (name, number) = tokio::select! {
            _ = term.recv() => ("SIGTERM", 15),
            _ = int.recv() => ("SIGINT", 2),
        };
        if lifecycle.stopping() && lifecycle.signal().is_some() {
            if let Ok(mut vm) = vm.try_borrow_mut() {
                vm.flush();
            }
            eprintln!("cn: second {name} during shutdown, exiting now");
            std::process::exit(128 + number);
        }
        lifecycle.signal_received(name);
    }
}
