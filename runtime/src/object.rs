//! Heap objects behind [`Value`]'s pointers: records and their types, variants, closures and
//! their code, native functions and objects, modules, ranges and iterators.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::rc::Rc;

use cn_compiler::bytecode::{FunctionProto, Op, TypeAnnotation};
use cn_compiler::compile::ModuleScope;
use cn_compiler::syntax::ast::BinOp;

use crate::args::Args;
use crate::cycles::Tracking;
use crate::fault::Fault;
use crate::native::{Function, Members, NativeModule, Params};
use crate::source::SourceFile;
use crate::symbol::Symbol;
use crate::value::Value;
use crate::vm::Vm;

/// A compiled function ready to run: instructions plus runtime constants.
pub struct Code {
    /// The number of parameters (`params.len()`; `u32::MAX` when the function has `*args` or
    /// `**kwargs`, so no exact-count fast path takes it), and of local slots (`proto.locals`):
    /// read on every call, so kept here rather than behind two more pointers.
    pub arity: u32,
    /// See `arity`.
    pub locals: u32,
    /// What the compiler produced (spans, parameter names, nested protos).
    pub proto: Rc<FunctionProto>,
    /// The instructions (copied out of the proto for a tight loop).
    pub ops: Rc<[Op]>,
    /// Constants as values; nested functions appear as closures without captures (templates).
    pub consts: Box<[Value]>,
    /// Names (attributes, methods, keywords) interned.
    pub names: Box<[Symbol]>,
    /// Parameter names interned, for keyword binding.
    pub params: Box<[Symbol]>,
    /// Keyword-name lists, indexed like `consts` (empty where the constant is not a name list).
    pub keyword_lists: Box<[Rc<[Symbol]>]>,
    /// The file the function was defined in.
    pub file: Rc<SourceFile>,
    /// One inline cache per instruction (see `inline_cache`).
    pub sites: crate::inline_cache::Sites,
}

/// A script function value: code plus captured cells and evaluated defaults.
#[repr(C)]
pub struct Closure {
    /// Its place in the cycle collector's registry, when it captures something (`cycles`).
    pub tracking: Tracking,
    /// The function's code.
    pub code: Rc<Code>,
    /// Captured variables, shared with the enclosing function.
    pub captures: Box<[Rc<CaptureCell>]>,
    /// Default values of the last `code.proto.defaults` parameters.
    pub defaults: Box<[Value]>,
}

impl Closure {
    /// A function value, registered with the cycle collector when it can be part of a cycle
    /// (it captures a variable, or a default is a container).
    pub fn new_rc(
        code: Rc<Code>,
        captures: Box<[Rc<CaptureCell>]>,
        defaults: Box<[Value]>,
    ) -> Rc<Closure> {
        let may_cycle = !captures.is_empty() || defaults.iter().any(|d| !d.is_inline());
        let closure = Closure {
            tracking: Tracking::new(),
            code,
            captures,
            defaults,
        };
        if may_cycle {
            crate::cycles::tracked(closure)
        } else {
            Rc::new(closure)
        }
    }

    /// The function's name as written (`<lambda>` for lambdas).
    pub fn name(&self) -> &str {
        &self.code.proto.name
    }
}

