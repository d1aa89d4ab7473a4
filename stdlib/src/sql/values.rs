//! Conversions both drivers share: what a parameter must be, uuids, JSON columns, and times
//! (PostgreSQL counts from 2000-01-01; SQLite keeps RFC 3339 text).

use jiff::tz::TimeZone;
use jiff::{civil, Timestamp};

use cn_runtime::Value;

use crate::config::secret::Secret;
use crate::time::instant::{time_of, Time};

/// Microseconds since 2000-01-01 00:00 UTC, PostgreSQL's epoch.
pub struct Micros(pub i64);

/// Seconds from the Unix epoch to PostgreSQL's.
const PG_EPOCH_UNIX_SECONDS: i64 = 946_684_800;

/// The value a `config.Secret` hides (a password column's value), else `value` itself.
pub fn revealed(value: &Value) -> &Value {
    Secret::revealed(value).unwrap_or(value)
}

/// "wants a str, got int".
pub fn wanted(what: &str, got: &Value) -> String {
    format!("wants {what}, got {}", got.type_name())
}

/// A float parameter (an int is converted).
pub fn float(value: &Value) -> Result<f64, String> {
    match value {
        Value::Float(f) => Ok(*f),
        Value::Int(i) => Ok(*i as f64),
        other => Err(wanted("a float", other)),
    }
}

/// The 16 bytes of a uuid written as text (with or without dashes and braces).
pub fn uuid_bytes(text: &str) -> Result<[u8; 16], String> {
    let digits: String = text
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .chars()
        .filter(|c| *c != '-')
        .collect();
    let mut bytes = [0u8; 16];
    if digits.len() != 32 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not a uuid"));
    }
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("{text:?} is not a uuid"))?;
    }
    Ok(bytes)
}

/// A uuid's canonical text (the `uuid` module's form).
pub fn uuid_text(bytes: &[u8; 16]) -> String {
    crate::uuid::format_uuid(bytes)
}

/// A value as JSON text, by `json.encode`'s rules (a str becomes a JSON string).
pub fn json_text(value: &Value) -> Result<String, String> {
    crate::json::encode(value).map_err(|fault| fault.message)
}

/// A JSON column's value.
pub fn json_value(text: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(text).map_err(|_| "JSON that is not UTF-8".to_string())?;
    crate::json::decode(text)
}

/// A `time.Time` parameter as microseconds since PostgreSQL's epoch. Both `timestamptz` and
/// `timestamp` get the instant in UTC.
pub fn micros_since_2000(value: &Value) -> Result<i64, String> {
    let zoned = time_of(value).ok_or_else(|| wanted("a time.Time", value))?;
    let micros = zoned.timestamp().as_microsecond();
    Ok(micros - PG_EPOCH_UNIX_SECONDS * 1_000_000)
}

/// A `time.Time` parameter's calendar date (in its own zone) as days since 2000-01-01.
pub fn days_since_2000(value: &Value) -> Result<i32, String> {
    let zoned = time_of(value).ok_or_else(|| wanted("a time.Time", value))?;
    let epoch = civil::date(2000, 1, 1);
    let days = (zoned.date() - epoch).get_days();
    Ok(days)
}

/// A timestamp column as a `time.Time` in UTC (a `timestamp` without zone is taken as UTC).
pub fn time_value(micros: Micros) -> Result<Value, String> {
    let unix = i128::from(micros.0) + i128::from(PG_EPOCH_UNIX_SECONDS) * 1_000_000;
    let unix = i64::try_from(unix).map_err(|_| "a timestamp out of range".to_string())?;
    let stamp = Timestamp::from_microsecond(unix)
        .map_err(|_| "a timestamp out of range (infinity?)".to_string())?;
    Ok(Time::value(stamp.to_zoned(TimeZone::UTC)))
}

/// A date column as a `time.Time` at midnight UTC.
pub fn date_value(days: i32) -> Result<Value, String> {
    let date = civil::date(2000, 1, 1)
        .checked_add(jiff::Span::new().days(i64::from(days)))
        .map_err(|_| "a date out of range (infinity?)".to_string())?;
    let zoned = date
        .to_zoned(TimeZone::UTC)
        .map_err(|e| format!("a date out of range: {e}"))?;
    Ok(Time::value(zoned))
}

/// A `time.Time` as SQLite keeps times: RFC 3339 text in UTC, to the microsecond.
pub fn sqlite_time_text(value: &Value) -> Option<String> {
    let zoned = time_of(value)?;
    Some(
        zoned
            .timestamp()
            .to_zoned(TimeZone::UTC)
            .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
    )
}

/// SQLite text in a column declared as a time (`TIMESTAMP`, `DATETIME`): RFC 3339, or SQLite's
/// own `YYYY-MM-DD HH:MM:SS[.fff]` in UTC; `None` if it is neither.
pub fn sqlite_time_value(text: &str) -> Option<Value> {
    if let Ok(stamp) = text.parse::<Timestamp>() {
        return Some(Time::value(stamp.to_zoned(TimeZone::UTC)));
    }
    let civil: civil::DateTime = text.replace(' ', "T").parse().ok()?;
    let zoned = civil.to_zoned(TimeZone::UTC).ok()?;
    Some(Time::value(zoned))
}
