//! The bytecode: the whole instruction set in one place, and the compiled-function format.
//!
//! cn runs on a stack machine. Each function's frame is a window of the fiber's value stack:
//! `base..base+n_locals` are its local slots (parameters first), and above them the operand
//! stack. Instructions are fixed-width (8 bytes: a one-byte opcode and up to six bytes of
//! operands), so the dispatch loop is one `match` over a `Copy` enum. Spans live in a side array,
//! one per instruction, read only when something goes wrong.
//!
//! Specialisation happens beside the instructions, not in them: the compiler fuses common
//! shapes into general superinstructions (a local with a small constant, compare-and-branch,
//! compare with nil), and at run time the dispatch loop answers each instruction's common
//! operand types inline and keeps one inline cache per instruction (`cn_runtime::inline_cache`:
//! the record type id and field or method index an attribute or method site saw last). A site
//! whose operands change type takes the general path, which computes the same answer or fault
//! and refills the cache; nothing is rewritten, so there is nothing to deoptimise.
//!
//! Notation below: `push`/`pop` act on the operand stack; `L[n]` is local slot n; `G[n]` is global
//! slot n (one table for the whole process); `K[n]` is constant n; `N[n]` is name n; `C[n]` is
//! captured cell n of the running closure. Jump targets are absolute instruction indexes.

use std::fmt;
use std::rc::Rc;

use crate::syntax::ast::Span;

