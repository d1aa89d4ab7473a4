//! What a failed Kubernetes call returns: `Err(NotFound(message))`, `Err(Conflict(..))`,
//! `Err(Forbidden(..))`, `Err(Invalid(..))`, `Err(Unauthorized(..))`, `Err(AlreadyExists(..))`
//! carrying the API server's own message, or `Err(ApiError(code, message))` for other statuses
//! and `Err(ConnectError(message))` when no answer came. (`Err(Timeout(..))`, past the task's
//! deadline, is made in resources.rs.)

use cn_runtime::object::Variant;
use cn_runtime::Value;

/// The `Err(..)` value of a kube error.
pub fn err_value(error: &kube::Error) -> Value {
    let variant = match error {
        kube::Error::Api(status) => {
            let message = Value::str(status.message.clone());
            let name = match (status.code, status.reason.as_str()) {
                (_, "AlreadyExists") => "AlreadyExists",
                (404, _) => "NotFound",
                (409, _) => "Conflict",
                (403, _) => "Forbidden",
                (401, _) => "Unauthorized",
                (422, _) => "Invalid",
                (code, _) => {
                    return Value::err(Variant::value(
                        "k8s",
                        "ApiError",
                        vec![Value::Int(i64::from(code)), message],
                    ))
                }
            };
            Variant::value("k8s", name, vec![message])
        }
        other => Variant::value("k8s", "ConnectError", vec![Value::str(describe(other))]),
    };
    Value::err(variant)
}

/// An error with its causes (`client error (Connect): tcp connect error: Connection refused`),
/// without kube's variant prefixes.
fn describe(error: &kube::Error) -> String {
    let mut text = match error {
        kube::Error::Service(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let mut cause = std::error::Error::source(error);
    if matches!(error, kube::Error::Service(_)) {
        cause = cause.and_then(std::error::Error::source);
    }
    while let Some(inner) = cause {
        let line = inner.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        cause = inner.source();
    }
    text
}
