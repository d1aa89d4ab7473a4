//! Giving memory back after a burst: a handler that built a 1.5 GB list and finished (or was
//! cancelled) should not leave the process at 1.5 GB resident while it idles, where
//! `process_resident_memory_bytes` and the container's memory limit would see the peak.
//!
//! The allocator purges freed pages only during later allocator activity, which an idle server
//! has little of. So while a script runs, the resident size is looked at every
//! `CHECK_INTERVAL`; when it has grown by `GROWTH` since the last release, the binary's
//! release function (`mi_collect`, see `src/memory.rs`) runs on the interpreter thread, whose
//! heap it is, and runs once more at the first look without further growth: a release in the
//! middle of a burst frees little, the one after it is over frees the burst. A process whose
//! size stays put is never disturbed.

use std::time::Duration;

/// How often the resident size is read (one small `/proc` read).
const CHECK_INTERVAL: Duration = Duration::from_secs(1);

/// Growth of the resident size since the last release that triggers the next one.
const GROWTH: u64 = 32 << 20;

/// Watches the resident size and calls `release` after growth; runs until dropped.
pub(crate) async fn release_after_growth(release: fn()) {
    let Some(mut baseline) = resident_bytes() else {
        return;
    };
    let mut ticks = tokio::time::interval(CHECK_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // A release happened during growth: release again once growth stops.
    let mut follow_up = false;
    loop {
        ticks.tick().await;
        let Some(now) = resident_bytes() else {
            return;
        };
        if now > baseline + GROWTH || follow_up {
            follow_up = now > baseline + GROWTH;
            release();
            baseline = resident_bytes().unwrap_or(now);
        } else if now < baseline {
            baseline = now;
        }
    }
}

/// The process's resident set size, from `/proc/self/status` (Linux).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status_bytes(&status, "VmRSS:")
}

/// A `VmRSS:   1234 kB` line of `/proc/self/status`, in bytes (the process metrics read the
/// same lines).
pub fn status_bytes(status: &str, key: &str) -> Option<u64> {
    let line = status.lines().find_map(|line| line.strip_prefix(key))?;
    let kib: u64 = line.split_whitespace().next()?.parse().ok()?;
    Some(kib * 1024)
}
