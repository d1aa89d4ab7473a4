//! `re`: regular expressions on the `regex` crate. Patterns are compiled once
//! (`re.compile`) or cached by the module functions; matching takes time linear in the text
//! whatever the pattern (the crate has no backtracking), so a pattern or a text from a request
//! cannot stall a server. The syntax is the crate's (Perl-like, as Python's and Go's RE2): no
//! backreferences or lookaround, which are what make other engines exponential.
//!
//! Positions (`start`, `end`) count characters, as indexing a cn str does; the crate works in
//! bytes, converted here (free for ASCII text). `pattern` holds the `Pattern` type and the
//! functions; `found` the `Match` type.

mod found;
mod pattern;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use cn_runtime::native::{Function, ModuleBuilder, Params};
use cn_runtime::{Args, Fault, Value, Vm};

pub use pattern::{Operation, Pattern};

/// The module's functions: each compiles (or takes from the cache) its pattern, then does what
/// the `Pattern` method of the same name does.
static FUNCTIONS: &[Function] = &[
    Function::new("compile", compile)
        .doc("compile(pattern, ignore_case=false, multiline=false, dot_all=false)\nA `re.Pattern`; a malformed pattern faults, showing where.")
        .params(Params::exactly(1).keywords(&["ignore_case", "multiline", "dot_all"])),
    Function::new("search", |vm, args| with_pattern(vm, args, Operation::Search))
        .doc("search(pattern, text)\nThe first `re.Match` anywhere in `text`, or nil.")
        .params(Params::exactly(2)),
    Function::new("match", |vm, args| with_pattern(vm, args, Operation::Match))
        .doc("match(pattern, text)\nA `re.Match` that starts at the beginning of `text`, or nil.")
        .params(Params::exactly(2)),
    Function::new("full_match", |vm, args| with_pattern(vm, args, Operation::FullMatch))
        .doc("full_match(pattern, text)\nA `re.Match` that covers all of `text`, or nil.")
        .params(Params::exactly(2)),
    Function::new("find_all", |vm, args| with_pattern(vm, args, Operation::FindAll))
        .doc("find_all(pattern, text)\nEvery non-overlapping match: the matched strs, or with one group that group's, with several a tuple of them per match (as Python's findall).")
        .params(Params::exactly(2)),
    Function::new("find_iter", |vm, args| with_pattern(vm, args, Operation::FindIter))
        .doc("find_iter(pattern, text)\nEvery non-overlapping match as a `re.Match`.")
        .params(Params::exactly(2)),
    Function::new("replace", |vm, args| with_pattern(vm, args, Operation::Replace))
        .doc("replace(pattern, text, replacement, count=0)\n`text` with matches replaced (all, or the first `count`): `replacement` is a str where `$1`, `${name}` insert groups (`$$` is a `$`), or a function of the `re.Match` returning a str.")
        .params(Params::exactly(3).keywords(&["count"])),
    Function::new("split", |vm, args| with_pattern(vm, args, Operation::Split))
        .doc("split(pattern, text, max_split=0)\n`text` split around the matches (at most `max_split` times when given).")
        .params(Params::exactly(2).keywords(&["max_split"])),
    Function::new("escape", escape)
        .doc("escape(text)\n`text` with every character that means something in a pattern escaped.")
        .params(Params::exactly(1)),
];

/// Fills the module on first import.
pub fn module(m: &mut ModuleBuilder, _vm: &mut Vm) {
    m.doc("Regular expressions (the regex crate: linear time, no backreferences): compile, search, match, full_match, find_all, find_iter, replace, split, escape.")
        .functions(FUNCTIONS);
}

/// Compilation flags.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, Debug)]
pub struct Flags {
    pub ignore_case: bool,
    pub multiline: bool,
    pub dot_all: bool,
}

/// Patterns the module functions compiled, by text; emptied when full (as CPython's `re` does).
const CACHE_SIZE: usize = 256;

thread_local! {
    static CACHE: RefCell<HashMap<String, Rc<Pattern>>> = RefCell::new(HashMap::new());
}

/// `pattern` compiled with `flags`, or the fault that explains why it cannot be.
pub fn build(function: &str, pattern: &str, flags: Flags) -> Result<Pattern, Fault> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(flags.ignore_case)
        .multi_line(flags.multiline)
        .dot_matches_new_line(flags.dot_all)
        // Bounds on what one pattern may cost to compile and hold (the crate's defaults are
        // 10 MiB; a service compiling patterns from requests wants them kept).
        .size_limit(8 << 20)
        .dfa_size_limit(8 << 20)
        .build()
        .map(|regex| Pattern::new(regex, flags))
        .map_err(|error| Fault::new(format!("{function}: invalid pattern: {error}")))
}

fn compile(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let flags = Flags {
        ignore_case: args.flag("ignore_case")?,
        multiline: args.flag("multiline")?,
        dot_all: args.flag("dot_all")?,
    };
    let pattern = build("re.compile", args.str(0)?, flags)?;
    Ok(cn_runtime::object::NativeObject::value(pattern))
}

/// The cached pattern for `text`.
fn cached(function: &str, text: &str) -> Result<Rc<Pattern>, Fault> {
    if let Some(found) = CACHE.with(|cache| cache.borrow().get(text).cloned()) {
        return Ok(found);
    }
    let pattern = Rc::new(build(function, text, Flags::default())?);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.len() >= CACHE_SIZE {
            cache.clear();
        }
        cache.insert(text.to_string(), pattern.clone());
    });
    Ok(pattern)
}

/// `re.NAME(pattern, text, ...)`: the pattern's `operation` on the rest of the arguments.
fn with_pattern(vm: &mut Vm, args: Args<'_>, operation: Operation) -> Result<Value, Fault> {
    let pattern = match args.value(0)? {
        Value::Str(text) => cached(args.function, text)?,
        Value::Object(object) => match object.downcast::<Pattern>() {
            Some(pattern) => return pattern.call(vm, operation, args, 1),
            None => return Err(args.wrong_type(0, "str or re.Pattern", args.value(0)?)),
        },
        other => return Err(args.wrong_type(0, "str or re.Pattern", other)),
    };
    pattern.call(vm, operation, args, 1)
}

fn escape(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    Ok(Value::str(regex::escape(args.str(0)?)))
}
