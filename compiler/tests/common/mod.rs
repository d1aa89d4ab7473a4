//! Shared helpers for the syntax tests: the golden rule (`golden`), diagnostic and token
//! rendering, and a span sanity walk over the AST.
#![allow(dead_code)]

pub mod golden;
pub mod sexpr;
pub mod spans;

#[allow(unused_imports)]
pub use golden::{check_golden, updating};

use std::path::{Path, PathBuf};

use cn_compiler::diagnostic::line_col;
use cn_compiler::syntax::Token;
use cn_compiler::Diagnostic;

/// The `.cn` files of a test-data folder under `tests/`, sorted.
pub fn cn_files(folder: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cn"))
        .collect();
    files.sort();
    files
}

/// Diagnostics as the `.err` goldens show them: code, position, message, label and help.
pub fn render_diags(source: &str, diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let (line, col) = line_col(source, d.span.start as usize);
        out.push_str(&format!("error[{}] {line}:{col}: {}\n", d.code, d.message));
        out.push_str(&format!("  label: {}\n", d.label));
        if let Some(help) = &d.help {
            out.push_str(&format!("  help: {help}\n"));
        }
    }
    out
}

/// Tokens as the `.tokens` goldens show them: one logical line per row, indented by block depth.
pub fn render_tokens(tokens: &[(usize, Token, usize)]) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut line = Vec::new();
    for (_, token, _) in tokens {
        let text = match token {
            Token::Newline => "NEWLINE".to_owned(),
            Token::Indent => "INDENT".to_owned(),
            Token::Dedent => "DEDENT".to_owned(),
            Token::Ident(name) => name.clone(),
            Token::Int(v) => v.to_string(),
            Token::Float(v) => format!("{v:?}"),
            Token::Str(s) => format!("{s:?}"),
            Token::FStr(parts) => format!("f-string({} parts)", parts.len()),
            other => other.spelling().unwrap_or("?").to_owned(),
        };
        let ends_line = *token == Token::Newline;
        line.push(text);
        match token {
            Token::Indent => depth += 1,
            Token::Dedent => depth = depth.saturating_sub(1),
            _ => {}
        }
        if ends_line {
            out.push_str(&format!("{}{}\n", "  ".repeat(depth), line.join(" ")));
            line.clear();
        }
    }
    if !line.is_empty() {
        out.push_str(&format!("{}{}\n", "  ".repeat(depth), line.join(" ")));
    }
    out
}
