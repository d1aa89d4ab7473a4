//! Records, the instances of `type` definitions, in one allocation: a header (reference count,
//! field count, the cycle collector's index, a borrow flag, the type) followed directly by the
//! field values.
//!
//! As an `Rc<Record>` holding a `RefCell<Vec<Value>>`, a record was two allocations, and every
//! field read went from the record to the vector's buffer before reaching the value. Laid out
//! in one block, making a record is one allocation, freeing it one, and a field is at a fixed
//! offset from the record's address. [`RecordRef`] is the reference-counted pointer to it: one
//! word (so `Value` stays 16 bytes) at whose target the strong count sits first, exactly where
//! `Value::strong_count` finds an `Rc`'s, so cloning and releasing values need no case for
//! records. The fields are borrowed like a `RefCell`'s contents ([`Record::fields`],
//! [`Record::fields_mut`]): a borrow that would conflict is an error the callers already handle,
//! never undefined behaviour.

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;
use std::rc::Rc;

use crate::cycles::Tracking;
use crate::object::RecordType;
use crate::value::Value;

/// A record's header; its fields follow it in the same block.
#[repr(C)]
pub struct Record {
    /// Strong references; first, where `Value::strong_count` reads every heap value's count.
    strong: Cell<usize>,
    /// How many fields follow the header.
    len: u32,
    /// Weak references ([`WeakRecord`]); the block outlives the record until they go.
    weak: Cell<u32>,
    /// Its place in the cycle collector's registry (`cycles`), 16 bytes after the count as in
    /// an `Rc`'s block.
    pub tracking: Tracking,
    /// Readers of the fields (positive) or a writer (-1).
    borrow: Cell<i32>,
    /// Its type.
    pub ty: Rc<RecordType>,
    /// `ty.id`, kept beside the fields so an inline cache checks the type without reaching
    /// the type.
    pub type_id: u32,
}

const _: () = assert!(std::mem::offset_of!(Record, tracking) == 16);
const _: () = assert!(std::mem::size_of::<Record>() == 40);

/// A counted reference to a record (`Value::Record`).
pub struct RecordRef(NonNull<Record>);

impl Record {
    /// A record of type `ty` with `fields` in the type's field order (checked by the caller).
    #[inline]
    #[allow(unsafe_code)]
    pub fn value(ty: Rc<RecordType>, mut fields: Vec<Value>) -> Value {
        let len = fields.len();
        // SAFETY: the values are moved into the block and the vector forgets them.
        let record = unsafe {
            let record = RecordRef::allocate(ty, fields.as_ptr(), len);
            fields.set_len(0);
            record
        };
        Value::Record(record)
    }

    /// A record of type `ty` whose fields are moved from the `len` values at `from` (the
    /// dispatch loop's stack).
    ///
    /// # Safety
    /// `from` must point at `len` initialised values, which the caller no longer owns.
    #[inline]
    #[allow(unsafe_code)]
    pub unsafe fn value_from_raw(ty: Rc<RecordType>, from: *const Value, len: usize) -> Value {
        // SAFETY: per the caller.
        Value::Record(unsafe { RecordRef::allocate(ty, from, len) })
    }

    fn layout(len: u32) -> Layout {
        Layout::new::<Record>()
            .extend(Layout::array::<Value>(len as usize).unwrap_or_else(|_| capacity_overflow()))
            .unwrap_or_else(|_| capacity_overflow())
            .0
            .pad_to_align()
    }

    #[inline(always)]
    #[allow(unsafe_code)]
    fn field_ptr(&self) -> *mut Value {
        // SAFETY: the fields follow the header in the same block (see `allocate`).
        unsafe { (self as *const Record).add(1).cast::<Value>().cast_mut() }
    }

    /// The fields, for reading. Panics, as `RefCell::borrow` does, if they are being written:
    /// writers hold the fields only for one store, never across code that reads them.
    #[inline(always)]
    pub fn fields(&self) -> Fields<'_> {
        self.try_fields()
            .unwrap_or_else(|| borrow_conflict("record fields are being changed"))
    }

    /// The fields, for writing. Panics, as `RefCell::borrow_mut` does, if they are borrowed.
    #[inline(always)]
    pub fn fields_mut(&self) -> FieldsMut<'_> {
        self.try_fields_mut()
            .unwrap_or_else(|| borrow_conflict("record fields are borrowed"))
    }

    /// The fields, unless they are being written.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub fn try_fields(&self) -> Option<Fields<'_>> {
        let b = self.borrow.get();
        if b < 0 {
            return None;
        }
        self.borrow.set(b + 1);
        // SAFETY: `len` values follow the header; no writer exists while the flag is positive.
        let fields = unsafe { std::slice::from_raw_parts(self.field_ptr(), self.len as usize) };
        Some(Fields {
            fields,
            borrow: &self.borrow,
        })
    }

    /// The fields for writing, unless they are borrowed.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub fn try_fields_mut(&self) -> Option<FieldsMut<'_>> {
        if self.borrow.get() != 0 {
            return None;
        }
        self.borrow.set(-1);
        // SAFETY: `len` values follow the header; the flag excludes every other borrow.
        let fields = unsafe { std::slice::from_raw_parts_mut(self.field_ptr(), self.len as usize) };
        Some(FieldsMut {
            fields,
            borrow: &self.borrow,
        })
    }
}

