//! Syntax: source text to [`ast::Module`].
//!
//! The pipeline is lexer (logos, `lexer` + `token`) -> layout pass (`layout`: NEWLINE, INDENT,
//! DEDENT, block lambdas) -> grammar (lalrpop, `grammar.lalrpop` + `actions`), glued together in
//! `parser`. F-string fields are parsed by the same pipeline (`fstring`). Parsing never fails:
//! [`parse`] returns a tree and every error it found.

mod actions;
pub mod ast;
pub mod format;
mod fstring;
mod habits;
mod incomplete;
mod layout;
mod lexer;
mod parser;
mod token;

pub(crate) use habits::name_help;
pub use token::{keywords, Token};

use crate::Diagnostic;

/// Parses one source file; never panics, returns the tree and every error found (sorted by
/// position). Statements that fail to parse are left out of the tree.
pub fn parse(source: &str) -> (ast::Module, Vec<Diagnostic>) {
    parser::parse_module(source, 0, 0, false)
}

/// True when `source` is an unfinished fragment and the REPL should read another line: an open
/// bracket or triple-quoted string, a last line ending in `:`, or an indented last line. The
/// source is the lines typed so far, each ending in `\n`; an empty line closes a block
/// (`"if x:\n    y\n"` needs more, `"if x:\n    y\n\n"` does not).
pub fn needs_more_input(source: &str) -> bool {
    incomplete::needs_more_input(source)
}

/// The tokens of `source` after the layout pass, as the parser sees them: `(start, token, end)`
/// with byte offsets. Fails with the first lexical or indentation error.
pub fn tokens(source: &str) -> Result<Vec<(usize, Token, usize)>, Diagnostic> {
    let laid = parser::tokenize(source, 0, 0, false);
    match laid.diags.into_iter().min_by_key(|d| d.span.start) {
        Some(first) => Err(first),
        None => Ok(laid.tokens),
    }
}
