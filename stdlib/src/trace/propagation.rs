//! Reading the caller's trace from request headers and writing ours into outgoing ones.
//!
//! Incoming, the first valid format wins: W3C `traceparent` (with its `tracestate`), then the
//! single `b3` header, then the `x-b3-*` headers. Outgoing requests carry W3C headers only,
//! the format every current tracer reads.

use std::rc::Rc;

use hyper::header::{HeaderMap, HeaderName, HeaderValue};

use super::b3;
use super::span_context::SpanContext;
use super::w3c;

/// What a request's headers say about the caller's trace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Remote {
    /// The trace id and the caller's span id (absent for a B3 decision alone).
    pub ids: Option<(u128, u64)>,
    /// The caller's sampling decision; `None` when it left the decision to us.
    pub sampled: Option<bool>,
    /// The caller's `tracestate`, to pass on.
    pub trace_state: Option<Rc<str>>,
}

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const B3: HeaderName = HeaderName::from_static("b3");
const B3_TRACE: HeaderName = HeaderName::from_static("x-b3-traceid");
const B3_SPAN: HeaderName = HeaderName::from_static("x-b3-spanid");
const B3_SAMPLED: HeaderName = HeaderName::from_static("x-b3-sampled");
const B3_FLAGS: HeaderName = HeaderName::from_static("x-b3-flags");

/// The caller's trace, if the headers carry a valid one in any format we read.
pub fn extract(headers: &HeaderMap) -> Option<Remote> {
    // Most requests carry no trace headers. One pass over the names finds out more cheaply than
    // looking up (hashing) each of the five names; only the ones present are then fetched.
    let (mut w3c, mut b3_single, mut b3_multi) = (false, false, false);
    for name in headers.keys() {
        match name.as_str() {
            "traceparent" => w3c = true,
            "b3" => b3_single = true,
            other => b3_multi |= other.starts_with("x-b3-"),
        }
    }
    let traceparent = w3c.then(|| single(headers, &TRACEPARENT)).flatten();
    if let Some(parent) = traceparent.and_then(w3c::parse_traceparent) {
        let states = headers
            .get_all(TRACESTATE)
            .iter()
            .filter_map(|v| v.to_str().ok());
        return Some(Remote {
            ids: Some((parent.trace_id, parent.span_id)),
            sampled: Some(parent.sampled),
            trace_state: w3c::parse_tracestate(states),
        });
    }
    let single_b3 = b3_single.then(|| single(headers, &B3)).flatten();
    let b3 = match single_b3.and_then(b3::parse_single) {
        Some(b3) => b3,
        None if b3_multi => {
            let text = |name: &HeaderName| single(headers, name);
            b3::parse_multi(
                text(&B3_TRACE),
                text(&B3_SPAN),
                text(&B3_SAMPLED),
                text(&B3_FLAGS),
            )?
        }
        None => return None,
    };
    Some(Remote {
        ids: b3.ids,
        sampled: b3.sampled,
        trace_state: None,
    })
}

/// The header's value when it appears exactly once as text (a repeated trace header is
/// ambiguous, so it counts as absent).
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    if values.next().is_some() {
        return None;
    }
    first.to_str().ok()
}

/// Writes `traceparent` (and `tracestate` when there is one) for `context` into `headers`,
/// replacing what was there.
pub fn inject(context: &SpanContext, headers: &mut HeaderMap) {
    if let Ok(value) = HeaderValue::try_from(context.traceparent()) {
        headers.insert(TRACEPARENT, value);
    }
    match context
        .trace_state
        .as_deref()
        .and_then(|s| HeaderValue::from_str(s).ok())
    {
        Some(value) => {
            headers.insert(TRACESTATE, value);
        }
        None => {
            headers.remove(TRACESTATE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            let value = HeaderValue::from_str(value).expect("test header");
            map.append(HeaderName::from_static(name), value);
        }
        map
    }

    #[test]
    fn traceparent_wins_over_b3() {
        let map = headers(&[
            ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0"),
            ("traceparent", PARENT),
            ("tracestate", "rojo=1"),
        ]);
        let remote = extract(&map).expect("context");
        assert_eq!(
            remote.ids,
            Some((0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7))
        );
        assert_eq!(remote.sampled, Some(true));
        assert_eq!(remote.trace_state.as_deref(), Some("rojo=1"));
    }

    #[test]
    fn invalid_traceparent_falls_back_to_b3_then_multi() {
        let map = headers(&[
            ("traceparent", "00-zz"),
            ("b3", "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0"),
            ("x-b3-traceid", "0000000000000000000000000000000a"),
            ("x-b3-spanid", "000000000000000b"),
        ]);
        let remote = extract(&map).expect("context");
        assert_eq!(remote.sampled, Some(false));
        assert_eq!(remote.ids.map(|(_, span)| span), Some(0xe457b5a2e4d86bd1));
        let map = headers(&[
            ("b3", "garbage"),
            ("x-b3-traceid", "0000000000000000000000000000000a"),
            ("x-b3-spanid", "000000000000000b"),
            ("x-b3-sampled", "1"),
        ]);
        let remote = extract(&map).expect("context");
        assert_eq!(remote.ids, Some((10, 11)));
        assert_eq!(remote.sampled, Some(true));
    }

    #[test]
    fn repeated_traceparent_is_ignored() {
        let map = headers(&[("traceparent", PARENT), ("traceparent", PARENT)]);
        assert_eq!(extract(&map), None);
        assert_eq!(extract(&HeaderMap::new()), None);
    }

    #[test]
    fn inject_writes_w3c_headers() {
        let context = SpanContext {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            span_id: 0x00f067aa0ba902b7,
            sampled: true,
            trace_state: Some("rojo=1,congo=2".into()),
        };
        let mut map = headers(&[("tracestate", "stale=1"), ("traceparent", "old")]);
        inject(&context, &mut map);
        assert_eq!(
            map.get("traceparent").map(|v| v.as_bytes()),
            Some(PARENT.as_bytes())
        );
        assert_eq!(
            map.get("tracestate").map(|v| v.as_bytes()),
            Some(&b"rojo=1,congo=2"[..])
        );
        let plain = SpanContext {
            trace_state: None,
            ..context
        };
        inject(&plain, &mut map);
        assert!(map.get("tracestate").is_none());
        // What we write, we read back.
        let remote = extract(&map).expect("context");
        assert_eq!(remote.ids, Some((plain.trace_id, plain.span_id)));
    }
}
