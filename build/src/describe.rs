//! What the script serves and reads, found by running it the way it will run, with
//! `CN_DESCRIBE` set (stdlib/src/describe.rs): each `server.run()` records its server and
//! returns instead of binding, and each `config.load` records its fields. Running the script
//! finds servers built from configuration (`http.Server(f":{cfg.port}")`), which reading the
//! code could not. What could not be found is said, never guessed.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long the describe run may take: a script that waits on something before `server.run()`
/// (a database at start-up) is stopped and described as far as it got.
const LIMIT: Duration = Duration::from_secs(10);

/// A server the script runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    pub port: u16,
    pub metrics_path: Option<String>,
    /// `shutdown_delay=` when the script sets it.
    pub shutdown_delay: Option<Duration>,
    pub shutdown_timeout: Duration,
}

/// A configuration field read from the environment.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigField {
    pub env: String,
    pub default: Option<String>,
    pub secret: bool,
    pub required: bool,
}

/// What the describe run found, and what it could not find.
#[derive(Debug, Default)]
pub struct Description {
    pub servers: Vec<Server>,
    pub config: Vec<ConfigField>,
    /// How long an `app.Application`'s startup may take, when the script has one.
    pub startup_timeout: Option<Duration>,
    pub problems: Vec<String>,
}

/// Runs `script` with `cn` (the running binary) in describe mode.
pub fn describe(cn: &Path, script: &Path) -> Description {
    let mut description = Description::default();
    let dir = script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file = std::env::temp_dir().join(format!("cn-describe-{}.json", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let name = script.file_name().unwrap_or_default();
    let child = Command::new(cn)
        .arg("run")
        .arg(name)
        .current_dir(dir)
        .env("CN_DESCRIBE", &file)
        .env("LOG_LEVEL", "error")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            description
                .problems
                .push(format!("could not run the script to describe it: {e}"));
            return description;
        }
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() < LIMIT => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
        }
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
    }
    match status {
        None => description.problems.push(format!(
            "the script did not finish within {}s while being described (does it wait for \
             something before server.run()?)",
            LIMIT.as_secs()
        )),
        Some(status) if !status.success() => {
            let last = stderr
                .lines()
                .rev()
                .find(|l| l.trim_start().starts_with("fault:"))
                .or_else(|| stderr.lines().last())
                .unwrap_or("")
                .trim();
            description.problems.push(format!(
                "the script stopped before it was fully described ({last})"
            ));
        }
        Some(_) => {}
    }
    let facts: Value = std::fs::read_to_string(&file)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let _ = std::fs::remove_file(&file);
    for server in facts["servers"].as_array().into_iter().flatten() {
        let ms = |key: &str| server[key].as_u64().map(Duration::from_millis);
        description.servers.push(Server {
            port: server["port"].as_u64().unwrap_or(0) as u16,
            metrics_path: server["metrics_path"].as_str().map(str::to_string),
            shutdown_delay: ms("shutdown_delay_ms"),
            shutdown_timeout: ms("shutdown_timeout_ms").unwrap_or(Duration::from_secs(30)),
        });
    }
    description.startup_timeout = facts["app"]["startup_timeout_ms"]
        .as_u64()
        .map(Duration::from_millis);
    for field in facts["config"].as_array().into_iter().flatten() {
        description.config.push(ConfigField {
            env: field["env"].as_str().unwrap_or_default().to_string(),
            default: field["default"].as_str().map(str::to_string),
            secret: field["secret"].as_bool().unwrap_or(false),
            required: field["required"].as_bool().unwrap_or(false),
        });
    }
    if description.servers.is_empty() {
        description.problems.push(
            "no http.Server was run: the manifests have no ports, probes or Service".to_string(),
        );
    }
    if description.servers.iter().any(|s| s.port == 0) {
        description
            .problems
            .push("a server listens on port 0 (any free port): it gets no container port".into());
    }
    description
}
