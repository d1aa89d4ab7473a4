//! One metric family: its definition (name, help, kind, label names, buckets) and its children,
//! one prometheus-client metric per combination of label values.
//!
//! The values live in prometheus-client's own types (`Counter`, `Gauge`,
//! `HistogramWithExemplars`), and a family encodes itself through the crate's encoder. It does
//! not use the crate's `Family` container: that one keeps children in a `HashMap`, whose order
//! changes from process to process, while an exposition should list series in a stable order
//! (sorted by label values, as the Go client does) so that two scrapes, or a test's expected
//! output, compare line by line.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, PoisonError};

use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabel, EncodeLabelSet, EncodeMetric, LabelSetEncoder, MetricEncoder,
};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::exemplar::HistogramWithExemplars;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;

use super::exemplar::TraceExemplar;
use super::names;

/// Prometheus's default histogram buckets, the same in every official client.
pub(crate) const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The kind of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Only goes up.
    Counter,
    /// Goes up and down.
    Gauge,
    /// Counts observations into buckets.
    Histogram,
}

impl Kind {
    /// The word scripts and messages use.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }

    pub(crate) fn metric_type(self) -> MetricType {
        match self {
            Kind::Counter => MetricType::Counter,
            Kind::Gauge => MetricType::Gauge,
            Kind::Histogram => MetricType::Histogram,
        }
    }
}

/// A counter's value; a float so `add(0.25)` works.
pub(crate) type CounterHandle = Counter<f64, AtomicU64>;
/// A gauge's value.
pub(crate) type GaugeHandle = Gauge<f64, AtomicU64>;
/// A histogram; every histogram can keep exemplars, only the http one records them today.
pub(crate) type HistogramHandle = HistogramWithExemplars<TraceExemplar>;

/// One series (or, for a histogram, one set of bucket series): a handle sharing its value with
/// the family, so callers may keep it and update it without going through the family again.
#[derive(Clone, Debug)]
pub(crate) enum Child {
    Counter(CounterHandle),
    Gauge(GaugeHandle),
    Histogram(HistogramHandle),
}

impl Child {
    fn new(definition: &Definition) -> Child {
        match definition.kind {
            Kind::Counter => Child::Counter(CounterHandle::default()),
            Kind::Gauge => Child::Gauge(GaugeHandle::default()),
            Kind::Histogram => {
                Child::Histogram(HistogramHandle::new(definition.buckets.iter().copied()))
            }
        }
    }

    fn encode(&self, encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        match self {
            Child::Counter(c) => c.encode(encoder),
            Child::Gauge(g) => g.encode(encoder),
            Child::Histogram(h) => h.encode(encoder),
        }
    }
}

/// What was asked for when the family was created. Registering a name again succeeds only
/// with an identical definition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Definition {
    /// The name as exposed (a counter's includes `_total`).
    pub name: String,
    pub help: String,
    pub kind: Kind,
    /// Label names in the order the series show them.
    pub labels: Vec<String>,
    /// Upper bounds, histograms only; the `+Inf` bucket is implicit.
    pub buckets: Vec<f64>,
}

impl Definition {
    /// Checks every rule of a new definition; the message says what is wrong.
    pub(crate) fn check(&self) -> Result<(), String> {
        names::check_metric_name(&self.name, self.kind)?;
        names::check_label_names(&self.labels, self.kind)?;
        if self.help.trim().is_empty() {
            // Prometheus's linter (promtool) rejects a family without help, as do readers.
            return Err("the help text must say what the metric measures; it is empty".into());
        }
        if self.kind == Kind::Histogram {
            check_buckets(&self.buckets)?;
        }
        Ok(())
    }

    /// How `other` differs from this definition, as the end of a sentence ("as a gauge"), or
    /// `None` when they are identical.
    pub(crate) fn difference(&self, other: &Definition) -> Option<String> {
        if self.kind != other.kind {
            Some(format!("as a {}", self.kind.noun()))
        } else if self.help != other.help {
            Some(format!("with help {:?}", self.help))
        } else if self.labels != other.labels {
            Some(format!("with labels {:?}", self.labels))
        } else if self.buckets != other.buckets {
            let mut text = String::from("with buckets [");
            for (i, b) in self.buckets.iter().enumerate() {
                let _ = write!(text, "{}{b:?}", if i > 0 { ", " } else { "" });
            }
            text.push(']');
            Some(text)
        } else {
            None
        }
    }
}

