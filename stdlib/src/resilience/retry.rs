//! `resilience.retry(f, ...)` and its decorator form: runs `f` again when its result is a
//! transient failure, waiting by the backoff (full jitter by default) or by the `Retry-After`
//! the server sent, within the policy's retry budget, and never once shutdown has begun.
//!
//! What is retried: `Err(ConnectError(..))` and `Err(Timeout(..))` from the http client, an http
//! response (or `Err(http.Error(..))`) with status 408, 429, 502, 503 or 504, or whatever
//! `retry_on(result)` says. A fault is a bug and is never retried. After the last attempt, or
//! when a retry is refused, the last result is returned as it is.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeFunction, NativeObject, NativeType};
use cn_runtime::tasks::VmRef;
use cn_runtime::{Args, Fault, Value, Vm};

use super::backoff::Backoff;
use super::budget::Budget;
use super::outcome::{classify, Outcome};
use super::policy::Layers;
use crate::log::{self, Field, Level};
use crate::metrics::resilience as metrics;

/// A retry policy.
pub struct Policy(pub(super) Rc<Settings>);

pub(super) struct Settings {
    pub(super) name: String,
    named: bool,
    max_attempts: u32,
    backoff: Backoff,
    retry_on: Option<Value>,
    /// The longest wait it will make (a longer `Retry-After` ends the retries).
    max_delay: Duration,
    budget: Option<Rc<Budget>>,
}

thread_local! {
    /// Budgets by policy name: every `retry(f, name="x")` shares one.
    static BUDGETS: RefCell<HashMap<String, Rc<Budget>>> = RefCell::new(HashMap::new());
}

fn budget_named(name: &str) -> Rc<Budget> {
    BUDGETS.with(|b| b.borrow_mut().entry(name.to_string()).or_default().clone())
}

/// The keywords `retry` takes.
pub const KEYWORDS: &[&str] = &[
    "name",
    "max_attempts",
    "backoff",
    "retry_on",
    "max_delay",
    "budget",
];

/// What `retry` and `retry_policy` accept.
pub const PARAMS: Params = Params::at_least(0).keywords(KEYWORDS);

fn settings(args: &Args<'_>) -> Result<Settings, Fault> {
    let f = args.function;
    let name = match args.named("name") {
        None | Some(Value::Nil) => "retry".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: name must be a str, got {}",
                other.type_name()
            )))
        }
    };
    let max_attempts = match args.named("max_attempts") {
        None => 3,
        Some(Value::Int(n)) if (1..=100).contains(n) => *n as u32,
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: max_attempts must be an int from 1 to 100, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let backoff = match args.named("backoff") {
        None | Some(Value::Nil) => Backoff::DEFAULT,
        Some(value) => Backoff::of(value).ok_or_else(|| {
            Fault::new(format!(
                "{f}: backoff must be resilience.exponential(..) or resilience.constant(d), got {}",
                value.type_name()
            ))
        })?,
    };
    let retry_on = match args.named("retry_on") {
        None | Some(Value::Nil) => None,
        Some(p) if p.is_callable() => Some(p.clone()),
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: retry_on must be a function of the result, got {}",
                other.type_name()
            )))
        }
    };
    let max_delay = match args.named("max_delay") {
        None | Some(Value::Nil) => backoff.max().max(Duration::from_secs(30)),
        Some(value) => crate::time::duration_value(value).map_err(|_| {
            Fault::new(format!(
                "{f}: max_delay must be a duration, got {}",
                cn_runtime::format::repr(value)
            ))
        })?,
    };
    let budget = match args.named("budget") {
        None | Some(Value::Bool(true)) => Some(budget_named(&name)),
        Some(Value::Bool(false)) => None,
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: budget must be true or false, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    Ok(Settings {
        named: args.named("name").is_some(),
        name,
        max_attempts,
        backoff,
        retry_on,
        max_delay,
        budget,
    })
}

/// resilience.retry(f=nil, name=, max_attempts=3, backoff=, retry_on=, max_delay=, budget=true):
/// with `f`, runs it under the policy; without, returns the policy (a decorator).
pub fn retry(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let settings = Rc::new(settings(&args)?);
    match args.get(0) {
        None => Ok(NativeObject::value(Policy(settings))),
        Some(callee) if callee.is_callable() => {
            run(vm, settings, callee.clone(), args.positional[1..].to_vec())
        }
        Some(other) => Err(args.wrong_type(0, "function", other)),
    }
}

/// resilience.retry_policy(...): the policy alone, for `http.Client(retry=...)` and `policy.call`.
pub fn retry_policy(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    if !args.is_empty() {
        return Err(Fault::new(format!(
            "{}() takes keyword arguments only; resilience.retry(f, ...) runs a function",
            args.function
        )));
    }
    Ok(NativeObject::value(Policy(Rc::new(settings(&args)?))))
}

/// Runs `callee(args)` under `settings`: the whole exchange is one wait for the caller.
fn run(
    vm: &mut Vm,
    settings: Rc<Settings>,
    callee: Value,
    args: Vec<Value>,
) -> Result<Value, Fault> {
    super::policy::start(vm, Rc::new(Layers::retry(settings)), callee, args)
}

impl Settings {
    /// Counts a call (its first attempt) against the budget.
    pub(super) fn started(&self) {
        if let Some(budget) = &self.budget {
            budget.call();
        }
    }

