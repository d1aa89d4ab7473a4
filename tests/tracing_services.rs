//! Distributed tracing across two real `cn run` services: the test calls service `a` (orders),
//! whose handler calls service `b` (inventory) with the traced http client; both export to one
//! OTLP collector (`common/otlp.rs`). Everything is checked as it went over the wire: the trace
//! id the test chose (W3C `traceparent`, B3 `b3`, or none) is kept through both services, each
//! span's parent is the span that caused it, kinds, names, http attributes, statuses and the
//! resource of each service are right, and `b`'s JSON log line inside its span names that span.

mod common;
#[path = "common/otlp.rs"]
mod otlp;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode, Span};

use common::{raw, HttpResponse, Script};
use otlp::{attribute, text, Answer, Collector, ServiceSpan, HAS_IS_REMOTE, IS_REMOTE};

/// Service `b`: a lookup in a span that logs, and a route that faults.
const INVENTORY: &str = r#"
import http
import log
import tracing

fn inventory(req):
    item = req.params["id"]
    tracing.span("db lookup", item=item):
        log.info("stock looked up", item=item)
        return {"id": item, "stock": 7}

fn broken(req):
    return {}["missing"]

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/inventory/{id}", inventory)
    server.route("GET", "/broken", broken)
    server.run()
"#;

/// Service `a`: each route calls `b` (at `UPSTREAM`) and answers what `b` said.
const ORDERS: &str = r#"
import http

fn forward(path):
    match http.get("UPSTREAM" + path):
        case Ok(resp):
            return http.Response.text(resp.text(), status=resp.status)
        case Err(error):
            return {"error": str(error)}, 502

fn order(req):
    return forward("/inventory/" + req.params["id"])

fn broken(req):
    return forward("/broken")

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/orders/{id}", order)
    server.route("GET", "/broken", broken)
    server.run()
"#;

/// The environment of a service exporting to `collector` as `service`. The other tracing
/// variables are set empty (which counts as unset) so the test's own environment cannot change
/// the sampler or turn export off.
fn otel_env<'a>(collector: &'a Collector, service: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
        ("OTEL_SERVICE_NAME", service),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", ""),
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_TRACES_EXPORTER", ""),
        ("OTEL_SDK_DISABLED", ""),
        ("OTEL_RESOURCE_ATTRIBUTES", ""),
    ]
}

/// `GET path` on `port` with extra header lines.
fn get_with(port: u16, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{extra}Connection: close\r\n\r\n");
    raw(port, request.as_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The one span of `trace` from `service` with `kind`.
fn one<'a>(spans: &'a [ServiceSpan], trace: &str, service: &str, kind: SpanKind) -> &'a Span {
    let found: Vec<&Span> = spans
        .iter()
        .filter(|s| s.service == service && s.span.kind == kind as i32)
        .map(|s| &s.span)
        .filter(|s| hex(&s.trace_id) == trace)
        .collect();
    assert_eq!(found.len(), 1, "{service} {kind:?} spans in trace {trace}");
    found[0]
}

/// The four spans of one request through both services, checked to be linked as caused:
/// `a` server ← `a` client ← `b` server ← `b` "db lookup".
struct Chain<'a> {
    a_server: &'a Span,
    a_client: &'a Span,
    b_server: &'a Span,
    b_lookup: Option<&'a Span>,
}

fn chain<'a>(spans: &'a [ServiceSpan], trace: &str) -> Chain<'a> {
    let in_trace: Vec<&ServiceSpan> = spans
        .iter()
        .filter(|s| hex(&s.span.trace_id) == trace)
        .collect();
    let chain = Chain {
        a_server: one(spans, trace, "a", SpanKind::Server),
        a_client: one(spans, trace, "a", SpanKind::Client),
        b_server: one(spans, trace, "b", SpanKind::Server),
        b_lookup: spans
            .iter()
            .find(|s| hex(&s.span.trace_id) == trace && s.span.kind == SpanKind::Internal as i32)
            .map(|s| &s.span),
    };
    let expected = if chain.b_lookup.is_some() { 4 } else { 3 };
    let names: Vec<(&str, &str)> = in_trace
        .iter()
        .map(|s| (s.service.as_str(), s.span.name.as_str()))
        .collect();
    assert_eq!(in_trace.len(), expected, "trace {trace}: {names:?}");
    assert_eq!(chain.a_client.parent_span_id, chain.a_server.span_id);
    assert_eq!(chain.b_server.parent_span_id, chain.a_client.span_id);
    // A parent in another process is flagged remote; one in the same process is not.
    assert_eq!(
        chain.a_client.flags,
        1 | HAS_IS_REMOTE,
        "a client: local parent"
    );
    assert_eq!(
        chain.b_server.flags,
        1 | HAS_IS_REMOTE | IS_REMOTE,
        "b server: remote parent"
    );
    if let Some(lookup) = chain.b_lookup {
        assert_eq!(lookup.name, "db lookup");
        assert_eq!(lookup.parent_span_id, chain.b_server.span_id);
        assert_eq!(lookup.flags, 1 | HAS_IS_REMOTE);
        assert_eq!(attribute(&lookup.attributes, "item"), text("42").as_ref());
    }
    for span in [chain.a_server, chain.a_client, chain.b_server] {
        assert_eq!(span.span_id.len(), 8);
        assert!(span.start_time_unix_nano > 0);
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
    }
    // Each span ends after the one it caused.
    assert!(chain.a_server.end_time_unix_nano >= chain.a_client.end_time_unix_nano);
    assert!(chain.a_client.end_time_unix_nano >= chain.b_server.end_time_unix_nano);
    chain
}

