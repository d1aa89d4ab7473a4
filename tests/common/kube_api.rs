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
use std::net::TcpListener;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

#[path = "kube_objects.rs"]
mod objects;
#[path = "kube_verbs.rs"]
mod verbs;
#[path = "kube_watch.rs"]
mod watch;
use verbs::answer;

/// The most objects one list page holds, unless the test says otherwise.
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
    /// The bearer token every request must carry, if any.
    token: Option<String>,
    /// The most objects a list page holds (0: [`PAGE`]).
    page: usize,
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
    /// Plain HTTP, no credentials needed.
    pub fn start() -> KubeApi {
        KubeApi::start_with(None, None)
    }

    /// HTTPS with `tls` (when given), and every request needing `Authorization: Bearer token`
    /// (when given).
    pub fn start_with(tls: Option<Arc<rustls::ServerConfig>>, token: Option<&str>) -> KubeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared::default());
        shared.lock().token = token.map(str::to_string);
        let server = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (shared, tls) = (server.clone(), tls.clone());
                std::thread::spawn(move || match tls {
                    Some(config) => {
                        if let Ok(connection) = rustls::ServerConnection::new(config) {
                            serve(rustls::StreamOwned::new(connection, stream), &shared);
                        }
                    }
                    None => serve(stream, &shared),
                });
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

    /// Lets list pages hold up to `page` objects (a real server's limit is the client's).
    pub fn set_page(&self, page: usize) {
        self.shared.lock().page = page;
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

/// One request as read off a connection.
struct Request {
    method: String,
    target: String,
    content_type: String,
    authorization: String,
    body: Vec<u8>,
}

/// Reads the next request; `None` when the connection closes.
fn read_request(reader: &mut impl BufRead) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let mut request = Request {
        method: parts.next().unwrap_or("").to_string(),
        target: parts.next().unwrap_or("/").to_string(),
        content_type: String::new(),
        authorization: String::new(),
        body: Vec::new(),
    };
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().unwrap_or(0),
                "content-type" => request.content_type = value,
                "authorization" => request.authorization = value,
                _ => {}
            }
        }
    }
    request.body = vec![0; length];
    reader.read_exact(&mut request.body).ok()?;
    Some(request)
}

/// Serves one connection (plain or TLS) until it closes or a watch on it is cut.
fn serve<S: Read + Write>(stream: S, shared: &Shared) {
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        if respond(reader.get_mut(), shared, request).is_err() {
            return;
        }
    }
}

fn respond(out: &mut impl Write, shared: &Shared, request: Request) -> std::io::Result<()> {
    let Request {
        method,
        target,
        content_type,
        authorization,
        body,
    } = request;
    // Patches are told apart by their content type; the log names them so.
    let method = match content_type.as_str() {
        "application/json-patch+json" => "PATCH-JSON".to_string(),
        "application/apply-patch+yaml" => "APPLY".to_string(),
        _ => method,
    };
    shared.lock().log.push(format!("{method} {target}"));
    let token = shared.lock().token.clone();
    if token.is_some_and(|token| authorization != format!("Bearer {token}")) {
        return write_answer(out, status(401, "Unauthorized", "Unauthorized"));
    }
    if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        return write_answer(
            out,
            status(415, "UnsupportedMediaType", "the server accepts JSON only"),
        );
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let flag = |name: &str| {
        query
            .split('&')
            .any(|p| p.eq_ignore_ascii_case(&format!("{name}=true")) || p == format!("{name}=1"))
    };
    if method == "GET" && flag("watch") {
        return watch::watch(out, shared, path, query);
    }
    if method == "GET" && path.ends_with("/log") && flag("follow") {
        let (collection, name) = split(path.trim_end_matches("/log"));
        let name = name.unwrap_or_default();
        let exists = shared
            .lock()
            .objects
            .get(&collection)
            .is_some_and(|m| m.contains_key(&name));
        if !exists {
            return write_answer(
                out,
                status(404, "NotFound", &format!("pods \"{name}\" not found")),
            );
        }
        return watch::follow_log(out, shared, &collection, &name);
    }
    // An object named `stuck` is never answered in time: a server that hangs.
    if path.ends_with("/stuck") {
        std::thread::sleep(Duration::from_secs(20));
    }
    let mut store = shared.lock();
    let answer = answer(&mut store, &method, &target, &body);
    drop(store);
    shared.changed.notify_all();
    write_answer(out, answer)
}

/// Writes a whole response: a log is text, everything else JSON.
fn write_answer(out: &mut impl Write, (status, answer): (u16, Value)) -> std::io::Result<()> {
    let (text, content_type) = match answer {
        Value::String(log) => (log, "text/plain"),
        other => (other.to_string(), "application/json"),
    };
    let reason = match status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        _ => "Error",
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n{text}",
        text.len()
    )?;
    out.flush()
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
