//! The tokens of cn: what the lexer produces and the grammar consumes.
//!
//! One enum serves both stages. The logos attributes describe the raw tokens; `Indent`, `Dedent`
//! and the statement-ending `Newline` are produced by the layout pass (the raw `Newline` is the
//! bare line break the layout pass turns into them). `Display` is a phrase a person reads, because
//! the parser's "expected ..." messages are built from it.

use std::fmt;

use logos::Logos;

use super::ast::FStrPart;
use super::lexer::{self, LexExtras};

/// One token. Literal tokens carry their value, already decoded (escapes processed, digits
/// parsed); f-strings carry their parts with the embedded expressions already parsed.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(extras = LexExtras)]
#[logos(skip r"[ \t\r\x0C\u{FEFF}]+")]
#[logos(skip r"#[^\n]*")]
pub enum Token {
    // Layout. The raw lexer yields `Newline` for every line break; the layout pass drops the ones
    // that do not end a statement and adds `Indent` / `Dedent`.
    /// End of a logical line.
    #[token("\n")]
    Newline,
    /// Start of an indented block.
    Indent,
    /// End of an indented block.
    Dedent,

    // Literals and names.
    /// A name; Unicode letters are allowed.
    #[regex(r"[\p{XID_Start}_][\p{XID_Continue}]*", |lex| lex.slice().to_owned())]
    Ident(String),
    /// An integer literal (decimal, hex, octal or binary, `_` separators allowed).
    #[regex(r"[0-9][0-9_]*", |lex| lexer::int(lex, 10))]
    #[regex(r"0[xX][0-9a-fA-F_]+", |lex| lexer::int(lex, 16))]
    #[regex(r"0[oO][0-7_]+", |lex| lexer::int(lex, 8))]
    #[regex(r"0[bB][01_]+", |lex| lexer::int(lex, 2))]
    Int(i64),
    /// A float literal. A digit must follow the dot, so `60.seconds` is an int and an attribute.
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9][0-9_]*)?", lexer::float)]
    #[regex(r"[0-9][0-9_]*[eE][+-]?[0-9][0-9_]*", lexer::float)]
    Float(f64),
    /// A string literal, escapes processed.
    #[token("\"", |lex| lexer::string(lex, "\""))]
    #[token("'", |lex| lexer::string(lex, "'"))]
    #[token("\"\"\"", |lex| lexer::string(lex, "\"\"\""))]
    #[token("'''", |lex| lexer::string(lex, "'''"))]
    // Raw strings (`r"\d+"`): backslashes are kept as written, for regular expressions and
    // Windows paths; a backslash still keeps the quote after it from ending the string.
    #[token("r\"", |lex| lexer::raw_string(lex, "\""))]
    #[token("r'", |lex| lexer::raw_string(lex, "'"))]
    #[token("r\"\"\"", |lex| lexer::raw_string(lex, "\"\"\""))]
    #[token("r'''", |lex| lexer::raw_string(lex, "'''"))]
    Str(String),
    /// An f-string, split into literal text and parsed expressions.
    #[token("f\"", |lex| lexer::fstring(lex, "\""))]
    #[token("f'", |lex| lexer::fstring(lex, "'"))]
    #[token("f\"\"\"", |lex| lexer::fstring(lex, "\"\"\""))]
    #[token("f'''", |lex| lexer::fstring(lex, "'''"))]
    FStr(Vec<FStrPart>),

    // Keywords.
    /// `fn`.
    #[token("fn")]
    Fn,
    /// `return`.
    #[token("return")]
    Return,
    /// `if`.
    #[token("if")]
    If,
    /// `elif`.
    #[token("elif")]
    Elif,
    /// `else`.
    #[token("else")]
    Else,
    /// `while`.
    #[token("while")]
    While,
    /// `for`.
    #[token("for")]
    For,
    /// `in`.
    #[token("in")]
    In,
    /// `is` (identity).
    #[token("is")]
    Is,
    /// `break`.
    #[token("break")]
    Break,
    /// `continue`.
    #[token("continue")]
    Continue,
    /// `pass`.
    #[token("pass")]
    Pass,
    /// `import`.
    #[token("import")]
    Import,
    /// `as`.
    #[token("as")]
    As,
    /// `type` (also an ordinary name in expressions: `type(x)`).
    #[token("type")]
    Type,
    /// `enum`.
    #[token("enum")]
    Enum,
    /// `match`.
    #[token("match")]
    Match,
    /// `case`.
    #[token("case")]
    Case,
    /// `defer`.
    #[token("defer")]
    Defer,
    /// `assert`.
    #[token("assert")]
    Assert,
    /// `spawn`.
    #[token("spawn")]
    Spawn,
    /// `concurrent`.
    #[token("concurrent")]
    Concurrent,
    /// `and`.
    #[token("and")]
    And,
    /// `or`.
    #[token("or")]
    Or,
    /// `not`.
    #[token("not")]
    Not,
    /// `true`.
    #[token("true")]
    True,
    /// `false`.
    #[token("false")]
    False,
    /// `nil`.
    #[token("nil")]
    Nil,

    // Punctuation.
    /// `(`.
    #[token("(")]
    LParen,
    /// `)`.
    #[token(")")]
    RParen,
    /// `[`.
    #[token("[")]
    LBracket,
    /// `]`.
    #[token("]")]
    RBracket,
    /// `{`.
    #[token("{")]
    LBrace,
    /// `}`.
    #[token("}")]
    RBrace,
    /// `,`.
    #[token(",")]
    Comma,
    /// `:`.
    #[token(":")]
    Colon,
    /// `.`.
    #[token(".")]
    Dot,
    /// `...` (a placeholder statement, same as `pass`).
    #[token("...")]
    Ellipsis,
    /// `->`.
    #[token("->")]
    Arrow,
    /// `=`.
    #[token("=")]
    Assign,
    /// `+=`.
    #[token("+=")]
    PlusAssign,
    /// `-=`.
    #[token("-=")]
    MinusAssign,
    /// `*=`.
    #[token("*=")]
    StarAssign,
    /// `/=`.
    #[token("/=")]
    SlashAssign,
    /// `//=`.
    #[token("//=")]
    SlashSlashAssign,
    /// `%=`.
    #[token("%=")]
    PercentAssign,
    /// `&=`.
    #[token("&=")]
    AmpAssign,
    /// `|=`.
    #[token("|=")]
    PipeAssign,
    /// `^=`.
    #[token("^=")]
    CaretAssign,
    /// `<<=`.
    #[token("<<=")]
    ShlAssign,
    /// `>>=`.
    #[token(">>=")]
    ShrAssign,
    /// `&&`: not an operator; the lexer reports it and reads `and` (C and JavaScript habit).
    #[token("&&")]
    AmpAmp,
    /// `||`: reported, read as `or`.
    #[token("||")]
    PipePipe,
    /// `&` (bitwise and).
    #[token("&")]
    Amp,
    /// `^` (bitwise exclusive or).
    #[token("^")]
    Caret,
    /// `~` (bitwise not).
    #[token("~")]
    Tilde,
    /// `<<`.
    #[token("<<")]
    Shl,
    /// `>>`.
    #[token(">>")]
    Shr,
    /// `+`.
    #[token("+")]
    Plus,
    /// `-`.
    #[token("-")]
    Minus,
    /// `*`.
    #[token("*")]
    Star,
    /// `/`.
    #[token("/")]
    Slash,
    /// `//`.
    #[token("//")]
    SlashSlash,
    /// `%`.
    #[token("%")]
    Percent,
    /// `**`.
    #[token("**")]
    StarStar,
    /// `==`.
    #[token("==")]
    EqEq,
    /// `!=`.
    #[token("!=")]
    NotEq,
    /// `<`.
    #[token("<")]
    Lt,
    /// `<=`.
    #[token("<=")]
    Le,
    /// `>`.
    #[token(">")]
    Gt,
    /// `>=`.
    #[token(">=")]
    Ge,
    /// `|` (only in type unions and pattern alternatives).
    #[token("|")]
    Pipe,
    /// `?` (postfix try).
    #[token("?")]
    Question,
    /// `@` (decorators).
    #[token("@")]
    At,
}

