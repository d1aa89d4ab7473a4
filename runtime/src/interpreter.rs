//! The dispatch loop: one `match` over the instruction set, as in Lua's `luaV_execute`.
//!
//! Only the common case of each hot instruction lives here: arithmetic and comparisons on ints,
//! floats and an int with a float (`quick_compare`, `num_binary!`), `==`/`!=` against nil or
//! bools, locals and globals, record fields, list reads and in-range list stores, list
//! iteration, calls of script functions with exact arity, plain returns. Anything else falls
//! through to [`Vm::cold_op`] (in `cold_ops.rs`), which implements every instruction in full.
//! `stack.rs` holds the loop's stack moves, `numbers.rs` the operator cases it answers.
//!
//! Two habits keep this loop fast and must be kept: nothing on a fast path calls an out-of-line
//! function (so the loop's state stays in registers), and values known to be inline (ints,
//! bools) are never dropped through `Value`'s drop glue.

use std::rc::Rc;

use cn_compiler::bytecode::{Cmp, Op};

use crate::cold_ops::Flow;
use crate::fiber::{Fiber, FrameKind, MAX_FRAMES};
use crate::inline_cache;
use crate::native::StreamStep;
use crate::object::{Closure, Iter, Record};
use crate::symbol;
use crate::unwind::{ReturnOutcome, Stop};
use crate::value::Value;
use crate::vm::Vm;

mod numbers;
mod stack;

use numbers::{number, quick_compare};
use stack::{discard, push, release, store};

/// Back edges and calls a fiber runs before it yields to other tasks and timers (about a
/// millisecond of work): often enough that a busy loop cannot starve a ticker, rarely enough
/// that yielding costs nothing measurable.
const BUDGET: u32 = 20_000;

