//! Iteration: turning a value into an [`Iter`] and stepping it.

use std::rc::Rc;

use crate::fault::Fault;
use crate::fiber::Fiber;
use crate::native::{StreamStep, StreamWait};
use crate::object::Iter;
use crate::value::Value;
use crate::vm::Vm;

/// Starts iterating over `value` (`for x in value`).
pub fn iterate(value: &Value) -> Result<Iter, Fault> {
    Ok(match value {
        Value::List(items) => Iter::List(items.clone(), 0),
        Value::Tuple(items) => Iter::Tuple(items.clone(), 0),
        Value::Str(s) => Iter::Str(s.clone(), 0),
        Value::Bytes(b) => Iter::Bytes(b.clone(), 0),
        Value::Dict(d) => {
            let len = d.borrow().len();
            Iter::Dict(d.clone(), 0, len)
        }
        Value::Range(r) => Iter::Range(**r, 0),
        // A snapshot: the loop may change the set it walks.
        Value::Set(s) => Iter::Values(
            s.borrow()
                .iter()
                .map(|k| k.value().clone())
                .collect::<Vec<_>>()
                .into_iter(),
        ),
        // The Ok of a Result is iterated as its value (`for pod in client.pods.list()`, as the
        // seed writes it); an Err cannot be, and the fault shows it rather than looping zero times.
        Value::Variant(variant) if variant.is_ok() => {
            return iterate(&variant.payload.first().cloned().unwrap_or_default())
        }
        Value::Variant(variant) if variant.is_err() => {
            return Err(Fault::new(format!(
                "cannot iterate over {}",
                crate::format::display_limited(value, 300)
            )))
        }
        Value::Iterator(it) => {
            // Iterating an iterator continues it: take its state, leaving it exhausted.
            std::mem::replace(&mut *it.borrow_mut(), Iter::Values(Vec::new().into_iter()))
        }
        Value::Object(object) => match object.inner.iterate() {
            Some(iter) => iter,
            None => {
                return Err(Fault::new(format!(
                    "{} is not iterable",
                    object.type_name()
                )))
            }
        },
        other => return Err(Fault::new(format!("{} is not iterable", other.type_name()))),
    })
}

impl Iter {
    /// Whether its waits are for other tasks only (a channel), for deadlock reports.
    pub(crate) fn waits_on_tasks(&self) -> bool {
        matches!(self, Iter::Native(stream) if stream.waits_on_tasks())
    }

    /// The next step as a `for` loop takes it: a stream may ask the loop to wait.
    pub fn step(&mut self) -> Result<StreamStep, Fault> {
        match self {
            Iter::Native(stream) => stream.next(),
            other => Ok(match other.next_value()? {
                Some(v) => StreamStep::Item(v),
                None => StreamStep::Done,
            }),
        }
    }

    /// The next value, `None` when exhausted.
    pub fn next_value(&mut self) -> Result<Option<Value>, Fault> {
        Ok(match self {
            Iter::List(items, i) => {
                let items = items.borrow();
                let v = items.get(*i).cloned();
                *i += 1;
                v
            }
            Iter::Tuple(items, i) => {
                let v = items.get(*i).cloned();
                *i += 1;
                v
            }
            Iter::Str(s, offset) => {
                let c = s[*offset..].chars().next();
                c.map(|c| {
                    *offset += c.len_utf8();
                    Value::str(c.to_string())
                })
            }
            Iter::Bytes(data, i) => {
                let v = data.get(*i).map(|&byte| Value::Int(i64::from(byte)));
                *i += 1;
                v
            }
            Iter::Dict(d, i, len) => {
                let d = d.borrow();
                if d.len() != *len {
                    return Err(Fault::new("dict changed size during iteration"));
                }
                let v = d.get_index(*i).map(|(k, _)| k.value().clone());
                *i += 1;
                v
            }
            Iter::Range(r, i) => {
                let v = r.get(*i).map(Value::Int);
                *i += 1;
                v
            }
            Iter::Enumerate(inner, n) => match inner.next_value()? {
                Some(v) => {
                    let item = Value::tuple(vec![Value::Int(*n), v]);
                    *n += 1;
                    Some(item)
                }
                None => None,
            },
            Iter::Zip(iters) => {
                let mut items = Vec::with_capacity(iters.len());
                for it in iters.iter_mut() {
                    match it.next_value()? {
                        Some(v) => items.push(v),
                        None => return Ok(None),
                    }
                }
                if items.is_empty() {
                    None
                } else {
                    Some(Value::tuple(items))
                }
            }
            Iter::Values(values) => values.next(),
            Iter::Native(stream) => {
                match stream.next()? {
                    StreamStep::Item(v) => Some(v),
                    StreamStep::Done => None,
                    StreamStep::Wait(_) => return Err(Fault::new(
                        "cannot wait here: this stream's items arrive over time; step it with a \
                         `for` loop",
                    )),
                }
            }
        })
    }
}

/// Collects every value of an iterable into a vector (`list(x)`, `sorted(x)`, `sum(x)`).
pub fn collect(value: &Value) -> Result<Vec<Value>, Fault> {
    match value {
        Value::List(items) => Ok(items.borrow().clone()),
        Value::Tuple(items) => Ok(items.to_vec()),
        _ => {
            let mut it = iterate(value)?;
            let mut out = Vec::new();
            while let Some(v) = it.next_value()? {
                out.push(v);
            }
            Ok(out)
        }
    }
}

/// An iterator value wrapping `iter` (what `enumerate` and `zip` return).
pub fn iterator_value(iter: Iter) -> Value {
    Value::Iterator(Rc::new(std::cell::RefCell::new(iter)))
}

impl Vm {
    /// A `for` loop's stream has nothing ready: the loop's iterator (on top of `fiber`'s stack)
    /// is taken off and handed back by the wait, so the loop instruction runs again on the same
    /// stack once the stream has its next step.
    pub(crate) fn wait_for_stream(&mut self, fiber: &mut Fiber, wait: StreamWait) {
        let iterator = fiber.stack.pop().unwrap_or_default();
        self.waits_on_tasks = match &iterator {
            Value::Iterator(it) => it.try_borrow().is_ok_and(|it| it.waits_on_tasks()),
            _ => false,
        };
        self.suspended = Some(Box::pin(async move {
            wait.await?;
            Ok(iterator)
        }));
    }
}
