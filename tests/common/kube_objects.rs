//! The object arithmetic of the test API server (kube_api.rs): label selectors, merge and JSON
//! patches, and the field ownership of server-side apply.

use serde_json::{json, Value};

/// Whether `object` matches an equality selector (`a=b,c=d`).
pub fn matches(object: &Value, selector: Option<&str>) -> bool {
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

/// The leaf fields an applied object sets, as JSON pointers with their values (identity fields
/// left out).
pub fn leaves(object: &Value) -> Vec<(String, Value)> {
    fn walk(value: &Value, path: String, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(fields) => {
                for (key, inner) in fields {
                    walk(inner, format!("{path}/{key}"), out);
                }
            }
            leaf => out.push((path, leaf.clone())),
        }
    }
    let mut out = Vec::new();
    walk(object, String::new(), &mut out);
    out.retain(|(path, _)| {
        !matches!(
            path.as_str(),
            "/apiVersion" | "/kind" | "/metadata/name" | "/metadata/namespace"
        )
    });
    out
}

/// One RFC 6902 operation (`add`, `replace`, `remove`, `test`).
pub fn json_patch_step(object: &mut Value, operation: &Value) -> Result<(), String> {
    let path = operation["path"].as_str().unwrap_or("");
    let (parent, key) = path.rsplit_once('/').ok_or("a path must start with /")?;
    let value = operation["value"].clone();
    match operation["op"].as_str().unwrap_or("") {
        "test" if object.pointer(path) == Some(&value) => Ok(()),
        "test" => Err(format!("the test of {path} failed")),
        op @ ("add" | "replace" | "remove") => {
            let target = object.pointer_mut(parent).ok_or(format!("no {parent}"))?;
            match (op, target) {
                ("remove", Value::Object(map)) => {
                    map.remove(key).map(|_| ()).ok_or(format!("no {path}"))
                }
                (_, Value::Object(map)) => {
                    map.insert(key.to_string(), value);
                    Ok(())
                }
                (_, Value::Array(items)) => {
                    let at = if key == "-" {
                        items.len()
                    } else {
                        key.parse().map_err(|_| format!("bad index {key}"))?
                    };
                    match op {
                        "remove" if at < items.len() => {
                            items.remove(at);
                            Ok(())
                        }
                        "replace" if at < items.len() => {
                            items[at] = value;
                            Ok(())
                        }
                        "add" if at <= items.len() => {
                            items.insert(at, value);
                            Ok(())
                        }
                        _ => Err(format!("index {at} out of range")),
                    }
                }
                _ => Err(format!("{parent} holds no fields")),
            }
        }
        other => Err(format!("unsupported op {other:?}")),
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
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
