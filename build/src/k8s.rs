//! The Kubernetes manifests of a built image (`build/k8s/*.yaml`), derived from what the
//! describe run found: a Deployment that pulls the image by digest, with the script's ports,
//! probes on `/healthz` `/readyz` `/startupz`, a termination grace period computed from the
//! script's own shutdown timings, a locked-down security context, resources, and every
//! environment variable its configuration reads (values with defaults in a ConfigMap, `@secret`
//! fields from a Secret the user creates); a Service, a PodDisruptionBudget, and an HPA when more
//! than one replica is asked for. Deterministic: sorted keys, no timestamps.

use std::time::Duration;

use serde_json::{json, Value};

use crate::describe::Description;
use crate::runtime_layer::USER;

/// The shutdown delay a server has in Kubernetes when the script does not set one (http.md).
const KUBERNETES_SHUTDOWN_DELAY: Duration = Duration::from_secs(5);

/// Time beyond the script's own shutdown before the kubelet's SIGKILL: the process exits, and
/// telemetry is flushed.
const GRACE_MARGIN: Duration = Duration::from_secs(5);

/// Choices the user makes on the command line.
#[derive(Clone, Debug)]
pub struct Sizing {
    pub replicas: u32,
    /// CPU request (`100m`).
    pub cpu: String,
    /// Memory request and limit (`128Mi`).
    pub memory: String,
}

/// One manifest file: its name, comment lines and content.
pub struct Manifest {
    pub file: &'static str,
    pub comment: Vec<String>,
    pub value: Value,
}

