//! `resources.watch(...)`: a stream of `Added(obj)`, `Modified(obj)` and `Deleted(obj)` that is
//! correct by default, on kube's watcher: it lists, then watches from the list's
//! resourceVersion; asks for bookmarks and resumes from the last one; sets a server timeout
//! (290 s) and an idle timeout on the client (295 s); reconnects with backoff when the stream
//! ends or fails; and on `410 Gone` lists again. A re-list is turned into the *differences*
//! from what was already seen ([`Seen`]), so no event is lost and none is told twice, which is
//! where the Python client and others go wrong. The stream ends when shutdown starts.
//! The informer (informer.rs) keeps its cache in the same [`Seen`].

use std::collections::{HashMap, HashSet, VecDeque};
use std::pin::Pin;
use std::rc::Rc;

use futures_util::{Stream, StreamExt};
use kube::api::DynamicObject;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;

use cn_runtime::object::Variant;
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::Value;

use crate::log::{self, Field, Level};

use super::object::Object;

/// kube's watcher over one kind, with its reconnect backoff.
pub type Events = Pin<Box<dyn Stream<Item = Result<Event<DynamicObject>, watcher::Error>>>>;

/// The events of `api` matching the selectors, reconnecting with kube's default backoff
/// (exponential from 800 ms to 30 s, reset after a healthy stream).
pub fn events(api: kube::Api<DynamicObject>, labels: Option<&str>, fields: Option<&str>) -> Events {
    let mut config = watcher::Config::default();
    if let Some(labels) = labels {
        config = config.labels(labels);
    }
    if let Some(fields) = fields {
        config = config.fields(fields);
    }
    Box::pin(watcher::watcher(api, config).default_backoff())
}

/// A change to one object, as scripts match it.
pub enum Change {
    Added(Value),
    Modified { old: Value, new: Value },
    Deleted(Value),
}

impl Change {
    /// `Added(obj)`, `Modified(obj)` or `Deleted(obj)`.
    pub fn event(&self) -> Value {
        let (name, object) = match self {
            Change::Added(object) => ("Added", object),
            Change::Modified { new, .. } => ("Modified", new),
            Change::Deleted(object) => ("Deleted", object),
        };
        Variant::value("k8s", name, vec![object.clone()])
    }
}

/// Every object a watcher has seen, by `namespace/name`, with its resourceVersion: what a
/// re-list is compared with, and an informer's cache.
#[derive(Default)]
pub struct Seen {
    objects: HashMap<String, (String, Value)>,
    /// The keys listed so far while a (re-)list is under way.
    relisting: Option<HashSet<String>>,
    /// Whether a first list has completed.
    pub synced: bool,
}

fn key(object: &DynamicObject) -> String {
    let namespace = object.metadata.namespace.as_deref().unwrap_or("");
    let name = object.metadata.name.as_deref().unwrap_or("");
    format!("{namespace}/{name}")
}

impl Seen {
    /// What `event` changes.
    pub fn apply(&mut self, event: Event<DynamicObject>) -> Vec<Change> {
        match event {
            Event::Init => {
                self.relisting = Some(HashSet::new());
                Vec::new()
            }
            Event::InitApply(object) => {
                if let Some(listed) = &mut self.relisting {
                    listed.insert(key(&object));
                }
                self.store(&object).into_iter().collect()
            }
            Event::Apply(object) => self.store(&object).into_iter().collect(),
            Event::Delete(object) => {
                let gone = self.objects.remove(&key(&object));
                let last = Object::value(serde_json::to_value(&object).unwrap_or_default());
                vec![Change::Deleted(gone.map_or(last, |(_, v)| v))]
            }
            Event::InitDone => {
                self.synced = true;
                let Some(listed) = self.relisting.take() else {
                    return Vec::new();
                };
                let gone: Vec<String> = self
                    .objects
                    .keys()
                    .filter(|k| !listed.contains(*k))
                    .cloned()
                    .collect();
                gone.into_iter()
                    .filter_map(|k| self.objects.remove(&k))
                    .map(|(_, v)| Change::Deleted(v))
                    .collect()
            }
        }
    }

    /// Records `object`; its change, unless this version was already seen.
    fn store(&mut self, object: &DynamicObject) -> Option<Change> {
        let version = object.metadata.resource_version.clone().unwrap_or_default();
        let key = key(object);
        if self
            .objects
            .get(&key)
            .is_some_and(|(seen, _)| *seen == version)
        {
            return None;
        }
        let value = Object::value(serde_json::to_value(object).unwrap_or_default());
        match self.objects.insert(key, (version, value.clone())) {
            Some((_, old)) => Some(Change::Modified { old, new: value }),
            None => Some(Change::Added(value)),
        }
    }

    /// The object at `namespace/name`.
    pub fn get(&self, namespace: &str, name: &str) -> Option<Value> {
        self.objects
            .get(&format!("{namespace}/{name}"))
            .map(|(_, v)| v.clone())
    }

    /// Every object, ordered by namespace and name.
    pub fn list(&self) -> Vec<Value> {
        let mut keys: Vec<&String> = self.objects.keys().collect();
        keys.sort();
        keys.into_iter()
            .map(|k| self.objects[k].1.clone())
            .collect()
    }
}

/// Logs a watch error (the watcher goes on after its backoff). A 410 is routine: it means the
/// watch fell too far behind and lists again.
pub fn log_error(vm: &VmRef, kind: &str, error: &watcher::Error) {
    let Ok(vm) = vm.try_borrow() else { return };
    let gone = matches!(error, watcher::Error::WatchError(status) if status.code == 410);
    let (level, message) = if gone {
        (
            Level::Info,
            "k8s watch: resource version too old (410 Gone); listing again",
        )
    } else {
        (Level::Warn, "k8s watch failed; retrying with backoff")
    };
    let text = error.to_string();
    log::emit(
        &vm,
        level,
        message,
        &[("kind", Field::Str(kind)), ("error", Field::Str(&text))],
    );
}

/// The next event of `events`: failures are logged (the watcher goes on after its backoff), and
/// the end of the stream or the start of shutdown is `None`. The loop of every background
/// watcher (informer, controller).
pub async fn next_event(
    events: &mut Events,
    vm: &VmRef,
    kind: &str,
    lifecycle: &Lifecycle,
) -> Option<Event<DynamicObject>> {
    loop {
        let next = tokio::select! {
            biased;
            _ = lifecycle.wait_for_stop() => return None,
            next = events.next() => next,
        };
        match next? {
            Ok(event) => return Some(event),
            Err(error) => log_error(vm, kind, &error),
        }
    }
}

/// The stream `watch()` returns: each event's changes, one at a time.
pub fn stream(events: Events, kind: &str, vm: VmRef, lifecycle: Rc<Lifecycle>) -> Value {
    let kind: Rc<str> = kind.into();
    let state = (events, Seen::default(), VecDeque::new());
    let items = futures_util::stream::unfold(state, move |(mut events, mut seen, mut ready)| {
        let (kind, vm) = (kind.clone(), vm.clone());
        async move {
            loop {
                if let Some(event) = ready.pop_front() {
                    return Some((Ok(event), (events, seen, ready)));
                }
                match events.next().await? {
                    Err(error) => log_error(&vm, &kind, &error),
                    Ok(event) => ready.extend(seen.apply(event).iter().map(Change::event)),
                }
            }
        }
    });
    crate::stream::value(Box::pin(items), lifecycle)
}
