//! Rendering compile diagnostics with miette, at the edge of the program.
//!
//! Colour follows the terminal: off when stderr is not a terminal or `NO_COLOR` is set, so golden
//! tests see plain text.
//!
//! Each diagnostic is handed only the lines around its labels ([`Window`]), not the whole file:
//! miette finds a label's line by scanning its source from the start, so with the whole file
//! every one of a thousand errors in a 300 KB file cost a scan of it (33 s for `cn check`).

use std::fmt;

use cn_compiler::Diagnostic;
use miette::{
    GraphicalReportHandler, GraphicalTheme, MietteError, MietteSpanContents, SourceCode,
    SourceSpan, SpanContents,
};

/// Lines of context kept around a diagnostic's labels (miette shows one).
const CONTEXT_LINES: usize = 3;

/// A diagnostic with the part of its source it needs, as miette wants it.
struct Located<'a> {
    diagnostic: &'a Diagnostic,
    source: Window<'a>,
}

/// Some whole lines of a file, standing in for the file: spans are the file's byte offsets, and
/// line numbers are the file's.
struct Window<'a> {
    name: &'a str,
    text: &'a str,
    /// Where `text` starts in the file: byte offset and line index.
    offset: usize,
    first_line: usize,
}

impl<'a> Window<'a> {
    /// The lines of `source` around `start..end`, given the offsets where its lines start.
    fn around(
        name: &'a str,
        source: &'a str,
        line_starts: &[usize],
        start: usize,
        end: usize,
    ) -> Self {
        let line_of = |offset: usize| {
            line_starts
                .partition_point(|&s| s <= offset)
                .saturating_sub(1)
        };
        let first_line = line_of(start).saturating_sub(CONTEXT_LINES);
        let last_line = line_of(end) + CONTEXT_LINES + 1;
        let offset = line_starts.get(first_line).copied().unwrap_or(0);
        let stop = line_starts.get(last_line).copied().unwrap_or(source.len());
        Window {
            name,
            text: source.get(offset..stop).unwrap_or(""),
            offset,
            first_line,
        }
    }
}

impl SourceCode for Window<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let local = SourceSpan::new(span.offset().saturating_sub(self.offset).into(), span.len());
        let contents = self
            .text
            .read_span(&local, context_lines_before, context_lines_after)?;
        let data_span = SourceSpan::new(
            (contents.span().offset() + self.offset).into(),
            contents.span().len(),
        );
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            contents.data(),
            data_span,
            contents.line() + self.first_line,
            contents.column(),
            contents.line_count(),
        )))
    }
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
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(source.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut out = String::new();
    for diagnostic in diagnostics {
        let labels = miette::Diagnostic::labels(diagnostic);
        let (start, end) =
            labels
                .into_iter()
                .flatten()
                .fold((usize::MAX, 0), |(start, end), label| {
                    (
                        start.min(label.offset()),
                        end.max(label.offset() + label.len()),
                    )
                });
        let located = Located {
            diagnostic,
            source: Window::around(path, source, &line_starts, start.min(end), end),
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
