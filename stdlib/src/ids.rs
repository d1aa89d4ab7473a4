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

/// `n` as 16 lowercase hex digits.
pub fn hex16(n: u64) -> String {
    let mut out = [0u8; 16];
    write_hex(&mut out, n);
    // Only ASCII digits were written, so this never falls back.
    std::str::from_utf8(&out).unwrap_or_default().to_string()
}

/// The 32 lowercase hex digits of a 128-bit id (a W3C trace id).
pub fn hex32_bytes(id: u128) -> [u8; 32] {
    let mut out = [0u8; 32];
    write_hex(&mut out[..16], (id >> 64) as u64);
    write_hex(&mut out[16..], id as u64);
    out
}

/// Fills the 16 bytes of `out` with the lowercase hex digits of `value`, two per table lookup.
/// Hand-rolled into a stack buffer because ids are formatted on every request: `format!` with a
/// width, or pushing characters one by one, costs several times more.
pub fn write_hex(out: &mut [u8], value: u64) {
    const PAIRS: [[u8; 2]; 256] = {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut table = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = [HEX[i >> 4], HEX[i & 0xf]];
            i += 1;
        }
        table
    };
    for (pair, byte) in out.chunks_exact_mut(2).zip(value.to_be_bytes()) {
        pair.copy_from_slice(&PAIRS[byte as usize]);
    }
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
