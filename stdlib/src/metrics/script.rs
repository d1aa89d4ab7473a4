//! What scripts see: `metrics.counter/gauge/histogram(...)`, the metric objects with
//! `inc`/`add`/`set`/`dec`/`observe`, and `metrics.expose()`.
//!
//! A metric's labels are given as keyword arguments at each use
//! (`requests.inc(endpoint="/users", status="ok")`) and must be exactly the label names the
//! metric was created with; a missing or unexpected one faults naming the expected set. Label
//! values are strings; ints, floats, bools and durations are converted as `str()` would.
//! Values are ints, floats or durations (counted in seconds) and must be finite; counters and
//! histograms take none below 0.

use std::sync::Arc;

use cn_runtime::format;
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

use super::exposition::{expose as render, Format};
use super::family::{Child, Definition, Family, Kind, DEFAULT_BUCKETS};
use super::{names, registry};

/// metrics.counter(name, help=nil, labels=[]): a counter; `_total` is appended to a name
/// without it.
pub(crate) fn counter(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    create(&args, Kind::Counter)
}

/// metrics.gauge(name, help=nil, labels=[]): a gauge.
pub(crate) fn gauge(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    create(&args, Kind::Gauge)
}

/// metrics.histogram(name, help=nil, labels=[], buckets=[.005, ..., 10]): a histogram.
pub(crate) fn histogram(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    create(&args, Kind::Histogram)
}

/// metrics.expose(openmetrics=false): the exposition of every metric, as `/metrics` serves it.
pub(crate) fn expose(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let format = match args.get_or_named(0, "openmetrics") {
        None | Some(Value::Bool(false)) => Format::Text,
        Some(Value::Bool(true)) => Format::OpenMetrics,
        Some(other) => return Err(args.wrong_type(0, "bool", other)),
    };
    Ok(Value::str(render(format)))
}

fn create(args: &Args<'_>, kind: Kind) -> Result<Value, Fault> {
    let name = match kind {
        Kind::Counter => names::counter_name(args.str(0)?),
        _ => args.str(0)?.to_string(),
    };
    // No help: the existing family's (a metric looked up by name where it is used, as in
    // `metrics.counter("users_listed").inc()` per request), or one made from the name.
    let help = match args.get_or_named(1, "help") {
        None | Some(Value::Nil) => {
            registry::help_of(&name).unwrap_or_else(|| names::default_help(&name, kind))
        }
        Some(Value::Str(help)) => help.to_string(),
        Some(other) => return Err(args.wrong_type(1, "str", other)),
    };
    let labels = match args.get_or_named(2, "labels") {
        None | Some(Value::Nil) => Vec::new(),
        Some(value) => label_names(args, value)?,
    };
    let buckets = match (kind, args.get_or_named(3, "buckets")) {
        (Kind::Histogram, None | Some(Value::Nil)) => DEFAULT_BUCKETS.to_vec(),
        (Kind::Histogram, Some(value)) => bucket_list(args, value)?,
        _ => Vec::new(),
    };
    let definition = Definition {
        name,
        help,
        kind,
        labels,
        buckets,
    };
    let family = registry::register(definition)
        .map_err(|message| Fault::new(format!("{}: {message}", args.function)))?;
    Ok(NativeObject::value(Metric(family)))
}

/// The items of a list or tuple argument.
fn items(args: &Args<'_>, value: &Value, what: &str) -> Result<Vec<Value>, Fault> {
    match value {
        Value::List(items) => Ok(items.borrow().clone()),
        Value::Tuple(items) => Ok(items.to_vec()),
        other => Err(Fault::new(format!(
            "{}: {what} must be a list, not {}",
            args.function,
            other.type_name()
        ))),
    }
}

fn label_names(args: &Args<'_>, value: &Value) -> Result<Vec<String>, Fault> {
    items(args, value, "labels")?
        .iter()
        .map(|item| match item {
            Value::Str(s) => Ok(s.to_string()),
            other => Err(Fault::new(format!(
                "{}: label names must be strings, not {}",
                args.function,
                other.type_name()
            ))),
        })
        .collect()
}

fn bucket_list(args: &Args<'_>, value: &Value) -> Result<Vec<f64>, Fault> {
    items(args, value, "buckets")?
        .iter()
        .map(|item| match item {
            Value::Int(n) => Ok(*n as f64),
            Value::Float(f) => Ok(*f),
            other => Err(Fault::new(format!(
                "{}: buckets must be numbers, not {}",
                args.function,
                other.type_name()
            ))),
        })
        .collect()
}

/// A metric object: a handle on a registered family.
struct Metric(Arc<Family>);

impl Metric {
    fn name(&self) -> &str {
        &self.0.definition.name
    }

    /// A fault about a call of `method` on this metric.
    fn fault(&self, method: &str, message: impl std::fmt::Display) -> Fault {
        Fault::new(format!("{}.{method}(): {message}", self.name()))
    }

