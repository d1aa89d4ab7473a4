//! Deadline propagation: a request handled by a cn server carries its deadline (now plus the
//! request timeout, or less when the caller sent a shorter budget) in its context; the http
//! client gives each outgoing call at most the time that is left and sends the rest on in
//! `x-timeout-ms`, which the next cn server reads to shorten its own deadline. A call made after
//! the deadline has passed fails at once with `Err(Timeout(..))`; a retry that would wait past it
//! is not made.

use std::time::Duration;
// tokio's instant: deadlines follow `time.pause()` in tests.
use tokio::time::Instant;

use hyper::header::{HeaderMap, HeaderName, HeaderValue};

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Value, Vm};

/// The header that carries the caller's remaining budget, in whole milliseconds.
pub const HEADER: &str = "x-timeout-ms";

/// The context key the deadline is kept under (`context.get("deadline")`).
pub const KEY: &str = "deadline";

/// A request's deadline, as the task's context holds it.
pub struct Deadline(pub Instant);

impl Deadline {
    /// A deadline value `after` from now.
    pub fn value(after: Duration) -> Value {
        NativeObject::value(Deadline(Instant::now() + after))
    }

    /// The time left before the current task's deadline, if it has one.
    pub fn remaining(vm: &Vm) -> Option<Duration> {
        let task = vm.current_task()?;
        let context = task.context.borrow();
        match context.get(KEY)? {
            Value::Object(object) => object
                .downcast::<Deadline>()
                .map(|d| d.0.saturating_duration_since(Instant::now())),
            _ => None,
        }
    }
}

/// The header's name, made once (a lookup by `&str` parses and checks the name every time).
static NAME: HeaderName = HeaderName::from_static(HEADER);

/// The budget a caller sent, if it sent a sane one.
pub fn from_header(headers: &HeaderMap) -> Option<Duration> {
    let ms: u64 = headers.get(&NAME)?.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_millis(ms))
}

/// Sends the remaining budget on.
pub fn to_header(headers: &mut HeaderMap, remaining: Duration) {
    let ms = remaining.as_millis().min(u64::MAX as u128) as u64;
    headers.insert(NAME.clone(), HeaderValue::from(ms));
}

static DEADLINE: Table<Deadline> = Table::new(
    "http.Deadline",
    "When the request being handled must be answered by; outgoing http calls get at most the \
     time that is left.",
    &[Member::<Deadline>::attribute("remaining", |d, _| {
        let left = d.0.saturating_duration_since(Instant::now());
        Ok(Value::Duration(left.as_nanos().min(i64::MAX as u128) as i64))
    })
    .doc("remaining\nThe time left, a duration (0 once it has passed).")],
);

impl NativeType for Deadline {
    fn type_name(&self) -> &str {
        "http.Deadline"
    }

    fn members(&self) -> &'static dyn Members {
        &DEADLINE
    }

    fn display(&self) -> String {
        let left = self.0.saturating_duration_since(Instant::now());
        format!("<http.Deadline in {}ms>", left.as_millis())
    }
}
