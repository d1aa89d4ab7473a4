//! The http client against real servers: each test starts a small HTTP/1.1 server inside the
//! test process (std threads, hand-written responses; HTTPS through rustls with a certificate
//! made by rcgen) on 127.0.0.1, writes a script that talks to it, runs the real `cn` binary and
//! checks what it printed. Nothing here leaves the machine.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Longest one script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(20);

// ---------------------------------------------------------------- the test server

/// A request as the server read it.
struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response to write: status, extra headers, body, and whether to send it chunked.
struct Reply {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    chunked: bool,
}

impl Reply {
    fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
            chunked: false,
        }
    }

    fn text(body: &str) -> Reply {
        Reply::new(200, "text/plain; charset=utf-8", body)
    }

    fn redirect(status: u16, location: &str) -> Reply {
        let mut reply = Reply::new(status, "text/plain", "moved");
        reply.headers.push(("Location", location.to_string()));
        reply
    }
}

fn json_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Requests seen per `/flaky/` key, across every test server of this process.
static HITS: std::sync::Mutex<Vec<(String, usize)>> = std::sync::Mutex::new(Vec::new());

/// Counts one request of `key`; returns how many it has seen with this one.
fn hit(key: &str) -> usize {
    let mut hits = HITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    match hits.iter_mut().find(|(k, _)| k == key) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            hits.push((key.to_string(), 1));
            1
        }
    }
}

fn hits(key: &str) -> usize {
    let hits = HITS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    hits.iter().find(|(k, _)| k == key).map_or(0, |(_, n)| *n)
}

/// What every test server answers.
fn route(request: &Request, connections: &AtomicUsize) -> Option<Reply> {
    let path = request.path.as_str();
    Some(match path {
        "/text" => Reply::text("hello from the test server"),
        "/json" => Reply::new(
            200,
            "application/json",
            r#"{"name": "cn", "tags": ["a", "b"], "n": 3}"#,
        ),
        "/headers" => {
            let mut reply = Reply::text("see headers");
            reply.headers.push(("X-Custom", "Value-1".into()));
            reply.headers.push(("X-Multi", "one".into()));
            reply.headers.push(("X-Multi", "two".into()));
            reply
        }
        "/status/404" => Reply::new(404, "text/plain", "no such thing"),
        "/status/500" => Reply::new(500, "text/plain", "it broke"),
        "/connections" => Reply::text(&connections.load(Ordering::SeqCst).to_string()),
        "/loop" => Reply::redirect(302, "/loop"),
        "/redirect-303" => Reply::redirect(303, "/echo"),
        "/redirect-307" => Reply::redirect(307, "/echo"),
        "/redirect-relative/a/b" => Reply::redirect(301, "../../text"),
        "/big" => Reply::text(&"x".repeat(2000)),
        "/binary" => Reply::new(
            200,
            "application/octet-stream",
            (0..=255u8).collect::<Vec<u8>>(),
        ),
        "/mirror" => Reply::new(
            200,
            request.header("content-type").unwrap_or("none"),
            request.body.clone(),
        ),
        "/big-chunked" => {
            let mut reply = Reply::text(&"y".repeat(5000));
            reply.chunked = true;
            reply
        }
        "/slow" => {
            // Never answers within any test's timeout.
            std::thread::sleep(Duration::from_secs(5));
            return None;
        }
        // `/flaky/KEY/N`: 503 (Retry-After: 0) for the first N requests of KEY, then 200;
        // `/busy/KEY`: 503 asking for two minutes; `/hits/KEY`: how many requests KEY saw.
        _ if path.starts_with("/flaky/") || path.starts_with("/busy/") => {
            let mut parts = path.split('/').skip(2);
            let key = parts.next().unwrap_or("").to_string();
            let failures: usize = parts
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or(usize::MAX);
            let seen = hit(&key);
            if seen <= failures {
                let mut reply = Reply::new(503, "text/plain", "busy");
                let wait = if path.starts_with("/busy/") {
                    "120"
                } else {
                    "0"
                };
                reply.headers.push(("Retry-After", wait.into()));
                reply
            } else {
                Reply::text(&format!("ok after {seen}"))
            }
        }
        _ if path.starts_with("/hits/") => Reply::text(&hits(&path["/hits/".len()..]).to_string()),
        _ if path.starts_with("/redirect/") => {
            let n: u32 = path["/redirect/".len()..].parse().unwrap_or(0);
            if n == 0 {
                Reply::text("landed")
            } else {
                Reply::redirect(302, &format!("/redirect/{}", n - 1))
            }
        }
        _ if path.starts_with("/echo") => {
            let headers: Vec<String> = request
                .headers
                .iter()
                .map(|(n, v)| format!("{}: {}", json_string(&n.to_lowercase()), json_string(v)))
                .collect();
            let body = format!(
                r#"{{"method": {}, "path": {}, "body": {}, "headers": {{{}}}}}"#,
                json_string(&request.method),
                json_string(path),
                json_string(&String::from_utf8_lossy(&request.body)),
                headers.join(", ")
            );
            Reply::new(200, "application/json", body)
        }
        _ => Reply::new(404, "text/plain", "unknown test route"),
    })
}

