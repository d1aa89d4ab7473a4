//! `re.Pattern`: a compiled regular expression and the operations on it. Each method reads its
//! arguments from position `first` on, so `re.search(p, text)` and `pattern.search(text)` share
//! one body and number the arguments as the script wrote them.

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::NativeType;
use cn_runtime::{Args, Fault, Value, Vm};
use regex::Regex;

use super::found::{Found, Text};
use super::Flags;

pub struct Pattern {
    regex: Regex,
    flags: Flags,
}

impl Pattern {
    pub fn new(regex: Regex, flags: Flags) -> Pattern {
        Pattern { regex, flags }
    }

    /// Runs method `name` with its arguments from `first` on.
    pub fn call(
        &self,
        vm: &mut Vm,
        name: &str,
        args: Args<'_>,
        first: usize,
    ) -> Result<Value, Fault> {
        let text = Text::new(args.str(first)?.clone());
        match name {
            "search" => Ok(self.found(&text, self.regex.captures(&text.0))),
            "match" => Ok(self.found(
                &text,
                self.regex
                    .captures(&text.0)
                    .filter(|c| c.get(0).is_some_and(|m| m.start() == 0)),
            )),
            "full_match" => {
                // Anchored at both ends: a leftmost-first match that happens to stop early
                // would miss a longer one that covers the text, so search with `^(?:..)$`.
                let anchored = super::build(
                    args.function,
                    &format!("^(?:{})$", self.regex.as_str()),
                    self.flags,
                )?;
                let captures = anchored.regex.captures(&text.0);
                Ok(anchored.found(&text, captures))
            }
            "find_all" => Ok(self.find_all(&text)),
            "find_iter" => Ok(Value::list(
                self.regex
                    .captures_iter(&text.0)
                    .map(|c| Found::value(&text, &self.regex, &c))
                    .collect(),
            )),
            "replace" => self.replace(vm, &text, &args, first),
            "split" => self.split(&text, &args, first),
            _ => Err(Fault::new(format!("re: no operation {name}"))),
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

    fn split(&self, text: &Text, args: &Args<'_>, _first: usize) -> Result<Value, Fault> {
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
    ($name:literal, $params:expr, $doc:literal) => {
        M::method($name, |p, vm, args| p.call(vm, $name, args, 0))
            .doc($doc)
            .params($params)
    };
}

static PATTERN: Table<Pattern> = Table::new(
    "re.Pattern",
    "A compiled regular expression (`re.compile`); its methods are the module's functions without the pattern.",
    &[
        method!("search", Params::exactly(1), "search(text)\nThe first `re.Match` anywhere in `text`, or nil."),
        method!("match", Params::exactly(1), "match(text)\nA `re.Match` starting at the beginning of `text`, or nil."),
        method!("full_match", Params::exactly(1), "full_match(text)\nA `re.Match` covering all of `text`, or nil."),
        method!("find_all", Params::exactly(1), "find_all(text)\nEvery non-overlapping match: strs, or group texts (see `re.find_all`)."),
        method!("find_iter", Params::exactly(1), "find_iter(text)\nEvery non-overlapping match as a `re.Match`."),
        method!("replace", Params::exactly(2).keywords(&["count"]), "replace(text, replacement, count=0)\n`text` with the matches replaced (see `re.replace`)."),
        method!("split", Params::exactly(1).keywords(&["max_split"]), "split(text, max_split=0)\n`text` split around the matches."),
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
