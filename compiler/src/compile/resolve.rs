//! Name resolution: every name occurrence becomes a local slot, a captured cell, a global slot or
//! a builtin, and every static error is collected.
//! Statements and scopes are here; expressions, targets and patterns in `resolve/expressions.rs`;
//! the checks that need the whole program or the library in `checks.rs`.
//!
//! Scoping follows Python with one difference. A name assigned anywhere in a function body is local
//! to that function, and module-level names are globals that functions may read but not rebind
//! (assigning creates a local). Unlike Python, assigning to a name that is a local of an
//! *enclosing function* rebinds that variable (no `nonlocal` keyword): closures such as counters
//! work as they read. Comprehension variables are scoped to their comprehension.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;

mod expressions;

use super::bindings::{collect_bindings, target_names};
use super::checks::{self, ProgramFacts};
use super::{CompileEnv, GlobalSlots, ModuleScope};
use crate::bytecode::Capture;
use crate::diagnostic::closest_name;
use crate::syntax::ast::*;
use crate::Diagnostic;

/// How a name occurrence is reached at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum NameRef {
    /// A local slot of the current function (a cell if the function's `cells` says so).
    Local(u32),
    /// A captured cell of the current closure.
    Capture(u32),
    /// A global slot.
    Global(u32),
    /// A builtin by index.
    Builtin(u32),
}

/// What codegen needs to know about one function (or the module body, or a `defer` thunk).
#[derive(Clone, Debug, Default)]
pub(super) struct FunctionInfo {
    /// Local slots used by named variables and comprehension variables.
    pub locals: u32,
    /// Local slots that hold cells because an inner function captures them.
    pub cells: HashSet<u32>,
    /// How each capture is obtained from the enclosing function.
    pub captures: Vec<Capture>,
    /// Names of the local slots, by slot (for "used before it is assigned" faults).
    pub local_names: Vec<Rc<str>>,
    /// Names of the captures, by index.
    pub capture_names: Vec<Rc<str>>,
}

/// The result of resolution, keyed by source offsets (span starts are unique per node kind).
#[derive(Debug, Default)]
pub(super) struct Resolution {
    /// Name occurrences (reads and writes), keyed by the name's span start.
    pub names: HashMap<u32, NameRef>,
    /// Functions keyed by their definition's span start; `defer` thunks by the statement's span
    /// start; the module body under [`MODULE_KEY`].
    pub functions: HashMap<u32, FunctionInfo>,
}

/// Key of the module body in [`Resolution::functions`].
pub(super) const MODULE_KEY: u32 = u32::MAX;

struct FnScope {
    is_module: bool,
    locals: HashMap<String, u32>,
    comprehensions: Vec<HashMap<String, u32>>,
    next_slot: u32,
    cells: HashSet<u32>,
    captures: Vec<Capture>,
    capture_names: HashMap<String, u32>,
    loop_depth: u32,
    slot_names: Vec<Rc<str>>,
    /// Names given a value so far, in textual order (parameters first), for E0114.
    assigned: HashSet<String>,
}

impl FnScope {
    fn new(is_module: bool) -> FnScope {
        FnScope {
            is_module,
            locals: HashMap::new(),
            comprehensions: Vec::new(),
            next_slot: 0,
            cells: HashSet::new(),
            captures: Vec::new(),
            capture_names: HashMap::new(),
            loop_depth: 0,
            slot_names: Vec::new(),
            assigned: HashSet::new(),
        }
    }

    fn new_slot(&mut self, name: &str) -> u32 {
        let slot = self.next_slot;
        self.next_slot += 1;
        self.slot_names.push(name.into());
        slot
    }

    /// A name bound directly in this function (comprehension variables first).
    fn own_slot(&self, name: &str) -> Option<u32> {
        self.comprehensions
            .iter()
            .rev()
            .find_map(|scope| scope.get(name).copied())
            .or_else(|| self.locals.get(name).copied())
    }
}

struct Resolver<'a> {
    env: CompileEnv<'a>,
    module: &'a ModuleScope,
    scopes: Vec<FnScope>,
    out: Resolution,
    errors: Vec<Diagnostic>,
    facts: ProgramFacts,
}

