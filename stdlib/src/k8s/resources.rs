//! One kind of object through a client (`client.pods`, `client.configmaps`, ...): the verbs
//! `list` (label and field selectors, every page), `get`, `create`, `replace`, `patch` (merge or
//! JSON patch), `apply` (server-side), `delete`, `watch` (watch.rs), `informer` (informer.rs),
//! the finalizer helpers, and `logs` for pods, each returning `Ok(..)` or the API's error as
//! `Err(..)` (errors.rs). Built on kube's dynamic API, so every kind, built in or custom, works
//! the same.

use std::future::Future;
use std::rc::Rc;

use futures_util::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{
    Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams,
};
use kube::core::ApiResource;
use serde_json::Value as Json;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType, Variant};
use cn_runtime::{Args, Fault, Value};

use crate::http::deadline::Deadline;

use super::errors::err_value;
use super::object::{to_json, Object};

/// A kind the client knows without discovery.
pub struct Kind {
    /// The client's attribute (`pods`).
    pub attribute: &'static str,
    pub api_version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
}

/// The built-in kinds a client has attributes for.
pub const KINDS: &[Kind] = &[
    Kind {
        attribute: "pods",
        api_version: "v1",
        kind: "Pod",
        plural: "pods",
        namespaced: true,
    },
    Kind {
        attribute: "services",
        api_version: "v1",
        kind: "Service",
        plural: "services",
        namespaced: true,
    },
    Kind {
        attribute: "configmaps",
        api_version: "v1",
        kind: "ConfigMap",
        plural: "configmaps",
        namespaced: true,
    },
    Kind {
        attribute: "secrets",
        api_version: "v1",
        kind: "Secret",
        plural: "secrets",
        namespaced: true,
    },
    Kind {
        attribute: "events",
        api_version: "v1",
        kind: "Event",
        plural: "events",
        namespaced: true,
    },
    Kind {
        attribute: "namespaces",
        api_version: "v1",
        kind: "Namespace",
        plural: "namespaces",
        namespaced: false,
    },
    Kind {
        attribute: "nodes",
        api_version: "v1",
        kind: "Node",
        plural: "nodes",
        namespaced: false,
    },
    Kind {
        attribute: "deployments",
        api_version: "apps/v1",
        kind: "Deployment",
        plural: "deployments",
        namespaced: true,
    },
    Kind {
        attribute: "statefulsets",
        api_version: "apps/v1",
        kind: "StatefulSet",
        plural: "statefulsets",
        namespaced: true,
    },
    Kind {
        attribute: "daemonsets",
        api_version: "apps/v1",
        kind: "DaemonSet",
        plural: "daemonsets",
        namespaced: true,
    },
    Kind {
        attribute: "jobs",
        api_version: "batch/v1",
        kind: "Job",
        plural: "jobs",
        namespaced: true,
    },
    Kind {
        attribute: "leases",
        api_version: "coordination.k8s.io/v1",
        kind: "Lease",
        plural: "leases",
        namespaced: true,
    },
];

/// Leases, for leader election.
pub fn lease_resource() -> ApiResource {
    built_in("Lease")
}

/// Events, posted when a reconcile fails.
pub fn event_resource() -> ApiResource {
    built_in("Event")
}

fn built_in(kind: &str) -> ApiResource {
    KINDS
        .iter()
        .find(|k| k.kind == kind)
        .map(Kind::api_resource)
        .unwrap_or_else(|| ApiResource::erase::<Pod>(&()))
}

