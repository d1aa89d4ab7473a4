//! `k8s`: a Kubernetes client (seed 000, section 10) on the `kube` crate, rustls only, and the
//! controllers of seed 001 (section 1.3). The client and its configuration are client.rs;
//! objects are cn values (object.rs); every call returns `Ok(..)` or the API's error as `Err(..)`
//! (errors.rs); one kind's verbs live in resources.rs, its watch in watch.rs and its cache in
//! informer.rs; a controller (controller.rs) runs a work queue (queue.rs) and may elect a leader
//! (lease.rs). The reference is `spec/k8s.md`.

mod client;
mod controller;
mod errors;
mod informer;
mod lease;
mod object;
mod queue;
mod resources;
mod watch;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};
use serde_json::json;

use object::{to_json, Object};

static FUNCTIONS: &[Function] = &[
    Function::new("Client", client::new)
        .doc("Client(config=nil, context=nil)\nA client: in-cluster, else KUBECONFIG / ~/.kube/config (current context); `config=` a kubeconfig path, `context=` one of its contexts.")
        .params(Params::NONE.keywords(&["config", "context"])),
    Function::new("ConfigMap", config_map)
        .doc("ConfigMap(name=, data={}, namespace=nil, labels={})\nA ConfigMap object to create.")
        .params(Params::NONE.keywords(&["name", "data", "namespace", "labels"])),
    Function::new("Secret", secret)
        .doc("Secret(name=, data={}, namespace=nil, labels={})\nA Secret object to create (`data` as text; it is sent base64-encoded).")
        .params(Params::NONE.keywords(&["name", "data", "namespace", "labels"])),
    Function::new("controller", controller::new)
        .doc("controller(resources, reconcile=, owns=[], name=, leader_election=false, lease_duration=15s, workers=1)\nA reconcile loop: `reconcile(obj)` for each change of the kind or of objects it owns; `run()` it.")
        .params(Params::exactly(1).keywords(&["reconcile", "owns", "name", "leader_election", "lease_duration", "workers"])),
    Function::new("requeue_after", controller::requeue_after)
        .doc("requeue_after(d)\nWhat a reconcile returns (`Ok(k8s.requeue_after(30.seconds))`) to be called again after `d`.")
        .params(Params::exactly(1)),
    Function::new("Object", object)
        .doc("Object(dict)\nAny object from its dict form (apiVersion, kind, metadata, ...).")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("A Kubernetes client: resources, their verbs, and objects as values.")
        .functions(FUNCTIONS);
}

/// The metadata of a constructor call (`name=`, `namespace=`, `labels=`).
fn metadata(args: &Args<'_>) -> Result<serde_json::Value, Fault> {
    let name = match args.named("name") {
        Some(Value::Str(s)) => s.as_str().to_string(),
        Some(other) => return Err(args.wrong_type(usize::MAX, "str", other)),
        None => return Err(Fault::new(format!("{}: name= is required", args.function))),
    };
    let mut metadata = json!({"name": name});
    if let Some(Value::Str(ns)) = args.named("namespace") {
        metadata["namespace"] = json!(ns.as_str());
    }
    if let Some(labels) = args.named("labels") {
        metadata["labels"] = to_json(labels)?;
    }
    Ok(metadata)
}

fn data(args: &Args<'_>) -> Result<serde_json::Value, Fault> {
    let data = match args.named("data") {
        None | Some(Value::Nil) => json!({}),
        Some(value) => to_json(value)?,
    };
    match data.as_object() {
        Some(map) if map.values().all(|v| v.is_string()) => Ok(data),
        _ => Err(Fault::new(format!(
            "{}: data must be a dict of str to str",
            args.function
        ))),
    }
}

/// k8s.ConfigMap(name=, data=, namespace=, labels=)
fn config_map(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Object::value(json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(&args)?,
        "data": data(&args)?,
    })))
}

/// k8s.Secret(name=, data=, namespace=, labels=)
fn secret(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let plain = data(&args)?;
    let mut encoded = serde_json::Map::new();
    if let Some(map) = plain.as_object() {
        for (key, value) in map {
            let text = value.as_str().unwrap_or_default();
            encoded.insert(
                key.clone(),
                json!(base64::Engine::encode(
                    &base64::engine::general_purpose::STANDARD,
                    text
                )),
            );
        }
    }
    Ok(Object::value(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": metadata(&args)?,
        "data": encoded,
    })))
}

/// k8s.Object(dict)
fn object(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let json = to_json(args.value(0)?)?;
    if json["kind"].as_str().is_none() || json["apiVersion"].as_str().is_none() {
        return Err(Fault::new(
            "k8s.Object: the dict needs apiVersion and kind (and metadata.name)",
        ));
    }
    Ok(Object::value(json))
}
