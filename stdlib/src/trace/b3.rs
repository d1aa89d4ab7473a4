//! Zipkin B3 propagation, read only (<https://github.com/openzipkin/b3-propagation>): the single
//! `b3` header and the multi-header `x-b3-*` form. Outgoing requests always carry W3C headers.
//!
//! B3 allows what W3C does not: a 64-bit trace id (widened with leading zeros), a sampling
//! decision without ids (`b3: 0`), and ids without a decision (the receiver decides).

use super::span_context::parse_hex;

/// What a valid B3 header set carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct B3 {
    /// Trace id and the caller's span id, when present.
    pub ids: Option<(u128, u64)>,
    /// The caller's decision: `None` when it deferred to us.
    pub sampled: Option<bool>,
}

/// Parses a `b3` header: `traceid-spanid[-sampled[-parentspanid]]`, or a lone sampling state
/// (`0`, `1` or `d`).
pub fn parse_single(value: &str) -> Option<B3> {
    let value = value.trim_matches([' ', '\t']);
    if let Some(sampled) = sampling_state(value) {
        return Some(B3 {
            ids: None,
            sampled: Some(sampled),
        });
    }
    let mut parts = value.split('-');
    let trace_id = trace_id(parts.next()?)?;
    let span = span_id(parts.next()?)?;
    let sampled = match parts.next() {
        None => None,
        Some(state) => Some(sampling_state(state)?),
    };
    // The caller's parent is not ours to use, but a malformed one makes the header invalid.
    if let Some(parent) = parts.next() {
        span_id(parent)?;
    }
    if parts.next().is_some() {
        return None;
    }
    Some(B3 {
        ids: Some((trace_id, span)),
        sampled,
    })
}

/// Parses the multi-header form from its header values: `x-b3-traceid`, `x-b3-spanid`,
/// `x-b3-sampled` (`1`/`0`, or the legacy `true`/`false`) and `x-b3-flags` (`1` = debug, which
/// means sampled). Ids must come as a pair; a decision alone is valid.
pub fn parse_multi(
    trace: Option<&str>,
    span: Option<&str>,
    sampled: Option<&str>,
    flags: Option<&str>,
) -> Option<B3> {
    let debug = flags.map(str::trim) == Some("1");
    let sampled = match sampled.map(str::trim) {
        _ if debug => Some(true),
        None => None,
        Some("1" | "true") => Some(true),
        Some("0" | "false") => Some(false),
        Some(_) => return None,
    };
    let ids = match (trace, span) {
        (Some(trace), Some(span)) => Some((trace_id(trace.trim())?, span_id(span.trim())?)),
        (None, None) => None,
        _ => return None,
    };
    if ids.is_none() && sampled.is_none() {
        return None;
    }
    Some(B3 { ids, sampled })
}

/// `0` is "do not sample"; `1` and `d` (debug) are "sample".
fn sampling_state(text: &str) -> Option<bool> {
    match text {
        "0" => Some(false),
        "1" | "d" => Some(true),
        _ => None,
    }
}

/// 32 or 16 hex digits (a 64-bit id is the low half of a 128-bit one), not zero.
fn trace_id(text: &str) -> Option<u128> {
    match text.len() {
        32 | 16 => parse_hex(text, text.len(), true).filter(|id| *id != 0),
        _ => None,
    }
}

/// 16 hex digits, not zero.
fn span_id(text: &str) -> Option<u64> {
    parse_hex(text, 16, true)
        .map(|id| id as u64)
        .filter(|id| *id != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "80f198ee56343ba864fe8b2a57d3eff7";
    const SPAN: &str = "e457b5a2e4d86bd1";
    const PARENT: &str = "05e3ac9a4f6e3b90";

    fn ids(trace: u128, span: u64) -> Option<(u128, u64)> {
        Some((trace, span))
    }

    #[test]
    fn single_header_with_every_field() {
        let b3 = parse_single(&format!("{TRACE}-{SPAN}-1-{PARENT}")).expect("valid");
        assert_eq!(
            b3.ids,
            ids(0x80f198ee56343ba864fe8b2a57d3eff7, 0xe457b5a2e4d86bd1)
        );
        assert_eq!(b3.sampled, Some(true));
        let debug = parse_single(&format!("{TRACE}-{SPAN}-d")).expect("valid");
        assert_eq!(debug.sampled, Some(true));
        let denied = parse_single(&format!("{TRACE}-{SPAN}-0")).expect("valid");
        assert_eq!(denied.sampled, Some(false));
    }

    #[test]
    fn single_header_without_decision_defers() {
        let b3 = parse_single(&format!("{TRACE}-{SPAN}")).expect("valid");
        assert_eq!(b3.sampled, None);
        assert!(b3.ids.is_some());
    }

    #[test]
    fn single_header_64_bit_trace_id_is_widened() {
        let b3 = parse_single(&format!("64fe8b2a57d3eff7-{SPAN}-1")).expect("valid");
        assert_eq!(b3.ids, ids(0x64fe8b2a57d3eff7, 0xe457b5a2e4d86bd1));
    }

    #[test]
    fn single_header_lone_decision() {
        for (value, sampled) in [("0", false), ("1", true), ("d", true)] {
            let b3 = parse_single(value).expect("valid");
            assert_eq!(b3.ids, None);
            assert_eq!(b3.sampled, Some(sampled));
        }
    }

    #[test]
    fn single_header_rejects_malformed_values() {
        for bad in [
            "",
            "2",
            "true",
            TRACE,
            &format!("{TRACE}-{SPAN}-2"),
            &format!("{TRACE}-{SPAN}-1-xyz"),
            &format!("{TRACE}-{SPAN}-1-{PARENT}-extra"),
            &format!("{}-{SPAN}-1", &TRACE[..20]),
            &format!("{TRACE}-{}-1", "0".repeat(16)),
            &format!("{}-{SPAN}-1", "0".repeat(32)),
            &format!("{TRACE}-{SPAN}é"),
        ] {
            assert_eq!(parse_single(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn multi_headers() {
        let b3 = parse_multi(Some(TRACE), Some(SPAN), Some("1"), None).expect("valid");
        assert_eq!(b3.sampled, Some(true));
        assert!(b3.ids.is_some());
        let legacy = parse_multi(Some(TRACE), Some(SPAN), Some("false"), None).expect("valid");
        assert_eq!(legacy.sampled, Some(false));
        let debug = parse_multi(Some(TRACE), Some(SPAN), Some("0"), Some("1")).expect("valid");
        assert_eq!(debug.sampled, Some(true));
        let deferred = parse_multi(Some(TRACE), Some(SPAN), None, None).expect("valid");
        assert_eq!(deferred.sampled, None);
        let decision = parse_multi(None, None, Some("0"), None).expect("valid");
        assert_eq!((decision.ids, decision.sampled), (None, Some(false)));
    }

    #[test]
    fn multi_headers_reject_half_or_bad_values() {
        assert_eq!(parse_multi(Some(TRACE), None, Some("1"), None), None);
        assert_eq!(parse_multi(None, Some(SPAN), Some("1"), None), None);
        assert_eq!(
            parse_multi(Some(TRACE), Some(SPAN), Some("yes"), None),
            None
        );
        assert_eq!(parse_multi(Some("xyz"), Some(SPAN), None, None), None);
        assert_eq!(parse_multi(None, None, None, None), None);
    }
}