/// Adds (`add`) or removes a finalizer with a merge patch that carries the object's
/// resourceVersion, so a stale object gets `Err(Conflict(..))` rather than overwriting a
/// newer list. Nothing is sent when there is nothing to change.
fn finalizer(
    r: &Resources,
    vm: &mut cn_runtime::Vm,
    args: &Args<'_>,
    add: bool,
) -> Result<Value, Fault> {
    let object = args.value(0)?.clone();
    let finalizer = args.str(1)?.to_string();
    let json = to_json(&object)?;
    let mut finalizers: Vec<String> = json["metadata"]["finalizers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f.as_str().map(str::to_string))
        .collect();
    let present = finalizers.contains(&finalizer);
    if present == add {
        return Ok(Value::ok(object));
    }
    if add {
        finalizers.push(finalizer);
    } else {
        finalizers.retain(|f| *f != finalizer);
    }
    let name = json["metadata"]["name"].as_str().unwrap_or("").to_string();
    let api = r.0.api(json["metadata"]["namespace"].as_str());
    let patch = serde_json::json!({"metadata": {
        "finalizers": finalizers,
        "resourceVersion": json["metadata"]["resourceVersion"],
    }});
    Ok(call(vm, async move {
        match api
            .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(object) => Value::ok(to_object(&object)),
            Err(error) => err_value(&error),
        }
    }))
}

/// Waits for a verb's `request` (a value: `Ok(..)` or the API's `Err(..)`), bounded by the
/// task's deadline (a request being handled, a resilience timeout): past it the request is
/// abandoned and the verb returns `Err(Timeout(message))`.
fn call(vm: &mut cn_runtime::Vm, request: impl Future<Output = Value> + 'static) -> Value {
    let left = Deadline::remaining(vm);
    vm.suspend(async move {
        let Some(left) = left else {
            return Ok(request.await);
        };
        Ok(tokio::time::timeout(left, request)
            .await
            .unwrap_or_else(|_| {
                Value::err(Variant::value(
                    "k8s",
                    "Timeout",
                    vec![Value::str(
                        "the Kubernetes API did not answer before the deadline",
                    )],
                ))
            }))
    })
}

/// A kind's API through one client.
pub struct Resources(pub Rc<State>);

pub struct State {
    pub client: kube::Client,
    /// The client's default namespace.
    pub namespace: String,
    pub resource: ApiResource,
    pub namespaced: bool,
}

impl Kind {
    /// The kube description of the kind.
    pub fn api_resource(&self) -> ApiResource {
        let (group, version) = match self.api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", self.api_version),
        };
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: self.api_version.into(),
            kind: self.kind.into(),
            plural: self.plural.into(),
        }
    }
}

impl State {
    /// The API in `namespace` (the client's when nil), or across the cluster for cluster kinds.
    pub(super) fn api(&self, namespace: Option<&str>) -> Api<DynamicObject> {
        if self.namespaced {
            let ns = namespace.unwrap_or(&self.namespace);
            Api::namespaced_with(self.client.clone(), ns, &self.resource)
        } else {
            Api::all_with(self.client.clone(), &self.resource)
        }
    }
}

/// `namespace=` of a call, if given.
fn namespace<'a>(args: &'a Args<'_>) -> Result<Option<&'a str>, Fault> {
    match args.named("namespace") {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(args.wrong_type(usize::MAX, "str", other)),
    }
}

/// A selector from a dict (`{"app": "web"}` -> `app=web`) or a string as it is.
fn selector(args: &Args<'_>, key: &str) -> Result<Option<String>, Fault> {
    match args.named(key) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_str().to_string())),
        Some(value @ Value::Dict(_)) => {
            let json = to_json(value)?;
            let parts: Vec<String> = json
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| match v {
                    Json::String(s) => format!("{k}={s}"),
                    other => format!("{k}={other}"),
                })
                .collect();
            Ok(Some(parts.join(",")))
        }
        Some(other) => Err(Fault::new(format!(
            "{}: {key} must be a dict or a selector string, got {}",
            args.function,
            other.type_name()
        ))),
    }
}

