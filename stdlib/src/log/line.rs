//! One log line in either format, rendered into a reused byte buffer and appended to the stdout
//! sink (`cn_runtime::output`), which drops it rather than wait when its reader is far behind.
//!
//! The fixed parts (time, level, message, context ids, numbers, strings) are written straight
//! into bytes; only structured values (lists, dicts, records) go through the `json` module's
//! encoder in JSON lines and through `str()` in text lines. Those two paths are where `@secret`
//! record fields are masked, for logs as for everything else a program prints or encodes: the log
//! module adds no masking of its own, so a new kind of secret is masked in logs as soon as those
//! two paths know it.
//!
//! Keys: `time`, `level`, `msg`, then the context ids the current task has (`request_id`,
//! `trace_id`, `span_id`), then the fields in call order. A field whose name is already on the
//! line (`time`, `level`, `msg`, or a context id the line carries) is written as
//! `fields.<name>`, so a JSON line never has duplicate keys and nothing the caller passed is lost.

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::SystemTime;

use cn_runtime::format;
use cn_runtime::tasks::Task;
use cn_runtime::Value;

use super::clock::{write_rfc3339, write_time_of_day};
use super::settings::{self, EnvWarning, Format, Level};

/// The context keys copied onto every line of a task that has them, in this order.
const CONTEXT_KEYS: [&str; 3] = ["request_id", "trace_id", "span_id"];

/// A field value as Rust callers pass it (no cn value needed for the common kinds).
#[derive(Clone, Copy, Debug)]
pub enum Field<'a> {
    /// A string.
    Str(&'a str),
    /// An integer.
    Int(i64),
    /// A number (non-finite numbers are written as the strings `nan`, `inf`, `-inf`).
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// Any cn value: JSON as `json.encode` writes it (or its `str()` when JSON cannot hold
    /// it), text as `str()`.
    Value(&'a Value),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Field<'a> {
        Field::Str(s)
    }
}

impl From<i64> for Field<'_> {
    fn from(i: i64) -> Self {
        Field::Int(i)
    }
}

impl From<f64> for Field<'_> {
    fn from(f: f64) -> Self {
        Field::Float(f)
    }
}

impl From<bool> for Field<'_> {
    fn from(b: bool) -> Self {
        Field::Bool(b)
    }
}

impl<'a> From<&'a Value> for Field<'a> {
    fn from(v: &'a Value) -> Field<'a> {
        Field::Value(v)
    }
}

