//! `runtime` against real cgroups: `cn` runs inside a container made with `runc`, whose
//! config.json sets a memory limit and a CPU quota, and reports exactly those limits (on this
//! machine's cgroup v1 controllers, or v2 where the host has it). Outside, on the host, the same
//! calls report what the host's cgroup says.

mod common;
#[path = "common/containers.rs"]
mod containers;

use std::process::Command;
use std::time::Duration;

use containers::{have, static_runtime};

const SCRIPT: &str = "import runtime
print(runtime.memory_limit(), runtime.cpu_limit(), runtime.in_container())
print(runtime.memory_usage() > 0, runtime.memory_usage() < runtime.memory_limit())
print(runtime.pod(), runtime.in_kubernetes())
";

#[test]
fn inside_runc_the_limits_are_the_ones_config_json_sets() {
    if !have("runc") {
        return;
    }
    let dir = std::env::temp_dir().join(format!("cn-runtime-limits-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(rootfs.join("app")).expect("rootfs");
    std::fs::copy(static_runtime(), rootfs.join("cn")).expect("the static cn");
    std::fs::write(rootfs.join("app/limits.cn"), SCRIPT).expect("script");
    let spec = Command::new("runc")
        .args(["spec"])
        .current_dir(&dir)
        .status()
        .expect("runc spec");
    assert!(spec.success());
    let path = dir.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("config.json")).expect("json");
    config["process"]["terminal"] = false.into();
    config["process"]["args"] = serde_json::json!(["/cn", "run", "/app/limits.cn"]);
    config["process"]["env"] = serde_json::json!(["NO_COLOR=1"]);
    config["root"]["readonly"] = true.into();
    config["linux"]["resources"]["memory"] = serde_json::json!({"limit": 268435456});
    config["linux"]["resources"]["cpu"] = serde_json::json!({"quota": 50000, "period": 100000});
    std::fs::write(&path, config.to_string()).expect("write config.json");
    let id = format!("cn-limits-{}", std::process::id());
    let done = common::finish(&mut runc_run(&dir, &id), None, Duration::from_secs(120));
    let _ = Command::new("runc").args(["delete", "-f", &id]).status();
    assert_eq!(
        done.stdout, "268435456 0.5 true\ntrue true\nnil false\n",
        "{}",
        done.stderr
    );

    // A service in the same container exposes them as metrics (the host reaches it: no network
    // namespace).
    std::fs::write(
        rootfs.join("app/serve.cn"),
        "import http\nserver = http.Server(\"127.0.0.1:0\")\nserver.run()\n",
    )
    .expect("script");
    config["process"]["args"] = serde_json::json!(["/cn", "run", "/app/serve.cn"]);
    if let Some(namespaces) = config["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|n| n["type"] != "network");
    }
    std::fs::write(&path, config.to_string()).expect("write config.json");
    let service = common::Script::start_command(&mut runc_run(&dir, &id));
    let port = service.server_port();
    let limits = service.wait_log_msg("resource limits", &mut Vec::new());
    assert_eq!(
        (
            &limits["memory_limit_bytes"],
            &limits["cpu_limit_cores"],
            &limits["in_kubernetes"]
        ),
        (
            &serde_json::json!(268435456),
            &serde_json::json!(0.5),
            &serde_json::json!(false)
        ),
        "{limits}"
    );
    // The http defaults derived from 256 MiB: a quarter at 32 KiB per connection, a quarter
    // for request bodies.
    assert_eq!(
        (
            &limits["http_max_connections"],
            &limits["http_body_budget_bytes"]
        ),
        (&serde_json::json!(2048), &serde_json::json!(67108864)),
        "{limits}"
    );
    let metrics = common::get(port, "/metrics").body;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert_eq!(value("process_memory_limit_bytes"), 268435456.0);
    assert_eq!(value("process_cpu_limit_cores"), 0.5);
    let _ = Command::new("runc").args(["kill", &id, "TERM"]).status();
    let (_, log, status) = service.finish();
    assert_eq!(status, 0, "{log:?}");
    let _ = Command::new("runc").args(["delete", "-f", &id]).status();

    // In 64 MiB, a service whose memory grows past 90 % of the limit is warned, once.
    std::fs::write(rootfs.join("app/grow.cn"), GROW).expect("script");
    config["process"]["args"] = serde_json::json!(["/cn", "run", "/app/grow.cn"]);
    config["linux"]["resources"]["memory"] = serde_json::json!({"limit": 64 << 20});
    std::fs::write(&path, config.to_string()).expect("write config.json");
    let service = common::Script::start_command(&mut runc_run(&dir, &id));
    service.expect_line("grown past 92%");
    let warning = service.wait_log_msg("memory use passed 90% of the limit", &mut Vec::new());
    assert_eq!(warning["level"], "warn", "{warning}");
    assert_eq!(warning["memory_limit_bytes"], 64 << 20, "{warning}");
    assert!(
        warning["percent"].as_f64().is_some_and(|p| p >= 90.0),
        "{warning}"
    );
    service.expect_line("still up");
    let _ = Command::new("runc").args(["kill", &id, "TERM"]).status();
    let (_, log, status) = service.finish();
    assert_eq!(status, 0, "{log:?}");
    assert!(
        !log.iter().any(|l| l.contains("memory use passed")),
        "warned again: {log:?}"
    );
    let _ = Command::new("runc").args(["delete", "-f", &id]).status();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `runc run` of the bundle in `dir` as container `id`.
fn runc_run(dir: &std::path::Path, id: &str) -> Command {
    let mut command = Command::new("runc");
    command.args(["run", "--bundle"]).arg(dir).arg(id);
    command
}

/// Grows to 92 % of its limit and stays there for a few watch intervals.
const GROW: &str = "import http
import runtime
import signal
import time

server = http.Server(\"127.0.0.1:0\")
spawn server.run()
time.sleep(0)
chunks = []
while runtime.memory_usage() < runtime.memory_limit() * 0.92:
    chunks.append(\"x\" * 1048576)
print(\"grown past 92%\")
time.sleep(3.seconds)
print(\"still up\")
signal.wait()
";
