//! Sets: collections of distinct hashable values (`{1, 2}`, `set(xs)`, `{x for x in xs}`).
//!
//! Members are dict keys ([`Key`]): the same hashing and equality (`1` and `1.0` are one member),
//! the same refusal of lists, dicts and records. A set can hold nothing mutable, so it can never
//! be part of a reference cycle and the cycle collector does not track it. Iteration follows
//! insertion order until a member is removed (removal moves the last member into the gap, to
//! stay O(1) as CPython's is); printing and `sorted` are therefore deterministic.

use std::cell::{Ref, RefCell, RefMut};
use std::rc::Rc;

use indexmap::IndexSet;

use crate::dict::Key;
use crate::fault::Fault;
use crate::value::Value;

/// The members of a set.
pub type SetItems = IndexSet<Key, ahash::RandomState>;

/// An empty member collection.
pub fn new_items() -> SetItems {
    IndexSet::with_hasher(ahash::RandomState::new())
}

/// A set's storage (`Value::Set`).
pub struct SetCell(RefCell<SetItems>);

impl SetCell {
    /// The contents, to read.
    pub fn borrow(&self) -> Ref<'_, SetItems> {
        self.0.borrow()
    }

    /// The contents, to change.
    pub fn borrow_mut(&self) -> RefMut<'_, SetItems> {
        self.0.borrow_mut()
    }
}

impl Value {
    /// A set value holding `items`.
    pub fn set(items: SetItems) -> Value {
        Value::Set(Rc::new(SetCell(RefCell::new(items))))
    }
}

/// The members of `values`, each checked to be hashable.
pub fn items_of(values: impl IntoIterator<Item = Value>) -> Result<SetItems, Fault> {
    let mut items = new_items();
    for value in values {
        items.insert(member(value)?);
    }
    Ok(items)
}

/// `value` as a member, or the fault that says why it cannot be one.
pub fn member(value: Value) -> Result<Key, Fault> {
    Key::new(value).map_err(|fault| Fault::new(fault.message.replace("a dict key", "a set member")))
}

/// A binary set operator: `|` union, `&` intersection, `-` difference, `^` symmetric difference.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetOp {
    Union,
    Intersection,
    Difference,
    SymmetricDifference,
}

/// `a op b`, a new set in `a`'s order followed by `b`'s.
pub fn combine(op: SetOp, a: &SetItems, b: &SetItems) -> SetItems {
    match op {
        SetOp::Union => a.union(b).cloned().collect(),
        SetOp::Intersection => a.intersection(b).cloned().collect(),
        SetOp::Difference => a.difference(b).cloned().collect(),
        SetOp::SymmetricDifference => a.symmetric_difference(b).cloned().collect(),
    }
}
