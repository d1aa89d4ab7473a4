//! AST to bytecode: name resolution, then code generation.
//!
//! `resolve` decides, for every name occurrence, whether it is a local slot, a captured cell, a
//! module global or a builtin, and reports every static error it finds (unknown names, `break`
//! outside a loop, ...). `codegen` then walks the tree once more and emits a
//! [`FunctionProto`] per function, consulting that table. Both passes recurse on the tree; the
//! parser bounds nesting depth so they cannot overflow the stack.

mod assert;
mod bindings;
mod checks;
mod codegen;
mod codegen_expr;
mod codegen_stmt;
mod patterns;
mod resolve;

use std::collections::HashMap;
use std::rc::Rc;

use crate::bytecode::FunctionProto;
use crate::syntax::ast;
use crate::Diagnostic;
pub use checks::Library;

/// The globals of one module: name to process-wide global slot.
///
/// Kept by the runtime between compilations so that the REPL can compile line after line against
/// the same module, and so that module attribute access (`mod.name`) can find a slot by name.
#[derive(Clone, Debug, Default)]
pub struct ModuleScope {
    slots: HashMap<Rc<str>, u32>,
    order: Vec<Rc<str>>,
}

impl ModuleScope {
    /// The slot of `name`, if the module defines it.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.slots.get(name).copied()
    }

    /// Names in definition order, with their slots.
    pub fn iter(&self) -> impl Iterator<Item = (&Rc<str>, u32)> {
        self.order.iter().map(|n| (n, self.slots[n]))
    }

    fn declare(&mut self, name: &str, allocator: &mut GlobalSlots) -> u32 {
        if let Some(slot) = self.slots.get(name) {
            return *slot;
        }
        let slot = allocator.next;
        allocator.next += 1;
        let name: Rc<str> = name.into();
        self.slots.insert(name.clone(), slot);
        self.order.push(name);
        slot
    }
}

/// The process-wide allocator of global slots (all modules share one table in the VM).
#[derive(Clone, Debug, Default)]
pub struct GlobalSlots {
    /// The next free slot; the VM grows its table to this size before running new code.
    pub next: u32,
}

/// What the compiler needs to know about the world outside the module.
#[derive(Clone, Copy, Debug)]
pub struct CompileEnv<'a> {
    /// Builtin function names, by index (`LoadBuiltin(i)` refers to `builtins[i]`).
    pub builtins: &'a [&'a str],
    /// REPL mode: the value of a final expression statement is returned instead of dropped.
    pub echo_last_expression: bool,
    /// The standard library's modules and error variants, for the checks in `checks.rs`.
    pub library: Option<&'a Library>,
}

/// Compiles a parsed module into the function that runs its body.
///
/// Every static error is reported, not just the first. On success the module's globals have been
/// declared in `scope` with slots taken from `slots`.
pub fn compile_module(
    module: &ast::Module,
    scope: &mut ModuleScope,
    slots: &mut GlobalSlots,
    env: CompileEnv<'_>,
) -> Result<FunctionProto, Vec<Diagnostic>> {
    let resolution = resolve::resolve_module(module, scope, slots, env)?;
    Ok(codegen::generate_module(module, &resolution, env))
}

/// Parses and compiles source text in one step; syntax errors stop before resolution.
pub fn compile_source(
    source: &str,
    scope: &mut ModuleScope,
    slots: &mut GlobalSlots,
    env: CompileEnv<'_>,
) -> Result<FunctionProto, Vec<Diagnostic>> {
    let (module, errors) = crate::syntax::parse(source);
    if !errors.is_empty() {
        return Err(errors);
    }
    compile_module(&module, scope, slots, env)
}
