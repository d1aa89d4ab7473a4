//! Admission control: whether a routed request may reach its handler. `server.rate_limit(rate,
//! burst=, key=, per=)` is a GCRA limiter (one timestamp per key: the theoretical arrival time
//! of the next request), answering 429 with `Retry-After` and the `RateLimit-*` headers;
//! `server.concurrency_limit(n)` sheds load with 503 once `n` handlers are running, before the
//! server is saturated. Health, readiness and metrics endpoints are never limited. Both count in
//! `resilience_rejections_total{name="http_server"}`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use cn_runtime::{Fault, Value, Vm};

/// Keys remembered at most; past it, keys whose allowance is full again are forgotten.
const MAX_KEYS: usize = 100_000;

/// A server's limits.
#[derive(Default)]
pub struct Admission {
    pub rate: RefCell<Option<RateLimit>>,
    pub max_in_flight: Cell<Option<usize>>,
    pub in_flight: Cell<usize>,
}

/// A GCRA limiter: `burst` requests at once, then one every `interval`.
pub struct RateLimit {
    interval: Duration,
    burst: u32,
    key: Option<Value>,
    next: HashMap<String, Instant>,
}

/// Why a request is turned away.
pub enum Refusal {
    /// Over the rate: wait this long; the limit per `per`.
    RateLimited { wait: Duration, limit: u32 },
    /// Too many handlers running.
    Overloaded,
}

impl RateLimit {
    /// `rate` requests per `per`, `burst` at once (at least 1).
    pub fn new(rate: f64, per: Duration, burst: u32, key: Option<Value>) -> RateLimit {
        RateLimit {
            interval: per.div_f64(rate),
            burst: burst.max(1),
            key,
            next: HashMap::new(),
        }
    }

    /// Takes one request of `key` at `now`: `Ok(remaining)` or `Err(wait)`.
    pub fn take(&mut self, key: &str, now: Instant) -> Result<u32, Duration> {
        let tolerance = self.interval * (self.burst - 1);
        let tat = self.next.get(key).copied().unwrap_or(now).max(now);
        let ahead = tat - now;
        if ahead > tolerance {
            return Err(ahead - tolerance);
        }
        let new_tat = tat + self.interval;
        if let Some(known) = self.next.get_mut(key) {
            // A key seen before: no new string.
            *known = new_tat;
        } else {
            if self.next.len() >= MAX_KEYS {
                self.next.retain(|_, t| *t > now);
                if self.next.len() >= MAX_KEYS {
                    // Every key still counts: forget them all rather than grow without bound.
                    self.next.clear();
                }
            }
            self.next.insert(key.to_string(), new_tat);
        }
        let used = (new_tat - now).as_secs_f64() / self.interval.as_secs_f64();
        Ok((f64::from(self.burst) - used.ceil()).max(0.0) as u32)
    }
}

impl Admission {
    /// Whether the server has any limit (most have none: they skip [`Admission::enter`]).
    #[inline]
    pub fn is_active(&self) -> bool {
        self.max_in_flight.get().is_some() || self.rate.borrow().is_some()
    }

    /// The rate limit's key function, if it has one: run it ([`rate_key`]) before
    /// [`Admission::enter`].
    pub fn key_function(&self) -> Option<Value> {
        self.rate.borrow().as_ref().and_then(|r| r.key.clone())
    }

    /// Decides for a request whose rate-limit key is `key` (see [`Admission::key_function`]):
    /// `Ok` lets it in (call [`Admission::leave`] when its handler is done if it returned `true`).
    pub fn enter(&self, key: &str) -> Result<bool, Refusal> {
        if let Some(max) = self.max_in_flight.get() {
            if self.in_flight.get() >= max {
                crate::metrics::resilience::rejection("http_server", "overloaded");
                return Err(Refusal::Overloaded);
            }
        }
        if let Some(rate) = self.rate.borrow_mut().as_mut() {
            if let Err(wait) = rate.take(key, Instant::now()) {
                crate::metrics::resilience::rejection("http_server", "rate_limited");
                return Err(Refusal::RateLimited {
                    wait,
                    limit: rate.burst,
                });
            }
        }
        let counted = self.max_in_flight.get().is_some();
        if counted {
            self.in_flight.set(self.in_flight.get() + 1);
        }
        Ok(counted)
    }

