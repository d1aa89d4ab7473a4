//! Inline caches: what one instruction learned the last time it ran, so that the next run skips
//! a lookup by name.
//!
//! Every instruction of a function has one [`Site`] beside it (`Code::sites`, indexed like
//! `Code::ops`). An attribute read or write on a record (`GetAttr`, `SetAttr`, `LoadLocalAttr`)
//! caches the receiver's type id and the field's index; a method call on a record
//! (`CallMethod`) caches the type id and the method's index, or the index of the field that
//! holds the function called (a callback stored in a record). The next run compares one integer:
//! the same type answers from the cache, any other receiver (another type, a dict, a module)
//! takes the general path, which also refills the cache, so a site that sees two types keeps
//! working and only loses speed. Type ids are never reused, so a cache cannot outlive its type
//! and point into another's fields.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::object::{Record, RecordType};
use crate::symbol::Symbol;

/// One instruction's cache: a record type id (0: empty) and an index into that type's fields or
/// methods.
#[derive(Clone, Copy, Default)]
pub struct Site {
    ty: u32,
    index: u32,
}

/// The cache cells of one function, one per instruction.
pub type Sites = Box<[Cell<Site>]>;

/// Empty caches for `n` instructions.
pub fn sites(n: usize) -> Sites {
    (0..n).map(|_| Cell::new(Site::default())).collect()
}

/// A fresh record type id (never 0, never reused).
pub fn next_type_id() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The index of field `name` of `ty`, from the cache when the site last saw `ty` (the name is
/// looked up only on a miss).
#[inline(always)]
pub fn field(site: &Cell<Site>, record: &Record, name: impl FnOnce() -> Symbol) -> Option<usize> {
    let seen = site.get();
    if seen.ty == record.type_id {
        return Some(seen.index as usize);
    }
    let ty = &record.ty;
    fill(site, ty, ty.field_index(name()))
}

/// What `record.name(...)` calls: a method of the type, or a field holding a function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Callee {
    /// Index into `ty.methods`.
    Method(usize),
    /// Index into the record's fields.
    Field(usize),
}

/// Set in a cached index that names a field rather than a method.
const FIELD: u32 = 1 << 31;

/// What `name` names on records of `ty` when called, from the cache when the site last saw `ty`.
/// A method wins over a field, as in attribute reads.
#[inline(always)]
pub fn callee(site: &Cell<Site>, record: &Record, name: Symbol) -> Option<Callee> {
    let seen = site.get();
    if seen.ty == record.type_id {
        let index = (seen.index & !FIELD) as usize;
        return Some(if seen.index & FIELD == 0 {
            Callee::Method(index)
        } else {
            Callee::Field(index)
        });
    }
    fill_callee(site, &record.ty, name)
}

#[cold]
#[inline(never)]
fn fill_callee(site: &Cell<Site>, ty: &RecordType, name: Symbol) -> Option<Callee> {
    let found = match ty.methods.iter().position(|(n, _)| *n == name) {
        Some(i) => Callee::Method(i),
        None => Callee::Field(ty.field_index(name)?),
    };
    let index = match found {
        Callee::Method(i) => i as u32,
        Callee::Field(i) => i as u32 | FIELD,
    };
    site.set(Site { ty: ty.id, index });
    Some(found)
}

#[cold]
#[inline(never)]
fn fill(site: &Cell<Site>, ty: &RecordType, found: Option<usize>) -> Option<usize> {
    if let Some(index) = found {
        site.set(Site {
            ty: ty.id,
            index: index as u32,
        });
    }
    found
}
