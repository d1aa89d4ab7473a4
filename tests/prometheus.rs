//! `/metrics` end to end against the real Prometheus: a `cn run` service with a route
//! `/users/{id}` and its own counter and histogram takes a known set of requests (some carrying a
//! W3C `traceparent` with a trace id chosen here, some 404s), then a Prometheus server started by
//! the test scrapes it every second, and its HTTP API must report what the service counted —
//! by route pattern, never by raw path — and the chosen trace id as an exemplar of the request
//! duration histogram (Prometheus asks for OpenMetrics by itself, the only format with exemplars).
//!
//! Prometheus comes with Debian's `prometheus` package. When it is missing the test fails under
//! CI (env `CI` set) and otherwise prints a note and passes.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value as Json;

use common::{get, raw, Script};

const PROMETHEUS: &str = "/usr/bin/prometheus";

/// The scrape job's name, as `up{job=...}` and every scraped series carry it.
const JOB: &str = "cn_service";

/// Longest Prometheus may take to start and scrape the service once (a slow CI machine).
const SCRAPE_PATIENCE: Duration = Duration::from_secs(60);

/// The trace id every request to `/users/{id}` carries in its `traceparent`.
const TRACE_ID: &str = "5eed0000c0ffee00000000000000abcd";

/// The service: every lookup counts into `myapp_requests_total` and, when the user exists,
/// observes 0.1 into `myapp_lookup_seconds`; it answers with the trace id its context holds.
const SERVICE: &str = r#"
import http
import metrics
import context

requests = metrics.counter("myapp_requests_total", "Total requests processed", labels=["endpoint", "status"])
lookups = metrics.histogram("myapp_lookup_seconds", "User lookup time", buckets=[0.05, 0.5])

fn user(req):
    id = req.params["id"]
    if id == "404":
        requests.inc(endpoint="/users", status="not_found")
        return ({"error": "no such user"}, 404)
    requests.inc(endpoint="/users", status="success")
    lookups.observe(0.1)
    return {"id": id, "trace_id": context.get("trace_id")}

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/users/{id}", user)
    server.run()
"#;

