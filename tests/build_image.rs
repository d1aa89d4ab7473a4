//! `cn build` checked by the real tools (no mocks): `skopeo` reads the layout and the archive
//! and copies them (verifying every blob digest), `umoci unpack` checks the layers against
//! `rootfs.diff_ids`, and `runc` runs the image: the service answers as uid 65532 on a
//! read-only root and drains on SIGTERM. Builds are reproducible, a code change touches only the
//! app layer, and bad input fails with one clear line and nothing written.
//!
//! The image needs a static cn: the tests build it once with `scripts/static-runtime` (its own
//! target directory under target/, so it does not wait on this build's lock). Under CI a missing
//! tool fails the test; elsewhere it is skipped with a note.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

#[path = "common/containers.rs"]
mod containers;
#[path = "../compiler/tests/common/golden.rs"]
mod golden_rule;

use containers::{have, static_runtime};

use common::{finish, get, Script, CN};
use serde_json::Value;

/// Longest a build or a tool may take.
const LIMIT: Duration = Duration::from_secs(600);

/// A fresh folder for one test.
fn folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cn-build-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

const SERVICE: &str = r#"import http
import greeting

fn main():
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/", fn(req): greeting.hello())
    server.route("GET", "/whoami", fn(req): {"cwd": "/app"})
    server.run(shutdown_delay=0.seconds)
"#;

const GREETING: &str = "fn hello():\n    return \"hello from an image\"\n";

/// Writes the service (a script and the module it imports) into `dir`.
fn write_service(dir: &Path) {
    std::fs::write(dir.join("main.cn"), SERVICE).expect("write");
    std::fs::write(dir.join("greeting.cn"), GREETING).expect("write");
    std::fs::write(dir.join("unused.cn"), "this is not cn and not imported\n").expect("write");
}

/// `cn build ARGS` in `dir` with a fixed epoch; returns (status, stdout, stderr).
fn cn_build(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let done = finish(
        Command::new(CN)
            .arg("build")
            .args(args)
            .current_dir(dir)
            .env("SOURCE_DATE_EPOCH", "1700000000"),
        None,
        LIMIT,
    );
    (done.status.unwrap_or(-1), done.stdout, done.stderr)
}

/// Runs `program args` to its end and returns its stdout; a failure fails the test.
fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let done = finish(
        Command::new(program).args(args).current_dir(dir),
        None,
        LIMIT,
    );
    assert_eq!(
        done.status,
        Some(0),
        "{program} {args:?} failed:\n{}{}",
        done.stdout,
        done.stderr
    );
    done.stdout
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The manifest of the layout in `dir/build/image`.
fn manifest(dir: &Path) -> Value {
    let image = dir.join("build/image");
    let index = json(&std::fs::read_to_string(image.join("index.json")).expect("index.json"));
    let digest = index["manifests"][0]["digest"].as_str().expect("a digest");
    let path = image.join("blobs").join(digest.replacen(':', "/", 1));
    json(&std::fs::read_to_string(path).expect("the manifest blob"))
}

