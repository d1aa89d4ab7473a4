//! The current span of a task, kept in the task's context (copied into spawned tasks, so they
//! keep their parent span): `trace_id` and `span_id` as lowercase hex strings, which logs and
//! metrics read, and the span itself under `tracing.span`, which tracing reads.
//!
//! When a context holds only the two strings they are taken as a sampled parent without a
//! `tracestate`. The span object is therefore stored only when it says more than that (it
//! records, is not sampled, or carries a `tracestate`): when nothing is exported, a request's
//! span then costs two strings in its context and nothing else.

use std::cell::RefCell;
use std::rc::Rc;

use cn_runtime::object::NativeObject;
use cn_runtime::Value;

use super::span::Span;
use super::span_context::{parse_span_hex, parse_trace_hex, SpanContext};

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
    /// Id strings nothing refers to any more, for the next span's ids: a server makes two per
    /// request, and reusing them saves four allocations and frees on every request.
    static SPARE_IDS: RefCell<Vec<Rc<String>>> = const { RefCell::new(Vec::new()) };
}

/// How many spare id strings are kept at most.
const SPARE_LIMIT: usize = 64;

/// A string value holding the ASCII hex digits `hex`, in a spare string when there is one.
fn id_value(hex: &[u8]) -> Value {
    // Hex digits are ASCII, so this never falls back.
    let text = std::str::from_utf8(hex).unwrap_or_default();
    if let Some(mut spare) = SPARE_IDS.with(|spare| spare.borrow_mut().pop()) {
        if let Some(string) = Rc::get_mut(&mut spare) {
            string.clear();
            string.push_str(text);
            return Value::Str(spare);
        }
    }
    Value::str(text)
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
        let mut span_digits = [0u8; 16];
        crate::ids::write_hex(&mut span_digits, span.context.span_id);
        let ids = [
            (
                trace,
                id_value(&crate::ids::hex32_bytes(span.context.trace_id)),
            ),
            (id, id_value(&span_digits)),
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

impl Drop for Entries {
    /// Keeps the id strings for the next span when no context holds them any more.
    fn drop(&mut self) {
        // In reverse, so the next span takes the trace id's 32-byte string for its trace id.
        for (_, value) in self.ids.iter_mut().rev() {
            if let Value::Str(string) = std::mem::take(value) {
                if Rc::strong_count(&string) == 1 && Rc::weak_count(&string) == 0 {
                    SPARE_IDS.with(|spare| {
                        let mut spare = spare.borrow_mut();
                        if spare.len() < SPARE_LIMIT {
                            spare.push(string);
                        }
                    });
                }
            }
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

    fn new_entries() -> Entries {
        let tracer = Rc::new(super::super::tracer::Tracer {
            sampler: Default::default(),
            exporter: None,
        });
        let span = Span::start(
            &tracer,
            super::super::span::Parent::Root,
            super::super::span::SpanKind::Internal,
            String::new,
        );
        Entries::new(span)
    }

    fn trace_string(entries: &Entries) -> Rc<String> {
        match &entries.ids[0].1 {
            Value::Str(string) => string.clone(),
            other => panic!("not a string: {other:?}"),
        }
    }

    #[test]
    fn id_strings_are_reused_only_once_nothing_holds_them() {
        let first = new_entries();
        let mut context = Context::default();
        first.install(&mut context);
        let held = trace_string(&first);
        let first_id = format!("{:032x}", first.trace_id);
        drop(held);
        drop(first);
        // The context still holds the first span's ids: they are not handed out again.
        let second = new_entries();
        assert_eq!(
            context.get(TRACE_ID).and_then(Value::as_str),
            Some(first_id.as_str())
        );
        assert_eq!(
            second.ids[0].1.as_str(),
            Some(format!("{:032x}", second.trace_id).as_str())
        );
        // Once nothing holds them, the next span writes its ids into the same strings.
        let second_string = Rc::as_ptr(&trace_string(&second));
        drop(second);
        let third = new_entries();
        assert_eq!(Rc::as_ptr(&trace_string(&third)), second_string);
        assert_eq!(
            third.ids[0].1.as_str(),
            Some(format!("{:032x}", third.trace_id).as_str())
        );
        assert_eq!(third.ids[1].1.as_str().map(str::len), Some(16));
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