/// Buckets must be finite, non-negative (OpenMetrics forbids `_sum` beside negative buckets, and
/// every histogram exposes `_sum`) and strictly increasing.
fn check_buckets(buckets: &[f64]) -> Result<(), String> {
    if buckets.is_empty() {
        return Err("a histogram needs at least one bucket".into());
    }
    for (i, b) in buckets.iter().enumerate() {
        if !b.is_finite() {
            return Err(format!(
                "bucket {b} is not finite (the +Inf bucket is always there)"
            ));
        }
        if *b < 0.0 {
            return Err(format!(
                "bucket {b:?} is negative; buckets start at 0 or above"
            ));
        }
        if i > 0 && buckets[i - 1] >= *b {
            return Err(format!(
                "buckets must be strictly increasing: {:?} comes after {:?}",
                b,
                buckets[i - 1]
            ));
        }
    }
    Ok(())
}

/// A registered family and its children, keyed by label values in label order.
#[derive(Debug)]
pub(crate) struct Family {
    pub definition: Definition,
    children: Mutex<BTreeMap<Vec<String>, Child>>,
}

impl Family {
    /// A family with no series yet; a family without labels gets its one series at once, so it
    /// is exposed (as 0) from the start, as in the other Prometheus clients.
    pub(crate) fn new(definition: Definition) -> Family {
        let mut children = BTreeMap::new();
        if definition.labels.is_empty() {
            children.insert(Vec::new(), Child::new(&definition));
        }
        Family {
            definition,
            children: Mutex::new(children),
        }
    }

    /// The series for `values` (one per label, in label order), created on first use.
    pub(crate) fn child(&self, values: Vec<String>) -> Child {
        let mut children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(child) = children.get(&values) {
            return child.clone();
        }
        let child = Child::new(&self.definition);
        children.insert(values, child.clone());
        child
    }

    /// The OpenMetrics family name (a counter's name without `_total`).
    pub(crate) fn family_name(&self) -> &str {
        names::family_name(&self.definition.name, self.definition.kind)
    }

    /// Writes the family with `help` (already escaped for the target format); a labelled family
    /// with no series yet writes nothing.
    pub(crate) fn encode(
        &self,
        encoder: &mut DescriptorEncoder<'_>,
        help: &str,
    ) -> Result<(), std::fmt::Error> {
        let children = self.children.lock().unwrap_or_else(PoisonError::into_inner);
        if children.is_empty() {
            return Ok(());
        }
        let kind = self.definition.kind;
        let mut metric =
            encoder.encode_descriptor(self.family_name(), help, None, kind.metric_type())?;
        if self.definition.labels.is_empty() {
            return match children.values().next() {
                Some(child) => child.encode(metric),
                None => Ok(()),
            };
        }
        for (values, child) in children.iter() {
            let labels = Labels {
                names: &self.definition.labels,
                values,
            };
            child.encode(metric.encode_family(&labels)?)?;
        }
        Ok(())
    }
}

/// Label names zipped with one series' values, encoded by the crate (which escapes values).
struct Labels<'a> {
    names: &'a [String],
    values: &'a [String],
}

impl EncodeLabelSet for Labels<'_> {
    fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
        for (name, value) in self.names.iter().zip(self.values) {
            (name.as_str(), value.as_str()).encode(encoder.encode_label())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(buckets: &[f64]) -> Definition {
        Definition {
            name: "h".into(),
            help: "h".into(),
            kind: Kind::Histogram,
            labels: Vec::new(),
            buckets: buckets.to_vec(),
        }
    }

    #[test]
    fn bucket_rules() {
        assert!(histogram(&DEFAULT_BUCKETS).check().is_ok());
        assert!(histogram(&[0.0, 1.0]).check().is_ok());
        let cases = [
            (&[][..], "at least one bucket"),
            (&[1.0, f64::INFINITY][..], "not finite"),
            (&[f64::NAN][..], "not finite"),
            (&[-1.0, 1.0][..], "negative"),
            (&[1.0, 1.0][..], "strictly increasing: 1.0 comes after 1.0"),
            (&[2.0, 1.0][..], "strictly increasing"),
        ];
        for (buckets, expected) in cases {
            let err = histogram(buckets).check().expect_err("rejected");
            assert!(err.contains(expected), "{buckets:?}: {err}");
        }
    }

    #[test]
    fn a_difference_names_the_first_field_that_differs() {
        let a = histogram(&[1.0]);
        assert_eq!(a.difference(&a.clone()), None);
        let mut b = a.clone();
        b.kind = Kind::Gauge;
        assert_eq!(a.difference(&b).as_deref(), Some("as a histogram"));
        let mut c = a.clone();
        c.buckets = vec![2.0];
        assert_eq!(a.difference(&c).as_deref(), Some("with buckets [1.0]"));
    }
}
