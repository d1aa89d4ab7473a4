//! What a file defines, for go-to-definition, hover, completion and the outline: every function,
//! record type (with its fields and methods), enum (with its variants), import, parameter and
//! assigned name, with where it is written, the part of the file it is visible in, and the
//! comment lines above it (its doc). Built from the parser's tree; a file with syntax errors gives
//! what its parsed statements define.

use cn_compiler::syntax::ast::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    Function,
    Method,
    Type,
    Field,
    Enum,
    Variant,
    Import,
    Parameter,
    Variable,
}

/// One definition.
#[derive(Clone, Debug)]
pub struct Def {
    pub name: String,
    pub kind: DefKind,
    /// The name where it is defined.
    pub span: Span,
    /// The whole definition (a function with its body), for the outline.
    pub extent: Span,
    /// Where the name can be used: the enclosing function's extent, or the whole file.
    pub scope: Span,
    /// A one-line description: the signature, `type Point`, `import http`.
    pub detail: String,
    /// The record type, enum or module it belongs to (fields, methods, variants), or for a
    /// variable or parameter the type it is known to have (`p: Point`, `p = Point(..)`).
    pub owner: Option<String>,
    /// For an import: the dotted module path.
    pub module: Option<String>,
}

pub struct Index {
    pub defs: Vec<Def>,
}

impl Index {
    pub fn new(module: &Module, text: &str) -> Index {
        let whole = Span::new(0, text.len());
        let mut index = Index { defs: Vec::new() };
        index.block(&module.body, whole);
        index
    }

    /// The definition `name` refers to at `offset`: the innermost visible one, and of those the
    /// last defined before `offset` (or the first, for a use above its assignment).
    pub fn resolve(&self, name: &str, offset: usize) -> Option<&Def> {
        let visible = self.defs.iter().filter(|d| {
            d.name == name
                && !matches!(d.kind, DefKind::Field | DefKind::Method | DefKind::Variant)
                && (d.scope.start as usize) <= offset
                && offset <= d.scope.end as usize
        });
        let innermost = visible.clone().map(|d| d.scope.len()).min()?;
        let candidates: Vec<&Def> = visible.filter(|d| d.scope.len() == innermost).collect();
        candidates
            .iter()
            .rev()
            .find(|d| (d.span.start as usize) <= offset)
            .or_else(|| candidates.first())
            .copied()
    }

