//! One span: its context, and — only when it is sampled and an exporter is configured — the
//! recording (name, kind, times, attributes, status, events) that is exported when it ends.
//!
//! A span that is not recorded is just its ids: it costs no clock reads, no attribute values
//! and no allocation beyond itself, which keeps tracing nearly free when nothing is exported.
//! The same type is the handle kept in a task's context (see `current.rs`), so scripts and the
//! http server find the current span with one lookup.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use cn_runtime::native::{Member, Members, Table};
use cn_runtime::object::NativeType;
use cn_runtime::{Fault, Value};

use super::span_context::{new_span_id, new_trace_id, span_hex, trace_hex, SpanContext};
use super::tracer::Tracer;

/// Most attributes one span keeps (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`'s default); more are counted
/// as dropped.
const MAX_ATTRIBUTES: usize = 128;

/// Most events (faults, retries) one span keeps.
const MAX_EVENTS: usize = 128;

/// What role a span plays (OTLP `SpanKind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// Work inside the process (`tracing.span` blocks).
    Internal,
    /// Handling a request.
    Server,
    /// Making a request.
    Client,
}

/// An attribute value: the four scalar types OTLP and scripts share.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl AttrValue {
    /// The attribute value for a script value; `None` for types OTLP attributes cannot hold.
    pub fn from_value(value: &Value) -> Option<AttrValue> {
        Some(match value {
            Value::Str(s) => AttrValue::Str(s.as_str().to_string()),
            Value::Int(i) => AttrValue::Int(*i),
            Value::Float(f) => AttrValue::Float(*f),
            Value::Bool(b) => AttrValue::Bool(*b),
            _ => return None,
        })
    }

    /// Checks a script value without converting it (so wrong types fault whether or not the
    /// span records).
    pub fn check(function: &str, key: &str, value: &Value) -> Result<(), Fault> {
        match value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => Ok(()),
            other => Err(Fault::new(format!(
                "{function}: attribute '{key}' must be str, int, float or bool, not {}",
                other.type_name()
            ))),
        }
    }
}

/// An attribute key: static for the standard ones, owned for script keys.
pub type AttrKey = Cow<'static, str>;

/// The outcome a span reports.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Nothing said (the default, also for successful requests).
    Unset,
    /// Failed, with a message.
    Error(String),
}

/// Something that happened during a span (the `exception` event of a fault, a `retry`).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Event name.
    pub name: &'static str,
    /// When, in nanoseconds since the Unix epoch.
    pub time: u64,
    /// Its attributes.
    pub attributes: Vec<(AttrKey, AttrValue)>,
}

/// What a recorded span collects until it ends.
#[derive(Debug)]
pub struct Recording {
    /// The span's name.
    pub name: String,
    /// Its kind.
    pub kind: SpanKind,
    /// The parent's span id (zero for a root span).
    pub parent_span_id: u64,
    /// Whether the parent is in another process.
    pub remote_parent: bool,
    /// Start, in nanoseconds since the Unix epoch.
    pub start: u64,
    /// Attributes in the order set (setting a key again replaces its value).
    pub attributes: Vec<(AttrKey, AttrValue)>,
    /// Attributes beyond the limit.
    pub dropped_attributes: u32,
    /// The outcome.
    pub status: Status,
    /// Events (faults, retries).
    pub events: Vec<Event>,
}

impl Recording {
    /// Sets `key` to `value`, replacing an earlier value.
    pub fn set(&mut self, key: impl Into<AttrKey>, value: AttrValue) {
        let key = key.into();
        if let Some(slot) = self.attributes.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else if self.attributes.len() < MAX_ATTRIBUTES {
            self.attributes.push((key, value));
        } else {
            self.dropped_attributes += 1;
        }
    }

    /// Records that `name` happened now (events past the limit are not kept).
    pub fn add_event(&mut self, name: &'static str, attributes: Vec<(AttrKey, AttrValue)>) {
        if self.events.len() < MAX_EVENTS {
            self.events.push(Event {
                name,
                time: now_nanos(),
                attributes,
            });
        }
    }

    /// Marks the span failed with `message` and records the fault as an `exception` event.
    pub fn record_fault(&mut self, message: &str) {
        self.status = Status::Error(message.to_string());
        self.add_event(
            "exception",
            vec![(
                "exception.message".into(),
                AttrValue::Str(message.to_string()),
            )],
        );
    }
}

/// A span that has ended, waiting for export.
#[derive(Debug)]
pub struct FinishedSpan {
    /// Its ids and sampling flag.
    pub context: SpanContext,
    /// What it recorded.
    pub recording: Box<Recording>,
    /// End, in nanoseconds since the Unix epoch.
    pub end: u64,
}

