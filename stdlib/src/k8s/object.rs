//! Kubernetes objects as cn values (`k8s.Object`): the object's JSON, with attributes for the
//! usual fields (`name`, `namespace`, `labels`, `annotations`, `uid`, `resource_version`,
//! `kind`, `api_version`, `spec`, `data`, `finalizers`, `deleting`, `generation`), `status` (a
//! pod's phase, as seed 000 prints it; the status dict for other kinds), `to_dict()` for the
//! whole object and `owner_reference()` for the objects it controls. A Secret's `data` values
//! are `config.Secret`s, so they print as `***`.

use base64::Engine;
use serde_json::Value as Json;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Fault, Value};

use crate::config::secret::Secret;

/// A Kubernetes object.
pub struct Object(pub Json);

impl Object {
    /// The value of `json`.
    pub fn value(json: Json) -> Value {
        NativeObject::value(Object(json))
    }

    fn metadata(&self, key: &str) -> Value {
        to_value(&self.0["metadata"][key])
    }

    fn kind(&self) -> &str {
        self.0["kind"].as_str().unwrap_or("")
    }

    /// The owner reference that makes this object the controller of another.
    pub fn owner_reference(&self) -> Json {
        serde_json::json!({
            "apiVersion": self.0["apiVersion"],
            "kind": self.0["kind"],
            "name": self.0["metadata"]["name"],
            "uid": self.0["metadata"]["uid"],
            "controller": true,
            "blockOwnerDeletion": true,
        })
    }
}

/// A JSON value as a cn value (objects become dicts).
pub fn to_value(json: &Json) -> Value {
    match json {
        Json::Null => Value::Nil,
        other => crate::json::decode(&other.to_string()).unwrap_or(Value::Nil),
    }
}

/// A cn value as JSON (dicts, lists, scalars; an Object as its JSON).
pub fn to_json(value: &Value) -> Result<Json, Fault> {
    if let Value::Object(object) = value {
        if let Some(object) = object.downcast::<Object>() {
            return Ok(object.0.clone());
        }
    }
    let text = crate::json::encode(value)?;
    serde_json::from_str(&text).map_err(|e| Fault::new(format!("k8s: {e}")))
}

type M = Member<Object>;

static OBJECT: Table<Object> = Table::new(
    "k8s.Object",
    "A Kubernetes object: attributes for its usual fields, `to_dict()` for all of it.",
    &[
        M::attribute("name", |o, _| Ok(o.metadata("name"))).doc("name\nmetadata.name"),
        M::attribute("namespace", |o, _| Ok(o.metadata("namespace")))
            .doc("namespace\nmetadata.namespace (nil for cluster-scoped kinds)"),
        M::attribute("labels", |o, _| Ok(dict_or_empty(o.metadata("labels"))))
            .doc("labels\nmetadata.labels, a dict"),
        M::attribute("annotations", |o, _| {
            Ok(dict_or_empty(o.metadata("annotations")))
        })
        .doc("annotations\nmetadata.annotations, a dict"),
        M::attribute("uid", |o, _| Ok(o.metadata("uid"))).doc("uid\nmetadata.uid"),
        M::attribute("resource_version", |o, _| Ok(o.metadata("resourceVersion")))
            .doc("resource_version\nmetadata.resourceVersion"),
        M::attribute("kind", |o, _| Ok(Value::str(o.kind()))).doc("kind\nThe object's kind."),
        M::attribute("api_version", |o, _| Ok(to_value(&o.0["apiVersion"])))
            .doc("api_version\nThe object's apiVersion."),
        M::attribute("spec", |o, _| Ok(to_value(&o.0["spec"]))).doc("spec\nspec, a dict"),
        M::attribute("status", |o, _| {
            Ok(match o.kind() {
                "Pod" => to_value(&o.0["status"]["phase"]),
                _ => to_value(&o.0["status"]),
            })
        })
        .doc("status\nA pod's phase (`Running`); the status dict of other kinds."),
        M::attribute("data", |o, _| Ok(data(o))).doc(
            "data\nA ConfigMap's or Secret's data, a dict; a Secret's values are config.Secrets.",
        ),
        M::attribute("finalizers", |o, _| {
            Ok(match o.metadata("finalizers") {
                Value::Nil => Value::list(Vec::new()),
                list => list,
            })
        })
        .doc("finalizers\nmetadata.finalizers, a list of str"),
        M::attribute("deleting", |o, _| {
            Ok(Value::Bool(!o.0["metadata"]["deletionTimestamp"].is_null()))
        })
        .doc("deleting\nWhether deletion has begun (deletionTimestamp is set; finalizers hold it)."),
        M::attribute("generation", |o, _| Ok(o.metadata("generation")))
            .doc("generation\nmetadata.generation: bumped by each change of the spec."),
        M::method("to_dict", |o, _, _| Ok(to_value(&o.0)))
            .doc("to_dict()\nThe whole object as a dict."),
        M::method("owner_reference", |o, _, _| Ok(to_value(&o.owner_reference())))
            .doc("owner_reference()\nA dict for another object's `metadata.ownerReferences`: this object controls it (a controller's `owns=` follows it back here; deleting this object deletes it)."),
    ],
);

fn dict_or_empty(value: Value) -> Value {
    match value {
        Value::Nil => crate::json::decode("{}").unwrap_or(Value::Nil),
        other => other,
    }
}

/// `data`: a Secret's values decoded from base64 and wrapped so they never print.
fn data(object: &Object) -> Value {
    if object.kind() != "Secret" {
        return dict_or_empty(to_value(&object.0["data"]));
    }
    let mut decoded = serde_json::Map::new();
    if let Some(map) = object.0["data"].as_object() {
        for (key, value) in map {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.as_str().unwrap_or(""))
                .unwrap_or_default();
            decoded.insert(
                key.clone(),
                Json::String(String::from_utf8_lossy(&bytes).into()),
            );
        }
    }
    let mut out = new_dict();
    for (key, value) in decoded {
        let Json::String(text) = value else { continue };
        out.insert(Key::str(&key), Secret::value(Value::str(text)));
    }
    Value::dict(out)
}

impl NativeType for Object {
    fn type_name(&self) -> &str {
        "k8s.Object"
    }

    fn members(&self) -> &'static dyn Members {
        &OBJECT
    }

    fn display(&self) -> String {
        let name = self.0["metadata"]["name"].as_str().unwrap_or("?");
        match self.0["metadata"]["namespace"].as_str() {
            Some(ns) => format!("<k8s {} {ns}/{name}>", self.kind()),
            None => format!("<k8s {} {name}>", self.kind()),
        }
    }
}
