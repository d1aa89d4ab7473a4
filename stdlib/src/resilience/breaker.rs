//! `resilience.circuit_breaker(...)`: stops calling a dependency that keeps failing, and lets a
//! few trial calls through after `recovery_timeout` to see whether it is back.
//!
//! closed --(failure_threshold consecutive failures, or failure_rate over the last `window`
//! calls once `minimum_calls` are in)--> open --(recovery_timeout passes; the next call is
//! admitted)--> half-open --(half_open_calls trial calls all succeed)--> closed; any trial that
//! fails --> open again. Half-open decides on its trial calls alone: `minimum_calls` and `window`
//! belong to closed, so the combinations that keep other libraries' breakers stuck half-open
//! cannot be written. `reset()` closes the circuit and forgets every count.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;
// tokio's instant: it follows `time.pause()` in tests.
use tokio::time::Instant;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeFunction, NativeObject, NativeType, Variant};
use cn_runtime::symbol::Symbol;
use cn_runtime::tasks::VmRef;
use cn_runtime::{Args, Fault, Value, Vm};

use super::outcome::{classify, Outcome};
use crate::log::{self, Field, Level};
use crate::metrics::resilience as metrics;
use crate::time::duration_value;

/// When the breaker opens.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// After this many failures in a row.
    Consecutive(u32),
    /// When failures are at least `rate` of the last `window` calls, once `minimum` are in.
    Rate {
        rate: f64,
        window: usize,
        minimum: usize,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, passed: u32 },
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::Closed => "closed",
            Phase::Open { .. } => "open",
            Phase::HalfOpen { .. } => "half_open",
        }
    }

    fn gauge(self) -> f64 {
        match self {
            Phase::Closed => 0.0,
            Phase::Open { .. } => 1.0,
            Phase::HalfOpen { .. } => 2.0,
        }
    }
}

pub(crate) struct State {
    name: String,
    /// Whether `name=` was given; if not, a decorated function lends the breaker its name.
    named: bool,
    mode: Mode,
    recovery: Duration,
    half_open_calls: u32,
    slow_call: Option<Duration>,
    on_change: Option<Value>,
    phase: Cell<Phase>,
    consecutive: Cell<u32>,
    /// Outcomes of the last calls while closed (rate mode): `true` for a failure.
    window: RefCell<VecDeque<bool>>,
    gauge: metrics::Gauge,
}

/// A circuit breaker value.
pub struct Breaker(pub(super) Rc<State>);

const KEYWORDS: &[&str] = &[
    "name",
    "failure_threshold",
    "failure_rate",
    "window",
    "minimum_calls",
    "recovery_timeout",
    "half_open_calls",
    "slow_call",
    "on_state_change",
];

/// resilience.circuit_breaker(name=, failure_threshold=5, recovery_timeout=30.seconds, ...)
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let f = "resilience.circuit_breaker";
    let int = |key: &str, default: i64, least: i64| -> Result<i64, Fault> {
        match args.named(key) {
            None => Ok(default),
            Some(Value::Int(n)) if *n >= least => Ok(*n),
            Some(other) => Err(Fault::new(format!(
                "{f}: {key} must be an int of at least {least}, got {}",
                cn_runtime::format::repr(other)
            ))),
        }
    };
    let duration = |key: &str| -> Result<Option<Duration>, Fault> {
        match args.named(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(value) => match duration_value(value) {
                Ok(d) if !d.is_zero() => Ok(Some(d)),
                _ => Err(Fault::new(format!(
                    "{f}: {key} must be a positive duration, got {}",
                    cn_runtime::format::repr(value)
                ))),
            },
        }
    };
    let name = match args.named("name") {
        None | Some(Value::Nil) => "circuit_breaker".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => return Err(args.wrong_type(0, "str", other)),
    };
    let mode = match args.named("failure_rate") {
        None | Some(Value::Nil) => {
            for key in ["window", "minimum_calls"] {
                if args.named(key).is_some() {
                    return Err(Fault::new(format!(
                        "{f}: {key} applies only with failure_rate (the breaker counts \
                         consecutive failures otherwise)"
                    )));
                }
            }
            Mode::Consecutive(int("failure_threshold", 5, 1)? as u32)
        }
        Some(rate) => {
            if args.named("failure_threshold").is_some() {
                return Err(Fault::new(format!(
                    "{f}: give failure_threshold (consecutive failures) or failure_rate (a share \
                     of recent calls), not both"
                )));
            }
            let rate = match rate {
                Value::Float(r) if *r > 0.0 && *r <= 1.0 => *r,
                Value::Int(1) => 1.0,
                other => {
                    return Err(Fault::new(format!(
                        "{f}: failure_rate must be a number above 0 and at most 1, got {}",
                        cn_runtime::format::repr(other)
                    )))
                }
            };
            let window = int("window", 100, 1)? as usize;
            let minimum = int("minimum_calls", window.min(10) as i64, 1)? as usize;
            if minimum > window {
                return Err(Fault::new(format!(
                    "{f}: minimum_calls ({minimum}) cannot be more than window ({window}): the \
                     breaker could never open"
                )));
            }
            Mode::Rate {
                rate,
                window,
                minimum,
            }
        }
    };
    let on_change = match args.named("on_state_change") {
        None | Some(Value::Nil) => None,
        Some(f) if f.is_callable() => Some(f.clone()),
        Some(other) => return Err(args.wrong_type(0, "function", other)),
    };
    let gauge = metrics::circuit_state(&name);
    gauge.set(0.0);
    Ok(NativeObject::value(Breaker(Rc::new(State {
        mode,
        recovery: duration("recovery_timeout")?.unwrap_or(Duration::from_secs(30)),
        half_open_calls: int("half_open_calls", 1, 1)? as u32,
        slow_call: duration("slow_call")?,
        on_change,
        phase: Cell::new(Phase::Closed),
        consecutive: Cell::new(0),
        window: RefCell::new(VecDeque::new()),
        gauge,
        named: args.named("name").is_some(),
        name,
    }))))
}

