//! Source files as the runtime keeps them: for stack traces and source lines in fault reports.

use cn_compiler::diagnostic::line_col;
use cn_compiler::syntax::ast::Span;

/// One loaded source file.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user gave it (or `<repl>`).
    pub path: String,
    /// Its full text.
    pub text: String,
}

impl SourceFile {
    /// 1-based line and column of a span's start.
    pub fn line_col(&self, span: Span) -> (usize, usize) {
        line_col(&self.text, span.start as usize)
    }

    /// The text of the 1-based line `line`.
    pub fn line_text(&self, line: usize) -> &str {
        self.text.lines().nth(line.saturating_sub(1)).unwrap_or("")
    }
}