thread_local! {
    /// The buffer lines are rendered into before one append to the sink; reused so that a line
    /// costs no allocation.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Where rendered lines go: `Ok(false)` when one was dropped, `Err` when the output failed.
pub(crate) type Append = fn(&[u8]) -> std::io::Result<bool>;

/// Appends a line to the process's stdout sink, dropping it when stdout is too far behind.
pub(crate) fn to_stdout(line: &[u8]) -> std::io::Result<bool> {
    to_stdout_with(line.len(), |out| out.extend_from_slice(line))
}

/// [`to_stdout`] for a line `render` writes straight into the output buffer; `size` is about
/// how long it will be.
pub(crate) fn to_stdout_with(
    size: usize,
    render: impl FnOnce(&mut Vec<u8>),
) -> std::io::Result<bool> {
    let written = cn_runtime::output::stdout().write_or_drop_with(size, render)?;
    if written {
        report_drops();
    }
    Ok(written)
}

/// After lines were dropped, the next line that gets through is followed by a warning with how
/// many, so whoever reads the log knows where it has a gap (`cn_log_lines_dropped_total` counts
/// them too).
pub(crate) fn report_drops() {
    thread_local! {
        static REPORTED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    }
    let dropped = cn_runtime::output::dropped_lines();
    let gap = REPORTED.with(|reported| {
        let gap = dropped.saturating_sub(reported.get());
        reported.set(dropped.max(reported.get()));
        gap
    });
    if gap > 0 {
        let fields = [(
            "dropped",
            Field::Int(i64::try_from(gap).unwrap_or(i64::MAX)),
        )];
        // The warning goes through this same function; the count is already marked reported.
        let _ = write(
            None,
            Level::Warn,
            "log lines dropped: stdout is not read fast enough",
            fields.into_iter(),
        );
    }
}

/// Renders one line (the caller checked the level) and appends it to stdout. `Ok(false)` when
/// the line was dropped because stdout is too far behind; `Err` when stdout has failed.
pub(crate) fn write<'f, K: AsRef<str>>(
    task: Option<&Rc<Task>>,
    level: Level,
    msg: &str,
    fields: impl Iterator<Item = (K, Field<'f>)>,
) -> std::io::Result<bool> {
    write_to(to_stdout, task, level, msg, fields)
}

/// [`write`] with the destination given.
pub(crate) fn write_to<'f, K: AsRef<str>>(
    append: Append,
    task: Option<&Rc<Task>>,
    level: Level,
    msg: &str,
    fields: impl Iterator<Item = (K, Field<'f>)>,
) -> std::io::Result<bool> {
    let context = task.and_then(|t| t.context.try_borrow().ok());
    let mut ids: [Option<&Value>; 3] = [None; 3];
    if let Some(context) = &context {
        for (id, key) in ids.iter_mut().zip(CONTEXT_KEYS) {
            *id = context.get(key);
        }
    }
    let line = Line {
        format: settings::format(),
        time: SystemTime::now(),
        level,
        msg,
        ids,
    };
    SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            line.render(&mut buf, fields);
            append(&buf)
        }
        // A line written while another is being rendered on this thread (a Rust-side event
        // raised by the rendering itself) gets a buffer of its own.
        Err(_) => {
            let mut buf = Vec::new();
            line.render(&mut buf, fields);
            append(&buf)
        }
    })
}

/// The warning for an invalid `LOG_LEVEL` or `LOG_FORMAT`: written whatever the level is, since
/// the level itself may be what is wrong.
pub(crate) fn env_warning(warning: &EnvWarning) {
    let msg = format!("{} is not valid; using {}", warning.variable, warning.using);
    let fields = [
        ("value", Field::Str(&warning.value)),
        ("expected", Field::Str(warning.expected)),
    ];
    // A failed stdout has nothing to report to; the program finds out at its next print.
    let _ = write(None, Level::Warn, &msg, fields.into_iter());
}

