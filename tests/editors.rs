//! The editor files stay in step with the language: the TextMate grammar names every keyword
//! the lexer knows and every builtin function, and the VS Code extension's JSON files parse and
//! point at the grammar. (The grammar's scopes themselves are tested by vscode-tmgrammar-test on
//! `editors/tests/*.cn`, in `.ci/run`.)

use serde_json::Value;

const EDITORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/editors");

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(format!("{EDITORS}/{path}")).expect(path);
    serde_json::from_str(&text).expect(path)
}

/// Every `match` pattern in the grammar, as text.
fn patterns(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, item) in map {
                if key == "match" || key == "begin" {
                    out.push(item.as_str().unwrap_or_default().to_string());
                }
                patterns(item, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| patterns(i, out)),
        _ => {}
    }
}

#[test]
fn the_grammar_knows_every_keyword_and_builtin() {
    let grammar = json("cn.tmLanguage.json");
    assert_eq!(grammar["scopeName"], "source.cn");
    let mut all = Vec::new();
    patterns(&grammar, &mut all);
    let mentions = |word: &str| {
        all.iter().any(|p| {
            p.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .any(|w| w == word)
        })
    };
    for keyword in cn_compiler::syntax::keywords() {
        assert!(
            mentions(keyword),
            "the grammar does not know keyword {keyword:?}"
        );
    }
    for (builtin, _) in cn_runtime::builtins::all() {
        assert!(
            mentions(builtin),
            "the grammar does not know builtin {builtin:?}"
        );
    }
}

#[test]
fn the_vscode_extension_points_at_the_grammar() {
    let package = json("vscode/package.json");
    let grammar_path = package["contributes"]["grammars"][0]["path"]
        .as_str()
        .expect("a grammar path");
    let linked = std::fs::read_to_string(format!("{EDITORS}/vscode/{grammar_path}"))
        .expect("the grammar is reachable from the extension");
    let linked: Value = serde_json::from_str(&linked).expect("JSON");
    assert_eq!(linked["scopeName"], "source.cn");
    let config = json("vscode/language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "#");
    assert_eq!(
        package["contributes"]["configuration"]["properties"]["cn.server.path"]["default"],
        "cn"
    );
}
