//! The process-wide log settings: the level below which lines are dropped and the line format.
//!
//! They live in atomics, not in the VM, because stdout is one per process and Rust-side events
//! (the tracing layer) may arrive from any thread. `LOG_LEVEL` and `LOG_FORMAT` are read once,
//! when logging is first asked anything; an invalid value gives one warning line (whatever the
//! level) and the default.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// How important a log line is.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
#[repr(u8)]
pub enum Level {
    /// Detail for developers; off by default.
    Debug = 0,
    /// Normal operation.
    Info = 1,
    /// Something unexpected that the program survived.
    Warn = 2,
    /// Something failed.
    Error = 3,
}

/// The level names `set_level` and `LOG_LEVEL` accept, for messages.
pub const LEVEL_NAMES: &str = "\"debug\", \"info\", \"warn\" or \"error\"";

impl Level {
    /// The name in JSON lines and in `log.level()`: `"info"`.
    pub fn name(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }

    /// The name in text lines: `INFO`.
    pub fn upper(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// A level from its name, in any case; `warning` is accepted for `warn`.
    pub fn parse(name: &str) -> Option<Level> {
        Some(match name.to_ascii_lowercase().as_str() {
            "debug" => Level::Debug,
            "info" => Level::Info,
            "warn" | "warning" => Level::Warn,
            "error" => Level::Error,
            _ => return None,
        })
    }

    fn from_u8(n: u8) -> Level {
        match n {
            0 => Level::Debug,
            1 => Level::Info,
            2 => Level::Warn,
            _ => Level::Error,
        }
    }
}

/// How a line is written.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub enum Format {
    /// One JSON object per line (production: log collectors parse it).
    Json = 0,
    /// `10:30:00.123 INFO msg key=value` (a person at a terminal).
    Text = 1,
}

impl Format {
    /// The name scripts use (`log.JSON == "json"`).
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Text => "text",
        }
    }

    /// A format from its name, in any case.
    pub fn parse(name: &str) -> Option<Format> {
        match name.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "text" => Some(Format::Text),
            _ => None,
        }
    }

    /// JSON when stdout is not a terminal or the process runs in Kubernetes, else text.
    fn default_for_process() -> Format {
        let in_kubernetes =
            std::env::var_os("KUBERNETES_SERVICE_HOST").is_some_and(|host| !host.is_empty());
        if in_kubernetes || !std::io::stdout().is_terminal() {
            Format::Json
        } else {
            Format::Text
        }
    }
}

struct Settings {
    level: AtomicU8,
    format: AtomicU8,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// A problem with the environment found while reading it: the variable, its value, and what was
/// used instead.
pub(crate) struct EnvWarning {
    pub variable: &'static str,
    pub value: String,
    pub expected: &'static str,
    pub using: &'static str,
}

fn settings() -> &'static Settings {
    if let Some(settings) = SETTINGS.get() {
        return settings;
    }
    let mut warnings = Vec::new();
    let settings = SETTINGS.get_or_init(|| from_env(&mut warnings));
    // Written after the settings exist: writing a line reads them.
    for warning in warnings {
        super::line::env_warning(&warning);
    }
    settings
}

/// One variable: unset or empty is the default without a word; anything else must parse.
fn env_value<T: Copy>(
    variable: &'static str,
    parse: fn(&str) -> Option<T>,
    default: (T, &'static str),
    expected: &'static str,
    warnings: &mut Vec<EnvWarning>,
) -> T {
    let Some(raw) = std::env::var_os(variable) else {
        return default.0;
    };
    let text = raw.to_string_lossy();
    if text.is_empty() {
        return default.0;
    }
    parse(text.trim()).unwrap_or_else(|| {
        warnings.push(EnvWarning {
            variable,
            value: text.into_owned(),
            expected,
            using: default.1,
        });
        default.0
    })
}

fn from_env(warnings: &mut Vec<EnvWarning>) -> Settings {
    let level = env_value(
        "LOG_LEVEL",
        Level::parse,
        (Level::Info, "info"),
        "debug|info|warn|error",
        warnings,
    );
    let default_format = Format::default_for_process();
    let format = env_value(
        "LOG_FORMAT",
        Format::parse,
        (default_format, default_format.name()),
        "json|text",
        warnings,
    );
    Settings {
        level: AtomicU8::new(level as u8),
        format: AtomicU8::new(format as u8),
    }
}

/// Whether a line at `level` is written: one atomic load once the settings are read.
#[inline]
pub fn enabled(level: Level) -> bool {
    level as u8 >= settings().level.load(Ordering::Relaxed)
}

/// The current level.
pub fn level() -> Level {
    Level::from_u8(settings().level.load(Ordering::Relaxed))
}

/// Sets the level for the whole process.
pub fn set_level(level: Level) {
    settings().level.store(level as u8, Ordering::Relaxed);
}

/// The current format.
pub fn format() -> Format {
    match settings().format.load(Ordering::Relaxed) {
        0 => Format::Json,
        _ => Format::Text,
    }
}

/// Sets the format for the whole process.
pub fn set_format(format: Format) {
    settings().format.store(format as u8, Ordering::Relaxed);
}
