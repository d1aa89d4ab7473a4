//! One request, from hyper's parsed head to the response: the request id, the built-in endpoints
//! (`/healthz`, `/readyz`, `/startupz`, `/metrics`), routing, the body limit, the handler call
//! with its deadline, and what every request leaves behind for operators — its RED metrics, its
//! server span and its access-log line.
//!
//! The handler runs as a task driven by this request's own future (`Vm::inline_call`), so a
//! handler that answers without waiting costs no task switch.

use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;
use hyper::header::{
    HeaderName, HeaderValue, ACCEPT, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST,
};
use hyper::{Method, Version};

use cn_runtime::fault::FaultKind;
use cn_runtime::object::NativeObject;
use cn_runtime::tasks::VmRef;
use cn_runtime::{Fault, Value};

use super::admission::{self, Refusal};
use super::deadline;
use super::health::Probe;
use super::observe::{self, method_label, Problem, RouteLabel};
use super::request::Request;
use super::response::{answer_of, Answer, Response, JSON, TEXT};
use super::router::Lookup;
use super::state::{BodyReservation, ServerState};
use crate::log::Level;
use crate::metrics::Finished;
use crate::trace::{self, ServerRequest, ServerSpan};

pub type HttpResponse = hyper::Response<Full<Bytes>>;

thread_local! {
    /// The context key of the request id, made once rather than per request.
    static REQUEST_ID_KEY: Rc<str> = "request_id".into();
    /// The context key of the request's deadline.
    static DEADLINE_KEY: Rc<str> = deadline::KEY.into();
}

/// How a request was answered, for its metrics and access-log line.
struct Answered {
    response: HttpResponse,
    route: RouteLabel,
    trace_id: Option<u128>,
}

impl Answered {
    fn unrouted(response: HttpResponse) -> Answered {
        Answered {
            response,
            route: RouteLabel::UNMATCHED,
            trace_id: None,
        }
    }
}

/// What a request body may be: hyper's `Incoming` from a connection, or the bytes of an
/// in-process request (`http.test_client`).
pub trait RequestBody:
    Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
{
}

impl<B> RequestBody for B where
    B: Body<Data = Bytes, Error: Into<Box<dyn std::error::Error + Send + Sync>>>
{
}

/// Answers one request and records it.
pub async fn handle<B: RequestBody>(
    vm: &VmRef,
    state: &Rc<ServerState>,
    remote: SocketAddr,
    request: hyper::Request<B>,
) -> HttpResponse {
    let started = Instant::now();
    let in_flight = state.record_metrics.then(|| state.metrics.in_flight());
    let request_id = request_id(request.headers().get("x-request-id"));
    let http1 = request.version() < Version::HTTP_2;
    let method = method_label(request.method());
    let path: Rc<str> = request.uri().path().into();
    let mut answered = answer(vm, state, remote, request, &path, &request_id).await;
    drop(in_flight);
    let finished = Instant::now();
    let seconds = finished.saturating_duration_since(started).as_secs_f64();
    let response = &mut answered.response;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if http1 && state.health.draining.get() {
        // Shutting down: a keep-alive client should send its next request elsewhere.
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
    }
    let status = response.status().as_u16();
    let trace_id = answered.trace_id;
    if state.record_metrics {
        state.metrics.record(&Finished {
            method,
            route: answered.route.as_str(),
            status,
            seconds,
            at: finished,
            trace_id,
        });
    }
    if state.access_log {
        observe::access_log(
            vm,
            &crate::log::Access {
                method,
                path: &path,
                route: answered.route.as_str(),
                status,
                seconds,
                bytes: response.body().size_hint().exact().unwrap_or(0),
                request_id: &request_id,
                trace_id,
            },
        );
    }
    answered.response
}

