//! Reclaiming reference cycles: values are reference counted, and a structure that refers to
//! itself (a tree node's parent, a recursive nested function's cell, a list holding itself)
//! keeps its own count above zero after the program lets go of it. Without this, a service
//! that builds such structures per request grows until it is killed.
//!
//! The method is CPython's (`Modules/gcmodule.c`), run over the mutable containers, which every
//! cycle passes through (an immutable value can only refer to values older than itself): lists,
//! dicts, records, captured-variable cells, and functions that capture something. Each of them
//! holds a [`Tracking`] field with its slot in this thread's registry, a vector of plain
//! pointers: being made fills the slot freed last (or a new one), being freed empties its own
//! slot and touches nothing else, and a collection first compacts the slots. The registry keeps
//! nothing alive and a freed container leaves nothing behind. A collection:
//!
//! 1. takes a strong handle to every registered container;
//! 2. counts, for each, the references other registered containers hold to it (found through
//!    the child's own `Tracking`), and subtracts them from its reference count: what is left are
//!    references from outside (the stack, globals, modules, native objects, Rust code);
//! 3. marks everything reachable from a container with outside references;
//! 4. empties the containers left unmarked, which frees them and whatever they held.
//!
//! It runs when the registry has grown by a quarter since the last collection (and holds at
//! least `MIN_THRESHOLD` containers), as CPython's oldest generation does: garbage cycles can
//! then take at most about a quarter more memory than the living, and each collection, which
//! visits every living container, is paid for by a quarter as many new ones, at the dispatch loop's budget check, where no container is
//! borrowed. It only ever errs towards keeping: if a container cannot be borrowed (a native is
//! changing it while it calls back into the program) nothing is collected, and references held
//! by values it does not look into (tuples, variants, bound methods, native objects) count as
//! outside references, so a cycle through those is kept (and leaks) rather than freed while in
//! use.

use std::cell::{Cell, UnsafeCell};
use std::rc::Rc;

use crate::object::{CaptureCell, Closure};
use crate::record::{Record, RecordRef};
use crate::teardown::{DictCell, ListCell};
use crate::value::Value;

/// The fewest containers at which a collection runs.
const MIN_THRESHOLD: usize = 10_000;

/// Not in the registry (made before tracking, or a function that captures nothing).
const UNTRACKED: u32 = u32::MAX;

/// A container's position in this thread's registry; the first field of every tracked type, so
/// the registry's pointer to it is also the pointer to the container.
pub struct Tracking(Cell<u32>);

impl Tracking {
    /// Not registered yet: [`tracked`] or `track_record` registers the container once it sits
    /// in its block.
    pub const fn new() -> Tracking {
        Tracking(Cell::new(UNTRACKED))
    }

    fn index(&self) -> Option<usize> {
        let i = self.0.get();
        (i != UNTRACKED).then_some(i as usize)
    }
}

impl Default for Tracking {
    fn default() -> Tracking {
        Tracking::new()
    }
}

impl Drop for Tracking {
    /// The container is being freed: it leaves the registry.
    #[inline]
    fn drop(&mut self) {
        if let Some(i) = self.index() {
            unregister(i);
        }
    }
}

/// What a registered pointer points at.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    List,
    Dict,
    Record,
    Cell,
    Function,
}

/// A type the collector tracks.
///
/// # Safety
/// `Tracking` must be the type's first field (`#[repr(C)]`), so a pointer to the type is a
/// pointer to its `Tracking`.
#[allow(unsafe_code)]
pub(crate) unsafe trait Container {
    const KIND: Kind;
    fn tracking(&self) -> &Tracking;
}

macro_rules! container {
    ($ty:ty, $kind:ident) => {
        // SAFETY: the type is `repr(C)` with `tracking` first, as the assertion checks.
        #[allow(unsafe_code)]
        unsafe impl Container for $ty {
            const KIND: Kind = Kind::$kind;
            #[inline(always)]
            fn tracking(&self) -> &Tracking {
                &self.tracking
            }
        }
        const _: () = assert!(std::mem::offset_of!($ty, tracking) == 0);
    };
}
container!(ListCell, List);
container!(DictCell, Dict);
container!(CaptureCell, Cell);
container!(Closure, Function);

