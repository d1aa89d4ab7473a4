//! What a failed Kubernetes call returns: `Err(NotFound(message))`, `Err(Conflict(..))`,
//! `Err(Forbidden(..))`, `Err(Invalid(..))`, `Err(Unauthorized(..))`, `Err(AlreadyExists(..))`
//! carrying the API server's own message, or `Err(ApiError(code, message))` for other statuses
//! and `Err(ConnectError(message))` when no answer came.

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
        other => Variant::value("k8s", "ConnectError", vec![Value::str(other.to_string())]),
    };
    Value::err(variant)
}
