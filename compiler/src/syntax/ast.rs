//! The abstract syntax tree produced by the parser and consumed by the resolver and codegen.
//!
//! Every node carries a [`Span`] (byte offsets into the source) so that any later stage can point a
//! diagnostic at the exact text. The tree is plain data: no behaviour lives here beyond small
//! helpers, so that the parser and the compiler can evolve independently.

use std::fmt;

/// A half-open byte range `start..end` in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte of the node.
    pub start: u32,
    /// One past the last byte of the node.
    pub end: u32,
}

impl Span {
    /// A span covering `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    /// True for an empty span (used for end-of-file positions).
    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start as usize, span.len()).into()
    }
}

/// A name as written in the source, with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The identifier text.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// One parsed source file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Module {
    /// Top-level statements in source order.
    pub body: Vec<Stmt>,
}

/// A statement with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What the statement is.
    pub kind: StmtKind,
    /// The whole statement, header and body.
    pub span: Span,
}

/// A block: the statements of an indented body.
pub type Block = Vec<Stmt>;

/// Statement forms.
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// An expression evaluated for its effect (`print(x)`).
    Expr(Expr),
    /// `target = value`. The target is an expression checked by the resolver: a name, an attribute,
    /// an index, or a tuple/list of targets (`a, b = b, a`).
    Assign { target: Expr, value: Expr },
    /// `target op= value` (`+=`, `-=`, `*=`, `/=`, `//=`, `%=`).
    AugAssign {
        target: Expr,
        op: BinOp,
        value: Expr,
    },
    /// `if c: ... elif c: ... else: ...`; `branches` holds the `if` and every `elif`.
    If {
        branches: Vec<(Expr, Block)>,
        orelse: Option<Block>,
    },
    /// `while cond: body`.
    While { cond: Expr, body: Block },
    /// `for target in iter: body`; the target may be a tuple of names (`for k, v in d.items()`).
    For {
        target: Expr,
        iter: Expr,
        body: Block,
    },
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `pass`.
    Pass,
    /// `return` or `return value`.
    Return(Option<Expr>),
    /// `defer expr`: evaluated when the enclosing function returns (or faults), last first.
    Defer(Expr),
    /// `assert cond` / `assert cond, message`: faults when `cond` is falsy; `text` is the
    /// condition as written, for the report.
    Assert {
        cond: Expr,
        message: Option<Expr>,
        text: String,
    },
    /// `expr:` + body: the enter/exit protocol (`tracing.span("x"):`).
    With { context: Expr, body: Block },
    /// `concurrent:` + body: a structured-concurrency scope.
    Concurrent { body: Block },
    /// `match subject:` + `case` arms.
    Match {
        subject: Expr,
        cases: Vec<MatchCase>,
    },
    /// A named function definition, possibly decorated.
    FnDef(FnDef),
    /// `type Name:` record definition.
    TypeDef(TypeDef),
    /// `enum Name:` variant definition.
    EnumDef(EnumDef),
    /// `import a` / `import a.b as c`.
    Import {
        path: Vec<Ident>,
        alias: Option<Ident>,
    },
}

/// One `case pattern [if guard]:` arm.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchCase {
    /// What the subject is matched against.
    pub pattern: Pattern,
    /// Optional `if expr` after the pattern.
    pub guard: Option<Expr>,
    /// The arm body.
    pub body: Block,
    /// The `case ...:` header.
    pub span: Span,
}

/// A pattern in a `case` arm.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    /// What the pattern is.
    pub kind: PatternKind,
    /// Where it was written.
    pub span: Span,
}

/// Pattern forms.
///
/// A bare name starting with a lower-case letter or `_x` binds; a name starting with an upper-case
/// letter is a variant (`CircuitOpen`, `Ok(x)`, `Added(pod)`), matched by variant name.
#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`: matches anything, binds nothing.
    Wildcard,
    /// `name`: matches anything and binds it.
    Bind(Ident),
    /// A literal: int, float, string, `true`/`false`/`nil`, or a negated number.
    Literal(Expr),
    /// `Name` or `Name(p, ...)` or `mod.Name(p, ...)`: a variant with that name and as many
    /// payload values as patterns given (`Name` alone matches a variant with no payload).
    Variant {
        path: Vec<Ident>,
        args: Vec<Pattern>,
        has_parens: bool,
    },
    /// `[p, q]`: a list of exactly that length.
    List(Vec<Pattern>),
    /// `(p, q)`: a tuple of exactly that length.
    Tuple(Vec<Pattern>),
    /// `p | q`: either alternative (bindings are not allowed inside alternatives).
    Or(Vec<Pattern>),
}