/// Reads one request; `None` at the end of the connection.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_string(), value.trim().to_string()));
    }
    let mut request = Request {
        method,
        path,
        headers,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

fn write_reply(stream: &mut impl Write, reply: &Reply, head_only: bool) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {} Test\r\n", reply.status).into_bytes();
    for (name, value) in &reply.headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if reply.chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
        for chunk in reply.body.chunks(1000) {
            out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\n\r\n");
    } else {
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", reply.body.len()).as_bytes());
        if !head_only {
            out.extend_from_slice(&reply.body);
        }
    }
    stream.write_all(&out)?;
    stream.flush()
}

/// Serves requests on one connection until the client closes it (keep-alive).
fn serve_connection(stream: impl Read + Write, connections: &AtomicUsize) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let Some(reply) = route(&request, connections) else {
            return;
        };
        if write_reply(reader.get_mut(), &reply, request.method == "HEAD").is_err() {
            return;
        }
    }
}

/// A test server on 127.0.0.1; its threads end with the test process.
struct Server {
    port: u16,
}

impl Server {
    /// Plain HTTP.
    fn start() -> Server {
        Server::start_with(None)
    }

    /// HTTPS with `tls`, or plain HTTP.
    fn start_with(tls: Option<Arc<rustls::ServerConfig>>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a test port");
        let port = listener.local_addr().expect("local address").port();
        let connections = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                connections.fetch_add(1, Ordering::SeqCst);
                let connections = connections.clone();
                let tls = tls.clone();
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        let Ok(connection) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        let stream = rustls::StreamOwned::new(connection, stream);
                        serve_connection(stream, &connections);
                    }
                    None => serve_connection(stream, &connections),
                });
            }
        });
        Server { port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

// ---------------------------------------------------------------- running scripts

/// A fresh directory for one test's files.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cn-http-client-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create a temp dir");
    dir
}

/// Runs `source` as `main.cn` in `dir`; returns stdout, stderr and the exit code.
fn run_in(dir: &Path, source: &str) -> (String, String, i32) {
    std::fs::write(dir.join("main.cn"), source).expect("write the script");
    let mut command = Command::new(common::CN);
    command
        .args(["run", "main.cn"])
        .current_dir(dir)
        .env("NO_COLOR", "1");
    let finished = common::finish(&mut command, None, SCRIPT_TIMEOUT);
    assert!(!finished.timed_out, "script timed out:\n{source}");
    (
        finished.stdout,
        finished.stderr,
        finished.status.unwrap_or(-1),
    )
}

