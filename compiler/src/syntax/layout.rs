//! The layout pass: turns line breaks and indentation into NEWLINE / INDENT / DEDENT tokens.
//!
//! It owns an indent stack, the bracket depth and a token queue, like Python's tokenizer, with one
//! addition: block lambdas. Inside brackets line breaks are ignored, except after the `:` that
//! ends a lambda header (`fn(params) [-> T]:`) when a line break follows. There a new layout
//! context starts, with its own indent stack and bracket depth 0, and ends at the dedent below the
//! lambda body; then the enclosing context resumes where it was (usually inside a call, so the
//! closing `)` comes next). A block lambda at statement level (`f = fn(x):`) is followed by a
//! NEWLINE after its DEDENT so the statement it belongs to ends like any other.
//!
//! The pass also enforces the nesting limits that keep later recursive stages off the end of the
//! stack; breaking one of them stops the pass (the rest of the file is not parsed).

use super::ast::Span;
use super::token::Token;
use crate::Diagnostic;

/// The deepest bracket nesting accepted.
pub const MAX_BRACKET_DEPTH: usize = 200;
/// The deepest block nesting accepted (indentation levels, lambda bodies included).
pub const MAX_INDENT_DEPTH: usize = 100;
/// The longest run of prefix operators (`- - x`, `not not x`).
pub const MAX_PREFIX_RUN: usize = 200;
/// The most operators one expression may chain before its tree gets too deep to walk
/// recursively (`a + b + ...`, `a.b.c...`); commas and statement ends reset the count.
pub const MAX_CHAIN: usize = 1000;

/// Tokens after layout, with the errors found.
pub struct Laid {
    /// The tokens for the parser.
    pub tokens: Vec<(usize, Token, usize)>,
    /// Indentation and nesting errors.
    pub diags: Vec<Diagnostic>,
    /// A nesting limit was broken: `tokens` stops there and must not be parsed.
    pub fatal: bool,
    /// Where the outermost bracket still open at the end starts (reported here; the parser's
    /// end-of-file error would say the same thing less precisely).
    pub unclosed: Option<usize>,
}

/// Runs the layout pass over raw tokens of `source`, which starts at byte `base` of the file.
/// A `fragment` (an f-string field) is laid out as if inside brackets and ends with a NEWLINE.
pub fn layout(source: &str, base: usize, raw: Vec<(usize, Token, usize)>, fragment: bool) -> Laid {
    let mut pass = Layout::new(source, base, fragment);
    let mut after_break = true;
    let mut last = None;
    for (start, token, _) in &raw {
        if *token == Token::Newline {
            after_break = true;
            continue;
        }
        if std::mem::take(&mut after_break) {
            pass.line_firsts.push(*start);
            pass.line_headers.push(last == Some(&Token::Colon));
        }
        last = Some(token);
    }
    // `line_headers[i]` tells whether the line before line `i` ends in `:`; shift it so it is
    // about line `i` itself.
    if !pass.line_headers.is_empty() {
        pass.line_headers.remove(0);
        pass.line_headers.push(last == Some(&Token::Colon));
    }
    for (start, token, end) in raw {
        if token == Token::Newline {
            // Whether the break matters is decided when the next line's first token arrives.
            pass.at_line_start = true;
            continue;
        }
        if let Err(diag) = pass.token(start, token, end) {
            pass.diags.push(diag);
            return Laid {
                tokens: pass.out,
                diags: pass.diags,
                fatal: true,
                unclosed: None,
            };
        }
    }
    pass.finish();
    Laid {
        tokens: pass.out,
        diags: pass.diags,
        fatal: false,
        unclosed: pass.unclosed,
    }
}

/// One indentation level of a context.
#[derive(Clone, Copy)]
struct Level {
    col: usize,
    /// Pushed without an INDENT (the base of a lambda context), so popped without a DEDENT.
    phantom: bool,
    /// A line that matched no level was taken as part of this one (reported once).
    misaligned: bool,
}

/// Where a lambda header `fn(...) [-> T]:` is in its scan.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// Inside the parameter list.
    Params,
    /// After `)`: waiting for the `:` (an arrow and return type may come first).
    AfterParams,
}

#[derive(Clone, Copy)]
struct Header {
    /// Bracket depth outside the parameter list.
    depth: usize,
    stage: Stage,
    /// Indentation of the line holding `fn`; the body must be deeper.
    line_indent: usize,
}

