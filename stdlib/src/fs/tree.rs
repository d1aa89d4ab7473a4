//! The directory operations of `fs`, run on the blocking pool: listing, walking, globbing,
//! making, removing, renaming, copying, and temporary files and directories.

use std::path::Path;

use super::errors::{AtPath, FsError};

/// The names in `dir`, sorted (no `.` or `..`).
pub fn list_dir(dir: &str) -> Result<Vec<String>, FsError> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        names.push(entry.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Every path below `root` (files, directories and links, not `root` itself), each joined to
/// `root`, in sorted depth-first order: a directory comes just before its contents. Symlinked
/// directories are listed, not entered, so a link loop cannot make the walk endless.
pub fn walk(root: &str) -> Result<Vec<String>, FsError> {
    let mut found = Vec::new();
    // An explicit stack, not recursion: a deep tree must not exhaust the pool thread's stack.
    // Children go on in reverse so they come off sorted, each just after its directory.
    let mut pending = children(root)?;
    pending.reverse();
    while let Some((path, is_dir)) = pending.pop() {
        if is_dir {
            let mut inside = children(&path)?;
            inside.reverse();
            pending.extend(inside);
        }
        found.push(path);
    }
    Ok(found)
}

/// The entries of `dir` joined to it, sorted, each with whether it is a directory (a symlink
/// to one is not).
fn children(dir: &str) -> Result<Vec<(String, bool)>, FsError> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).at(dir)? {
        let entry = entry.at(dir)?;
        let path = Path::new(dir).join(entry.file_name());
        let is_dir = entry.file_type().at(dir)?.is_dir();
        entries.push((path.to_string_lossy().into_owned(), is_dir));
    }
    entries.sort();
    Ok(entries)
}

/// The paths matching `pattern` (`*`, `?`, `[ab]`, `**` for any depth), sorted. Unreadable
/// directories are skipped, as a shell does.
pub fn glob(pattern: &str) -> Result<Vec<String>, FsError> {
    let paths = ::glob::glob(pattern).map_err(|error| {
        FsError::new(
            pattern,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad pattern at {}: {}", error.pos, error.msg),
            ),
        )
    })?;
    let mut found: Vec<String> = paths
        .filter_map(Result::ok)
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    found.sort();
    Ok(found)
}

/// Makes `dir`; with `parents`, also its missing parents, and an existing directory is fine
/// (`mkdir -p`).
pub fn mkdir(dir: &str, parents: bool) -> Result<(), FsError> {
    if parents {
        std::fs::create_dir_all(dir).at(dir)
    } else {
        std::fs::create_dir(dir).at(dir)
    }
}

/// Removes a file, a symlink or an empty directory; with `recursive`, a directory and
/// everything in it (`rm -r`).
pub fn remove(path: &str, recursive: bool) -> Result<(), FsError> {
    let meta = std::fs::symlink_metadata(path).at(path)?;
    if !meta.is_dir() {
        return std::fs::remove_file(path).at(path);
    }
    if recursive {
        std::fs::remove_dir_all(path).at(path)
    } else {
        std::fs::remove_dir(path).at(path)
    }
}

/// Copies the file `from` to `to` (contents and permission bits); returns the bytes copied.
pub fn copy(from: &str, to: &str) -> Result<u64, FsError> {
    if std::fs::metadata(from).at(from)?.is_dir() {
        return Err(FsError::new(
            from,
            std::io::Error::from(std::io::ErrorKind::IsADirectory),
        ));
    }
    std::fs::copy(from, to).map_err(|error| {
        // Name the side that failed: a missing source, or a destination that cannot be made.
        let at = if Path::new(from).exists() { to } else { from };
        FsError::new(at, error)
    })
}

/// A new, empty directory (mode 0700) in the system's temporary directory, kept until removed.
pub fn temp_dir(prefix: &str) -> Result<String, FsError> {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .at(&std::env::temp_dir().to_string_lossy())?;
    Ok(dir.keep().to_string_lossy().into_owned())
}

/// A new, empty file (mode 0600) in the system's temporary directory, kept until removed.
pub fn temp_file(prefix: &str, suffix: &str) -> Result<String, FsError> {
    let file = tempfile::Builder::new()
        .prefix(prefix)
        .suffix(suffix)
        .tempfile()
        .at(&std::env::temp_dir().to_string_lossy())?;
    let (_, path) = file
        .keep()
        .map_err(|error| FsError::new(error.file.path().to_string_lossy(), error.error))?;
    Ok(path.to_string_lossy().into_owned())
}
