//! Dicts: insertion-ordered hash maps keyed by hashable values.
//!
//! Keys follow Python's rules where they matter to scripts: `1` and `1.0` are the same key,
//! strings, numbers, bools, nil, durations, tuples of hashable values and payload-free variants
//! are hashable; lists, dicts and records are not (a fault says so). A key nests at most
//! `MAX_NESTING` deep, so hashing and comparing keys never fault or exhaust the stack.

use std::hash::{Hash, Hasher};

use indexmap::IndexMap;

use crate::fault::Fault;
use crate::ops::MAX_NESTING;
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
        if let Value::Str(_) | Value::Int(_) = value {
            return Ok(Key(value));
        }
        match hashable(&value, 0) {
            Hashable::Yes => Ok(Key(value)),
            Hashable::No => Err(Fault::new(format!(
                "unhashable type: '{}' cannot be a dict key",
                value.type_name()
            ))),
            Hashable::TooDeep => Err(Fault::new(format!(
                "a dict key cannot nest more than {MAX_NESTING} deep"
            ))),
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

#[derive(PartialEq)]
enum Hashable {
    Yes,
    No,
    /// Nested past [`MAX_NESTING`]: hashing and comparing it would recurse too deep.
    TooDeep,
}

#[inline]
fn hashable(value: &Value, depth: usize) -> Hashable {
    let all = |items: &[Value]| {
        if depth >= MAX_NESTING {
            return Hashable::TooDeep;
        }
        items
            .iter()
            .map(|item| hashable(item, depth + 1))
            .find(|h| *h != Hashable::Yes)
            .unwrap_or(Hashable::Yes)
    };
    match value {
        Value::Nil
        | Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Duration(_)
        | Value::Str(_)
        | Value::Bytes(_) => Hashable::Yes,
        Value::Tuple(items) => all(items),
        Value::Variant(v) => all(&v.payload),
        Value::Type(_) | Value::Enum(_) | Value::Function(_) | Value::Native(_) => Hashable::Yes,
        _ => Hashable::No,
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
            // Keys nest at most MAX_NESTING deep (checked by `Key::new`), so this cannot fault.
            (a, b) => crate::ops::equal(a, b).unwrap_or(false),
        }
    }
}

impl Eq for Key {}
