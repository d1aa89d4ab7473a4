//! What `http.get` and friends return: `http.Response` (`status`, `ok`, `reason`, `url`,
//! `headers`, `text()`, `json()`) and its `http.Headers` (case-insensitive `get`, `get_all`,
//! `has`, `items`).

use std::cell::OnceCell;
use std::rc::Rc;

use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

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

const RESPONSE_METHODS: &[&str] = &["text", "json", "bytes"];

impl NativeType for Response {
    fn type_name(&self) -> &str {
        "http.Response"
    }

    fn get_attr(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
    ) -> Option<Result<Value, Fault>> {
        let status = self.received.status;
        Some(Ok(match &*name.name() {
            "status" => Value::Int(i64::from(status.as_u16())),
            "ok" => Value::Bool(status.as_u16() < 400),
            "reason" => Value::str(status.canonical_reason().unwrap_or_default()),
            "url" => Value::str(&self.received.url),
            "headers" => self.headers.clone(),
            method if RESPONSE_METHODS.contains(&method) => return None,
            other => return Some(Err(no_attribute(self.type_name(), other))),
        }))
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        _vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        let value = match &*name.name() {
            "text" => Value::Str(self.text()),
            "json" => self.json(),
            "bytes" => Value::bytes(self.received.body.clone()),
            _ => return None,
        };
        Some(
            args.allow_named(&[])
                .and_then(|()| args.expect_count(0, 0))
                .map(|()| value),
        )
    }

    fn display(&self) -> String {
        format!(
            "<http.Response {} {}>",
            self.received.status.as_u16(),
            self.received.url
        )
    }
}

fn no_attribute(type_name: &str, name: &str) -> Fault {
    Fault::new(format!("{type_name} has no attribute '{name}'"))
}
