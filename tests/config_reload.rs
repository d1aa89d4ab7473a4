//! `config.watch` against a real `cn run` process and a mount built the way the kubelet builds
//! ConfigMap and Secret volumes: the data lives in a timestamped `..2026_...` folder, `..data`
//! points at it, and every key is a symlink through `..data`. An update writes a new folder,
//! points a new `..data_tmp` symlink at it, renames that over `..data` (the atomic step) and
//! removes the old folder. The script must see each valid version through its callback, keep
//! the old configuration and log "config reload failed" for an invalid one, and not call back
//! for a version that changes nothing.

mod common;

use std::path::PathBuf;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use common::Script;

/// How long to watch stdout for a callback that must not come: many poll intervals (50 ms).
const QUIET: Duration = Duration::from_millis(600);

/// A ConfigMap or Secret volume, updated as the kubelet's atomic writer does.
struct Mount {
    dir: PathBuf,
    /// The timestamped folder `..data` points at.
    current: String,
    updates: usize,
}

impl Mount {
    /// A mount holding `files` (key, content), with one symlink per key.
    fn new(name: &str, files: &[(&str, &str)]) -> Mount {
        let dir = std::env::temp_dir().join(format!("cn-reload-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let mut mount = Mount {
            dir,
            current: String::new(),
            updates: 0,
        };
        mount.current = mount.write_version(files);
        std::os::unix::fs::symlink(&mount.current, mount.dir.join("..data")).expect("..data");
        for (key, _) in files {
            std::os::unix::fs::symlink(format!("..data/{key}"), mount.dir.join(key))
                .expect("key symlink");
        }
        mount
    }

    /// Writes a new timestamped folder with `files`; returns its name.
    fn write_version(&mut self, files: &[(&str, &str)]) -> String {
        self.updates += 1;
        let name = format!("..2026_11_22_13_{:02}_00.{:03}", self.updates, self.updates);
        let folder = self.dir.join(&name);
        std::fs::create_dir(&folder).expect("version folder");
        for (key, text) in files {
            std::fs::write(folder.join(key), text).expect("key file");
        }
        name
    }

    /// The kubelet's update: new folder, `..data_tmp` -> it, rename over `..data`, then the
    /// key symlinks of removed keys go, those of new keys come, and the old folder goes.
    fn update(&mut self, files: &[(&str, &str)]) {
        let next = self.write_version(files);
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&next, &tmp).expect("..data_tmp");
        std::fs::rename(&tmp, self.dir.join("..data")).expect("atomic swap");
        let old = std::mem::replace(&mut self.current, next);
        for entry in std::fs::read_dir(self.dir.join(&old)).expect("old version") {
            let key = entry.expect("old key").file_name();
            if !files.iter().any(|(k, _)| key.to_str() == Some(k)) {
                std::fs::remove_file(self.dir.join(&key)).expect("old key symlink removed");
            }
        }
        for (key, _) in files {
            if !self.dir.join(key).exists() {
                std::os::unix::fs::symlink(format!("..data/{key}"), self.dir.join(key))
                    .expect("new key symlink");
            }
        }
        std::fs::remove_dir_all(self.dir.join(old)).expect("old version removed");
    }

