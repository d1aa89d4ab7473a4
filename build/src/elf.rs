//! What a runtime binary is: its platform (from the ELF header's machine) and whether it is
//! statically linked (no program interpreter), which an image without a libc needs.

use crate::BuildError;

/// What the image needs to know about a runtime binary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runtime {
    /// OCI architecture: `amd64`, `arm64`, ...
    pub architecture: &'static str,
    /// Whether it needs a dynamic loader (and so a libc the image does not have).
    pub dynamic: bool,
}

const PT_INTERP: u32 = 3;

/// Reads the ELF header and program headers of `bytes` (64-bit little-endian only: the Linux
/// platforms cn builds for).
pub fn inspect(path: &str, bytes: &[u8]) -> Result<Runtime, BuildError> {
    let not = |why: &str| BuildError::new(format!("--runtime {path}: {why}"));
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        return Err(not("not an ELF executable (the image runs Linux binaries)"));
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err(not("not a 64-bit little-endian ELF binary"));
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |at: usize| {
        bytes.get(at..at + 8).map(|b| {
            let mut word = [0u8; 8];
            word.copy_from_slice(b);
            u64::from_le_bytes(word)
        })
    };
    let architecture = match u16_at(18) {
        62 => "amd64",
        183 => "arm64",
        243 => "riscv64",
        other => return Err(not(&format!("unsupported machine type {other}"))),
    };
    let phoff = u64_at(32).ok_or_else(|| not("truncated header"))? as usize;
    let phentsize = usize::from(u16_at(54));
    let phnum = usize::from(u16_at(56));
    let mut dynamic = false;
    for i in 0..phnum {
        let at = phoff
            .checked_add(i.checked_mul(phentsize).ok_or_else(|| not("bad header"))?)
            .ok_or_else(|| not("bad header"))?;
        match u32_at(at) {
            Some(PT_INTERP) => dynamic = true,
            Some(_) => {}
            None => return Err(not("truncated program headers")),
        }
    }
    Ok(Runtime {
        architecture,
        dynamic,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_binary_is_recognised() {
        let exe = std::env::current_exe().expect("the test binary");
        let bytes = std::fs::read(&exe).expect("read it");
        let runtime = inspect("test", &bytes).expect("an ELF binary");
        assert_eq!(
            runtime.architecture,
            if cfg!(target_arch = "x86_64") {
                "amd64"
            } else {
                runtime.architecture
            }
        );
    }

    #[test]
    fn other_files_are_refused_with_a_reason() {
        let error = inspect("x", b"#!/bin/sh\necho hi\n").expect_err("not ELF");
        assert!(error.to_string().contains("not an ELF"), "{error}");
        let mut truncated = b"\x7fELF\x02\x01".to_vec();
        truncated.resize(64, 0);
        truncated[18] = 62;
        truncated[32] = 0xff;
        truncated[56] = 1;
        assert!(inspect("x", &truncated).is_err());
    }
}
