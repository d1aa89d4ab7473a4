//! `runtime`: what the process can know about where it runs (seed 000, "Application
//! Lifecycle"): in Kubernetes or a container, the memory and CPU limits of its cgroup (v2 and v1,
//! cgroup.rs), the memory it uses, its pod (downward-API variables), and cn's version. The
//! reference is `spec/runtime.md`.

pub mod cgroup;
pub mod defaults;

use std::path::Path;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use cgroup::Host;

/// Where a pod's service-account files are mounted.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

static FUNCTIONS: &[Function] = &[
    Function::new("in_kubernetes", |_, _| Ok(Value::Bool(in_kubernetes())))
        .doc("in_kubernetes()\nWhether this runs in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set, or the service-account files are mounted).")
        .params(Params::exactly(0)),
    Function::new("in_container", |_, _| Ok(Value::Bool(in_container())))
        .doc("in_container()\nWhether this runs in a container (Kubernetes, Docker, Podman, runc, containerd, ...).")
        .params(Params::exactly(0)),
    Function::new("memory_limit", |_, _| {
        Ok(cgroup::memory_limit(&Host).map_or(Value::Nil, |b| Value::Int(clamp(b))))
    })
    .doc("memory_limit()\nThe memory limit of this process's cgroup in bytes (the smallest set on it or an ancestor; v2 or v1), or nil when unlimited.")
    .params(Params::exactly(0)),
    Function::new("cpu_limit", |_, _| {
        Ok(cgroup::cpu_limit(&Host).map_or(Value::Nil, Value::Float))
    })
    .doc("cpu_limit()\nThe CPU limit in cores (quota / period: 1.5 for `cpu: 1500m`), or nil when unlimited.")
    .params(Params::exactly(0)),
    Function::new("memory_usage", |_, _| {
        Ok(memory_usage().map_or(Value::Nil, |b| Value::Int(clamp(b))))
    })
    .doc("memory_usage()\nThe memory in use in bytes: the cgroup's (what its limit is compared with), else this process's resident memory.")
    .params(Params::exactly(0)),
    Function::new("collect_cycles", |_, _| {
        Ok(Value::Int(cn_runtime::cycles::collect() as i64))
    })
    .doc("collect_cycles()\nFrees unreachable reference cycles now (a tree whose nodes point at their parents, a recursive nested function) and returns how many lists, dicts, records, cells and functions it freed. They are also freed automatically as new containers are made.")
    .params(Params::exactly(0)),
    Function::new("pod", pod)
        .doc("pod()\n`{\"name\": .., \"namespace\": .., \"node\": ..}` in Kubernetes (POD_NAME / HOSTNAME, POD_NAMESPACE / the service account's namespace, NODE_NAME; a field nil when unknown), else nil.")
        .params(Params::exactly(0)),
    Function::new("tasks", tasks)
        .doc("tasks()\nThe tasks running now, oldest first, as `{\"id\": n, \"context\": {...}}` (a request handler's context holds its request_id): what a service is doing, seen from `cn repl --attach`.")
        .params(Params::exactly(0)),
    Function::new("version", |_, _| Ok(Value::str(env!("CARGO_PKG_VERSION"))))
        .doc("version()\nThe version of cn running this script.")
        .params(Params::exactly(0)),
];

/// runtime.tasks(): the running tasks and their contexts.
fn tasks(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let tasks = vm
        .running_tasks()
        .into_iter()
        .map(|(id, entries)| {
            let mut context = new_dict();
            for (key, value) in entries {
                context.insert(Key::str(&key), value);
            }
            let mut task = new_dict();
            task.insert(Key::str("id"), Value::Int(id as i64));
            task.insert(Key::str("context"), Value::dict(context));
            Value::dict(task)
        })
        .collect();
    Ok(Value::list(tasks))
}

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Where the process runs: Kubernetes, a container, its cgroup's memory and CPU limits, its pod.")
        .functions(FUNCTIONS);
}

fn clamp(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// Whether this runs in a Kubernetes pod.
pub fn in_kubernetes() -> bool {
    std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|h| !h.is_empty())
        || Path::new(SERVICE_ACCOUNT_DIR).is_dir()
}

/// Whether this runs in a container: the engines' marker files, the `container` variable
/// (systemd-nspawn, Podman), Kubernetes, a cgroup path an engine made, or a root file system
/// that is an overlay or a part of another file system (what runc's pivot leaves).
pub fn in_container() -> bool {
    if in_kubernetes()
        || Path::new("/.dockerenv").exists()
        || Path::new("/run/.containerenv").exists()
        || std::env::var_os("container").is_some_and(|c| !c.is_empty())
    {
        return true;
    }
    let cgroups = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let engines = ["docker", "kubepods", "containerd", "libpod", "lxc", "crio"];
    if engines.iter().any(|engine| cgroups.contains(engine)) {
        return true;
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    mounts.lines().any(|line| {
        let (before, after) = line.split_once(" - ").unwrap_or((line, ""));
        let fields: Vec<&str> = before.split(' ').collect();
        fields.get(4) == Some(&"/")
            && (fields.get(3) != Some(&"/") || after.starts_with("overlay "))
    })
}

/// The cgroup's memory use, else this process's resident set.
pub fn memory_usage() -> Option<u64> {
    cgroup::memory_usage(&Host).or_else(|| {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096)
    })
}

/// runtime.pod()
fn pod(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    if !in_kubernetes() {
        return Ok(Value::Nil);
    }
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let namespace = var("POD_NAMESPACE").or_else(|| {
        std::fs::read_to_string(Path::new(SERVICE_ACCOUNT_DIR).join("namespace"))
            .ok()
            .map(|ns| ns.trim().to_string())
    });
    let mut out = new_dict();
    let text = |v: Option<String>| v.map_or(Value::Nil, Value::str);
    out.insert(
        Key::str("name"),
        text(var("POD_NAME").or_else(|| var("HOSTNAME"))),
    );
    out.insert(Key::str("namespace"), text(namespace));
    out.insert(Key::str("node"), text(var("NODE_NAME")));
    Ok(Value::dict(out))
}

/// Logs the limits the process runs under and the http defaults derived from them, once, when
/// the first server starts listening (a service's logs then say what it was given), and starts
/// the memory watch; nothing when no limit is set.
pub fn announce_limits(vm: &cn_runtime::tasks::VmRef) {
    static ANNOUNCED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    // Decided once: later servers read no cgroup file.
    if ANNOUNCED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let memory = cgroup::memory_limit(&Host);
    let cpu = cgroup::cpu_limit(&Host);
    if memory.is_none() && cpu.is_none() {
        return;
    }
    use crate::log::{self, Field, Level};
    let mut fields = Vec::new();
    if let Some(bytes) = memory {
        fields.push(("memory_limit_bytes", Field::Int(clamp(bytes))));
        fields.push((
            "http_max_connections",
            Field::Int(defaults::max_connections() as i64),
        ));
        fields.push((
            "http_body_budget_bytes",
            Field::Int(clamp(defaults::body_budget(0) as u64)),
        ));
    }
    if let Some(cores) = cpu {
        fields.push(("cpu_limit_cores", Field::Float(cores)));
    }
    fields.push(("in_kubernetes", Field::Bool(in_kubernetes())));
    log::emit(&vm.borrow(), Level::Info, "resource limits", &fields);
    if let Some(limit) = memory {
        defaults::watch_memory(vm, limit);
    }
}
