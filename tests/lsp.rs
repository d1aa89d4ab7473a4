//! `cn lsp` with real clients. Neovim's built-in LSP client (headless, `tests/lsp/client.lua`)
//! opens `tests/lsp/sample.cn` and asks for everything the server offers; the answers it got are
//! compared with what an editor user would see. A JSON-RPC test drives the protocol by hand:
//! framing, diagnostics that follow edits, an unknown method, hostile input, shutdown and exit.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use common::CN;
use serde_json::{json, Value};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/lsp");

#[test]
fn neovim_sees_diagnostics_hover_definitions_completion_symbols_and_formatting() {
    let out = std::env::temp_dir().join(format!("cn-lsp-nvim-{}.txt", std::process::id()));
    let status = Command::new("nvim")
        .args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!("luafile {DIR}/client.lua"))
        .env("CN", CN)
        .env("DIR", DIR)
        .env("OUT", &out)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("nvim runs (apt-get install neovim)");
    let facts = std::fs::read_to_string(&out).expect("the Lua script wrote its findings");
    let _ = std::fs::remove_file(&out);
    assert!(status.success(), "{facts}");
    let expected = [
        "diagnostic 15:7 unknown name 'undefined_name' (not found in this scope)",
        "hover greet ```text | fn greet(name) |  | The greeting for one name. | ```",
        "definition greet sample.cn:5:4",
        "definition p sample.cn:12:1",
        "definition x sample.cn:9:5",
        "definition double helpers.cn:2:4",
        "completion http. Server,get",
        "completion p. x,y",
        "completion line start greet,Point,assert,print,http",
        "symbols http helpers greet Point(x,y) p server",
        "formatted     return f\"hello {name}\"",
    ];
    for line in expected {
        assert!(
            facts.lines().any(|l| l == line),
            "expected {line:?} in:\n{facts}"
        );
    }
    // The library's own help texts.
    assert!(
        facts.contains("hover Server ```text | http.Server(addr=nil, body_limit=1048576"),
        "{facts}"
    );
    assert!(
        facts.contains("hover print ```text | print(*values"),
        "{facts}"
    );
}

/// A client speaking raw JSON-RPC over the server's stdin and stdout.
struct Client {
    child: std::process::Child,
    reader: BufReader<std::process::ChildStdout>,
    next_id: i64,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(CN)
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("cn lsp starts");
        let reader = BufReader::new(child.stdout.take().expect("stdout"));
        Client {
            child,
            reader,
            next_id: 1,
        }
    }

    fn send_raw(&mut self, body: &[u8]) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("written");
        stdin.write_all(body).expect("written");
        stdin.flush().expect("flushed");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params});
        self.send_raw(body.to_string().as_bytes());
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_raw(body.to_string().as_bytes());
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                return message;
            }
        }
    }

    fn receive(&mut self) -> Value {
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).expect("a header line");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                length = n.parse().expect("a length");
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("a body");
        serde_json::from_slice(&body).expect("JSON")
    }

    /// The next diagnostics published.
    fn diagnostics(&mut self) -> Vec<Value> {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics" {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
        }
    }
}

#[test]
fn json_rpc_diagnostics_follow_edits_and_bad_input_is_answered() {
    let mut client = Client::start();
    let init = client.request("initialize", json!({"capabilities": {}}));
    assert_eq!(init["result"]["serverInfo"]["name"], "cn");
    assert_eq!(init["result"]["capabilities"]["textDocumentSync"], 1);
    client.notify("initialized", json!({}));

    let uri = "file:///tmp/cn-lsp-test/app.cn";
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "cn", "version": 1,
            "text": "import http\nserver = http.Sever()\nx = (1,\n"}}),
    );
    let diagnostics = client.diagnostics();
    let codes: Vec<&str> = diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.is_empty(), "{diagnostics:?}");

    // Fixing the text clears them.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2},
            "contentChanges": [{"text": "import http\nserver = http.Server()\n"}]}),
    );
    assert_eq!(client.diagnostics(), Vec::<Value>::new());

    // A misspelt library member: E0115 with its suggestion, at its line and column.
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3},
            "contentChanges": [{"text": "import http\nserver = http.Sever()\n"}]}),
    );
    let diagnostics = client.diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0]["code"], "E0115");
    assert_eq!(
        diagnostics[0]["range"]["start"],
        json!({"line": 1, "character": 14})
    );
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean 'Server'?")),
        "{diagnostics:?}"
    );

    // Requests the server does not know, positions past the end, unknown documents and
    // malformed params get answers, not a crash.
    let unknown = client.request("workspace/symbol", json!({"query": "x"}));
    assert_eq!(unknown["error"]["code"], -32601);
    let far = client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 99, "character": 99}}),
    );
    assert!(far["error"].is_null(), "{far}");
    let elsewhere = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": "file:///nowhere.cn"}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(elsewhere["result"], Value::Null);
    let malformed = client.request("textDocument/hover", json!({"textDocument": 5}));
    assert!(malformed["error"]["code"].is_i64(), "{malformed}");

    let shutdown = client.request("shutdown", Value::Null);
    assert_eq!(shutdown["result"], Value::Null);
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("cn lsp ends");
    assert!(status.success(), "exit after shutdown is status 0");
}

#[test]
fn a_corrupt_stream_ends_the_server_with_a_reason() {
    let mut child = Command::new(CN)
        .arg("lsp")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cn lsp starts");
    let mut stdin = child.stdin.take().expect("stdin");
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#;
    write!(stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("written");
    stdin.write_all(body).expect("written");
    stdin
        .write_all(b"Content-Length: 9\r\n\r\n{not json")
        .expect("written");
    drop(stdin);
    let output = child.wait_with_output().expect("cn lsp ends");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cn lsp:"), "{stderr}");
}
