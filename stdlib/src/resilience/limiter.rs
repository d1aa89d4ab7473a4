//! `resilience.rate_limiter(rate, burst=rate, per=1.second)`: the GCRA limiter the http server
//! uses, for calls a script makes (to an API with a quota, say). `limiter.call(f)` runs `f` or
//! returns `Err(RateLimited(retry_after))` at once; `limiter.wait()` waits for the next slot;
//! `limiter.try_acquire()` says whether a call may go now (and takes the slot if so).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
// tokio's instant: it follows `time.pause()` in tests.
use tokio::time::Instant;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType, Variant};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

use crate::http::admission::{parse_rate, RateLimit};
use crate::metrics::resilience as metrics;

/// A rate limiter value.
pub struct Limiter(pub(super) Rc<State>);

pub(super) struct State {
    name: String,
    limit: RefCell<RateLimit>,
}

/// The keywords `rate_limiter` takes besides the rate.
pub const PARAMS: Params = Params::between(1, 2).keywords(&["burst", "per", "name"]);

/// resilience.rate_limiter(rate, burst=rate, per=1.second, name="rate_limiter")
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let limit = parse_rate(
        args.value(0)?,
        args.get_or_named(1, "burst"),
        args.named("per"),
        None,
    )
    .map_err(|fault| {
        Fault::new(
            fault
                .message
                .replace("http.Server.rate_limit", args.function),
        )
    })?;
    let name = match args.named("name") {
        None | Some(Value::Nil) => "rate_limiter".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => return Err(args.wrong_type(0, "str", other)),
    };
    Ok(NativeObject::value(Limiter(Rc::new(State {
        name,
        limit: RefCell::new(limit),
    }))))
}

impl State {
    fn take(&self) -> Result<(), Duration> {
        self.limit
            .borrow_mut()
            .take("", Instant::now().into_std())
            .map(|_| ())
    }

    /// Takes a slot, or gives the `Err(RateLimited(retry_after))` to answer with (counted).
    pub(super) fn admit(&self) -> Result<(), Value> {
        self.take().map_err(|wait| {
            metrics::rejection(&self.name, "rate_limited");
            limited(wait)
        })
    }
}

/// `Err(RateLimited(retry_after))`.
fn limited(wait: Duration) -> Value {
    let nanos = wait.as_nanos().min(i64::MAX as u128) as i64;
    Value::err(Value::Variant(Rc::new(Variant {
        type_name: "resilience".into(),
        name: Symbol::intern("RateLimited"),
        field_names: Rc::from(vec![Symbol::intern("retry_after")]),
        payload: vec![Value::Duration(nanos)],
    })))
}

type M = Member<Limiter>;

static LIMITER: Table<Limiter> = Table::new(
    "resilience.RateLimiter",
    "A rate limit for calls a script makes: `call(f)`, `wait()`, `try_acquire()`.",
    &[
        M::method("call", |l, vm, args| {
            let callee = args.value(0)?.clone();
            if !callee.is_callable() {
                return Err(args.wrong_type(0, "function", &callee));
            }
            if let Err(refused) = l.0.admit() {
                return Ok(refused);
            }
            let callback = vm.start_callback(callee, args.positional[1..].to_vec());
            Ok(vm.suspend(async move { callback.result().await }))
        })
        .doc("call(f, *args)\nRuns `f(*args)` if the rate allows it now, else returns `Err(RateLimited(retry_after))` without running it.")
        .params(Params::at_least(1)),
        M::method("try_acquire", |l, _, _| Ok(Value::Bool(l.0.take().is_ok())))
            .doc("try_acquire()\nWhether a call may go now; true takes its slot."),
        M::method("wait", |l, vm, _| {
            let state = l.0.clone();
            Ok(vm.suspend(async move {
                // Each pass sleeps until the slot it was told of; another waiter may take it.
                while let Err(wait) = state.take() {
                    tokio::time::sleep(wait).await;
                }
                Ok(Value::Nil)
            }))
        })
        .doc("wait()\nWaits until a call may go, and takes its slot."),
        M::attribute("name", |l, _| Ok(Value::str(&*l.0.name)))
            .doc("name\nThe limiter's name, as metrics show it."),
    ],
);

impl NativeType for Limiter {
    fn type_name(&self) -> &str {
        "resilience.RateLimiter"
    }

    fn members(&self) -> &'static dyn Members {
        &LIMITER
    }

    fn display(&self) -> String {
        format!("<resilience.RateLimiter {}>", self.0.name)
    }
}
