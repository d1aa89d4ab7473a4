//! String methods: splitting and joining, stripping, searching, case and classification,
//! padding, `partition` and `format`. Indexes are in characters, as scripts see strings.

use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{
    collect, iterable_arg, opt_int, slice_bounds, width_arg, MAX_RESULT_BYTES,
};
use crate::fault::Fault;
use crate::format;
use crate::native::{Member, Params, Table};
use crate::value::Value;

use super::str_format::format_method;

/// A member of this type's table.
type M = Member<Rc<String>>;

/// Every str method.
pub(super) static TABLE: Table<Rc<String>> = Table::new(
    "str",
    "Immutable text: `\"abc\"`, `f\"{x}\"`, `str(x)`. Indexes count characters.",
    &[
        M::method("split", |s, _, args| split(s, args, false))
            .doc("split(sep=nil, maxsplit=-1)\nThe parts between `sep` (runs of whitespace when nil), at most `maxsplit` splits.")
            .params(Params::between(0, 2).keywords(&["sep", "maxsplit"])),
        M::method("rsplit", |s, _, args| split(s, args, true))
            .doc("rsplit(sep=nil, maxsplit=-1)\nLike split, counting splits from the right.")
            .params(Params::between(0, 2).keywords(&["sep", "maxsplit"])),
        M::method("join", |s, _, args| join(s, args))
            .doc("join(iterable)\nThe strings of `iterable` with this string between them.")
            .params(Params::exactly(1)),
        M::method("strip", |s, _, args| strip(s, args, Side::Both))
            .doc("strip(chars=nil)\nWithout leading and trailing whitespace (or characters in `chars`).")
            .params(Params::between(0, 1)),
        M::method("lstrip", |s, _, args| strip(s, args, Side::Left))
            .doc("lstrip(chars=nil)\nWithout leading whitespace (or characters in `chars`).")
            .params(Params::between(0, 1)),
        M::method("rstrip", |s, _, args| strip(s, args, Side::Right))
            .doc("rstrip(chars=nil)\nWithout trailing whitespace (or characters in `chars`).")
            .params(Params::between(0, 1)),
        M::method("replace", |s, _, args| replace(s, args))
            .doc("replace(old, new, count=-1)\nWith `old` replaced by `new`, at most `count` times.")
            .params(Params::between(2, 3).keywords(&["count"])),
        M::method("startswith", |s, _, args| affix(s, args, true))
            .doc("startswith(prefix, start=0, end=len)\nWhether it starts with `prefix` (a str or a tuple of them).")
            .params(Params::between(1, 3)),
        M::method("endswith", |s, _, args| affix(s, args, false))
            .doc("endswith(suffix, start=0, end=len)\nWhether it ends with `suffix` (a str or a tuple of them).")
            .params(Params::between(1, 3)),
        M::method("upper", |s, _, _| Ok(Value::str(s.to_uppercase())))
            .doc("upper()\nIn upper case."),
        M::method("lower", |s, _, _| Ok(Value::str(s.to_lowercase())))
            .doc("lower()\nIn lower case."),
        M::method("find", |s, _, args| find(s, &args, false).map(Value::Int))
            .doc("find(sub, start=0, end=len)\nThe index of the first `sub`, -1 when absent.")
            .params(Params::between(1, 3)),
        M::method("rfind", |s, _, args| find(s, &args, true).map(Value::Int))
            .doc("rfind(sub, start=0, end=len)\nThe index of the last `sub`, -1 when absent.")
            .params(Params::between(1, 3)),
        M::method("index", |s, _, args| match find(s, &args, false)? {
            i if i < 0 => Err(Fault::new("substring not found")),
            i => Ok(Value::Int(i)),
        })
        .doc("index(sub, start=0, end=len)\nThe index of the first `sub`; faults when absent.")
        .params(Params::between(1, 3)),
        M::method("count", |s, _, args| count(s, args))
            .doc("count(sub, start=0, end=len)\nHow many times `sub` occurs, without overlaps.")
            .params(Params::between(1, 3)),
        M::method("splitlines", |s, _, args| splitlines(s, args))
            .doc("splitlines(keepends=false)\nThe lines, split at any line boundary.")
            .params(Params::between(0, 1).keywords(&["keepends"])),
        M::method("isdigit", |s, _, _| {
            classify(s, |c| c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()))
        })
        .doc("isdigit()\nWhether it is non-empty and all digits."),
        M::method("isalpha", |s, _, _| classify(s, char::is_alphabetic))
            .doc("isalpha()\nWhether it is non-empty and all letters."),
        M::method("isspace", |s, _, _| classify(s, is_space))
            .doc("isspace()\nWhether it is non-empty and all whitespace."),
        M::method("isalnum", |s, _, _| classify(s, char::is_alphanumeric))
            .doc("isalnum()\nWhether it is non-empty and all letters or digits."),
        M::method("isupper", |s, _, _| {
            Ok(Value::Bool(
                s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase),
            ))
        })
        .doc("isupper()\nWhether it has cased characters, all upper case."),
        M::method("islower", |s, _, _| {
            Ok(Value::Bool(
                s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase),
            ))
        })
        .doc("islower()\nWhether it has cased characters, all lower case."),
        M::method("title", |s, _, _| Ok(Value::str(title(s))))
            .doc("title()\nEach word capitalised."),
        M::method("capitalize", |s, _, _| Ok(Value::str(capitalize(s))))
            .doc("capitalize()\nThe first character upper case, the rest lower case."),
        M::method("zfill", |s, _, args| zfill(s, args))
            .doc("zfill(width)\nPadded with zeros on the left to `width`, after any sign.")
            .params(Params::exactly(1)),
        M::method("ljust", |s, _, args| pad(s, args, Side::Right))
            .doc("ljust(width, fillchar=\" \")\nLeft-aligned in `width` characters.")
            .params(Params::between(1, 2)),
        M::method("rjust", |s, _, args| pad(s, args, Side::Left))
            .doc("rjust(width, fillchar=\" \")\nRight-aligned in `width` characters.")
            .params(Params::between(1, 2)),
        M::method("center", |s, _, args| pad(s, args, Side::Both))
            .doc("center(width, fillchar=\" \")\nCentred in `width` characters.")
            .params(Params::between(1, 2)),
        M::method("partition", |s, _, args| partition(s, args))
            .doc("partition(sep)\n(before, sep, after) at the first `sep`, or (s, \"\", \"\").")
            .params(Params::exactly(1)),
        M::method("format", |s, _, args| format_method(s, args).map(Value::str))
            .doc("format(*args, **kwargs)\nWith `{}`, `{0}` and `{name}` fields replaced (Python's format syntax).")
            .params(Params::at_least(0).any_keywords()),
        M::method("encode", |s, _, args| encode(s, &args))
            .doc("encode(encoding=\"utf-8\")\nThe UTF-8 bytes of the text.")
            .params(Params::between(0, 1).keywords(&["encoding"])),
    ],
);