/// The keywords `circuit_breaker` takes.
pub const PARAMS: Params = Params::NONE.keywords(KEYWORDS);

/// `Err(CircuitOpen(retry_after))`: refused without running; `retry_after` is when the next
/// trial call may go through.
pub fn circuit_open(retry_after: Duration) -> Value {
    let nanos = retry_after.as_nanos().min(i64::MAX as u128) as i64;
    Value::err(Value::Variant(Rc::new(Variant {
        type_name: "resilience".into(),
        name: Symbol::intern("CircuitOpen"),
        field_names: Rc::from(vec![Symbol::intern("retry_after")]),
        payload: vec![Value::Duration(nanos)],
    })))
}

/// A call the breaker let through, to be counted when it ends ([`Trial::finish`]). Dropped
/// unfinished (its caller was cancelled, or a bulkhead refused it), it gives back its half-open
/// trial slot and counts nothing: the dependency said nothing.
pub(crate) struct Trial {
    state: Rc<State>,
    reported: Cell<bool>,
    started: Instant,
}

impl Trial {
    /// Counts how the call ended: its result, or a fault (a failure; a cancellation is not
    /// counted). A success slower than `slow_call` counts as a failure.
    pub(crate) fn finish(self, vm: &mut Vm, result: &Result<Value, Fault>) {
        let outcome = match result {
            Ok(value) => classify(value),
            Err(fault) if fault.kind == cn_runtime::fault::FaultKind::Cancelled => return,
            Err(_) => Outcome::Failure("fault"),
        };
        let outcome = match (outcome, self.state.slow_call) {
            (Outcome::Success, Some(limit)) if self.started.elapsed() > limit => {
                Outcome::Failure("slow_call")
            }
            (outcome, _) => outcome,
        };
        self.report(vm, outcome);
    }

    fn report(self, vm: &mut Vm, outcome: Outcome) {
        self.reported.set(true);
        self.state.record(vm, outcome);
    }
}

impl Drop for Trial {
    fn drop(&mut self) {
        if !self.reported.get() {
            if let Phase::HalfOpen { admitted, passed } = self.state.phase.get() {
                self.state.phase.set(Phase::HalfOpen {
                    admitted: admitted.saturating_sub(1),
                    passed,
                });
            }
        }
    }
}

impl State {
    /// The same settings under another name, closed (the breaker a decorator keeps).
    fn renamed(&self, name: String) -> State {
        let gauge = metrics::circuit_state(&name);
        gauge.set(0.0);
        State {
            name,
            named: true,
            mode: self.mode,
            recovery: self.recovery,
            half_open_calls: self.half_open_calls,
            slow_call: self.slow_call,
            on_change: self.on_change.clone(),
            phase: Cell::new(Phase::Closed),
            consecutive: Cell::new(0),
            window: RefCell::new(VecDeque::new()),
            gauge,
        }
    }

    /// Lets a call through, or gives the `Err(CircuitOpen(..))` to answer with (counted).
    pub(crate) fn try_call(self: &Rc<Self>, vm: &mut Vm) -> Result<Trial, Value> {
        match self.admit(vm) {
            Ok(()) => Ok(Trial {
                state: self.clone(),
                reported: Cell::new(false),
                started: Instant::now(),
            }),
            Err(wait) => {
                metrics::rejection(&self.name, "circuit_open");
                Err(circuit_open(wait))
            }
        }
    }

