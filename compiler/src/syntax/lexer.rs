//! The raw lexer: logos callbacks for literals and the loop that collects raw tokens.
//!
//! Literal tokens are decoded here (escapes, digit separators, radixes) so later stages see
//! values, not text. Bad literals are reported but still produce a token with a best-effort value,
//! so one typo in a string does not turn the rest of the file into parse errors.

use logos::{Lexer, Logos};

use super::ast::{FStrPart, Span};
use super::fstring;
use super::token::Token;
use crate::Diagnostic;

/// State the logos callbacks share: where the text sits in the file and what went wrong so far.
#[derive(Default)]
pub struct LexExtras {
    /// Offset of the lexed text in the whole file (non-zero for f-string expressions).
    pub base: usize,
    /// How many f-strings enclose the text being lexed.
    pub fdepth: usize,
    /// Errors found in literals.
    pub diags: Vec<Diagnostic>,
    /// A triple-quoted string ran to the end of the text (the REPL asks for more input).
    pub unterminated_triple: bool,
}

/// Raw tokens with absolute byte spans, plus what the lexer reported.
pub struct Lexed {
    /// `(start, token, end)` triples, spans relative to the whole file.
    pub tokens: Vec<(usize, Token, usize)>,
    /// Invalid characters and bad literals.
    pub diags: Vec<Diagnostic>,
    /// A triple-quoted string is still open at the end.
    pub unterminated_triple: bool,
}

/// Lexes `source`, which starts at byte `base` of the file and sits inside `fdepth` f-strings.
pub fn lex(source: &str, base: usize, fdepth: usize) -> Lexed {
    let extras = LexExtras {
        base,
        fdepth,
        ..LexExtras::default()
    };
    let mut lexer = Token::lexer_with_extras(source, extras);
    let mut tokens = Vec::new();
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut last_error_end = usize::MAX;
    while let Some(result) = lexer.next() {
        let span = lexer.span();
        let (start, end) = (span.start + base, span.end + base);
        match result {
            Ok(Token::AmpAmp) => {
                errors.push(c_operator("&&", "and", start, end));
                tokens.push((start, Token::And, end));
            }
            Ok(Token::PipePipe) => {
                errors.push(c_operator("||", "or", start, end));
                tokens.push((start, Token::Or, end));
            }
            Ok(token) => tokens.push((start, token, end)),
            // A run of bad characters is one mistake: report its first character only.
            Err(()) if start == last_error_end => last_error_end = end,
            Err(()) => {
                errors.push(invalid_character(lexer.slice(), start, end));
                last_error_end = end;
            }
        }
    }
    let mut diags = std::mem::take(&mut lexer.extras.diags);
    diags.extend(errors);
    diags.sort_by_key(|d| d.span.start);
    Lexed {
        tokens,
        diags,
        unterminated_triple: lexer.extras.unterminated_triple,
    }
}

fn invalid_character(slice: &str, start: usize, end: usize) -> Diagnostic {
    let c = slice.chars().next().unwrap_or('?');
    let span = Span::new(start, start + c.len_utf8().min(end - start));
    let diag = Diagnostic::new(
        "E0001",
        format!("invalid character `{}`", c.escape_debug()),
        span,
    )
    .with_label("not valid here");
    match c {
        '!' => diag.with_help("use `not` for negation and `!=` for inequality"),
        '\\' => diag.with_help("to continue a line, wrap the expression in parentheses"),
        ';' => diag.with_help("statements end at the end of the line; remove the `;`"),
        _ => diag,
    }
}

/// `&&` or `||` written for `and` / `or`: reported, and read as the keyword so the rest of the
/// line still parses.
fn c_operator(written: &str, keyword: &str, start: usize, end: usize) -> Diagnostic {
    Diagnostic::new(
        "E0001",
        format!("`{written}` is not an operator in cn"),
        Span::new(start, end),
    )
    .with_label("not valid here")
    .with_help(format!("use `{keyword}` for logical {keyword}"))
}

fn abs_span(lex: &Lexer<Token>) -> (usize, usize) {
    let span = lex.span();
    (span.start + lex.extras.base, span.end + lex.extras.base)
}

/// Decodes an integer literal in `radix`; too large a value is reported and read as 0.
pub(crate) fn int(lex: &mut Lexer<Token>, radix: u32) -> i64 {
    let text = lex.slice();
    let digits: String = if radix == 10 {
        text.to_owned()
    } else {
        text[2..].to_owned()
    }
    .replace('_', "");
    let (start, end) = abs_span(lex);
    match i64::from_str_radix(&digits, radix) {
        Ok(value) => value,
        Err(err) => {
            let diag = if digits.is_empty() {
                Diagnostic::new(
                    "E0001",
                    "integer literal has no digits",
                    Span::new(start, end),
                )
            } else {
                let _ = err;
                Diagnostic::new("E0001", "integer literal too large", Span::new(start, end))
                    .with_label("does not fit in 64 bits")
                    .with_help(format!("the largest integer is {}", i64::MAX))
            };
            lex.extras.diags.push(diag);
            0
        }
    }
}

