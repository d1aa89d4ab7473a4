//! The http server's automatic RED metrics: `http_requests_total{method,route,status}`,
//! `http_request_duration_seconds{method,route}` (with the request's trace id as an exemplar)
//! and `http_requests_in_flight`.
//!
//! `record` runs on every request of a server doing ~100k requests a second, so each server
//! keeps its own cache of metric handles per (route, method, status): after the first request of
//! a kind, recording is a hash lookup of the route, two short scans and three atomic updates,
//! with no allocation. `route` is the route pattern (`/users/{id}`), never the raw path, so the
//! number of series stays bounded by the routes a script defines.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use super::exemplar::TraceExemplar;
use super::family::{
    Child, CounterHandle, Definition, Family, GaugeHandle, HistogramHandle, Kind, DEFAULT_BUCKETS,
};
use super::registry;

/// The automatic http metrics' names and kinds; the registry reserves them.
pub(crate) const NAMES: [(&str, Kind); 3] = [
    ("http_request_duration_seconds", Kind::Histogram),
    ("http_requests_in_flight", Kind::Gauge),
    ("http_requests_total", Kind::Counter),
];

/// A server's handle on the automatic http metrics. Every server in the process shares the same
/// families; each keeps its own cache of handles. Not `Sync`: it lives on the interpreter thread
/// with the server.
pub struct HttpMetrics {
    requests: Arc<Family>,
    durations: Arc<Family>,
    in_flight: GaugeHandle,
    /// Route pattern -> one entry per method seen on it.
    routes: RefCell<HashMap<Box<str>, Vec<MethodEntry>, ahash::RandomState>>,
}

struct MethodEntry {
    method: Box<str>,
    duration: HistogramHandle,
    /// One counter per status seen; a route answers with few distinct statuses, so a scan beats
    /// hashing.
    statuses: Vec<(u16, CounterHandle)>,
}

/// Counts one request as in flight until dropped.
#[must_use = "the request stops counting as in flight when the guard is dropped"]
pub struct InFlightGuard(GaugeHandle);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Default for HttpMetrics {
    fn default() -> Self {
        HttpMetrics::new()
    }
}

impl HttpMetrics {
    /// Registers the http families (the first time in the process) and returns a handle with an
    /// empty cache. The families appear in the exposition from then on.
    pub fn new() -> HttpMetrics {
        let labels = |names: &[&str]| names.iter().map(|s| s.to_string()).collect();
        let requests = registry::register_automatic(Definition {
            name: "http_requests_total".into(),
            help: "Total HTTP requests handled, by method, route pattern and status code.".into(),
            kind: Kind::Counter,
            labels: labels(&["method", "route", "status"]),
            buckets: Vec::new(),
        });
        let durations = registry::register_automatic(Definition {
            name: "http_request_duration_seconds".into(),
            help: "HTTP request duration in seconds, by method and route pattern.".into(),
            kind: Kind::Histogram,
            labels: labels(&["method", "route"]),
            buckets: DEFAULT_BUCKETS.to_vec(),
        });
        let in_flight = registry::register_automatic(Definition {
            name: "http_requests_in_flight".into(),
            help: "HTTP requests being handled right now.".into(),
            kind: Kind::Gauge,
            labels: Vec::new(),
            buckets: Vec::new(),
        });
        let in_flight = match in_flight.child(Vec::new()) {
            Child::Gauge(gauge) => gauge,
            // Defined as a gauge just above; a detached gauge keeps this total all the same.
            _ => GaugeHandle::default(),
        };
        HttpMetrics {
            requests,
            durations,
            in_flight,
            routes: RefCell::new(HashMap::default()),
        }
    }

    /// Counts a request as in flight until the guard is dropped (hold it across the handler).
    pub fn in_flight(&self) -> InFlightGuard {
        self.in_flight.inc();
        InFlightGuard(self.in_flight.clone())
    }

    /// Records one finished request: counts it under (method, route, status) and observes its
    /// duration under (method, route), keeping `trace_id` as the bucket's exemplar. A trace id
    /// that is not a plain id of at most 64 letters, digits, `-` or `_` is not kept.
    pub fn record(
        &self,
        method: &str,
        route: &str,
        status: u16,
        seconds: f64,
        trace_id: Option<&str>,
    ) {
        let exemplar = trace_id.and_then(TraceExemplar::new);
        // `max` also turns NaN into 0: a duration is never negative or undefined.
        let seconds = seconds.max(0.0);
        let mut routes = self.routes.borrow_mut();
        if let Some(methods) = routes.get_mut(route) {
            return self.record_in(methods, method, route, status, seconds, exemplar);
        }
        let methods = routes.entry(route.into()).or_default();
        self.record_in(methods, method, route, status, seconds, exemplar);
    }

