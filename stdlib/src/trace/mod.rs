//! `tracing`: distributed tracing (seed 000, section 6) — spans, W3C/B3 propagation and OTLP
//! export. The Rust module is `trace` so it cannot be mistaken for the `tracing` crate.
//!
//! Every request handled gets a server span continuing the caller's trace; `tracing.span(...)`
//! blocks make child spans; outgoing requests carry the current trace. The current span lives in
//! the task's context (`current`), so spawned tasks keep their parent and log lines carry
//! `trace_id`. Ids are always made and propagated; spans record (attributes, times) and are
//! exported only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set and the
//! sampler keeps the trace, so a service that exports nothing pays almost nothing.
//!
//! Files: `span_context` (ids), `w3c` and `b3` (header formats), `propagation` (extract and
//! inject), `sampler`, `config` (environment), `span` (spans and recordings), `current` (the
//! task-context entries), `events` (retries recorded on spans), `tracer` (per-process set-up), `export` (batching worker), `otlp`
//! (protobuf messages), `http` (server and client spans), `script` (the script API).

mod b3;
mod config;
mod current;
mod db;
mod events;
mod export;
mod http;
mod otlp;
mod propagation;
mod sampler;
mod script;
mod span;
mod span_context;
pub(crate) mod tracer;
mod w3c;

pub use current::{SPAN, SPAN_ID, TRACE_ID};
pub use db::{start_db_span, DbSpan, Statement};
pub use events::RecordingSpan;
pub use http::{
    inject, start_client_span, start_server_span, ClientSpan, ServerRequest, ServerSpan,
};
pub use propagation::{extract, Remote};
pub use script::module;
pub use span_context::{trace_hex, SpanContext};
