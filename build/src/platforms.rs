//! Which cn binary goes into the image for which platform. `--runtime PATH` gives one binary
//! (its platform read from its ELF header); `--runtime linux/arm64=PATH` gives the binary of one
//! platform, and `--platform linux/amd64,linux/arm64` asks for an image index over several, each
//! with its own runtime layer and the one shared app layer. Without either, the running cn is
//! the runtime. Every runtime must be a static Linux binary of the platform it is given for.

use std::path::PathBuf;

use crate::elf;
use crate::BuildError;

/// A runtime binary for one platform.
pub struct PlatformRuntime {
    /// OCI architecture (`amd64`).
    pub architecture: &'static str,
    /// The binary.
    pub bytes: Vec<u8>,
}

/// The runtimes for the build: one per platform, in the order asked.
pub fn select(
    runtimes: &[String],
    platforms: &[String],
) -> Result<Vec<PlatformRuntime>, BuildError> {
    let mut given: Vec<(Option<String>, PathBuf)> = Vec::new();
    for spec in runtimes {
        match spec.split_once('=') {
            Some((platform, path)) => {
                given.push((Some(normalize(platform)?), PathBuf::from(path)));
            }
            None => given.push((None, PathBuf::from(spec))),
        }
    }
    let mut wanted: Vec<String> = Vec::new();
    for list in platforms {
        for platform in list.split(',').filter(|p| !p.trim().is_empty()) {
            let platform = normalize(platform)?;
            if !wanted.contains(&platform) {
                wanted.push(platform);
            }
        }
    }
    if wanted.is_empty() {
        // One image: the one runtime given, or each runtime given for a platform.
        if given.iter().all(|(p, _)| p.is_some()) && !given.is_empty() {
            wanted = given.iter().filter_map(|(p, _)| p.clone()).collect();
        } else if given.len() > 1 {
            return Err(BuildError::new(
                "several --runtime binaries need a platform each (--runtime linux/arm64=PATH)",
            ));
        } else {
            let path = match given.first() {
                Some((_, path)) => path.clone(),
                None => current_exe()?,
            };
            return Ok(vec![read(&path, None)?]);
        }
    }
    let mut out = Vec::new();
    for platform in &wanted {
        let for_platform = given
            .iter()
            .find(|(p, _)| p.as_deref() == Some(platform.as_str()))
            .map(|(_, path)| path.clone());
        let path = match for_platform {
            Some(path) => path,
            None => match given.iter().find(|(p, _)| p.is_none()) {
                Some((_, path)) => path.clone(),
                None => current_exe()?,
            },
        };
        let runtime = read(&path, Some(platform))?;
        out.push(runtime);
    }
    Ok(out)
}

/// `linux/amd64` (also accepted: `amd64`); other operating systems are refused.
fn normalize(platform: &str) -> Result<String, BuildError> {
    let platform = platform.trim();
    let arch = platform.strip_prefix("linux/").unwrap_or(platform);
    if arch.contains('/') || arch.is_empty() {
        return Err(BuildError::new(format!(
            "platform '{platform}': cn images are linux/<architecture> (linux/amd64, linux/arm64)"
        )));
    }
    Ok(format!("linux/{arch}"))
}

fn current_exe() -> Result<PathBuf, BuildError> {
    std::env::current_exe().map_err(|e| BuildError::new(format!("cannot find the running cn: {e}")))
}

/// Reads and checks the runtime at `path`, for `platform` when one is asked.
fn read(path: &std::path::Path, platform: Option<&str>) -> Result<PlatformRuntime, BuildError> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| BuildError::new(format!("cannot read the runtime {shown}: {e}")))?;
    let runtime = elf::inspect(&shown, &bytes)?;
    if runtime.dynamic {
        return Err(BuildError::new(format!(
            "the runtime {shown} is dynamically linked, and the image has no libc: build a \
             static cn (scripts/static-runtime) and pass it with --runtime"
        )));
    }
    if let Some(platform) = platform {
        if platform != format!("linux/{}", runtime.architecture) {
            return Err(BuildError::new(format!(
                "no runtime for {platform}: {shown} is a linux/{} binary (pass --runtime \
                 {platform}=PATH)",
                runtime.architecture
            )));
        }
    }
    Ok(PlatformRuntime {
        architecture: runtime.architecture,
        bytes,
    })
}