async fn answer<B: RequestBody>(
    vm: &VmRef,
    state: &Rc<ServerState>,
    remote: SocketAddr,
    request: hyper::Request<B>,
    path: &str,
    request_id: &Rc<str>,
) -> Answered {
    let method = request.method().clone();
    if request.version() == Version::HTTP_11 && request.headers().get_all(HOST).iter().count() != 1
    {
        // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is malformed.
        let response = error(
            400,
            "an HTTP/1.1 request needs exactly one Host header",
            request_id,
        );
        return Answered::unrouted(response);
    }
    if method == Method::GET || method == Method::HEAD {
        if let Some(answered) = builtin(vm, state, request.headers(), path).await {
            return answered;
        }
    }
    let (callee, route, params) = match state.router.borrow().lookup(method.as_str(), path) {
        Lookup::Found { route, params } => (route.callee.clone(), route.pattern.clone(), params),
        Lookup::MethodNotAllowed { allow } => {
            let mut response = error(405, "method not allowed", request_id);
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert("allow", value);
            }
            return Answered::unrouted(response);
        }
        Lookup::NotFound => return Answered::unrouted(error(404, "not found", request_id)),
    };
    let span = if state.tracing {
        trace::start_server_span(
            &vm.borrow(),
            &ServerRequest {
                method: method.as_str(),
                route: Some(&route),
                path,
                headers: request.headers(),
                local_addr: state.local_addr.get(),
                peer_addr: Some(remote),
            },
        )
    } else {
        ServerSpan::off()
    };
    let trace_id = span.trace_id();
    let routed = |response: HttpResponse| Answered {
        response,
        route: RouteLabel::Pattern(route.clone()),
        trace_id,
    };
    let body = match read_body(state, request, request_id).await {
        Ok(body) => body,
        Err(response) => {
            span.finish(response.status().as_u16());
            return routed(response);
        }
    };
    let (parts, body, _reservation) = body;
    // The caller's remaining budget shortens this request's own timeout.
    let timeout = deadline::from_header(&parts.headers)
        .map_or(state.limits.request_timeout, |budget| {
            budget.min(state.limits.request_timeout)
        });
    let request = NativeObject::value(Request {
        method: method.as_str().to_string(),
        path: path.to_string(),
        query: parts.uri.query().map(str::to_string),
        route: route.clone(),
        params,
        headers: Rc::new(parts.headers),
        body,
        remote,
        request_id: request_id.clone(),
        views: Default::default(),
    });
    let admitted = if state.admission.is_active() {
        let key = match state.admission.key_function() {
            Some(key_fn) => admission::rate_key(&mut vm.borrow_mut(), &key_fn, &request),
            None => String::new(),
        };
        admit(state, &key, request_id)
    } else {
        Ok(None)
    };
    let response = match admitted {
        Err(refused) => *refused,
        Ok(_leave) => {
            let handler = Handler {
                callee,
                request,
                timeout,
            };
            call_handler(vm, &span, handler, request_id, trace_id).await
        }
    };
    span.finish(response.status().as_u16());
    routed(response)
}

/// What a handler is called with, and how long it has.
struct Handler {
    callee: Value,
    request: Value,
    timeout: Duration,
}

/// Runs the handler (its middleware around it) within its timeout and makes its answer. The
/// deadline goes into the context, where the http client finds it.
async fn call_handler(
    vm: &VmRef,
    span: &ServerSpan,
    handler: Handler,
    request_id: &Rc<str>,
    trace_id: Option<u128>,
) -> HttpResponse {
    let mut context = cn_runtime::tasks::ContextValues::with_capacity(4);
    // The span first, while there are no entries for it to look through.
    span.install(&mut context);
    context.insert_new(REQUEST_ID_KEY.with(Rc::clone), Value::str(&**request_id));
    context.insert_new(
        DEADLINE_KEY.with(Rc::clone),
        deadline::Deadline::value(handler.timeout),
    );
    let mut call = vm
        .borrow_mut()
        .inline_call(handler.callee, vec![handler.request], context);
    let result = within(handler.timeout, call.result()).await;
    let response = match result {
        Some(Ok(value)) => respond_with(vm, span, &value, request_id, trace_id),
        Some(Err(fault)) => respond_to_fault(vm, span, &fault, request_id, trace_id),
        None => {
            // Cancel, and let the handler's cleanups run before answering.
            call.task().cancel();
            let _ = call.result().await;
            let message = format!(
                "no response within {:?}; the handler was cancelled",
                handler.timeout
            );
            span.record_fault(&message);
            observe::request_problem(
                vm,
                &Problem::new(Level::Error, request_id, trace_id, &message),
            );
            error(503, "request timed out", request_id)
        }
    };
    // The handler's task (and its context) goes first, so the span's id strings can be reused.
    drop(call);
    response
}

/// Gives a concurrency slot back when the handler is done, whichever way it ended.
struct Leave(Rc<ServerState>);

impl Drop for Leave {
    fn drop(&mut self) {
        self.0.admission.leave();
    }
}

/// The server's limits for `request`: a guard to hold while its handler runs, or the response
/// that turns it away. Out of line: the request's future stays as small as it was.
#[inline(never)]
fn admit(
    state: &Rc<ServerState>,
    key: &str,
    request_id: &str,
) -> Result<Option<Leave>, Box<HttpResponse>> {
    match state.admission.enter(key) {
        Ok(counted) => Ok(counted.then(|| Leave(state.clone()))),
        // Boxed: the refusal is the rare path, and the result stays two words.
        Err(refusal) => Err(Box::new(refused(refusal, request_id))),
    }
}

