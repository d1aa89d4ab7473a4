//! `resilience.policy(...)`: several guards around one call, always in the same order, and the
//! engine every retry runs on.
//!
//! The order, outermost first: fallback -> rate limit -> total timeout -> retry -> breaker ->
//! bulkhead -> attempt timeout -> the call. So a call over the rate is refused before anything
//! else; the total timeout bounds every attempt and every wait between them; each attempt asks
//! the breaker (an open circuit ends the retries at once, since `Err(CircuitOpen)` is not
//! transient) and then takes a bulkhead slot; the attempt timeout bounds one attempt alone.
//!
//! Attempts run as tasks with a copy of the caller's context, narrowed: the deadline is the
//! earlier of the caller's and the policy's timeouts (so an http call inside gets at most what
//! is left, and sends that on), and a retrying policy marks the context so that retries inside
//! it (the http client's own, a nested `resilience.retry`) make one attempt only: retries never
//! multiply.

use std::rc::Rc;
use std::time::Duration;
// tokio's instant: it follows `time.pause()` in tests.
use tokio::time::Instant;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeFunction, NativeObject, NativeType};
use cn_runtime::tasks::{ContextValues, VmRef};
use cn_runtime::{Args, Fault, Value, Vm};

use super::breaker::{self, Breaker};
use super::bulkhead::{self, Bulkhead};
use super::limiter::{self, Limiter};
use super::outcome::{classify, retry_after};
use super::retry::{self, Settings};
use crate::http::deadline::{self, Deadline};
use crate::trace::RecordingSpan;

/// The context key that marks a task as an attempt of a retrying policy (dotted, so scripts do
/// not pick it by accident).
const RETRYING: &str = "resilience.retrying";

thread_local! {
    /// The context keys attempts get, made once rather than per call.
    static RETRYING_KEY: Rc<str> = RETRYING.into();
    static DEADLINE_KEY: Rc<str> = deadline::KEY.into();
}

/// Whether the running task is an attempt of a retrying policy: retries inside it make one
/// attempt, and the outer policy decides about the rest.
pub(crate) fn inside_retry(vm: &Vm) -> bool {
    vm.current_task()
        .is_some_and(|task| task.context.borrow().contains_key(RETRYING))
}

/// The guards of a policy, each optional.
#[derive(Default)]
pub(super) struct Layers {
    fallback: Option<Value>,
    rate_limit: Option<Rc<limiter::State>>,
    timeout: Option<Duration>,
    retry: Option<Rc<Settings>>,
    breaker: Option<Rc<breaker::State>>,
    bulkhead: Option<Rc<bulkhead::State>>,
    attempt_timeout: Option<Duration>,
}

impl Layers {
    /// A retry and nothing else (`resilience.retry`).
    pub(super) fn retry(settings: Rc<Settings>) -> Layers {
        Layers {
            retry: Some(settings),
            ..Layers::default()
        }
    }

    /// The layers present, outermost first, as `policy.layers` and the display show them.
    fn names(&self) -> Vec<&'static str> {
        [
            ("fallback", self.fallback.is_some()),
            ("rate_limit", self.rate_limit.is_some()),
            ("timeout", self.timeout.is_some()),
            ("retry", self.retry.is_some()),
            ("breaker", self.breaker.is_some()),
            ("bulkhead", self.bulkhead.is_some()),
            ("attempt_timeout", self.attempt_timeout.is_some()),
        ]
        .into_iter()
        .filter_map(|(name, present)| present.then_some(name))
        .collect()
    }
}

/// The keywords `policy` takes, one per layer.
const KEYWORDS: &[&str] = &[
    "fallback",
    "rate_limit",
    "timeout",
    "retry",
    "breaker",
    "bulkhead",
    "attempt_timeout",
];

/// What `resilience.policy` accepts.
pub const PARAMS: Params = Params::NONE.keywords(KEYWORDS);