fn int(value: i64) -> Option<Any> {
    Some(Any::IntValue(value))
}

/// A server span's name and http attributes.
fn check_server(span: &Span, route: &str, path: &str, status: i64) {
    assert_eq!(span.name, format!("GET {route}"));
    assert_eq!(
        attribute(&span.attributes, "http.request.method"),
        text("GET").as_ref()
    );
    assert_eq!(
        attribute(&span.attributes, "http.route"),
        text(route).as_ref()
    );
    assert_eq!(attribute(&span.attributes, "url.path"), text(path).as_ref());
    assert_eq!(
        attribute(&span.attributes, "http.response.status_code"),
        int(status).as_ref()
    );
}

/// A client span's name and http attributes (`b` listens on `b_port`).
fn check_client(span: &Span, b_port: u16, path: &str, status: i64) {
    assert_eq!(span.name, "GET");
    assert_eq!(
        attribute(&span.attributes, "http.request.method"),
        text("GET").as_ref()
    );
    assert_eq!(
        attribute(&span.attributes, "server.address"),
        text("127.0.0.1").as_ref()
    );
    assert_eq!(
        attribute(&span.attributes, "server.port"),
        int(b_port.into()).as_ref()
    );
    assert_eq!(
        attribute(&span.attributes, "url.full"),
        text(&format!("http://127.0.0.1:{b_port}{path}")).as_ref()
    );
    assert_eq!(
        attribute(&span.attributes, "http.response.status_code"),
        int(status).as_ref()
    );
}

fn is_unset(span: &Span) -> bool {
    span.status
        .as_ref()
        .is_none_or(|s| s.code == StatusCode::Unset as i32)
}

/// The status message of a failed span.
fn error_message(span: &Span) -> &str {
    let status = span.status.as_ref().expect("a status");
    assert_eq!(status.code, StatusCode::Error as i32, "{}", span.name);
    &status.message
}

const W3C_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const W3C_PARENT: &str = "00f067aa0ba902b7";
const B3_TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
const B3_PARENT: &str = "e457b5a2e4d86bd1";
const UNSAMPLED_TRACE: &str = "463ac35c9f6413ad48485a3953bb6124";
const FAULT_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const FAULT_PARENT: &str = "b7ad6b7169203331";

