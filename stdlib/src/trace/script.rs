//! What scripts see as `tracing`: span blocks, attributes on the current span, propagation
//! headers and the current ids.
//!
//! `tracing.span(name, **attributes):` starts a child of the current span (or a new trace) when
//! the block is entered, makes it current for the block — tasks spawned inside inherit it — and
//! ends it when the block is left; a fault leaving the block marks the span failed and records
//! an `exception` event, and then goes on unwinding unchanged.

use std::cell::RefCell;
use std::rc::Rc;

use cn_runtime::dict::{new_dict, Key};
use cn_runtime::native::{Function, Members, ModuleBuilder, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::symbol::Symbol;
use cn_runtime::{Args, Fault, Value, Vm};

use super::current::{self, Entries, Saved};
use super::span::{AttrValue, Parent, Span, SpanKind};
use super::span_context::{span_hex, trace_hex, SpanContext};
use super::tracer::tracer;

/// The module's functions.
static FUNCTIONS: &[Function] = &[
    Function::new("span", span)
        .doc("span(name, **attributes)\nA block statement that runs its body in a new span.")
        .params(Params::exactly(1).any_keywords()),
    Function::new("set_attribute", set_attribute)
        .doc("set_attribute(key, value)\nSets an attribute of the current span (a no-op when the span is not recorded, or there is none).")
        .params(Params::exactly(2)),
    Function::new("headers", headers)
        .doc("headers()\n`{\"traceparent\": ..., \"tracestate\": ...}` for the current span, to send with a request by hand; empty when there is no trace.")
        .params(Params::exactly(0)),
    Function::new("trace_id", trace_id)
        .doc("trace_id()\nThe current trace id (32 hex digits), or nil.")
        .params(Params::exactly(0)),
    Function::new("span_id", span_id)
        .doc("span_id()\nThe current span id (16 hex digits), or nil.")
        .params(Params::exactly(0)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Distributed tracing (OpenTelemetry): spans, attributes and W3C/B3 propagation.")
        .functions(FUNCTIONS);
}

/// tracing.span(name, **attributes): a block statement that runs its body in a new span.
fn span(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let name = args.str(0)?.clone();
    let mut attributes = Vec::with_capacity(args.names.len());
    for (key, value) in args.names.iter().zip(args.named) {
        AttrValue::check(args.function, key.name(), value)?;
        attributes.push((*key, value.clone()));
    }
    Ok(NativeObject::value(SpanBlock {
        name,
        attributes,
        open: RefCell::new(Vec::new()),
    }))
}

/// tracing.set_attribute(key, value): sets an attribute of the current span (a no-op when the
/// span is not recorded, or there is none).
fn set_attribute(vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let key = args.str(0)?;
    let value = args.value(1)?;
    AttrValue::check(args.function, key, value)?;
    let Some(task) = vm.current_task() else {
        return Ok(Value::Nil);
    };
    let object = current::span_object(&task.context.borrow());
    if let Some(span) = object.as_ref().and_then(|o| o.downcast::<Span>()) {
        span.with_recording(|recording| {
            if let Some(value) = AttrValue::from_value(value) {
                recording.set(key.as_str().to_string(), value);
            }
        });
    }
    Ok(Value::Nil)
}

/// The current span's context, if the running task has one.
fn current_context(vm: &Vm) -> Option<SpanContext> {
    current::current(&vm.current_task()?.context.borrow())
}

/// tracing.headers(): `{"traceparent": ..., "tracestate": ...}` for the current span, to send
/// with a request by hand; empty when there is no trace.
fn headers(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    let mut dict = new_dict();
    if let Some(context) = current_context(vm) {
        dict.insert(Key::str("traceparent"), Value::str(context.traceparent()));
        if let Some(state) = &context.trace_state {
            dict.insert(Key::str("tracestate"), Value::str(&**state));
        }
    }
    Ok(Value::dict(dict))
}

/// tracing.trace_id(): the current trace id (32 hex digits), or nil.
fn trace_id(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(current_context(vm).map_or(Value::Nil, |c| Value::str(trace_hex(c.trace_id))))
}

/// tracing.span_id(): the current span id (16 hex digits), or nil.
fn span_id(vm: &mut Vm, _args: Args<'_>) -> Result<Value, Fault> {
    Ok(current_context(vm).map_or(Value::Nil, |c| Value::str(span_hex(c.span_id))))
}

/// The value `tracing.span(...)` returns: a span waiting for its block.
struct SpanBlock {
    name: Rc<String>,
    attributes: Vec<(Symbol, Value)>,
    /// Spans this object has open, innermost last (the same object may be entered again
    /// inside its own block), with the context entries they replaced.
    open: RefCell<Vec<(Entries, Saved)>>,
}

/// `tracing.span(..)` before its block runs.
static SPAN_BLOCK: Table<SpanBlock> = Table::new(
    "tracing.SpanBlock",
    "A span to open for a block: `tracing.span(name, **attributes):`.",
    &[],
);

impl NativeType for SpanBlock {
    fn type_name(&self) -> &str {
        "tracing.SpanBlock"
    }

    fn members(&self) -> &'static dyn Members {
        &SPAN_BLOCK
    }

    fn enter(&self, _this: &Rc<NativeObject>, vm: &mut Vm) -> Result<(), Fault> {
        let tracer = tracer(vm);
        let task = vm
            .current_task()
            .ok_or_else(|| Fault::new("tracing.span: no task is running"))?;
        let mut context = task.context.borrow_mut();
        let saved = current::save(&context);
        let parent = current::current(&context);
        let parent = parent.as_ref().map_or(Parent::Root, Parent::Local);
        let span = Span::start(&tracer, parent, SpanKind::Internal, || {
            self.name.as_str().to_string()
        });
        span.with_recording(|recording| {
            for (key, value) in &self.attributes {
                if let Some(value) = AttrValue::from_value(value) {
                    recording.set(key.name().to_string(), value);
                }
            }
        });
        let entries = Entries::new(span);
        entries.install(&mut context);
        self.open.borrow_mut().push((entries, saved));
        Ok(())
    }

    fn exit(
        &self,
        _this: &Rc<NativeObject>,
        vm: &mut Vm,
        error: Option<&str>,
    ) -> Result<(), Fault> {
        let Some((entries, saved)) = self.open.borrow_mut().pop() else {
            return Ok(());
        };
        if let Some(task) = vm.current_task() {
            current::restore(&mut task.context.borrow_mut(), saved);
        }
        if let Some(span) = entries.span() {
            if let Some(message) = error {
                span.with_recording(|recording| recording.record_fault(message));
            }
            span.end();
        }
        Ok(())
    }

    fn display(&self) -> String {
        format!("<tracing.span {:?}>", self.name.as_str())
    }
}
