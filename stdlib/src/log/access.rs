//! The http access-log line, rendered by hand in the JSON format.
//!
//! It is written for every request a server answers, and the generic renderer's per-field work
//! (escaping every key, checking it against the line's own keys, one copy per punctuation mark)
//! cost as much as the rest of a request's observability together. Here the keys and the
//! punctuation around them are single constant pieces, only the values that can hold arbitrary
//! text are escaped, and the line is the same as `emit` would write: same keys, order and
//! types. The text format (a terminal, where speed does not matter) goes through `emit`.

use std::time::SystemTime;

use cn_runtime::Vm;

use super::clock::write_rfc3339;
use super::line::{json_escaped, to_stdout_with};
use super::settings::{self, Format, Level};
use super::Field;

/// What one access-log line says.
pub struct Access<'a> {
    /// A method label (`GET`, ..., `OTHER`): plain letters, written as they are.
    pub method: &'static str,
    pub path: &'a str,
    pub route: &'a str,
    pub status: u16,
    pub seconds: f64,
    pub bytes: u64,
    /// Printable ASCII without `"` or `\\` (see `http::exchange::request_id`): written as it is.
    pub request_id: &'a str,
    /// Written as 32 hex digits.
    pub trace_id: Option<u128>,
}

/// The length of an access line without its path and route, about: what the output's limit
/// is checked against before the line is written.
const LINE_SIZE: usize = 256;

/// Writes the access-log line of one request (`msg` "request", level info) unless the level
/// filters it out. Called outside any script task, so the ids are the record's own.
pub fn access(vm: &Vm, record: &Access<'_>) {
    if !settings::enabled(Level::Info) {
        return;
    }
    if settings::format() != Format::Json {
        return generic(vm, record);
    }
    let time = SystemTime::now();
    let size = LINE_SIZE + record.path.len() + record.route.len();
    // Rendered straight into the output buffer. A dropped line is counted by the sink; a
    // failed stdout is the script's to find.
    let _ = to_stdout_with(size, |out| render(out, time, record));
}

fn generic(vm: &Vm, record: &Access<'_>) {
    let mut fields = vec![
        ("method", Field::Str(record.method)),
        ("path", Field::Str(record.path)),
        ("route", Field::Str(record.route)),
        ("status", Field::Int(i64::from(record.status))),
        (
            "duration",
            Field::Float(micros(record.seconds) as f64 / 1e6),
        ),
        (
            "bytes",
            Field::Int(i64::try_from(record.bytes).unwrap_or(i64::MAX)),
        ),
        ("request_id", Field::Str(record.request_id)),
    ];
    let trace_id = record.trace_id.map(crate::trace::trace_hex);
    if let Some(trace_id) = &trace_id {
        fields.push(("trace_id", Field::Str(trace_id)));
    }
    super::emit(vm, Level::Info, "request", &fields);
}

/// A duration in whole microseconds: the precision the line gives (NaN and negatives are 0).
fn micros(seconds: f64) -> u64 {
    // Adding a half and truncating rounds like `f64::round` for the non-negative values that
    // matter, without a libm call on every request; the cast saturates, and turns NaN and
    // negatives into 0.
    (seconds * 1e6 + 0.5) as u64
}

/// `micros` as seconds in decimal notation with the trailing zeros left out (`0.000231`,
/// `1.5`, `2.0`). Shortest-float formatting gave the same digits for ~10x the instructions on
/// every request; it differs only below 10 us, where it writes `9e-6` for `0.000009`.
fn write_seconds(out: &mut Vec<u8>, micros: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(micros / 1_000_000).as_bytes());
    out.push(b'.');
    let mut fraction = micros % 1_000_000;
    if fraction == 0 {
        out.push(b'0');
        return;
    }
    let mut digits = 6;
    while fraction.is_multiple_of(10) {
        fraction /= 10;
        digits -= 1;
    }
    let mut buffer = itoa::Buffer::new();
    let text = buffer.format(fraction);
    // The zeros after the point that the integer leaves out.
    out.resize(out.len() + digits - text.len(), b'0');
    out.extend_from_slice(text.as_bytes());
}

fn render(out: &mut Vec<u8>, time: SystemTime, record: &Access<'_>) {
    out.extend_from_slice(b"{\"time\":\"");
    write_rfc3339(out, time);
    out.extend_from_slice(b"\",\"level\":\"info\",\"msg\":\"request\",\"method\":\"");
    out.extend_from_slice(record.method.as_bytes());
    out.extend_from_slice(b"\",\"path\":\"");
    json_escaped(out, record.path);
    out.extend_from_slice(b"\",\"route\":\"");
    json_escaped(out, record.route);
    out.extend_from_slice(b"\",\"status\":");
    out.extend_from_slice(itoa::Buffer::new().format(record.status).as_bytes());
    out.extend_from_slice(b",\"duration\":");
    write_seconds(out, micros(record.seconds));
    out.extend_from_slice(b",\"bytes\":");
    out.extend_from_slice(itoa::Buffer::new().format(record.bytes).as_bytes());
    out.extend_from_slice(b",\"request_id\":\"");
    debug_assert!(!super::line::needs_escape(record.request_id.as_bytes()));
    out.extend_from_slice(record.request_id.as_bytes());
    if let Some(trace_id) = record.trace_id {
        out.extend_from_slice(b"\",\"trace_id\":\"");
        out.extend_from_slice(&crate::ids::hex32_bytes(trace_id));
    }
    out.extend_from_slice(b"\"}\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-rendered line is exactly the line the generic renderer writes (for durations
    /// of 10 us and more; see `write_seconds`).
    #[test]
    fn the_fast_line_is_the_generic_line() {
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_700_000_000_123);
        let cases = [
            (None, 0.000231),
            (Some(0x0af7651916cd43dd8448eb211c80319c), 0.0002314999),
            (None, 1.5),
            (None, 2.0),
            (None, 0.04),
            (None, 123.456789),
        ];
        for (trace_id, seconds) in cases {
            let record = Access {
                method: "GET",
                path: "/users/7\"x",
                route: "/users/{id}",
                status: 200,
                seconds,
                bytes: 10,
                request_id: "req-abc",
                trace_id,
            };
            let mut fast = Vec::new();
            render(&mut fast, time, &record);
            let mut fields = vec![
                ("method", Field::Str(record.method)),
                ("path", Field::Str(record.path)),
                ("route", Field::Str(record.route)),
                ("status", Field::Int(200)),
                ("duration", Field::Float(micros(seconds) as f64 / 1e6)),
                ("bytes", Field::Int(10)),
                ("request_id", Field::Str(record.request_id)),
            ];
            let trace_hex = trace_id.map(crate::trace::trace_hex);
            if let Some(trace_id) = &trace_hex {
                fields.push(("trace_id", Field::Str(trace_id)));
            }
            let generic = super::super::line::render_json_line(time, "request", &fields);
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&generic)
            );
        }
    }

    #[test]
    fn durations_are_written_to_the_microsecond() {
        let written = |seconds: f64| {
            let mut out = Vec::new();
            write_seconds(&mut out, micros(seconds));
            String::from_utf8(out).unwrap_or_default()
        };
        assert_eq!(written(0.0), "0.0");
        assert_eq!(written(0.000009), "0.000009");
        assert_eq!(written(0.0000004), "0.0");
        assert_eq!(written(0.1234567), "0.123457");
        assert_eq!(written(3.0), "3.0");
        assert_eq!(written(f64::NAN), "0.0");
        assert_eq!(written(-1.0), "0.0");
    }
}
