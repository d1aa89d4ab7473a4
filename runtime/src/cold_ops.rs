//! The general form of every instruction, out of line.
//!
//! The dispatch loop in `interpreter.rs` handles the common cases of hot instructions inline
//! (ints, locals, record fields, calls of script functions) and sends everything else here. Keeping
//! this code out of the loop keeps the loop small enough for its state (instruction pointer, frame
//! base, code) to stay in registers. Every instruction except jumps and returns has a complete
//! implementation here, so a fast path may always give up and fall back to it.

use std::rc::Rc;

use cn_compiler::bytecode::{Capture, Cmp, Op};
use cn_compiler::syntax::ast::BinOp;

use crate::dict::{new_dict, Key};
use crate::fault::Fault;
use crate::fiber::{Cleanup, CleanupAction, Fiber};
use crate::object::{CaptureCell, Closure, Code};
use crate::value::Value;
use crate::vm::Vm;
use crate::{format, items, iter, ops};

mod patterns;

/// What the dispatch loop does after a cold instruction.
pub(crate) enum Flow {
    /// Go on with the next instruction.
    Next,
    /// The current frame changed (a call pushed one): reload the loop's frame state.
    Reload,
    /// Return this value from the current frame (`?` on an `Err`).
    Return(Value),
}

/// The fault for reading a variable before any assignment to it.
fn unassigned(name: Option<&Rc<str>>) -> Fault {
    match name {
        Some(name) => Fault::new(format!(
            "local variable '{name}' is used before it is assigned"
        )),
        None => Fault::new("a variable is used before it is assigned"),
    }
}

fn flow(pushed_frame: bool) -> Flow {
    if pushed_frame {
        Flow::Reload
    } else {
        Flow::Next
    }
}

#[inline]
fn pop(stack: &mut Vec<Value>) -> Value {
    stack.pop().unwrap_or_default()
}

fn arithmetic(op: Op) -> Option<BinOp> {
    Some(match op {
        Op::Add | Op::AddInt(_) => BinOp::Add,
        Op::Sub | Op::SubInt(_) => BinOp::Sub,
        Op::Mul | Op::MulInt(_) => BinOp::Mul,
        Op::Div => BinOp::Div,
        Op::FloorDiv => BinOp::FloorDiv,
        Op::Mod | Op::ModInt(_) => BinOp::Mod,
        Op::Pow => BinOp::Pow,
        Op::BitAnd => BinOp::BitAnd,
        Op::BitOr => BinOp::BitOr,
        Op::BitXor => BinOp::BitXor,
        Op::Shl => BinOp::Shl,
        Op::Shr => BinOp::Shr,
        _ => return None,
    })
}

