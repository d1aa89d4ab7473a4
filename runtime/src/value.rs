//! `Value`: the 16-byte tagged union every cn value is.
//!
//! Small values (nil, bool, int, float, duration) live inline; everything else is a pointer to a
//! reference-counted heap object. Interpreter state is single-threaded, so `Rc` and `RefCell`
//! are enough and the hot path never takes a lock. Mutable containers (lists, dicts, records) use
//! `RefCell`; immutable ones (strings, tuples, variants) do not.

use std::cell::RefCell;
use std::rc::Rc;

use crate::dict::Dict;
use crate::object::{
    BoundMethod, CaptureCell, Closure, EnumType, Iter, Module, NativeFunction, NativeObject, Range,
    RecordRef, RecordType, Variant,
};
use crate::teardown::{DictCell, ListCell, TupleItems};

/// A cn value.
///
/// `repr(u8)` fixes the layout the hot paths rely on: a one-byte tag, then the payload at offset
/// 8, so every heap variant's `Rc` pointer sits in the same place (see [`Value::strong_count`]).
/// The inline variants come first and `Undefined` right after them, so "inline" is one
/// comparison of the tag.
#[derive(Default)]
#[repr(u8)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil = TAG_NIL,
    /// `true` / `false`.
    Bool(bool) = TAG_BOOL,
    /// A 64-bit signed integer; arithmetic overflow is a fault.
    Int(i64) = TAG_INT,
    /// A 64-bit float.
    Float(f64) = TAG_FLOAT,
    /// A duration in nanoseconds (`60.seconds`).
    Duration(i64),
    /// A global that has not been assigned yet. Never visible to scripts.
    Undefined,
    /// An immutable string.
    Str(Rc<String>),
    /// An immutable byte string (`bytes`): binary bodies, `s.encode()`.
    Bytes(Rc<bytes::Bytes>),
    /// A mutable list.
    List(Rc<ListCell>),
    /// An immutable tuple.
    Tuple(Rc<TupleItems>),
    /// A mutable dict keeping insertion order.
    Dict(Rc<DictCell>),
    /// A mutable set of hashable values.
    Set(Rc<crate::set::SetCell>),
    /// An instance of a `type` definition.
    Record(RecordRef),
    /// An enum variant or result (`Ok(x)`, `Err(e)`, `Circle(2.0)`, `Empty`).
    Variant(Rc<Variant>),
    /// A script function with its captured cells.
    Function(Rc<Closure>),
    /// A function implemented in Rust.
    Native(Rc<NativeFunction>),
    /// A method bound to its receiver (`f = xs.append`).
    Bound(Rc<BoundMethod>),
    /// A record type (callable: constructs records).
    Type(Rc<RecordType>),
    /// An enum type (its variants are attributes).
    Enum(Rc<EnumType>),
    /// An imported module.
    Module(Rc<Module>),
    /// `range(start, stop, step)`.
    Range(Rc<Range>),
    /// An iterator in progress (`for` loops, `enumerate`, `zip`).
    Iterator(Rc<RefCell<Iter>>),
    /// A native object from the standard library (a server, a counter, a span).
    Object(Rc<NativeObject>),
    /// A captured variable's storage. Never visible to scripts.
    Cell(Rc<CaptureCell>),
}

const TAG_NIL: u8 = 0;
const TAG_BOOL: u8 = 1;
const TAG_INT: u8 = 2;
const TAG_FLOAT: u8 = 3;

const _: () = assert!(std::mem::size_of::<Value>() == 16);
const _: () = assert!(std::mem::size_of::<Option<Value>>() == 16);

impl Clone for Value {
    /// Raises the reference count (if the value has one) through the one place every heap
    /// variant keeps it, then copies the 16 bytes as they are. A match over the variants
    /// compiled to a jump table on the tag, an indirect branch on every push of a local; and
    /// rebuilding the value variant by variant would assemble it from two 8-byte stores and
    /// reload it as one 16-byte move, which the CPU cannot forward from its store buffer.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn clone(&self) -> Value {
        if !self.is_inline() {
            // SAFETY: the value is not inline. The count cannot overflow: every reference is a
            // 16-byte value in memory.
            let count = unsafe { self.strong_count() };
            count.set(count.get() + 1);
        }
        // SAFETY: a heap value's count was raised just above, so the bitwise copy owns its own
        // reference, exactly as `Rc::clone` would have made it; inline variants own nothing.
        unsafe { std::ptr::read(self) }
    }
}

/// Drops `value`, deciding without a match over its type whether anything is freed: an inline
/// value costs one comparison, a reference that is not the last one a decrement. Only the last
/// reference goes through the typed drop, out of line.
#[inline(always)]
#[allow(unsafe_code)]
pub fn release(value: Value) {
    if value.is_inline() {
        std::mem::forget(value);
        return;
    }
    // SAFETY: the value is not inline.
    let count = unsafe { value.strong_count() };
    let n = count.get();
    if n > 1 {
        count.set(n - 1);
        std::mem::forget(value);
    } else {
        release_last(value);
    }
}