/// A function: `fn name(params) -> T: body`, or a lambda `fn(params): expr` / block lambda.
#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    /// The name for a definition; `None` for a lambda.
    pub name: Option<Ident>,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// The `-> T` annotation, kept as metadata.
    pub ret: Option<TypeExpr>,
    /// The body.
    pub body: FnBody,
    /// `@decorator` lines above a named definition, top first.
    pub decorators: Vec<Expr>,
    /// The whole definition.
    pub span: Span,
}

/// A function body.
#[derive(Clone, Debug, PartialEq)]
pub enum FnBody {
    /// One-line lambda: `fn(x): x + 1`; the value of the expression is returned.
    Expr(Box<Expr>),
    /// An indented block.
    Block(Block),
}

/// One parameter: `name`, `name: T`, `name=default`, `name: T = default`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter name.
    pub name: Ident,
    /// Plain, `*args` or `**kwargs`.
    pub kind: ParamKind,
    /// Its type annotation, kept as metadata.
    pub ty: Option<TypeExpr>,
    /// Default value, evaluated once when the function is defined.
    pub default: Option<Expr>,
    /// The whole parameter.
    pub span: Span,
}

/// How a call argument spreads into several.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spread {
    /// `*xs`.
    Positional,
    /// `**d`.
    Keywords,
}

/// What a parameter collects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// One argument, by position or by name.
    Plain,
    /// `*args`: the positional arguments left over, as a tuple.
    Rest,
    /// `**kwargs`: the keyword arguments no parameter takes, as a dict.
    RestKeywords,
}

/// `type Name:` with fields and methods.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeDef {
    /// The record type name.
    pub name: Ident,
    /// Fields in declaration order.
    pub fields: Vec<Field>,
    /// Methods (`fn name(self, ...)`).
    pub methods: Vec<FnDef>,
    /// Decorators above the `type` line.
    pub decorators: Vec<Expr>,
    /// The whole definition.
    pub span: Span,
}

/// A record field: `[@decorators] name: T [= default]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The field name.
    pub name: Ident,
    /// The annotated type.
    pub ty: TypeExpr,
    /// Default value (`= expr`), evaluated when the type is defined.
    pub default: Option<Expr>,
    /// Field decorators (`@env("PORT")`, `@default(8080)`): kept as metadata, arguments evaluated
    /// when the type is defined.
    pub decorators: Vec<Expr>,
    /// The whole field line.
    pub span: Span,
}

/// `enum Name:` with one variant per line: `Circle(radius)`, `Empty`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    /// The enum name.
    pub name: Ident,
    /// The variants.
    pub variants: Vec<VariantDef>,
    /// The whole definition.
    pub span: Span,
}

/// One enum variant and its payload field names.
#[derive(Clone, Debug, PartialEq)]
pub struct VariantDef {
    /// Variant name.
    pub name: Ident,
    /// Payload field names (may carry annotations, which are ignored).
    pub fields: Vec<Ident>,
    /// The variant line.
    pub span: Span,
}

/// A type annotation: metadata only, never checked by the VM.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// What the annotation is.
    pub kind: TypeExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Type annotation forms.