    /// Lets a call through, or says how long until one may go.
    fn admit(self: &Rc<Self>, vm: &mut Vm) -> Result<(), Duration> {
        match self.phase.get() {
            Phase::Closed => Ok(()),
            Phase::Open { until } => {
                let now = Instant::now();
                if now < until {
                    return Err(until - now);
                }
                self.enter(
                    vm,
                    Phase::HalfOpen {
                        admitted: 1,
                        passed: 0,
                    },
                );
                Ok(())
            }
            Phase::HalfOpen { admitted, passed } if admitted < self.half_open_calls => {
                self.phase.set(Phase::HalfOpen {
                    admitted: admitted + 1,
                    passed,
                });
                Ok(())
            }
            // Every trial slot is taken: the answer comes with them.
            Phase::HalfOpen { .. } => Err(Duration::ZERO),
        }
    }

    /// Counts a finished call.
    fn record(self: &Rc<Self>, vm: &mut Vm, outcome: Outcome) {
        let failed = outcome.is_failure();
        match self.phase.get() {
            Phase::HalfOpen { .. } if failed => self.open(vm),
            Phase::HalfOpen { admitted, passed } => {
                if passed + 1 >= self.half_open_calls {
                    self.close(vm);
                } else {
                    self.phase.set(Phase::HalfOpen {
                        admitted,
                        passed: passed + 1,
                    });
                }
            }
            // A call admitted before the circuit opened, finishing after: nothing to decide.
            Phase::Open { .. } => {}
            Phase::Closed => match self.mode {
                Mode::Consecutive(threshold) => {
                    let n = if failed {
                        self.consecutive.get() + 1
                    } else {
                        0
                    };
                    self.consecutive.set(n);
                    if n >= threshold {
                        self.open(vm);
                    }
                }
                Mode::Rate {
                    rate,
                    window,
                    minimum,
                } => {
                    let mut calls = self.window.borrow_mut();
                    calls.push_back(failed);
                    if calls.len() > window {
                        calls.pop_front();
                    }
                    let failures = calls.iter().filter(|f| **f).count();
                    let over =
                        calls.len() >= minimum && failures as f64 >= rate * calls.len() as f64;
                    drop(calls);
                    if over {
                        self.open(vm);
                    }
                }
            },
        }
    }

    fn open(self: &Rc<Self>, vm: &mut Vm) {
        let until = Instant::now() + self.recovery;
        self.enter(vm, Phase::Open { until });
    }

    fn close(self: &Rc<Self>, vm: &mut Vm) {
        self.consecutive.set(0);
        self.window.borrow_mut().clear();
        self.enter(vm, Phase::Closed);
    }

    /// Moves to `next`, telling the gauge, the transition counter, the log and the callback.
    fn enter(self: &Rc<Self>, vm: &mut Vm, next: Phase) {
        let from = self.phase.replace(next).name();
        let to = next.name();
        if from == to {
            return;
        }
        self.gauge.set(next.gauge());
        metrics::transition(&self.name, from, to);
        let level = if to == "open" {
            Level::Warn
        } else {
            Level::Info
        };
        log::emit(
            vm,
            level,
            "circuit breaker state changed",
            &[
                ("breaker", Field::Str(&self.name)),
                ("from", Field::Str(from)),
                ("to", Field::Str(to)),
            ],
        );
        if let Some(f) = &self.on_change {
            let args = vec![Value::str(&*self.name), Value::str(from), Value::str(to)];
            notify(vm, f.clone(), args);
        }
    }
}

/// Runs `on_state_change(name, from, to)` as a task of its own; nobody waits for it.
fn notify(vm: &mut Vm, f: Value, args: Vec<Value>) {
    let handle = vm.handle();
    let callback = vm.start_callback(f, args);
    tokio::task::spawn_local(async move {
        if let Err(fault) = callback.result().await {
            log::emit(
                &handle.borrow(),
                Level::Error,
                "on_state_change faulted",
                &[("error", Field::Str(&fault.message))],
            );
        }
    });
}

/// Calls `callee(args)` through the breaker: `Err(CircuitOpen(..))` at once when it is open,
/// otherwise the call's own result (or fault), counted.
fn guarded(
    vm: &mut Vm,
    state: &Rc<State>,
    callee: Value,
    args: Vec<Value>,
) -> Result<Value, Fault> {
    let trial = match state.try_call(vm) {
        Ok(trial) => trial,
        Err(open) => return Ok(open),
    };
    let handle: VmRef = vm.handle();
    let callback = vm.start_callback(callee, args);
    Ok(vm.suspend(async move {
        let result = callback.result().await;
        trial.finish(&mut handle.borrow_mut(), &result);
        result
    }))
}