/// Every keyword, in the order of the table below (for completion in the REPL and editors).
pub fn keywords() -> impl Iterator<Item = &'static str> {
    FIXED
        .iter()
        .map(|(spelling, _)| *spelling)
        .filter(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
}

/// Keywords and punctuation by spelling, for turning the parser's terminal names back into
/// tokens (and so into `Display` phrases).
const FIXED: &[(&str, Token)] = &[
    ("fn", Token::Fn),
    ("return", Token::Return),
    ("if", Token::If),
    ("elif", Token::Elif),
    ("else", Token::Else),
    ("while", Token::While),
    ("for", Token::For),
    ("in", Token::In),
    ("is", Token::Is),
    ("break", Token::Break),
    ("continue", Token::Continue),
    ("pass", Token::Pass),
    ("import", Token::Import),
    ("as", Token::As),
    ("type", Token::Type),
    ("enum", Token::Enum),
    ("match", Token::Match),
    ("case", Token::Case),
    ("defer", Token::Defer),
    ("assert", Token::Assert),
    ("spawn", Token::Spawn),
    ("concurrent", Token::Concurrent),
    ("and", Token::And),
    ("or", Token::Or),
    ("not", Token::Not),
    ("true", Token::True),
    ("false", Token::False),
    ("nil", Token::Nil),
    ("(", Token::LParen),
    (")", Token::RParen),
    ("[", Token::LBracket),
    ("]", Token::RBracket),
    ("{", Token::LBrace),
    ("}", Token::RBrace),
    (",", Token::Comma),
    (":", Token::Colon),
    (".", Token::Dot),
    ("...", Token::Ellipsis),
    ("->", Token::Arrow),
    ("=", Token::Assign),
    ("+=", Token::PlusAssign),
    ("-=", Token::MinusAssign),
    ("*=", Token::StarAssign),
    ("/=", Token::SlashAssign),
    ("//=", Token::SlashSlashAssign),
    ("%=", Token::PercentAssign),
    ("&=", Token::AmpAssign),
    ("|=", Token::PipeAssign),
    ("^=", Token::CaretAssign),
    ("<<=", Token::ShlAssign),
    (">>=", Token::ShrAssign),
    ("&&", Token::AmpAmp),
    ("||", Token::PipePipe),
    ("&", Token::Amp),
    ("^", Token::Caret),
    ("~", Token::Tilde),
    ("<<", Token::Shl),
    (">>", Token::Shr),
    ("+", Token::Plus),
    ("-", Token::Minus),
    ("*", Token::Star),
    ("/", Token::Slash),
    ("//", Token::SlashSlash),
    ("%", Token::Percent),
    ("**", Token::StarStar),
    ("==", Token::EqEq),
    ("!=", Token::NotEq),
    ("<", Token::Lt),
    ("<=", Token::Le),
    (">", Token::Gt),
    (">=", Token::Ge),
    ("|", Token::Pipe),
    ("?", Token::Question),
    ("@", Token::At),
];