/// resilience.policy(fallback=, rate_limit=, timeout=, retry=, breaker=, bulkhead=,
/// attempt_timeout=)
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let f = args.function;
    let object = |key: &str, what: &str| -> Result<Option<Rc<NativeObject>>, Fault> {
        match args.named(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(Value::Object(object)) => Ok(Some(object.clone())),
            Some(other) => Err(Fault::new(format!(
                "{f}: {key} must be {what}, got {}",
                other.type_name()
            ))),
        }
    };
    let wrong = |key: &str, what: &str, object: &NativeObject| {
        Fault::new(format!(
            "{f}: {key} must be {what}, got {}",
            object.type_name()
        ))
    };
    let duration = |key: &str| -> Result<Option<Duration>, Fault> {
        match args.named(key) {
            None | Some(Value::Nil) => Ok(None),
            Some(value) => match crate::time::duration_value(value) {
                Ok(d) if !d.is_zero() => Ok(Some(d)),
                _ => Err(Fault::new(format!(
                    "{f}: {key} must be a positive duration, got {}",
                    cn_runtime::format::repr(value)
                ))),
            },
        }
    };
    const RETRY: &str = "a retry policy (resilience.retry_policy(...))";
    const BREAKER: &str = "a circuit breaker (resilience.circuit_breaker(...))";
    const BULKHEAD: &str = "a bulkhead (resilience.bulkhead(...))";
    const LIMITER: &str = "a rate limiter (resilience.rate_limiter(...))";
    let mut layers = Layers {
        fallback: args.named("fallback").cloned(),
        timeout: duration("timeout")?,
        attempt_timeout: duration("attempt_timeout")?,
        ..Layers::default()
    };
    if let Some(o) = object("retry", RETRY)? {
        let policy = o.downcast::<retry::Policy>();
        layers.retry = Some(policy.ok_or_else(|| wrong("retry", RETRY, &o))?.0.clone());
    }
    if let Some(o) = object("breaker", BREAKER)? {
        let breaker = o.downcast::<Breaker>();
        layers.breaker = Some(
            breaker
                .ok_or_else(|| wrong("breaker", BREAKER, &o))?
                .0
                .clone(),
        );
    }
    if let Some(o) = object("bulkhead", BULKHEAD)? {
        let bulkhead = o.downcast::<Bulkhead>();
        layers.bulkhead = Some(
            bulkhead
                .ok_or_else(|| wrong("bulkhead", BULKHEAD, &o))?
                .0
                .clone(),
        );
    }
    if let Some(o) = object("rate_limit", LIMITER)? {
        let limiter = o.downcast::<Limiter>();
        layers.rate_limit = Some(
            limiter
                .ok_or_else(|| wrong("rate_limit", LIMITER, &o))?
                .0
                .clone(),
        );
    }
    if let (Some(total), Some(attempt)) = (layers.timeout, layers.attempt_timeout) {
        if attempt > total {
            return Err(Fault::new(format!(
                "{f}: attempt_timeout ({}) is longer than timeout ({}), which bounds all the \
                 attempts together",
                cn_runtime::format::repr(&duration_value(attempt)),
                cn_runtime::format::repr(&duration_value(total)),
            )));
        }
    }
    if layers.names().is_empty() {
        return Err(Fault::new(format!(
            "{f}: give at least one of {}",
            KEYWORDS.join(", ")
        )));
    }
    Ok(NativeObject::value(Policy(Rc::new(layers))))
}

fn duration_value(d: Duration) -> Value {
    Value::Duration(d.as_nanos().min(i64::MAX as u128) as i64)
}

/// Runs `callee(args)` under `layers`: the whole exchange is one wait for the caller.
pub(super) fn start(
    vm: &mut Vm,
    layers: Rc<Layers>,
    callee: Value,
    args: Vec<Value>,
) -> Result<Value, Fault> {
    let handle = vm.handle();
    // The rate limit first: a call over the rate is refused before anything else runs.
    if let Some(refused) = layers.rate_limit.as_ref().and_then(|l| l.admit().err()) {
        return Ok(match layers.fallback.clone() {
            Some(instead) => vm.suspend(async move { fall_back(&handle, instead, refused).await }),
            None => refused,
        });
    }
    let mut context = vm
        .current_task()
        .map(|task| task.context.borrow().clone())
        .unwrap_or_default();
    // The deadline retries respect: the caller's, or the policy's total timeout if sooner.
    let total = layers.timeout.map(|d| Instant::now() + d);
    let deadline = earliest(Deadline::remaining(vm).map(|d| Instant::now() + d), total);
    let mut span = None;
    let mut retry = layers.retry.clone();
    if inside_retry(vm) {
        // An attempt of an outer retry: it decides whether to try again, not this one.
        retry = None;
    } else if let Some(settings) = &retry {
        settings.started();
        // Retries are recorded on the caller's span, which the attempts share.
        span = RecordingSpan::current(vm);
        context.insert(RETRYING_KEY.with(Rc::clone), Value::Bool(true));
    }
    let run = Run {
        handle: handle.clone(),
        layers,
        callee,
        args,
        context,
        total,
        deadline,
    };
    Ok(vm.suspend(async move {
        let mut attempt = 1;
        let result = loop {
            let result = run.attempt().await?;
            let Some(settings) = &retry else { break result };
            let Some(reason) = settings.transient(&handle, &result).await? else {
                break result;
            };
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let asked = retry_after(&result);
            let Some(delay) = settings.next(&handle.borrow(), attempt, reason, asked, left) else {
                break result;
            };
            if let Some(span) = &span {
                span.retry(&settings.name, attempt, reason, delay);
            }
            tokio::time::sleep(delay).await;
            attempt += 1;
        };
        match run.layers.fallback.clone() {
            Some(instead) => fall_back(&handle, instead, result).await,
            None => Ok(result),
        }
    }))
}

