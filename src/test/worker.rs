//! `cn test --worker NONCE FILE`: runs one test file in this process and reports each test
//! through [`super::protocol`] on standard output. `cn test` starts one per file, so files run in
//! parallel and a test that takes its process down (an `exit`, a crash) takes no other file with
//! it.

use std::path::Path;
use std::time::Duration;

use cn_runtime::tasks::testing::{TestEvent, Verdict};
use cn_runtime::Runtime;
use regex::Regex;

use super::protocol::{encode, Event, Outcome};

/// Runs the tests of `file` whose names match `filter`; the exit status is 0 when every test ran
/// (whatever their verdicts) and the run error's status when the file could not be run.
pub fn run(file: &Path, nonce: &str, filter: Option<&Regex>, limit: Duration) -> u8 {
    let runtime = match Runtime::new(crate::new_vm(Vec::new())) {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cn: {e}");
            return 2;
        }
    };
    let select = |name: &str| filter.is_none_or(|f| f.is_match(name));
    let send = |event: Event| {
        // The same sink as `print`, so the event lands between the test's own lines.
        let _ = cn_runtime::output::stdout().write(encode(nonce, &event).as_bytes());
    };
    let result = runtime.run_tests(file, &select, limit, &mut |event| match event {
        TestEvent::Loaded(tests) => send(Event::Loaded(
            tests.iter().map(|t| (t.name.clone(), t.line)).collect(),
        )),
        TestEvent::Started(test) => send(Event::Started(test.name.clone())),
        TestEvent::Finished(test, verdict, took) => send(Event::Finished {
            name: test.name.clone(),
            outcome: match verdict {
                Verdict::Passed => Outcome::Passed,
                Verdict::Failed(report) => Outcome::Failed(report.clone()),
                Verdict::TimedOut(limit) => Outcome::TimedOut(limit.as_secs_f64()),
            },
            seconds: took.as_secs_f64(),
        }),
    });
    let status = match result {
        Ok(()) => 0,
        Err(error) => {
            let _ = cn_runtime::output::flush_stdout();
            crate::report_run_error(&error);
            error.exit_status() as u8
        }
    };
    let _ = cn_runtime::output::flush_stdout();
    status
}
