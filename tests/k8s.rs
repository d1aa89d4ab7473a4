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

/// The seed's watch loop, as written.
const WATCH: &str = r#"import k8s

fn main():
    client = k8s.Client()
    for event in client.pods.watch(namespace="default"):
        match event:
            case Added(pod):
                print(f"Pod added: {pod.name}")
            case Modified(pod):
                print(f"Pod modified: {pod.name}")
            case Deleted(pod):
                print(f"Pod deleted: {pod.name}")
"#;

const PODS: &str = "/api/v1/namespaces/default/pods";

fn pod(name: &str, app: &str) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "labels": {"app": app}},
                       "status": {"phase": "Running"}})
}

#[test]
fn a_watch_survives_dropped_streams_and_410_without_losing_or_repeating_events() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-watch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    for name in ["a", "b", "d"] {
        api.put(PODS, pod(name, "web"));
    }
    let script = common::Script::start_with_env(
        "watch",
        WATCH,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8 path"))],
    );
    // The objects there now, then live changes.
    for name in ["a", "b", "d"] {
        script.expect_line(&format!("Pod added: {name}"));
    }
    api.put(PODS, pod("e", "web"));
    script.expect_line("Pod added: e");

    // A dropped stream resumes from the last bookmark: a version only a bookmark told of.
    api.put(
        "/api/v1/namespaces/default/configmaps",
        serde_json::json!({"metadata": {"name": "c1"}}),
    );
    let marked = api.version();
    while !api.bookmarks().contains(&marked) {
        std::thread::sleep(Duration::from_millis(10));
    }
    api.drop_watches();
    api.put(PODS, pod("f", "web"));
    script.expect_line("Pod added: f");
    let resumed = format!("resourceVersion={marked}");
    api.wait_request(|r| {
        r.contains("watch=true") && r.split(['?', '&']).any(|param| param == resumed)
    });

    // Changes while the watch is away, then 410 Gone: a re-list told as its differences only
    // (d, e and f are not told again).
    api.hold_watches(true);
    api.drop_watches();
    api.put(PODS, pod("a", "changed"));
    api.delete(PODS, "b");
    api.put(PODS, pod("c", "web"));
    api.compact();
    api.hold_watches(false);
    script.expect_line("Pod modified: a");
    script.expect_line("Pod added: c");
    script.expect_line("Pod deleted: b");
    let mut skipped = Vec::new();
    script.wait_log("410 Gone", &mut skipped);
    api.put(PODS, pod("g", "web"));
    script.expect_line("Pod added: g");

    // The loop ends at shutdown.
    script.signal("TERM");
    let (rest, log, status) = script.finish();
    assert_eq!((rest, status), (Vec::<String>::new(), 0), "{log:?}");
    let watch = api.wait_request(|r| r.contains("watch=true"));
    assert!(
        watch.contains("allowWatchBookmarks=true") && watch.contains("timeoutSeconds=290"),
        "{watch}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const INFORMER: &str = r#"import k8s
import signal

fn main():
    client = k8s.Client()
    pods = client.pods.informer(namespace="default", labels={"app": "web"})?
    print(pods, [p.name for p in pods.list()], pods.get("a").status, pods.get("zzz"))

    @pods.on_add
    fn added(pod):
        print("add", pod.name)

    @pods.on_update
    fn updated(old, new):
        print("update", new.name, old.labels["tier"], "->", new.labels["tier"])

    @pods.on_delete
    fn deleted(pod):
        print("delete", pod.name)

    signal.wait()
    print("cached:", [p.name for p in pods.list()])
"#;

fn web_pod(name: &str, tier: &str) -> serde_json::Value {
    serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "labels": {"app": "web", "tier": tier}},
                       "status": {"phase": "Running"}})
}

