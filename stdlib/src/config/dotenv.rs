//! The dotenv format, for `cn run --env-file .env` and `config.load(secrets_file=...)`.
//!
//! One `KEY=value` per line, as Docker's `--env-file` and the dotenv libraries read it:
//!
//! - blank lines and lines starting with `#` are skipped; `export KEY=value` is allowed, so a
//!   file can also be `source`d by a shell;
//! - keys are letters, digits, `_` and `.`, not starting with a digit; spaces around `=` are
//!   ignored;
//! - an unquoted value runs to the end of the line, without surrounding spaces and without a
//!   ` # comment` after it;
//! - `'single quotes'` keep everything literally; `"double quotes"` understand `\n`, `\t`,
//!   `\r`, `\"`, `\\` and `\$`, and both kinds of quotes may span several lines;
//! - values are never expanded (`$HOME` stays `$HOME`), so what is written is what arrives.
//!
//! A key given twice keeps its last value. Every malformed line is reported, each with its
//! line number, rather than only the first.

use std::path::Path;

/// One `KEY=value` of a dotenv file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The variable name.
    pub key: String,
    /// The value, unquoted and unescaped.
    pub value: String,
    /// The 1-based line the entry starts on.
    pub line: usize,
}

/// Parses dotenv `text`. Errors are `line N: problem`, one per malformed line.
pub fn parse(text: &str) -> Result<Vec<Entry>, Vec<String>> {
    let mut parser = Parser {
        lines: text.lines().enumerate().peekable(),
        entries: Vec::new(),
        errors: Vec::new(),
    };
    while let Some((index, line)) = parser.lines.next() {
        if let Err(problem) = parser.line(index + 1, line) {
            parser.errors.push(format!("line {}: {problem}", index + 1));
        }
    }
    if parser.errors.is_empty() {
        Ok(parser.entries)
    } else {
        Err(parser.errors)
    }
}

/// Reads and parses the dotenv file at `path`; every error names the file (`.env:3: ...`).
pub fn read_file(path: &Path) -> Result<Vec<Entry>, Vec<String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    parse(&text).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| match e.strip_prefix("line ") {
                Some(rest) => format!("{}:{rest}", path.display()),
                None => format!("{}: {e}", path.display()),
            })
            .collect()
    })
}

struct Parser<'a, I: Iterator<Item = (usize, &'a str)>> {
    lines: std::iter::Peekable<I>,
    entries: Vec<Entry>,
    errors: Vec<String>,
}

impl<'a, I: Iterator<Item = (usize, &'a str)>> Parser<'a, I> {
    fn line(&mut self, number: usize, line: &'a str) -> Result<(), String> {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            return Ok(());
        }
        let line = line
            .strip_prefix("export")
            .filter(|rest| rest.starts_with([' ', '\t']))
            .map_or(line, str::trim_start);
        let Some((key, rest)) = line.split_once('=') else {
            return Err(format!("expected KEY=value, got {:?}", line.trim_end()));
        };
        let key = key.trim_end();
        if !valid_key(key) {
            return Err(format!(
                "{key:?} is not a valid variable name (letters, digits, _ and ., not starting \
                 with a digit)"
            ));
        }
        let rest = rest.trim_start();
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'')) => self.quoted(quote, &rest[1..])?,
            _ => unquoted(rest),
        };
        self.entries.push(Entry {
            key: key.to_string(),
            value,
            line: number,
        });
        Ok(())
    }

    /// A quoted value starting after its opening quote; continues onto the following lines
    /// until the closing quote.
    fn quoted(&mut self, quote: char, first: &'a str) -> Result<String, String> {
        let mut value = String::new();
        let mut text = first;
        loop {
            let mut chars = text.char_indices();
            while let Some((i, c)) = chars.next() {
                if c == quote {
                    return trailing(&text[i + 1..]).map(|()| value);
                }
                if c == '\\' && quote == '"' {
                    let Some((_, escaped)) = chars.next() else {
                        return Err("a `\\` at the end of a line (to continue a value, \
                                    keep the quotes open instead)"
                            .into());
                    };
                    value.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '"' | '\\' | '$' => escaped,
                        other => return Err(format!("unknown escape \\{other} in a value")),
                    });
                } else {
                    value.push(c);
                }
            }
            match self.lines.next() {
                Some((_, next)) => {
                    value.push('\n');
                    text = next;
                }
                None => {
                    let kind = if quote == '"' { "double" } else { "single" };
                    return Err(format!("the {kind}-quoted value is never closed"));
                }
            }
        }
    }
}

/// After a closing quote only spaces and a comment may follow.
fn trailing(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!("unexpected {rest:?} after the closing quote"))
    }
}

/// An unquoted value: up to a ` #` comment, without surrounding spaces.
fn unquoted(rest: &str) -> String {
    let end = rest
        .char_indices()
        .find(|&(i, c)| c == '#' && (i == 0 || rest[..i].ends_with([' ', '\t'])))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].trim_end().to_string()
}

fn valid_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .unwrap_or_else(|e| panic!("{e:?}"))
            .into_iter()
            .map(|e| (e.key, e.value))
            .collect()
    }

    fn pair(key: &str, value: &str) -> (String, String) {
        (key.into(), value.into())
    }

    #[test]
    fn plain_lines_comments_and_export() {
        let text = "# settings\n\nPORT=8080\nexport HOST = example.org  # the host\nEMPTY=\nURL=http://x/#frag\n";
        assert_eq!(
            pairs(text),
            [
                pair("PORT", "8080"),
                pair("HOST", "example.org"),
                pair("EMPTY", ""),
                pair("URL", "http://x/#frag"),
            ]
        );
    }

    #[test]
    fn quotes_and_escapes() {
        let text =
            "A=\"a \\\"b\\\"\\n\\$HOME\" # note\nB='c \\n $HOME'\nC=\"line1\nline2\"\nexported=1\n";
        assert_eq!(
            pairs(text),
            [
                pair("A", "a \"b\"\n$HOME"),
                pair("B", "c \\n $HOME"),
                pair("C", "line1\nline2"),
                pair("exported", "1"),
            ]
        );
    }

    #[test]
    fn entries_remember_their_line() {
        let entries = parse("\nA=\"x\ny\"\nB=2\n").unwrap_or_default();
        let lines: Vec<usize> = entries.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 4]);
    }

    #[test]
    fn every_bad_line_is_reported() {
        let text = "GOOD=1\njust words\n1BAD=x\nQ=\"x\" y\nE=\"\\q\"\nOPEN='never\n";
        assert_eq!(
            parse(text).expect_err("must fail"),
            [
                "line 2: expected KEY=value, got \"just words\"",
                "line 3: \"1BAD\" is not a valid variable name (letters, digits, _ and ., not \
                 starting with a digit)",
                "line 4: unexpected \"y\" after the closing quote",
                "line 5: unknown escape \\q in a value",
                "line 6: the single-quoted value is never closed",
            ]
        );
    }

    #[test]
    fn file_errors_name_the_file() {
        let missing = read_file(Path::new("/nonexistent/.env")).expect_err("must fail");
        assert!(missing[0].starts_with("cannot read /nonexistent/.env: "));
    }
}