#[derive(Clone, Debug, PartialEq)]
pub enum TypeExprKind {
    /// `int`, `http.Request`.
    Name(Vec<Ident>),
    /// `list[str]`, `dict[str, int]`.
    Generic {
        base: Vec<Ident>,
        args: Vec<TypeExpr>,
    },
    /// `A | B | nil`.
    Union(Vec<TypeExpr>),
    /// `nil`.
    Nil,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An integer literal (decimal, `0x`, `0o`, `0b`, with `_` separators).
    Int(i64),
    /// A float literal (`1.5`, `1e3`, `2.5e-3`).
    Float(f64),
    /// A string literal with escapes already processed.
    Str(String),
    /// An f-string: literal text and interpolated expressions.
    FStr(Vec<FStrPart>),
    /// A name.
    Name(Ident),
    /// `[a, b]`.
    List(Vec<Expr>),
    /// `(a, b)`, `(a,)`, and bare `a, b` on either side of `=` or after `return`/`in`.
    Tuple(Vec<Expr>),
    /// `{k: v, ...}`.
    Dict(Vec<(Expr, Expr)>),
    /// `{a, b}` (at least one element: `{}` is a dict).
    Set(Vec<Expr>),
    /// `-x`, `+x`, `not x`.
    Unary { op: UnaryOp, operand: Box<Expr> },
    /// Arithmetic: `a + b` etc.
    Binary {
        op: BinOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// Comparisons, possibly chained as in Python: `a < b <= c` means `a < b and b <= c`
    /// (each operand evaluated once).
    Compare {
        first: Box<Expr>,
        rest: Vec<(CmpOp, Expr)>,
    },
    /// `a and b` (short-circuit, yields an operand as in Python).
    And(Box<Expr>, Box<Expr>),
    /// `a or b` (short-circuit, yields an operand as in Python).
    Or(Box<Expr>, Box<Expr>),
    /// `a if cond else b`.
    IfElse {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `object.name` (also `60.seconds`: an attribute of an int).
    Attr { object: Box<Expr>, name: Ident },
    /// `object[index]` (also the generic-looking `config.load[Config]`).
    Index { object: Box<Expr>, index: Box<Expr> },
    /// `object[lower:upper:step]`, any part optional.
    Slice {
        object: Box<Expr>,
        lower: Option<Box<Expr>>,
        upper: Option<Box<Expr>>,
        step: Option<Box<Expr>>,
    },
    /// `callee(args)`.
    Call { callee: Box<Expr>, args: Vec<Arg> },
    /// `fn(params): body`.
    Lambda(Box<FnDef>),
    /// Postfix `expr?`: unwraps `Ok(v)`, returns `Err(e)` from the enclosing function.
    Try(Box<Expr>),
    /// `spawn expr` (expr must be a call).
    Spawn(Box<Expr>),
    /// `[expr for target in iter if cond]`.
    ListComp {
        element: Box<Expr>,
        clauses: Vec<CompClause>,
    },
    /// `{expr for target in iter if cond}`.
    SetComp {
        element: Box<Expr>,
        clauses: Vec<CompClause>,
    },
    /// `{key: value for target in iter if cond}`.
    DictComp {
        key: Box<Expr>,
        value: Box<Expr>,
        clauses: Vec<CompClause>,
    },
}

/// One `for target in iter [if cond]...` clause of a comprehension.
#[derive(Clone, Debug, PartialEq)]
pub struct CompClause {
    /// The loop target (a name or tuple of names).
    pub target: Expr,
    /// What is iterated.
    pub iter: Expr,
    /// Zero or more `if` filters.
    pub conditions: Vec<Expr>,
}

/// One piece of an f-string.
#[derive(Clone, Debug, PartialEq)]
pub enum FStrPart {
    /// Literal text (escapes and `{{`/`}}` already processed).
    Lit(String),
    /// `{expr}` or `{expr:spec}` or `{expr!r}`.
    Expr {
        /// The interpolated expression, spans relative to the whole file.
        expr: Expr,
        /// Format spec after `:` (`.2f`, `>8`), if any.
        spec: Option<String>,
        /// `!r` given: use `repr` instead of `str`.
        repr: bool,
    },
}

/// A call argument: positional or `name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The keyword, for `name=value`.
    pub name: Option<Ident>,
    /// `*xs` (its items are positional arguments) or `**d` (its entries keyword arguments).
    pub spread: Option<Spread>,
    /// The value.
    pub value: Expr,
    /// The whole argument.
    pub span: Span,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`.
    Neg,
    /// `+x`.
    Pos,
    /// `~x` (ints only: `-x - 1`).
    Invert,
    /// `not x`.
    Not,
}

/// Binary arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/` (always a float, as in Python 3).
    Div,
    /// `//` (floor division).
    FloorDiv,
    /// `%` (sign of the divisor, as in Python).
    Mod,
    /// `**`.
    Pow,
    /// `&` (ints only).
    BitAnd,
    /// `|`.
    BitOr,
    /// `^`.
    BitXor,
    /// `<<` (an int shifted past 63 bits faults with an overflow).
    Shl,
    /// `>>` (arithmetic: the sign is kept).
    Shr,
}

impl BinOp {
    /// Whether this is one of the bitwise operators, defined on ints only.
    pub fn is_bitwise(self) -> bool {
        matches!(
            self,
            BinOp::BitAnd | BinOp::BitOr | BinOp::BitXor | BinOp::Shl | BinOp::Shr
        )
    }
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `in`.
    In,
    /// `not in`.
    NotIn,
    /// `is`: the same object (the same value, for nil, bools and numbers).
    Is,
    /// `is not`.
    IsNot,
}

impl fmt::Display for BinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        })
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        })
    }
}

impl fmt::Display for UnaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UnaryOp::Neg => "-",
            UnaryOp::Pos => "+",
            UnaryOp::Invert => "~",
            UnaryOp::Not => "not",
        })
    }
}
