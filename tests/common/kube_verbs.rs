//! The verbs of the test API server (kube_api.rs) on its store: discovery documents, pod logs,
//! list (selectors, pages), get, create (`generateName`), replace (resourceVersion checked),
//! merge and JSON patches, server-side apply with field managers, and delete (held back by
//! finalizers).

use serde_json::{json, Value};

use super::objects::{json_patch_step, leaves, matches, merge};
use super::{query_param, split, status, Store, PAGE};

/// Discovery documents: `/api` and `/apis` list the versions and groups, `/api/v1` and
/// `/apis/GROUP/VERSION` their kinds.
fn discovery(path: &str) -> Option<Value> {
    let core = [
        ("pods", "Pod", true),
        ("services", "Service", true),
        ("configmaps", "ConfigMap", true),
        ("secrets", "Secret", true),
        ("namespaces", "Namespace", false),
        ("nodes", "Node", false),
        ("events", "Event", true),
    ];
    let groups = ["apps/v1", "coordination.k8s.io/v1", "example.com/v1"];
    let (group_version, kinds): (&str, &[(&str, &str, bool)]) = match path {
        "/api" => return Some(json!({"kind": "APIVersions", "versions": ["v1"]})),
        "/version" => return Some(json!({"major": "1", "minor": "34", "gitVersion": "v1.34.0"})),
        "/apis" => {
            let groups: Vec<Value> = groups
                .iter()
                .map(|gv| {
                    let (name, version) = gv.split_once('/').unwrap_or((gv, "v1"));
                    let version = json!({"groupVersion": gv, "version": version});
                    json!({"name": name, "versions": [version], "preferredVersion": version})
                })
                .collect();
            return Some(json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}));
        }
        "/api/v1" => ("v1", &core),
        "/apis/coordination.k8s.io/v1" => ("coordination.k8s.io/v1", &[("leases", "Lease", true)]),
        "/apis/example.com/v1" => ("example.com/v1", &[("widgets", "Widget", true)]),
        "/apis/apps/v1" => ("apps/v1", &[("deployments", "Deployment", true)]),
        _ => return None,
    };
    let verbs = [
        "create", "delete", "get", "list", "patch", "update", "watch",
    ];
    let resources: Vec<Value> = kinds
        .iter()
        .map(|(plural, kind, namespaced)| {
            json!({"name": plural, "singularName": kind.to_lowercase(), "namespaced": namespaced,
                   "kind": kind, "verbs": verbs})
        })
        .collect();
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
                "resources": resources}),
    )
}

