//! `cn fmt` over every `.cn` file in the repository (examples, goldens, the spec's and the
//! benchmarks' programs): each file that parses formats without changing its laid-out tokens
//! (the formatter checks that itself and reports `Changed`), and formatting the result again
//! changes nothing.

use std::path::{Path, PathBuf};

use cn_compiler::syntax::format::{format, FormatError};

fn cn_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "results" {
                cn_files(&path, out);
            }
        } else if name.ends_with(".cn") {
            out.push(path);
        }
    }
}

#[test]
fn every_program_in_the_repository_formats_stably() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    cn_files(&root, &mut files);
    assert!(files.len() > 100, "found only {} .cn files", files.len());
    let mut formatted = 0;
    for path in &files {
        let source = std::fs::read_to_string(path).expect("readable");
        match format(&source) {
            Ok(once) => {
                let twice = format(&once)
                    .unwrap_or_else(|e| panic!("{}: the formatted text: {e:?}", path.display()));
                assert_eq!(twice, once, "{}: formatting twice differs", path.display());
                formatted += 1;
            }
            Err(FormatError::Syntax(_)) => {}
            Err(FormatError::Changed(why)) => panic!("{}: {why}", path.display()),
        }
    }
    assert!(formatted > 100, "only {formatted} files parsed");
}
