//! `toml`: TOML text to cn values and back.
//!
//! Reading is `config`'s reader: tables become dicts in document order, integers that do not fit
//! in 64 bits are an error, and dates and times arrive as their RFC 3339 text (`time.parse`
//! reads them). Writing needs a dict at the top (a TOML document is a table) and refuses `nil`,
//! which TOML cannot hold, naming the key.

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

use crate::config::file::from_toml;

static FUNCTIONS: &[Function] = &[
    Function::new("decode", decode)
        .doc("decode(text)\n`Ok(dict)` for a TOML document, or `Err(message)` naming the line and column.")
        .params(Params::exactly(1)),
    Function::new("encode", encode)
        .doc("encode(value)\nTOML text for a dict (or record); faults on `nil`, which TOML cannot hold.")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("TOML text to cn values and back.")
        .functions(FUNCTIONS);
}

/// toml.decode(text): `Ok(dict)` or `Err(message)`.
fn decode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(super::decode_with(from_toml::read, "toml", args.str(0)?))
}

/// toml.encode(value): TOML text.
fn encode(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let plain = super::plain(args.value(0)?, "toml.encode")?;
    let Value::Dict(_) = &plain else {
        return Err(Fault::new(format!(
            "toml.encode: a TOML document is a table, so it needs a dict or record, not {}",
            args.value(0)?.type_name()
        )));
    };
    let ::toml::Value::Table(table) = to_toml(&plain, "")? else {
        return Err(Fault::new("toml.encode: a TOML document is a table"));
    };
    Ok(Value::str(table.to_string()))
}

/// Plain data (see [`super::plain`]) as a TOML value; `at` is the dotted key, for faults.
fn to_toml(value: &Value, at: &str) -> Result<::toml::Value, Fault> {
    Ok(match value {
        Value::Bool(b) => ::toml::Value::Boolean(*b),
        Value::Int(i) => ::toml::Value::Integer(*i),
        Value::Float(f) => ::toml::Value::Float(*f),
        Value::Str(s) => ::toml::Value::String(s.to_string()),
        Value::List(items) => ::toml::Value::Array(
            items
                .borrow()
                .iter()
                .enumerate()
                .map(|(i, item)| to_toml(item, &format!("{at}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Dict(dict) => {
            let mut table = ::toml::Table::new();
            for (key, value) in dict.borrow().iter() {
                let name = match key.value() {
                    Value::Str(s) => s.to_string(),
                    other => cn_runtime::format::repr(other),
                };
                let path = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                table.insert(name, to_toml(value, &path)?);
            }
            ::toml::Value::Table(table)
        }
        _ => {
            return Err(Fault::new(format!(
                "toml.encode: TOML has no nil, and {at} is nil (leave the key out instead)"
            )))
        }
    })
}