impl Vm {
    /// Executes `op` in its general form. The instruction pointer has been saved in the frame.
    #[inline(never)]
    pub(crate) fn cold_op(
        &mut self,
        fiber: &mut Fiber,
        code: &Code,
        base: usize,
        op: Op,
    ) -> Result<Flow, Fault> {
        let stack = &mut fiber.stack;
        match op {
            Op::Const(k) => stack.push(code.consts[k as usize].clone()),
            Op::SmallInt(n) => stack.push(Value::Int(n as i64)),
            Op::Nil => stack.push(Value::Nil),
            Op::True => stack.push(Value::Bool(true)),
            Op::False => stack.push(Value::Bool(false)),
            Op::LoadLocal(n) => {
                let v = stack[base + n as usize].clone();
                if let Value::Undefined = v {
                    return Err(unassigned(code.proto.local_names.get(n as usize)));
                }
                stack.push(v);
            }
            Op::LoadLocal2(a, b) => {
                for n in [a, b] {
                    let v = fiber.stack[base + n as usize].clone();
                    if let Value::Undefined = v {
                        return Err(unassigned(code.proto.local_names.get(n as usize)));
                    }
                    fiber.stack.push(v);
                }
            }
            Op::LoadLocalAttr(slot, n) => {
                let object = stack[base + slot as usize].clone();
                if let Value::Undefined = object {
                    return Err(unassigned(code.proto.local_names.get(slot as usize)));
                }
                let v = self.get_attr(&object, code.names[n as usize])?;
                fiber.stack.push(v);
            }
            Op::StoreLocal(n) => {
                let v = pop(stack);
                stack[base + n as usize] = v;
            }
            Op::LoadGlobal(n) => {
                let v = &self.globals[n as usize];
                if let Value::Undefined = v {
                    let name = self
                        .global_names
                        .get(n as usize)
                        .cloned()
                        .unwrap_or_else(|| "?".into());
                    return Err(Fault::new(format!("'{name}' is used before it is defined")));
                }
                stack.push(v.clone());
            }
            Op::StoreGlobal(n) => {
                let v = pop(stack);
                self.globals[n as usize] = v;
            }
            Op::LoadBuiltin(n) => stack.push(self.builtins[n as usize].clone()),
            Op::LoadCell(n) => {
                let v = match &stack[base + n as usize] {
                    Value::Cell(cell) => cell.borrow().clone(),
                    other => other.clone(),
                };
                if let Value::Undefined = v {
                    return Err(unassigned(code.proto.local_names.get(n as usize)));
                }
                stack.push(v);
            }
            Op::StoreCell(n) => {
                let v = pop(stack);
                match &stack[base + n as usize] {
                    Value::Cell(cell) => *cell.borrow_mut() = v,
                    _ => stack[base + n as usize] = v,
                }
            }
            Op::MakeCell(n) => {
                let slot = &mut stack[base + n as usize];
                let v = std::mem::take(slot);
                *slot = Value::Cell(CaptureCell::new_rc(v));
            }
            Op::LoadCapture(n) | Op::StoreCapture(n) => {
                let closure = self.current_closure(fiber)?;
                let cell = &closure.captures[n as usize];
                if let Op::LoadCapture(_) = op {
                    let v = cell.borrow().clone();
                    if let Value::Undefined = v {
                        return Err(unassigned(code.proto.capture_names.get(n as usize)));
                    }
                    fiber.stack.push(v);
                } else {
                    *cell.borrow_mut() = pop(&mut fiber.stack);
                }
            }
            Op::Pop => {
                stack.pop();
            }
            Op::Dup => {
                let v = stack.last().cloned().unwrap_or_default();
                stack.push(v);
            }
            Op::Swap => {
                let n = stack.len();
                stack.swap(n - 1, n - 2);
            }
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Div
            | Op::FloorDiv
            | Op::Mod
            | Op::Pow
            | Op::BitAnd
            | Op::BitOr
            | Op::BitXor
            | Op::Shl
            | Op::Shr => {
                let b = pop(stack);
                let a = pop(stack);
                let op = arithmetic(op).unwrap_or(BinOp::Add);
                stack.push(ops::binary(op, &a, &b)?);
            }
            Op::AddInPlace => {
                let b = pop(stack);
                let a = pop(stack);
                if let (Value::List(target), Value::List(items)) = (&a, &b) {
                    let items = items.borrow().clone();
                    target.borrow_mut().extend(items);
                    stack.push(a);
                } else {
                    stack.push(ops::binary(BinOp::Add, &a, &b)?);
                }
            }
            Op::AddInt(k) | Op::SubInt(k) | Op::MulInt(k) | Op::ModInt(k) => {
                let a = pop(stack);
                let op = arithmetic(op).unwrap_or(BinOp::Add);
                stack.push(ops::binary(op, &a, &Value::Int(k as i64))?);
            }
            Op::LocalAddInt(slot, k) | Op::LocalSubInt(slot, k) => {
                let op = if let Op::LocalAddInt(..) = op {
                    BinOp::Add
                } else {
                    BinOp::Sub
                };
                let v = ops::binary(op, &stack[base + slot as usize], &Value::Int(k as i64))?;
                stack.push(v);
            }
            Op::AddLocalConst(slot, k) => {
                let index = base + slot as usize;
                let sum = ops::binary(BinOp::Add, &stack[index], &code.consts[k as usize])?;
                stack[index] = sum;
            }
            Op::Neg => {
                let v = pop(stack);
                stack.push(ops::negate(&v)?);
            }
            Op::Pos => {
                let v = pop(stack);
                stack.push(ops::plus(&v)?);
            }
            Op::Invert => {
                let v = pop(stack);
                stack.push(ops::invert(&v)?);
            }
            Op::Not => {
                let v = pop(stack);
                stack.push(Value::Bool(!v.truthy()));
            }
            Op::Eq | Op::Ne => {
                let b = pop(stack);
                let a = pop(stack);
                stack.push(Value::Bool(ops::equal(&a, &b)? == (op == Op::Eq)));
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                let b = pop(stack);
                let a = pop(stack);
                let order = ops::compare(&a, &b)?;
                let result = match op {
                    Op::Lt => order.is_lt(),
                    Op::Le => order.is_le(),
                    Op::Gt => order.is_gt(),
                    _ => order.is_ge(),
                };
                stack.push(Value::Bool(result));
            }
            Op::Is | Op::IsNot => {
                let b = pop(stack);
                let a = pop(stack);
                stack.push(Value::Bool(a.same(&b) == (op == Op::Is)));
            }
            Op::In | Op::NotIn => {
                let haystack = pop(stack);
                let needle = pop(stack);
                let found = ops::contains(&haystack, &needle)?;
                stack.push(Value::Bool(found == (op == Op::In)));
            }
            Op::BuildList(n) => {
                let items = stack.split_off(stack.len() - n as usize);
                stack.push(Value::list(items));
            }
            Op::BuildTuple(n) => {
                let items = stack.split_off(stack.len() - n as usize);
                stack.push(Value::tuple(items));
            }
            Op::BuildDict(n) => {
                let items = stack.split_off(stack.len() - 2 * n as usize);
                let mut dict = new_dict();
                let mut pairs = items.into_iter();
                while let (Some(k), Some(v)) = (pairs.next(), pairs.next()) {
                    dict.insert(Key::new(k)?, v);
                }
                stack.push(Value::dict(dict));
            }
            Op::BuildSet(n) => {
                let items = stack.split_off(stack.len() - n as usize);
                stack.push(Value::set(crate::set::items_of(items)?));
            }
            Op::SetAdd(depth) => {
                let member = crate::set::member(pop(stack))?;
                let at = stack.len() - 1 - depth as usize;
                if let Value::Set(set) = &stack[at] {
                    set.borrow_mut().insert(member);
                }
            }
            Op::ListAppend(depth) => {
                let v = pop(stack);
                let at = stack.len() - 1 - depth as usize;
                if let Value::List(list) = &stack[at] {
                    list.borrow_mut().push(v);
                }
            }
            Op::ListExtend => self.extend_arguments(fiber)?,
            Op::MergeKeywords => self.merge_keywords(fiber)?,
            Op::CallSpread => return Ok(flow(self.call_spread(fiber)?)),
            Op::DictInsert(depth) => {
                let v = pop(stack);
                let key = Key::new(pop(stack))?;
                let at = stack.len() - 1 - depth as usize;
                if let Value::Dict(dict) = &stack[at] {
                    dict.borrow_mut().insert(key, v);
                }
            }
            Op::BuildString(n) => {
                let start = stack.len() - n as usize;
                let mut s = String::with_capacity(32);
                if stack[start..].iter().any(|p| matches!(p, Value::Record(_))) {
                    // A record may print through its own `str` method, a script call.
                    let parts: Vec<Value> = stack[start..].to_vec();
                    for part in &parts {
                        self.display_into(&mut s, part)?;
                    }
                } else {
                    for part in &stack[start..] {
                        format::display_into(&mut s, part);
                    }
                }
                stack.truncate(start);
                stack.push(Value::str(s));
            }
            Op::Format(k) => {
                let v = pop(stack);
                let formatted = match &code.consts[k as usize] {
                    Value::Str(spec) => Value::str(format::format_spec(&v, spec)?),
                    _ => Value::str(self.display(&v)?),
                };
                stack.push(formatted);
            }
            Op::Repr => {
                let v = pop(stack);
                stack.push(Value::str(format::repr(&v)));
            }
            Op::Unpack(n) => {
                let v = pop(stack);
                let values = iter::collect(&v)?;
                if values.len() != n as usize {
                    return Err(Fault::new(format!(
                        "cannot unpack {} values into {n} names",
                        values.len()
                    )));
                }
                stack.extend(values.into_iter().rev());
            }
            Op::GetAttr(n) => {
                let object = pop(stack);
                let v = self.get_attr(&object, code.names[n as usize])?;
                fiber.stack.push(v);
            }
            Op::SetAttr(n) => {
                let object = pop(stack);
                let v = pop(stack);
                self.set_attr(&object, code.names[n as usize], v)?;
            }
            Op::GetIndex => {
                let index = pop(stack);
                let object = pop(stack);
                let v = match &object {
                    Value::Native(_) | Value::Function(_) => self.specialize(&object, &index)?,
                    _ => items::get(&object, &index)?,
                };
                fiber.stack.push(v);
            }
            Op::SetIndex => {
                let index = pop(stack);
                let object = pop(stack);
                let v = pop(stack);
                items::set(&object, &index, v)?;
            }
            Op::Slice => {
                let step = pop(stack);
                let hi = pop(stack);
                let lo = pop(stack);
                let object = pop(stack);
                stack.push(items::slice(&object, &lo, &hi, &step)?);
            }
            Op::Call(argc) => {
                let ret = stack.len() - argc as usize - 1;
                return Ok(flow(self.call_general(fiber, ret, argc as usize, &[])?));
            }
            Op::CallGlobal(_, argc) | Op::CallLocal(_, argc) => {
                // The general path wants the callee below the arguments.
                let callee = match op {
                    Op::CallGlobal(g, _) => {
                        let v = self.globals[g as usize].clone();
                        if let Value::Undefined = v {
                            let name = self
                                .global_names
                                .get(g as usize)
                                .cloned()
                                .unwrap_or_else(|| "?".into());
                            return Err(Fault::new(format!(
                                "'{name}' is used before it is defined"
                            )));
                        }
                        v
                    }
                    Op::CallLocal(slot, _) => {
                        let v = stack[base + slot as usize].clone();
                        if let Value::Undefined = v {
                            return Err(unassigned(code.proto.local_names.get(slot as usize)));
                        }
                        v
                    }
                    _ => Value::Nil,
                };
                let ret = stack.len() - argc as usize;
                stack.insert(ret, callee);
                return Ok(flow(self.call_general(fiber, ret, argc as usize, &[])?));
            }
            Op::CallKw(argc, k) => {
                let keywords = code.keyword_lists[k as usize].clone();
                let positional = argc as usize - keywords.len();
                let ret = stack.len() - argc as usize - 1;
                return Ok(flow(self.call_general(fiber, ret, positional, &keywords)?));
            }
            Op::CallMethod(n, argc) => {
                let receiver = stack.len() - argc as usize - 1;
                let pushed =
                    self.call_method(fiber, receiver, code.names[n as usize], argc as usize)?;
                return Ok(flow(pushed));
            }
            Op::MakeClosure(k) => self.make_closure(fiber, code, base, k)?,
            Op::GetIter => {
                let v = pop(stack);
                if let Value::Iterator(_) = v {
                    // Looping over an iterator continues it; what a `break` leaves stays there.
                    stack.push(v);
                } else {
                    let it = iter::iterate(&v)?;
                    stack.push(iter::iterator_value(it));
                }
            }
            Op::ForIter(_) | Op::ForIterLocal(..) | Op::ForRange(..) => {
                return Err(Fault::new(
                    "internal error: loop instruction on the slow path",
                ));
            }
            Op::PrepareRange(slot) => {
                let end = pop(stack);
                let start = pop(stack);
                if !matches!((&start, &end), (Value::Int(_), Value::Int(_))) {
                    return Err(Fault::new(format!(
                        "range() arguments must be int, got {} and {}",
                        start.type_name(),
                        end.type_name()
                    )));
                }
                stack[base + slot as usize] = start;
                stack[base + slot as usize + 1] = end;
            }
            Op::Try => {
                let v = pop(stack);
                match &v {
                    Value::Variant(variant) if variant.is_ok() => {
                        stack.push(variant.payload.first().cloned().unwrap_or_default())
                    }
                    Value::Variant(variant) if variant.is_err() => return Ok(Flow::Return(v)),
                    other => {
                        return Err(Fault::new(format!(
                            "`?` needs a Result (Ok or Err), got {}",
                            other.type_name()
                        )))
                    }
                }
            }
            Op::MatchVariant(..) | Op::MatchEnum(_) | Op::VariantField(_) | Op::MatchSeq(..) => {
                patterns::step(op, code, stack)
            }
            Op::MatchFailed => {
                let v = pop(stack);
                return Err(Fault::new(format!("no case matched {}", format::repr(&v))));
            }
            Op::AssertFailed(k, sides) => {
                let message = pop(stack);
                let sides = (sides == 1).then(|| {
                    let right = pop(stack);
                    (pop(stack), right)
                });
                return Err(assertion_failed(&code.consts[k as usize], message, sides));
            }
            Op::Defer => {
                let f = pop(stack);
                let depth = fiber.frames.len();
                fiber.cleanups.push(Cleanup {
                    depth,
                    action: CleanupAction::Defer(f),
                });
            }
            Op::EnterBlock => {
                let object = pop(stack);
                let pushed = self.enter_block(fiber, object)?;
                return Ok(flow(pushed));
            }
            Op::ExitBlock | Op::ExitConcurrent => {
                let depth = fiber.frames.len();
                if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
                    if let Some(cleanup) = fiber.cleanups.pop() {
                        let pushed = self.start_cleanup(fiber, cleanup.action, None)?;
                        return Ok(flow(pushed));
                    }
                }
            }
            Op::MakeType(k) => {
                let v = self.make_type(fiber, code, k)?;
                fiber.stack.push(v);
            }
            Op::MakeEnum(k) => {
                let v = self.make_enum(code, k)?;
                stack.push(v);
            }
            Op::Import(k) => {
                let Value::Str(name) = &code.consts[k as usize] else {
                    return Err(Fault::new("internal error: import name is not a string"));
                };
                let module = self.import(name, &code.file)?;
                fiber.stack.push(module);
            }
            Op::Spawn(argc) => {
                let handle = self.spawn_task(fiber, argc as usize)?;
                fiber.stack.push(handle);
            }
            Op::EnterConcurrent => self.enter_concurrent(fiber)?,
            Op::Return
            | Op::Jump(_)
            | Op::JumpIfFalse(_)
            | Op::JumpIfTrue(_)
            | Op::JumpIfFalseOrPop(_)
            | Op::JumpIfTrueOrPop(_)
            | Op::JumpUnless(..)
            | Op::JumpIf(..)
            | Op::JumpUnlessLocalLtInt(..)
            | Op::JumpIfNil(_)
            | Op::JumpUnlessNil(_) => {
                return Err(Fault::new(
                    "internal error: control-flow instruction on the slow path",
                ));
            }
        }
        Ok(Flow::Next)
    }

    fn current_closure(&self, fiber: &Fiber) -> Result<Rc<Closure>, Fault> {
        fiber
            .frames
            .last()
            .map(|f| f.closure.clone())
            .ok_or_else(|| Fault::new("internal error: no frame"))
    }

    /// Builds a closure from function constant `k`, capturing cells of the current frame.
    fn make_closure(
        &mut self,
        fiber: &mut Fiber,
        code: &Code,
        base: usize,
        k: u32,
    ) -> Result<(), Fault> {
        let Value::Function(template) = &code.consts[k as usize] else {
            return Err(Fault::new(
                "internal error: closure constant is not a function",
            ));
        };
        let current = self.current_closure(fiber)?;
        let inner = template.code.clone();
        let defaults = fiber
            .stack
            .split_off(fiber.stack.len() - inner.proto.defaults as usize);
        let captures = inner
            .proto
            .captures
            .iter()
            .map(|capture| match capture {
                Capture::Local(slot) => match &fiber.stack[base + *slot as usize] {
                    Value::Cell(cell) => cell.clone(),
                    other => CaptureCell::new_rc(other.clone()),
                },
                Capture::Outer(i) => current.captures[*i as usize].clone(),
            })
            .collect();
        let made = Closure::new_rc(inner, captures, defaults.into_boxed_slice());
        fiber.stack.push(Value::Function(made));
        Ok(())
    }

    /// A comparison of non-int operands for a fused compare-and-branch (pops both).
    #[inline(never)]
    pub(crate) fn compare_slow(&mut self, fiber: &mut Fiber, cmp: Cmp) -> Result<bool, Fault> {
        let b = fiber.stack.pop().unwrap_or_default();
        let a = fiber.stack.pop().unwrap_or_default();
        Ok(match cmp {
            Cmp::Eq => ops::equal(&a, &b)?,
            Cmp::Ne => !ops::equal(&a, &b)?,
            Cmp::Lt => ops::compare(&a, &b)?.is_lt(),
            Cmp::Le => ops::compare(&a, &b)?.is_le(),
            Cmp::Gt => ops::compare(&a, &b)?.is_gt(),
            Cmp::Ge => ops::compare(&a, &b)?.is_ge(),
        })
    }
}