/// A registered container: the address of its `Tracking` (the container's own for `Rc`
/// values, 16 bytes into the block for records, see `record`) and what it is. Either way the
/// strong count is the word 16 bytes before it.
#[derive(Clone, Copy)]
struct Entry {
    object: *const Tracking,
    kind: Kind,
}

/// The registry's storage.
struct Slots {
    /// Every tracked container of this thread, at the index its `Tracking` holds; a freed
    /// container's slot is null until reused.
    entries: Vec<Entry>,
    /// The null slots, the most recently freed last (reused first: still in cache).
    free: Vec<u32>,
}

struct Registry {
    /// Touched only by the leaf functions below, none of which calls out, so no two borrows
    /// of it overlap.
    slots: UnsafeCell<Slots>,
    /// The number of living containers at which the next collection runs.
    threshold: Cell<usize>,
    /// A collection is running (nothing starts another).
    collecting: Cell<bool>,
}

thread_local! {
    static REGISTRY: Registry = const {
        Registry {
            slots: UnsafeCell::new(Slots {
                entries: Vec::new(),
                free: Vec::new(),
            }),
            threshold: Cell::new(MIN_THRESHOLD),
            collecting: Cell::new(false),
        }
    };
}

/// `container` (its `Tracking` fresh) in an `Rc`, registered.
#[inline]
pub(crate) fn tracked<T: Container>(container: T) -> Rc<T> {
    let container = Rc::new(container);
    register(container.tracking(), T::KIND);
    container
}

/// Whether the collector can follow `value` to a container: a list or dict that holds none of
/// these has no edge it could see, and is registered only once it may gain one.
#[inline]
pub(crate) fn traceable(value: &Value) -> bool {
    matches!(
        value,
        Value::List(_) | Value::Dict(_) | Value::Record(_) | Value::Cell(_) | Value::Function(_)
    )
}

/// Registers `container` unless it already is. Lists and dicts are made unregistered when they
/// hold only atomic values (numbers, strings: what `json.decode` and most data are made of), as
/// CPython leaves such dicts untracked, and are registered the first time they are borrowed to
/// change: an unregistered one therefore holds nothing that could close a cycle.
#[inline(always)]
pub(crate) fn ensure_tracked<T: Container>(container: &T) {
    if container.tracking().0.get() == UNTRACKED {
        register_late(container.tracking(), T::KIND);
    }
}

#[cold]
#[inline(never)]
fn register_late(tracking: &Tracking, kind: Kind) {
    register(tracking, kind);
}

/// Registers a record just made.
#[inline]
pub(crate) fn track_record(record: &RecordRef) {
    register(&record.tracking, Kind::Record);
}

/// Registers the container whose `Tracking` is `tracking`, in the slot freed last if any.
#[inline]
#[allow(unsafe_code)]
fn register(tracking: &Tracking, kind: Kind) {
    let _ = REGISTRY.try_with(|registry| {
        // SAFETY: see `Registry::slots`.
        let slots = unsafe { &mut *registry.slots.get() };
        let entry = Entry {
            object: tracking,
            kind,
        };
        if let Some(i) = slots.free.pop() {
            tracking.0.set(i);
            slots.entries[i as usize] = entry;
        } else if let Ok(i) = u32::try_from(slots.entries.len()) {
            if i != UNTRACKED {
                tracking.0.set(i);
                slots.entries.push(entry);
            }
        }
    });
}

/// Empties slot `i` (its container is being freed). Nothing else is touched: moving another
/// entry into the gap meant a write into that container, a cache miss when a structure is
/// freed in the order it was made.
#[inline]
#[allow(unsafe_code)]
fn unregister(i: usize) {
    let _ = REGISTRY.try_with(|registry| {
        // SAFETY: see `Registry::slots`.
        let slots = unsafe { &mut *registry.slots.get() };
        if let Some(entry) = slots.entries.get_mut(i) {
            entry.object = std::ptr::null();
            slots.free.push(i as u32);
        }
    });
}

/// The number of living tracked containers.
fn living(slots: &Slots) -> usize {
    slots.entries.len() - slots.free.len()
}

