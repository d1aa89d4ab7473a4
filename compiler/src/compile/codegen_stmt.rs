//! Code generation for statements: assignments, control flow, loops, definitions, cleanups.

use std::rc::Rc;

use super::codegen::{FnBuilder, LoopContext};
use crate::bytecode::{Cmp, Constant, EnumProto, FieldProto, Op, TypeAnnotation, TypeProto};
use crate::syntax::ast::*;

impl FnBuilder<'_> {
    pub fn block(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        let span = stmt.span;
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.expr(e);
                self.emit(Op::Pop, span);
            }
            StmtKind::Assign { target, value } => self.assign(target, value),
            StmtKind::AugAssign { target, op, value } => self.aug_assign(target, *op, value, span),
            StmtKind::If { branches, orelse } => {
                let mut ends = Vec::new();
                for (i, (cond, body)) in branches.iter().enumerate() {
                    let skip = self.false_jumps(cond);
                    self.block(body);
                    let last = i + 1 == branches.len() && orelse.is_none();
                    if !last {
                        ends.push(self.emit(Op::Jump(0), span));
                    }
                    self.patch_all(skip);
                }
                if let Some(body) = orelse {
                    self.block(body);
                }
                for end in ends {
                    self.patch(end);
                }
            }
            StmtKind::While { cond, body } => {
                let start = self.here();
                let exit = self.false_jumps(cond);
                self.loop_body(start, body);
                self.emit(Op::Jump(start as u32), span);
                self.patch_all(exit);
                self.end_loop();
            }
            StmtKind::For { target, iter, body } => self.for_loop(target, iter, body, span),
            StmtKind::Break => {
                self.exit_blocks_for_loop(span);
                let jump = self.emit(Op::Jump(0), span);
                if let Some(l) = self.loops.last_mut() {
                    l.breaks.push(jump);
                }
            }
            StmtKind::Continue => {
                self.exit_blocks_for_loop(span);
                let target = self.loops.last().map_or(0, |l| l.continue_target);
                self.emit(Op::Jump(target as u32), span);
            }
            StmtKind::Pass => {}
            StmtKind::Return(value) => {
                match value {
                    Some(v) => self.expr(v),
                    None => {
                        self.emit(Op::Nil, span);
                    }
                }
                self.emit(Op::Return, span);
            }
            StmtKind::Assert {
                cond,
                message,
                text,
            } => self.assert_stmt(cond, message.as_ref(), text, span),
            StmtKind::Defer(expr) => {
                self.defer_thunk(expr, span.start, span);
                self.emit(Op::Defer, span);
            }
            StmtKind::With { context, body } => {
                self.expr(context);
                self.emit(Op::EnterBlock, context.span);
                self.open_blocks += 1;
                self.block(body);
                self.open_blocks -= 1;
                self.emit(Op::ExitBlock, context.span);
            }
            StmtKind::Concurrent { body } => {
                self.emit(Op::EnterConcurrent, span);
                self.open_blocks += 1;
                self.block(body);
                self.open_blocks -= 1;
                self.emit(Op::ExitConcurrent, span);
            }
            StmtKind::Match { subject, cases } => self.match_stmt(subject, cases, span),
            StmtKind::FnDef(def) => {
                for decorator in &def.decorators {
                    self.expr(decorator);
                }
                self.closure(def);
                for decorator in def.decorators.iter().rev() {
                    self.emit(Op::Call(1), decorator.span);
                }
                if let Some(name) = &def.name {
                    self.store_name(name);
                }
            }
            StmtKind::TypeDef(def) => self.type_def(def),
            StmtKind::EnumDef(def) => self.enum_def(def),
            StmtKind::Import { path, alias } => {
                let dotted: Vec<&str> = path.iter().map(|p| p.name.as_str()).collect();
                let k = self.constant(Constant::Str(dotted.join(".").into()));
                self.emit(Op::Import(k), span);
                if let Some(name) = alias.as_ref().or(path.last()) {
                    self.store_name(name);
                }
            }
        }
    }

    /// Emits a test of `cond` that jumps when it is false; returns the jumps to patch.
    /// `and`, `or` and `not` become jumps rather than values.
    pub fn false_jumps(&mut self, cond: &Expr) -> Vec<usize> {
        match &cond.kind {
            ExprKind::And(left, right) => {
                let mut jumps = self.false_jumps(left);
                jumps.extend(self.false_jumps(right));
                jumps
            }
            ExprKind::Or(left, right) => {
                let to_body = self.true_jumps(left);
                let jumps = self.false_jumps(right);
                for jump in to_body {
                    self.patch(jump);
                }
                jumps
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => self.true_jumps(operand),
            ExprKind::Compare { first, rest } if simple_comparison(rest).is_some() => {
                vec![self.compare_and_branch(first, rest, false, cond.span)]
            }
            _ => {
                self.expr(cond);
                vec![self.emit(Op::JumpIfFalse(0), cond.span)]
            }
        }
    }

    /// Emits a test of `cond` that jumps when it is true; returns the jumps to patch.
    pub(super) fn true_jumps(&mut self, cond: &Expr) -> Vec<usize> {
        match &cond.kind {
            ExprKind::Or(left, right) => {
                let mut jumps = self.true_jumps(left);
                jumps.extend(self.true_jumps(right));
                jumps
            }
            ExprKind::And(left, right) => {
                let skip = self.false_jumps(left);
                let jumps = self.true_jumps(right);
                for jump in skip {
                    self.patch(jump);
                }
                jumps
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => self.false_jumps(operand),
            ExprKind::Compare { first, rest } if simple_comparison(rest).is_some() => {
                vec![self.compare_and_branch(first, rest, true, cond.span)]
            }
            _ => {
                self.expr(cond);
                vec![self.emit(Op::JumpIfTrue(0), cond.span)]
            }
        }
    }

    /// `a <cmp> b` as one fused compare-and-branch, jumping when the comparison is `when`.
    fn compare_and_branch(
        &mut self,
        first: &Expr,
        rest: &[(CmpOp, Expr)],
        when: bool,
        span: Span,
    ) -> usize {
        let cmp = simple_comparison(rest).unwrap_or(Cmp::Eq);
        self.expr(first);
        self.expr(&rest[0].1);
        let op = if when {
            Op::JumpIf(cmp, 0)
        } else {
            Op::JumpUnless(cmp, 0)
        };
        self.emit(op, span)
    }

    pub(super) fn patch_all(&mut self, jumps: Vec<usize>) {
        for jump in jumps {
            self.patch(jump);
        }
    }

    fn loop_body(&mut self, continue_target: usize, body: &[Stmt]) {
        self.loops.push(LoopContext {
            continue_target,
            breaks: Vec::new(),
            open_blocks: self.open_blocks,
        });
        self.block(body);
    }

    /// Pops the innermost loop and points its `break`s here.
    fn end_loop(&mut self) {
        if let Some(l) = self.loops.pop() {
            for b in l.breaks {
                self.patch(b);
            }
        }
    }

    fn exit_blocks_for_loop(&mut self, span: Span) {
        let open_at_loop = self.loops.last().map_or(0, |l| l.open_blocks);
        for _ in open_at_loop..self.open_blocks {
            self.emit(Op::ExitBlock, span);
        }
    }

    fn for_loop(&mut self, target: &Expr, iter: &Expr, body: &[Stmt], span: Span) {
        // `for i in range(a, b)` over the builtin becomes a counted loop on two hidden locals.
        if let ExprKind::Call { callee, args } = &iter.kind {
            let positional = args.iter().all(|a| a.name.is_none());
            if positional
                && (1..=2).contains(&args.len())
                && self.is_builtin(callee, "range")
                && self.proto.locals < u16::MAX as u32
            {
                let counter = self.temp();
                let _end = self.temp();
                if args.len() == 1 {
                    self.emit(Op::SmallInt(0), iter.span);
                    self.expr(&args[0].value);
                } else {
                    self.expr(&args[0].value);
                    self.expr(&args[1].value);
                }
                self.emit(Op::PrepareRange(counter), iter.span);
                let start = self.here();
                let exit = self.emit(Op::ForRange(counter as u16, 0), iter.span);
                self.store_target(target);
                self.loop_body(start, body);
                self.emit(Op::Jump(start as u32), span);
                self.patch(exit);
                self.end_loop();
                return;
            }
        }
        self.expr(iter);
        self.emit(Op::GetIter, iter.span);
        let start = self.here();
        let exit = self.emit(Op::ForIter(0), iter.span);
        self.store_target(target);
        self.loop_body(start, body);
        self.emit(Op::Jump(start as u32), span);
        self.patch(exit);
        self.end_loop();
        self.emit(Op::Pop, span);
    }

    fn assign(&mut self, target: &Expr, value: &Expr) {
        // `x = x + k` on a plain local with a small constant is one instruction.
        if let (
            Some(slot),
            ExprKind::Binary {
                op: BinOp::Add,
                left,
                right,
            },
        ) = (self.plain_local(target), &value.kind)
        {
            if self.plain_local(left) == Some(slot) && slot <= u16::MAX as u32 {
                if let ExprKind::Int(k) = right.kind {
                    let k = self.constant(Constant::Int(k));
                    self.emit(Op::AddLocalConst(slot as u16, k), value.span);
                    return;
                }
            }
        }
        self.expr(value);
        self.store_target(target);
    }

    /// Stores the value on top of the stack into an assignment or loop target.
    pub fn store_target(&mut self, target: &Expr) {
        match &target.kind {
            ExprKind::Name(ident) => self.store_name(ident),
            ExprKind::Attr { object, name } => {
                self.expr(object);
                let n = self.name(&name.name);
                self.emit(Op::SetAttr(n), target.span);
            }
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
                self.emit(Op::SetIndex, target.span);
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                self.emit(Op::Unpack(items.len() as u32), target.span);
                for item in items {
                    self.store_target(item);
                }
            }
            // The resolver rejected every other target.
            _ => {
                self.emit(Op::Pop, target.span);
            }
        }
    }

    fn aug_assign(&mut self, target: &Expr, op: BinOp, value: &Expr, span: Span) {
        // `xs += ys` extends a list in place, as in Python; other types rebind.
        let op_code = match op {
            BinOp::Add => Op::AddInPlace,
            other => super::codegen_expr::binary_op(other),
        };
        match &target.kind {
            ExprKind::Name(_) => {
                if let (Some(slot), BinOp::Add, ExprKind::Int(k)) =
                    (self.plain_local(target), op, &value.kind)
                {
                    if slot <= u16::MAX as u32 {
                        let k = self.constant(Constant::Int(*k));
                        self.emit(Op::AddLocalConst(slot as u16, k), span);
                        return;
                    }
                }
                self.expr(target);
                self.expr(value);
                self.emit(op_code, span);
                self.store_target(target);
            }
            ExprKind::Attr { object, name } => {
                let n = self.name(&name.name);
                self.expr(object);
                self.emit(Op::Dup, span);
                self.emit(Op::GetAttr(n), target.span);
                self.expr(value);
                self.emit(op_code, span);
                self.emit(Op::Swap, span);
                self.emit(Op::SetAttr(n), target.span);
            }
            ExprKind::Index { object, index } => {
                let (obj, idx) = (self.temp(), self.temp());
                self.expr(object);
                self.emit(Op::StoreLocal(obj), object.span);
                self.expr(index);
                self.emit(Op::StoreLocal(idx), index.span);
                self.emit(Op::LoadLocal(obj), target.span);
                self.emit(Op::LoadLocal(idx), target.span);
                self.emit(Op::GetIndex, target.span);
                self.expr(value);
                self.emit(op_code, span);
                self.emit(Op::LoadLocal(obj), target.span);
                self.emit(Op::LoadLocal(idx), target.span);
                self.emit(Op::SetIndex, target.span);
            }
            _ => {}
        }
    }

    fn type_def(&mut self, def: &TypeDef) {
        let mut fields = Vec::new();
        for field in &def.fields {
            let default_decorator = field.decorators.iter().find_map(|d| match &d.kind {
                ExprKind::Call { callee, args } if decorator_name(callee) == "default" => {
                    args.first()
                }
                _ => None,
            });
            let has_default = match (&field.default, default_decorator) {
                (Some(e), _) => {
                    self.expr(e);
                    true
                }
                (None, Some(arg)) => {
                    self.expr(&arg.value);
                    true
                }
                (None, None) => false,
            };
            let mut decorators = Vec::new();
            for decorator in &field.decorators {
                let (callee, args): (&Expr, &[Arg]) = match &decorator.kind {
                    ExprKind::Call { callee, args } => (callee, args),
                    _ => (decorator, &[]),
                };
                for arg in args {
                    self.expr(&arg.value);
                }
                self.emit(Op::BuildTuple(args.len() as u32), decorator.span);
                decorators.push(decorator_name(callee).into());
            }
            fields.push(FieldProto {
                name: field.name.name.as_str().into(),
                ty: annotation(&field.ty),
                has_default,
                decorators,
            });
        }
        for method in &def.methods {
            for decorator in &method.decorators {
                self.expr(decorator);
            }
            self.closure(method);
            for decorator in method.decorators.iter().rev() {
                self.emit(Op::Call(1), decorator.span);
            }
        }
        let proto = TypeProto {
            name: def.name.name.as_str().into(),
            fields,
            methods: def
                .methods
                .iter()
                .filter_map(|m| m.name.as_ref())
                .map(|n| n.name.as_str().into())
                .collect(),
        };
        let k = self.constant(Constant::Type(Rc::new(proto)));
        self.emit(Op::MakeType(k), def.span);
        for decorator in def.decorators.iter().rev() {
            self.expr(decorator);
            self.emit(Op::Swap, decorator.span);
            self.emit(Op::Call(1), decorator.span);
        }
        self.store_name(&def.name);
    }

    fn enum_def(&mut self, def: &EnumDef) {
        let proto = EnumProto {
            name: def.name.name.as_str().into(),
            variants: def
                .variants
                .iter()
                .map(|v| {
                    (
                        v.name.name.as_str().into(),
                        v.fields.iter().map(|f| f.name.as_str().into()).collect(),
                    )
                })
                .collect(),
        };
        let k = self.constant(Constant::Enum(Rc::new(proto)));
        self.emit(Op::MakeEnum(k), def.span);
        for variant in &def.variants {
            let n = self.name(&variant.name.name);
            self.emit(Op::Dup, variant.span);
            self.emit(Op::GetAttr(n), variant.span);
            self.store_name(&variant.name);
        }
        self.store_name(&def.name);
    }
}

