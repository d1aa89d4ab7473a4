//! Span export end to end: a small OTLP/HTTP collector (`common/otlp.rs`: std `TcpListener`,
//! minimal HTTP/1.1, bodies decoded with `opentelemetry-proto`) receives what `cn run` exports,
//! and the tests check names, parent/child links, trace ids, statuses, attributes and the
//! resource — and that spans ended just before the script did still arrive (flushed at exit).

mod common;
#[path = "common/otlp.rs"]
mod otlp;

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::{span::SpanKind, status::StatusCode};

use otlp::{attribute, named, names, text, Answer, Collector};

/// Longest a script may run (debug builds on a loaded machine are slow).
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// What a run printed and its exit status.
struct Run {
    stdout: String,
    stderr: String,
    status: i32,
}

/// Runs `source` as `<name>.cn` in a fresh directory with `env` added.
fn run(name: &str, source: &str, env: &[(&str, &str)]) -> Run {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("cn-tracing-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    let file = format!("{name}.cn");
    std::fs::write(dir.join(&file), source).expect("write the script");
    let mut command = Command::new(common::CN);
    command
        .args(["run", &file])
        .current_dir(&dir)
        .env("NO_COLOR", "1");
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") {
            command.env_remove(key);
        }
    }
    command.envs(env.iter().copied());
    let finished = common::finish(&mut command, None, SCRIPT_TIMEOUT);
    assert!(!finished.timed_out, "script {name} timed out");
    let _ = std::fs::remove_dir_all(&dir);
    Run {
        stdout: finished.stdout,
        stderr: finished.stderr,
        status: finished.status.unwrap_or(-1),
    }
}

const NESTED: &str = r#"import tracing

fn child_task(n):
    tracing.span("in-task", n=n):
        return n * 2

fn main():
    tracing.span("root", user="bob", count=3, ratio=0.5, admin=false):
        tracing.set_attribute("stage", "start")
        tracing.span("inner"):
            pass
        t = spawn child_task(21)
        print(t.join())
    tracing.span("second"):
        pass
    print("done")
"#;

#[test]
fn nested_spans_arrive_linked_to_their_parents() {
    let collector = Collector::start(Answer::Ok);
    let run = run(
        "orders",
        NESTED,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url)],
    );
    assert_eq!(run.stdout, "42\ndone\n", "stderr:\n{}", run.stderr);
    assert_eq!(run.status, 0, "stderr:\n{}", run.stderr);
    assert_eq!(run.stderr, "");
    // The schedule delay is 5 s; the script ended at once, so the spans came with the flush.
    let spans = collector.spans();
    assert_eq!(spans.len(), 4, "{:?}", names(&spans));
    let (root, inner, task, second) = (
        named(&spans, "root"),
        named(&spans, "inner"),
        named(&spans, "in-task"),
        named(&spans, "second"),
    );
    assert!(root.parent_span_id.is_empty());
    assert_eq!(inner.parent_span_id, root.span_id);
    assert_eq!(
        task.parent_span_id, root.span_id,
        "a spawned task keeps its parent"
    );
    assert_eq!(inner.trace_id, root.trace_id);
    assert_eq!(task.trace_id, root.trace_id);
    assert_ne!(
        second.trace_id, root.trace_id,
        "a span outside any other starts a trace"
    );
    assert!(second.parent_span_id.is_empty());
    assert_eq!(root.trace_id.len(), 16);
    assert_eq!(root.span_id.len(), 8);
    for span in &spans {
        assert_eq!(span.kind, SpanKind::Internal as i32);
        assert!(span
            .status
            .as_ref()
            .is_none_or(|s| s.code == StatusCode::Unset as i32));
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
        assert!(span.start_time_unix_nano > 0);
    }
    assert!(root.end_time_unix_nano >= inner.end_time_unix_nano);
    assert_eq!(attribute(&root.attributes, "user"), text("bob").as_ref());
    assert_eq!(
        attribute(&root.attributes, "count"),
        Some(&Any::IntValue(3))
    );
    assert_eq!(
        attribute(&root.attributes, "ratio"),
        Some(&Any::DoubleValue(0.5))
    );
    assert_eq!(
        attribute(&root.attributes, "admin"),
        Some(&Any::BoolValue(false))
    );
    assert_eq!(attribute(&root.attributes, "stage"), text("start").as_ref());
    assert_eq!(attribute(&task.attributes, "n"), Some(&Any::IntValue(21)));

    let exports = collector.exports.lock().expect("exports");
    assert_eq!(exports[0].path, "/v1/traces");
    assert_eq!(exports[0].content_type, "application/x-protobuf");
    let resource = exports[0].body.resource_spans[0]
        .resource
        .as_ref()
        .expect("resource");
    assert_eq!(
        attribute(&resource.attributes, "service.name"),
        text("orders").as_ref(),
        "the script's name is the default service name"
    );
    assert_eq!(
        attribute(&resource.attributes, "telemetry.sdk.name"),
        text("cn").as_ref()
    );
}

