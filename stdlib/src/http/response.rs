//! `http.Response` and how a handler's return value becomes an http response.
//!
//! Constructors: `http.Response.json(value, status=200)`, `.text(s, status=200)`,
//! `.html(s, status=200)`, `.bytes(data, status=200, content_type="application/octet-stream")`,
//! `.status(code)` (empty body), `.redirect(url, status=302)`. A response has a settable `status`
//! and a `headers` dict that can be changed in place (`resp.headers["cache-control"] =
//! "no-store"`); `with_header(name, value)` returns the response for chaining.
//!
//! Shorthands a handler may return instead: a `str` (200, text/plain), `bytes` (200,
//! application/octet-stream), a dict, list or record (200, JSON), `nil` (204), a tuple
//! `(value, status)` of one of those and an int, and `Ok(any of these)`. Errors: an
//! `http.Error` or `Err(http.Error)` is answered with its status and message; `Err(anything
//! else)` is a 500 whose value is logged, not sent ([`answer_of`]).

use std::cell::Cell;
use std::rc::Rc;

use bytes::Bytes;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value};

use super::error::HttpError;

pub const TEXT: &str = "text/plain; charset=utf-8";
pub const JSON: &str = "application/json";
const HTML: &str = "text/html; charset=utf-8";
const BINARY: &str = "application/octet-stream";

/// The statuses a handler may answer with. 1xx are interim (hyper sends `100 Continue` itself,
/// and a `101` would hand the connection to a protocol nobody speaks), and 600-999 have no
/// meaning any client knows.
const FINAL_STATUSES: std::ops::RangeInclusive<i64> = 200..=599;

/// A response built by a script.
pub struct Response {
    pub status: Cell<u16>,
    pub headers: Rc<cn_runtime::teardown::DictCell>,
    pub body: Bytes,
}

impl Response {
    /// A response with a body of `content_type`.
    pub fn new(status: u16, content_type: Option<&str>, body: Bytes) -> Response {
        let mut headers = new_dict();
        if let Some(content_type) = content_type {
            headers.insert(Key::str("content-type"), Value::str(content_type));
        }
        Response {
            status: Cell::new(status),
            headers: cn_runtime::teardown::DictCell::new_rc(headers),
            body,
        }
    }
}

/// The `http.Response` value: a namespace of constructors.
pub struct ResponseType;

fn status_arg(args: &Args<'_>, i: usize, default: u16) -> Result<u16, Fault> {
    match args.get_or_named(i, "status") {
        None => Ok(default),
        Some(Value::Int(code)) if FINAL_STATUSES.contains(code) => Ok(*code as u16),
        Some(Value::Int(code)) => Err(Fault::new(format!(
            "{}: status must be a final status from 200 to 599, got {code}",
            args.function
        ))),
        Some(other) => Err(args.wrong_type(i, "int", other)),
    }
}

fn build(name: &str, args: &Args<'_>) -> Result<Response, Fault> {
    match name {
        "json" => {
            let body = crate::json::encode(args.value(0)?)?;
            Ok(Response::new(
                status_arg(args, 1, 200)?,
                Some(JSON),
                body.into(),
            ))
        }
        "text" | "html" => {
            let body = args.str(0)?.as_bytes().to_vec();
            let kind = if name == "text" { TEXT } else { HTML };
            Ok(Response::new(
                status_arg(args, 1, 200)?,
                Some(kind),
                body.into(),
            ))
        }
        "bytes" => {
            let body = match args.value(0)? {
                Value::Bytes(data) => Bytes::clone(data),
                other => return Err(args.wrong_type(0, "bytes", other)),
            };
            let content_type = match args.get_or_named(2, "content_type") {
                None => BINARY,
                Some(Value::Str(s)) => s.as_str(),
                Some(other) => return Err(args.wrong_type(2, "str", other)),
            };
            Ok(Response::new(
                status_arg(args, 1, 200)?,
                Some(content_type),
                body,
            ))
        }
        "status" => Ok(Response::new(status_arg(args, 0, 200)?, None, Bytes::new())),
        "redirect" => {
            let status = status_arg(args, 1, 302)?;
            if !(300..400).contains(&status) {
                return Err(Fault::new(format!(
                    "http.Response.redirect: status must be 3xx, got {status}"
                )));
            }
            let response = Response::new(status, None, Bytes::new());
            let location = Value::str(args.str(0)?.as_str());
            response
                .headers
                .borrow_mut()
                .insert(Key::str("location"), location);
            Ok(response)
        }
        _ => Err(Fault::new(format!(
            "http.Response has no constructor '{name}'"
        ))),
    }
}

/// A constructor of `http.Response`, as a member of the table.
macro_rules! constructor {
    ($name:literal) => {
        |_, _, args| build($name, &args).map(NativeObject::value)
    };
}