    /// Why `result` is worth another attempt (`retry_on`'s answer, or the transient kind the
    /// result is), or `None` when it is not.
    pub(super) async fn transient(
        &self,
        handle: &VmRef,
        result: &Value,
    ) -> Result<Option<&'static str>, Fault> {
        Ok(match &self.retry_on {
            Some(predicate) => {
                let check = handle
                    .borrow_mut()
                    .start_callback(predicate.clone(), vec![result.clone()]);
                check.result().await?.truthy().then_some("retry_on")
            }
            None => match classify(result) {
                Outcome::Transient(reason) => Some(reason),
                _ => None,
            },
        })
    }

    /// After attempt `attempt` ended transiently (`reason`), the wait before the next one; `None`
    /// when there is to be none, counted with why. `retry_after` is what the other side asked
    /// for; `time_left` is what is left before the caller's deadline.
    pub(super) fn next(
        &self,
        vm: &Vm,
        attempt: u32,
        reason: &str,
        retry_after: Option<Duration>,
        time_left: Option<Duration>,
    ) -> Option<Duration> {
        let refuse = |why: &str| {
            metrics::rejection(&self.name, why);
            None
        };
        if attempt >= self.max_attempts {
            return refuse("attempts_exhausted");
        }
        if vm.lifecycle.stopping() {
            return refuse("shutdown");
        }
        let delay = retry_after.unwrap_or_else(|| self.backoff.delay(attempt));
        if delay > self.max_delay {
            return refuse("retry_after_too_long");
        }
        // An attempt that could only start at or after the caller's deadline is not made.
        if time_left.is_some_and(|left| delay >= left) {
            return refuse("deadline");
        }
        if self.budget.as_ref().is_some_and(|b| !b.try_retry()) {
            log::emit(
                vm,
                Level::Warn,
                "retry budget spent; not retrying",
                &[
                    ("policy", Field::Str(&self.name)),
                    ("reason", Field::Str(reason)),
                ],
            );
            return refuse("budget");
        }
        metrics::retry(&self.name, reason);
        Some(delay)
    }
}

type M = Member<Policy>;

/// What `resilience.retry(...)` without a function and `resilience.retry_policy(...)` return.
static POLICY: Table<Policy> = Table::callable(
    "resilience.RetryPolicy",
    "A retry policy: `call(f)` runs `f` under it; used as a decorator it retries the function \
     it decorates.",
    &[
        M::method("call", |p, vm, args| {
            let callee = args.value(0)?.clone();
            if !callee.is_callable() {
                return Err(args.wrong_type(0, "function", &callee));
            }
            run(vm, p.0.clone(), callee, args.positional[1..].to_vec())
        })
        .doc("call(f, *args)\nRuns `f(*args)`, again after each transient failure, and returns the last result.")
        .params(Params::at_least(1)),
        M::attribute("max_attempts", |p, _| Ok(Value::Int(i64::from(p.0.max_attempts))))
            .doc("max_attempts\nAttempts per call, the first included."),
        M::attribute("name", |p, _| Ok(Value::str(&*p.0.name)))
            .doc("name\nThe policy's name, as metrics show it; policies of one name share a budget."),
    ],
    |p, _, args| {
        let f = args.value(0)?.clone();
        if !f.is_callable() || args.len() != 1 {
            return Err(Fault::new(
                "a retry policy called directly decorates one function; use policy.call(f) to \
                 run one",
            ));
        }
        let name = match &f {
            Value::Function(c) => c.name().to_string(),
            _ => "retried".to_string(),
        };
        let settings = if p.0.named {
            p.0.clone()
        } else {
            Rc::new(Settings {
                budget: p.0.budget.as_ref().map(|_| budget_named(&name)),
                name: name.clone(),
                named: true,
                max_attempts: p.0.max_attempts,
                backoff: p.0.backoff,
                retry_on: p.0.retry_on.clone(),
                max_delay: p.0.max_delay,
            })
        };
        Ok(NativeFunction::closure(name, move |vm, args| {
            run(vm, settings.clone(), f.clone(), args.positional.to_vec())
        }))
    },
);

impl NativeType for Policy {
    fn type_name(&self) -> &str {
        "resilience.RetryPolicy"
    }

    fn members(&self) -> &'static dyn Members {
        &POLICY
    }

    fn display(&self) -> String {
        format!(
            "<resilience.RetryPolicy {} max_attempts={}>",
            self.0.name, self.0.max_attempts
        )
    }
}

/// Retries as the http client makes them for idempotent requests: the same rules as a policy,
/// decided in Rust around each exchange (no script call per attempt; `retry_on` is not used).
pub(crate) struct HttpRetry(Rc<Settings>);

impl HttpRetry {
    /// What every client does unless told otherwise: 3 attempts, exponential backoff from
    /// 100 ms with full jitter, `Retry-After` up to 30 s, and a budget of its own.
    pub(crate) fn standard() -> HttpRetry {
        HttpRetry(Rc::new(Settings {
            name: "http_client".into(),
            named: true,
            max_attempts: 3,
            backoff: Backoff::DEFAULT,
            retry_on: None,
            max_delay: Duration::from_secs(30),
            budget: Some(Rc::new(Budget::default())),
        }))
    }

    /// The rules of a `resilience.retry_policy(...)` value (sharing its budget).
    pub(crate) fn of(value: &Value) -> Option<HttpRetry> {
        let Value::Object(object) = value else {
            return None;
        };
        Some(HttpRetry(object.downcast::<Policy>()?.0.clone()))
    }

    /// The policy's name, as metrics and span events show it.
    pub(crate) fn name(&self) -> &str {
        &self.0.name
    }

    /// Counts a call (its first attempt) against the budget.
    pub(crate) fn started(&self) {
        self.0.started();
    }

    /// See [`Settings::next`].
    pub(crate) fn next(
        &self,
        vm: &Vm,
        attempt: u32,
        reason: &str,
        retry_after: Option<Duration>,
        time_left: Option<Duration>,
    ) -> Option<Duration> {
        self.0.next(vm, attempt, reason, retry_after, time_left)
    }
}
