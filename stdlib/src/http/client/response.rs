//! What `http.get` and friends return: `http.Response` (`status`, `ok`, `reason`, `url`,
//! `headers`, `text()`, `json()`) and its `http.Headers` (case-insensitive `get`, `get_all`,
//! `has`, `items`).

use std::cell::OnceCell;
use std::rc::Rc;

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::Value;

use super::super::headers::Headers;
use super::transport::Received;

/// A response the client received, body read in full.
pub(super) struct Response {
    received: Received,
    headers: Value,
    text: OnceCell<Rc<String>>,
}

impl Response {
    /// A response value.
    pub(super) fn value(mut received: Received) -> Value {
        let headers = Headers::value(Rc::new(std::mem::take(&mut received.headers)));
        NativeObject::value(Response {
            received,
            headers,
            text: OnceCell::new(),
        })
    }

    /// The body as text (invalid UTF-8 replaced by U+FFFD), decoded once.
    fn text(&self) -> Rc<String> {
        self.text
            .get_or_init(|| Rc::new(String::from_utf8_lossy(&self.received.body).into_owned()))
            .clone()
    }

    /// `Ok(value)` or `Err(message)`.
    fn json(&self) -> Value {
        let Ok(text) = std::str::from_utf8(&self.received.body) else {
            return Value::err(Value::str("the response body is not UTF-8 text"));
        };
        match crate::json::decode(text) {
            Ok(value) => Value::ok(value),
            Err(message) => Value::err(Value::str(message)),
        }
    }
}

type M = Member<Response>;

/// What the client's requests return inside `Ok(..)`.
static RESPONSE: Table<Response> = Table::new(
    "http.Response",
    "A response the client received, body read in full.",
    &[
        M::attribute("status", |r, _| {
            Ok(Value::Int(i64::from(r.received.status.as_u16())))
        })
        .doc("status\nThe status code."),
        M::attribute("ok", |r, _| {
            Ok(Value::Bool(r.received.status.as_u16() < 400))
        })
        .doc("ok\nWhether the status is below 400."),
        M::attribute("reason", |r, _| {
            Ok(Value::str(
                r.received.status.canonical_reason().unwrap_or_default(),
            ))
        })
        .doc("reason\nThe status's reason phrase (`Not Found`)."),
        M::attribute("url", |r, _| Ok(Value::str(&r.received.url)))
            .doc("url\nThe URL answered, after redirects."),
        M::attribute("headers", |r, _| Ok(r.headers.clone()))
            .doc("headers\nThe response headers (case-insensitive names)."),
        M::method("text", |r, _, _| Ok(Value::Str(r.text())))
            .doc("text()\nThe body as text, invalid UTF-8 replaced."),
        M::method("json", |r, _, _| Ok(r.json()))
            .doc("json()\n`Ok(value)`, or `Err(message)` when the body is not JSON."),
        M::method("bytes", |r, _, _| Ok(Value::bytes(r.received.body.clone())))
            .doc("bytes()\nThe body as it arrived."),
    ],
);

impl NativeType for Response {
    fn type_name(&self) -> &str {
        "http.Response"
    }

    fn members(&self) -> &'static dyn Members {
        &RESPONSE
    }

    fn display(&self) -> String {
        format!(
            "<http.Response {} {}>",
            self.received.status.as_u16(),
            self.received.url
        )
    }
}

/// The status of a response the client received, and how long its `Retry-After` asks the
/// caller to wait (seconds, or an HTTP date); `None` when `value` is not such a response.
pub(crate) fn status_of(value: &Value) -> Option<(u16, Option<std::time::Duration>)> {
    let Value::Object(object) = value else {
        return None;
    };
    let response = object.downcast::<Response>()?;
    let retry_after = match &response.headers {
        Value::Object(headers) => headers
            .downcast::<crate::http::headers::Headers>()
            .and_then(|h| retry_after_of(&h.0)),
        _ => None,
    };
    Some((response.received.status.as_u16(), retry_after))
}

/// How long a response's `Retry-After` header asks the caller to wait.
pub(super) fn retry_after_of(headers: &hyper::HeaderMap) -> Option<std::time::Duration> {
    retry_after(headers.get("retry-after")?.to_str().ok()?)
}

/// A `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3).
fn retry_after(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(std::time::Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(text).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}