/// Runs `source` (with `URL` replaced by `url`) and checks it printed exactly `expected`.
fn check(name: &str, url: &str, source: &str, expected: &str) {
    let dir = temp_dir(name);
    let source = source.replace("URL", url);
    let (stdout, stderr, code) = run_in(&dir, &source);
    assert_eq!(
        stdout, expected,
        "script:\n{source}\nstderr:\n{stderr}\nexit status {code}"
    );
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------- the tests

#[test]
fn get_text_and_json() {
    let server = Server::start();
    check(
        "get",
        &server.url(),
        r#"
import http

fn main():
    resp = http.get("URL/text")?
    print(resp.status, resp.ok, resp.reason, resp.url == "URL/text")
    print(resp.text())
    data = http.get("URL/json")?.json()?
    print(data["name"], data["tags"], data["n"] + 1)
    print(http.get("URL/text")?.json().is_err())
    print(type(resp), type(resp.headers))
"#,
        "200 true OK true\n\
         hello from the test server\n\
         cn [\"a\", \"b\"] 4\n\
         true\n\
         http.Response http.Headers\n",
    );
}

#[test]
fn methods_and_bodies() {
    let server = Server::start();
    check(
        "methods",
        &server.url(),
        r#"
import http

fn show(result):
    echo = result.unwrap().json().unwrap()
    print(echo["method"], echo["headers"].get("content-type"), repr(echo["body"]))

fn main():
    show(http.post("URL/echo", json={"name": "ann", "tags": [1, 2], "ok": true}))
    show(http.put("URL/echo", body="plain words"))
    show(http.patch("URL/echo", body="<a/>", headers={"Content-Type": "application/xml"}))
    show(http.delete("URL/echo"))
    show(http.request("options", "URL/echo"))
    head = http.head("URL/text").unwrap()
    print(head.status, repr(head.text()), head.headers.get("content-length"))
    echo = http.get("URL/echo", params={"q": "a b&c", "n": [1, 2], "on": true}).unwrap().json().unwrap()
    print(echo["path"])
"#,
        "POST application/json \"{\\\"name\\\":\\\"ann\\\",\\\"tags\\\":[1,2],\\\"ok\\\":true}\"\n\
         PUT text/plain; charset=utf-8 \"plain words\"\n\
         PATCH application/xml \"<a/>\"\n\
         DELETE nil \"\"\n\
         OPTIONS nil \"\"\n\
         200 \"\" 26\n\
         /echo?q=a%20b%26c&n=1&n=2&on=true\n",
    );
}

#[test]
fn binary_bodies() {
    let server = Server::start();
    check(
        "binary",
        &server.url(),
        r#"
import http

fn main():
    data = http.get("URL/binary").unwrap().bytes()
    print(type(data), len(data), data[0], data[255], data[126:130].hex())
    print(repr(http.get("URL/binary").unwrap().text()[0:2]))
    sent = bytes([0, 159, 146, 150, 255])
    back = http.post("URL/mirror", body=sent).unwrap()
    print(back.bytes() == sent, back.headers.get("content-type"))
"#,
        "bytes 256 0 255 7e7f8081\n\
         \"\\x00\\x01\"\n\
         true application/octet-stream\n",
    );
}

#[test]
fn headers_sent_and_received() {
    let server = Server::start();
    check(
        "headers",
        &server.url(),
        r#"
import http

fn main():
    echo = http.get("URL/echo", headers={"X-Token": "t-1", "Accept": "application/json"})?.json()?
    sent = echo["headers"]
    print(sent["x-token"], sent["accept"], sent["user-agent"].startswith("cn/"), sent["host"] == "URL"[7:])
    print("traceparent" in sent)
    resp = http.get("URL/headers")?
    h = resp.headers
    print(h.get("x-custom"), h.get("X-CUSTOM"), h.get("Content-Type"))
    print(h.get_all("x-multi"), h.get("x-multi"), h.get_all("nope"))
    print(h.get("missing"), h.get("missing", "fallback"), h.get("missing", default=0))
    print(h.has("X-Multi"), h.has("missing"))
    print([pair for pair in h.items() if pair[0].startswith("x-")])
    c = http.Client(headers={"Authorization": "Bearer abc", "X-Env": "test"})
    sent = c.get("URL/echo", headers={"X-Env": "override"})?.json()?["headers"]
    print(sent["authorization"], sent["x-env"])
"#,
        "t-1 application/json true true\n\
         false\n\
         Value-1 Value-1 text/plain; charset=utf-8\n\
         [\"one\", \"two\"] one []\n\
         nil fallback 0\n\
         true false\n\
         [(\"x-custom\", \"Value-1\"), (\"x-multi\", \"one\"), (\"x-multi\", \"two\")]\n\
         Bearer abc override\n",
    );
}

#[test]
fn error_statuses_stay_ok() {
    let server = Server::start();
    check(
        "status",
        &server.url(),
        r#"
import http

fn main():
    match http.get("URL/status/404"):
        case Ok(resp):
            print("ok", resp.status, resp.ok, resp.reason, resp.text())
        case Err(e):
            print("err", e)
    resp = http.post("URL/status/500", json=[1])?
    print(resp.status, resp.ok)
"#,
        "ok 404 false Not Found no such thing\n500 false\n",
    );
}

#[test]
fn connection_refused_is_an_err() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address").port()
    };
    check(
        "refused",
        &format!("http://127.0.0.1:{port}"),
        r#"
import http

fn fetch():
    body = http.get("URL/x")?.text()
    return Ok(body)

fn main():
    match http.get("URL/x"):
        case Err(ConnectError(msg)):
            print("ConnectError:", msg == "GET URL/x: connection refused")
        case other:
            print("unexpected", other)
    print(fetch())
    print(http.get("not a url"))
    print(http.get("ftp://127.0.0.1/"))
    match http.get("http://127.0.0.1:99999/"):
        case Err(InvalidUrl(msg)):
            print("InvalidUrl")
        case other:
            print("unexpected", other)
"#,
        "ConnectError: true\n\
         Err(ConnectError(\"GET URL/x: connection refused\"))\n\
         Err(InvalidUrl(\"invalid url \\\"not a url\\\": it needs a scheme: http:// or https://\"))\n\
         Err(InvalidUrl(\"invalid url \\\"ftp://127.0.0.1/\\\": unsupported scheme 'ftp' (http or https)\"))\n\
         InvalidUrl\n"
            .replace("URL", &format!("http://127.0.0.1:{port}"))
            .as_str(),
    );
}