/// A JSON info line with no context ids, rendered as `write` would (for comparing renderers).
#[cfg(test)]
pub(super) fn render_json_line(
    time: SystemTime,
    msg: &str,
    fields: &[(&str, Field<'_>)],
) -> Vec<u8> {
    let line = Line {
        format: Format::Json,
        time,
        level: Level::Info,
        msg,
        ids: [None; 3],
    };
    let mut out = Vec::new();
    line.render(&mut out, fields.iter().copied());
    out
}

/// Everything on a line except the fields.
struct Line<'a> {
    format: Format,
    time: SystemTime,
    level: Level,
    msg: &'a str,
    ids: [Option<&'a Value>; 3],
}

impl Line<'_> {
    fn render<'f, K: AsRef<str>>(
        &self,
        out: &mut Vec<u8>,
        fields: impl Iterator<Item = (K, Field<'f>)>,
    ) {
        match self.format {
            Format::Json => self.render_json(out, fields),
            Format::Text => self.render_text(out, fields),
        }
        out.push(b'\n');
    }

    /// The rule in the module documentation: a field named like a key already on the line.
    fn taken(&self, key: &str) -> bool {
        // A match compares lengths first: most fields are rejected without reading a byte.
        match key {
            "time" | "level" | "msg" => true,
            "request_id" => self.ids[0].is_some(),
            "trace_id" => self.ids[1].is_some(),
            "span_id" => self.ids[2].is_some(),
            _ => false,
        }
    }

    fn render_json<'f, K: AsRef<str>>(
        &self,
        out: &mut Vec<u8>,
        fields: impl Iterator<Item = (K, Field<'f>)>,
    ) {
        out.extend_from_slice(b"{\"time\":\"");
        write_rfc3339(out, self.time);
        out.extend_from_slice(b"\",\"level\":\"");
        out.extend_from_slice(self.level.name().as_bytes());
        out.extend_from_slice(b"\",\"msg\":");
        json_string(out, self.msg);
        for (key, id) in CONTEXT_KEYS.iter().zip(self.ids) {
            if let Some(id) = id {
                out.extend_from_slice(b",\"");
                out.extend_from_slice(key.as_bytes());
                out.extend_from_slice(b"\":");
                json_field(out, Field::Value(id));
            }
        }
        for (key, field) in fields {
            let key = key.as_ref();
            out.extend_from_slice(b",\"");
            if self.taken(key) {
                out.extend_from_slice(b"fields.");
            }
            json_escaped(out, key);
            out.extend_from_slice(b"\":");
            json_field(out, field);
        }
        out.push(b'}');
    }

    fn render_text<'f, K: AsRef<str>>(
        &self,
        out: &mut Vec<u8>,
        fields: impl Iterator<Item = (K, Field<'f>)>,
    ) {
        write_time_of_day(out, self.time);
        out.push(b' ');
        out.extend_from_slice(self.level.upper().as_bytes());
        out.push(b' ');
        // The message stays readable as written; only line breaks and other control
        // characters are escaped, so one line stays one line.
        escaped(out, self.msg, false);
        for (key, id) in CONTEXT_KEYS.iter().zip(self.ids) {
            if let Some(id) = id {
                text_pair(out, key, false, Field::Value(id));
            }
        }
        let mut stack = None;
        for (key, field) in fields {
            let key = key.as_ref();
            match (key, field) {
                // A cn stack trace reads as lines, under the line, as a terminal shows a fault.
                ("stack", Field::Str(trace)) => stack = Some(trace),
                _ => text_pair(out, key, self.taken(key), field),
            }
        }
        if let Some(trace) = stack {
            for line in trace.lines() {
                out.extend_from_slice(b"\n    ");
                escaped(out, line, false);
            }
        }
    }
}

/// The most text one structured field value makes in a line: a log line is for people and
/// collectors (most cut lines at 16 KiB to 1 MiB), not a way to dump a data structure; a value
/// past this is written as its text, cut and marked `...<truncated>`.
const MAX_VALUE_TEXT: usize = 64 << 10;

/// A field value in a JSON line.
fn json_field(out: &mut Vec<u8>, field: Field<'_>) {
    match field {
        Field::Str(s) => json_string(out, s),
        Field::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        Field::Float(f) if f.is_finite() => {
            out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes())
        }
        Field::Float(f) => {
            let mut text = String::new();
            format::write_float(&mut text, f);
            json_string(out, &text);
        }
        Field::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Field::Value(value) => match value {
            Value::Nil => out.extend_from_slice(b"null"),
            Value::Bool(b) => json_field(out, Field::Bool(*b)),
            Value::Int(i) => json_field(out, Field::Int(*i)),
            Value::Float(f) => json_field(out, Field::Float(*f)),
            Value::Str(s) => json_string(out, s),
            // Structured values as `json.encode` writes them (secrets masked there); a value
            // JSON cannot hold (a function, a nan inside a list) is logged as its text rather
            // than making the log call fault.
            other => match crate::json::encode_limited(other, MAX_VALUE_TEXT) {
                Ok(json) => out.extend_from_slice(json.as_bytes()),
                Err(_) => json_string(out, &format::display_limited(other, MAX_VALUE_TEXT)),
            },
        },
    }
}

/// A JSON string literal.
fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    json_escaped(out, s);
    out.push(b'"');
}

/// The bytes a JSON string cannot hold as they are: control characters, `"` and `\\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = true;
        b += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