pub fn answer(store: &mut Store, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method == "GET" {
        if let Some(document) = discovery(path) {
            return (200, document);
        }
        // No OpenAPI documents here (kubectl then validates on the server, not the client).
        if path.starts_with("/openapi") {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
        // A pod's log: `.../pods/NAME/log`, the lines its `status.log` holds in this server.
        if let Some(pod_path) = path.strip_suffix("/log") {
            let (collection, name) = split(pod_path);
            let pod = name.and_then(|n| store.objects.get(&collection)?.get(&n).cloned());
            return match pod {
                Some(pod) => {
                    let log = pod["status"]["log"].as_str().unwrap_or("").to_string();
                    let tail = query_param(query, "tailLines").and_then(|t| t.parse().ok());
                    let lines: Vec<&str> = log.lines().collect();
                    let keep = tail.unwrap_or(lines.len()).min(lines.len());
                    let text: String = lines[lines.len() - keep..]
                        .iter()
                        .map(|l| format!("{l}\n"))
                        .collect();
                    (200, Value::String(text))
                }
                None => status(404, "NotFound", "pod not found"),
            };
        }
    }
    let (collection, name) = split(path);
    let namespace = collection
        .split("/namespaces/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .map(str::to_string);
    match (method, name) {
        ("GET", None) => {
            let selector = query_param(query, "labelSelector");
            // Pages of at most PAGE (a server may give fewer than `limit`), so 6 objects take two.
            let limit: usize = query_param(query, "limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(usize::MAX)
                .min(if store.page == 0 { PAGE } else { store.page });
            let start: usize = query_param(query, "continue")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let matching = store
                .objects
                .get(&collection)
                .into_iter()
                .flat_map(|m| m.values())
                .filter(|o| matches(o, selector.as_deref()));
            let total = matching.clone().count();
            let page: Vec<Value> = matching.skip(start).take(limit).cloned().collect();
            let next = start + page.len();
            let mut metadata = json!({"resourceVersion": store.version.to_string()});
            if next < total {
                metadata["continue"] = json!(next.to_string());
            }
            (
                200,
                json!({"apiVersion": "v1", "kind": "List", "metadata": metadata, "items": page}),
            )
        }
        ("GET", Some(name)) => match store.objects.get(&collection).and_then(|m| m.get(&name)) {
            Some(object) => (200, object.clone()),
            None => status(404, "NotFound", &format!("\"{name}\" not found")),
        },
        ("POST", None) => {
            let mut object: Value = serde_json::from_slice(body).unwrap_or_default();
            if let Some(prefix) = object["metadata"]["generateName"].as_str() {
                object["metadata"]["name"] = json!(format!("{prefix}{}", store.version + 1));
            }
            let Some(name) = object["metadata"]["name"].as_str().map(str::to_string) else {
                return status(422, "Invalid", "metadata.name: Required value");
            };
            if store
                .objects
                .get(&collection)
                .is_some_and(|m| m.contains_key(&name))
            {
                return status(409, "AlreadyExists", &format!("\"{name}\" already exists"));
            }
            object["metadata"]["uid"] = json!(format!("uid-{}", store.version + 1));
            object["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            if let Some(ns) = &namespace {
                object["metadata"]["namespace"] = json!(ns);
            }
            (201, store.put(&collection, &name, object))
        }
        ("PUT", Some(name)) => {
            let mut object: Value = serde_json::from_slice(body).unwrap_or_default();
            let current = store
                .objects
                .get(&collection)
                .and_then(|m| m.get(&name))
                .cloned();
            let Some(current) = current else {
                return status(404, "NotFound", &format!("\"{name}\" not found"));
            };
            if object["metadata"]["resourceVersion"] != current["metadata"]["resourceVersion"] {
                return status(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }
            object["metadata"]["uid"] = current["metadata"]["uid"].clone();
            (200, store.put(&collection, &name, object))
        }
        ("PATCH", Some(name)) => {
            let patch: Value = serde_json::from_slice(body).unwrap_or_default();
            let current = store
                .objects
                .get(&collection)
                .and_then(|m| m.get(&name))
                .cloned();
            let Some(mut object) = current else {
                return status(404, "NotFound", &format!("\"{name}\" not found"));
            };
            let expected = &patch["metadata"]["resourceVersion"];
            if !expected.is_null() && *expected != object["metadata"]["resourceVersion"] {
                return status(409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
            }
            merge(&mut object, &patch);
            (200, store.put(&collection, &name, object))
        }
        ("PATCH-JSON", Some(name)) => {
            let operations: Value = serde_json::from_slice(body).unwrap_or_default();
            let Some(mut object) = store
                .objects
                .get(&collection)
                .and_then(|m| m.get(&name))
                .cloned()
            else {
                return status(404, "NotFound", &format!("\"{name}\" not found"));
            };
            for operation in operations.as_array().into_iter().flatten() {
                if let Err(message) = json_patch_step(&mut object, operation) {
                    return status(422, "Invalid", &message);
                }
            }
            (200, store.put(&collection, &name, object))
        }
        ("APPLY", Some(name)) => {
            let applied: Value = serde_json::from_slice(body).unwrap_or_default();
            let force = query.split('&').any(|p| p == "force=true");
            let manager = query_param(query, "fieldManager").unwrap_or_default();
            let current = store
                .objects
                .get(&collection)
                .and_then(|m| m.get(&name))
                .cloned();
            let created = current.is_none();
            let mut object = current.unwrap_or_else(
                || json!({"metadata": {"uid": format!("uid-{name}"), "namespace": namespace}}),
            );
            let owned = leaves(&applied);
            let mut managers = object["metadata"]["managedFields"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for entry in &mut managers {
                if entry["manager"] == json!(manager) {
                    continue;
                }
                let theirs: Vec<String> = entry["fieldsV1"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, _)| k.clone())
                    .collect();
                let clashes: Vec<&String> = theirs
                    .iter()
                    .filter(|path| {
                        owned
                            .iter()
                            .any(|(p, v)| p == *path && object.pointer(p) != Some(v))
                    })
                    .collect();
                if !clashes.is_empty() && !force {
                    let paths: Vec<String> = clashes.iter().map(|p| p.replace('/', ".")).collect();
                    return status(
                        409,
                        "Conflict",
                        &format!(
                            "Apply failed with {} conflict: conflict with \"{}\": {}",
                            clashes.len(),
                            entry["manager"].as_str().unwrap_or(""),
                            paths.join(", ")
                        ),
                    );
                }
                if let Some(fields) = entry["fieldsV1"].as_object_mut() {
                    fields.retain(|path, _| !owned.iter().any(|(p, _)| p == path));
                }
            }
            managers.retain(|entry| entry["manager"] != json!(manager));
            let fields: serde_json::Map<String, Value> =
                owned.iter().map(|(p, _)| (p.clone(), json!({}))).collect();
            managers.push(json!({"manager": manager, "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": fields}));
            merge(&mut object, &applied);
            object["metadata"]["managedFields"] = json!(managers);
            (
                if created { 201 } else { 200 },
                store.put(&collection, &name, object),
            )
        }
        ("DELETE", Some(name)) => match store
            .objects
            .get(&collection)
            .and_then(|m| m.get(&name))
            .cloned()
        {
            // Finalizers hold a deleted object back: it is marked, and goes when they are gone.
            Some(mut object)
                if object["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty()) =>
            {
                if object["metadata"]["deletionTimestamp"].is_null() {
                    object["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:00:00Z");
                    object = store.put(&collection, &name, object);
                }
                (200, object)
            }
            _ => match store.remove(&collection, &name) {
                Some(_) => (
                    200,
                    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
                ),
                None => status(404, "NotFound", &format!("\"{name}\" not found")),
            },
        },
        _ => status(
            405,
            "MethodNotAllowed",
            "not supported by the test API server",
        ),
    }
}