#[test]
fn the_tools_accept_the_image_and_runc_runs_it() {
    if !(have("skopeo") && have("umoci") && have("runc")) {
        return;
    }
    let runtime = static_runtime();
    let dir = folder("tools");
    write_service(&dir);
    std::fs::create_dir_all(dir.join("static/css")).expect("mkdir");
    std::fs::write(dir.join("static/index.html"), "<h1>hi</h1>\n").expect("write");
    std::fs::write(dir.join("static/css/site.css"), "h1 {}\n").expect("write");
    let runtime = runtime.to_string_lossy();
    let (status, stdout, stderr) = cn_build(
        &dir,
        &[
            "main.cn",
            "--runtime",
            &runtime,
            "-t",
            "registry.example.com/team/hello:1.2",
            "--tar",
            "hello.tar",
            "--include",
            "static",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(
        stdout.starts_with("registry.example.com/team/hello:1.2@sha256:"),
        "{stdout}"
    );
    assert!(stderr.contains("modules greeting.cn"), "{stderr}");
    assert!(
        stderr.contains("created: 2023-11-14T22:13:20Z (from SOURCE_DATE_EPOCH)"),
        "{stderr}"
    );

    // skopeo reads the layout and the archive alike, and sees the config.
    let inspect = json(&run(
        "skopeo",
        &["inspect", "--config", "oci:build/image:1.2"],
        &dir,
    ));
    let config = &inspect["config"];
    assert_eq!(config["User"], "65532:65532");
    assert_eq!(config["WorkingDir"], "/app");
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/cn", "run", "/app/main.cn"])
    );
    assert_eq!(inspect["created"], "2023-11-14T22:13:20Z");
    assert_eq!(
        config["Labels"]["org.opencontainers.image.version"], "1.2",
        "{inspect}"
    );
    let archive = json(&run("skopeo", &["inspect", "oci-archive:hello.tar"], &dir));
    assert_eq!(archive["Layers"].as_array().map(Vec::len), Some(2));
    // Copying verifies every blob against its digest.
    run(
        "skopeo",
        &["copy", "oci:build/image:1.2", "oci:copy:1.2"],
        &dir,
    );
    run(
        "skopeo",
        &[
            "copy",
            "oci-archive:hello.tar",
            "docker-archive:docker.tar:hello:1.2",
        ],
        &dir,
    );

    // umoci checks the layers against rootfs.diff_ids while it unpacks.
    run(
        "umoci",
        &["unpack", "--image", "build/image:1.2", "bundle"],
        &dir,
    );
    let rootfs = dir.join("bundle/rootfs");
    assert!(rootfs.join("cn").is_file());
    assert!(
        rootfs.join("app/greeting.cn").is_file(),
        "the imported module"
    );
    assert!(
        !rootfs.join("app/unused.cn").exists(),
        "only what the script imports"
    );
    assert!(
        rootfs.join("app/static/css/site.css").is_file(),
        "--include static"
    );
    assert!(rootfs.join("etc/ssl/certs/ca-certificates.crt").is_file());
    assert!(!rootfs.join("bin/sh").exists(), "no shell");

    // runc runs it: no network namespace (the host reaches it), no terminal, read-only root.
    let config_path = dir.join("bundle/config.json");
    let mut config = json(&std::fs::read_to_string(&config_path).expect("config.json"));
    config["process"]["terminal"] = Value::Bool(false);
    config["root"]["readonly"] = Value::Bool(true);
    if let Some(namespaces) = config["linux"]["namespaces"].as_array_mut() {
        namespaces.retain(|n| n["type"] != "network");
    }
    assert_eq!(config["process"]["user"]["uid"], 65532);
    std::fs::write(&config_path, config.to_string()).expect("write config.json");
    let id = format!("cn-test-{}", std::process::id());
    let mut command = Command::new("runc");
    command
        .args(["run", "--bundle"])
        .arg(dir.join("bundle"))
        .arg(&id);
    let container = Script::start_command(&mut command);
    let port = container.server_port();
    assert_eq!(get(port, "/healthz").status, 200);
    let hello = get(port, "/");
    assert_eq!(hello.status, 200);
    assert_eq!(hello.body, "hello from an image");
    run("runc", &["kill", &id, "TERM"], &dir);
    let (_, log, status) = container.finish();
    assert_eq!(status, 0, "{log:?}");
    assert!(log.iter().any(|l| l.contains("shutdown")), "{log:?}");
    let _ = Command::new("runc").args(["delete", "-f", &id]).status();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn builds_are_reproducible_and_a_code_change_touches_only_the_app_layer() {
    let runtime = static_runtime();
    let runtime = runtime.to_string_lossy();
    let first = folder("repro-a");
    let second = folder("repro-b");
    write_service(&first);
    write_service(&second);
    let build = |dir: &Path| {
        let (status, stdout, stderr) = cn_build(dir, &["main.cn", "--runtime", &runtime]);
        assert_eq!(status, 0, "{stderr}");
        stdout
    };
    let (a, b) = (build(&first), build(&second));
    assert!(a.starts_with("main:latest@sha256:"), "{a}");
    assert_eq!(a, b, "the same inputs give the same digest");
    let before = manifest(&first);
    std::fs::write(
        first.join("greeting.cn"),
        "fn hello():\n    return \"changed\"\n",
    )
    .expect("write");
    let c = build(&first);
    assert_ne!(a, c);
    let after = manifest(&first);
    assert_eq!(
        before["layers"][0], after["layers"][0],
        "the runtime layer is the same"
    );
    assert_ne!(before["layers"][1], after["layers"][1]);
    let _ = std::fs::remove_dir_all(&first);
    let _ = std::fs::remove_dir_all(&second);
}

#[test]
fn bad_input_is_one_clear_line_and_nothing_is_written() {
    let dir = folder("bad");
    let (status, _, stderr) = cn_build(&dir, &["missing.cn"]);
    assert_eq!(status, 1);
    assert_eq!(stderr, "cn build: missing.cn: no such script\n");

    std::fs::write(dir.join("broken.cn"), "fn main(:\n    pass\n").expect("write");
    let (status, _, stderr) = cn_build(&dir, &["broken.cn"]);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("broken.cn:1"),
        "points at the line: {stderr}"
    );
    assert!(stderr.ends_with("cn build: the script does not compile; nothing was written\n"));
    assert!(!dir.join("build").exists());

    std::fs::write(dir.join("lonely.cn"), "import nowhere\n").expect("write");
    let (status, _, stderr) = cn_build(&dir, &["lonely.cn"]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with(
            "cn build: lonely.cn imports 'nowhere', which is neither a standard module nor a file"
        ),
        "{stderr}"
    );

    std::fs::write(dir.join("ok.cn"), "print(1)\n").expect("write");
    let outside = std::env::temp_dir().join(format!("cn-outside-{}.txt", std::process::id()));
    std::fs::write(&outside, "not in the folder\n").expect("write");
    let (status, _, stderr) = cn_build(
        &dir,
        &["ok.cn", "--include", outside.to_str().expect("utf-8")],
    );
    let _ = std::fs::remove_file(&outside);
    assert_eq!(status, 1);
    assert!(
        stderr.contains("is outside the script's folder"),
        "{stderr}"
    );
    std::fs::write(dir.join("not-a-dir"), "").expect("write");
    let (status, _, stderr) = cn_build(&dir, &["ok.cn", "-o", "not-a-dir"]);
    assert_eq!(status, 1);
    assert!(
        stderr.starts_with("cn build: cannot create not-a-dir"),
        "{stderr}"
    );

    // The cn running the tests is linked dynamically: the image would have no libc for it.
    let (status, _, stderr) = cn_build(&dir, &["ok.cn"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("is dynamically linked"), "{stderr}");
    assert!(!dir.join("build/image").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The validator of manifests against the Kubernetes schemas (PyPI `kubernetes-validate`): on
/// PATH, or in the virtualenv `.ci/run` makes under target/tools.
fn kubernetes_validate() -> Option<PathBuf> {
    let local =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/venv/bin/kubernetes-validate");
    if local.is_file() {
        return Some(local);
    }
    have("kubernetes-validate").then(|| PathBuf::from("kubernetes-validate"))
}

/// The manifests of the examples and of a configured service: pinned by goldens (the image
/// digest, which changes with every cn, is left out) and valid for Kubernetes 1.34 by
/// `kubernetes-validate --strict` (unknown fields are errors).
#[test]
fn manifests_are_complete_valid_and_pinned() {
    let runtime = static_runtime();
    let runtime = runtime.to_string_lossy();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = [
        ("hello", root.join("examples/hello.cn"), &[][..]),
        ("shop", root.join("examples/shop.cn"), &[][..]),
        (
            "configured",
            root.join("tests/build/configured/app.cn"),
            &["--replicas", "2", "--memory", "256Mi"][..],
        ),
    ];
    let digest = |text: &str| -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find("@sha256:") {
            out.push_str(&rest[..at]);
            out.push_str("@sha256:<digest>");
            rest = &rest[(at + 8 + 64).min(rest.len())..];
        }
        out.push_str(rest);
        out
    };
    let mut failures = Vec::new();
    let mut written = Vec::new();
    for (name, script, extra) in cases {
        let out = folder(&format!("manifests-{name}"));
        let mut args = vec![
            script.to_str().expect("utf-8 path"),
            "--runtime",
            &runtime,
            "-o",
        ];
        let out_arg = out.to_string_lossy().into_owned();
        args.push(&out_arg);
        args.extend_from_slice(extra);
        let (status, _, stderr) = cn_build(&out, &args);
        assert_eq!(status, 0, "{name}: {stderr}");
        let k8s = out.join("k8s");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&k8s)
            .expect("k8s/")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("a manifest");
            let golden = root
                .join("tests/build")
                .join(name)
                .join(file.file_name().expect("a name"));
            golden_rule::check_golden(&golden, &digest(&text), &mut failures);
            written.push(file.clone());
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden mismatches (CN_UPDATE_GOLDEN=1 rewrites):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    if let Some(validator) = kubernetes_validate() {
        let mut command = Command::new(validator);
        command.args(["--strict", "-k", "1.34.0"]).args(&written);
        let done = finish(&mut command, None, LIMIT);
        assert_eq!(done.status, Some(0), "{}{}", done.stdout, done.stderr);
        assert_eq!(
            done.stdout.matches("passed").count(),
            written.len(),
            "{}",
            done.stdout
        );
    }
}

/// A `docker-registry` on 127.0.0.1, storing into `dir`, with htpasswd basic auth for
/// `alice` / `s3cret` when `auth`. Killed when dropped.
struct Registry {
    child: std::process::Child,
    port: u16,
}

impl Registry {
    /// `auth` is the registry's `auth:` section, if any (see [`htpasswd`]).
    fn start(dir: &Path, auth: Option<String>) -> Registry {
        std::fs::create_dir_all(dir).expect("registry dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.join("data").display()
        );
        if let Some(auth) = auth {
            config.push_str(&auth);
        }
        std::fs::write(dir.join("config.yml"), config).expect("config");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(dir.join("config.yml"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        let registry = Registry { child, port };
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < common::PATIENCE,
                "the registry did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }
}

/// The `auth:` section of htpasswd basic auth for `alice` / `s3cret`, its file written in `dir`.
fn htpasswd(dir: &Path) -> String {
    std::fs::create_dir_all(dir).expect("registry dir");
    let hash = bcrypt::hash("s3cret", 4).expect("bcrypt");
    std::fs::write(dir.join("htpasswd"), format!("alice:{hash}\n")).expect("htpasswd");
    format!(
        "auth:\n  htpasswd:\n    realm: cn-test\n    path: {}\n",
        dir.join("htpasswd").display()
    )
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `--push` to a real registry: the digest a pull sees is the one printed; a second push of a
/// changed app uploads only what changed (never the runtime layer again); credentials come from
/// the Docker config, and a registry that refuses them is one clear line.
#[test]
fn pushes_to_a_real_registry() {
    if !(have("docker-registry") && have("skopeo")) {
        return;
    }
    let runtime = static_runtime();
    let runtime = runtime.to_string_lossy();
    let dir = folder("push");
    write_service(&dir);
    let registry = Registry::start(&dir, Some(htpasswd(&dir)));
    let reference = format!("127.0.0.1:{}/team/hello:1.0", registry.port);
    let push = |docker_config: &Path| {
        finish(
            Command::new(CN)
                .args(["build", "main.cn", "--runtime", &runtime, "-t", &reference])
                .args(["--push", "--insecure"])
                .current_dir(&dir)
                .env("DOCKER_CONFIG", docker_config)
                .env("SOURCE_DATE_EPOCH", "1700000000"),
            None,
            LIMIT,
        )
    };
    let config_dir = |name: &str, auth: Option<&str>| {
        let config = dir.join(name);
        std::fs::create_dir_all(&config).expect("config dir");
        if let Some(auth) = auth {
            let auth = base64_of(auth);
            let json = format!(
                r#"{{"auths":{{"127.0.0.1:{}":{{"auth":"{auth}"}}}}}}"#,
                registry.port
            );
            std::fs::write(config.join("config.json"), json).expect("config.json");
        }
        config
    };

    let none = push(&config_dir("none", None));
    assert_eq!(none.status, Some(1));
    assert!(
        none.stderr
            .contains("asks for credentials and the Docker config has none"),
        "{}",
        none.stderr
    );
    let wrong = push(&config_dir("wrong", Some("alice:guess")));
    assert_eq!(wrong.status, Some(1));
    assert!(
        wrong.stderr.contains("refused the credentials"),
        "{}",
        wrong.stderr
    );

    let good = config_dir("good", Some("alice:s3cret"));
    let first = push(&good);
    assert_eq!(first.status, Some(0), "{}", first.stderr);
    assert!(
        first.stderr.contains("(3 blobs uploaded, 0 already there)"),
        "{}",
        first.stderr
    );
    let digest = first
        .stdout
        .trim()
        .rsplit('@')
        .next()
        .expect("a digest")
        .to_string();
    let creds = "--creds=alice:s3cret";
    let source = format!("docker://{reference}");
    let seen = json(&run(
        "skopeo",
        &["inspect", "--tls-verify=false", creds, &source],
        &dir,
    ));
    assert_eq!(seen["Digest"], digest.as_str());
    run(
        "skopeo",
        &[
            "copy",
            "--src-tls-verify=false",
            "--src-creds=alice:s3cret",
            &source,
            "oci:pulled:1.0",
        ],
        &dir,
    );

    std::fs::write(dir.join("greeting.cn"), "fn hello():\n    return \"v2\"\n").expect("write");
    let second = push(&good);
    assert_eq!(second.status, Some(0), "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains("(2 blobs uploaded, 1 already there)"),
        "only the app layer and the config: {}",
        second.stderr
    );
    drop(registry);

    // A registry without authentication takes the same push with no Docker config at all.
    let open = Registry::start(&dir.join("open-registry"), None);
    let reference = format!("127.0.0.1:{}/hello:2.0", open.port);
    let done = finish(
        Command::new(CN)
            .args(["build", "main.cn", "--runtime", &runtime, "-t", &reference])
            .args(["--push", "--insecure"])
            .current_dir(&dir)
            .env("DOCKER_CONFIG", dir.join("none")),
        None,
        LIMIT,
    );
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    let source = format!("docker://{reference}");
    let seen = json(&run(
        "skopeo",
        &["inspect", "--tls-verify=false", &source],
        &dir,
    ));
    assert_eq!(
        Some(seen["Digest"].as_str().unwrap_or("")),
        done.stdout.trim().rsplit('@').next()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Standard base64 of `text` (for a Docker config's `auth`).
fn base64_of(text: &str) -> String {
    base64_chunks(text.as_bytes())
}

/// Standard base64 with padding.
fn base64_chunks(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `--platform linux/amd64,linux/arm64` makes an image index: one manifest per platform, each
/// with its own runtime layer and the same app layer, accepted by `skopeo copy --all` (which
/// verifies every blob). No arm64 toolchain exists here, so the arm64 runtime is the amd64 one
/// with its ELF machine field changed: enough for the index, not for running it.
#[test]
fn platforms_make_an_image_index_sharing_the_app_layer() {
    if !have("skopeo") {
        return;
    }
    let runtime = static_runtime();
    let dir = folder("platforms");
    write_service(&dir);
    let mut arm = std::fs::read(&runtime).expect("the runtime");
    arm[18..20].copy_from_slice(&183u16.to_le_bytes());
    std::fs::write(dir.join("cn-arm64"), arm).expect("write");
    let amd = runtime.to_string_lossy();
    let (status, _, stderr) = cn_build(
        &dir,
        &[
            "main.cn",
            "--platform",
            "linux/amd64,linux/arm64",
            "--runtime",
            &amd,
            "--runtime",
            "linux/arm64=cn-arm64",
        ],
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("(amd64, arm64)"), "{stderr}");
    let index = json(&run(
        "skopeo",
        &["inspect", "--raw", "oci:build/image:latest"],
        &dir,
    ));
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let platforms: Vec<&str> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|m| {
            m["platform"]["architecture"]
                .as_str()
                .expect("an architecture")
        })
        .collect();
    assert_eq!(platforms, ["amd64", "arm64"]);
    let layers = |i: usize| {
        let digest = index["manifests"][i]["digest"].as_str().expect("digest");
        let path = dir
            .join("build/image/blobs")
            .join(digest.replacen(':', "/", 1));
        json(&std::fs::read_to_string(path).expect("manifest"))["layers"].clone()
    };
    let (a, b) = (layers(0), layers(1));
    assert_ne!(a[0], b[0], "a runtime layer per platform");
    assert_eq!(a[1], b[1], "one app layer");
    run(
        "skopeo",
        &["copy", "--all", "oci:build/image:latest", "oci:copy:latest"],
        &dir,
    );

    let (status, _, stderr) = cn_build(
        &dir,
        &["main.cn", "--platform", "linux/arm64", "--runtime", &amd],
    );
    assert_eq!(status, 1);
    assert!(
        stderr.contains("no runtime for linux/arm64") && stderr.contains("is a linux/amd64 binary"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// In a git repository, the timestamp is the last commit's (said so), and the labels carry the
/// revision and the remote without its credentials.
#[test]
fn a_git_folder_gives_the_epoch_revision_and_source() {
    if !have("git") {
        return;
    }
    let runtime = static_runtime();
    let runtime = runtime.to_string_lossy();
    let dir = folder("git");
    write_service(&dir);
    let git = |args: &[&str]| {
        let done = finish(
            Command::new("git")
                .args(args)
                .current_dir(&dir)
                .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00Z")
                .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00Z"),
            None,
            LIMIT,
        );
        assert_eq!(done.status, Some(0), "git {args:?}: {}", done.stderr);
        done.stdout
    };
    git(&["init", "-q"]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "add",
        ".",
    ]);
    git(&[
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-qm",
        "first",
    ]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://bob:token@git.example.com/team/hello.git",
    ]);
    let revision = git(&["rev-parse", "HEAD"]);
    let done = finish(
        Command::new(CN)
            .args(["build", "main.cn", "--runtime", &runtime, "-t", "hello:3.1"])
            .current_dir(&dir)
            .env_remove("SOURCE_DATE_EPOCH"),
        None,
        LIMIT,
    );
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert!(
        done.stderr
            .contains("created: 2024-03-01T12:00:00Z (from the last git commit)"),
        "{}",
        done.stderr
    );
    let labels = &manifest(&dir)["annotations"];
    assert_eq!(labels["org.opencontainers.image.revision"], revision.trim());
    assert_eq!(
        labels["org.opencontainers.image.source"],
        "https://git.example.com/team/hello.git"
    );
    assert_eq!(labels["org.opencontainers.image.version"], "3.1");
    assert_eq!(
        labels["org.opencontainers.image.created"],
        "2024-03-01T12:00:00Z"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A token service for a registry with `auth: token`: answers `GET /token` (with alice's basic
/// credentials) with an ES256 JWT granting pull and push, signed by a key whose self-signed
/// certificate the registry trusts. Counts the tokens it gave.
struct TokenService {
    port: u16,
    issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TokenService {
    /// Starts the service; writes the certificate the registry needs to `cert`.
    fn start(cert: &Path, service: &str) -> TokenService {
        use std::io::{BufRead, BufReader, Write};
        let key = rcgen::KeyPair::generate().expect("a key");
        let certificate = rcgen::CertificateParams::new(vec!["token".to_string()])
            .expect("params")
            .self_signed(&key)
            .expect("a certificate");
        std::fs::write(cert, certificate.pem()).expect("write the certificate");
        let rng = ring::rand::SystemRandom::new();
        let signer = ring::signature::EcdsaKeyPair::from_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &key.serialize_der(),
            &rng,
        )
        .expect("the signing key");
        let x5c = base64_of_bytes(certificate.der(), false);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let issued = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = issued.clone();
        let service = service.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let mut reader = BufReader::new(stream);
                let mut request = String::new();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line.trim() != "" {
                    request.push_str(&line);
                    line.clear();
                }
                let mut stream = reader.into_inner();
                let expected = format!("Basic {}", base64_of("alice:s3cret"));
                let answer = if request.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("authorization:") && l.contains(&expected)
                }) {
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .expect("clock")
                        .as_secs();
                    let header = format!(r#"{{"typ":"JWT","alg":"ES256","x5c":["{x5c}"]}}"#);
                    let claims = format!(
                        r#"{{"iss":"cn-test-issuer","sub":"alice","aud":"{service}","exp":{},"nbf":{},"iat":{now},"jti":"{now}","access":[{{"type":"repository","name":"team/hello","actions":["pull","push"]}}]}}"#,
                        now + 300,
                        now - 10
                    );
                    let signing_input = format!(
                        "{}.{}",
                        base64_of_bytes(header.as_bytes(), true),
                        base64_of_bytes(claims.as_bytes(), true)
                    );
                    let signature = signer.sign(&rng, signing_input.as_bytes()).expect("signed");
                    let token = format!(
                        "{signing_input}.{}",
                        base64_of_bytes(signature.as_ref(), true)
                    );
                    count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let body = format!(r#"{{"token":"{token}"}}"#);
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = stream.write_all(answer.as_bytes());
            }
        });
        TokenService { port, issued }
    }
}

/// Base64 of `bytes`: standard with padding, or URL-safe without (JWT).
fn base64_of_bytes(bytes: &[u8], url: bool) -> String {
    let text = base64_chunks(bytes);
    if url {
        text.trim_end_matches('=')
            .replace('+', "-")
            .replace('/', "_")
    } else {
        text
    }
}

/// The bearer-token flow against a real registry (`auth: token`): the registry's challenge
/// names the token service, cn asks it with the Docker config's credentials, and pushes with
/// the token; skopeo then sees the same digest.
#[test]
fn pushes_with_a_bearer_token() {
    if !(have("docker-registry") && have("skopeo")) {
        return;
    }
    let runtime = static_runtime();
    let runtime = runtime.to_string_lossy();
    let dir = folder("bearer");
    write_service(&dir);
    let tokens = TokenService::start(&dir.join("token.pem"), "cn-test-registry");
    let auth = format!(
        "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: cn-test-registry\n    issuer: cn-test-issuer\n    rootcertbundle: {}\n",
        tokens.port,
        dir.join("token.pem").display()
    );
    let registry = Registry::start(&dir.join("registry"), Some(auth));
    let port = registry.port;
    let docker = dir.join("docker");
    std::fs::create_dir_all(&docker).expect("docker config dir");
    std::fs::write(
        docker.join("config.json"),
        format!(
            r#"{{"auths":{{"127.0.0.1:{port}":{{"auth":"{}"}}}}}}"#,
            base64_of("alice:s3cret")
        ),
    )
    .expect("config.json");
    let reference = format!("127.0.0.1:{port}/team/hello:1.0");
    let done = finish(
        Command::new(CN)
            .args(["build", "main.cn", "--runtime", &runtime, "-t", &reference])
            .args(["--push", "--insecure"])
            .current_dir(&dir)
            .env("DOCKER_CONFIG", &docker),
        None,
        LIMIT,
    );
    assert_eq!(done.status, Some(0), "{}", done.stderr);
    assert!(tokens.issued.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    let digest = done
        .stdout
        .trim()
        .rsplit('@')
        .next()
        .expect("a digest")
        .to_string();
    let source = format!("docker://{reference}");
    let seen = json(&run(
        "skopeo",
        &[
            "inspect",
            "--tls-verify=false",
            "--creds=alice:s3cret",
            &source,
        ],
        &dir,
    ));
    assert_eq!(seen["Digest"], digest.as_str());
    let _ = std::fs::remove_dir_all(&dir);
}
