//! The http server as a client sees it: `cn run` of real services, driven over TCP with raw
//! HTTP/1.1 and with curl (HTTP/2 cleartext), and stopped with real signals.

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{get, raw, read_response, send, Script};

/// A service using most of the server: params, query, JSON bodies, faults, slow handlers.
const SERVICE: &str = r#"
import http
import time
import context
import log

fn hello(req):
    return http.Response.json({"hello": req.query.get("name", "world")})

fn user(req):
    return {"id": req.params["id"], "request_id": context.get("request_id")}

fn files(req):
    return "file " + req.params["path"]

fn echo(req):
    match req.json():
        case Ok(value):
            return ({"got": value, "type": req.headers.get("CONTENT-TYPE")}, 201)
        case Err(message):
            return ({"error": message}, 400)

fn boom(req):
    secret = "db-password-123"
    return {}["missing"]

fn slow(req):
    log.info("slow request started")
    time.sleep(float(req.query.get("s", "0.5")))
    return "slow done"

fn created(req):
    resp = http.Response.text("made", status=201)
    resp.headers["x-custom"] = "yes"
    return resp

fn reverse(req):
    data = req.bytes()
    return http.Response.bytes(data[::-1], content_type="application/x-reversed")

fn main():
    server = http.Server("127.0.0.1:0", body_limit=1000, request_timeout=2.seconds)
    server.route("GET", "/", hello)
    server.route("GET", "/users/{id}", user)
    server.route("DELETE", "/users/{id}", user)
    server.route("GET", "/files/{path...}", files)
    server.route("POST", "/echo", echo)
    server.route("GET", "/boom", boom)
    server.route("GET", "/slow", slow)
    server.route("GET", "/created", created)
    server.route("POST", "/reverse", reverse)
    server.on_shutdown(fn(): print("hook: shutdown ran"))
    server.run()
"#;

