//! How long a retry waits before its next attempt: `resilience.exponential(...)` (full jitter
//! by default: a uniformly random wait up to the exponential cap, which spreads a crowd of
//! clients out instead of bringing them back together) and `resilience.constant(d)`.

use std::time::Duration;

use cn_runtime::native::{Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::time::duration_value;

/// A backoff value.
#[derive(Clone, Copy, Debug)]
pub enum Backoff {
    Exponential {
        base: Duration,
        max: Duration,
        multiplier: f64,
        jitter: bool,
    },
    Constant(Duration),
}

impl Backoff {
    /// The default of `resilience.retry`: exponential from 100 ms to 10 s, full jitter.
    pub const DEFAULT: Backoff = Backoff::Exponential {
        base: Duration::from_millis(100),
        max: Duration::from_secs(10),
        multiplier: 2.0,
        jitter: true,
    };

    /// The wait after attempt `attempt` (1 for the first) failed.
    pub fn delay(&self, attempt: u32) -> Duration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Exponential {
                base,
                max,
                multiplier,
                jitter,
            } => {
                let growth = multiplier.powi(attempt.saturating_sub(1).min(64) as i32);
                let cap = (base.as_secs_f64() * growth).min(max.as_secs_f64());
                let wait = if jitter {
                    // Uniform in [0, cap]: 53 random bits as a fraction.
                    let unit = (crate::ids::random_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    cap * unit
                } else {
                    cap
                };
                Duration::from_secs_f64(wait.max(0.0))
            }
        }
    }

    /// The longest single wait it can ask for.
    pub fn max(&self) -> Duration {
        match *self {
            Backoff::Constant(d) => d,
            Backoff::Exponential { max, .. } => max,
        }
    }

    /// The backoff inside a backoff value.
    pub fn of(value: &Value) -> Option<Backoff> {
        match value {
            Value::Object(object) => object.downcast::<Backoff>().copied(),
            _ => None,
        }
    }
}

fn positive(args: &Args<'_>, key: &str, default: Duration) -> Result<Duration, Fault> {
    match args.named(key) {
        None => Ok(default),
        Some(value) => match duration_value(value) {
            Ok(d) => Ok(d),
            Err(_) => Err(Fault::new(format!(
                "{}: {key} must be a duration of 0 or more, got {}",
                args.function,
                cn_runtime::format::repr(value)
            ))),
        },
    }
}

/// resilience.exponential(base=100.ms, max=10.seconds, multiplier=2, jitter=true)
pub fn exponential(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let base = positive(&args, "base", Duration::from_millis(100))?;
    let max = positive(&args, "max", Duration::from_secs(10))?;
    if max < base {
        return Err(Fault::new(format!(
            "{}: max ({max:?}) is less than base ({base:?})",
            args.function
        )));
    }
    let multiplier = match args.named("multiplier") {
        None => 2.0,
        Some(Value::Int(n)) if *n >= 1 => *n as f64,
        Some(Value::Float(x)) if *x >= 1.0 && x.is_finite() => *x,
        Some(other) => {
            return Err(Fault::new(format!(
                "{}: multiplier must be a number of at least 1, got {}",
                args.function,
                cn_runtime::format::repr(other)
            )))
        }
    };
    let jitter = match args.named("jitter") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(args.wrong_type(0, "bool", other)),
    };
    Ok(NativeObject::value(Backoff::Exponential {
        base,
        max,
        multiplier,
        jitter,
    }))
}

/// The keywords of `exponential`.
pub const EXPONENTIAL: Params = Params::NONE.keywords(&["base", "max", "multiplier", "jitter"]);

/// resilience.constant(d)
pub fn constant(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let d = duration_value(args.value(0)?)
        .map_err(|_| args.wrong_type(0, "duration of 0 or more", &args.positional[0]))?;
    Ok(NativeObject::value(Backoff::Constant(d)))
}

static BACKOFF: Table<Backoff> = Table::new(
    "resilience.Backoff",
    "How long a retry waits between attempts: `resilience.exponential(..)` or \
     `resilience.constant(d)`.",
    &[],
);

impl NativeType for Backoff {
    fn type_name(&self) -> &str {
        "resilience.Backoff"
    }

    fn members(&self) -> &'static dyn Members {
        &BACKOFF
    }

    fn display(&self) -> String {
        match self {
            Backoff::Constant(d) => format!("<resilience.constant {d:?}>"),
            Backoff::Exponential {
                base,
                max,
                multiplier,
                jitter,
            } => format!(
                "<resilience.exponential base={base:?} max={max:?} multiplier={multiplier} jitter={jitter}>"
            ),
        }
    }
}