#[test]
fn one_request_is_one_trace_through_both_services() {
    let collector = Collector::start(Answer::Ok);
    let b = Script::start_with_env("inventory", INVENTORY, &otel_env(&collector, "b"));
    let b_port = b.server_port();
    let orders = ORDERS.replace("UPSTREAM", &format!("http://127.0.0.1:{b_port}"));
    let a = Script::start_with_env("orders", &orders, &otel_env(&collector, "a"));
    let a_port = a.server_port();
    let mut skipped = Vec::new();

    // The test's own span is the caller of `a`.
    let traceparent = format!("00-{W3C_TRACE}-{W3C_PARENT}-01");
    let r = get_with(a_port, "/orders/42", &[("traceparent", &traceparent)]);
    assert_eq!(
        (r.status, r.body.as_str()),
        (200, r#"{"id":"42","stock":7}"#)
    );
    let request_id = r.header("x-request-id").expect("an x-request-id");
    assert_eq!(request_id.len(), 16, "{request_id}");
    let w3c_log = b.wait_log_msg("stock looked up", &mut skipped);
    // The client passes the request id on: `b` logs `a`'s id.
    assert_eq!(w3c_log["request_id"], request_id, "{w3c_log}");

    // No trace context: `a` starts the trace.
    let r = get_with(a_port, "/orders/42", &[]);
    assert_eq!(r.status, 200);
    assert!(r.header("x-request-id").is_some());
    let fresh_log = b.wait_log_msg("stock looked up", &mut skipped);

    // B3 single header, sampled.
    let b3 = format!("{B3_TRACE}-{B3_PARENT}-1");
    let r = get_with(a_port, "/orders/42", &[("b3", &b3)]);
    assert_eq!(r.status, 200);
    let b3_log = b.wait_log_msg("stock looked up", &mut skipped);
    // B3, not sampled: the decision travels on to `b`, which logs the ids but exports nothing.
    let b3 = format!("{UNSAMPLED_TRACE}-{B3_PARENT}-0");
    let r = get_with(a_port, "/orders/42", &[("b3", &b3)]);
    assert_eq!(r.status, 200);
    let unsampled_log = b.wait_log_msg("stock looked up", &mut skipped);

    // `b` faults; `a` passes the 500 on.
    let traceparent = format!("00-{FAULT_TRACE}-{FAULT_PARENT}-01");
    let r = get_with(a_port, "/broken", &[("traceparent", &traceparent)]);
    assert_eq!(r.status, 500);
    assert!(r.body.contains("internal server error"), "{}", r.body);

    // SIGTERM: each service flushes its queued spans before it exits.
    a.signal("TERM");
    b.signal("TERM");
    let (_, a_err, a_status) = a.finish();
    let (_, b_err, b_status) = b.finish();
    assert_eq!(a_status, 0, "{a_err:?}");
    assert_eq!(b_status, 0, "{b_err:?}");
    for line in a_err.iter().chain(&b_err) {
        assert!(!line.contains("cn: tracing"), "{line}");
    }
    let spans = collector.service_spans();
    assert_eq!(spans.len(), 4 + 4 + 4 + 3, "every span arrived once");
    // Each process exports under its own resource, named by OTEL_SERVICE_NAME.
    let a_spans = spans.iter().filter(|s| s.service == "a").count();
    let b_spans = spans.iter().filter(|s| s.service == "b").count();
    assert_eq!((a_spans, b_spans), (4 * 2, 3 * 2 + 1));
    let exports = collector.exports.lock().expect("exports");
    for export in exports.iter() {
        assert_eq!(export.path, "/v1/traces");
        assert_eq!(export.content_type, "application/x-protobuf");
    }
    drop(exports);

    // W3C: the test's trace id all the way through, `a`'s server span a child of the test's.
    let w3c = chain(&spans, W3C_TRACE);
    let lookup = w3c.b_lookup.expect("the db lookup span");
    assert_eq!(hex(&w3c.a_server.parent_span_id), W3C_PARENT);
    assert_eq!(w3c.a_server.flags, 1 | HAS_IS_REMOTE | IS_REMOTE);
    check_server(w3c.a_server, "/orders/{id}", "/orders/42", 200);
    check_client(w3c.a_client, b_port, "/inventory/42", 200);
    check_server(w3c.b_server, "/inventory/{id}", "/inventory/42", 200);
    for span in [w3c.a_server, w3c.a_client, w3c.b_server, lookup] {
        assert!(is_unset(span), "{}: {:?}", span.name, span.status);
    }
    // `b`'s log line inside the span names the trace and the db lookup span.
    assert_eq!(w3c_log["trace_id"], W3C_TRACE, "{w3c_log}");
    assert_eq!(w3c_log["span_id"], hex(&lookup.span_id), "{w3c_log}");
    assert_eq!(w3c_log["item"], "42");
    assert_eq!(w3c_log["level"], "info");

    // No context: a new trace rooted at `a`'s server span, and `b` still in it.
    let fresh_trace = fresh_log["trace_id"]
        .as_str()
        .expect("a trace id")
        .to_string();
    assert_eq!(fresh_trace.len(), 32);
    assert_ne!(fresh_trace, W3C_TRACE);
    let fresh = chain(&spans, &fresh_trace);
    assert!(fresh.a_server.parent_span_id.is_empty());
    assert_eq!(
        fresh.a_server.flags,
        1 | HAS_IS_REMOTE,
        "a root has no remote parent"
    );
    assert_eq!(
        fresh_log["span_id"],
        hex(&fresh.b_lookup.expect("db lookup").span_id)
    );

    // B3: the trace id and parent came from the `b3` header.
    let b3 = chain(&spans, B3_TRACE);
    assert!(b3.b_lookup.is_some());
    assert_eq!(hex(&b3.a_server.parent_span_id), B3_PARENT);
    assert_eq!(b3_log["trace_id"], B3_TRACE, "{b3_log}");
    assert_eq!(
        unsampled_log["trace_id"], UNSAMPLED_TRACE,
        "{unsampled_log}"
    );
    assert!(
        spans
            .iter()
            .all(|s| hex(&s.span.trace_id) != UNSAMPLED_TRACE),
        "an unsampled trace is not exported"
    );

    // The fault: `b`'s server span failed with the fault's message; `a`'s client and server
    // spans failed because of the 500.
    let fault = chain(&spans, FAULT_TRACE);
    assert!(fault.b_lookup.is_none());
    check_server(fault.b_server, "/broken", "/broken", 500);
    let message = error_message(fault.b_server);
    assert!(message.contains("missing"), "{message}");
    assert_eq!(fault.b_server.events[0].name, "exception");
    check_client(fault.a_client, b_port, "/broken", 500);
    assert_eq!(error_message(fault.a_client), "HTTP status 500");
    check_server(fault.a_server, "/broken", "/broken", 500);
    assert_eq!(error_message(fault.a_server), "HTTP status 500");
    assert_eq!(
        attribute(&fault.a_server.attributes, "error.type"),
        text("500").as_ref()
    );
}
