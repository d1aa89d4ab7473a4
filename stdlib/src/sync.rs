//! `sync`: channels between tasks.
//!
//! `sync.Channel(capacity=1)` is a buffered FIFO channel as in Go: `send(v)` waits while the
//! buffer is full, `recv()` waits while it is empty and returns `Ok(v)`, or `Err(Closed)` once
//! the channel is closed and drained. Sending on a closed channel faults (a bug, as in Go).
//! Both ends take the fast path without waiting whenever they can, so a busy channel costs no
//! scheduler round trip per message. `for v in ch:` receives until the channel is closed and
//! drained, as Go's `for v := range ch`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;

use cn_runtime::native::{
    Function, Member, Members, ModuleBuilder, NativeStream, Params, StreamStep, Table,
};
use cn_runtime::object::{Iter, NativeObject, NativeType, Variant};
use cn_runtime::{Args, Fault, Value, Vm};

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("Channel", channel)
        .doc("Channel(capacity=1)\nA buffered FIFO channel between tasks, as in Go: `send` waits while it is full, `recv` while it is empty.")
        .params(Params::between(0, 1).keywords(&["capacity"])),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Channels between tasks.").functions(FUNCTIONS).value(
        "Closed",
        "Closed\nThe error `recv` returns once the channel is closed and drained: `Err(Closed)`.",
        closed_error(),
    );
}

/// The error `recv` returns on a closed, drained channel.
fn closed_error() -> Value {
    Variant::value("sync", "Closed", Vec::new())
}

/// sync.Channel(capacity=1)
fn channel(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
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
        match self.take() {
            Some(value) => Some(Value::ok(value)),
            None if self.closed.get() => Some(Value::err(closed_error())),
            None => None,
        }
    }

    /// The oldest buffered value, making room for a waiting sender.
    fn take(&self) -> Option<Value> {
        let value = self.buffer.borrow_mut().pop_front();
        if value.is_some() {
            self.writable.notify_one();
        }
        value
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
        let state = self.0.clone();
        if state.closed.get() {
            return Err(Fault::new("send on a closed channel"));
        }
        let value = match state.try_send(args.value(0)?.clone()) {
            Ok(()) => return Ok(Value::Nil),
            Err(value) => value,
        };
        Ok(vm.suspend_on_tasks(async move {
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

    fn recv(&self, vm: &mut Vm) -> Result<Value, Fault> {
        let state = self.0.clone();
        if let Some(result) = state.try_recv() {
            return Ok(result);
        }
        Ok(vm.suspend_on_tasks(async move {
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

/// A `for` loop over a channel: each step takes a value, or waits for one, and the loop ends
/// once the channel is closed and drained.
struct Receiving(Rc<State>);

impl NativeStream for Receiving {
    fn waits_on_tasks(&self) -> bool {
        true
    }

    fn next(&mut self) -> Result<StreamStep, Fault> {
        if let Some(value) = self.0.take() {
            return Ok(StreamStep::Item(value));
        }
        if self.0.closed.get() {
            return Ok(StreamStep::Done);
        }
        let state = self.0.clone();
        // Woken by a send or by `close`; the loop then asks again.
        Ok(StreamStep::Wait(Box::pin(async move {
            state.readable.notified().await;
            Ok(())
        })))
    }
}

type M = Member<Channel>;

/// What `sync.Channel(..)` returns.
static CHANNEL: Table<Channel> = Table::new(
    "sync.Channel",
    "A buffered FIFO channel between tasks. Sending on a closed channel faults.",
    &[
        M::method("send", |c, vm, args| c.send(vm, &args))
            .doc("send(value)\nPuts `value` in the channel, waiting while it is full.")
            .params(Params::exactly(1)),
        M::method("recv", |c, vm, _| c.recv(vm)).doc(
            "recv()\nWaits for a value: `Ok(value)`, or `Err(Closed)` once closed and drained.",
        ),
        M::method("close", |c, _, _| {
            c.close();
            Ok(Value::Nil)
        })
        .doc("close()\nCloses the channel: receivers drain what is left, then get `Err(Closed)`."),
        M::method("len", |c, _, _| {
            Ok(Value::Int(c.0.buffer.borrow().len() as i64))
        })
        .doc("len()\nHow many values are waiting in the buffer."),
        M::method("closed", |c, _, _| Ok(Value::Bool(c.0.closed.get())))
            .doc("closed()\nWhether the channel has been closed."),
    ],
);

impl NativeType for Channel {
    fn type_name(&self) -> &str {
        "sync.Channel"
    }

    /// `for job in jobs:` receives until the channel is closed and drained.
    fn iterate(&self) -> Option<Iter> {
        Some(Iter::Native(Box::new(Receiving(self.0.clone()))))
    }

    fn members(&self) -> &'static dyn Members {
        &CHANNEL
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
