//! One image layer: a tar archive of files, written so the same files always give the same
//! bytes (entries sorted by path, parent directories listed, owner root, fixed modes, every
//! mtime the build's epoch, ustar headers without user or group names), then gzip-compressed
//! at a fixed level with a zero gzip timestamp. The `tar` crate's deterministic mode would stamp
//! 2006-07-23 instead of the epoch, so the headers are set here field by field.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::{Compression, GzBuilder};
use sha2::{Digest, Sha256};

use crate::BuildError;

/// A file to put in a layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Its contents.
    pub bytes: Vec<u8>,
    /// Permission bits (0o644, 0o755).
    pub mode: u32,
}

/// The files of a layer by absolute path in the image (`/app/main.cn`), plus directories that
/// must exist even when empty, with their modes (`/tmp` is 1777).
#[derive(Default)]
pub struct Contents {
    files: BTreeMap<String, File>,
    dirs: BTreeMap<String, u32>,
}

impl Contents {
    /// Adds `bytes` at `path` with `mode`.
    pub fn file(&mut self, path: &str, bytes: Vec<u8>, mode: u32) {
        self.files.insert(
            path.trim_start_matches('/').to_string(),
            File { bytes, mode },
        );
    }

    /// Adds the directory `path` with `mode`.
    pub fn dir(&mut self, path: &str, mode: u32) {
        self.dirs.insert(path.trim_matches('/').to_string(), mode);
    }
}

/// A finished layer.
#[derive(Clone)]
pub struct Layer {
    /// The gzip-compressed tar (the blob).
    pub gzip: Vec<u8>,
    /// `sha256:...` of `gzip` (the blob's digest).
    pub digest: String,
    /// `sha256:...` of the uncompressed tar (the config's `rootfs.diff_ids`).
    pub diff_id: String,
}

/// `sha256:` and the lowercase hex digest of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut text = String::with_capacity(71);
    text.push_str("sha256:");
    for byte in digest {
        text.push_str(&format!("{byte:02x}"));
    }
    text
}

/// Writes `contents` as a layer whose every entry has mtime `epoch`.
pub fn write(contents: &Contents, epoch: u64) -> Result<Layer, BuildError> {
    let tar = tar_bytes(contents, epoch)?;
    let diff_id = sha256(&tar);
    let io = |e: std::io::Error| BuildError::new(format!("cannot write a layer: {e}"));
    let mut encoder = GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), Compression::best());
    encoder.write_all(&tar).map_err(io)?;
    let gzip = encoder.finish().map_err(io)?;
    Ok(Layer {
        digest: sha256(&gzip),
        gzip,
        diff_id,
    })
}

/// `contents` as an uncompressed tar archive, reproducibly (see the module docs).
pub fn tar_bytes(contents: &Contents, epoch: u64) -> Result<Vec<u8>, BuildError> {
    // Every directory on the way to a file, and those asked for, in path order.
    let mut dirs: BTreeMap<String, u32> = BTreeMap::new();
    for path in contents.files.keys().chain(contents.dirs.keys()) {
        let mut prefix = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        let is_dir = contents.dirs.contains_key(path);
        let parents = if is_dir { parts.len() } else { parts.len() - 1 };
        for part in &parts[..parents] {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(part);
            dirs.entry(prefix.clone()).or_insert(0o755);
        }
    }
    for (dir, mode) in &contents.dirs {
        dirs.insert(dir.clone(), *mode);
    }
    let mut entries: Vec<(String, Option<&File>, u32)> = dirs
        .into_iter()
        .map(|(path, mode)| (format!("{path}/"), None, mode))
        .collect();
    entries.extend(
        contents
            .files
            .iter()
            .map(|(path, file)| (path.clone(), Some(file), file.mode)),
    );
    entries.sort_by(|a, b| a.0.cmp(&b.0));

    let io = |e: std::io::Error| BuildError::new(format!("cannot write a layer: {e}"));
    let mut archive = tar::Builder::new(Vec::new());
    for (path, file, mode) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(&path).map_err(io)?;
        header.set_mode(mode);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(epoch);
        match file {
            Some(file) => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(file.bytes.len() as u64);
                header.set_cksum();
                archive.append(&header, file.bytes.as_slice()).map_err(io)?;
            }
            None => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                header.set_cksum();
                archive.append(&header, std::io::empty()).map_err(io)?;
            }
        }
    }
    archive.into_inner().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn sample() -> Contents {
        let mut contents = Contents::default();
        contents.file("/app/main.cn", b"print(1)\n".to_vec(), 0o644);
        contents.file("/cn", b"\x7fELF".to_vec(), 0o755);
        contents.dir("/tmp", 0o1777);
        contents
    }

    #[test]
    fn the_same_files_give_the_same_bytes() {
        let a = write(&sample(), 1_700_000_000).expect("layer");
        let b = write(&sample(), 1_700_000_000).expect("layer");
        assert_eq!(a.digest, b.digest);
        assert_eq!(a.diff_id, b.diff_id);
        let c = write(&sample(), 1_700_000_001).expect("layer");
        assert_ne!(a.diff_id, c.diff_id, "the epoch is in the headers");
    }

    #[test]
    fn entries_are_sorted_with_parents_owned_by_root_at_the_epoch() {
        let layer = write(&sample(), 86_400).expect("layer");
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(layer.gzip.as_slice())
            .read_to_end(&mut tar)
            .expect("gunzip");
        assert_eq!(sha256(&tar), layer.diff_id);
        let mut archive = tar::Archive::new(tar.as_slice());
        let mut seen = Vec::new();
        for entry in archive.entries().expect("entries") {
            let entry = entry.expect("entry");
            let header = entry.header();
            assert_eq!(header.uid().expect("uid"), 0);
            assert_eq!(header.mtime().expect("mtime"), 86_400);
            seen.push(format!(
                "{} {:o}",
                entry.path().expect("path").display(),
                header.mode().expect("mode")
            ));
        }
        assert_eq!(seen, ["app/ 755", "app/main.cn 644", "cn 755", "tmp/ 1777"]);
    }
}
