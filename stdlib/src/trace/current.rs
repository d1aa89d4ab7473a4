//! The current span of a task, kept in the task's context (copied into spawned tasks, so they
//! keep their parent span): `trace_id` and `span_id` as lowercase hex strings, which logs and
//! metrics read, and the span itself under `tracing.span`, which tracing reads.
//!
//! When a context holds only the two strings they are taken as a sampled parent without a
//! `tracestate`. The span object is therefore stored only when it says more than that (it
//! records, is not sampled, or carries a `tracestate`): when nothing is exported, a request's
//! span then costs two strings in its context and nothing else.

use std::rc::Rc;

use cn_runtime::object::NativeObject;
use cn_runtime::Value;

use super::span::Span;
use super::span_context::{parse_span_hex, parse_trace_hex, span_hex, trace_hex, SpanContext};

/// Context key of the trace id (32 hex digits).
pub const TRACE_ID: &str = "trace_id";
/// Context key of the current span id (16 hex digits).
pub const SPAN_ID: &str = "span_id";
/// Context key of the current span object; dotted so scripts do not pick it by accident.
pub const SPAN: &str = "tracing.span";

/// A task context, as `Task.context` holds it.
pub type Context = cn_runtime::tasks::ContextValues;

thread_local! {
    /// The keys, made once: inserting into a context then clones an `Rc` instead of allocating.
    static KEYS: [Rc<str>; 3] = [TRACE_ID.into(), SPAN_ID.into(), SPAN.into()];
}

/// The context entries that make a span current.
pub struct Entries {
    /// The trace id `ids` holds in hex.
    pub trace_id: u128,
    /// `trace_id` and `span_id`.
    pub ids: [(Rc<str>, Value); 2],
    /// `tracing.span` and the span object, when the span needs it (see the module docs).
    pub object: Option<(Rc<str>, Value)>,
}

impl Entries {
    /// The entries making `span` current.
    pub fn new(span: Span) -> Entries {
        let [trace, id, handle] = KEYS.with(|keys| keys.clone());
        let ids = [
            (trace, Value::str(trace_hex(span.context.trace_id))),
            (id, Value::str(span_hex(span.context.span_id))),
        ];
        let needed =
            span.is_recording() || !span.context.sampled || span.context.trace_state.is_some();
        Entries {
            trace_id: span.context.trace_id,
            ids,
            object: needed.then(|| (handle, NativeObject::value(span))),
        }
    }

    /// Every entry, to add to a fresh context.
    pub fn iter(&self) -> impl Iterator<Item = &(Rc<str>, Value)> {
        self.ids.iter().chain(&self.object)
    }

    /// The span, if it is kept as an object.
    pub fn span(&self) -> Option<&Span> {
        match &self.object {
            Some((_, Value::Object(object))) => object.downcast::<Span>(),
            _ => None,
        }
    }

    /// Makes the span current in `context`, replacing the current one.
    pub fn install(&self, context: &mut Context) {
        for (key, value) in self.iter() {
            context.insert(key.clone(), value.clone());
        }
        if self.object.is_none() {
            context.remove(SPAN);
        }
    }
}

/// The current span object in `context`, if there is one.
pub fn span_object(context: &Context) -> Option<Rc<NativeObject>> {
    match context.get(SPAN) {
        Some(Value::Object(object)) if object.downcast::<Span>().is_some() => Some(object.clone()),
        _ => None,
    }
}

/// The context of the current span: the span object's, or else one made from valid
/// `trace_id`/`span_id` strings.
pub fn current(context: &Context) -> Option<SpanContext> {
    if let Some(object) = span_object(context) {
        return object.downcast::<Span>().map(|span| span.context.clone());
    }
    let trace_id = parse_trace_hex(context.get(TRACE_ID)?.as_str()?)?;
    let span_id = parse_span_hex(context.get(SPAN_ID)?.as_str()?)?;
    Some(SpanContext {
        trace_id,
        span_id,
        sampled: true,
        trace_state: None,
    })
}

/// The values the three keys had before a span block changed them.
pub struct Saved([Option<Value>; 3]);

/// Remembers the three entries of `context`.
pub fn save(context: &Context) -> Saved {
    Saved([TRACE_ID, SPAN_ID, SPAN].map(|key| context.get(key).cloned()))
}

/// Puts back what [`save`] remembered (removing keys that were absent).
pub fn restore(context: &mut Context, saved: Saved) {
    let keys = KEYS.with(|keys| keys.clone());
    for (key, value) in keys.into_iter().zip(saved.0) {
        match value {
            Some(value) => {
                context.insert(key, value);
            }
            None => {
                context.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_alone_make_a_sampled_parent() {
        let mut context = Context::default();
        assert_eq!(current(&context), None);
        context.insert(
            "trace_id".into(),
            Value::str("4bf92f3577b34da6a3ce929d0e0e4736"),
        );
        assert_eq!(current(&context), None);
        context.insert("span_id".into(), Value::str("00f067aa0ba902b7"));
        let parent = current(&context).expect("parent");
        assert_eq!(parent.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert!(parent.sampled);
        context.insert("span_id".into(), Value::str("not hex"));
        assert_eq!(current(&context), None);
    }

    #[test]
    fn restore_puts_back_and_removes() {
        let mut context = Context::default();
        context.insert("trace_id".into(), Value::str("a"));
        let saved = save(&context);
        context.insert("trace_id".into(), Value::str("b"));
        context.insert("span_id".into(), Value::str("c"));
        restore(&mut context, saved);
        assert_eq!(context.get("trace_id").and_then(Value::as_str), Some("a"));
        assert!(!context.contains_key("span_id"));
    }
}
