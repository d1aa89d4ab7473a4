//! The storage of lists, tuples and dicts, and freeing nested values without exhausting the
//! stack: a list nested five million deep (`a = [a]` in a loop) must not take five million
//! nested `drop` calls.
//!
//! Freeing a container's elements recurses as usual up to `MAX_DROP_DEPTH` containers deep
//! (the common case costs a counter); below that, the elements that are containers about to be
//! freed are moved onto a per-thread queue instead, which the outermost drop empties in a loop.
//! Records and variants do the same as they are freed (`record.rs`, `object.rs`).

use std::cell::{BorrowError, BorrowMutError, Cell, Ref, RefCell, RefMut};
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use crate::cycles::Tracking;
use crate::dict::Dict;
use crate::value::Value;

/// A list's storage (`Value::List`).
#[repr(C)]
pub struct ListCell {
    /// Its place in the cycle collector's registry (`cycles`).
    pub(crate) tracking: Tracking,
    items: RefCell<Vec<Value>>,
}

impl ListCell {
    /// A list holding `items`, registered with the cycle collector if it holds a container
    /// (see [`crate::cycles::ensure_tracked`]).
    pub fn new_rc(items: Vec<Value>) -> Rc<ListCell> {
        let holds_containers = items.iter().any(crate::cycles::traceable);
        let cell = Rc::new(ListCell {
            tracking: Tracking::new(),
            items: RefCell::new(items),
        });
        if holds_containers {
            crate::cycles::ensure_tracked(&*cell);
        }
        cell
    }

    /// The contents, to read.
    #[inline(always)]
    pub fn borrow(&self) -> Ref<'_, Vec<Value>> {
        self.items.borrow()
    }

    /// The contents, to read, or `Err` while they are being changed.
    #[inline(always)]
    pub fn try_borrow(&self) -> Result<Ref<'_, Vec<Value>>, BorrowError> {
        self.items.try_borrow()
    }

    /// The contents, to change: the list is registered with the cycle collector first, since
    /// it may now come to hold a container.
    #[inline(always)]
    pub fn borrow_mut(&self) -> RefMut<'_, Vec<Value>> {
        crate::cycles::ensure_tracked(self);
        self.items.borrow_mut()
    }

    /// As `borrow_mut`, or `Err` while the contents are borrowed.
    #[inline(always)]
    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, Vec<Value>>, BorrowMutError> {
        crate::cycles::ensure_tracked(self);
        self.items.try_borrow_mut()
    }

    /// The contents for the cycle collector, which neither registers nor needs to.
    pub(crate) fn contents(&self) -> &RefCell<Vec<Value>> {
        &self.items
    }
}

impl Drop for ListCell {
    fn drop(&mut self) {
        release_items(self.items.get_mut());
    }
}

/// A tuple's items (`Value::Tuple`).
pub struct TupleItems(Vec<Value>);

impl TupleItems {
    pub fn new(items: Vec<Value>) -> TupleItems {
        TupleItems(items)
    }
}

impl Deref for TupleItems {
    type Target = Vec<Value>;

    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl DerefMut for TupleItems {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl Drop for TupleItems {
    fn drop(&mut self) {
        release_items(&mut self.0);
    }
}

/// A dict's storage (`Value::Dict`).
#[repr(C)]
pub struct DictCell {
    /// Its place in the cycle collector's registry (`cycles`).
    pub(crate) tracking: Tracking,
    dict: RefCell<Dict>,
    /// Where the last key looked up by `get`, `d[k]` or `in` was found: `d[k] = d.get(k, 0) + 1`
    /// and `d[k] += 1` then store without hashing the key again (see [`DictCell::store`]).
    hint: Cell<usize>,
}

impl DictCell {
    /// A dict holding `dict`, registered with the cycle collector if it holds a container
    /// (see [`crate::cycles::ensure_tracked`]).
    pub fn new_rc(dict: Dict) -> Rc<DictCell> {
        let holds_containers = dict.values().any(crate::cycles::traceable);
        let cell = Rc::new(DictCell {
            tracking: Tracking::new(),
            dict: RefCell::new(dict),
            hint: Cell::new(usize::MAX),
        });
        if holds_containers {
            crate::cycles::ensure_tracked(&*cell);
        }
        cell
    }

    /// The contents, to read.
    #[inline(always)]
    pub fn borrow(&self) -> Ref<'_, Dict> {
        self.dict.borrow()
    }

    /// The value for `key`, remembering where it was for a store that follows.
    #[inline]
    pub fn lookup(&self, key: &crate::dict::Key) -> Option<Value> {
        let dict = self.dict.borrow();
        let (index, _, value) = dict.get_full(key)?;
        self.hint.set(index);
        Some(value.clone())
    }

    /// Whether `key` is there, remembering where.
    #[inline]
    pub fn contains(&self, key: &crate::dict::Key) -> bool {
        match self.dict.borrow().get_index_of(key) {
            Some(index) => {
                self.hint.set(index);
                true
            }
            None => false,
        }
    }

    /// `d[key] = value`. When the last lookup found this very key, its entry is replaced at
    /// once: the hint is only a place to look, checked by comparing the key stored there (which
    /// is equal exactly when it is the entry, keys being unique), so a removal or reordering
    /// since costs one comparison, never a wrong store.
    #[inline]
    pub fn store(&self, key: crate::dict::Key, value: Value) {
        let mut dict = self.borrow_mut();
        if let Some((stored, slot)) = dict.get_index_mut(self.hint.get()) {
            if *stored == key {
                *slot = value;
                return;
            }
        }
        let (index, _) = dict.insert_full(key, value);
        self.hint.set(index);
    }

    /// The contents, to read, or `Err` while they are being changed.
    #[inline(always)]
    pub fn try_borrow(&self) -> Result<Ref<'_, Dict>, BorrowError> {
        self.dict.try_borrow()
    }