/// `s.encode(encoding="utf-8")`: the string's UTF-8 bytes (the only encoding cn strings have).
fn encode(s: &str, args: &Args<'_>) -> Result<Value, Fault> {
    if let Some(encoding) = args.get_or_named(0, "encoding") {
        let name = match encoding {
            Value::Str(name) => name.to_ascii_lowercase().replace(['-', '_'], ""),
            other => {
                return Err(Fault::new(format!(
                    "encode() encoding must be a str, not {}",
                    other.type_name()
                )))
            }
        };
        if name != "utf8" {
            return Err(Fault::new(format!(
                "encode() supports only \"utf-8\", not {}",
                format::repr(encoding)
            )));
        }
    }
    Ok(Value::bytes(s.as_bytes().to_vec()))
}

/// Python's `str.isspace` characters: Unicode whitespace plus the ASCII separators 0x1c-0x1f.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// [`is_space`] for an ASCII byte: space, `\t` `\n` `\v` `\f` `\r`, and `\x1c`-`\x1f`.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r' | 0x1c..=0x1f)
}

/// `split()` of ASCII text, byte by byte (most lines of logs and data files): the same pieces
/// as the general path, without decoding characters.
fn split_ascii_whitespace(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && is_ascii_space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !is_ascii_space(bytes[i]) {
            i += 1;
        }
        if start < i {
            // ASCII text: every byte index is a character boundary.
            parts.push(&s[start..i]);
        }
    }
    parts
}