/// A layout context: the whole file, or one block-lambda body.
struct Ctx {
    levels: Vec<Level>,
    /// Open brackets in this context.
    depth: usize,
    headers: Vec<Header>,
    lambda: bool,
}

struct Layout<'a> {
    src: &'a str,
    base: usize,
    out: Vec<(usize, Token, usize)>,
    diags: Vec<Diagnostic>,
    ctxs: Vec<Ctx>,
    total_depth: usize,
    total_levels: usize,
    /// Spans and spellings of the open brackets, innermost last (all contexts).
    open_brackets: Vec<(usize, usize, Token)>,
    /// A line break was seen since the last token (the next token starts a line).
    at_line_start: bool,
    /// Indentation of the current physical line.
    line_indent: usize,
    /// End of the last real token, where a NEWLINE is placed.
    last_end: usize,
    prev_fn: bool,
    /// The last token was the `:` of a lambda header whose `fn` line has this indentation.
    lambda_colon: Option<usize>,
    tab_reported: bool,
    /// Operator counts per open bracket (see [`MAX_CHAIN`]), and their sum.
    chain: Vec<usize>,
    chain_sum: usize,
    prefix_run: usize,
    fragment: bool,
    /// Offsets of the first token of every line, to look one line ahead.
    line_firsts: Vec<usize>,
    /// Whether each of those lines ends in `:` (opens a block).
    line_headers: Vec<bool>,
    /// A bracket was left open at the end of the file (already reported).
    unclosed: Option<usize>,
}

