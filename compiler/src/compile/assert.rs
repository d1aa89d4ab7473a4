//! Code generation for `assert cond[, message]`.
//!
//! A true condition costs what an `if` costs. A false one reaches `AssertFailed`, which faults
//! with the condition's source text. When the condition is one comparison (`total == 3`,
//! `"id" in body`) both operands are kept in hidden locals, so the report can show what each
//! side was, as pytest's does, without evaluating either twice.

use super::codegen::FnBuilder;
use super::codegen_expr::compare_op;
use crate::bytecode::{Constant, Op};
use crate::syntax::ast::*;

impl FnBuilder<'_> {
    pub(super) fn assert_stmt(
        &mut self,
        cond: &Expr,
        message: Option<&Expr>,
        text: &str,
        span: Span,
    ) {
        let text = self.constant(Constant::Str(text.into()));
        match &cond.kind {
            ExprKind::Compare { first, rest } if rest.len() == 1 => {
                let (op, right) = &rest[0];
                let (left_slot, right_slot) = (self.temp(), self.temp());
                self.expr(first);
                self.emit(Op::StoreLocal(left_slot), first.span);
                self.expr(right);
                self.emit(Op::StoreLocal(right_slot), right.span);
                self.emit(Op::LoadLocal(left_slot), first.span);
                self.emit(Op::LoadLocal(right_slot), right.span);
                self.emit(compare_op(*op), cond.span);
                let pass = self.emit(Op::JumpIfTrue(0), cond.span);
                self.emit(Op::LoadLocal(left_slot), first.span);
                self.emit(Op::LoadLocal(right_slot), right.span);
                self.assert_message(message, span);
                self.emit(Op::AssertFailed(text, 1), span);
                self.patch(pass);
            }
            _ => {
                let passes = self.true_jumps(cond);
                self.assert_message(message, span);
                self.emit(Op::AssertFailed(text, 0), span);
                self.patch_all(passes);
            }
        }
    }

    /// Pushes the message (evaluated only when the assertion failed), or nil.
    fn assert_message(&mut self, message: Option<&Expr>, span: Span) {
        match message {
            Some(m) => self.expr(m),
            None => {
                self.emit(Op::Nil, span);
            }
        }
    }
}
