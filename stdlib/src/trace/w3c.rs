//! W3C Trace Context: parsing `traceparent` and `tracestate` as the recommendation says
//! (<https://www.w3.org/TR/trace-context/>, sections 3.2 and 3.3).
//!
//! A `traceparent` that breaks any rule is ignored as a whole, and so is its `tracestate`; a
//! `tracestate` that breaks a rule (or has more than 32 members) is dropped while the
//! `traceparent` stands.

use std::rc::Rc;

use super::span_context::parse_hex;

/// What a valid `traceparent` carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceParent {
    /// The trace id (not zero).
    pub trace_id: u128,
    /// The caller's span id (not zero).
    pub span_id: u64,
    /// The `sampled` flag (bit 0 of the trace flags; the other bits are not ours to keep).
    pub sampled: bool,
}

/// Most `tracestate` members a list may have.
const MAX_MEMBERS: usize = 32;

/// Parses a `traceparent` value: `version-traceid-parentid-flags`. Version `00` has exactly that
/// length; a later version may append `-`-separated fields, which are ignored, and `ff` is
/// invalid. Ids must be lowercase hex and not all zeros.
pub fn parse_traceparent(value: &str) -> Option<TraceParent> {
    let value = value.trim_matches([' ', '\t']);
    let bytes = value.as_bytes();
    // ASCII only, so the slices below fall on character boundaries.
    if bytes.len() < 55 || !value.is_ascii() {
        return None;
    }
    let version = parse_hex(&value[0..2], 2, false)?;
    match version {
        0xff => return None,
        0 if bytes.len() != 55 => return None,
        0 => {}
        _ if bytes.len() > 55 && bytes[55] != b'-' => return None,
        _ => {}
    }
    if bytes[2] != b'-' || bytes[35] != b'-' || bytes[52] != b'-' {
        return None;
    }
    let trace_id = parse_hex(&value[3..35], 32, false).filter(|id| *id != 0)?;
    let span_id = parse_hex(&value[36..52], 16, false).filter(|id| *id != 0)? as u64;
    let flags = parse_hex(&value[53..55], 2, false)?;
    Some(TraceParent {
        trace_id,
        span_id,
        sampled: flags & 1 == 1,
    })
}

/// Parses the `tracestate` header values (several header lines form one list) and gives the
/// members re-joined with `,`; `None` when the list is empty, malformed, repeats a key or has
/// more than 32 members.
pub fn parse_tracestate<'a>(values: impl IntoIterator<Item = &'a str>) -> Option<Rc<str>> {
    let mut members: Vec<&str> = Vec::new();
    for value in values {
        for member in value.split(',') {
            let member = member.trim_matches([' ', '\t']);
            if member.is_empty() {
                continue;
            }
            let (key, val) = member.split_once('=')?;
            if !valid_key(key) || !valid_value(val) {
                return None;
            }
            if members
                .iter()
                .any(|m| m.split_once('=').map(|(k, _)| k) == Some(key))
            {
                return None;
            }
            members.push(member);
            if members.len() > MAX_MEMBERS {
                return None;
            }
        }
    }
    if members.is_empty() {
        return None;
    }
    Some(members.join(",").into())
}

/// `simple-key` or `tenant@system`: lowercase letters, digits and `_-*/`, starting with a
/// lowercase letter (a tenant may also start with a digit); at most 256 characters.
fn valid_key(key: &str) -> bool {
    let part_ok = |part: &str, max: usize, digit_first: bool| {
        let mut bytes = part.bytes();
        let first_ok = match bytes.next() {
            Some(b) => b.is_ascii_lowercase() || (digit_first && b.is_ascii_digit()),
            None => false,
        };
        first_ok
            && part.len() <= max
            && bytes.all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'-' | b'*' | b'/')
            })
    };
    match key.split_once('@') {
        None => part_ok(key, 256, false),
        Some((tenant, system)) => part_ok(tenant, 241, true) && part_ok(system, 14, false),
    }
}

