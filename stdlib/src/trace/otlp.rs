//! Ended spans as an OTLP `ExportTraceServiceRequest`, protobuf-encoded: the body of one
//! `POST /v1/traces`. The message types are the generated ones of `opentelemetry-proto`.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::trace::v1::{span, status, ResourceSpans, ScopeSpans, Status};
use prost::Message;

pub use opentelemetry_proto::tonic::resource::v1::Resource;

use super::span::{AttrKey, AttrValue, FinishedSpan, SpanKind, Status as SpanStatus};

/// `Span.flags` bits saying whether the parent is remote (OTLP 1.1): "known" and "remote".
const HAS_IS_REMOTE: u32 = 0x100;
const IS_REMOTE: u32 = 0x200;

/// The resource every batch describes: the configured attributes plus `telemetry.sdk.*`.
pub fn resource(attributes: &[(String, String)]) -> Resource {
    let mut all: Vec<KeyValue> = attributes
        .iter()
        .map(|(k, v)| key_value(k.clone(), AttrValue::Str(v.clone())))
        .collect();
    for (key, value) in [
        ("telemetry.sdk.name", "cn"),
        ("telemetry.sdk.language", "cn"),
        ("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ] {
        all.push(key_value(
            key.to_string(),
            AttrValue::Str(value.to_string()),
        ));
    }
    Resource {
        attributes: all,
        ..Default::default()
    }
}

/// The request body for `spans`.
pub fn encode(resource: &Resource, spans: &[FinishedSpan]) -> Vec<u8> {
    request(resource, spans).encode_to_vec()
}

/// The request for `spans`, all from one resource and one instrumentation scope.
pub fn request(resource: &Resource, spans: &[FinishedSpan]) -> ExportTraceServiceRequest {
    let scope = InstrumentationScope {
        name: "cn".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(resource.clone()),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope),
                spans: spans.iter().map(span_message).collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn span_message(span: &FinishedSpan) -> opentelemetry_proto::tonic::trace::v1::Span {
    let recording = &span.recording;
    let parent_span_id = match recording.parent_span_id {
        0 => Vec::new(),
        id => id.to_be_bytes().to_vec(),
    };
    let remote = if recording.remote_parent {
        IS_REMOTE
    } else {
        0
    };
    let status = match &recording.status {
        SpanStatus::Unset => None,
        SpanStatus::Error(message) => Some(Status {
            message: message.clone(),
            code: status::StatusCode::Error as i32,
        }),
    };
    let kind = match recording.kind {
        SpanKind::Internal => span::SpanKind::Internal,
        SpanKind::Server => span::SpanKind::Server,
        SpanKind::Client => span::SpanKind::Client,
    };
    opentelemetry_proto::tonic::trace::v1::Span {
        trace_id: span.context.trace_id.to_be_bytes().to_vec(),
        span_id: span.context.span_id.to_be_bytes().to_vec(),
        trace_state: span
            .context
            .trace_state
            .as_deref()
            .unwrap_or("")
            .to_string(),
        parent_span_id,
        flags: u32::from(span.context.sampled) | HAS_IS_REMOTE | remote,
        name: recording.name.clone(),
        kind: kind as i32,
        start_time_unix_nano: recording.start,
        end_time_unix_nano: span.end.max(recording.start),
        attributes: attributes(&recording.attributes),
        dropped_attributes_count: recording.dropped_attributes,
        events: recording
            .events
            .iter()
            .map(|event| span::Event {
                time_unix_nano: event.time,
                name: event.name.to_string(),
                attributes: attributes(&event.attributes),
                dropped_attributes_count: 0,
            })
            .collect(),
        status,
        ..Default::default()
    }
}

fn attributes(pairs: &[(AttrKey, AttrValue)]) -> Vec<KeyValue> {
    pairs
        .iter()
        .map(|(k, v)| key_value(k.to_string(), v.clone()))
        .collect()
}

fn key_value(key: String, value: AttrValue) -> KeyValue {
    let value = match value {
        AttrValue::Str(s) => any_value::Value::StringValue(s),
        AttrValue::Int(i) => any_value::Value::IntValue(i),
        AttrValue::Float(f) => any_value::Value::DoubleValue(f),
        AttrValue::Bool(b) => any_value::Value::BoolValue(b),
    };
    KeyValue {
        key,
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::span::{Event, Recording};
    use crate::trace::span_context::SpanContext;

    fn finished() -> FinishedSpan {
        FinishedSpan {
            context: SpanContext {
                trace_id: 0x0102030405060708090a0b0c0d0e0f10,
                span_id: 0x1112131415161718,
                sampled: true,
                trace_state: Some("a=1".into()),
            },
            recording: Box::new(Recording {
                name: "GET /users/{id}".into(),
                kind: SpanKind::Server,
                parent_span_id: 0x2122232425262728,
                remote_parent: true,
                start: 1_000,
                attributes: vec![
                    ("http.request.method".into(), AttrValue::Str("GET".into())),
                    ("http.response.status_code".into(), AttrValue::Int(500)),
                    ("ratio".into(), AttrValue::Float(0.5)),
                    ("cached".into(), AttrValue::Bool(false)),
                ],
                dropped_attributes: 0,
                status: SpanStatus::Error("boom".into()),
                events: vec![Event {
                    name: "exception",
                    time: 1_500,
                    attributes: vec![("exception.message".into(), AttrValue::Str("boom".into()))],
                }],
            }),
            end: 2_000,
        }
    }

    #[test]
    fn encoded_request_decodes_to_the_same_span() {
        let resource = resource(&[("service.name".into(), "orders".into())]);
        let bytes = encode(&resource, &[finished()]);
        let decoded = ExportTraceServiceRequest::decode(bytes.as_slice()).expect("decodes");
        let resource_spans = &decoded.resource_spans[0];
        let attributes = &resource_spans
            .resource
            .as_ref()
            .expect("resource")
            .attributes;
        assert_eq!(attributes[0].key, "service.name");
        assert!(attributes.iter().any(|kv| kv.key == "telemetry.sdk.name"));
        let span = &resource_spans.scope_spans[0].spans[0];
        assert_eq!(span.trace_id, (1..=16).collect::<Vec<u8>>());
        assert_eq!(span.span_id, (0x11..=0x18).collect::<Vec<u8>>());
        assert_eq!(span.parent_span_id, (0x21..=0x28).collect::<Vec<u8>>());
        assert_eq!(span.name, "GET /users/{id}");
        assert_eq!(span.kind, span::SpanKind::Server as i32);
        assert_eq!(span.trace_state, "a=1");
        assert_eq!(span.flags, 1 | HAS_IS_REMOTE | IS_REMOTE);
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (1_000, 2_000)
        );
        assert_eq!(span.attributes.len(), 4);
        let status = span.status.as_ref().expect("status");
        assert_eq!(status.code, status::StatusCode::Error as i32);
        assert_eq!(status.message, "boom");
        assert_eq!(span.events[0].name, "exception");
    }

    #[test]
    fn root_span_has_no_parent_bytes() {
        let mut span = finished();
        span.recording.parent_span_id = 0;
        span.recording.remote_parent = false;
        let message = span_message(&span);
        assert!(message.parent_span_id.is_empty());
        assert_eq!(message.flags, 1 | HAS_IS_REMOTE);
    }
}