type M = Member<Breaker>;

/// What `resilience.circuit_breaker(..)` returns.
static BREAKER: Table<Breaker> = Table::callable(
    "resilience.CircuitBreaker",
    "A circuit breaker: `call(f)` runs `f` unless the circuit is open; used as a decorator it \
     guards the function it decorates.",
    &[
        M::method("call", |b, vm, args| {
            let callee = args.value(0)?.clone();
            if !callee.is_callable() {
                return Err(args.wrong_type(0, "function", &callee));
            }
            guarded(vm, &b.0, callee, args.positional[1..].to_vec())
        })
        .doc("call(f, *args)\nRuns `f(*args)` and returns its result, or `Err(CircuitOpen(retry_after))` at once while the circuit is open.")
        .params(Params::at_least(1)),
        M::method("reset", |b, vm, _| {
            b.0.close(vm);
            Ok(Value::Nil)
        })
        .doc("reset()\nCloses the circuit and forgets every count."),
        M::attribute("state", |b, _| {
            // Open past its recovery time reads as open until a call tries it.
            Ok(Value::str(b.0.phase.get().name()))
        })
        .doc("state\n\"closed\", \"open\" or \"half_open\"."),
        M::attribute("name", |b, _| Ok(Value::str(&*b.0.name)))
            .doc("name\nThe breaker's name, as metrics and log lines show it."),
    ],
    |b, _, args| {
        // As a decorator: `@resilience.circuit_breaker(...)` over `fn f(...)`.
        let f = args.value(0)?.clone();
        if !f.is_callable() || args.len() != 1 {
            return Err(Fault::new(
                "a circuit breaker called directly decorates one function; use breaker.call(f) \
                 to run one",
            ));
        }
        let name = match &f {
            Value::Function(c) => c.name().to_string(),
            _ => "guarded".to_string(),
        };
        let state = if b.0.named {
            b.0.clone()
        } else {
            Rc::new(b.0.renamed(name.clone()))
        };
        Ok(NativeFunction::closure(name, move |vm, args| {
            guarded(vm, &state, f.clone(), args.positional.to_vec())
        }))
    },
);

impl NativeType for Breaker {
    fn type_name(&self) -> &str {
        "resilience.CircuitBreaker"
    }

    fn members(&self) -> &'static dyn Members {
        &BREAKER
    }

    fn display(&self) -> String {
        format!(
            "<resilience.CircuitBreaker {} {}>",
            self.0.name,
            self.0.phase.get().name()
        )
    }
}

/// Breakers per host for the http client (`http.Client(breaker=...)`): one breaker made from the
/// given one's settings for each host the client talks to, named `name:host`, so one failing
/// host never opens the circuit for the others.
pub(crate) struct HostBreakers {
    template: Rc<State>,
    by_host: RefCell<std::collections::HashMap<String, Rc<State>>>,
}

/// Hosts a client keeps breakers for before it forgets the closed ones.
const MAX_HOSTS: usize = 1024;

/// An admitted call, to be reported when it ends (dropped unreported: the caller was cancelled).
pub(crate) struct Pass(Trial);

impl HostBreakers {
    /// The per-host breakers for a breaker value.
    pub(crate) fn of(value: &Value) -> Option<HostBreakers> {
        let Value::Object(object) = value else {
            return None;
        };
        Some(HostBreakers {
            template: object.downcast::<Breaker>()?.0.clone(),
            by_host: RefCell::default(),
        })
    }

    /// Lets a call to `host` through, or gives the `Err(CircuitOpen(..))` to answer with.
    pub(crate) fn admit(&self, vm: &mut Vm, host: &str) -> Result<Pass, Value> {
        let mut by_host = self.by_host.borrow_mut();
        if by_host.len() >= MAX_HOSTS && !by_host.contains_key(host) {
            // A client fed ever new hosts (URLs from input) must not grow without bound: closed
            // breakers hold nothing worth more than the memory.
            by_host.retain(|_, b| b.phase.get() != Phase::Closed);
        }
        let state = by_host
            .entry(host.to_string())
            .or_insert_with(|| {
                Rc::new(
                    self.template
                        .renamed(format!("{}:{host}", self.template.name)),
                )
            })
            .clone();
        drop(by_host);
        state.try_call(vm).map(Pass)
    }
}

impl Pass {
    /// Counts the call's end: `failed` for a connect error, a timeout, or a status of 500 or
    /// more or 429.
    pub(crate) fn report(self, vm: &mut Vm, failed: bool) {
        let outcome = if failed {
            Outcome::Failure("http")
        } else {
            Outcome::Success
        };
        self.0.report(vm, outcome);
    }
}
