//! Turning values into text: `str()` ([`display`]), `repr()` ([`repr`]) and f-string format specs
//! ([`format_spec`], Python's mini-language).
//!
//! Containers print their elements with `repr`, in a stable order (dicts in insertion order), so
//! program output is deterministic and golden-testable.

use std::fmt::Write;

use std::rc::Rc;

use crate::fault::Fault;
use crate::object::Record;
use crate::value::Value;

/// Containers nested deeper than this print as `...`.
const MAX_DEPTH: usize = 64;

/// The most text `str`, `repr` and `print` make of one value: past it the text ends with
/// [`TRUNCATED`]. A list that holds the same list twice, thirty levels down, would otherwise
/// print a billion elements.
pub const MAX_TEXT: usize = 64 << 20;

/// What ends a text cut at its limit.
pub const TRUNCATED: &str = "...<truncated>";

/// `str(value)`.
pub fn display(value: &Value) -> String {
    let mut out = String::new();
    display_into(&mut out, value);
    out
}

/// Appends `str(value)` to `out`.
#[inline]
pub fn display_into(out: &mut String, value: &Value) {
    match value {
        Value::Str(s) => out.push_str(s),
        Value::Int(i) => write_int(out, *i),
        other => write_repr(out, other),
    }
}

/// Appends `repr(value)` to `out`; kept out of line so the common cases above stay small.
#[inline(never)]
fn write_repr(out: &mut String, value: &Value) {
    Repr::new(out, MAX_TEXT).value(value, 0)
}

/// `str(value)` cut at about `limit` bytes (log fields, error messages).
pub fn display_limited(value: &Value, limit: usize) -> String {
    let mut out = String::new();
    match value {
        Value::Str(s) => {
            out.push_str(prefix(s, limit));
            if s.len() > limit {
                out.push_str(TRUNCATED);
            }
        }
        other => Repr::new(&mut out, limit).value(other, 0),
    }
    out
}

/// The first `at` bytes of `text` or fewer, ending at a character boundary.
fn prefix(text: &str, at: usize) -> &str {
    let mut end = at.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Appends an integer in decimal without going through `fmt` (f-strings format many ints).
pub fn write_int(out: &mut String, i: i64) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push('-');
    }
    for &d in &digits[at..] {
        out.push(d as char);
    }
}

/// `repr(value)`.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    Repr::new(&mut out, MAX_TEXT).value(value, 0);
    out
}

/// Writes a value's `repr`: mutable containers already being written (a list that contains
/// itself) print as `[...]`, `{...}` or `Name(...)` as in Python, and writing stops at the limit.
struct Repr<'a> {
    out: &'a mut String,
    /// Where the text must end.
    end: usize,
    /// The lists, dicts and records being written, outermost first.
    open: Vec<*const ()>,
    full: bool,
}

