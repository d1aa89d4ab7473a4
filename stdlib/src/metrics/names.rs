//! The rules a metric or label name must follow, checked when a script creates a metric.
//!
//! Names follow the Prometheus data model: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names
//! `[a-zA-Z_][a-zA-Z0-9_]*` without the `__` prefix Prometheus keeps for itself. cn adds the
//! rules that keep both exposition formats valid for the same name: a counter's name ends in
//! `_total` (OpenMetrics exposes a counter family `x` as the sample `x_total`); a name given
//! without it gets it appended ([`counter_name`]), as the Prometheus client libraries for Python
//! and Java do, so `metrics.counter("users_listed")` is exposed as `users_listed_total`; a
//! histogram has no `le` label (its buckets use it) and no two families may claim the same
//! sample name (a histogram `x` claims `x_bucket`, `x_count` and `x_sum`).

use super::family::Kind;

/// Checks a metric name; the message says what is wrong.
pub(crate) fn check_metric_name(name: &str, kind: Kind) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if !valid {
        return Err(format!(
            "invalid metric name {name:?}: use letters, digits, '_' and ':', not starting with a digit"
        ));
    }
    if kind == Kind::Counter {
        match name.strip_suffix("_total") {
            None => {
                return Err(format!(
                    "counter name {name:?} must end in _total (did you mean \"{name}_total\"?)"
                ))
            }
            Some("") => {
                return Err(format!(
                    "counter name {name:?} needs a name before the _total suffix"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A counter's name as exposed: `name` with `_total` appended unless it ends in it already.
pub(crate) fn counter_name(name: &str) -> String {
    if name.ends_with("_total") {
        name.to_string()
    } else {
        format!("{name}_total")
    }
}

/// The help text of a metric created without one: its name in words (`users_listed_total` ->
/// "users listed"), which is what promtool and readers need (a help line), and no more.
pub(crate) fn default_help(name: &str, kind: Kind) -> String {
    let base = match kind {
        Kind::Counter => name.strip_suffix("_total").unwrap_or(name),
        _ => name,
    };
    let words = base.replace(['_', ':'], " ");
    match words.trim() {
        "" => name.to_string(),
        words => words.to_string(),
    }
}

/// Checks the label names of a new metric of `kind`.
pub(crate) fn check_label_names(labels: &[String], kind: Kind) -> Result<(), String> {
    for (i, label) in labels.iter().enumerate() {
        let mut chars = label.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "invalid label name {label:?}: use letters, digits and '_', not starting with a digit"
            ));
        }
        if label.starts_with("__") {
            return Err(format!(
                "invalid label name {label:?}: names starting with __ are reserved for Prometheus"
            ));
        }
        if kind == Kind::Histogram && label == "le" {
            return Err("a histogram cannot have a label named \"le\": its buckets use it".into());
        }
        if labels[..i].contains(label) {
            return Err(format!("label {label:?} is listed twice"));
        }
    }
    Ok(())
}

/// The OpenMetrics family name: a counter's name without `_total`, other names unchanged.
pub(crate) fn family_name(name: &str, kind: Kind) -> &str {
    match kind {
        Kind::Counter => name.strip_suffix("_total").unwrap_or(name),
        Kind::Gauge | Kind::Histogram => name,
    }
}

/// Every name a family occupies in either format: its family name and the names of its samples
/// (the same sets the strict OpenMetrics parser checks for clashes).
pub(crate) fn claimed_names(name: &str, kind: Kind) -> Vec<String> {
    let family = family_name(name, kind);
    let suffixes: &[&str] = match kind {
        Kind::Counter => &["", "_total", "_created"],
        Kind::Gauge => &[""],
        Kind::Histogram => &["", "_bucket", "_count", "_sum", "_created"],
    };
    suffixes.iter().map(|s| format!("{family}{s}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn metric_names_follow_the_prometheus_pattern() {
        assert!(check_metric_name("myapp_connections_active", Kind::Gauge).is_ok());
        assert!(check_metric_name("job:rate5m", Kind::Gauge).is_ok());
        assert!(check_metric_name("_private", Kind::Gauge).is_ok());
        for bad in ["", "1st", "my-metric", "größe", "a b"] {
            let err = check_metric_name(bad, Kind::Gauge).expect_err("rejected");
            assert!(err.starts_with("invalid metric name"), "{bad}: {err}");
        }
    }

    #[test]
    fn counters_must_end_in_total() {
        assert!(check_metric_name("myapp_requests_total", Kind::Counter).is_ok());
        let err = check_metric_name("myapp_requests", Kind::Counter).expect_err("rejected");
        assert!(
            err.contains("did you mean \"myapp_requests_total\""),
            "{err}"
        );
        assert!(check_metric_name("_total", Kind::Counter).is_err());
        // Other kinds may end in _total; only counters append it in OpenMetrics.
        assert!(check_metric_name("queue_total", Kind::Gauge).is_ok());
    }

    #[test]
    fn label_names_are_checked() {
        assert!(check_label_names(&labels(&["endpoint", "status", "_x1"]), Kind::Counter).is_ok());
        assert!(check_label_names(&labels(&["le"]), Kind::Counter).is_ok());
        let cases = [
            (&["1a"][..], Kind::Gauge, "invalid label name"),
            (&["a:b"][..], Kind::Gauge, "invalid label name"),
            (&["__name"][..], Kind::Gauge, "reserved for Prometheus"),
            (&["le"][..], Kind::Histogram, "\"le\""),
            (&["a", "b", "a"][..], Kind::Gauge, "listed twice"),
        ];
        for (names, kind, expected) in cases {
            let err = check_label_names(&labels(names), kind).expect_err("rejected");
            assert!(err.contains(expected), "{names:?}: {err}");
        }
    }

    #[test]
    fn families_claim_their_sample_names() {
        assert_eq!(family_name("a_total", Kind::Counter), "a");
        assert_eq!(
            claimed_names("a_total", Kind::Counter),
            ["a", "a_total", "a_created"]
        );
        assert_eq!(claimed_names("g", Kind::Gauge), ["g"]);
        assert!(claimed_names("h", Kind::Histogram).contains(&"h_count".to_string()));
    }
}
