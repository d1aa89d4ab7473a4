//! `time`: sleeping, deadlines, wall-clock and monotonic time, calendar times in zones.
//!
//! Durations are the language's own values (`60.seconds`, `100.ms`); every function that takes
//! one also takes a number of seconds. `time.timeout(d, f)` runs `f` as a task and cancels it
//! when the deadline passes. Wall-clock times (`time.Time`, in `instant`) come from `now`, and
//! from text, fields and Unix time (`calendar`).

mod calendar;
pub(crate) mod instant;

pub(crate) use instant::{from_system as time_value, time_of};

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::object::Variant;
use cn_runtime::tasks::clock;
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("sleep", sleep)
        .doc("sleep(d)\nWaits `d`; other tasks run meanwhile. `sleep(0)` just lets them run.")
        .params(Params::exactly(1)),
    Function::new("timeout", timeout)
        .doc("timeout(d, f)\n`Ok(f())`, or `Err(Timeout)` once `d` has passed — `f` is then cancelled and its `defer`s have run. A fault in `f` is raised here.")
        .params(Params::exactly(2)),
    Function::new("now", calendar::now)
        .doc("now(zone=\"UTC\")\nThe current wall-clock time, a `time.Time` in UTC or in `zone` (`\"Europe/Berlin\"`, `\"local\"`).")
        .params(Params::NONE.keywords(&["zone"])),
    Function::new("parse", calendar::parse)
        .doc("parse(text, pattern=nil, zone=\"UTC\")\n`Ok(time)` or `Err(message)`. Without a pattern: RFC 3339 (`2026-12-06T10:00:00Z`), RFC 9557 (`...+01:00[Europe/Berlin]`), or a date or date-time without offset read in `zone`. With one: strptime (`\"%d/%m/%Y %H:%M\"`).")
        .params(Params::between(1, 2).keywords(&["pattern", "zone"])),
    Function::new("date", calendar::date)
        .doc("date(year, month, day, hour=0, minute=0, second=0, nanosecond=0, zone=\"UTC\")\nThe time at those calendar fields in `zone`; an impossible date faults.")
        .params(Params::between(3, 7).keywords(&["hour", "minute", "second", "nanosecond", "zone"])),
    Function::new("from_unix", calendar::from_unix)
        .doc("from_unix(seconds, zone=\"UTC\")\nThe time `seconds` (int or float) after 1970-01-01 UTC.")
        .params(Params::exactly(1).keywords(&["zone"])),
    Function::new("since", since)
        .doc("since(t)\nThe duration from time `t` until now.")
        .params(Params::exactly(1)),
    Function::new("monotonic", monotonic)
        .doc("monotonic()\nSeconds (a float) on a clock that never goes back; only differences mean anything.")
        .params(Params::NONE),
    Function::new("pause", pause)
        .doc("pause()\nFor tests: freezes the clock. Sleeps, timeouts, deadlines, breaker recovery, retry backoff, `now()` and `monotonic()` stand still until `advance(d)`, except that when every task waits on a timer the clock jumps to the earliest one. `cn test` resumes it after each test.")
        .params(Params::NONE),
    Function::new("advance", advance)
        .doc("advance(d)\nFor tests: moves the paused clock forward by `d`, running what comes due on the way.")
        .params(Params::exactly(1)),
    Function::new("resume", resume)
        .doc("resume()\nLets the paused clock run again.")
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

/// time.since(t): the duration from time `t` until now.
fn since(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let Some(time) = time_of(args.value(0)?) else {
        return Err(args.wrong_type(0, "time.Time", args.value(0)?));
    };
    let elapsed = wall_now().duration_since(time.timestamp());
    Ok(instant::signed_duration_value(
        elapsed.max(jiff::SignedDuration::ZERO),
    ))
}

/// time.monotonic(): seconds (a float) on a clock that never goes back; only differences mean
/// anything.
fn monotonic(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = START.get_or_init(Instant::now);
    // tokio's clock, which `time.pause()` stops.
    let now = tokio::time::Instant::now().into_std();
    Ok(Value::Float(
        now.saturating_duration_since(*start).as_secs_f64(),
    ))
}

/// time.pause(): freezes the clock (tests).
fn pause(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    clock::pause().map(|_| Value::Nil)
}

/// time.advance(d): moves the paused clock forward.
fn advance(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let by = duration_arg(&args, 0)?;
    if !clock::is_paused() {
        return Err(Fault::new(
            "time.advance(): the clock is not paused (call time.pause() first)",
        ));
    }
    Ok(vm.suspend(async move {
        clock::advance(by).await;
        Ok(Value::Nil)
    }))
}

/// time.resume(): lets the paused clock run again.
fn resume(_vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    clock::resume().map(|_| Value::Nil)
}

/// The wall-clock time now, as `time.pause()` has it.
pub(crate) fn wall_now() -> jiff::Timestamp {
    jiff::Timestamp::try_from(clock::wall_now()).unwrap_or_else(|_| jiff::Timestamp::now())
}
