//! Defaults that depend on the machine, derived from the memory the process may use: the
//! cgroup's memory limit, else the machine's memory (`MemTotal`). A server sized for a laptop
//! would be killed by the kernel in a 256 MiB container long before its 10000th connection;
//! these keep the defaults inside what the container was given (spec/runtime.md, "Derived
//! defaults"):
//!
//! - `http.Server(max_connections=)` defaults to a quarter of the memory at 32 KiB per
//!   connection (hyper's buffers, the task, TLS-free bookkeeping), between 64 and 10000:
//!   `clamp(memory / 4 / 32 KiB, 64, 10000)`; 2048 for 256 MiB, 10000 from 1.25 GiB on.
//! - `http.Server(body_budget=)`, the bytes of request bodies one server holds at once,
//!   defaults to another quarter: `max(memory / 4, body_limit)`; 64 MiB for 256 MiB.
//!
//! And a watch: once a memory limit is set, memory use is read every second and one warning is
//! logged when it passes 90 % of the limit (again only after it fell below 80 %), while there
//! is still time to shed load or dump a profile before the OOM killer ends the process.

use std::sync::OnceLock;
use std::time::Duration;

use cn_runtime::tasks::VmRef;

use super::cgroup::{self, Host};
use crate::log::{self, Field, Level};

/// Memory assumed per open connection.
const PER_CONNECTION: u64 = 32 << 10;
/// The fewest connections a derived default allows.
const MIN_CONNECTIONS: u64 = 64;
/// The default without any memory figure, and the most a derived default allows.
pub const MAX_CONNECTIONS: usize = 10_000;
/// How often the memory watch reads the cgroup.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);
/// Warn above this share of the limit...
const WARN_AT: f64 = 0.9;
/// ...and again only after use fell below this one.
const REARM_AT: f64 = 0.8;

/// The memory the defaults are derived from, and where it came from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    pub bytes: u64,
    /// `"cgroup limit"` or `"machine memory"`.
    pub source: &'static str,
}

/// The memory the process may use, read once: the cgroup's limit, else `MemTotal`.
pub fn memory() -> Option<Memory> {
    static MEMORY: OnceLock<Option<Memory>> = OnceLock::new();
    *MEMORY.get_or_init(|| {
        if let Some(bytes) = cgroup::memory_limit(&Host) {
            return Some(Memory {
                bytes,
                source: "cgroup limit",
            });
        }
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
        Some(Memory {
            bytes: mem_total(&meminfo)?,
            source: "machine memory",
        })
    })
}

/// `MemTotal` of `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The default `max_connections` for `memory` bytes.
pub fn max_connections_for(memory: Option<u64>) -> usize {
    match memory {
        None => MAX_CONNECTIONS,
        Some(bytes) => {
            (bytes / 4 / PER_CONNECTION).clamp(MIN_CONNECTIONS, MAX_CONNECTIONS as u64) as usize
        }
    }
}

/// The default `body_budget` for `memory` bytes and a server's `body_limit`.
pub fn body_budget_for(memory: Option<u64>, body_limit: usize) -> usize {
    match memory {
        None => usize::MAX,
        Some(bytes) => usize::try_from(bytes / 4)
            .unwrap_or(usize::MAX)
            .max(body_limit),
    }
}

/// This machine's default `max_connections`.
pub fn max_connections() -> usize {
    max_connections_for(memory().map(|m| m.bytes))
}

/// This machine's default `body_budget` for a server whose `body_limit` is given.
pub fn body_budget(body_limit: usize) -> usize {
    body_budget_for(memory().map(|m| m.bytes), body_limit)
}

/// Whether the watch should warn now, given whether it has already; returns the new state.
fn crossed(used: u64, limit: u64, warned: bool) -> (bool, bool) {
    let share = used as f64 / limit as f64;
    if !warned && share >= WARN_AT {
        (true, true)
    } else if warned && share < REARM_AT {
        (false, false)
    } else {
        (false, warned)
    }
}

/// Starts the memory watch against `limit` (the caller, `announce_limits`, runs once per
/// process).
pub fn watch_memory(vm: &VmRef, limit: u64) {
    let vm = vm.clone();
    tokio::task::spawn_local(async move {
        let mut warned = false;
        let mut ticks = tokio::time::interval(WATCH_INTERVAL);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let Some(used) = cgroup::memory_usage(&Host) else {
                continue;
            };
            let warn;
            (warn, warned) = crossed(used, limit, warned);
            if warn {
                let percent = (used as f64 / limit as f64 * 1000.0).round() / 10.0;
                log::emit(
                    &vm.borrow(),
                    Level::Warn,
                    "memory use passed 90% of the limit",
                    &[
                        ("memory_usage_bytes", Field::Int(used as i64)),
                        ("memory_limit_bytes", Field::Int(limit as i64)),
                        ("percent", Field::Float(percent)),
                    ],
                );
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[test]
    fn connections_are_a_quarter_of_memory_at_32_kib_each_within_bounds() {
        assert_eq!(max_connections_for(Some(256 * MIB)), 2048);
        assert_eq!(max_connections_for(Some(512 * MIB)), 4096);
        assert_eq!(max_connections_for(Some(8 * MIB)), 64);
        assert_eq!(max_connections_for(Some(64 << 30)), 10_000);
        assert_eq!(max_connections_for(None), 10_000);
    }

    #[test]
    fn the_body_budget_is_a_quarter_of_memory_and_at_least_one_body() {
        assert_eq!(body_budget_for(Some(256 * MIB), 1 << 20), 64 << 20);
        assert_eq!(body_budget_for(Some(8 * MIB), 4 << 20), 4 << 20);
        assert_eq!(body_budget_for(None, 1 << 20), usize::MAX);
    }

    #[test]
    fn mem_total_is_read_in_kib() {
        let meminfo = "MemTotal:        8052984 kB\nMemFree:          123 kB\n";
        assert_eq!(mem_total(meminfo), Some(8052984 * 1024));
        assert_eq!(mem_total("MemFree: 1 kB\n"), None);
    }

    #[test]
    fn the_warning_comes_once_per_excursion_above_90_percent() {
        let steps = [50, 89, 90, 95, 85, 91, 79, 92];
        let mut warned = false;
        let mut warnings = Vec::new();
        for used in steps {
            let warn;
            (warn, warned) = crossed(used, 100, warned);
            warnings.push(warn);
        }
        assert_eq!(
            warnings,
            [false, false, true, false, false, false, false, true]
        );
    }
}
