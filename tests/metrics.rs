//! The metrics exposition against the real parsers: a script creates metrics of every kind with
//! labels (and awkward help texts and label values), the real `cn` binary prints
//! `metrics.expose()` and `metrics.expose(openmetrics=true)`, and Prometheus's own
//! `promtool check metrics` and the Python client's strict OpenMetrics parser must accept them;
//! values are then read back through the parser. The http server's metrics (with their trace-id
//! exemplars) are rendered in-process through the Rust API the server uses.
//!
//! promtool comes with Debian's `prometheus` package and the parser with
//! `python3-prometheus-client`. When one is missing the test fails under CI (env `CI` set) and
//! otherwise prints a note and passes.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value as Json;

const PROMTOOL: &str = "/usr/bin/promtool";
const PYTHON: &str = "/usr/bin/python3";

/// Metrics of all three kinds; the help texts and label values need escaping in both formats.
const SETUP: &str = r#"
import metrics

requests = metrics.counter("shop_requests_total", "Requests \"served\"\nby endpoint \\ status", labels=["endpoint", "status"])
requests.inc(endpoint="/users", status="ok")
requests.add(4, endpoint="/users", status="ok")
requests.inc(endpoint="/a \"quoted\" path\\with\nnewline", status=500)
active = metrics.gauge("shop_connections_active", "Open connections")
active.set(42)
active.dec()
queue = metrics.gauge("shop_queue_depth", "Jobs waiting by queue", labels=["queue"])
queue.set(2.5, queue="emails # not a comment")
latency = metrics.histogram("shop_response_time_seconds", "Response time", labels=["route"], buckets=[0.01, 0.1, 1])
latency.observe(0.05, route="/users/{id}")
latency.observe(20.ms, route="/users/{id}")
latency.observe(3, route="/users/{id}")
sizes = metrics.histogram("shop_payload_bytes", "Payload sizes")
sizes.observe(0.2)
"#;

/// Runs the setup script with `print_line` at the end and returns what it printed.
fn run_script(name: &str, print_line: &str) -> String {
    let path = std::env::temp_dir().join(format!("cn-metrics-{}-{name}.cn", std::process::id()));
    std::fs::write(&path, format!("{SETUP}\n{print_line}\n")).expect("temp dir is writable");
    let mut command = Command::new(common::CN);
    command.arg("run").arg(&path).env("NO_COLOR", "1");
    let finished = common::finish(&mut command, None, common::PATIENCE);
    let _ = std::fs::remove_file(&path);
    assert_eq!(
        finished.status,
        Some(0),
        "script failed: {}",
        finished.stderr
    );
    finished.stdout
}

/// Whether `tool` is installed; outside CI a missing tool skips the test with a note.
fn available(tool: &str, what: &str) -> bool {
    if Path::new(tool).exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{tool} is missing; install {what}"
    );
    eprintln!("note: {tool} is missing (install {what}); skipping this check");
    false
}

/// Feeds `input` to a command and returns (success, stdout, stderr).
fn pipe(program: &str, args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tool starts");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("the tool reads its input");
    let output = child.wait_with_output().expect("the tool finishes");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `promtool check metrics` must accept the text exposition without a single lint complaint.
fn check_with_promtool(text: &str) {
    if !available(PROMTOOL, "the Debian package prometheus") {
        return;
    }
    let (ok, stdout, stderr) = pipe(PROMTOOL, &["check", "metrics"], text);
    assert!(
        ok && stdout.is_empty() && stderr.is_empty(),
        "promtool rejected the exposition:\n{stdout}{stderr}\n---\n{text}"
    );
}

/// Parses an exposition with the Python client (`openmetrics`: the strict OpenMetrics parser,
/// else the Prometheus text parser) and returns one JSON object per sample.
fn parse_with_python(text: &str, openmetrics: bool) -> Option<Vec<Json>> {
    if !available(PYTHON, "python3-prometheus-client") {
        return None;
    }
    let module = if openmetrics {
        "prometheus_client.openmetrics.parser"
    } else {
        "prometheus_client.parser"
    };
    let program = format!(
        r#"
import json, sys
from {module} import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        exemplar = getattr(s, "exemplar", None)
        print(json.dumps({{
            "family": family.name, "type": family.type, "help": family.documentation,
            "name": s.name, "labels": s.labels, "value": s.value,
            "exemplar": None if exemplar is None else {{"labels": exemplar.labels, "value": exemplar.value}},
        }}))
"#
    );
    let (ok, stdout, stderr) = pipe(PYTHON, &["-c", &program], text);
    if !ok && stderr.contains("No module named 'prometheus_client'") {
        assert!(
            std::env::var_os("CI").is_none(),
            "python3-prometheus-client is missing"
        );
        eprintln!("note: python3-prometheus-client is missing; skipping this check");
        return None;
    }
    assert!(
        ok,
        "the Python parser rejected the exposition:\n{stderr}\n---\n{text}"
    );
    Some(
        stdout
            .lines()
            .map(|line| serde_json::from_str(line).expect("the helper prints JSON"))
            .collect(),
    )
}

/// The value of the sample `name` whose labels include every pair of `labels`.
fn value(samples: &[Json], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .find(|s| {
            s["name"] == name
                && labels
                    .iter()
                    .all(|(k, v)| s["labels"][*k].as_str() == Some(v))
        })
        .and_then(|s| s["value"].as_f64())
        .unwrap_or_else(|| panic!("no sample {name} {labels:?} in {samples:#?}"))
}

fn family<'a>(samples: &'a [Json], family: &str) -> &'a Json {
    samples
        .iter()
        .find(|s| s["family"] == family)
        .unwrap_or_else(|| panic!("no family {family}"))
}

