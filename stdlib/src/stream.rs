//! A library's async stream of values as a cn stream (`for x in ...`, `NativeStream`): each
//! step the loop cannot take at once waits for the stream's next item. The stream ends when its
//! source does, or when shutdown starts, so a loop over it in `main` lets the process stop.
//! Used by `k8s` (watch events, followed logs).

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::{Stream, StreamExt};

use cn_runtime::iter::iterator_value;
use cn_runtime::native::{NativeStream, StreamStep};
use cn_runtime::object::Iter;
use cn_runtime::tasks::Lifecycle;
use cn_runtime::{Fault, Value};

/// The items: values, or a fault that ends the loop with it.
pub type Items = Pin<Box<dyn Stream<Item = Result<Value, Fault>>>>;

#[derive(Default)]
struct Slot {
    /// The item the last wait brought.
    ready: Option<Result<Value, Fault>>,
    /// The source; a wait holds it while it polls.
    items: Option<Items>,
    ended: bool,
}

struct Adapter {
    slot: Rc<RefCell<Slot>>,
    lifecycle: Rc<Lifecycle>,
}

impl NativeStream for Adapter {
    fn next(&mut self) -> Result<StreamStep, Fault> {
        let mut slot = self.slot.borrow_mut();
        match slot.ready.take() {
            Some(Ok(value)) => return Ok(StreamStep::Item(value)),
            Some(Err(fault)) => {
                slot.ended = true;
                return Err(fault);
            }
            None => {}
        }
        let mut items = match slot.items.take() {
            Some(items) if !slot.ended => items,
            _ => return Ok(StreamStep::Done),
        };
        drop(slot);
        let (slot, lifecycle) = (self.slot.clone(), self.lifecycle.clone());
        Ok(StreamStep::Wait(Box::pin(async move {
            let next = tokio::select! {
                biased;
                _ = lifecycle.wait_for_stop() => None,
                next = items.next() => next,
            };
            let mut slot = slot.borrow_mut();
            match next {
                Some(item) => {
                    slot.ready = Some(item);
                    slot.items = Some(items);
                }
                None => slot.ended = true,
            }
            Ok(())
        })))
    }
}

/// The iterator value over `items`.
pub fn value(items: Items, lifecycle: Rc<Lifecycle>) -> Value {
    let slot = Rc::new(RefCell::new(Slot {
        items: Some(items),
        ..Slot::default()
    }));
    iterator_value(Iter::Native(Box::new(Adapter { slot, lifecycle })))
}