impl<'a> Repr<'a> {
    fn new(out: &'a mut String, limit: usize) -> Repr<'a> {
        let end = out.len().saturating_add(limit);
        Repr {
            out,
            end,
            open: Vec::new(),
            full: false,
        }
    }

    /// Whether the limit is reached (and the text was ended with [`TRUNCATED`]).
    fn full(&mut self) -> bool {
        if !self.full && self.out.len() > self.end {
            let kept = prefix(self.out, self.end).len();
            self.out.truncate(kept);
            self.out.push_str(TRUNCATED);
            self.full = true;
        }
        self.full
    }

    /// Writes the container at `id` with `write`, or `placeholder` if it is being written already.
    fn container(&mut self, id: *const (), placeholder: &str, write: impl FnOnce(&mut Self)) {
        if self.open.contains(&id) {
            self.out.push_str(placeholder);
            return;
        }
        self.open.push(id);
        write(self);
        self.open.pop();
    }

    /// `{1, 2}`, or `set()`. Out of `value`, whose frame every level of nesting pays for.
    #[inline(never)]
    fn set(&mut self, set: &crate::set::SetCell, d: usize) {
        let set = set.borrow();
        if set.is_empty() {
            self.out.push_str("set()");
            return;
        }
        self.out.push('{');
        for (i, member) in set.iter().enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.out.push_str(", ");
            }
            self.value(member.value(), d);
        }
        self.close("}");
    }

    fn value(&mut self, value: &Value, depth: usize) {
        if self.full() {
            return;
        }
        if depth > MAX_DEPTH {
            self.out.push_str("...");
            return;
        }
        let d = depth + 1;
        match value {
            Value::Nil => self.out.push_str("nil"),
            Value::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => write_int(self.out, *i),
            Value::Float(f) => write_float(self.out, *f),
            Value::Duration(nanos) => write_duration(self.out, *nanos),
            Value::Str(s) => write_quoted(self.out, s),
            Value::Bytes(b) => write_bytes(self.out, b),
            Value::List(items) => self.container(Rc::as_ptr(items).cast(), "[...]", |w| {
                w.seq("[", "]", &items.borrow(), d)
            }),
            Value::Tuple(items) => {
                if items.len() == 1 {
                    self.out.push('(');
                    self.value(&items[0], d);
                    self.close(",)");
                } else {
                    self.seq("(", ")", items, d);
                }
            }
            Value::Dict(dict) => self.container(Rc::as_ptr(dict).cast(), "{...}", |w| {
                w.out.push('{');
                for (i, (k, v)) in dict.borrow().iter().enumerate() {
                    if w.full() {
                        break;
                    }
                    if i > 0 {
                        w.out.push_str(", ");
                    }
                    w.value(k.value(), d);
                    w.out.push_str(": ");
                    w.value(v, d);
                }
                w.close("}");
            }),
            Value::Set(set) => self.set(set, d),
            Value::Record(record) => {
                let placeholder = format!("{}(...)", record.ty.name);
                self.container(
                    crate::record::RecordRef::as_ptr(record).cast(),
                    &placeholder,
                    |w| w.record(record, d),
                )
            }
            Value::Variant(variant) => {
                let _ = write!(self.out, "{}", variant.name);
                if !variant.payload.is_empty() {
                    self.seq("(", ")", &variant.payload, d);
                }
            }
            Value::Cell(c) => self.value(&c.borrow(), d),
            other => write_opaque(self.out, other),
        }
        self.full();
    }

    fn record(&mut self, record: &Record, d: usize) {
        self.out.push_str(&record.ty.name);
        self.out.push('(');
        let fields = record.fields();
        for (i, (field, v)) in record.ty.fields.iter().zip(fields.iter()).enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.out.push_str(", ");
            }
            let _ = write!(self.out, "{}=", field.name);
            if field.decorator("secret").is_some() {
                self.out.push_str("***");
            } else {
                self.value(v, d);
            }
        }
        self.close(")");
    }

    fn seq(&mut self, open: &str, close: &str, items: &[Value], depth: usize) {
        self.out.push_str(open);
        for (i, item) in items.iter().enumerate() {
            if self.full() {
                break;
            }
            if i > 0 {
                self.out.push_str(", ");
            }
            self.value(item, depth);
        }
        self.close(close);
    }

    /// Closes a bracket, unless the text was cut (it then ends with the marker).
    fn close(&mut self, bracket: &str) {
        if !self.full {
            self.out.push_str(bracket);
        }
    }
}

/// Values that print as a name, not their contents: functions, types, modules, objects.
fn write_opaque(out: &mut String, value: &Value) {
    match value {
        Value::Function(f) => {
            let _ = write!(out, "<fn {}>", f.name());
        }
        Value::Native(f) => {
            let _ = write!(out, "<native fn {}>", f.name);
        }
        Value::Bound(b) => match &**b {
            crate::object::BoundMethod::Builtin { receiver, name } => {
                let _ = write!(out, "<bound method {}.{}>", receiver.type_name(), name);
            }
            crate::object::BoundMethod::Script { receiver, func } => {
                let name = match func {
                    Value::Function(f) => f.name().to_string(),
                    other => other.type_name().to_string(),
                };
                let _ = write!(out, "<bound method {}.{}>", receiver.type_name(), name);
            }
        },
        Value::Type(t) => {
            let _ = write!(out, "<type {}>", t.name);
        }
        Value::Enum(e) => {
            let _ = write!(out, "<enum {}>", e.name);
        }
        Value::Module(m) => {
            let _ = write!(out, "<module {}>", m.name);
        }
        Value::Range(r) => {
            if r.step == 1 {
                let _ = write!(out, "range({}, {})", r.start, r.stop);
            } else {
                let _ = write!(out, "range({}, {}, {})", r.start, r.stop, r.step);
            }
        }
        Value::Iterator(_) => out.push_str("<iterator>"),
        Value::Object(o) => out.push_str(&o.inner.display()),
        Value::Undefined => out.push_str("<undefined>"),
        // Containers and scalars are written by `Repr::value`.
        _ => {}
    }
}

