//! `template.format(*args, **kwargs)`: Python's replacement fields `{}`, `{0}`, `{name}` with
//! `!r`/`!s` conversions and `:spec` (nested fields allowed in the spec).

use std::borrow::Cow;

use crate::args::Args;
use crate::builtins::params::MAX_RESULT_BYTES;
use crate::fault::Fault;
use crate::format;
use crate::value::Value;

/// How `{}` fields have been numbered so far in one `format` call.
#[derive(Default)]
struct Numbering {
    next_auto: usize,
    auto: bool,
    manual: bool,
}

/// `template.format(*args, **kwargs)`: replaces `{}`, `{0}`, `{name}` fields (with optional
/// `!r`/`!s` conversion and `:spec`); `{{` and `}}` are literal braces.
pub(super) fn format_method(template: &str, args: Args<'_>) -> Result<String, Fault> {
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