/// The longest side an assertion report shows in full: a failed comparison of two large lists
/// should not print megabytes.
const SIDE_LIMIT: usize = 400;

/// The fault of a failed `assert`: the condition's text, or the message if the script gave one
/// (then the condition follows it), and for a comparison what each side was.
fn assertion_failed(text: &Value, message: Value, sides: Option<(Value, Value)>) -> Fault {
    let text = match text {
        Value::Str(s) => s.to_string(),
        _ => String::new(),
    };
    let mut fault = match message {
        Value::Nil => Fault::new(format!("assertion failed: {text}")),
        Value::Str(m) => Fault::new(format!("assertion failed: {m} ({text})")),
        other => Fault::new(format!(
            "assertion failed: {} ({text})",
            format::repr(&other)
        )),
    };
    if let Some((left, right)) = sides {
        fault.notes.push(format!("left:  {}", side(&left)));
        fault.notes.push(format!("right: {}", side(&right)));
    }
    fault
}

/// A side's `repr`, cut at [`SIDE_LIMIT`] characters.
fn side(value: &Value) -> String {
    let text = format::repr(value);
    match text.char_indices().nth(SIDE_LIMIT) {
        Some((at, _)) => format!(
            "{}... ({} more characters)",
            &text[..at],
            text[at..].chars().count()
        ),
        None => text,
    }
}
