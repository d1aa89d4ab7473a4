//! Generates the LR parser from `src/syntax/grammar.lalrpop`.
fn main() {
    lalrpop::Configuration::new()
        .emit_rerun_directives(true)
        .process_current_dir()
        .expect("grammar.lalrpop compiles");
}
