//! String methods: splitting and joining, stripping, searching, case and classification,
//! padding, `partition` and `format`. Indexes are in characters, as scripts see strings.

use std::borrow::Cow;
use std::rc::Rc;

use crate::args::Args;
use crate::builtins::params::{
    collect, iterable_arg, no_args, opt_int, slice_bounds, width_arg, MAX_RESULT_BYTES,
};
use crate::fault::Fault;
use crate::format;
use crate::symbol::{self, Symbol};
use crate::value::Value;

/// Every str method.
pub(super) const NAMES: &[&str] = &[
    "split",
    "rsplit",
    "join",
    "strip",
    "lstrip",
    "rstrip",
    "replace",
    "startswith",
    "endswith",
    "upper",
    "lower",
    "find",
    "rfind",
    "index",
    "count",
    "splitlines",
    "isdigit",
    "isalpha",
    "isspace",
    "isalnum",
    "isupper",
    "islower",
    "title",
    "capitalize",
    "zfill",
    "ljust",
    "rjust",
    "center",
    "partition",
    "format",
    "encode",
];

/// Calls str method `name`; `receiver` is the string value itself (returned when unchanged).
pub(super) fn call(
    receiver: &Value,
    s: &Rc<String>,
    name: Symbol,
    args: Args<'_>,
) -> Option<Result<Value, Fault>> {
    let s: &str = s;
    Some(match name {
        symbol::SPLIT => split(s, args, false),
        symbol::RSPLIT => split(s, args, true),
        symbol::JOIN => join(s, args),
        symbol::STRIP => strip(receiver, s, args, Side::Both),
        symbol::LSTRIP => strip(receiver, s, args, Side::Left),
        symbol::RSTRIP => strip(receiver, s, args, Side::Right),
        symbol::REPLACE => replace(receiver, s, args),
        symbol::STARTSWITH => affix(s, args, true),
        symbol::ENDSWITH => affix(s, args, false),
        symbol::UPPER => no_args(&args).map(|()| Value::str(s.to_uppercase())),
        symbol::LOWER => no_args(&args).map(|()| Value::str(s.to_lowercase())),
        symbol::FIND => find(s, &args, false).map(Value::Int),
        symbol::RFIND => find(s, &args, true).map(Value::Int),
        symbol::INDEX => find(s, &args, false).and_then(|i| {
            if i < 0 {
                Err(Fault::new("substring not found"))
            } else {
                Ok(Value::Int(i))
            }
        }),
        symbol::COUNT => count(s, args),
        symbol::SPLITLINES => splitlines(s, args),
        symbol::ISDIGIT => classify(s, args, |c| {
            c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric())
        }),
        symbol::ISALPHA => classify(s, args, char::is_alphabetic),
        symbol::ISSPACE => classify(s, args, is_space),
        symbol::ISALNUM => classify(s, args, char::is_alphanumeric),
        symbol::ISUPPER => no_args(&args).map(|()| {
            Value::Bool(s.chars().any(char::is_uppercase) && !s.chars().any(char::is_lowercase))
        }),
        symbol::ISLOWER => no_args(&args).map(|()| {
            Value::Bool(s.chars().any(char::is_lowercase) && !s.chars().any(char::is_uppercase))
        }),
        symbol::TITLE => no_args(&args).map(|()| Value::str(title(s))),
        symbol::CAPITALIZE => no_args(&args).map(|()| Value::str(capitalize(s))),
        symbol::ZFILL => zfill(receiver, s, args),
        symbol::LJUST => pad(receiver, s, args, Side::Right),
        symbol::RJUST => pad(receiver, s, args, Side::Left),
        symbol::CENTER => pad(receiver, s, args, Side::Both),
        symbol::PARTITION => partition(receiver, s, args),
        symbol::FORMAT => format_method(s, args).map(Value::str),
        symbol::ENCODE => encode(s, &args),
        _ => return None,
    })
}