/// Decodes a float literal.
pub(crate) fn float(lex: &mut Lexer<Token>) -> f64 {
    let text = lex.slice().replace('_', "");
    let value: f64 = text.parse().unwrap_or(0.0);
    if value.is_infinite() {
        let (start, end) = abs_span(lex);
        lex.extras.diags.push(
            Diagnostic::new("E0001", "float literal too large", Span::new(start, end))
                .with_label("does not fit in a 64-bit float"),
        );
        return 0.0;
    }
    value
}

/// The body of a string literal found after its opening quote.
struct Scanned {
    /// Byte range of the body inside the lexer's source.
    body: std::ops::Range<usize>,
}

/// Finds the closing `quote` after the opening one and moves the lexer past it. An unterminated
/// string is reported; it ends at the line break (single-quoted) or at the end of the text.
fn scan(lex: &mut Lexer<Token>, quote: &str) -> Scanned {
    let triple = quote.len() == 3;
    let rest = lex.remainder();
    let body_start = lex.span().end;
    let bytes = rest.as_bytes();
    let mut i = 0;
    // A backslash right before the line break belongs to the unterminated string, so it is not
    // reported again as a stray character.
    let mut trailing_backslash = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(quote.as_bytes()) {
            lex.bump(i + quote.len());
            return Scanned {
                body: body_start..body_start + i,
            };
        }
        match bytes[i] {
            b'\\' => {
                // Skip the escaped character (whole UTF-8 sequence), but never a line break of a
                // single-quoted string: that string is unterminated.
                let next = rest[i + 1..].chars().next();
                match next {
                    Some('\n') if !triple => {
                        trailing_backslash = 1;
                        break;
                    }
                    Some(c) => i += 1 + c.len_utf8(),
                    None => i += 1,
                }
            }
            b'\n' if !triple => break,
            _ => i += 1,
        }
    }
    let end = i.min(bytes.len());
    lex.bump(end + trailing_backslash);
    let (start, _) = abs_span(lex);
    let open_end = start + (lex.span().len() - end - trailing_backslash);
    let label = if triple {
        "this string is never closed"
    } else {
        "closing quote missing"
    };
    lex.extras.diags.push(
        Diagnostic::new("E0001", "unterminated string", Span::new(start, open_end))
            .with_label(label)
            .with_help(format!("add the closing {quote}")),
    );
    if triple {
        lex.extras.unterminated_triple = true;
    }
    Scanned {
        body: body_start..body_start + end,
    }
}

/// Lexes a string literal whose opening `quote` was just matched.
pub(crate) fn string(lex: &mut Lexer<Token>, quote: &str) -> String {
    let scanned = scan(lex, quote);
    let body = &lex.source()[scanned.body.clone()];
    let base = lex.extras.base + scanned.body.start;
    unescape(body, base, &mut lex.extras.diags)
}

/// Lexes a raw string literal (`r"..."`) whose opening `r` + `quote` was just matched: its body
/// as written, backslashes included.
pub(crate) fn raw_string(lex: &mut Lexer<Token>, quote: &str) -> String {
    let scanned = scan(lex, quote);
    lex.source()[scanned.body].to_string()
}

/// Lexes an f-string whose opening `f` + `quote` was just matched, parsing the embedded
/// expressions.
pub(crate) fn fstring(lex: &mut Lexer<Token>, quote: &str) -> Vec<FStrPart> {
    let scanned = scan(lex, quote);
    let body = &lex.source()[scanned.body.clone()];
    let base = lex.extras.base + scanned.body.start;
    let fdepth = lex.extras.fdepth;
    fstring::parse(body, base, fdepth, &mut lex.extras.diags)
}

