//! Checks that need the whole program and the standard library's shape: mistakes that would
//! otherwise surface only at run time, or never.
//!
//! - `http.Sever`: a member of an imported library module that the module does not have
//!   (E0115). Without the check the script faults when the line first runs.
//! - `case Err(CircutOpen):`: a variant pattern naming something no enum, record type or library
//!   error is called (E0116). Patterns match by name, so without the check the case silently
//!   never matches. Skipped when the program imports `.cn` modules, whose enums are not known here.
//! - `count += 1` in a function when `count` is a module global (E0114): functions read globals
//!   but assigning makes a new local, so the read before it would fault at run time.
//!
//! The library's shape comes from the runtime as a [`Library`]; without one (compiler tests),
//! only the global-assignment check runs.

use std::collections::{HashMap, HashSet};

use crate::diagnostic::closest_name;
use crate::syntax::ast::*;
use crate::Diagnostic;

/// What the compiler is told about the standard library.
#[derive(Clone, Debug, Default)]
pub struct Library {
    /// Library modules by import name (`"http"`, `"time"`), with their member names.
    pub modules: HashMap<String, Vec<String>>,
    /// Every variant name library functions return (`Timeout`, `NotFound`, `CircuitOpen`).
    pub variants: Vec<String>,
    /// Import names that are library modules, whether or not `modules` lists their members.
    pub module_names: Vec<String>,
}

/// Facts about the program gathered in one walk before resolution.
#[derive(Debug, Default)]
pub(super) struct ProgramFacts {
    /// Module-level names bound by `import` of a library module, to the module's name.
    pub library_imports: HashMap<String, String>,
    /// Whether any `import` names a `.cn` module (whose enums are unknown here).
    pub imports_files: bool,
    /// Enum names with their variant names.
    pub enums: HashMap<String, Vec<String>>,
    /// Record type names (record patterns match by type name).
    pub types: HashSet<String>,
}

impl ProgramFacts {
    pub(super) fn gather(
        module: &Module,
        library: Option<&Library>,
        bindings: &[Ident],
    ) -> ProgramFacts {
        let mut facts = ProgramFacts::default();
        facts.walk(&module.body, library);
        // An import whose name is also bound some other way at module level is not tracked.
        facts
            .library_imports
            .retain(|name, _| bindings.iter().filter(|b| b.name == *name).count() == 1);
        facts
    }

    fn walk(&mut self, body: &[Stmt], library: Option<&Library>) {
        for stmt in body {
            match &stmt.kind {
                StmtKind::Import { path, alias } => {
                    let module: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
                    let module = module.join(".");
                    let is_library = library.is_some_and(|l| l.module_names.contains(&module));
                    if !is_library {
                        self.imports_files = true;
                    } else if let Some(bound) = alias.as_ref().or(path.last()) {
                        self.library_imports.insert(bound.name.clone(), module);
                    }
                }
                StmtKind::EnumDef(def) => {
                    let variants = def.variants.iter().map(|v| v.name.name.clone()).collect();
                    self.enums.insert(def.name.name.clone(), variants);
                }
                StmtKind::TypeDef(def) => {
                    self.types.insert(def.name.name.clone());
                    for method in &def.methods {
                        self.walk_fn(method, library);
                    }
                }
                StmtKind::FnDef(def) => self.walk_fn(def, library),
                StmtKind::If { branches, orelse } => {
                    for (_, block) in branches {
                        self.walk(block, library);
                    }
                    if let Some(block) = orelse {
                        self.walk(block, library);
                    }
                }
                StmtKind::While { body, .. }
                | StmtKind::For { body, .. }
                | StmtKind::With { body, .. }
                | StmtKind::Concurrent { body } => self.walk(body, library),
                StmtKind::Match { cases, .. } => {
                    for case in cases {
                        self.walk(&case.body, library);
                    }
                }
                _ => {}
            }
        }
    }

