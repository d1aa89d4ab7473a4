//! `time`: sleeping, deadlines, wall-clock and monotonic time.
//!
//! Durations are the language's own values (`60.seconds`, `100.ms`); every function that takes
//! one also takes a number of seconds. `time.now()` is a `time.Time` that prints as RFC 3339 in
//! UTC. `time.timeout(d, f)` runs `f` as a task and cancels it when the deadline passes.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cn_runtime::native::{Function, Member, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType, Variant};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("sleep", sleep)
        .doc("sleep(d)\nWaits `d`; other tasks run meanwhile. `sleep(0)` just lets them run.")
        .params(Params::exactly(1)),
    Function::new("timeout", timeout)
        .doc("timeout(d, f)\n`Ok(f())`, or `Err(Timeout)` once `d` has passed — `f` is then cancelled and its `defer`s have run. A fault in `f` is raised here.")
        .params(Params::exactly(2)),
    Function::new("now", now)
        .doc("now()\nThe current wall-clock time.")
        .params(Params::NONE),
    Function::new("since", since)
        .doc("since(t)\nThe duration from time `t` until now.")
        .params(Params::exactly(1)),
    Function::new("monotonic", monotonic)
        .doc("monotonic()\nSeconds (a float) on a clock that never goes back; only differences mean anything.")
        .params(Params::NONE),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Sleeping, deadlines, wall-clock and monotonic time.")
        .functions(FUNCTIONS)
        .value(
            "Timeout",
            "Timeout\nThe error `time.timeout` returns when the deadline passes: `Err(Timeout)`.",
            timeout_error(),
        );
}

/// The error `time.timeout` returns: `Err(Timeout)`.
pub(crate) fn timeout_error() -> Value {
    Variant::value("time", "Timeout", Vec::new())
}

/// A duration argument: a duration value or a number of seconds, never negative.
pub(crate) fn duration_arg(args: &Args<'_>, i: usize) -> Result<Duration, Fault> {
    duration_value(args.value(i)?).map_err(|expected| match expected {
        Some(got) => args.wrong_type(i, "duration or seconds", &got),
        None => Fault::new(format!(
            "{}: the duration must not be negative",
            args.function
        )),
    })
}

/// A duration from a duration value or a number of seconds; `Err(Some(value))` for a wrong type,
/// `Err(None)` for a negative duration.
pub(crate) fn duration_value(value: &Value) -> Result<Duration, Option<Value>> {
    let nanos = match value {
        Value::Duration(nanos) => *nanos as f64,
        Value::Int(seconds) => *seconds as f64 * 1e9,
        Value::Float(seconds) if seconds.is_finite() => seconds * 1e9,
        other => return Err(Some(other.clone())),
    };
    if nanos < 0.0 {
        return Err(None);
    }
    Ok(Duration::from_nanos(nanos.min(u64::MAX as f64) as u64))
}

/// A named duration option (`timeout=2.seconds`), or `default` when absent.
pub(crate) fn duration_option(
    args: &Args<'_>,
    i: usize,
    name: &str,
    default: Duration,
) -> Result<Duration, Fault> {
    match args.get_or_named(i, name) {
        None | Some(Value::Nil) => Ok(default),
        Some(value) => duration_value(value).map_err(|got| match got {
            Some(got) => Fault::new(format!(
                "{}: {name} must be a duration or seconds, got {}",
                args.function,
                got.type_name()
            )),
            None => Fault::new(format!("{}: {name} must not be negative", args.function)),
        }),
    }
}

/// time.sleep(d): waits `d`; other tasks run meanwhile. `sleep(0)` just lets them run.
fn sleep(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let duration = duration_arg(&args, 0)?;
    Ok(vm.suspend(async move {
        if duration.is_zero() {
            cn_runtime::tasks::yield_to_others().await;
        } else {
            tokio::time::sleep(duration).await;
        }
        Ok(Value::Nil)
    }))
}

/// time.timeout(d, f): `Ok(f())`, or `Err(Timeout)` once `d` has passed — `f` is then cancelled
/// and its `defer`s have run. A fault in `f` is raised here.
pub(crate) fn timeout(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let duration = duration_arg(&args, 0)?;
    let callback = vm.start_callback(args.value(1)?.clone(), Vec::new());
    Ok(vm.suspend(async move {
        tokio::select! {
            result = callback.result() => result.map(Value::ok),
            _ = tokio::time::sleep(duration) => {
                callback.task().cancel();
                callback.task().wait().await;
                Ok(Value::err(timeout_error()))
            }
        }
    }))
}

/// time.now(): the current wall-clock time.
fn now(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(NativeObject::value(Time(SystemTime::now())))
}

/// A `time.Time` value for `at` (`fs.stat(p).mtime`).
pub(crate) fn time_value(at: SystemTime) -> Value {
    NativeObject::value(Time(at))
}

/// time.since(t): the duration from time `t` until now.
fn since(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let time = match args.value(0)? {
        Value::Object(object) => object.downcast::<Time>().map(|t| t.0),
        _ => None,
    };
    let Some(time) = time else {
        return Err(args.wrong_type(0, "time.Time", args.value(0)?));
    };
    let elapsed = SystemTime::now()
        .duration_since(time)
        .unwrap_or(Duration::ZERO);
    Ok(Value::Duration(
        elapsed.as_nanos().min(i64::MAX as u128) as i64
    ))
}

/// time.monotonic(): seconds (a float) on a clock that never goes back; only differences mean
/// anything.
fn monotonic(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    Ok(Value::Float(start.elapsed().as_secs_f64()))
}

/// A wall-clock instant (`time.Time`).
struct Time(SystemTime);

impl Time {
    fn unix_duration(&self) -> Duration {
        self.0.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO)
    }

    fn rfc3339(&self) -> String {
        humantime::format_rfc3339_millis(self.0).to_string()
    }
}

type M = Member<Time>;

/// What `time.now()` returns.
static TIME: Table<Time> = Table::new(
    "time.Time",
    "A wall-clock instant, as `time.now()` returns it; prints as RFC 3339 in UTC.",
    &[
        M::method("rfc3339", |t, _, _| Ok(Value::str(t.rfc3339())))
            .doc("rfc3339()\nThe instant as RFC 3339 text in UTC, to the millisecond."),
        M::method("unix", |t, _, _| {
            Ok(Value::Float(t.unix_duration().as_secs_f64()))
        })
        .doc("unix()\nSeconds since 1970-01-01 UTC, as a float."),
        M::method("unix_ms", |t, _, _| {
            Ok(Value::Int(t.unix_duration().as_millis() as i64))
        })
        .doc("unix_ms()\nMilliseconds since 1970-01-01 UTC, as an int."),
    ],
);

impl NativeType for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn members(&self) -> &'static dyn Members {
        &TIME
    }

    fn display(&self) -> String {
        self.rfc3339()
    }
}
