//! What tracing adds to one request when nothing is exported: extracting the caller's context,
//! making the server span and its context entries, one outgoing injection, and finishing.
//! The budget is ~0.3 µs per request (at 100k requests/s); run it with `--release` and
//! `--nocapture` to read the numbers (debug builds are checked against a loose bound only).

use std::time::{Duration, Instant};

use hyper::header::{HeaderMap, HeaderValue};

use cn_runtime::Vm;

use super::current::Context;
use super::http::{inject, start_server_span, ServerRequest};
use super::propagation::extract;

fn request_headers(traceparent: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let mut add = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    add("host", "orders:8080");
    add("user-agent", "curl/8.5.0");
    add("accept", "*/*");
    add("x-request-id", "5f0c2a1e9b7d4c3a");
    if traceparent {
        add(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        );
    }
    headers
}

/// Time per call of `run`: the best of five rounds of `n` calls (the machine is shared, and the
/// best round is the one least disturbed).
fn per_call(n: u32, mut run: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                run();
            }
            start.elapsed() / n
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn a_request_costs_little_when_nothing_is_exported() {
    if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some()
        || std::env::var_os("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_some()
    {
        return; // This measures the path without export.
    }
    let vm = Vm::new(Vec::new());
    // Loose: debug builds, and a test binary on the system allocator (cn uses mimalloc).
    let bound = if cfg!(debug_assertions) {
        Duration::from_micros(50)
    } else {
        Duration::from_micros(2)
    };
    for traceparent in [false, true] {
        let headers = request_headers(traceparent);
        let request = ServerRequest {
            method: "GET",
            route: Some("/orders/{id}"),
            path: "/orders/42",
            headers: &headers,
            local_addr: None,
            peer_addr: None,
        };
        let extract = per_call(100_000, || {
            std::hint::black_box(extract(std::hint::black_box(&headers)));
        });
        let server = per_call(100_000, || {
            let span = start_server_span(&vm, &request);
            let mut context: Context = Context::with_capacity(4);
            span.install(&mut context);
            span.finish(200);
        });
        let mut context: Context = Context::with_capacity(4);
        start_server_span(&vm, &request).install(&mut context);
        let mut outgoing = HeaderMap::new();
        let inject = per_call(100_000, || {
            inject(&context, &mut outgoing);
        });
        let lookup = per_call(100_000, || {
            std::hint::black_box(super::current::current(std::hint::black_box(&context)));
        });
        let parse = per_call(100_000, || {
            std::hint::black_box(super::w3c::parse_traceparent(std::hint::black_box(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )));
        });
        println!("  (finding the current span {lookup:?}, parsing a traceparent {parse:?})");
        println!(
            "traceparent in: {traceparent}: extract {extract:?}; server span with its context \
             entries, finished (extract included) {server:?}; inject into a request {inject:?}"
        );
        assert!(
            server + inject < bound,
            "{server:?} + {inject:?} per request"
        );
    }
}