/// Processes the escapes of a string body that starts at byte `base` of the file.
pub(crate) fn unescape(body: &str, base: usize, diags: &mut Vec<Diagnostic>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((j, e)) = chars.next() else {
            diags.push(Diagnostic::new(
                "E0001",
                "unfinished escape sequence",
                Span::new(base + i, base + i + 1),
            ));
            break;
        };
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            'r' => Some('\r'),
            '0' => Some('\0'),
            // Python's remaining control escapes: bell, backspace, form feed, vertical tab.
            'a' => Some('\u{7}'),
            'b' => Some('\u{8}'),
            'f' => Some('\u{c}'),
            'v' => Some('\u{b}'),
            '\\' => Some('\\'),
            '"' => Some('"'),
            '\'' => Some('\''),
            '{' | '}' => None,
            // A backslash at the end of a line continues a triple-quoted string.
            '\n' => continue,
            _ => None,
        };
        if let Some(ch) = simple {
            out.push(ch);
            continue;
        }
        let esc_start = base + i;
        match e {
            'x' => {
                let hex: String = body[j + 1..].chars().take(2).collect();
                let valid = hex.len() == 2 && hex.bytes().all(|b| b.is_ascii_hexdigit());
                match valid.then(|| u8::from_str_radix(&hex, 16).ok()).flatten() {
                    Some(v) => {
                        out.push(char::from(v));
                        chars.next();
                        chars.next();
                    }
                    None => diags.push(
                        Diagnostic::new(
                            "E0001",
                            "invalid `\\x` escape",
                            Span::new(esc_start, base + j + 1 + hex.len()),
                        )
                        .with_help("write exactly two hex digits, as in `\\x41`"),
                    ),
                }
            }
            'u' => {
                let rest = &body[j + 1..];
                let close = rest.starts_with('{').then(|| rest.find('}')).flatten();
                let value = close
                    .filter(|&c| {
                        c > 1 && c <= 7 && rest[1..c].bytes().all(|b| b.is_ascii_hexdigit())
                    })
                    .and_then(|c| u32::from_str_radix(&rest[1..c], 16).ok())
                    .and_then(char::from_u32);
                match (close, value) {
                    (Some(c), Some(ch)) => {
                        out.push(ch);
                        // Skip `{hex}` (ASCII, so bytes and chars agree).
                        for _ in 0..=c {
                            chars.next();
                        }
                    }
                    _ => {
                        let end = close.map_or(j + 1, |c| j + 2 + c);
                        diags.push(
                            Diagnostic::new(
                                "E0001",
                                "invalid unicode escape",
                                Span::new(esc_start, base + end),
                            )
                            .with_label("not a valid code point")
                            .with_help(
                                "write the code point in hex between braces, as in `\\u{1F600}`",
                            ),
                        );
                    }
                }
            }
            _ => {
                let span = Span::new(esc_start, base + j + e.len_utf8());
                diags.push(
                    Diagnostic::new(
                        "E0001",
                        format!("unknown escape sequence `\\{}`", e.escape_debug()),
                        span,
                    )
                    .with_label("unknown escape")
                    .with_help(
                        "write `\\\\` for a literal backslash, or use a raw string: r\"C:\\path\"",
                    ),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token> {
        lex(src, 0, 0)
            .tokens
            .into_iter()
            .map(|(_, t, _)| t)
            .collect()
    }

    #[test]
    fn durations_are_int_then_attribute() {
        assert_eq!(
            kinds("60.seconds"),
            vec![Token::Int(60), Token::Dot, Token::Ident("seconds".into())]
        );
        assert_eq!(
            kinds("1.5.ms"),
            vec![Token::Float(1.5), Token::Dot, Token::Ident("ms".into())]
        );
    }

    #[test]
    fn numbers_in_every_radix() {
        assert_eq!(
            kinds("0x1F 0o17 0b101 1_000"),
            vec![
                Token::Int(31),
                Token::Int(15),
                Token::Int(5),
                Token::Int(1000)
            ]
        );
        assert_eq!(
            kinds("2.5e-3 1e3"),
            vec![Token::Float(2.5e-3), Token::Float(1e3)]
        );
    }

    #[test]
    fn too_large_integer_is_reported() {
        let lexed = lex("x = 99999999999999999999", 0, 0);
        assert_eq!(lexed.diags.len(), 1);
        assert_eq!(lexed.diags[0].code, "E0001");
        assert_eq!(lexed.diags[0].span, Span::new(4, 24));
    }

    #[test]
    fn escapes_decode() {
        assert_eq!(
            kinds(r#""a\n\t\\\"\x41\u{1F600}""#),
            vec![Token::Str("a\n\t\\\"A\u{1F600}".into())]
        );
        let lexed = lex(r#""\q""#, 0, 0);
        assert_eq!(lexed.diags[0].message, "unknown escape sequence `\\q`");
        assert_eq!(lexed.diags[0].span, Span::new(1, 3));
    }

    #[test]
    fn raw_strings_keep_backslashes() {
        assert_eq!(
            kinds(r#"r"\d+\.\n" r'a\'b' r"""x\y""""#),
            vec![
                Token::Str(r"\d+\.\n".into()),
                Token::Str(r"a\'b".into()),
                Token::Str(r"x\y".into())
            ]
        );
        // `r` alone is still a name.
        assert_eq!(kinds("r"), vec![Token::Ident("r".into())]);
        assert!(lex(r#"r"\d+"#, 0, 0).diags[0].message == "unterminated string");
    }

    #[test]
    fn unterminated_triple_string_is_flagged() {
        let lexed = lex("x = \"\"\"abc\n", 0, 0);
        assert!(lexed.unterminated_triple);
        assert_eq!(lexed.diags[0].message, "unterminated string");
    }

    #[test]
    fn unicode_identifiers() {
        assert_eq!(kinds("größe"), vec![Token::Ident("größe".into())]);
    }
}
