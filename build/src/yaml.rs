//! YAML for the manifests: JSON values written as block YAML, keys in the order of the map
//! (sorted), every string double-quoted (so `"true"`, `"8080"` and `"*"` stay strings), no
//! timestamps. The same manifests always give the same bytes.

use serde_json::Value;

/// `value` (an object) as a YAML document, with `comment` lines above it.
pub fn document(comment: &[String], value: &Value) -> String {
    let mut out = String::new();
    for line in comment {
        out.push_str("# ");
        out.push_str(line);
        out.push('\n');
    }
    write_block(&mut out, value, 0);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(o) if o.is_empty() => "{}".into(),
        _ => String::new(),
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => false,
    }
}

/// Writes the entries of an object or the items of a list at `indent`.
fn write_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                let key = if key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
                {
                    key.clone()
                } else {
                    Value::String(key.clone()).to_string()
                };
                if is_block(item) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    let inner = if item.is_array() { indent } else { indent + 2 };
                    write_block(out, item, inner);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(item)));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_block(item) {
                    // The first line of the item goes after the dash.
                    let mut inner = String::new();
                    write_block(&mut inner, item, indent + 2);
                    let body = inner.trim_start_matches(' ');
                    if item.is_array() {
                        out.push_str(&format!("{pad}-\n{inner}"));
                    } else {
                        out.push_str(&format!("{pad}- {body}"));
                    }
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_maps_and_lists_are_block_yaml() {
        let value = json!({
            "kind": "Deployment",
            "spec": {"replicas": 2, "ports": [{"name": "http", "port": 8080}], "args": ["a", "b"],
                     "empty": {}, "labels": {"app.kubernetes.io/name": "x"}},
        });
        assert_eq!(
            document(&["generated".into()], &value),
            "# generated\n\
             kind: \"Deployment\"\n\
             spec:\n  \
               args:\n  \
               - \"a\"\n  \
               - \"b\"\n  \
               empty: {}\n  \
               labels:\n    \
                 app.kubernetes.io/name: \"x\"\n  \
               ports:\n  \
               - name: \"http\"\n    \
                 port: 8080\n  \
               replicas: 2\n"
        );
    }
}
