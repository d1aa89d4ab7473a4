//! Process metrics, read from `/proc/self` at scrape time with the names and meanings the Go and
//! Python clients use, so existing dashboards and alerts work unchanged; and the cgroup's limits
//! (`process_memory_limit_bytes`, `process_cpu_limit_cores`, when set; runtime/cgroup.rs).
//!
//! A value that cannot be read (no `/proc`, as on macOS, or an unexpected format) is left out
//! rather than exposed as a wrong number. `cn_log_lines_dropped_total` joins them: log lines the
//! output sink dropped because stdout was not read fast enough (an alert-worthy event that is
//! otherwise invisible, since the lines saying so would be dropped too).

use std::fs;

use super::family::Kind;

/// The process metrics' names and kinds; the registry reserves them.
pub(crate) const NAMES: [(&str, Kind); 9] = [
    ("cn_log_lines_dropped_total", Kind::Counter),
    ("process_cpu_limit_cores", Kind::Gauge),
    ("process_cpu_seconds_total", Kind::Counter),
    ("process_max_fds", Kind::Gauge),
    ("process_memory_limit_bytes", Kind::Gauge),
    ("process_open_fds", Kind::Gauge),
    ("process_resident_memory_bytes", Kind::Gauge),
    ("process_start_time_seconds", Kind::Gauge),
    ("process_virtual_memory_bytes", Kind::Gauge),
];

/// Clock ticks per second in `/proc/self/stat`. The kernel reports USER_HZ, which is 100 on
/// every Linux architecture that matters; the Go client's procfs assumes the same.
const TICKS_PER_SECOND: f64 = 100.0;

/// One process metric's current value.
#[derive(Debug)]
pub(crate) struct Sample {
    /// The exposed name, as in [`NAMES`].
    pub name: &'static str,
    pub help: &'static str,
    pub kind: Kind,
    pub value: f64,
}

/// Reads every process metric that can be read now, sorted by name.
pub(crate) fn collect() -> Vec<Sample> {
    let mut samples = Vec::new();
    let mut push = |name: &'static str, help: &'static str, value: Option<f64>| {
        if let Some(value) = value {
            let kind = NAMES
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(Kind::Gauge, |(_, k)| *k);
            samples.push(Sample {
                name,
                help,
                kind,
                value,
            });
        }
    };
    push(
        "cn_log_lines_dropped_total",
        "Log lines dropped because stdout was not read fast enough.",
        Some(cn_runtime::output::dropped_lines() as f64),
    );
    push(
        "process_cpu_limit_cores",
        "The CPU limit of the process's cgroup in cores (quota / period); absent when unlimited.",
        crate::runtime::cgroup::cpu_limit(&crate::runtime::cgroup::Host),
    );
    let stat = fs::read_to_string("/proc/self/stat").ok();
    let stat_fields = stat.as_deref().and_then(stat_fields);
    push(
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        stat_fields.as_deref().and_then(cpu_seconds),
    );
    let limits = fs::read_to_string("/proc/self/limits").ok();
    push(
        "process_max_fds",
        "Maximum number of open file descriptors.",
        limits.as_deref().and_then(max_fds),
    );
    push(
        "process_memory_limit_bytes",
        "The memory limit of the process's cgroup in bytes; absent when unlimited.",
        crate::runtime::cgroup::memory_limit(&crate::runtime::cgroup::Host).map(|b| b as f64),
    );
    push(
        "process_open_fds",
        "Number of open file descriptors.",
        fs::read_dir("/proc/self/fd")
            .ok()
            .map(|entries| entries.count() as f64),
    );
    let status = fs::read_to_string("/proc/self/status").ok();
    push(
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        status.as_deref().and_then(|s| status_kib(s, "VmRSS:")),
    );
    let boot = fs::read_to_string("/proc/stat").ok();
    push(
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        stat_fields
            .as_deref()
            .zip(boot.as_deref())
            .and_then(|(fields, boot)| start_time(fields, boot)),
    );
    push(
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        status.as_deref().and_then(|s| status_kib(s, "VmSize:")),
    );
    samples
}

/// The fields of `/proc/self/stat` after the command name (which may contain spaces and
/// parentheses, hence the split at the last `)`); index 0 is field 3, the state.
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    let (_, rest) = stat.rsplit_once(')')?;
    Some(rest.split_whitespace().collect())
}

fn field(fields: &[&str], number: usize) -> Option<f64> {
    fields.get(number.checked_sub(3)?)?.parse().ok()
}

/// utime (field 14) + stime (field 15).
fn cpu_seconds(fields: &[&str]) -> Option<f64> {
    Some((field(fields, 14)? + field(fields, 15)?) / TICKS_PER_SECOND)
}

/// Boot time (`btime` in `/proc/stat`) + starttime (field 22, ticks after boot).
fn start_time(fields: &[&str], proc_stat: &str) -> Option<f64> {
    let boot: f64 = proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    Some(boot + field(fields, 22)? / TICKS_PER_SECOND)
}

/// A `VmRSS:   1234 kB` line of `/proc/self/status`, in bytes.
fn status_kib(status: &str, key: &str) -> Option<f64> {
    cn_runtime::tasks::memory::status_bytes(status, key).map(|bytes| bytes as f64)
}

/// The soft limit on the `Max open files` line of `/proc/self/limits`.
fn max_fds(limits: &str) -> Option<f64> {
    let line = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))?;
    line.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_survive_odd_command_names() {
        let stat = "4242 (cn (x) y) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 1 0 12345 100 200";
        let fields = stat_fields(stat).expect("the line has a command name");
        assert_eq!(cpu_seconds(&fields), Some(3.0));
        assert_eq!(
            start_time(&fields, "cpu 1 2\nbtime 1700000000\n"),
            Some(1700000123.45)
        );
    }

    #[test]
    fn status_and_limits_lines() {
        let status = "Name:\tcn\nVmSize:\t  2048 kB\nVmRSS:\t   512 kB\n";
        assert_eq!(status_kib(status, "VmRSS:"), Some(524288.0));
        assert_eq!(status_kib(status, "VmSize:"), Some(2097152.0));
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max open files            1024                 524288               files\n";
        assert_eq!(max_fds(limits), Some(1024.0));
    }

    #[test]
    fn this_process_reports_every_metric_on_linux() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return;
        }
        let samples = collect();
        let names: Vec<&str> = samples.iter().map(|s| s.name).collect();
        // The limits are there only when the cgroup sets them.
        let expected: Vec<&str> = NAMES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| !n.contains("_limit_") || names.contains(n))
            .collect();
        assert_eq!(names, expected);
        assert!(samples.iter().all(|s| s.value >= 0.0));
    }
}
