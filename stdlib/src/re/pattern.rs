//! `re.Pattern`: a compiled regular expression and the operations on it. Each method reads its
//! arguments from position `first` on, so `re.search(p, text)` and `pattern.search(text)` share
//! one body and number the arguments as the script wrote them.

use std::cell::OnceCell;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::NativeType;
use cn_runtime::{Args, Fault, Value, Vm};
use regex::Regex;

use super::found::{Found, Text};
use super::Flags;

pub struct Pattern {
    regex: Regex,
    flags: Flags,
    /// The pattern anchored at the start (`match`) and at both ends (`full_match`), compiled
    /// the first time they are needed.
    at_start: OnceCell<Regex>,
    whole: OnceCell<Regex>,
}

/// What a pattern is asked to do: the module function or method of the same name.
#[derive(Clone, Copy, Debug)]
pub enum Operation {
    Search,
    Match,
    FullMatch,
    FindAll,
    FindIter,
    Replace,
    Split,
}

impl Pattern {
    pub fn new(regex: Regex, flags: Flags) -> Pattern {
        Pattern {
            regex,
            flags,
            at_start: OnceCell::new(),
            whole: OnceCell::new(),
        }
    }

    /// The pattern wrapped as `\A(?:..)` (`end` false) or `\A(?:..)\z`: `\A` and `\z` anchor at
    /// the text's ends even in multi-line mode, and the group adds no capture.
    fn anchored(&self, function: &str, end: bool) -> Result<&Regex, Fault> {
        let cell = if end { &self.whole } else { &self.at_start };
        if let Some(regex) = cell.get() {
            return Ok(regex);
        }
        let text = format!(
            "\\A(?:{}){}",
            self.regex.as_str(),
            if end { "\\z" } else { "" }
        );
        let built = super::build(function, &text, self.flags)?.regex;
        Ok(cell.get_or_init(|| built))
    }

    /// Runs `operation` with its arguments from `first` on.
    pub fn call(
        &self,
        vm: &mut Vm,
        operation: Operation,
        args: Args<'_>,
        first: usize,
    ) -> Result<Value, Fault> {
        let text = Text::new(args.str(first)?.clone());
        match operation {
            Operation::Search => Ok(self.found(&text, self.regex.captures(&text.0))),
            Operation::Match | Operation::FullMatch => {
                let end = matches!(operation, Operation::FullMatch);
                let captures = self.anchored(args.function, end)?.captures(&text.0);
                Ok(self.found(&text, captures))
            }
            Operation::FindAll => Ok(self.find_all(&text)),
            Operation::FindIter => Ok(Value::list(
                self.regex
                    .captures_iter(&text.0)
                    .map(|c| Found::value(&text, &self.regex, &c))
                    .collect(),
            )),
            Operation::Replace => self.replace(vm, &text, &args, first),
            Operation::Split => self.split(&text, &args),
        }
    }

    fn found(&self, text: &Text, captures: Option<regex::Captures<'_>>) -> Value {
        match captures {
            Some(c) => Found::value(text, &self.regex, &c),
            None => Value::Nil,
        }
    }