/// Printable ASCII except `,` and `=`, 1 to 256 characters, not ending in a space.
fn valid_value(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 256
        && !value.ends_with(' ')
        && value
            .bytes()
            .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn version_00_is_read() {
        let parent = parse_traceparent(GOOD).expect("valid");
        assert_eq!(parent.trace_id, 0x4bf92f3577b34da6a3ce929d0e0e4736);
        assert_eq!(parent.span_id, 0x00f067aa0ba902b7);
        assert!(parent.sampled);
        let unsampled = GOOD.replace("-01", "-00");
        assert!(!parse_traceparent(&unsampled).expect("valid").sampled);
        // Only bit 0 means sampled; other flag bits are ignored.
        assert!(
            parse_traceparent(&GOOD.replace("-01", "-03"))
                .expect("valid")
                .sampled
        );
        assert!(
            !parse_traceparent(&GOOD.replace("-01", "-02"))
                .expect("valid")
                .sampled
        );
        assert!(parse_traceparent(&format!(" {GOOD}\t")).is_some());
    }

    #[test]
    fn bad_lengths_and_separators_are_rejected() {
        assert!(parse_traceparent(&GOOD[..54]).is_none());
        assert!(parse_traceparent(&format!("{GOOD}-")).is_none());
        assert!(parse_traceparent(&format!("{GOOD}0")).is_none());
        assert!(parse_traceparent(&GOOD.replacen('-', "_", 1)).is_none());
        assert!(
            parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01").is_none()
        );
        assert!(parse_traceparent("").is_none());
        assert!(parse_traceparent(&GOOD.replacen("00", "é", 1)).is_none());
    }

    #[test]
    fn non_hex_uppercase_and_zero_ids_are_rejected() {
        assert!(parse_traceparent(&GOOD.replace("4bf9", "4BF9")).is_none());
        assert!(parse_traceparent(&GOOD.replace("4bf9", "4bfz")).is_none());
        assert!(parse_traceparent(&GOOD.replace("-01", "-0g")).is_none());
        let zero_trace = format!("00-{}-00f067aa0ba902b7-01", "0".repeat(32));
        assert!(parse_traceparent(&zero_trace).is_none());
        let zero_span = format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", "0".repeat(16));
        assert!(parse_traceparent(&zero_span).is_none());
    }

    #[test]
    fn future_versions_follow_the_forward_compatibility_rules() {
        let v1 = GOOD.replacen("00", "01", 1);
        assert!(parse_traceparent(&v1).is_some());
        // A later version may carry more fields after a dash ...
        let longer = format!("{}-what-the-future-holds", GOOD.replacen("00", "cc", 1));
        let parent = parse_traceparent(&longer).expect("valid");
        assert_eq!(parent.span_id, 0x00f067aa0ba902b7);
        // ... but not glued on, and version ff is forbidden.
        let glued = format!("{}x", GOOD.replacen("00", "cc", 1));
        assert!(parse_traceparent(&glued).is_none());
        assert!(parse_traceparent(&GOOD.replacen("00", "ff", 1)).is_none());
        assert!(parse_traceparent(&GOOD.replacen("00", "0G", 1)).is_none());
    }

    #[test]
    fn tracestate_members_are_kept_in_order() {
        let state = parse_tracestate(["rojo=00f067aa0ba902b7, congo=t61rcWkgMzE", "a@b=x"]);
        assert_eq!(
            state.as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE,a@b=x")
        );
        assert_eq!(
            parse_tracestate(["a=1,,  ,b=2"]).as_deref(),
            Some("a=1,b=2")
        );
        assert_eq!(parse_tracestate([""]), None);
    }

    #[test]
    fn malformed_or_oversized_tracestate_is_dropped() {
        assert_eq!(parse_tracestate(["novalue"]), None);
        assert_eq!(parse_tracestate(["Upper=1"]), None);
        assert_eq!(parse_tracestate(["a=1,a=2"]), None);
        assert_eq!(parse_tracestate(["a=x,y"]), None);
        assert_eq!(parse_tracestate(["a=é"]), None);
        // Spaces around members are list whitespace, not part of the value.
        assert_eq!(parse_tracestate(["a=b c "]).as_deref(), Some("a=b c"));
        let members: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tracestate([members.join(",").as_str()]).is_some());
        let too_many: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert_eq!(parse_tracestate([too_many.join(",").as_str()]), None);
    }
}