#[cold]
fn borrow_conflict(what: &str) -> ! {
    panic!("{what}")
}

#[cold]
fn capacity_overflow() -> ! {
    panic!("record too large")
}

/// Read access to a record's fields.
pub struct Fields<'a> {
    fields: &'a [Value],
    borrow: &'a Cell<i32>,
}

impl Deref for Fields<'_> {
    type Target = [Value];

    #[inline(always)]
    fn deref(&self) -> &[Value] {
        self.fields
    }
}

impl Drop for Fields<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.borrow.set(self.borrow.get() - 1);
    }
}

/// Write access to a record's fields.
pub struct FieldsMut<'a> {
    fields: &'a mut [Value],
    borrow: &'a Cell<i32>,
}

impl Deref for FieldsMut<'_> {
    type Target = [Value];

    #[inline(always)]
    fn deref(&self) -> &[Value] {
        self.fields
    }
}

impl DerefMut for FieldsMut<'_> {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut [Value] {
        self.fields
    }
}

impl Drop for FieldsMut<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.borrow.set(0);
    }
}

impl RecordRef {
    /// A new record block holding the `len` values at `from`, registered with the cycle
    /// collector.
    ///
    /// # Safety
    /// `from` must point at `len` initialised values, which the caller no longer owns.
    #[allow(unsafe_code)]
    unsafe fn allocate(ty: Rc<RecordType>, from: *const Value, len: usize) -> RecordRef {
        let len = u32::try_from(len).unwrap_or_else(|_| capacity_overflow());
        let layout = Record::layout(len);
        // SAFETY: the layout is never zero-sized (the header is not).
        let block = unsafe { alloc(layout) }.cast::<Record>();
        let Some(block) = NonNull::new(block) else {
            handle_alloc_error(layout)
        };
        // SAFETY: the block is fresh and large enough for the header and `len` values; the
        // values are moved in from `from` per the caller.
        unsafe {
            block.as_ptr().write(Record {
                strong: Cell::new(1),
                len,
                weak: Cell::new(0),
                tracking: Tracking::new(),
                borrow: Cell::new(0),
                type_id: ty.id,
                ty,
            });
            std::ptr::copy_nonoverlapping(from, block.as_ref().field_ptr(), len as usize);
        }
        let record = RecordRef(block);
        crate::cycles::track_record(&record);
        record
    }

    /// Whether `a` and `b` are the same record.
    #[inline]
    pub fn ptr_eq(a: &RecordRef, b: &RecordRef) -> bool {
        a.0 == b.0
    }

    /// The number of references to the record.
    #[inline]
    pub fn strong_count(this: &RecordRef) -> usize {
        this.strong.get()
    }

    /// The record's address (what the cycle collector registers).
    #[inline]
    pub fn as_ptr(this: &RecordRef) -> *const Record {
        this.0.as_ptr()
    }

    /// A new reference to the record at `ptr`, as `Rc::increment_strong_count` and
    /// `Rc::from_raw` together.
    ///
    /// # Safety
    /// `ptr` must come from [`RecordRef::as_ptr`] of a record still alive.
    #[allow(unsafe_code)]
    pub(crate) unsafe fn from_ptr(ptr: *const Record) -> RecordRef {
        // SAFETY: per the caller, a living record's header.
        let record = unsafe { &*ptr };
        record.strong.set(record.strong.get() + 1);
        RecordRef(NonNull::from(record))
    }

    /// A weak reference, which does not keep the record alive.
    pub fn downgrade(this: &RecordRef) -> WeakRecord {
        this.weak.set(this.weak.get() + 1);
        WeakRecord(this.0)
    }

    /// Frees the record: the fields (without recursion, see `teardown`), the header's parts,
    /// and the memory unless a weak reference still points at it.
    #[cold]
    #[inline(never)]
    #[allow(unsafe_code)]
    fn free(&mut self) {
        let block = self.0.as_ptr();
        // SAFETY: the last strong reference is going: nothing else can reach the fields or the
        // type. Each part is dropped once, in place; the counts and the length stay readable
        // for the weak references.
        unsafe {
            let len = (*block).len as usize;
            let fields = std::slice::from_raw_parts_mut((*block).field_ptr(), len);
            crate::teardown::release_slice(fields);
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*block).tracking));
            std::ptr::drop_in_place(std::ptr::addr_of_mut!((*block).ty));
            if (*block).weak.get() == 0 {
                dealloc(block.cast(), Record::layout((*block).len));
            }
        }
    }
}

