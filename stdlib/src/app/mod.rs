//! `app`: the application lifecycle of seed 000 ("Standard Lifecycle Hooks"). An
//! `app.Application` collects startup, ready and shutdown hooks and runs servers and background
//! tasks through the one sequence the runtime already has for a process (run.rs): startup hooks,
//! servers bound, ready hooks, readiness, ... SIGTERM, drain, shutdown hooks in reverse,
//! telemetry flushed. `hooks` runs one phase's hooks within its budget. The application's name
//! is the default `service.name` of its spans and the `app` label of `app_info`. The reference
//! is `spec/app.md`.

mod hooks;
mod run;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use cn_runtime::native::{Function, Member, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::tasks::TaskHandle;
use cn_runtime::{Args, Fault, Value, Vm};

use crate::http::server::{Server, Shutdown};
use crate::time::duration_option;
use run::{Background, Plan};

/// How long startup may take by default: the startup probe `cn build` writes allows as much.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the background tasks' ends and the shutdown hooks may take together by default.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);

static FUNCTIONS: &[Function] = &[Function::new("Application", new_application)
    .doc("Application(name=nil, startup_timeout=60.seconds, shutdown_timeout=10.seconds)\nAn application: lifecycle hooks (`on_startup`, `on_ready`, `on_shutdown`) around servers and background tasks, run by `run(...)`. `name` defaults to the script's file name.")
    .params(Params::between(0, 1).keywords(&["name", "startup_timeout", "shutdown_timeout"]))];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Application lifecycle: startup, ready and shutdown hooks around servers and background tasks.")
        .functions(FUNCTIONS);
}

/// An application's hooks and settings.
pub(crate) struct State {
    name: String,
    startup_timeout: Duration,
    shutdown_timeout: Duration,
    startup: RefCell<Vec<Value>>,
    ready: RefCell<Vec<Value>>,
    shutdown: RefCell<Vec<Value>>,
    running: Cell<bool>,
}

/// The script-visible application.
pub struct Application(Rc<State>);

/// app.Application(name=nil, startup_timeout=60.seconds, shutdown_timeout=10.seconds)
fn new_application(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = match args.get_or_named(0, "name") {
        None | Some(Value::Nil) => {
            crate::trace::tracer::script_stem().unwrap_or_else(|| "app".to_string())
        }
        Some(Value::Str(s)) if s.trim().is_empty() => {
            return Err(Fault::new("app.Application: name must not be empty"))
        }
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => return Err(args.wrong_type(0, "str", other)),
    };
    let startup_timeout = duration_option(&args, usize::MAX, "startup_timeout", STARTUP_TIMEOUT)?;
    let shutdown_timeout =
        duration_option(&args, usize::MAX, "shutdown_timeout", SHUTDOWN_TIMEOUT)?;
    crate::trace::tracer::set_service_name(&name);
    crate::metrics::app::info(&name);
    crate::describe::app(&name, startup_timeout);
    Ok(NativeObject::value(Application(Rc::new(State {
        name,
        startup_timeout,
        shutdown_timeout,
        startup: RefCell::new(Vec::new()),
        ready: RefCell::new(Vec::new()),
        shutdown: RefCell::new(Vec::new()),
        running: Cell::new(false),
    }))))
}

type M = Member<Application>;

/// Registers the hook argument in the list `hooks` picks; returns it (a decorator).
fn add_hook(
    app: &Application,
    args: &Args<'_>,
    hooks: fn(&State) -> &RefCell<Vec<Value>>,
) -> Result<Value, Fault> {
    let hook = args.value(0)?.clone();
    if !hook.is_callable() {
        return Err(args.wrong_type(0, "function", &hook));
    }
    hooks(&app.0).borrow_mut().push(hook.clone());
    Ok(hook)
}

/// What `app.Application(..)` returns.
static APPLICATION: Table<Application> = Table::new(
    "app.Application",
    "An application: lifecycle hooks around servers and background tasks.",
    &[
        M::method("on_startup", |a, _, args| add_hook(a, &args, |s| &s.startup))
            .doc("on_startup(f)\nRuns `f()` before any server listens, in registration order; a fault or timeout exits 1 before serving. Returns `f` (a decorator).")
            .params(Params::exactly(1)),
        M::method("on_ready", |a, _, args| add_hook(a, &args, |s| &s.ready))
            .doc("on_ready(f)\nRuns `f()` once every server listens, before /readyz passes. Returns `f` (a decorator).")
            .params(Params::exactly(1)),
        M::method("on_shutdown", |a, _, args| add_hook(a, &args, |s| &s.shutdown))
            .doc("on_shutdown(f)\nRuns `f()` after the servers drained, in reverse registration order. Returns `f` (a decorator).")
            .params(Params::exactly(1)),
        M::method("run", |a, vm, args| a.run(vm, &args))
            .doc("run(*servers_and_tasks, shutdown_delay=, drain_timeout=30.seconds)\nStarts up, serves every server and runs every background task (a function or a Task) until SIGTERM, then shuts all of them down together.")
            .params(Params::at_least(0).keywords(&["shutdown_delay", "drain_timeout"])),
        M::attribute("name", |a, _| Ok(Value::str(&*a.0.name)))
            .doc("name\nThe application's name: the default service.name of its spans."),
    ],
);

impl NativeType for Application {
    fn type_name(&self) -> &str {
        "app.Application"
    }

    fn members(&self) -> &'static dyn Members {
        &APPLICATION
    }

    fn display(&self) -> String {
        format!("<app.Application {}>", self.0.name)
    }
}

impl Application {
    fn run(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        let mut plan = Plan {
            servers: Vec::new(),
            background: Vec::new(),
            shutdown: Shutdown::from_args(args, "drain_timeout")?,
        };
        for (i, item) in args.positional.iter().enumerate() {
            if let Value::Object(object) = item {
                if let Some(server) = object.downcast::<Server>() {
                    plan.servers.push(Server(server.0.clone()));
                    continue;
                }
                if let Some(task) = object.downcast::<TaskHandle>() {
                    plan.background.push(Background::Task(task.0.clone()));
                    continue;
                }
            }
            if !item.is_callable() {
                return Err(args.wrong_type(i, "http.Server, function or Task", item));
            }
            plan.background.push(Background::Function(item.clone()));
        }
        if crate::describe::active() {
            // `cn build` asks what would be served: no hook runs, nothing is bound.
            for server in &plan.servers {
                server.describe(&plan.shutdown, self.0.shutdown_timeout);
            }
            return Ok(Value::Nil);
        }
        if self.0.running.replace(true) {
            return Err(Fault::new(
                "application.run: this application is already running",
            ));
        }
        let state = self.0.clone();
        let handle = vm.handle();
        let lifecycle = vm.lifecycle.clone();
        let main_waits = lifecycle.main_waits(vm.current_task());
        Ok(vm.suspend(async move {
            let _main_waits = main_waits;
            let result = run::run(state.clone(), handle, lifecycle, plan).await;
            state.running.set(false);
            result
        }))
    }
}
