//! Spans for database statements (`sql`): one client span per statement, a child of the current
//! span, with OpenTelemetry's database attributes: `db.system`, `db.namespace`,
//! `db.operation.name`, `db.query.text` (the statement with its literals replaced by `?`, so no
//! value a script wrote into its SQL reaches a trace), `server.address`, `server.port`, and on
//! failure `error.type`. Outside any trace a statement starts one only when spans are exported.

use cn_runtime::Vm;

use super::current;
use super::span::{AttrValue, Parent, Span, SpanKind};
use super::tracer::tracer;

/// What a statement's span says about it.
pub struct Statement<'a> {
    pub system: &'static str,
    pub namespace: &'a str,
    pub operation: &'a str,
    /// Already stripped of literals.
    pub text: &'a str,
    pub host: Option<&'a str>,
    pub port: Option<u16>,
}

/// A statement's span; ending it is `finish` or `fail` (dropping it records an abandonment).
pub struct DbSpan(Option<Span>);

/// Starts the span of a statement, or none outside a trace when nothing is exported.
pub fn start_db_span(vm: &Vm, statement: &Statement<'_>) -> DbSpan {
    let parent = vm
        .current_task()
        .and_then(|task| current::current(&task.context.borrow()));
    let tracer = tracer(vm);
    if parent.is_none() && tracer.exporter.is_none() {
        return DbSpan(None);
    }
    let span = Span::start(
        &tracer,
        parent.as_ref().map_or(Parent::Root, Parent::Local),
        SpanKind::Client,
        || format!("{} {}", statement.operation, statement.namespace),
    );
    span.with_recording(|recording| {
        recording.set("db.system", AttrValue::Str(statement.system.into()));
        recording.set("db.namespace", AttrValue::Str(statement.namespace.into()));
        recording.set(
            "db.operation.name",
            AttrValue::Str(statement.operation.into()),
        );
        recording.set("db.query.text", AttrValue::Str(statement.text.into()));
        if let Some(host) = statement.host {
            recording.set("server.address", AttrValue::Str(host.into()));
        }
        if let Some(port) = statement.port {
            recording.set("server.port", AttrValue::Int(port.into()));
        }
    });
    DbSpan(Some(span))
}

impl DbSpan {
    /// No span (a statement the library runs itself, reported only in metrics).
    pub fn none() -> DbSpan {
        DbSpan(None)
    }

    /// Ends the span of a statement that succeeded; `rows` is how many rows it returned or
    /// changed.
    pub fn finish(mut self, rows: u64) {
        if let Some(span) = self.0.take() {
            span.with_recording(|recording| {
                recording.set(
                    "db.response.returned_rows",
                    AttrValue::Int(i64::try_from(rows).unwrap_or(i64::MAX)),
                );
            });
            span.end();
        }
    }

    /// Ends the span as failed with the error's kind and message.
    pub fn fail(mut self, kind: &str, message: &str) {
        if let Some(span) = self.0.take() {
            span.with_recording(|recording| {
                recording.set("error.type", AttrValue::Str(kind.into()));
                recording.record_fault(message);
            });
            span.end();
        }
    }
}

impl Drop for DbSpan {
    fn drop(&mut self) {
        if let Some(span) = self.0.take() {
            span.with_recording(|recording| {
                recording.record_fault("the statement was abandoned before it finished");
            });
            span.end();
        }
    }
}