pub(super) fn resolve_module(
    module: &Module,
    scope: &mut ModuleScope,
    slots: &mut GlobalSlots,
    env: CompileEnv<'_>,
) -> Result<Resolution, Vec<Diagnostic>> {
    // Declare every module-level binding first, so functions may call functions defined below.
    let mut bindings = Vec::new();
    collect_bindings(&module.body, &mut bindings);
    let mut staged = scope.clone();
    let mut staged_slots = slots.clone();
    for ident in &bindings {
        staged.declare(&ident.name, &mut staged_slots);
    }
    let facts = ProgramFacts::gather(module, env.library, &bindings);
    let mut resolver = Resolver {
        env,
        module: &staged,
        scopes: vec![FnScope::new(true)],
        out: Resolution::default(),
        errors: Vec::new(),
        facts,
    };
    resolver.block(&module.body);
    let module_scope = resolver.scopes.pop().map(finish_scope).unwrap_or_default();
    resolver.out.functions.insert(MODULE_KEY, module_scope);
    if !resolver.errors.is_empty() {
        let mut errors = resolver.errors;
        errors.sort_by_key(|d| d.span.start);
        return Err(errors);
    }
    let out = resolver.out;
    // Only a module that compiles keeps its new globals (a REPL line with an error declares nothing).
    *scope = staged;
    *slots = staged_slots;
    Ok(out)
}

fn finish_scope(scope: FnScope) -> FunctionInfo {
    let mut capture_names: Vec<(u32, Rc<str>)> = scope
        .capture_names
        .into_iter()
        .map(|(name, i)| (i, name.as_str().into()))
        .collect();
    capture_names.sort();
    FunctionInfo {
        locals: scope.next_slot,
        cells: scope.cells,
        captures: scope.captures,
        local_names: scope.slot_names,
        capture_names: capture_names.into_iter().map(|(_, n)| n).collect(),
    }
}

