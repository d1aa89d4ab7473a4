//! F-strings: splitting `f"..."` bodies into literal text and `{expr[!r][:spec]}` fields.
//!
//! The lexer has already found where the f-string ends (the first unescaped closing quote, so
//! nested strings must use the other kind of quote). Here the body is split into parts and each
//! field's expression is parsed by the full front end, with spans offset so they point into the
//! file and not into the field.

use super::ast::{FStrPart, Span};
use super::lexer::unescape;
use super::parser;
use crate::Diagnostic;

/// The deepest f-string nesting accepted (`f"{f'{x}'}"` is two).
pub const MAX_FSTRING_DEPTH: usize = 10;

/// Splits the body of an f-string that starts at byte `base` of the file and sits inside
/// `fdepth` enclosing f-strings.
pub fn parse(body: &str, base: usize, fdepth: usize, diags: &mut Vec<Diagnostic>) -> Vec<FStrPart> {
    if fdepth + 1 > MAX_FSTRING_DEPTH {
        diags.push(
            Diagnostic::new(
                "E0005",
                "nesting too deep",
                Span::new(base, base + body.len()),
            )
            .with_label(format!(
                "f-strings nested more than {MAX_FSTRING_DEPTH} deep"
            )),
        );
        return Vec::new();
    }
    let mut parts = Vec::new();
    let mut lit = String::new();
    let bytes = body.as_bytes();
    // Start of the raw literal text not yet decoded into `lit`.
    let mut raw_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // Escapes are decoded later; here they only must not be mistaken for braces.
            b'\\' => i += 1 + body[i + 1..].chars().next().map_or(0, char::len_utf8),
            b'{' if bytes.get(i + 1) == Some(&b'{') => {
                lit.push_str(&unescape(&body[raw_start..i], base + raw_start, diags));
                lit.push('{');
                i += 2;
                raw_start = i;
            }
            b'}' if bytes.get(i + 1) == Some(&b'}') => {
                lit.push_str(&unescape(&body[raw_start..i], base + raw_start, diags));
                lit.push('}');
                i += 2;
                raw_start = i;
            }
            b'}' => {
                diags.push(
                    Diagnostic::new(
                        "E0006",
                        "single `}` is not allowed in an f-string",
                        Span::new(base + i, base + i + 1),
                    )
                    .with_label("unmatched `}`")
                    .with_help("write `}}` for a literal brace"),
                );
                lit.push_str(&unescape(&body[raw_start..i], base + raw_start, diags));
                i += 1;
                raw_start = i;
            }
            b'{' => {
                lit.push_str(&unescape(&body[raw_start..i], base + raw_start, diags));
                let Some(field) = find_field_end(body, i + 1) else {
                    diags.push(
                        Diagnostic::new(
                            "E0006",
                            "unclosed `{` in f-string",
                            Span::new(base + i, base + i + 1),
                        )
                        .with_label("this `{` is never closed")
                        .with_help("close the field with `}`, or write `{{` for a literal brace"),
                    );
                    raw_start = bytes.len();
                    break;
                };
                if !lit.is_empty() {
                    parts.push(FStrPart::Lit(std::mem::take(&mut lit)));
                }
                if let Some(part) = field_part(body, base, i, &field, fdepth, diags) {
                    parts.push(part);
                }
                i = field.close + 1;
                raw_start = i;
            }
            _ => i += 1,
        }
    }
    lit.push_str(&unescape(
        &body[raw_start.min(body.len())..],
        base + raw_start,
        diags,
    ));
    if !lit.is_empty() {
        parts.push(FStrPart::Lit(lit));
    }
    parts
}

/// Where the pieces of one `{...}` field are, as byte offsets into the body.
struct Field {
    /// End of the expression text.
    expr_end: usize,
    /// `!r` / `!s` conversion letter, if any.
    conversion: Option<u8>,
    /// Start of the format spec (after `:`), if any.
    spec_start: Option<usize>,
    /// The closing `}`.
    close: usize,
}

