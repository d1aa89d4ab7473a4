//! Golden tests for the parser (`tests/syntax/*.cn`) and the layout pass (`tests/tokens/*.cn`).
//!
//! A file named `err_*.cn` must produce diagnostics, rendered into its `.err` golden; any other
//! file must parse cleanly, its tree rendered into its `.ast` golden. Token files render the
//! layout pass's output into `.tokens`. Missing goldens are created; `CN_UPDATE_GOLDEN=1`
//! rewrites them.

mod common;

use cn_compiler::syntax::{parse, tokens};

#[test]
fn syntax_goldens() {
    let mut failures = Vec::new();
    for path in common::cn_files("syntax") {
        let source = std::fs::read_to_string(&path).expect("readable test file");
        let (module, diags) = parse(&source);
        let expects_errors = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("err_"));
        let _ =
            std::fs::remove_file(path.with_extension(if expects_errors { "ast" } else { "err" }));
        if expects_errors {
            if diags.is_empty() {
                failures.push(format!(
                    "{}: expected diagnostics, got none",
                    path.display()
                ));
            }
            common::check_golden(
                &path.with_extension("err"),
                &common::render_diags(&source, &diags),
                &mut failures,
            );
        } else {
            if !diags.is_empty() {
                failures.push(format!(
                    "{}:\n{}",
                    path.display(),
                    common::render_diags(&source, &diags)
                ));
                continue;
            }
            common::check_golden(
                &path.with_extension("ast"),
                &common::sexpr::module(&module),
                &mut failures,
            );
        }
        for problem in common::spans::check(&source, &module) {
            failures.push(format!("{}: {problem}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn token_goldens() {
    let mut failures = Vec::new();
    for path in common::cn_files("tokens") {
        let source = std::fs::read_to_string(&path).expect("readable test file");
        let rendered = match tokens(&source) {
            Ok(tokens) => common::render_tokens(&tokens),
            Err(diag) => common::render_diags(&source, &[diag]),
        };
        common::check_golden(&path.with_extension("tokens"), &rendered, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