/// Floats print like Python's `repr`: shortest round-trip digits, always with a `.` or exponent.
pub fn write_float(out: &mut String, f: f64) {
    if f.is_nan() {
        out.push_str("nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else if f != 0.0 && (f.abs() >= 1e16 || f.abs() < 1e-4) {
        let text = format!("{f:e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let (sign, digits) = match exponent.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exponent),
        };
        let _ = write!(out, "{mantissa}e{sign}{digits:0>2}");
    } else {
        let _ = write!(out, "{f:?}");
    }
}

/// Durations print like Go: `1h30m0s`, `1.5s`, `250ms`, `0s`.
pub fn write_duration(out: &mut String, nanos: i64) {
    if nanos == 0 {
        out.push_str("0s");
        return;
    }
    if nanos < 0 {
        out.push('-');
    }
    let n = nanos.unsigned_abs();
    if n < 1_000 {
        let _ = write!(out, "{n}ns");
    } else if n < 1_000_000 {
        let _ = write!(out, "{}µs", trim_fraction(n as f64 / 1e3));
    } else if n < 1_000_000_000 {
        let _ = write!(out, "{}ms", trim_fraction(n as f64 / 1e6));
    } else {
        let total_seconds = n / 1_000_000_000;
        let fraction = n % 1_000_000_000;
        let (hours, minutes, seconds) = (
            total_seconds / 3600,
            (total_seconds / 60) % 60,
            total_seconds % 60,
        );
        if hours > 0 {
            let _ = write!(out, "{hours}h");
        }
        if hours > 0 || minutes > 0 {
            let _ = write!(out, "{minutes}m");
        }
        let seconds = seconds as f64 + fraction as f64 / 1e9;
        let _ = write!(out, "{}s", trim_fraction(seconds));
    }
}

fn trim_fraction(x: f64) -> String {
    let text = format!("{x:.9}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    text.to_string()
}

fn write_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `b"..."`: printable ASCII as is, everything else escaped, so binary data prints on one line.
fn write_bytes(out: &mut String, bytes: &[u8]) {
    out.push_str("b\"");
    for &b in bytes {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\r' => out.push_str("\\r"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// A parsed format spec: `[[fill]align][sign][0][width][,][.precision][type]`.
#[derive(Default)]
struct Spec {
    fill: char,
    align: Option<char>,
    sign: Option<char>,
    zero: bool,
    width: usize,
    grouping: bool,
    precision: Option<usize>,
    kind: Option<char>,
}

fn parse_spec(spec: &str) -> Result<Spec, Fault> {
    let bad = || Fault::new(format!("invalid format spec '{spec}'"));
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec {
        fill: ' ',
        ..Spec::default()
    };
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = chars[0];
        s.align = Some(chars[1]);
        i = 2;
    } else if chars.first().is_some_and(|c| is_align(*c)) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(c @ ('+' | '-' | ' ')) = chars.get(i) {
        s.sign = Some(*c);
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        s.zero = true;
        i += 1;
    }
    let start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i > start {
        s.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| bad())?;
    }
    if chars.get(i) == Some(&',') {
        s.grouping = true;
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        s.precision = Some(
            chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| bad())?,
        );
    }
    if let Some(c) = chars.get(i) {
        if !"sdfFeExXobg%".contains(*c) {
            return Err(bad());
        }
        s.kind = Some(*c);
        i += 1;
    }
    if i != chars.len() || s.width > 10_000 || s.precision.is_some_and(|p| p > 1_000) {
        return Err(bad());
    }
    Ok(s)
}

fn group_thousands(digits: &str) -> String {
    let (int_part, rest) = digits
        .find('.')
        .map_or((digits, ""), |i| digits.split_at(i));
    let mut out = String::new();
    for (i, c) in int_part.chars().enumerate() {
        if i > 0 && (int_part.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out + rest
}

/// Formats `value` according to an f-string spec such as `.2f`, `>8`, `05d`, `,`, `x`.
pub fn format_spec(value: &Value, spec: &str) -> Result<String, Fault> {
    let s = parse_spec(spec)?;
    let numeric = matches!(value, Value::Int(_) | Value::Float(_));
    let mismatch = || {
        Fault::new(format!(
            "format spec '{spec}' does not apply to {}",
            value.type_name()
        ))
    };
    let (negative, body) = match (value, s.kind) {
        (Value::Int(i), None | Some('d')) => (*i < 0, i.unsigned_abs().to_string()),
        (Value::Int(i), Some('x')) => (*i < 0, format!("{:x}", i.unsigned_abs())),
        (Value::Int(i), Some('X')) => (*i < 0, format!("{:X}", i.unsigned_abs())),
        (Value::Int(i), Some('o')) => (*i < 0, format!("{:o}", i.unsigned_abs())),
        (Value::Int(i), Some('b')) => (*i < 0, format!("{:b}", i.unsigned_abs())),
        (Value::Int(_) | Value::Float(_), Some(kind @ ('f' | 'F' | 'e' | 'E' | 'g' | '%'))) => {
            let f = match value {
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                _ => 0.0,
            };
            let p = s.precision.unwrap_or(6);
            let body = match kind {
                'f' | 'F' => format!("{:.p$}", f.abs()),
                'e' => scientific(f.abs(), p, 'e'),
                'E' => scientific(f.abs(), p, 'E'),
                '%' => format!("{:.p$}%", f.abs() * 100.0),
                _ => general(f.abs(), p),
            };
            (f.is_sign_negative(), body)
        }
        (Value::Float(f), None) => {
            let body = match s.precision {
                Some(p) => format!("{:.p$}", f.abs()),
                None => {
                    let mut out = String::new();
                    write_float(&mut out, f.abs());
                    out
                }
            };
            (f.is_sign_negative(), body)
        }
        (_, None | Some('s')) if !numeric || s.kind == Some('s') => {
            let mut text = display(value);
            if let Some(p) = s.precision {
                text = text.chars().take(p).collect();
            }
            return Ok(pad(&text, &s, '<'));
        }
        _ => return Err(mismatch()),
    };
    let body = if s.grouping {
        group_thousands(&body)
    } else {
        body
    };
    let sign = match (negative, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    };
    if s.zero && s.align.is_none() {
        let width = s.width.saturating_sub(sign.len());
        return Ok(format!("{sign}{body:0>width$}"));
    }
    if s.align == Some('=') {
        // Padding goes between the sign and the digits.
        let room = s.width.saturating_sub(sign.len() + body.chars().count());
        let fill = if s.zero && s.fill == ' ' { '0' } else { s.fill };
        return Ok(format!("{sign}{}{body}", fill.to_string().repeat(room)));
    }
    Ok(pad(&format!("{sign}{body}"), &s, '>'))
}

/// `1.23e+04`: Python's exponent has a sign and at least two digits.
fn scientific(f: f64, precision: usize, letter: char) -> String {
    if !f.is_finite() {
        return float_word(f);
    }
    let text = format!("{f:.precision$e}");
    let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
    let (sign, digits) = exponent
        .strip_prefix('-')
        .map_or(('+', exponent), |d| ('-', d));
    format!("{mantissa}{letter}{sign}{digits:0>2}")
}

/// Python's `g`: `precision` significant digits, fixed or scientific by the exponent, trailing
/// zeros removed.
fn general(f: f64, precision: usize) -> String {
    if !f.is_finite() {
        return float_word(f);
    }
    if f == 0.0 {
        return "0".into();
    }
    let p = precision.max(1);
    let rounded = format!("{f:.*e}", p - 1);
    let exponent: i32 = rounded
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let strip = |t: String| -> String {
        if t.contains('.') {
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            t
        }
    };
    if -4 <= exponent && exponent < p as i32 {
        let decimals = (p as i32 - 1 - exponent).max(0) as usize;
        strip(format!("{f:.decimals$}"))
    } else {
        let text = scientific(f, p - 1, 'e');
        let (mantissa, rest) = text.split_once('e').unwrap_or((&text, ""));
        format!("{}e{rest}", strip(mantissa.to_string()))
    }
}

fn float_word(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else {
        "inf".into()
    }
}

fn pad(text: &str, s: &Spec, default_align: char) -> String {
    let len = text.chars().count();
    if len >= s.width {
        return text.to_string();
    }
    let room = s.width - len;
    let fill = |n: usize| s.fill.to_string().repeat(n);
    match s.align.unwrap_or(default_align) {
        '<' => format!("{text}{}", fill(room)),
        '^' => format!("{}{text}{}", fill(room / 2), fill(room - room / 2)),
        _ => format!("{}{text}", fill(room)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python() {
        assert_eq!(repr(&Value::Float(1.0)), "1.0");
        assert_eq!(repr(&Value::Float(0.1)), "0.1");
        assert_eq!(repr(&Value::Float(1e20)), "1e+20");
        assert_eq!(repr(&Value::Float(1.5e-7)), "1.5e-07");
    }

    #[test]
    fn durations_print_like_go() {
        assert_eq!(repr(&Value::Duration(90_000_000_000)), "1m30s");
        assert_eq!(repr(&Value::Duration(250_000_000)), "250ms");
        assert_eq!(repr(&Value::Duration(1_500_000_000)), "1.5s");
    }

    #[test]
    fn format_specs() {
        assert_eq!(
            format_spec(&Value::Int(7), "05d").ok().as_deref(),
            Some("00007")
        );
        assert_eq!(
            format_spec(&Value::Float(1.23456), ".2f").ok().as_deref(),
            Some("1.23")
        );
        assert_eq!(
            format_spec(&Value::str("ab"), ">4").ok().as_deref(),
            Some("  ab")
        );
        assert_eq!(
            format_spec(&Value::Int(1234567), ",").ok().as_deref(),
            Some("1,234,567")
        );
        assert_eq!(
            format_spec(&Value::Int(255), "x").ok().as_deref(),
            Some("ff")
        );
        assert!(format_spec(&Value::str("x"), "d").is_err());
    }
}