/// The last component of a decorator's callee: `env` for `@env(...)` and `@config.env(...)`.
fn decorator_name(callee: &Expr) -> &str {
    match &callee.kind {
        ExprKind::Name(ident) => &ident.name,
        ExprKind::Attr { name, .. } => &name.name,
        _ => "?",
    }
}

pub(super) fn annotation(ty: &TypeExpr) -> TypeAnnotation {
    let dotted = |path: &[Ident]| -> Rc<str> {
        path.iter()
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(".")
            .into()
    };
    match &ty.kind {
        TypeExprKind::Name(path) => TypeAnnotation::Name(dotted(path)),
        TypeExprKind::Generic { base, args } => {
            TypeAnnotation::Generic(dotted(base), args.iter().map(annotation).collect())
        }
        TypeExprKind::Union(parts) => TypeAnnotation::Union(parts.iter().map(annotation).collect()),
        TypeExprKind::Nil => TypeAnnotation::Nil,
    }
}

/// The fused-branch form of a single (unchained) comparison, if it has one.
fn simple_comparison(rest: &[(CmpOp, Expr)]) -> Option<Cmp> {
    match rest {
        [(op, _)] => comparison(*op),
        _ => None,
    }
}

/// The fused-branch form of a comparison operator (`in` has none).
fn comparison(op: CmpOp) -> Option<Cmp> {
    match op {
        CmpOp::Lt => Some(Cmp::Lt),
        CmpOp::Le => Some(Cmp::Le),
        CmpOp::Gt => Some(Cmp::Gt),
        CmpOp::Ge => Some(Cmp::Ge),
        CmpOp::Eq => Some(Cmp::Eq),
        CmpOp::Ne => Some(Cmp::Ne),
        CmpOp::In | CmpOp::NotIn | CmpOp::Is | CmpOp::IsNot => None,
    }
}
