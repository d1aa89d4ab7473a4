//! Small constructors the grammar actions call, so the grammar file stays about syntax.

use super::ast::*;

/// The span `l..r`.
pub fn span(l: usize, r: usize) -> Span {
    Span::new(l, r)
}

/// An expression node spanning `l..r`.
pub fn expr(kind: ExprKind, l: usize, r: usize) -> Expr {
    Expr {
        kind,
        span: span(l, r),
    }
}

/// `first` followed by `rest`.
pub fn prepend<T>(first: T, rest: Vec<T>) -> Vec<T> {
    let mut v = Vec::with_capacity(rest.len() + 1);
    v.push(first);
    v.extend(rest);
    v
}

/// A binary arithmetic node.
pub fn binary(op: BinOp, left: Expr, right: Expr, l: usize, r: usize) -> Expr {
    expr(
        ExprKind::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        },
        l,
        r,
    )
}

/// A prefix operator node.
pub fn unary(op: UnaryOp, operand: Expr, l: usize, r: usize) -> Expr {
    expr(
        ExprKind::Unary {
            op,
            operand: Box::new(operand),
        },
        l,
        r,
    )
}

/// `object[lower:upper:step]`.
pub fn slice(
    object: Expr,
    lower: Option<Expr>,
    upper: Option<Expr>,
    step: Option<Expr>,
    l: usize,
    r: usize,
) -> Expr {
    expr(
        ExprKind::Slice {
            object: Box::new(object),
            lower: lower.map(Box::new),
            upper: upper.map(Box::new),
            step: step.map(Box::new),
        },
        l,
        r,
    )
}

/// A lambda: a function without a name or decorators.
pub fn lambda(params: Vec<Param>, ret: Option<TypeExpr>, body: FnBody, l: usize, r: usize) -> Expr {
    let def = FnDef {
        name: None,
        params,
        ret,
        body,
        decorators: Vec::new(),
        span: span(l, r),
    };
    expr(ExprKind::Lambda(Box::new(def)), l, r)
}

/// A named function definition from its parsed parts.
pub fn fn_def(
    (name, params, ret, body): (Ident, Vec<Param>, Option<TypeExpr>, Vec<Stmt>),
    decorators: Vec<Expr>,
    l: usize,
    r: usize,
) -> FnDef {
    FnDef {
        name: Some(name),
        params,
        ret,
        body: FnBody::Block(body),
        decorators,
        span: span(l, r),
    }
}

/// One line of a `type` body.
pub enum Member {
    /// `name: T [= default]`.
    Field(Field),
    /// `fn name(self, ...)`.
    Method(FnDef),
    /// `pass`, or a line that failed to parse.
    Nothing,
}

/// A field line with its decorators.
pub fn field(
    (name, ty, default): (Ident, TypeExpr, Option<Expr>),
    decorators: Vec<Expr>,
    l: usize,
    r: usize,
) -> Member {
    Member::Field(Field {
        name,
        ty,
        default,
        decorators,
        span: span(l, r),
    })
}

/// A record type from its name and member lines.
pub fn type_def(
    (name, members): (Ident, Vec<Member>),
    decorators: Vec<Expr>,
    l: usize,
    r: usize,
) -> TypeDef {
    let mut fields = Vec::new();
    let mut methods = Vec::new();
    for member in members {
        match member {
            Member::Field(f) => fields.push(f),
            Member::Method(m) => methods.push(m),
            Member::Nothing => {}
        }
    }
    TypeDef {
        name,
        fields,
        methods,
        decorators,
        span: span(l, r),
    }
}

/// A pattern that is just a (possibly dotted) name: `_` matches anything, a capitalised or
/// dotted name is a variant, anything else binds.
pub fn name_pattern(mut path: Vec<Ident>, span: Span) -> Pattern {
    let kind = if path.len() == 1 {
        let name = &path[0].name;
        if name == "_" {
            PatternKind::Wildcard
        } else if name.chars().next().is_some_and(char::is_uppercase) {
            PatternKind::Variant {
                path,
                args: Vec::new(),
                has_parens: false,
            }
        } else {
            PatternKind::Bind(path.remove(0))
        }
    } else {
        PatternKind::Variant {
            path,
            args: Vec::new(),
            has_parens: false,
        }
    };
    Pattern { kind, span }
}

/// `assert cond[, message]`, keeping the condition's source text (`l..r`, offsets from `base`).
pub fn assert_stmt(
    source: &str,
    base: usize,
    l: usize,
    r: usize,
    cond: Expr,
    message: Option<Expr>,
) -> StmtKind {
    let text = source
        .get(l.saturating_sub(base)..r.saturating_sub(base))
        .unwrap_or_default();
    StmtKind::Assert {
        cond,
        message,
        // A condition over several lines is shown on one.
        text: text.lines().map(str::trim).collect::<Vec<_>>().join(" "),
    }
}
