//! The http server's automatic RED metrics: `http_requests_total{method,route,status}`,
//! `http_request_duration_seconds{method,route}` (with the request's trace id as an exemplar)
//! and `http_requests_in_flight`; and `http_accept_errors_total`, connections the listener
//! failed to accept (out of file descriptors, most often).
//!
//! `record` runs on every request of a server doing ~100k requests a second, so each server
//! keeps its own cache of metric handles per (route, method, status): after the first request of
//! a kind, recording is a hash lookup of the route, two short scans and three atomic updates,
//! with no allocation. `route` is the route pattern (`/users/{id}`), never the raw path, so the
//! number of series stays bounded by the routes a script defines.
//!
//! A bucket's exemplar is replaced at most every [`EXEMPLAR_REFRESH`]: storing one costs more
//! than the rest of the recording (the metrics crate hashes it into a map), and a scrape only
//! ever shows the latest, so under load nearly every replacement would be thrown away unseen.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::exemplar::TraceExemplar;
use super::family::{
    Child, CounterHandle, Definition, Family, GaugeHandle, HistogramHandle, Kind, DEFAULT_BUCKETS,
};
use super::registry;

/// The shortest time between two exemplars of one duration bucket (see the module docs).
pub const EXEMPLAR_REFRESH: Duration = Duration::from_millis(100);

/// The automatic http metrics' names and kinds; the registry reserves them.
pub(crate) const NAMES: [(&str, Kind); 4] = [
    ("http_accept_errors_total", Kind::Counter),
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
    accept_errors: CounterHandle,
    /// Route pattern -> one entry per method seen on it.
    routes: RefCell<HashMap<Box<str>, Vec<MethodEntry>, ahash::RandomState>>,
}

struct MethodEntry {
    method: Box<str>,
    duration: HistogramHandle,
    /// One counter per status seen; a route answers with few distinct statuses, so a scan beats
    /// hashing.
    statuses: Vec<(u16, CounterHandle)>,
    /// When each duration bucket (the last is `+Inf`) may next take an exemplar: a deadline,
    /// so the check on every request is a comparison rather than a subtraction.
    exemplar_due_at: [Option<Instant>; DEFAULT_BUCKETS.len() + 1],
}

impl MethodEntry {
    /// Whether an observation of `seconds` at `now` should replace its bucket's exemplar.
    fn exemplar_due(&mut self, seconds: f64, now: Instant) -> bool {
        let bucket = DEFAULT_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(DEFAULT_BUCKETS.len());
        let next = &mut self.exemplar_due_at[bucket];
        let due = next.is_none_or(|at| now >= at);
        if due {
            *next = now.checked_add(EXEMPLAR_REFRESH);
        }
        due
    }
}

/// One answered request, as the metrics see it.
#[derive(Clone, Copy)]
pub struct Finished<'a> {
    /// The method label (`GET`, ..., `OTHER`).
    pub method: &'a str,
    /// The route label: the pattern, a built-in path or `unmatched`.
    pub route: &'a str,
    pub status: u16,
    /// How long the request took.
    pub seconds: f64,
    /// When it finished.
    pub at: Instant,
    /// The request's trace id, for the duration bucket's exemplar.
    pub trace_id: Option<u128>,
}

/// Counts one request as in flight until dropped.
#[must_use = "the request stops counting as in flight when the guard is dropped"]
pub struct InFlightGuard<'a>(&'a GaugeHandle);

