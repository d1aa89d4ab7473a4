//! `config.Secret`: a value that must not leak into output. The loader wraps the value of every
//! `@secret` field in one; it prints, reprs, formats in f-strings and logs as `***` (the log
//! module and `json` fall back to an object's printed form), and `s.reveal()` gives the value
//! back where the program really needs it (to connect to the database, say).
//!
//! Scripts can wrap values of their own with `config.Secret(value)`.

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};

/// What a secret shows instead of its value.
pub const MASK: &str = "***";

/// A hidden value.
pub struct Secret(pub Value);

impl Secret {
    /// `value` wrapped.
    pub fn value(value: Value) -> Value {
        NativeObject::value(Secret(value))
    }

    /// The hidden value of `value` if it is a secret.
    pub fn revealed(value: &Value) -> Option<&Value> {
        match value {
            Value::Object(o) => o.downcast::<Secret>().map(|s| &s.0),
            _ => None,
        }
    }
}

/// config.Secret(value): `value` hidden from print, f-strings and logs.
pub fn new(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let value = args.value(0)?;
    // Wrapping twice would make reveal() give a secret back.
    if Secret::revealed(value).is_some() {
        return Ok(value.clone());
    }
    Ok(Secret::value(value.clone()))
}

/// What `config.Secret(..)` and `@secret` fields hold.
static SECRET: Table<Secret> = Table::new(
    "config.Secret",
    "A value hidden from print, f-strings, logs and JSON; `reveal()` gives it back.",
    &[
        Member::<Secret>::method("reveal", |s, _, _| Ok(s.0.clone()))
            .doc("reveal()\nThe hidden value, for the one place that needs it."),
    ],
);

impl NativeType for Secret {
    fn type_name(&self) -> &str {
        "config.Secret"
    }

    fn members(&self) -> &'static dyn Members {
        &SECRET
    }

    fn display(&self) -> String {
        MASK.to_string()
    }

    /// JSON goes to logs and responses, where the value must never appear.
    fn json_value(&self) -> Option<Value> {
        Some(Value::str(MASK))
    }
}
