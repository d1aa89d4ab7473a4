//! Rendering compile diagnostics with miette, at the edge of the program.
//!
//! Colour follows the terminal: off when stderr is not a terminal or `NO_COLOR` is set, so golden
//! tests see plain text.

use std::fmt;

use cn_compiler::Diagnostic;
use miette::{GraphicalReportHandler, GraphicalTheme, NamedSource};

/// A diagnostic with its source attached, as miette wants it.
struct Located<'a> {
    diagnostic: &'a Diagnostic,
    source: NamedSource<String>,
}

impl fmt::Debug for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.diagnostic, f)
    }
}

impl std::error::Error for Located<'_> {}

impl miette::Diagnostic for Located<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        miette::Diagnostic::code(self.diagnostic)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        miette::Diagnostic::help(self.diagnostic)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        miette::Diagnostic::labels(self.diagnostic)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
}

fn color_enabled() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Renders diagnostics for one file as text.
pub fn render_diagnostics(path: &str, source: &str, diagnostics: &[Diagnostic]) -> String {
    let theme = if color_enabled() {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let located = Located {
            diagnostic,
            source: NamedSource::new(path, source.to_string()),
        };
        if handler.render_report(&mut out, &located).is_err() {
            out.push_str(&format!(
                "error[{}]: {}\n",
                diagnostic.code, diagnostic.message
            ));
        }
    }
    let n = diagnostics.len();
    if n > 1 {
        out.push_str(&format!("{n} errors\n"));
    }
    out
}

/// Prints diagnostics to stderr.
pub fn print_diagnostics(path: &str, source: &str, diagnostics: &[Diagnostic]) {
    eprint!("{}", render_diagnostics(path, source, diagnostics));
}
