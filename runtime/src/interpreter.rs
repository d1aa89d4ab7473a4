//! The dispatch loop: one `match` over the instruction set, as in Lua's `luaV_execute`.
//!
//! Only the common case of each hot instruction lives here: arithmetic and comparisons on ints,
//! floats and an int with a float (`quick_compare`, `num_binary!`), `==`/`!=` against nil or
//! bools, locals and globals, record fields, list reads and in-range list stores, list
//! iteration, calls of script functions with exact arity, plain returns. Anything else falls
//! through to [`Vm::cold_op`] (in `cold_ops.rs`), which implements every instruction in full.
//! `stack.rs` holds the loop's stack helpers, `numbers.rs` the operator cases it answers.
//!
//! The operand stack is held in registers while the loop runs, as CPython's `stack_pointer`
//! and Lua's `base`/`top` are: `sp` points one past the top value, `limit` at the end of the
//! allocation, `locals` at the running frame's local 0. `fiber.stack`'s length is stale
//! meanwhile; `sync!` writes it back before anything else looks at the fiber (a cold
//! instruction, a return from the loop) and `resync!` reads the pointers again afterwards. Kept
//! in the vector, the length was loaded and stored by every instruction, a chain of
//! store-to-load forwarding that set the pace of the whole loop.
//!
//! Three habits keep this loop fast and must be kept: nothing on a fast path calls an
//! out-of-line function that needs the stack (so the loop's state stays in registers), values
//! known to be inline (ints, bools) are never dropped through `Value`'s drop glue, and a
//! reference into the stack is never used after a `push!` (which may move the stack).
//!
//! The bytecode comes from our compiler alone, which keeps every instruction's operands on the
//! stack (`vm::verified_ops` checks the jumps); the loop relies on that instead of checking
//! the stack's depth on every pop.

use std::ptr;
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
use stack::{grow, release, store, NoUnwind};

/// Back edges and calls a fiber runs before it yields to other tasks and timers (about a
/// millisecond of work): often enough that a busy loop cannot starve a ticker, rarely enough
/// that yielding costs nothing measurable.
const BUDGET: u32 = 20_000;

