//! `resilience.bulkhead(max_concurrent=10, max_wait=0)`: at most `max_concurrent` calls through
//! it run at once; a further call waits up to `max_wait` for a slot and otherwise returns
//! `Err(BulkheadFull)` at once, without running. One slow dependency then holds at most that
//! many tasks instead of all of them.

use std::rc::Rc;
use std::time::Duration;
// tokio's instant: it follows `time.pause()` in tests.
use tokio::time::Instant;

use tokio::sync::{Semaphore, SemaphorePermit};

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType, Variant};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::metrics::resilience as metrics;

/// A bulkhead value.
pub struct Bulkhead(pub(super) Rc<State>);

pub(super) struct State {
    name: String,
    max: usize,
    max_wait: Duration,
    slots: Semaphore,
}

/// The keywords `bulkhead` takes.
pub const PARAMS: Params = Params::NONE.keywords(&["name", "max_concurrent", "max_wait"]);

/// resilience.bulkhead(name="bulkhead", max_concurrent=10, max_wait=0)
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let f = args.function;
    let max = match args.named("max_concurrent") {
        None => 10,
        Some(Value::Int(n)) if (1..=1_000_000).contains(n) => *n as usize,
        Some(other) => {
            return Err(Fault::new(format!(
                "{f}: max_concurrent must be an int from 1 to 1000000, got {}",
                cn_runtime::format::repr(other)
            )))
        }
    };
    let max_wait = match args.named("max_wait") {
        None | Some(Value::Nil) => Duration::ZERO,
        Some(value) => crate::time::duration_value(value).map_err(|_| {
            Fault::new(format!(
                "{f}: max_wait must be a duration of 0 or more, got {}",
                cn_runtime::format::repr(value)
            ))
        })?,
    };
    let name = match args.named("name") {
        None | Some(Value::Nil) => "bulkhead".to_string(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => return Err(args.wrong_type(0, "str", other)),
    };
    Ok(NativeObject::value(Bulkhead(Rc::new(State {
        name,
        max,
        max_wait,
        slots: Semaphore::new(max),
    }))))
}

/// `Err(BulkheadFull)`: refused without running.
pub(super) fn full() -> Value {
    Value::err(Variant::value("resilience", "BulkheadFull", Vec::new()))
}

impl State {
    /// A slot, waiting up to `max_wait` for one (and never past `deadline`); `None` (counted)
    /// when none freed up in time.
    pub(super) async fn acquire(&self, deadline: Option<Instant>) -> Option<SemaphorePermit<'_>> {
        if let Ok(permit) = self.slots.try_acquire() {
            return Some(permit);
        }
        let mut wait = self.max_wait;
        if let Some(deadline) = deadline {
            wait = wait.min(deadline.saturating_duration_since(Instant::now()));
        }
        if !wait.is_zero() {
            if let Ok(Ok(permit)) = tokio::time::timeout(wait, self.slots.acquire()).await {
                return Some(permit);
            }
        }
        metrics::rejection(&self.name, "bulkhead_full");
        None
    }
}

fn call(state: &Rc<State>, vm: &mut Vm, callee: Value, args: Vec<Value>) -> Result<Value, Fault> {
    let state = state.clone();
    let handle = vm.handle();
    Ok(vm.suspend(async move {
        let Some(permit) = state.acquire(None).await else {
            return Ok(full());
        };
        let callback = handle.borrow_mut().start_callback(callee, args);
        let result = callback.result().await;
        drop(permit);
        result
    }))
}

type M = Member<Bulkhead>;

static BULKHEAD: Table<Bulkhead> = Table::new(
    "resilience.Bulkhead",
    "A concurrency limit for calls to one dependency: `call(f)` runs `f` when a slot is free.",
    &[
        M::method("call", |b, vm, args| {
            let callee = args.value(0)?.clone();
            if !callee.is_callable() {
                return Err(args.wrong_type(0, "function", &callee));
            }
            call(&b.0, vm, callee, args.positional[1..].to_vec())
        })
        .doc("call(f, *args)\nRuns `f(*args)` in a free slot (waiting up to max_wait for one), or returns `Err(BulkheadFull)` without running it.")
        .params(Params::at_least(1)),
        M::attribute("available", |b, _| {
            Ok(Value::Int(b.0.slots.available_permits() as i64))
        })
        .doc("available\nSlots free right now."),
        M::attribute("max_concurrent", |b, _| Ok(Value::Int(b.0.max as i64)))
            .doc("max_concurrent\nHow many calls may run at once."),
    ],
);

impl NativeType for Bulkhead {
    fn type_name(&self) -> &str {
        "resilience.Bulkhead"
    }

    fn members(&self) -> &'static dyn Members {
        &BULKHEAD
    }

    fn display(&self) -> String {
        format!(
            "<resilience.Bulkhead {} {}/{} free>",
            self.0.name,
            self.0.slots.available_permits(),
            self.0.max
        )
    }
}