#[test]
fn the_text_format_passes_promtool_and_reads_back() {
    let text = run_script("text", "print(metrics.expose(), end=\"\")");
    assert!(
        text.contains("# TYPE shop_requests_total counter\n"),
        "{text}"
    );
    check_with_promtool(&text);
    let Some(samples) = parse_with_python(&text, false) else {
        return;
    };
    let odd = "/a \"quoted\" path\\with\nnewline";
    assert_eq!(
        value(
            &samples,
            "shop_requests_total",
            &[("endpoint", "/users"), ("status", "ok")]
        ),
        5.0
    );
    assert_eq!(
        value(
            &samples,
            "shop_requests_total",
            &[("endpoint", odd), ("status", "500")]
        ),
        1.0
    );
    assert_eq!(value(&samples, "shop_connections_active", &[]), 41.0);
    assert_eq!(
        family(&samples, "shop_requests")["help"],
        "Requests \"served\"\nby endpoint \\ status"
    );
    let bucket = |le| value(&samples, "shop_response_time_seconds_bucket", &[("le", le)]);
    assert_eq!(
        (bucket("0.01"), bucket("0.1"), bucket("1.0"), bucket("+Inf")),
        (0.0, 2.0, 2.0, 3.0)
    );
}

#[test]
fn openmetrics_passes_the_strict_parser_and_reads_back() {
    let text = run_script(
        "openmetrics",
        "print(metrics.expose(openmetrics=true), end=\"\")",
    );
    assert!(text.ends_with("# EOF\n"));
    let Some(samples) = parse_with_python(&text, true) else {
        return;
    };
    // The counter's sample keeps the name the script asked for.
    assert_eq!(
        value(&samples, "shop_requests_total", &[("status", "ok")]),
        5.0
    );
    assert_eq!(family(&samples, "shop_requests")["type"], "counter");
    assert_eq!(
        family(&samples, "shop_requests")["help"],
        "Requests \"served\"\nby endpoint \\ status"
    );
    assert_eq!(
        value(
            &samples,
            "shop_queue_depth",
            &[("queue", "emails # not a comment")]
        ),
        2.5
    );
    let route = ("route", "/users/{id}");
    assert_eq!(
        value(&samples, "shop_response_time_seconds_count", &[route]),
        3.0
    );
    assert!((value(&samples, "shop_response_time_seconds_sum", &[route]) - 3.07).abs() < 1e-9);
    assert_eq!(
        value(
            &samples,
            "shop_response_time_seconds_bucket",
            &[route, ("le", "0.1")]
        ),
        2.0
    );
    assert_eq!(
        value(&samples, "shop_payload_bytes_bucket", &[("le", "0.25")]),
        1.0
    );
    // Process metrics come with every exposition.
    assert!(value(&samples, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&samples, "process_open_fds", &[]) >= 3.0);
    assert_eq!(family(&samples, "process_cpu_seconds")["type"], "counter");
}

#[test]
fn http_metrics_carry_trace_exemplars_under_openmetrics() {
    use cn_stdlib::metrics::{render, Finished, HttpMetrics, OPENMETRICS, PROMETHEUS_TEXT};

    let http = HttpMetrics::new();
    let trace = 0x4bf92f3577b34da6a3ce929d0e0e4736;
    let request = |method, route, status, seconds, trace_id| Finished {
        method,
        route,
        status,
        seconds,
        at: std::time::Instant::now(),
        trace_id,
    };
    {
        let _in_flight = http.in_flight();
        http.record(&request("GET", "/users/{id}", 200, 0.012, Some(trace)));
    }
    http.record(&request("GET", "/users/{id}", 200, 0.3, None));
    http.record(&request(
        "POST",
        "/users",
        503,
        1.5,
        Some(0x0af7651916cd43dd8448eb211c80319c),
    ));

    let accept =
        "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    let (content_type, open) = render(Some(accept));
    assert_eq!(content_type, OPENMETRICS);
    let (content_type, text) = render(Some("text/plain"));
    assert_eq!(content_type, PROMETHEUS_TEXT);
    assert!(
        !text.contains("trace_id"),
        "the text format has no exemplars"
    );
    check_with_promtool(&text);

    let Some(samples) = parse_with_python(&open, true) else {
        return;
    };
    let get = [("method", "GET"), ("route", "/users/{id}")];
    assert_eq!(
        value(
            &samples,
            "http_requests_total",
            &[get[0], get[1], ("status", "200")]
        ),
        2.0
    );
    assert_eq!(value(&samples, "http_requests_in_flight", &[]), 0.0);
    let bucket = samples
        .iter()
        .find(|s| {
            s["name"] == "http_request_duration_seconds_bucket"
                && s["labels"]["method"] == "GET"
                && s["labels"]["le"] == "0.025"
        })
        .expect("the GET bucket for 25 ms");
    assert_eq!(bucket["value"], 1.0);
    assert_eq!(
        bucket["exemplar"]["labels"]["trace_id"],
        format!("{trace:032x}")
    );
    assert_eq!(bucket["exemplar"]["value"], 0.012);
}
