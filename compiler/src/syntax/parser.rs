//! The seam between the front-end stages: lexer, layout pass and grammar, and the conversion of
//! lalrpop's errors into [`Diagnostic`]s that read well.
//!
//! Everything outside `syntax` sees only [`parse`](super::parse); the generated parser could be
//! swapped for a hand-written one behind this file without touching the rest of the compiler.

use std::collections::BTreeSet;

use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

use super::ast::{Expr, Module, Span, Stmt, StmtKind};
use super::token::Token;
use super::{layout, lexer};
use crate::Diagnostic;

lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        clippy::unwrap_used,
        unused_qualifications,
        missing_docs,
        unused_parens
    )]
    grammar,
    "/syntax/grammar.rs"
);

/// Lexes and lays out `source` (at byte `base` of the file, inside `fdepth` f-strings).
/// The result holds the errors of both stages.
pub fn tokenize(source: &str, base: usize, fdepth: usize, fragment: bool) -> layout::Laid {
    let lexed = lexer::lex(source, base, fdepth);
    let mut laid = layout::layout(source, base, lexed.tokens, fragment);
    let mut diags = lexed.diags;
    diags.append(&mut laid.diags);
    laid.diags = diags;
    laid
}

/// Parses `source` as a module; see [`tokenize`] for the other arguments.
pub fn parse_module(
    source: &str,
    base: usize,
    fdepth: usize,
    fragment: bool,
) -> (Module, Vec<Diagnostic>) {
    let layout::Laid {
        tokens,
        mut diags,
        fatal,
        unclosed,
    } = tokenize(source, base, fdepth, fragment);
    if fatal {
        sort(&mut diags);
        return (Module::default(), diags);
    }
    let mut recovered: Vec<ErrorRecovery<usize, Token, Diagnostic>> = Vec::new();
    let result = grammar::ModuleParser::new().parse(
        &mut recovered,
        source,
        base,
        tokens.into_iter().map(Ok),
    );
    // The text of a line up to an offset, for hints that depend on what the line says.
    let line_before = |offset: usize| -> &str {
        let rel = offset.saturating_sub(base).min(source.len());
        &source[source[..rel].rfind('\n').map_or(0, |i| i + 1)..rel]
    };
    let mut raw: Vec<ParseError<usize, Token, Diagnostic>> =
        recovered.into_iter().map(|e| e.error).collect();
    let body = match result {
        Ok(body) => body,
        Err(ParseError::UnrecognizedEof { .. }) if unclosed.is_some() => Vec::new(),
        Err(err) => {
            raw.push(err);
            Vec::new()
        }
    };
    // After a first error, recovery may resume inside a block whose end it has already read;
    // the "unexpected end of block / file" errors that follow are its echo, not new mistakes.
    let echo = |e: &ParseError<usize, Token, Diagnostic>| {
        matches!(
            e,
            ParseError::UnrecognizedEof { .. }
                | ParseError::UnrecognizedToken {
                    token: (_, Token::Dedent, _),
                    ..
                }
        )
    };
    let mut errors: Vec<Diagnostic> = raw
        .into_iter()
        .enumerate()
        .filter(|(i, e)| *i == 0 || !echo(e))
        .map(|(_, e)| convert(e, &line_before))
        .collect();
    if let Some(bracket) = unclosed {
        // Everything after a bracket that is never closed was read as its contents: only the
        // first error there says something useful (usually where the bracket should close).
        let mut after = errors
            .iter()
            .enumerate()
            .filter(|(_, d)| d.span.start as usize > bracket);
        if let Some((first, _)) = after.next() {
            let mut i = 0;
            errors.retain(|d| {
                i += 1;
                i - 1 <= first || d.span.start as usize <= bracket
            });
        }
    }
    // One mistake, one error: a parse error on a line that already has an error is most likely
    // a consequence of it.
    let line_starts: Vec<usize> = std::iter::once(base)
        .chain(source.match_indices('\n').map(|(i, _)| base + i + 1))
        .collect();
    let line_of = |offset: u32| line_starts.partition_point(|&s| s <= offset as usize);
    let mut lines_with_errors: BTreeSet<usize> =
        diags.iter().map(|d| line_of(d.span.start)).collect();
    for error in errors {
        if lines_with_errors.insert(line_of(error.span.start)) {
            diags.push(error);
        }
    }
    sort(&mut diags);
    (Module { body }, diags)
}