/// The object a `create`/`replace` is given, as a kube object of this kind.
fn object_arg(state: &State, value: &Value) -> Result<DynamicObject, Fault> {
    let mut json = to_json(value)?;
    if !json.is_object() {
        return Err(Fault::new("k8s: an object must be a k8s.Object or a dict"));
    }
    if json.get("apiVersion").is_none() {
        json["apiVersion"] = Json::String(state.resource.api_version.clone());
    }
    if json.get("kind").is_none() {
        json["kind"] = Json::String(state.resource.kind.clone());
    }
    serde_json::from_value(json).map_err(|e| Fault::new(format!("k8s: not an object: {e}")))
}

fn to_object(object: &DynamicObject) -> Value {
    Object::value(serde_json::to_value(object).unwrap_or_default())
}

type M = Member<Resources>;

static RESOURCES: Table<Resources> = Table::new(
    "k8s.Resources",
    "One kind of object through a client: list, get, create, replace, patch, apply, delete, watch, informer.",
    &[
        M::method("list", |r, vm, args| {
            let api = r.0.api(namespace(&args)?);
            let labels = selector(&args, "labels")?;
            let fields = selector(&args, "fields")?;
            Ok(call(vm, async move {
                let mut params = ListParams::default().limit(500);
                if let Some(labels) = &labels {
                    params = params.labels(labels);
                }
                if let Some(fields) = &fields {
                    params = params.fields(fields);
                }
                let mut items = Vec::new();
                loop {
                    match api.list(&params).await {
                        Ok(page) => {
                            items.extend(page.items.iter().map(to_object));
                            match page.metadata.continue_.filter(|c| !c.is_empty()) {
                                Some(token) => params = params.continue_token(&token),
                                None => break,
                            }
                        }
                        Err(error) => return err_value(&error),
                    }
                }
                Value::ok(Value::list(items))
            }))
        })
        .doc("list(namespace=, labels=, fields=)\n`Ok(list of objects)`, every page; `labels` and `fields` are dicts or selector strings.")
        .params(Params::NONE.keywords(&["namespace", "labels", "fields"])),
        M::method("get", |r, vm, args| {
            let api = r.0.api(namespace(&args)?);
            let name = args.str(0)?.to_string();
            Ok(call(vm, async move {
                match api.get(&name).await {
                    Ok(object) => Value::ok(to_object(&object)),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("get(name, namespace=)\n`Ok(object)` or `Err(NotFound(message))`.")
        .params(Params::exactly(1).keywords(&["namespace"])),
        M::method("create", |r, vm, args| {
            let object = object_arg(&r.0, args.value(0)?)?;
            let ns = namespace(&args)?.or(object.metadata.namespace.as_deref()).map(str::to_string);
            let api = r.0.api(ns.as_deref());
            Ok(call(vm, async move {
                match api.create(&PostParams::default(), &object).await {
                    Ok(object) => Value::ok(to_object(&object)),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("create(object, namespace=)\n`Ok(the object as stored)`, or `Err(AlreadyExists(..))`, `Err(Invalid(..))`, ...")
        .params(Params::exactly(1).keywords(&["namespace"])),
        M::method("replace", |r, vm, args| {
            let object = object_arg(&r.0, args.value(0)?)?;
            let ns = namespace(&args)?.or(object.metadata.namespace.as_deref()).map(str::to_string);
            let api = r.0.api(ns.as_deref());
            let name = object.metadata.name.clone().unwrap_or_default();
            Ok(call(vm, async move {
                match api.replace(&name, &PostParams::default(), &object).await {
                    Ok(object) => Value::ok(to_object(&object)),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("replace(object, namespace=)\nReplaces the stored object (its resource_version must be current, else `Err(Conflict(..))`).")
        .params(Params::exactly(1).keywords(&["namespace"])),
        M::method("patch", |r, vm, args| {
            let api = r.0.api(namespace(&args)?);
            let name = args.str(0)?.to_string();
            let changes = to_json(args.value(1)?)?;
            // A list is a JSON patch (RFC 6902 operations); a dict is a merge patch (RFC 7386).
            let json_patch = match &changes {
                Json::Array(_) => Some(
                    serde_json::from_value::<json_patch::Patch>(changes.clone()).map_err(|e| {
                        Fault::new(format!("patch: not a JSON patch (a list of operations): {e}"))
                    })?,
                ),
                Json::Object(_) => None,
                _ => {
                    return Err(Fault::new(
                        "patch: changes must be a dict (merge patch) or a list of operations (JSON patch)",
                    ))
                }
            };
            Ok(call(vm, async move {
                let params = PatchParams::default();
                let done = match json_patch {
                    Some(operations) => api.patch(&name, &params, &Patch::Json::<()>(operations)).await,
                    None => api.patch(&name, &params, &Patch::Merge(&changes)).await,
                };
                match done {
                    Ok(object) => Value::ok(to_object(&object)),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("patch(name, changes, namespace=)\n`changes` a dict (JSON merge patch) or a list of operations (JSON patch, `{\"op\": \"replace\", \"path\": ..., \"value\": ...}`): `Ok(the object after it)`.")
        .params(Params::exactly(2).keywords(&["namespace"])),
        M::method("apply", |r, vm, args| {
            let object = object_arg(&r.0, args.value(0)?)?;
            let ns = namespace(&args)?.or(object.metadata.namespace.as_deref()).map(str::to_string);
            let api = r.0.api(ns.as_deref());
            let Some(name) = object.metadata.name.clone() else {
                return Err(Fault::new("apply: the object needs metadata.name"));
            };
            let manager = match args.named("field_manager") {
                None | Some(Value::Nil) => "cn".to_string(),
                Some(Value::Str(s)) => s.as_str().to_string(),
                Some(other) => return Err(args.wrong_type(usize::MAX, "str", other)),
            };
            let force = args.named("force").is_some_and(Value::truthy);
            Ok(call(vm, async move {
                let mut params = PatchParams::apply(&manager);
                if force {
                    params = params.force();
                }
                match api.patch(&name, &params, &Patch::Apply(&object)).await {
                    Ok(object) => Value::ok(to_object(&object)),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("apply(object, field_manager=\"cn\", force=false, namespace=)\nServer-side apply: creates or updates the fields this manager sets; `Err(Conflict(..))` when another manager owns one, unless `force=true`.")
        .params(Params::exactly(1).keywords(&["field_manager", "force", "namespace"])),
        M::method("logs", |r, vm, args| {
            if r.0.resource.kind != "Pod" {
                return Err(Fault::new(format!(
                    "logs() is a verb of pods, not of {}",
                    r.0.resource.plural
                )));
            }
            let ns = namespace(&args)?.unwrap_or(&r.0.namespace).to_string();
            let api: Api<Pod> = Api::namespaced(r.0.client.clone(), &ns);
            let name = args.str(0)?.to_string();
            let container = match args.named("container") {
                None | Some(Value::Nil) => None,
                Some(Value::Str(s)) => Some(s.as_str().to_string()),
                Some(other) => return Err(args.wrong_type(usize::MAX, "str", other)),
            };
            let tail_lines = match args.named("tail") {
                None | Some(Value::Nil) => None,
                Some(Value::Int(n)) if *n >= 0 => Some(*n),
                Some(other) => {
                    return Err(Fault::new(format!(
                        "pods.logs: tail must be a whole number of lines, got {}",
                        cn_runtime::format::repr(other)
                    )))
                }
            };
            let follow = args.named("follow").is_some_and(Value::truthy);
            let params = LogParams {
                container,
                tail_lines,
                follow,
                ..LogParams::default()
            };
            let lifecycle = vm.lifecycle.clone();
            Ok(call(vm, async move {
                if !follow {
                    return match api.logs(&name, &params).await {
                        Ok(text) => Value::ok(Value::str(text)),
                        Err(error) => err_value(&error),
                    };
                }
                match api.log_stream(&name, &params).await {
                    Ok(reader) => {
                        let lines = futures_util::AsyncBufReadExt::lines(reader).map(|line| {
                            line.map(Value::str).map_err(|e| {
                                Fault::new(format!("pods.logs: the log stream broke: {e}"))
                            })
                        });
                        Value::ok(crate::stream::value(Box::pin(lines), lifecycle))
                    }
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("logs(name, container=nil, tail=nil, follow=false, namespace=)\nA pod's log so far as text: `Ok(str)`; `tail=` keeps the last lines. `follow=true`: `Ok(stream of lines)` that goes on while the container writes.")
        .params(Params::exactly(1).keywords(&["container", "tail", "follow", "namespace"])),
        M::method("watch", |r, vm, args| {
            let api = r.0.api(namespace(&args)?);
            let labels = selector(&args, "labels")?;
            let fields = selector(&args, "fields")?;
            let events = super::watch::events(api, labels.as_deref(), fields.as_deref());
            Ok(super::watch::stream(
                events,
                &r.0.resource.plural,
                vm.handle(),
                vm.lifecycle.clone(),
            ))
        })
        .doc("watch(namespace=, labels=, fields=)\nA stream of `Added(obj)`, `Modified(obj)`, `Deleted(obj)`: the objects there now, then every change; survives dropped streams and 410 Gone without losing or repeating events; ends at shutdown.")
        .params(Params::NONE.keywords(&["namespace", "labels", "fields"])),
        M::method("informer", |r, vm, args| {
            let namespace = match r.0.namespaced {
                true => namespace(&args)?.unwrap_or(&r.0.namespace).to_string(),
                false => String::new(),
            };
            let api = r.0.api(Some(&namespace));
            let labels = selector(&args, "labels")?;
            let fields = selector(&args, "fields")?;
            let events = super::watch::events(api, labels.as_deref(), fields.as_deref());
            Ok(super::informer::start(vm, events, namespace, r.0.resource.plural.clone()))
        })
        .doc("informer(namespace=, labels=, fields=)\n`Ok(informer)` once the first list is in: a cache kept current by a watch (`get(name)`, `list()`) with `on_add`/`on_update`/`on_delete` callbacks.")
        .params(Params::NONE.keywords(&["namespace", "labels", "fields"])),
        M::method("add_finalizer", |r, vm, args| finalizer(r, vm, &args, true))
            .doc("add_finalizer(obj, name)\n`Ok(the object with the finalizer)`; the object's resource_version must be current, else `Err(Conflict(..))`.")
            .params(Params::exactly(2)),
        M::method("remove_finalizer", |r, vm, args| finalizer(r, vm, &args, false))
            .doc("remove_finalizer(obj, name)\n`Ok(the object without it)`; once none is left, a deleting object is deleted.")
            .params(Params::exactly(2)),
        M::method("delete", |r, vm, args| {
            let api = r.0.api(namespace(&args)?);
            let name = args.str(0)?.to_string();
            Ok(call(vm, async move {
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => Value::ok(Value::Nil),
                    Err(error) => err_value(&error),
                }
            }))
        })
        .doc("delete(name, namespace=)\n`Ok(nil)` or `Err(NotFound(..))`.")
        .params(Params::exactly(1).keywords(&["namespace"])),
    ],
);

impl NativeType for Resources {
    fn type_name(&self) -> &str {
        "k8s.Resources"
    }

    fn members(&self) -> &'static dyn Members {
        &RESOURCES
    }

    fn display(&self) -> String {
        format!("<k8s.Resources {}>", self.0.resource.plural)
    }
}

/// The value of a kind's API through `client`.
pub fn value(
    client: &kube::Client,
    namespace: &str,
    resource: ApiResource,
    namespaced: bool,
) -> Value {
    NativeObject::value(Resources(Rc::new(State {
        client: client.clone(),
        namespace: namespace.to_string(),
        resource,
        namespaced,
    })))
}
