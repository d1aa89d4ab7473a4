//! Dicts: insertion-ordered hash maps keyed by hashable values.
//!
//! Keys follow Python's rules where they matter to scripts: `1` and `1.0` are the same key,
//! strings, numbers, bools, nil, durations, tuples of hashable values and payload-free variants
//! are hashable; lists, dicts and records are not (a fault says so).

use std::hash::{Hash, Hasher};

use indexmap::IndexMap;

use crate::fault::Fault;
use crate::value::Value;

/// The dict representation.
pub type Dict = IndexMap<Key, Value, ahash::RandomState>;

/// A new empty dict.
pub fn new_dict() -> Dict {
    IndexMap::with_hasher(ahash::RandomState::new())
}

/// A dict key: a value known to be hashable.
#[derive(Clone)]
pub struct Key(Value);

impl Key {
    /// Checks that `value` can be a key.
    #[inline]
    pub fn new(value: Value) -> Result<Key, Fault> {
        if hashable(&value) {
            Ok(Key(value))
        } else {
            Err(Fault::new(format!(
                "unhashable type: '{}' cannot be a dict key",
                value.type_name()
            )))
        }
    }

    /// A string key (always hashable).
    pub fn str(s: &str) -> Key {
        Key(Value::str(s))
    }

    /// The key's value.
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// Unwraps the value.
    pub fn into_value(self) -> Value {
        self.0
    }
}

#[inline]
fn hashable(value: &Value) -> bool {
    match value {
        Value::Nil
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Duration(_)
        | Value::Str(_)
        | Value::Bytes(_) => true,
        Value::Tuple(items) => items.iter().all(hashable),
        Value::Variant(v) => v.payload.iter().all(hashable),
        Value::Type(_) | Value::Enum(_) | Value::Function(_) | Value::Native(_) => true,
        _ => false,
    }
}

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        hash_value(&self.0, state);
    }
}

fn hash_value<H: Hasher>(value: &Value, state: &mut H) {
    match value {
        Value::Nil => state.write_u8(0),
        Value::Bool(b) => {
            state.write_u8(1);
            state.write_u8(*b as u8);
        }
        Value::Int(i) => state.write_i64(*i),
        Value::Float(f) => {
            // Integral floats hash like the equal int, so `d[1.0]` finds `d[1]`.
            if f.fract() == 0.0 && *f >= i64::MIN as f64 && *f < i64::MAX as f64 {
                state.write_i64(*f as i64)
            } else {
                state.write_u64(f.to_bits())
            }
        }
        Value::Duration(d) => {
            state.write_u8(3);
            state.write_i64(*d);
        }
        Value::Str(s) => s.as_str().hash(state),
        Value::Bytes(b) => {
            state.write_u8(5);
            b.as_ref().hash(state);
        }
        Value::Tuple(items) => {
            state.write_u8(4);
            for item in items.iter() {
                hash_value(item, state);
            }
        }
        Value::Variant(v) => {
            state.write_u32(v.name.0);
            for item in &v.payload {
                hash_value(item, state);
            }
        }
        Value::Type(t) => state.write_usize(std::rc::Rc::as_ptr(t) as *const u8 as usize),
        Value::Enum(t) => state.write_usize(std::rc::Rc::as_ptr(t) as *const u8 as usize),
        Value::Function(f) => state.write_usize(std::rc::Rc::as_ptr(f) as *const u8 as usize),
        Value::Native(f) => state.write_usize(std::rc::Rc::as_ptr(f) as *const u8 as usize),
        _ => state.write_u8(255),
    }
}

impl PartialEq for Key {
    #[inline]
    fn eq(&self, other: &Key) -> bool {
        match (&self.0, &other.0) {
            (Value::Str(a), Value::Str(b)) => std::rc::Rc::ptr_eq(a, b) || a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (a, b) => crate::ops::equal(a, b),
        }
    }
}

impl Eq for Key {}