impl Token {
    /// The source spelling of a keyword or punctuation token; `None` for tokens with a value and
    /// for layout tokens.
    pub fn spelling(&self) -> Option<&'static str> {
        FIXED.iter().find(|(_, t)| t == self).map(|(s, _)| *s)
    }

    /// True for the keywords (`fn`, `and`, `true`, ...).
    pub fn is_keyword(&self) -> bool {
        self.spelling()
            .is_some_and(|s| s.starts_with(|c: char| c.is_ascii_alphabetic()))
    }

    /// The phrase for a terminal as the grammar names it: `"fn"`, `"("`, `Ident`, `NEWLINE`.
    /// Used to turn lalrpop's "expected" lists into readable text.
    pub fn describe_terminal(name: &str) -> String {
        if let Some(spelling) = name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
            // lalrpop escapes the terminal like a Rust string literal.
            let spelling = spelling.replace("\\\"", "\"").replace("\\\\", "\\");
            if let Some((_, token)) = FIXED.iter().find(|(s, _)| *s == spelling) {
                return token.to_string();
            }
            return format!("`{spelling}`");
        }
        match name {
            "Ident" => Token::Ident(String::new()).to_string(),
            "Int" => Token::Int(0).to_string(),
            "Float" => Token::Float(0.0).to_string(),
            "Str" => Token::Str(String::new()).to_string(),
            "FStr" => Token::FStr(Vec::new()).to_string(),
            "NEWLINE" => Token::Newline.to_string(),
            "INDENT" => Token::Indent.to_string(),
            "DEDENT" => Token::Dedent.to_string(),
            other => other.to_owned(),
        }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Newline => f.write_str("end of line"),
            Token::Indent => f.write_str("new indented block"),
            Token::Dedent => f.write_str("end of indented block"),
            Token::Ident(_) => f.write_str("identifier"),
            Token::Int(_) => f.write_str("integer"),
            Token::Float(_) => f.write_str("float"),
            Token::Str(_) => f.write_str("string"),
            Token::FStr(_) => f.write_str("f-string"),
            other if other.is_keyword() => {
                write!(f, "keyword `{}`", other.spelling().unwrap_or_default())
            }
            other => write!(f, "`{}`", other.spelling().unwrap_or_default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_reads_as_a_phrase() {
        assert_eq!(Token::Colon.to_string(), "`:`");
        assert_eq!(Token::Fn.to_string(), "keyword `fn`");
        assert_eq!(Token::Indent.to_string(), "new indented block");
        assert_eq!(Token::Ident("x".into()).to_string(), "identifier");
    }

    #[test]
    fn terminal_names_map_to_phrases() {
        assert_eq!(Token::describe_terminal("\"fn\""), "keyword `fn`");
        assert_eq!(Token::describe_terminal("\")\""), "`)`");
        assert_eq!(Token::describe_terminal("NEWLINE"), "end of line");
        assert_eq!(Token::describe_terminal("Ident"), "identifier");
    }
}