/// A native function with state, as a boxed closure.
pub type NativeClosure = Box<dyn Fn(&mut Vm, Args<'_>) -> Result<Value, Fault>>;

/// The signature of a native function: the VM (to call back into scripts, print, ...) and the
/// arguments.
pub type NativeFn = fn(&mut Vm, Args<'_>) -> Result<Value, Fault>;

/// A function implemented in Rust.
pub struct NativeFunction {
    /// Name shown in errors and `repr` (`len`, `http.get`).
    pub name: Rc<str>,
    /// `help()`'s text (empty for functions made by library code on the fly).
    pub doc: &'static str,
    /// What it accepts, checked before the implementation runs.
    pub params: Params,
    /// The implementation.
    pub func: NativeImpl,
}

/// How a native function is implemented.
pub enum NativeImpl {
    /// A plain function pointer (builtins, module functions).
    Plain(NativeFn),
    /// A closure with state (variant constructors, functions made by library code).
    Closure(NativeClosure),
}

impl NativeFunction {
    /// A declared function (a builtin, a module function) under the name `name`.
    pub fn declared(name: Rc<str>, function: &'static Function) -> Value {
        Value::Native(Rc::new(NativeFunction {
            name,
            doc: function.doc,
            params: function.params,
            func: NativeImpl::Plain(function.call),
        }))
    }

    /// A function made by library code at run time (a variant constructor, a middleware step),
    /// which checks its own arguments.
    pub fn closure(
        name: impl Into<Rc<str>>,
        func: impl Fn(&mut Vm, Args<'_>) -> Result<Value, Fault> + 'static,
    ) -> Value {
        Value::Native(Rc::new(NativeFunction {
            name: name.into(),
            doc: "",
            params: Params::ANY,
            func: NativeImpl::Closure(Box::new(func)),
        }))
    }

    /// Calls the function, checking the arguments against its declaration first.
    #[inline]
    pub fn call(&self, vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
        self.params.check(&args)?;
        match &self.func {
            NativeImpl::Plain(f) => f(vm, args),
            NativeImpl::Closure(f) => f(vm, args),
        }
    }
}

/// A method bound to its receiver.
pub enum BoundMethod {
    /// A method of a builtin type (`xs.append`), dispatched by name when called.
    Builtin {
        /// The receiver.
        receiver: Value,
        /// The method name.
        name: Symbol,
    },
    /// A record method: the function and the record passed as `self`.
    Script {
        /// The record.
        receiver: Value,
        /// The method.
        func: Value,
    },
}

/// Metadata of one record field, readable by library code (`config` reads `@env` and types).
pub struct FieldInfo {
    /// Field name.
    pub name: Symbol,
    /// The annotation as written.
    pub ty: TypeAnnotation,
    /// Default value, if any.
    pub default: Option<Value>,
    /// Decorators: name and argument values (`env`, `("PORT",)`).
    pub decorators: Vec<(Rc<str>, Vec<Value>)>,
}

impl FieldInfo {
    /// The arguments of decorator `name`, if the field has it.
    pub fn decorator(&self, name: &str) -> Option<&[Value]> {
        self.decorators
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, args)| args.as_slice())
    }
}

/// A `type Name:` definition.
pub struct RecordType {
    /// Unique among all types ever made (`inline_cache` keys on it).
    pub id: u32,
    /// The type name.
    pub name: Rc<str>,
    /// Fields in declaration order.
    pub fields: Vec<FieldInfo>,
    /// Methods by name.
    pub methods: Vec<(Symbol, Value)>,
    /// Whether `record["field"]` reads a field by name, as well as `record.field`. Off for the
    /// script's own types; the library's row types (`sql` rows) turn it on, since a column's
    /// name need not be an identifier (`count(*)`).
    pub keyed: bool,
}

impl RecordType {
    /// Index of field `name`.
    #[inline]
    pub fn field_index(&self, name: Symbol) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }

    /// Method `name`.
    #[inline]
    pub fn method(&self, name: Symbol) -> Option<&Value> {
        self.methods
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m)
    }
}

pub use crate::record::{Record, RecordRef};

/// A captured variable's storage (`Value::Cell`), shared by the function that declares the
/// variable and the functions that capture it.
#[repr(C)]
pub struct CaptureCell {
    /// Its place in the cycle collector's registry (`cycles`).
    pub tracking: Tracking,
    value: RefCell<Value>,
}

impl CaptureCell {
    /// A cell holding `value`, registered with the cycle collector.
    pub fn new_rc(value: Value) -> Rc<CaptureCell> {
        crate::cycles::tracked(CaptureCell {
            tracking: Tracking::new(),
            value: RefCell::new(value),
        })
    }
}

impl std::ops::Deref for CaptureCell {
    type Target = RefCell<Value>;

