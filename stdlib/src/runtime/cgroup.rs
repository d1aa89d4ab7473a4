//! The resource limits of the cgroup this process runs in, from cgroup v2 **and** v1 (both
//! exist in the wild: this machine mounts v1 controllers, current distributions v2).
//!
//! Where: `/proc/self/cgroup` names the process's cgroup per hierarchy (`0::/path` for v2,
//! `4:memory:/path` for a v1 controller), and `/proc/self/mountinfo` says where each hierarchy is
//! mounted and which part of it the mount shows (inside a container the mount's root is often
//! the container's own cgroup, so the path is taken relative to it). What: a limit set on any
//! ancestor applies too, so the effective limit is the smallest along the path from the process's
//! cgroup up to the mount's root, as the JVM reads it. Every read goes through a [`Files`] so that
//! the parsing is tested on fixtures.

use std::path::{Path, PathBuf};

/// Reads a file's text; `None` if it cannot be read.
pub trait Files {
    fn read(&self, path: &Path) -> Option<String>;
}

/// The real file system.
pub struct Host;

impl Files for Host {
    fn read(&self, path: &Path) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }
}

/// v1 reports "no limit" as a huge page-aligned number; anything from 2^62 on is no limit.
const V1_UNLIMITED: u64 = 1 << 62;

/// One hierarchy the process belongs to: the directory of its cgroup, and the mount's top.
#[derive(Debug, PartialEq)]
struct Place {
    /// The process's cgroup directory.
    leaf: PathBuf,
    /// The mount point (the highest directory whose limits can be read).
    top: PathBuf,
}

/// The directories from the process's cgroup up to the mount's top.
fn ancestors(place: &Place) -> Vec<PathBuf> {
    place
        .leaf
        .ancestors()
        .take_while(|dir| dir.starts_with(&place.top))
        .map(Path::to_path_buf)
        .collect()
}

/// Where the hierarchy holding `controller` is (v1), or the unified one (`None`: v2).
fn place(files: &dyn Files, controller: Option<&str>) -> Option<Place> {
    let cgroups = files.read(Path::new("/proc/self/cgroup"))?;
    let path = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (id, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let found = match controller {
            None => id == "0" && controllers.is_empty(),
            Some(name) => controllers.split(',').any(|c| c == name),
        };
        found.then(|| path.to_string())
    })?;
    let mounts = files.read(Path::new("/proc/self/mountinfo"))?;
    mounts.lines().find_map(|line| {
        // ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
        let (before, after) = line.split_once(" - ")?;
        let fields: Vec<&str> = before.split(' ').collect();
        let (root, mount_point) = (*fields.get(3)?, *fields.get(4)?);
        let mut after = after.split(' ');
        let fstype = after.next()?;
        let super_options = after.nth(1).unwrap_or("");
        let matches = match controller {
            None => fstype == "cgroup2",
            Some(name) => fstype == "cgroup" && super_options.split(',').any(|o| o == name),
        };
        if !matches {
            return None;
        }
        // The part of the process's path below what the mount shows.
        let relative = match path.strip_prefix(root) {
            Some(rest) => rest,
            None if root == "/" => path.as_str(),
            // The mount shows a cgroup the process is not under (a namespaced view): its own
            // cgroup is the mount's top.
            None => "",
        };
        let top = PathBuf::from(unescape(mount_point));
        let leaf = top.join(relative.trim_start_matches('/'));
        Some(Place { leaf, top })
    })
}

/// mountinfo escapes spaces and a few other bytes as `\ooo`.
fn unescape(text: &str) -> String {
    text.replace("\\040", " ")
        .replace("\\011", "\t")
        .replace("\\134", "\\")
}

