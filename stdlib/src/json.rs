//! `json`: encoding cn values as JSON text and decoding JSON text into cn values.
//!
//! Encoding writes straight into a string (no intermediate tree); decoding drives serde_json's
//! parser with a visitor that builds cn values directly. Objects decode to dicts in document
//! order, integers that fit in 64 bits to ints, other numbers to floats. Records encode as objects
//! of their fields, with `@secret` fields as `"***"`; durations encode as their printed form
//! (`"1m30s"`). The http module uses the same two functions for bodies.

use std::fmt::{self, Write};

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::format::write_duration;
use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::record::RecordRef;
use cn_runtime::{Args, Fault, Value, Vm};

/// Containers nested deeper than this are refused in both directions (and cannot overflow the
/// Rust stack).
const MAX_DEPTH: usize = 512;

/// The most text one `encode` makes: a value that holds the same list twice at every level
/// (no cycle, but exponentially many elements) faults here instead of exhausting memory.
pub const MAX_TEXT: usize = 64 << 20;

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("encode", encode_native)
        .doc("encode(value, indent=0)\nJSON text; faults on values JSON cannot hold.")
        .params(Params::between(1, 2).keywords(&["indent"])),
    Function::new("decode", decode_native)
        .doc("decode(text)\n`Ok(value)`, or `Err(message)` naming the line and column.")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("JSON text to cn values and back.")
        .functions(FUNCTIONS);
}

/// json.encode(value, indent=0): JSON text; faults on values JSON cannot hold.
fn encode_native(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let indent = match args.get_or_named(1, "indent") {
        None | Some(Value::Nil) => 0,
        Some(Value::Int(n)) if (0..=16).contains(n) => *n as usize,
        Some(other) => return Err(args.wrong_type(1, "int from 0 to 16", other)),
    };
    let mut out = String::new();
    Encoder {
        out: &mut out,
        indent,
        limit: MAX_TEXT,
    }
    .value(args.value(0)?, 0)?;
    Ok(Value::str(out))
}

/// json.decode(text): `Ok(value)`, or `Err(message)` naming the line and column.
fn decode_native(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(match decode(args.str(0)?) {
        Ok(value) => Value::ok(value),
        Err(message) => Value::err(Value::str(message)),
    })
}

/// Encodes `value` as compact JSON.
pub fn encode(value: &Value) -> Result<String, Fault> {
    encode_limited(value, MAX_TEXT)
}

/// Encodes `value` as compact JSON of at most about `limit` bytes; a fault beyond that.
pub fn encode_limited(value: &Value, limit: usize) -> Result<String, Fault> {
    let mut out = String::new();
    Encoder {
        out: &mut out,
        indent: 0,
        limit,
    }
    .value(value, 0)?;
    Ok(out)
}

/// Decodes JSON text.
pub fn decode(text: &str) -> Result<Value, String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // Depth is limited by our own counter; serde_json's recursion limit would stop at 128.
    deserializer.disable_recursion_limit();
    let value = ValueSeed { depth: 0 }
        .deserialize(&mut deserializer)
        .map_err(|e| e.to_string())?;
    deserializer.end().map_err(|e| e.to_string())?;
    Ok(value)
}

struct Encoder<'a> {
    out: &'a mut String,
    indent: usize,
    /// The text may grow to about this many bytes.
    limit: usize,
}

