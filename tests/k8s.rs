//! The `k8s` module against the test API server (`common/kube_api.rs`): a kubeconfig's current
//! context, every verb, selectors and pages, objects as values, the API's errors as `Err`s, and
//! a custom resource found by discovery (an unknown kind faults, naming it).

mod common;
#[path = "common/kube_api.rs"]
mod kube_api;

use std::process::Command;
use std::time::Duration;

use kube_api::KubeApi;

const SCRIPT: &str = r#"import k8s

fn pod(name, app):
    return k8s.Object({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "labels": {"app": app}},
                       "spec": {"containers": [{"name": "c", "image": "x"}]},
                       "status": {"phase": "Running", "log": "starting\nserving\nstill serving"}})

fn main():
    client = k8s.Client(config=args()[0])
    print(client.namespace)
    created = client.configmaps.create(k8s.ConfigMap(name="myconfig", data={"key": "value"}))?
    print(created, created.uid != nil, created.data)
    match client.configmaps.create(k8s.ConfigMap(name="myconfig", data={})):
        case Err(AlreadyExists(message)):
            print("again:", message)
    for i in range(5):
        client.pods.create(pod(f"web-{i}", "web"))?
    client.pods.create(pod("db-0", "db"))?
    pods = client.pods.list()?
    print(len(pods), "pods")
    for p in client.pods.list(labels={"app": "db"})?:
        print(f"{p.name}: {p.status}", p.labels)
    cm = client.configmaps.get("myconfig")?
    changed = client.configmaps.patch("myconfig", {"data": {"more": "yes"}})?
    print(changed.data, changed.resource_version != cm.resource_version)
    match client.configmaps.replace(cm):
        case Err(Conflict(message)):
            print("stale replace:", message)
    client.configmaps.delete("myconfig")?
    match client.configmaps.get("myconfig"):
        case Err(NotFound(message)):
            print("gone:", message)
    s = client.secrets.create(k8s.Secret(name="creds", data={"password": "hunter2"}))?
    print(s.data, s.data["password"].reveal())
    print(client.pods.get("web-0", namespace="elsewhere"))
    print(repr(client.pods.logs("web-1", tail=2)?))
    widgets = client.resource("example.com/v1", "Widget")
    widgets.create({"metadata": {"name": "w1"}, "spec": {"size": 3}})?
    w = widgets.get("w1")?
    print(widgets, w, w.api_version, w.spec)
    client.resource("example.com/v1", "Gadget")
"#;

#[test]
fn a_client_runs_every_verb_against_an_api_server() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    std::fs::write(dir.join("client.cn"), SCRIPT).expect("script");
    let done = common::finish(
        Command::new(common::CN)
            .args(["run", "client.cn"])
            .arg(&kubeconfig)
            .current_dir(&dir)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .env("NO_COLOR", "1"),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(done.status, Some(1), "{}{}", done.stdout, done.stderr);
    assert!(
        done.stderr
            .contains("client.resource: the server has no kind Gadget in example.com/v1"),
        "{}",
        done.stderr
    );
    assert_eq!(
        done.stdout,
        "team\n\
         <k8s ConfigMap team/myconfig> true {\"key\": \"value\"}\n\
         again: \"myconfig\" already exists\n\
         6 pods\n\
         db-0: Running {\"app\": \"db\"}\n\
         {\"key\": \"value\", \"more\": \"yes\"} true\n\
         stale replace: the object has been modified; please apply your changes to the latest version and try again\n\
         gone: \"myconfig\" not found\n\
         {\"password\": ***} hunter2\n\
         Err(NotFound(\"\\\"web-0\\\" not found\"))\n\
         \"serving\\nstill serving\\n\"\n\
         <k8s.Resources widgets> <k8s Widget team/w1> example.com/v1 {\"size\": 3}\n"
    );
    let requests = api.requests();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /api/v1/namespaces/team/pods?")
                && r.contains("labelSelector=app%3Ddb")),
        "{requests:?}"
    );
    assert!(
        requests.iter().any(|r| r.starts_with("GET /api/v1/namespaces/team/pods?")
            && r.contains("continue=4")),
        "the 6 pods came in two pages: {requests:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
