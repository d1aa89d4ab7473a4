//! Name resolution inside expressions, assignment targets, patterns and comprehensions: the
//! half of the resolver below statements (`resolve.rs` holds scopes, names and statements).

use super::*;

impl Resolver<'_> {
    pub(super) fn target(&mut self, target: &Expr) {
        match &target.kind {
            ExprKind::Name(ident) => self.bind(ident),
            ExprKind::Attr { object, .. } => self.expr(object),
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) if !items.is_empty() => {
                for item in items {
                    self.target(item);
                }
            }
            _ => self.error(invalid_target(target)),
        }
    }

    pub(super) fn pattern(&mut self, pattern: &Pattern, in_alternative: bool) {
        match &pattern.kind {
            PatternKind::Wildcard | PatternKind::Literal(_) => {}
            PatternKind::Bind(ident) => {
                if in_alternative {
                    self.error(
                        Diagnostic::new(
                            "E0112",
                            "names cannot be bound inside `|` alternatives",
                            ident.span,
                        )
                        .with_label("binding inside an alternative"),
                    );
                }
                self.bind(ident);
            }
            PatternKind::Variant { path, args, .. } => {
                if let Some(error) = checks::variant_pattern(&self.facts, self.env.library, path) {
                    self.error(error);
                }
                for arg in args {
                    self.pattern(arg, in_alternative);
                }
            }
            PatternKind::List(items) | PatternKind::Tuple(items) => {
                for item in items {
                    self.pattern(item, in_alternative);
                }
            }
            PatternKind::Or(alternatives) => {
                for alt in alternatives {
                    self.pattern(alt, true);
                }
            }
        }
    }

    // ---- expressions ----

    pub(super) fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
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
            ExprKind::Name(ident) => self.use_name(ident),
            ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::Set(items) => {
                items.iter().for_each(|i| self.expr(i))
            }
            ExprKind::Dict(pairs) => {
                for (k, v) in pairs {
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
                self.check_module_member(object, name);
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
                self.arguments(args);
            }
            ExprKind::Lambda(def) => self.function(def),
            ExprKind::Try(inner) => {
                if !self.in_function() {
                    self.error(
                        Diagnostic::new("E0105", "`?` outside of a function", expr.span)
                            .with_label(
                                "`?` returns from the enclosing function, and there is none",
                            )
                            .with_help("use `match` to handle the result at module level"),
                    );
                }
                self.expr(inner);
            }
            ExprKind::Spawn(inner) => {
                if !matches!(inner.kind, ExprKind::Call { .. }) {
                    self.error(
                        Diagnostic::new("E0111", "`spawn` needs a call", inner.span)
                            .with_label("expected a call such as `spawn work(x)`"),
                    );
                }
                match &inner.kind {
                    // Keyword arguments are passed through a thunk, which captures like a lambda.
                    ExprKind::Call { args, .. } if args.iter().any(|a| a.name.is_some()) => {
                        self.function_scope(inner.span.start, &[], |r| r.expr(inner), &[]);
                    }
                    _ => self.expr(inner),
                }
            }
            ExprKind::ListComp { element, clauses } | ExprKind::SetComp { element, clauses } => {
                self.comprehension(clauses, |r| r.expr(element));
            }
            ExprKind::DictComp {
                key,
                value,
                clauses,
            } => {
                self.comprehension(clauses, |r| {
                    r.expr(key);
                    r.expr(value);
                });
            }
        }
    }

    fn arguments(&mut self, args: &[Arg]) {
        let mut seen_keyword = false;
        let mut names = HashSet::new();
        for arg in args {
            self.expr(&arg.value);
            match &arg.name {
                Some(name) => {
                    seen_keyword = true;
                    if !names.insert(name.name.as_str()) {
                        self.error(
                            Diagnostic::new(
                                "E0108",
                                format!("keyword argument '{}' given twice", name.name),
                                name.span,
                            )
                            .with_label("repeated here"),
                        );
                    }
                }
                None if arg.spread == Some(Spread::Keywords) => seen_keyword = true,
                None if seen_keyword => self.error(
                    Diagnostic::new(
                        "E0107",
                        "positional argument after a keyword argument",
                        arg.span,
                    )
                    .with_label("move this before the keyword arguments"),
                ),
                None => {}
            }
        }
    }

    fn comprehension(&mut self, clauses: &[CompClause], body: impl FnOnce(&mut Self)) {
        self.current().comprehensions.push(HashMap::new());
        for clause in clauses {
            self.expr(&clause.iter);
            let mut names = Vec::new();
            target_names(&clause.target, &mut names);
            if names.is_empty() {
                self.error(invalid_target(&clause.target));
            }
            for ident in names {
                let scope = self.current();
                let slot = scope.new_slot(&ident.name);
                if let Some(c) = scope.comprehensions.last_mut() {
                    c.insert(ident.name.clone(), slot);
                }
                self.out
                    .names
                    .insert(ident.span.start, NameRef::Local(slot));
            }
            for cond in &clause.conditions {
                self.expr(cond);
            }
        }
        body(self);
        self.current().comprehensions.pop();
    }
}