    /// The contents, to change: the dict is registered with the cycle collector first, since
    /// it may now come to hold a container.
    #[inline(always)]
    pub fn borrow_mut(&self) -> RefMut<'_, Dict> {
        crate::cycles::ensure_tracked(self);
        self.dict.borrow_mut()
    }

    /// As `borrow_mut`, or `Err` while the contents are borrowed.
    #[inline(always)]
    pub fn try_borrow_mut(&self) -> Result<RefMut<'_, Dict>, BorrowMutError> {
        crate::cycles::ensure_tracked(self);
        self.dict.try_borrow_mut()
    }

    /// The contents for the cycle collector, which neither registers nor needs to.
    pub(crate) fn contents(&self) -> &RefCell<Dict> {
        &self.dict
    }
}

impl Drop for DictCell {
    fn drop(&mut self) {
        release(self.dict.get_mut(), Dict::clear, |dict, queue| {
            queue.extend(
                dict.values_mut()
                    .filter(|v| frees_container(v))
                    .map(std::mem::take),
            )
        });
    }
}

/// How many containers deep freeing recurses before it queues instead: far less stack than any
/// thread has, and deeper than real data nests.
const MAX_DROP_DEPTH: u32 = 1000;

/// This thread's freeing in progress: plain cells, so reading them is a plain thread-local
/// access (no lazy initialisation, no destructor to register) on every container freed.
struct Teardown {
    /// Containers being freed, nested in one another, right now.
    depth: Cell<u32>,
    /// Whether [`QUEUE`] holds anything.
    queued: Cell<bool>,
    /// Whether the queue is being emptied (further up the stack).
    emptying: Cell<bool>,
}

thread_local! {
    static TEARDOWN: Teardown = const {
        Teardown {
            depth: Cell::new(0),
            queued: Cell::new(false),
            emptying: Cell::new(false),
        }
    };
    /// Containers queued to be freed from the top; touched only past [`MAX_DROP_DEPTH`].
    static QUEUE: RefCell<Vec<Value>> = const { RefCell::new(Vec::new()) };
}

/// Whether dropping `value` frees a container whose elements may nest.
fn frees_container(value: &Value) -> bool {
    match value {
        Value::List(x) => Rc::strong_count(x) == 1,
        Value::Tuple(x) => Rc::strong_count(x) == 1,
        Value::Dict(x) => Rc::strong_count(x) == 1,
        Value::Record(x) => crate::record::RecordRef::strong_count(x) == 1,
        Value::Variant(x) => Rc::strong_count(x) == 1,
        _ => false,
    }
}

/// Frees `items` in place, leaving nil (a record's fields, as the record is freed).
pub(crate) fn release_slice(items: &mut [Value]) {
    release(
        items,
        |items| items.iter_mut().for_each(|v| drop(std::mem::take(v))),
        queue_nested,
    );
}

/// Frees `items` (a container's elements, as the container is freed).
pub(crate) fn release_items(items: &mut Vec<Value>) {
    release(items, Vec::clear, |items, queue| queue_nested(items, queue));
}

/// Moves the containers among `items` that would be freed onto `queue`.
fn queue_nested(items: &mut [Value], queue: &mut Vec<Value>) {
    queue.extend(
        items
            .iter_mut()
            .filter(|v| frees_container(v))
            .map(std::mem::take),
    )
}

/// Frees the contents of `storage` with `clear`, or, too deep for that, first moves the
/// containers among them that would be freed onto the queue with `take_nested`.
#[inline]
fn release<T: ?Sized>(
    storage: &mut T,
    clear: impl FnOnce(&mut T),
    take_nested: impl FnOnce(&mut T, &mut Vec<Value>),
) {
    TEARDOWN.with(|teardown| {
        let depth = teardown.depth.get();
        if depth < MAX_DROP_DEPTH {
            teardown.depth.set(depth + 1);
            clear(storage);
            teardown.depth.set(depth);
        } else {
            QUEUE.with(|queue| take_nested(storage, &mut queue.borrow_mut()));
            teardown.queued.set(true);
            clear(storage);
        }
        if depth == 0 && teardown.queued.get() && !teardown.emptying.get() {
            empty_queue(teardown);
        }
    });
}

/// Drops what is queued, one value at a time (each may queue more), from the top of the stack.
#[cold]
fn empty_queue(teardown: &Teardown) {
    teardown.emptying.set(true);
    loop {
        // Popped before it is dropped: dropping it may queue more.
        let next = QUEUE.with(|queue| queue.borrow_mut().pop());
        match next {
            Some(value) => drop(value),
            None => break,
        }
    }
    teardown.queued.set(false);
    teardown.emptying.set(false);
}