/// The answer to a request turned away before its handler.
fn refused(refusal: Refusal, request_id: &str) -> HttpResponse {
    match refusal {
        Refusal::RateLimited { wait, limit } => {
            let mut response = error(429, "too many requests", request_id);
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            let headers = response.headers_mut();
            headers.insert("retry-after", HeaderValue::from(seconds));
            headers.insert("ratelimit-limit", HeaderValue::from(limit));
            headers.insert("ratelimit-remaining", HeaderValue::from(0u32));
            headers.insert("ratelimit-reset", HeaderValue::from(seconds));
            response
        }
        Refusal::Overloaded => {
            let mut response = error(503, "server overloaded", request_id);
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(1u32));
            response
        }
    }
}

/// The response for what a handler returned, logging an error it answered with.
fn respond_with(
    vm: &VmRef,
    span: &ServerSpan,
    value: &Value,
    request_id: &str,
    trace_id: Option<u128>,
) -> HttpResponse {
    match answer_of(value) {
        Answer::Respond(response) => to_http(&response),
        Answer::Error {
            status,
            message,
            detail,
        } => {
            // A 4xx is the client's doing: worth a line, not an alarm.
            let level = if status >= 500 {
                Level::Error
            } else {
                Level::Info
            };
            if status >= 500 {
                span.record_fault(&detail);
            }
            observe::request_problem(
                vm,
                &Problem {
                    error: Some(&detail),
                    ..Problem::new(
                        level,
                        request_id,
                        trace_id,
                        "the handler answered with an error",
                    )
                },
            );
            error(status, &message, request_id)
        }
        Answer::Invalid(invalid) => {
            span.record_fault(&invalid);
            observe::request_problem(
                vm,
                &Problem {
                    error: Some(&invalid),
                    ..Problem::new(
                        Level::Error,
                        request_id,
                        trace_id,
                        "the handler returned no response",
                    )
                },
            );
            error(500, "internal server error", request_id)
        }
    }
}

/// The response for a handler that faulted or was cancelled, and its log line.
fn respond_to_fault(
    vm: &VmRef,
    span: &ServerSpan,
    fault: &Fault,
    request_id: &str,
    trace_id: Option<u128>,
) -> HttpResponse {
    if fault.kind == FaultKind::Cancelled {
        // Not a fault of the handler: the server stopped (the drain ran out of time).
        let message = "the handler was cancelled: the server stopped before it finished";
        span.record_fault(message);
        observe::request_problem(
            vm,
            &Problem::new(Level::Warn, request_id, trace_id, message),
        );
        return closing(error(503, "the server is shutting down", request_id));
    }
    span.record_fault(&fault.message);
    let mut report = fault.report();
    if report.ends_with('\n') {
        report.pop();
    }
    observe::request_problem(
        vm,
        &Problem {
            error: Some(&fault.message),
            stack: Some(&report),
            ..Problem::new(Level::Error, request_id, trace_id, "the handler faulted")
        },
    );
    error(500, "internal server error", request_id)
}

/// The built-in endpoints: health probes and the metrics exposition.
async fn builtin(
    vm: &VmRef,
    state: &Rc<ServerState>,
    headers: &hyper::HeaderMap,
    path: &str,
) -> Option<Answered> {
    let probe = match path {
        "/healthz" => Some((Probe::Live, "/healthz")),
        "/readyz" => Some((Probe::Ready, "/readyz")),
        "/startupz" => Some((Probe::Startup, "/startupz")),
        _ => None,
    };
    if let Some((probe, label)) = probe {
        let answer = state.health.probe(vm, probe).await;
        return Some(Answered {
            response: plain(answer.status, JSON, answer.body),
            route: RouteLabel::Fixed(label),
            trace_id: None,
        });
    }
    let metrics_path = state.metrics_path.as_ref()?;
    if path != &**metrics_path {
        return None;
    }
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = crate::metrics::render(accept);
    Some(Answered {
        response: plain(200, content_type, body),
        route: RouteLabel::Pattern(metrics_path.clone()),
        trace_id: None,
    })
}

/// The body, read in full up to the server's limit (413 beyond it, 400 when it breaks off) and
/// within its deadline (408, and the connection closes: the rest of the body may still come),
/// with its share of the body budget (503 when that is spent).
async fn read_body<B: RequestBody>(
    state: &ServerState,
    request: hyper::Request<B>,
    request_id: &str,
) -> Result<(hyper::http::request::Parts, Bytes, Option<BodyReservation>), HttpResponse> {
    let limit = state.limits.body_limit;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(error(413, "request body too large", request_id));
    }
    let (parts, body) = request.into_parts();
    // Held until the exchange ends: the handler holds the body that long.
    let reservation = if body.is_end_stream() {
        None
    } else {
        let wanted = body.size_hint().exact().map_or(limit, |n| n as usize);
        match state.body_budget.reserve(wanted.min(limit)) {
            Some(reservation) => Some(reservation),
            // Shed, as at the concurrency limit, rather than run the container out of memory.
            None => return Err(refused(Refusal::Overloaded, request_id)),
        }
    };
    let read = tokio::time::timeout(
        state.limits.body_timeout,
        Limited::new(body, limit).collect(),
    );
    let Ok(read) = read.await else {
        return Err(closing(error(
            408,
            "the request body did not arrive in time",
            request_id,
        )));
    };
    match read {
        Ok(collected) => Ok((parts, collected.to_bytes(), reservation)),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            Err(error(413, "request body too large", request_id))
        }
        Err(_) => Err(error(400, "could not read the request body", request_id)),
    }
}