#[test]
fn routes_params_query_and_json() {
    let script = Script::start("routes", SERVICE);
    let port = script.server_port();

    let r = get(port, "/?name=ann%20lee");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.body, r#"{"hello":"ann lee"}"#);
    assert_eq!(get(port, "/").body, r#"{"hello":"world"}"#);

    let r = get(port, "/users/42");
    assert_eq!(r.status, 200);
    let id = r.header("x-request-id").expect("a request id").to_string();
    assert_eq!(r.body, format!(r#"{{"id":"42","request_id":"{id}"}}"#));

    assert_eq!(get(port, "/files/a/b/c.txt").body, "file a/b/c.txt");

    let r = send(port, "POST", "/echo", r#"{"n": [1, 2]}"#);
    assert_eq!(r.status, 201);
    assert_eq!(r.body, r#"{"got":{"n":[1,2]},"type":"application/json"}"#);
    let r = send(port, "POST", "/echo", "{oops");
    assert_eq!(r.status, 400);
    assert!(r.body.contains("invalid JSON body"), "{}", r.body);

    let r = get(port, "/created");
    assert_eq!((r.status, r.header("x-custom")), (201, Some("yes")));
}

#[test]
fn not_found_method_not_allowed_and_request_ids() {
    let script = Script::start("errors", SERVICE);
    let port = script.server_port();
    let r = get(port, "/nope");
    assert_eq!(r.status, 404);
    let id = r.header("x-request-id").expect("a request id");
    assert_eq!(
        r.body,
        format!(r#"{{"error":"not found","request_id":"{id}"}}"#)
    );

    let r = send(port, "PUT", "/users/7", "{}");
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("DELETE, GET, HEAD"));

    // A client's request id is kept and echoed.
    let r = raw(
        port,
        b"GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc-123\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(r.header("x-request-id"), Some("abc-123"));
    assert!(r.body.contains(r#""request_id":"abc-123""#), "{}", r.body);

    // One that could break out of a JSON string (or a log line) is replaced by a fresh id.
    let r = raw(
        port,
        b"GET /users/1 HTTP/1.1\r\nHost: x\r\nX-Request-Id: a\"b\r\nConnection: close\r\n\r\n",
    );
    let id = r.header("x-request-id").expect("a request id");
    assert!(
        id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
}

#[test]
fn limits_answer_413_and_400() {
    let script = Script::start("limits", SERVICE);
    let port = script.server_port();
    // Declared too large: refused before reading.
    let big = "x".repeat(2000);
    assert_eq!(send(port, "POST", "/echo", &big).status, 413);
    // Chunked, growing past the limit while read.
    let mut chunked = String::from(
        "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    for _ in 0..3 {
        chunked.push_str(&format!("{:x}\r\n{}\r\n", 600, "y".repeat(600)));
    }
    chunked.push_str("0\r\n\r\n");
    assert_eq!(raw(port, chunked.as_bytes()).status, 413);
    // Not HTTP at all.
    assert_eq!(raw(port, b"HELLO THERE\r\n\r\n").status, 400);
    // The server is still fine.
    assert_eq!(get(port, "/").status, 200);
}

#[test]
fn a_handler_fault_is_a_500_with_only_the_request_id_and_the_server_goes_on() {
    let script = Script::start("fault", SERVICE);
    let port = script.server_port();
    let r = get(port, "/boom");
    assert_eq!(r.status, 500);
    let id = r.header("x-request-id").expect("a request id").to_string();
    assert_eq!(
        r.body,
        format!(r#"{{"error":"internal server error","request_id":"{id}"}}"#)
    );
    assert!(!r.body.contains("missing") && !r.body.contains("db-password"));
    // The stack trace is in the server's log, with the request id.
    let mut log = Vec::new();
    let line = script.wait_log_msg("the handler faulted", &mut log);
    assert_eq!(line["level"], "error", "{line}");
    assert_eq!(line["request_id"], id.as_str(), "{line}");
    let stack = line["stack"].as_str().unwrap_or_default();
    assert!(stack.contains("boom at"), "{stack}");
    assert!(
        stack.contains(r#"fault: key not found: "missing""#),
        "{stack}"
    );
    assert_eq!(get(port, "/").status, 200);
}

#[test]
fn request_timeout_is_a_503() {
    let script = Script::start("timeout", SERVICE);
    let port = script.server_port();
    // The handler sleeps 30 s; only the 2 s request timeout can answer this.
    let r = get(port, "/slow?s=30");
    assert_eq!(r.status, 503);
    assert!(r.body.contains("request timed out"));
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let script = Script::start("keepalive", SERVICE);
    let port = script.server_port();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    for i in 0..3 {
        let request = format!("GET /users/{i} HTTP/1.1\r\nHost: x\r\n\r\n");
        stream.write_all(request.as_bytes()).expect("sent");
        let r = read_response(&mut stream);
        assert_eq!(r.status, 200);
        assert!(r.body.contains(&format!(r#""id":"{i}""#)));
    }
}

#[test]
fn h2c_with_curl() {
    let script = Script::start("h2c", SERVICE);
    let port = script.server_port();
    let output = Command::new("curl")
        .args(["-s", "--http2-prior-knowledge", "-w", " %{http_version}"])
        .arg(format!("http://127.0.0.1:{port}/users/9"))
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with(r#"{"id":"9""#), "{text}");
    assert!(text.ends_with(" 2"), "{text}");
}

#[test]
fn binary_bodies_arrive_and_leave_byte_for_byte() {
    let script = Script::start("binary", SERVICE);
    let port = script.server_port();
    let body: Vec<u8> = (0..=255u8).chain([0, 255, 13, 10]).collect();
    let file = std::env::temp_dir().join(format!("cn-binary-{}.bin", std::process::id()));
    std::fs::write(&file, &body).expect("temp file");
    let output = Command::new("curl")
        .args(["-s", "-D", "/dev/stderr", "--data-binary"])
        .arg(format!("@{}", file.display()))
        .arg(format!("http://127.0.0.1:{port}/reverse"))
        .output()
        .expect("curl runs");
    let _ = std::fs::remove_file(&file);
    let reversed: Vec<u8> = body.iter().rev().copied().collect();
    assert_eq!(output.stdout, reversed);
    let headers = String::from_utf8_lossy(&output.stderr).to_ascii_lowercase();
    assert!(
        headers.contains("content-type: application/x-reversed"),
        "{headers}"
    );
}

const HEALTH: &str = r#"
import http
import time

ok = [true]

fn main():
    server = http.Server("127.0.0.1:0")
    server.health.set_cache(0)
    server.health.add_check("db", fn(): ok[0], kind="both")
    server.health.add_check("cache", fn(): Err("cache unreachable"), kind="readiness")
    server.health.add_check("slow", fn(): time.sleep(10.seconds), timeout=300.ms, kind="liveness")
    server.route("POST", "/db/{state}", fn(req):
        ok[0] = req.params["state"] == "up"
        return "ok"
    )
    server.run()
"#;

#[test]
fn health_checks_pass_fail_and_time_out() {
    let script = Script::start("health", HEALTH);
    let port = script.server_port();

    // Liveness: db passes, slow times out after 300 ms (run concurrently with db).
    let r = get(port, "/healthz");
    assert_eq!(r.status, 503);
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(body["status"], "fail");
    assert_eq!(body["checks"][0]["name"], "db");
    assert_eq!(body["checks"][0]["status"], "ok");
    assert_eq!(body["checks"][1]["name"], "slow");
    assert_eq!(body["checks"][1]["status"], "timeout");

    // Readiness: db and cache (cache fails with its message); liveness-only checks not run.
    let r = get(port, "/readyz");
    assert_eq!(r.status, 503);
    let body: serde_json::Value = serde_json::from_str(&r.body).expect("JSON");
    assert_eq!(body["checks"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["checks"][1]["error"], "cache unreachable");

    // A check that starts failing shows up at the next probe (cache disabled).
    assert_eq!(send(port, "POST", "/db/down", "").status, 200);
    let body: serde_json::Value = serde_json::from_str(&get(port, "/readyz").body).expect("JSON");
    assert_eq!(body["checks"][0]["status"], "fail");
    assert_eq!(
        body["checks"][0]["error"],
        "returned false; a check passes with true, nil or Ok(...)"
    );

    assert_eq!(get(port, "/startupz").status, 200);
}

#[test]
fn sigterm_drains_in_flight_requests_then_runs_hooks_and_exits_0() {
    let script = Script::start(
        "drain",
        SERVICE
            .replace("server.run()", "server.run(shutdown_delay=1.second)")
            .as_str(),
    );
    let port = script.server_port();
    assert_eq!(get(port, "/readyz").status, 200);

    // A slow request in flight when the signal arrives.
    let slow = std::thread::spawn(move || get(port, "/slow?s=1.5"));
    let mut log = Vec::new();
    script.wait_log_msg("slow request started", &mut log);
    script.signal("TERM");
    script.wait_log("/readyz now answers 503", &mut log);

    // During the propagation delay: still serving, but not ready.
    let r = get(port, "/readyz");
    assert_eq!(r.status, 503);
    assert!(r.body.contains("draining"), "{}", r.body);
    assert_eq!(get(port, "/").status, 200);

    let r = slow.join().expect("slow request thread");
    assert_eq!((r.status, r.body.as_str()), (200, "slow done"));

    let (out, err, status) = script.finish();
    assert_eq!(out, ["hook: shutdown ran"], "{err:?}");
    assert_eq!(status, 0, "{err:?}");
    let err = err.join("\n");
    assert!(err.contains("listener closed"), "{err}");
    assert!(err.contains("every connection finished"), "{err}");
    // After the listener closed, new connections are refused.
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// What one load connection saw.
#[derive(Default)]
struct LoadTally {
    ok: usize,
    failures: Vec<String>,
}

/// Sends keep-alive requests as fast as possible until the server stops accepting; counts each
/// answered one in `answered` as it goes.
fn hammer(port: u16, answered: &AtomicUsize) -> LoadTally {
    use std::io::{BufRead, BufReader, Read};
    let mut tally = LoadTally::default();
    loop {
        let Ok(stream) = TcpStream::connect(("127.0.0.1", port)) else {
            return tally; // the listener is closed: the end of the test
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
        let mut writer = stream.try_clone().expect("clone");
        let mut reader = BufReader::new(stream);
        loop {
            if writer
                .write_all(b"GET /users/1 HTTP/1.1\r\nHost: x\r\n\r\n")
                .is_err()
            {
                break; // closed while idle: this request was never accepted
            }
            let mut status_line = String::new();
            match reader.read_line(&mut status_line) {
                Ok(0) => break, // closed before answering: not accepted, reconnect
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
                Err(e) => {
                    tally.failures.push(format!("reading the status line: {e}"));
                    break;
                }
            }
            // From here on the server has started answering: it must finish.
            let mut length = None;
            let mut close = false;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    tally.failures.push("response cut in its headers".into());
                    return tally;
                }
                let lower = line.trim_end().to_ascii_lowercase();
                if lower.is_empty() {
                    break;
                }
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse::<usize>().ok();
                }
                close |= lower == "connection: close";
            }
            let mut body = vec![0; length.unwrap_or(0)];
            if reader.read_exact(&mut body).is_err() {
                tally.failures.push("response body truncated".into());
                return tally;
            }
            if !status_line.starts_with("HTTP/1.1 200") {
                tally
                    .failures
                    .push(format!("status {}", status_line.trim_end()));
            } else {
                tally.ok += 1;
                answered.fetch_add(1, Ordering::Relaxed);
            }
            if close {
                break;
            }
        }
    }
}

#[test]
fn graceful_shutdown_under_load_loses_no_accepted_request() {
    let delay_ms = 800;
    let source = SERVICE.replace(
        "server.run()",
        &format!("server.run(shutdown_delay={delay_ms}.ms, shutdown_timeout=10.seconds)"),
    );
    let script = Script::start("load", &source);
    let port = script.server_port();
    let answered = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let answered = answered.clone();
            std::thread::spawn(move || hammer(port, &answered))
        })
        .collect();
    // The signal comes with requests in flight: once all six connections are being answered.
    let deadline = Instant::now() + common::PATIENCE;
    while answered.load(Ordering::Relaxed) < 60 {
        assert!(Instant::now() < deadline, "the load never got going");
        std::thread::sleep(Duration::from_millis(5));
    }
    script.signal("TERM");
    let tallies: Vec<LoadTally> = workers
        .into_iter()
        .map(|w| w.join().expect("load thread"))
        .collect();
    let (out, err, status) = script.finish();
    let ok: usize = tallies.iter().map(|t| t.ok).sum();
    let failures: Vec<&String> = tallies.iter().flat_map(|t| &t.failures).collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(ok > 100, "only {ok} requests answered");
    // Status 0: everything in flight finished within the shutdown timeout.
    assert_eq!(status, 0, "{err:?}");
    assert_eq!(out, ["hook: shutdown ran"]);
}

#[test]
fn the_readme_hello_service_answers_and_stops_on_sigterm() {
    let source = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello.cn"))
        .expect("examples/hello.cn");
    let script = Script::start_with_env("hello", &source, &[("PORT", "0")]);
    let port = script.server_port();
    assert_eq!(get(port, "/?name=you").body, r#"{"hello":"you"}"#);
    assert_eq!(get(port, "/healthz").status, 200);
    script.signal("TERM");
    let (_, err, status) = script.finish();
    assert_eq!(status, 0, "{err:?}");
}

const TWO_SERVERS: &str = r#"
import http

fn main():
    admin = http.Server("127.0.0.1:0")
    admin.route("GET", "/admin", fn(req): "admin")
    spawn admin.run()
    public = http.Server("127.0.0.1:0")
    public.route("GET", "/", fn(req): "public")
    public.run()
    print("public server stopped")
"#;

#[test]
fn several_servers_in_one_process_shut_down_together() {
    let script = Script::start("two", TWO_SERVERS);
    let first = script.server_port();
    let second = script.server_port();
    // Which port is which depends on start order; each serves its own route.
    let mut bodies: Vec<String> = [first, second]
        .iter()
        .flat_map(|&port| [get(port, "/admin"), get(port, "/")])
        .filter(|r| r.status == 200)
        .map(|r| r.body)
        .collect();
    bodies.sort();
    assert_eq!(bodies, ["admin", "public"]);
    script.signal("TERM");
    let (out, err, status) = script.finish();
    assert_eq!(out, ["public server stopped"], "{err:?}");
    assert_eq!(status, 0);
    let drained = err
        .iter()
        .filter(|l| l.contains("every connection finished"))
        .count();
    assert_eq!(drained, 2, "{err:?}");
}

/// Middleware wraps every handler, whether it was added before or after the route, the first
/// added outermost; one may answer without calling `next`.
#[test]
fn middleware_wraps_every_route_first_added_outermost() {
    let script = Script::start(
        "middleware",
        r#"
import http

fn tag(name):
    fn middleware(req, next):
        if req.headers.get("x-stop") == name:
            return http.Response.text("stopped by " + name, status=403)
        resp = next(req)
        return resp.with_header("x-seen", name + "," + resp.headers.get("x-seen", "handler"))
    return middleware

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/early", fn(req): http.Response.text("early"))
    server.use(tag("outer"))
    server.use(tag("inner"))
    server.route("GET", "/late", fn(req): http.Response.text("late"))
    server.run()
"#,
    );
    let port = script.server_port();
    for path in ["/early", "/late"] {
        let r = get(port, path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.body, &path[1..]);
        assert_eq!(r.header("x-seen"), Some("outer,inner,handler"), "{path}");
    }
    let r = raw(
        port,
        b"GET /late HTTP/1.1\r\nhost: x\r\nx-stop: inner\r\nconnection: close\r\n\r\n",
    );
    assert_eq!(r.status, 403);
    assert_eq!(r.body, "stopped by inner");
    assert_eq!(r.header("x-seen"), Some("outer,handler"));
    // Unrouted paths are not passed through middleware: they are the server's 404.
    assert_eq!(get(port, "/nowhere").status, 404);
}

/// `server.rate_limit` answers 429 with Retry-After and the RateLimit headers once a key's burst
/// is spent (other keys keep theirs), `/healthz` is never limited, and both show in /metrics;
/// `server.concurrency_limit` sheds a request with 503 while the limit's handlers run.
#[test]
fn rate_and_concurrency_limits_answer_429_and_503_and_health_stays_up() {
    let script = Script::start(
        "limits",
        r#"
import http

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/", fn(req): "ok")
    server.rate_limit(3, per=1.minute, key=fn(req): req.headers.get("x-api-key"))
    server.run()
"#,
    );
    let port = script.server_port();
    let with_key = |key: &str| {
        raw(
            port,
            format!("GET / HTTP/1.1\r\nhost: x\r\nx-api-key: {key}\r\nconnection: close\r\n\r\n")
                .as_bytes(),
        )
    };
    for _ in 0..3 {
        assert_eq!(with_key("a").status, 200);
    }
    let limited = with_key("a");
    assert_eq!(limited.status, 429, "{}", limited.body);
    assert!(limited.body.contains("too many requests"));
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After in seconds");
    assert!((1..=20).contains(&wait), "Retry-After {wait}");
    assert_eq!(limited.header("ratelimit-limit"), Some("3"));
    assert_eq!(limited.header("ratelimit-remaining"), Some("0"));
    assert_eq!(
        with_key("b").status,
        200,
        "another key has its own allowance"
    );
    for _ in 0..5 {
        assert_eq!(get(port, "/healthz").status, 200);
    }
    let metrics = get(port, "/metrics").body;
    assert!(
        metrics
            .contains(r#"resilience_rejections_total{name="http_server",reason="rate_limited"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"status="429""#), "{metrics}");
    script.signal("TERM");
    let (_, err, status) = script.finish();
    assert_eq!(status, 0, "{err:?}");

    // A burst from a real client (Python's http.client, 40 requests on 8 connections at once):
    // exactly the burst gets through, the rest are told to wait, and /healthz keeps answering.
    let script = Script::start(
        "burst",
        r#"
import http

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/", fn(req): "ok")
    server.rate_limit(5, per=1.hour)
    server.run()
"#,
    );
    let port = script.server_port();
    let burst = r#"
import http.client, sys, threading
from collections import Counter
port = int(sys.argv[1])
seen = Counter()
lock = threading.Lock()
def client():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for _ in range(5):
        conn.request("GET", "/")
        response = conn.getresponse()
        response.read()
        with lock:
            seen[response.status] += 1
threads = [threading.Thread(target=client) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.request("GET", "/healthz")
print(seen[200], seen[429], conn.getresponse().status)
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", burst, &port.to_string()])
        .output()
        .expect("python3 runs the burst client");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "5 35 200\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    script.signal("TERM");
    let (_, err, status) = script.finish();
    assert_eq!(status, 0, "{err:?}");

    // A key function that never returns is cut off (after 1 s): the request goes to the shared
    // bucket, the failure is logged once, and the server keeps serving meanwhile.
    let script = Script::start(
        "looping_key",
        r#"
import http

fn stuck(req):
    while true:
        pass

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/", fn(req): "ok")
    server.rate_limit(100, key=stuck)
    server.run()
"#,
    );
    let port = script.server_port();
    let first = std::thread::spawn(move || get(port, "/"));
    for _ in 0..3 {
        assert_eq!(get(port, "/healthz").status, 200);
    }
    assert_eq!(first.join().expect("the first request").status, 200);
    assert_eq!(get(port, "/").status, 200);
    script.signal("TERM");
    let (_, err, status) = script.finish();
    assert_eq!(status, 0, "{err:?}");
    let failures = err
        .iter()
        .filter(|line| line.contains("the rate_limit key function failed"))
        .count();
    assert_eq!(failures, 1, "{err:?}");

    let script = Script::start(
        "shedding",
        r#"
import http
import log
import time

fn slow(req):
    log.info("slow handler started")
    time.sleep(30.seconds)
    return "slow"

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/slow", slow)
    server.route("GET", "/", fn(req): "ok")
    server.concurrency_limit(1)
    server.run(shutdown_timeout=1.second)
"#,
    );
    let port = script.server_port();
    let first = std::thread::spawn(move || get(port, "/slow"));
    let mut log = Vec::new();
    script.wait_log_msg("slow handler started", &mut log);
    let shed = get(port, "/");
    assert_eq!(shed.status, 503, "{}", shed.body);
    assert!(shed.body.contains("server overloaded"));
    assert_eq!(shed.header("retry-after"), Some("1"));
    assert_eq!(get(port, "/healthz").status, 200);
    script.signal("TERM");
    let _ = first.join();
    let _ = script.finish();
}
