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
    BoundMethod, Closure, EnumType, Iter, Module, NativeFunction, NativeObject, Range, Record,
    RecordType, Variant,
};
use crate::teardown::{DictCell, ListCell, TupleItems};

/// A cn value.
#[derive(Default)]
pub enum Value {
    /// `nil`.
    #[default]
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// A 64-bit signed integer; arithmetic overflow is a fault.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A duration in nanoseconds (`60.seconds`).
    Duration(i64),
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
    /// An instance of a `type` definition.
    Record(Rc<Record>),
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
    Cell(Rc<RefCell<Value>>),
    /// A global that has not been assigned yet. Never visible to scripts.
    Undefined,
}

const _: () = assert!(std::mem::size_of::<Value>() == 16);

impl Clone for Value {
    /// Takes the reference (if the value has one) and then copies the 16 bytes as they are.
    /// Rebuilding the value variant by variant instead would assemble it in a stack temporary from
    /// two 8-byte stores and reload it as one 16-byte move, which the CPU cannot forward from the
    /// store buffer: that stall was the largest single cost of pushing a local.
    #[inline(always)]
    #[allow(unsafe_code)]
    fn clone(&self) -> Value {
        match self {
            Value::Nil
            | Value::Bool(_)
            | Value::Int(_)
            | Value::Float(_)
            | Value::Duration(_)
            | Value::Undefined => {}
            Value::Str(x) => std::mem::forget(Rc::clone(x)),
            Value::Bytes(x) => std::mem::forget(Rc::clone(x)),
            Value::List(x) => std::mem::forget(Rc::clone(x)),
            Value::Tuple(x) => std::mem::forget(Rc::clone(x)),
            Value::Dict(x) => std::mem::forget(Rc::clone(x)),
            Value::Record(x) => std::mem::forget(Rc::clone(x)),
            Value::Variant(x) => std::mem::forget(Rc::clone(x)),
            Value::Function(x) => std::mem::forget(Rc::clone(x)),
            Value::Native(x) => std::mem::forget(Rc::clone(x)),
            Value::Bound(x) => std::mem::forget(Rc::clone(x)),
            Value::Type(x) => std::mem::forget(Rc::clone(x)),
            Value::Enum(x) => std::mem::forget(Rc::clone(x)),
            Value::Module(x) => std::mem::forget(Rc::clone(x)),
            Value::Range(x) => std::mem::forget(Rc::clone(x)),
            Value::Iterator(x) => std::mem::forget(Rc::clone(x)),
            Value::Object(x) => std::mem::forget(Rc::clone(x)),
            Value::Cell(x) => std::mem::forget(Rc::clone(x)),
        }
        // SAFETY: every heap variant's reference count was raised just above, so the bitwise
        // copy owns its own reference, exactly as `Rc::clone` would have made it; inline
        // variants own nothing.
        unsafe { std::ptr::read(self) }
    }
}

impl Value {
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
            (Record(x), Record(y)) => Rc::ptr_eq(x, y),
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
        Value::List(Rc::new(ListCell::new(items)))
    }

    /// A tuple value.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(Rc::new(TupleItems::new(items)))
    }

    /// A dict value.
    pub fn dict(dict: Dict) -> Value {
        Value::Dict(Rc::new(DictCell::new(dict)))
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