    /// The members (fields, methods, variants) of the type or enum `owner`.
    pub fn members_of<'a>(&'a self, owner: &'a str) -> impl Iterator<Item = &'a Def> + 'a {
        self.defs.iter().filter(move |d| {
            d.owner.as_deref() == Some(owner)
                && matches!(d.kind, DefKind::Field | DefKind::Method | DefKind::Variant)
        })
    }

    /// Names visible at `offset`, one definition each.
    pub fn visible_at(&self, offset: usize) -> Vec<&Def> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for def in &self.defs {
            let visible = (def.scope.start as usize) <= offset && offset <= def.scope.end as usize;
            let member = matches!(
                def.kind,
                DefKind::Field | DefKind::Method | DefKind::Variant
            );
            if visible && !member && seen.insert(def.name.as_str()) {
                out.push(def);
            }
        }
        out
    }

    fn add(&mut self, name: &Ident, kind: DefKind, extent: Span, scope: Span, detail: String) {
        self.defs.push(Def {
            name: name.name.clone(),
            kind,
            span: name.span,
            extent,
            scope,
            detail,
            owner: None,
            module: None,
        });
    }

    fn last_mut(&mut self) -> Option<&mut Def> {
        self.defs.last_mut()
    }

    fn block(&mut self, body: &[Stmt], scope: Span) {
        for stmt in body {
            self.stmt(stmt, scope);
        }
    }

    fn stmt(&mut self, stmt: &Stmt, scope: Span) {
        match &stmt.kind {
            StmtKind::FnDef(def) => self.function(def, DefKind::Function, scope, None),
            StmtKind::TypeDef(def) => {
                self.add(
                    &def.name,
                    DefKind::Type,
                    def.span,
                    scope,
                    format!("type {}", def.name.name),
                );
                for field in &def.fields {
                    self.add(
                        &field.name,
                        DefKind::Field,
                        field.span,
                        scope,
                        format!("{}: {}", field.name.name, type_text(&field.ty)),
                    );
                    if let Some(d) = self.last_mut() {
                        d.owner = Some(def.name.name.clone());
                    }
                }
                for method in &def.methods {
                    self.function(method, DefKind::Method, scope, Some(&def.name.name));
                }
            }
            StmtKind::EnumDef(def) => {
                self.add(
                    &def.name,
                    DefKind::Enum,
                    def.span,
                    scope,
                    format!("enum {}", def.name.name),
                );
                for variant in &def.variants {
                    let fields: Vec<&str> =
                        variant.fields.iter().map(|f| f.name.as_str()).collect();
                    let detail = if fields.is_empty() {
                        format!("{}.{}", def.name.name, variant.name.name)
                    } else {
                        format!(
                            "{}.{}({})",
                            def.name.name,
                            variant.name.name,
                            fields.join(", ")
                        )
                    };
                    // A variant is also a name of its own (`Circle(2)`), visible like the enum.
                    self.add(&variant.name, DefKind::Variant, variant.span, scope, detail);
                    if let Some(d) = self.last_mut() {
                        d.owner = Some(def.name.name.clone());
                    }
                }
            }
            StmtKind::Import { path, alias } => {
                let dotted: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
                let dotted = dotted.join(".");
                if let Some(name) = alias.as_ref().or(path.last()) {
                    self.add(
                        name,
                        DefKind::Import,
                        stmt.span,
                        scope,
                        format!("import {dotted}"),
                    );
                    if let Some(d) = self.last_mut() {
                        d.module = Some(dotted);
                    }
                }
            }
            StmtKind::Assign { target, value } => {
                let owner = constructed_type(value);
                self.targets(target, stmt.span, scope, owner);
            }
            StmtKind::For { target, body, .. } => {
                self.targets(target, stmt.span, scope, None);
                self.block(body, scope);
            }
            StmtKind::If { branches, orelse } => {
                for (_, body) in branches {
                    self.block(body, scope);
                }
                if let Some(body) = orelse {
                    self.block(body, scope);
                }
            }
            StmtKind::While { body, .. }
            | StmtKind::With { body, .. }
            | StmtKind::Concurrent { body } => self.block(body, scope),
            StmtKind::Match { cases, .. } => {
                for case in cases {
                    self.block(&case.body, scope);
                }
            }
            _ => {}
        }
    }

    /// Names a target binds; the first assignment in a scope is its definition.
    fn targets(&mut self, target: &Expr, extent: Span, scope: Span, owner: Option<String>) {
        match &target.kind {
            ExprKind::Name(ident) => {
                let known = self
                    .defs
                    .iter()
                    .any(|d| d.name == ident.name && d.scope == scope);
                if !known {
                    self.add(ident, DefKind::Variable, extent, scope, ident.name.clone());
                    if let Some(d) = self.last_mut() {
                        d.owner = owner;
                    }
                }
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for item in items {
                    self.targets(item, extent, scope, None);
                }
            }
            _ => {}
        }
    }

    fn function(&mut self, def: &FnDef, kind: DefKind, scope: Span, owner: Option<&str>) {
        let Some(name) = &def.name else { return };
        let params: Vec<String> = def.params.iter().map(param_text).collect();
        let mut detail = format!("fn {}({})", name.name, params.join(", "));
        if let Some(ret) = &def.ret {
            detail.push_str(&format!(" -> {}", type_text(ret)));
        }
        self.add(name, kind, def.span, scope, detail);
        if let Some(d) = self.last_mut() {
            d.owner = owner.map(str::to_string);
        }
        for param in &def.params {
            self.add(
                &param.name,
                DefKind::Parameter,
                param.span,
                def.span,
                param_text(param),
            );
            if let Some(d) = self.last_mut() {
                d.owner = match (&param.ty, param.name.name.as_str(), owner) {
                    (_, "self", Some(owner)) => Some(owner.to_string()),
                    (Some(ty), _, _) => simple_type(ty),
                    _ => None,
                };
            }
        }
        if let FnBody::Block(body) = &def.body {
            self.block(body, def.span);
        }
    }
}

/// `Point` for `Point(1, 2)`: the type a constructor call makes.
fn constructed_type(value: &Expr) -> Option<String> {
    match &value.kind {
        ExprKind::Call { callee, .. } => match &callee.kind {
            ExprKind::Name(name) if name.name.starts_with(char::is_uppercase) => {
                Some(name.name.clone())
            }
            _ => None,
        },
        _ => None,
    }
}

fn simple_type(ty: &TypeExpr) -> Option<String> {
    match &ty.kind {
        TypeExprKind::Name(parts) if parts.len() == 1 => Some(parts[0].name.clone()),
        _ => None,
    }
}

fn param_text(param: &Param) -> String {
    let stars = match param.kind {
        ParamKind::Rest => "*",
        ParamKind::RestKeywords => "**",
        _ => "",
    };
    match &param.ty {
        Some(ty) => format!("{stars}{}: {}", param.name.name, type_text(ty)),
        None => format!("{stars}{}", param.name.name),
    }
}

/// A type annotation as written.
pub fn type_text(ty: &TypeExpr) -> String {
    let dotted = |parts: &[Ident]| {
        parts
            .iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    };
    match &ty.kind {
        TypeExprKind::Name(parts) => dotted(parts),
        TypeExprKind::Generic { base, args } => format!(
            "{}[{}]",
            dotted(base),
            args.iter().map(type_text).collect::<Vec<_>>().join(", ")
        ),
        TypeExprKind::Union(items) => items.iter().map(type_text).collect::<Vec<_>>().join(" | "),
        _ => "nil".to_string(),
    }
}

/// The `#` comment lines right above `offset`'s line: a definition's doc.
pub fn doc_comment(text: &str, offset: usize) -> String {
    let line_start = text[..offset.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let mut lines: Vec<&str> = Vec::new();
    for line in text[..line_start].lines().rev() {
        // Decorators sit between a doc comment and its `fn`.
        let trimmed = line.trim();
        if trimmed.starts_with('@') {
            continue;
        }
        match trimmed.strip_prefix('#') {
            Some(comment) => lines.push(comment.strip_prefix(' ').unwrap_or(comment)),
            None => break,
        }
    }
    lines.reverse();
    lines.join("\n")
}
