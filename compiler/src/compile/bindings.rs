//! Which names a block of statements binds: assignment and loop targets, definitions, imports
//! and `case` patterns, without looking inside nested functions or comprehensions. The resolver
//! declares these before resolving a scope, so that every use in the scope sees them.

use crate::syntax::ast::*;

/// Names bound by an assignment target (`a`, `a, b`, `[a, (b, c)]`).
pub(super) fn target_names<'a>(target: &'a Expr, out: &mut Vec<&'a Ident>) {
    match &target.kind {
        ExprKind::Name(ident) => out.push(ident),
        ExprKind::Tuple(items) | ExprKind::List(items) => {
            items.iter().for_each(|i| target_names(i, out))
        }
        _ => {}
    }
}

fn pattern_names(pattern: &Pattern, out: &mut Vec<Ident>) {
    match &pattern.kind {
        PatternKind::Bind(ident) => out.push(ident.clone()),
        PatternKind::Variant { args: items, .. }
        | PatternKind::List(items)
        | PatternKind::Tuple(items)
        | PatternKind::Or(items) => items.iter().for_each(|p| pattern_names(p, out)),
        PatternKind::Wildcard | PatternKind::Literal(_) => {}
    }
}

/// Every name a block binds, not looking inside nested functions or comprehensions.
pub(super) fn collect_bindings(body: &[Stmt], out: &mut Vec<Ident>) {
    for stmt in body {
        match &stmt.kind {
            StmtKind::Assign { target, .. } | StmtKind::AugAssign { target, .. } => {
                let mut names = Vec::new();
                target_names(target, &mut names);
                out.extend(names.into_iter().cloned());
            }
            StmtKind::For { target, body, .. } => {
                let mut names = Vec::new();
                target_names(target, &mut names);
                out.extend(names.into_iter().cloned());
                collect_bindings(body, out);
            }
            StmtKind::If { branches, orelse } => {
                for (_, b) in branches {
                    collect_bindings(b, out);
                }
                if let Some(b) = orelse {
                    collect_bindings(b, out);
                }
            }
            StmtKind::While { body, .. }
            | StmtKind::With { body, .. }
            | StmtKind::Concurrent { body } => collect_bindings(body, out),
            StmtKind::Match { cases, .. } => {
                for case in cases {
                    pattern_names(&case.pattern, out);
                    collect_bindings(&case.body, out);
                }
            }
            StmtKind::FnDef(def) => out.extend(def.name.clone()),
            StmtKind::TypeDef(def) => out.push(def.name.clone()),
            StmtKind::EnumDef(def) => {
                out.push(def.name.clone());
                out.extend(def.variants.iter().map(|v| v.name.clone()));
            }
            StmtKind::Import { path, alias } => {
                out.extend(alias.clone().or_else(|| path.last().cloned()))
            }
            StmtKind::Expr(_)
            | StmtKind::Break
            | StmtKind::Continue
            | StmtKind::Pass
            | StmtKind::Return(_)
            | StmtKind::Defer(_)
            | StmtKind::Assert { .. } => {}
        }
    }
}
