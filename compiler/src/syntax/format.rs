//! `cn fmt`: one canonical layout, decided token by token.
//!
//! The formatter keeps the program's lines and tokens as written and decides only the
//! whitespace: each line's indentation (four spaces per level; a line's level comes from its
//! original indentation, compared with the lines before it, as the layout pass compares them),
//! the spaces between tokens (one around binary operators and after commas and colons, none
//! inside brackets, before a call's or an index's bracket, around `.`, after a unary operator,
//! or around a keyword argument's `=`), two spaces before a trailing comment, at most one blank
//! line in a row, and one newline at the end. Literals are copied byte for byte, comments are
//! kept, and long lines are not broken (as gofmt does not).
//!
//! Code that does not parse is refused. After formatting, the laid-out token streams of the
//! input and the output are compared; should they differ, the input is returned unchanged with
//! an error, so the formatter can never change what a program means.

use super::lexer;
use super::token::Token;
use crate::Diagnostic;

/// Why a text was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The text does not parse: its first error.
    Syntax(Diagnostic),
    /// Formatting would have changed the program (a formatter bug); nothing is changed.
    Changed(String),
}

/// The canonical layout of `source`.
pub fn format(source: &str) -> Result<String, FormatError> {
    let (_, diags) = super::parse(source);
    if let Some(first) = diags.into_iter().min_by_key(|d| d.span.start) {
        return Err(FormatError::Syntax(first));
    }
    let lexed = lexer::lex(source, 0, 0);
    let lines = split_lines(source, &lexed.tokens);
    let formatted = render(source, &lines);
    let before = super::tokens(source).map_err(FormatError::Syntax)?;
    let after = super::tokens(&formatted).map_err(|d| {
        FormatError::Changed(format!(
            "the formatted text does not lay out: {}",
            d.message
        ))
    })?;
    // An f-string's parts hold positions, which move; its text must not.
    let same_token = |a: &(usize, Token, usize), b: &(usize, Token, usize)| match (&a.1, &b.1) {
        (Token::FStr(_), Token::FStr(_)) => source[a.0..a.2] == formatted[b.0..b.2],
        (x, y) => x == y,
    };
    let same =
        before.len() == after.len() && before.iter().zip(&after).all(|(a, b)| same_token(a, b));
    if !same {
        let at = before
            .iter()
            .zip(&after)
            .position(|(a, b)| !same_token(a, b))
            .unwrap_or(before.len().min(after.len()));
        let line = before
            .get(at)
            .map_or(0, |t| source[..t.0].matches('\n').count() + 1);
        return Err(FormatError::Changed(format!(
            "formatting would change the tokens near line {line}; the file is left as it is"
        )));
    }
    Ok(formatted)
}

/// One physical line: its tokens (as byte ranges), its comment, and where it starts.
struct Line<'t> {
    /// Characters of indentation before the first token or comment.
    width: usize,
    tokens: Vec<(usize, &'t Token, usize)>,
    comment: Option<(usize, usize)>,
}

/// Splits the raw tokens into physical lines at the lexer's line breaks (a multi-line string
/// is one token of the line it starts on).
fn split_lines<'t>(source: &str, tokens: &'t [(usize, Token, usize)]) -> Vec<Line<'t>> {
    let mut lines = Vec::new();
    let mut line_start = 0;
    let mut cursor = 0;
    let mut current: Vec<(usize, &Token, usize)> = Vec::new();
    let mut finish = |current: &mut Vec<(usize, &'t Token, usize)>,
                      gap_from: usize,
                      gap_to: usize,
                      line_start: usize| {
        let comment = source[gap_from..gap_to]
            .find('#')
            .map(|at| (gap_from + at, gap_to));
        let first = current
            .first()
            .map(|t| t.0)
            .or(comment.map(|c| c.0))
            .unwrap_or(line_start);
        let width = source[line_start..first]
            .chars()
            .filter(|c| *c != '\u{FEFF}')
            .count();
        lines.push(Line {
            width,
            tokens: std::mem::take(current),
            comment: comment.map(|(from, to)| (from, from + source[from..to].trim_end().len())),
        });
    };
    for (start, token, end) in tokens {
        if *token == Token::Newline {
            finish(&mut current, cursor, *start, line_start);
            line_start = *end;
            cursor = *end;
        } else {
            current.push((*start, token, *end));
            cursor = *end;
        }
    }
    if !current.is_empty() || source[cursor..].contains('#') {
        finish(&mut current, cursor, source.len(), line_start);
    }
    lines
}

