//! The dispatch loop: one `match` over the instruction set, as in Lua's `luaV_execute`.
//!
//! Script calls push frames and stay in the loop. Faults leave the loop with [`Stop::Faulted`];
//! [`Vm::run`] then unwinds frame by frame, running `defer`s and block exits (which may be script
//! code, so unwinding can re-enter the loop with a cleanup frame on top). The hot paths (int
//! arithmetic, locals, calls of script functions with exact arity) are inline; everything else
//! calls out to `ops`, `items`, `call` and `attr`.

use std::rc::Rc;

use cn_compiler::bytecode::{Capture, Cmp, Op};
use cn_compiler::syntax::ast::BinOp;

use crate::fault::Fault;
use crate::fiber::{Cleanup, CleanupAction, Fiber, Frame, FrameKind, MAX_FRAMES};
use crate::object::{Closure, Code, Iter, Variant};
use crate::value::Value;
use crate::vm::Vm;
use crate::{format, items, iter, ops};

/// Why the dispatch loop stopped.
pub(crate) enum Stop {
    /// The frame at the stop depth returned this value.
    Returned(Value),
    /// An instruction faulted.
    Faulted(Fault),
    /// A cleanup frame finished while a fault was being unwound: continue unwinding.
    CleanupDone,
}

/// What finishing a return did.
enum ReturnOutcome {
    /// The frame at the stop depth returned.
    Finished(Value),
    /// Control moved to another frame (the caller, or a cleanup frame).
    Switched,
    /// Go back to the unwinder.
    ResumeUnwind,
}

#[inline(always)]
fn pop(stack: &mut Vec<Value>) -> Value {
    stack.pop().unwrap_or_default()
}

impl Vm {
    /// Runs `fiber` until its frame count drops to `stop`, returning that frame's result.
    pub(crate) fn run(&mut self, fiber: &mut Fiber, stop: usize) -> Result<Value, Fault> {
        let mut outcome = self.dispatch(fiber, stop);
        loop {
            let fault = match outcome {
                Stop::Returned(value) => return Ok(value),
                Stop::Faulted(fault) => Some(fault),
                Stop::CleanupDone => None,
            };
            self.unwind(fiber, stop, fault)?;
            outcome = self.dispatch(fiber, stop);
        }
    }

