//! `app.Application` as a real process: the issue's seed program as written, SIGTERM while
//! hooks and requests wait, and a startup hook failing while a client knocks on the port.
//! (Hook order and failures are golden programs under `tests/programs/app/`.)

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::{Script, PATIENCE};

/// Seed 000's "Standard Lifecycle Hooks", as issue 19 gives it (the seed's own sample calls a
/// `db` and a `cache` it never defines).
const SEED: &str = r#"import app
import http
import log
import runtime

application = app.Application()

@application.on_startup
fn startup():
    log.info("Application started")

@application.on_shutdown
fn shutdown():
    log.info("Application stopped")

@application.on_ready
fn ready():
    log.info("Application ready")

fn main():
    if runtime.in_kubernetes():
        log.set_format(log.JSON)
    else:
        log.set_format(log.TEXT)
    server = http.Server(":8080")
    server.route("GET", "/", fn(req): "hi")
    application.run(server)
"#;

/// Waits for a printed line (text log lines are printed lines) containing `needle`.
fn wait_stdout(script: &Script, needle: &str, seen: &mut Vec<String>) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match script.stdout.recv_timeout(left) {
            Ok(line) if line.contains(needle) => {
                seen.push(line);
                return;
            }
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line containing {needle:?}; saw {seen:#?}"),
        }
    }
}

/// The position of the first line containing `needle`.
fn position(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in {lines:#?}"))
}

#[test]
fn the_seed_program_runs_as_written() {
    let script = Script::start("seed_lifecycle", SEED);
    let mut lines = Vec::new();
    wait_stdout(&script, "Application ready", &mut lines);
    assert_eq!(common::get(8080, "/").body, "hi");
    assert_eq!(common::get(8080, "/readyz").status, 200);
    script.signal("TERM");
    let (rest, stderr, status) = script.finish();
    assert_eq!(status, 0, "{stderr:?}");
    lines.extend(rest);
    // Text lines (not in Kubernetes), in the lifecycle's order.
    let order = [
        "INFO app starting app=cn-test-",
        "INFO Application started",
        "INFO http server listening",
        "INFO Application ready",
        "INFO app ready",
        "shutdown: /readyz now answers 503",
        "shutdown: every connection finished",
        "INFO Application stopped",
        "INFO app stopped",
    ];
    let at: Vec<usize> = order.iter().map(|n| position(&lines, n)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{lines:#?}");
}

const WAITING_HOOKS: &str = r#"import app
import http
import time

application = app.Application(name="waits")
server = http.Server("127.0.0.1:0")

fn slow(req):
    print("request started")
    time.sleep(300.ms)
    print("request finished")
    return "slow answer"

server.route("GET", "/slow", slow)

@application.on_shutdown
fn close_database():
    time.sleep(200.ms)
    print("database closed after waiting")

@application.on_shutdown
fn flush_queue():
    response = http.get(f"http://127.0.0.1:{server.port}/readyz")
    print("flush: server already gone:", response.is_err())

fn main():
    application.run(server)
    print("run returned")
"#;

#[test]
fn sigterm_drains_then_runs_hooks_that_wait() {
    let script = Script::start("waiting_hooks", WAITING_HOOKS);
    let port = script.server_port();
    script.wait_log_msg("app ready", &mut Vec::new());
    let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    client
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("send");
    script.expect_line("request started");
    script.signal("TERM");
    let response = common::read_response(&mut client);
    assert_eq!(
        (response.status, response.body.as_str()),
        (200, "slow answer")
    );
    let (mut out, log, status) = script.finish();
    assert_eq!(status, 0, "{log:#?}");
    out.insert(0, "request started".into());
    assert_eq!(
        out,
        [
            "request started",
            "request finished",
            "flush: server already gone: true",
            "database closed after waiting",
            "run returned"
        ],
        "{log:#?}"
    );
}

const WAITING_STARTUP: &str = r#"import app
import http
import time

application = app.Application()

@application.on_startup
fn connect():
    defer print("connect: cancelled")
    print("connecting")
    time.sleep(1.hour)

@application.on_shutdown
fn close():
    print("not run: startup never finished")

fn main():
    application.run(http.Server("127.0.0.1:0"))
    print("run returned")
"#;

#[test]
fn sigterm_during_startup_cancels_the_hook_and_serves_nothing() {
    let script = Script::start("waiting_startup", WAITING_STARTUP);
    script.expect_line("connecting");
    script.signal("TERM");
    let (out, log, status) = script.finish();
    assert_eq!(status, 0, "{log:#?}");
    assert_eq!(out, ["connect: cancelled", "run returned"]);
    assert!(
        log.iter().any(|l| l.contains("stopped during startup")),
        "{log:#?}"
    );
    assert!(!log.iter().any(|l| l.contains("listening")), "{log:#?}");
}

const FAILING_STARTUP: &str = r#"import app
import config
import http

application = app.Application(name="orders")

@application.on_startup
fn connect():
    answer = http.get(config.env("GATE"))?
    if answer.status != 200:
        return Err(f"database answered {answer.status}")

@application.on_shutdown
fn close():
    print("not run")

fn main():
    application.run(http.Server())
"#;

/// A port nothing listens on (bound, then let go).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

#[test]
fn a_failing_startup_hook_keeps_the_port_closed_and_exits_1() {
    // The hook waits on a gate the test holds, so the test knows it runs.
    let gate = TcpListener::bind("127.0.0.1:0").expect("bind the gate");
    let gate_url = format!("http://{}/", gate.local_addr().expect("addr"));
    let port = free_port().to_string();
    let script = Script::start_with_env(
        "failing_startup",
        FAILING_STARTUP,
        &[("GATE", &gate_url), ("PORT", &port)],
    );
    let (mut hook, _) = gate.accept().expect("the startup hook calls");
    let port: u16 = port.parse().expect("port");
    // Starting: nothing listens, so probes and traffic are refused, not queued.
    let refused = |what: &str| {
        let error = TcpStream::connect_timeout(
            &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_secs(5),
        )
        .expect_err(what);
        assert_eq!(
            error.kind(),
            std::io::ErrorKind::ConnectionRefused,
            "{what}"
        );
    };
    refused("/readyz while the startup hook runs");
    let mut request = [0u8; 1024];
    let _ = hook.read(&mut request).expect("the hook's request");
    hook.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .expect("answer the hook");
    drop(hook);
    let (out, log, status) = script.finish();
    assert_eq!(status, 1, "{log:#?}");
    assert!(out.is_empty(), "{out:?}");
    refused("/readyz after the failure");
    let text = log.join("\n");
    assert!(
        text.contains(r#""msg":"app: startup hook failed""#),
        "{text}"
    );
    assert!(text.contains("database answered 404"), "{text}");
    assert!(
        text.contains("note: raised by the startup hook connect"),
        "{text}"
    );
    assert!(text.contains("exiting before serving"), "{text}");
}
