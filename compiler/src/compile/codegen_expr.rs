//! Code generation for expressions.

use super::codegen::FnBuilder;
use super::resolve::NameRef;
use crate::bytecode::{Constant, Op};
use crate::syntax::ast::*;

/// The instruction for an arithmetic operator.
pub(super) fn binary_op(op: BinOp) -> Op {
    match op {
        BinOp::Add => Op::Add,
        BinOp::Sub => Op::Sub,
        BinOp::Mul => Op::Mul,
        BinOp::Div => Op::Div,
        BinOp::FloorDiv => Op::FloorDiv,
        BinOp::Mod => Op::Mod,
        BinOp::Pow => Op::Pow,
        BinOp::BitAnd => Op::BitAnd,
        BinOp::BitOr => Op::BitOr,
        BinOp::BitXor => Op::BitXor,
        BinOp::Shl => Op::Shl,
        BinOp::Shr => Op::Shr,
    }
}

pub(super) fn compare_op(op: CmpOp) -> Op {
    match op {
        CmpOp::Eq => Op::Eq,
        CmpOp::Ne => Op::Ne,
        CmpOp::Lt => Op::Lt,
        CmpOp::Le => Op::Le,
        CmpOp::Gt => Op::Gt,
        CmpOp::Ge => Op::Ge,
        CmpOp::In => Op::In,
        CmpOp::NotIn => Op::NotIn,
        CmpOp::Is => Op::Is,
        CmpOp::IsNot => Op::IsNot,
    }
}