impl Drop for InFlightGuard<'_> {
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
        let accept_errors = registry::register_automatic(Definition {
            name: "http_accept_errors_total".into(),
            help: "Connections the HTTP server failed to accept (out of file descriptors, most \
                   often)."
                .into(),
            kind: Kind::Counter,
            labels: Vec::new(),
            buckets: Vec::new(),
        });
        let accept_errors = match accept_errors.child(Vec::new()) {
            Child::Counter(counter) => counter,
            // Defined as a counter just above.
            _ => CounterHandle::default(),
        };
        HttpMetrics {
            requests,
            durations,
            in_flight,
            accept_errors,
            routes: RefCell::new(HashMap::default()),
        }
    }

    /// Counts a request as in flight until the guard is dropped (hold it across the handler).
    pub fn in_flight(&self) -> InFlightGuard<'_> {
        self.in_flight.inc();
        InFlightGuard(&self.in_flight)
    }

    /// Counts a failed accept.
    pub fn accept_failed(&self) {
        self.accept_errors.inc();
    }

    /// Records one request that finished at `finished`: counts it under (method, route, status)
    /// and observes its duration under (method, route), keeping `trace_id` as the bucket's
    /// exemplar when the last one is old enough.
    pub fn record(&self, request: &Finished<'_>) {
        // `max` also turns NaN into 0: a duration is never negative or undefined.
        let seconds = request.seconds.max(0.0);
        let mut routes = self.routes.borrow_mut();
        if let Some(methods) = routes.get_mut(request.route) {
            return self.record_in(methods, request, seconds);
        }
        let methods = routes.entry(request.route.into()).or_default();
        self.record_in(methods, request, seconds);
    }

    fn record_in(&self, methods: &mut Vec<MethodEntry>, request: &Finished<'_>, seconds: f64) {
        let Finished {
            method,
            route,
            status,
            ..
        } = *request;
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
                    exemplar_due_at: Default::default(),
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
        let exemplar = request
            .trace_id
            .filter(|_| entry.exemplar_due(seconds, request.at))
            .map(TraceExemplar);
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
        let now = Instant::now();
        let trace = Some(0x4bf92f3577b34da6a3ce929d0e0e4736);
        metrics.record(&finished("GET", route, 200, 0.003, trace, now));
        metrics.record(&finished("GET", route, 200, 0.2, None, now));
        metrics.record(&finished("GET", route, 404, 0.001, None, now));
        let trace = Some(0x0af7651916cd43dd8448eb211c80319c);
        metrics.record(&finished("POST", route, 201, 7.0, trace, now));

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

    #[test]
    fn a_bucket_takes_a_new_exemplar_once_the_last_is_old_enough() {
        let metrics = HttpMetrics::new();
        let route = "/test/exemplar/refresh";
        let bucket = |open: &str| {
            lines_with(open, "route=\"/test/exemplar/refresh\"")
                .into_iter()
                .find(|l| l.contains("le=\"0.01\""))
                .map(str::to_string)
                .unwrap_or_default()
        };
        let start = Instant::now();
        for (id, after, kept) in [
            (0xa, Duration::ZERO, 0xa),
            (0xb, EXEMPLAR_REFRESH / 2, 0xa),
            (0xc, EXEMPLAR_REFRESH, 0xc),
            (0xd, EXEMPLAR_REFRESH * 3 / 2, 0xc),
        ] {
            metrics.record(&finished("GET", route, 200, 0.007, Some(id), start + after));
            let line = bucket(&expose(Format::OpenMetrics));
            assert!(
                line.contains(&format!("{{trace_id=\"{kept:032x}\"}}")),
                "{id}: {line}"
            );
        }
        // Another bucket has its own clock.
        metrics.record(&finished("GET", route, 200, 0.3, Some(0xe), start));
        let open = expose(Format::OpenMetrics);
        assert!(open.contains("le=\"0.5\",method=\"GET\",route=\"/test/exemplar/refresh\"} 5 # {trace_id=\"0000000000000000000000000000000e\"}"), "{open}");
    }

    fn finished<'a>(
        method: &'a str,
        route: &'a str,
        status: u16,
        seconds: f64,
        trace_id: Option<u128>,
        at: Instant,
    ) -> Finished<'a> {
        Finished {
            method,
            route,
            status,
            seconds,
            at,
            trace_id,
        }
    }
}