/// Parses the expression of an f-string field (`text` starts at byte `base` of the file).
pub fn parse_fragment(text: &str, base: usize, fdepth: usize) -> (Option<Expr>, Vec<Diagnostic>) {
    let (module, mut diags) = parse_module(text, base, fdepth, true);
    let mut body = module.body;
    if body.len() == 1 {
        if let Some(Stmt {
            kind: StmtKind::Expr(expr),
            ..
        }) = body.pop()
        {
            return (Some(expr), diags);
        }
    }
    if diags.is_empty() {
        let start = base + (text.len() - text.trim_start().len());
        let end = base + text.trim_end().len();
        diags.push(
            Diagnostic::new(
                "E0006",
                "expected an expression in f-string field",
                Span::new(start, end.max(start)),
            )
            .with_label("not an expression"),
        );
    }
    (None, diags)
}

fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by_key(|d| (d.span.start, d.span.end));
}

/// Terminals that can start an expression; a list of expected tokens holding most of them is
/// shown as "expression".
const EXPRESSION_START: &[&str] = &[
    "Ident",
    "Int",
    "Float",
    "Str",
    "FStr",
    "\"(\"",
    "\"[\"",
    "\"{\"",
    "\"-\"",
    "\"+\"",
    "\"~\"",
    "\"not\"",
    "\"spawn\"",
    "\"fn\"",
    "\"true\"",
    "\"false\"",
    "\"nil\"",
    "\"type\"",
];

/// Terminals that continue a complete expression; a list of expected tokens holding most of
/// them is shown as "operator".
const OPERATORS: &[&str] = &[
    "\"+\"", "\"-\"", "\"*\"", "\"/\"", "\"//\"", "\"%\"", "\"**\"", "\"==\"", "\"!=\"", "\"<\"",
    "\"<=\"", "\">\"", "\">=\"", "\"in\"", "\"is\"", "\"not\"", "\"and\"", "\"or\"", "\"if\"",
    "\".\"", "\"?\"", "\"[\"", "\"(\"", "\"&\"", "\"|\"", "\"^\"", "\"<<\"", "\">>\"",
];

/// Terminals that can start a statement (besides expression starts); a list of expected tokens
/// holding most of them is shown as "statement". `elif` / `else` are listed because they may
/// follow a line that failed to parse.
const STATEMENT_START: &[&str] = &[
    "\"...\"",
    "\"@\"",
    "\"assert\"",
    "\"break\"",
    "\"concurrent\"",
    "\"continue\"",
    "\"defer\"",
    "\"enum\"",
    "\"for\"",
    "\"if\"",
    "\"import\"",
    "\"match\"",
    "\"pass\"",
    "\"return\"",
    "\"while\"",
    "\"elif\"",
    "\"else\"",
];

/// Operators that only continue an expression at comparison level or below.
const BOOLEAN_OPERATORS: &[&str] = &["\"in\"", "\"is\"", "\"not\"", "\"and\"", "\"or\"", "\"if\""];

/// Most entries listed in an "expected ..." message.
const MAX_EXPECTED: usize = 8;

/// Turns lalrpop's expected-terminal names into a readable, sorted, deduplicated list.
fn describe_expected(expected: &[String]) -> Vec<String> {
    let has_all = |names: &[&str]| names.iter().all(|t| expected.iter().any(|e| e == t));
    let starts_expression = has_all(&["Ident", "Int", "\"(\""]);
    let starts_statement = starts_expression && has_all(&["\"while\"", "\"import\"", "\"return\""]);
    let continues_expression = has_all(&["\"+\"", "\"*\""]);
    // `in` and the boolean keywords are only summed up as "operator" where a comparison could
    // follow; in `for x in` the `in` is what is missing.
    let comparisons_too = has_all(&["\"==\""]);
    let is_operator = |name: &str| {
        OPERATORS.contains(&name) && (comparisons_too || !BOOLEAN_OPERATORS.contains(&name))
    };
    let mut set: BTreeSet<String> = BTreeSet::new();
    for name in expected {
        if (starts_expression && EXPRESSION_START.contains(&name.as_str()))
            || (starts_statement && STATEMENT_START.contains(&name.as_str()))
            || (continues_expression && is_operator(name))
        {
            continue;
        }
        set.insert(Token::describe_terminal(name));
    }
    let mut list: Vec<String> = set.into_iter().collect();
    if continues_expression {
        list.push("operator".to_owned());
    }
    if starts_statement {
        list.insert(0, "statement".to_owned());
    } else if starts_expression {
        list.insert(0, "expression".to_owned());
    }
    if list.len() > MAX_EXPECTED {
        let more = list.len() - MAX_EXPECTED;
        list.truncate(MAX_EXPECTED);
        list.push(format!("{more} more"));
    }
    list
}

