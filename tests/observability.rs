//! What an operator sees of a cn http service without writing a line for it: the access log,
//! the ids on the script's own log lines, the server's lifecycle lines and `/metrics` with its
//! content negotiation — all from a real `cn run` process driven over TCP.

mod common;

use common::{get, raw, Script};

const SERVICE: &str = r#"
import http
import log

fn user(req):
    log.info("looking up user", id=req.params["id"])
    return {"id": req.params["id"]}

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/users/{id}", user)
    server.run()
"#;

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

/// The service with `options` added to its `http.Server(...)` call.
fn start_with(name: &str, options: &str) -> Script {
    let source = SERVICE.replace(
        r#"http.Server("127.0.0.1:0")"#,
        &format!(r#"http.Server("127.0.0.1:0", {options})"#),
    );
    Script::start(name, &source)
}

#[test]
fn every_request_leaves_an_access_log_line_and_handler_logs_carry_its_ids() {
    let script = Script::start("access", SERVICE);
    let port = script.server_port();
    let request = format!(
        "GET /users/7?x=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         traceparent: 00-{TRACE}-b7ad6b7169203331-01\r\nx-request-id: req-abc\r\n\r\n"
    );
    let r = raw(port, request.as_bytes());
    assert_eq!((r.status, r.body.as_str()), (200, r#"{"id":"7"}"#));
    assert_eq!(r.header("x-request-id"), Some("req-abc"));

    let mut skipped = Vec::new();
    let inner = script.wait_log_msg("looking up user", &mut skipped);
    assert_eq!(inner["level"], "info", "{inner}");
    assert_eq!(inner["request_id"], "req-abc", "{inner}");
    assert_eq!(inner["trace_id"], TRACE, "{inner}");
    assert_eq!(inner["span_id"].as_str().map(str::len), Some(16), "{inner}");
    assert_eq!(inner["id"], "7", "{inner}");

    let access = script.wait_log_msg("request", &mut skipped);
    assert_eq!(access["method"], "GET", "{access}");
    assert_eq!(access["path"], "/users/7", "{access}");
    assert_eq!(access["route"], "/users/{id}", "{access}");
    assert_eq!(access["status"], 200, "{access}");
    assert_eq!(access["bytes"], 10, "{access}");
    assert!(
        access["duration"]
            .as_f64()
            .is_some_and(|d| d > 0.0 && d < 5.0),
        "{access}"
    );
    assert_eq!(access["request_id"], "req-abc", "{access}");
    assert_eq!(access["trace_id"], TRACE, "{access}");

    // Unmatched paths are logged with their path but a fixed route.
    assert_eq!(get(port, "/nope").status, 404);
    let access = script.wait_log_msg("request", &mut skipped);
    assert_eq!(
        (access["path"].as_str(), access["route"].as_str()),
        (Some("/nope"), Some("unmatched"))
    );
    assert_eq!(access["status"], 404);
    assert!(access.get("trace_id").is_none(), "{access}");
}

#[test]
fn the_access_log_has_one_switch() {
    let script = start_with("quiet", "access_log=false");
    let port = script.server_port();
    for _ in 0..3 {
        assert_eq!(get(port, "/users/1").status, 200);
    }
    script.signal("TERM");
    let (_, log, status) = script.finish();
    assert_eq!(status, 0, "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains(r#""msg":"request""#)),
        "{log:?}"
    );
    assert_eq!(
        log.iter().filter(|l| l.contains("looking up user")).count(),
        3
    );
    // The lifecycle lines are still there, each shutdown step with its duration.
    assert!(
        log.iter()
            .any(|l| l.contains("every connection finished") && l.contains("duration_ms")),
        "{log:?}"
    );
}

#[test]
fn metrics_are_negotiated_and_keyed_by_route_pattern() {
    let script = Script::start("metrics", SERVICE);
    let port = script.server_port();
    for id in 1..=3 {
        assert_eq!(get(port, &format!("/users/{id}")).status, 200);
    }
    // A method outside the standard set is counted as OTHER.
    let r = raw(
        port,
        b"PURGE /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 405);

    let text = get(port, "/metrics");
    assert_eq!(
        text.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let line = |body: &str, prefix: &str| {
        body.lines()
            .find(|l| l.starts_with(prefix))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{body}"))
    };
    let value = |body: &str, series: &str| -> f64 {
        let line = line(body, &format!("{series} "));
        line.rsplit(' ')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    let ok = r#"http_requests_total{method="GET",route="/users/{id}",status="200"}"#;
    assert_eq!(value(&text.body, ok), 3.0);
    let other = r#"http_requests_total{method="OTHER",route="unmatched",status="405"}"#;
    assert_eq!(value(&text.body, other), 1.0);
    assert!(
        !text.body.contains("/users/1\""),
        "raw paths leaked into labels"
    );
    assert!(line(&text.body, "process_resident_memory_bytes ").len() > 30);
    assert_eq!(value(&text.body, "cn_log_lines_dropped_total"), 0.0);
    assert!(!text.body.contains("# EOF"));

    let request = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
                   Accept: application/openmetrics-text; version=1.0.0,text/plain;q=0.5\r\n\r\n";
    let open = raw(port, request.as_bytes());
    assert_eq!(
        open.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    assert!(open.body.ends_with("# EOF\n"), "{}", open.body);
    // Each request's trace id rides along as an exemplar of its duration bucket.
    assert!(
        open.body
            .lines()
            .any(|l| l.starts_with("http_request_duration_seconds_bucket{")
                && l.contains("# {trace_id=\"")),
        "{}",
        open.body
    );
}

#[test]
fn the_metrics_path_can_move_or_go() {
    let script = start_with("moved", r#"metrics_path="/internal/metrics""#);
    let port = script.server_port();
    assert_eq!(get(port, "/metrics").status, 404);
    assert_eq!(get(port, "/internal/metrics").status, 200);

    let script = start_with("gone", "metrics_path=nil");
    let port = script.server_port();
    assert_eq!(get(port, "/metrics").status, 404);
    assert_eq!(get(port, "/healthz").status, 200);
}

#[test]
fn metrics_and_tracing_switch_off_per_server() {
    let script = start_with("dark", "metrics=false, tracing=false");
    let port = script.server_port();
    let request = format!(
        "GET /users/7 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         traceparent: 00-{TRACE}-b7ad6b7169203331-01\r\nx-request-id: req-dark\r\n\r\n"
    );
    let r = raw(port, request.as_bytes());
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-request-id"), Some("req-dark"));

    // The request id stays; no span, so no trace ids (the caller's trace is not continued).
    let mut skipped = Vec::new();
    for msg in ["looking up user", "request"] {
        let line = script.wait_log_msg(msg, &mut skipped);
        assert_eq!(line["request_id"], "req-dark", "{line}");
        assert!(line.get("trace_id").is_none(), "{line}");
        assert!(line.get("span_id").is_none(), "{line}");
    }

    // The exposition is still served, but this server's requests are not counted.
    let metrics = get(port, "/metrics");
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.body.contains("process_resident_memory_bytes "),
        "{}",
        metrics.body
    );
    assert!(
        !metrics.body.contains("http_requests_total{"),
        "{}",
        metrics.body
    );
    assert!(
        !metrics.body.contains("http_requests_in_flight 1"),
        "{}",
        metrics.body
    );
}
