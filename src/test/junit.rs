//! `cn test --junit FILE`: the results as JUnit XML, the format CI systems (GitLab, Jenkins,
//! GitHub's test reporters) read. One `<testsuite>` per file and one `<testcase>` per test; a
//! failed or timed-out test has a `<failure>` with the report, a file whose tests did not run
//! has one `<testcase>` with an `<error>`, and each test's output is its `<system-out>`.

use std::fmt::Write;

use super::protocol::Outcome;
use super::report::failure_text;
use super::FileRun;

pub fn document(runs: &[FileRun]) -> String {
    let tests: usize = runs.iter().map(cases).sum();
    let failures: usize = runs.iter().map(FileRun::failed).sum();
    let errors = runs.iter().filter(|r| r.error.is_some()).count();
    let time: f64 = runs.iter().map(|r| r.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"cn test\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">"
    );
    for run in runs {
        suite(&mut out, run);
    }
    out.push_str("</testsuites>\n");
    out
}

/// Test cases a file counts: its tests, plus one standing for the file when it did not finish.
fn cases(run: &FileRun) -> usize {
    run.results.len() + usize::from(run.error.is_some())
}

fn suite(out: &mut String, run: &FileRun) {
    let path = run.path.display().to_string();
    let class = path.trim_end_matches(".cn").replace(['/', '\\'], ".");
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{:.3}\">",
        escape(&path),
        cases(run),
        run.failed(),
        usize::from(run.error.is_some()),
        run.seconds
    );
    for result in &run.results {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
            escape(&result.name),
            escape(&class),
            escape(&path),
            result.line,
            result.seconds
        );
        let failure = match &result.outcome {
            Outcome::Passed => None,
            Outcome::Failed(report) => Some((first_fault_line(report), "fault")),
            Outcome::TimedOut(_) => Some(("timed out".to_string(), "timeout")),
        };
        if failure.is_none() && result.output.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if let Some((message, kind)) = failure {
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                escape(&message),
                escape(&failure_text(result))
            );
        }
        if !result.output.is_empty() {
            let _ = writeln!(
                out,
                "      <system-out>{}</system-out>",
                escape(&result.output)
            );
        }
        out.push_str("    </testcase>\n");
    }
    if let Some(error) = &run.error {
        let _ = writeln!(
            out,
            "    <testcase name=\"(file)\" classname=\"{}\" file=\"{}\" time=\"0\">\n      <error message=\"the file's tests did not run\" type=\"load\">{}</error>\n    </testcase>",
            escape(&class),
            escape(&path),
            escape(error)
        );
    }
    if !run.other_output.is_empty() {
        let _ = writeln!(
            out,
            "    <system-out>{}</system-out>",
            escape(&run.other_output)
        );
    }
    out.push_str("  </testsuite>\n");
}

/// The `fault:` line of a report (what a CI summary shows), or its first line.
fn first_fault_line(report: &str) -> String {
    report
        .lines()
        .find_map(|l| l.strip_prefix("fault: "))
        .or_else(|| report.lines().next())
        .unwrap_or_default()
        .to_string()
}

/// Text as XML character data or an attribute value. Characters XML 1.0 cannot carry at all
/// (most control characters) become U+FFFD, so any output a test prints keeps the file valid.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_xml_cannot_carry_is_replaced() {
        assert_eq!(
            escape("a<b & \"c\"\u{1b}[0m\n"),
            "a&lt;b &amp; &quot;c&quot;\u{fffd}[0m\n"
        );
    }
}