/// One instruction. `size_of::<Op>() == 8` is asserted below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Op {
    // ---- constants ----
    /// push K\[n\]
    Const(u32),
    /// push a small integer immediate
    SmallInt(i32),
    /// push nil
    Nil,
    /// push true
    True,
    /// push false
    False,

    // ---- variables ----
    /// push L\[n\]
    LoadLocal(u32),
    /// push L\[a\]; push L\[b\]: LoadLocal2(a, b)
    LoadLocal2(u16, u16),
    /// push L\[a\].N\[n\] (`self.x`): LoadLocalAttr(a, n)
    LoadLocalAttr(u16, u32),
    /// L\[n\] := pop
    StoreLocal(u32),
    /// push G\[n\]; fault if the global has not been assigned yet
    LoadGlobal(u32),
    /// G\[n\] := pop
    StoreGlobal(u32),
    /// push builtin n
    LoadBuiltin(u32),
    /// push the value inside the cell held in L\[n\]
    LoadCell(u32),
    /// set the value inside the cell held in L\[n\] := pop
    StoreCell(u32),
    /// L\[n\] := new cell holding L\[n\] (captured parameters, at function entry)
    MakeCell(u32),
    /// push the value of captured cell C\[n\]
    LoadCapture(u32),
    /// set captured cell C\[n\] := pop
    StoreCapture(u32),

    // ---- stack ----
    /// discard the top
    Pop,
    /// push a copy of the top
    Dup,
    /// swap the two top values
    Swap,

    // ---- operators ----
    /// b := pop; a := pop; push a + b (and likewise below)
    Add,
    /// like Add, but a list on the left is extended in place (`xs += ys`)
    AddInPlace,
    /// push a - b
    Sub,
    /// push a * b
    Mul,
    /// push a / b (float division)
    Div,
    /// push a // b
    FloorDiv,
    /// push a % b
    Mod,
    /// push a ** b
    Pow,
    /// push a & b (ints)
    BitAnd,
    /// push a | b (ints)
    BitOr,
    /// push a ^ b (ints)
    BitXor,
    /// push a << b (ints)
    Shl,
    /// push a >> b (ints)
    Shr,
    /// push ~pop (ints)
    Invert,
    /// push -pop
    Neg,
    /// push +pop (numbers only)
    Pos,
    /// push not truthy(pop)
    Not,
    /// push a == b
    Eq,
    /// push a != b
    Ne,
    /// push a < b
    Lt,
    /// push a <= b
    Le,
    /// push a > b
    Gt,
    /// push a >= b
    Ge,
    /// push a in b
    In,
    /// push a not in b
    NotIn,
    /// push whether a and b are the same object (`a is b`; the same value for inline values)
    Is,
    /// push not (a is b)
    IsNot,
    /// L\[a\] := L\[a\] + K\[b\] without touching the stack (`i = i + 1`, `i += 1` on locals)
    AddLocalConst(u16, u32),
    /// push L\[a\] + k (`n - 1`, `i + 2` on a local): LocalAddInt(a, k)
    LocalAddInt(u16, i32),
    /// push L\[a\] - k: LocalSubInt(a, k)
    LocalSubInt(u16, i32),
    /// top := top + k
    AddInt(i32),
    /// top := top - k
    SubInt(i32),
    /// top := top * k
    MulInt(i32),
    /// top := top % k
    ModInt(i32),
    /// b := pop; a := pop; unless (a `<cmp>` b) jump n (fused compare-and-branch): JumpUnless(cmp, n)
    JumpUnless(Cmp, u32),
    /// b := pop; a := pop; if a `<cmp>` b jump n: JumpIf(cmp, n)
    JumpIf(Cmp, u32),
    /// unless L\[a\] < k jump n: JumpUnlessLocalLtInt(a, k, n)
    JumpUnlessLocalLtInt(u8, i16, u32),
    /// if pop is nil jump n (`x == nil` and `x != nil` feeding a branch, against the constant
    /// they name, as Lua's EQK compares with a constant)
    JumpIfNil(u32),
    /// unless pop is nil jump n
    JumpUnlessNil(u32),

    // ---- control flow ----
    /// jump n
    Jump(u32),
    /// if not truthy(pop) jump n
    JumpIfFalse(u32),
    /// if truthy(pop) jump n
    JumpIfTrue(u32),
    /// if not truthy(top) jump n, else pop (`and`)
    JumpIfFalseOrPop(u32),
    /// if truthy(top) jump n, else pop (`or`)
    JumpIfTrueOrPop(u32),

    // ---- containers ----
    /// pop n values, push a list of them
    BuildList(u32),
    /// pop n values, push a tuple of them
    BuildTuple(u32),
    /// pop 2n values (k1 v1 k2 v2 ...), push a dict
    BuildDict(u32),
    /// pop n values, push a set of them
    BuildSet(u32),
    /// v := pop; append v to the list n slots below the top (comprehensions)
    ListAppend(u32),
    /// v := pop; add v to the set n slots below the top (comprehensions)
    SetAdd(u32),
    /// v := pop; k := pop; insert into the dict n slots below the top (comprehensions)
    DictInsert(u32),
    /// xs := pop; append every item of the iterable xs to the list on top (`f(*xs)`)
    ListExtend,
    /// d := pop; add d's entries to the dict on top as keyword arguments: keys must be strs and
    /// not there already (`f(**d)`, `f(k=v)` beside it)
    MergeKeywords,
    /// d := pop; xs := pop; f := pop; push f(*xs, **d): a call with spread arguments
    CallSpread,
    /// pop n values, push their concatenation as strings (f-strings)
    BuildString(u32),
    /// v := pop; push v formatted with spec K\[n\] (None: str(v)); for f-strings
    Format(u32),
    /// v := pop; push repr(v)
    Repr,
    /// seq := pop; push its n elements, first element on top; fault unless exactly n
    Unpack(u32),

    // ---- attributes and items ----
    /// o := pop; push o.N\[n\]
    GetAttr(u32),
    /// o := pop; v := pop; o.N\[n\] := v
    SetAttr(u32),
    /// i := pop; o := pop; push o\[i\]
    GetIndex,
    /// i := pop; o := pop; v := pop; o\[i\] := v
    SetIndex,
    /// step := pop; hi := pop; lo := pop; o := pop; push o\[lo:hi:step\] (nil = omitted)
    Slice,

    // ---- calls ----
    /// callee and n positional arguments on the stack; push the result
    Call(u32),
    /// like Call, with the last K\[k\] (a keyword-name list) values passed by name: CallKw(n, k)
    /// where n counts all arguments
    CallKw(u16, u32),
    /// n arguments on the stack (no callee slot): push G[g](args...): CallGlobal(g, n)
    CallGlobal(u32, u16),
    /// n arguments on the stack (no callee slot): push L[a](args...): CallLocal(a, n)
    CallLocal(u16, u16),
    /// receiver and n arguments on the stack: push receiver.N[name](args...): CallMethod(name, n)
    CallMethod(u32, u16),
    /// return pop to the caller (running this frame's deferred cleanups first)
    Return,
    /// build a closure from function constant K\[n\]; its `defaults` default values are on the
    /// stack (pushed in parameter order): MakeClosure(n)
    MakeClosure(u32),

    // ---- iteration ----
    /// o := pop; push an iterator over o
    GetIter,
    /// iterator on top: push its next value, or jump n when exhausted (iterator stays)
    ForIter(u32),
    /// iterator on top: L\[a\] := its next value, or jump n when exhausted: ForIterLocal(a, n)
    ForIterLocal(u16, u32),
    /// counted loop on two hidden locals `L\[a\]` (current) and `L\[a+1\]` (end, exclusive):
    /// if L\[a\] < L\[a+1\] { push L\[a\]; L\[a\] += 1 } else jump n. ForRange(a, n)
    ForRange(u16, u32),
    /// end := pop; start := pop; L\[a\] := int(start); L\[a+1\] := int(end): PrepareRange(a)
    PrepareRange(u32),

    // ---- errors and patterns ----
    /// v := pop; if v is Ok(x) push x; if Err(e), return Err(e); otherwise fault
    Try,
    /// v := pop; push whether v is a variant named N\[name\] (or a record of a type so named) with
    /// n payload values (n = u16::MAX: any payload): MatchVariant(name, n)
    MatchVariant(u32, u16),
    /// v := pop; push whether v is a variant of an enum named N\[n\] (qualified patterns `E.V(x)`)
    MatchEnum(u32),
    /// v := pop; push payload value n of variant v (field n of a record)
    VariantField(u32),
    /// v := pop; push whether v is a list (a=0) or tuple (a=1) of exactly n items: MatchSeq(a, n)
    MatchSeq(u16, u32),
    /// subject := pop; fault `"no case matched <subject>"`
    MatchFailed,
    /// `assert` whose condition was false: message := pop (nil when none); with sides (s = 1)
    /// right := pop; left := pop; fault "assertion failed" naming the condition's text K\[k\]
    /// (and showing both sides): AssertFailed(k, s)
    AssertFailed(u32, u16),

    // ---- cleanups ----
    /// f := pop (a parameterless closure); run f() when this function returns or faults, last
    /// registered first
    Defer,
    /// o := pop; call o.enter(); o.exit(error) runs when the block is left in any way
    EnterBlock,
    /// leave the innermost block statement normally: call its exit(nil)
    ExitBlock,

    // ---- definitions and modules ----
    /// build record type K\[n\] (methods and field metadata on the stack), push it
    MakeType(u32),
    /// build enum K\[n\], push the enum value (its variants are bound by following stores)
    MakeEnum(u32),
    /// push the module named K\[n\] (loading and running it on first import)
    Import(u32),
    /// callee and n arguments on the stack: start callee(args) as a task, push its handle: Spawn(n)
    Spawn(u32),
    /// begin a `concurrent:` scope
    EnterConcurrent,
    /// end the innermost `concurrent:` scope: wait for every task started in it
    ExitConcurrent,
}

