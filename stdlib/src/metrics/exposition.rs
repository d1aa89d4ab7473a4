//! Rendering the registry for a scrape: OpenMetrics 1.0.0 or the Prometheus text format 0.0.4,
//! chosen from the scraper's `Accept` header.
//!
//! prometheus-client encodes the values (it owns them: histogram buckets can be read only
//! through its encoder), but it writes only OpenMetrics, and there a counter's `# TYPE` line
//! names the family without `_total`. So the Prometheus text format is derived from the crate's
//! output by rewriting the few lines that differ: a counter's `# HELP`/`# TYPE` lines get the
//! `_total` name the script asked for, and exemplars (which that format cannot express) are cut.
//! The families are encoded through a collector of our own rather than the crate's `register`,
//! which appends a full stop to every help text and does not escape it.

use std::collections::HashSet;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode_registry;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::family::{Family, Kind};
use super::{names, process, registry};

/// Content type of the OpenMetrics exposition.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// Content type of the Prometheus text exposition.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Format {
    /// Prometheus text format 0.0.4.
    Text,
    /// OpenMetrics 1.0.0 text format.
    OpenMetrics,
}

/// The answer to a scrape: the content type and the exposition of every metric in the process.
/// OpenMetrics (with exemplars and `# EOF`) when `accept` asks for
/// `application/openmetrics-text`, the Prometheus text format otherwise.
pub fn render(accept: Option<&str>) -> (&'static str, String) {
    if accept.is_some_and(wants_openmetrics) {
        (OPENMETRICS, expose(Format::OpenMetrics))
    } else {
        (PROMETHEUS_TEXT, expose(Format::Text))
    }
}

/// The exposition of every registered family plus the process metrics.
pub(crate) fn expose(format: Format) -> String {
    encode(registry::families(), process::collect(), format)
}

/// Whether an `Accept` header prefers OpenMetrics: it lists `application/openmetrics-text`
/// (version 1.0.0, 0.0.1 or none, which this output satisfies) with a quality above zero and
/// at least that of `text/plain` or a wildcard. Prometheus sends
/// `application/openmetrics-text;version=1.0.0,...,text/plain;version=0.0.4;q=0.5,*/*;q=0.1`.
fn wants_openmetrics(accept: &str) -> bool {
    let (mut open, mut text) = (0.0_f64, 0.0_f64);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let (mut quality, mut version_ok) = (1.0, true);
        for parameter in parts {
            let Some((key, value)) = parameter.split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"');
            match key.trim().to_ascii_lowercase().as_str() {
                "q" => quality = value.parse().unwrap_or(0.0),
                "version" => version_ok = matches!(value, "1.0.0" | "0.0.1"),
                _ => {}
            }
        }
        match media.as_str() {
            "application/openmetrics-text" if version_ok => open = open.max(quality),
            "text/plain" | "text/*" | "*/*" => text = text.max(quality),
            _ => {}
        }
    }
    open > 0.0 && open >= text
}

/// One family of the exposition, in name order.
#[derive(Debug)]
enum Item {
    Registered(Arc<Family>),
    Process(process::Sample),
}

impl Item {
    fn name(&self) -> &str {
        match self {
            Item::Registered(family) => &family.definition.name,
            Item::Process(sample) => sample.name,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Item::Registered(family) => family.definition.kind,
            Item::Process(sample) => sample.kind,
        }
    }
}