/// One call under a policy, as the retry loop makes its attempts.
struct Run {
    handle: VmRef,
    layers: Rc<Layers>,
    callee: Value,
    args: Vec<Value>,
    /// The caller's context, marked when retrying; each attempt gets a copy.
    context: ContextValues,
    /// When the policy's total timeout ends, if it has one.
    total: Option<Instant>,
    /// The earlier of the caller's deadline and `total`.
    deadline: Option<Instant>,
}

impl Run {
    /// One attempt: the breaker's permission, a bulkhead slot, then the call, cut off at the
    /// attempt timeout or the total timeout, whichever comes first.
    async fn attempt(&self) -> Result<Value, Fault> {
        let layers = &self.layers;
        if self.total.is_some_and(|total| Instant::now() >= total) {
            return Ok(Value::err(crate::time::timeout_error()));
        }
        let trial = match &layers.breaker {
            Some(breaker) => match breaker.try_call(&mut self.handle.borrow_mut()) {
                Ok(trial) => Some(trial),
                Err(open) => return Ok(open),
            },
            None => None,
        };
        let _slot = match &layers.bulkhead {
            // Refused by the bulkhead: the trial is dropped uncounted (the dependency said
            // nothing).
            Some(bulkhead) => match bulkhead.acquire(self.deadline).await {
                Some(permit) => Some(permit),
                None => return Ok(bulkhead::full()),
            },
            None => None,
        };
        let cutoff = earliest(
            self.total,
            layers.attempt_timeout.map(|d| Instant::now() + d),
        );
        let mut context = self.context.clone();
        if let Some(cutoff) = earliest(cutoff, self.deadline) {
            context.insert(
                DEADLINE_KEY.with(Rc::clone),
                NativeObject::value(Deadline(cutoff)),
            );
        }
        let callback = self.handle.borrow_mut().start_callback_in(
            self.callee.clone(),
            self.args.clone(),
            context,
        );
        let result = match cutoff {
            None => callback.result().await,
            Some(cutoff) => {
                tokio::select! {
                    result = callback.result() => result,
                    _ = tokio::time::sleep_until(cutoff) => {
                        callback.task().cancel();
                        callback.task().wait().await;
                        Ok(Value::err(crate::time::timeout_error()))
                    }
                }
            }
        };
        if let Some(trial) = trial {
            trial.finish(&mut self.handle.borrow_mut(), &result);
        }
        result
    }
}

/// The earlier of two optional instants.
fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// `result`, or, when it is a failure, `instead` (or `instead(error)` when it is a function).
pub(super) async fn fall_back(
    handle: &VmRef,
    instead: Value,
    result: Value,
) -> Result<Value, Fault> {
    if !classify(&result).is_failure() {
        return Ok(result);
    }
    if !instead.is_callable() {
        return Ok(instead);
    }
    let error = match &result {
        Value::Variant(v) if v.is_err() => v.payload.first().cloned().unwrap_or_default(),
        other => other.clone(),
    };
    let call = handle.borrow_mut().start_callback(instead, vec![error]);
    call.result().await
}

/// A policy value.
pub struct Policy(Rc<Layers>);

type M = Member<Policy>;

static POLICY: Table<Policy> = Table::callable(
    "resilience.Policy",
    "Guards around a call, in a fixed order: fallback -> rate_limit -> timeout -> retry -> \
     breaker -> bulkhead -> attempt_timeout. `call(f)` runs `f` under them; used as a \
     decorator it guards the function it decorates.",
    &[
        M::method("call", |p, vm, args| {
            let callee = args.value(0)?.clone();
            if !callee.is_callable() {
                return Err(args.wrong_type(0, "function", &callee));
            }
            start(vm, p.0.clone(), callee, args.positional[1..].to_vec())
        })
        .doc("call(f, *args)\nRuns `f(*args)` under every guard of the policy and returns the result.")
        .params(Params::at_least(1)),
        M::attribute("layers", |p, _| {
            let names = p.0.names().into_iter().map(Value::str).collect();
            Ok(Value::list(names))
        })
        .doc("layers\nThe guards the policy has, outermost first."),
    ],
    |p, _, args| {
        let f = args.value(0)?.clone();
        if !f.is_callable() || args.len() != 1 {
            return Err(Fault::new(
                "a policy called directly decorates one function; use policy.call(f) to run one",
            ));
        }
        let name = match &f {
            Value::Function(c) => c.name().to_string(),
            _ => "guarded".to_string(),
        };
        let layers = p.0.clone();
        Ok(NativeFunction::closure(name, move |vm, args| {
            start(vm, layers.clone(), f.clone(), args.positional.to_vec())
        }))
    },
);

impl NativeType for Policy {
    fn type_name(&self) -> &str {
        "resilience.Policy"
    }

    fn members(&self) -> &'static dyn Members {
        &POLICY
    }

    fn display(&self) -> String {
        format!("<resilience.Policy {}>", self.0.names().join(" -> "))
    }
}