impl Encoder<'_> {
    fn value(&mut self, value: &Value, depth: usize) -> Result<(), Fault> {
        if depth > MAX_DEPTH {
            return Err(Fault::new(
                "json.encode: value nested too deeply (or contains itself)",
            ));
        }
        if self.out.len() > self.limit {
            return Err(Fault::new(format!(
                "json.encode: the text would be over {} MiB",
                self.limit >> 20
            )));
        }
        match value {
            Value::Nil => self.out.push_str("null"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            Value::Float(f) if f.is_finite() => {
                if f.fract() == 0.0 && f.abs() < 1e16 {
                    let _ = write!(self.out, "{f:.1}");
                } else {
                    let _ = write!(self.out, "{f}");
                }
            }
            Value::Float(f) => {
                return Err(Fault::new(format!("json.encode: {f} is not a JSON number")))
            }
            Value::Str(s) => self.string(s),
            Value::Duration(nanos) => {
                let mut text = String::new();
                write_duration(&mut text, *nanos);
                self.string(&text);
            }
            Value::List(items) => self.array(&items.borrow(), depth)?,
            Value::Tuple(items) => self.array(items, depth)?,
            Value::Set(set) => self.set(set, depth)?,
            Value::Dict(dict) => {
                let dict = dict.borrow();
                self.object(
                    dict.iter().map(|(k, v)| (key_text(k.value()), v)),
                    dict.len(),
                    depth,
                )?;
            }
            Value::Record(record) => self.record(record, depth)?,
            // A secret encodes as its mask (`Secret::json_value`), an http.Error as its message.
            Value::Object(object) => match object.inner.json_value() {
                Some(value) => self.value(&value, depth + 1)?,
                None => {
                    return Err(Fault::new(format!(
                        "json.encode: {} cannot be encoded as JSON",
                        object.type_name()
                    )))
                }
            },
            other => {
                return Err(Fault::new(format!(
                    "json.encode: {} cannot be encoded as JSON",
                    other.type_name()
                )))
            }
        }
        Ok(())
    }

    /// A record as an object, secret fields masked. Out of line, so its temporaries do not
    /// enlarge the frame of `value`, which recurses once per nesting level.
    #[inline(never)]
    fn record(&mut self, record: &RecordRef, depth: usize) -> Result<(), Fault> {
        let fields = record.fields();
        let masked = Value::str("***");
        let entries = record.ty.fields.iter().zip(fields.iter()).map(|(info, v)| {
            let v = if info.decorator("secret").is_some() {
                &masked
            } else {
                v
            };
            (Ok(info.name.name().to_string()), v)
        });
        self.object(entries, fields.len(), depth)
    }

    fn newline(&mut self, depth: usize) {
        if self.indent > 0 {
            self.out.push('\n');
            for _ in 0..depth * self.indent {
                self.out.push(' ');
            }
        }
    }

    /// A set as an array of its members, in its iteration order. Out of `value`, whose frame
    /// every level of nesting pays for.
    #[inline(never)]
    fn set(&mut self, set: &cn_runtime::set::SetCell, depth: usize) -> Result<(), Fault> {
        let members: Vec<Value> = set.borrow().iter().map(|k| k.value().clone()).collect();
        self.array(&members, depth)
    }

    fn array(&mut self, items: &[Value], depth: usize) -> Result<(), Fault> {
        self.out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.value(item, depth + 1)?;
        }
        if !items.is_empty() {
            self.newline(depth);
        }
        self.out.push(']');
        Ok(())
    }

    fn object<'v>(
        &mut self,
        entries: impl Iterator<Item = (Result<String, Fault>, &'v Value)>,
        len: usize,
        depth: usize,
    ) -> Result<(), Fault> {
        self.out.push('{');
        for (i, (key, value)) in entries.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.newline(depth + 1);
            self.string(&key?);
            self.out.push(':');
            if self.indent > 0 {
                self.out.push(' ');
            }
            self.value(value, depth + 1)?;
        }
        if len > 0 {
            self.newline(depth);
        }
        self.out.push('}');
        Ok(())
    }

    fn string(&mut self, s: &str) {
        self.out.push('"');
        let mut start = 0;
        for (i, byte) in s.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.out.push_str(&s[start..i]);
            if escape.is_empty() {
                let _ = write!(self.out, "\\u{byte:04x}");
            } else {
                self.out.push_str(escape);
            }
            start = i + 1;
        }
        self.out.push_str(&s[start..]);
        self.out.push('"');
    }
}

/// Object keys: strings as they are; numbers and bools as their text (as Python does).
fn key_text(key: &Value) -> Result<String, Fault> {
    match key {
        Value::Str(s) => Ok(s.to_string()),
        Value::Int(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Nil => Ok("null".into()),
        other => Err(Fault::new(format!(
            "json.encode: a {} cannot be an object key",
            other.type_name()
        ))),
    }
}

/// Builds cn values while serde_json parses.
struct ValueSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Value, E> {
        Ok(Value::Int(i))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Value, E> {
        Ok(i64::try_from(u).map_or(Value::Float(u as f64), Value::Int))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::Float(f))
    }

    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::str(s))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(ValueSeed { depth })? {
            items.push(item);
        }
        Ok(Value::list(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.nested::<A::Error>()?;
        let mut dict = new_dict();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            let value = map.next_value_seed(ValueSeed { depth })?;
            dict.insert(Key::str(&key), value);
        }
        Ok(Value::dict(dict))
    }
}

impl ValueSeed {
    fn nested<E: serde::de::Error>(&self) -> Result<usize, E> {
        if self.depth >= MAX_DEPTH {
            return Err(E::custom("JSON nested too deeply"));
        }
        Ok(self.depth + 1)
    }
}