#[test]
fn an_informer_caches_a_kind_and_calls_back_on_each_change() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-informer-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    api.put(PODS, web_pod("a", "1"));
    api.put(PODS, web_pod("b", "1"));
    api.put(PODS, pod("x", "db"));
    let script = common::Script::start_with_env(
        "informer",
        INFORMER,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8 path"))],
    );
    script.expect_line(r#"<k8s.Informer pods (2 cached)> ["a", "b"] Running nil"#);
    script.expect_line("add a");
    script.expect_line("add b");
    api.put(PODS, web_pod("c", "1"));
    script.expect_line("add c");
    api.put(PODS, web_pod("a", "2"));
    script.expect_line("update a 1 -> 2");
    api.delete(PODS, "b");
    script.expect_line("delete b");
    script.signal("TERM");
    let (rest, log, status) = script.finish();
    assert_eq!(rest, vec![r#"cached: ["a", "c"]"#], "{log:?}");
    assert_eq!(status, 0);

    // No server at first: the informer is an Err, not an empty cache.
    drop(api);
    let port = {
        let unused = std::net::TcpListener::bind(("127.0.0.1", 0)).expect("bind");
        unused.local_addr().expect("address").port()
    };
    let text = std::fs::read_to_string(&kubeconfig).expect("kubeconfig");
    let text = text.replace(
        &format!(
            "127.0.0.1:{}",
            text.split("127.0.0.1:")
                .nth(1)
                .and_then(|r| r.split('\n').next())
                .unwrap_or("")
        ),
        &format!("127.0.0.1:{port}"),
    );
    std::fs::write(&kubeconfig, text).expect("kubeconfig");
    std::fs::write(
        dir.join("unreachable.cn"),
        "import k8s\nprint(k8s.Client().pods.informer())\n",
    )
    .expect("script");
    let done = common::finish(
        Command::new(common::CN)
            .args(["run", "unreachable.cn"])
            .current_dir(&dir)
            .env("KUBECONFIG", &kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST"),
        None,
        Duration::from_secs(60),
    );
    assert!(
        done.stdout.starts_with("Err(ConnectError("),
        "{}{}",
        done.stdout,
        done.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

const APPLY: &str = r#"import k8s

fn settings(mode):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
            "data": {"mode": mode}}

fn main():
    client = k8s.Client()
    first = client.configmaps.apply(settings("fast"), field_manager="deployer")?
    print(first.data, first.namespace)
    print(client.configmaps.apply(settings("fast"), field_manager="deployer")?.data)
    match client.configmaps.apply(settings("slow"), field_manager="operator"):
        case Err(Conflict(message)):
            print("conflict:", message)
    print(client.configmaps.apply(settings("slow"), field_manager="operator", force=true)?.data)
    ops = [{"op": "test", "path": "/data/mode", "value": "slow"},
           {"op": "add", "path": "/data/extra", "value": "1"}]
    print(client.configmaps.patch("settings", ops)?.data)
    print(client.configmaps.patch("settings", [{"op": "test", "path": "/data/mode", "value": "fast"}]))
    client.configmaps.patch("settings", "nonsense")
"#;

#[test]
fn server_side_apply_owns_fields_and_json_patches_test_before_they_change() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    std::fs::write(dir.join("apply.cn"), APPLY).expect("script");
    let done = common::finish(
        Command::new(common::CN)
            .args(["run", "apply.cn"])
            .current_dir(&dir)
            .env("KUBECONFIG", &kubeconfig)
            .env("NO_COLOR", "1")
            .env_remove("KUBERNETES_SERVICE_HOST"),
        None,
        Duration::from_secs(60),
    );
    assert_eq!(
        done.stdout,
        "{\"mode\": \"fast\"} team\n\
         {\"mode\": \"fast\"}\n\
         conflict: Apply failed with 1 conflict: conflict with \"deployer\": .data.mode\n\
         {\"mode\": \"slow\"}\n\
         {\"extra\": \"1\", \"mode\": \"slow\"}\n\
         Err(Invalid(\"the test of /data/mode failed\"))\n",
        "{}",
        done.stderr
    );
    assert!(
        done.stderr.contains(
            "patch: changes must be a dict (merge patch) or a list of operations (JSON patch)"
        ),
        "{}",
        done.stderr
    );
    let requests = api.requests();
    assert!(
        requests.iter().any(|r| r
            .starts_with("APPLY /api/v1/namespaces/team/configmaps/settings?")
            && r.contains("fieldManager=operator")
            && r.contains("force=true")),
        "{requests:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A Widget controller that keeps a ConfigMap per widget, with a finalizer; `failures` in a
/// widget's spec makes its first reconciles fail. It says only what it changed.
const CONTROLLER: &str = r#"import http
import k8s

client = k8s.Client()
widgets = client.resource("example.com/v1", "Widget")
attempts = {}
me = args()[0]

fn reconcile(widget):
    n = attempts.get(widget.name, 0) + 1
    attempts[widget.name] = n
    if n <= widget.spec.get("failures", 0):
        return Err(f"attempt {n} of {widget.name} failed on purpose")
    if widget.deleting:
        widgets.remove_finalizer(widget, "example.com/cleanup")?
        print(f"{me} cleaned up {widget.name}")
        return Ok(nil)
    widget = widgets.add_finalizer(widget, "example.com/cleanup")?
    name = f"{widget.name}-config"
    data = {"size": str(widget.spec["size"])}
    current = client.configmaps.get(name)
    if current.is_ok() and current.unwrap().data == data:
        return Ok(k8s.requeue_after(1.hours))
    desired = {"metadata": {"name": name, "ownerReferences": [widget.owner_reference()]},
               "data": data}
    client.configmaps.apply(desired, field_manager="widgets", force=true)?
    print(f"{me} updated {name} size={data['size']}")
    return Ok(k8s.requeue_after(1.hours))

fn main():
    controller = k8s.controller(widgets, reconcile=reconcile, owns=[client.configmaps],
                                leader_election=true, lease_duration=2.seconds)
    server = http.Server("127.0.0.1:0")
    spawn server.run()
    controller.run()
"#;

const WIDGETS: &str = "/apis/example.com/v1/namespaces/team/widgets";
const CONFIGMAPS: &str = "/api/v1/namespaces/team/configmaps";

fn widget(name: &str, spec: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget",
                       "metadata": {"name": name}, "spec": spec})
}

/// Changes a stored object the way another client would.
fn change(api: &KubeApi, collection: &str, name: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut object = api.get(collection, name).expect("the object exists");
    edit(&mut object);
    api.put(collection, object);
}

#[test]
fn a_controller_reconciles_owned_objects_backs_off_and_hands_over_its_lease() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-controller-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    std::fs::write(dir.join("controller.cn"), CONTROLLER).expect("script");
    api.put(WIDGETS, widget("w1", serde_json::json!({"size": 3})));
    api.put(
        WIDGETS,
        widget("w2", serde_json::json!({"size": 1, "failures": 2})),
    );
    let start = |me: &str| {
        common::Script::start_command(
            Command::new(common::CN)
                .args(["run", "controller.cn", me])
                .current_dir(&dir)
                .env("KUBECONFIG", &kubeconfig),
        )
    };
    let a = start("A");
    let a_port = a.server_port();
    a.expect_line("A updated w1-config size=3");
    a.expect_line("A updated w2-config size=1");
    // w2 failed twice first, backing off 5 ms then 10 ms, and each failure is an Event. (w1 may
    // fail too: a reconcile that runs before its watch has seen the finalizer it just added
    // sends a stale resourceVersion and gets a Conflict, retried like any failure.)
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    while failures.len() < 2 {
        let failure = a.wait_log_msg("reconcile failed", &mut skipped);
        if failure["object"] == "team/w2" {
            failures.push(failure);
        }
    }
    assert_eq!(
        (&failures[0]["retry_in"], &failures[1]["retry_in"]),
        (&serde_json::json!("5ms"), &serde_json::json!("10ms")),
        "{failures:?}"
    );
    assert_eq!(failures[0]["error"], "attempt 1 of w2 failed on purpose");
    assert_eq!(failures[1]["error"], "attempt 2 of w2 failed on purpose");
    let events = api.list("/api/v1/namespaces/team/events");
    let about_w2: Vec<_> = events
        .iter()
        .filter(|e| e["involvedObject"]["name"] == "w2")
        .collect();
    assert_eq!(about_w2.len(), 2, "{events:?}");
    assert!(events
        .iter()
        .all(|e| e["reason"] == "ReconcileFailed" && e["type"] == "Warning"));
    let config = api.get(CONFIGMAPS, "w1-config").expect("w1-config");
    assert_eq!(config["metadata"]["ownerReferences"][0]["kind"], "Widget");
    assert_eq!(config["metadata"]["ownerReferences"][0]["controller"], true);

    // An owned object changed by someone else leads back to its owner; so does a new spec.
    change(&api, CONFIGMAPS, "w1-config", |cm| {
        cm["data"]["size"] = "99".into()
    });
    a.expect_line("A updated w1-config size=3");
    change(&api, WIDGETS, "w1", |w| w["spec"]["size"] = 4.into());
    a.expect_line("A updated w1-config size=4");
    let metrics = common::get(a_port, "/metrics").body;
    let count = |series: &str| -> f64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {metrics}"))
    };
    assert!(count("controller_reconcile_total{controller=\"widgets\",result=\"error\"}") >= 2.0);
    assert!(count("controller_reconcile_total{controller=\"widgets\",result=\"requeue\"}") >= 4.0);
    assert_eq!(count("controller_leader{controller=\"widgets\"}"), 1.0);
    assert!(count("controller_reconcile_duration_seconds_count{controller=\"widgets\"}") >= 6.0);
    assert!(
        metrics.contains("controller_queue_depth{controller=\"widgets\"}"),
        "{metrics}"
    );

    // A second replica waits while the first leads, and takes over when it shuts down.
    let b = start("B");
    b.wait_log_msg("waiting for leadership", &mut Vec::new());
    change(&api, WIDGETS, "w2", |w| w["spec"]["size"] = 5.into());
    a.expect_line("A updated w2-config size=5");
    a.signal("TERM");
    let (rest, log, status) = a.finish();
    assert_eq!((rest, status), (Vec::<String>::new(), 0), "{log:?}");
    b.wait_log_msg("leading", &mut Vec::new());
    change(&api, WIDGETS, "w2", |w| w["spec"]["size"] = 2.into());
    b.expect_line("B updated w2-config size=2");

    // Deleting a widget waits for its finalizer, which the controller removes after cleanup.
    api.delete(WIDGETS, "w1");
    b.expect_line("B cleaned up w1");
    let deadline = std::time::Instant::now() + common::PATIENCE;
    while api.get(WIDGETS, "w1").is_some() {
        assert!(std::time::Instant::now() < deadline, "w1 was never deleted");
        std::thread::sleep(Duration::from_millis(10));
    }
    b.signal("TERM");
    let (rest, log, status) = b.finish();
    assert_eq!((rest, status), (Vec::<String>::new(), 0), "{log:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

const FOLLOW: &str = r#"import k8s

fn main():
    client = k8s.Client()
    for line in client.pods.logs("job-1", namespace="default", follow=true):
        print("log:", line)
    print("log ended")
    for line in client.pods.logs("missing", namespace="default", follow=true):
        print(line)
"#;

#[test]
fn a_followed_log_streams_lines_until_the_container_ends() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-follow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    let mut job = pod("job-1", "batch");
    job["status"]["log"] = "line 1\n".into();
    api.put(PODS, job);
    let script = common::Script::start_with_env(
        "follow",
        FOLLOW,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8 path"))],
    );
    script.expect_line("log: line 1");
    change(&api, PODS, "job-1", |p| {
        p["status"]["log"] = "line 1\nline 2\n".into()
    });
    script.expect_line("log: line 2");
    change(&api, PODS, "job-1", |p| {
        p["status"]["log"] = "line 1\nline 2\nline 3\n".into();
        p["status"]["phase"] = "Succeeded".into();
    });
    script.expect_line("log: line 3");
    script.expect_line("log ended");
    let (rest, log, status) = script.finish();
    assert_eq!((rest, status), (Vec::<String>::new(), 1));
    assert!(
        log.iter()
            .any(|l| l
                .contains(r#"cannot iterate over Err(NotFound("pods \"missing\" not found"))"#)),
        "{log:?}"
    );
    assert!(api
        .requests()
        .iter()
        .any(|r| r.contains("/pods/job-1/log?") && r.contains("follow=true")));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn in_cluster_the_client_uses_the_service_account_over_tls() {
    let (tls, ca) = common::tls_config(&["127.0.0.1"]);
    let api = KubeApi::start_with(Some(tls), Some("sa-token-1"));
    api.put("/api/v1/namespaces/ops/pods", pod("p1", "web"));
    let dir = std::env::temp_dir().join(format!("cn-k8s-incluster-{}", std::process::id()));
    let account = dir.join("serviceaccount");
    std::fs::create_dir_all(&account).expect("temp dir");
    std::fs::write(account.join("ca.crt"), ca).expect("ca");
    std::fs::write(account.join("namespace"), "ops\n").expect("namespace");
    std::fs::write(
        dir.join("list.cn"),
        "import k8s\nclient = k8s.Client()\nprint(client.server, client.namespace)\nprint([p.name for p in client.pods.list()])\n",
    )
    .expect("script");
    let run = |token: Option<&str>, host: Option<&str>| {
        match token {
            Some(token) => std::fs::write(account.join("token"), token).expect("token"),
            None => {
                let _ = std::fs::remove_file(account.join("token"));
            }
        }
        let mut command = Command::new(common::CN);
        command
            .args(["run", "list.cn"])
            .current_dir(&dir)
            .env("KUBERNETES_SERVICE_PORT", api.port.to_string())
            .env("CN_K8S_SERVICE_ACCOUNT_DIR", &account)
            .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
            .env("NO_COLOR", "1");
        match host {
            Some(host) => command.env("KUBERNETES_SERVICE_HOST", host),
            None => command.env_remove("KUBERNETES_SERVICE_HOST"),
        };
        common::finish(&mut command, None, Duration::from_secs(60))
    };
    let done = run(Some("sa-token-1"), Some("127.0.0.1"));
    assert_eq!(
        done.stdout,
        format!("https://127.0.0.1:{}/ ops\n[\"p1\"]\n", api.port),
        "{}",
        done.stderr
    );
    // A token the server does not accept: the API's 401 as the error.
    let done = run(Some("stale-token"), Some("127.0.0.1"));
    assert!(
        done.stderr
            .contains("cannot iterate over Err(Unauthorized("),
        "{}",
        done.stderr
    );
    // Nothing to go on: the fault says what was tried.
    let done = run(None, None);
    assert_eq!(done.status, Some(1));
    assert!(
        done.stderr.contains("no Kubernetes configuration found: in-cluster: KUBERNETES_SERVICE_HOST is not set; kubeconfig (KUBECONFIG, ~/.kube/config):"),
        "{}",
        done.stderr
    );
    let done = run(None, Some("127.0.0.1"));
    assert!(
        done.stderr
            .contains("in-cluster: no service-account token at"),
        "{}",
        done.stderr
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_seed_sample_runs_as_written() {
    let api = KubeApi::start();
    let home = std::env::temp_dir().join(format!("cn-k8s-seed-{}", std::process::id()));
    std::fs::create_dir_all(home.join(".kube")).expect("temp dir");
    api.write_kubeconfig(&home.join(".kube/config"), "team");
    api.put(PODS, pod("web-0", "web"));
    let source = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/compiler/tests/seed000/15_kubernetes_client.cn"
    ))
    .expect("the seed's sample");
    let script = common::Script::start_with_env(
        "seed",
        &source,
        &[
            ("HOME", home.to_str().expect("utf-8 path")),
            ("KUBECONFIG", ""),
        ],
    );
    script.expect_line("web-0: Running");
    script.expect_line("Pod added: web-0");
    api.put(PODS, pod("web-1", "web"));
    script.expect_line("Pod added: web-1");
    change(&api, PODS, "web-1", |p| {
        p["status"]["phase"] = "Succeeded".into()
    });
    script.expect_line("Pod modified: web-1");
    api.delete(PODS, "web-0");
    script.expect_line("Pod deleted: web-0");
    script.signal("TERM");
    let (rest, log, status) = script.finish();
    assert_eq!((rest, status), (Vec::<String>::new(), 0), "{log:?}");
    let _ = std::fs::remove_dir_all(&home);
}

const DEADLINE: &str = r#"import http
import k8s

fn main():
    client = k8s.Client()
    server = http.Server("127.0.0.1:0")
    server.route("GET", "/pod", fn(req): str(client.pods.get(req.query.get("name"))))
    server.run()
"#;

#[test]
fn a_call_made_while_handling_a_request_ends_at_the_request_deadline() {
    let api = KubeApi::start();
    let dir = std::env::temp_dir().join(format!("cn-k8s-deadline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    api.put("/api/v1/namespaces/team/pods", pod("p1", "web"));
    let script = common::Script::start_with_env(
        "deadline",
        DEADLINE,
        &[("KUBECONFIG", kubeconfig.to_str().expect("utf-8 path"))],
    );
    let port = script.server_port();
    let ask = |name: &str| {
        common::raw(
            port,
            format!(
                "GET /pod?name={name} HTTP/1.1\r\nHost: localhost\r\nx-timeout-ms: 300\r\nConnection: close\r\n\r\n"
            )
            .as_bytes(),
        )
        .body
    };
    assert_eq!(ask("p1"), "Ok(<k8s Pod team/p1>)");
    assert_eq!(
        ask("stuck"),
        "Err(Timeout(\"the Kubernetes API did not answer before the deadline\"))"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
