//! Watches in the test API server (kube_api.rs): a chunked stream of event lines from a
//! resourceVersion, bookmarks when asked, `410 Gone` for a compacted version, the server timeout,
//! and the test's cuts; and followed pod logs, streamed as the pod's `status.log` grows until
//! its phase is `Succeeded` or `Failed`.

use std::io::Write;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::objects::matches;
use super::{query_param, Shared, BOOKMARK_EVERY};

/// The kind and apiVersion of a collection's objects (for bookmarks, which carry no object).
fn kind_of(collection: &str) -> (&'static str, &'static str) {
    match collection.rsplit('/').next() {
        Some("pods") => ("v1", "Pod"),
        Some("configmaps") => ("v1", "ConfigMap"),
        Some("leases") => ("coordination.k8s.io/v1", "Lease"),
        Some("widgets") => ("example.com/v1", "Widget"),
        _ => ("v1", "Unknown"),
    }
}

/// Writes one chunk of a chunked body.
fn chunk(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    write!(out, "{:x}\r\n{text}\r\n", text.len())
}

/// Serves a watch on `collection` as a chunked stream of event lines until the server timeout
/// (then the response ends and the connection stays open), or until the test cuts it (`Err`).
pub fn watch(
    out: &mut impl Write,
    shared: &Shared,
    collection: &str,
    query: &str,
) -> std::io::Result<()> {
    let selector = query_param(query, "labelSelector");
    let bookmarks = query_param(query, "allowWatchBookmarks").as_deref() == Some("true");
    let timeout = query_param(query, "timeoutSeconds")
        .and_then(|t| t.parse().ok())
        .map_or(Duration::from_secs(1800), Duration::from_secs);
    let (api_version, kind) = kind_of(collection);
    let mut store = shared.lock();
    while store.held {
        store = shared
            .changed
            .wait(store)
            .unwrap_or_else(|p| p.into_inner());
    }
    let generation = store.generation;
    out.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
    )?;
    let event =
        |kind: &str, object: &Value| format!("{}\n", json!({"type": kind, "object": object}));
    let from: u64 = query_param(query, "resourceVersion")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut lines = Vec::new();
    let mut sent = if from == 0 {
        // No version: the objects there now, as ADDED, then what follows.
        for object in store
            .objects
            .get(collection)
            .into_iter()
            .flat_map(|m| m.values())
        {
            if matches(object, selector.as_deref()) {
                lines.push(event("ADDED", object));
            }
        }
        store.version
    } else if from < store.compacted {
        let gone = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": format!("too old resource version: {from} ({})", store.compacted),
                          "reason": "Expired", "code": 410});
        drop(store);
        chunk(out, &event("ERROR", &gone))?;
        return out.write_all(b"0\r\n\r\n");
    } else {
        from
    };
    let start = Instant::now();
    let mut last_bookmark = Instant::now();
    loop {
        if store.generation != generation {
            return Err(std::io::ErrorKind::ConnectionAborted.into());
        }
        for change in store.history.iter().filter(|c| c.version > sent) {
            if change.collection == collection && matches(&change.object, selector.as_deref()) {
                lines.push(event(change.kind, &change.object));
            }
        }
        sent = store.version;
        if bookmarks && last_bookmark.elapsed() >= BOOKMARK_EVERY {
            let mark = json!({"apiVersion": api_version, "kind": kind,
                              "metadata": {"resourceVersion": sent.to_string()}});
            lines.push(event("BOOKMARK", &mark));
            store.bookmarks.push(sent);
            last_bookmark = Instant::now();
        }
        let timed_out = start.elapsed() >= timeout;
        drop(store);
        for line in lines.drain(..) {
            chunk(out, &line)?;
        }
        if timed_out {
            return out.write_all(b"0\r\n\r\n");
        }
        store = shared.lock();
        if store.version == sent && store.generation == generation {
            store = shared
                .changed
                .wait_timeout(store, Duration::from_millis(50))
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}

/// Streams a pod's log (its `status.log` in this server) as it grows, ending when the pod does.
pub fn follow_log(
    out: &mut impl Write,
    shared: &Shared,
    collection: &str,
    name: &str,
) -> std::io::Result<()> {
    out.write_all(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n",
    )?;
    let mut sent = 0;
    let mut store = shared.lock();
    loop {
        let pod = store
            .objects
            .get(collection)
            .and_then(|m| m.get(name))
            .cloned();
        let generation = store.generation;
        drop(store);
        let Some(pod) = pod else {
            return out.write_all(b"0\r\n\r\n");
        };
        let log = pod["status"]["log"].as_str().unwrap_or("").to_string();
        let lines: Vec<&str> = log.lines().collect();
        for line in lines.iter().skip(sent) {
            chunk(out, &format!("{line}\n"))?;
        }
        sent = sent.max(lines.len());
        if matches!(
            pod["status"]["phase"].as_str(),
            Some("Succeeded" | "Failed")
        ) {
            return out.write_all(b"0\r\n\r\n");
        }
        store = shared.lock();
        if store.generation == generation {
            store = shared
                .changed
                .wait_timeout(store, Duration::from_millis(50))
                .map(|(s, _)| s)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }
}