    fn deref(&self) -> &RefCell<Value> {
        &self.value
    }
}

/// An enum variant value: `Circle(2.0)`, `Empty`, `Ok(x)`, `Err(e)`.
pub struct Variant {
    /// The enum's name (`Result` for Ok/Err).
    pub type_name: Rc<str>,
    /// The variant's name.
    pub name: Symbol,
    /// Payload field names (may be empty for natively built variants).
    pub field_names: Rc<[Symbol]>,
    /// Payload values.
    pub payload: Vec<Value>,
}

impl Variant {
    /// `Ok(value)` or `Err(value)`.
    pub fn result(ok: bool, value: Value) -> Variant {
        let (name, field) = if ok {
            (crate::symbol::OK, crate::symbol::VALUE)
        } else {
            (crate::symbol::ERR, crate::symbol::ERROR)
        };
        Variant {
            type_name: "Result".into(),
            name,
            field_names: Rc::from(vec![field]),
            payload: vec![value],
        }
    }

    /// A variant built by library code (`Added(pod)`, `CircuitOpen`).
    pub fn value(type_name: &str, name: &str, payload: Vec<Value>) -> Value {
        Value::Variant(Rc::new(Variant {
            type_name: type_name.into(),
            name: Symbol::intern(name),
            field_names: Rc::from(Vec::new()),
            payload,
        }))
    }

    /// True for `Ok(_)`.
    pub fn is_ok(&self) -> bool {
        self.name == crate::symbol::OK && &*self.type_name == "Result"
    }

    /// True for `Err(_)`.
    pub fn is_err(&self) -> bool {
        self.name == crate::symbol::ERR && &*self.type_name == "Result"
    }
}

/// An `enum Name:` definition.
pub struct EnumType {
    /// The enum name.
    pub name: Rc<str>,
    /// Variant names with their constructors (payload variants) or values (nullary variants).
    pub variants: Vec<(Symbol, Value)>,
}

/// A loaded module.
pub struct Module {
    /// The import name (`http`, `helpers`).
    pub name: Rc<str>,
    /// Where its members live.
    pub members: ModuleMembers,
}

/// Members of a module.
pub enum ModuleMembers {
    /// A `.cn` file: members are its globals.
    Script(ModuleScope),
    /// A native module: its declared members.
    Native(NativeModule),
}

/// `range(start, stop, step)`.
#[derive(Clone, Copy, Debug)]
pub struct Range {
    /// First value.
    pub start: i64,
    /// Bound (exclusive).
    pub stop: i64,
    /// Step (never 0).
    pub step: i64,
}

impl Range {
    /// Number of values in the range.
    pub fn len(&self) -> usize {
        let span = if self.step > 0 {
            self.stop.saturating_sub(self.start)
        } else {
            self.start.saturating_sub(self.stop)
        };
        if span <= 0 {
            return 0;
        }
        let step = self.step.unsigned_abs();
        ((span as u64).div_ceil(step)) as usize
    }

    /// True when the range yields nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th value, if in range.
    pub fn get(&self, i: usize) -> Option<i64> {
        (i < self.len()).then(|| self.start + self.step * i as i64)
    }
}

/// The state of an iteration.
pub enum Iter {
    /// Over a list by index (sees appends made during the loop, like Python).
    List(Rc<crate::teardown::ListCell>, usize),
    /// Over a tuple.
    Tuple(Rc<crate::teardown::TupleItems>, usize),
    /// Over a string's characters (byte offset of the next one).
    Str(Rc<String>, usize),
    /// Over a byte string's bytes, as ints.
    Bytes(Rc<bytes::Bytes>, usize),
    /// Over a dict's keys, failing if the dict changes size.
    Dict(Rc<crate::teardown::DictCell>, usize, usize),
    /// Over a range.
    Range(Range, usize),
    /// `enumerate(inner, start)`.
    Enumerate(Box<Iter>, i64),
    /// `zip(a, b, ...)`: stops at the shortest.
    Zip(Vec<Iter>),
    /// Over values prepared in advance (dict items, reversed, ...).
    Values(std::vec::IntoIter<Value>),
    /// A library's stream, whose items may need a wait (`crate::native::NativeStream`).
    Native(Box<dyn crate::native::NativeStream>),
}

