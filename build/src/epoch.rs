//! When the image says it was made: `SOURCE_DATE_EPOCH` if set, else the time of the last git
//! commit of the script's folder, else the Unix epoch. Whichever it is goes into the image's
//! `created`, every file's mtime and the `org.opencontainers.image.created` label, and the build
//! says which source it used (other tools pick a constant 1970 or 1980 and users file bugs about
//! images "created 40 years ago").

use std::path::Path;
use std::process::Command;
use std::time::{Duration, UNIX_EPOCH};

use crate::BuildError;

/// The build's timestamp and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Epoch {
    /// Seconds since 1970-01-01 UTC.
    pub seconds: u64,
    /// `SOURCE_DATE_EPOCH`, `the last git commit` or `the Unix epoch`.
    pub source: &'static str,
}

impl Epoch {
    /// RFC 3339 in UTC, to the second.
    pub fn rfc3339(&self) -> String {
        humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(self.seconds))
            .to_string()
    }
}

/// The epoch for a build of the script in `dir`; `source_date_epoch` is the variable's value.
pub fn find(dir: &Path, source_date_epoch: Option<&str>) -> Result<Epoch, BuildError> {
    if let Some(value) = source_date_epoch {
        let seconds = value.trim().parse::<u64>().map_err(|_| {
            BuildError::new(format!(
                "SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got '{value}'"
            ))
        })?;
        return Ok(Epoch {
            seconds,
            source: "SOURCE_DATE_EPOCH",
        });
    }
    if let Some(seconds) = git(dir, &["log", "-1", "--format=%ct"]).and_then(|s| s.parse().ok()) {
        return Ok(Epoch {
            seconds,
            source: "the last git commit",
        });
    }
    Ok(Epoch {
        seconds: 0,
        source: "the Unix epoch",
    })
}

/// What git says in `dir`, trimmed; `None` when git is missing, `dir` is no repository, or the
/// answer is empty.
pub fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_date_epoch_wins_and_is_checked() {
        let epoch = find(Path::new("/"), Some("1700000000")).expect("valid");
        assert_eq!(epoch.source, "SOURCE_DATE_EPOCH");
        assert_eq!(epoch.rfc3339(), "2023-11-14T22:13:20Z");
        let error = find(Path::new("/"), Some("yesterday")).expect_err("invalid");
        assert!(error.to_string().contains("whole number"), "{error}");
    }

    #[test]
    fn outside_a_repository_it_is_the_unix_epoch() {
        let dir = std::env::temp_dir().join(format!("cn-epoch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        // The temp dir is in no repository.
        let epoch = find(&dir, None).expect("found");
        assert_eq!(epoch.source, "the Unix epoch");
        assert_eq!(epoch.rfc3339(), "1970-01-01T00:00:00Z");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
