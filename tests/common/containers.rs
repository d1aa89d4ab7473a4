//! What the container tests share (tests/build_image.rs, tests/runtime_limits.rs): the static
//! cn an image or a runc bundle needs, built once per test run with `scripts/static-runtime`, and
//! whether a container tool is installed (missing under CI fails the test; elsewhere it is
//! skipped with a note).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use super::common::finish;

/// The static cn for images, built once per test run.
pub fn static_runtime() -> PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let done = finish(
            Command::new(root.join("scripts/static-runtime")).current_dir(root),
            None,
            Duration::from_secs(1800),
        );
        assert_eq!(
            done.status,
            Some(0),
            "static-runtime failed:\n{}",
            done.stderr
        );
        PathBuf::from(done.stdout.trim())
    })
    .clone()
}

/// Whether `tool` is installed (`apt-get install -y skopeo umoci runc`); missing under CI fails.
pub fn have(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "{tool} is missing");
        eprintln!("note: {tool} is missing; skipping");
    }
    found
}
