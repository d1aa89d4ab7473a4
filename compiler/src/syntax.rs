//! Syntax: source text to [`ast::Module`].
//!
//! Placeholder until the lexer, layout pass and grammar land.

pub mod ast;

use crate::Diagnostic;

/// Parses one source file; never fails, returns the tree and every error found.
pub fn parse(source: &str) -> (ast::Module, Vec<Diagnostic>) {
    let _ = source;
    (ast::Module::default(), Vec::new())
}

/// True when `source` is an unfinished fragment (open bracket, block header without body, open
/// triple-quoted string): the REPL keeps reading lines.
pub fn needs_more_input(source: &str) -> bool {
    source.trim_end().ends_with(':')
}
