//! Code generation for `match`: each arm's pattern becomes a sequence of tests on a hidden local,
//! each failed test jumping to the next arm.

use super::codegen::FnBuilder;
use crate::bytecode::Op;
use crate::syntax::ast::*;

impl FnBuilder<'_> {
    pub fn match_stmt(&mut self, subject: &Expr, cases: &[MatchCase], span: Span) {
        self.expr(subject);
        let value = self.temp();
        self.emit(Op::StoreLocal(value), subject.span);
        let mut ends = Vec::new();
        for case in cases {
            let mut fails = Vec::new();
            self.pattern(&case.pattern, value, &mut fails);
            if let Some(guard) = &case.guard {
                fails.extend(self.false_jumps(guard));
            }
            self.block(&case.body);
            ends.push(self.emit(Op::Jump(0), case.span));
            for fail in fails {
                self.patch(fail);
            }
        }
        self.emit(Op::LoadLocal(value), subject.span);
        self.emit(Op::MatchFailed, span);
        for end in ends {
            self.patch(end);
        }
    }

    /// Tests the value in local `value` against `pattern`, binding names on success; every jump
    /// taken on failure is added to `fails`.
    fn pattern(&mut self, pattern: &Pattern, value: u32, fails: &mut Vec<usize>) {
        let span = pattern.span;
        match &pattern.kind {
            PatternKind::Wildcard => {}
            PatternKind::Bind(ident) => {
                self.emit(Op::LoadLocal(value), span);
                self.store_name(ident);
            }
            PatternKind::Literal(literal) => {
                self.emit(Op::LoadLocal(value), span);
                self.expr(literal);
                self.emit(Op::Eq, span);
                fails.push(self.emit(Op::JumpIfFalse(0), span));
            }
            PatternKind::Variant {
                path,
                args,
                has_parens,
            } => {
                let name = path.last().map_or("", |p| p.name.as_str());
                let n = self.name(name);
                let arity = if *has_parens {
                    args.len().min(u16::MAX as usize - 1) as u16
                } else {
                    u16::MAX
                };
                if let [.., qualifier, _] = path.as_slice() {
                    // `Http.Failed(code)` must not match `Db.Failed(code)`.
                    let q = self.name(&qualifier.name);
                    self.emit(Op::LoadLocal(value), span);
                    self.emit(Op::MatchEnum(q), span);
                    fails.push(self.emit(Op::JumpIfFalse(0), span));
                }
                self.emit(Op::LoadLocal(value), span);
                self.emit(Op::MatchVariant(n, arity), span);
                fails.push(self.emit(Op::JumpIfFalse(0), span));
                for (i, arg) in args.iter().enumerate() {
                    if matches!(arg.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    let field = self.temp();
                    self.emit(Op::LoadLocal(value), arg.span);
                    self.emit(Op::VariantField(i as u32), arg.span);
                    self.emit(Op::StoreLocal(field), arg.span);
                    self.pattern(arg, field, fails);
                }
            }
            PatternKind::List(items) | PatternKind::Tuple(items) => {
                let kind = u16::from(matches!(pattern.kind, PatternKind::Tuple(_)));
                self.emit(Op::LoadLocal(value), span);
                self.emit(Op::MatchSeq(kind, items.len() as u32), span);
                fails.push(self.emit(Op::JumpIfFalse(0), span));
                for (i, item) in items.iter().enumerate() {
                    if matches!(item.kind, PatternKind::Wildcard) {
                        continue;
                    }
                    let element = self.temp();
                    self.emit(Op::LoadLocal(value), item.span);
                    self.emit(Op::SmallInt(i as i32), item.span);
                    self.emit(Op::GetIndex, item.span);
                    self.emit(Op::StoreLocal(element), item.span);
                    self.pattern(item, element, fails);
                }
            }
            PatternKind::Or(alternatives) => {
                let mut successes = Vec::new();
                for (i, alternative) in alternatives.iter().enumerate() {
                    if i + 1 == alternatives.len() {
                        self.pattern(alternative, value, fails);
                    } else {
                        let mut next = Vec::new();
                        self.pattern(alternative, value, &mut next);
                        successes.push(self.emit(Op::Jump(0), alternative.span));
                        for jump in next {
                            self.patch(jump);
                        }
                    }
                }
                for jump in successes {
                    self.patch(jump);
                }
            }
        }
    }
}