/// Where a new span hangs in its trace.
pub enum Parent<'a> {
    /// Nowhere: a new trace.
    Root,
    /// A span in this process (or ids a script put in its context).
    Local(&'a SpanContext),
    /// The caller's span, from request headers.
    Remote(&'a super::propagation::Remote),
}

/// A span: ids always, a recording when sampled and exported. Ending it (`end`) sends the
/// recording to the exporter; ending twice does nothing.
pub struct Span {
    /// The span's context.
    pub context: SpanContext,
    recording: RefCell<Option<Box<Recording>>>,
    tracer: Option<Rc<Tracer>>,
}

impl Span {
    /// Starts a span under `parent`. `name` is only called when the span records, so callers
    /// that build names pay for them only then.
    pub fn start(
        tracer: &Rc<Tracer>,
        parent: Parent<'_>,
        kind: SpanKind,
        name: impl FnOnce() -> String,
    ) -> Span {
        let (trace_id, parent_span_id, remote, decision, trace_state) = match parent {
            Parent::Root => (new_trace_id(), 0, false, None, None),
            Parent::Local(p) => (
                p.trace_id,
                p.span_id,
                false,
                Some(p.sampled),
                p.trace_state.clone(),
            ),
            Parent::Remote(r) => match r.ids {
                Some((trace, span)) => (trace, span, true, r.sampled, r.trace_state.clone()),
                None => (new_trace_id(), 0, false, r.sampled, None),
            },
        };
        let sampled = tracer.sampler.sample(decision, trace_id);
        let context = SpanContext {
            trace_id,
            span_id: new_span_id(),
            sampled,
            trace_state,
        };
        let recording = (sampled && tracer.exporter.is_some()).then(|| {
            Box::new(Recording {
                name: name(),
                kind,
                parent_span_id,
                remote_parent: remote,
                start: now_nanos(),
                attributes: Vec::new(),
                dropped_attributes: 0,
                status: Status::Unset,
                events: Vec::new(),
            })
        });
        Span {
            context,
            tracer: recording.is_some().then(|| tracer.clone()),
            recording: RefCell::new(recording),
        }
    }

    /// Whether the span records (attributes set on others are ignored).
    pub fn is_recording(&self) -> bool {
        self.recording.borrow().is_some()
    }

    /// Changes the recording, if the span records and has not ended.
    pub fn with_recording(&self, change: impl FnOnce(&mut Recording)) {
        if let Some(recording) = self.recording.borrow_mut().as_deref_mut() {
            change(recording);
        }
    }

    /// Ends the span, queueing its recording for export.
    pub fn end(&self) {
        let Some(recording) = self.recording.borrow_mut().take() else {
            return;
        };
        let finished = FinishedSpan {
            context: self.context.clone(),
            recording,
            end: now_nanos(),
        };
        if let Some(exporter) = self.tracer.as_ref().and_then(|t| t.exporter.as_ref()) {
            exporter.push(finished);
        }
    }
}

/// Nanoseconds since the Unix epoch (zero if the clock is before it).
pub fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

type M = Member<Span>;

/// A span, as `context.get("span")` holds it.
static SPAN: Table<Span> = Table::new(
    "tracing.Span",
    "A span of a trace.",
    &[
        M::attribute("trace_id", |s, _| {
            Ok(Value::str(trace_hex(s.context.trace_id)))
        })
        .doc("trace_id\nThe trace id, 32 hex digits."),
        M::attribute("span_id", |s, _| {
            Ok(Value::str(span_hex(s.context.span_id)))
        })
        .doc("span_id\nThe span id, 16 hex digits."),
        M::attribute("sampled", |s, _| Ok(Value::Bool(s.context.sampled)))
            .doc("sampled\nWhether the span is recorded and exported."),
    ],
);

impl NativeType for Span {
    fn type_name(&self) -> &str {
        "tracing.Span"
    }

    fn members(&self) -> &'static dyn Members {
        &SPAN
    }

    fn display(&self) -> String {
        format!(
            "<tracing.Span {}/{}>",
            trace_hex(self.context.trace_id),
            span_hex(self.context.span_id)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording() -> Recording {
        Recording {
            name: "x".into(),
            kind: SpanKind::Internal,
            parent_span_id: 0,
            remote_parent: false,
            start: 0,
            attributes: Vec::new(),
            dropped_attributes: 0,
            status: Status::Unset,
            events: Vec::new(),
        }
    }

    #[test]
    fn setting_a_key_again_replaces_it_and_the_limit_counts_drops() {
        let mut r = recording();
        r.set("a", AttrValue::Int(1));
        r.set("a", AttrValue::Int(2));
        assert_eq!(r.attributes, vec![("a".into(), AttrValue::Int(2))]);
        for i in 0..200 {
            r.set(format!("k{i}"), AttrValue::Bool(true));
        }
        assert_eq!(r.attributes.len(), MAX_ATTRIBUTES);
        assert_eq!(r.dropped_attributes, 200 - (MAX_ATTRIBUTES as u32 - 1));
    }

    #[test]
    fn a_fault_sets_error_status_and_an_exception_event() {
        let mut r = recording();
        r.record_fault("boom");
        assert_eq!(r.status, Status::Error("boom".into()));
        assert_eq!(r.events[0].name, "exception");
        assert_eq!(
            r.events[0].attributes[0],
            ("exception.message".into(), AttrValue::Str("boom".into()))
        );
    }
}