/// `s.encode(encoding="utf-8")`: the string's UTF-8 bytes (the only encoding cn strings have).
fn encode(s: &str, args: &Args<'_>) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    args.allow_named(&["encoding"])?;
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
    args.expect_count(0, 2)?;
    args.allow_named(&["sep", "maxsplit"])?;
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
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
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
fn strip(receiver: &Value, s: &str, args: Args<'_>, side: Side) -> Result<Value, Fault> {
    args.expect_count(0, 1)?;
    args.allow_named(&[])?;
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
        receiver.clone()
    } else {
        Value::str(stripped)
    })
}

/// `s.replace(old, new, count=-1)`: `s` with (the first `count`) occurrences of `old` replaced.
fn replace(receiver: &Value, s: &str, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(2, 3)?;
    args.allow_named(&["count"])?;
    let (old, new) = (args.str(0)?.as_str(), args.str(1)?.as_str());
    let count = opt_int(&args, 2, "count")?.unwrap_or(-1);
    let limit = usize::try_from(count).unwrap_or(usize::MAX);
    if limit == 0 || (!old.is_empty() && !s.contains(old)) {
        return Ok(receiver.clone());
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
    args.expect_count(1, 3)?;
    args.allow_named(&[])?;
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
    args.expect_count(1, 3)?;
    args.allow_named(&[])?;
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
    args.expect_count(1, 3)?;
    args.allow_named(&[])?;
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
    args.expect_count(0, 1)?;
    args.allow_named(&["keepends"])?;
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
fn classify(s: &str, args: Args<'_>, test: impl Fn(char) -> bool) -> Result<Value, Fault> {
    no_args(&args)?;
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
fn zfill(receiver: &Value, s: &str, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
    let width = width_arg(&args, 0)?;
    let len = char_len(s);
    if len >= width {
        return Ok(receiver.clone());
    }
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'+' | b'-') => s.split_at(1),
        _ => ("", s),
    };
    let mut out = String::with_capacity(s.len() + width - len);
    out.push_str(sign);
    push_repeated(&mut out, '0', width - len);
    out.push_str(digits);
    Ok(Value::str(out))
}

/// `s.ljust(width, fill=" ")`, `rjust`, `center`: `s` padded with `fill` to `width`
/// characters; `side` is where the padding goes.
fn pad(receiver: &Value, s: &str, args: Args<'_>, side: Side) -> Result<Value, Fault> {
    args.expect_count(1, 2)?;
    args.allow_named(&[])?;
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
        return Ok(receiver.clone());
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
fn partition(receiver: &Value, s: &str, args: Args<'_>) -> Result<Value, Fault> {
    args.expect_count(1, 1)?;
    args.allow_named(&[])?;
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
        None => vec![receiver.clone(), Value::str(""), Value::str("")],
    }))
}

/// How `{}` fields have been numbered so far in one `format` call.
#[derive(Default)]
struct Numbering {
    next_auto: usize,
    auto: bool,
    manual: bool,
}

/// `template.format(*args, **kwargs)`: replaces `{}`, `{0}`, `{name}` fields (with optional
/// `!r`/`!s` conversion and `:spec`); `{{` and `}}` are literal braces.
fn format_method(template: &str, args: Args<'_>) -> Result<String, Fault> {
    let mut out = String::with_capacity(template.len() + 8 * (args.len() + args.named.len()));
    let mut numbering = Numbering::default();
    let bytes = template.as_bytes();
    let mut i = 0;
    let mut literal = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'{' | b'}' => {
                out.push_str(&template[literal..i]);
                if bytes.get(i + 1) == Some(&b) {
                    out.push(b as char);
                    i += 2;
                } else if b == b'}' {
                    return Err(Fault::new(format!(
                        "{}(): single '}}' in format string",
                        args.function
                    )));
                } else {
                    let end = closing_brace(template, i, &args)?;
                    format_field(&mut out, &template[i + 1..end], &args, &mut numbering)?;
                    if out.len() > MAX_RESULT_BYTES {
                        return Err(Fault::new(format!("{}() result too large", args.function)));
                    }
                    i = end + 1;
                }
                literal = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&template[literal..]);
    Ok(out)
}

