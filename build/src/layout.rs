//! Writing an image out: an OCI image layout directory (`oci-layout`, `index.json`,
//! `blobs/sha256/...`), and the same as one tar archive that also carries Docker's
//! `manifest.json`, so `docker load`, `podman load` and `skopeo` (`oci-archive:`) all accept it.
//! Both are written beside their destination and renamed into place, so a failed build leaves
//! nothing half-written.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::image::{to_bytes, Blob, Image, INDEX, MANIFEST};
use crate::layer::Contents;
use crate::BuildError;

/// What to write: the blobs, and the descriptor `index.json` names the image by.
pub struct Output<'a> {
    /// Every image (one per platform).
    pub images: &'a [Image],
    /// The index over them when there are several.
    pub index: Option<&'a Blob>,
    /// The full reference (`registry.example.com/team/app:1.2`).
    pub reference: &'a str,
    /// Its tag (`1.2`).
    pub tag: &'a str,
}

impl Output<'_> {
    /// Every blob, by digest.
    fn blobs(&self) -> BTreeMap<&str, &[u8]> {
        let mut blobs = BTreeMap::new();
        for image in self.images {
            for blob in image.layers.iter().chain([&image.config, &image.manifest]) {
                blobs.insert(blob.digest.as_str(), blob.bytes.as_slice());
            }
        }
        if let Some(index) = self.index {
            blobs.insert(index.digest.as_str(), index.bytes.as_slice());
        }
        blobs
    }

    /// The digest a user pulls: the index's when there is one, else the manifest's.
    pub fn digest(&self) -> &str {
        match self.index {
            Some(index) => &index.digest,
            None => &self.images[0].manifest.digest,
        }
    }

    /// The layout's `index.json`.
    fn index_json(&self) -> Vec<u8> {
        let mut descriptor = match self.index {
            Some(index) => index.descriptor(INDEX),
            None => {
                let mut d = self.images[0].manifest.descriptor(MANIFEST);
                d["platform"] = self.images[0].platform.clone();
                d
            }
        };
        descriptor["annotations"] = json!({
            "io.containerd.image.name": self.reference,
            "org.opencontainers.image.ref.name": self.tag,
        });
        to_bytes(&json!({
            "schemaVersion": 2,
            "mediaType": INDEX,
            "manifests": [descriptor],
        }))
    }

    /// Every file of the layout, by path inside it.
    fn files(&self) -> Vec<(String, Vec<u8>)> {
        let mut files = vec![
            (
                "oci-layout".to_string(),
                br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
            ),
            ("index.json".to_string(), self.index_json()),
        ];
        for (digest, bytes) in self.blobs() {
            files.push((blob_path(digest), bytes.to_vec()));
        }
        files
    }

    /// Writes the layout directory at `dir`, replacing what was there.
    pub fn write_layout(&self, dir: &Path) -> Result<(), BuildError> {
        write_dir(dir, &self.files())
    }

    /// Writes the archive at `file`: the layout plus Docker's `manifest.json` (single-platform
    /// images only; an index is loaded by tools that read OCI layouts).
    pub fn write_archive(&self, file: &Path, epoch: u64) -> Result<(), BuildError> {
        let mut contents = Contents::default();
        for (path, bytes) in self.files() {
            contents.file(&path, bytes, 0o644);
        }
        if self.index.is_none() {
            let image = &self.images[0];
            let layers: Vec<String> = image.layers.iter().map(|l| blob_path(&l.digest)).collect();
            let docker = json!([{
                "Config": blob_path(&image.config.digest),
                "RepoTags": [self.reference],
                "Layers": layers,
            }]);
            contents.file("manifest.json", to_bytes(&docker), 0o644);
        }
        let tar = crate::layer::tar_bytes(&contents, epoch)?;
        let partial = partial_path(file);
        let result = std::fs::write(&partial, tar)
            .map_err(|e| write_error(file, e))
            .and_then(|()| std::fs::rename(&partial, file).map_err(|e| write_error(file, e)));
        if result.is_err() {
            let _ = std::fs::remove_file(&partial);
        }
        result
    }
}

/// Writes `files` (paths inside `dir`) as the directory `dir`, replacing what was there: they
/// are written into a folder beside it, which is renamed into place once complete.
pub fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<(), BuildError> {
    let partial = partial_path(dir);
    let result = (|| {
        for (path, bytes) in files {
            let path = partial.join(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| write_error(&path, e))?;
            }
            std::fs::write(&path, bytes).map_err(|e| write_error(&path, e))?;
        }
        replace(&partial, dir)
    })();
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&partial);
    }
    result
}

/// `blobs/sha256/<hex>`.
fn blob_path(digest: &str) -> String {
    format!("blobs/{}", digest.replacen(':', "/", 1))
}

/// Where `path` is written before it is renamed into place.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

/// Moves the finished directory `partial` to `dir`, replacing an older one.
fn replace(partial: &Path, dir: &Path) -> Result<(), BuildError> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| write_error(dir, e))?;
    }
    std::fs::rename(partial, dir).map_err(|e| write_error(dir, e))
}

fn write_error(path: &Path, e: std::io::Error) -> BuildError {
    BuildError::new(format!("cannot write {}: {e}", path.display()))
}
