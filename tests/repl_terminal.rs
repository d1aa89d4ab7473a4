//! The REPL in a real terminal: `cn repl` runs inside tmux, keys are sent with `send-keys` and
//! the screen is read with `capture-pane`, as a person at a terminal would see it. Typed-ahead
//! and pasted lines all run, Ctrl-C stops the running entry (a server drains) and the session
//! goes on, tasks spawned at the prompt keep running, and history is saved entry by entry.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{get, PATIENCE};

/// A `cn repl` in a tmux session on its own tmux server (socket), with a private HOME.
struct Terminal {
    socket: String,
    home: PathBuf,
}

impl Terminal {
    fn start(name: &str) -> Terminal {
        let socket = format!("cn-test-{}-{name}", std::process::id());
        let home = std::env::temp_dir().join(&socket);
        std::fs::create_dir_all(&home).expect("scratch HOME");
        let command = format!(
            "HOME={} NO_COLOR=1 {} repl; echo REPL-EXITED-$?; sleep 600",
            home.display(),
            env!("CARGO_BIN_EXE_cn")
        );
        // CI runs without a terminal; tmux only needs to know which one to emulate.
        let status = Command::new("tmux")
            .env("TERM", "xterm-256color")
            .args(["-L", &socket, "new-session", "-d", "-s", "r", "-x", "160"])
            .args(["-y", "50", &command])
            .status()
            .expect("tmux runs (apt-get install tmux)");
        assert!(status.success(), "tmux did not start");
        let terminal = Terminal { socket, home };
        terminal.wait_for(">>>");
        terminal
    }