/// `http.Response`: the constructors.
static RESPONSE_TYPE: Table<ResponseType> = Table::new(
    "http.Response",
    "Makes responses: `http.Response.json(value)`, `.text(s)`, `.html(s)`, `.bytes(data)`, `.status(code)`, `.redirect(url)`.",
    &[
        Member::method("json", constructor!("json"))
            .doc("json(value, status=200)\nA JSON response.")
            .params(Params::between(1, 2).keywords(&["status"])),
        Member::method("text", constructor!("text"))
            .doc("text(s, status=200)\nA text/plain response.")
            .params(Params::between(1, 2).keywords(&["status"])),
        Member::method("html", constructor!("html"))
            .doc("html(s, status=200)\nA text/html response.")
            .params(Params::between(1, 2).keywords(&["status"])),
        Member::method("bytes", constructor!("bytes"))
            .doc("bytes(data, status=200, content_type=\"application/octet-stream\")\nA response with a binary body.")
            .params(Params::between(1, 3).keywords(&["status", "content_type"])),
        Member::method("status", constructor!("status"))
            .doc("status(code)\nAn empty response with status `code`.")
            .params(Params::exactly(1)),
        Member::method("redirect", constructor!("redirect"))
            .doc("redirect(url, status=302)\nA redirect (3xx) to `url`.")
            .params(Params::between(1, 2).keywords(&["status"])),
    ],
);

impl NativeType for ResponseType {
    fn type_name(&self) -> &str {
        "http.Response"
    }

    fn members(&self) -> &'static dyn Members {
        &RESPONSE_TYPE
    }
}

type M = Member<Response>;

/// A response a handler made.
static RESPONSE: Table<Response> = Table::new(
    "http.Response",
    "A response: a settable `status`, a `headers` dict and a body.",
    &[
        M::attribute("status", |r, _| Ok(Value::Int(r.status.get() as i64)))
            .setter(|r, _, value| match value {
                Value::Int(code) if FINAL_STATUSES.contains(&code) => {
                    r.status.set(code as u16);
                    Ok(())
                }
                other => Err(Fault::new(format!(
                    "http.Response.status must be an int from 200 to 599, got {}",
                    cn_runtime::format::repr(&other)
                ))),
            })
            .doc("status\nThe status; may be set (200-599)."),
        M::attribute("headers", |r, _| Ok(Value::Dict(r.headers.clone())))
            .doc("headers\nThe headers, a dict that may be changed in place."),
        M::attribute("body", |r, _| {
            Ok(Value::str(String::from_utf8_lossy(&r.body).into_owned()))
        })
        .doc("body\nThe body as text."),
        M::chained("with_header", |r, _, args| {
            let key = args.str(0)?.to_ascii_lowercase();
            let value = Value::str(args.str(1)?.as_str());
            r.headers.borrow_mut().insert(Key::str(&key), value);
            Ok(())
        })
        .doc("with_header(name, value)\nSets header `name` and returns the response, for chaining.")
        .params(Params::exactly(2)),
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
        format!("<http.Response {}>", self.status.get())
    }
}

/// How a handler answered.
pub enum Answer {
    /// With a response (or a shorthand for one).
    Respond(Response),
    /// With an error: an `http.Error` (its status and message) or `Err(e)` of anything else
    /// (500; `e` is logged, never sent).
    Error {
        status: u16,
        /// What the client is told.
        message: String,
        /// What the log line says.
        detail: String,
    },
    /// With a value that is not a response: a bug in the handler, named here.
    Invalid(String),
}

/// What a handler's return value means.
pub fn answer_of(value: &Value) -> Answer {
    if let Value::Variant(variant) = value {
        let payload = variant.payload.first();
        if variant.is_err() {
            return match payload.map(http_error) {
                Some(Some(error)) => error,
                _ => Answer::Error {
                    status: 500,
                    message: "internal server error".into(),
                    detail: payload.map(cn_runtime::format::display).unwrap_or_default(),
                },
            };
        }
        if variant.is_ok() {
            return answer_of(payload.unwrap_or(&Value::Nil));
        }
    }
    if let Some(error) = http_error(value) {
        return error;
    }
    match from_handler_value(value) {
        Ok(response) => Answer::Respond(response),
        Err(problem) => Answer::Invalid(problem),
    }
}

/// The answer for an `http.Error` value.
fn http_error(value: &Value) -> Option<Answer> {
    let Value::Object(object) = value else {
        return None;
    };
    let error = object.downcast::<HttpError>()?;
    Some(Answer::Error {
        status: error.status,
        message: error.message.clone(),
        detail: error.message.clone(),
    })
}

/// What a handler returned, as status, headers and body; `Err` names what was wrong with it.
pub fn from_handler_value(value: &Value) -> Result<Response, String> {
    match value {
        Value::Object(object) => match object.downcast::<Response>() {
            Some(response) => Ok(Response {
                status: Cell::new(response.status.get()),
                headers: response.headers.clone(),
                body: response.body.clone(),
            }),
            None => Err(format!("a handler returned {}", object.type_name())),
        },
        Value::Str(text) => Ok(Response::new(
            200,
            Some(TEXT),
            Bytes::from(text.as_bytes().to_vec()),
        )),
        Value::Bytes(data) => Ok(Response::new(200, Some(BINARY), Bytes::clone(data))),
        Value::Nil => Ok(Response::new(204, None, Bytes::new())),
        Value::Dict(_) | Value::List(_) | Value::Record(_) => {
            let body = crate::json::encode(value).map_err(|f| f.message)?;
            Ok(Response::new(200, Some(JSON), body.into()))
        }
        Value::Tuple(items) => match items.as_slice() {
            [body, Value::Int(code)] if FINAL_STATUSES.contains(code) => {
                let response = from_handler_value(body)?;
                response.status.set(*code as u16);
                Ok(response)
            }
            _ => Err("a handler returned a tuple that is not (value, status)".into()),
        },
        other => Err(format!(
            "a handler returned {}; return an http.Response, str, bytes, dict, list, record or nil",
            other.type_name()
        )),
    }
}