#[cold]
#[inline(never)]
fn release_last(value: Value) {
    drop(value);
}

/// Inline values built whole, for the dispatch loop.
///
/// Written the ordinary way, `Value::Int(n)` is two stores (the tag byte, then the payload),
/// and the next instruction often moves that value with one 16-byte load (a pop, a return, a
/// clone), which the CPU cannot forward from two smaller stores still in its store buffer: it
/// waits for them to reach the cache, a dozen cycles or more. Built in a vector register, the
/// value is stored by one 16-byte write, from which any later load forwards.
impl Value {
    /// `Value::Int(n)`, stored whole.
    #[inline(always)]
    pub fn int_whole(n: i64) -> Value {
        whole(TAG_INT as u64, n as u64)
    }

    /// `Value::Float(x)`, stored whole.
    #[inline(always)]
    pub fn float_whole(x: f64) -> Value {
        whole(TAG_FLOAT as u64, x.to_bits())
    }

    /// `Value::Bool(b)`, stored whole (the bool is the byte after the tag).
    #[inline(always)]
    pub fn bool_whole(b: bool) -> Value {
        whole(TAG_BOOL as u64 | (b as u64) << 8, 0)
    }

    /// `Value::Nil`, stored whole.
    #[inline(always)]
    pub fn nil_whole() -> Value {
        whole(TAG_NIL as u64, 0)
    }
}