/// `work`'s output, or `None` when it is not done within `timeout`.
///
/// Most handlers answer without waiting, so `work` is polled once before a timer is armed, and
/// the timer is boxed: a `Sleep` held inline would make every request's future (which hyper boxes)
/// larger and cache-line aligned, which costs an aligned allocation and copies per request.
async fn within<T>(timeout: Duration, work: impl Future<Output = T>) -> Option<T> {
    tokio::pin!(work);
    if let Poll::Ready(output) =
        std::future::poll_fn(|cx| Poll::Ready(work.as_mut().poll(cx))).await
    {
        return Some(output);
    }
    let deadline = Box::pin(tokio::time::sleep(timeout));
    tokio::select! {
        biased;
        output = &mut work => Some(output),
        _ = deadline => None,
    }
}

/// The response for a script's `Response`. The content types the library sets itself are
/// recognised so the common case parses no header.
fn to_http(response: &Response) -> HttpResponse {
    let mut http = hyper::Response::new(Full::new(response.body.clone()));
    *http.status_mut() =
        hyper::StatusCode::from_u16(response.status.get()).unwrap_or(hyper::StatusCode::OK);
    let headers = http.headers_mut();
    for (key, value) in response.headers.borrow().iter() {
        if let (Some("content-type"), Some(value)) = (key.value().as_str(), value.as_str()) {
            if let Some(known) = [TEXT, JSON].into_iter().find(|known| *known == value) {
                headers.append(CONTENT_TYPE, HeaderValue::from_static(known));
                continue;
            }
        }
        let name = cn_runtime::format::display(key.value());
        let value = cn_runtime::format::display(value);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            if !is_framing(&name) {
                headers.append(name, value);
            }
        }
    }
    http
}

/// Headers that frame the message or manage the connection. They are the server's to write:
/// one copied from a handler (a proxying handler copies upstream headers) could declare a length
/// the body does not have and poison the next response on the connection.
fn is_framing(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "content-length"
            | "transfer-encoding"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "upgrade"
            | "te"
            | "trailer"
    )
}

/// `response` with `Connection: close` (HTTP/1.1; hyper leaves it out on HTTP/2).
fn closing(mut response: HttpResponse) -> HttpResponse {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Counts and logs a request hyper (or the connection's first read) rejected before it was
/// parsed, with the status it was answered: such requests have no method or path to speak of.
pub fn record_rejected(vm: &VmRef, state: &ServerState, status: u16) {
    let request_id = crate::ids::random_hex16();
    if state.record_metrics {
        let at = Instant::now();
        state.metrics.record(&Finished {
            method: "OTHER",
            route: RouteLabel::UNMATCHED.as_str(),
            status,
            seconds: 0.0,
            at,
            trace_id: None,
        });
    }
    if state.access_log {
        observe::access_log(
            vm,
            &crate::log::Access {
                method: "OTHER",
                path: "",
                route: RouteLabel::UNMATCHED.as_str(),
                status,
                seconds: 0.0,
                bytes: 0,
                request_id: &request_id,
                trace_id: None,
            },
        );
    }
}

pub fn plain(status: u16, content_type: &'static str, body: String) -> HttpResponse {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// An error answer: JSON with the message and the request id, nothing internal.
fn error(status: u16, message: &str, request_id: &str) -> HttpResponse {
    let body = serde_json::json!({"error": message, "request_id": request_id}).to_string();
    plain(status, JSON, body)
}

/// The request's id: a sane `x-request-id` from the client (1 to 128 printable ASCII
/// characters other than `"` and `\`, so it goes into log lines and JSON bodies as it is), or a
/// new random one.
fn request_id(header: Option<&HeaderValue>) -> Rc<str> {
    if let Some(value) = header.and_then(|v| v.to_str().ok()) {
        let sane = |b: u8| b.is_ascii_graphic() && b != b'"' && b != b'\\';
        if !value.is_empty() && value.len() <= 128 && value.bytes().all(sane) {
            return value.into();
        }
    }
    crate::ids::random_hex16().into()
}
