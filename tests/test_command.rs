//! `cn test` as a user runs it, on the files in `tests/cn_test/`: the passing suites (services
//! through `http.test_client`, the paused clock, isolation between tests) pass; the report of
//! each way a test fails (an assertion with both sides, a fault with its stack trace, a returned
//! `Err`, a timeout whose defers ran) and of a file that does not compile matches
//! `tests/cn_test/failing.expected`; `--filter` and `-v` choose and list tests; and `--junit`
//! writes XML that a real consumer (Python's junitparser, as CI plugins use) reads back with the
//! right counts and messages.

mod common;

use std::path::Path;
use std::process::Command;

use common::CN;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cn_test");

/// Runs `cn test` in the repository root (so paths print as `tests/cn_test/...`).
fn cn_test(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(CN)
        .arg("test")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("cn runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Timings and log lines vary from run to run; everything else is compared.
fn normalized(out: &str) -> String {
    let mut text = String::new();
    for line in out.lines() {
        if line.trim_start().starts_with("{\"time\"") {
            continue;
        }
        let mut kept = String::new();
        let mut rest = line;
        // `1.01s` -> `N.NNs`
        while let Some(dot) = rest.find('.') {
            let (before, after) = rest.split_at(dot);
            let digits_before =
                before.len() - before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            let after_digits = &after[1..];
            let digits_after = after_digits.len()
                - after_digits
                    .trim_start_matches(|c: char| c.is_ascii_digit())
                    .len();
            if digits_before > 0 && digits_after == 2 && after_digits[2..].starts_with('s') {
                kept.push_str(&before[..before.len() - digits_before]);
                kept.push_str("N.NN");
                rest = &after_digits[2..];
            } else {
                kept.push_str(before);
                kept.push('.');
                rest = after_digits;
            }
        }
        kept.push_str(rest);
        text.push_str(&kept);
        text.push('\n');
    }
    text
}

#[test]
fn the_passing_suites_pass() {
    let (status, out, err) = cn_test(&["tests/cn_test"]);
    assert_eq!(status, 0, "stdout:\n{out}\nstderr:\n{err}");
    for file in ["clock_test.cn", "isolation_test.cn", "service_test.cn"] {
        assert!(
            out.lines()
                .any(|l| l.starts_with("ok ") && l.contains(file)),
            "{file} is reported ok:\n{out}"
        );
    }
    assert!(out.contains("\n13 passed, 0 failed in "), "{out}");
}

#[test]
fn each_failure_is_reported_as_expected() {
    let (status, out, err) = cn_test(&[
        "-j1",
        "--timeout",
        "1s",
        "tests/cn_test/broken.cn",
        "tests/cn_test/failing.cn",
    ]);
    assert_eq!(status, 1, "stderr:\n{err}");
    let expected_path = Path::new(DIR).join("failing.expected");
    let actual = normalized(&out);
    if std::env::var_os("CN_UPDATE_GOLDEN").is_some() {
        std::fs::write(&expected_path, &actual).expect("written");
    }
    let expected = std::fs::read_to_string(&expected_path).expect("failing.expected");
    assert_eq!(
        actual, expected,
        "CN_UPDATE_GOLDEN=1 rewrites the expectation"
    );
}

#[test]
fn filter_and_verbose_choose_and_list_tests() {
    let (status, out, _) = cn_test(&[
        "-v",
        "--filter",
        "json_body|route_answers",
        "tests/cn_test/service_test.cn",
    ]);
    assert_eq!(status, 0, "{out}");
    let listed: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("--- PASS: "))
        .map(|l| l.split_whitespace().nth(2).unwrap_or_default())
        .collect();
    assert_eq!(listed, ["test_a_route_answers", "test_a_json_body"]);
    // -v shows what a test printed: here the access-log line of its request.
    assert!(out.contains("\"path\":\"/users/7\""), "{out}");

    let (status, out, _) = cn_test(&["--filter", "nothing_matches", "tests/cn_test"]);
    assert_eq!(
        status, 1,
        "a run in which no test ran is not a success:\n{out}"
    );
    assert!(out.contains("no tests ran"), "{out}");

    let (status, _, err) = cn_test(&["--filter", "(", "tests/cn_test"]);
    assert_eq!(status, 2);
    assert!(
        err.contains("--filter is not a valid regular expression"),
        "{err}"
    );
}

#[test]
fn junit_xml_reads_back_in_a_real_consumer() {
    let report = std::env::temp_dir().join(format!("cn-junit-{}.xml", std::process::id()));
    let (status, _, err) = cn_test(&[
        "--timeout",
        "1s",
        "--junit",
        report.to_str().expect("utf-8 path"),
        "tests/cn_test/failing.cn",
        "tests/cn_test/broken.cn",
        "tests/cn_test/service_test.cn",
    ]);
    assert_eq!(status, 1, "{err}");
    // junitparser: the library CI tooling (and pytest plugins) read JUnit files with.
    let check = r#"
import sys
from junitparser import JUnitXml, Failure, Error
xml = JUnitXml.fromfile(sys.argv[1])
seen = {}
for suite in xml:
    for case in suite:
        kinds = [type(r).__name__ for r in case.result]
        messages = [r.message for r in case.result]
        seen[(suite.name, case.name)] = (kinds, messages)
    print(suite.name, suite.tests, suite.failures, suite.errors)
for key in sorted(seen):
    print(key[1], seen[key][0], seen[key][1])
"#;
    // Debian's Python, where apt-get puts python3-junitparser.
    let output = Command::new("/usr/bin/python3")
        .args(["-c", check, report.to_str().expect("utf-8 path")])
        .output()
        .expect("python3 runs (apt-get install python3-junitparser)");
    let _ = std::fs::remove_file(&report);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "junitparser failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "tests/cn_test/failing.cn 5 4 0",
        "tests/cn_test/broken.cn 1 0 1",
        "tests/cn_test/service_test.cn 5 0 0",
        "test_assertion_shows_both_sides ['Failure'] ['assertion failed: three items (total([1, 2, 2]) == 3)']",
        "test_fault_has_a_stack_trace ['Failure'] ['key not found: \"b\"']",
        "test_returned_err ['Failure'] ['returned Err(\"no connection\")']",
        "test_too_slow ['Failure'] ['timed out']",
        "test_passes [] []",
        "(file) ['Error'] [\"the file's tests did not run\"]",
    ] {
        assert!(
            text.lines().any(|l| l == expected),
            "junitparser read {expected:?}:\n{text}"
        );
    }
}