impl Vm {
    /// The dispatch loop proper: runs the top frame of `fiber` until the frame at depth `stop`
    /// returns, a fault occurs, or a cleanup frame finishes during unwinding.
    // The stack macros nest `unsafe` blocks and reassign pointers that a `continue` may not read.
    #[allow(unsafe_code, unused_unsafe, unused_assignments)]
    pub(crate) fn dispatch(&mut self, fiber: &mut Fiber, stop: usize) -> Stop {
        let Some(frame) = fiber.frames.last() else {
            return Stop::Returned(Value::Nil);
        };
        // The running function, borrowed from the top frame (which owns it) rather than counted:
        // a call and a return then cost no reference counting here. `code!()` reads it.
        let mut closure: *const Closure = Rc::as_ptr(&frame.closure);
        // SAFETY (for every `code!()`, `site!()` and `ops.add(ip)` below): the top frame owns
        // the closure `closure` points to, and the loop reloads both pointers whenever the top
        // frame changes; `Code::ops` ends in a terminator and every jump target is inside it
        // (`vm::verified_ops`), so `ip` never leaves the slice.
        let mut ops: *const Op = frame.closure.code.ops.as_ptr();
        let mut ip = frame.ip;
        let base = frame.base;
        let mut budget = BUDGET;
        let _no_unwind = NoUnwind;
        // The stack in registers (see the module doc). SAFETY (for every use below): `sp`,
        // `limit` and `locals` point into `fiber.stack`'s allocation, re-read by `resync!`
        // whenever it may have moved; the values below `sp` are initialised, and the compiler
        // keeps an instruction's operands on the stack, above the frame's locals.
        let bottom = fiber.stack.as_mut_ptr();
        let (mut sp, mut limit, mut locals) = unsafe {
            (
                bottom.add(fiber.stack.len()),
                bottom.add(fiber.stack.capacity()),
                bottom.add(base),
            )
        };

        macro_rules! code {
            () => {
                unsafe { &(*closure).code }
            };
        }
        macro_rules! resync {
            () => {{
                let bottom = fiber.stack.as_mut_ptr();
                unsafe {
                    sp = bottom.add(fiber.stack.len());
                    limit = bottom.add(fiber.stack.capacity());
                    // The running frame's base: the top frame's (the loop keeps no copy, to spare
                    // a register).
                    locals = bottom.add(fiber.frames.last().map_or(0, |f| f.base));
                }
            }};
        }
        macro_rules! sync {
            () => {{
                unsafe {
                    let len = sp.offset_from(fiber.stack.as_ptr()) as usize;
                    fiber.stack.set_len(len);
                }
            }};
        }
        // The index in `fiber.stack` of a slot pointer.
        macro_rules! index {
            ($slot:expr) => {
                unsafe { $slot.offset_from(fiber.stack.as_ptr()) as usize }
            };
        }
        // Makes room for `$n` more values. An instruction that reads a value out of the stack
        // or a record and pushes it makes room first, then reads and writes with nothing in
        // between: read before a check whose cold branch calls out, the value is spilled to
        // memory and reloaded across it.
        macro_rules! room {
            ($n:expr) => {{
                if unsafe { limit.offset_from(sp) } < $n {
                    sync!();
                    grow(&mut fiber.stack);
                    resync!();
                }
            }};
        }
        // Pushes `$value`; room must have been made.
        macro_rules! push_unchecked {
            ($value:expr) => {{
                unsafe {
                    sp.write($value);
                    sp = sp.add(1);
                }
            }};
        }
        // Evaluates the value after the room check, straight into its slot: evaluated first, it
        // would live in a stack temporary across the possible `grow` and be reloaded as one
        // 16-byte move, which stalls on store forwarding (17 % of List's samples, once).
        macro_rules! push {
            ($value:expr) => {{
                room!(1);
                push_unchecked!($value);
            }};
        }
        macro_rules! pop {
            () => {
                unsafe {
                    sp = sp.sub(1);
                    sp.read()
                }
            };
        }
        // Pops and drops the top value; an inline one (an int just computed) is not even read.
        macro_rules! discard {
            () => {{
                unsafe {
                    sp = sp.sub(1);
                    release(sp.read());
                }
            }};
        }
        // Replaces the top value.
        macro_rules! set_top {
            ($value:expr) => {{
                let value = $value;
                unsafe {
                    release(sp.sub(1).read());
                    sp.sub(1).write(value);
                }
            }};
        }
        // The value `$k` slots from the top (1: the top).
        macro_rules! peek {
            ($k:expr) => {
                unsafe { &mut *sp.sub($k) }
            };
        }
        macro_rules! local {
            ($n:expr) => {
                unsafe { &mut *locals.add($n as usize) }
            };
        }
        // This instruction's inline cache. SAFETY: `Code::sites` has exactly one cell per
        // instruction (`vm::load_runtime_code` sizes it from the verified ops), and `ip - 1` is
        // the running instruction.
        macro_rules! site {
            () => {
                unsafe { code!().sites.get_unchecked(ip - 1) }
            };
        }
        macro_rules! save_ip {
            () => {
                if let Some(f) = fiber.frames.last_mut() {
                    f.ip = ip;
                }
            };
        }
        // Leaves the loop with the stack written back.
        macro_rules! leave {
            ($stop:expr) => {{
                let stop = $stop;
                sync!();
                return stop;
            }};
        }
        // The top frame changed: read its function, position and locals.
        macro_rules! reload_frame {
            () => {{
                let Some(frame) = fiber.frames.last() else {
                    leave!(Stop::Returned(Value::Nil));
                };
                closure = Rc::as_ptr(&frame.closure);
                ops = frame.closure.code.ops.as_ptr();
                ip = frame.ip;
                locals = unsafe { fiber.stack.as_mut_ptr().add(frame.base) };
            }};
        }
        // At a budget check, where nothing borrows a container: reclaim unreachable reference
        // cycles when the living containers grew by a quarter since the last time (see
        // `cycles`).
        macro_rules! collect_cycles {
            () => {
                if crate::cycles::due() {
                    sync!();
                    crate::cycles::collect();
                    resync!();
                }
            };
        }
        macro_rules! enter {
            ($callee:expr, $base:expr, $ret:expr, $argc:expr) => {{
                let callee: Rc<Closure> = $callee;
                let count = callee.code.locals as usize;
                let base = $base;
                ops = callee.code.ops.as_ptr();
                closure = Rc::as_ptr(&callee);
                // The frame first: growing the stack for the locals below re-reads the base
                // from it.
                fiber.push_frame(callee, base, $ret, FrameKind::Call);
                locals = unsafe { fiber.stack.as_mut_ptr().add(base) };
                // The callee's other locals start unassigned (usually a few: pushed inline).
                for _ in $argc..count {
                    push!(Value::Undefined);
                }
                ip = 0;
                budget -= 1;
                if budget == 0 {
                    budget = BUDGET;
                    collect_cycles!();
                    if fiber.yieldable {
                        leave!(Stop::Yield);
                    }
                }
                continue;
            }};
        }
        macro_rules! top_int_op {
            ($k:expr, $fast:expr) => {{
                if let Value::Int(x) = peek!(1) {
                    if let Some(r) = $fast(*x, $k as i64) {
                        unsafe { sp.sub(1).write(Value::int_whole(r)) };
                        continue;
                    }
                }
            }};
        }
        // Two ints; the top one needs no drop.
        macro_rules! int_binary {
            ($fast:expr) => {{
                if let (Value::Int(x), Value::Int(y)) = (peek!(2), peek!(1)) {
                    if let Some(r) = $fast(*x, *y) {
                        sp = unsafe { sp.sub(1) };
                        unsafe { sp.sub(1).write(Value::int_whole(r)) };
                        continue;
                    }
                }
            }};
        }
        // Ints first; then floats, and an int with a float, computed as floats (what
        // `ops::binary` does, minus its dispatch).
        macro_rules! num_binary {
            ($int:expr, $float:expr) => {{
                match (peek!(2), peek!(1)) {
                    (Value::Int(x), Value::Int(y)) => {
                        if let Some(r) = $int(*x, *y) {
                            sp = unsafe { sp.sub(1) };
                            unsafe { sp.sub(1).write(Value::int_whole(r)) };
                            continue;
                        }
                    }
                    (
                        a @ (Value::Int(_) | Value::Float(_)),
                        b @ (Value::Int(_) | Value::Float(_)),
                    ) => {
                        let r: f64 = $float(number(a), number(b));
                        sp = unsafe { sp.sub(1) };
                        unsafe { sp.sub(1).write(Value::float_whole(r)) };
                        continue;
                    }
                    _ => {}
                }
            }};
        }
        macro_rules! compare {
            ($cmp:expr) => {{
                if let Some(result) = quick_compare($cmp, peek!(2), peek!(1)) {
                    discard!();
                    set_top!(Value::bool_whole(result));
                    continue;
                }
            }};
        }

        loop {
            // Matched by reference, so each arm loads its own operands from the instruction:
            // matched by value, the compiler extracted every shape's operands from the copied
            // word before the jump, for every instruction.
            let op: &Op = unsafe { &*ops.add(ip) };
            ip += 1;
            match *op {
                Op::SmallInt(n) => {
                    push!(Value::int_whole(n as i64));
                    continue;
                }
                Op::Const(k) => {
                    push!(code!().consts[k as usize].clone());
                    continue;
                }
                Op::Nil => {
                    push!(Value::nil_whole());
                    continue;
                }
                Op::True | Op::False => {
                    push!(Value::bool_whole(matches!(op, Op::True)));
                    continue;
                }
                Op::LoadLocal(n) => {
                    room!(1);
                    let v = local!(n);
                    if !matches!(v, Value::Undefined) {
                        push_unchecked!(v.clone());
                        continue;
                    }
                }
                Op::LoadLocal2(a, b) => {
                    room!(2);
                    let (x, y) = (local!(a), local!(b));
                    if !matches!(x, Value::Undefined) && !matches!(y, Value::Undefined) {
                        push_unchecked!(x.clone());
                        push_unchecked!(y.clone());
                        continue;
                    }
                }
                Op::LoadLocalAttr(slot, n) => {
                    room!(1);
                    if let Value::Record(record) = local!(slot) {
                        if let Some(i) =
                            inline_cache::field(site!(), record, move || code!().names[n as usize])
                        {
                            push_unchecked!(record.fields()[i].clone());
                            continue;
                        }
                    }
                }
                Op::StoreLocal(n) => {
                    let v = pop!();
                    store(local!(n), v);
                    continue;
                }
                Op::LoadGlobal(n) => {
                    let v = &self.globals[n as usize];
                    if !matches!(v, Value::Undefined) {
                        push!(v.clone());
                        continue;
                    }
                }
                Op::StoreGlobal(n) => {
                    let v = pop!();
                    store(&mut self.globals[n as usize], v);
                    continue;
                }
                Op::LoadBuiltin(n) => {
                    push!(self.builtins[n as usize].clone());
                    continue;
                }
                Op::LoadCapture(n) => {
                    let v = unsafe { &(*closure).captures }[n as usize].borrow().clone();
                    if !matches!(v, Value::Undefined) {
                        push!(v);
                        continue;
                    }
                }
                Op::Dup => {
                    room!(1);
                    push_unchecked!(peek!(1).clone());
                    continue;
                }
                Op::Swap => {
                    unsafe { ptr::swap(sp.sub(1), sp.sub(2)) };
                    continue;
                }
                Op::Pop => {
                    discard!();
                    continue;
                }
                Op::Add | Op::AddInPlace => num_binary!(i64::checked_add, |x: f64, y: f64| x + y),
                Op::Sub => num_binary!(i64::checked_sub, |x: f64, y: f64| x - y),
                Op::Mul => num_binary!(i64::checked_mul, |x: f64, y: f64| x * y),
                Op::Div => {
                    // `/` is always a float; by zero it faults (the general path says so).
                    if let (
                        a @ (Value::Int(_) | Value::Float(_)),
                        b @ (Value::Int(_) | Value::Float(_)),
                    ) = (peek!(2), peek!(1))
                    {
                        let divisor = number(b);
                        if divisor != 0.0 {
                            let r = number(a) / divisor;
                            sp = unsafe { sp.sub(1) };
                            unsafe { sp.sub(1).write(Value::float_whole(r)) };
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
                    if let Value::Int(x) = *local!(slot) {
                        let r = if let Op::LocalAddInt(..) = op {
                            x.checked_add(k as i64)
                        } else {
                            x.checked_sub(k as i64)
                        };
                        if let Some(r) = r {
                            push!(Value::int_whole(r));
                            continue;
                        }
                    }
                }
                Op::AddLocalConst(slot, k) => {
                    if let (Value::Int(x), Value::Int(y)) =
                        (local!(slot), &code!().consts[k as usize])
                    {
                        if let Some(r) = x.checked_add(*y) {
                            unsafe { locals.add(slot as usize).write(Value::int_whole(r)) };
                            continue;
                        }
                    }
                }
                Op::Lt => compare!(Cmp::Lt),
                Op::Le => compare!(Cmp::Le),
                Op::Gt => compare!(Cmp::Gt),
                Op::Ge => compare!(Cmp::Ge),
                Op::Eq => compare!(Cmp::Eq),
                Op::Ne => compare!(Cmp::Ne),
                Op::Is | Op::IsNot => {
                    let same = peek!(2).same(peek!(1)) == matches!(op, Op::Is);
                    discard!();
                    set_top!(Value::bool_whole(same));
                    continue;
                }
                Op::Not => {
                    let truthy = peek!(1).truthy();
                    set_top!(Value::bool_whole(!truthy));
                    continue;
                }

                Op::JumpIf(cmp, target) | Op::JumpUnless(cmp, target) => {
                    let holds = if let Some(holds) = quick_compare(cmp, peek!(2), peek!(1)) {
                        // Released one by one: a record compared with nil is dropped out of
                        // line, and an int costs nothing.
                        discard!();
                        discard!();
                        holds
                    } else {
                        sync!();
                        let holds = self.compare_slow(fiber, cmp);
                        resync!();
                        match holds {
                            Ok(holds) => holds,
                            Err(fault) => {
                                save_ip!();
                                leave!(Stop::Faulted(fault));
                            }
                        }
                    };
                    if holds == matches!(op, Op::JumpIf(..)) {
                        ip = target as usize;
                    }
                    continue;
                }
                Op::JumpUnlessLocalLtInt(slot, k, target) => {
                    if let Value::Int(x) = *local!(slot) {
                        if x >= k as i64 {
                            ip = target as usize;
                        }
                        continue;
                    }
                    let x = local!(slot).clone();
                    push!(x);
                    push!(Value::Int(k as i64));
                    sync!();
                    let holds = self.compare_slow(fiber, Cmp::Lt);
                    resync!();
                    match holds {
                        Ok(true) => {}
                        Ok(false) => ip = target as usize,
                        Err(fault) => {
                            save_ip!();
                            leave!(Stop::Faulted(fault));
                        }
                    }
                    continue;
                }
                Op::JumpIfNil(target) | Op::JumpUnlessNil(target) => {
                    if matches!(peek!(1), Value::Nil) == matches!(op, Op::JumpIfNil(_)) {
                        ip = target as usize;
                    }
                    discard!();
                    continue;
                }
                Op::Jump(target) => {
                    let target = target as usize;
                    if target < ip {
                        // A loop's back edge: spend budget (see BUDGET).
                        budget -= 1;
                        if budget == 0 {
                            budget = BUDGET;
                            collect_cycles!();
                            if fiber.yieldable {
                                ip = target;
                                save_ip!();
                                leave!(Stop::Yield);
                            }
                        }
                    }
                    ip = target;
                    continue;
                }
                Op::JumpIfFalse(target) | Op::JumpIfTrue(target) => {
                    if peek!(1).truthy() == matches!(op, Op::JumpIfTrue(_)) {
                        ip = target as usize;
                    }
                    discard!();
                    continue;
                }
                Op::JumpIfFalseOrPop(target) | Op::JumpIfTrueOrPop(target) => {
                    if peek!(1).truthy() == matches!(op, Op::JumpIfTrueOrPop(_)) {
                        ip = target as usize;
                    } else {
                        discard!();
                    }
                    continue;
                }

                Op::GetAttr(n) => {
                    if let Value::Record(record) = peek!(1) {
                        if let Some(i) =
                            inline_cache::field(site!(), record, move || code!().names[n as usize])
                        {
                            let v = record.fields()[i].clone();
                            if let Value::Record(record) = std::mem::replace(peek!(1), v) {
                                drop(record);
                            }
                            continue;
                        }
                    }
                }
                Op::SetAttr(n) => {
                    // value, record on top.
                    if let Value::Record(record) = peek!(1) {
                        if let Some(i) =
                            inline_cache::field(site!(), record, move || code!().names[n as usize])
                        {
                            if let Value::Record(record) = pop!() {
                                let value = pop!();
                                store(&mut record.fields_mut()[i], value);
                            }
                            continue;
                        }
                    }
                }
                Op::SetIndex => {
                    // `xs[i] = v` with an int index inside the list; anything else (a negative
                    // or too large index, a dict, a fault) goes the general way.
                    if let (Value::List(items), Value::Int(i)) = (peek!(2), peek!(1)) {
                        let at = *i as usize;
                        let inside = *i >= 0 && at < items.borrow().len();
                        if inside {
                            sp = unsafe { sp.sub(1) };
                            let list = pop!();
                            let value = pop!();
                            if let Value::List(items) = &list {
                                store(&mut items.borrow_mut()[at], value);
                            }
                            release(list);
                            continue;
                        }
                    }
                }
                Op::GetIndex => {
                    if let (Value::List(items), Value::Int(i)) = (peek!(2), peek!(1)) {
                        let item = if *i >= 0 {
                            items.borrow().get(*i as usize).cloned()
                        } else {
                            None
                        };
                        if let Some(item) = item {
                            sp = unsafe { sp.sub(1) };
                            if let Value::List(list) = std::mem::replace(peek!(1), item) {
                                drop(list);
                            }
                            continue;
                        }
                    }
                }

                Op::Call(argc) => {
                    let argc = argc as usize;
                    let callee = unsafe { sp.sub(argc + 1) };
                    let slot = unsafe { &mut *callee };
                    let exact = matches!(slot, Value::Function(f) if f.code.arity as usize == argc);
                    if exact && fiber.frames.len() < MAX_FRAMES {
                        if let Value::Function(f) = std::mem::take(slot) {
                            save_ip!();
                            let ret = index!(callee);
                            enter!(f, ret + 1, ret, argc);
                        }
                    }
                    if let Value::Native(native) = slot {
                        // A native (`len(xs)`) is called on the arguments where they stand; it
                        // cannot reach this fiber's stack, only the `Vm`.
                        save_ip!();
                        let result = {
                            let positional = unsafe {
                                std::slice::from_raw_parts(callee.add(1).cast_const(), argc)
                            };
                            native.call(self, crate::args::Args::new(&native.name, positional))
                        };
                        match result {
                            Ok(v) => {
                                while sp > unsafe { callee.add(1) } {
                                    discard!();
                                }
                                store(peek!(1), v);
                                if self.suspended.is_some() {
                                    // The native asked to wait: its placeholder result goes,
                                    // the driver pushes the real one (as after `cold_op`).
                                    discard!();
                                    leave!(Stop::Await);
                                }
                                continue;
                            }
                            Err(fault) => leave!(Stop::Faulted(fault)),
                        }
                    }
                    if let Value::Type(ty) = slot {
                        if ty.fields.len() == argc {
                            // Every field given positionally: build the record from the stack.
                            let ty = ty.clone();
                            // SAFETY: the arguments are moved into the record and the stack
                            // forgets them.
                            let record = unsafe { Record::value_from_raw(ty, callee.add(1), argc) };
                            sp = unsafe { callee.add(1) };
                            store(peek!(1), record);
                            continue;
                        }
                    }
                }
                Op::CallGlobal(_, argc) | Op::CallLocal(_, argc) => {
                    let argc = argc as usize;
                    let callee = match *op {
                        Op::CallGlobal(g, _) => &self.globals[g as usize],
                        Op::CallLocal(slot, _) => &*local!(slot),
                        _ => &Value::Nil,
                    };
                    match callee {
                        Value::Function(f)
                            if f.code.arity as usize == argc && fiber.frames.len() < MAX_FRAMES =>
                        {
                            // The arguments become the callee's first locals where they stand;
                            // the result replaces the first of them.
                            let f = f.clone();
                            save_ip!();
                            let at = index!(sp.sub(argc));
                            enter!(f, at, at, argc);
                        }
                        Value::Type(ty) if ty.fields.len() == argc => {
                            let ty = ty.clone();
                            sp = unsafe { sp.sub(argc) };
                            // SAFETY: as in `Call`.
                            let record = unsafe { Record::value_from_raw(ty, sp, argc) };
                            push!(record);
                            continue;
                        }
                        _ => {}
                    }
                }
                Op::CallMethod(n, argc) => {
                    let name = code!().names[n as usize];
                    let argc = argc as usize;
                    let receiver = unsafe { sp.sub(argc + 1) };
                    match (unsafe { &*receiver }, name) {
                        (Value::Record(record), _) => {
                            match inline_cache::callee(site!(), record, name) {
                                Some(inline_cache::Callee::Method(i)) => {
                                    if let Some((_, Value::Function(method))) =
                                        record.ty.methods.get(i)
                                    {
                                        if method.code.arity as usize == argc + 1
                                            && fiber.frames.len() < MAX_FRAMES
                                        {
                                            // The receiver becomes local 0 (`self`) where it
                                            // stands.
                                            save_ip!();
                                            let method = method.clone();
                                            let at = index!(receiver);
                                            enter!(method, at, at, argc + 1);
                                        }
                                    }
                                }
                                Some(inline_cache::Callee::Field(i)) => {
                                    // A function kept in a field: called like `Call`, the
                                    // record's slot becomes the callee's.
                                    let field = match record.fields().get(i) {
                                        Some(Value::Function(f))
                                            if f.code.arity as usize == argc
                                                && fiber.frames.len() < MAX_FRAMES =>
                                        {
                                            Some(f.clone())
                                        }
                                        _ => None,
                                    };
                                    if let Some(f) = field {
                                        save_ip!();
                                        release(std::mem::take(unsafe { &mut *receiver }));
                                        let at = index!(receiver);
                                        enter!(f, at + 1, at, argc);
                                    }
                                }
                                None => {}
                            }
                        }
                        (Value::List(_), symbol::APPEND) if argc == 1 => {
                            // The receiver slot becomes the result (nil); the list is moved out
                            // of it rather than cloned.
                            let v = pop!();
                            if let Value::List(list) = std::mem::take(peek!(1)) {
                                list.borrow_mut().push(v);
                            }
                            continue;
                        }
                        (Value::Dict(dict), symbol::GET) if argc == 1 || argc == 2 => {
                            let key = unsafe { &*receiver.add(1) }.clone();
                            if let Ok(key) = crate::dict::Key::new(key) {
                                let found = dict.lookup(&key);
                                let v = match found {
                                    Some(v) => v,
                                    None if argc == 2 => pop!(),
                                    None => Value::Nil,
                                };
                                while sp > receiver {
                                    discard!();
                                }
                                push!(v);
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
                        let value = pop!();
                        if let Some(frame) = fiber.frames.pop() {
                            let ret = unsafe { fiber.stack.as_mut_ptr().add(frame.ret) };
                            while sp > ret {
                                discard!();
                            }
                        }
                        push!(value);
                        reload_frame!();
                        continue;
                    }
                    let value = pop!();
                    save_ip!();
                    sync!();
                    match self.finish_return(fiber, stop, value) {
                        Ok(ReturnOutcome::Finished(v)) => return Stop::Returned(v),
                        Ok(ReturnOutcome::Switched) => {
                            reload_frame!();
                            resync!();
                        }
                        Ok(ReturnOutcome::ResumeUnwind) => return Stop::CleanupDone,
                        Err(fault) => return Stop::Faulted(fault),
                    }
                    continue;
                }

                Op::ForIterLocal(slot, target) => {
                    // Lists, the common case, are stepped here and the item is stored in the
                    // loop variable from the arm that read it (no merged temporary).
                    let Value::Iterator(it) = peek!(1) else {
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
                                store(local!(slot), Value::int_whole(n));
                            }
                            Some(other) => {
                                let v = other.clone();
                                *i += 1;
                                drop(list);
                                store(local!(slot), v);
                            }
                            None => ip = target as usize,
                        }
                        continue;
                    }
                    match state.step() {
                        Ok(StreamStep::Item(v)) => store(local!(slot), v),
                        Ok(StreamStep::Done) => ip = target as usize,
                        Ok(StreamStep::Wait(wait)) => {
                            drop(state);
                            sync!();
                            self.wait_for_stream(fiber, wait);
                            ip -= 1;
                            save_ip!();
                            return Stop::Await;
                        }
                        Err(fault) => {
                            save_ip!();
                            leave!(Stop::Faulted(fault));
                        }
                    }
                    continue;
                }
                Op::ForIter(target) => {
                    let next = match peek!(1) {
                        Value::Iterator(it) => {
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
                        Ok(StreamStep::Item(v)) => push!(v),
                        Ok(StreamStep::Done) => ip = target as usize,
                        Ok(StreamStep::Wait(wait)) => {
                            sync!();
                            self.wait_for_stream(fiber, wait);
                            ip -= 1;
                            save_ip!();
                            return Stop::Await;
                        }
                        Err(fault) => {
                            save_ip!();
                            leave!(Stop::Faulted(fault));
                        }
                    }
                    continue;
                }
                Op::ForRange(slot, target) => {
                    if let (Value::Int(current), Value::Int(end)) =
                        (local!(slot), local!(slot as usize + 1))
                    {
                        if *current < *end {
                            let value = *current;
                            *current += 1;
                            push!(Value::int_whole(value));
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
            sync!();
            let flow = self.cold_op(fiber, code!(), index!(locals), *op);
            match flow {
                Ok(Flow::Next) => {
                    if self.suspended.is_some() {
                        // A native asked to wait: its placeholder result goes, the driver
                        // pushes the real one.
                        fiber.stack.pop();
                        return Stop::Await;
                    }
                    resync!();
                }
                Ok(Flow::Reload) => {
                    reload_frame!();
                    resync!();
                }
                Ok(Flow::Return(value)) => match self.finish_return(fiber, stop, value) {
                    Ok(ReturnOutcome::Finished(v)) => return Stop::Returned(v),
                    Ok(ReturnOutcome::Switched) => {
                        reload_frame!();
                        resync!();
                    }
                    Ok(ReturnOutcome::ResumeUnwind) => return Stop::CleanupDone,
                    Err(fault) => return Stop::Faulted(fault),
                },
                Err(fault) => return Stop::Faulted(fault),
            }
        }
    }
}
