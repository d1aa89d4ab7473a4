//! The http server against clients that misbehave: sockets that never send a request, bodies
//! that never finish, handlers that write framing headers, a process out of file descriptors,
//! malformed requests, and clients still talking while the server shuts down. Every test drives a
//! real `cn run` process over real sockets.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::{get, raw, read_response, Script, CN, PATIENCE};

const SERVICE: &str = r#"
import http
import time

fn hello(req):
    return "hi"

fn slow(req):
    print("slow started")
    time.sleep(60)
    return "too late"

fn framed(req):
    resp = http.Response.text("hello world, this is the body")
    resp.headers["transfer-encoding"] = "chunked"
    resp.headers["connection"] = "upgrade"
    return resp.with_header("content-length", "5")

fn param(req):
    return req.params["p"]

fn upload(req):
    return "got " + str(len(req.bytes()))

fn main():
    server = http.Server("127.0.0.1:0", header_timeout=HEADER_TIMEOUT, body_timeout=1.second,
                         max_connections=4)
    server.route("GET", "/", hello)
    server.route("GET", "/slow", slow)
    server.route("GET", "/framed", framed)
    server.route("GET", "/p/{p}", param)
    server.route("POST", "/upload", upload)
    server.run(shutdown_delay=SHUTDOWN_DELAY, shutdown_timeout=1.second)
"#;

fn service(header_timeout: &str, shutdown_delay: &str) -> String {
    SERVICE
        .replace("HEADER_TIMEOUT", header_timeout)
        .replace("SHUTDOWN_DELAY", shutdown_delay)
}

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("server accepts");
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    stream
}

/// Reads until the server closes the connection; panics if it does not within PATIENCE.
fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return all,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame.
const H2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

/// The types of the HTTP/2 frames in `bytes` (9-byte headers, length-prefixed payloads).
fn h2_frame_types(bytes: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut at = 0;
    while at + 9 <= bytes.len() {
        let length = u32::from_be_bytes([0, bytes[at], bytes[at + 1], bytes[at + 2]]) as usize;
        types.push(bytes[at + 3]);
        at += 9 + length;
    }
    types
}

const GOAWAY: u8 = 7;

/// Reads HTTP/2 frames until a GOAWAY (as a client that then goes away would); returns the frame
/// types seen. Panics if the server closes or goes quiet first.
fn read_until_goaway(stream: &mut TcpStream) -> Vec<u8> {
    let mut all = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let types = h2_frame_types(&all);
        if types.contains(&GOAWAY) {
            return types;
        }
        match stream.read(&mut chunk) {
            Ok(0) => panic!("closed without GOAWAY after {types:?}"),
            Ok(n) => all.extend_from_slice(&chunk[..n]),
            Err(e) => panic!("no GOAWAY: {e}; frames {types:?}"),
        }
    }
}

#[test]
fn connections_that_never_send_a_request_are_closed_after_header_timeout() {
    let script = Script::start("silent", &service("1.second", "0"));
    let port = script.server_port();
    let mut silent = connect(port);
    let mut half_preface = connect(port);
    half_preface.write_all(&H2_PREFACE[..16]).expect("sent");
    let mut whole_preface = connect(port);
    whole_preface.write_all(H2_PREFACE).expect("sent");
    whole_preface.write_all(H2_SETTINGS).expect("sent");

    assert_eq!(read_until_closed(&mut silent), b"");
    assert_eq!(read_until_closed(&mut half_preface), b"");
    // An idle HTTP/2 connection is closed the HTTP/2 way: GOAWAY first.
    let frames = h2_frame_types(&read_until_closed(&mut whole_preface));
    assert!(frames.contains(&GOAWAY), "frames {frames:?}");
    // The server is as good as before.
    assert_eq!(get(port, "/").body, "hi");
}

