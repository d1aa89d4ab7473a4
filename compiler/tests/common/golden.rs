//! The one rule for golden files, shared by every suite in the workspace (the compiler's syntax
//! goldens and the `cn` binary's program goldens include this file): the output must equal the
//! golden; `CN_UPDATE_GOLDEN=1` rewrites goldens instead of comparing; a missing golden is
//! written on a developer's machine (and the test passes, so a new case needs no ceremony) but
//! fails in CI (`CI` set), where nobody would review what was written.

use std::path::Path;

/// True when `CN_UPDATE_GOLDEN=1`: goldens are rewritten instead of compared.
pub fn updating() -> bool {
    std::env::var("CN_UPDATE_GOLDEN").is_ok_and(|v| v == "1")
}

/// Compares `actual` with the golden file at `path` under the rule above; a failure is
/// recorded in `failures`.
pub fn check_golden(path: &Path, actual: &str, failures: &mut Vec<String>) {
    let in_ci = std::env::var_os("CI").is_some();
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => {}
        Ok(_) | Err(_) if updating() => write(path, actual),
        Err(_) if !in_ci => write(path, actual),
        Err(_) => failures.push(format!(
            "{}: missing golden file (run the tests outside CI to write it, and commit it)",
            path.display()
        )),
        Ok(expected) => failures.push(format!(
            "{} differs (rerun with CN_UPDATE_GOLDEN=1 to accept)\n--- expected ---\n{expected}--- actual ---\n{actual}",
            path.display()
        )),
    }
}

fn write(path: &Path, actual: &str) {
    std::fs::write(path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
