//! Every example in `spec/*.md` runs as written and prints what the spec shows:
//! `spec/check_examples.py` (its conventions are in its docstring) against this build's `cn`.

use std::process::Command;

#[test]
fn every_spec_example_prints_what_the_spec_shows() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/spec/check_examples.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_cn"))
        .env("NO_COLOR", "1")
        .output()
        .expect("python3 runs the spec checker (apt-get install -y python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "spec examples differ from what cn does:\n{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("examples checked, 0 failures"), "{stdout}");
}