/// A native object from the standard library.
///
/// Library types implement [`NativeType`]; the VM reaches them through this box, which keeps
/// `Value` at 16 bytes.
pub struct NativeObject {
    /// The implementation.
    pub inner: Box<dyn NativeType>,
}

impl NativeObject {
    /// Wraps a native type in a value.
    pub fn value(inner: impl NativeType) -> Value {
        Value::Object(Rc::new(NativeObject {
            inner: Box::new(inner),
        }))
    }

    /// The type name scripts see.
    pub fn type_name(&self) -> &str {
        self.inner.type_name()
    }

    /// Downcasts to a concrete library type.
    pub fn downcast<T: NativeType>(&self) -> Option<&T> {
        // Through the trait object, not the box: `Box<dyn NativeType>` is itself `Any`.
        (*self.inner).as_any().downcast_ref()
    }
}

/// Downcasting support, implemented for every type so native types need not each write it.
pub trait AsAny: Any {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Behaviour of a native object; every method but `type_name` and `members` has a sensible
/// default.
pub trait NativeType: AsAny {
    /// The type name scripts see (`http.Server`).
    fn type_name(&self) -> &str;

    /// The type's methods and attributes, declared in a [`crate::native::Table`].
    fn members(&self) -> &'static dyn Members;

    /// Start of a block statement (`tracing.span("x"):`).
    fn enter(&self, this: &Rc<NativeObject>, vm: &mut Vm) -> Result<(), Fault> {
        let _ = (this, vm);
        Err(Fault::new(format!(
            "{} cannot be used as a block statement",
            self.type_name()
        )))
    }

    /// End of a block statement; `error` is the fault message when the block faulted.
    fn exit(&self, this: &Rc<NativeObject>, vm: &mut Vm, error: Option<&str>) -> Result<(), Fault> {
        let _ = (this, vm, error);
        Ok(())
    }

    /// End of a block statement that must wait (a transaction's commit): the function the
    /// runtime calls instead of [`NativeType::exit`], in a cleanup frame, with the fault message
    /// or `nil`; it may suspend like any native. `returning` is the value the function is
    /// returning through the block (`return Err(..)` rolls a transaction back). `None` (the
    /// default): the type's `exit` runs.
    fn exit_waiting(&self, this: &Rc<NativeObject>, returning: Option<&Value>) -> Option<Value> {
        let _ = (this, returning);
        None
    }

    /// What `for x in object:` steps through (a channel's values); `None`: not iterable.
    fn iterate(&self) -> Option<Iter> {
        None
    }

    /// How the object prints.
    fn display(&self) -> String {
        format!("<{}>", self.type_name())
    }

    /// The value `json.encode` (and structured log fields) write for the object; `None` when it
    /// cannot be encoded.
    fn json_value(&self) -> Option<Value> {
        None
    }

    /// `self == other` for two native objects; `None` (the default) compares identity.
    fn equals(&self, other: &NativeObject) -> Option<bool> {
        let _ = other;
        None
    }

    /// Ordering for `<` and `sorted` against another native object; `None`: unordered (a fault).
    fn compare(&self, other: &NativeObject) -> Option<std::cmp::Ordering> {
        let _ = other;
        None
    }

    /// An arithmetic operator with the object on the left (`reversed == false`) or on the right;
    /// `None`: not supported (a fault naming both types).
    fn binary(&self, op: BinOp, other: &Value, reversed: bool) -> Option<Result<Value, Fault>> {
        let _ = (op, other, reversed);
        None
    }
}

impl fmt::Debug for NativeObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.display())
    }
}

impl Drop for Variant {
    /// Frees a nested payload without recursion (see `teardown`).
    fn drop(&mut self) {
        crate::teardown::release_items(&mut self.payload);
    }
}
