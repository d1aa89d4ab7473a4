//! Code generation: the per-function builder and the entry points for modules and functions.
//!
//! A [`FnBuilder`] owns the [`FunctionProto`] being written: it emits instructions with their
//! spans, deduplicates constants and names, hands out temporary local slots, and tracks the loops
//! and block statements that `break`/`continue` must leave. Statements and expressions are in
//! `codegen_stmt.rs` and `codegen_expr.rs`; `match` patterns in `patterns.rs`.

use std::collections::HashSet;
use std::rc::Rc;

use super::resolve::{NameRef, Resolution, MODULE_KEY};
use super::CompileEnv;
use crate::bytecode::{Cmp, Constant, FunctionProto, Op};
use crate::syntax::ast::*;

/// A loop being compiled: where `continue` goes and which jumps `break` must patch.
pub(super) struct LoopContext {
    /// Instruction index `continue` jumps to.
    pub continue_target: usize,
    /// `break` jumps to patch with the loop's exit.
    pub breaks: Vec<usize>,
    /// Block statements open when the loop started (those opened inside must be exited).
    pub open_blocks: u32,
}

/// Builds one function's bytecode.
pub(super) struct FnBuilder<'r> {
    pub res: &'r Resolution,
    pub env: CompileEnv<'r>,
    pub proto: FunctionProto,
    pub cells: HashSet<u32>,
    pub loops: Vec<LoopContext>,
    pub open_blocks: u32,
    /// No instruction before this index may be fused with later ones: it is a jump target.
    barrier: usize,
}

pub(super) fn generate_module(
    module: &Module,
    res: &Resolution,
    env: CompileEnv<'_>,
) -> FunctionProto {
    let mut b = FnBuilder::new(res, env, MODULE_KEY, "<module>".into());
    b.prologue();
    let body = &module.body;
    let echo = env.echo_last_expression
        && matches!(
            body.last(),
            Some(Stmt {
                kind: StmtKind::Expr(_),
                ..
            })
        );
    let (init, last) = if echo {
        body.split_at(body.len() - 1)
    } else {
        (&body[..], &[][..])
    };
    b.block(init);
    if let Some(Stmt {
        kind: StmtKind::Expr(e),
        span,
    }) = last.first()
    {
        b.expr(e);
        b.emit(Op::Return, *span);
    } else {
        let end = Span::new(module_end(module), module_end(module));
        b.emit(Op::Nil, end);
        b.emit(Op::Return, end);
    }
    b.finish()
}

fn module_end(module: &Module) -> usize {
    module.body.last().map_or(0, |s| s.span.end as usize)
}

