//! Making `time.Time` values from text, calendar fields and Unix time.
//!
//! `time.parse(text)` reads what services exchange: RFC 3339 (`2026-12-06T10:00:00Z`,
//! `...+01:00`), RFC 9557 with a zone (`...+01:00[Europe/Berlin]`), and, as Python's
//! `fromisoformat` does, a date or date-time without an offset, read in `zone=` (UTC unless
//! given). With a pattern it is strptime. Text is input, so a mismatch is `Err(message)`, never
//! a fault; a wrong zone name or an impossible `time.date` is a fault in the script.

use jiff::civil::{Date, DateTime};
use jiff::tz::{Offset, TimeZone};
use jiff::{Timestamp, Zoned};

use super::instant::{zone_named, Time};
use cn_runtime::{Args, Fault, Value, Vm};

/// The zone named by the `zone=` keyword, UTC when absent.
fn zone_option(args: &Args<'_>) -> Result<TimeZone, Fault> {
    match args.str_option("zone")? {
        Some(name) => zone_named(args.function, name),
        None => Ok(TimeZone::UTC),
    }
}

/// time.now(zone=): the current time, in UTC or in `zone`.
pub(super) fn now(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let zone = zone_option(&args)?;
    Ok(Time::value(super::wall_now().to_zoned(zone)))
}

/// time.parse(text, pattern=nil, zone=): `Ok(time)` or `Err(message)`.
pub(super) fn parse(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let text = args.str(0)?;
    let zone = zone_option(&args)?;
    let parsed = match args.get_or_named(1, "pattern") {
        None | Some(Value::Nil) => parse_iso(text, zone),
        Some(Value::Str(pattern)) => parse_pattern(text, pattern, zone),
        Some(other) => return Err(args.wrong_type(1, "str", other)),
    };
    Ok(match parsed {
        Ok(zoned) => Value::ok(Time::value(zoned)),
        Err(why) => Value::err(Value::str(format!("cannot read {text:?} as a time: {why}"))),
    })
}

/// RFC 3339 / RFC 9557 text, or an ISO date (time) without offset read in `zone`.
fn parse_iso(text: &str, zone: TimeZone) -> Result<Zoned, String> {
    if let Ok(zoned) = text.parse::<Zoned>() {
        return Ok(zoned);
    }
    if let Ok(stamp) = text.parse::<Timestamp>() {
        return Ok(stamp.to_zoned(written_offset(text)));
    }
    if let Ok(datetime) = text.parse::<DateTime>() {
        return datetime.to_zoned(zone).map_err(|e| e.to_string());
    }
    match text.parse::<Date>() {
        Ok(date) => date.to_zoned(zone).map_err(|e| e.to_string()),
        Err(_) => {
            Err("expected RFC 3339 (2026-12-06T10:00:00Z), a date (2026-12-06) or a pattern".into())
        }
    }
}

/// The zone an RFC 3339 text's own offset stands for: UTC for `Z`, else a fixed offset, so the
/// parsed time keeps the hour it was written with.
fn written_offset(text: &str) -> TimeZone {
    if text.ends_with(['Z', 'z']) {
        return TimeZone::UTC;
    }
    let tail = text.get(text.len().saturating_sub(6)..).unwrap_or("");
    let seconds = (|| {
        let sign = match tail.as_bytes().first()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let hours: i32 = tail.get(1..3)?.parse().ok()?;
        let minutes: i32 = tail.get(4..6)?.parse().ok()?;
        Some(sign * (hours * 3600 + minutes * 60))
    })();
    match seconds.and_then(|s| Offset::from_seconds(s).ok()) {
        Some(offset) => TimeZone::fixed(offset),
        None => TimeZone::UTC,
    }
}

/// strptime: a pattern with an offset (`%z`) or zone (`%Q`) keeps it; otherwise the fields are
/// read in `zone`. A pattern without a time of day gives midnight.
fn parse_pattern(text: &str, pattern: &str, zone: TimeZone) -> Result<Zoned, String> {
    let broken = jiff::fmt::strtime::parse(pattern, text).map_err(|e| e.to_string())?;
    if broken.offset().is_some() || broken.iana_time_zone().is_some() {
        return broken.to_zoned().map_err(|e| e.to_string());
    }
    let datetime = match broken.to_datetime() {
        Ok(datetime) => datetime,
        Err(_) => broken
            .to_date()
            .map_err(|e| e.to_string())?
            .to_datetime(jiff::civil::Time::midnight()),
    };
    datetime.to_zoned(zone).map_err(|e| e.to_string())
}

/// time.date(year, month, day, hour=0, minute=0, second=0, nanosecond=0, zone="UTC").
pub(super) fn date(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    const FIELDS: [&str; 7] = [
        "year",
        "month",
        "day",
        "hour",
        "minute",
        "second",
        "nanosecond",
    ];
    let mut values = [0i64; 7];
    for (i, name) in FIELDS.iter().enumerate() {
        values[i] = match args.get_or_named(i, name) {
            None if i < 3 => {
                return Err(Fault::new(format!("{}: {name} is missing", args.function)))
            }
            None => 0,
            Some(Value::Int(n)) => *n,
            Some(other) => return Err(args.wrong_keyword(name, "int", other)),
        };
    }
    let out_of_range = |i: usize| {
        Fault::new(format!(
            "{}: {} {} is out of range",
            args.function, FIELDS[i], values[i]
        ))
    };
    let small = |i: usize| i8::try_from(values[i]).map_err(|_| out_of_range(i));
    let civil = DateTime::new(
        i16::try_from(values[0]).map_err(|_| out_of_range(0))?,
        small(1)?,
        small(2)?,
        small(3)?,
        small(4)?,
        small(5)?,
        i32::try_from(values[6]).map_err(|_| out_of_range(6))?,
    )
    .map_err(|e| Fault::new(format!("{}: {e}", args.function)))?;
    let zone = zone_option(&args)?;
    let zoned = civil
        .to_zoned(zone)
        .map_err(|e| Fault::new(format!("{}: {e}", args.function)))?;
    Ok(Time::value(zoned))
}

/// time.from_unix(seconds, zone="UTC"): the time `seconds` (int or float) after 1970 UTC.
pub(super) fn from_unix(_vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let nanos: i128 = match args.value(0)? {
        Value::Int(seconds) => i128::from(*seconds) * 1_000_000_000,
        Value::Float(seconds) if seconds.is_finite() && seconds.abs() < 1e12 => {
            (seconds * 1e9).round() as i128
        }
        other => return Err(args.wrong_type(0, "seconds (int or float)", other)),
    };
    let stamp = Timestamp::from_nanosecond(nanos).map_err(|_| {
        Fault::new(format!(
            "{}: outside the years -9999 to 9999",
            args.function
        ))
    })?;
    Ok(Time::value(stamp.to_zoned(zone_option(&args)?)))
}
