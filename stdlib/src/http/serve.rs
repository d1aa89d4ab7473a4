//! Serving: the accept loop, one local task per connection (HTTP/1.1 with keep-alive, or h2c),
//! and one script task per request, plus the shutdown sequence of `server.run()`.
//!
//! Everything runs on the interpreter thread: hyper parses on the same `LocalSet` the script
//! tasks run on, so a request reaches its handler without crossing threads.

use std::cell::Cell;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::sync::{watch, Notify};

use cn_runtime::object::NativeObject;
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::{Fault, Value};

use super::health::Probe;
use super::request::Request;
use super::response::{from_handler_value, Response, JSON};
use super::router::Lookup;
use super::server::{log, log_step, ServerState};

type HttpResponse = hyper::Response<Full<Bytes>>;

/// Runs hyper's background futures (HTTP/2 streams) as local tasks.
#[derive(Clone, Copy)]
struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, future: F) {
        tokio::task::spawn_local(future);
    }
}

/// Open connections, so the drain knows when it is done and `max_connections` can hold accept.
#[derive(Default)]
struct Connections {
    open: Cell<usize>,
    closed: Notify,
}

/// Decrements the open count when a connection ends, however it ends.
struct ConnectionGuard(Rc<Connections>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.open.set(self.0.open.get() - 1);
        self.0.closed.notify_waiters();
    }
}

/// Serves until shutdown, then drains. Returns whether every connection finished in time.
pub async fn serve(
    vm: VmRef,
    state: Rc<ServerState>,
    listener: tokio::net::TcpListener,
    lifecycle: &Rc<Lifecycle>,
    delay: Duration,
    timeout: Duration,
) -> bool {
    let connections = Rc::new(Connections::default());
    let (drain, draining) = watch::channel(false);
    state.health.serving.set(true);
    // 1-2: serve until shutdown starts, then keep serving through the propagation delay.
    let stop = async {
        lifecycle.wait_for_stop().await;
        state.health.draining.set(true);
        let started = Instant::now();
        log(&format!(
            "shutdown: /readyz now answers 503; serving for {:.1} s more so endpoints update",
            delay.as_secs_f64()
        ));
        tokio::time::sleep(delay).await;
        log_step("shutdown: propagation delay over", started);
    };
    tokio::pin!(stop);
    loop {
        while connections.open.get() >= state.limits.max_connections {
            tokio::select! {
                _ = connections.closed.notified() => {}
                _ = &mut stop => break,
            }
        }
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, remote)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                connections.open.set(connections.open.get() + 1);
                let guard = ConnectionGuard(connections.clone());
                let conn = connection(vm.clone(), state.clone(), stream, remote, draining.clone());
                tokio::task::spawn_local(async move {
                    conn.await;
                    drop(guard);
                });
            }
            _ = &mut stop => break,
        }
    }
    // 3: stop accepting; ask every connection to finish its current exchange.
    drop(listener);
    let started = Instant::now();
    let _ = drain.send(true);
    log(&format!(
        "shutdown: listener closed; draining {} connection(s), at most {:.1} s",
        connections.open.get(),
        timeout.as_secs_f64()
    ));
    let drained = tokio::time::timeout(timeout, async {
        while connections.open.get() > 0 {
            connections.closed.notified().await;
        }
    })
    .await
    .is_ok();
    if drained {
        log_step("shutdown: every connection finished", started);
    } else {
        log(&format!(
            "shutdown: drain timed out; cutting {} connection(s)",
            connections.open.get()
        ));
    }
    drained
}

/// One connection: HTTP/1.1 or h2c, until the client leaves or the drain asks it to finish.
async fn connection(
    vm: VmRef,
    state: Rc<ServerState>,
    stream: tokio::net::TcpStream,
    remote: SocketAddr,
    mut draining: watch::Receiver<bool>,
) {
    let mut builder = auto::Builder::new(LocalExec);
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.limits.header_timeout)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let service = service_fn(move |request| {
        let (vm, state) = (vm.clone(), state.clone());
        async move { Ok::<_, Infallible>(handle(&vm, &state, remote, request).await) }
    });
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = draining.wait_for(|d| *d) => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