    /// Sends keys as `tmux send-keys` takes them (`Enter`, `C-c` are key names).
    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", "-t", "r"])
            .args(keys)
            .status()
            .expect("tmux runs");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let output = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "capture-pane",
                "-p",
                "-t",
                "r",
                "-S",
                "-",
            ])
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen contains `text`; returns the screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_for_nth(text, 1)
    }

    /// Waits until the screen contains `text` `n` times; returns the screen.
    fn wait_for_nth(&self, text: &str, n: usize) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let screen = self.screen();
            if screen.matches(text).count() >= n {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

#[test]
fn typed_ahead_and_pasted_lines_all_run() {
    let terminal = Terminal::start("typeahead");
    // Three lines sent at once: the second and third arrive while the first is running.
    terminal.keys(&["a = 1", "Enter", "b = 2", "Enter", "a + b", "Enter"]);
    terminal.wait_for(">>> a + b\n3\n");
    // A function pasted quickly keeps its body.
    terminal.keys(&[
        "fn f(x):",
        "Enter",
        "    y = x * 2",
        "Enter",
        "    return y + 1",
        "Enter",
        "",
        "Enter",
        "f(20)",
        "Enter",
    ]);
    terminal.wait_for(">>> f(20)\n41\n");
}

#[test]
fn ctrl_c_stops_the_running_entry_and_the_session_goes_on() {
    let terminal = Terminal::start("interrupt");
    terminal.keys(&[
        "n = 0",
        "Enter",
        "while true:",
        "Enter",
        "    n += 1",
        "Enter",
        "    if n == 1:",
        "Enter",
        "        print(\"looping\")",
        "Enter",
    ]);
    terminal.keys(&["", "Enter"]);
    // Interrupted while it runs, not before it starts.
    terminal.wait_for("\nlooping\n");
    terminal.keys(&["C-c"]);
    terminal.wait_for("interrupted\n>>>");
    terminal.keys(&["n > 0", "Enter"]);
    terminal.wait_for(">>> n > 0\ntrue\n");
    terminal.keys(&["import time", "Enter", "time.sleep(600)", "Enter"]);
    terminal.wait_for(">>> time.sleep(600)\n");
    terminal.keys(&["C-c"]);
    let screen = terminal.wait_for("interrupted\n>>>");
    assert!(!screen.contains("REPL-EXITED"), "{screen}");
    // History is on disk entry by entry, not only at Ctrl-D.
    let history = std::fs::read_to_string(terminal.home.join(".cn_history")).expect("history");
    assert!(history.contains("time.sleep(600)"), "{history}");
    terminal.keys(&["C-d"]);
    terminal.wait_for("REPL-EXITED-0");
}

#[test]
fn servers_serve_at_the_prompt_and_drain_on_ctrl_c() {
    let terminal = Terminal::start("server");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    terminal.keys(&["import http", "Enter"]);
    terminal.keys(&[&format!("s = http.Server(\"127.0.0.1:{port}\")"), "Enter"]);
    terminal.keys(&["t = spawn s.run()", "Enter"]);
    terminal.wait_for("http server listening");
    // Nothing runs at the prompt now, yet the spawned server answers.
    assert_eq!(get(port, "/healthz").status, 200);
    assert_eq!(get(port, "/healthz").status, 200);
    // A server run in the foreground drains on Ctrl-C, and the prompt comes back.
    terminal.keys(&["t.cancel()", "Enter"]);
    terminal.keys(&[&format!("s2 = http.Server(\"127.0.0.1:{port}\")"), "Enter"]);
    terminal.keys(&["s2.run()", "Enter"]);
    terminal.wait_for_nth("http server listening", 2);
    assert_eq!(get(port, "/healthz").status, 200);
    terminal.keys(&["C-c"]);
    terminal.wait_for("shutdown: every connection finished");
    terminal.wait_for("interrupted\n>>>");
    terminal.keys(&["1 + 1", "Enter"]);
    terminal.wait_for(">>> 1 + 1\n2\n");
}

#[test]
fn tab_completes_the_members_of_library_objects_and_builtin_values() {
    let terminal = Terminal::start("complete");
    terminal.keys(&["import http", "Enter", "s = http.Server()", "Enter"]);
    terminal.wait_for(">>> s = http.Server()\n>>>");
    // One candidate: the line is completed in place.
    terminal.keys(&["s.ro", "Tab"]);
    terminal.wait_for(">>> s.route");
    terminal.keys(&["C-u", "t = \"abc\"", "Enter"]);
    terminal.wait_for(">>> t = \"abc\"\n>>>");
    terminal.keys(&["t.spli", "Tab"]);
    terminal.wait_for(">>> t.split");
    // Module members complete as before.
    terminal.keys(&["C-u", "http.Ser", "Tab"]);
    terminal.wait_for(">>> http.Server");
}

#[test]
fn tab_twice_lists_the_candidates_and_keyword_arguments_complete() {
    let terminal = Terminal::start("list");
    terminal.keys(&["import http", "Enter"]);
    terminal.wait_for(">>> import http\n>>>");
    // Several candidates: the first Tab completes what they share, the second lists them all.
    terminal.keys(&["http.", "Tab", "Tab"]);
    let screen = terminal.wait_for("Server");
    for member in ["get", "post", "Client", "test_client", "Error"] {
        assert!(
            screen.split_whitespace().any(|w| w == member),
            "{member} listed:\n{screen}"
        );
    }
    // Keyword arguments of a library function, then of a builtin.
    terminal.keys(&["C-u", "http.Server(request_t", "Tab"]);
    terminal.wait_for(">>> http.Server(request_timeout=");
    terminal.keys(&["C-u", "print(1, sep", "Tab"]);
    terminal.wait_for(">>> print(1, sep=");
    // And of a function the session defined.
    terminal.keys(&[
        "C-u",
        "fn greet(name, greeting):",
        "Enter",
        "    return greeting + name",
        "Enter",
        "Enter",
    ]);
    terminal.wait_for("...\n>>>");
    terminal.keys(&["greet(\"ada\", greeti", "Tab"]);
    terminal.wait_for(">>> greet(\"ada\", greeting=");
}

#[test]
fn help_describes_what_it_is_given() {
    let terminal = Terminal::start("help");
    terminal.keys(&["import http", "Enter", "help(http.get)", "Enter"]);
    terminal.wait_for("Sends a GET request and waits");
    terminal.keys(&["help(len)", "Enter"]);
    terminal.wait_for("len(");
}