/// A reference to a record that does not keep it alive (`config` remembers the records it
/// loaded this way).
pub struct WeakRecord(NonNull<Record>);

impl WeakRecord {
    /// The record, if it is still alive.
    #[allow(unsafe_code)]
    pub fn upgrade(&self) -> Option<RecordRef> {
        // SAFETY: the block stays allocated while a weak reference exists; the strong count
        // says whether the record in it is alive.
        let record = unsafe { self.0.as_ref() };
        let n = record.strong.get();
        if n == 0 {
            return None;
        }
        record.strong.set(n + 1);
        Some(RecordRef(self.0))
    }

    /// Whether the record is still alive.
    #[allow(unsafe_code)]
    pub fn is_alive(&self) -> bool {
        // SAFETY: as in `upgrade`.
        unsafe { self.0.as_ref() }.strong.get() > 0
    }
}

impl Drop for WeakRecord {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: as in `upgrade`; the last weak reference of a freed record frees the block,
        // with the layout its length gives.
        unsafe {
            let record = self.0.as_ref();
            let weak = record.weak.get() - 1;
            record.weak.set(weak);
            if weak == 0 && record.strong.get() == 0 {
                let len = record.len;
                dealloc(self.0.as_ptr().cast(), Record::layout(len));
            }
        }
    }
}

impl Deref for RecordRef {
    type Target = Record;

    #[inline(always)]
    #[allow(unsafe_code)]
    fn deref(&self) -> &Record {
        // SAFETY: the reference keeps the block alive.
        unsafe { self.0.as_ref() }
    }
}

impl Clone for RecordRef {
    #[inline]
    fn clone(&self) -> RecordRef {
        self.strong.set(self.strong.get() + 1);
        RecordRef(self.0)
    }
}

impl Drop for RecordRef {
    #[inline]
    fn drop(&mut self) {
        let n = self.strong.get() - 1;
        self.strong.set(n);
        if n == 0 {
            self.free();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_type() -> Rc<RecordType> {
        Rc::new(RecordType {
            id: crate::inline_cache::next_type_id(),
            name: "Point".into(),
            fields: Vec::new(),
            methods: Vec::new(),
            keyed: false,
        })
    }

    #[test]
    fn fields_are_moved_in_and_freed_with_the_record() {
        let text = Value::str("kept");
        let value = Record::value(point_type(), vec![Value::Int(1), text.clone()]);
        let Value::Record(record) = &value else {
            unreachable!()
        };
        assert_eq!(record.fields().len(), 2);
        assert!(matches!(record.fields()[0], Value::Int(1)));
        let Value::Str(s) = &text else { unreachable!() };
        assert_eq!(Rc::strong_count(s), 2);
        drop(value);
        assert_eq!(Rc::strong_count(s), 1);
    }

    #[test]
    fn a_writer_excludes_readers_and_readers_a_writer() {
        let value = Record::value(point_type(), vec![Value::Int(1), Value::Int(2)]);
        let Value::Record(record) = &value else {
            unreachable!()
        };
        {
            let _reading = record.fields();
            assert!(record.try_fields().is_some());
            assert!(record.try_fields_mut().is_none());
        }
        let mut writing = record.fields_mut();
        writing[1] = Value::Int(3);
        assert!(record.try_fields().is_none());
        drop(writing);
        assert!(matches!(record.fields()[1], Value::Int(3)));
    }

    #[test]
    #[allow(unsafe_code)]
    fn the_count_is_where_values_look_for_it() {
        let value = Record::value(point_type(), vec![Value::Nil, Value::Nil]);
        let copy = value.clone();
        let Value::Record(record) = &value else {
            unreachable!()
        };
        assert_eq!(RecordRef::strong_count(record), 2);
        // SAFETY: `value` is not inline.
        assert_eq!(unsafe { value.strong_count() }.get(), 2);
        drop(copy);
        assert_eq!(RecordRef::strong_count(record), 1);
    }

    #[test]
    fn a_weak_reference_does_not_keep_the_record() {
        let value = Record::value(point_type(), vec![Value::str("a"), Value::Nil]);
        let Value::Record(record) = &value else {
            unreachable!()
        };
        let weak = RecordRef::downgrade(record);
        let again = weak.upgrade().expect("alive");
        assert!(RecordRef::ptr_eq(&again, record));
        drop(again);
        drop(value);
        assert!(!weak.is_alive());
        assert!(weak.upgrade().is_none());
    }
}