#[test]
fn timeouts() {
    let server = Server::start();
    check(
        "timeout",
        &server.url(),
        r#"
import http
import time

fn main():
    start = time.monotonic()
    match http.get("URL/slow", timeout=200.ms):
        case Err(Timeout(msg)):
            print("Timeout:", msg.endswith("no response within 200ms"))
        case other:
            print("unexpected", other)
    c = http.Client(timeout=0.15)
    match c.get("URL/slow"):
        case Err(Timeout(msg)):
            print("client Timeout:", msg.endswith("no response within 150ms"))
        case other:
            print("unexpected", other)
    print(c.get("URL/text", timeout=2.seconds)?.status)
    print(time.timeout(100.ms, fn(): http.get("URL/slow")))
    print(time.monotonic() - start < 2)
"#,
        "Timeout: true\nclient Timeout: true\n200\nErr(Timeout)\ntrue\n",
    );
}

#[test]
fn redirects() {
    let server = Server::start();
    check(
        "redirects",
        &server.url(),
        r#"
import http

fn main():
    resp = http.get("URL/redirect/3")?
    print(resp.status, resp.text(), resp.url == "URL/redirect/0")
    print(http.get("URL/redirect-relative/a/b")?.text())
    match http.get("URL/loop"):
        case Err(TooManyRedirects(msg)):
            print("TooManyRedirects:", msg.endswith("stopped after 10 redirects"))
        case other:
            print("unexpected", other)
    few = http.Client(max_redirects=2)
    print(few.get("URL/redirect/2")?.text())
    print(few.get("URL/redirect/3").is_err())
    manual = http.Client(follow_redirects=false)
    resp = manual.get("URL/redirect/1")?
    print(resp.status, resp.headers.get("location"))
    kept = http.post("URL/redirect-307", json={"a": 1})?.json()?
    print(kept["method"], kept["body"], kept["path"])
    changed = http.post("URL/redirect-303", json={"a": 1})?.json()?
    print(changed["method"], repr(changed["body"]), changed["headers"].get("content-type"))
"#,
        "200 landed true\n\
         hello from the test server\n\
         TooManyRedirects: true\n\
         landed\n\
         true\n\
         302 /redirect/0\n\
         POST {\"a\":1} /echo\n\
         GET \"\" nil\n",
    );
}

