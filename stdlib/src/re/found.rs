//! `re.Match`: one match and its groups. It keeps the searched text and the byte spans of its
//! groups; texts and character positions are made when asked for.

use std::rc::Rc;

use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value};
use regex::{Captures, Regex};

/// A searched text, with whether it is ASCII (then byte and character positions agree).
pub struct Text(pub Rc<String>, bool);

impl Text {
    pub fn new(text: Rc<String>) -> Text {
        let ascii = text.is_ascii();
        Text(text, ascii)
    }

    /// The character position of byte offset `at`.
    fn position(&self, at: usize) -> i64 {
        let chars = if self.1 {
            at
        } else {
            self.0[..at].chars().count()
        };
        chars as i64
    }
}

/// A match: the text, the byte span of every group (`None`: the group took no part), and the
/// groups' names.
pub struct Found {
    text: Rc<String>,
    ascii: bool,
    spans: Vec<Option<(usize, usize)>>,
    names: Vec<Option<String>>,
}

impl Found {
    pub fn value(text: &Text, regex: &Regex, captures: &Captures<'_>) -> Value {
        NativeObject::value(Found {
            text: text.0.clone(),
            ascii: text.1,
            spans: captures
                .iter()
                .map(|m| m.map(|m| (m.start(), m.end())))
                .collect(),
            names: regex
                .capture_names()
                .map(|n| n.map(str::to_string))
                .collect(),
        })
    }

    /// The group an argument names: an index or a name; 0 when absent.
    fn group(&self, args: &Args<'_>) -> Result<usize, Fault> {
        match args.get(0) {
            None => Ok(0),
            Some(Value::Int(i)) if *i >= 0 && (*i as usize) < self.spans.len() => Ok(*i as usize),
            Some(Value::Str(name)) => self
                .names
                .iter()
                .position(|n| n.as_deref() == Some(name.as_str()))
                .ok_or_else(|| Fault::new(format!("{}: no group named {name:?}", args.function))),
            Some(other) => {
                let groups = self.spans.len() - 1;
                Err(Fault::new(format!(
                    "{}: no group {} (the pattern has {groups} group{})",
                    args.function,
                    cn_runtime::format::repr(other),
                    if groups == 1 { "" } else { "s" }
                )))
            }
        }
    }

    fn text_of(&self, span: Option<(usize, usize)>) -> Value {
        span.map_or(Value::Nil, |(a, b)| Value::str(&self.text[a..b]))
    }

    fn position(&self, at: usize) -> i64 {
        Text(self.text.clone(), self.ascii).position(at)
    }
}

type M = Member<Found>;

fn span_part(f: &Found, args: &Args<'_>, end: bool) -> Result<Value, Fault> {
    let group = f.group(args)?;
    Ok(match f.spans[group] {
        Some((a, b)) => Value::Int(f.position(if end { b } else { a })),
        None => Value::Int(-1),
    })
}

static FOUND: Table<Found> = Table::new(
    "re.Match",
    "One match of a regular expression: its text and groups.",
    &[
        M::method("group", |f, _, args| {
            let group = f.group(&args)?;
            Ok(f.text_of(f.spans[group]))
        })
        .doc("group(n=0)\nThe text of group `n` (an index or a name; 0 is the whole match), or nil if it took no part.")
        .params(Params::between(0, 1)),
        M::method("groups", |f, _, _| {
            Ok(Value::tuple(f.spans[1..].iter().map(|s| f.text_of(*s)).collect()))
        })
        .doc("groups()\nA tuple of every group's text (nil for one that took no part)."),
        M::method("named", |f, _, _| {
            let mut dict = cn_runtime::dict::new_dict();
            for (name, span) in f.names.iter().zip(&f.spans) {
                if let Some(name) = name {
                    if let Ok(key) = cn_runtime::dict::Key::new(Value::str(name.as_str())) {
                        dict.insert(key, f.text_of(*span));
                    }
                }
            }
            Ok(Value::dict(dict))
        })
        .doc("named()\nA dict of the named groups' texts."),
        M::method("start", |f, _, args| span_part(f, &args, false))
            .doc("start(n=0)\nWhere group `n` starts, in characters (-1 if it took no part).")
            .params(Params::between(0, 1)),
        M::method("end", |f, _, args| span_part(f, &args, true))
            .doc("end(n=0)\nWhere group `n` ends, in characters (-1 if it took no part).")
            .params(Params::between(0, 1)),
        M::attribute("text", |f, _| Ok(f.text_of(f.spans[0])))
            .doc("text\nThe whole match's text (`group(0)`)."),
    ],
);

impl NativeType for Found {
    fn type_name(&self) -> &str {
        "re.Match"
    }

    fn members(&self) -> &'static dyn Members {
        &FOUND
    }

    fn display(&self) -> String {
        let (a, b) = self.spans[0].unwrap_or((0, 0));
        format!(
            "<re.Match {:?} at {}..{}>",
            &self.text[a..b],
            self.position(a),
            self.position(b)
        )
    }
}