/// A Prometheus server in a temporary directory, killed (and the directory removed) on drop, so
/// a failed assertion leaves nothing running.
struct Prometheus {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`) every second, exemplars kept.
    fn start(target: &str) -> Prometheus {
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir =
            std::env::temp_dir().join(format!("cn-prometheus-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(dir.join("data")).expect("temp dir is writable");
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: {JOB}\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        std::fs::write(dir.join("prometheus.yml"), config).expect("config is writable");
        let log = std::fs::File::create(dir.join("prometheus.log")).expect("log is writable");
        let port = free_port();
        let child = Command::new(PROMETHEUS)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--enable-feature=exemplar-storage")
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("prometheus starts");
        Prometheus { child, dir, port }
    }

    /// `GET path` on Prometheus's HTTP API, parsed; `None` until it answers with JSON.
    fn api(&self, path: &str) -> Option<Json> {
        let body = http_get(self.port, path).ok()?;
        serde_json::from_str(&body).ok()
    }

    /// The result vector of an instant query: (labels, value) per series.
    fn query(&self, promql: &str) -> Vec<(Json, f64)> {
        let answer = self
            .api(&format!("/api/v1/query?query={}", encode(promql)))
            .unwrap_or_else(|| panic!("no answer to {promql}\n{}", self.log()));
        assert_eq!(answer["status"], "success", "{promql}: {answer}");
        let series = answer["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        series
            .into_iter()
            .map(|s| {
                let value = s["value"][1].as_str().and_then(|v| v.parse().ok());
                let value = value.unwrap_or_else(|| panic!("{promql}: no value in {s}"));
                (s["metric"].clone(), value)
            })
            .collect()
    }

    /// The single value `promql` selects.
    fn value(&self, promql: &str) -> f64 {
        match self.query(promql).as_slice() {
            [(_, value)] => *value,
            other => panic!("{promql}: expected one series, got {other:?}"),
        }
    }

    /// Waits until Prometheus has scraped the service successfully once: every sample of that
    /// scrape is committed together with its `up`.
    fn wait_for_first_scrape(&mut self) {
        let deadline = Instant::now() + SCRAPE_PATIENCE;
        let up = format!(
            "/api/v1/query?query={}",
            encode(&format!("up{{job=\"{JOB}\"}}"))
        );
        loop {
            let answer = self.api(&up);
            let value = answer
                .as_ref()
                .and_then(|a| a["data"]["result"][0]["value"][1].as_str());
            if value == Some("1") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("prometheus exited ({status})\n{}", self.log());
            }
            if Instant::now() > deadline {
                let targets = self.api("/api/v1/targets");
                panic!(
                    "no successful scrape within {SCRAPE_PATIENCE:?}; up: {answer:?}\n\
                     targets: {targets:?}\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    /// What Prometheus logged, for failure messages.
    fn log(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_default();
        format!("--- prometheus log ---\n{log}")
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on right now (bound and released at once).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("address").port()
}

/// A minimal HTTP/1.0 GET: the server closes the connection after the body, so no chunked
/// encoding to undo. Errors (nothing listening yet, a non-200 answer) are for the caller to retry.
fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    if head.split_whitespace().nth(1) != Some("200") {
        let status = head.lines().next().unwrap_or_default();
        return Err(std::io::Error::other(format!("{status}: {body}")));
    }
    Ok(body.to_string())
}

/// Percent-encodes a query parameter (PromQL is full of `{`, `"` and `=`).
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET path` carrying our trace id in a `traceparent` (a new parent span id each time);
/// returns the status and body.
fn traced_get(port: u16, path: &str, span: u64) -> (u16, String) {
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
         traceparent: 00-{TRACE_ID}-{span:016x}-01\r\n\r\n"
    );
    let response = raw(port, request.as_bytes());
    (response.status, response.body)
}

/// Whether Prometheus is installed; outside CI a missing one skips the test with a note.
fn prometheus_available() -> bool {
    if Path::new(PROMETHEUS).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{PROMETHEUS} is missing; install the Debian package prometheus"
    );
    eprintln!("note: {PROMETHEUS} is missing (install the Debian package prometheus); skipping");
    false
}

#[test]
fn prometheus_scrapes_route_patterns_custom_metrics_and_exemplars() {
    if !prometheus_available() {
        return;
    }
    let script = Script::start("prometheus", SERVICE);
    let port = script.server_port();

    // 3 + 2 found users, one the handler does not find, 3 paths no route matches.
    let mut span = 0;
    for (path, times) in [("/users/1", 3), ("/users/2", 2)] {
        for _ in 0..times {
            span += 1;
            let (status, body) = traced_get(port, path, span);
            assert_eq!(status, 200, "{path}: {body}");
            // The server span is the caller's child, so the handler sees the caller's trace id.
            assert!(
                body.contains(&format!(r#""trace_id":"{TRACE_ID}""#)),
                "{body}"
            );
        }
    }
    span += 1;
    assert_eq!(traced_get(port, "/users/404", span).0, 404);
    for path in ["/nope", "/users", "/users/1/extra"] {
        assert_eq!(get(port, path).status, 404, "{path}");
    }

    let started = SystemTime::now();
    let mut prometheus = Prometheus::start(&format!("127.0.0.1:{port}"));
    prometheus.wait_for_first_scrape();

    let job = format!("job=\"{JOB}\"");
    let users = format!("{job},method=\"GET\",route=\"/users/{{id}}\"");
    assert_eq!(
        prometheus.value(&format!("http_requests_total{{{users},status=\"200\"}}")),
        5.0
    );
    assert_eq!(
        prometheus.value(&format!("http_requests_total{{{users},status=\"404\"}}")),
        1.0,
        "a 404 from a matched route stays under its pattern"
    );
    assert_eq!(
        prometheus.value(&format!(
            "http_requests_total{{{job},method=\"GET\",route=\"unmatched\",status=\"404\"}}"
        )),
        3.0
    );
    // Raw paths never become label values: only the patterns (and the scrapes' own route).
    let mut routes: Vec<String> = prometheus
        .query(&format!("http_requests_total{{{job}}}"))
        .iter()
        .map(|(labels, _)| labels["route"].as_str().unwrap_or_default().to_string())
        .collect();
    routes.sort();
    routes.dedup();
    for route in &routes {
        assert!(
            ["/metrics", "/users/{id}", "unmatched"].contains(&route.as_str()),
            "unexpected route label {route:?} in {routes:?}"
        );
    }
    assert!(prometheus
        .query(r#"http_requests_total{route=~"/users/[0-9].*|/users|/nope"}"#)
        .is_empty());
    assert_eq!(
        prometheus.value(&format!("http_request_duration_seconds_count{{{users}}}")),
        6.0
    );
    // The scrape that produced these samples was itself being handled.
    assert_eq!(
        prometheus.value(&format!("http_requests_in_flight{{{job}}}")),
        1.0
    );

    let myapp = format!("{job},endpoint=\"/users\"");
    assert_eq!(
        prometheus.value(&format!(
            "myapp_requests_total{{{myapp},status=\"success\"}}"
        )),
        5.0
    );
    assert_eq!(
        prometheus.value(&format!(
            "myapp_requests_total{{{myapp},status=\"not_found\"}}"
        )),
        1.0
    );
    let mut buckets: Vec<(String, f64)> = prometheus
        .query(&format!("myapp_lookup_seconds_bucket{{{job}}}"))
        .into_iter()
        .map(|(labels, value)| (labels["le"].as_str().unwrap_or_default().to_string(), value))
        .collect();
    buckets.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        buckets,
        [
            ("+Inf".to_string(), 5.0),
            ("0.05".to_string(), 0.0),
            ("0.5".to_string(), 5.0)
        ]
    );
    assert_eq!(
        prometheus.value(&format!("myapp_lookup_seconds_count{{{job}}}")),
        5.0
    );
    let sum = prometheus.value(&format!("myapp_lookup_seconds_sum{{{job}}}"));
    assert!((sum - 0.5).abs() < 1e-9, "sum {sum}");

    let rss = prometheus.value(&format!("process_resident_memory_bytes{{{job}}}"));
    assert!(rss > 0.0, "resident memory {rss}");

    // The duration histogram's exemplars: the trace id every /users request carried.
    let seconds = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let path = format!(
        "/api/v1/query_exemplars?query={}&start={}&end={}",
        encode(&format!("http_request_duration_seconds_bucket{{{users}}}")),
        seconds(started) - 60,
        seconds(SystemTime::now()) + 60
    );
    let answer = prometheus
        .api(&path)
        .unwrap_or_else(|| panic!("no answer to {path}\n{}", prometheus.log()));
    assert_eq!(answer["status"], "success", "{answer}");
    let exemplars: Vec<&Json> = answer["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|series| series["exemplars"].as_array().into_iter().flatten())
        .collect();
    assert!(!exemplars.is_empty(), "no exemplars: {answer}");
    for exemplar in exemplars {
        assert_eq!(exemplar["labels"]["trace_id"], TRACE_ID, "{answer}");
    }
}
