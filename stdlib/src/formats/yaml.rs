//! `yaml`: YAML text to cn values and back.
//!
//! Reading follows the YAML 1.2 core schema, as `config` does (`8080` is an int, `yes` a
//! string), resolves anchors and aliases with a bound on their expansion, and refuses duplicate
//! keys and nesting deeper than 128 levels. Writing emits block style with saphyr's emitter,
//! quoting every string that would read back as something else (`"yes"`, `"8080"`, `"null"`).

use std::borrow::Cow;
use std::path::Path;

use saphyr::{Mapping, Scalar, Yaml, YamlEmitter};

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::config::file::{from_yaml, LineIndex};

static FUNCTIONS: &[Function] = &[
    Function::new("decode", decode)
        .doc("decode(text)\n`Ok(value)` for one YAML document (mappings become dicts in document order), or `Err(message)` naming the line and column.")
        .params(Params::exactly(1)),
    Function::new("decode_all", decode_all)
        .doc("decode_all(text)\n`Ok(list)` of every document in a `---`-separated stream (Kubernetes manifests), or `Err(message)`.")
        .params(Params::exactly(1)),
    Function::new("encode", encode)
        .doc("encode(value)\nYAML text in block style; accepts what `json.encode` accepts (records, `@secret` fields as `\"***\"`, durations and times as text).")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("YAML text to cn values and back (YAML 1.2 core schema).")
        .functions(FUNCTIONS);
}

/// yaml.decode(text): `Ok(value)` or `Err(message)`.
fn decode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(super::decode_with(from_yaml::read, "yaml", args.str(0)?))
}

/// yaml.decode_all(text): `Ok([document, ...])` or `Err(message)`.
fn decode_all(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = args.str(0)?;
    let lines = LineIndex::new(Path::new("yaml"), text);
    Ok(match from_yaml::read_all(text, &lines) {
        Ok(documents) => Value::ok(Value::list(
            documents.into_iter().map(super::raw_value).collect(),
        )),
        Err(message) => Value::err(Value::str(message)),
    })
}

/// yaml.encode(value): YAML text.
fn encode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let plain = super::plain(args.value(0)?, "yaml.encode")?;
    let document = to_yaml(&plain);
    let mut out = String::new();
    let mut emitter = YamlEmitter::new(&mut out);
    emitter.multiline(true);
    emitter
        .dump(&document)
        .map_err(|e| Fault::new(format!("yaml.encode: {e}")))?;
    // The emitter starts every document with `---`; a single document reads better without.
    let body = out
        .strip_prefix("---")
        .unwrap_or(&out)
        .trim_start_matches([' ', '\n']);
    Ok(Value::str(format!("{body}\n")))
}

/// Plain data (see [`super::plain`]) as a YAML node; the nesting is bounded by JSON's limit.
fn to_yaml(value: &Value) -> Yaml<'static> {
    match value {
        Value::Bool(b) => Yaml::Value(Scalar::Boolean(*b)),
        Value::Int(i) => Yaml::Value(Scalar::Integer(*i)),
        Value::Float(f) => Yaml::Value(Scalar::FloatingPoint((*f).into())),
        Value::Str(s) => Yaml::Value(Scalar::String(Cow::Owned(s.to_string()))),
        Value::List(items) => Yaml::Sequence(items.borrow().iter().map(to_yaml).collect()),
        Value::Dict(dict) => {
            let mut mapping = Mapping::new();
            for (key, value) in dict.borrow().iter() {
                mapping.insert(to_yaml(key.value()), to_yaml(value));
            }
            Yaml::Mapping(mapping)
        }
        _ => Yaml::Value(Scalar::Null),
    }
}