    fn record_in(
        &self,
        methods: &mut Vec<MethodEntry>,
        method: &str,
        route: &str,
        status: u16,
        seconds: f64,
        exemplar: Option<TraceExemplar>,
    ) {
        let index = match methods.iter().position(|m| &*m.method == method) {
            Some(index) => index,
            None => {
                let duration = match self.durations.child(vec![method.into(), route.into()]) {
                    Child::Histogram(histogram) => histogram,
                    // Defined as a histogram in `new`; never reached.
                    _ => HistogramHandle::new(DEFAULT_BUCKETS.into_iter()),
                };
                methods.push(MethodEntry {
                    method: method.into(),
                    duration,
                    statuses: Vec::new(),
                });
                methods.len() - 1
            }
        };
        let entry = &mut methods[index];
        match entry.statuses.iter().find(|(s, _)| *s == status) {
            Some((_, counter)) => {
                counter.inc();
            }
            None => {
                let values = vec![method.into(), route.into(), status.to_string()];
                let counter = match self.requests.child(values) {
                    Child::Counter(counter) => counter,
                    // Defined as a counter in `new`; never reached.
                    _ => CounterHandle::default(),
                };
                counter.inc();
                entry.statuses.push((status, counter));
            }
        }
        entry.duration.observe(seconds, exemplar, None);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;
    use crate::metrics::exposition::{expose, Format};

    fn lines_with<'a>(text: &'a str, needle: &str) -> Vec<&'a str> {
        text.lines().filter(|l| l.contains(needle)).collect()
    }

    #[test]
    fn requests_are_counted_by_route_pattern_and_timed_with_exemplars() {
        let metrics = HttpMetrics::new();
        let route = "/test/red/{id}";
        {
            let _guard = metrics.in_flight();
            let text = expose(Format::Text);
            assert!(text.contains("\nhttp_requests_in_flight "), "{text}");
        }
        metrics.record(
            "GET",
            route,
            200,
            0.003,
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
        );
        metrics.record("GET", route, 200, 0.2, None);
        metrics.record("GET", route, 404, 0.001, None);
        metrics.record(
            "POST",
            route,
            201,
            7.0,
            Some("0af7651916cd43dd8448eb211c80319c"),
        );

        let text = expose(Format::Text);
        assert_eq!(
            lines_with(
                &text,
                "http_requests_total{method=\"GET\",route=\"/test/red/{id}\""
            ),
            [
                "http_requests_total{method=\"GET\",route=\"/test/red/{id}\",status=\"200\"} 2.0",
                "http_requests_total{method=\"GET\",route=\"/test/red/{id}\",status=\"404\"} 1.0",
            ]
        );
        let get_buckets = lines_with(&text, "method=\"GET\",route=\"/test/red/{id}\"}");
        assert!(get_buckets.contains(
            &"http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/test/red/{id}\"} 2"
        ));
        assert!(
            !text.contains("trace_id"),
            "no exemplars in the text format"
        );

        let open = expose(Format::OpenMetrics);
        assert!(open.contains(
            "http_request_duration_seconds_bucket{le=\"0.005\",method=\"GET\",route=\"/test/red/{id}\"} 2 \
             # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 0.003\n"
        ), "{open}");
        assert!(open.contains(
            "http_request_duration_seconds_bucket{le=\"10.0\",method=\"POST\",route=\"/test/red/{id}\"} 1 \
             # {trace_id=\"0af7651916cd43dd8448eb211c80319c\"} 7.0\n"
        ), "{open}");
    }

    /// Not a pass/fail test: prints what recording costs (run with `--release --nocapture`).
    #[test]
    fn record_cost() {
        let metrics = HttpMetrics::new();
        let routes = [
            "/cost/a",
            "/cost/users/{id}",
            "/cost/orders/{id}/items",
            "/cost/b",
        ];
        let trace = Some("4bf92f3577b34da6a3ce929d0e0e4736");
        let n = 500_000;
        let time = |label: &str, f: &dyn Fn(usize)| {
            let start = Instant::now();
            for i in 0..n {
                f(i);
            }
            let per_call = start.elapsed().as_nanos() as f64 / n as f64;
            println!("{label}: {per_call:.0} ns");
        };
        time("record, no trace id", &|i| {
            metrics.record("GET", routes[i % 4], 200, 0.0123, None)
        });
        time("record with a trace id", &|i| {
            metrics.record("GET", routes[i % 4], 200, 0.0123, trace)
        });
        time("in_flight guard", &|_| drop(metrics.in_flight()));
        time("in_flight + record with a trace id", &|i| {
            let _guard = metrics.in_flight();
            metrics.record("GET", routes[i % 4], 200, 0.0123, trace);
        });
    }
}