impl<'r> FnBuilder<'r> {
    pub fn new(res: &'r Resolution, env: CompileEnv<'r>, key: u32, name: Rc<str>) -> FnBuilder<'r> {
        let info = res.functions.get(&key).cloned().unwrap_or_default();
        let proto = FunctionProto {
            name,
            locals: info.locals,
            captures: info.captures,
            local_names: info.local_names,
            capture_names: info.capture_names,
            ..FunctionProto::default()
        };
        FnBuilder {
            res,
            env,
            proto,
            cells: info.cells,
            loops: Vec::new(),
            open_blocks: 0,
            barrier: 0,
        }
    }

    /// Turns captured locals into cells before any code runs.
    pub fn prologue(&mut self) {
        let mut cells: Vec<u32> = self.cells.iter().copied().collect();
        cells.sort_unstable();
        for slot in cells {
            self.emit(Op::MakeCell(slot), self.proto.span);
        }
    }

    pub fn finish(self) -> FunctionProto {
        self.proto
    }

    // ---- emission ----

    pub fn emit(&mut self, op: Op, span: Span) -> usize {
        if let Some(at) = self.fuse(op, span) {
            return at;
        }
        self.proto.code.push(op);
        self.proto.spans.push(span);
        self.proto.code.len() - 1
    }

    /// Peephole fusion: replaces the last instructions and `op` by one superinstruction when they
    /// form a common shape and no jump lands between them. Returns the fused instruction's index.
    fn fuse(&mut self, op: Op, span: Span) -> Option<usize> {
        let n = self.proto.code.len();
        let code = &self.proto.code;
        let fusable = |k: usize| n >= k && n - k >= self.barrier;
        let last = if fusable(1) { Some(code[n - 1]) } else { None };
        let before_last = if fusable(2) { Some(code[n - 2]) } else { None };
        let (start, fused) = match (before_last, last, op) {
            (Some(Op::LoadLocal(slot)), Some(Op::SmallInt(k)), Op::Add | Op::AddInPlace)
                if slot <= u16::MAX as u32 =>
            {
                (n - 2, Op::LocalAddInt(slot as u16, k))
            }
            (Some(Op::LoadLocal(slot)), Some(Op::SmallInt(k)), Op::Sub)
                if slot <= u16::MAX as u32 =>
            {
                (n - 2, Op::LocalSubInt(slot as u16, k))
            }
            (Some(Op::LoadLocal(slot)), Some(Op::SmallInt(k)), Op::JumpUnless(Cmp::Lt, target))
                if slot <= u8::MAX as u32 && i16::try_from(k).is_ok() =>
            {
                (
                    n - 2,
                    Op::JumpUnlessLocalLtInt(slot as u8, k as i16, target),
                )
            }
            // `== nil` / `!= nil` feeding a branch: nil equals only nil, so no comparison runs.
            (_, Some(Op::Nil), Op::JumpUnless(Cmp::Ne, target) | Op::JumpIf(Cmp::Eq, target)) => {
                (n - 1, Op::JumpIfNil(target))
            }
            (_, Some(Op::Nil), Op::JumpUnless(Cmp::Eq, target) | Op::JumpIf(Cmp::Ne, target)) => {
                (n - 1, Op::JumpUnlessNil(target))
            }
            (_, Some(Op::LoadLocal(slot)), Op::GetAttr(name)) if slot <= u16::MAX as u32 => {
                (n - 1, Op::LoadLocalAttr(slot as u16, name))
            }
            (_, Some(Op::LoadLocal(a)), Op::LoadLocal(b))
                if a <= u16::MAX as u32 && b <= u16::MAX as u32 =>
            {
                (n - 1, Op::LoadLocal2(a as u16, b as u16))
            }
            (_, Some(Op::ForIter(target)), Op::StoreLocal(slot)) if slot <= u16::MAX as u32 => {
                (n - 1, Op::ForIterLocal(slot as u16, target))
            }
            (_, Some(Op::SmallInt(k)), Op::Add | Op::AddInPlace) => (n - 1, Op::AddInt(k)),
            (_, Some(Op::SmallInt(k)), Op::Sub) => (n - 1, Op::SubInt(k)),
            (_, Some(Op::SmallInt(k)), Op::Mul) => (n - 1, Op::MulInt(k)),
            (_, Some(Op::SmallInt(k)), Op::Mod) if k > 0 => (n - 1, Op::ModInt(k)),
            _ => return None,
        };
        self.proto.code.truncate(start);
        self.proto.spans.truncate(start);
        self.proto.code.push(fused);
        self.proto.spans.push(span);
        Some(start)
    }

    /// The next instruction's index, which becomes a jump target.
    pub fn here(&mut self) -> usize {
        self.barrier = self.proto.code.len();
        self.proto.code.len()
    }

    /// Points the jump at `at` to the current position.
    pub fn patch(&mut self, at: usize) {
        let target = self.here() as u32;
        self.patch_to(at, target);
    }

    pub fn patch_to(&mut self, at: usize, target: u32) {
        self.barrier = self.barrier.max(target as usize);
        self.proto.code[at] = match self.proto.code[at] {
            Op::Jump(_) => Op::Jump(target),
            Op::JumpIfFalse(_) => Op::JumpIfFalse(target),
            Op::JumpIfTrue(_) => Op::JumpIfTrue(target),
            Op::JumpIfFalseOrPop(_) => Op::JumpIfFalseOrPop(target),
            Op::JumpIfTrueOrPop(_) => Op::JumpIfTrueOrPop(target),
            Op::JumpUnless(cmp, _) => Op::JumpUnless(cmp, target),
            Op::JumpIf(cmp, _) => Op::JumpIf(cmp, target),
            Op::JumpUnlessLocalLtInt(slot, k, _) => Op::JumpUnlessLocalLtInt(slot, k, target),
            Op::JumpIfNil(_) => Op::JumpIfNil(target),
            Op::JumpUnlessNil(_) => Op::JumpUnlessNil(target),
            Op::ForIter(_) => Op::ForIter(target),
            Op::ForIterLocal(slot, _) => Op::ForIterLocal(slot, target),
            Op::ForRange(slot, _) => Op::ForRange(slot, target),
            other => other,
        };
    }

    pub fn constant(&mut self, constant: Constant) -> u32 {
        let reusable = matches!(
            constant,
            Constant::Int(_) | Constant::Str(_) | Constant::FormatSpec(_)
        );
        if reusable {
            if let Some(i) = self
                .proto
                .constants
                .iter()
                .position(|c| same_constant(c, &constant))
            {
                return i as u32;
            }
        }
        self.proto.constants.push(constant);
        (self.proto.constants.len() - 1) as u32
    }

    pub fn name(&mut self, name: &str) -> u32 {
        if let Some(i) = self.proto.names.iter().position(|n| &**n == name) {
            return i as u32;
        }
        self.proto.names.push(name.into());
        (self.proto.names.len() - 1) as u32
    }

    /// A fresh hidden local slot.
    pub fn temp(&mut self) -> u32 {
        self.proto.locals += 1;
        self.proto.locals - 1
    }

    // ---- names ----

    pub fn name_ref(&self, ident: &Ident) -> Option<NameRef> {
        self.res.names.get(&ident.span.start).copied()
    }

    pub fn load_name(&mut self, ident: &Ident) {
        let op = match self.name_ref(ident) {
            Some(NameRef::Local(slot)) if self.cells.contains(&slot) => Op::LoadCell(slot),
            Some(NameRef::Local(slot)) => Op::LoadLocal(slot),
            Some(NameRef::Capture(i)) => Op::LoadCapture(i),
            Some(NameRef::Global(slot)) => Op::LoadGlobal(slot),
            Some(NameRef::Builtin(i)) => Op::LoadBuiltin(i),
            // Resolution succeeded for the whole module, so every name has an entry.
            None => Op::Nil,
        };
        self.emit(op, ident.span);
    }

    pub fn store_name(&mut self, ident: &Ident) {
        let op = match self.name_ref(ident) {
            Some(NameRef::Local(slot)) if self.cells.contains(&slot) => Op::StoreCell(slot),
            Some(NameRef::Local(slot)) => Op::StoreLocal(slot),
            Some(NameRef::Capture(i)) => Op::StoreCapture(i),
            Some(NameRef::Global(slot)) => Op::StoreGlobal(slot),
            Some(NameRef::Builtin(_)) | None => Op::Pop,
        };
        self.emit(op, ident.span);
    }

    /// The plain (non-cell) local slot a name refers to, for fused local instructions.
    pub fn plain_local(&self, expr: &Expr) -> Option<u32> {
        match &expr.kind {
            ExprKind::Name(ident) => match self.name_ref(ident) {
                Some(NameRef::Local(slot)) if !self.cells.contains(&slot) => Some(slot),
                _ => None,
            },
            _ => None,
        }
    }

    /// True when `expr` is the builtin `name` (not shadowed by any variable).
    pub fn is_builtin(&self, expr: &Expr, name: &str) -> bool {
        match &expr.kind {
            ExprKind::Name(ident) => match self.name_ref(ident) {
                Some(NameRef::Builtin(i)) => self.env.builtins.get(i as usize) == Some(&name),
                _ => false,
            },
            _ => false,
        }
    }

    // ---- nested functions ----

    /// Compiles a nested function and emits the code that builds its closure (defaults first).
    pub fn closure(&mut self, def: &FnDef) {
        for param in &def.params {
            if let Some(default) = &param.default {
                self.expr(default);
            }
        }
        let name: Rc<str> = match &def.name {
            Some(n) => n.name.as_str().into(),
            None => "<lambda>".into(),
        };
        let mut inner = FnBuilder::new(self.res, self.env, def.span.start, name);
        inner.proto.params = def
            .params
            .iter()
            .filter(|p| p.kind == ParamKind::Plain)
            .map(|p| p.name.name.as_str().into())
            .collect();
        inner.proto.rest = def.params.iter().any(|p| p.kind == ParamKind::Rest);
        inner.proto.rest_keywords = def.params.iter().any(|p| p.kind == ParamKind::RestKeywords);
        inner.proto.defaults = def.params.iter().filter(|p| p.default.is_some()).count() as u32;
        inner.proto.span = def.span;
        inner.prologue();
        match &def.body {
            FnBody::Expr(e) => {
                inner.expr(e);
                inner.emit(Op::Return, e.span);
            }
            FnBody::Block(body) => {
                inner.block(body);
                let end = Span::new(def.span.end as usize, def.span.end as usize);
                inner.emit(Op::Nil, end);
                inner.emit(Op::Return, end);
            }
        }
        let proto = inner.finish();
        let k = self.constant(Constant::Function(Rc::new(proto)));
        self.emit(Op::MakeClosure(k), def.span);
    }

    /// Compiles a `defer expr` body as a parameterless closure.
    pub fn defer_thunk(&mut self, expr: &Expr, key: u32, span: Span) {
        let mut inner = FnBuilder::new(self.res, self.env, key, "<defer>".into());
        inner.proto.span = span;
        inner.prologue();
        inner.expr(expr);
        inner.emit(Op::Return, expr.span);
        let proto = inner.finish();
        let k = self.constant(Constant::Function(Rc::new(proto)));
        self.emit(Op::MakeClosure(k), span);
    }
}

fn same_constant(a: &Constant, b: &Constant) -> bool {
    match (a, b) {
        (Constant::Int(x), Constant::Int(y)) => x == y,
        (Constant::Str(x), Constant::Str(y)) => x == y,
        (Constant::FormatSpec(x), Constant::FormatSpec(y)) => x == y,
        _ => false,
    }
}
