//! `resources.informer(namespace=, labels=, fields=)`: a cache of one kind kept current by the
//! same watcher as `watch` (watch.rs), with `get(name)`, `list()` and `on_add` / `on_update` /
//! `on_delete` callbacks. Creating one waits for the first list, so the cache is complete when
//! the script sees it, and a server that cannot be reached then is an `Err`; afterwards the
//! watcher reconnects on its own. The callbacks run one at a time, in the order of the changes;
//! those registered before the script next waits also see the first list, as adds.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures_util::StreamExt;
use tokio::sync::Notify;

use cn_runtime::fault::FaultKind;
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::tasks::{Lifecycle, VmRef};
use cn_runtime::{Fault, Value, Vm};

use super::errors::err_value;
use super::watch::{next_event, Change, Events, Seen};

/// What the informer's value and its background loop share.
struct State {
    seen: RefCell<Seen>,
    namespace: String,
    kind: String,
    on_add: RefCell<Vec<Value>>,
    on_update: RefCell<Vec<Value>>,
    on_delete: RefCell<Vec<Value>>,
    stopped: std::cell::Cell<bool>,
    stop: Notify,
}

/// An informer value.
pub struct Informer(Rc<State>);

type M = Member<Informer>;

/// Registers a callback in `list`; returns it, so the method also works as a decorator.
fn register(list: &RefCell<Vec<Value>>, args: &cn_runtime::Args<'_>) -> Result<Value, Fault> {
    let callback = args.value(0)?.clone();
    if !callback.is_callable() {
        return Err(args.wrong_type(0, "function", &callback));
    }
    list.borrow_mut().push(callback.clone());
    Ok(callback)
}

static INFORMER: Table<Informer> = Table::new(
    "k8s.Informer",
    "A cache of one kind kept current by a watch, with callbacks on its changes.",
    &[
        M::method("get", |i, _vm, args| {
            let name = args.str(0)?;
            let namespace = match args.named("namespace") {
                Some(Value::Str(ns)) => ns.as_str().to_string(),
                _ => i.0.namespace.clone(),
            };
            Ok(i.0.seen.borrow().get(&namespace, name).unwrap_or_default())
        })
        .doc("get(name, namespace=)\nThe cached object, or nil.")
        .params(Params::exactly(1).keywords(&["namespace"])),
        M::method("list", |i, _vm, _args| {
            Ok(Value::list(i.0.seen.borrow().list()))
        })
        .doc("list()\nEvery cached object, by namespace and name.")
        .params(Params::exactly(0)),
        M::method("on_add", |i, _vm, args| register(&i.0.on_add, &args))
            .doc("on_add(f)\nCalls `f(obj)` for each object added; returns `f` (a decorator).")
            .params(Params::exactly(1)),
        M::method("on_update", |i, _vm, args| register(&i.0.on_update, &args))
            .doc("on_update(f)\nCalls `f(old, new)` for each change; returns `f` (a decorator).")
            .params(Params::exactly(1)),
        M::method("on_delete", |i, _vm, args| register(&i.0.on_delete, &args))
            .doc("on_delete(f)\nCalls `f(obj)` with the last state of each deleted object; returns `f`.")
            .params(Params::exactly(1)),
        M::method("stop", |i, _vm, _args| {
            i.0.stopped.set(true);
            i.0.stop.notify_waiters();
            Ok(Value::Nil)
        })
        .doc("stop()\nStops watching (the cache keeps what it has).")
        .params(Params::exactly(0)),
    ],
);

impl NativeType for Informer {
    fn type_name(&self) -> &str {
        "k8s.Informer"
    }

    fn members(&self) -> &'static dyn Members {
        &INFORMER
    }

    fn display(&self) -> String {
        format!(
            "<k8s.Informer {} ({} cached)>",
            self.0.kind,
            self.0.seen.borrow().list().len()
        )
    }
}

/// Starts an informer over `events`: waits for the first list, then keeps the cache current in
/// the background. `Ok(informer)`, or the first list's error.
pub fn start(vm: &mut Vm, events: Events, namespace: String, kind: String) -> Value {
    let handle = vm.handle();
    let lifecycle = vm.lifecycle.clone();
    vm.suspend(async move {
        let mut events = events;
        let state = Rc::new(State {
            seen: RefCell::new(Seen::default()),
            namespace,
            kind,
            on_add: RefCell::default(),
            on_update: RefCell::default(),
            on_delete: RefCell::default(),
            stopped: Default::default(),
            stop: Notify::new(),
        });
        let mut first = VecDeque::new();
        while !state.seen.borrow().synced {
            match events.next().await {
                Some(Ok(event)) => first.extend(state.seen.borrow_mut().apply(event)),
                Some(Err(error)) => {
                    return Ok(match error {
                        kube::runtime::watcher::Error::InitialListFailed(error) => {
                            err_value(&error)
                        }
                        other => err_value(&kube::Error::Service(Box::new(other))),
                    })
                }
                None => break,
            }
        }
        let background = Background {
            state: state.clone(),
            vm: handle,
            lifecycle,
        };
        tokio::task::spawn_local(background.run(events, first));
        Ok(Value::ok(NativeObject::value(Informer(state))))
    })
}

/// The loop that keeps an informer's cache current and calls its callbacks.
struct Background {
    state: Rc<State>,
    vm: VmRef,
    lifecycle: Rc<Lifecycle>,
}

impl Background {
    async fn run(self, mut events: Events, first: VecDeque<Change>) {
        for change in first {
            self.tell(change).await;
        }
        let kind = self.state.kind.clone();
        loop {
            if self.state.stopped.get() {
                return;
            }
            let next = tokio::select! {
                _ = self.state.stop.notified() => return,
                next = next_event(&mut events, &self.vm, &kind, &self.lifecycle) => next,
            };
            let Some(event) = next else { return };
            let changes = self.state.seen.borrow_mut().apply(event);
            for change in changes {
                self.tell(change).await;
            }
        }
    }

    /// Calls the callbacks for one change, one after the other; a fault is reported and the
    /// informer goes on.
    async fn tell(&self, change: Change) {
        let (callbacks, args) = match change {
            Change::Added(object) => (self.state.on_add.borrow().clone(), vec![object]),
            Change::Modified { old, new } => {
                (self.state.on_update.borrow().clone(), vec![old, new])
            }
            Change::Deleted(object) => (self.state.on_delete.borrow().clone(), vec![object]),
        };
        for callback in callbacks {
            let call = match self.vm.try_borrow_mut() {
                Ok(mut vm) => vm.start_callback(callback, args.clone()),
                Err(_) => return,
            };
            if let Err(fault) = call.result().await {
                if fault.kind == FaultKind::Error {
                    if let Ok(mut vm) = self.vm.try_borrow_mut() {
                        vm.flush();
                    }
                    eprint!("{}", fault.report());
                    eprintln!("note: raised by a k8s informer callback");
                }
            }
        }
    }
}
