//! The current span of a task, kept in the task's context (copied into spawned tasks, so they
//! keep their parent span): `trace_id` and `span_id` as lowercase hex strings, which logs and
//! scripts read, and the span itself under `tracing.span`, which tracing reads.
//!
//! A span's entries are derived entries of the context ([`DerivedEntries`]): one object holding
//! the binary ids, whose hex strings are made when something reads them (a log line, a script).
//! An http server sets a span on every request and most handlers never read its ids, so it
//! costs a request no strings. When a context holds only the two ids they are taken as a sampled
//! parent without a `tracestate`; the span object is therefore stored only when it says more
//! than that (it records, is not sampled, or carries a `tracestate`).

use std::any::Any;
use std::cell::{OnceCell, RefCell};
use std::rc::Rc;

use cn_runtime::object::NativeObject;
use cn_runtime::tasks::DerivedEntries;
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
    /// Span entries nothing refers to any more, for the next span: a server makes one per
    /// request, and reusing it saves an allocation and a free on every request.
    static SPARE: RefCell<Vec<Rc<SpanEntries>>> = const { RefCell::new(Vec::new()) };
}

/// How many spare span entries are kept at most.
const SPARE_LIMIT: usize = 16;

/// The context entries of one span (see the module docs).
struct SpanEntries {
    trace_id: u128,
    span_id: u64,
    trace_hex: OnceCell<Value>,
    span_hex: OnceCell<Value>,
    /// The span object, when the span needs it (see the module docs).
    object: Option<Value>,
}