#[test]
fn base_url_and_pooling() {
    let server = Server::start();
    check(
        "base_url",
        &server.url(),
        r#"
import http

fn main():
    api = http.Client(base_url="URL/")
    print(api, api.base_url)
    print(api.get("/text")?.text())
    print(api.get("echo?x=1")?.json()?["path"])
    print(api.get("URL/json")?.json()?["n"])
    for i in range(10):
        api.get("text")?
    print(int(api.get("/connections")?.text()) <= 3)
"#,
        &format!(
            "<http.Client {url}/> {url}/\n\
             hello from the test server\n\
             /echo?x=1\n\
             3\n\
             true\n",
            url = server.url()
        ),
    );
}

#[test]
fn concurrent_requests() {
    let server = Server::start();
    check(
        "concurrent",
        &server.url(),
        r#"
import http

fn fetch(i):
    return http.get(f"URL/echo/{i}").unwrap().json().unwrap()["path"]

fn main():
    tasks = []
    concurrent:
        for i in range(8):
            tasks.append(spawn fetch(i))
    print([t.join() for t in tasks])
"#,
        "[\"/echo/0\", \"/echo/1\", \"/echo/2\", \"/echo/3\", \"/echo/4\", \"/echo/5\", \"/echo/6\", \"/echo/7\"]\n",
    );
}

#[test]
fn body_limit() {
    let server = Server::start();
    check(
        "body_limit",
        &server.url(),
        r#"
import http

fn main():
    print(len(http.get("URL/big")?.text()), len(http.get("URL/big-chunked")?.text()))
    match http.get("URL/big", max_body=1000):
        case Err(BodyError(msg)):
            print("BodyError:", msg.endswith("larger than max_body (1000 bytes)"))
        case other:
            print("unexpected", other)
    small = http.Client(max_body=1024)
    match small.get("URL/big-chunked"):
        case Err(BodyError(msg)):
            print("BodyError:", msg.endswith("larger than max_body (1 KiB)"))
        case other:
            print("unexpected", other)
    print(len(small.get("URL/big-chunked", max_body=5000)?.text()))
    print(small.head("URL/big")?.headers.get("content-length"))
"#,
        "2000 5000\nBodyError: true\nBodyError: true\n5000\n2000\n",
    );
}

#[test]
fn tracing_header() {
    let server = Server::start();
    check(
        "traced",
        &server.url(),
        r#"
import http
import tracing

fn sent(client):
    return client.get("URL/echo").unwrap().json().unwrap()["headers"].get("traceparent")

fn main():
    default = http.Client()
    untraced = http.Client(traced=false)
    print(sent(default))
    tracing.span("outer"):
        tp = sent(default).split("-")
        # Nothing is exported here, so no client span is made: the current span goes out as the parent.
        print(tp[0], tp[1] == tracing.trace_id(), len(tp[2]), tp[2] == tracing.span_id(), tp[3])
        print(sent(untraced))
        mine = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        print(http.get("URL/echo", headers={"traceparent": mine})?.json()?["headers"]["traceparent"])
"#,
        "nil\n\
         00 true 16 true 01\n\
         nil\n\
         00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n",
    );
}