/// What encloses the current position.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Paren,
    /// A lambda's parameters: `fn(` ... `)`.
    LambdaParams,
    Bracket,
    Brace,
    /// A block of statements inside brackets (a multi-line lambda's body) whose lines are at
    /// least `width` wide; `levels` is how many indentation levels were open before it, and
    /// `opener` the output level of the line that opened it (the line that ends the block goes
    /// back there, or the layout pass would read it as part of the block).
    Block {
        width: usize,
        levels: usize,
        opener: usize,
    },
}

/// How deep inside brackets a line is, counted from the innermost block of statements: the
/// number of earlier lines whose brackets are still open (brackets opened on one line count
/// once, so `f([` indents its items one level), leaving out the `closing` innermost brackets
/// the line itself starts by closing. 0 for a statement line.
fn bracket_depth(contexts: &[(Context, usize)], closing: usize) -> usize {
    let open = contexts.len().saturating_sub(closing);
    let mut lines: Vec<usize> = contexts[..open]
        .iter()
        .rev()
        .take_while(|(c, _)| !matches!(c, Context::Block { .. }))
        .map(|(_, line)| *line)
        .collect();
    lines.dedup();
    lines.len()
}

fn render(source: &str, lines: &[Line<'_>]) -> String {
    let mut out = String::with_capacity(source.len());
    // The open indentation levels of statement lines: original width and output level.
    let mut levels: Vec<(usize, usize)> = vec![(0, 0)];
    let mut contexts: Vec<(Context, usize)> = Vec::new();
    let mut blank_run = 0;
    let mut previous_ended_block = false;
    // The previous line ended with a lambda header's `:`: the line its `fn` is on.
    let mut lambda_header: Option<usize> = None;
    // Output level of each line so far.
    let mut line_levels: Vec<usize> = Vec::with_capacity(lines.len());
    let mut previous_width = 0;
    let mut previous_level = 0;
    for (number, line) in lines.iter().enumerate() {
        if line.tokens.is_empty() && line.comment.is_none() {
            blank_run += 1;
            continue;
        }
        if blank_run > 0 && !out.is_empty() {
            out.push('\n');
        }
        blank_run = 0;
        let top = |levels: &[(usize, usize)]| levels.last().map_or(0, |l| l.1);
        let level = if line.tokens.is_empty() {
            match bracket_depth(&contexts, 0) {
                // A comment that opens a block sits at the block's level.
                0 if previous_ended_block && line.width > previous_width => previous_level + 1,
                // A comment line sits at the deepest open level its indentation reaches.
                0 => levels
                    .iter()
                    .rev()
                    .find(|(width, _)| *width <= line.width)
                    .map_or(0, |l| l.1),
                depth => top(&levels) + depth,
            }
        } else {
            // Leaving a lambda's block restores the levels open before it.
            let mut left_block_at = None;
            while let Some((
                Context::Block {
                    width,
                    levels: open,
                    opener,
                },
                _,
            )) = contexts.last().copied()
            {
                // A line that starts with a closing bracket ends the block too.
                let closes = matches!(
                    line.tokens.first(),
                    Some((_, Token::RParen | Token::RBracket | Token::RBrace, _))
                );
                if line.width >= width && !closes {
                    break;
                }
                contexts.pop();
                levels.truncate(open);
                left_block_at = Some(opener);
            }
            // A block opened inside brackets (a lambda argument's body); one opened by a
            // statement of a block, brackets or not around it, is an ordinary level.
            // A lambda argument's body: one level deeper than the line its `fn` is on (the
            // layout pass measures the body against that line).
            let opener = lambda_header
                .filter(|_| bracket_depth(&contexts, 0) > 0 && line.width > previous_width)
                .and_then(|header| line_levels.get(header).copied());
            if let Some(opener) = opener {
                contexts.push((
                    Context::Block {
                        width: line.width,
                        levels: levels.len(),
                        opener,
                    },
                    number,
                ));
                levels.push((line.width, opener + 1));
                opener + 1
            } else {
                let closing = line
                    .tokens
                    .iter()
                    .take_while(|(_, t, _)| {
                        matches!(t, Token::RParen | Token::RBracket | Token::RBrace)
                    })
                    .count();
                match bracket_depth(&contexts, closing) {
                    0 if contexts.is_empty()
                        || matches!(contexts.last(), Some((Context::Block { .. }, _))) =>
                    {
                        while levels.len() > 1 && levels.last().is_some_and(|l| l.0 > line.width) {
                            levels.pop();
                        }
                        let (width, level) = levels.last().copied().unwrap_or((0, 0));
                        if width < line.width {
                            levels.push((line.width, level + 1));
                            level + 1
                        } else {
                            level
                        }
                    }
                    _ if left_block_at.is_some() => left_block_at.unwrap_or(0),
                    depth => top(&levels) + depth,
                }
            }
        };
        for _ in 0..level {
            out.push_str("    ");
        }
        line_levels.resize(number, 0);
        line_levels.push(level);
        if !line.tokens.is_empty() {
            lambda_header = write_tokens(source, &line.tokens, number, &mut contexts, &mut out);
            previous_ended_block = matches!(line.tokens.last(), Some((_, Token::Colon, _)));
            previous_width = line.width;
            previous_level = level;
        }
        if let Some((from, to)) = line.comment {
            if !line.tokens.is_empty() {
                out.push_str("  ");
            }
            out.push_str(&source[from..to]);
        }
        out.push('\n');
    }
    out
}

/// Ends an operand: what may stand before a call's `(`, an index's `[` or a binary operator.
fn ends_operand(token: &Token) -> bool {
    matches!(
        token,
        Token::Ident(_)
            | Token::Int(_)
            | Token::Float(_)
            | Token::Str(_)
            | Token::FStr(_)
            | Token::True
            | Token::False
            | Token::Nil
            | Token::Type
            | Token::RParen
            | Token::RBracket
            | Token::RBrace
            | Token::Question
            | Token::Ellipsis
    )
}

fn write_tokens(
    source: &str,
    tokens: &[(usize, &Token, usize)],
    number: usize,
    contexts: &mut Vec<(Context, usize)>,
    out: &mut String,
) -> Option<usize> {
    let mut previous: Option<&Token> = None;
    // The last token was a unary operator or a decorator's `@`: the next one attaches to it.
    let mut attach = false;
    // The last token closed a lambda's parameters; then its `:`, which a space follows.
    // A lambda's parameters closed (opened on this line, at this bracket depth) and its
    // header's `:` has not come yet; then that `:`.
    let mut lambda_closed: Option<(usize, usize)> = None;
    let mut lambda_colon: Option<usize> = None;
    let mut name_after_dot = false;
    // Inside a parameter list, the current parameter has an annotation.
    let mut annotated = false;
    for (start, token, end) in tokens {
        let token = *token;
        let inner = contexts.last().map(|(c, _)| *c);
        let unary = matches!(
            token,
            Token::Minus | Token::Plus | Token::Tilde | Token::Star | Token::StarStar
        ) && !previous.is_some_and(ends_operand);
        // A keyword after `.` is an attribute's name (`os.spawn(..)`, `re.match(..)`).
        let name = Token::Ident(String::new());
        let prev = if name_after_dot {
            Some(&name)
        } else {
            previous
        };
        let space = match prev {
            None => false,
            Some(_) if attach => false,
            Some(_) if lambda_colon.is_some() => true,
            // An annotated parameter's default is spaced (`punct: str = "!"`), as PEP 8 has it.
            Some(_)
                if annotated && (*token == Token::Assign || previous == Some(&Token::Assign)) =>
            {
                true
            }
            Some(prev) => space_between(prev, token, inner),
        };
        if space {
            out.push(' ');
        }
        out.push_str(&source[*start..*end]);
        attach = unary || *token == Token::At;
        name_after_dot = previous == Some(&Token::Dot);
        match token {
            Token::Colon => {
                annotated = matches!(inner, Some(Context::Paren | Context::LambdaParams));
            }
            Token::Comma | Token::LParen | Token::RParen => annotated = false,
            _ => {}
        }
        // The header's `:` may come after a return type (`fn(job) -> nil:`).
        lambda_colon = None;
        if let Some((line, depth)) = lambda_closed {
            if *token == Token::Colon && contexts.len() == depth {
                lambda_colon = Some(line);
                lambda_closed = None;
            } else if *token == Token::Comma && contexts.len() == depth {
                lambda_closed = None;
            }
        }
        match token {
            Token::LParen if previous == Some(&Token::Fn) => {
                contexts.push((Context::LambdaParams, number));
            }
            Token::LParen => contexts.push((Context::Paren, number)),
            Token::LBracket => contexts.push((Context::Bracket, number)),
            Token::LBrace => contexts.push((Context::Brace, number)),
            Token::RParen | Token::RBracket | Token::RBrace => {
                while let Some((Context::Block { .. }, _)) = contexts.last() {
                    contexts.pop();
                }
                match contexts.pop() {
                    Some((Context::LambdaParams, line)) => {
                        lambda_closed = Some((line, contexts.len()))
                    }
                    _ if lambda_closed.is_some_and(|(_, depth)| contexts.len() < depth) => {
                        lambda_closed = None;
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        previous = Some(token);
    }
    lambda_colon
}

/// Whether one space separates `prev` and `cur` (`inner`: the innermost bracket or block).
fn space_between(prev: &Token, cur: &Token, inner: Option<Context>) -> bool {
    use Token as T;
    let keyword_argument = matches!(inner, Some(Context::Paren | Context::LambdaParams));
    match (prev, cur) {
        (_, T::Comma | T::RParen | T::RBracket | T::RBrace | T::Question) => false,
        (T::LParen | T::LBracket | T::LBrace, _) => false,
        (_, T::Dot) | (T::Dot, _) => false,
        (_, T::Colon) => false,
        (T::Colon, _) => !matches!(inner, Some(Context::Bracket)),
        (T::Comma, _) => true,
        (T::Assign, _) | (_, T::Assign) => !keyword_argument,
        (T::Fn, T::LParen) => false,
        (prev, T::LParen | T::LBracket) => !ends_operand(prev),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(source: &str) -> String {
        match format(source) {
            Ok(text) => text,
            Err(e) => panic!("{source:?}: {e:?}"),
        }
    }

    #[test]
    fn spacing_is_canonical() {
        assert_eq!(fmt("x=1+2*-3\n"), "x = 1 + 2 * -3\n");
        assert_eq!(
            fmt("print( a ,b[ 1 : 2 ],f(x = 1) )\n"),
            "print(a, b[1:2], f(x=1))\n"
        );
        assert_eq!(
            fmt("d = {'a':1 , 'b' : [1,2]}\n"),
            "d = {'a': 1, 'b': [1, 2]}\n"
        );
        assert_eq!(
            fmt("fn  f( a:int , *args , **kw )->int :\n  return -a\n"),
            "fn f(a: int, *args, **kw) -> int:\n    return -a\n"
        );
        assert_eq!(
            fmt("t = 60 .seconds\ny = x?.z\n"),
            "t = 60.seconds\ny = x?.z\n"
        );
        assert_eq!(
            fmt("p = os.spawn (['a']) or re.match ('x')\n"),
            "p = os.spawn(['a']) or re.match('x')\n"
        );
        assert_eq!(
            fmt("fn g(a=1, b: str='x'):\n pass\n"),
            "fn g(a=1, b: str = 'x'):\n    pass\n"
        );
        assert_eq!(
            fmt("x = f([\n  1,\n  2])\ny = g(a,\n         b)\n"),
            "x = f([\n    1,\n    2])\ny = g(a,\n    b)\n"
        );
        assert_eq!(
            fmt("@env( 'PORT' )\nfn g():\n pass\n"),
            "@env('PORT')\nfn g():\n    pass\n"
        );
        assert_eq!(
            fmt("if not(a) and b in [ 1 ]:\n        pass\n"),
            "if not (a) and b in [1]:\n    pass\n"
        );
    }

    #[test]
    fn comments_blank_lines_and_lambda_blocks_are_kept() {
        let source = "\n\n# lead\nx = 1   # one\nfn f():\n  # first\n  pass\n\n\n\nserver.route('GET', '/', fn(req) :\n   y=1\n   # inside\n   return y\n)\n\n";
        assert_eq!(
            fmt(source),
            "# lead\nx = 1  # one\nfn f():\n    # first\n    pass\n\nserver.route('GET', '/', fn(req):\n    y = 1\n    # inside\n    return y\n)\n"
        );
    }

    #[test]
    fn strings_are_copied_as_written() {
        let source = "s = \"\"\"a\n   b  \n\"\"\" + r'\\d+'  +  f\"{x:>4}\"\n";
        assert_eq!(
            fmt(source),
            "s = \"\"\"a\n   b  \n\"\"\" + r'\\d+' + f\"{x:>4}\"\n"
        );
    }

    #[test]
    fn formatting_twice_changes_nothing() {
        let source = "fn main():\n  for i in range(3):\n      if i%2==0 :\n         print(i)\n  x = [ fn(a):a*2 ]\n";
        let once = fmt(source);
        assert!(once.contains("x = [fn(a): a * 2]"), "{once}");
        assert_eq!(fmt(&once), once);
    }

    #[test]
    fn code_that_does_not_parse_is_refused() {
        assert!(matches!(format("x = (1,\n"), Err(FormatError::Syntax(_))));
    }
}