/// Finds the `}` that closes the field whose expression starts at `start`, skipping nested
/// brackets and strings.
fn find_field_end(body: &str, start: usize) -> Option<Field> {
    let bytes = body.as_bytes();
    let mut depth = 0usize;
    let mut i = start;
    let mut expr_end = None;
    let mut conversion = None;
    let mut spec_start = None;
    while i < bytes.len() {
        let b = bytes[i];
        if spec_start.is_some() {
            // The format spec is plain text up to the closing brace.
            if b == b'}' {
                break;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => {
                i = skip_string(bytes, i)?;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' if depth > 0 => depth -= 1,
            b'}' => break,
            b':' if depth == 0 => {
                expr_end.get_or_insert(i);
                spec_start = Some(i + 1);
            }
            b'!' if depth == 0
                && matches!(bytes.get(i + 1), Some(b'r' | b's'))
                && matches!(bytes.get(i + 2), Some(b':' | b'}')) =>
            {
                expr_end = Some(i);
                conversion = Some(bytes[i + 1]);
                i += 2;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    (i < bytes.len()).then(|| Field {
        expr_end: expr_end.unwrap_or(i),
        conversion,
        spec_start,
        close: i,
    })
}

/// Skips a quoted string starting at `i`; returns the index after its closing quote.
fn skip_string(bytes: &[u8], i: usize) -> Option<usize> {
    let quote = bytes[i];
    let mut j = i + 1;
    while j < bytes.len() {
        match bytes[j] {
            b'\\' => j += 2,
            b if b == quote => return Some(j + 1),
            _ => j += 1,
        }
    }
    None
}

fn field_part(
    body: &str,
    base: usize,
    open: usize,
    field: &Field,
    fdepth: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<FStrPart> {
    let text = &body[open + 1..field.expr_end];
    if text.trim().is_empty() {
        diags.push(
            Diagnostic::new(
                "E0006",
                "empty expression in f-string",
                Span::new(base + open, base + field.close + 1),
            )
            .with_label("expected an expression between the braces")
            .with_help("write `{{` and `}}` for literal braces"),
        );
        return None;
    }
    let trimmed = text.trim_start();
    if field.spec_start.is_some()
        && trimmed
            .strip_prefix("fn")
            .is_some_and(|rest| rest.trim_start().starts_with('('))
    {
        // The lambda's `:` was taken for the start of a format spec.
        let start = base + open + 1 + (text.len() - trimmed.len());
        diags.push(
            Diagnostic::new(
                "E0006",
                "lambda in an f-string field must be parenthesized",
                Span::new(start, start + 2),
            )
            .with_label("the `:` after the parameters starts a format spec")
            .with_help("wrap the lambda in parentheses: `{(fn(x): ...)}`"),
        );
        return None;
    }
    let (expr, errors) = parser::parse_fragment(text, base + open + 1, fdepth + 1);
    let python_form = super::habits::fstring_help(text);
    diags.extend(errors.into_iter().map(|e| match &python_form {
        Some(help) if e.help.is_none() => e.with_help(help.clone()),
        _ => e,
    }));
    let spec = field.spec_start.map(|s| body[s..field.close].to_owned());
    Some(FStrPart::Expr {
        expr: expr?,
        spec,
        repr: field.conversion == Some(b'r'),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(body: &str) -> (Vec<FStrPart>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let parts = parse(body, 100, 0, &mut diags);
        (parts, diags)
    }

    #[test]
    fn literal_and_fields() {
        let (parts, diags) = split("a{x}b{{c}}");
        assert!(diags.is_empty());
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[0], FStrPart::Lit("a".into()));
        match &parts[1] {
            FStrPart::Expr { expr, spec, repr } => {
                assert_eq!(expr.span, Span::new(102, 103));
                assert_eq!((spec, repr), (&None, &false));
            }
            other => panic!("expected a field, got {other:?}"),
        }
        assert_eq!(parts[2], FStrPart::Lit("b{c}".into()));
    }

    #[test]
    fn spec_and_conversion() {
        let (parts, diags) = split("{x!r:>8}");
        assert!(diags.is_empty());
        assert!(matches!(&parts[0], FStrPart::Expr { spec: Some(s), repr: true, .. } if s == ">8"));
    }

    #[test]
    fn nesting_past_the_limit_is_reported() {
        let mut diags = Vec::new();
        let parts = parse("{x}", 0, MAX_FSTRING_DEPTH, &mut diags);
        assert!(parts.is_empty());
        assert_eq!(diags[0].code, "E0005");
        assert_eq!(diags[0].message, "nesting too deep");
        let mut diags = Vec::new();
        parse("{x}", 0, MAX_FSTRING_DEPTH - 1, &mut diags);
        assert!(diags.is_empty());
    }
}
