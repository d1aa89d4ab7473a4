//! Spans for the http server and client: the Rust API `stdlib/src/http/` calls.
//!
//! The server starts one span per request from the caller's headers and puts it into the
//! handler task's context; the client starts one per outgoing request and writes it into the
//! request's headers. Attributes follow the OpenTelemetry HTTP semantic conventions and are
//! built only when the span records.

use std::net::SocketAddr;
use std::time::Duration;

use hyper::header::{HeaderMap, HOST, USER_AGENT};
use hyper::Uri;

use cn_runtime::Vm;

use super::current::{self, Context, Entries};
use super::propagation;
use super::span::{AttrValue, Parent, Recording, Span, SpanKind, Status};
use super::span_context::SpanContext;
use super::tracer::tracer;

/// What the server knows about a request when its span starts.
pub struct ServerRequest<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The matched route pattern (`/users/{id}`); `None` when no route matched.
    pub route: Option<&'a str>,
    /// The request path.
    pub path: &'a str,
    /// The request headers (trace context, `Host`, `User-Agent`).
    pub headers: &'a HeaderMap,
    /// The address the connection came in on (used when there is no `Host` header).
    pub local_addr: Option<SocketAddr>,
    /// The client's address.
    pub peer_addr: Option<SocketAddr>,
}

/// The span of one request being handled. Put `ServerSpan::context_entries` into the handler
/// task's context, then call [`ServerSpan::finish`] with the response status; dropped without
/// finishing (the client went away), it ends as failed.
pub struct ServerSpan {
    /// `None` for a server with tracing switched off.
    entries: Option<Entries>,
    finished: bool,
}

/// Starts the server span of a request: a child of the caller's span when the headers carry
/// one (W3C, then B3), else a new trace.
pub fn start_server_span(vm: &Vm, request: &ServerRequest<'_>) -> ServerSpan {
    let tracer = tracer(vm);
    let remote = propagation::extract(request.headers);
    let parent = remote.as_ref().map_or(Parent::Root, Parent::Remote);
    let span = Span::start(&tracer, parent, SpanKind::Server, || match request.route {
        Some(route) => format!("{} {route}", request.method),
        None => request.method.to_string(),
    });
    span.with_recording(|recording| server_attributes(recording, request));
    ServerSpan {
        entries: Some(Entries::new(span)),
        finished: false,
    }
}

fn server_attributes(recording: &mut Recording, request: &ServerRequest<'_>) {
    let text = |s: &str| AttrValue::Str(s.to_string());
    recording.set("http.request.method", text(request.method));
    if let Some(route) = request.route {
        recording.set("http.route", text(route));
    }
    recording.set("url.path", text(request.path));
    let host = request
        .headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse::<hyper::http::uri::Authority>().ok());
    match (host, request.local_addr) {
        (Some(host), _) => {
            recording.set("server.address", text(host.host()));
            if let Some(port) = host.port_u16() {
                recording.set("server.port", AttrValue::Int(port.into()));
            }
        }
        (None, Some(local)) => {
            recording.set("server.address", text(&local.ip().to_string()));
            recording.set("server.port", AttrValue::Int(local.port().into()));
        }
        (None, None) => {}
    }
    if let Some(peer) = request.peer_addr {
        recording.set("client.address", text(&peer.ip().to_string()));
    }
    if let Some(agent) = request
        .headers
        .get(USER_AGENT)
        .and_then(|a| a.to_str().ok())
    {
        recording.set("user_agent.original", text(agent));
    }
}

impl ServerSpan {
    /// No span, for a server with tracing switched off: the request's context and log lines get
    /// no trace ids, and the caller's trace context is not continued.
    pub fn off() -> ServerSpan {
        ServerSpan {
            entries: None,
            finished: false,
        }
    }

    /// Makes the span current in the handler task's fresh context (nothing for a server with
    /// tracing off).
    pub fn install(&self, context: &mut Context) {
        if let Some(entries) = &self.entries {
            entries.install(context);
        }
    }

    /// The trace id, for the request's access-log line and metrics exemplar.
    pub fn trace_id(&self) -> Option<u128> {
        Some(self.entries.as_ref()?.trace_id())
    }

    fn span(&self) -> Option<&Span> {
        self.entries.as_ref()?.span()
    }

    /// Records that the handler faulted: status error and an `exception` event with `message`.
    pub fn record_fault(&self, message: &str) {
        if let Some(span) = self.span() {
            span.with_recording(|recording| recording.record_fault(message));
        }
    }

    /// Ends the span with the response status; 500 and above mark it failed.
    pub fn finish(mut self, status: u16) {
        self.finished = true;
        if let Some(span) = self.span() {
            span.with_recording(|recording| {
                recording.set("http.response.status_code", AttrValue::Int(status.into()));
                if status >= 500 {
                    fail_with_status(recording, status);
                }
            });
            span.end();
        }
    }
}

impl Drop for ServerSpan {
    fn drop(&mut self) {
        if !self.finished {
            if let Some(span) = self.span() {
                span.with_recording(|recording| {
                    recording.record_fault("the request ended before a response was sent");
                });
                span.end();
            }
        }
    }
}

/// Marks a span failed because of its status code (keeping a fault's message if one came first).
fn fail_with_status(recording: &mut Recording, status: u16) {
    recording.set("error.type", AttrValue::Str(status.to_string()));
    if recording.status == Status::Unset {
        recording.status = Status::Error(format!("HTTP status {status}"));
    }
}