/// Byte index of the `}` closing the field opened at `open` (nested fields allowed in specs).
fn closing_brace(template: &str, open: usize, args: &Args<'_>) -> Result<usize, Fault> {
    let mut depth = 0usize;
    for (i, b) in template.bytes().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
    }
    Err(Fault::new(format!(
        "{}(): '{{' without a matching '}}' in format string",
        args.function
    )))
}

/// Formats one replacement field (the text between the braces) onto `out`.
fn format_field(
    out: &mut String,
    field: &str,
    args: &Args<'_>,
    numbering: &mut Numbering,
) -> Result<(), Fault> {
    let stop = field.find([':', '!']).unwrap_or(field.len());
    let (name, mut rest) = field.split_at(stop);
    let mut conversion = None;
    if let Some(after) = rest.strip_prefix('!') {
        let mut chars = after.chars();
        let Some(c) = chars.next() else {
            return Err(Fault::new(format!(
                "{}(): missing conversion after '!' in {{{field}}}",
                args.function
            )));
        };
        conversion = Some(c);
        rest = chars.as_str();
        if !(rest.is_empty() || rest.starts_with(':')) {
            return Err(Fault::new(format!(
                "{}(): expected ':' after conversion in {{{field}}}",
                args.function
            )));
        }
    }
    let spec = rest.strip_prefix(':').unwrap_or("");
    let value = lookup_field(name, args, numbering)?;
    let spec: Cow<'_, str> = if spec.contains('{') {
        Cow::Owned(expand_nested(spec, args, numbering)?)
    } else {
        Cow::Borrowed(spec)
    };
    let converted;
    let value = match conversion {
        None => value,
        Some('r' | 'a') => {
            converted = Value::str(format::repr(value));
            &converted
        }
        Some('s') => {
            converted = Value::str(format::display(value));
            &converted
        }
        Some(c) => {
            return Err(Fault::new(format!(
                "{}(): unknown conversion '!{c}'",
                args.function
            )))
        }
    };
    if spec.is_empty() {
        format::display_into(out, value);
    } else {
        out.push_str(&format::format_spec(value, &spec)?);
    }
    Ok(())
}

/// Replaces `{field}`s nested inside a format spec (`{:>{width}}`) with their values.
fn expand_nested(spec: &str, args: &Args<'_>, numbering: &mut Numbering) -> Result<String, Fault> {
    let mut out = String::with_capacity(spec.len());
    let mut rest = spec;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err(Fault::new(format!(
                "{}(): '{{' without a matching '}}' in format spec",
                args.function
            )));
        };
        let name = &rest[open + 1..open + close];
        format::display_into(&mut out, lookup_field(name, args, numbering)?);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The argument a field name refers to: `` (next positional), `0` (by index) or `name`.
fn lookup_field<'a>(
    name: &str,
    args: &Args<'a>,
    numbering: &mut Numbering,
) -> Result<&'a Value, Fault> {
    let function = args.function;
    let index = if name.is_empty() {
        if numbering.manual {
            return Err(Fault::new(format!(
                "{function}(): cannot switch from manual field numbering to automatic field numbering"
            )));
        }
        numbering.auto = true;
        numbering.next_auto += 1;
        numbering.next_auto - 1
    } else if name.bytes().all(|b| b.is_ascii_digit()) {
        if numbering.auto {
            return Err(Fault::new(format!(
                "{function}(): cannot switch from automatic field numbering to manual field numbering"
            )));
        }
        numbering.manual = true;
        name.parse().unwrap_or(usize::MAX)
    } else if name.contains(['.', '[']) {
        return Err(Fault::new(format!(
            "{function}(): field '{name}' uses attribute or index lookup, which is not supported"
        )));
    } else {
        return args
            .named(name)
            .ok_or_else(|| Fault::new(format!("{function}(): missing argument '{name}'")));
    };
    args.get(index).ok_or_else(|| {
        Fault::new(format!(
            "{function}(): replacement index {index} out of range for {} positional arguments",
            args.len()
        ))
    })
}