    /// Unwinds frames above `stop`, running their cleanups. Returns `Ok` when a cleanup frame was
    /// pushed (dispatch must run it), `Err` with the fault once every frame above `stop` is gone.
    fn unwind(&mut self, fiber: &mut Fiber, stop: usize, incoming: Option<Fault>) -> Result<(), Fault> {
        let mut fault = match (incoming, fiber.unwinding.take()) {
            (Some(mut new), None) => {
                let trace = fiber.trace(stop);
                new.trace.extend(trace);
                new
            }
            (Some(new), Some(mut original)) => {
                original.notes.push(format!("a cleanup faulted while unwinding: {}", new.message));
                original
            }
            (None, Some(original)) => original,
            (None, None) => Fault::new("internal error: unwinding without a fault"),
        };
        loop {
            let depth = fiber.frames.len();
            if depth <= stop {
                return Err(fault);
            }
            if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
                let cleanup = fiber.cleanups.pop().map(|c| c.action);
                if let Some(action) = cleanup {
                    match self.start_cleanup(fiber, action, Some(&fault.message)) {
                        Ok(true) => {
                            fiber.unwinding = Some(fault);
                            return Ok(());
                        }
                        Ok(false) => {}
                        Err(e) => fault.notes.push(format!("a cleanup faulted while unwinding: {}", e.message)),
                    }
                }
                continue;
            }
            if let Some(frame) = fiber.frames.pop() {
                fiber.stack.truncate(frame.ret);
            }
        }
    }

    /// Starts one cleanup: natives run to completion here (returns `false`); script code gets
    /// a cleanup frame (returns `true`).
    pub(crate) fn start_cleanup(
        &mut self,
        fiber: &mut Fiber,
        action: CleanupAction,
        error: Option<&str>,
    ) -> Result<bool, Fault> {
        let (callee, args) = match action {
            CleanupAction::Defer(f) => (f, Vec::new()),
            CleanupAction::Exit(object) => match &object {
                Value::Record(record) => match record.ty.method(crate::symbol::EXIT) {
                    Some(method) => {
                        let error = error.map_or(Value::Nil, Value::str);
                        (method.clone(), vec![object.clone(), error])
                    }
                    None => return Ok(false),
                },
                Value::Object(native) => {
                    native.inner.exit(native, self, error)?;
                    return Ok(false);
                }
                _ => return Ok(false),
            },
        };
        match &callee {
            Value::Function(closure) => {
                let ret = fiber.stack.len();
                fiber.stack.push(callee.clone());
                fiber.stack.extend(args.iter().cloned());
                self.push_frame(fiber, closure.clone(), args.len(), &[], ret, FrameKind::Cleanup)?;
                Ok(true)
            }
            other => {
                self.call_value(other, &args)?;
                Ok(false)
            }
        }
    }

    /// Finishes a return from the top frame: runs its cleanups first, then pops it.
    fn finish_return(&mut self, fiber: &mut Fiber, stop: usize, value: Value) -> Result<ReturnOutcome, Fault> {
        let depth = fiber.frames.len();
        if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
            if let Some(cleanup) = fiber.cleanups.pop() {
                if let Some(frame) = fiber.frames.last_mut() {
                    frame.pending_return = Some(value.clone());
                }
                if self.start_cleanup(fiber, cleanup.action, None)? {
                    return Ok(ReturnOutcome::Switched);
                }
                // A native cleanup ran; keep returning.
                let value = fiber.frames.last_mut().and_then(|f| f.pending_return.take()).unwrap_or(value);
                return self.finish_return(fiber, stop, value);
            }
        }
        let Some(frame) = fiber.frames.pop() else {
            return Ok(ReturnOutcome::Finished(value));
        };
        fiber.stack.truncate(frame.ret);
        match frame.kind {
            FrameKind::Call => {
                if fiber.frames.len() <= stop {
                    return Ok(ReturnOutcome::Finished(value));
                }
                fiber.stack.push(value);
                Ok(ReturnOutcome::Switched)
            }
            FrameKind::Cleanup => {
                if fiber.unwinding.is_some() {
                    return Ok(ReturnOutcome::ResumeUnwind);
                }
                // The frame below resumes what it was doing: continuing or returning.
                let pending = fiber.frames.last_mut().and_then(|f| f.pending_return.take());
                match pending {
                    Some(value) => self.finish_return(fiber, stop, value),
                    None => Ok(ReturnOutcome::Switched),
                }
            }
        }
    }

    /// The dispatch loop proper.
    pub(crate) fn dispatch(&mut self, fiber: &mut Fiber, stop: usize) -> Stop {
        let Some(frame) = fiber.frames.last() else {
            return Stop::Returned(Value::Nil);
        };
        let mut closure: Rc<Closure> = frame.closure.clone();
        let mut code: Rc<Code> = closure.code.clone();
        let mut ops: Rc<[Op]> = code.ops.clone();
        let mut ip = frame.ip;
        let mut base = frame.base;

        macro_rules! save_ip {
            () => {
                if let Some(f) = fiber.frames.last_mut() {
                    f.ip = ip;
                }
            };
        }
        macro_rules! reload {
            () => {{
                let Some(frame) = fiber.frames.last() else {
                    return Stop::Returned(Value::Nil);
                };
                closure = frame.closure.clone();
                code = closure.code.clone();
                ops = code.ops.clone();
                ip = frame.ip;
                base = frame.base;
            }};
        }
        macro_rules! fault {
            ($fault:expr) => {{
                save_ip!();
                return Stop::Faulted($fault);
            }};
        }
        macro_rules! tri {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(f) => fault!(f),
                }
            };
        }
        macro_rules! do_return {
            ($value:expr) => {{
                save_ip!();
                match self.finish_return(fiber, stop, $value) {
                    Ok(ReturnOutcome::Finished(v)) => return Stop::Returned(v),
                    Ok(ReturnOutcome::Switched) => reload!(),
                    Ok(ReturnOutcome::ResumeUnwind) => return Stop::CleanupDone,
                    Err(f) => return Stop::Faulted(f),
                }
            }};
        }
        macro_rules! binary {
            ($op:expr, $fast:expr) => {{
                let b = pop(&mut fiber.stack);
                let top = fiber.stack.len() - 1;
                let a = &mut fiber.stack[top];
                match (&*a, &b) {
                    (Value::Int(x), Value::Int(y)) => match $fast(*x, *y) {
                        Some(v) => *a = Value::Int(v),
                        None => *a = tri!(ops::int_binary($op, *x, *y)),
                    },
                    _ => *a = tri!(ops::binary($op, &*a, &b)),
                }
            }};
        }
        macro_rules! binary_int {
            ($op:expr, $k:expr, $fast:expr) => {{
                let top = fiber.stack.len() - 1;
                let a = &mut fiber.stack[top];
                match &*a {
                    Value::Int(x) => match $fast(*x, $k as i64) {
                        Some(v) => *a = Value::Int(v),
                        None => *a = tri!(ops::int_binary($op, *x, $k as i64)),
                    },
                    _ => *a = tri!(ops::binary($op, &*a, &Value::Int($k as i64))),
                }
            }};
        }
        macro_rules! compare {
            ($int:expr, $ord:expr) => {{
                let b = pop(&mut fiber.stack);
                let top = fiber.stack.len() - 1;
                let a = &mut fiber.stack[top];
                let result = match (&*a, &b) {
                    (Value::Int(x), Value::Int(y)) => $int(x, y),
                    _ => $ord(tri!(ops::compare(&*a, &b))),
                };
                *a = Value::Bool(result);
            }};
        }

        loop {
            let op = ops[ip];
            ip += 1;
            match op {
                Op::Const(k) => fiber.stack.push(code.consts[k as usize].clone()),
                Op::SmallInt(n) => fiber.stack.push(Value::Int(n as i64)),
                Op::Nil => fiber.stack.push(Value::Nil),
                Op::True => fiber.stack.push(Value::Bool(true)),
                Op::False => fiber.stack.push(Value::Bool(false)),

                Op::LoadLocal(n) => {
                    let v = match &fiber.stack[base + n as usize] {
                        Value::Int(i) => Value::Int(*i),
                        other => other.clone(),
                    };
                    fiber.stack.push(v);
                }
                Op::StoreLocal(n) => {
                    let v = pop(&mut fiber.stack);
                    fiber.stack[base + n as usize] = v;
                }
                Op::LoadGlobal(n) => {
                    let v = &self.globals[n as usize];
                    if let Value::Undefined = v {
                        let name = self.global_names.get(n as usize).cloned().unwrap_or_else(|| "?".into());
                        fault!(Fault::new(format!("'{name}' is used before it is defined")));
                    }
                    fiber.stack.push(v.clone());
                }
                Op::StoreGlobal(n) => {
                    let v = pop(&mut fiber.stack);
                    self.globals[n as usize] = v;
                }
                Op::LoadBuiltin(n) => fiber.stack.push(self.builtins[n as usize].clone()),
                Op::LoadCell(n) => {
                    let v = match &fiber.stack[base + n as usize] {
                        Value::Cell(cell) => cell.borrow().clone(),
                        other => other.clone(),
                    };
                    fiber.stack.push(v);
                }
                Op::StoreCell(n) => {
                    let v = pop(&mut fiber.stack);
                    match &fiber.stack[base + n as usize] {
                        Value::Cell(cell) => *cell.borrow_mut() = v,
                        _ => fiber.stack[base + n as usize] = v,
                    }
                }
                Op::MakeCell(n) => {
                    let slot = &mut fiber.stack[base + n as usize];
                    let v = std::mem::take(slot);
                    *slot = Value::Cell(Rc::new(std::cell::RefCell::new(v)));
                }
                Op::LoadCapture(n) => {
                    let v = closure.captures[n as usize].borrow().clone();
                    fiber.stack.push(v);
                }
                Op::StoreCapture(n) => {
                    let v = pop(&mut fiber.stack);
                    *closure.captures[n as usize].borrow_mut() = v;
                }

                Op::Pop => {
                    fiber.stack.pop();
                }
                Op::Dup => {
                    let v = fiber.stack.last().cloned().unwrap_or_default();
                    fiber.stack.push(v);
                }
                Op::Swap => {
                    let n = fiber.stack.len();
                    fiber.stack.swap(n - 1, n - 2);
                }

                Op::Add => binary!(BinOp::Add, i64::checked_add),
                Op::Sub => binary!(BinOp::Sub, i64::checked_sub),
                Op::Mul => binary!(BinOp::Mul, i64::checked_mul),
                Op::Div => binary!(BinOp::Div, |_, _| None::<i64>),
                Op::FloorDiv => binary!(BinOp::FloorDiv, |x: i64, y: i64| if y > 0 && x >= 0 { Some(x / y) } else { None }),
                Op::Mod => binary!(BinOp::Mod, |x: i64, y: i64| if y > 0 && x >= 0 { Some(x % y) } else { None }),
                Op::Pow => binary!(BinOp::Pow, |_, _| None::<i64>),
                Op::Neg => {
                    let v = pop(&mut fiber.stack);
                    fiber.stack.push(tri!(ops::negate(&v)));
                }
                Op::Pos => {
                    let v = pop(&mut fiber.stack);
                    fiber.stack.push(tri!(ops::plus(&v)));
                }
                Op::Not => {
                    let v = pop(&mut fiber.stack);
                    fiber.stack.push(Value::Bool(!v.truthy()));
                }
                Op::Eq | Op::Ne => {
                    let b = pop(&mut fiber.stack);
                    let top = fiber.stack.len() - 1;
                    let a = &mut fiber.stack[top];
                    let equal = match (&*a, &b) {
                        (Value::Int(x), Value::Int(y)) => x == y,
                        _ => ops::equal(a, &b),
                    };
                    *a = Value::Bool(equal == (op == Op::Eq));
                }
                Op::Lt => compare!(|x, y| x < y, |o: std::cmp::Ordering| o.is_lt()),
                Op::Le => compare!(|x, y| x <= y, |o: std::cmp::Ordering| o.is_le()),
                Op::Gt => compare!(|x, y| x > y, |o: std::cmp::Ordering| o.is_gt()),
                Op::Ge => compare!(|x, y| x >= y, |o: std::cmp::Ordering| o.is_ge()),
                Op::In | Op::NotIn => {
                    let haystack = pop(&mut fiber.stack);
                    let needle = pop(&mut fiber.stack);
                    let found = tri!(ops::contains(&haystack, &needle));
                    fiber.stack.push(Value::Bool(found == matches!(op, Op::In)));
                }
                Op::AddLocalConst(slot, k) => {
                    let index = base + slot as usize;
                    let constant = &code.consts[k as usize];
                    let sum = match (&fiber.stack[index], constant) {
                        (Value::Int(a), Value::Int(b)) => match a.checked_add(*b) {
                            Some(s) => Value::Int(s),
                            None => fault!(Fault::new("integer overflow in '+'")),
                        },
                        (a, b) => tri!(ops::binary(BinOp::Add, a, b)),
                    };
                    fiber.stack[index] = sum;
                }
                Op::LocalAddInt(slot, k) => {
                    let v = match &fiber.stack[base + slot as usize] {
                        Value::Int(a) => match a.checked_add(k as i64) {
                            Some(sum) => Value::Int(sum),
                            None => fault!(Fault::new("integer overflow in '+'")),
                        },
                        other => tri!(ops::binary(BinOp::Add, other, &Value::Int(k as i64))),
                    };
                    fiber.stack.push(v);
                }
                Op::AddInt(k) => binary_int!(BinOp::Add, k, |x: i64, y: i64| x.checked_add(y)),
                Op::MulInt(k) => binary_int!(BinOp::Mul, k, |x: i64, y: i64| x.checked_mul(y)),
                Op::ModInt(k) => binary_int!(BinOp::Mod, k, |x: i64, y: i64| if x >= 0 { Some(x % y) } else { None }),
                Op::JumpUnless(cmp, target) => {
                    let b = pop(&mut fiber.stack);
                    let a = pop(&mut fiber.stack);
                    let holds = match (&a, &b) {
                        (Value::Int(x), Value::Int(y)) => match cmp {
                            Cmp::Lt => x < y,
                            Cmp::Le => x <= y,
                            Cmp::Gt => x > y,
                            Cmp::Ge => x >= y,
                            Cmp::Eq => x == y,
                            Cmp::Ne => x != y,
                        },
                        _ => match cmp {
                            Cmp::Eq => ops::equal(&a, &b),
                            Cmp::Ne => !ops::equal(&a, &b),
                            Cmp::Lt => tri!(ops::compare(&a, &b)).is_lt(),
                            Cmp::Le => tri!(ops::compare(&a, &b)).is_le(),
                            Cmp::Gt => tri!(ops::compare(&a, &b)).is_gt(),
                            Cmp::Ge => tri!(ops::compare(&a, &b)).is_ge(),
                        },
                    };
                    if !holds {
                        ip = target as usize;
                    }
                }
                Op::JumpUnlessLocalLtInt(slot, k, target) => {
                    let less = match &fiber.stack[base + slot as usize] {
                        Value::Int(a) => *a < k as i64,
                        other => tri!(ops::compare(other, &Value::Int(k as i64))).is_lt(),
                    };
                    if !less {
                        ip = target as usize;
                    }
                }

                Op::Jump(target) => ip = target as usize,
                Op::JumpIfFalse(target) => {
                    if !pop(&mut fiber.stack).truthy() {
                        ip = target as usize;
                    }
                }
                Op::JumpIfTrue(target) => {
                    if pop(&mut fiber.stack).truthy() {
                        ip = target as usize;
                    }
                }
                Op::JumpIfFalseOrPop(target) => {
                    if fiber.stack.last().is_some_and(|v| !v.truthy()) {
                        ip = target as usize;
                    } else {
                        fiber.stack.pop();
                    }
                }
                Op::JumpIfTrueOrPop(target) => {
                    if fiber.stack.last().is_some_and(Value::truthy) {
                        ip = target as usize;
                    } else {
                        fiber.stack.pop();
                    }
                }

                Op::BuildList(n) => {
                    let items = fiber.stack.split_off(fiber.stack.len() - n as usize);
                    fiber.stack.push(Value::list(items));
                }
                Op::BuildTuple(n) => {
                    let items = fiber.stack.split_off(fiber.stack.len() - n as usize);
                    fiber.stack.push(Value::tuple(items));
                }
                Op::BuildDict(n) => {
                    let items = fiber.stack.split_off(fiber.stack.len() - 2 * n as usize);
                    let mut dict = crate::dict::new_dict();
                    let mut pairs = items.into_iter();
                    while let (Some(k), Some(v)) = (pairs.next(), pairs.next()) {
                        dict.insert(tri!(crate::dict::Key::new(k)), v);
                    }
                    fiber.stack.push(Value::dict(dict));
                }
                Op::ListAppend(depth) => {
                    let v = pop(&mut fiber.stack);
                    let at = fiber.stack.len() - 1 - depth as usize;
                    if let Value::List(list) = &fiber.stack[at] {
                        list.borrow_mut().push(v);
                    }
                }
                Op::DictInsert(depth) => {
                    let v = pop(&mut fiber.stack);
                    let k = pop(&mut fiber.stack);
                    let key = tri!(crate::dict::Key::new(k));
                    let at = fiber.stack.len() - 1 - depth as usize;
                    if let Value::Dict(dict) = &fiber.stack[at] {
                        dict.borrow_mut().insert(key, v);
                    }
                }
                Op::BuildString(n) => {
                    let parts = fiber.stack.split_off(fiber.stack.len() - n as usize);
                    let mut s = String::new();
                    for part in &parts {
                        match part {
                            Value::Str(p) => s.push_str(p),
                            other => format::display_into(&mut s, other),
                        }
                    }
                    fiber.stack.push(Value::str(s));
                }
                Op::Format(k) => {
                    let v = pop(&mut fiber.stack);
                    let formatted = match &code.consts[k as usize] {
                        Value::Str(spec) => Value::str(tri!(format::format_spec(&v, spec))),
                        _ => match v {
                            Value::Str(_) => v,
                            other => Value::str(format::display(&other)),
                        },
                    };
                    fiber.stack.push(formatted);
                }
                Op::Repr => {
                    let v = pop(&mut fiber.stack);
                    fiber.stack.push(Value::str(format::repr(&v)));
                }
                Op::Unpack(n) => {
                    let v = pop(&mut fiber.stack);
                    let values = tri!(iter::collect(&v));
                    if values.len() != n as usize {
                        fault!(Fault::new(format!("cannot unpack {} values into {n} names", values.len())));
                    }
                    fiber.stack.extend(values.into_iter().rev());
                }

                Op::GetAttr(n) => {
                    let name = code.names[n as usize];
                    let top = fiber.stack.len() - 1;
                    if let Value::Record(record) = &fiber.stack[top] {
                        if let Some(i) = record.ty.field_index(name) {
                            let v = record.fields.borrow()[i].clone();
                            fiber.stack[top] = v;
                            continue;
                        }
                    }
                    let object = pop(&mut fiber.stack);
                    let v = tri!(self.get_attr(&object, name));
                    fiber.stack.push(v);
                }
                Op::SetAttr(n) => {
                    let object = pop(&mut fiber.stack);
                    let v = pop(&mut fiber.stack);
                    let name = code.names[n as usize];
                    if let Value::Record(record) = &object {
                        if let Some(i) = record.ty.field_index(name) {
                            record.fields.borrow_mut()[i] = v;
                            continue;
                        }
                    }
                    tri!(self.set_attr(&object, name, v));
                }
                Op::GetIndex => {
                    let index = pop(&mut fiber.stack);
                    let object = pop(&mut fiber.stack);
                    let v = match (&object, &index) {
                        (Value::List(items), Value::Int(i)) if *i >= 0 && (*i as usize) < items.borrow().len() => {
                            items.borrow()[*i as usize].clone()
                        }
                        (Value::Native(_) | Value::Function(_), _) => tri!(self.specialize(&object, &index)),
                        _ => tri!(items::get(&object, &index)),
                    };
                    fiber.stack.push(v);
                }
                Op::SetIndex => {
                    let index = pop(&mut fiber.stack);
                    let object = pop(&mut fiber.stack);
                    let v = pop(&mut fiber.stack);
                    tri!(items::set(&object, &index, v));
                }
                Op::Slice => {
                    let step = pop(&mut fiber.stack);
                    let hi = pop(&mut fiber.stack);
                    let lo = pop(&mut fiber.stack);
                    let object = pop(&mut fiber.stack);
                    fiber.stack.push(tri!(items::slice(&object, &lo, &hi, &step)));
                }

                Op::Call(argc) => {
                    let ret = fiber.stack.len() - argc as usize - 1;
                    save_ip!();
                    if let Value::Function(callee) = &fiber.stack[ret] {
                        let locals = callee.code.proto.locals as usize;
                        if callee.code.params.len() == argc as usize && fiber.frames.len() < MAX_FRAMES {
                            // Fast path: exact arity. The frame takes the callee out of its slot.
                            let Value::Function(callee) = std::mem::take(&mut fiber.stack[ret]) else {
                                fault!(Fault::new("internal error: callee changed during a call"));
                            };
                            base = ret + 1;
                            if locals > argc as usize {
                                fiber.stack.resize(base + locals, Value::Nil);
                            }
                            code = callee.code.clone();
                            ops = code.ops.clone();
                            closure = callee.clone();
                            fiber.frames.push(Frame { closure: callee, ip: 0, base, ret, kind: FrameKind::Call, pending_return: None });
                            ip = 0;
                            continue;
                        }
                        let callee = callee.clone();
                        tri!(self.push_frame(fiber, callee, argc as usize, &[], ret, FrameKind::Call));
                        reload!();
                    } else if tri!(self.call_general(fiber, ret, argc as usize, &[])) {
                        reload!();
                    }
                }
                Op::CallKw(argc, k) => {
                    let keywords = code.keyword_lists[k as usize].clone();
                    let positional = argc as usize - keywords.len();
                    let ret = fiber.stack.len() - argc as usize - 1;
                    save_ip!();
                    if tri!(self.call_general(fiber, ret, positional, &keywords)) {
                        reload!();
                    }
                }
                Op::CallMethod(n, argc) => {
                    let name = code.names[n as usize];
                    let receiver = fiber.stack.len() - argc as usize - 1;
                    save_ip!();
                    if let (Value::List(_), crate::symbol::APPEND, 1) = (&fiber.stack[receiver], name, argc) {
                        // `xs.append(x)` is the most common method call of all: no Args, no lookup.
                        let v = pop(&mut fiber.stack);
                        if let Value::List(list) = std::mem::take(&mut fiber.stack[receiver]) {
                            list.borrow_mut().push(v);
                        }
                        continue;
                    }
                    if let Value::Record(record) = &fiber.stack[receiver] {
                        if let Some(Value::Function(method)) = record.ty.method(name) {
                            let params = method.code.params.len();
                            if params == argc as usize + 1 && fiber.frames.len() < MAX_FRAMES {
                                // Fast path: the receiver becomes local 0 (`self`) in place.
                                let method = method.clone();
                                let locals = method.code.proto.locals as usize;
                                base = receiver;
                                if locals > params {
                                    fiber.stack.resize(base + locals, Value::Nil);
                                }
                                code = method.code.clone();
                                ops = code.ops.clone();
                                closure = method.clone();
                                let frame = Frame { closure: method, ip: 0, base, ret: receiver, kind: FrameKind::Call, pending_return: None };
                                fiber.frames.push(frame);
                                ip = 0;
                                continue;
                            }
                        }
                    }
                    if tri!(self.call_method(fiber, receiver, name, argc as usize)) {
                        reload!();
                    }
                }
                Op::Return => {
                    let value = pop(&mut fiber.stack);
                    let depth = fiber.frames.len();
                    let no_cleanups = fiber.cleanups.last().is_none_or(|c| c.depth != depth);
                    if no_cleanups && depth > stop + 1 {
                        if let Some(frame) = fiber.frames.pop() {
                            if frame.kind == FrameKind::Call {
                                // Fast path: an ordinary return to a script caller.
                                fiber.stack.truncate(frame.ret);
                                fiber.stack.push(value);
                                reload!();
                                continue;
                            }
                            fiber.frames.push(frame);
                        }
                    }
                    do_return!(value);
                }
                Op::MakeClosure(k) => {
                    let Value::Function(template) = &code.consts[k as usize] else {
                        fault!(Fault::new("internal error: closure constant is not a function"));
                    };
                    let inner = template.code.clone();
                    let defaults = fiber.stack.split_off(fiber.stack.len() - inner.proto.defaults as usize);
                    let captures = inner
                        .proto
                        .captures
                        .iter()
                        .map(|capture| match capture {
                            Capture::Local(slot) => match &fiber.stack[base + *slot as usize] {
                                Value::Cell(cell) => cell.clone(),
                                other => Rc::new(std::cell::RefCell::new(other.clone())),
                            },
                            Capture::Outer(i) => closure.captures[*i as usize].clone(),
                        })
                        .collect();
                    let made = Closure { code: inner, captures, defaults: defaults.into_boxed_slice() };
                    fiber.stack.push(Value::Function(Rc::new(made)));
                }

                Op::GetIter => {
                    let v = pop(&mut fiber.stack);
                    let it = tri!(iter::iterate(&v));
                    fiber.stack.push(iter::iterator_value(it));
                }
                Op::ForIter(target) => {
                    let next = match fiber.stack.last() {
                        Some(Value::Iterator(it)) => {
                            let mut it = it.borrow_mut();
                            match &mut *it {
                                // Lists are by far the most iterated: step them inline.
                                Iter::List(items, i) => {
                                    let v = items.borrow().get(*i).cloned();
                                    *i += 1;
                                    v
                                }
                                other => tri!(other.next_value()),
                            }
                        }
                        _ => None,
                    };
                    match next {
                        Some(v) => fiber.stack.push(v),
                        None => ip = target as usize,
                    }
                }
                Op::ForRange(slot, target) => {
                    let at = base + slot as usize;
                    match (&fiber.stack[at], &fiber.stack[at + 1]) {
                        (Value::Int(current), Value::Int(end)) if current < end => {
                            let current = *current;
                            fiber.stack[at] = Value::Int(current + 1);
                            fiber.stack.push(Value::Int(current));
                        }
                        _ => ip = target as usize,
                    }
                }
                Op::PrepareRange(slot) => {
                    let end = pop(&mut fiber.stack);
                    let start = pop(&mut fiber.stack);
                    match (&start, &end) {
                        (Value::Int(_), Value::Int(_)) => {
                            fiber.stack[base + slot as usize] = start;
                            fiber.stack[base + slot as usize + 1] = end;
                        }
                        _ => fault!(Fault::new(format!(
                            "range() arguments must be int, got {} and {}",
                            start.type_name(),
                            end.type_name()
                        ))),
                    }
                }

                Op::Try => {
                    let v = pop(&mut fiber.stack);
                    match &v {
                        Value::Variant(variant) if variant.is_ok() => {
                            fiber.stack.push(variant.payload.first().cloned().unwrap_or_default())
                        }
                        Value::Variant(variant) if variant.is_err() => do_return!(v),
                        other => fault!(Fault::new(format!(
                            "`?` needs a Result (Ok or Err), got {}",
                            other.type_name()
                        ))),
                    }
                }
                Op::MatchVariant(n, arity) => {
                    let v = pop(&mut fiber.stack);
                    let name = code.names[n as usize];
                    let matched = match &v {
                        Value::Variant(variant) => {
                            variant.name == name && (arity == u16::MAX || variant.payload.len() == arity as usize)
                        }
                        Value::Record(record) => {
                            *record.ty.name == *name.name()
                                && (arity == u16::MAX || record.fields.borrow().len() == arity as usize)
                        }
                        _ => false,
                    };
                    fiber.stack.push(Value::Bool(matched));
                }
                Op::VariantField(i) => {
                    let v = pop(&mut fiber.stack);
                    let field = match &v {
                        Value::Variant(variant) => variant.payload.get(i as usize).cloned(),
                        Value::Record(record) => record.fields.borrow().get(i as usize).cloned(),
                        _ => None,
                    };
                    fiber.stack.push(field.unwrap_or_default());
                }
                Op::MatchSeq(kind, n) => {
                    let v = pop(&mut fiber.stack);
                    let matched = match (&v, kind) {
                        (Value::List(items), 0) => items.borrow().len() == n as usize,
                        (Value::Tuple(items), 1) => items.len() == n as usize,
                        _ => false,
                    };
                    fiber.stack.push(Value::Bool(matched));
                }
                Op::MatchFailed => {
                    let v = pop(&mut fiber.stack);
                    fault!(Fault::new(format!("no case matched {}", format::repr(&v))));
                }

                Op::Defer => {
                    let f = pop(&mut fiber.stack);
                    let depth = fiber.frames.len();
                    fiber.cleanups.push(Cleanup { depth, action: CleanupAction::Defer(f) });
                }
                Op::EnterBlock => {
                    let object = pop(&mut fiber.stack);
                    save_ip!();
                    if tri!(self.enter_block(fiber, object)) {
                        reload!();
                    }
                }
                Op::ExitBlock => {
                    let depth = fiber.frames.len();
                    if fiber.cleanups.last().is_some_and(|c| c.depth == depth) {
                        if let Some(cleanup) = fiber.cleanups.pop() {
                            save_ip!();
                            if tri!(self.start_cleanup(fiber, cleanup.action, None)) {
                                reload!();
                            }
                        }
                    }
                }

                Op::MakeType(k) => {
                    let v = tri!(self.make_type(fiber, &code, k));
                    fiber.stack.push(v);
                }
                Op::MakeEnum(k) => {
                    let v = tri!(self.make_enum(&code, k));
                    fiber.stack.push(v);
                }
                Op::Import(k) => {
                    let name = match &code.consts[k as usize] {
                        Value::Str(s) => s.clone(),
                        _ => fault!(Fault::new("internal error: import name is not a string")),
                    };
                    save_ip!();
                    let module = tri!(self.import(&name, &code.file));
                    fiber.stack.push(module);
                }
                Op::Spawn(_) | Op::EnterConcurrent | Op::ExitConcurrent => {
                    fault!(Fault::new("`spawn` and `concurrent:` need the task runtime, which this build does not have yet"))
                }
            }
        }
    }

    /// `enter` of a block statement; registers the `exit` cleanup first so that it runs even
    /// when `enter` faults. Returns whether a frame was pushed.
    fn enter_block(&mut self, fiber: &mut Fiber, object: Value) -> Result<bool, Fault> {
        let depth = fiber.frames.len();
        match &object {
            Value::Record(record) => {
                let enter = record.ty.method(crate::symbol::ENTER).cloned();
                if enter.is_none() && record.ty.method(crate::symbol::EXIT).is_none() {
                    return Err(Fault::new(format!(
                        "{} cannot be used as a block statement: it has no enter or exit method",
                        record.ty.name
                    )));
                }
                fiber.cleanups.push(Cleanup { depth, action: CleanupAction::Exit(object.clone()) });
                match enter {
                    Some(Value::Function(closure)) => {
                        let ret = fiber.stack.len();
                        fiber.stack.push(Value::Function(closure.clone()));
                        fiber.stack.push(object.clone());
                        self.push_frame(fiber, closure, 1, &[], ret, FrameKind::Cleanup)?;
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            }
            Value::Object(native) => {
                native.inner.enter(native, self)?;
                fiber.cleanups.push(Cleanup { depth, action: CleanupAction::Exit(object.clone()) });
                Ok(false)
            }
            other => Err(Fault::new(format!("{} cannot be used as a block statement", other.type_name()))),
        }
    }
}

/// Builds a variant constructor's value (used by `make_enum`).
pub(crate) fn variant_value(type_name: &Rc<str>, name: crate::symbol::Symbol, fields: Rc<[crate::symbol::Symbol]>, payload: Vec<Value>) -> Value {
    Value::Variant(Rc::new(Variant { type_name: type_name.clone(), name, field_names: fields, payload }))
}