    /// A handler let in by [`Admission::enter`] is done.
    pub fn leave(&self) {
        self.in_flight.set(self.in_flight.get().saturating_sub(1));
    }
}

/// `server.rate_limit(rate, burst=rate, key=nil, per=1.second)`'s checks.
pub fn parse_rate(
    rate: &Value,
    burst: Option<&Value>,
    per: Option<&Value>,
    key: Option<&Value>,
) -> Result<RateLimit, Fault> {
    let f = "http.Server.rate_limit";
    let rate = match rate {
        Value::Int(n) if *n > 0 => *n as f64,
        Value::Float(x) if *x > 0.0 && x.is_finite() => *x,
        other => {
            return Err(Fault::new(format!(
                "{f}: rate must be a number of requests above 0, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let burst = match burst {
        None | Some(Value::Nil) => rate.ceil() as u32,
        Some(Value::Int(n)) if *n >= 1 && *n <= 1_000_000 => *n as u32,
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: burst must be an int from 1 to 1000000, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let per = match per {
        None | Some(Value::Nil) => Duration::from_secs(1),
        Some(value) => match crate::time::duration_value(value) {
            Ok(d) if !d.is_zero() => d,
            _ => {
                return Err(Fault::new(format!(
                    "{f}: per must be a positive duration, got {}",
                    cn_runtime::format::repr(value)
                )))
            }
        },
    };
    let key = match key {
        None | Some(Value::Nil) => None,
        Some(k) if k.is_callable() => Some(k.clone()),
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: key must be a function of the request, got {}",
                other.type_name()
            )))
        }
    };
    Ok(RateLimit::new(rate, per, burst, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_one_per_interval() {
        let mut limit = RateLimit::new(10.0, Duration::from_secs(1), 3, None);
        let now = Instant::now();
        assert_eq!(limit.take("a", now), Ok(2));
        assert_eq!(limit.take("a", now), Ok(1));
        assert_eq!(limit.take("a", now), Ok(0));
        let wait = limit.take("a", now).expect_err("the burst is spent");
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(100));
        assert_eq!(
            limit.take("b", now),
            Ok(2),
            "another key has its own allowance"
        );
        assert!(limit.take("a", now + Duration::from_millis(100)).is_ok());
    }
}

/// How many instruction budgets (the slice a task runs before it yields; about a millisecond)
/// a rate-limit key function may use. It should only read the request (a header, the client
/// address); one that loops is cut off so it cannot hold the server up.
const KEY_SLICES: u32 = 2;

/// The rate-limit key of `request`: what `key_fn(request)` returns, as text. It runs at once,
/// while the server waits (a key must be cheap; one that waits or runs past [`KEY_SLICES`]
/// faults). A key function that faults or returns nil puts the request in one shared bucket, and
/// the first such fault is logged.
pub fn rate_key(vm: &mut Vm, key_fn: &Value, request: &Value) -> String {
    let fault = match vm.call_value_within(key_fn, std::slice::from_ref(request), KEY_SLICES) {
        Ok(Value::Nil) => return String::new(),
        Ok(value) => return cn_runtime::format::display(&value),
        Err(fault) => fault,
    };
    if !KEY_FAILED.replace(true) {
        crate::log::emit(
            vm,
            crate::log::Level::Error,
            "the rate_limit key function failed; such requests share one bucket",
            &[("error", crate::log::Field::Str(&fault.message))],
        );
    }
    String::new()
}

thread_local! {
    /// Whether a key function has failed yet (logged once, not once per request).
    static KEY_FAILED: Cell<bool> = const { Cell::new(false) };
}
