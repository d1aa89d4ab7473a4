//! The k8s benchmark's harness (bench/k8s/run), not a test: it is `#[ignore]`d, so `cargo test`
//! never runs it. It starts the test API server with COUNT pods, then runs
//! bench/k8s/list_watch.cn (cn) and bench/k8s/list_watch.py (the Python client) in alternation
//! against it and prints the median wall time of each and their ratio.

mod common;
#[path = "common/kube_api.rs"]
mod kube_api;

use std::process::Command;
use std::time::{Duration, Instant};

use kube_api::KubeApi;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
#[ignore = "a benchmark: run it with bench/k8s/run"]
fn list_and_watch_cn_against_python() {
    let count: usize = std::env::var("K8S_BENCH_PODS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    let rounds: usize = std::env::var("K8S_BENCH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(7);
    let api = KubeApi::start();
    api.set_page(500);
    for i in 0..count {
        api.put(
            "/api/v1/namespaces/team/pods",
            serde_json::json!({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": format!("web-{i}"), "labels": {"app": "web", "tier": "front"},
                             "annotations": {"example.com/owner": "team"}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1.2.3",
                         "ports": [{"containerPort": 8080}],
                         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]},
                "status": {"phase": "Running", "podIP": "10.0.0.1"}}),
        );
    }
    let dir = std::env::temp_dir().join(format!("cn-k8s-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let kubeconfig = dir.join("kubeconfig");
    api.write_kubeconfig(&kubeconfig, "team");
    let bench = concat!(env!("CARGO_MANIFEST_DIR"), "/bench/k8s");
    let expected = format!("{count} {count} {count}\n");
    let run = |program: &str, args: &[&str]| -> Duration {
        let start = Instant::now();
        let done = common::finish(
            Command::new(program)
                .args(args)
                .arg(&kubeconfig)
                .arg(count.to_string()),
            None,
            Duration::from_secs(600),
        );
        let took = start.elapsed();
        assert_eq!(done.stdout, expected, "{program}: {}", done.stderr);
        took
    };
    let (mut cn, mut python) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        cn.push(run(common::CN, &["run", &format!("{bench}/list_watch.cn")]));
        python.push(run(
            "/usr/bin/python3",
            &[&format!("{bench}/list_watch.py")],
        ));
    }
    let (cn, python) = (median(cn), median(python));
    println!(
        "list {count} pods + watch {count} events, median of {rounds}: cn {:.3} s, python3 {:.3} s, cn/python {:.2}",
        cn.as_secs_f64(),
        python.as_secs_f64(),
        cn.as_secs_f64() / python.as_secs_f64()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