/// The value whose first eight bytes are `head` (the tag, and a bool's byte) and whose last
/// eight are `payload`, as one vector register.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn whole(head: u64, payload: u64) -> Value {
    use std::arch::x86_64::{__m128i, _mm_set_epi64x};
    // SAFETY: SSE2 is part of x86-64. Callers pass a valid tag with its payload (`repr(u8)`
    // puts an int's or float's payload at offset 8 and a bool's at offset 1; the other bytes
    // are padding), so the bits are a valid `Value` that owns nothing.
    unsafe { std::mem::transmute::<__m128i, Value>(_mm_set_epi64x(payload as i64, head as i64)) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn whole(head: u64, payload: u64) -> Value {
    match head as u8 {
        TAG_INT => Value::Int(payload as i64),
        TAG_FLOAT => Value::Float(f64::from_bits(payload)),
        TAG_BOOL => Value::Bool(head >> 8 != 0),
        _ => Value::Nil,
    }
}

impl Value {
    /// The strong reference count of the object a heap value points to, found without a match
    /// over the variants: with `repr(u8)` every heap variant holds its `Rc` at offset 8, and an
    /// `Rc` points at a block whose first word is the strong count (std's `RcInner` is
    /// `repr(C)` with `strong` first). The test `uniform_count_is_rcs_count` checks that for
    /// every heap variant against `Rc::strong_count`.
    ///
    /// # Safety
    /// The value must not be inline.
    #[inline(always)]
    #[allow(unsafe_code)]
    pub(crate) unsafe fn strong_count(&self) -> &std::cell::Cell<usize> {
        // SAFETY: per the layout above, the word at offset 8 is the `Rc`'s pointer to its
        // block, which lives at least as long as `self` holds its reference.
        unsafe {
            let block = *(self as *const Value as *const u8)
                .add(8)
                .cast::<*const std::cell::Cell<usize>>();
            &*block
        }
    }

    /// Identity, `self is other`, and `==`'s answer for values without contents: the same heap
    /// object, or for values kept inline (nil, bools, ints, floats, durations) the same value of
    /// the same type (a float by its bits, so `nan is nan`).
    pub fn same(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Nil, Nil) | (Undefined, Undefined) => true,
            (Bool(x), Bool(y)) => x == y,
            (Int(x), Int(y)) | (Duration(x), Duration(y)) => x == y,
            (Float(x), Float(y)) => x.to_bits() == y.to_bits(),
            (Str(x), Str(y)) => Rc::ptr_eq(x, y),
            (Bytes(x), Bytes(y)) => Rc::ptr_eq(x, y),
            (List(x), List(y)) => Rc::ptr_eq(x, y),
            (Tuple(x), Tuple(y)) => Rc::ptr_eq(x, y),
            (Dict(x), Dict(y)) => Rc::ptr_eq(x, y),
            (Set(x), Set(y)) => Rc::ptr_eq(x, y),
            (Record(x), Record(y)) => RecordRef::ptr_eq(x, y),
            (Variant(x), Variant(y)) => Rc::ptr_eq(x, y),
            (Function(x), Function(y)) => Rc::ptr_eq(x, y),
            (Native(x), Native(y)) => Rc::ptr_eq(x, y),
            (Bound(x), Bound(y)) => Rc::ptr_eq(x, y),
            (Type(x), Type(y)) => Rc::ptr_eq(x, y),
            (Enum(x), Enum(y)) => Rc::ptr_eq(x, y),
            (Module(x), Module(y)) => Rc::ptr_eq(x, y),
            (Range(x), Range(y)) => Rc::ptr_eq(x, y),
            (Iterator(x), Iterator(y)) => Rc::ptr_eq(x, y),
            (Object(x), Object(y)) => Rc::ptr_eq(x, y),
            (Cell(x), Cell(y)) => Rc::ptr_eq(x, y),
            _ => false,
        }
    }

    /// A string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(Rc::new(s.into()))
    }

    /// A bytes value.
    pub fn bytes(data: impl Into<bytes::Bytes>) -> Value {
        Value::Bytes(Rc::new(data.into()))
    }

    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(ListCell::new_rc(items))
    }

    /// A tuple value.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(TupleItems::new(items)))
    }

    /// A dict value.
    pub fn dict(dict: Dict) -> Value {
        Value::Dict(DictCell::new_rc(dict))
    }

    /// `Ok(value)`.
    pub fn ok(value: Value) -> Value {
        Value::Variant(Rc::new(Variant::result(true, value)))
    }

    /// `Err(error)`.
    pub fn err(error: Value) -> Value {
        Value::Variant(Rc::new(Variant::result(false, error)))
    }

    /// The name of the value's type as scripts see it (`type(x)`).
    pub fn type_name(&self) -> &str {
        match self {
            Value::Nil => "nil",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Duration(_) => "duration",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::List(_) => "list",
            Value::Tuple(_) => "tuple",
            Value::Dict(_) => "dict",
            Value::Set(_) => "set",
            Value::Record(r) => &r.ty.name,
            Value::Variant(v) => &v.type_name,
            Value::Function(_) | Value::Native(_) | Value::Bound(_) => "function",
            Value::Type(_) | Value::Enum(_) => "type",
            Value::Module(_) => "module",
            Value::Range(_) => "range",
            Value::Iterator(_) => "iterator",
            Value::Object(o) => o.type_name(),
            Value::Cell(_) | Value::Undefined => "internal",
        }
    }

    /// Python truthiness: nil, false, 0, 0.0, empty containers and zero durations are false.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Nil | Value::Undefined => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Duration(d) => *d != 0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::Set(s) => !s.borrow().is_empty(),
            Value::Range(r) => !r.is_empty(),
            _ => true,
        }
    }

    /// True for values stored entirely inside the 16 bytes (no heap object to release).
    #[inline(always)]
    pub fn is_inline(&self) -> bool {
        matches!(
            self,
            Value::Nil
                | Value::Bool(_)
                | Value::Int(_)
                | Value::Float(_)
                | Value::Duration(_)
                | Value::Undefined
        )
    }

    /// Whether the value can be called as a function (script function, native, bound method).
    /// Record types and enums construct values but are not "functions" to library code that
    /// takes a callback.
    pub fn is_callable(&self) -> bool {
        match self {
            Value::Function(_) | Value::Native(_) | Value::Bound(_) => true,
            Value::Object(object) => object.inner.members().is_callable(),
            _ => false,
        }
    }

    /// The string inside a `Str`, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::format::repr(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_built_whole_are_the_values() {
        for n in [0, 1, -1, i64::MAX, i64::MIN] {
            assert!(matches!(Value::int_whole(n), Value::Int(m) if m == n));
        }
        for x in [0.0, -2.5, f64::INFINITY] {
            assert!(matches!(Value::float_whole(x), Value::Float(y) if y == x));
        }
        assert!(Value::float_whole(f64::NAN).same(&Value::Float(f64::NAN)));
        assert!(matches!(Value::bool_whole(true), Value::Bool(true)));
        assert!(matches!(Value::bool_whole(false), Value::Bool(false)));
        assert!(matches!(Value::nil_whole(), Value::Nil));
    }

    /// `Value::strong_count` reads std's `Rc` layout directly; if that layout ever changed,
    /// this fails before any count goes wrong.
    #[test]
    #[allow(unsafe_code)]
    fn uniform_count_is_rcs_count() {
        let values = [
            Value::str("text"),
            Value::bytes(vec![1u8, 2]),
            Value::list(vec![Value::Int(1)]),
            Value::tuple(vec![Value::Nil]),
            Value::dict(crate::dict::new_dict()),
            Value::set(crate::set::new_items()),
            Value::ok(Value::Int(2)),
            Value::Cell(CaptureCell::new_rc(Value::Nil)),
        ];
        for value in values {
            let copies = [value.clone(), value.clone()];
            let expected = match &value {
                Value::Str(x) => Rc::strong_count(x),
                Value::Bytes(x) => Rc::strong_count(x),
                Value::List(x) => Rc::strong_count(x),
                Value::Tuple(x) => Rc::strong_count(x),
                Value::Dict(x) => Rc::strong_count(x),
                Value::Set(x) => Rc::strong_count(x),
                Value::Variant(x) => Rc::strong_count(x),
                Value::Cell(x) => Rc::strong_count(x),
                _ => unreachable!("a heap value"),
            };
            assert_eq!(expected, 3);
            // SAFETY: every value above is a heap value.
            assert_eq!(unsafe { value.strong_count() }.get(), expected);
            drop(copies);
            release(value.clone());
            assert_eq!(unsafe { value.strong_count() }.get(), 1);
        }
    }
}
