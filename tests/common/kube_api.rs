//! A test Kubernetes API server: the real wire format (JSON objects and lists with
//! `resourceVersion`, `Status` error bodies) for the core verbs on any resource path
//! (`/api/v1/namespaces/NS/PLURAL[/NAME]`, `/apis/GROUP/VERSION/...`, cluster-scoped paths):
//! list with equality label selectors and `limit`/`continue` pages (at most 4 a page), get, create, replace
//! (checking `resourceVersion`), merge patch and delete. std only, one thread per connection,
//! keep-alive.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{json, Value};

/// The most objects one list page holds.
const PAGE: usize = 4;

/// Objects by collection path and name, and the resourceVersion counter.
#[derive(Default)]
struct Store {
    objects: BTreeMap<String, BTreeMap<String, Value>>,
    version: u64,
    /// Requests seen, as `METHOD path?query`.
    log: Vec<String>,
}

/// A running test API server.
pub struct KubeApi {
    pub port: u16,
    store: Arc<Mutex<Store>>,
}

impl KubeApi {
    pub fn start() -> KubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let store = Arc::new(Mutex::new(Store::default()));
        let shared = store.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let store = shared.clone();
                std::thread::spawn(move || serve(stream, &store));
            }
        });
        KubeApi { port, store }
    }

    /// A kubeconfig for this server (no credentials), written to `path`.
    pub fn write_kubeconfig(&self, path: &std::path::Path, namespace: &str) {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\nclusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: {namespace}\nusers:\n- name: test\n  user: {{}}\n",
            self.port
        );
        std::fs::write(path, text).expect("write the kubeconfig");
    }

    /// The requests seen so far.
    pub fn requests(&self) -> Vec<String> {
        self.store.lock().expect("store").log.clone()
    }
}

fn serve(stream: TcpStream, store: &Mutex<Store>) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("/").to_string(),
        );
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, answer) = handle(store, &method, &target, &body);
        // A log is text; everything else is JSON.
        let (text, content_type) = match answer {
            Value::String(log) => (log, "text/plain"),
            other => (other.to_string(), "application/json"),
        };
        let reason = match status {
            200 => "OK",
            201 => "Created",
            404 => "Not Found",
            409 => "Conflict",
            _ => "Error",
        };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{text}",
            text.len()
        );
        if reader.get_mut().write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// A `Status` error body.
fn status(code: u16, reason: &str, message: &str) -> (u16, Value) {
    (
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code}),
    )
}

/// Splits a resource path into its collection (`/api/v1/namespaces/ns/pods`) and name.
fn split(path: &str) -> (String, Option<String>) {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    // api/v1/[namespaces/NS/]PLURAL[/NAME] or apis/G/V/[namespaces/NS/]PLURAL[/NAME]
    let prefix = if parts.first() == Some(&"api") { 2 } else { 3 };
    let rest = &parts[prefix.min(parts.len())..];
    let collection_len = if rest.first() == Some(&"namespaces") && rest.len() >= 3 {
        prefix + 3
    } else {
        prefix + 1
    };
    let collection = format!("/{}", parts[..collection_len.min(parts.len())].join("/"));
    let name = parts.get(collection_len).map(|s| s.to_string());
    (collection, name)
}

fn query_param(query: &str, key: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3D", "=")
                .replace("%2C", ",")
                .replace("%2F", "/")
        })
    })
}

/// Discovery documents: `/api/v1` and `/apis/GROUP/VERSION` list their kinds.
fn discovery(path: &str) -> Option<Value> {
    let core = [
        ("pods", "Pod", true),
        ("services", "Service", true),
        ("configmaps", "ConfigMap", true),
        ("secrets", "Secret", true),
        ("namespaces", "Namespace", false),
        ("nodes", "Node", false),
    ];
    let (group_version, kinds): (&str, &[(&str, &str, bool)]) = match path {
        "/api/v1" => ("v1", &core),
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

fn handle(store: &Mutex<Store>, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
    let mut store = store.lock().expect("store");
    store.log.push(format!("{method} {target}"));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method == "GET" {
        if let Some(document) = discovery(path) {
            return (200, document);
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
                .min(PAGE);
            let start: usize = query_param(query, "continue")
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            let all: Vec<Value> = store
                .objects
                .get(&collection)
                .into_iter()
                .flat_map(|m| m.values())
                .filter(|o| matches(o, selector.as_deref()))
                .cloned()
                .collect();
            let page: Vec<Value> = all.iter().skip(start).take(limit).cloned().collect();
            let next = start + page.len();
            let mut metadata = json!({"resourceVersion": store.version.to_string()});
            if next < all.len() {
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
            store.version += 1;
            let version = store.version;
            object["metadata"]["resourceVersion"] = json!(version.to_string());
            object["metadata"]["uid"] = json!(format!("uid-{version}"));
            object["metadata"]["creationTimestamp"] = json!("2026-01-01T00:00:00Z");
            if let Some(ns) = &namespace {
                object["metadata"]["namespace"] = json!(ns);
            }
            store
                .objects
                .entry(collection)
                .or_default()
                .insert(name, object.clone());
            (201, object)
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
            store.version += 1;
            object["metadata"]["resourceVersion"] = json!(store.version.to_string());
            object["metadata"]["uid"] = current["metadata"]["uid"].clone();
            store
                .objects
                .entry(collection)
                .or_default()
                .insert(name, object.clone());
            (200, object)
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
            merge(&mut object, &patch);
            store.version += 1;
            object["metadata"]["resourceVersion"] = json!(store.version.to_string());
            store
                .objects
                .entry(collection)
                .or_default()
                .insert(name, object.clone());
            (200, object)
        }
        ("DELETE", Some(name)) => match store
            .objects
            .get_mut(&collection)
            .and_then(|m| m.remove(&name))
        {
            Some(_) => (
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}),
            ),
            None => status(404, "NotFound", &format!("\"{name}\" not found")),
        },
        _ => status(
            405,
            "MethodNotAllowed",
            "not supported by the test API server",
        ),
    }
}

/// Whether `object` matches an equality selector (`a=b,c=d`).
fn matches(object: &Value, selector: Option<&str>) -> bool {
    selector.is_none_or(|selector| {
        selector
            .split(',')
            .filter(|s| !s.is_empty())
            .all(|term| match term.split_once('=') {
                Some((k, v)) => object["metadata"]["labels"][k] == json!(v),
                None => object["metadata"]["labels"].get(term).is_some(),
            })
    })
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(fields) => {
            if !target.is_object() {
                *target = json!({});
            }
            for (key, value) in fields {
                if value.is_null() {
                    if let Some(map) = target.as_object_mut() {
                        map.remove(key);
                    }
                } else {
                    merge(&mut target[key], value);
                }
            }
        }
        other => *target = other.clone(),
    }
}