    fn path(&self, key: &str) -> String {
        self.dir.join(key).display().to_string()
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Asserts that the script prints nothing for a while.
fn expect_quiet(script: &Script) {
    match script.stdout.recv_timeout(QUIET) {
        Err(RecvTimeoutError::Timeout) => {}
        Ok(line) => panic!("unexpected output {line:?}"),
        Err(RecvTimeoutError::Disconnected) => panic!("the script ended"),
    }
}

/// A script that loads `Config` with `options`, prints it, watches it and prints every new
/// version its callback gets, until SIGTERM.
fn watch_script(options: &str) -> String {
    format!(
        r#"
import config
import signal

type Config:
    @default(80)
    port: int
    greeting: str
    @secret
    @default("none")
    password: str

fn show(label, c):
    print(f"{{label}} {{c.port}} {{c.greeting}} {{c.password.reveal()}}")

cfg = config.load[Config]({options}, env_prefix="CFGTEST_")
show("loaded", cfg)
config.watch(cfg, fn(new_cfg): show("reloaded", new_cfg), interval=50.milliseconds)
signal.wait()
"#
    )
}

#[test]
fn a_configmap_swap_reloads_and_an_invalid_version_is_rejected() {
    let mut mount = Mount::new(
        "configmap",
        &[("config.yaml", "port: 8080\ngreeting: hello\n")],
    );
    let file = mount.path("config.yaml");
    let script = Script::start("configmap", &watch_script(&format!("file={file:?}")));
    script.expect_line("loaded 8080 hello none");

    mount.update(&[("config.yaml", "port: 8081\ngreeting: hi\n")]);
    script.expect_line("reloaded 8081 hi none");
    let mut skipped = Vec::new();
    let line = script.wait_log_msg("config reloaded", &mut skipped);
    assert_eq!(line["level"], "info");
    assert_eq!(line["file"], file.as_str());

    // An invalid version: logged with every problem, the old configuration kept, no callback.
    mount.update(&[("config.yaml", "port: eighty\n")]);
    let line = script.wait_log_msg("config reload failed", &mut skipped);
    assert_eq!(line["level"], "error");
    assert_eq!(
        line["problems"],
        serde_json::json!([
            format!("port must be an integer, got \"eighty\" ({file}:1:7)"),
            "CFGTEST_GREETING is required but not set",
        ])
    );
    expect_quiet(&script);

    // The version the script already has: nothing to tell it.
    mount.update(&[("config.yaml", "port: 8081\ngreeting: hi\n")]);
    expect_quiet(&script);

    mount.update(&[("config.yaml", "port: 8082\ngreeting: hey\n")]);
    script.expect_line("reloaded 8082 hey none");

    script.signal("TERM");
    let (rest, log, status) = script.finish();
    assert_eq!(rest, Vec::<String>::new());
    assert_eq!(status, 0, "log: {log:?}");
}

#[test]
fn a_secret_mount_swap_reloads_secrets() {
    let mut mount = Mount::new(
        "secret",
        &[("greeting", "hello\n"), ("password", "hunter2\n")],
    );
    let dir = mount.dir.display().to_string();
    let script = Script::start("secret", &watch_script(&format!("secrets_dir={dir:?}")));
    script.expect_line("loaded 80 hello hunter2");

    // Only the secret changes: the configuration differs, though it prints the same.
    mount.update(&[("greeting", "hello\n"), ("password", "correct horse\n")]);
    script.expect_line("reloaded 80 hello correct horse");

    // A key that disappears from the Secret is as good as unset.
    mount.update(&[("password", "correct horse\n")]);
    let mut skipped = Vec::new();
    let line = script.wait_log_msg("config reload failed", &mut skipped);
    assert_eq!(
        line["problems"],
        serde_json::json!(["CFGTEST_GREETING is required but not set"])
    );
    assert_eq!(line["secrets_dir"], dir.as_str());
    expect_quiet(&script);

    script.signal("TERM");
    let (_, _, status) = script.finish();
    assert_eq!(status, 0);
}

#[test]
fn a_change_between_load_and_watch_is_not_missed() {
    let dir = std::env::temp_dir().join(format!("cn-cfg-race-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a folder");
    let file = dir.join("app.yaml");
    std::fs::write(&file, "greeting: before\n").expect("written");
    let source = format!(
        r#"
import config
import fs
import signal

type Config:
    greeting: str

cfg = config.load[Config](file={file:?})
print("loaded", cfg.greeting)
# The file changes after the load and before the watch starts.
fs.write_text({file:?}, "greeting: after\n")
config.watch(cfg, fn(new_cfg): print("reloaded", new_cfg.greeting), interval=50.milliseconds)
signal.wait()
"#,
        file = file.display().to_string()
    );
    let script = Script::start("race", &source);
    script.expect_line("loaded before");
    script.expect_line("reloaded after");
    script.signal("TERM");
    let (_, _, status) = script.finish();
    assert_eq!(status, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
