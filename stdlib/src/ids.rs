//! Random identifiers for requests, traces and spans: a per-thread xorshift generator seeded
//! from the clock and the process id. Not cryptographic; ids only need to be unique enough to
//! tell requests apart in logs and traces.

use std::cell::Cell;

/// A random non-zero 64-bit number.
pub fn random_u64() -> u64 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            (nanos ^ (std::process::id() as u64).rotate_left(32)) | 1
        });
    }
    STATE.with(|state| {
        let mut x = state.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state.set(x);
        x
    })
}

/// 16 random hex digits.
pub fn random_hex16() -> String {
    hex16(random_u64())
}

/// `n` as 16 lowercase hex digits (ids are made on every request; this skips `fmt`).
pub fn hex16(n: u64) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(16);
    for shift in (0..16).rev() {
        out.push(DIGITS[((n >> (shift * 4)) & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex16_pads_and_lowercases() {
        assert_eq!(super::hex16(0xab), "00000000000000ab");
        assert_eq!(super::hex16(u64::MAX), "ffffffffffffffff");
        assert_eq!(super::hex16(0x0123_4567_89ab_cdef), "0123456789abcdef");
    }
}