impl Resolver<'_> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.errors.push(diagnostic);
    }

    fn current(&mut self) -> &mut FnScope {
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    fn in_function(&self) -> bool {
        self.scopes.last().is_some_and(|s| !s.is_module)
    }

    // ---- statements ----

    fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.expr(e),
            StmtKind::Assign { target, value } => {
                self.expr(value);
                self.target(target);
            }
            StmtKind::AugAssign { target, value, .. } => {
                self.expr(value);
                if !matches!(
                    target.kind,
                    ExprKind::Name(_) | ExprKind::Attr { .. } | ExprKind::Index { .. }
                ) {
                    self.error(invalid_target(target));
                }
                self.expr(target);
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
                self.loop_body(body);
            }
            StmtKind::For { target, iter, body } => {
                self.expr(iter);
                self.target(target);
                self.loop_body(body);
            }
            StmtKind::Break | StmtKind::Continue => {
                if self.scopes.last().is_some_and(|s| s.loop_depth == 0) {
                    let (code, word) = if matches!(stmt.kind, StmtKind::Break) {
                        ("E0101", "break")
                    } else {
                        ("E0102", "continue")
                    };
                    self.error(
                        Diagnostic::new(code, format!("`{word}` outside of a loop"), stmt.span)
                            .with_label(format!("`{word}` must be inside `for` or `while`")),
                    );
                }
            }
            StmtKind::Pass => {}
            StmtKind::Return(value) => {
                if !self.in_function() {
                    self.error(
                        Diagnostic::new("E0103", "`return` outside of a function", stmt.span)
                            .with_label("not inside a function"),
                    );
                }
                if let Some(v) = value {
                    self.expr(v);
                }
            }
            StmtKind::Assert { cond, message, .. } => {
                self.expr(cond);
                if let Some(m) = message {
                    self.expr(m);
                }
            }
            StmtKind::Defer(expr) => {
                // A defer body is a parameterless closure run at exit, so it captures like a lambda.
                self.function_scope(stmt.span.start, &[], |r| r.expr(expr), &[]);
            }
            StmtKind::With { context, body } => {
                self.expr(context);
                self.block(body);
            }
            StmtKind::Concurrent { body } => self.block(body),
            StmtKind::Match { subject, cases } => {
                self.expr(subject);
                for case in cases {
                    self.pattern(&case.pattern, false);
                    if let Some(guard) = &case.guard {
                        self.expr(guard);
                    }
                    self.block(&case.body);
                }
            }
            StmtKind::FnDef(def) => {
                for decorator in &def.decorators {
                    self.expr(decorator);
                }
                self.function(def);
                if let Some(name) = &def.name {
                    self.bind(name);
                }
            }
            StmtKind::TypeDef(def) => {
                for decorator in &def.decorators {
                    self.expr(decorator);
                }
                let mut seen = HashSet::new();
                for field in &def.fields {
                    if !seen.insert(field.name.name.as_str()) {
                        self.error(
                            Diagnostic::new(
                                "E0110",
                                format!("duplicate field '{}'", field.name.name),
                                field.name.span,
                            )
                            .with_label("already declared above"),
                        );
                    }
                    if let Some(default) = &field.default {
                        self.expr(default);
                    }
                    for decorator in &field.decorators {
                        self.field_decorator(decorator);
                    }
                }
                for method in &def.methods {
                    for decorator in &method.decorators {
                        self.expr(decorator);
                    }
                    self.function(method);
                }
                self.bind(&def.name);
            }
            StmtKind::EnumDef(def) => {
                self.bind(&def.name);
                for variant in &def.variants {
                    self.bind(&variant.name);
                }
            }
            StmtKind::Import { path, alias } => {
                if let Some(name) = alias.as_ref().or(path.last()) {
                    self.bind(name);
                }
            }
        }
    }

    fn loop_body(&mut self, body: &[Stmt]) {
        self.current().loop_depth += 1;
        self.block(body);
        self.current().loop_depth -= 1;
    }

    /// Field decorators are metadata: only their arguments are evaluated.
    fn field_decorator(&mut self, decorator: &Expr) {
        if let ExprKind::Call { args, .. } = &decorator.kind {
            for arg in args {
                self.expr(&arg.value);
            }
        }
    }

    // ---- functions ----

    fn function(&mut self, def: &FnDef) {
        let mut seen_default = false;
        let mut seen: Option<&Param> = None;
        for param in &def.params {
            // Plain parameters first, then at most one `*args`, then at most one `**kwargs`.
            let misplaced = match (seen.map(|p| p.kind), param.kind) {
                (Some(ParamKind::Rest), ParamKind::Plain | ParamKind::Rest)
                | (Some(ParamKind::RestKeywords), _) => seen,
                _ => None,
            };
            if let Some(before) = misplaced {
                let star = if before.kind == ParamKind::Rest {
                    "*"
                } else {
                    "**"
                };
                self.error(
                    Diagnostic::new(
                        "E0113",
                        format!(
                            "parameter '{}' after '{star}{}'",
                            param.name.name, before.name.name
                        ),
                        param.span,
                    )
                    .with_label(
                        "parameters go in this order: plain ones, then *args, then **kwargs",
                    ),
                );
            }
            if param.kind != ParamKind::Plain {
                seen = Some(param);
                continue;
            }
            if let Some(default) = &param.default {
                self.expr(default);
                seen_default = true;
            } else if seen_default {
                self.error(
                    Diagnostic::new(
                        "E0109",
                        format!(
                            "parameter '{}' without a default follows one with a default",
                            param.name.name
                        ),
                        param.span,
                    )
                    .with_label("give this parameter a default or move it first"),
                );
            }
        }
        match &def.body {
            FnBody::Expr(e) => self.function_scope(def.span.start, &def.params, |r| r.expr(e), &[]),
            FnBody::Block(body) => {
                self.function_scope(def.span.start, &def.params, |r| r.block(body), body)
            }
        }
    }

    fn function_scope(
        &mut self,
        key: u32,
        params: &[Param],
        run: impl FnOnce(&mut Self),
        body: &[Stmt],
    ) {
        let mut scope = FnScope::new(false);
        for param in params {
            if scope.locals.contains_key(&param.name.name) {
                self.error(
                    Diagnostic::new(
                        "E0104",
                        format!("duplicate parameter '{}'", param.name.name),
                        param.name.span,
                    )
                    .with_label("this name is already a parameter"),
                );
                continue;
            }
            let slot = scope.new_slot(&param.name.name);
            scope.locals.insert(param.name.name.clone(), slot);
            scope.assigned.insert(param.name.name.clone());
            self.out
                .names
                .insert(param.name.span.start, NameRef::Local(slot));
        }
        let mut bindings = Vec::new();
        collect_bindings(body, &mut bindings);
        self.scopes.push(scope);
        for ident in bindings {
            let known = self
                .scopes
                .last()
                .is_some_and(|s| s.locals.contains_key(&ident.name));
            if !known && self.enclosing_function_local(&ident.name).is_none() {
                let scope = self.current();
                let slot = scope.new_slot(&ident.name);
                scope.locals.insert(ident.name, slot);
            }
        }
        run(self);
        if let Some(scope) = self.scopes.pop() {
            self.out.functions.insert(key, finish_scope(scope));
        }
    }

    /// Index of the nearest enclosing (non-module) function scope that binds `name`.
    fn enclosing_function_local(&self, name: &str) -> Option<usize> {
        let last = self.scopes.len() - 1;
        (0..last)
            .rev()
            .find(|&i| !self.scopes[i].is_module && self.scopes[i].own_slot(name).is_some())
            .or_else(|| {
                // Comprehension variables of the module body can be captured too.
                (0..last).rev().find(|&i| {
                    self.scopes[i]
                        .comprehensions
                        .iter()
                        .any(|c| c.contains_key(name))
                })
            })
    }

    // ---- names ----

    fn lookup(&mut self, name: &str) -> Option<NameRef> {
        let last = self.scopes.len() - 1;
        if let Some(slot) = self.scopes[last].own_slot(name) {
            return Some(NameRef::Local(slot));
        }
        if let Some(&index) = self.scopes[last].capture_names.get(name) {
            return Some(NameRef::Capture(index));
        }
        if let Some(owner) = self.enclosing_function_local(name) {
            return Some(NameRef::Capture(self.capture(owner, name)));
        }
        if let Some(slot) = self.module.get(name) {
            return Some(NameRef::Global(slot));
        }
        self.env
            .builtins
            .iter()
            .position(|b| *b == name)
            .map(|i| NameRef::Builtin(i as u32))
    }

    /// Threads a capture of `name` (a local of scope `owner`) down to the innermost scope.
    fn capture(&mut self, owner: usize, name: &str) -> u32 {
        let slot = self.scopes[owner].own_slot(name).unwrap_or(0);
        self.scopes[owner].cells.insert(slot);
        let mut source = Capture::Local(slot);
        let mut index = 0;
        for scope in &mut self.scopes[owner + 1..] {
            index = match scope.capture_names.get(name) {
                Some(&i) => i,
                None => {
                    let i = scope.captures.len() as u32;
                    scope.captures.push(source);
                    scope.capture_names.insert(name.to_string(), i);
                    i
                }
            };
            source = Capture::Outer(index);
        }
        index
    }

    fn use_name(&mut self, ident: &Ident) {
        match self.lookup(&ident.name) {
            Some(r) => {
                if let NameRef::Local(_) = r {
                    self.check_read_before_assignment(ident);
                }
                self.out.names.insert(ident.span.start, r);
            }
            None => {
                let error = self.unknown_name(ident);
                self.error(error);
            }
        }
    }

    fn unknown_name(&self, ident: &Ident) -> Diagnostic {
        let mut candidates: Vec<&str> = Vec::new();
        for scope in &self.scopes {
            candidates.extend(scope.locals.keys().map(String::as_str));
            for c in &scope.comprehensions {
                candidates.extend(c.keys().map(String::as_str));
            }
        }
        candidates.extend(self.module.iter().map(|(n, _)| &**n));
        candidates.extend(self.env.builtins.iter().copied());
        let mut diagnostic = Diagnostic::new(
            "E0100",
            format!("unknown name '{}'", ident.name),
            ident.span,
        )
        .with_label("not found in this scope");
        if let Some(help) = crate::syntax::name_help(&ident.name) {
            diagnostic = diagnostic.with_help(help);
        } else if let Some(close) = closest_name(&ident.name, candidates) {
            diagnostic = diagnostic.with_help(format!("did you mean '{close}'?"));
        }
        diagnostic
    }

    /// E0114: a function's local read before the function assigns it, where a module global has
    /// the name (the author meant the global). Reported once per name and function.
    fn check_read_before_assignment(&mut self, ident: &Ident) {
        let scope = self.current();
        if scope.is_module
            || scope.assigned.contains(&ident.name)
            || scope
                .comprehensions
                .iter()
                .any(|c| c.contains_key(&ident.name))
        {
            return;
        }
        scope.assigned.insert(ident.name.clone());
        if self.module.get(&ident.name).is_some() {
            self.error(checks::global_assigned_in_function(ident));
        }
    }

    /// E0115: `module.name` where `module` is a library import without that member.
    fn check_module_member(&mut self, object: &Expr, member: &Ident) {
        let (ExprKind::Name(ident), Some(library)) = (&object.kind, self.env.library) else {
            return;
        };
        let Some(module) = self.facts.library_imports.get(&ident.name) else {
            return;
        };
        if !matches!(
            self.out.names.get(&ident.span.start),
            Some(NameRef::Global(_))
        ) {
            return;
        }
        if let Some(error) = checks::module_member(library, module, member) {
            self.error(error);
        }
    }

    /// Records a binding occurrence (the name was declared by `collect_bindings`).
    fn bind(&mut self, ident: &Ident) {
        let scope = self.current();
        if !scope.is_module {
            scope.assigned.insert(ident.name.clone());
        }
        if let Some(r) = self.lookup(&ident.name) {
            self.out.names.insert(ident.span.start, r);
        }
    }
}

fn invalid_target(target: &Expr) -> Diagnostic {
    Diagnostic::new("E0106", "cannot assign to this expression", target.span)
        .with_label("not a name, attribute, index or tuple of those")
}