#[test]
fn a_full_server_closes_its_idlest_connection_so_probes_get_in() {
    // max_connections=4 and a header timeout long enough that only the cap can free a slot.
    let script = Script::start("full", &service("600.seconds", "0"));
    let port = script.server_port();
    let mut idle: Vec<TcpStream> = (0..4).map(|_| connect(port)).collect();
    for _ in 0..3 {
        let r = get(port, "/healthz");
        assert_eq!(r.status, 200, "{r:?}");
    }
    // The oldest silent ones made room.
    assert_eq!(read_until_closed(&mut idle[0]), b"");
    // A connection in the middle of a request is not taken.
    let mut busy = connect(port);
    busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    assert_eq!(get(port, "/readyz").status, 200);
    busy.set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    let mut byte = [0u8; 1];
    let still_open = matches!(busy.read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut);
    assert!(still_open, "the busy connection was closed");
}

#[test]
fn bodies_that_do_not_arrive_in_time_get_408_and_the_connection_closes() {
    let script = Script::start("slow-bodies", &service("10.seconds", "0"));
    let port = script.server_port();
    let short = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhello";
    let unfinished_chunks =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n";
    for request in [short.as_slice(), unfinished_chunks] {
        let mut stream = connect(port);
        stream.write_all(request).expect("sent");
        let r = read_response(&mut stream);
        assert_eq!(r.status, 408, "{r:?}");
        assert_eq!(r.header("connection"), Some("close"));
        assert!(r.body.contains("did not arrive in time"), "{}", r.body);
    }
    // The timeouts count as requests: in the access log and in the metrics.
    let line = script.wait_log_msg("request", &mut Vec::new());
    assert_eq!(
        (line["status"].as_i64(), line["path"].as_str()),
        (Some(408), Some("/upload"))
    );
    let metrics = get(port, "/metrics").body;
    assert!(
        metrics.contains(r#"http_requests_total{method="POST",route="/upload",status="408"} 2"#),
        "{metrics}"
    );
    // A complete body is as welcome as ever.
    let r = raw(
        port,
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
    );
    assert_eq!(r.body, "got 5");
}

#[test]
fn framing_headers_come_from_the_server_never_from_a_handler() {
    let script = Script::start("framing", &service("10.seconds", "0"));
    let port = script.server_port();
    let mut stream = connect(port);
    // Two pipelined requests: a wrong length on the first would swallow or poison the second.
    stream
        .write_all(
            b"GET /framed HTTP/1.1\r\nHost: x\r\n\r\n\
              GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .expect("sent");
    let both = String::from_utf8(read_until_closed(&mut stream)).expect("text");
    let responses: Vec<&str> = both.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(responses.len(), 2, "{both}");
    let (head, body) = responses[0].split_once("\r\n\r\n").expect("a head");
    assert_eq!(body, "hello world, this is the body");
    assert!(head.contains("content-length: 29"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    assert!(!head.contains("connection"), "{head}");
    assert!(
        responses[1].starts_with("200 OK") && responses[1].ends_with("\r\n\r\nhi"),
        "{both}"
    );
}

#[test]
fn out_of_file_descriptors_the_server_backs_off_logs_and_counts() {
    // The script runs with 64 descriptors; a hundred clients take them all.
    let path = std::env::temp_dir().join(format!("cn-test-{}-fds.cn", std::process::id()));
    std::fs::write(
        &path,
        service("600.seconds", "0").replace("max_connections=4", ""),
    )
    .expect("written");
    let script = Script::start_command(
        Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -n 64 && exec {CN} run {}", path.display())),
    );
    let port = script.server_port();
    let clients: Vec<TcpStream> = (0..100).map(|_| connect(port)).collect();
    let line = script.wait_log_msg(
        "http server: accepting a connection failed; backing off",
        &mut Vec::new(),
    );
    assert!(
        line["error"]
            .as_str()
            .is_some_and(|e| e.contains("open files")),
        "{line}"
    );
    assert_eq!(line["level"], "warn");
    // The server still answers (an idle client gave a descriptor back), and it did not spin:
    // a retry loop without pauses fails millions of times a second.
    let r = get(port, "/metrics");
    assert_eq!(r.status, 200);
    let failures: f64 = r
        .body
        .lines()
        .find_map(|l| l.strip_prefix("http_accept_errors_total "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no accept error count in {}", r.body));
    assert!(
        (1.0..1000.0).contains(&failures),
        "{failures} failed accepts"
    );
    drop(clients);
    let _ = std::fs::remove_file(&path);
}

#[test]
fn keep_alive_clients_are_told_to_leave_when_shutdown_starts() {
    let script = Script::start("leave", &service("10.seconds", "3.seconds"));
    let port = script.server_port();
    let mut h1 = connect(port);
    h1.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    assert_eq!(read_response(&mut h1).header("connection"), None);
    let mut h2 = connect(port);
    h2.write_all(H2_PREFACE).expect("sent");
    h2.write_all(H2_SETTINGS).expect("sent");

    script.signal("TERM");
    script.wait_log_msg(
        "shutdown: /readyz now answers 503; serving on so endpoints update",
        &mut Vec::new(),
    );
    // Still served during the delay, but with the request to reconnect elsewhere.
    h1.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    let r = read_response(&mut h1);
    assert_eq!((r.status, r.header("connection")), (200, Some("close")));
    read_until_goaway(&mut h2);
    drop(h2);
    let (_, _, status) = script.finish();
    assert_eq!(status, 0);
}

#[test]
fn a_handler_cut_by_the_drain_is_a_503_and_not_a_fault() {
    let script = Script::start("cut", &service("10.seconds", "0"));
    let port = script.server_port();
    let mut stream = connect(port);
    stream
        .write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    script.expect_line("slow started");
    script.signal("TERM");
    let mut skipped = Vec::new();
    let r = read_response(&mut stream);
    assert_eq!(
        (r.status, r.header("connection")),
        (503, Some("close")),
        "{r:?}"
    );
    let line = script.wait_log("cancelled", &mut skipped);
    assert!(
        line.contains("the server stopped before it finished"),
        "{line}"
    );
    let (_, log, status) = script.finish();
    let everything = [skipped, log].concat();
    assert!(
        !everything.iter().any(|l| l.contains("faulted")),
        "{everything:?}"
    );
    // The drain ran out of time, which the exit status says.
    assert_eq!(status, 1);
}

#[test]
fn malformed_requests_are_answered_logged_and_counted() {
    let script = Script::start("malformed", &service("10.seconds", "0"));
    let port = script.server_port();
    let cases: [(&[u8], u16); 5] = [
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n",
            400,
        ),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", 400),
        (
            &[
                b"GET /".as_slice(),
                &[b'a'; 100_000],
                b" HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            .concat(),
            414,
        ),
        (
            &[
                b"GET /".as_slice(),
                &[b'a'; 1_000_000],
                b" HTTP/1.1\r\nHost: x\r\n\r\n",
            ]
            .concat(),
            414,
        ),
    ];
    for (request, status) in cases {
        let mut stream = connect(port);
        // A server may answer before it has read everything; a broken pipe is fine then.
        let _ = stream.write_all(request);
        let r = read_response(&mut stream);
        assert_eq!(
            r.status,
            status,
            "{:?}",
            String::from_utf8_lossy(&request[..40])
        );
    }
    // HTTP/1.0 has no Host requirement.
    assert_eq!(raw(port, b"GET / HTTP/1.0\r\n\r\n").body, "hi");
    // Only two hex digits make an escape.
    assert_eq!(get(port, "/p/%2B1%+1").body, "+1%+1");

    let mut skipped = Vec::new();
    for status in [400, 400, 400, 414, 414] {
        let line = script.wait_log_msg("request", &mut skipped);
        assert_eq!(line["status"].as_i64(), Some(status), "{line}");
    }
    let metrics = get(port, "/metrics").body;
    assert!(
        metrics.contains(r#"http_requests_total{method="OTHER",route="unmatched",status="400"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"http_requests_total{method="OTHER",route="unmatched",status="414"} 2"#),
        "{metrics}"
    );
}

#[test]
fn a_handler_looping_in_a_builtin_does_not_freeze_the_server() {
    let script = Script::start(
        "busy",
        r#"
import http

fn busy(req):
    print("busy started")
    return str(sum(range(2000000000)))

fn main():
    server = http.Server("127.0.0.1:0", request_timeout=1.second)
    server.route("GET", "/busy", busy)
    server.run()
"#,
    );
    let port = script.server_port();
    let mut busy = connect(port);
    busy.write_all(b"GET /busy HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    script.expect_line("busy started");
    // Probes are answered while the builtin runs (before: not until it ended, 30 s later).
    assert_eq!(get(port, "/healthz").status, 200);
    // The request timeout stops it.
    let r = read_response(&mut busy);
    assert_eq!(r.status, 503, "{r:?}");
    // SIGTERM is heard meanwhile: the drain waits for the handler's timeout, then ends.
    busy.write_all(b"GET /busy HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("sent");
    script.expect_line("busy started");
    script.signal("TERM");
    script.wait_log_msg(
        "shutdown: listener closed; draining connections",
        &mut Vec::new(),
    );
    let r = read_response(&mut busy);
    assert_eq!((r.status, r.header("connection")), (503, Some("close")));
    let (_, _, status) = script.finish();
    assert_eq!(status, 0);
}

#[test]
fn memory_goes_back_to_the_system_after_a_burst() {
    let script = Script::start(
        "burst",
        r#"
import http

fn burst(req):
    xs = [str(i) for i in range(10000000)]
    return str(len(xs))

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/burst", burst)
    server.run()
"#,
    );
    let port = script.server_port();
    let resident = || -> f64 {
        let metrics = get(port, "/metrics").body;
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no resident size in {metrics}"))
    };
    let before = resident();
    assert_eq!(get(port, "/burst").body, "10000000");
    // The burst took hundreds of MB; within a few seconds of idling they are given back.
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut now = resident();
    while now > before + 64e6 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
        now = resident();
    }
    assert!(
        now < before + 64e6,
        "resident {now} bytes after the burst (before: {before})"
    );
}

const BUDGETED: &str = r#"
import http

fn upload(req):
    return "got " + str(len(req.bytes()))

fn main():
    server = http.Server("127.0.0.1:0", body_limit=600000, body_budget=1000000,
                         body_timeout=30.seconds)
    server.route("POST", "/upload", upload)
    server.run()
"#;

#[test]
fn bodies_past_the_body_budget_are_shed_with_503_until_memory_is_free() {
    let script = Script::start("body-budget", BUDGETED);
    let port = script.server_port();
    // A holds 600000 bytes of the budget: its body is on its way.
    let mut a = connect(port);
    a.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 600000\r\n\r\nstart")
        .expect("sent");
    // Once A is in flight (with this scrape: 2), its reservation is made: it is taken before
    // the first wait of the exchange.
    let in_flight = |port| {
        get(port, "/metrics").body.lines().find_map(|l| {
            l.strip_prefix("http_requests_in_flight ")?
                .parse::<f64>()
                .ok()
        })
    };
    let mut tries = 0;
    while in_flight(port) != Some(2.0) {
        tries += 1;
        assert!(tries < 500, "A never came in flight");
        std::thread::sleep(Duration::from_millis(10));
    }
    // B would pass the budget: shed at once, unread, with a hint when to come back.
    let mut b = connect(port);
    b.write_all(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n")
        .expect("sent");
    let refused = read_response(&mut b);
    assert_eq!(refused.status, 503, "{refused:?}");
    assert_eq!(refused.header("retry-after"), Some("1"));
    // A finishes and gives its share back; B's body is then welcome.
    a.write_all(&vec![b'a'; 600000 - 5]).expect("sent");
    assert_eq!(read_response(&mut a).body, "got 600000");
    let mut request =
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\nConnection: close\r\n\r\n"
            .to_vec();
    request.extend(vec![b'b'; 500000]);
    assert_eq!(raw(port, &request).body, "got 500000");
}
