//! The exemplar a histogram bucket keeps: the trace id of a recent observation that landed in it,
//! so a dashboard can jump from a slow bucket to a trace of one such request.
//!
//! The id is kept as the number it is and written as 32 hex digits only when a scrape encodes
//! it: the http server records exemplars on the request path, which must not allocate or
//! format. Exemplars appear only in the OpenMetrics format; the Prometheus text format has no
//! syntax for them.

use std::fmt::Write;

use prometheus_client::encoding::{EncodeLabelSet, LabelSetEncoder};

/// The label set `{trace_id="<32 hex digits>"}` of one exemplar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TraceExemplar(pub(crate) u128);

impl EncodeLabelSet for TraceExemplar {
    fn encode(&self, encoder: &mut LabelSetEncoder) -> Result<(), std::fmt::Error> {
        let mut label = encoder.encode_label();
        let mut key = label.encode_label_key()?;
        key.write_str("trace_id")?;
        let mut value = key.encode_label_value()?;
        let hex = crate::ids::hex32_bytes(self.0);
        // Hex digits are ASCII, so this never falls back.
        value.write_str(std::str::from_utf8(&hex).unwrap_or_default())?;
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
    fn an_exemplar_follows_its_bucket_in_openmetrics() {
        let histogram = HistogramWithExemplars::new([0.1, 1.0].into_iter());
        let mut registry = Registry::default();
        registry.register("latency_seconds", "Latency", histogram.clone());
        histogram.observe(0.05, Some(TraceExemplar(0xabc123)), None);
        histogram.observe(0.5, None, None);
        let mut text = String::new();
        encode(&mut text, &registry).expect("a String takes any text");
        assert!(
            text.contains(
                "latency_seconds_bucket{le=\"0.1\"} 1 # {trace_id=\"00000000000000000000000000abc123\"} 0.05\n"
            ),
            "{text}"
        );
        // A bucket whose observations carried no trace id has no exemplar.
        assert!(
            text.contains("latency_seconds_bucket{le=\"1.0\"} 2\n"),
            "{text}"
        );
    }
}
