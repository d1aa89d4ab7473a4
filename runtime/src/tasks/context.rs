//! A task's context values (`context.get/set`, the request id, the current span).
//!
//! A context is made for every http request and copied into every spawned task, and it holds a
//! handful of entries (a request id, a trace id, a span id, what the script sets). At that size a
//! vector searched in order beats any hash map: no hashing on insert or lookup, one allocation,
//! and keys that are the same `Rc` (the library makes its keys once) compare by pointer first.

use std::rc::Rc;

use crate::value::Value;

/// Keys and values of one task's context, in insertion order.
#[derive(Clone, Default)]
pub struct ContextValues {
    entries: Vec<(Rc<str>, Value)>,
}

impl ContextValues {
    /// An empty context.
    pub fn new() -> ContextValues {
        ContextValues::default()
    }

    /// An empty context with room for `capacity` entries.
    pub fn with_capacity(capacity: usize) -> ContextValues {
        ContextValues {
            entries: Vec::with_capacity(capacity),
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| {
            (std::ptr::eq(k.as_ptr(), key.as_ptr()) && k.len() == key.len()) || &**k == key
        })
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: Rc<str>, value: Value) -> Option<Value> {
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    /// Every entry, in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&Rc<str>, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl Extend<(Rc<str>, Value)> for ContextValues {
    fn extend<I: IntoIterator<Item = (Rc<str>, Value)>>(&mut self, entries: I) {
        for (key, value) in entries {
            self.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_found_by_content_and_replaced_in_place() {
        let mut context = ContextValues::new();
        let key: Rc<str> = "trace_id".into();
        assert!(context.insert(key.clone(), Value::Int(1)).is_none());
        context.insert("user".into(), Value::Int(2));
        // Another `Rc` with the same text is the same key.
        let old = context.insert("trace_id".into(), Value::Int(3));
        assert!(matches!(old, Some(Value::Int(1))));
        assert_eq!(context.len(), 2);
        assert!(matches!(context.get(&key), Some(Value::Int(3))));
        assert!(matches!(context.remove("trace_id"), Some(Value::Int(3))));
        assert!(context.get("trace_id").is_none());
        assert!(matches!(context.get("user"), Some(Value::Int(2))));
    }
}
