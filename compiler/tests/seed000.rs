//! Every untagged code block of seed 000 ("Cloud-Native Features Exploration") parses without a
//! diagnostic, and its tree matches the `.ast` golden next to it.

mod common;

use cn_compiler::syntax::parse;

#[test]
fn seed_000_code_blocks_parse() {
    let files = common::cn_files("seed000");
    assert!(
        files.len() >= 19,
        "expected the seed's 19 code blocks, found {}",
        files.len()
    );
    let mut failures = Vec::new();
    for path in files {
        let source = std::fs::read_to_string(&path).expect("readable test file");
        let (module, diags) = parse(&source);
        if !diags.is_empty() {
            failures.push(format!(
                "{}:\n{}",
                path.display(),
                common::render_diags(&source, &diags)
            ));
            continue;
        }
        for problem in common::spans::check(&source, &module) {
            failures.push(format!("{}: {problem}", path.display()));
        }
        common::check_golden(
            &path.with_extension("ast"),
            &common::sexpr::module(&module),
            &mut failures,
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