    fn walk_fn(&mut self, def: &FnDef, library: Option<&Library>) {
        if let FnBody::Block(body) = &def.body {
            // Imports inside functions are local names: only their kind (file or library) counts.
            let tracked = std::mem::take(&mut self.library_imports);
            self.walk(body, library);
            self.library_imports = tracked;
        }
    }
}

/// E0115 for `module.name` when the library module bound to `module` has no member `name`.
pub(super) fn module_member(library: &Library, module: &str, member: &Ident) -> Option<Diagnostic> {
    let members = library.modules.get(module)?;
    if members.contains(&member.name) {
        return None;
    }
    let mut diagnostic = Diagnostic::new(
        "E0115",
        format!("module '{module}' has no member '{}'", member.name),
        member.span,
    )
    .with_label(format!("not in '{module}'"));
    diagnostic = match closest_name(&member.name, members.iter().map(String::as_str)) {
        Some(close) => diagnostic.with_help(format!("did you mean '{close}'?")),
        None => diagnostic.with_help(format!("help({module}) lists what it has")),
    };
    Some(diagnostic)
}

/// E0116 for a variant pattern naming nothing the program or the library defines.
pub(super) fn variant_pattern(
    facts: &ProgramFacts,
    library: Option<&Library>,
    path: &[Ident],
) -> Option<Diagnostic> {
    let (name, qualifier) = match path {
        [name] => (name, None),
        [.., qualifier, name] => (name, Some(qualifier)),
        [] => return None,
    };
    if let Some(qualifier) = qualifier {
        // `Shape.Circle`: when `Shape` is an enum of this program, `Circle` must be one of its
        // variants; other qualifiers (modules) are not checked.
        let variants = facts.enums.get(&qualifier.name)?;
        if variants.contains(&name.name) {
            return None;
        }
        let mut diagnostic = Diagnostic::new(
            "E0116",
            format!("enum '{}' has no variant '{}'", qualifier.name, name.name),
            name.span,
        )
        .with_label(format!("not a variant of '{}'", qualifier.name));
        if let Some(close) = closest_name(&name.name, variants.iter().map(String::as_str)) {
            diagnostic = diagnostic.with_help(format!("did you mean '{close}'?"));
        }
        return Some(diagnostic);
    }
    let library = library?;
    if facts.imports_files {
        return None;
    }
    let known = facts
        .enums
        .values()
        .flatten()
        .chain(facts.types.iter())
        .chain(library.variants.iter())
        .map(String::as_str)
        .chain(["Ok", "Err"]);
    if known.clone().any(|k| k == name.name) {
        return None;
    }
    let mut diagnostic = Diagnostic::new(
        "E0116",
        format!(
            "no enum variant, record type or library error is named '{}'",
            name.name
        ),
        name.span,
    )
    .with_label("this pattern could never match");
    diagnostic = match (crate::syntax::name_help(&name.name), closest_name(&name.name, known)) {
        (Some(habit), _) => diagnostic.with_help(habit),
        (None, Some(close)) => diagnostic.with_help(format!("did you mean '{close}'?")),
        (None, None) => diagnostic.with_help(
            "a capitalized name in a pattern is a variant or record type; to bind a value, use a lower-case name",
        ),
    };
    Some(diagnostic)
}

/// E0114 for reading `name` in a function before the function assigns it, when `name` is also a
/// module global.
pub(super) fn global_assigned_in_function(name: &Ident) -> Diagnostic {
    Diagnostic::new(
        "E0114",
        format!(
            "'{}' is a module global, and this function assigns it, which makes it a new local",
            name.name
        ),
        name.span,
    )
    .with_label("read here before the function gives the local a value")
    .with_help(format!(
        "functions read module globals but cannot rebind them: keep the state in a mutable value (a dict, a list or a record's field: `state.{0} += 1`), or return the new value and assign it at module level; to use a separate local, give it another name",
        name.name
    ))
}
