//! `cn repl --attach` against a real service started with `cn run --repl`: the service opens its
//! socket owner-only, an attached prompt reads and changes the script's globals while the server
//! answers real requests, faults and compile errors come back as reports without harming the
//! service, and the socket is gone after a SIGTERM. Without `--repl` no socket is opened.

mod common;

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

use common::{get, Script, CN};

const SERVICE: &str = r#"
import http
import sync

state = {"hits": 0}
gate = sync.Channel(1)
server = http.Server(addr="127.0.0.1:0")

fn hello(req):
    state["hits"] += 1
    return state

fn held(req):
    return {"released with": gate.recv().unwrap()}

server.route("GET", "/", hello)
server.route("GET", "/held", held)
server.run()
"#;

fn start(repl: bool) -> (Script, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("cn-attach-{}-{repl}.cn", std::process::id()));
    std::fs::write(&path, SERVICE).expect("written");
    let mut command = Command::new(CN);
    command.arg("run");
    if repl {
        command.arg("--repl");
    }
    command.arg(&path);
    // A private runtime folder, so the test sees exactly this service's socket.
    let runtime_dir =
        std::env::temp_dir().join(format!("cn-attach-rt-{}-{repl}", std::process::id()));
    let _ = std::fs::remove_dir_all(&runtime_dir);
    std::fs::create_dir_all(&runtime_dir).expect("a runtime folder");
    command.env("XDG_RUNTIME_DIR", &runtime_dir);
    (Script::start_command(&mut command), runtime_dir)
}

fn attach(runtime_dir: &std::path::Path, pid: u32, input: &str) -> String {
    let mut child = Command::new(CN)
        .args(["repl", "--attach", &pid.to_string()])
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("HOME", runtime_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cn repl --attach starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("written");
    let output = child
        .wait_with_output()
        .expect("it ends at the end of input");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn an_attached_prompt_inspects_and_changes_a_serving_script() {
    let (service, runtime_dir) = start(true);
    let port = service.server_port();
    let pid = service.child.id();
    let socket = runtime_dir.join("cn").join(format!("{pid}.sock"));
    let mode =
        |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&socket), 0o600, "the socket is owner-only");
    assert_eq!(
        mode(socket.parent().expect("a folder")),
        0o700,
        "and so is its folder"
    );

    assert_eq!(get(port, "/").status, 200);
    let out = attach(
        &runtime_dir,
        pid,
        "state\nstate[\"hits\"] = 41\n[1][3]\nfn twice(n):\n    return 2 * n\n\ntwice(state[\"hits\"])\nmissing_name\n",
    );
    assert!(out.contains("{\"hits\": 1}\n"), "{out}");
    assert!(
        out.contains("fault: list index 3 out of range (length 1)"),
        "{out}"
    );
    assert!(out.contains("\n82\n"), "{out}");
    assert!(out.contains("unknown name 'missing_name' [E0100]"), "{out}");
    // The change made at the prompt is what the next request sees.
    let body = get(port, "/").body;
    assert!(body.contains("\"hits\":42"), "{body}");

    // A request in progress shows up among the tasks, with its request id, and is released
    // from the prompt.
    let held = std::thread::spawn(move || {
        common::raw(
            port,
            b"GET /held HTTP/1.1\r\nHost: x\r\nx-request-id: req-attach\r\nConnection: close\r\n\r\n",
        )
    });
    let probe = "import runtime\n[t[\"context\"].get(\"request_id\") for t in runtime.tasks()]\n";
    let deadline = std::time::Instant::now() + common::PATIENCE;
    loop {
        let out = attach(&runtime_dir, pid, probe);
        if out.contains("\"req-attach\"") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the held request never showed: {out}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    attach(&runtime_dir, pid, "gate.send(7)\n");
    let response = held.join().expect("the request thread");
    assert_eq!(response.status, 200);
    assert!(
        response.body.contains("\"released with\":7"),
        "{}",
        response.body
    );

    service.signal("TERM");
    let (_, _, status) = service.finish();
    assert_eq!(status, 0);
    assert!(!socket.exists(), "the socket is removed at the end");
}

#[test]
fn without_repl_there_is_no_socket() {
    let (service, runtime_dir) = start(false);
    let _ = service.server_port();
    let pid = service.child.id();
    assert!(!runtime_dir.join("cn").join(format!("{pid}.sock")).exists());
    let output = Command::new(CN)
        .args(["repl", "--attach", &pid.to_string()])
        .env("XDG_RUNTIME_DIR", &runtime_dir)
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cn run --repl"));
    service.signal("TERM");
    let _ = service.finish();
}
