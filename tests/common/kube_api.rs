//! A test Kubernetes API server: the real wire format (JSON objects and lists with
//! `resourceVersion`, `Status` error bodies) for the verbs on any resource path
//! (`/api/v1/namespaces/NS/PLURAL[/NAME]`, `/apis/GROUP/VERSION/...`, cluster-scoped paths):
//! list with equality label selectors and `limit`/`continue` pages (at most 4 a page), get,
//! create, replace (checking `resourceVersion`), merge and JSON patches, server-side apply with
//! field managers and conflicts (kube_objects.rs), delete, discovery documents, pod logs, and
//! watches (kube_watch.rs). The test drives it: it changes objects, cuts every open watch
//! stream, holds new watches back and compacts the history. std only, one thread per
//! connection, keep-alive.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "kube_objects.rs"]
mod objects;
#[path = "kube_watch.rs"]
mod watch;
use objects::{json_patch_step, leaves, matches, merge};

/// The most objects one list page holds.
const PAGE: usize = 4;

/// How often a watch that asked for bookmarks gets one.
const BOOKMARK_EVERY: Duration = Duration::from_millis(100);

/// One change, as watches tell it.
struct Change {
    version: u64,
    collection: String,
    kind: &'static str,
    object: Value,
}

/// Objects by collection path and name, the resourceVersion counter and the change history.
#[derive(Default)]
struct Store {
    objects: BTreeMap<String, BTreeMap<String, Value>>,
    version: u64,
    /// Requests seen, as `METHOD path?query`.
    log: Vec<String>,
    history: Vec<Change>,
    /// A watch from a version older than this gets `410 Gone`.
    compacted: u64,
    /// Bumped to cut every open watch stream.
    generation: u64,
    /// New watches wait while this is set.
    held: bool,
    /// The versions of the bookmarks sent.
    bookmarks: Vec<u64>,
}

impl Store {
    /// Stores `object` as a new version and tells watches (`ADDED` or `MODIFIED`).
    fn put(&mut self, collection: &str, name: &str, mut object: Value) -> Value {
        let current = self
            .objects
            .get(collection)
            .and_then(|m| m.get(name))
            .cloned();
        if let Some(current) = &current {
            // A write that changes nothing is no change: no new version, no event.
            object["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
            if object == *current {
                return object;
            }
            // The last finalizer gone from an object being deleted: it is deleted now.
            let finalizers = object["metadata"]["finalizers"]
                .as_array()
                .map_or(0, Vec::len);
            if !object["metadata"]["deletionTimestamp"].is_null() && finalizers == 0 {
                self.objects
                    .get_mut(collection)
                    .map(|m| m.insert(name.to_string(), object));
                return self.remove(collection, name).unwrap_or_default();
            }
        }
        self.version += 1;
        object["metadata"]["resourceVersion"] = json!(self.version.to_string());
        let kind = if current.is_some() {
            "MODIFIED"
        } else {
            "ADDED"
        };
        let objects = self.objects.entry(collection.to_string()).or_default();
        objects.insert(name.to_string(), object.clone());
        self.record(collection, kind, &object);
        object
    }

    /// Removes an object and tells watches (`DELETED`, with the deletion's version).
    fn remove(&mut self, collection: &str, name: &str) -> Option<Value> {
        let mut object = self.objects.get_mut(collection)?.remove(name)?;
        self.version += 1;
        object["metadata"]["resourceVersion"] = json!(self.version.to_string());
        self.record(collection, "DELETED", &object);
        Some(object)
    }

    fn record(&mut self, collection: &str, kind: &'static str, object: &Value) {
        self.history.push(Change {
            version: self.version,
            collection: collection.to_string(),
            kind,
            object: object.clone(),
        });
    }
}

/// The store and the signal that it changed.
#[derive(Default)]
struct Shared {
    store: Mutex<Store>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running test API server.
pub struct KubeApi {
    pub port: u16,
    shared: Arc<Shared>,
}

impl KubeApi {
    pub fn start() -> KubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared::default());
        let server = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let shared = server.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        KubeApi { port, shared }
    }

