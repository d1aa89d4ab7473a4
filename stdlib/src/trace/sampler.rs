//! Head sampling: whether a new span's trace is recorded, decided once where the trace starts
//! and followed by every span after it (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
//!
//! The decision is also what we tell the services we call (the `sampled` flag), so it is made
//! even when nothing is exported.

/// A configured sampler, as the OpenTelemetry SDK specification defines them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// Every trace.
    AlwaysOn,
    /// No trace.
    AlwaysOff,
    /// A fixed share of traces chosen by their id, so every service picks the same ones: a trace
    /// is sampled when the top 63 bits of its id's low 64 bits are below this bound.
    TraceIdRatio(u64),
    /// Follow the caller's (or parent span's) decision; use the inner sampler for new traces.
    ParentBased(Root),
}

/// The root sampler of a parent-based sampler.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Root {
    /// `parentbased_always_on`.
    AlwaysOn,
    /// `parentbased_always_off`.
    AlwaysOff,
    /// `parentbased_traceidratio`.
    TraceIdRatio(u64),
}

impl Default for Sampler {
    /// `parentbased_always_on`, the specification's default.
    fn default() -> Sampler {
        Sampler::ParentBased(Root::AlwaysOn)
    }
}

impl Sampler {
    /// The sampler named by `OTEL_TRACES_SAMPLER` with its argument; unknown names and bad
    /// ratios fall back to the defaults with a warning (returned, for the caller to print once).
    pub fn from_env(name: Option<&str>, arg: Option<&str>) -> (Sampler, Option<String>) {
        let name = name.map(str::trim).unwrap_or("").to_ascii_lowercase();
        let (bound, warning) = ratio_bound(&name, arg);
        let sampler = match name.as_str() {
            "" | "parentbased_always_on" => Sampler::ParentBased(Root::AlwaysOn),
            "always_on" => Sampler::AlwaysOn,
            "always_off" => Sampler::AlwaysOff,
            "traceidratio" => Sampler::TraceIdRatio(bound),
            "parentbased_always_off" => Sampler::ParentBased(Root::AlwaysOff),
            "parentbased_traceidratio" => Sampler::ParentBased(Root::TraceIdRatio(bound)),
            other => {
                let warning = format!(
                    "OTEL_TRACES_SAMPLER={other} is not supported; using parentbased_always_on"
                );
                return (Sampler::default(), Some(warning));
            }
        };
        (sampler, warning)
    }

    /// Whether a new span in trace `trace_id` is sampled, given its parent's decision (`None`
    /// for a new trace, or a caller that deferred the decision).
    pub fn sample(self, parent: Option<bool>, trace_id: u128) -> bool {
        match (self, parent) {
            (Sampler::AlwaysOn, _) => true,
            (Sampler::AlwaysOff, _) => false,
            (Sampler::TraceIdRatio(bound), _) => by_ratio(bound, trace_id),
            (Sampler::ParentBased(_), Some(decision)) => decision,
            (Sampler::ParentBased(Root::AlwaysOn), None) => true,
            (Sampler::ParentBased(Root::AlwaysOff), None) => false,
            (Sampler::ParentBased(Root::TraceIdRatio(bound)), None) => by_ratio(bound, trace_id),
        }
    }
}

/// The ratio samplers' bound from `OTEL_TRACES_SAMPLER_ARG` (a probability in [0, 1], default 1).
fn ratio_bound(name: &str, arg: Option<&str>) -> (u64, Option<String>) {
    let all = ratio_to_bound(1.0);
    if !name.ends_with("traceidratio") {
        return (all, None);
    }
    let Some(arg) = arg.map(str::trim).filter(|a| !a.is_empty()) else {
        return (all, None);
    };
    match arg.parse::<f64>() {
        Ok(ratio) if (0.0..=1.0).contains(&ratio) => (ratio_to_bound(ratio), None),
        _ => (
            all,
            Some(format!(
                "OTEL_TRACES_SAMPLER_ARG={arg} is not a probability between 0 and 1; using 1.0"
            )),
        ),
    }
}

/// The same scale the OpenTelemetry SDKs use, so a trace sampled upstream at a ratio is also
/// sampled here at that ratio or a higher one.
fn ratio_to_bound(ratio: f64) -> u64 {
    if ratio >= 1.0 {
        u64::MAX
    } else {
        (ratio.max(0.0) * (1u64 << 63) as f64) as u64
    }
}

fn by_ratio(bound: u64, trace_id: u128) -> bool {
    // The low 64 bits are the random part of every id format, 64-bit B3 ids included.
    ((trace_id as u64) >> 1) < bound
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(name: &str, arg: Option<&str>) -> Sampler {
        Sampler::from_env(Some(name), arg).0
    }

    #[test]
    fn names_are_read() {
        assert_eq!(Sampler::from_env(None, None).0, Sampler::default());
        assert_eq!(named("always_on", None), Sampler::AlwaysOn);
        assert_eq!(named("ALWAYS_OFF", None), Sampler::AlwaysOff);
        assert_eq!(
            named("parentbased_always_off", None),
            Sampler::ParentBased(Root::AlwaysOff)
        );
        assert_eq!(named("traceidratio", Some("0")), Sampler::TraceIdRatio(0));
        let (sampler, warning) = Sampler::from_env(Some("jaeger_remote"), None);
        assert_eq!(sampler, Sampler::default());
        assert!(warning.is_some_and(|w| w.contains("jaeger_remote")));
    }

    #[test]
    fn bad_ratio_warns_and_samples_everything() {
        let (sampler, warning) = Sampler::from_env(Some("traceidratio"), Some("1.5"));
        assert_eq!(sampler, Sampler::TraceIdRatio(u64::MAX));
        assert!(warning.is_some());
        let (_, warning) = Sampler::from_env(Some("traceidratio"), Some("abc"));
        assert!(warning.is_some());
    }

    #[test]
    fn parent_based_follows_the_parent() {
        let sampler = Sampler::default();
        assert!(sampler.sample(Some(true), 1));
        assert!(!sampler.sample(Some(false), 1));
        assert!(sampler.sample(None, 1));
        let off = Sampler::ParentBased(Root::AlwaysOff);
        assert!(off.sample(Some(true), 1));
        assert!(!off.sample(None, 1));
        // Non-parent-based samplers ignore the parent.
        assert!(!Sampler::AlwaysOff.sample(Some(true), 1));
        assert!(Sampler::AlwaysOn.sample(Some(false), 1));
    }

    #[test]
    fn ratio_splits_by_trace_id() {
        let zero = named("traceidratio", Some("0"));
        let half = named("traceidratio", Some("0.5"));
        let all = named("traceidratio", Some("1"));
        let low = 0x10;
        let high = u64::MAX as u128;
        assert!(!zero.sample(None, low));
        assert!(half.sample(None, low));
        assert!(!half.sample(None, high));
        assert!(all.sample(None, high));
        let sampled = (0..10_000u128)
            .filter(|i| half.sample(None, super::super::span_context::new_trace_id() ^ i))
            .count();
        assert!((4_000..6_000).contains(&sampled), "{sampled}");
        let parent_ratio = named("parentbased_traceidratio", Some("0"));
        assert!(parent_ratio.sample(Some(true), low));
        assert!(!parent_ratio.sample(None, low));
    }
}
