//! The part of a span that crosses process boundaries: trace id, span id, the sampling decision
//! and the vendors' `tracestate`, plus the hex forms used in headers and in task contexts.
//!
//! Ids are plain integers (a `u128` trace id, a `u64` span id): they are made and compared far
//! more often than they are printed, and zero is the invalid id in both W3C and B3.

use std::rc::Rc;

use crate::ids::write_hex;

/// The identity of one span and what its children inherit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpanContext {
    /// The trace the span belongs to (never zero).
    pub trace_id: u128,
    /// The span itself (never zero).
    pub span_id: u64,
    /// Whether the trace is sampled (W3C flag `01`).
    pub sampled: bool,
    /// The `tracestate` received with the trace, passed on as it came (members re-joined).
    pub trace_state: Option<Rc<str>>,
}

impl SpanContext {
    /// The W3C `traceparent` value: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        let mut out = [0u8; 55];
        out[..3].copy_from_slice(b"00-");
        write_hex(&mut out[3..19], (self.trace_id >> 64) as u64);
        write_hex(&mut out[19..35], self.trace_id as u64);
        out[35] = b'-';
        write_hex(&mut out[36..52], self.span_id);
        out[52..].copy_from_slice(if self.sampled { b"-01" } else { b"-00" });
        ascii(&out)
    }
}

/// A new random trace id (two draws of the per-thread generator; never zero).
pub fn new_trace_id() -> u128 {
    ((crate::ids::random_u64() as u128) << 64) | crate::ids::random_u64() as u128
}

/// A new random span id (never zero: the generator never yields zero).
pub fn new_span_id() -> u64 {
    crate::ids::random_u64()
}

/// The 32 lowercase hex digits of a trace id.
pub fn trace_hex(id: u128) -> String {
    ascii(&crate::ids::hex32_bytes(id))
}

/// The 16 lowercase hex digits of a span id.
pub fn span_hex(id: u64) -> String {
    let mut out = [0u8; 16];
    write_hex(&mut out, id);
    ascii(&out)
}

/// The buffer as a `String` (it holds only ASCII, so the check always passes).
fn ascii(bytes: &[u8]) -> String {
    std::str::from_utf8(bytes).unwrap_or_default().to_string()
}

/// Parses exactly `len` hex digits (at most 32). W3C ids must be lowercase; B3 is read leniently,
/// so `uppercase` says whether `A`-`F` are accepted.
pub fn parse_hex(text: &str, len: usize, uppercase: bool) -> Option<u128> {
    let bytes = text.as_bytes();
    if bytes.len() != len || len > 32 {
        return None;
    }
    let split = len.saturating_sub(16);
    let high = parse_u64(&bytes[..split], uppercase)?;
    let low = parse_u64(&bytes[split..], uppercase)?;
    Some(((high as u128) << 64) | low as u128)
}

/// Marks a byte that is no hex digit in [`HEX_VALUE`].
const NOT_HEX: u8 = 0x80;
/// Marks an uppercase digit in [`HEX_VALUE`].
const UPPER: u8 = 0x40;

/// Each byte's hex value, or [`NOT_HEX`]; uppercase digits carry [`UPPER`] as well.
const HEX_VALUE: [u8; 256] = {
    let mut table = [NOT_HEX; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        table[b'A' as usize + i] = UPPER | (10 + i as u8);
        i += 1;
    }
    table
};

/// Up to 16 hex digits: one table lookup per digit and one check at the end, since ids are
/// parsed on every request that carries them.
fn parse_u64(bytes: &[u8], uppercase: bool) -> Option<u64> {
    let mut value = 0u64;
    let mut flags = 0u8;
    for &byte in bytes {
        let digit = HEX_VALUE[byte as usize];
        flags |= digit;
        value = (value << 4) | u64::from(digit & 0xf);
    }
    let rejected = if uppercase { NOT_HEX } else { NOT_HEX | UPPER };
    (flags & rejected == 0).then_some(value)
}

/// A trace id from its 32 hex digits in a task context (as scripts and logs see it).
pub fn parse_trace_hex(text: &str) -> Option<u128> {
    parse_hex(text, 32, true).filter(|id| *id != 0)
}

/// A span id from its 16 hex digits in a task context.
pub fn parse_span_hex(text: &str) -> Option<u64> {
    parse_hex(text, 16, true)
        .map(|id| id as u64)
        .filter(|id| *id != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms_are_padded_lowercase() {
        assert_eq!(trace_hex(0xabc), format!("{:032x}", 0xabc));
        assert_eq!(span_hex(u64::MAX), "ffffffffffffffff");
        assert_eq!(span_hex(1), "0000000000000001");
    }

    #[test]
    fn hex_round_trips_and_rejects_junk() {
        let id = new_trace_id();
        assert_eq!(parse_trace_hex(&trace_hex(id)), Some(id));
        assert_eq!(parse_hex("00ff", 4, false), Some(255));
        assert_eq!(parse_hex("00FF", 4, false), None);
        assert_eq!(parse_hex("00FF", 4, true), Some(255));
        assert_eq!(parse_hex("+0ff", 4, true), None);
        assert_eq!(parse_hex("0ff", 4, true), None);
        assert_eq!(parse_trace_hex(&"0".repeat(32)), None);
        assert_eq!(parse_span_hex("000000000000000g"), None);
    }

    #[test]
    fn traceparent_has_the_w3c_shape() {
        let context = SpanContext {
            trace_id: 0x4bf92f3577b34da6a3ce929d0e0e4736,
            span_id: 0x00f067aa0ba902b7,
            sampled: true,
            trace_state: None,
        };
        assert_eq!(
            context.traceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        let unsampled = SpanContext {
            sampled: false,
            ..context
        };
        assert!(unsampled.traceparent().ends_with("-00"));
    }
}