/// Number of characters in `s`.
fn char_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Byte offset of character `index` (the end of the string past the last character).
fn byte_offset(s: &str, index: usize, ascii: bool) -> usize {
    if ascii {
        index.min(s.len())
    } else {
        s.char_indices().nth(index).map_or(s.len(), |(b, _)| b)
    }
}

/// An optional string argument (`sep=nil`), positionally at `i` or by keyword `name`.
fn opt_str<'a>(args: &Args<'a>, i: usize, name: &str) -> Result<Option<&'a str>, Fault> {
    match args.get_or_named(i, name) {
        None | Some(Value::Nil) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_str())),
        Some(other) => Err(args.wrong_type(i, "str or nil", other)),
    }
}

fn strs(parts: impl Iterator<Item = impl Into<String>>) -> Value {
    Value::list(parts.map(Value::str).collect())
}

/// `s.split(sep=nil, maxsplit=-1)` and `s.rsplit(...)`: pieces between separators; without
/// `sep`, runs of whitespace separate and empty pieces are dropped.
fn split(s: &str, args: Args<'_>, from_right: bool) -> Result<Value, Fault> {
    let sep = opt_str(&args, 0, "sep")?;
    let maxsplit = opt_int(&args, 1, "maxsplit")?.unwrap_or(-1);
    let limit = usize::try_from(maxsplit).ok();
    let Some(sep) = sep else {
        return Ok(strs(split_whitespace(s, limit, from_right).into_iter()));
    };
    if sep.is_empty() {
        return Err(Fault::new(format!("{}() empty separator", args.function)));
    }
    let mut single = sep.chars();
    let single = match (single.next(), single.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    Ok(match (limit, from_right, single) {
        (None, _, Some(c)) => strs(s.split(c)),
        (None, _, None) => strs(s.split(sep)),
        (Some(n), false, Some(c)) => strs(s.splitn(n.saturating_add(1), c)),
        (Some(n), false, None) => strs(s.splitn(n.saturating_add(1), sep)),
        (Some(n), true, _) => {
            let mut parts: Vec<&str> = s.rsplitn(n.saturating_add(1), sep).collect();
            parts.reverse();
            strs(parts.into_iter())
        }
    })
}

/// Splits on whitespace runs, at most `limit` times, from the left or the right.
fn split_whitespace(s: &str, limit: Option<usize>, from_right: bool) -> Vec<&str> {
    if limit.is_none() && s.is_ascii() {
        return split_ascii_whitespace(s);
    }
    let mut parts = Vec::new();
    if !from_right {
        let mut rest = s.trim_start_matches(is_space);
        while !rest.is_empty() {
            if limit == Some(parts.len()) {
                parts.push(rest);
                break;
            }
            match rest.find(is_space) {
                Some(i) => {
                    parts.push(&rest[..i]);
                    rest = rest[i..].trim_start_matches(is_space);
                }
                None => {
                    parts.push(rest);
                    break;
                }
            }
        }
    } else {
        let mut rest = s.trim_end_matches(is_space);
        while !rest.is_empty() {
            if limit == Some(parts.len()) {
                parts.push(rest);
                break;
            }
            match rest.char_indices().rev().find(|(_, c)| is_space(*c)) {
                Some((i, c)) => {
                    parts.push(&rest[i + c.len_utf8()..]);
                    rest = rest[..i].trim_end_matches(is_space);
                }
                None => {
                    parts.push(rest);
                    break;
                }
            }
        }
        parts.reverse();
    }
    parts
}

/// `sep.join(iterable)`: the strings of `iterable` with `sep` between them.
fn join(sep: &str, args: Args<'_>) -> Result<Value, Fault> {
    match iterable_arg(&args, 0)? {
        Value::List(items) => join_values(sep, &items.borrow(), &args),
        Value::Tuple(items) => join_values(sep, items, &args),
        other => join_values(sep, &collect(other)?, &args),
    }
}

fn join_values(sep: &str, items: &[Value], args: &Args<'_>) -> Result<Value, Fault> {
    let mut total = sep.len().saturating_mul(items.len().saturating_sub(1));
    for (i, item) in items.iter().enumerate() {
        match item {
            Value::Str(part) => total = total.saturating_add(part.len()),
            other => {
                return Err(Fault::new(format!(
                    "{}() item {i} must be str, not {}",
                    args.function,
                    other.type_name()
                )))
            }
        }
    }
    if let [only @ Value::Str(_)] = items {
        return Ok(only.clone());
    }
    if total > MAX_RESULT_BYTES {
        return Err(Fault::new(format!(
            "{}() result too large ({total} bytes)",
            args.function
        )));
    }
    let mut out = String::with_capacity(total);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        if let Value::Str(part) = item {
            out.push_str(part);
        }
    }
    Ok(Value::str(out))
}

