//! What the server tells operators: its lifecycle lines, one access-log line per request, and the
//! labels its RED metrics use.
//!
//! Lines go through the `log` module, so they come out in the same format as the script's own
//! (JSON in production, text in a terminal) and carry the same ids. Metric labels are bounded on
//! purpose: the route is the pattern (`/users/{id}`) or a fixed name, and the method is one of the
//! standard ones or `OTHER`, so a client sending odd paths or methods cannot create series.

use std::rc::Rc;
use std::time::Instant;

use hyper::Method;

use cn_runtime::tasks::VmRef;

use crate::log::{self, Field, Level};

/// The `route` label and span name of a request.
#[derive(Clone)]
pub enum RouteLabel {
    /// A script route's pattern, or the configured metrics path.
    Pattern(Rc<str>),
    /// A built-in endpoint (`/healthz`) or a fixed name for requests no route matched.
    Fixed(&'static str),
}

impl RouteLabel {
    /// Requests that matched no route (404, 405, malformed): one series, not one per path.
    pub const UNMATCHED: RouteLabel = RouteLabel::Fixed("unmatched");

    pub fn as_str(&self) -> &str {
        match self {
            RouteLabel::Pattern(pattern) => pattern,
            RouteLabel::Fixed(name) => name,
        }
    }
}

/// The `method` label: the standard methods as they are, anything else `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// Writes the access-log line of one request (`msg` "request").
pub fn access_log(vm: &VmRef, record: &log::Access<'_>) {
    log::access(&vm.borrow(), record);
}

/// A server lifecycle line (listening, shutdown steps) at info level.
pub fn server_line(vm: &VmRef, msg: &str, fields: &[(&str, Field<'_>)]) {
    log::emit(&vm.borrow(), Level::Info, msg, fields);
}

/// A shutdown step with how long it took, in milliseconds.
pub fn server_step(vm: &VmRef, msg: &str, started: Instant) {
    let millis = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    server_line(vm, msg, &[("duration_ms", Field::Float(millis))]);
}

/// A problem with one request, for its log line.
pub struct Problem<'a> {
    pub level: Level,
    pub msg: &'a str,
    pub request_id: &'a str,
    pub trace_id: Option<u128>,
    /// The error value or fault message.
    pub error: Option<&'a str>,
    /// The cn stack trace of a fault (in text format written as lines below the line).
    pub stack: Option<&'a str>,
}

impl<'a> Problem<'a> {
    /// A problem with no error value or stack.
    pub fn new(level: Level, request_id: &'a str, trace_id: Option<u128>, msg: &'a str) -> Self {
        Problem {
            level,
            msg,
            request_id,
            trace_id,
            error: None,
            stack: None,
        }
    }
}

/// Logs a problem with one request: a handler fault, an error it answered with, a bad return
/// value, a timeout, a cut by the drain. The line carries the request and trace ids (it is
/// written outside the handler's task, so they are given here) and the error and stack.
pub fn request_problem(vm: &VmRef, problem: &Problem<'_>) {
    let trace = problem.trace_id.map(crate::trace::trace_hex);
    let mut fields = vec![("request_id", Field::Str(problem.request_id))];
    if let Some(trace) = &trace {
        fields.push(("trace_id", Field::Str(trace)));
    }
    if let Some(error) = problem.error {
        fields.push(("error", Field::Str(error)));
    }
    if let Some(stack) = problem.stack {
        fields.push(("stack", Field::Str(stack)));
    }
    log::emit(&vm.borrow(), problem.level, problem.msg, &fields);
}
