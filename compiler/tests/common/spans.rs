//! Span sanity: every span lies inside the source on character boundaries, and every identifier's
//! span covers exactly its name (which checks the absolute offsets of f-string fields too).

use cn_compiler::syntax::ast::*;

/// Returns a description of every span problem in `module`.
pub fn check(source: &str, module: &Module) -> Vec<String> {
    let mut c = Checker {
        source,
        problems: Vec::new(),
    };
    for stmt in &module.body {
        c.stmt(stmt);
    }
    c.problems
}

struct Checker<'a> {
    source: &'a str,
    problems: Vec<String>,
}

impl Checker<'_> {
    fn span(&mut self, what: &str, span: Span) {
        let (s, e) = (span.start as usize, span.end as usize);
        if s > e
            || e > self.source.len()
            || !self.source.is_char_boundary(s)
            || !self.source.is_char_boundary(e)
        {
            self.problems.push(format!("{what} has bad span {s}..{e}"));
        }
    }

    fn ident(&mut self, ident: &Ident) {
        self.span("identifier", ident.span);
        let text = self
            .source
            .get(ident.span.start as usize..ident.span.end as usize);
        if text != Some(ident.name.as_str()) {
            self.problems.push(format!(
                "identifier `{}` has span text {text:?}",
                ident.name
            ));
        }
    }

    fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        self.span("statement", stmt.span);
        match &stmt.kind {
            StmtKind::Expr(e) | StmtKind::Defer(e) => self.expr(e),
            StmtKind::Assert { cond, message, .. } => {
                self.expr(cond);
                if let Some(m) = message {
                    self.expr(m);
                }
            }
            StmtKind::Assign { target, value } | StmtKind::AugAssign { target, value, .. } => {
                self.expr(target);
                self.expr(value);
            }
            StmtKind::If { branches, orelse } => {
                for (cond, body) in branches {
                    self.expr(cond);
                    self.block(body);
                }
                if let Some(body) = orelse {
                    self.block(body);
                }
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::For { target, iter, body } => {
                self.expr(target);
                self.expr(iter);
                self.block(body);
            }
            StmtKind::Break | StmtKind::Continue | StmtKind::Pass => {}
            StmtKind::Return(value) => {
                if let Some(v) = value {
                    self.expr(v);
                }
            }
            StmtKind::With { context, body } => {
                self.expr(context);
                self.block(body);
            }
            StmtKind::Concurrent { body } => self.block(body),
            StmtKind::Match { subject, cases } => {
                self.expr(subject);
                for case in cases {
                    self.span("case", case.span);
                    self.pattern(&case.pattern);
                    if let Some(g) = &case.guard {
                        self.expr(g);
                    }
                    self.block(&case.body);
                }
            }
            StmtKind::FnDef(f) => self.fn_def(f),
            StmtKind::TypeDef(t) => {
                self.span("type", t.span);
                self.ident(&t.name);
                for d in &t.decorators {
                    self.expr(d);
                }
                for field in &t.fields {
                    self.span("field", field.span);
                    self.ident(&field.name);
                    self.ty(&field.ty);
                    if let Some(d) = &field.default {
                        self.expr(d);
                    }
                    for d in &field.decorators {
                        self.expr(d);
                    }
                }
                for m in &t.methods {
                    self.fn_def(m);
                }
            }
            StmtKind::EnumDef(e) => {
                self.span("enum", e.span);
                self.ident(&e.name);
                for v in &e.variants {
                    self.span("variant", v.span);
                    self.ident(&v.name);
                    for f in &v.fields {
                        self.ident(f);
                    }
                }
            }
            StmtKind::Import { path, alias } => {
                for p in path {
                    self.ident(p);
                }
                if let Some(a) = alias {
                    self.ident(a);
                }
            }
        }
    }

    fn fn_def(&mut self, f: &FnDef) {
        self.span("function", f.span);
        if let Some(n) = &f.name {
            self.ident(n);
        }
        for p in &f.params {
            self.span("parameter", p.span);
            self.ident(&p.name);
            if let Some(t) = &p.ty {
                self.ty(t);
            }
            if let Some(d) = &p.default {
                self.expr(d);
            }
        }
        if let Some(t) = &f.ret {
            self.ty(t);
        }
        for d in &f.decorators {
            self.expr(d);
        }
        match &f.body {
            FnBody::Expr(e) => self.expr(e),
            FnBody::Block(b) => self.block(b),
        }
    }

    fn ty(&mut self, t: &TypeExpr) {
        self.span("type annotation", t.span);
        match &t.kind {
            TypeExprKind::Name(path) => path.iter().for_each(|p| self.ident(p)),
            TypeExprKind::Generic { base, args } => {
                base.iter().for_each(|p| self.ident(p));
                args.iter().for_each(|a| self.ty(a));
            }
            TypeExprKind::Union(items) => items.iter().for_each(|a| self.ty(a)),
            TypeExprKind::Nil => {}
        }
    }

    fn pattern(&mut self, p: &Pattern) {
        self.span("pattern", p.span);
        match &p.kind {
            PatternKind::Wildcard => {}
            PatternKind::Bind(n) => self.ident(n),
            PatternKind::Literal(e) => self.expr(e),
            PatternKind::Variant { path, args, .. } => {
                path.iter().for_each(|i| self.ident(i));
                args.iter().for_each(|a| self.pattern(a));
            }
            PatternKind::List(items) | PatternKind::Tuple(items) | PatternKind::Or(items) => {
                items.iter().for_each(|a| self.pattern(a));
            }
        }
    }

    fn expr(&mut self, e: &Expr) {
        self.span("expression", e.span);
        match &e.kind {
            ExprKind::Nil
            | ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_) => {}
            ExprKind::FStr(parts) => {
                for part in parts {
                    if let FStrPart::Expr { expr, .. } = part {
                        self.expr(expr);
                    }
                }
            }
            ExprKind::Name(n) => self.ident(n),
            ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::Set(items) => {
                items.iter().for_each(|i| self.expr(i))
            }
            ExprKind::Dict(entries) => {
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
            }
            ExprKind::Unary { operand, .. } => self.expr(operand),
            ExprKind::Binary { left, right, .. }
            | ExprKind::And(left, right)
            | ExprKind::Or(left, right) => {
                self.expr(left);
                self.expr(right);
            }
            ExprKind::Compare { first, rest } => {
                self.expr(first);
                rest.iter().for_each(|(_, e)| self.expr(e));
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => {
                self.expr(cond);
                self.expr(then);
                self.expr(otherwise);
            }
            ExprKind::Attr { object, name } => {
                self.expr(object);
                self.ident(name);
            }
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => {
                self.expr(object);
                for part in [lower, upper, step].into_iter().flatten() {
                    self.expr(part);
                }
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee);
                for a in args {
                    self.span("argument", a.span);
                    if let Some(n) = &a.name {
                        self.ident(n);
                    }
                    self.expr(&a.value);
                }
            }
            ExprKind::Lambda(f) => self.fn_def(f),
            ExprKind::Try(x) | ExprKind::Spawn(x) => self.expr(x),
            ExprKind::ListComp { element, clauses } | ExprKind::SetComp { element, clauses } => {
                self.expr(element);
                self.clauses(clauses);
            }
            ExprKind::DictComp {
                key,
                value,
                clauses,
            } => {
                self.expr(key);
                self.expr(value);
                self.clauses(clauses);
            }
        }
    }

    fn clauses(&mut self, clauses: &[CompClause]) {
        for c in clauses {
            self.expr(&c.target);
            self.expr(&c.iter);
            c.conditions.iter().for_each(|e| self.expr(e));
        }
    }
}