impl DerivedEntries for SpanEntries {
    fn keys(&self) -> &'static [&'static str] {
        &[TRACE_ID, SPAN_ID, SPAN]
    }

    fn value(&self, key: &str) -> Option<&Value> {
        match key {
            TRACE_ID => Some(
                self.trace_hex
                    .get_or_init(|| id_value(&crate::ids::hex32_bytes(self.trace_id))),
            ),
            SPAN_ID => Some(self.span_hex.get_or_init(|| {
                let mut digits = [0u8; 16];
                crate::ids::write_hex(&mut digits, self.span_id);
                id_value(&digits)
            })),
            SPAN => self.object.as_ref(),
            _ => None,
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A string value holding the ASCII hex digits `hex`.
fn id_value(hex: &[u8]) -> Value {
    // Hex digits are ASCII, so this never falls back.
    Value::str(std::str::from_utf8(hex).unwrap_or_default())
}

/// The span entries of `context`, when its current span was set by [`Entries::install`].
fn span_entries(context: &Context) -> Option<&SpanEntries> {
    context.derived()?.as_any().downcast_ref::<SpanEntries>()
}

/// What makes a span current in a context.
pub struct Entries(Rc<SpanEntries>);

impl Entries {
    /// The entries making `span` current.
    pub fn new(span: Span) -> Entries {
        let needed =
            span.is_recording() || !span.context.sampled || span.context.trace_state.is_some();
        let (trace_id, span_id) = (span.context.trace_id, span.context.span_id);
        let object = needed.then(|| NativeObject::value(span));
        if let Some(mut spare) = SPARE.with(|spare| spare.borrow_mut().pop()) {
            if let Some(entries) = Rc::get_mut(&mut spare) {
                // Emptied when they became spare.
                entries.trace_id = trace_id;
                entries.span_id = span_id;
                entries.object = object;
                return Entries(spare);
            }
        }
        Entries(Rc::new(SpanEntries {
            trace_id,
            span_id,
            trace_hex: OnceCell::new(),
            span_hex: OnceCell::new(),
            object,
        }))
    }

    /// The trace id.
    pub fn trace_id(&self) -> u128 {
        self.0.trace_id
    }

    /// The span, if it is kept as an object.
    pub fn span(&self) -> Option<&Span> {
        match &self.0.object {
            Some(Value::Object(object)) => object.downcast::<Span>(),
            _ => None,
        }
    }

    /// Makes the span current in `context`, replacing the current one.
    pub fn install(&self, context: &mut Context) {
        context.set_derived(Some(self.0.clone()));
    }
}

impl Drop for Entries {
    /// Keeps the entries for the next span when no context holds them any more.
    fn drop(&mut self) {
        if let Some(entries) = Rc::get_mut(&mut self.0) {
            // What they hold goes now (the span object may own a recording); the allocation
            // stays for the next span.
            entries.object = None;
            entries.trace_hex.take();
            entries.span_hex.take();
            let entries = self.0.clone();
            SPARE.with(|spare| {
                let mut spare = spare.borrow_mut();
                if spare.len() < SPARE_LIMIT {
                    spare.push(entries);
                }
            });
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
    if let Some(entries) = span_entries(context) {
        if entries.object.is_none() {
            return Some(SpanContext {
                trace_id: entries.trace_id,
                span_id: entries.span_id,
                sampled: true,
                trace_state: None,
            });
        }
    }
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

/// What a span block replaced in its task's context.
pub enum Saved {
    /// The span entries of the enclosing span.
    Derived(Rc<dyn DerivedEntries>),
    /// The three keys' ordinary values (a context without a span, or one a script set).
    Plain([Option<Value>; 3]),
}

/// Remembers the current span entries of `context`.
pub fn save(context: &Context) -> Saved {
    match context.derived() {
        Some(derived) => Saved::Derived(derived.clone()),
        None => Saved::Plain([TRACE_ID, SPAN_ID, SPAN].map(|key| context.get(key).cloned())),
    }
}

/// Puts back what [`save`] remembered (removing keys that were absent).
pub fn restore(context: &mut Context, saved: Saved) {
    match saved {
        Saved::Derived(derived) => context.set_derived(Some(derived)),
        Saved::Plain(values) => {
            context.set_derived(None);
            for (key, value) in [TRACE_ID, SPAN_ID, SPAN].into_iter().zip(values) {
                match value {
                    Some(value) => {
                        context.insert(key.into(), value);
                    }
                    None => {
                        context.remove(key);
                    }
                }
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

    #[test]
    fn span_ids_read_as_hex_strings_and_entries_are_reused_once_free() {
        let first = new_entries();
        let mut context = Context::default();
        first.install(&mut context);
        let trace = format!("{:032x}", first.trace_id());
        assert_eq!(
            context.get(TRACE_ID).and_then(Value::as_str),
            Some(trace.as_str())
        );
        assert_eq!(
            context.get(SPAN_ID).and_then(Value::as_str).map(str::len),
            Some(16)
        );
        assert!(context.get(SPAN).is_none());
        let parent = current(&context).expect("parent");
        assert_eq!(parent.trace_id, first.trace_id());
        let first_entries = Rc::as_ptr(&first.0);
        drop(first);
        // The context still holds the first span's entries: they are not handed out again.
        let second = new_entries();
        assert_ne!(Rc::as_ptr(&second.0), first_entries);
        assert_eq!(
            context.get(TRACE_ID).and_then(Value::as_str),
            Some(trace.as_str())
        );
        // Once nothing holds them, the next span takes them, with its own ids.
        drop(context);
        let second_entries = Rc::as_ptr(&second.0);
        drop(second);
        let third = new_entries();
        assert_eq!(Rc::as_ptr(&third.0), second_entries);
        let mut context = Context::default();
        third.install(&mut context);
        assert_eq!(
            context.get(TRACE_ID).and_then(Value::as_str),
            Some(format!("{:032x}", third.trace_id()).as_str())
        );
    }

    #[test]
    fn a_span_block_puts_back_the_enclosing_span() {
        let outer = new_entries();
        let mut context = Context::default();
        context.insert("user".into(), Value::Int(1));
        outer.install(&mut context);
        let saved = save(&context);
        let inner = new_entries();
        inner.install(&mut context);
        assert_eq!(current(&context).map(|c| c.span_id), Some(inner.0.span_id));
        // A script setting an id inside the block does not outlive it.
        context.insert("span_id".into(), Value::str("00f067aa0ba902b7"));
        restore(&mut context, saved);
        assert_eq!(current(&context).map(|c| c.span_id), Some(outer.0.span_id));
        assert!(matches!(context.get("user"), Some(Value::Int(1))));
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