    /// The series the keyword arguments select: exactly the metric's labels, in any order.
    fn child(&self, method: &str, args: &Args<'_>) -> Result<Child, Fault> {
        let expected = &self.0.definition.labels;
        let mut values = Vec::with_capacity(expected.len());
        let mut missing = Vec::new();
        for label in expected {
            let symbol = Symbol::intern(label);
            match args.names.iter().position(|n| *n == symbol) {
                Some(i) => values.push(self.label_value(method, label, &args.named[i])?),
                None => missing.push(label.as_str()),
            }
        }
        let unexpected: Vec<String> = args
            .names
            .iter()
            .map(|n| n.name().to_string())
            .filter(|n| !expected.contains(n))
            .collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            let mut message = if expected.is_empty() {
                "this metric has no labels".to_string()
            } else {
                format!("expected labels {}", expected.join(", "))
            };
            if !missing.is_empty() {
                message.push_str(&format!("; missing {}", missing.join(", ")));
            }
            if !unexpected.is_empty() {
                message.push_str(&format!("; unexpected {}", unexpected.join(", ")));
            }
            return Err(self.fault(method, message));
        }
        Ok(self.0.child(values))
    }

    fn label_value(&self, method: &str, label: &str, value: &Value) -> Result<String, Fault> {
        match value {
            Value::Str(s) => Ok(s.to_string()),
            Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Duration(_) => {
                Ok(format::display(value))
            }
            other => Err(self.fault(
                method,
                format!(
                    "label {label} must be a str, int, float or bool, not {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// The one positional number of `add`/`set`/`observe`.
    fn amount(&self, method: &str, args: &Args<'_>) -> Result<f64, Fault> {
        if args.len() != 1 {
            return Err(self.fault(
                method,
                format!(
                    "takes one value and the labels as keywords, got {} positional arguments",
                    args.len()
                ),
            ));
        }
        let value = match args.value(0)? {
            Value::Int(n) => *n as f64,
            Value::Float(f) => *f,
            Value::Duration(nanos) => *nanos as f64 / 1e9,
            other => {
                return Err(self.fault(
                    method,
                    format!(
                        "the value must be an int, float or duration, not {}",
                        other.type_name()
                    ),
                ))
            }
        };
        if !value.is_finite() {
            return Err(self.fault(method, format!("the value must be finite, got {value}")));
        }
        Ok(value)
    }

    fn update(&self, method: &str, args: &Args<'_>) -> Result<(), Fault> {
        let amount = match method {
            "inc" | "dec" if !args.is_empty() => {
                return Err(self.fault(
                    method,
                    "takes only the labels, as keywords; add(n, ...) changes it by n",
                ));
            }
            "inc" | "dec" => 1.0,
            _ => self.amount(method, args)?,
        };
        // Checked before the series is looked up, so a rejected call creates no series.
        if amount < 0.0 {
            let given = args.get(0).map(format::display).unwrap_or_default();
            match self.0.definition.kind {
                Kind::Counter => {
                    return Err(self.fault(method, format!("a counter only goes up; got {given}")))
                }
                // OpenMetrics requires a histogram's sum to be counter-like (never negative).
                Kind::Histogram => {
                    return Err(self.fault(
                        method,
                        format!("a histogram observes values of 0 or more; got {given}"),
                    ))
                }
                Kind::Gauge => {}
            }
        }
        match (self.child(method, args)?, method) {
            (Child::Counter(counter), _) => {
                counter.inc_by(amount);
            }
            (Child::Gauge(gauge), "set") => {
                gauge.set(amount);
            }
            (Child::Gauge(gauge), "dec") => {
                gauge.dec();
            }
            (Child::Gauge(gauge), _) => {
                gauge.inc_by(amount);
            }
            (Child::Histogram(histogram), _) => histogram.observe(amount, None, None),
        }
        Ok(())
    }
}

type M = Member<Metric>;

/// A metric method: `update` with the method's name, which picks the operation.
macro_rules! update {
    ($name:literal, $doc:literal) => {
        M::method($name, |m, _, args| {
            m.update($name, &args).map(|()| Value::Nil)
        })
        .doc($doc)
        .params(Params::at_least(0).any_keywords())
    };
}

/// What `metrics.counter(..)` returns.
static COUNTER: Table<Metric> = Table::new(
    "metrics.Counter",
    "A counter: a total that only goes up. Labels are keyword arguments at each use.",
    &[
        update!(
            "inc",
            "inc(**labels)\nAdds 1 to the series the labels select."
        ),
        update!(
            "add",
            "add(n, **labels)\nAdds `n` (0 or more; a duration counts in seconds)."
        ),
    ],
);

/// What `metrics.gauge(..)` returns.
static GAUGE: Table<Metric> = Table::new(
    "metrics.Gauge",
    "A gauge: a value that goes up and down. Labels are keyword arguments at each use.",
    &[
        update!("inc", "inc(**labels)\nAdds 1."),
        update!("dec", "dec(**labels)\nSubtracts 1."),
        update!("add", "add(n, **labels)\nAdds `n` (may be negative)."),
        update!("set", "set(n, **labels)\nSets the value to `n`."),
    ],
);

/// What `metrics.histogram(..)` returns.
static HISTOGRAM: Table<Metric> = Table::new(
    "metrics.Histogram",
    "A histogram: counts of observed values in buckets, with their sum.",
    &[update!(
        "observe",
        "observe(v, **labels)\nCounts value `v` (0 or more; a duration counts in seconds)."
    )],
);

impl NativeType for Metric {
    fn type_name(&self) -> &str {
        self.members_table().type_name
    }

    fn members(&self) -> &'static dyn Members {
        self.members_table()
    }

    fn display(&self) -> String {
        format!("<{} {}>", self.type_name(), self.name())
    }
}

impl Metric {
    fn members_table(&self) -> &'static Table<Metric> {
        match self.0.definition.kind {
            Kind::Counter => &COUNTER,
            Kind::Gauge => &GAUGE,
            Kind::Histogram => &HISTOGRAM,
        }
    }
}
