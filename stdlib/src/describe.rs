//! The describe run of `cn build`: the script runs with `CN_DESCRIBE=<file>` set, and instead of
//! serving, every `server.run()` records the server (address, metrics path, shutdown timings)
//! and returns at once; every `config.load` records its fields (environment name, default,
//! secret or not), and `app.Application` its startup timeout; `config.load` also fills a required field that is missing with a placeholder, so a script
//! whose configuration only the cluster has can still be described. The facts are rewritten to
//! the file after each one, so whatever was found before a fault is kept. `cn build` derives the
//! image's ports and the Kubernetes manifests from them (spec/build.md).

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value as Json};

/// The variable that turns the describe run on; its value is the file to write.
pub const ENV: &str = "CN_DESCRIBE";

struct Facts {
    file: PathBuf,
    servers: Vec<Json>,
    config: Vec<Json>,
    app: Json,
}

thread_local! {
    /// The facts so far; `None` when this is not a describe run.
    static FACTS: RefCell<Option<Facts>> = RefCell::new(std::env::var_os(ENV).map(|file| Facts {
        file: PathBuf::from(file),
        servers: Vec::new(),
        config: Vec::new(),
        app: Json::Null,
    }));
}

/// Whether this run describes the script instead of serving.
pub fn active() -> bool {
    FACTS.with(|facts| facts.borrow().is_some())
}

/// What one server would serve.
pub struct Server<'a> {
    /// The address as given (`":8080"`).
    pub addr: &'a str,
    /// The port it would listen on.
    pub port: u16,
    /// Where it serves metrics, if it does.
    pub metrics_path: Option<&'a str>,
    /// `shutdown_delay=`, when given (the default depends on where it runs).
    pub shutdown_delay: Option<Duration>,
    /// `shutdown_timeout=`.
    pub shutdown_timeout: Duration,
}

/// Records a server whose `run()` was called.
pub fn server(server: &Server<'_>) {
    record(|facts| {
        facts.servers.push(json!({
            "addr": server.addr,
            "port": server.port,
            "metrics_path": server.metrics_path,
            "shutdown_delay_ms": server.shutdown_delay.map(|d| d.as_millis() as u64),
            "shutdown_timeout_ms": server.shutdown_timeout.as_millis() as u64,
        }))
    });
}

/// Records the script's `app.Application`: its name and how long its startup may take (the
/// startup probe must allow that long).
pub fn app(name: &str, startup_timeout: Duration) {
    record(|facts| {
        facts.app = json!({
            "name": name,
            "startup_timeout_ms": startup_timeout.as_millis() as u64,
        })
    });
}

/// Records a configuration field read from the environment variable `env`.
pub fn config_field(env: &str, default: Option<String>, secret: bool, required: bool) {
    record(|facts| {
        if facts.config.iter().any(|f| f["env"] == env) {
            return;
        }
        facts.config.push(json!({
            "env": env,
            "default": default,
            "secret": secret,
            "required": required,
        }))
    });
}

fn record(add: impl FnOnce(&mut Facts)) {
    FACTS.with(|facts| {
        if let Some(facts) = facts.borrow_mut().as_mut() {
            add(facts);
            let text = json!({"servers": facts.servers, "config": facts.config, "app": facts.app})
                .to_string();
            // A file that cannot be written leaves `cn build` with nothing found, which it says.
            let _ = std::fs::write(&facts.file, text);
        }
    });
}
