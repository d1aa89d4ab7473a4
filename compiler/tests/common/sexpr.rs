//! A compact S-expression printer for the AST, used by the golden `.ast` files.
//!
//! Expressions print on one line; statements with blocks print their bodies indented by two
//! spaces, so a golden reads like the program it came from. Spans are left out except for
//! f-string fields, whose absolute offsets are the thing worth checking there.

use std::fmt::Write;

use cn_compiler::syntax::ast::*;

/// Prints a whole module, one top-level statement per line (blocks indented below).
pub fn module(m: &Module) -> String {
    let mut p = Printer { out: String::new() };
    for stmt in &m.body {
        p.stmt(stmt, 0);
        p.out.push('\n');
    }
    p.out
}

struct Printer {
    out: String,
}

impl Printer {
    fn line(&mut self, indent: usize) {
        self.out.push('\n');
        self.out.push_str(&" ".repeat(indent));
    }

    fn block(&mut self, body: &[Stmt], indent: usize) {
        for stmt in body {
            self.line(indent);
            self.stmt(stmt, indent);
        }
    }

    fn stmt(&mut self, stmt: &Stmt, indent: usize) {
        let inner = indent + 2;
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.out.push_str("(expr ");
                self.expr(e, indent);
                self.out.push(')');
            }
            StmtKind::Assign { target, value } => {
                self.out.push_str("(= ");
                self.expr(target, indent);
                self.out.push(' ');
                self.expr(value, indent);
                self.out.push(')');
            }
            StmtKind::AugAssign { target, op, value } => {
                let _ = write!(self.out, "({op}= ");
                self.expr(target, indent);
                self.out.push(' ');
                self.expr(value, indent);
                self.out.push(')');
            }
            StmtKind::If { branches, orelse } => {
                for (i, (cond, body)) in branches.iter().enumerate() {
                    if i == 0 {
                        self.out.push_str("(if ");
                    } else {
                        self.line(indent + 1);
                        self.out.push_str("elif ");
                    }
                    self.expr(cond, indent);
                    self.block(body, inner);
                }
                if let Some(body) = orelse {
                    self.line(indent + 1);
                    self.out.push_str("else");
                    self.block(body, inner);
                }
                self.out.push(')');
            }
            StmtKind::While { cond, body } => {
                self.out.push_str("(while ");
                self.expr(cond, indent);
                self.block(body, inner);
                self.out.push(')');
            }
            StmtKind::For { target, iter, body } => {
                self.out.push_str("(for ");
                self.expr(target, indent);
                self.out.push_str(" in ");
                self.expr(iter, indent);
                self.block(body, inner);
                self.out.push(')');
            }
            StmtKind::Break => self.out.push_str("(break)"),
            StmtKind::Continue => self.out.push_str("(continue)"),
            StmtKind::Pass => self.out.push_str("(pass)"),
            StmtKind::Return(value) => {
                self.out.push_str("(return");
                if let Some(v) = value {
                    self.out.push(' ');
                    self.expr(v, indent);
                }
                self.out.push(')');
            }
            StmtKind::Assert { cond, message, .. } => {
                self.out.push_str("(assert ");
                self.expr(cond, indent);
                if let Some(m) = message {
                    self.out.push(' ');
                    self.expr(m, indent);
                }
                self.out.push(')');
            }
            StmtKind::Defer(e) => {
                self.out.push_str("(defer ");
                self.expr(e, indent);
                self.out.push(')');
            }
            StmtKind::With { context, body } => {
                self.out.push_str("(with ");
                self.expr(context, indent);
                self.block(body, inner);
                self.out.push(')');
            }
            StmtKind::Concurrent { body } => {
                self.out.push_str("(concurrent");
                self.block(body, inner);
                self.out.push(')');
            }
            StmtKind::Match { subject, cases } => {
                self.out.push_str("(match ");
                self.expr(subject, indent);
                for case in cases {
                    self.line(inner);
                    self.out.push_str("(case ");
                    self.pattern(&case.pattern);
                    if let Some(guard) = &case.guard {
                        self.out.push_str(" if ");
                        self.expr(guard, inner);
                    }
                    self.block(&case.body, inner + 2);
                    self.out.push(')');
                }
                self.out.push(')');
            }
            StmtKind::FnDef(f) => self.fn_def(f, indent),
            StmtKind::TypeDef(t) => {
                self.out.push_str("(type ");
                self.out.push_str(&t.name.name);
                self.decorators(&t.decorators, indent);
                for field in &t.fields {
                    self.line(inner);
                    let _ = write!(self.out, "(field {}: {}", field.name.name, ty(&field.ty));
                    if let Some(d) = &field.default {
                        self.out.push_str(" = ");
                        self.expr(d, inner);
                    }
                    self.decorators(&field.decorators, inner);
                    self.out.push(')');
                }
                for method in &t.methods {
                    self.line(inner);
                    self.fn_def(method, inner);
                }
                self.out.push(')');
            }
            StmtKind::EnumDef(e) => {
                let _ = write!(self.out, "(enum {}", e.name.name);
                for v in &e.variants {
                    self.line(inner);
                    if v.fields.is_empty() {
                        self.out.push_str(&v.name.name);
                    } else {
                        let fields: Vec<&str> = v.fields.iter().map(|f| f.name.as_str()).collect();
                        let _ = write!(self.out, "({} {})", v.name.name, fields.join(" "));
                    }
                }
                self.out.push(')');
            }
            StmtKind::Import { path, alias } => {
                let _ = write!(self.out, "(import {}", dotted(path));
                if let Some(a) = alias {
                    let _ = write!(self.out, " as {}", a.name);
                }
                self.out.push(')');
            }
        }
    }

    fn decorators(&mut self, decorators: &[Expr], indent: usize) {
        for d in decorators {
            self.out.push_str(" (@ ");
            self.expr(d, indent);
            self.out.push(')');
        }
    }

    fn fn_def(&mut self, f: &FnDef, indent: usize) {
        match &f.name {
            Some(name) => {
                let _ = write!(self.out, "(fn {} ", name.name);
            }
            None => self.out.push_str("(lambda "),
        }
        self.params(&f.params, indent);
        if let Some(ret) = &f.ret {
            let _ = write!(self.out, " -> {}", ty(ret));
        }
        self.decorators(&f.decorators, indent);
        match &f.body {
            FnBody::Expr(e) => {
                self.out.push(' ');
                self.expr(e, indent);
            }
            FnBody::Block(body) => self.block(body, indent + 2),
        }
        self.out.push(')');
    }

    fn params(&mut self, params: &[Param], indent: usize) {
        self.out.push('(');
        for (i, p) in params.iter().enumerate() {
            if i > 0 {
                self.out.push(' ');
            }
            if p.ty.is_none() && p.default.is_none() {
                self.out.push_str(&p.name.name);
                continue;
            }
            self.out.push('(');
            self.out.push_str(&p.name.name);
            if let Some(t) = &p.ty {
                let _ = write!(self.out, ": {}", ty(t));
            }
            if let Some(d) = &p.default {
                self.out.push_str(" = ");
                self.expr(d, indent);
            }
            self.out.push(')');
        }
        self.out.push(')');
    }

    fn exprs(&mut self, items: &[Expr], indent: usize) {
        for e in items {
            self.out.push(' ');
            self.expr(e, indent);
        }
    }

    fn expr(&mut self, e: &Expr, indent: usize) {
        match &e.kind {
            ExprKind::Nil => self.out.push_str("nil"),
            ExprKind::Bool(b) => {
                let _ = write!(self.out, "{b}");
            }
            ExprKind::Int(i) => {
                let _ = write!(self.out, "{i}");
            }
            ExprKind::Float(f) => {
                let _ = write!(self.out, "{f:?}");
            }
            ExprKind::Str(s) => {
                let _ = write!(self.out, "{s:?}");
            }
            ExprKind::FStr(parts) => {
                self.out.push_str("(f");
                for part in parts {
                    match part {
                        FStrPart::Lit(s) => {
                            let _ = write!(self.out, " {s:?}");
                        }
                        FStrPart::Expr { expr, spec, repr } => {
                            self.out.push_str(" {");
                            self.expr(expr, indent);
                            let _ = write!(self.out, " @{}..{}", expr.span.start, expr.span.end);
                            if *repr {
                                self.out.push_str(" !r");
                            }
                            if let Some(spec) = spec {
                                let _ = write!(self.out, " :{spec:?}");
                            }
                            self.out.push('}');
                        }
                    }
                }
                self.out.push(')');
            }
            ExprKind::Name(n) => self.out.push_str(&n.name),
            ExprKind::List(items) => {
                self.out.push_str("(list");
                self.exprs(items, indent);
                self.out.push(')');
            }
            ExprKind::Set(items) => {
                self.out.push_str("(set");
                self.exprs(items, indent);
                self.out.push(')');
            }
            ExprKind::Tuple(items) => {
                self.out.push_str("(tuple");
                self.exprs(items, indent);
                self.out.push(')');
            }
            ExprKind::Dict(entries) => {
                self.out.push_str("(dict");
                for (k, v) in entries {
                    self.out.push_str(" (");
                    self.expr(k, indent);
                    self.out.push(' ');
                    self.expr(v, indent);
                    self.out.push(')');
                }
                self.out.push(')');
            }
            ExprKind::Unary { op, operand } => {
                let name = match op {
                    UnaryOp::Neg => "neg",
                    UnaryOp::Pos => "pos",
                    UnaryOp::Invert => "invert",
                    UnaryOp::Not => "not",
                };
                let _ = write!(self.out, "({name} ");
                self.expr(operand, indent);
                self.out.push(')');
            }
            ExprKind::Binary { op, left, right } => {
                let _ = write!(self.out, "({op} ");
                self.expr(left, indent);
                self.out.push(' ');
                self.expr(right, indent);
                self.out.push(')');
            }
            ExprKind::Compare { first, rest } => {
                self.out.push_str("(cmp ");
                self.expr(first, indent);
                for (op, e) in rest {
                    let _ = write!(self.out, " {op} ");
                    self.expr(e, indent);
                }
                self.out.push(')');
            }
            ExprKind::And(a, b) | ExprKind::Or(a, b) => {
                let name = if matches!(e.kind, ExprKind::And(..)) {
                    "and"
                } else {
                    "or"
                };
                let _ = write!(self.out, "({name} ");
                self.expr(a, indent);
                self.out.push(' ');
                self.expr(b, indent);
                self.out.push(')');
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => {
                self.out.push_str("(ifelse ");
                self.expr(cond, indent);
                self.out.push(' ');
                self.expr(then, indent);
                self.out.push(' ');
                self.expr(otherwise, indent);
                self.out.push(')');
            }
            ExprKind::Attr { object, name } => {
                self.out.push_str("(. ");
                self.expr(object, indent);
                let _ = write!(self.out, " {})", name.name);
            }
            ExprKind::Index { object, index } => {
                self.out.push_str("(index ");
                self.expr(object, indent);
                self.out.push(' ');
                self.expr(index, indent);
                self.out.push(')');
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => {
                self.out.push_str("(slice ");
                self.expr(object, indent);
                for part in [lower, upper, step] {
                    self.out.push(' ');
                    match part {
                        Some(p) => self.expr(p, indent),
                        None => self.out.push('_'),
                    }
                }
                self.out.push(')');
            }
            ExprKind::Call { callee, args } => {
                self.out.push_str("(call ");
                self.expr(callee, indent);
                for arg in args {
                    self.out.push(' ');
                    if let Some(name) = &arg.name {
                        let _ = write!(self.out, "{}=", name.name);
                    }
                    self.expr(&arg.value, indent);
                }
                self.out.push(')');
            }
            ExprKind::Lambda(f) => self.fn_def(f, indent),
            ExprKind::Try(x) => {
                self.out.push_str("(? ");
                self.expr(x, indent);
                self.out.push(')');
            }
            ExprKind::Spawn(x) => {
                self.out.push_str("(spawn ");
                self.expr(x, indent);
                self.out.push(')');
            }
            ExprKind::ListComp { element, clauses } => {
                self.out.push_str("(listcomp ");
                self.expr(element, indent);
                self.clauses(clauses, indent);
                self.out.push(')');
            }
            ExprKind::SetComp { element, clauses } => {
                self.out.push_str("(setcomp ");
                self.expr(element, indent);
                self.clauses(clauses, indent);
                self.out.push(')');
            }
            ExprKind::DictComp {
                key,
                value,
                clauses,
            } => {
                self.out.push_str("(dictcomp ");
                self.expr(key, indent);
                self.out.push(' ');
                self.expr(value, indent);
                self.clauses(clauses, indent);
                self.out.push(')');
            }
        }
    }

    fn clauses(&mut self, clauses: &[CompClause], indent: usize) {
        for c in clauses {
            self.out.push_str(" (for ");
            self.expr(&c.target, indent);
            self.out.push_str(" in ");
            self.expr(&c.iter, indent);
            for cond in &c.conditions {
                self.out.push_str(" if ");
                self.expr(cond, indent);
            }
            self.out.push(')');
        }
    }

    fn pattern(&mut self, p: &Pattern) {
        match &p.kind {
            PatternKind::Wildcard => self.out.push('_'),
            PatternKind::Bind(name) => {
                let _ = write!(self.out, "(bind {})", name.name);
            }
            PatternKind::Literal(e) => {
                self.out.push_str("(lit ");
                self.expr(e, 0);
                self.out.push(')');
            }
            PatternKind::Variant {
                path,
                args,
                has_parens,
            } => {
                let _ = write!(self.out, "(variant {}", dotted(path));
                if *has_parens {
                    self.out.push_str(" (");
                    for (i, a) in args.iter().enumerate() {
                        if i > 0 {
                            self.out.push(' ');
                        }
                        self.pattern(a);
                    }
                    self.out.push(')');
                }
                self.out.push(')');
            }
            PatternKind::List(items) | PatternKind::Tuple(items) | PatternKind::Or(items) => {
                let name = match p.kind {
                    PatternKind::List(_) => "list",
                    PatternKind::Tuple(_) => "tuple",
                    _ => "|",
                };
                let _ = write!(self.out, "({name}");
                for item in items {
                    self.out.push(' ');
                    self.pattern(item);
                }
                self.out.push(')');
            }
        }
    }
}

fn dotted(path: &[Ident]) -> String {
    path.iter()
        .map(|i| i.name.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// A type annotation in source syntax (`list[str]`, `A | nil`).
fn ty(t: &TypeExpr) -> String {
    match &t.kind {
        TypeExprKind::Name(path) => dotted(path),
        TypeExprKind::Generic { base, args } => {
            let args: Vec<String> = args.iter().map(ty).collect();
            format!("{}[{}]", dotted(base), args.join(", "))
        }
        TypeExprKind::Union(items) => items.iter().map(ty).collect::<Vec<_>>().join(" | "),
        TypeExprKind::Nil => "nil".to_owned(),
    }
}