const _: () = assert!(std::mem::size_of::<Op>() == 8);

/// The comparison a fused compare-and-branch performs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// A value known at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(Rc<str>),
    /// A list of names (keyword arguments of a call).
    Names(Rc<[Rc<str>]>),
    /// A format spec for `Format`, or none for plain `str()`.
    FormatSpec(Option<Rc<str>>),
    /// A nested function.
    Function(Rc<FunctionProto>),
    /// A record type definition.
    Type(Rc<TypeProto>),
    /// An enum definition.
    Enum(Rc<EnumProto>),
}

/// How a closure obtains captured cell `i`: from a local slot of the enclosing frame (which holds a
/// cell) or from the enclosing closure's own capture list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capture {
    /// The enclosing function's local slot n (already a cell).
    Local(u32),
    /// The enclosing function's capture n.
    Outer(u32),
}

/// A compiled function: the unit the VM executes.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct FunctionProto {
    /// Name for stack traces (`<module>` for a module body, `<lambda>` for lambdas).
    pub name: Rc<str>,
    /// Parameter names in order.
    pub params: Vec<Rc<str>>,
    /// How many parameters have defaults (always the last plain ones).
    pub defaults: u32,
    /// Whether a `*args` parameter follows the plain ones (its slot is `params.len()`).
    pub rest: bool,
    /// Whether a `**kwargs` parameter comes last (its slot follows `*args`'s, if any).
    pub rest_keywords: bool,
    /// Local slots, parameters included.
    pub locals: u32,
    /// The instructions.
    pub code: Vec<Op>,
    /// One span per instruction, for error messages.
    pub spans: Vec<Span>,
    /// The constant pool.
    pub constants: Vec<Constant>,
    /// Attribute, method and keyword names referenced by index.
    pub names: Vec<Rc<str>>,
    /// How to build this function's captures when a closure is made from it.
    pub captures: Vec<Capture>,
    /// Names of local slots (parameters first); hidden temporaries have none.
    pub local_names: Vec<Rc<str>>,
    /// Names of the captures, by index.
    pub capture_names: Vec<Rc<str>>,
    /// Span of the definition.
    pub span: Span,
}

