//! `resilience`: circuit breakers and retries (seed 000, sections 7 and 8), safe by default and
//! observable without setup.
//!
//! `breaker` (closed / open / half-open), `retry` (policies, the decorator form), `backoff`
//! (exponential with full jitter, constant), `budget` (retries at most a fifth of recent calls),
//! `bulkhead` (a concurrency limit), `limiter` (a rate limit), `policy` (guards composed in
//! one order; the engine retries run on), `outcome` (what a result means: success, transient, failure). Breakers and retries report to
//! the automatic metrics of `metrics::resilience` and log their state changes. The reference is
//! `spec/resilience.md`.

mod backoff;
mod breaker;
mod budget;
mod bulkhead;
mod limiter;
mod outcome;
mod policy;
mod retry;

pub(crate) use breaker::HostBreakers;
pub(crate) use policy::inside_retry;
pub(crate) use retry::HttpRetry;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("circuit_breaker", breaker::new)
        .doc("circuit_breaker(name=, failure_threshold=5, recovery_timeout=30.seconds, half_open_calls=1, slow_call=nil, on_state_change=nil) or (failure_rate=, window=100, minimum_calls=10, ...)\nA circuit breaker: `breaker.call(f)`, or `@resilience.circuit_breaker(...)` over a function.")
        .params(breaker::PARAMS),
    Function::new("retry", retry::retry)
        .doc("retry(f=nil, *args, name=\"retry\", max_attempts=3, backoff=resilience.exponential(), retry_on=nil, max_delay=30.seconds, budget=true)\nWith `f`: runs `f(*args)`, again after transient failures, and returns the last result. Without: a policy, usable as a decorator.")
        .params(retry::PARAMS),
    Function::new("retry_policy", retry::retry_policy)
        .doc("retry_policy(name=\"retry\", max_attempts=3, backoff=, retry_on=nil, max_delay=30.seconds, budget=true)\nA retry policy: `policy.call(f)`, or `@policy` over a function.")
        .params(retry::PARAMS),
    Function::new("exponential", backoff::exponential)
        .doc("exponential(base=100.ms, max=10.seconds, multiplier=2, jitter=true)\nWaits up to base * multiplier^(attempt-1), at most `max`; with jitter, a uniformly random part of that (full jitter).")
        .params(backoff::EXPONENTIAL),
    Function::new("constant", backoff::constant)
        .doc("constant(d)\nWaits `d` between attempts.")
        .params(Params::exactly(1)),
    Function::new("bulkhead", bulkhead::new)
        .doc("bulkhead(name=\"bulkhead\", max_concurrent=10, max_wait=0)\nAt most max_concurrent calls through it run at once; others wait up to max_wait, then get Err(BulkheadFull).")
        .params(bulkhead::PARAMS),
    Function::new("rate_limiter", limiter::new)
        .doc("rate_limiter(rate, burst=rate, per=1.second, name=\"rate_limiter\")\nAt most `rate` calls per `per` (`burst` at once): `limiter.call(f)`, `limiter.wait()`, `limiter.try_acquire()`.")
        .params(limiter::PARAMS),
    Function::new("policy", policy::new)
        .doc("policy(fallback=, rate_limit=, timeout=, retry=, breaker=, bulkhead=, attempt_timeout=)\nGuards around a call in that order, outermost first: `policy.call(f)`, or `@resilience.policy(...)` over a function.")
        .params(policy::PARAMS),
    Function::new("timeout", crate::time::timeout)
        .doc("timeout(d, f)\n`Ok(f())`, or `Err(Timeout)` once `d` has passed (f is then cancelled and its defers have run); the same as time.timeout.")
        .params(Params::exactly(2)),
    Function::new("fallback", fallback)
        .doc("fallback(f, value)\nRuns `f()`; when it fails (an `Err`, or an http response of 500 or more), returns `value`, or `value(error)` when `value` is a function.")
        .params(Params::exactly(2)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Circuit breakers, retries with backoff and a retry budget, timeouts, fallbacks.")
        .functions(FUNCTIONS);
}

/// resilience.fallback(f, value)
fn fallback(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let callee = args.value(0)?.clone();
    if !callee.is_callable() {
        return Err(args.wrong_type(0, "function", &callee));
    }
    let instead = args.value(1)?.clone();
    let handle = vm.handle();
    let callback = vm.start_callback(callee, Vec::new());
    Ok(vm.suspend(async move {
        let result = callback.result().await?;
        policy::fall_back(&handle, instead, result).await
    }))
}