fn number(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

/// The memory limit in bytes, `None` when there is none.
pub fn memory_limit(files: &dyn Files) -> Option<u64> {
    // On a hybrid host the unified hierarchy exists without controllers: v1 then has them.
    let unified = place(files, None).and_then(|place| {
        ancestors(&place)
            .into_iter()
            .filter_map(|dir| files.read(&dir.join("memory.max")))
            .filter_map(|text| number(&text))
            .min()
    });
    if unified.is_some() {
        return unified;
    }
    let place = place(files, Some("memory"))?;
    ancestors(&place)
        .into_iter()
        .filter_map(|dir| files.read(&dir.join("memory.limit_in_bytes")))
        .filter_map(|text| number(&text))
        .filter(|limit| *limit < V1_UNLIMITED)
        .min()
}

/// The CPU limit in cores (quota / period), `None` when there is none.
pub fn cpu_limit(files: &dyn Files) -> Option<f64> {
    let cores = |quota: Option<i64>, period: Option<i64>| match (quota, period) {
        (Some(quota), Some(period)) if quota > 0 && period > 0 => {
            Some(quota as f64 / period as f64)
        }
        _ => None,
    };
    let unified = place(files, None).and_then(|place| {
        ancestors(&place)
            .into_iter()
            .filter_map(|dir| files.read(&dir.join("cpu.max")))
            .filter_map(|text| {
                // "max 100000" (no limit) or "50000 100000".
                let mut parts = text.split_whitespace();
                let quota = parts.next()?.parse().ok();
                let period = parts.next().and_then(|p| p.parse().ok());
                cores(quota, period)
            })
            .min_by(f64::total_cmp)
    });
    if unified.is_some() {
        return unified;
    }
    let place = place(files, Some("cpu"))?;
    ancestors(&place)
        .into_iter()
        .filter_map(|dir| {
            let quota = files.read(&dir.join("cpu.cfs_quota_us"))?;
            let period = files.read(&dir.join("cpu.cfs_period_us"))?;
            cores(quota.trim().parse().ok(), period.trim().parse().ok())
        })
        .min_by(f64::total_cmp)
}

/// The memory the cgroup uses now (what its limit is compared with), in bytes.
pub fn memory_usage(files: &dyn Files) -> Option<u64> {
    let unified = place(files, None)
        .and_then(|place| files.read(&place.leaf.join("memory.current")))
        .and_then(|t| number(&t));
    if unified.is_some() {
        return unified;
    }
    let place = place(files, Some("memory"))?;
    files
        .read(&place.leaf.join("memory.usage_in_bytes"))
        .and_then(|t| number(&t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Fixture(HashMap<&'static str, &'static str>);

    impl Files for Fixture {
        fn read(&self, path: &Path) -> Option<String> {
            self.0.get(path.to_str()?).map(|s| s.to_string())
        }
    }

    const V2_MOUNT: &str =
        "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n";

    #[test]
    fn v2_limits_are_the_smallest_along_the_path_and_max_is_none() {
        let files = Fixture(HashMap::from([
            ("/proc/self/cgroup", "0::/kubepods/pod1/app\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/kubepods/pod1/app/memory.max", "max\n"),
            ("/sys/fs/cgroup/kubepods/pod1/memory.max", "536870912\n"),
            ("/sys/fs/cgroup/kubepods/memory.max", "1073741824\n"),
            (
                "/sys/fs/cgroup/kubepods/pod1/app/cpu.max",
                "150000 100000\n",
            ),
            ("/sys/fs/cgroup/kubepods/cpu.max", "max 100000\n"),
            ("/sys/fs/cgroup/kubepods/pod1/app/memory.current", "1234\n"),
        ]));
        assert_eq!(memory_limit(&files), Some(536870912));
        assert_eq!(cpu_limit(&files), Some(1.5));
        assert_eq!(memory_usage(&files), Some(1234));
    }

    #[test]
    fn v2_with_nothing_set_is_unlimited() {
        let files = Fixture(HashMap::from([
            ("/proc/self/cgroup", "0::/\n"),
            ("/proc/self/mountinfo", V2_MOUNT),
            ("/sys/fs/cgroup/memory.max", "max\n"),
            ("/sys/fs/cgroup/cpu.max", "max 100000\n"),
        ]));
        assert_eq!((memory_limit(&files), cpu_limit(&files)), (None, None));
    }

    #[test]
    fn v1_controllers_are_found_by_name_and_the_huge_number_is_no_limit() {
        // A hybrid host: the unified hierarchy is mounted too, without controllers.
        let files = Fixture(HashMap::from([
            (
                "/proc/self/cgroup",
                "5:memory:/process_api/abc\n2:cpu,cpuacct:/docker/c1\n0::/\n",
            ),
            (
                "/proc/self/mountinfo",
                "30 31 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n\
                 32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
                 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
            ),
            (
                "/sys/fs/cgroup/memory/process_api/abc/memory.limit_in_bytes",
                "9223372036854771712\n",
            ),
            ("/sys/fs/cgroup/memory/process_api/memory.limit_in_bytes", "268435456\n"),
            ("/sys/fs/cgroup/memory/process_api/abc/memory.usage_in_bytes", "4096\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/docker/c1/cpu.cfs_quota_us", "50000\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/docker/c1/cpu.cfs_period_us", "100000\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_quota_us", "-1\n"),
            ("/sys/fs/cgroup/cpu,cpuacct/docker/cpu.cfs_period_us", "100000\n"),
        ]));
        assert_eq!(memory_limit(&files), Some(268435456));
        assert_eq!(cpu_limit(&files), Some(0.5));
        assert_eq!(memory_usage(&files), Some(4096));
    }

    #[test]
    fn a_mount_of_the_containers_own_cgroup_is_read_from_its_top() {
        // Inside a container: the mount's root is the container's cgroup itself.
        let files = Fixture(HashMap::from([
            ("/proc/self/cgroup", "4:memory:/docker/c1\n"),
            (
                "/proc/self/mountinfo",
                "35 31 0:32 /docker/c1 /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n",
            ),
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "104857600\n"),
        ]));
        assert_eq!(memory_limit(&files), Some(104857600));
    }

    #[test]
    fn no_cgroup_files_means_no_limits() {
        let files = Fixture(HashMap::new());
        assert_eq!(
            (
                memory_limit(&files),
                cpu_limit(&files),
                memory_usage(&files)
            ),
            (None, None, None)
        );
    }
}