/// The manifests of app `name` running `image` (a reference by digest).
pub fn manifests(
    name: &str,
    image: &str,
    description: &Description,
    sizing: &Sizing,
) -> Vec<Manifest> {
    let labels = json!({"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "cn"});
    let selector = json!({"app.kubernetes.io/name": name});
    let config_map = format!("{name}-config");
    let secret = format!("{name}-secrets");
    let mut out = Vec::new();

    let env: Vec<Value> = description
        .config
        .iter()
        .map(|field| {
            let (kind, source) = if field.secret {
                ("secretKeyRef", &secret)
            } else {
                ("configMapKeyRef", &config_map)
            };
            json!({"name": field.env, "valueFrom": {kind: {"name": source, "key": field.env}}})
        })
        .collect();
    let defaults: serde_json::Map<String, Value> = description
        .config
        .iter()
        .filter(|f| !f.secret)
        .filter_map(|f| Some((f.env.clone(), Value::String(f.default.clone()?))))
        .collect();
    let unset: Vec<&str> = description
        .config
        .iter()
        .filter(|f| !f.secret && f.default.is_none() && f.required)
        .map(|f| f.env.as_str())
        .collect();
    let secrets: Vec<&str> = description
        .config
        .iter()
        .filter(|f| f.secret)
        .map(|f| f.env.as_str())
        .collect();

    let mut container = json!({
        "name": name,
        "image": image,
        "securityContext": {
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsNonRoot": true,
            "capabilities": {"drop": ["ALL"]},
        },
        "resources": {
            "requests": {"cpu": sizing.cpu, "memory": sizing.memory},
            "limits": {"memory": sizing.memory},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    });
    if !env.is_empty() {
        container["env"] = json!(env);
    }
    let mut annotations = serde_json::Map::new();
    let mut grace = KUBERNETES_SHUTDOWN_DELAY + Duration::from_secs(30) + GRACE_MARGIN;
    if let Some(first) = description.servers.iter().find(|s| s.port != 0) {
        let ports: Vec<Value> = description
            .servers
            .iter()
            .filter(|s| s.port != 0)
            .enumerate()
            .map(|(i, s)| {
                let port_name = if i == 0 {
                    "http".to_string()
                } else {
                    format!("http-{}", i + 1)
                };
                json!({"name": port_name, "containerPort": s.port, "protocol": "TCP"})
            })
            .collect();
        container["ports"] = json!(ports);
        let probe = |path: &str, period: u32, failures: u32| {
            json!({"httpGet": {"path": path, "port": "http"}, "periodSeconds": period,
                   "failureThreshold": failures, "timeoutSeconds": 2})
        };
        // Every 2 s, for as long as the application's startup may take (60 s by default).
        let startup = description
            .startup_timeout
            .unwrap_or(Duration::from_secs(60));
        let startup_checks = startup.as_secs().div_ceil(2).clamp(1, 1000) as u32;
        container["startupProbe"] = probe("/startupz", 2, startup_checks);
        container["readinessProbe"] = probe("/readyz", 5, 2);
        container["livenessProbe"] = probe("/healthz", 10, 3);
        if let Some(server) = description
            .servers
            .iter()
            .find(|s| s.port != 0 && s.metrics_path.is_some())
        {
            annotations.insert("prometheus.io/scrape".into(), json!("true"));
            annotations.insert("prometheus.io/port".into(), json!(server.port.to_string()));
            annotations.insert(
                "prometheus.io/path".into(),
                json!(server.metrics_path.clone().unwrap_or_default()),
            );
        }
        grace = description
            .servers
            .iter()
            .map(|s| s.shutdown_delay.unwrap_or(KUBERNETES_SHUTDOWN_DELAY) + s.shutdown_timeout)
            .max()
            .unwrap_or_default()
            + GRACE_MARGIN;
        out.push(Manifest {
            file: "service.yaml",
            comment: vec![format!("Service of {name}, generated by cn build.")],
            value: json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "selector": selector,
                    "ports": [{"name": "http", "port": first.port, "targetPort": "http",
                               "protocol": "TCP"}],
                },
            }),
        });
    }
    let mut template_metadata = json!({"labels": labels});
    if !annotations.is_empty() {
        template_metadata["annotations"] = Value::Object(annotations);
    }
    let mut comment = vec![
        format!("Deployment of {name}, generated by cn build from the script."),
        format!(
            "terminationGracePeriodSeconds = the script's shutdown delay + shutdown timeout + {}s.",
            GRACE_MARGIN.as_secs()
        ),
    ];
    if !secrets.is_empty() {
        comment.push(format!(
            "Not generated: the Secret {secret} with keys {}. Create it first: kubectl create \
             secret generic {secret} {}",
            secrets.join(", "),
            secrets
                .iter()
                .map(|k| format!("--from-literal={k}=..."))
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    if !unset.is_empty() {
        comment.push(format!(
            "No default for {}: add {} to configmap.yaml before applying.",
            unset.join(", "),
            if unset.len() == 1 { "it" } else { "them" }
        ));
    }
    out.push(Manifest {
        file: "deployment.yaml",
        comment,
        value: json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": sizing.replicas,
                "selector": {"matchLabels": selector},
                "template": {
                    "metadata": template_metadata,
                    "spec": {
                        "terminationGracePeriodSeconds": grace.as_secs_f64().ceil() as u64,
                        "automountServiceAccountToken": false,
                        "securityContext": {
                            "runAsNonRoot": true,
                            "runAsUser": USER,
                            "runAsGroup": USER,
                            "seccompProfile": {"type": "RuntimeDefault"},
                        },
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    },
                },
            },
        }),
    });
    if description.config.iter().any(|f| !f.secret) {
        out.push(Manifest {
            file: "configmap.yaml",
            comment: vec![format!(
                "Configuration of {name}: the defaults the script declares. Change values here."
            )],
            value: json!({
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": config_map, "labels": labels},
                "data": defaults,
            }),
        });
    }
    out.push(Manifest {
        file: "pdb.yaml",
        comment: vec![format!("At most one pod of {name} is evicted at a time.")],
        value: json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": name, "labels": labels},
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
        }),
    });
    if sizing.replicas > 1 {
        out.push(Manifest {
            file: "hpa.yaml",
            comment: vec![format!(
                "Scales {name} between {} and {} replicas to keep CPU near 70 % of its request.",
                sizing.replicas,
                sizing.replicas * 3
            )],
            value: json!({
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": name, "labels": labels},
                "spec": {
                    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                    "minReplicas": sizing.replicas,
                    "maxReplicas": sizing.replicas * 3,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}}],
                },
            }),
        });
    }
    out
}

/// `name` as a Kubernetes object name (RFC 1123 label: lowercase letters, digits, `-`).
pub fn object_name(name: &str) -> String {
    let mut out: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    out.truncate(63);
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "app".to_string()
    } else {
        trimmed.to_string()
    }
}