#[test]
fn a_fault_marks_its_spans_failed_and_still_propagates() {
    let collector = Collector::start(Answer::Ok);
    let source = r#"import tracing

fn main():
    tracing.span("outer"):
        tracing.span("failing", step=1):
            print("before")
            x = [1, 2][5]
        print("not reached")
"#;
    let run = run(
        "faulty",
        source,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
            ("OTEL_SERVICE_NAME", "billing"),
        ],
    );
    assert_eq!(run.stdout, "before\n");
    assert_eq!(run.status, 1);
    assert!(
        run.stderr.contains("index"),
        "the fault is reported:\n{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("faulty.cn"),
        "with its cn stack:\n{}",
        run.stderr
    );
    let spans = collector.spans();
    assert_eq!(spans.len(), 2, "{:?}", names(&spans));
    let (outer, failing) = (named(&spans, "outer"), named(&spans, "failing"));
    assert_eq!(failing.parent_span_id, outer.span_id);
    for span in [outer, failing] {
        let status = span.status.as_ref().expect("a status");
        assert_eq!(status.code, StatusCode::Error as i32);
        assert!(status.message.contains("index"), "{}", status.message);
        let event = &span.events[0];
        assert_eq!(event.name, "exception");
        let message = attribute(&event.attributes, "exception.message");
        assert_eq!(message, Some(&Any::StringValue(status.message.clone())));
    }
    let exports = collector.exports.lock().expect("exports");
    let resource = exports[0].body.resource_spans[0]
        .resource
        .as_ref()
        .expect("resource");
    assert_eq!(
        attribute(&resource.attributes, "service.name"),
        text("billing").as_ref()
    );
}

const SAMPLED: &str = r#"import tracing

tracing.span("one"):
    print(tracing.headers()["traceparent"][-2:])
"#;

#[test]
fn samplers_decide_what_is_exported_and_the_flag_sent_on() {
    for (sampler, arg, exported, flag) in [
        ("always_off", "", 0, "00"),
        ("traceidratio", "0", 0, "00"),
        ("parentbased_traceidratio", "0.0", 0, "00"),
        ("parentbased_always_off", "", 0, "00"),
        ("traceidratio", "1", 1, "01"),
        ("always_on", "", 1, "01"),
    ] {
        let collector = Collector::start(Answer::Ok);
        let run = run(
            "sampled",
            SAMPLED,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
                ("OTEL_TRACES_SAMPLER", sampler),
                ("OTEL_TRACES_SAMPLER_ARG", arg),
            ],
        );
        assert_eq!(run.stdout, format!("{flag}\n"), "{sampler}: {}", run.stderr);
        assert_eq!(run.status, 0);
        assert_eq!(collector.spans().len(), exported, "{sampler} {arg}");
        if exported == 0 {
            assert_eq!(collector.requests(), 0, "{sampler}: no empty requests");
        }
    }
}

