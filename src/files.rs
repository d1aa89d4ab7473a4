//! Finding the `.cn` files a command works on: the paths given, where a folder stands for the
//! files under it (hidden folders and `target` skipped), sorted so every run sees one order.

use std::path::{Path, PathBuf};

/// The files named by `paths` (the current folder when there are none): a file as given, a
/// folder searched for names ending in `suffix`.
pub fn find(paths: &[PathBuf], suffix: &str) -> Vec<PathBuf> {
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths.to_vec()
    };
    let mut files = Vec::new();
    for root in &roots {
        if root.is_dir() {
            collect(root, suffix, &mut files);
        } else {
            files.push(root.clone());
        }
    }
    // `cn test` in a folder shows `api_test.cn`, not `./api_test.cn`.
    let mut files: Vec<PathBuf> = files
        .into_iter()
        .map(|f| f.strip_prefix(".").map(Path::to_path_buf).unwrap_or(f))
        .collect();
    files.sort();
    files.dedup();
    files
}

fn collect(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" {
                collect(&path, suffix, out);
            }
        } else if name.ends_with(suffix) {
            out.push(path);
        }
    }
}
