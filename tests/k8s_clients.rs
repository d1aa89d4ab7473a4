//! The test API server (`common/kube_api.rs`) checked against real clients, so that what the
//! `k8s` tests prove is proven against the wire format real tools speak: Debian's `kubectl` and
//! the Python `kubernetes` client list, get, create, delete and watch through it.

mod common;
#[path = "common/kube_api.rs"]
mod kube_api;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use kube_api::KubeApi;
use serde_json::json;

const PODS: &str = "/api/v1/namespaces/team/pods";

fn pod(name: &str, app: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "labels": {"app": app}},
           "spec": {"containers": [{"name": "c", "image": "busybox"}]},
           "status": {"phase": "Running"}})
}

/// A server with two pods and a kubeconfig for it (namespace `team`).
fn setup(name: &str) -> (KubeApi, std::path::PathBuf) {
    let api = KubeApi::start();
    api.put(PODS, pod("web-0", "web"));
    api.put(PODS, pod("db-0", "db"));
    let dir = std::env::temp_dir().join(format!("cn-k8s-clients-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    api.write_kubeconfig(&dir.join("kubeconfig"), "team");
    (api, dir)
}

fn kubectl(dir: &std::path::Path, args: &[&str]) -> common::Finished {
    common::finish(
        Command::new("kubectl")
            .args(args)
            .env("KUBECONFIG", dir.join("kubeconfig"))
            .env("HOME", dir),
        None,
        Duration::from_secs(60),
    )
}

#[test]
fn kubectl_lists_gets_creates_deletes_and_watches() {
    let (api, dir) = setup("kubectl");
    let run = |args: &[&str]| {
        let done = kubectl(&dir, args);
        assert_eq!(
            done.status,
            Some(0),
            "kubectl {args:?}: {}{}",
            done.stdout,
            done.stderr
        );
        done.stdout
    };
    assert_eq!(run(&["get", "pods", "-o", "name"]), "pod/db-0\npod/web-0\n");
    assert_eq!(
        run(&["get", "pods", "-l", "app=web", "-o", "name"]),
        "pod/web-0\n"
    );
    assert_eq!(
        run(&["get", "pod", "db-0", "-o", "jsonpath={.status.phase}"]),
        "Running"
    );
    // From a manifest (kubectl's typed `create configmap` sends protobuf, which only a real
    // server decodes; manifests go as JSON). Without OpenAPI documents here, kubectl's
    // client-side schema validation is off.
    let manifest = dir.join("settings.json");
    let settings = |mode: &str| {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
               "data": {"mode": mode}})
        .to_string()
    };
    std::fs::write(&manifest, settings("fast")).expect("manifest");
    let manifest = manifest.to_str().expect("utf-8 path");
    assert_eq!(
        run(&["create", "--validate=false", "-f", manifest]),
        "configmap/settings created\n"
    );
    assert_eq!(
        run(&[
            "get",
            "configmap",
            "settings",
            "-o",
            "jsonpath={.data.mode}"
        ]),
        "fast"
    );
    std::fs::write(dir.join("settings.json"), settings("slow")).expect("manifest");
    assert_eq!(
        run(&[
            "apply",
            "--server-side",
            "--validate=false",
            "--field-manager=ops",
            "-f",
            manifest
        ]),
        "configmap/settings serverside-applied\n"
    );
    assert_eq!(
        run(&[
            "get",
            "configmap",
            "settings",
            "-o",
            "jsonpath={.data.mode}"
        ]),
        "slow"
    );
    assert_eq!(
        run(&["delete", "configmap", "settings"]),
        "configmap \"settings\" deleted\n"
    );
    let missing = kubectl(&dir, &["get", "configmap", "settings"]);
    assert_eq!(missing.status, Some(1));
    assert!(missing.stderr.contains("not found"), "{}", missing.stderr);

    // A watch: the pods there, then one added while it runs.
    let mut watch = Command::new("kubectl")
        .args(["get", "pods", "--watch", "-o", "name"])
        .env("KUBECONFIG", dir.join("kubeconfig"))
        .env("HOME", &dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("kubectl runs");
    let mut lines = BufReader::new(watch.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    assert_eq!((next(), next()), ("pod/db-0".into(), "pod/web-0".into()));
    api.put(PODS, pod("web-1", "web"));
    assert_eq!(next(), "pod/web-1");
    let _ = watch.kill();
    let _ = watch.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

const PYTHON: &str = r#"
import sys
from kubernetes import client, config, watch

config.load_kube_config(config_file=sys.argv[1])
v1 = client.CoreV1Api()
print(sorted(p.metadata.name for p in v1.list_namespaced_pod("team").items))
print([p.metadata.name for p in v1.list_namespaced_pod("team", label_selector="app=db").items])
print(v1.read_namespaced_pod("web-0", "team").status.phase)
body = client.V1ConfigMap(metadata=client.V1ObjectMeta(name="settings"), data={"mode": "fast"})
created = v1.create_namespaced_config_map("team", body)
print(created.metadata.name, created.metadata.resource_version is not None)
print(v1.read_namespaced_config_map("settings", "team").data)
try:
    v1.read_namespaced_config_map("nothing", "team")
except client.exceptions.ApiException as e:
    print("status", e.status)
sys.stdout.flush()
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, "team", timeout_seconds=30):
    print(event["type"], event["object"].metadata.name)
    sys.stdout.flush()
    if event["object"].metadata.name == "web-1":
        w.stop()
"#;

#[test]
fn the_python_client_lists_gets_creates_and_watches() {
    let (api, dir) = setup("python");
    std::fs::write(dir.join("client.py"), PYTHON).expect("script");
    let mut child = Command::new("/usr/bin/python3")
        .arg(dir.join("client.py"))
        .arg(dir.join("kubeconfig"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut next = || lines.next().and_then(Result::ok).unwrap_or_default();
    let mut seen: Vec<String> = (0..8).map(|_| next()).collect();
    api.put(PODS, pod("web-1", "web"));
    seen.push(next());
    let status = child.wait().expect("python3 ends");
    let mut stderr = String::new();
    let _ = std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr);
    assert!(status.success(), "{seen:?} {stderr}");
    assert_eq!(
        seen,
        [
            "['db-0', 'web-0']",
            "['db-0']",
            "Running",
            "settings True",
            "{'mode': 'fast'}",
            "status 404",
            "ADDED db-0",
            "ADDED web-0",
            "ADDED web-1",
        ]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
