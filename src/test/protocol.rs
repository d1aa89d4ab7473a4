//! What a test worker tells `cn test`, in its standard output.
//!
//! The worker's events are lines written through the same output sink as the tests' `print`s
//! and log lines, so they arrive in order with them: everything between a test's start and end
//! is that test's output. An event line starts with an ASCII record separator, `cn-test` and a
//! nonce the parent chose for this run, so a test printing look-alike text cannot forge one.

use serde_json::{json, Value as Json};

/// How a test ended, as the parent sees it.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Passed,
    /// The fault report (or the `Err` it returned).
    Failed(String),
    /// The limit it ran past, in seconds.
    TimedOut(f64),
}

/// One test's result.
#[derive(Clone, Debug)]
pub struct TestResult {
    pub name: String,
    pub line: usize,
    pub outcome: Outcome,
    pub seconds: f64,
    /// What it printed (stdout and log lines) while it ran.
    pub output: String,
}

/// One event of the worker.
pub enum Event {
    Loaded(Vec<(String, usize)>),
    Started(String),
    Finished {
        name: String,
        outcome: Outcome,
        seconds: f64,
    },
}

/// The line that carries `event`.
pub fn encode(nonce: &str, event: &Event) -> String {
    let body = match event {
        Event::Loaded(tests) => json!({
            "loaded": tests.iter().map(|(n, l)| json!([n, l])).collect::<Vec<_>>()
        }),
        Event::Started(name) => json!({ "started": name }),
        Event::Finished {
            name,
            outcome,
            seconds,
        } => {
            let (verdict, detail) = match outcome {
                Outcome::Passed => ("passed", json!(null)),
                Outcome::Failed(report) => ("failed", json!(report)),
                Outcome::TimedOut(limit) => ("timed_out", json!(limit)),
            };
            json!({ "finished": name, "verdict": verdict, "detail": detail, "seconds": seconds })
        }
    };
    format!("\u{1e}cn-test {nonce} {body}\n")
}

/// What a worker's standard output said: the tests it found, their results, and the output
/// printed outside any test (the module body's).
#[derive(Default, Debug)]
pub struct Transcript {
    /// Whether the module body ran and the tests were listed.
    pub loaded: bool,
    pub listed: Vec<(String, usize)>,
    pub results: Vec<TestResult>,
    /// The test that started and never finished (the worker died in it).
    pub unfinished: Option<(String, String)>,
    pub outside_output: String,
}

/// Splits a worker's standard output into events and the output between them.
pub fn read(nonce: &str, stdout: &str) -> Transcript {
    let prefix = format!("\u{1e}cn-test {nonce} ");
    let mut transcript = Transcript::default();
    let mut current: Option<(String, String)> = None;
    for line in stdout.split_inclusive('\n') {
        let event = line
            .strip_prefix(&prefix)
            .and_then(|body| serde_json::from_str::<Json>(body.trim_end()).ok());
        let Some(event) = event else {
            match &mut current {
                Some((_, output)) => output.push_str(line),
                None => transcript.outside_output.push_str(line),
            }
            continue;
        };
        if let Some(tests) = event["loaded"].as_array() {
            transcript.loaded = true;
            transcript.listed = tests
                .iter()
                .filter_map(|t| Some((t[0].as_str()?.to_string(), t[1].as_u64()? as usize)))
                .collect();
        } else if let Some(name) = event["started"].as_str() {
            current = Some((name.to_string(), String::new()));
        } else if let Some(name) = event["finished"].as_str() {
            let output = current.take().map(|(_, o)| o).unwrap_or_default();
            let outcome = match event["verdict"].as_str() {
                Some("passed") => Outcome::Passed,
                Some("timed_out") => Outcome::TimedOut(event["detail"].as_f64().unwrap_or(0.0)),
                _ => Outcome::Failed(event["detail"].as_str().unwrap_or_default().to_string()),
            };
            let line = transcript
                .listed
                .iter()
                .find(|(n, _)| n == name)
                .map_or(0, |(_, l)| *l);
            transcript.results.push(TestResult {
                name: name.to_string(),
                line,
                outcome,
                seconds: event["seconds"].as_f64().unwrap_or(0.0),
                output,
            });
        }
    }
    transcript.unfinished = current;
    transcript
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_output_are_told_apart() {
        let nonce = "abc";
        let mut out = String::from("module says hi\n");
        out += &encode(
            nonce,
            &Event::Loaded(vec![("test_a".into(), 3), ("test_b".into(), 7)]),
        );
        out += &encode(nonce, &Event::Started("test_a".into()));
        out += "printed by a\n\u{1e}cn-test forged {\"started\": \"x\"}\n";
        out += &encode(
            nonce,
            &Event::Finished {
                name: "test_a".into(),
                outcome: Outcome::Failed("fault: boom\n".into()),
                seconds: 0.5,
            },
        );
        out += &encode(nonce, &Event::Started("test_b".into()));
        out += "half a line";
        let transcript = read(nonce, &out);
        assert_eq!(transcript.listed.len(), 2);
        assert_eq!(transcript.outside_output, "module says hi\n");
        let a = &transcript.results[0];
        assert_eq!((a.name.as_str(), a.line), ("test_a", 3));
        assert_eq!(a.outcome, Outcome::Failed("fault: boom\n".into()));
        assert!(a.output.starts_with("printed by a\n\u{1e}cn-test forged"));
        assert_eq!(
            transcript.unfinished,
            Some(("test_b".into(), "half a line".into()))
        );
    }
}
