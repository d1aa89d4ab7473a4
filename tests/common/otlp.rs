//! A small OTLP/HTTP collector for the process tests: a std `TcpListener` on 127.0.0.1:0 that
//! speaks just enough HTTP/1.1 (keep-alive, `content-length` bodies) to take `POST /v1/traces`
//! requests, decodes each body with `opentelemetry-proto` and keeps it, so a test sees exactly
//! what went over the wire — and helpers to find spans and attributes in what it kept.
//!
//! Test files include it with `#[path = "common/otlp.rs"] mod otlp;`, beside `mod common;`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// `Span.flags` bits (OTLP 1.1): the span's parent is known to be local or remote, and it is
/// remote.
pub const HAS_IS_REMOTE: u32 = 0x100;
pub const IS_REMOTE: u32 = 0x200;

/// One export request as the collector saw it.
pub struct Export {
    pub path: String,
    pub content_type: String,
    pub body: ExportTraceServiceRequest,
}

/// How the collector answers.
#[derive(Clone, Copy, PartialEq)]
pub enum Answer {
    Ok,
    /// Reads requests and never answers (a hung collector).
    Never,
}

/// A span with the `service.name` of the resource it was exported under.
#[derive(Clone)]
pub struct ServiceSpan {
    pub service: String,
    pub span: Span,
}

/// A collector on 127.0.0.1 that keeps every export request it receives.
pub struct Collector {
    /// `http://127.0.0.1:<port>`, for `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub url: String,
    pub exports: Arc<Mutex<Vec<Export>>>,
}

impl Collector {
    pub fn start(answer: Answer) -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the collector");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let exports = Arc::new(Mutex::new(Vec::new()));
        let kept = exports.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let kept = kept.clone();
                std::thread::spawn(move || serve(stream, answer, &kept));
            }
        });
        Collector { url, exports }
    }

    /// Every span received, in arrival order.
    pub fn spans(&self) -> Vec<Span> {
        self.service_spans().into_iter().map(|s| s.span).collect()
    }

    /// Every span received with its service's name, in arrival order (several processes may
    /// export to one collector).
    pub fn service_spans(&self) -> Vec<ServiceSpan> {
        let exports = self.exports.lock().expect("exports");
        let mut spans = Vec::new();
        for resource_spans in exports.iter().flat_map(|e| &e.body.resource_spans) {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| attribute(&r.attributes, "service.name"))
                .map_or_else(String::new, |name| match name {
                    Any::StringValue(name) => name.clone(),
                    other => format!("{other:?}"),
                });
            for span in resource_spans.scope_spans.iter().flat_map(|s| &s.spans) {
                spans.push(ServiceSpan {
                    service: service.clone(),
                    span: span.clone(),
                });
            }
        }
        spans
    }

    /// How many export requests arrived.
    pub fn requests(&self) -> usize {
        self.exports.lock().expect("exports").len()
    }
}

/// Answers export requests on one keep-alive connection.
fn serve(stream: TcpStream, answer: Answer, exports: &Mutex<Vec<Export>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let (mut length, mut content_type) = (0usize, String::new());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "content-type" => content_type = value.trim().to_string(),
                    _ => {}
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let body = ExportTraceServiceRequest::decode(body.as_slice()).expect("an OTLP request");
        exports.lock().expect("exports").push(Export {
            path,
            content_type,
            body,
        });
        if answer == Answer::Never {
            continue;
        }
        let reply =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The span called `name`; panics listing the names there are when there is none.
pub fn named<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {:?}", names(spans)))
}

pub fn names(spans: &[Span]) -> Vec<&str> {
    spans.iter().map(|s| s.name.as_str()).collect()
}

/// The value of attribute `key`, if set.
pub fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

/// A string attribute value, to compare with [`attribute`]'s answer.
pub fn text(value: &str) -> Option<Any> {
    Some(Any::StringValue(value.to_string()))
}
