//! The exemplar a histogram bucket keeps: the trace id of a recent observation that landed in it,
//! so a dashboard can jump from a slow bucket to a trace of one such request.
//!
//! The id is stored inline (no `String`) because the http server records one on every request
//! and the hot path must not allocate. Exemplars appear only in the OpenMetrics format; the
//! Prometheus text format has no syntax for them.

use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};

/// Longest trace id kept. W3C trace ids are 32 hex digits; OpenMetrics caps an exemplar's whole
/// label set at 128 characters.
const MAX_LEN: usize = 64;

/// The label set `{trace_id="..."}` of one exemplar.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceExemplar {
    len: u8,
    bytes: [u8; MAX_LEN],
}

impl TraceExemplar {
    /// The exemplar for `trace_id`, or `None` when the id is empty, longer than 64 characters or
    /// holds anything but ASCII letters, digits, `-` and `_` (which never need escaping).
    pub(crate) fn new(trace_id: &str) -> Option<TraceExemplar> {
        let id = trace_id.as_bytes();
        if id.is_empty()
            || id.len() > MAX_LEN
            || !id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
        {
            return None;
        }
        let mut bytes = [0; MAX_LEN];
        bytes[..id.len()].copy_from_slice(id);
        Some(TraceExemplar {
            len: id.len() as u8,
            bytes,
        })
    }

    /// The trace id.
    pub(crate) fn trace_id(&self) -> &str {
        // Only ASCII was copied in, so this never fails; an empty id would only hide an exemplar.
        std::str::from_utf8(&self.bytes[..self.len as usize]).unwrap_or_default()
    }
}

impl EncodeLabelSet for TraceExemplar {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        let mut label = encoder.encode_label();
        let mut key = label.encode_label_key()?;
        key.write_str("trace_id")?;
        let mut value = key.encode_label_value()?;
        value.write_str(self.trace_id())?;
        value.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;
    use prometheus_client::metrics::exemplar::HistogramWithExemplars;
    use prometheus_client::registry::Registry;

    #[test]
    fn only_plain_ids_become_exemplars() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(
            TraceExemplar::new(id).map(|e| e.trace_id().to_string()),
            Some(id.into())
        );
        assert!(TraceExemplar::new("").is_none());
        assert!(TraceExemplar::new("a\"b").is_none());
        assert!(TraceExemplar::new(&"a".repeat(65)).is_none());
        assert!(TraceExemplar::new(&"a".repeat(64)).is_some());
    }

    #[test]
    fn an_exemplar_follows_its_bucket_in_openmetrics() {
        let histogram = HistogramWithExemplars::new([0.1, 1.0].into_iter());
        let mut registry = Registry::default();
        registry.register("latency_seconds", "Latency", histogram.clone());
        histogram.observe(0.05, TraceExemplar::new("abc123"), None);
        histogram.observe(0.5, None, None);
        let mut text = String::new();
        encode(&mut text, &registry).expect("a String takes any text");
        assert!(
            text.contains("latency_seconds_bucket{le=\"0.1\"} 1 # {trace_id=\"abc123\"} 0.05\n"),
            "{text}"
        );
        // A bucket whose observations carried no trace id has no exemplar.
        assert!(
            text.contains("latency_seconds_bucket{le=\"1.0\"} 2\n"),
            "{text}"
        );
    }
}
