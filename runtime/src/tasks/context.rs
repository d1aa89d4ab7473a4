//! A task's context values (`context.get/set`, the request id, the current span).
//!
//! A context is made for every http request and copied into every spawned task, and it holds a
//! handful of entries (a request id, a trace id, a span id, what the script sets). At that size a
//! vector searched in order beats any hash map: no hashing on insert or lookup, one allocation,
//! and keys that are the same `Rc` (the library makes its keys once) compare by pointer first.
//!
//! Some entries are *derived*: a library puts one object in the context that answers for a few
//! keys and makes their values only when they are read ([`DerivedEntries`]). The current span's
//! hex ids are such entries; an http request sets them on every request and most requests never
//! read them, so formatting them up front cost every request two strings for nothing. To a
//! reader derived entries are ordinary ones; setting or removing one of their keys first turns
//! them all into ordinary entries.

use std::any::Any;
use std::rc::Rc;

use crate::value::Value;

/// Entries of a context whose values are made on first read (see the module docs).
pub trait DerivedEntries {
    /// Every key this object answers for; a key may have no value (then the context has none).
    fn keys(&self) -> &'static [&'static str];
    /// The value under `key`, made on first read and kept.
    fn value(&self, key: &str) -> Option<&Value>;
    /// For the library that made it to find its own type again.
    fn as_any(&self) -> &dyn Any;
}

/// Keys and values of one task's context, in insertion order, derived entries last.
#[derive(Clone, Default)]
pub struct ContextValues {
    entries: Vec<(Rc<str>, Value)>,
    /// Never answers for a key that is also in `entries`.
    derived: Option<Rc<dyn DerivedEntries>>,
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
            derived: None,
        }
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| {
            (std::ptr::eq(k.as_ptr(), key.as_ptr()) && k.len() == key.len()) || &**k == key
        })
    }

    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.position(key) {
            Some(i) => Some(&self.entries[i].1),
            None => self.derived.as_ref()?.value(key),
        }
    }

    /// Whether there is a value under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(&mut self, key: Rc<str>, value: Value) -> Option<Value> {
        self.settle(&key);
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Adds `key`, which the caller knows is neither set nor derived (a fresh request's own
    /// entries): no search.
    pub fn insert_new(&mut self, key: Rc<str>, value: Value) {
        debug_assert!(
            self.get(&key).is_none(),
            "context key {key} is already there"
        );
        self.entries.push((key, value));
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.settle(key);
        let i = self.position(key)?;
        Some(self.entries.remove(i).1)
    }

    /// The derived entries, if there are any.
    pub fn derived(&self) -> Option<&Rc<dyn DerivedEntries>> {
        self.derived.as_ref()
    }

    /// Replaces the derived entries (and any ordinary entries under their keys).
    pub fn set_derived(&mut self, derived: Option<Rc<dyn DerivedEntries>>) {
        if let Some(new) = &derived {
            let keys = new.keys();
            self.entries.retain(|(k, _)| !keys.contains(&&**k));
        }
        self.derived = derived;
    }

    /// Turns the derived entries into ordinary ones when `key` is one of theirs, so it can be
    /// set or removed on its own.
    fn settle(&mut self, key: &str) {
        if !self
            .derived
            .as_ref()
            .is_some_and(|d| d.keys().contains(&key))
        {
            return;
        }
        if let Some(derived) = self.derived.take() {
            for name in derived.keys() {
                if let Some(value) = derived.value(name) {
                    self.entries.push((Rc::from(*name), value.clone()));
                }
            }
        }
    }

    /// Every entry, in insertion order, derived entries last.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        let derived = self.derived.as_deref();
        self.entries.iter().map(|(k, v)| (&**k, v)).chain(
            derived
                .into_iter()
                .flat_map(|d| d.keys().iter().filter_map(move |k| Some((*k, d.value(k)?)))),
        )
    }

    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// Answers for `a` and `b`, counting how often it made a value.
    struct Lazy {
        a: std::cell::OnceCell<Value>,
        made: std::cell::Cell<u32>,
    }

    impl DerivedEntries for Lazy {
        fn keys(&self) -> &'static [&'static str] {
            &["a", "b"]
        }
        fn value(&self, key: &str) -> Option<&Value> {
            match key {
                "a" => Some(self.a.get_or_init(|| {
                    self.made.set(self.made.get() + 1);
                    Value::Int(1)
                })),
                _ => None,
            }
        }
        fn as_any(&self) -> &dyn Any {
            self
        }
    }

    #[test]
    fn derived_entries_are_made_on_first_read_and_settle_when_changed() {
        let lazy = Rc::new(Lazy {
            a: Default::default(),
            made: Default::default(),
        });
        let mut context = ContextValues::new();
        context.insert("a".into(), Value::Int(0));
        context.insert("user".into(), Value::Int(2));
        // Setting derived entries replaces ordinary ones under the same keys.
        context.set_derived(Some(lazy.clone()));
        assert_eq!(lazy.made.get(), 0);
        assert!(matches!(context.get("a"), Some(Value::Int(1))));
        assert!(matches!(context.get("a"), Some(Value::Int(1))));
        assert_eq!(lazy.made.get(), 1);
        assert!(context.get("b").is_none());
        let keys: Vec<&str> = context.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["user", "a"]);
        // A copy shares them; changing one of their keys makes them ordinary in that copy only.
        let mut copy = context.clone();
        copy.insert("b".into(), Value::Int(3));
        assert!(copy.derived().is_none());
        assert!(matches!(copy.get("a"), Some(Value::Int(1))));
        assert!(matches!(copy.get("b"), Some(Value::Int(3))));
        assert!(context.get("b").is_none());
        assert!(matches!(context.remove("a"), Some(Value::Int(1))));
        assert!(context.get("a").is_none());
        assert_eq!(context.len(), 1);
    }
}