/// Compile-time description of a `type Name:` definition.
///
/// At `MakeType` the stack holds, in order: for each field, its default value (only when
/// `has_default`) followed by one tuple of arguments per field decorator; then one closure per
/// method.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeProto {
    /// The record type name.
    pub name: Rc<str>,
    /// The fields in declaration order.
    pub fields: Vec<FieldProto>,
    /// Method names, in the order their closures are on the stack.
    pub methods: Vec<Rc<str>>,
}

/// One record field's metadata.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldProto {
    /// Field name.
    pub name: Rc<str>,
    /// The annotation as written (`list\[str\]`), for display and for library code.
    pub ty: TypeAnnotation,
    /// Whether a default value was given (`= x` or `@default(x)`).
    pub has_default: bool,
    /// Decorator names in order (`env`, `default`, `secret`); their argument tuples are on the
    /// stack at `MakeType`.
    pub decorators: Vec<Rc<str>>,
}

/// A type annotation kept as data (never checked by the VM; the config module reads it).
#[derive(Clone, Debug, PartialEq)]
pub enum TypeAnnotation {
    /// A possibly dotted name: `int`, `http.Request`.
    Name(Rc<str>),
    /// `list\[str\]`.
    Generic(Rc<str>, Vec<TypeAnnotation>),
    /// `A | B`.
    Union(Vec<TypeAnnotation>),
    /// `nil`.
    Nil,
}

impl fmt::Display for TypeAnnotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeAnnotation::Name(n) => f.write_str(n),
            TypeAnnotation::Generic(base, args) => {
                write!(f, "{base}[")?;
                for (i, a) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str("]")
            }
            TypeAnnotation::Union(parts) => {
                for (i, a) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{a}")?;
                }
                Ok(())
            }
            TypeAnnotation::Nil => f.write_str("nil"),
        }
    }
}

/// Compile-time description of an `enum Name:` definition.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumProto {
    /// The enum name.
    pub name: Rc<str>,
    /// Variant names and their payload field names.
    pub variants: Vec<(Rc<str>, Vec<Rc<str>>)>,
}

mod disassemble;
mod imports;
pub use disassemble::disassemble;
pub use imports::imported_modules;