/// Whether a collection is due (cheap: the dispatch loop asks at every budget check).
#[inline]
#[allow(unsafe_code)]
pub fn due() -> bool {
    REGISTRY
        .try_with(|registry| {
            // SAFETY: see `Registry::slots`.
            let slots = unsafe { &*registry.slots.get() };
            living(slots) >= registry.threshold.get() && !registry.collecting.get()
        })
        .unwrap_or(false)
}

/// Moves the living entries down over the null slots, telling each container its new index,
/// so a collection walks only the living.
#[allow(unsafe_code)]
fn compact(slots: &mut Slots) {
    let mut kept = 0;
    for i in 0..slots.entries.len() {
        let entry = slots.entries[i];
        if entry.object.is_null() {
            continue;
        }
        if kept != i {
            slots.entries[kept] = entry;
            // SAFETY: a registered container is alive (it empties its slot as it is freed).
            unsafe { &*entry.object }.0.set(kept as u32);
        }
        kept += 1;
    }
    slots.entries.truncate(kept);
    slots.free.clear();
}

/// A registered container, borrowed for the length of a collection's steps 2 and 3, during
/// which nothing is made or freed.
#[derive(Clone, Copy)]
enum Object<'a> {
    List(&'a ListCell),
    Dict(&'a DictCell),
    Record(&'a Record),
    Cell(&'a CaptureCell),
    Function(&'a Closure),
}

impl Entry {
    /// # Safety
    /// The entry must be registered (its container alive) for `'a`.
    #[allow(unsafe_code)]
    unsafe fn object<'a>(self) -> Object<'a> {
        let p = self.object;
        // SAFETY: per the caller, and the kind says the type.
        unsafe {
            match self.kind {
                Kind::List => Object::List(&*p.cast()),
                Kind::Dict => Object::Dict(&*p.cast()),
                Kind::Record => Object::Record(&*p.cast::<u8>().sub(16).cast::<Record>()),
                Kind::Cell => Object::Cell(&*p.cast()),
                Kind::Function => Object::Function(&*p.cast()),
            }
        }
    }

    /// The container's reference count.
    ///
    /// # Safety
    /// The entry must be registered (its container alive).
    #[allow(unsafe_code)]
    unsafe fn strong_count(self) -> usize {
        // SAFETY: an `Rc`'s value follows its strong and weak counts (std's `RcInner`, the
        // layout `Value::strong_count` relies on too; the tests check it for every kind).
        unsafe { *self.object.cast::<usize>().sub(2) }
    }

    /// A strong handle, which keeps the container alive while its contents are dropped.
    ///
    /// # Safety
    /// The entry must be registered (its container alive).
    #[allow(unsafe_code)]
    unsafe fn handle(self) -> Handle {
        /// # Safety
        /// `object` must point at a living `T` inside an `Rc`.
        unsafe fn strong<T>(object: *const Tracking) -> Rc<T> {
            let object = object.cast::<T>();
            // SAFETY: per the caller, an `Rc`'s value; the raised count is the handle's own.
            unsafe {
                Rc::increment_strong_count(object);
                Rc::from_raw(object)
            }
        }
        // SAFETY: per the caller, and the kind says the type.
        unsafe {
            match self.kind {
                Kind::List => Handle::List(strong(self.object)),
                Kind::Dict => Handle::Dict(strong(self.object)),
                Kind::Record => Handle::Record(RecordRef::from_ptr(
                    self.object.cast::<u8>().sub(16).cast::<Record>(),
                )),
                Kind::Cell => Handle::Cell(strong(self.object)),
                Kind::Function => Handle::Function {
                    _alive: strong(self.object),
                },
            }
        }
    }
}

/// A strong handle to an unreachable container while it is emptied.
enum Handle {
    List(Rc<ListCell>),
    Dict(Rc<DictCell>),
    Record(RecordRef),
    Cell(Rc<CaptureCell>),
    /// Held only so that it is freed with the rest, after the emptying.
    Function {
        _alive: Rc<Closure>,
    },
}

impl Object<'_> {
    /// Calls `visit` with the registry index of every tracked container this one refers to;
    /// false if its contents could not be borrowed.
    fn children(self, visit: &mut dyn FnMut(usize)) -> bool {
        if let Object::Function(function) = self {
            for cell in function.captures.iter() {
                if let Some(i) = cell.tracking.index() {
                    visit(i);
                }
            }
        }
        let mut each = |value: &Value| {
            if let Some(i) = tracked_index(value) {
                visit(i);
            }
        };
        match self {
            Object::List(list) => match list.try_borrow() {
                Ok(items) => items.iter().for_each(each),
                Err(_) => return false,
            },
            Object::Dict(dict) => match dict.try_borrow() {
                Ok(dict) => {
                    for (key, value) in dict.iter() {
                        each(key.value());
                        each(value);
                    }
                }
                Err(_) => return false,
            },
            Object::Record(record) => match record.try_fields() {
                Some(fields) => fields.iter().for_each(each),
                None => return false,
            },
            Object::Cell(cell) => match cell.try_borrow() {
                Ok(value) => each(&value),
                Err(_) => return false,
            },
            Object::Function(function) => function.defaults.iter().for_each(each),
        }
        true
    }
}

impl Handle {
    /// Moves an unreachable container's contents into `into`. A function holds only cells and
    /// defaults it cannot let go of; emptying the mutable containers on its cycle frees it.
    fn empty(&self, into: &mut Vec<Value>) {
        match self {
            Handle::List(list) => {
                if let Ok(mut items) = list.contents().try_borrow_mut() {
                    into.append(&mut items);
                }
            }
            Handle::Dict(dict) => {
                if let Ok(mut dict) = dict.contents().try_borrow_mut() {
                    for (key, value) in std::mem::take(&mut *dict) {
                        into.push(key.into_value());
                        into.push(value);
                    }
                }
            }
            Handle::Record(record) => {
                // The fields stay (as nil), so the record keeps its type's shape.
                if let Some(mut fields) = record.try_fields_mut() {
                    into.extend(fields.iter_mut().map(std::mem::take));
                }
            }
            Handle::Cell(cell) => {
                if let Ok(mut value) = cell.try_borrow_mut() {
                    into.push(std::mem::take(&mut *value));
                }
            }
            Handle::Function { .. } => {}
        }
    }
}

/// The registry index of the container `value` refers to, if it is tracked.
fn tracked_index(value: &Value) -> Option<usize> {
    match value {
        Value::List(x) => x.tracking.index(),
        Value::Dict(x) => x.tracking.index(),
        Value::Record(x) => x.tracking.index(),
        Value::Cell(x) => x.tracking.index(),
        Value::Function(x) => x.tracking.index(),
        _ => None,
    }
}

/// Runs a collection now; returns how many containers it found unreachable and emptied
/// (`runtime.collect_cycles()`, and the dispatch loop when [`due`]). Call it only where no
/// container's contents are borrowed for longer than the call.
#[allow(unsafe_code)]
pub fn collect() -> usize {
    let Ok(Some(garbage)) = REGISTRY.try_with(|registry| {
        if registry.collecting.replace(true) {
            return None;
        }
        // SAFETY: see `Registry::slots`. Until the handles are taken nothing is made or
        // freed, so every entry stays alive and at its index.
        let slots = unsafe { &mut *registry.slots.get() };
        compact(slots);
        let entries = &slots.entries;
        let unreachable = unsafe { unreachable(entries) };
        Some(
            unreachable
                .into_iter()
                .map(|i| unsafe { entries[i].handle() })
                .collect::<Vec<Handle>>(),
        )
    }) else {
        return 0;
    };
    // 4. Empty the unreachable; their contents are dropped after every one is emptied, and
    //    then the containers themselves, with the handles.
    let mut contents: Vec<Value> = Vec::new();
    for handle in &garbage {
        handle.empty(&mut contents);
    }
    drop(contents);
    let count = garbage.len();
    drop(garbage);
    let _ = REGISTRY.try_with(|registry| {
        // SAFETY: see `Registry::slots`.
        let survivors = living(unsafe { &*registry.slots.get() });
        registry
            .threshold
            .set((survivors + survivors / 4).max(MIN_THRESHOLD));
        registry.collecting.set(false);
    });
    count
}

/// Steps 2 and 3: the indices of the containers nothing outside the registry reaches; none if
/// some container's contents could not be read.
///
/// # Safety
/// `entries` must be the registry, unchanged while this runs.
#[allow(unsafe_code)]
unsafe fn unreachable(entries: &[Entry]) -> Vec<usize> {
    // SAFETY: per the caller, every entry is alive.
    let objects: Vec<Object> = entries.iter().map(|e| unsafe { e.object() }).collect();
    // 2. References from outside: the count minus the registered containers' references.
    let mut outside: Vec<isize> = entries
        .iter()
        .map(|e| unsafe { e.strong_count() } as isize)
        .collect();
    for object in &objects {
        if !object.children(&mut |j| outside[j] -= 1) {
            return Vec::new();
        }
    }
    // 3. Everything reachable from a container with outside references is kept.
    let mut kept: Vec<bool> = outside.iter().map(|&n| n > 0).collect();
    let mut work: Vec<usize> = (0..objects.len()).filter(|&i| kept[i]).collect();
    while let Some(i) = work.pop() {
        objects[i].children(&mut |j| {
            if !kept[j] {
                kept[j] = true;
                work.push(j);
            }
        });
    }
    (0..objects.len()).filter(|&i| !kept[i]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::object::CaptureCell;

    fn registered(value: &Value) -> Entry {
        let i = tracked_index(value).expect("tracked");
        REGISTRY.with(|registry| {
            #[allow(unsafe_code)]
            let slots = unsafe { &*registry.slots.get() };
            slots.entries[i]
        })
    }

    /// A list registered with the collector: one that holds a list.
    fn tracked_list() -> Value {
        Value::list(vec![Value::list(vec![])])
    }

    #[test]
    fn only_a_container_that_may_hold_a_container_is_registered() {
        let atomic = Value::list(vec![Value::Int(1), Value::str("a")]);
        assert_eq!(tracked_index(&atomic), None);
        assert!(tracked_index(&tracked_list()).is_some());
        let mut entries = crate::dict::new_dict();
        let key = crate::dict::Key::new(Value::str("k")).expect("a str is a key");
        entries.insert(key, Value::Int(1));
        let dict = Value::dict(entries);
        assert_eq!(tracked_index(&dict), None);
        // Borrowed to change, each may come to hold a container: both are registered.
        let (Value::List(list), Value::Dict(cell)) = (&atomic, &dict) else {
            unreachable!()
        };
        drop(list.borrow_mut());
        drop(cell.borrow_mut());
        assert!(tracked_index(&atomic).is_some());
        assert!(tracked_index(&dict).is_some());
    }

    #[test]
    #[allow(unsafe_code)]
    fn counts_are_read_where_rc_keeps_them() {
        let mut entries = crate::dict::new_dict();
        let key = crate::dict::Key::new(Value::Int(1)).expect("an int is a key");
        entries.insert(key, tracked_list());
        let values = [
            tracked_list(),
            Value::dict(entries),
            Value::Cell(CaptureCell::new_rc(Value::Nil)),
        ];
        for value in values {
            let copies = [value.clone(), value.clone()];
            let entry = registered(&value);
            // SAFETY: `value` keeps the container alive.
            assert_eq!(unsafe { entry.strong_count() }, 3);
            drop(copies);
            assert_eq!(unsafe { entry.strong_count() }, 1);
        }
    }

    #[test]
    fn a_cycle_is_freed_and_a_held_one_kept() {
        let held = Value::list(vec![]);
        let Value::List(list) = &held else {
            unreachable!()
        };
        list.borrow_mut().push(held.clone());
        let dropped = Value::list(vec![]);
        let Value::List(inner) = &dropped else {
            unreachable!()
        };
        inner.borrow_mut().push(dropped.clone());
        drop(dropped);
        assert_eq!(collect(), 1);
        assert_eq!(list.borrow().len(), 1);
        // A container being changed (borrowed) stops the collection: nothing is freed.
        let _changing = list.borrow_mut();
        let again = Value::list(vec![]);
        let Value::List(again_list) = &again else {
            unreachable!()
        };
        again_list.borrow_mut().push(again.clone());
        drop(again);
        assert_eq!(collect(), 0);
    }

    #[test]
    fn a_freed_slot_is_reused_and_a_collection_compacts() {
        let a = tracked_list();
        let b = tracked_list();
        let ib = tracked_index(&b).expect("tracked");
        drop(b);
        let c = tracked_list();
        assert_eq!(tracked_index(&c), Some(ib));
        drop(a);
        assert_eq!(collect(), 0);
        assert_eq!(tracked_index(&c), Some(0));
        drop(c);
    }
}
