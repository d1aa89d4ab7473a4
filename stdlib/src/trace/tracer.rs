//! The process's tracer: the sampler and (when an endpoint is configured) the exporter, set up
//! from the environment on first use and kept for the interpreter thread.
//!
//! Setting up registers the exporter's flush as a lifecycle finalizer, so spans that ended just
//! before the script did still reach the collector.

use std::cell::OnceCell;
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
}

/// The tracer, set up on the first call (reading the environment, printing any warning about
/// it once, registering the exporter's finalizer with `vm`'s lifecycle).
pub fn tracer(vm: &Vm) -> Rc<Tracer> {
    TRACER.with(|cell| cell.get_or_init(|| set_up(vm)).clone())
}

fn set_up(vm: &Vm) -> Rc<Tracer> {
    let script = script_stem();
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
fn script_stem() -> Option<String> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != "run" {
        return None;
    }
    let path = std::path::PathBuf::from(args.next()?);
    Some(path.file_stem()?.to_string_lossy().into_owned())
}
