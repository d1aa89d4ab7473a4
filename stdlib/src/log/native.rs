//! The script side of `log`: `log.debug/info/warn/error(msg, **fields)`, `log.set_level`,
//! `log.level()`, `log.set_format`, `log.format()` and the constants `log.JSON` and `log.TEXT`.

use cn_runtime::format;
use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use super::line::{self, Field};
use super::settings::{self, Format, Level, LEVEL_NAMES};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("debug", debug)
        .doc("debug(msg, **fields)\nA debug line: `msg`, then the keyword arguments as fields.")
        .params(Params::exactly(1).any_keywords()),
    Function::new("info", info)
        .doc("info(msg, **fields)\nAn info line: `msg`, then the keyword arguments as fields.")
        .params(Params::exactly(1).any_keywords()),
    Function::new("warn", warn)
        .doc("warn(msg, **fields)\nA warn line: `msg`, then the keyword arguments as fields.")
        .params(Params::exactly(1).any_keywords()),
    Function::new("error", error)
        .doc("error(msg, **fields)\nAn error line: `msg`, then the keyword arguments as fields.")
        .params(Params::exactly(1).any_keywords()),
    Function::new("set_level", set_level)
        .doc("set_level(name)\nThe lowest level written, for the whole process: \"debug\", \"info\", \"warn\" or \"error\".")
        .params(Params::exactly(1)),
    Function::new("level", level).doc("level()\nThe current level's name."),
    Function::new("set_format", set_format)
        .doc("set_format(format)\nlog.JSON or log.TEXT, for the whole process.")
        .params(Params::exactly(1)),
    Function::new("format", format_name)
        .doc("format()\nThe format in effect: \"json\" or \"text\"."),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc(
        "Structured logs: one JSON (or text) line per call, with the task's trace and request ids.",
    )
    .functions(FUNCTIONS)
    .value(
        "JSON",
        "JSON\nThe JSON lines format (the default when stdout is not a terminal).",
        Value::str(Format::Json.name()),
    )
    .value(
        "TEXT",
        "TEXT\nThe human-readable format (the default on a terminal).",
        Value::str(Format::Text.name()),
    );
}

/// log.debug(msg, **fields)
fn debug(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    log_at(vm, args, Level::Debug)
}

/// log.info(msg, **fields)
fn info(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    log_at(vm, args, Level::Info)
}

/// log.warn(msg, **fields)
fn warn(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    log_at(vm, args, Level::Warn)
}

/// log.error(msg, **fields)
fn error(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    log_at(vm, args, Level::Error)
}

/// One line at `level`: the message (`str()` of a non-string), then the keyword arguments as
/// fields in call order. A filtered call costs the declared argument check and one atomic load.
fn log_at(vm: &mut Vm, args: Args<'_>, level: Level) -> Result<Value, Fault> {
    if !settings::enabled(level) {
        return Ok(Value::Nil);
    }
    let text;
    let msg = match args.value(0)? {
        Value::Str(s) => s.as_str(),
        other => {
            text = format::display(other);
            text.as_str()
        }
    };
    let fields = args
        .names
        .iter()
        .zip(args.named)
        .map(|(name, value)| (name.name(), Field::Value(value)));
    let written = line::write(vm.current_task(), level, msg, fields);
    // Like `print`: a closed pipe ends the program quietly. A line dropped because stdout is
    // far behind is not an error (it is counted for metrics).
    written.map(|_| Value::Nil).map_err(|e| vm.output_failed(e))
}

/// log.set_level(name): "debug", "info", "warn" or "error", for the whole process.
fn set_level(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = args.str(0)?;
    let level = Level::parse(name).ok_or_else(|| {
        Fault::new(format!(
            "log.set_level: unknown level {} (expected {LEVEL_NAMES})",
            format::repr(&args.positional[0])
        ))
    })?;
    settings::set_level(level);
    Ok(Value::Nil)
}

/// log.level(): the current level's name.
fn level(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(settings::level().name()))
}

/// log.set_format(log.JSON or log.TEXT), for the whole process.
fn set_format(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = args.str(0)?;
    let format = Format::parse(name).ok_or_else(|| {
        Fault::new(format!(
            "log.set_format: unknown format {} (expected log.JSON or log.TEXT)",
            format::repr(&args.positional[0])
        ))
    })?;
    settings::set_format(format);
    Ok(Value::Nil)
}

/// log.format(): "json" or "text", the format in effect.
fn format_name(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(settings::format().name()))
}