impl<'a> Layout<'a> {
    fn new(src: &'a str, base: usize, fragment: bool) -> Layout<'a> {
        let depth = usize::from(fragment);
        let ctx = Ctx {
            levels: vec![Level {
                col: 0,
                phantom: false,
                misaligned: false,
            }],
            depth,
            headers: Vec::new(),
            lambda: false,
        };
        Layout {
            src,
            base,
            out: Vec::new(),
            diags: Vec::new(),
            ctxs: vec![ctx],
            total_depth: depth,
            total_levels: 0,
            open_brackets: Vec::new(),
            at_line_start: true,
            line_indent: 0,
            last_end: base,
            prev_fn: false,
            lambda_colon: None,
            tab_reported: false,
            chain: vec![0],
            chain_sum: 0,
            prefix_run: 0,
            fragment,
            line_firsts: Vec::new(),
            line_headers: Vec::new(),
            unclosed: None,
        }
    }

    fn ctx(&mut self) -> &mut Ctx {
        self.ctxs
            .last_mut()
            .expect("the file context is never popped")
    }

    fn emit(&mut self, start: usize, token: Token, end: usize) {
        self.out.push((start, token, end));
    }

    /// Emits a layout token at the end of the last real token, so that spans computed from it
    /// (statements, blocks) do not stretch over the blank lines and comments that follow.
    fn emit_at_last_end(&mut self, token: Token) {
        self.emit(self.last_end, token, self.last_end);
    }

    /// Ends the current statement unless it already ended.
    fn emit_newline(&mut self) {
        match self.out.last() {
            None | Some((_, Token::Newline | Token::Indent | Token::Dedent, _)) => {}
            Some(_) => {
                self.emit(self.last_end, Token::Newline, self.last_end);
                self.reset_chain();
            }
        }
    }

    fn reset_chain(&mut self) {
        if let Some(top) = self.chain.last_mut() {
            self.chain_sum -= *top;
            *top = 0;
        }
    }

    /// The indentation column of the line whose first token starts at `tok_start` (a tab moves
    /// to the next multiple of 8), and the offset of its first tab within the line, if any.
    fn indent_of(&self, tok_start: usize) -> (usize, Option<usize>) {
        let rel = tok_start - self.base;
        let line_begin = self.src[..rel].rfind('\n').map_or(0, |i| i + 1);
        let mut col = 0;
        let mut tab = None;
        for (i, c) in self.src[line_begin..rel].char_indices() {
            match c {
                '\t' => {
                    tab.get_or_insert(i);
                    col = (col / 8 + 1) * 8;
                }
                // Form feeds and a byte-order mark take no room.
                '\x0C' | '\u{FEFF}' => {}
                _ => col += 1,
            }
        }
        (col, tab)
    }

    /// Handles the start of a line whose first token starts at `tok_start`.
    fn line_start(&mut self, tok_start: usize) -> Result<(), Diagnostic> {
        let (col, tab) = self.indent_of(tok_start);
        let rel = tok_start - self.base;
        let line_begin = self.src[..rel].rfind('\n').map_or(0, |i| i + 1);
        self.line_indent = col;
        let significant = self.lambda_colon.is_some() || self.ctx().depth == 0;
        if let (Some(i), true, false) = (tab, significant, self.tab_reported) {
            self.tab_reported = true;
            let at = self.base + line_begin + i;
            self.diags.push(
                Diagnostic::new(
                    "E0002",
                    "tabs are not allowed in indentation",
                    Span::new(at, at + 1),
                )
                .with_label("tab")
                .with_help("indent with spaces"),
            );
        }
        let indent_span = (self.base + line_begin, tok_start);
        if let Some(header_indent) = self.lambda_colon.take() {
            if col > header_indent {
                return self.open_lambda(header_indent, col, indent_span);
            }
            // The body is not indented: end the header's line and let the parser say that a
            // block was expected.
            self.emit_newline();
        }
        if self.ctx().depth > 0 {
            return Ok(());
        }
        self.ctx().headers.clear();
        self.emit_newline();
        self.indent_to(col, indent_span)
    }

    fn open_lambda(
        &mut self,
        header_indent: usize,
        col: usize,
        span: (usize, usize),
    ) -> Result<(), Diagnostic> {
        self.emit_newline();
        self.push_level(span)?;
        self.ctxs.push(Ctx {
            levels: vec![
                Level {
                    col: header_indent,
                    phantom: true,
                    misaligned: false,
                },
                Level {
                    col,
                    phantom: false,
                    misaligned: false,
                },
            ],
            depth: 0,
            headers: Vec::new(),
            lambda: true,
        });
        self.chain.push(0);
        self.emit(span.0, Token::Indent, span.1);
        Ok(())
    }

    fn push_level(&mut self, span: (usize, usize)) -> Result<(), Diagnostic> {
        self.total_levels += 1;
        if self.total_levels > MAX_INDENT_DEPTH {
            return Err(
                Diagnostic::new("E0005", "nesting too deep", Span::new(span.0, span.1))
                    .with_label(format!("blocks nested more than {MAX_INDENT_DEPTH} deep")),
            );
        }
        Ok(())
    }

    /// Moves the current context to indentation `col` in normal (statement) mode.
    fn indent_to(&mut self, col: usize, span: (usize, usize)) -> Result<(), Diagnostic> {
        let top = self.ctx().levels.last().map_or(0, |l| l.col);
        if col > top {
            // An indent where no block may start is reported by the parser ("unexpected
            // indent"), which can then skip the whole indented block as one error.
            self.push_level(span)?;
            self.ctx().levels.push(Level {
                col,
                phantom: false,
                misaligned: false,
            });
            self.emit(span.0, Token::Indent, span.1);
            return Ok(());
        }
        let (is_header, next_line_col) = self.lookahead(span.1);
        let ctx = self.ctx();
        // A lambda body ends at (or left of) the indentation of the line that opened it.
        let closes_lambda = ctx.lambda && ctx.levels.first().is_some_and(|base| col <= base.col);
        let levels = &ctx.levels;
        let n = levels.len();
        let exact = levels.iter().rposition(|l| l.col == col);
        let target = match exact {
            _ if closes_lambda => 0,
            Some(i) => i,
            // Otherwise the shallowest level deeper than the line: it closes as few blocks as
            // possible, so the lines after it still find the blocks they belong to.
            None => levels.iter().position(|l| l.col > col).unwrap_or(n - 1),
        };
        // For a misaligned line, that level's block either goes on at the new column (its
        // first line was indented too far), or, when the next line goes back to the level's
        // column and this line opens no block of its own, this line is a stray that joins it.
        let stray = !is_header && next_line_col == Some(levels[target].col);
        let relabel = exact.is_none() && !stray;
        while self.ctx().levels.len() > target + 1 {
            let level = self.ctx().levels.pop();
            if level.is_some_and(|l| !l.phantom) {
                self.total_levels -= 1;
                self.emit_at_last_end(Token::Dedent);
            }
        }
        if closes_lambda {
            return self.close_lambda(col, span);
        }
        let level = &mut self.ctx().levels[target];
        if level.col != col && !level.misaligned {
            level.misaligned = true;
            if relabel {
                level.col = col;
            }
            self.diags.push(
                Diagnostic::new(
                    "E0002",
                    "unindent does not match any outer indentation level",
                    Span::new(span.0, span.1),
                )
                .with_label("this indentation matches no enclosing block"),
            );
        }
        Ok(())
    }

    /// For the line whose first token starts at `tok_start`: whether it ends in `:`, and the
    /// indentation of the line after it.
    fn lookahead(&self, tok_start: usize) -> (bool, Option<usize>) {
        let i = self.line_firsts.partition_point(|&s| s <= tok_start);
        let is_header = i.checked_sub(1).and_then(|h| self.line_headers.get(h)) == Some(&true);
        (
            is_header,
            self.line_firsts.get(i).map(|&s| self.indent_of(s).0),
        )
    }

    /// Ends a lambda context whose body has been dedented; the enclosing context continues
    /// with the line at indentation `col`.
    fn close_lambda(&mut self, col: usize, span: (usize, usize)) -> Result<(), Diagnostic> {
        self.pop_ctx();
        if self.ctx().depth == 0 {
            self.emit_at_last_end(Token::Newline);
            self.reset_chain();
            return self.indent_to(col, span);
        }
        Ok(())
    }

    /// Pops the top context, closing its open blocks.
    fn pop_ctx(&mut self) {
        if let Some(ctx) = self.ctxs.pop() {
            for _ in ctx.levels.iter().filter(|l| !l.phantom) {
                self.total_levels -= 1;
                self.emit_at_last_end(Token::Dedent);
            }
        }
        if self.chain.len() > 1 {
            let top = self.chain.pop().unwrap_or(0);
            self.chain_sum -= top;
        }
    }

    fn token(&mut self, start: usize, token: Token, end: usize) -> Result<(), Diagnostic> {
        if self.at_line_start {
            self.at_line_start = false;
            self.line_start(start)?;
        }
        // A lambda-header `:` not followed by a line break: a one-line lambda.
        self.lambda_colon = None;
        let after_fn = std::mem::take(&mut self.prev_fn);
        match token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                let depth = self.ctx().depth;
                if after_fn && token == Token::LParen {
                    let line_indent = self.line_indent;
                    self.ctx().headers.push(Header {
                        depth,
                        stage: Stage::Params,
                        line_indent,
                    });
                }
                self.count(start, end)?;
                self.ctx().depth += 1;
                self.total_depth += 1;
                if self.total_depth > MAX_BRACKET_DEPTH {
                    return Err(Diagnostic::new(
                        "E0005",
                        "nesting too deep",
                        Span::new(start, end),
                    )
                    .with_label(format!(
                        "brackets nested more than {MAX_BRACKET_DEPTH} deep"
                    )));
                }
                self.chain.push(0);
                self.open_brackets.push((start, end, token.clone()));
            }
            Token::RParen | Token::RBracket | Token::RBrace => {
                // A closing bracket on a block-lambda body line ends the body: `f(fn():` +
                // `    a())`.
                while self.ctx().lambda && self.ctx().depth == 0 {
                    self.emit_newline();
                    self.pop_ctx();
                    if self.ctx().depth == 0 {
                        self.emit_at_last_end(Token::Newline);
                    }
                }
                if self.ctx().depth > 0 {
                    self.ctx().depth -= 1;
                    self.total_depth -= 1;
                    self.open_brackets.pop();
                    if self.chain.len() > 1 {
                        let top = self.chain.pop().unwrap_or(0);
                        self.chain_sum -= top;
                    }
                    let ctx = self.ctx();
                    let depth = ctx.depth;
                    ctx.headers.retain(|h| h.depth <= depth);
                    if let Some(h) = ctx.headers.last_mut() {
                        if h.depth == depth && h.stage == Stage::Params && token == Token::RParen {
                            h.stage = Stage::AfterParams;
                        }
                    }
                }
            }
            Token::Colon => {
                let ctx = self.ctx();
                let depth = ctx.depth;
                if let Some(h) = ctx.headers.last().copied() {
                    if h.stage == Stage::AfterParams && h.depth == depth {
                        ctx.headers.pop();
                        self.lambda_colon = Some(h.line_indent);
                    }
                }
            }
            Token::Comma => self.reset_chain(),
            _ => {}
        }
        self.after_params_check(&token);
        match token {
            Token::Fn => {
                // `obj.fn(...)` is a method call, not a lambda.
                self.prev_fn = !matches!(self.out.last(), Some((_, Token::Dot, _)));
                self.count(start, end)?;
            }
            Token::Minus | Token::Plus | Token::Not | Token::Spawn => {
                self.prefix_run += 1;
                if self.prefix_run > MAX_PREFIX_RUN {
                    return Err(Diagnostic::new(
                        "E0005",
                        "nesting too deep",
                        Span::new(start, end),
                    )
                    .with_label(format!(
                        "more than {MAX_PREFIX_RUN} prefix operators in a row"
                    )));
                }
                self.count(start, end)?;
            }
            ref t if is_operator(t) => self.count(start, end)?,
            _ => {}
        }
        if !matches!(
            token,
            Token::Minus | Token::Plus | Token::Not | Token::Spawn
        ) {
            self.prefix_run = 0;
        }
        self.last_end = end;
        self.emit(start, token, end);
        Ok(())
    }

    /// A header waiting for its `:` gives up on any token that cannot be part of a return type:
    /// it was not a lambda header after all (`fn(x)` passed as a value, say).
    fn after_params_check(&mut self, token: &Token) {
        let ctx = self.ctx();
        let depth = ctx.depth;
        if let Some(h) = ctx.headers.last() {
            let allowed = matches!(
                token,
                Token::Arrow
                    | Token::Ident(_)
                    | Token::Dot
                    | Token::Pipe
                    | Token::Nil
                    | Token::Type
                    | Token::LBracket
                    | Token::RParen
                    | Token::RBracket
                    | Token::Colon
            );
            if h.stage == Stage::AfterParams && h.depth == depth && !allowed {
                ctx.headers.pop();
            }
        }
    }

    /// Counts one operator towards [`MAX_CHAIN`].
    fn count(&mut self, start: usize, end: usize) -> Result<(), Diagnostic> {
        if let Some(top) = self.chain.last_mut() {
            *top += 1;
        }
        self.chain_sum += 1;
        if self.chain_sum > MAX_CHAIN {
            return Err(
                Diagnostic::new("E0005", "nesting too deep", Span::new(start, end))
                    .with_label(format!("expression chains more than {MAX_CHAIN} operators"))
                    .with_help("split the expression with intermediate variables"),
            );
        }
        Ok(())
    }

    fn finish(&mut self) {
        if self.lambda_colon.take().is_some() {
            self.emit_newline();
        }
        if self.fragment {
            // An f-string field is one expression, closed by a NEWLINE unless a bracket is
            // still open (which the parser then reports).
            if self.total_depth == 1 && self.ctxs.len() == 1 {
                self.emit_newline();
            }
            return;
        }
        if let Some((start, end, bracket)) = self.open_brackets.first().cloned() {
            // Point at the bracket, not at the end of the file: that is where the fix goes.
            // (The outermost one: everything after it was read as its contents.)
            let closer = match bracket {
                Token::LParen => ")",
                Token::LBracket => "]",
                _ => "}",
            };
            self.diags.push(
                Diagnostic::new(
                    "E0004",
                    format!("{bracket} is never closed"),
                    Span::new(start, end),
                )
                .with_label("this bracket is never closed")
                .with_help(format!("the file ends before the matching `{closer}`")),
            );
            self.unclosed = Some(start);
            return;
        }
        self.emit_newline();
        while self.ctxs.len() > 1 {
            self.pop_ctx();
            self.emit_at_last_end(Token::Newline);
        }
        let levels: Vec<Level> = self.ctxs[0].levels.drain(1..).collect();
        for _ in levels.iter().filter(|l| !l.phantom) {
            self.emit_at_last_end(Token::Dedent);
        }
    }
}

/// Tokens that add a level to the expression tree.
fn is_operator(token: &Token) -> bool {
    matches!(
        token,
        Token::Dot
            | Token::Question
            | Token::Star
            | Token::Slash
            | Token::SlashSlash
            | Token::Percent
            | Token::StarStar
            | Token::EqEq
            | Token::NotEq
            | Token::Lt
            | Token::Le
            | Token::Gt
            | Token::Ge
            | Token::And
            | Token::Or
            | Token::If
            | Token::Else
            | Token::In
            | Token::For
            | Token::Pipe
    )
}
