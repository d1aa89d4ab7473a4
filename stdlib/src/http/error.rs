//! `http.Error(status, message=nil)`: an error a handler answers with, by returning it or
//! `Err(it)`, or by propagating one with `?` (`req.json()` gives `Err(http.Error(400, ...))` for
//! a body that is not JSON). It prints as its message and encodes in JSON as its message, so
//! `{"error": e}` and `f"{e}"` read well.

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

/// An error with the status it should be answered with.
pub struct HttpError {
    pub status: u16,
    pub message: String,
}

impl HttpError {
    pub fn value(status: u16, message: impl Into<String>) -> Value {
        NativeObject::value(HttpError {
            status,
            message: message.into(),
        })
    }
}

/// `http.Error(status, message=nil)`: a 4xx or 5xx status; the message defaults to the status's
/// reason phrase.
pub fn new_error(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let status = match args.get_or_named(0, "status") {
        Some(Value::Int(code)) if (400..=599).contains(code) => *code as u16,
        Some(Value::Int(code)) => {
            return Err(Fault::new(format!(
                "http.Error: status must be an error status from 400 to 599, got {code}"
            )))
        }
        Some(other) => return Err(args.wrong_type(0, "int", other)),
        None => return Err(Fault::new("http.Error: a status is required")),
    };
    let message = match args.get_or_named(1, "message") {
        None | Some(Value::Nil) => hyper::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("error")
            .to_ascii_lowercase(),
        Some(Value::Str(s)) => s.to_string(),
        Some(other) => cn_runtime::format::display(other),
    };
    Ok(HttpError::value(status, message))
}

type M = Member<HttpError>;

/// What `http.Error(..)` makes.
static ERROR: Table<HttpError> = Table::new(
    "http.Error",
    "An error a handler answers with: its status and a message the client is told.",
    &[
        M::attribute("status", |e, _| Ok(Value::Int(i64::from(e.status))))
            .doc("status\nThe status it is answered with (400-599)."),
        M::attribute("message", |e, _| Ok(Value::str(&*e.message)))
            .doc("message\nWhat the client is told."),
    ],
);

impl NativeType for HttpError {
    fn type_name(&self) -> &str {
        "http.Error"
    }

    fn members(&self) -> &'static dyn Members {
        &ERROR
    }

    fn display(&self) -> String {
        self.message.clone()
    }

    fn json_value(&self) -> Option<Value> {
        Some(Value::str(&*self.message))
    }
}