/// Which end(s) of a string an operation applies to.
#[derive(Clone, Copy)]
enum Side {
    Left,
    Right,
    Both,
}

/// `s.strip(chars=nil)`, `lstrip`, `rstrip`: without `chars`, strips whitespace.
fn strip(s: &Rc<String>, args: Args<'_>, side: Side) -> Result<Value, Fault> {
    let stripped = match opt_str(&args, 0, "chars")? {
        None => match side {
            Side::Left => s.trim_start_matches(is_space),
            Side::Right => s.trim_end_matches(is_space),
            Side::Both => s.trim_matches(is_space),
        },
        Some(set) => {
            let strip = |c: char| set.contains(c);
            match side {
                Side::Left => s.trim_start_matches(strip),
                Side::Right => s.trim_end_matches(strip),
                Side::Both => s.trim_matches(strip),
            }
        }
    };
    Ok(if stripped.len() == s.len() {
        Value::Str(s.clone())
    } else {
        Value::str(stripped)
    })
}

/// `s.replace(old, new, count=-1)`: `s` with (the first `count`) occurrences of `old` replaced.
fn replace(s: &Rc<String>, args: Args<'_>) -> Result<Value, Fault> {
    let (old, new) = (args.str(0)?.as_str(), args.str(1)?.as_str());
    let count = opt_int(&args, 2, "count")?.unwrap_or(-1);
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    if limit == 0 || (!old.is_empty() && !s.contains(old)) {
        return Ok(Value::Str(s.clone()));
    }
    let mut capacity = s.len();
    if new.len() > old.len() {
        let matches = if old.is_empty() {
            char_len(s) + 1
        } else {
            s.matches(old).take(limit).count()
        };
        let size = matches
            .min(limit)
            .checked_mul(new.len() - old.len())
            .and_then(|grow| grow.checked_add(s.len()));
        match size {
            Some(size) if size <= MAX_RESULT_BYTES => capacity = size,
            _ => return Err(Fault::new(format!("{}() result too large", args.function))),
        }
    }
    let mut out = String::with_capacity(capacity);
    let mut last = 0;
    for (i, m) in s.match_indices(old).take(limit) {
        out.push_str(&s[last..i]);
        out.push_str(new);
        last = i + m.len();
    }
    out.push_str(&s[last..]);
    Ok(Value::str(out))
}

