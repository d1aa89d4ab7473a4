//! The public API of `cn_compiler::syntax`: `parse`, `tokens`, `needs_more_input`, and the
//! promises they make about spans and error codes.

mod common;

use cn_compiler::syntax::ast::{ExprKind, Span, StmtKind};
use cn_compiler::syntax::{needs_more_input, parse, tokens, Token};

fn codes(source: &str) -> Vec<&'static str> {
    parse(source).1.iter().map(|d| d.code).collect()
}

#[test]
fn empty_and_blank_sources_parse_to_nothing() {
    for source in ["", "\n", "   \n\n", "# only a comment", "# a\n\n# b\n"] {
        let (module, diags) = parse(source);
        assert!(module.body.is_empty() && diags.is_empty(), "{source:?}");
    }
}

#[test]
fn error_spans_point_at_the_offending_token() {
    let (_, diags) = parse("foo(a b)\n");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, "E0003");
    assert_eq!(diags[0].span, Span::new(6, 7));
    assert_eq!(diags[0].label, "unexpected identifier `b`");

    let (_, diags) = parse("if x\n    y\n");
    assert_eq!(diags[0].message, "expected `:`; found end of line");
    assert_eq!(
        diags[0].help.as_deref(),
        Some("did you forget a `:` at the end of the line?")
    );
}

#[test]
fn every_error_code_has_a_trigger() {
    assert_eq!(codes("x = $"), ["E0001"]);
    assert_eq!(codes("x = 99999999999999999999"), ["E0001"]);
    assert_eq!(codes("if x:\n\ty = 1\n"), ["E0002"]);
    assert_eq!(codes("if x:\n    a\n  b\n"), ["E0002"]);
    assert_eq!(codes("x = 1\n    y = 2\n"), ["E0002"]);
    assert_eq!(codes("x = (1 2)"), ["E0003"]);
    assert_eq!(codes("fn f():"), ["E0004"]);
    assert_eq!(codes("x = (1,"), ["E0004"]);
    assert_eq!(codes(&format!("x = {}", "[".repeat(201))), ["E0005"]);
    assert_eq!(codes(&format!("x = {}1", "-".repeat(201))), ["E0005"]);
    assert_eq!(codes("x = f\"{}\""), ["E0006"]);
    assert_eq!(codes("x = f\"}\""), ["E0006"]);
    assert_eq!(codes("x = f\"{x\""), ["E0006"]);
}

#[test]
fn nesting_up_to_the_limits_is_fine() {
    assert!(codes(&format!("x = {}1{}", "(".repeat(200), ")".repeat(200))).is_empty());
    assert!(codes(&format!("x = {}1", "- ".repeat(200))).is_empty());
    let mut deep = String::new();
    for i in 0..100 {
        deep.push_str(&format!("{}if x:\n", "    ".repeat(i)));
    }
    deep.push_str(&format!("{}pass\n", "    ".repeat(100)));
    assert!(codes(&deep).is_empty());
    deep.clear();
    for i in 0..101 {
        deep.push_str(&format!("{}if x:\n", "    ".repeat(i)));
    }
    deep.push_str(&format!("{}pass\n", "    ".repeat(101)));
    assert_eq!(codes(&deep), ["E0005"]);
}

#[test]
fn several_errors_are_reported_without_cascades() {
    let source = "x = (1 2)\ny = 3 +\nif z\n    pass\nelse:\n    pass\nw = [1 2]\n";
    let (module, diags) = parse(source);
    let lines: Vec<usize> = diags
        .iter()
        .map(|d| cn_compiler::diagnostic::line_col(source, d.span.start as usize).0)
        .collect();
    assert_eq!(lines, [1, 2, 3, 7], "{diags:#?}");
    assert!(module.body.is_empty());
}

#[test]
fn good_statements_survive_a_bad_one() {
    let (module, diags) = parse("a = 1\nb = = 2\nc = 3\n");
    assert_eq!(diags.len(), 1);
    assert_eq!(module.body.len(), 2);
}

