//! Python habits: a line written the way Python spells it gets a help line saying how cn spells
//! it, rather than only the parser's list of expected tokens. Python is what most cn users come
//! from, and these are the first things they type.

use super::token::Token;

/// A help line for an unexpected `token` after `line` (its line's text before the token), when
/// the line reads as Python.
pub(crate) fn parse_help(line: &str, token: &Token) -> Option<&'static str> {
    let words: Vec<&str> = line.split_whitespace().collect();
    match (words.as_slice(), token) {
        (["def"], Token::Ident(_)) => {
            Some("cn defines functions with `fn`: `fn name(params):`")
        }
        (["class"], Token::Ident(_)) => Some(
            "cn has no classes: `type Name:` declares a record with fields and `fn` methods, `enum Name:` one with variants",
        ),
        ([.., last], _) if *last == "lambda" || last.ends_with("(lambda") || last.ends_with("=lambda") => {
            Some("a lambda is written `fn(x): x + 1`")
        }
        ([first, ..], token)
            if BLOCK_KEYWORDS.contains(first)
                && line.trim_end().ends_with(':')
                && !matches!(token, Token::Newline) =>
        {
            Some("a block goes on its own lines: end this line at the `:` and indent the statements below it")
        }
        _ => None,
    }
}

/// The keywords whose line ends in `:` and opens a block.
const BLOCK_KEYWORDS: &[&str] = &[
    "if", "elif", "else:", "else", "while", "for", "match", "case",
];

/// A help line for an unknown name that is Python's spelling of something cn has.
pub(crate) fn name_help(name: &str) -> Option<&'static str> {
    match name {
        "True" | "False" => Some("cn writes booleans as `true` and `false`"),
        "None" | "null" => Some("cn writes the absent value as `nil`"),
        "self" => Some("`self` is the first parameter of a method inside a `type`; write it there"),
        _ => None,
    }
}

/// A help line for an f-string field written as Python's self-documenting `{x=}`.
pub(crate) fn fstring_help(field: &str) -> Option<String> {
    let expr = field.trim_end().strip_suffix('=')?;
    if expr.ends_with(['=', '!', '<', '>']) || expr.trim().is_empty() {
        return None;
    }
    let expr = expr.trim();
    Some(format!(
        "cn has no `{{x=}}` form: write `{expr}={{{expr}}}`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_spellings_get_the_cn_spelling() {
        assert!(parse_help("def", &Token::Ident("f".into())).is_some());
        assert!(parse_help("class", &Token::Ident("A".into())).is_some());
        assert!(parse_help("f = lambda", &Token::Ident("x".into())).is_some());
        assert!(parse_help("if x:", &Token::Ident("y".into())).is_some());
        assert!(parse_help("if x:", &Token::Newline).is_none());
        assert!(parse_help("x = 1", &Token::Ident("y".into())).is_none());
        assert_eq!(
            name_help("None"),
            Some("cn writes the absent value as `nil`")
        );
        assert_eq!(
            fstring_help("x ="),
            Some("cn has no `{x=}` form: write `x={x}`".into())
        );
        assert_eq!(fstring_help("a =="), None);
        assert_eq!(fstring_help("a <="), None);
    }
}