/// `s.startswith(prefix, start=0, end=len)` / `s.endswith(suffix, ...)`: the affix may be a
/// tuple of strings, any of which matches.
fn affix(s: &str, args: Args<'_>, prefix: bool) -> Result<Value, Fault> {
    let start = opt_int(&args, 1, "start")?;
    let end = opt_int(&args, 2, "end")?;
    let s = if start.is_some() || end.is_some() {
        let ascii = s.is_ascii();
        let (cs, ce) = slice_bounds(char_len(s), start, end);
        if cs > ce {
            return Ok(Value::Bool(false));
        }
        &s[byte_offset(s, cs, ascii)..byte_offset(s, ce, ascii)]
    } else {
        s
    };
    let matches = |a: &str| {
        if prefix {
            s.starts_with(a)
        } else {
            s.ends_with(a)
        }
    };
    match args.value(0)? {
        Value::Str(a) => Ok(Value::Bool(matches(a))),
        Value::Tuple(options) => {
            let mut found = false;
            for option in options.iter() {
                match option {
                    Value::Str(a) => found = found || matches(a),
                    other => {
                        return Err(Fault::new(format!(
                            "{}() tuple items must be str, not {}",
                            args.function,
                            other.type_name()
                        )))
                    }
                }
            }
            Ok(Value::Bool(found))
        }
        other => Err(args.wrong_type(0, "str or tuple of str", other)),
    }
}

/// The part of `s` between character positions `start` and `end` (Python slice rules) with
/// its starting character index, or `None` when `start` lies past the end.
fn search_window<'s>(s: &'s str, args: &Args<'_>) -> Result<Option<(&'s str, usize, bool)>, Fault> {
    let start = opt_int(args, 1, "start")?;
    let end = opt_int(args, 2, "end")?;
    let ascii = s.is_ascii();
    if start.is_none() && end.is_none() {
        return Ok(Some((s, 0, ascii)));
    }
    let len = char_len(s);
    if start.is_some_and(|st| st > len as i64) {
        return Ok(None);
    }
    let (cs, ce) = slice_bounds(len, start, end);
    if cs > ce {
        return Ok(None);
    }
    Ok(Some((
        &s[byte_offset(s, cs, ascii)..byte_offset(s, ce, ascii)],
        cs,
        ascii,
    )))
}

/// `s.find(sub, start=0, end=len)` / `rfind`: character index of `sub`, or -1.
fn find(s: &str, args: &Args<'_>, from_right: bool) -> Result<i64, Fault> {
    let sub = args.str(0)?.as_str();
    let Some((window, offset, ascii)) = search_window(s, args)? else {
        return Ok(-1);
    };
    let found = if from_right {
        window.rfind(sub)
    } else {
        window.find(sub)
    };
    Ok(match found {
        Some(b) => {
            (offset
                + if ascii {
                    b
                } else {
                    window[..b].chars().count()
                }) as i64
        }
        None => -1,
    })
}

/// `s.count(sub, start=0, end=len)`: non-overlapping occurrences of `sub`.
fn count(s: &str, args: Args<'_>) -> Result<Value, Fault> {
    let sub = args.str(0)?.as_str();
    let Some((window, _, _)) = search_window(s, &args)? else {
        return Ok(Value::Int(0));
    };
    let n = if sub.is_empty() {
        char_len(window) + 1
    } else {
        window.matches(sub).count()
    };
    Ok(Value::Int(n as i64))
}

/// `s.splitlines(keepends=false)`: the lines of `s`, split at any line boundary.
fn splitlines(s: &str, args: Args<'_>) -> Result<Value, Fault> {
    let keepends = match args.get_or_named(0, "keepends") {
        None | Some(Value::Nil) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => return Err(args.wrong_type(0, "bool", other)),
    };
    let is_break = |c: char| {
        matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        )
    };
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if is_break(c) {
            let mut end = i + c.len_utf8();
            if c == '\r' && chars.peek().is_some_and(|(_, n)| *n == '\n') {
                chars.next();
                end += 1;
            }
            lines.push(Value::str(if keepends {
                &s[start..end]
            } else {
                &s[start..i]
            }));
            start = end;
        }
    }
    if start < s.len() {
        lines.push(Value::str(&s[start..]));
    }
    Ok(Value::list(lines))
}