fn expected_phrase(list: &[String]) -> String {
    match list {
        [] => "nothing more".to_owned(),
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    }
}

/// What a found token is called in a message: its phrase, plus the name for identifiers.
fn found_phrase(token: &Token) -> String {
    match token {
        Token::Ident(name) => format!("identifier `{name}`"),
        Token::Int(value) => format!("integer `{value}`"),
        Token::Float(value) => format!("float `{value:?}`"),
        other => other.to_string(),
    }
}

/// Converts a parse error; `line_before` gives the text of a line up to an offset.
fn convert<'s>(
    err: ParseError<usize, Token, Diagnostic>,
    line_before: &dyn Fn(usize) -> &'s str,
) -> Diagnostic {
    match err {
        ParseError::User { error } => error,
        ParseError::InvalidToken { location } => {
            Diagnostic::new("E0001", "invalid token", Span::new(location, location))
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let list = describe_expected(&expected);
            Diagnostic::new(
                "E0004",
                format!(
                    "unexpected end of file; expected {}",
                    expected_phrase(&list)
                ),
                Span::new(location, location),
            )
            .with_label("the file ends here")
        }
        ParseError::UnrecognizedToken {
            token: (start, token, end),
            expected,
        } => {
            let line = line_before(start);
            let diag = unrecognized(start, &token, end, &expected, line);
            // A line that starts where a closing bracket was expected: most likely the bracket
            // was forgotten at the end of the line above.
            let closer = ["\")\"", "\"]\"", "\"}\""]
                .into_iter()
                .find(|c| expected.iter().any(|e| e == c));
            match closer {
                Some(closer) if diag.help.is_none() && line.trim().is_empty() => {
                    diag.with_help(format!(
                        "is a `{}` missing at the end of the previous line?",
                        &closer[1..2]
                    ))
                }
                _ => diag,
            }
        }
        ParseError::ExtraToken {
            token: (start, token, end),
        } => {
            let found = found_phrase(&token);
            Diagnostic::new(
                "E0003",
                format!("unexpected {found}"),
                Span::new(start, end),
            )
            .with_label(format!("unexpected {found}"))
        }
    }
}

/// True when a line so far is the condition of an `if`, `elif` or `while`.
fn is_condition(line: &str) -> bool {
    let line = line.trim_start();
    ["if ", "elif ", "while "]
        .iter()
        .any(|k| line.starts_with(k))
}

/// An unexpected token; `line` is the text of its line before it.
fn unrecognized(
    start: usize,
    token: &Token,
    end: usize,
    expected: &[String],
    line: &str,
) -> Diagnostic {
    let span = Span::new(start, end);
    if *token == Token::Indent {
        return Diagnostic::new("E0002", "unexpected indent", span)
            .with_label("this line is indented more than the one above")
            .with_help("only the lines after a `:` start an indented block");
    }
    if expected.len() == 1 && expected[0] == "INDENT" {
        return Diagnostic::new("E0002", "expected an indented block", span)
            .with_label(format!(
                "expected an indented block, found {}",
                found_phrase(token)
            ))
            .with_help("indent the lines of the block under the line ending in `:`");
    }
    let list = describe_expected(expected);
    let found = found_phrase(token);
    let diag = Diagnostic::new(
        "E0003",
        format!("expected {}; found {found}", expected_phrase(&list)),
        span,
    )
    .with_label(format!("unexpected {found}"));
    if let Some(help) = super::habits::parse_help(line, token) {
        return diag.with_help(help);
    }
    let expects = |name: &str| expected.iter().any(|e| e == name);
    match token {
        Token::Newline if expects("\":\"") => {
            diag.with_help("did you forget a `:` at the end of the line?")
        }
        Token::Assign if expects("\"==\"") || (expects("\":\"") && is_condition(line)) => {
            diag.with_help("use `==` to compare values")
        }
        _ => diag,
    }
}
