//! Rust-side events (`tracing::warn!(...)` in library code) written as log lines: the same
//! format, the same level, the same stdout sink as script logging.
//!
//! The layer sits on a `tracing-subscriber` [`Registry`] installed as the global default at
//! start-up ([`install`], called from `cn_stdlib::register`), so events raised before a script
//! first logs are not lost. Spans are not recorded here (the `tracing` module has its own), and
//! `trace`-level events are never shown. Events from other crates (h2, rustls, ...) are shown
//! from `warn` up whatever the level, so `LOG_LEVEL=debug` shows the program's own detail without
//! the protocol chatter of every library; such lines carry the event's `target`. kube's events
//! are the exception, shown only at `LOG_LEVEL=debug`: every failure they report reaches the
//! script as an `Err` or is logged by the `k8s` module's watcher, so they would only say it twice.

use std::fmt::Write;
use std::sync::Once;

use tracing::field::{Field as EventField, Visit};
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::Registry;

use super::line::{self, Field};
use super::settings::{self, Level};

/// Installs the global subscriber once; a no-op if one is already installed (tests that
/// install their own).
pub fn install() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let layer = LogLayer {
            append: line::to_stdout,
        };
        let _ = tracing::subscriber::set_global_default(Registry::default().with(layer));
    });
}

/// The layer; `append` is where its lines go (stdout, or a test's buffer).
struct LogLayer {
    append: line::Append,
}

/// True for events raised by cn's own crates (`cn_stdlib::http::server`, ...).
fn is_ours(target: &str) -> bool {
    target == "cn" || target.starts_with("cn_") || target.starts_with("cn::")
}

/// The log level an event is written at, if it is written at all.
fn level_of(metadata: &Metadata<'_>) -> Option<Level> {
    let level = match *metadata.level() {
        tracing::Level::ERROR => Level::Error,
        tracing::Level::WARN => Level::Warn,
        tracing::Level::INFO => Level::Info,
        tracing::Level::DEBUG => Level::Debug,
        tracing::Level::TRACE => return None,
    };
    let target = metadata.target();
    let shown = settings::enabled(level)
        && if target.starts_with("kube_") {
            settings::enabled(Level::Debug)
        } else {
            level >= Level::Warn || is_ours(target)
        };
    shown.then_some(level)
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        // The level can change while the program runs, so events are asked each time; spans
        // and trace-level events never.
        if metadata.is_span() || *metadata.level() == tracing::Level::TRACE {
            Interest::never()
        } else {
            Interest::sometimes()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _: Context<'_, S>) -> bool {
        metadata.is_event() && level_of(metadata).is_some()
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::DEBUG)
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let metadata = event.metadata();
        let Some(level) = level_of(metadata) else {
            return;
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        if !is_ours(metadata.target()) {
            fields
                .values
                .push(("target", Owned::Str(metadata.target().to_string())));
        }
        let borrowed = fields.values.iter().map(|(key, value)| {
            let field = match value {
                Owned::Str(s) => Field::Str(s),
                Owned::Int(i) => Field::Int(*i),
                Owned::Float(f) => Field::Float(*f),
                Owned::Bool(b) => Field::Bool(*b),
            };
            (*key, field)
        });
        // Library code has no script to report a failed stdout to; the program's next print
        // finds out.
        let _ = line::write_to(self.append, None, level, &fields.message, borrowed);
    }
}

enum Owned {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

/// The `message` of an event and its other fields, in order.
#[derive(Default)]
struct Fields {
    message: String,
    values: Vec<(&'static str, Owned)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &EventField, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            self.values
                .push((field.name(), Owned::Str(value.to_string())));
        }
    }

    fn record_i64(&mut self, field: &EventField, value: i64) {
        self.values.push((field.name(), Owned::Int(value)));
    }

    fn record_u64(&mut self, field: &EventField, value: u64) {
        let value = i64::try_from(value).map_or(Owned::Float(value as f64), Owned::Int);
        self.values.push((field.name(), value));
    }

    fn record_f64(&mut self, field: &EventField, value: f64) {
        self.values.push((field.name(), Owned::Float(value)));
    }

    fn record_bool(&mut self, field: &EventField, value: bool) {
        self.values.push((field.name(), Owned::Bool(value)));
    }

    fn record_debug(&mut self, field: &EventField, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            self.values
                .push((field.name(), Owned::Str(format!("{value:?}"))));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Mutex, PoisonError};

    static SEEN: Mutex<Vec<u8>> = Mutex::new(Vec::new());

    fn collect(line: &[u8]) -> std::io::Result<bool> {
        SEEN.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(line);
        Ok(true)
    }

    #[test]
    fn rust_events_become_log_lines_with_their_fields() {
        settings::set_level(Level::Info);
        settings::set_format(settings::Format::Json);
        let subscriber = Registry::default().with(LogLayer { append: collect });
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(
                free_mb = 12,
                volume = "/data",
                full = true,
                "disk almost full"
            );
            tracing::debug!("below the level");
            tracing::info!(target: "h2::proto", "library detail below warn");
            tracing::error!(target: "h2::proto", code = 2u64, "library failure");
            let _span = tracing::info_span!("not recorded").entered();
        });
        let seen = String::from_utf8_lossy(&SEEN.lock().unwrap_or_else(PoisonError::into_inner))
            .into_owned();
        let lines: Vec<&str> = seen.lines().collect();
        assert_eq!(lines.len(), 2, "{seen}");
        assert!(
            lines[0].ends_with(
                "\"level\":\"warn\",\"msg\":\"disk almost full\",\"free_mb\":12,\"volume\":\"/data\",\
                 \"full\":true}"
            ),
            "{seen}"
        );
        assert!(
            lines[1].ends_with(
                "\"level\":\"error\",\"msg\":\"library failure\",\"code\":2,\"target\":\"h2::proto\"}"
            ),
            "{seen}"
        );
    }
}