#[test]
fn batches_hold_at_most_the_batch_size_and_a_full_queue_drops() {
    let collector = Collector::start(Answer::Ok);
    let source = r#"import tracing
import time

for i in range(5):
    tracing.span(f"s{i}"):
        pass
time.sleep(0)
"#;
    let run_batched = run(
        "batched",
        source,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2"),
        ],
    );
    assert_eq!(run_batched.status, 0, "{}", run_batched.stderr);
    assert_eq!(collector.spans().len(), 5);
    let exports = collector.exports.lock().expect("exports");
    assert!(exports.len() >= 3);
    for export in exports.iter() {
        let count: usize = export.body.resource_spans[0].scope_spans[0].spans.len();
        assert!((1..=2).contains(&count), "{count} spans in one request");
    }
    drop(exports);

    // Ten spans made without waiting, a queue of three: seven are dropped and counted.
    let collector = Collector::start(Answer::Ok);
    let run_dropped = run(
        "dropping",
        &source.replace("range(5)", "range(10)"),
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
            ("OTEL_BSP_MAX_QUEUE_SIZE", "3"),
        ],
    );
    assert_eq!(run_dropped.status, 0);
    assert_eq!(collector.spans().len(), 3);
    assert!(
        run_dropped.stderr.contains("dropped 7 spans"),
        "{}",
        run_dropped.stderr
    );
}

#[test]
fn an_unreachable_collector_neither_faults_nor_hangs_the_script() {
    // A port nobody listens on: the export fails at once, with one warning.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("address"));
    drop(closed);
    let source = "import tracing\ntracing.span(\"a\"):\n    print(\"ran\")\n";
    let refused = run("refused", source, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &url)]);
    assert_eq!(refused.stdout, "ran\n");
    assert_eq!(refused.status, 0);
    assert_eq!(
        refused.stderr.matches("cn: tracing: cannot export").count(),
        1,
        "{}",
        refused.stderr
    );

    // A collector that takes the request and never answers: exit waits at most ~5 s.
    let hung = Collector::start(Answer::Never);
    let silent = run(
        "silent",
        source,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &hung.url),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "60000"),
        ],
    );
    // It exits (the run would time out otherwise), giving up on the collector as it says.
    assert_eq!(silent.stdout, "ran\n");
    assert_eq!(silent.status, 0);
    assert!(
        silent.stderr.contains("did not finish"),
        "{}",
        silent.stderr
    );
    assert_eq!(hung.spans().len(), 1);
}

#[test]
fn nothing_is_exported_without_an_endpoint() {
    let run = run("plain", NESTED, &[]);
    assert_eq!(run.stdout, "42\ndone\n");
    assert_eq!(run.stderr, "");
}

/// Retries are span events: `resilience.retry` records one per retry on the caller's span, and
/// the http client records them on the request's client span, with the reason and the wait.
#[test]
fn retries_are_events_on_the_span_they_happen_under() {
    let collector = Collector::start(Answer::Ok);
    let source = r#"import tracing
import resilience
import http
import time

calls = [0]
fn flaky():
    calls[0] += 1
    if calls[0] < 3:
        return Err(http.Error(503, "busy"))
    return Ok("done")

served = [0]
fn busy_once(req):
    served[0] += 1
    if served[0] == 1:
        return http.Response.text("busy", status=503)
    return "ok"

fn main():
    tracing.span("work"):
        print(resilience.retry(flaky, backoff=resilience.constant(1.ms)))
    server = http.Server("127.0.0.1:0", access_log=false, tracing=false)
    server.route("GET", "/", busy_once)
    spawn server.run()
    time.sleep(0)
    tracing.span("fetch"):
        print(http.get(f"http://127.0.0.1:{server.port}/")?.text())
    exit(0)
"#;
    let run = run(
        "retries",
        source,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url),
            ("LOG_LEVEL", "error"),
        ],
    );
    assert_eq!(run.stdout, "Ok(\"done\")\nok\n", "stderr:\n{}", run.stderr);
    let spans = collector.spans();
    let work = named(&spans, "work");
    assert_eq!(work.events.len(), 2, "two retries: {:?}", work.events);
    for (i, event) in work.events.iter().enumerate() {
        assert_eq!(event.name, "retry");
        let attempt = attribute(&event.attributes, "retry.attempt");
        assert_eq!(attempt, Some(&Any::IntValue(i as i64 + 1)));
        let reason = attribute(&event.attributes, "retry.reason");
        assert_eq!(reason, text("status_503").as_ref());
        let delay = attribute(&event.attributes, "retry.delay_ms");
        assert_eq!(delay, Some(&Any::IntValue(1)));
    }
    let fetch = named(&spans, "fetch");
    let client = spans
        .iter()
        .find(|s| s.parent_span_id == fetch.span_id)
        .expect("the client span");
    assert_eq!(client.events.len(), 1, "one retry: {:?}", client.events);
    let event = &client.events[0];
    assert_eq!(event.name, "retry");
    let resend = attribute(&event.attributes, "http.request.resend_count");
    assert_eq!(resend, Some(&Any::IntValue(1)));
    let policy = attribute(&event.attributes, "retry.policy");
    assert_eq!(policy, text("http_client").as_ref());
}