/// The span of one outgoing request. [`ClientSpan::inject`] writes its trace context into the
/// request's headers; end it with [`ClientSpan::finish`] (a response came) or
/// [`ClientSpan::fail`] (none did). Dropped without either, it ends as failed.
pub struct ClientSpan {
    /// The context sent downstream: this span's when it records, else the current one.
    propagated: Option<SpanContext>,
    span: Option<Span>,
}

/// Starts the span of an outgoing request as a child of the current span. Outside any trace a
/// request starts one only when spans are exported; otherwise nothing is sent or recorded.
pub fn start_client_span(vm: &Vm, method: &str, uri: &Uri) -> ClientSpan {
    let parent = vm
        .current_task()
        .and_then(|task| current::current(&task.context.borrow()));
    let tracer = tracer(vm);
    if parent.is_none() && tracer.exporter.is_none() {
        return ClientSpan {
            propagated: None,
            span: None,
        };
    }
    let span = Span::start(
        &tracer,
        parent.as_ref().map_or(Parent::Root, Parent::Local),
        SpanKind::Client,
        || method.to_string(),
    );
    span.with_recording(|recording| client_attributes(recording, method, uri));
    // A span nobody will see must not become the downstream's parent: pass ours on instead.
    let propagated = match parent {
        Some(parent) if !span.is_recording() => parent,
        _ => span.context.clone(),
    };
    ClientSpan {
        propagated: Some(propagated),
        span: Some(span),
    }
}

fn client_attributes(recording: &mut Recording, method: &str, uri: &Uri) {
    recording.set("http.request.method", AttrValue::Str(method.to_string()));
    if let Some(host) = uri.host() {
        recording.set("server.address", AttrValue::Str(host.to_string()));
    }
    let default_port = if uri.scheme_str() == Some("https") {
        443
    } else {
        80
    };
    let port = uri.port_u16().unwrap_or(default_port);
    recording.set("server.port", AttrValue::Int(port.into()));
    recording.set("url.full", AttrValue::Str(url_without_credentials(uri)));
}

/// The URL without `user:password@`, which must not end up in a trace.
fn url_without_credentials(uri: &Uri) -> String {
    let mut url = String::new();
    if let Some(scheme) = uri.scheme_str() {
        url.push_str(scheme);
        url.push_str("://");
    }
    if let Some(host) = uri.host() {
        url.push_str(host);
    }
    if let Some(port) = uri.port_u16() {
        url.push(':');
        url.push_str(&port.to_string());
    }
    url.push_str(uri.path_and_query().map_or("/", |p| p.as_str()));
    url
}

impl ClientSpan {
    /// Writes `traceparent` (and `tracestate`) for the request; writes nothing outside a trace.
    pub fn inject(&self, headers: &mut HeaderMap) {
        if let Some(context) = &self.propagated {
            propagation::inject(context, headers);
        }
    }

    /// Ends the span with the response status; 400 and above mark it failed (for a client, the
    /// request did not do what it asked).
    pub fn finish(mut self, status: u16) {
        if let Some(span) = self.span.take() {
            span.with_recording(|recording| {
                recording.set("http.response.status_code", AttrValue::Int(status.into()));
                if status >= 400 {
                    fail_with_status(recording, status);
                }
            });
            span.end();
        }
    }

    /// Records a `retry` event (with `http.request.resend_count`, the attempt about to be
    /// made after `delay`): attempt `attempt` ended with `reason`.
    pub fn retry(&self, policy: &str, attempt: u32, reason: &str, delay: Duration) {
        if let Some(span) = &self.span {
            span.with_recording(|recording| {
                let mut attributes =
                    super::events::retry_attributes(policy, attempt, reason, delay);
                attributes.push((
                    "http.request.resend_count".into(),
                    AttrValue::Int(attempt.into()),
                ));
                recording.add_event("retry", attributes);
            });
        }
    }

    /// Ends the span as failed: no response came (`message` says why).
    pub fn fail(mut self, message: &str) {
        if let Some(span) = self.span.take() {
            span.with_recording(|recording| recording.record_fault(message));
            span.end();
        }
    }
}

impl Drop for ClientSpan {
    fn drop(&mut self) {
        if let Some(span) = self.span.take() {
            span.with_recording(|recording| {
                recording.record_fault("the request was abandoned before a response came");
            });
            span.end();
        }
    }
}

/// Writes the trace context of `context` (a task context) into `headers`: `traceparent`, and
/// `tracestate` when the trace has one. Returns false (writing nothing) outside any trace.
pub fn inject(context: &Context, headers: &mut HeaderMap) -> bool {
    match current::current(context) {
        Some(span) => {
            propagation::inject(&span, headers);
            true
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cn_runtime::Value;

    #[test]
    fn credentials_are_left_out_of_urls() {
        let uri: Uri = "https://user:secret@api.example:8443/v1/x?q=1"
            .parse()
            .expect("uri");
        assert_eq!(
            url_without_credentials(&uri),
            "https://api.example:8443/v1/x?q=1"
        );
    }

    #[test]
    fn inject_uses_the_context_ids() {
        let mut context = Context::default();
        let mut headers = HeaderMap::new();
        assert!(!inject(&context, &mut headers));
        assert!(headers.is_empty());
        context.insert(
            "trace_id".into(),
            Value::str("4bf92f3577b34da6a3ce929d0e0e4736"),
        );
        context.insert("span_id".into(), Value::str("00f067aa0ba902b7"));
        assert!(inject(&context, &mut headers));
        assert_eq!(
            headers.get("traceparent").map(|v| v.as_bytes()),
            Some(&b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"[..])
        );
    }
}
