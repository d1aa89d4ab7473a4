//! `log`: structured logging (seed 000, section 4), for scripts and for the rest of the
//! standard library.
//!
//! Scripts call `log.info("Request handled", method="GET", status=200)`; the http server calls
//! [`emit`] for its lifecycle and access lines. Either way one line goes to stdout through the
//! process's output sink (`cn_runtime::output`), in order with `print`, without ever waiting on a
//! slow reader (past the sink's bound log lines are dropped and counted). Lines are JSON objects
//! when stdout is not a terminal or the process runs in Kubernetes, human text in a terminal;
//! `LOG_FORMAT` and `log.set_format` override that, `LOG_LEVEL` and `log.set_level` set the level
//! (default `info`). Inside a task whose context holds `request_id`, `trace_id` or `span_id` (the
//! http server and the tracing module put them there) every line carries them.
//!
//! Built on the `tracing` crate: a global subscriber with this module's layer ([`install`]) turns
//! Rust-side `tracing` events into the same lines. Script and library lines do not go through
//! `tracing`'s dispatch themselves, because their field names are only known at run time and the
//! access log must stay lean; both share one renderer (`line.rs`).
//!
//! Files: `settings` (level and format), `line` (rendering and the append), `clock`
//! (timestamps), `native` (the script functions), `layer` (the tracing subscriber), `access`
//! (the http access line, rendered by hand because every request writes one).

mod access;
mod clock;
mod layer;
mod line;
mod native;
mod settings;

use cn_runtime::Vm;

pub use access::{access, Access};
pub use layer::install;
pub use line::Field;
pub use native::module;
pub use settings::{Format, Level};

/// Makes the end of a run report log lines dropped since the last report, so a gap at the end
/// of the log (no line came after it to carry the warning) is announced too.
pub fn report_drops_at_exit(vm: &Vm) {
    vm.lifecycle.add_finalizer(Box::new(|| {
        Box::pin(async {
            line::report_drops();
        })
    }));
}

/// Whether a line at `level` would be written; check it before building costly fields.
#[inline]
pub fn enabled(level: Level) -> bool {
    settings::enabled(level)
}

/// Writes one line at `level` with `fields` in order (names must differ from each other),
/// carrying the context ids of the task running in `vm`, if any. Does nothing when the level is
/// filtered out; never waits for stdout and never fails (a line that cannot be written is
/// dropped, as a library has no script to report it to).
pub fn emit(vm: &Vm, level: Level, msg: &str, fields: &[(&str, Field<'_>)]) {
    if settings::enabled(level) {
        let _ = line::write(vm.current_task(), level, msg, fields.iter().copied());
    }
}