#[test]
fn tls_with_and_without_ca_file() {
    let (config, pem) = common::tls_config(&["127.0.0.1"]);
    let server = Server::start_with(Some(config));
    // Trusted, but issued for another name: the name check must still refuse it.
    let (other_config, other_pem) = common::tls_config(&["api.example.internal"]);
    let other = Server::start_with(Some(other_config));
    let dir = temp_dir("tls");
    std::fs::write(dir.join("ca.pem"), pem).expect("write the certificate");
    std::fs::write(dir.join("other.pem"), other_pem).expect("write the certificate");
    let url = format!("https://127.0.0.1:{}", server.port);
    let source = r#"
import http

fn main():
    match http.get("URL/text"):
        case Err(TlsError(msg)):
            print("TlsError:", "certificate" in msg)
        case other:
            print("unexpected", other)
    trusted = http.Client(ca_file="ca.pem")
    print(trusted.ca_file, trusted.get("URL/text")?.text())
    echo = trusted.post("URL/echo", json={"secure": true})?.json()?
    print(echo["method"], echo["body"])
    match http.Client(ca_file="other.pem").get("https://127.0.0.1:PORT/text"):
        case Err(TlsError(msg)):
            print("TlsError:", "not valid for name" in msg)
        case other:
            print("unexpected", other)
"#
    .replace("URL", &url)
    .replace("PORT", &other.port.to_string());
    let (stdout, stderr, code) = run_in(&dir, &source);
    assert_eq!(
        stdout,
        "TlsError: true\n\
         ca.pem hello from the test server\n\
         POST {\"secure\":true}\n\
         TlsError: true\n",
        "stderr:\n{stderr}"
    );
    assert_eq!(code, 0, "stderr:\n{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn plain_http_to_a_tls_server_and_tls_to_a_plain_one() {
    let server = Server::start();
    let (config, _) = common::tls_config(&["127.0.0.1"]);
    let tls_server = Server::start_with(Some(config));
    check(
        "mismatch",
        &server.url(),
        &r#"
import http

fn main():
    match http.get("https://127.0.0.1:PLAIN/text"):
        case Err(TlsError(_)):
            print("TlsError")
        case other:
            print("unexpected", other)
    match http.get("http://127.0.0.1:TLS/text", timeout=2):
        case Err(e):
            print("Err")
        case Ok(resp):
            print("unexpected", resp)
"#
        .replace("PLAIN", &server.port.to_string())
        .replace("TLS", &tls_server.port.to_string()),
        "TlsError\nErr\n",
    );
}

#[test]
fn argument_faults() {
    let dir = temp_dir("faults");
    for (source, message) in [
        ("http.get(42)", "http.get() argument 1 must be str, not int"),
        ("http.get()", "http.get() takes 1 argument, got 0"),
        (
            "http.get(\"http://x/\", verify=false)",
            "http.get() got an unexpected keyword argument 'verify'",
        ),
        (
            "http.post(\"http://x/\", json=1, body=\"b\")",
            "http.post: give json= or body=, not both",
        ),
        (
            "http.get(\"http://x/\", headers=[1])",
            "http.get: headers= must be a dict of str to str, not list",
        ),
        (
            "http.get(\"http://x/\", timeout=\"1s\")",
            "http.get: timeout= must be a duration or seconds, not str",
        ),
        (
            "http.Client(ca_file=\"missing.pem\")",
            "http.Client: ca_file: cannot read 'missing.pem'",
        ),
        (
            "http.Client(base_url=\"svc\")",
            "http.Client: base_url \"svc\" is not a usable url",
        ),
        (
            "http.Client().get(1)",
            "http.Client.get() argument 1 must be str, not int",
        ),
        (
            "http.request(\"BAD METHOD\", \"http://x/\")",
            "http.request: 'BAD METHOD' is not an http method",
        ),
    ] {
        let (_, stderr, code) = run_in(&dir, &format!("import http\n{source}\n"));
        assert_eq!(code, 1, "{source}: {stderr}");
        assert!(
            stderr.contains(&format!("fault: {message}")),
            "{source}: expected fault {message:?}, got:\n{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The client retries idempotent requests on 503 (and connect errors, timeouts, 408/429/502/504)
/// by default, honouring `Retry-After`; a POST only with an `Idempotency-Key`; never with
/// `retry=nil`; a policy sets the attempts. The upstream counts what it saw.
#[test]
fn idempotent_requests_are_retried_by_default() {
    let server = Server::start();
    check(
        "retries",
        &server.url(),
        r#"
import http
import resilience

fn show(result):
    match result:
        case Ok(resp):
            return str(resp.status) + " " + resp.text()
        case Err(e):
            return "err " + str(e)

fn hits(key):
    return http.get("URL/hits/" + key)?.text()

fn main():
    print("GET:", show(http.get("URL/flaky/get/2")), "| upstream saw", hits("get"))
    print("POST:", show(http.post("URL/flaky/post/2", json={})), "| upstream saw", hits("post"))
    keyed = http.post("URL/flaky/keyed/1", json={}, headers={"Idempotency-Key": "k1"})
    print("POST with a key:", show(keyed), "| upstream saw", hits("keyed"))
    plain = http.Client(retry=nil)
    print("retry=nil:", show(plain.get("URL/flaky/off/1")), "| upstream saw", hits("off"))
    print("Retry-After 120:", show(http.get("URL/busy/long")), "| upstream saw", hits("long"))
    patient = http.Client(retry=resilience.retry_policy(max_attempts=5, backoff=resilience.constant(1.ms)))
    print("5 attempts:", show(patient.get("URL/flaky/five/4")), "| upstream saw", hits("five"))
    # Retries do not nest: inside a retrying policy the client makes one attempt per call.
    outer = resilience.retry_policy(max_attempts=2, backoff=resilience.constant(1.ms), budget=false)
    print("nested:", show(outer.call(fn(): http.get("URL/flaky/nested/5"))), "| upstream saw", hits("nested"))
"#,
        "GET: 200 ok after 3 | upstream saw 3\n\
         POST: 503 busy | upstream saw 1\n\
         POST with a key: 200 ok after 2 | upstream saw 2\n\
         retry=nil: 503 busy | upstream saw 1\n\
         Retry-After 120: 503 busy | upstream saw 1\n\
         5 attempts: 200 ok after 5 | upstream saw 5\n\
         nested: 503 busy | upstream saw 2\n",
    );
}

/// `http.Client(breaker=...)` keeps a breaker per host: a dead host opens its own circuit and
/// the healthy one is still called.
#[test]
fn a_dead_host_opens_only_its_own_circuit() {
    let server = Server::start();
    check(
        "breakers",
        &server.url(),
        r#"
import http
import resilience
import log

fn show(result):
    match result:
        case Ok(resp):
            return str(resp.status)
        case Err(CircuitOpen):
            return "circuit open"
        case Err(ConnectError(m)):
            return "connect error"
        case Err(e):
            return "err " + str(e)

fn main():
    log.set_level("error")
    client = http.Client(retry=nil, breaker=resilience.circuit_breaker(name="up", failure_threshold=2))
    for i in range(3):
        print("dead:", show(client.get("http://127.0.0.1:9/")), "| live:", show(client.get("URL/text")))
"#,
        "dead: connect error | live: 200\n\
         dead: connect error | live: 200\n\
         dead: circuit open | live: 200\n",
    );
}
