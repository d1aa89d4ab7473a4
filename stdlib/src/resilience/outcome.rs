//! What a guarded call's result means to a breaker or a retry: a failure or not, transient
//! (worth retrying) or not, and how long the other side asked us to wait.

use std::time::Duration;

use cn_runtime::object::Variant;
use cn_runtime::Value;

/// How one call ended, as the policies see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned a value that is not a failure.
    Success,
    /// `Err(e)`, where `e` is worth another attempt (`ConnectError`, `Timeout` from the http
    /// client or `time.Timeout` from a timeout), or an http
    /// response whose status says "try again" (408, 429, 502, 503, 504).
    Transient(&'static str),
    /// `Err(e)` of any other kind, an http response of 500 or more, or a fault.
    Failure(&'static str),
}

impl Outcome {
    /// Whether a breaker counts it against the dependency.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Success)
    }
}

/// Statuses a retry may try again: the server says it is busy or the request can be repeated.
const TRANSIENT_STATUSES: [(u16, &str); 5] = [
    (408, "status_408"),
    (429, "status_429"),
    (502, "status_502"),
    (503, "status_503"),
    (504, "status_504"),
];

/// What `result` (a call's return value) means.
pub fn classify(result: &Value) -> Outcome {
    let inner = match result {
        Value::Variant(v) if v.is_err() => return classify_error(v),
        Value::Variant(v) if v.is_ok() => v.payload.first().unwrap_or(&Value::Nil),
        other => other,
    };
    match crate::http::client::status_of(inner) {
        Some((status, _)) => classify_status(status),
        None => Outcome::Success,
    }
}

fn classify_status(status: u16) -> Outcome {
    if let Some((_, reason)) = TRANSIENT_STATUSES.iter().find(|(s, _)| *s == status) {
        return Outcome::Transient(reason);
    }
    if status >= 500 {
        Outcome::Failure("status_5xx")
    } else {
        Outcome::Success
    }
}

fn classify_error(err: &Variant) -> Outcome {
    match err.payload.first() {
        Some(Value::Variant(kind)) if &*kind.type_name == "http" => match kind.name.name() {
            "ConnectError" => Outcome::Transient("connect_error"),
            "Timeout" => Outcome::Transient("timeout"),
            _ => Outcome::Failure("error"),
        },
        // `time.timeout` and a policy's timeouts: the attempt took too long, and another may not.
        Some(Value::Variant(kind))
            if &*kind.type_name == "time" && kind.name.name() == "Timeout" =>
        {
            Outcome::Transient("timeout")
        }
        // `Err(http.Error(503, ...))` and friends: an error carrying a transient status.
        Some(value @ Value::Object(_)) => match crate::http::error_status(value) {
            Some(status) => match classify_status(status) {
                Outcome::Success => Outcome::Failure("error"),
                other => other,
            },
            None => Outcome::Failure("error"),
        },
        _ => Outcome::Failure("error"),
    }
}

/// How long the response in `result` asked the caller to wait (`Retry-After`).
pub fn retry_after(result: &Value) -> Option<Duration> {
    let inner = match result {
        Value::Variant(v) if v.is_ok() || v.is_err() => v.payload.first()?,
        other => other,
    };
    crate::http::client::status_of(inner).and_then(|(_, after)| after)
}