#[test]
fn tokens_show_the_layout() {
    let toks = tokens("f = fn(x):\n    return x\n").expect("valid source");
    let kinds: Vec<Token> = toks.iter().map(|(_, t, _)| t.clone()).collect();
    assert_eq!(
        kinds,
        [
            Token::Ident("f".into()),
            Token::Assign,
            Token::Fn,
            Token::LParen,
            Token::Ident("x".into()),
            Token::RParen,
            Token::Colon,
            Token::Newline,
            Token::Indent,
            Token::Return,
            Token::Ident("x".into()),
            Token::Newline,
            Token::Dedent,
            Token::Newline,
        ]
    );
    assert_eq!(toks[0], (0, Token::Ident("f".into()), 1));
    let err = tokens("x = \"open").expect_err("unterminated string");
    assert_eq!(err.code, "E0001");
    assert_eq!(err.message, "unterminated string");
}

#[test]
fn token_display_reads_as_a_phrase() {
    assert_eq!(Token::Colon.to_string(), "`:`");
    assert_eq!(Token::Indent.to_string(), "new indented block");
    assert_eq!(Token::Dedent.to_string(), "end of indented block");
    assert_eq!(Token::Newline.to_string(), "end of line");
    assert_eq!(Token::Ident("x".into()).to_string(), "identifier");
    assert_eq!(Token::Int(1).to_string(), "integer");
    assert_eq!(Token::Str(String::new()).to_string(), "string");
    assert_eq!(Token::Fn.to_string(), "keyword `fn`");
}

#[test]
fn statement_spans_end_at_the_last_token() {
    let source = "x = 1  # comment\nif y:\n    z = 2\n\n# trailing\n";
    let (module, diags) = parse(source);
    assert!(diags.is_empty());
    assert_eq!(module.body[0].span, Span::new(0, 5));
    assert_eq!(
        &source[module.body[1].span.start as usize..module.body[1].span.end as usize],
        "if y:\n    z = 2"
    );
}

#[test]
fn fstring_fields_have_file_offsets() {
    let source = "print(f\"a{x}b{ y.z }\")";
    let (module, diags) = parse(source);
    assert!(diags.is_empty());
    assert!(common::spans::check(source, &module).is_empty());
    let StmtKind::Expr(call) = &module.body[0].kind else {
        panic!("expression statement")
    };
    let ExprKind::Call { args, .. } = &call.kind else {
        panic!("call")
    };
    assert_eq!(args[0].value.span, Span::new(6, 21));
    let (_, diags) = parse("x = f\"{1 +}\"");
    assert_eq!(diags[0].span, Span::new(10, 10), "{diags:#?}");
}

#[test]
fn unicode_is_handled_on_char_boundaries() {
    let source = "größe = \"🎉\" + 名前\nx = $é\n";
    let (module, diags) = parse(source);
    assert!(common::spans::check(source, &module).is_empty());
    assert_eq!(diags.len(), 1);
    let start = diags[0].span.start as usize;
    assert_eq!(&source[start..diags[0].span.end as usize], "$");
}

#[test]
fn repl_continuation() {
    assert!(!needs_more_input("x = 1"));
    assert!(!needs_more_input("x = 1\n"));
    assert!(needs_more_input("fn f():\n"));
    assert!(needs_more_input("fn f():\n    return 1\n"));
    assert!(!needs_more_input("fn f():\n    return 1\n\n"));
    assert!(needs_more_input("server.on_shutdown(fn():\n"));
    assert!(needs_more_input(
        "server.on_shutdown(fn():\n    db.close()\n"
    ));
    assert!(!needs_more_input(
        "server.on_shutdown(fn():\n    db.close()\n)\n"
    ));
    assert!(needs_more_input("x = {\n"));
    assert!(needs_more_input("doc = \"\"\"\nline\n"));
    assert!(!needs_more_input("x = )\n"));
    assert!(!needs_more_input("x = \"open\n"));
}

#[test]
fn durations_and_floats() {
    let (module, _) = parse("a = 60.seconds\nb = 1.5\nc = 1.5.ms\n");
    let value = |i: usize| match &module.body[i].kind {
        StmtKind::Assign { value, .. } => value.kind.clone(),
        _ => panic!("assignment"),
    };
    assert!(
        matches!(value(0), ExprKind::Attr { ref object, ref name } if object.kind == ExprKind::Int(60) && name.name == "seconds")
    );
    assert_eq!(value(1), ExprKind::Float(1.5));
    assert!(
        matches!(value(2), ExprKind::Attr { ref object, .. } if object.kind == ExprKind::Float(1.5))
    );
}