/// The collector handed to prometheus-client for one scrape.
#[derive(Debug)]
struct Exposition {
    format: Format,
    items: Vec<Item>,
}

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for item in &self.items {
            match item {
                Item::Registered(family) => {
                    let help = escape_help(&family.definition.help, self.format);
                    family.encode(&mut encoder, &help)?;
                }
                Item::Process(sample) => {
                    let family = names::family_name(sample.name, sample.kind);
                    let help = escape_help(sample.help, self.format);
                    let metric_type = sample.kind.metric_type();
                    let metric = encoder.encode_descriptor(family, &help, None, metric_type)?;
                    match sample.kind {
                        Kind::Counter => ConstCounter::new(sample.value).encode(metric)?,
                        // No process metric is a histogram; a single value is a gauge.
                        Kind::Gauge | Kind::Histogram => {
                            ConstGauge::new(sample.value).encode(metric)?
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Encodes `families` and `process` in name order.
fn encode(families: Vec<Arc<Family>>, process: Vec<process::Sample>, format: Format) -> String {
    let mut items: Vec<Item> = families.into_iter().map(Item::Registered).collect();
    items.extend(process.into_iter().map(Item::Process));
    items.sort_by(|a, b| a.name().cmp(b.name()));
    let counters: HashSet<String> = items
        .iter()
        .filter(|item| item.kind() == Kind::Counter)
        .map(|item| names::family_name(item.name(), Kind::Counter).to_string())
        .collect();
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register_collector(Box::new(Exposition { format, items }));
    let mut open = String::new();
    // Writing to a String cannot fail and none of our metrics makes the encoder fail (that
    // needs a native-only histogram), so there is no error to report; were one to happen, the
    // scrape would show the families written so far.
    let _ = encode_registry(&mut open, &registry);
    match format {
        Format::OpenMetrics => {
            open.push_str("# EOF\n");
            open
        }
        Format::Text => to_text_format(&open, &counters),
    }
}

/// Escapes a help text: both formats escape `\` and newlines; OpenMetrics also escapes `"`,
/// which the Prometheus text parser would reject as an unknown escape.
fn escape_help(help: &str, format: Format) -> String {
    let mut out = String::with_capacity(help.len());
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// Rewrites the crate's OpenMetrics lines into the Prometheus text format; `counters` holds the
/// OpenMetrics family names of the counters.
fn to_text_format(open: &str, counters: &HashSet<String>) -> String {
    let mut out = String::with_capacity(open.len());
    for line in open.lines() {
        let metadata = line
            .strip_prefix("# HELP ")
            .map(|rest| ("# HELP ", rest))
            .or_else(|| line.strip_prefix("# TYPE ").map(|rest| ("# TYPE ", rest)));
        match metadata {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(prefix);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                out.push(' ');
                out.push_str(tail);
            }
            None => out.push_str(without_exemplar(line)),
        }
        out.push('\n');
    }
    out
}

/// A sample line without its exemplar (` # {...} value`). Label values are quoted and may
/// contain `#`, so the cut is the first `#` outside quotes.
fn without_exemplar(line: &str) -> &str {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '#' if !quoted => return line[..i].trim_end(),
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::exemplar::TraceExemplar;
    use crate::metrics::family::{Child, Definition};

    fn family(name: &str, help: &str, kind: Kind, labels: &[&str]) -> Arc<Family> {
        Arc::new(Family::new(Definition {
            name: name.into(),
            help: help.into(),
            kind,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            buckets: if kind == Kind::Histogram {
                vec![0.1, 1.0]
            } else {
                Vec::new()
            },
        }))
    }

    #[test]
    fn negotiation_follows_the_accept_header() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;\
                          version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(prometheus));
        assert!(wants_openmetrics("application/openmetrics-text"));
        assert!(!wants_openmetrics("text/plain"));
        assert!(!wants_openmetrics("*/*"));
        assert!(!wants_openmetrics("application/openmetrics-text;q=0"));
        assert!(!wants_openmetrics(
            "application/openmetrics-text;version=2.0.0"
        ));
        assert!(!wants_openmetrics(
            "application/openmetrics-text;q=0.2,text/plain"
        ));
        assert_eq!(render(None).0, PROMETHEUS_TEXT);
        let (content_type, body) = render(Some(prometheus));
        assert_eq!(content_type, OPENMETRICS);
        assert!(body.ends_with("# EOF\n"));
    }

    #[test]
    fn counters_keep_the_name_asked_for_in_both_formats() {
        let counter = family("jobs_total", "Jobs \"done\"\\n", Kind::Counter, &["queue"]);
        if let Child::Counter(c) = counter.child(vec!["a\"b".into()]) {
            c.inc_by(2.5);
        }
        let text = encode(vec![counter.clone()], Vec::new(), Format::Text);
        assert_eq!(
            text,
            "# HELP jobs_total Jobs \"done\"\\\\n\n\
             # TYPE jobs_total counter\n\
             jobs_total{queue=\"a\\\"b\"} 2.5\n"
        );
        let open = encode(vec![counter], Vec::new(), Format::OpenMetrics);
        assert_eq!(
            open,
            "# HELP jobs Jobs \\\"done\\\"\\\\n\n\
             # TYPE jobs counter\n\
             jobs_total{queue=\"a\\\"b\"} 2.5\n\
             # EOF\n"
        );
    }

    #[test]
    fn exemplars_appear_only_in_openmetrics() {
        let histogram = family("wait_seconds", "Wait", Kind::Histogram, &["op"]);
        if let Child::Histogram(h) = histogram.child(vec!["#1".into()]) {
            h.observe(0.05, Some(TraceExemplar(0xabc)), None);
        }
        let open = encode(vec![histogram.clone()], Vec::new(), Format::OpenMetrics);
        let exemplar = "# {trace_id=\"00000000000000000000000000000abc\"} 0.05\n";
        assert!(open.contains(&format!(
            "wait_seconds_bucket{{le=\"0.1\",op=\"#1\"}} 1 {exemplar}"
        )));
        let text = encode(vec![histogram], Vec::new(), Format::Text);
        assert!(
            text.contains("wait_seconds_bucket{le=\"0.1\",op=\"#1\"} 1\n"),
            "{text}"
        );
        assert!(!text.contains("trace_id"));
    }

    #[test]
    fn families_are_sorted_with_the_process_metrics() {
        let gauge = family("zz_gauge", "Z", Kind::Gauge, &[]);
        let sample = process::Sample {
            name: "process_cpu_seconds_total",
            help: "CPU",
            kind: Kind::Counter,
            value: 1.5,
        };
        let text = encode(vec![gauge], vec![sample], Format::Text);
        assert_eq!(
            text,
            "# HELP process_cpu_seconds_total CPU\n\
             # TYPE process_cpu_seconds_total counter\n\
             process_cpu_seconds_total 1.5\n\
             # HELP zz_gauge Z\n\
             # TYPE zz_gauge gauge\n\
             zz_gauge 0.0\n"
        );
    }

    #[test]
    fn exemplar_cut_respects_quotes() {
        assert_eq!(
            without_exemplar("a{x=\"#\"} 1 # {t=\"1\"} 2"),
            "a{x=\"#\"} 1"
        );
        assert_eq!(without_exemplar("a{x=\"\\\"#\"} 1"), "a{x=\"\\\"#\"} 1");
        assert_eq!(without_exemplar("a 1"), "a 1");
    }
}
