//! Everything wrong with a configuration, gathered so that one run reports it all, and the two
//! ways a script sees it: the fault of `config.load` (a header, then one problem per line) and
//! the `Err(list of str)` of `config.try_load`.

use cn_runtime::Value;

/// The problems found while loading, in field order.
#[derive(Default)]
pub struct Problems {
    found: Vec<(String, Cause)>,
    /// A source could not be opened (a file that does not parse, say).
    source_failed: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// A source could not be opened or read.
    Source,
    /// A required field no source set.
    Missing,
    /// A value of the wrong kind.
    Invalid,
}

impl Problems {
    /// A source that could not be opened (its sentences as the source wrote them).
    pub fn source(&mut self, problems: Vec<String>) {
        self.source_failed = true;
        self.found
            .extend(problems.into_iter().map(|p| (p, Cause::Source)));
    }

    /// A required field that nothing set.
    pub fn missing(&mut self, env_name: &str) {
        self.found.push((
            format!("{env_name} is required but not set"),
            Cause::Missing,
        ));
    }

    /// Values that did not convert.
    pub fn invalid(&mut self, problems: Vec<String>) {
        self.found
            .extend(problems.into_iter().map(|p| (p, Cause::Invalid)));
    }

    /// The problems to report, or `None` when there are none. When a source failed to open, the
    /// fields it would have set look missing: those follow-on messages would only bury the
    /// real one, so they are left out.
    pub fn finish(self) -> Option<Vec<String>> {
        let source_failed = self.source_failed;
        let list: Vec<String> = self
            .found
            .into_iter()
            .filter(|(_, cause)| !(source_failed && *cause == Cause::Missing))
            .map(|(p, _)| p)
            .collect();
        (!list.is_empty()).then_some(list)
    }
}

/// The fault message of `config.load`: `config: 2 problems:` then `  - ...` lines.
pub fn fault_message(problems: &[String]) -> String {
    let n = problems.len();
    let mut out = format!("config: {n} problem{}:", if n == 1 { "" } else { "s" });
    for problem in problems {
        out.push_str("\n  - ");
        out.push_str(problem);
    }
    out
}

/// The `Err` of `config.try_load`: the problems as a list of strings.
pub fn err_value(problems: Vec<String>) -> Value {
    Value::err(Value::list(problems.into_iter().map(Value::str).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_lists_every_problem_under_a_counted_header() {
        let one = fault_message(&["A is required but not set".into()]);
        assert_eq!(one, "config: 1 problem:\n  - A is required but not set");
        let two = fault_message(&["a".into(), "b".into()]);
        assert_eq!(two, "config: 2 problems:\n  - a\n  - b");
    }

    #[test]
    fn a_failed_source_hides_the_missing_fields_it_would_have_set() {
        let mut problems = Problems::default();
        problems.missing("DATABASE_URL");
        problems.invalid(vec!["PORT must be an integer, got \"x\" (env PORT)".into()]);
        problems.source(vec!["config.yaml:1:1: bad".into()]);
        assert_eq!(
            problems.finish(),
            Some(vec![
                "PORT must be an integer, got \"x\" (env PORT)".to_string(),
                "config.yaml:1:1: bad".to_string(),
            ])
        );
        assert_eq!(Problems::default().finish(), None);
    }
}
