//! `os`: the process and its surroundings: arguments, environment, working directory, host and
//! pid, and subprocesses (`process`).
//!
//! `os.setenv` changes the environment the program sees (`os.getenv`, `os.environ`) and gives
//! its children, not the process's own: changing a process's environment while other threads
//! may read it (name resolution on the blocking pool does) is undefined behaviour in C, which
//! is why Rust marks `set_var` unsafe. The changes are kept in a per-thread overlay instead.

mod process;

use std::cell::RefCell;
use std::collections::BTreeMap;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::fs::errors::FsError;

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("getenv", getenv)
        .doc("getenv(name, default=nil)\nThe environment variable `name`, or `default` when it is not set.")
        .params(Params::between(1, 2).keywords(&["default"])),
    Function::new("setenv", setenv)
        .doc("setenv(name, value)\nSets `name` for `getenv`, `environ` and subprocesses (see the module doc); `value=nil` unsets it.")
        .params(Params::exactly(2)),
    Function::new("environ", environ)
        .doc("environ()\nThe whole environment as a dict of strs, sorted by name.")
        .params(Params::NONE),
    Function::new("pid", pid)
        .doc("pid()\nThis process's id.")
        .params(Params::NONE),
    Function::new("hostname", hostname)
        .doc("hostname()\nThe machine's host name (in Kubernetes, the pod's name).")
        .params(Params::NONE),
    Function::new("cwd", cwd)
        .doc("cwd()\nThe working directory.")
        .params(Params::NONE),
    Function::new("chdir", chdir)
        .doc("chdir(path)\nChanges the working directory; `Ok(nil)`, or `Err(NotFound(path))` and the like.")
        .params(Params::exactly(1)),
    Function::new("run", process::run)
        .doc("run(cmd, input=nil, timeout=nil, env=nil, cwd=nil, binary=false)\nRuns the program `cmd[0]` with arguments `cmd[1:]` (no shell) and waits: `Ok(os.Completed)` with `status`, `ok`, `stdout`, `stderr`; `Err(NotFound(cmd0))` if it cannot start, `Err(Timeout)` after killing it at `timeout`.")
        .params(Params::exactly(1).keywords(&["input", "timeout", "env", "cwd", "binary"])),
    Function::new("spawn", process::spawn)
        .doc("spawn(cmd, env=nil, cwd=nil)\nStarts `cmd` without waiting: `Ok(os.Process)` whose `lines()` streams its stdout; `wait()`, `kill()`, `pid`. It is killed if the task that owns it is cancelled.")
        .params(Params::exactly(1).keywords(&["env", "cwd"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, vm: &mut Vm) {
    let args = Value::list(vm.script_args.iter().map(Value::str).collect());
    m.doc("The process: args, environment, pid, hostname, working directory, subprocesses.")
        .functions(FUNCTIONS)
        .value(
            "args",
            "args\nThe script's arguments, as `args()` returns them.",
            args,
        );
}

thread_local! {
    /// Environment changes made by `setenv`: a value, or `None` for unset.
    static OVERLAY: RefCell<BTreeMap<String, Option<String>>> = const { RefCell::new(BTreeMap::new()) };
}

/// The environment variable `name` as the program sees it.
pub(crate) fn env_var(name: &str) -> Option<String> {
    let changed = OVERLAY.with(|overlay| overlay.borrow().get(name).cloned());
    match changed {
        Some(value) => value,
        None => std::env::var(name).ok(),
    }
}

/// The changes `setenv` made, for a child's environment.
pub(crate) fn overlay() -> Vec<(String, Option<String>)> {
    OVERLAY.with(|overlay| {
        overlay
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    })
}

/// A variable name: non-empty, without `=` or NUL (the OS could not hold it).
fn name_arg(args: &Args<'_>) -> Result<String, Fault> {
    let name = args.str(0)?;
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(Fault::new(format!(
            "{}: {name:?} is not a valid environment variable name",
            args.function
        )));
    }
    Ok(name.to_string())
}

fn getenv(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = name_arg(&args)?;
    Ok(match env_var(&name) {
        Some(value) => Value::str(value),
        None => args.get_or_named(1, "default").cloned().unwrap_or_default(),
    })
}

fn setenv(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = name_arg(&args)?;
    let value = match args.value(1)? {
        Value::Nil => None,
        Value::Str(s) if !s.contains('\0') => Some(s.to_string()),
        other => return Err(args.wrong_type(1, "str without NUL, or nil", other)),
    };
    OVERLAY.with(|overlay| overlay.borrow_mut().insert(name, value));
    Ok(Value::Nil)
}

fn environ(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let mut all: BTreeMap<String, String> = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    for (name, value) in overlay() {
        match value {
            Some(value) => all.insert(name, value),
            None => all.remove(&name),
        };
    }
    let mut dict = cn_runtime::dict::new_dict();
    for (name, value) in all {
        if let Ok(key) = cn_runtime::dict::Key::new(Value::str(name)) {
            dict.insert(key, Value::str(value));
        }
    }
    Ok(Value::dict(dict))
}

fn pid(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::Int(i64::from(std::process::id())))
}

fn hostname(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let name = ::hostname::get().map_err(|error| Fault::new(format!("os.hostname: {error}")))?;
    Ok(Value::str(name.to_string_lossy()))
}

fn cwd(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let dir = std::env::current_dir()
        .map_err(|error| Fault::new(format!("os.cwd: the working directory is gone: {error}")))?;
    Ok(Value::str(dir.to_string_lossy()))
}

fn chdir(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let path = args.str(0)?.to_string();
    Ok(match std::env::set_current_dir(&path) {
        Ok(()) => Value::ok(Value::Nil),
        Err(error) => FsError::new(path, error).into_value(),
    })
}