/// `s.isdigit()` and friends: true when `s` is non-empty and every character passes.
fn classify(s: &str, test: impl Fn(char) -> bool) -> Result<Value, Fault> {
    Ok(Value::Bool(!s.is_empty() && s.chars().all(test)))
}

/// `s.title()`: every word capitalized (a word starts after any uncased character).
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut previous_cased = false;
    for c in s.chars() {
        if previous_cased {
            out.extend(c.to_lowercase());
        } else {
            out.extend(c.to_uppercase());
        }
        previous_cased = c.is_uppercase() || c.is_lowercase();
    }
    out
}

/// `s.capitalize()`: the first character upper case, the rest lower case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    let mut out = String::with_capacity(s.len());
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(&chars.as_str().to_lowercase());
    }
    out
}

/// `s.zfill(width)`: `s` padded with zeros on the left (after any sign) to `width` characters.
fn zfill(s: &Rc<String>, args: Args<'_>) -> Result<Value, Fault> {
    let width = width_arg(&args, 0)?;
    let len = char_len(s);
    if len >= width {
        return Ok(Value::Str(s.clone()));
    }
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'+' | b'-') => s.split_at(1),
        _ => ("", s.as_str()),
    };
    let mut out = String::with_capacity(s.len() + width - len);
    out.push_str(sign);
    push_repeated(&mut out, '0', width - len);
    out.push_str(digits);
    Ok(Value::str(out))
}

/// `s.ljust(width, fill=" ")`, `rjust`, `center`: `s` padded with `fill` to `width`
/// characters; `side` is where the padding goes.
fn pad(s: &Rc<String>, args: Args<'_>, side: Side) -> Result<Value, Fault> {
    let width = width_arg(&args, 0)?;
    let fill = match args.get(1) {
        None => ' ',
        Some(_) => {
            let text = args.str(1)?;
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(Fault::new(format!(
                        "{}() fill character must be exactly one character, got {}",
                        args.function,
                        format::repr(&Value::Str(text.clone()))
                    )))
                }
            }
        }
    };
    let len = char_len(s);
    if len >= width {
        return Ok(Value::Str(s.clone()));
    }
    let room = width - len;
    let (left, right) = match side {
        Side::Left => (room, 0),
        Side::Right => (0, room),
        // CPython's split: the odd space goes left only when both room and width are odd.
        Side::Both => {
            let left = room / 2 + (room & width & 1);
            (left, room - left)
        }
    };
    let mut out = String::with_capacity(s.len() + room * fill.len_utf8());
    push_repeated(&mut out, fill, left);
    out.push_str(s);
    push_repeated(&mut out, fill, right);
    Ok(Value::str(out))
}

fn push_repeated(out: &mut String, c: char, n: usize) {
    for _ in 0..n {
        out.push(c);
    }
}

/// `s.partition(sep)`: (before, sep, after) around the first `sep`, or (s, "", "").
fn partition(s: &Rc<String>, args: Args<'_>) -> Result<Value, Fault> {
    let sep_value = args.value(0)?;
    let sep = args.str(0)?.as_str();
    if sep.is_empty() {
        return Err(Fault::new(format!("{}() empty separator", args.function)));
    }
    Ok(Value::tuple(match s.find(sep) {
        Some(i) => vec![
            Value::str(&s[..i]),
            sep_value.clone(),
            Value::str(&s[i + sep.len()..]),
        ],
        None => vec![Value::Str(s.clone()), Value::str(""), Value::str("")],
    }))
}
