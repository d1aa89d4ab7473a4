//! Data formats beside JSON: `yaml`, `toml` and `csv` text to cn values and back.
//!
//! Decoding reuses the readers `config` reads files with (`config/file/from_yaml.rs`,
//! `from_toml.rs`): one parser per format, the same YAML 1.2 core schema, the same limits on
//! nesting and alias expansion, errors at `yaml:line:column`. Encoding goes through JSON's rules
//! first ([`plain`]): a value encodes to YAML or TOML exactly when `json.encode` accepts it, and
//! records, `@secret` fields (`"***"`), durations and times are written the same way in every
//! format.

pub mod csv;
pub mod toml;
pub mod yaml;

use std::path::Path;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::{Fault, Value};

use crate::config::file::LineIndex;
use crate::config::source::{Origin, Raw};

/// The reader signature the config file formats share.
type Reader = fn(&str, &LineIndex<'_>) -> Result<(Raw, Origin), String>;

/// `Ok(value)` / `Err(message)` for `text` read by `reader`; `name` labels positions
/// (`yaml:3:9: ...`).
fn decode_with(reader: Reader, name: &str, text: &str) -> Value {
    let lines = LineIndex::new(Path::new(name), text);
    match reader(text, &lines) {
        Ok((raw, _)) => Value::ok(raw_value(raw)),
        Err(message) => Value::err(Value::str(message)),
    }
}

/// A decoded tree as cn values: tables are dicts in document order. The readers bound the depth,
/// so the recursion is bounded too.
fn raw_value(raw: Raw) -> Value {
    match raw {
        Raw::Null => Value::Nil,
        Raw::Bool(b) => Value::Bool(b),
        Raw::Int(i) => Value::Int(i),
        Raw::Float(f) => Value::Float(f),
        Raw::Str(s) | Raw::Text(s) => Value::str(s),
        Raw::List(items) => Value::list(items.into_iter().map(|(raw, _)| raw_value(raw)).collect()),
        Raw::Map(entries) => {
            let mut dict = new_dict();
            for (key, raw, _) in entries {
                dict.insert(Key::str(&key), raw_value(raw));
            }
            Value::dict(dict)
        }
    }
}

/// `value` as plain data (nil, bools, numbers, strs, lists, dicts with str keys), by JSON's
/// rules: what `json.encode` writes, decoded again. `function` names the caller in faults.
fn plain(value: &Value, function: &str) -> Result<Value, Fault> {
    let text = crate::json::encode(value).map_err(|mut fault| {
        fault.message = fault
            .message
            .replace("json.encode", function)
            .replace(" as JSON", "");
        fault
    })?;
    crate::json::decode(&text).map_err(|why| Fault::new(format!("{function}: {why}")))
}
