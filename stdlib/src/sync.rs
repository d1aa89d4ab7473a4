//! `sync`: channels between tasks.
//!
//! `sync.Channel(capacity=1)` is a buffered FIFO channel as in Go: `send(v)` waits while the
//! buffer is full, `recv()` waits while it is empty and returns `Ok(v)`, or `Err(Closed)` once
//! the channel is closed and drained. Sending on a closed channel faults (a bug, as in Go).
//! Both ends take the fast path without waiting whenever they can, so a busy channel costs no
//! scheduler round trip per message.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;

use cn_runtime::object::{NativeFunction, NativeObject, NativeType, Variant};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's members.
pub fn members(_vm: &mut Vm) -> Vec<(&'static str, Value)> {
    vec![
        ("Channel", NativeFunction::value("sync.Channel", channel)),
        ("Closed", closed_error()),
    ]
}

/// The error `recv` returns on a closed, drained channel.
fn closed_error() -> Value {
    Variant::value("sync", "Closed", Vec::new())
}

/// sync.Channel(capacity=1)
fn channel(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    args.allow_named(&["capacity"])?;
    args.expect_count(0, 1)?;
    let capacity = match args.get_or_named(0, "capacity") {
        None => 1,
        Some(Value::Int(n)) if *n >= 1 => *n as usize,
        Some(Value::Int(n)) => {
            return Err(Fault::new(format!(
                "sync.Channel: capacity must be at least 1, got {n}"
            )))
        }
        Some(other) => return Err(args.wrong_type(0, "int", other)),
    };
    Ok(NativeObject::value(Channel(Rc::new(State {
        buffer: RefCell::new(VecDeque::with_capacity(capacity.min(1024))),
        capacity,
        closed: Cell::new(false),
        readable: Notify::new(),
        writable: Notify::new(),
    }))))
}

struct State {
    buffer: RefCell<VecDeque<Value>>,
    capacity: usize,
    closed: Cell<bool>,
    /// Signalled when a value arrives or the channel closes.
    readable: Notify,
    /// Signalled when room appears or the channel closes.
    writable: Notify,
}

impl State {
    /// Takes a value if one is there: `Some(Ok(v))`, `Some(Err(Closed))` when closed and
    /// drained, `None` when the receiver must wait.
    fn try_recv(&self) -> Option<Value> {
        let value = self.buffer.borrow_mut().pop_front();
        match value {
            Some(value) => {
                self.writable.notify_one();
                Some(Value::ok(value))
            }
            None if self.closed.get() => Some(Value::err(closed_error())),
            None => None,
        }
    }

    /// Puts a value if there is room; gives it back when the sender must wait.
    fn try_send(&self, value: Value) -> Result<(), Value> {
        let mut buffer = self.buffer.borrow_mut();
        if buffer.len() < self.capacity {
            buffer.push_back(value);
            self.readable.notify_one();
            Ok(())
        } else {
            Err(value)
        }
    }
}

/// A channel value.
struct Channel(Rc<State>);

impl Channel {
    fn send(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        args.expect_count(1, 1)?;
        let state = self.0.clone();
        if state.closed.get() {
            return Err(Fault::new("send on a closed channel"));
        }
        let value = match state.try_send(args.value(0)?.clone()) {
            Ok(()) => return Ok(Value::Nil),
            Err(value) => value,
        };
        Ok(vm.suspend(async move {
            let mut value = value;
            loop {
                state.writable.notified().await;
                if state.closed.get() {
                    return Err(Fault::new("send on a closed channel"));
                }
                match state.try_send(value) {
                    Ok(()) => return Ok(Value::Nil),
                    Err(back) => value = back,
                }
            }
        }))
    }

    fn recv(&self, vm: &mut Vm, args: &Args<'_>) -> Result<Value, Fault> {
        args.expect_count(0, 0)?;
        let state = self.0.clone();
        if let Some(result) = state.try_recv() {
            return Ok(result);
        }
        Ok(vm.suspend(async move {
            loop {
                state.readable.notified().await;
                if let Some(result) = state.try_recv() {
                    return Ok(result);
                }
            }
        }))
    }

    fn close(&self) {
        if !self.0.closed.replace(true) {
            // Wake every waiter: receivers see Closed once drained, senders fault.
            self.0.readable.notify_waiters();
            self.0.writable.notify_waiters();
            self.0.readable.notify_one();
            self.0.writable.notify_one();
        }
    }
}

impl NativeType for Channel {
    fn type_name(&self) -> &str {
        "sync.Channel"
    }

    fn call_method(
        &self,
        _this: &Rc<NativeObject>,
        vm: &mut Vm,
        name: Symbol,
        args: Args<'_>,
    ) -> Option<Result<Value, Fault>> {
        if let Err(fault) = args.allow_named(&[]) {
            return Some(Err(fault));
        }
        Some(match &*name.name() {
            "send" => self.send(vm, &args),
            "recv" => self.recv(vm, &args),
            "close" => args.expect_count(0, 0).map(|()| {
                self.close();
                Value::Nil
            }),
            "len" => args
                .expect_count(0, 0)
                .map(|()| Value::Int(self.0.buffer.borrow().len() as i64)),
            "closed" => args
                .expect_count(0, 0)
                .map(|()| Value::Bool(self.0.closed.get())),
            _ => return None,
        })
    }

    fn display(&self) -> String {
        format!(
            "<sync.Channel {}/{}{}>",
            self.0.buffer.borrow().len(),
            self.0.capacity,
            if self.0.closed.get() { " closed" } else { "" }
        )
    }
}
