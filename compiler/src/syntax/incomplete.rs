//! Whether REPL input is complete: the REPL keeps reading lines while this says "more".
//!
//! The input is the lines typed so far, each ending in `\n` (a missing final `\n` is fine too). A
//! block is closed by an empty line: `"if x:\n    y\n"` needs more, `"if x:\n    y\n\n"` is
//! complete.

use super::lexer;
use super::token::Token;

/// True while `source` is an unfinished fragment: an open bracket or triple-quoted string, a
/// last line ending in `:`, or an indented last line not yet followed by an empty line.
pub fn needs_more_input(source: &str) -> bool {
    let lexed = lexer::lex(source, 0, 0);
    if lexed.unterminated_triple {
        return true;
    }
    let mut depth = 0usize;
    // Whether a block was opened outside brackets (`:` ending a line): only then does an
    // indented last line mean the block is still being typed.
    let mut opened_block = false;
    let mut previous: Option<&Token> = None;
    for (_, token, _) in &lexed.tokens {
        if depth == 0 && *token == Token::Newline && previous == Some(&Token::Colon) {
            opened_block = true;
        }
        previous = Some(token);
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => depth += 1,
            Token::RParen | Token::RBracket | Token::RBrace => match depth.checked_sub(1) {
                Some(d) => depth = d,
                // An unmatched closer is an error, which the parser should report now.
                None => return false,
            },
            _ => {}
        }
    }
    if depth > 0 {
        return true;
    }
    // The last line's own terminator is not an empty line.
    let text = source.strip_suffix('\n').unwrap_or(source);
    let text = text.strip_suffix('\r').unwrap_or(text);
    let last_line = text.rsplit('\n').next().unwrap_or("");
    if last_line.trim().is_empty() {
        // Empty input, or an empty line that closes any open block.
        return false;
    }
    let Some((start, last, _)) = lexed
        .tokens
        .iter()
        .rev()
        .find(|(_, t, _)| *t != Token::Newline)
    else {
        return false;
    };
    if *last == Token::Colon {
        return true;
    }
    let line_start = source[..*start].rfind('\n').map_or(0, |i| i + 1);
    opened_block && source[line_start..].starts_with([' ', '\t'])
}

#[cfg(test)]
mod tests {
    use super::needs_more_input as more;

    #[test]
    fn complete_lines() {
        assert!(!more("x = 1"));
        assert!(!more(""));
        assert!(!more("f(1)\n"));
    }

    #[test]
    fn open_brackets_and_strings() {
        assert!(more("f(1,"));
        assert!(more("x = [\n  1,"));
        assert!(more("s = \"\"\"abc"));
        assert!(!more("s = \"\"\"abc\"\"\""));
        assert!(more("server.on_shutdown(fn():\n    db.close()"));
        assert!(!more("server.on_shutdown(fn():\n    db.close()\n)"));
    }

    #[test]
    fn indentation_inside_brackets_is_not_a_block() {
        assert!(!more("xs = [1,\n  2]\n"));
        assert!(more("if x:\n    y = [1,\n      2]\n"));
    }

    #[test]
    fn blocks_until_an_empty_line() {
        assert!(more("if x:"));
        assert!(more("if x:  # comment"));
        assert!(more("if x:\n    y = 1"));
        assert!(more("f = fn(x):\n    return x"));
        assert!(more("if x:\n"));
        assert!(more("if x:\n    y = 1\n"));
        assert!(more("if x:\r\n    y = 1\r\n"));
        assert!(!more("if x:\n    y = 1\n\n"));
        assert!(!more("if x:\n    y = 1\n    \n"));
        assert!(!more("fn f():\n    return 1\n\n"));
    }
}