const NAMED_APP: &str = r#"import app
import tracing

tracing.span("before the application"):
    print("tracing already set up")
application = app.Application(name="checkout")
tracing.span("after"):
    print(application.name)
"#;

#[test]
fn an_application_name_is_the_default_service_name() {
    let resources = |env: &[(&str, &str)]| -> Vec<Option<Any>> {
        let collector = Collector::start(Answer::Ok);
        let mut env = env.to_vec();
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url));
        let run = run("script_file", NAMED_APP, &env);
        assert_eq!(
            run.stdout, "tracing already set up\ncheckout\n",
            "{}",
            run.stderr
        );
        assert_eq!(collector.spans().len(), 2);
        let exports = collector.exports.lock().expect("exports");
        exports
            .iter()
            .map(|export| {
                let resource = export.body.resource_spans[0].resource.as_ref();
                attribute(&resource.expect("resource").attributes, "service.name").cloned()
            })
            .collect()
    };
    // The name replaces the script's file name, also for a tracer set up before it was given.
    let named = resources(&[]);
    assert!(!named.is_empty());
    assert!(named.iter().all(|n| n == &text("checkout")), "{named:?}");
    // The environment still decides when it says.
    let from_env = resources(&[("OTEL_SERVICE_NAME", "billing")]);
    assert!(
        from_env.iter().all(|n| n == &text("billing")),
        "{from_env:?}"
    );
    let from_attributes = resources(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=ledger")]);
    assert!(
        from_attributes.iter().all(|n| n == &text("ledger")),
        "{from_attributes:?}"
    );
}

#[test]
fn database_statements_are_client_spans_without_their_literals() {
    let collector = Collector::start(Answer::Ok);
    let source = r#"import sql
import tracing

db = sql.connect("sqlite::memory:")
tracing.span("handler"):
    db.execute("CREATE TABLE users (name TEXT UNIQUE, pin INTEGER)")
    db.execute("INSERT INTO users VALUES ('ann', 1234)")
    print(db.query("SELECT name FROM users WHERE pin = 1234 AND name = ?", "ann")[0].name)
    print(db.execute("INSERT INTO users VALUES (?, ?)", "ann", 1).is_err())
"#;
    let run = run(
        "users",
        source,
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url)],
    );
    assert_eq!(run.stdout, "ann\ntrue\n", "stderr:\n{}", run.stderr);
    let spans = collector.spans();
    let handler = named(&spans, "handler");
    let select = named(&spans, "SELECT :memory:");
    assert_eq!(select.parent_span_id, handler.span_id);
    assert_eq!(select.kind, SpanKind::Client as i32);
    assert_eq!(
        attribute(&select.attributes, "db.system"),
        text("sqlite").as_ref()
    );
    assert_eq!(
        attribute(&select.attributes, "db.operation.name"),
        text("SELECT").as_ref()
    );
    assert_eq!(
        attribute(&select.attributes, "db.query.text"),
        text("SELECT name FROM users WHERE pin = ? AND name = ?").as_ref(),
        "literals are replaced, placeholders kept"
    );
    assert_eq!(
        attribute(&select.attributes, "db.response.returned_rows"),
        Some(&Any::IntValue(1))
    );
    let inserts: Vec<_> = spans
        .iter()
        .filter(|s| s.name == "INSERT :memory:")
        .collect();
    assert_eq!(inserts.len(), 2);
    assert_eq!(
        attribute(&inserts[0].attributes, "db.query.text"),
        text("INSERT INTO users VALUES (?, ?)").as_ref(),
        "'ann' and 1234 never reach the trace"
    );
    let failed = inserts[1];
    assert_eq!(
        failed.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    assert_eq!(
        attribute(&failed.attributes, "error.type"),
        text("UniqueViolation").as_ref()
    );
}