/// Whether any byte of `bytes` is in [`NEEDS_ESCAPE`]. Ids and paths are tens of bytes and
/// checked on every access-log line, so whole words are tested at once: a byte is below 0x20,
/// or equal to `"` or `\\`, exactly when the classic "has a zero / has a byte less than n" bit
/// tricks set its top bit (bytes of 0x80 and above are masked out, as UTF-8 never needs escaping).
pub(super) fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let has_zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_ne_bytes(word);
        let control = x.wrapping_sub(ONES * 0x20) & !x & HIGHS;
        let quote = has_zero(x ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(x ^ (ONES * u64::from(b'\\')));
        if control | quote | backslash != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| NEEDS_ESCAPE[b as usize])
}

/// The inside of a JSON string literal (the same escapes as the `json` module).
pub(super) fn json_escaped(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most keys and values need no escape: a check eight bytes at a time, then one copy.
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// ` key=value` in a text line; the value is quoted when it is empty or holds a space, `=`,
/// `"` or a control character, so every pair can be split apart again.
fn text_pair(out: &mut Vec<u8>, key: &str, taken: bool, field: Field<'_>) {
    out.push(b' ');
    if taken {
        out.extend_from_slice(b"fields.");
    }
    escaped(out, key, false);
    out.push(b'=');
    match field {
        Field::Int(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        Field::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Field::Str(s) => text_value(out, s),
        Field::Value(Value::Str(s)) => text_value(out, s),
        Field::Float(f) => {
            let mut text = String::new();
            format::write_float(&mut text, f);
            text_value(out, &text);
        }
        // `str()` of the value: what `print` shows, with `@secret` fields masked.
        Field::Value(value) => text_value(out, &format::display_limited(value, MAX_VALUE_TEXT)),
    }
}

fn text_value(out: &mut Vec<u8>, s: &str) {
    let needs_quotes = s.is_empty()
        || s.bytes()
            .any(|b| b == b' ' || b == b'=' || b == b'"' || b < 0x20 || b == 0x7f);
    if needs_quotes {
        out.push(b'"');
        escaped(out, s, true);
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Text with line breaks, tabs and other control characters escaped (`\n`, `\t`, `\u{1b}`),
/// and inside quotes also `"` and `\`.
fn escaped(out: &mut Vec<u8>, s: &str, quoted: bool) {
    let bytes = s.as_bytes();
    if !bytes
        .iter()
        .any(|&b| b < 0x20 || b == 0x7f || b == b'"' || b == b'\\')
    {
        out.extend_from_slice(bytes);
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        let plain = byte >= 0x20 && byte != 0x7f && !(quoted && (byte == b'"' || byte == b'\\'));
        if plain {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match byte {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'"' | b'\\' => {
                out.push(b'\\');
                out.push(byte);
            }
            _ => {
                let _ = write!(out, "\\u{{{byte:x}}}");
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time check agrees with the table for every byte at every position.
    #[test]
    fn the_word_check_agrees_with_the_table() {
        for byte in 0..=255u8 {
            for position in 0..20 {
                let mut text = vec![b'a'; 20];
                text[position] = byte;
                assert_eq!(
                    needs_escape(&text),
                    NEEDS_ESCAPE[byte as usize],
                    "byte {byte:#x} at {position}"
                );
            }
        }
        assert!(!needs_escape("/caf\u{e9}/\u{1f600}/x".as_bytes()));
    }
    use std::time::{Duration, UNIX_EPOCH};

    fn render(format: Format, ids: [Option<&Value>; 3], fields: &[(&str, Field<'_>)]) -> String {
        let line = Line {
            format,
            // 2024-01-15T10:30:00.023Z
            time: UNIX_EPOCH + Duration::from_millis(1_705_314_600_023),
            level: Level::Info,
            msg: "Request handled",
            ids,
        };
        let mut out = Vec::new();
        line.render(&mut out, fields.iter().copied());
        String::from_utf8_lossy(&out).into_owned()
    }

    #[test]
    fn json_lines_have_fixed_keys_first_and_typed_fields() {
        let fields = [
            ("method", Field::Str("GET")),
            ("duration", Field::Float(0.023)),
            ("status", Field::Int(200)),
            ("cached", Field::Bool(false)),
        ];
        assert_eq!(
            render(Format::Json, [None; 3], &fields),
            "{\"time\":\"2024-01-15T10:30:00.023Z\",\"level\":\"info\",\"msg\":\"Request handled\",\
             \"method\":\"GET\",\"duration\":0.023,\"status\":200,\"cached\":false}\n"
        );
    }

    #[test]
    fn text_lines_quote_values_that_would_not_split_back() {
        let fields = [
            ("path", Field::Str("/users")),
            ("note", Field::Str("two words")),
            ("eq", Field::Str("a=b")),
            ("empty", Field::Str("")),
            ("quote", Field::Str("say \"hi\"\n")),
            ("ratio", Field::Float(0.5)),
        ];
        assert_eq!(
            render(Format::Text, [None; 3], &fields),
            "10:30:00.023 INFO Request handled path=/users note=\"two words\" eq=\"a=b\" \
             empty=\"\" quote=\"say \\\"hi\\\"\\n\" ratio=0.5\n"
        );
    }

    #[test]
    fn fields_named_like_keys_on_the_line_are_renamed() {
        let id = Value::str("abc");
        let fields = [
            ("msg", Field::Str("mine")),
            ("request_id", Field::Str("explicit")),
            ("trace_id", Field::Str("no context trace id, kept")),
        ];
        assert_eq!(
            render(Format::Json, [Some(&id), None, None], &fields),
            "{\"time\":\"2024-01-15T10:30:00.023Z\",\"level\":\"info\",\"msg\":\"Request handled\",\
             \"request_id\":\"abc\",\"fields.msg\":\"mine\",\"fields.request_id\":\"explicit\",\
             \"trace_id\":\"no context trace id, kept\"}\n"
        );
    }

    #[test]
    fn values_json_cannot_hold_are_logged_as_text() {
        let fields = [
            ("ratio", Field::Float(f64::NAN)),
            ("big", Field::Float(1e300)),
        ];
        let line = render(Format::Json, [None; 3], &fields);
        assert!(
            line.ends_with(",\"ratio\":\"nan\",\"big\":1e300}\n"),
            "{line}"
        );
    }

    #[test]
    fn a_huge_or_self_referencing_value_is_cut_not_written_whole() {
        // A list that holds the same list twice at every level: 2^30 elements, no cycle.
        let mut value = Value::list(vec![Value::Int(1)]);
        for _ in 0..30 {
            value = Value::list(vec![value.clone(), value]);
        }
        let looped = Value::list(vec![Value::Int(1)]);
        if let Value::List(items) = &looped {
            items.borrow_mut().push(looped.clone());
        }
        for format in [Format::Json, Format::Text] {
            let fields = [("v", Field::Value(&value)), ("loop", Field::Value(&looped))];
            let line = render(format, [None; 3], &fields);
            assert!(line.len() < MAX_VALUE_TEXT + 1024, "{}", line.len());
            assert!(line.contains("...<truncated>"), "{line}");
            assert!(line.contains("[1, [...]]"), "{line}");
        }
        // The cycle has to be broken for the list to be freed.
        if let Value::List(items) = &looped {
            items.borrow_mut().clear();
        }
    }

    #[test]
    fn a_stack_trace_in_a_text_line_is_written_as_lines_below_it() {
        let stack = "stack trace (most recent call last):\n  boom at app.cn:3:12\nfault: oops";
        let fields = [("error", Field::Str("oops")), ("stack", Field::Str(stack))];
        let text = render(Format::Text, [None; 3], &fields);
        assert!(
            text.ends_with(
                " error=oops\n    stack trace (most recent call last):\n      boom at app.cn:3:12\n    \
                 fault: oops\n"
            ),
            "{text}"
        );
        // JSON keeps it one field of one line.
        let json = render(Format::Json, [None; 3], &fields);
        assert_eq!(json.lines().count(), 1);
        assert!(
            json.contains(r#""stack":"stack trace (most recent call last):\n  boom"#),
            "{json}"
        );
    }
}
