//! The process's tracer: the sampler and (when an endpoint is configured) the exporter, set up
//! from the environment on first use and kept for the interpreter thread.
//!
//! Setting up registers the exporter's flush as a lifecycle finalizer, so spans that ended just
//! before the script did still reach the collector.

use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use cn_runtime::Vm;

use super::config;
use super::export::Exporter;
use super::sampler::Sampler;

/// Sampler and exporter, shared by every span of the process.
pub struct Tracer {
    /// Decides which new traces are sampled.
    pub sampler: Sampler,
    /// Where recorded spans go; `None` when nothing is exported (spans then never record).
    pub exporter: Option<Rc<Exporter>>,
}

thread_local! {
    static TRACER: OnceCell<Rc<Tracer>> = const { OnceCell::new() };
    /// The application's name (`app.Application(name=)`), which replaces the script's file
    /// name as the default `service.name`.
    static APP_NAME: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Makes `name` the default `service.name` (the environment's `OTEL_SERVICE_NAME` or a
/// `service.name` in `OTEL_RESOURCE_ATTRIBUTES` still wins), also for a tracer already set up.
pub fn set_service_name(name: &str) {
    APP_NAME.with(|app| *app.borrow_mut() = Some(name.to_string()));
    let tracer = TRACER.with(|cell| cell.get().cloned());
    if let Some(exporter) = tracer.as_ref().and_then(|t| t.exporter.as_ref()) {
        let config = config::from_env(|name| std::env::var(name).ok(), Some(name));
        if let Some(export) = config.export {
            exporter.set_resource(&export.resource);
        }
    }
}

/// The tracer, set up on the first call (reading the environment, printing any warning about
/// it once, registering the exporter's finalizer with `vm`'s lifecycle).
pub fn tracer(vm: &Vm) -> Rc<Tracer> {
    TRACER.with(|cell| cell.get_or_init(|| set_up(vm)).clone())
}

fn set_up(vm: &Vm) -> Rc<Tracer> {
    let script = APP_NAME
        .with(|app| app.borrow().clone())
        .or_else(script_stem);
    let config = config::from_env(|name| std::env::var(name).ok(), script.as_deref());
    for warning in &config.warnings {
        eprintln!("cn: tracing: {warning}");
    }
    let exporter = config.export.map(Exporter::start);
    if let Some(exporter) = &exporter {
        let exporter = exporter.clone();
        vm.lifecycle.add_finalizer(Box::new(move || {
            Box::pin(async move { exporter.shut_down().await })
        }));
    }
    Rc::new(Tracer {
        sampler: config.sampler,
        exporter,
    })
}

/// The running script's file stem (`cn run orders.cn` → `orders`), the default service name.
/// Read from the command line because the VM does not keep the script's path.
pub fn script_stem() -> Option<String> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "run" {
        return None;
    }
    let path = std::path::PathBuf::from(args.next()?);
    Some(path.file_stem()?.to_string_lossy().into_owned())
}