impl Vm {
    /// The dispatch loop proper: runs the top frame of `fiber` until the frame at depth `stop`
    /// returns, a fault occurs, or a cleanup frame finishes during unwinding.
    #[allow(unsafe_code)]
    pub(crate) fn dispatch(&mut self, fiber: &mut Fiber, stop: usize) -> Stop {
        let Some(frame) = fiber.frames.last() else {
            return Stop::Returned(Value::Nil);
        };
        // The running function, borrowed from the top frame (which owns it) rather than counted:
        // a call and a return then cost no reference counting here. `code!()` reads it.
        let mut closure: *const Closure = Rc::as_ptr(&frame.closure);
        // SAFETY (for every `code!()`, `captures!()` and `ops.add(ip)` below): the top frame owns
        // the closure `closure` points to, and the loop reloads both pointers whenever the top
        // frame changes; `Code::ops` ends in a terminator and every jump target is inside it
        // (`vm::verified_ops`), so `ip` never leaves the slice.
        let mut ops: *const Op = frame.closure.code.ops.as_ptr();
        let mut ip = frame.ip;
        let mut base = frame.base;
        let mut budget = BUDGET;

        macro_rules! code {
            () => {
                unsafe { &(*closure).code }
            };
        }
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
                closure = Rc::as_ptr(&frame.closure);
                ops = frame.closure.code.ops.as_ptr();
                ip = frame.ip;
                base = frame.base;
            }};
        }
        macro_rules! enter {
            ($callee:expr, $base:expr, $ret:expr, $argc:expr) => {{
                let callee: Rc<Closure> = $callee;
                let locals = callee.code.proto.locals as usize;
                base = $base;
                // The callee's other locals start unassigned (usually a few: pushed inline).
                for _ in $argc..locals {
                    push!(fiber.stack, Value::Undefined);
                }
                ops = callee.code.ops.as_ptr();
                closure = Rc::as_ptr(&callee);
                fiber.push_frame(callee, base, $ret, FrameKind::Call);
                ip = 0;
                budget -= 1;
                if budget == 0 {
                    budget = BUDGET;
                    if fiber.yieldable {
                        return Stop::Yield;
                    }
                }
                continue;
            }};
        }
        macro_rules! top_int_op {
            ($k:expr, $fast:expr) => {{
                if let Some(Value::Int(x)) = fiber.stack.last_mut() {
                    if let Some(r) = $fast(*x, $k as i64) {
                        *x = r;
                        continue;
                    }
                }
            }};
        }
        macro_rules! int_binary {
            ($fast:expr) => {{
                if let [.., Value::Int(x), Value::Int(y)] = fiber.stack.as_mut_slice() {
                    if let Some(r) = $fast(*x, *y) {
                        *x = r;
                        discard(&mut fiber.stack);
                        continue;
                    }
                }
            }};
        }
        // Ints first; then floats, and an int with a float, computed as floats (what
        // `ops::binary` does, minus its dispatch).
        macro_rules! num_binary {
            ($int:expr, $float:expr) => {{
                match fiber.stack.as_mut_slice() {
                    [.., Value::Int(x), Value::Int(y)] => {
                        if let Some(r) = $int(*x, *y) {
                            *x = r;
                            discard(&mut fiber.stack);
                            continue;
                        }
                    }
                    [.., a @ (Value::Int(_) | Value::Float(_)), b @ (Value::Int(_) | Value::Float(_))] => {
                        let r: f64 = $float(number(a), number(b));
                        store(a, Value::Float(r));
                        discard(&mut fiber.stack);
                        continue;
                    }
                    _ => {}
                }
            }};
        }
        macro_rules! int_compare {
            ($cmp:expr) => {{
                if let Some(result) = quick_compare($cmp, &fiber.stack) {
                    discard(&mut fiber.stack);
                    if let Some(top) = fiber.stack.last_mut() {
                        store(top, Value::Bool(result));
                    }
                    continue;
                }
            }};
        }

        loop {
            let op = unsafe { *ops.add(ip) };
            ip += 1;
            match op {
                Op::SmallInt(n) => {
                    push!(fiber.stack, Value::Int(n as i64));
                    continue;
                }
                Op::Const(k) => {
                    push!(fiber.stack, code!().consts[k as usize].clone());
                    continue;
                }
                Op::Nil => {
                    push!(fiber.stack, Value::Nil);
                    continue;
                }
                Op::True | Op::False => {
                    push!(fiber.stack, Value::Bool(matches!(op, Op::True)));
                    continue;
                }
                Op::LoadLocal(n) => {
                    let v = &fiber.stack[base + n as usize];
                    if !matches!(v, Value::Undefined) {
                        let v = v.clone();
                        push!(fiber.stack, v);
                        continue;
                    }
                }
                Op::LoadLocal2(a, b) => {
                    let x = &fiber.stack[base + a as usize];
                    let y = &fiber.stack[base + b as usize];
                    if !matches!(x, Value::Undefined) && !matches!(y, Value::Undefined) {
                        let (x, y) = (x.clone(), y.clone());
                        push!(fiber.stack, x);
                        push!(fiber.stack, y);
                        continue;
                    }
                }
                Op::LoadLocalAttr(slot, n) => {
                    if let Value::Record(record) = &fiber.stack[base + slot as usize] {
                        if let Some(i) = inline_cache::field(
                            &code!().sites[ip - 1],
                            &record.ty,
                            code!().names[n as usize],
                        ) {
                            let v = record.fields.borrow()[i].clone();
                            push!(fiber.stack, v);
                            continue;
                        }
                    }
                }
                Op::StoreLocal(n) => {
                    if let Some(v) = fiber.stack.pop() {
                        store(&mut fiber.stack[base + n as usize], v);
                    }
                    continue;
                }
                Op::LoadGlobal(n) => {
                    let v = &self.globals[n as usize];
                    if !matches!(v, Value::Undefined) {
                        push!(fiber.stack, v.clone());
                        continue;
                    }
                }
                Op::StoreGlobal(n) => {
                    if let Some(v) = fiber.stack.pop() {
                        store(&mut self.globals[n as usize], v);
                    }
                    continue;
                }
                Op::LoadBuiltin(n) => {
                    push!(fiber.stack, self.builtins[n as usize].clone());
                    continue;
                }
                Op::LoadCapture(n) => {
                    let v = unsafe { &(*closure).captures }[n as usize].borrow().clone();
                    if !matches!(v, Value::Undefined) {
                        push!(fiber.stack, v);
                        continue;
                    }
                }
                Op::Dup => {
                    if let Some(top) = fiber.stack.last() {
                        let v = top.clone();
                        push!(fiber.stack, v);
                        continue;
                    }
                }
                Op::Swap => {
                    let len = fiber.stack.len();
                    if len >= 2 {
                        fiber.stack.swap(len - 1, len - 2);
                        continue;
                    }
                }
                Op::Pop => {
                    discard(&mut fiber.stack);
                    continue;
                }
                Op::Add | Op::AddInPlace => num_binary!(i64::checked_add, |x: f64, y: f64| x + y),
                Op::Sub => num_binary!(i64::checked_sub, |x: f64, y: f64| x - y),
                Op::Mul => num_binary!(i64::checked_mul, |x: f64, y: f64| x * y),
                Op::Div => {
                    // `/` is always a float; by zero it faults (the general path says so).
                    if let [.., a @ (Value::Int(_) | Value::Float(_)), b @ (Value::Int(_) | Value::Float(_))] =
                        fiber.stack.as_mut_slice()
                    {
                        let divisor = number(b);
                        if divisor != 0.0 {
                            let r = number(a) / divisor;
                            store(a, Value::Float(r));
                            discard(&mut fiber.stack);
                            continue;
                        }
                    }
                }
                Op::Mod => {
                    int_binary!(|x: i64, y: i64| if x >= 0 && y > 0 { Some(x % y) } else { None })
                }
                Op::BitAnd => int_binary!(|x: i64, y: i64| Some(x & y)),
                Op::BitOr => int_binary!(|x: i64, y: i64| Some(x | y)),
                Op::BitXor => int_binary!(|x: i64, y: i64| Some(x ^ y)),
                Op::FloorDiv => {
                    int_binary!(|x: i64, y: i64| if x >= 0 && y > 0 { Some(x / y) } else { None })
                }
                Op::AddInt(k) => top_int_op!(k, i64::checked_add),
                Op::SubInt(k) => top_int_op!(k, i64::checked_sub),
                Op::MulInt(k) => top_int_op!(k, i64::checked_mul),
                Op::ModInt(k) => {
                    top_int_op!(k, |x: i64, y: i64| if x >= 0 { Some(x % y) } else { None })
                }
                Op::LocalAddInt(slot, k) | Op::LocalSubInt(slot, k) => {
                    if let Value::Int(x) = fiber.stack[base + slot as usize] {
                        let r = if let Op::LocalAddInt(..) = op {
                            x.checked_add(k as i64)
                        } else {
                            x.checked_sub(k as i64)
                        };
                        if let Some(r) = r {
                            push!(fiber.stack, Value::Int(r));
                            continue;
                        }
                    }
                }
                Op::AddLocalConst(slot, k) => {
                    if let (Value::Int(x), Value::Int(y)) = (
                        &mut fiber.stack[base + slot as usize],
                        &code!().consts[k as usize],
                    ) {
                        if let Some(r) = x.checked_add(*y) {
                            *x = r;
                            continue;
                        }
                    }
                }
                Op::Lt => int_compare!(Cmp::Lt),
                Op::Le => int_compare!(Cmp::Le),
                Op::Gt => int_compare!(Cmp::Gt),
                Op::Ge => int_compare!(Cmp::Ge),
                Op::Eq => int_compare!(Cmp::Eq),
                Op::Ne => int_compare!(Cmp::Ne),
                Op::Is | Op::IsNot => {
                    if let [.., a, b] = fiber.stack.as_slice() {
                        let same = a.same(b) == matches!(op, Op::Is);
                        discard(&mut fiber.stack);
                        if let Some(top) = fiber.stack.last_mut() {
                            store(top, Value::Bool(same));
                        }
                        continue;
                    }
                }
                Op::Not => {
                    if let Some(top) = fiber.stack.last_mut() {
                        let truthy = top.truthy();
                        store(top, Value::Bool(!truthy));
                    }
                    continue;
                }

                Op::JumpIf(cmp, target) | Op::JumpUnless(cmp, target) => {
                    let holds = if let Some(holds) = quick_compare(cmp, &fiber.stack) {
                        // Released one by one: a record compared with nil is dropped out of
                        // line, and an int costs nothing.
                        discard(&mut fiber.stack);
                        discard(&mut fiber.stack);
                        holds
                    } else {
                        match self.compare_slow(fiber, cmp) {
                            Ok(holds) => holds,
                            Err(fault) => {
                                save_ip!();
                                return Stop::Faulted(fault);
                            }
                        }
                    };
                    if holds == matches!(op, Op::JumpIf(..)) {
                        ip = target as usize;
                    }
                    continue;
                }
                Op::JumpUnlessLocalLtInt(slot, k, target) => {
                    if let Value::Int(x) = fiber.stack[base + slot as usize] {
                        if x >= k as i64 {
                            ip = target as usize;
                        }
                        continue;
                    }
                    let x = fiber.stack[base + slot as usize].clone();
                    push!(fiber.stack, x);
                    push!(fiber.stack, Value::Int(k as i64));
                    match self.compare_slow(fiber, Cmp::Lt) {
                        Ok(true) => {}
                        Ok(false) => ip = target as usize,
                        Err(fault) => {
                            save_ip!();
                            return Stop::Faulted(fault);
                        }
                    }
                    continue;
                }
                Op::JumpIfNil(target) | Op::JumpUnlessNil(target) => {
                    if let Some(v) = fiber.stack.last() {
                        if matches!(v, Value::Nil) == matches!(op, Op::JumpIfNil(_)) {
                            ip = target as usize;
                        }
                        discard(&mut fiber.stack);
                    }
                    continue;
                }
                Op::Jump(target) => {
                    let target = target as usize;
                    if target < ip {
                        // A loop's back edge: spend budget (see BUDGET).
                        budget -= 1;
                        if budget == 0 {
                            budget = BUDGET;
                            if fiber.yieldable {
                                ip = target;
                                save_ip!();
                                return Stop::Yield;
                            }
                        }
                    }
                    ip = target;
                    continue;
                }
                Op::JumpIfFalse(target) | Op::JumpIfTrue(target) => {
                    if let Some(v) = fiber.stack.last() {
                        if v.truthy() == matches!(op, Op::JumpIfTrue(_)) {
                            ip = target as usize;
                        }
                        discard(&mut fiber.stack);
                    }
                    continue;
                }
                Op::JumpIfFalseOrPop(target) | Op::JumpIfTrueOrPop(target) => {
                    let jump_when = matches!(op, Op::JumpIfTrueOrPop(_));
                    if fiber.stack.last().is_some_and(|v| v.truthy() == jump_when) {
                        ip = target as usize;
                    } else {
                        discard(&mut fiber.stack);
                    }
                    continue;
                }

                Op::GetAttr(n) => {
                    let top = fiber.stack.len() - 1;
                    if let Value::Record(record) = &fiber.stack[top] {
                        if let Some(i) = inline_cache::field(
                            &code!().sites[ip - 1],
                            &record.ty,
                            code!().names[n as usize],
                        ) {
                            let v = record.fields.borrow()[i].clone();
                            if let Value::Record(record) =
                                std::mem::replace(&mut fiber.stack[top], v)
                            {
                                drop(record);
                            }
                            continue;
                        }
                    }
                }
                Op::SetAttr(n) => {
                    let len = fiber.stack.len();
                    if let [.., value, Value::Record(record)] = fiber.stack.as_slice() {
                        if let Some(i) = inline_cache::field(
                            &code!().sites[ip - 1],
                            &record.ty,
                            code!().names[n as usize],
                        ) {
                            let value = value.clone();
                            store(&mut record.fields.borrow_mut()[i], value);
                            fiber.stack.truncate(len - 2);
                            continue;
                        }
                    }
                }
                Op::SetIndex => {
                    // `xs[i] = v` with an int index inside the list; anything else (a negative
                    // or too large index, a dict, a fault) goes the general way.
                    if let [.., Value::List(_), Value::Int(i)] = fiber.stack.as_slice() {
                        let i = *i;
                        discard(&mut fiber.stack);
                        let list = fiber.stack.pop().unwrap_or_default();
                        let value = fiber.stack.pop().unwrap_or_default();
                        if let (Value::List(items), Ok(at)) = (&list, usize::try_from(i)) {
                            let mut items = items.borrow_mut();
                            if let Some(slot) = items.get_mut(at) {
                                store(slot, value);
                                drop(items);
                                release(list);
                                continue;
                            }
                        }
                        push!(fiber.stack, value);
                        push!(fiber.stack, list);
                        push!(fiber.stack, Value::Int(i));
                    }
                }
                Op::GetIndex => {
                    let len = fiber.stack.len();
                    if let [.., Value::List(items), Value::Int(i)] = fiber.stack.as_slice() {
                        let item = items.borrow().get(*i as usize).cloned();
                        if let (Some(item), true) = (item, *i >= 0) {
                            discard(&mut fiber.stack);
                            if let Value::List(list) =
                                std::mem::replace(&mut fiber.stack[len - 2], item)
                            {
                                drop(list);
                            }
                            continue;
                        }
                    }
                }

                Op::Call(argc) => {
                    let argc = argc as usize;
                    let ret = fiber.stack.len() - argc - 1;
                    let exact = matches!(&fiber.stack[ret], Value::Function(f) if f.code.params.len() == argc);
                    if exact && fiber.frames.len() < MAX_FRAMES {
                        if let Value::Function(callee) = std::mem::take(&mut fiber.stack[ret]) {
                            save_ip!();
                            enter!(callee, ret + 1, ret, argc);
                        }
                    }
                    match &fiber.stack[ret] {
                        Value::Type(ty) if ty.fields.len() == argc => {
                            // Every field given positionally: build the record from the stack.
                            let record = Record::value(ty.clone(), fiber.stack.split_off(ret + 1));
                            fiber.stack[ret] = record;
                            continue;
                        }
                        _ => {}
                    }
                }
                Op::CallGlobal(_, argc) | Op::CallLocal(_, argc) => {
                    let argc = argc as usize;
                    let callee = match op {
                        Op::CallGlobal(g, _) => &self.globals[g as usize],
                        Op::CallLocal(slot, _) => &fiber.stack[base + slot as usize],
                        _ => &Value::Nil,
                    };
                    match callee {
                        Value::Function(f)
                            if f.code.params.len() == argc && fiber.frames.len() < MAX_FRAMES =>
                        {
                            // The arguments become the callee's first locals where they stand;
                            // the result replaces the first of them.
                            let f = f.clone();
                            save_ip!();
                            let at = fiber.stack.len() - argc;
                            enter!(f, at, at, argc);
                        }
                        Value::Type(ty) if ty.fields.len() == argc => {
                            let ty = ty.clone();
                            let fields = fiber.stack.split_off(fiber.stack.len() - argc);
                            push!(fiber.stack, Record::value(ty, fields));
                            continue;
                        }
                        _ => {}
                    }
                }
                Op::CallMethod(n, argc) => {
                    let name = code!().names[n as usize];
                    let argc = argc as usize;
                    let receiver = fiber.stack.len() - argc - 1;
                    match (&fiber.stack[receiver], name) {
                        (Value::Record(record), _) => {
                            let site = &code!().sites[ip - 1];
                            match inline_cache::callee(site, &record.ty, name) {
                                Some(inline_cache::Callee::Method(i)) => {
                                    if let Some((_, Value::Function(method))) =
                                        record.ty.methods.get(i)
                                    {
                                        if method.code.params.len() == argc + 1
                                            && fiber.frames.len() < MAX_FRAMES
                                        {
                                            // The receiver becomes local 0 (`self`) where it
                                            // stands.
                                            save_ip!();
                                            let method = method.clone();
                                            enter!(method, receiver, receiver, argc + 1);
                                        }
                                    }
                                }
                                Some(inline_cache::Callee::Field(i)) => {
                                    // A function kept in a field: called like `Call`, the
                                    // record's slot becomes the callee's.
                                    let field = match record.fields.borrow().get(i) {
                                        Some(Value::Function(f))
                                            if f.code.params.len() == argc
                                                && fiber.frames.len() < MAX_FRAMES =>
                                        {
                                            Some(f.clone())
                                        }
                                        _ => None,
                                    };
                                    if let Some(f) = field {
                                        save_ip!();
                                        let record = std::mem::take(&mut fiber.stack[receiver]);
                                        release(record);
                                        enter!(f, receiver + 1, receiver, argc);
                                    }
                                }
                                None => {}
                            }
                        }
                        (Value::List(_), symbol::APPEND) if argc == 1 => {
                            // The receiver slot becomes the result (nil); the list is moved out
                            // of it rather than cloned.
                            let v = fiber.stack.pop().unwrap_or_default();
                            if let Value::List(list) = std::mem::take(&mut fiber.stack[receiver]) {
                                list.borrow_mut().push(v);
                            }
                            continue;
                        }
                        (Value::Dict(dict), symbol::GET) if argc == 1 || argc == 2 => {
                            if let Ok(key) =
                                crate::dict::Key::new(fiber.stack[receiver + 1].clone())
                            {
                                let found = dict.borrow().get(&key).cloned();
                                let v = match found {
                                    Some(v) => v,
                                    None if argc == 2 => fiber.stack.pop().unwrap_or_default(),
                                    None => Value::Nil,
                                };
                                fiber.stack.truncate(receiver);
                                push!(fiber.stack, v);
                                continue;
                            }
                        }
                        _ => {}
                    }
                }
                Op::Return => {
                    let depth = fiber.frames.len();
                    let no_cleanups = fiber.cleanups.last().is_none_or(|c| c.depth != depth);
                    if no_cleanups
                        && depth > stop + 1
                        && fiber
                            .frames
                            .last()
                            .is_some_and(|f| f.kind == FrameKind::Call)
                    {
                        // An ordinary return to a script caller.
                        let value = fiber.stack.pop().unwrap_or_default();
                        if let Some(frame) = fiber.frames.pop() {
                            while fiber.stack.len() > frame.ret {
                                discard(&mut fiber.stack);
                            }
                        }
                        push!(fiber.stack, value);
                        reload!();
                        continue;
                    }
                    let value = fiber.stack.pop().unwrap_or_default();
                    save_ip!();
                    match self.finish_return(fiber, stop, value) {
                        Ok(ReturnOutcome::Finished(v)) => return Stop::Returned(v),
                        Ok(ReturnOutcome::Switched) => reload!(),
                        Ok(ReturnOutcome::ResumeUnwind) => return Stop::CleanupDone,
                        Err(fault) => return Stop::Faulted(fault),
                    }
                    continue;
                }

                Op::ForIterLocal(slot, target) => {
                    // Lists, the common case, are stepped here and the item is stored in the
                    // loop variable from the arm that read it (no merged temporary).
                    let Some(Value::Iterator(it)) = fiber.stack.last() else {
                        ip = target as usize;
                        continue;
                    };
                    let it = it.clone();
                    let mut state = it.borrow_mut();
                    if let Iter::List(items, i) = &mut *state {
                        let list = items.borrow();
                        match list.get(*i) {
                            Some(Value::Int(n)) => {
                                let n = *n;
                                *i += 1;
                                drop(list);
                                store(&mut fiber.stack[base + slot as usize], Value::Int(n));
                            }
                            Some(other) => {
                                let v = other.clone();
                                *i += 1;
                                drop(list);
                                store(&mut fiber.stack[base + slot as usize], v);
                            }
                            None => ip = target as usize,
                        }
                        continue;
                    }
                    match state.step() {
                        Ok(StreamStep::Item(v)) => store(&mut fiber.stack[base + slot as usize], v),
                        Ok(StreamStep::Done) => ip = target as usize,
                        Ok(StreamStep::Wait(wait)) => {
                            drop(state);
                            self.wait_for_stream(fiber, wait);
                            ip -= 1;
                            save_ip!();
                            return Stop::Await;
                        }
                        Err(fault) => {
                            save_ip!();
                            return Stop::Faulted(fault);
                        }
                    }
                    continue;
                }
                Op::ForIter(target) => {
                    let next = match fiber.stack.last() {
                        Some(Value::Iterator(it)) => {
                            let mut it = it.borrow_mut();
                            match &mut *it {
                                Iter::List(items, i) => {
                                    let v = items.borrow().get(*i).cloned();
                                    *i += 1;
                                    Ok(v.map_or(StreamStep::Done, StreamStep::Item))
                                }
                                other => other.step(),
                            }
                        }
                        _ => Ok(StreamStep::Done),
                    };
                    match next {
                        Ok(StreamStep::Item(v)) => push!(fiber.stack, v),
                        Ok(StreamStep::Done) => ip = target as usize,
                        Ok(StreamStep::Wait(wait)) => {
                            self.wait_for_stream(fiber, wait);
                            ip -= 1;
                            save_ip!();
                            return Stop::Await;
                        }
                        Err(fault) => {
                            save_ip!();
                            return Stop::Faulted(fault);
                        }
                    }
                    continue;
                }
                Op::ForRange(slot, target) => {
                    let at = base + slot as usize;
                    if let [Value::Int(current), Value::Int(end)] = &mut fiber.stack[at..at + 2] {
                        if *current < *end {
                            let value = *current;
                            *current += 1;
                            push!(fiber.stack, Value::Int(value));
                        } else {
                            ip = target as usize;
                        }
                    } else {
                        ip = target as usize;
                    }
                    continue;
                }
                _ => {}
            }
            // The general form of the instruction.
            save_ip!();
            match self.cold_op(fiber, code!(), base, op) {
                Ok(Flow::Next) => {
                    if self.suspended.is_some() {
                        // A native asked to wait: its placeholder result goes, the driver
                        // pushes the real one.
                        fiber.stack.pop();
                        return Stop::Await;
                    }
                }
                Ok(Flow::Reload) => reload!(),
                Ok(Flow::Return(value)) => match self.finish_return(fiber, stop, value) {
                    Ok(ReturnOutcome::Finished(v)) => return Stop::Returned(v),
                    Ok(ReturnOutcome::Switched) => reload!(),
                    Ok(ReturnOutcome::ResumeUnwind) => return Stop::CleanupDone,
                    Err(fault) => return Stop::Faulted(fault),
                },
                Err(fault) => return Stop::Faulted(fault),
            }
        }
    }
}