/// Answers one request.
async fn handle(
    vm: &VmRef,
    state: &Rc<ServerState>,
    remote: SocketAddr,
    request: hyper::Request<Incoming>,
) -> HttpResponse {
    let request_id = request_id(request.headers().get("x-request-id"));
    let mut response = answer(vm, state, remote, request, &request_id).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn answer(
    vm: &VmRef,
    state: &Rc<ServerState>,
    remote: SocketAddr,
    request: hyper::Request<Incoming>,
    request_id: &Rc<str>,
) -> HttpResponse {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    if method == "GET" || method == "HEAD" {
        let probe = match path.as_str() {
            "/healthz" => Some(Probe::Live),
            "/readyz" => Some(Probe::Ready),
            "/startupz" => Some(Probe::Startup),
            _ => None,
        };
        if let Some(probe) = probe {
            let answer = state.health.probe(vm, probe).await;
            return plain(answer.status, JSON, answer.body);
        }
    }
    let (handler, route, params) = match state.router.borrow().lookup(&method, &path) {
        Lookup::Found { route, params } => (route.handler.clone(), route.pattern.clone(), params),
        Lookup::MethodNotAllowed { allow } => {
            let mut response = error(405, "method not allowed", request_id);
            if let Ok(value) = HeaderValue::from_str(&allow.join(", ")) {
                response.headers_mut().insert("allow", value);
            }
            return response;
        }
        Lookup::NotFound => return error(404, "not found", request_id),
    };
    let limit = state.limits.body_limit;
    let declared = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return error(413, "request body too large", request_id);
    }
    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e)
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some() =>
        {
            return error(413, "request body too large", request_id)
        }
        Err(_) => return error(400, "could not read the request body", request_id),
    };
    let request = NativeObject::value(Request {
        method,
        path,
        query: parts.uri.query().map(str::to_string),
        route,
        params,
        headers: Rc::new(parts.headers),
        body,
        remote,
        request_id: request_id.clone(),
    });
    let callee = with_middleware(&state.middleware.borrow(), handler);
    let context = std::iter::once(("request_id".into(), Value::str(&**request_id))).collect();
    let mut call = vm.borrow_mut().inline_call(callee, vec![request], context);
    let result = within(state.limits.request_timeout, call.result()).await;
    match result {
        Some(Ok(value)) => match from_handler_value(&value) {
            Ok(response) => to_http(&response),
            Err(problem) => {
                log(&format!("request {request_id}: {problem}"));
                error(500, "internal server error", request_id)
            }
        },
        Some(Err(fault)) => {
            handler_fault(&fault, request_id);
            error(500, "internal server error", request_id)
        }
        None => {
            // Cancel, and let the handler's cleanups run before answering.
            call.task().cancel();
            let _ = call.result().await;
            log(&format!(
                "request {request_id}: no response within {:?}; the handler was cancelled",
                state.limits.request_timeout
            ));
            error(503, "request timed out", request_id)
        }
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

/// Wraps `handler` in the middleware, first registered outermost: each is called as
/// `middleware(req, next)`.
fn with_middleware(middleware: &[Value], handler: Value) -> Value {
    middleware.iter().rev().fold(handler, |next, outer| {
        let outer = outer.clone();
        let bound = cn_runtime::object::NativeFunction::closure("middleware", move |vm, args| {
            let request = args.value(0)?.clone();
            let callback = vm.start_callback(outer.clone(), vec![request, next.clone()]);
            Ok(vm.suspend(async move { callback.result().await }))
        });
        bound
    })
}

fn handler_fault(fault: &Fault, request_id: &str) {
    let mut report = fault.report();
    if report.ends_with('\n') {
        report.pop();
    }
    log(&format!(
        "request {request_id}: the handler faulted\n{report}"
    ));
}

/// The response for a script's `Response`.
fn to_http(response: &Response) -> HttpResponse {
    let mut http = hyper::Response::new(Full::new(response.body.clone()));
    *http.status_mut() =
        hyper::StatusCode::from_u16(response.status.get()).unwrap_or(hyper::StatusCode::OK);
    let headers = http.headers_mut();
    for (key, value) in response.headers.borrow().iter() {
        let name = cn_runtime::format::display(key.value());
        let value = cn_runtime::format::display(value);
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    http
}

fn plain(status: u16, content_type: &str, body: String) -> HttpResponse {
    let mut response = hyper::Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(CONTENT_TYPE, value);
    }
    response
}

/// An error answer: JSON with the message and the request id, nothing internal.
fn error(status: u16, message: &str, request_id: &str) -> HttpResponse {
    let body = serde_json::json!({"error": message, "request_id": request_id}).to_string();
    plain(status, JSON, body)
}

/// The request's id: a sane `x-request-id` from the client, or a new random one.
fn request_id(header: Option<&HeaderValue>) -> Rc<str> {
    if let Some(value) = header.and_then(|v| v.to_str().ok()) {
        if !value.is_empty() && value.len() <= 128 && value.bytes().all(|b| b.is_ascii_graphic()) {
            return value.into();
        }
    }
    crate::ids::random_hex16().into()
}