impl FnBuilder<'_> {
    pub fn expr(&mut self, expr: &Expr) {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Nil => {
                self.emit(Op::Nil, span);
            }
            ExprKind::Bool(true) => {
                self.emit(Op::True, span);
            }
            ExprKind::Bool(false) => {
                self.emit(Op::False, span);
            }
            ExprKind::Int(n) => self.int(*n, span),
            ExprKind::Float(f) => {
                let k = self.constant(Constant::Float(*f));
                self.emit(Op::Const(k), span);
            }
            ExprKind::Str(s) => self.string(s, span),
            ExprKind::FStr(parts) => {
                for part in parts {
                    match part {
                        FStrPart::Lit(s) => self.string(s, span),
                        FStrPart::Expr { expr, spec, repr } => {
                            // BuildString applies `str()` itself; only specs and `!r` need an op.
                            self.expr(expr);
                            if *repr {
                                self.emit(Op::Repr, expr.span);
                            }
                            if spec.is_some() {
                                let k = self.constant(Constant::FormatSpec(
                                    spec.as_deref().map(Into::into),
                                ));
                                self.emit(Op::Format(k), expr.span);
                            }
                        }
                    }
                }
                self.emit(Op::BuildString(parts.len() as u32), span);
            }
            ExprKind::Name(ident) => self.load_name(ident),
            ExprKind::List(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildList(items.len() as u32), span);
            }
            ExprKind::Tuple(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildTuple(items.len() as u32), span);
            }
            ExprKind::Set(items) => {
                items.iter().for_each(|i| self.expr(i));
                self.emit(Op::BuildSet(items.len() as u32), span);
            }
            ExprKind::Dict(pairs) => {
                for (k, v) in pairs {
                    self.expr(k);
                    self.expr(v);
                }
                self.emit(Op::BuildDict(pairs.len() as u32), span);
            }
            ExprKind::Unary { op, operand } => {
                if let (UnaryOp::Neg, ExprKind::Int(n)) = (op, &operand.kind) {
                    // Fold `-5` so that literals of negative numbers cost nothing.
                    self.int(n.wrapping_neg(), span);
                    return;
                }
                self.expr(operand);
                let op = match op {
                    UnaryOp::Neg => Op::Neg,
                    UnaryOp::Pos => Op::Pos,
                    UnaryOp::Invert => Op::Invert,
                    UnaryOp::Not => Op::Not,
                };
                self.emit(op, span);
            }
            ExprKind::Binary { op, left, right } => {
                self.expr(left);
                self.expr(right);
                self.emit(binary_op(*op), span);
            }
            ExprKind::Compare { first, rest } => self.compare(first, rest, span),
            ExprKind::And(left, right) => {
                self.expr(left);
                let jump = self.emit(Op::JumpIfFalseOrPop(0), span);
                self.expr(right);
                self.patch(jump);
            }
            ExprKind::Or(left, right) => {
                self.expr(left);
                let jump = self.emit(Op::JumpIfTrueOrPop(0), span);
                self.expr(right);
                self.patch(jump);
            }
            ExprKind::IfElse {
                cond,
                then,
                otherwise,
            } => {
                let skip = self.false_jumps(cond);
                self.expr(then);
                let end = self.emit(Op::Jump(0), span);
                for jump in skip {
                    self.patch(jump);
                }
                self.expr(otherwise);
                self.patch(end);
            }
            ExprKind::Attr { object, name } => {
                self.expr(object);
                let n = self.name(&name.name);
                self.emit(Op::GetAttr(n), name.span);
            }
            ExprKind::Index { object, index } => {
                self.expr(object);
                self.expr(index);
                self.emit(Op::GetIndex, span);
            }
            ExprKind::Slice {
                object,
                lower,
                upper,
                step,
            } => {
                self.expr(object);
                for part in [lower, upper, step] {
                    match part {
                        Some(e) => self.expr(e),
                        None => {
                            self.emit(Op::Nil, span);
                        }
                    }
                }
                self.emit(Op::Slice, span);
            }
            ExprKind::Call { callee, args } => self.call(callee, args, span),
            ExprKind::Lambda(def) => self.closure(def),
            ExprKind::Try(inner) => {
                self.expr(inner);
                self.emit(Op::Try, span);
            }
            ExprKind::Spawn(inner) => match &inner.kind {
                ExprKind::Call { callee, args } if args.iter().all(|a| a.name.is_none()) => {
                    self.expr(callee);
                    args.iter().for_each(|a| self.expr(&a.value));
                    self.emit(Op::Spawn(args.len() as u32), span);
                }
                _ => {
                    // Keyword arguments (or a non-call, rejected by the resolver): wrap in a thunk.
                    self.defer_thunk(inner, inner.span.start, inner.span);
                    self.emit(Op::Spawn(0), span);
                }
            },
            ExprKind::ListComp { element, clauses } => {
                self.emit(Op::BuildList(0), span);
                self.comprehension(clauses, 0, &mut |b, depth| {
                    b.expr(element);
                    b.emit(Op::ListAppend(depth), span);
                });
            }
            ExprKind::SetComp { element, clauses } => {
                self.emit(Op::BuildSet(0), span);
                self.comprehension(clauses, 0, &mut |b, depth| {
                    b.expr(element);
                    b.emit(Op::SetAdd(depth), span);
                });
            }
            ExprKind::DictComp {
                key,
                value,
                clauses,
            } => {
                self.emit(Op::BuildDict(0), span);
                self.comprehension(clauses, 0, &mut |b, depth| {
                    b.expr(key);
                    b.expr(value);
                    b.emit(Op::DictInsert(depth), span);
                });
            }
        }
    }

    fn int(&mut self, n: i64, span: Span) {
        match i32::try_from(n) {
            Ok(small) => {
                self.emit(Op::SmallInt(small), span);
            }
            Err(_) => {
                let k = self.constant(Constant::Int(n));
                self.emit(Op::Const(k), span);
            }
        }
    }

    fn string(&mut self, s: &str, span: Span) {
        let k = self.constant(Constant::Str(s.into()));
        self.emit(Op::Const(k), span);
    }

    /// `a < b < c` evaluates `b` once: it is kept in a temporary between the two comparisons.
    fn compare(&mut self, first: &Expr, rest: &[(CmpOp, Expr)], span: Span) {
        self.expr(first);
        let mut exits = Vec::new();
        for (i, (op, right)) in rest.iter().enumerate() {
            self.expr(right);
            let last = i + 1 == rest.len();
            if last {
                self.emit(compare_op(*op), span);
            } else {
                let keep = self.temp();
                self.emit(Op::Dup, right.span);
                self.emit(Op::StoreLocal(keep), right.span);
                self.emit(compare_op(*op), span);
                exits.push(self.emit(Op::JumpIfFalseOrPop(0), span));
                self.emit(Op::LoadLocal(keep), right.span);
            }
        }
        for exit in exits {
            self.patch(exit);
        }
    }

    fn call(&mut self, callee: &Expr, args: &[Arg], span: Span) {
        if args.iter().any(|a| a.spread.is_some()) {
            self.spread_call(callee, args, span);
            return;
        }
        let keywords: Vec<&Ident> = args.iter().filter_map(|a| a.name.as_ref()).collect();
        if keywords.is_empty() {
            if let ExprKind::Attr { object, name } = &callee.kind {
                if args.len() <= u16::MAX as usize {
                    self.expr(object);
                    args.iter().for_each(|a| self.expr(&a.value));
                    let n = self.name(&name.name);
                    self.emit(Op::CallMethod(n, args.len() as u16), span);
                    return;
                }
            }
        }
        if keywords.is_empty() && args.len() <= u16::MAX as usize {
            // A call of a global or plain local needs no callee slot on the stack. Reading the
            // callee after the arguments is unobservable: argument expressions cannot assign.
            let direct = match &callee.kind {
                ExprKind::Name(ident) => match self.name_ref(ident) {
                    Some(NameRef::Global(slot)) => Some(Op::CallGlobal(slot, args.len() as u16)),
                    Some(NameRef::Local(slot))
                        if !self.cells.contains(&slot) && slot <= u16::MAX as u32 =>
                    {
                        Some(Op::CallLocal(slot as u16, args.len() as u16))
                    }
                    _ => None,
                },
                _ => None,
            };
            if let Some(op) = direct {
                args.iter().for_each(|a| self.expr(&a.value));
                self.emit(op, span);
                return;
            }
        }
        self.expr(callee);
        args.iter().for_each(|a| self.expr(&a.value));
        if keywords.is_empty() {
            self.emit(Op::Call(args.len() as u32), span);
        } else {
            let names = keywords.iter().map(|k| k.name.as_str().into()).collect();
            let k = self.constant(Constant::Names(names));
            self.emit(Op::CallKw(args.len() as u16, k), span);
        }
    }

    /// A call with `*xs` or `**d` among its arguments: the positional arguments are gathered
    /// in a list and the keyword arguments in a dict, then `CallSpread` calls with both. The
    /// positional ones are evaluated first, then the keyword ones, each group in order.
    fn spread_call(&mut self, callee: &Expr, args: &[Arg], span: Span) {
        self.expr(callee);
        self.emit(Op::BuildList(0), span);
        for arg in args {
            match (&arg.name, arg.spread) {
                (None, None) => {
                    self.expr(&arg.value);
                    self.emit(Op::ListAppend(0), arg.span);
                }
                (None, Some(Spread::Positional)) => {
                    self.expr(&arg.value);
                    self.emit(Op::ListExtend, arg.span);
                }
                _ => {}
            }
        }
        self.emit(Op::BuildDict(0), span);
        for arg in args {
            match (&arg.name, arg.spread) {
                (Some(name), _) => {
                    let k = self.constant(Constant::Str(name.name.as_str().into()));
                    self.emit(Op::Const(k), name.span);
                    self.expr(&arg.value);
                    self.emit(Op::BuildDict(1), arg.span);
                    self.emit(Op::MergeKeywords, arg.span);
                }
                (None, Some(Spread::Keywords)) => {
                    self.expr(&arg.value);
                    self.emit(Op::MergeKeywords, arg.span);
                }
                _ => {}
            }
        }
        self.emit(Op::CallSpread, span);
    }

    /// Emits nested loops for comprehension clauses; `body` produces one element. `depth` counts
    /// the iterators on the stack above the result collection.
    fn comprehension(
        &mut self,
        clauses: &[CompClause],
        depth: u32,
        body: &mut dyn FnMut(&mut Self, u32),
    ) {
        let Some((clause, rest)) = clauses.split_first() else {
            body(self, depth);
            return;
        };
        self.expr(&clause.iter);
        self.emit(Op::GetIter, clause.iter.span);
        let start = self.here();
        let exit = self.emit(Op::ForIter(0), clause.iter.span);
        self.store_target(&clause.target);
        let mut skips = Vec::new();
        for cond in &clause.conditions {
            skips.extend(self.false_jumps(cond));
        }
        self.comprehension(rest, depth + 1, body);
        for skip in skips {
            self.patch_to(skip, start as u32);
        }
        self.emit(Op::Jump(start as u32), clause.iter.span);
        self.patch(exit);
        self.emit(Op::Pop, clause.iter.span);
    }
}