    /// Changes the store as a client would, telling watches: `object` into `collection`
    /// (`/api/v1/namespaces/team/pods`), created or replaced.
    pub fn put(&self, collection: &str, mut object: Value) {
        let name = object["metadata"]["name"]
            .as_str()
            .expect("a name")
            .to_string();
        if let Some(ns) = collection.split("/namespaces/").nth(1) {
            object["metadata"]["namespace"] = json!(ns.split('/').next());
        }
        object["metadata"]["uid"] = json!(format!("uid-{name}"));
        self.shared.lock().put(collection, &name, object);
        self.shared.changed.notify_all();
    }

    /// Deletes an object as a client would (finalizers hold it back), telling watches.
    pub fn delete(&self, collection: &str, name: &str) {
        let mut store = self.shared.lock();
        answer(&mut store, "DELETE", &format!("{collection}/{name}"), b"");
        drop(store);
        self.shared.changed.notify_all();
    }

    /// The stored object, if there is one.
    pub fn get(&self, collection: &str, name: &str) -> Option<Value> {
        self.shared
            .lock()
            .objects
            .get(collection)?
            .get(name)
            .cloned()
    }

    /// Every object of a collection.
    pub fn list(&self, collection: &str) -> Vec<Value> {
        let store = self.shared.lock();
        store
            .objects
            .get(collection)
            .map_or_else(Vec::new, |m| m.values().cloned().collect())
    }

    /// Cuts every open watch stream (the connection closes mid-stream).
    pub fn drop_watches(&self) {
        self.shared.lock().generation += 1;
        self.shared.changed.notify_all();
    }

    /// Holds new watches back (`true`) or lets them go on (`false`).
    pub fn hold_watches(&self, held: bool) {
        self.shared.lock().held = held;
        self.shared.changed.notify_all();
    }

    /// Forgets the history: a watch from an older version gets `410 Gone`.
    pub fn compact(&self) {
        let mut store = self.shared.lock();
        store.compacted = store.version;
    }

    /// The current resourceVersion.
    pub fn version(&self) -> u64 {
        self.shared.lock().version
    }

    /// The versions of the bookmarks sent so far.
    pub fn bookmarks(&self) -> Vec<u64> {
        self.shared.lock().bookmarks.clone()
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
        self.shared.lock().log.clone()
    }

    /// Waits until a request satisfies `wanted`; returns it.
    pub fn wait_request(&self, wanted: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(found) = self.requests().into_iter().find(|r| wanted(r)) {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "no such request: {:?}",
                self.requests()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
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
        let mut content_type = String::new();
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
                } else if name.eq_ignore_ascii_case("content-type") {
                    content_type = value.trim().to_string();
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        if method == "GET"
            && query
                .split('&')
                .any(|p| p == "watch=true" || p == "watch=1")
        {
            shared.lock().log.push(format!("{method} {target}"));
            if watch::watch(reader.get_mut(), shared, path, query).is_err() {
                return;
            }
            continue;
        }
        if method == "GET" && path.ends_with("/log") && query.split('&').any(|p| p == "follow=true")
        {
            shared.lock().log.push(format!("{method} {target}"));
            let (collection, name) = split(path.trim_end_matches("/log"));
            let name = name.unwrap_or_default();
            let exists = shared
                .lock()
                .objects
                .get(&collection)
                .is_some_and(|m| m.contains_key(&name));
            if !exists {
                let (_, answer) = status(404, "NotFound", &format!("pods \"{name}\" not found"));
                let text = answer.to_string();
                let response = format!("HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{text}", text.len());
                if reader.get_mut().write_all(response.as_bytes()).is_err() {
                    return;
                }
                continue;
            }
            if watch::follow_log(reader.get_mut(), shared, &collection, &name).is_err() {
                return;
            }
            continue;
        }
        let method = match content_type.as_str() {
            "application/json-patch+json" => "PATCH-JSON".to_string(),
            "application/apply-patch+yaml" => "APPLY".to_string(),
            _ => method,
        };
        let (status, answer) = handle(shared, &method, &target, &body);
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

fn handle(shared: &Shared, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
    let mut store = shared.lock();
    let answer = answer(&mut store, method, target, body);
    shared.changed.notify_all();
    answer
}

fn answer(store: &mut Store, method: &str, target: &str, body: &[u8]) -> (u16, Value) {
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
