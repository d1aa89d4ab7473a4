//! What goes into the app layer: the script, every local module it imports (found in the code
//! the compiler made for it, recursively, resolved the way `import` resolves them at run time:
//! a standard-library module first, else `name.cn` beside the importing file), and the files
//! named with `--include`. Every file is compiled first, so a script with errors never becomes
//! an image. Paths in the image are the paths relative to the script's folder, under `/app`.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use cn_runtime::Vm;

use crate::BuildError;

/// The app's files by path relative to the script's folder.
#[derive(Debug, Default)]
pub struct Sources {
    /// The script's path relative to its folder (its file name).
    pub script: String,
    /// Every file, the script included.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The local modules found, by file (for the build's report).
    pub modules: Vec<String>,
}

/// Collects the script at `script`, its modules, and `includes`.
pub fn collect(vm: &mut Vm, script: &Path, includes: &[PathBuf]) -> Result<Sources, BuildError> {
    if !script.is_file() {
        return Err(BuildError::new(format!(
            "{}: no such script",
            script.display()
        )));
    }
    let root = script
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let name = file_name(script)?;
    let mut sources = Sources {
        script: name.clone(),
        ..Sources::default()
    };
    let mut queue = vec![(script.to_path_buf(), name)];
    while let Some((path, relative)) = queue.pop() {
        if sources.files.contains_key(&relative) {
            continue;
        }
        let proto = vm.compile_file(&path).map_err(BuildError::Compile)?;
        let text = read(&path)?;
        sources.files.insert(relative.clone(), text);
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for module in cn_compiler::bytecode::imported_modules(&proto) {
            if vm.is_native_module(&module) {
                continue;
            }
            let file = dir.join(format!("{}.cn", module.replace('.', "/")));
            if !file.is_file() {
                return Err(BuildError::new(format!(
                    "{relative} imports '{module}', which is neither a standard module nor a \
                     file (looked for {})",
                    file.display()
                )));
            }
            let inner = relative_to(&root, &file)?;
            sources.modules.push(inner.clone());
            queue.push((file, inner));
        }
    }
    for include in includes {
        add_included(&mut sources, &root, include)?;
    }
    sources.modules.sort();
    sources.modules.dedup();
    Ok(sources)
}

/// Adds a file, or every file under a folder, named by `--include`.
fn add_included(sources: &mut Sources, root: &Path, include: &Path) -> Result<(), BuildError> {
    let metadata = std::fs::metadata(include)
        .map_err(|e| BuildError::new(format!("--include {}: {e}", include.display())))?;
    if metadata.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(include)
            .map_err(|e| BuildError::new(format!("--include {}: {e}", include.display())))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            add_included(sources, root, &entry)?;
        }
        return Ok(());
    }
    let relative = relative_to(root, include)?;
    let bytes = read(include)?;
    sources.files.insert(relative, bytes);
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, BuildError> {
    std::fs::read(path).map_err(|e| BuildError::new(format!("cannot read {}: {e}", path.display())))
}

fn file_name(path: &Path) -> Result<String, BuildError> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| BuildError::new(format!("{}: not a file name", path.display())))
}

/// `path` relative to `root`, with `/` separators; an error when it is outside `root` (the image
/// mirrors the script's folder and nothing above it).
fn relative_to(root: &Path, path: &Path) -> Result<String, BuildError> {
    let absolute = |p: &Path| {
        std::fs::canonicalize(p)
            .map_err(|e| BuildError::new(format!("cannot read {}: {e}", p.display())))
    };
    let (root_abs, path_abs) = (absolute(root)?, absolute(path)?);
    let inner = path_abs.strip_prefix(&root_abs).map_err(|_| {
        BuildError::new(format!(
            "{} is outside the script's folder {}; the image holds that folder only",
            path.display(),
            root.display()
        ))
    })?;
    let parts: Vec<String> = inner
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    Ok(parts.join("/"))
}