    /// Python's `findall`: whole matches, or group 1's text, or a tuple of the groups.
    fn find_all(&self, text: &Text) -> Value {
        let groups = self.regex.captures_len() - 1;
        let group = |c: &regex::Captures<'_>, i: usize| {
            c.get(i).map_or(Value::str(""), |m| Value::str(m.as_str()))
        };
        let items = match groups {
            0 => self
                .regex
                .find_iter(&text.0)
                .map(|m| Value::str(m.as_str()))
                .collect(),
            1 => self
                .regex
                .captures_iter(&text.0)
                .map(|c| group(&c, 1))
                .collect(),
            n => self
                .regex
                .captures_iter(&text.0)
                .map(|c| Value::tuple((1..=n).map(|i| group(&c, i)).collect()))
                .collect(),
        };
        Value::list(items)
    }

    fn replace(
        &self,
        vm: &mut Vm,
        text: &Text,
        args: &Args<'_>,
        first: usize,
    ) -> Result<Value, Fault> {
        let count = match args.named("count") {
            None | Some(Value::Nil) => 0,
            Some(Value::Int(n)) if *n >= 0 => usize::try_from(*n).unwrap_or(usize::MAX),
            Some(other) => {
                return Err(Fault::new(format!(
                    "{}: count must be an int of at least 0, got {}",
                    args.function,
                    cn_runtime::format::repr(other)
                )))
            }
        };
        let replacement = args.value(first + 1)?;
        let replaced = match replacement {
            Value::Str(template) => self
                .regex
                .replacen(&text.0, count, template.as_str())
                .into_owned(),
            callable if callable.is_callable() => {
                let mut out = String::with_capacity(text.0.len());
                let mut last = 0;
                for (n, c) in self.regex.captures_iter(&text.0).enumerate() {
                    if count != 0 && n == count {
                        break;
                    }
                    let Some(whole) = c.get(0) else { continue };
                    out.push_str(&text.0[last..whole.start()]);
                    let found = Found::value(text, &self.regex, &c);
                    match vm.call_value(callable, &[found])? {
                        Value::Str(s) => out.push_str(&s),
                        other => {
                            return Err(Fault::new(format!(
                                "{}: the replacement function must return a str, got {}",
                                args.function,
                                other.type_name()
                            )))
                        }
                    }
                    last = whole.end();
                }
                out.push_str(&text.0[last..]);
                out
            }
            other => return Err(args.wrong_type(first + 1, "str or function", other)),
        };
        Ok(Value::str(replaced))
    }

    fn split(&self, text: &Text, args: &Args<'_>) -> Result<Value, Fault> {
        let limit = match args.named("max_split") {
            None | Some(Value::Nil) | Some(Value::Int(0)) => None,
            Some(Value::Int(n)) if *n > 0 => Some(usize::try_from(*n).unwrap_or(usize::MAX)),
            Some(other) => {
                return Err(Fault::new(format!(
                    "{}: max_split must be an int of at least 0, got {}",
                    args.function,
                    cn_runtime::format::repr(other)
                )))
            }
        };
        let parts: Vec<Value> = match limit {
            None => self.regex.split(&text.0).map(Value::str).collect(),
            Some(n) => self.regex.splitn(&text.0, n + 1).map(Value::str).collect(),
        };
        Ok(Value::list(parts))
    }
}

type M = Member<Pattern>;

/// The methods, each the module function of the same name without its pattern argument.
macro_rules! method {
    ($name:literal, $operation:ident, $params:expr, $doc:literal) => {
        M::method($name, |p, vm, args| {
            p.call(vm, Operation::$operation, args, 0)
        })
        .doc($doc)
        .params($params)
    };
}

static PATTERN: Table<Pattern> = Table::new(
    "re.Pattern",
    "A compiled regular expression (`re.compile`); its methods are the module's functions without the pattern.",
    &[
        method!("search", Search, Params::exactly(1), "search(text)\nThe first `re.Match` anywhere in `text`, or nil."),
        method!("match", Match, Params::exactly(1), "match(text)\nA `re.Match` starting at the beginning of `text`, or nil."),
        method!("full_match", FullMatch, Params::exactly(1), "full_match(text)\nA `re.Match` covering all of `text`, or nil."),
        method!("find_all", FindAll, Params::exactly(1), "find_all(text)\nEvery non-overlapping match: strs, or group texts (see `re.find_all`)."),
        method!("find_iter", FindIter, Params::exactly(1), "find_iter(text)\nEvery non-overlapping match as a `re.Match`."),
        method!("replace", Replace, Params::exactly(2).keywords(&["count"]), "replace(text, replacement, count=0)\n`text` with the matches replaced (see `re.replace`)."),
        method!("split", Split, Params::exactly(1).keywords(&["max_split"]), "split(text, max_split=0)\n`text` split around the matches."),
        M::attribute("pattern", |p, _| Ok(Value::str(p.regex.as_str())))
            .doc("pattern\nThe pattern's text."),
        M::attribute("groups", |p, _| Ok(Value::Int(p.regex.captures_len() as i64 - 1)))
            .doc("groups\nHow many capture groups it has."),
    ],
);

impl NativeType for Pattern {
    fn type_name(&self) -> &str {
        "re.Pattern"
    }

    fn members(&self) -> &'static dyn Members {
        &PATTERN
    }

    fn display(&self) -> String {
        format!("re.compile({:?})", self.regex.as_str())
    }
}
