//! `time.Time`: an instant on the wall clock together with the time zone it is seen in.
//!
//! Go's `time.Time` model: one value is both the instant (compared, subtracted, sent as Unix
//! time) and the calendar fields of its zone (year, hour, weekday, strftime formatting). Two
//! times are equal when they are the same instant, whatever their zones, so a time parsed with an
//! offset equals the same moment read back in UTC. Calendar work is jiff's.

use std::cmp::Ordering;
use std::time::SystemTime;

use cn_compiler::syntax::ast::BinOp;
use cn_runtime::native::{Member, Members, Params, Table};
use cn_runtime::object::{NativeObject, NativeType};
use cn_runtime::{Args, Fault, Value, Vm};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

/// A `time.Time` value.
pub(crate) struct Time(pub(crate) Zoned);

impl Time {
    /// The value for `zoned`.
    pub(crate) fn value(zoned: Zoned) -> Value {
        NativeObject::value(Time(zoned))
    }

    /// RFC 3339 to the millisecond; `Z` for UTC, the numeric offset otherwise.
    fn rfc3339(&self) -> String {
        let pattern = if is_utc(self.0.time_zone()) {
            "%Y-%m-%dT%H:%M:%S%.3fZ"
        } else {
            "%Y-%m-%dT%H:%M:%S%.3f%:z"
        };
        self.0.strftime(pattern).to_string()
    }

    fn nanos_since_epoch(&self) -> i128 {
        self.0.timestamp().as_nanosecond()
    }
}

fn is_utc(zone: &TimeZone) -> bool {
    zone.iana_name().is_none_or(|name| name == "UTC")
        && zone.to_fixed_offset().is_ok_and(|o| o.seconds() == 0)
}

/// The `time.Time` in `value`, if it is one.
pub(crate) fn time_of(value: &Value) -> Option<&Zoned> {
    match value {
        Value::Object(object) => object.downcast::<Time>().map(|t| &t.0),
        _ => None,
    }
}

/// A `time.Time` for a `SystemTime` (`fs.stat(p).mtime`), in UTC.
pub(crate) fn from_system(at: SystemTime) -> Value {
    let stamp = Timestamp::try_from(at).unwrap_or(Timestamp::UNIX_EPOCH);
    Time::value(stamp.to_zoned(TimeZone::UTC))
}

/// A duration value from jiff's signed duration, saturating at the int range.
pub(crate) fn signed_duration_value(d: SignedDuration) -> Value {
    Value::Duration(d.as_nanos().clamp(i64::MIN as i128, i64::MAX as i128) as i64)
}

/// Looks up an IANA zone name (`"Europe/Berlin"`), `"UTC"` or `"local"` (the machine's zone).
pub(crate) fn zone_named(function: &str, name: &str) -> Result<TimeZone, Fault> {
    match name {
        "UTC" | "utc" | "Z" => Ok(TimeZone::UTC),
        "local" => Ok(TimeZone::system()),
        _ => TimeZone::get(name).map_err(|_| {
            Fault::new(format!(
                "{function}: unknown time zone {name:?} (IANA names such as \"Europe/Berlin\", or \"UTC\", or \"local\")"
            ))
        }),
    }
}

type M = Member<Time>;

fn int(n: impl Into<i64>) -> Result<Value, Fault> {
    Ok(Value::Int(n.into()))
}

/// What `time.now()`, `time.parse` and `time.date` return.
static TIME: Table<Time> = Table::new(
    "time.Time",
    "An instant with the time zone it is seen in; prints as RFC 3339. `+`/`-` a duration gives a time, `t2 - t1` a duration; times compare as instants.",
    &[
        M::method("rfc3339", |t, _, _| Ok(Value::str(t.rfc3339())))
            .doc("rfc3339()\nRFC 3339 text to the millisecond: `Z` in UTC, the offset (`+01:00`) in other zones."),
        M::method("format", format)
            .doc("format(pattern)\nstrftime-style text: `%Y-%m-%d %H:%M:%S`, `%a %d %b`, `%Z` (zone abbreviation), `%:z` (offset), `%.3f` (milliseconds), `%s` (Unix seconds).")
            .params(Params::exactly(1)),
        M::method("in_zone", in_zone)
            .doc("in_zone(name)\nThe same instant seen in zone `name` (`\"Europe/Berlin\"`, `\"UTC\"`, `\"local\"`).")
            .params(Params::exactly(1)),
        M::method("utc", |t, _, _| Ok(Time::value(t.0.with_time_zone(TimeZone::UTC))))
            .doc("utc()\nThe same instant in UTC."),
        M::method("unix", |t, _, _| {
            Ok(Value::Float(t.nanos_since_epoch() as f64 / 1e9))
        })
        .doc("unix()\nSeconds since 1970-01-01 UTC, as a float."),
        M::method("unix_ms", |t, _, _| {
            Ok(Value::Int(t.0.timestamp().as_millisecond()))
        })
        .doc("unix_ms()\nMilliseconds since 1970-01-01 UTC, as an int."),
        M::method("date", |t, _, _| Ok(Value::str(t.0.date().to_string())))
            .doc("date()\nThe calendar date in the time's zone, `YYYY-MM-DD`."),
        M::attribute("year", |t, _| int(t.0.year())).doc("year\nThe year in the time's zone."),
        M::attribute("month", |t, _| int(t.0.month())).doc("month\nThe month, 1-12."),
        M::attribute("day", |t, _| int(t.0.day())).doc("day\nThe day of the month, 1-31."),
        M::attribute("hour", |t, _| int(t.0.hour())).doc("hour\nThe hour, 0-23."),
        M::attribute("minute", |t, _| int(t.0.minute())).doc("minute\nThe minute, 0-59."),
        M::attribute("second", |t, _| int(t.0.second())).doc("second\nThe second, 0-59."),
        M::attribute("nanosecond", |t, _| int(t.0.subsec_nanosecond()))
            .doc("nanosecond\nNanoseconds within the second."),
        M::attribute("weekday", |t, _| int(t.0.weekday().to_monday_one_offset()))
            .doc("weekday\nThe ISO weekday: 1 is Monday, 7 is Sunday."),
        M::attribute("yearday", |t, _| int(t.0.day_of_year()))
            .doc("yearday\nThe day of the year, 1-366."),
        M::attribute("zone", |t, _| {
            let zone = t.0.time_zone();
            Ok(Value::str(match zone.iana_name() {
                Some(name) => name.to_string(),
                None if is_utc(zone) => "UTC".to_string(),
                None => t.0.offset().to_string(),
            }))
        })
        .doc("zone\nThe zone's IANA name (`\"Europe/Berlin\"`), `\"UTC\"`, or the fixed offset a parsed time carried (`\"+05:30\"`)."),
        M::attribute("offset", |t, _| {
            Ok(Value::Duration(i64::from(t.0.offset().seconds()) * 1_000_000_000))
        })
        .doc("offset\nThe zone's offset from UTC at this instant, a duration (`1.hour` for Berlin in winter)."),
    ],
);

fn format(t: &Time, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let pattern = args.str(0)?;
    let mut out = String::new();
    let broken = jiff::fmt::strtime::BrokenDownTime::from(&t.0);
    broken
        .format(pattern.as_bytes(), &mut out)
        .map_err(|e| Fault::new(format!("time.Time.format: {e}")))?;
    Ok(Value::str(out))
}

fn in_zone(t: &Time, _vm: &mut Vm, args: Args<'_>) -> Result<Value, Fault> {
    let zone = zone_named("time.Time.in_zone", args.str(0)?)?;
    Ok(Time::value(t.0.with_time_zone(zone)))
}

impl NativeType for Time {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn members(&self) -> &'static dyn Members {
        &TIME
    }

    fn display(&self) -> String {
        self.rfc3339()
    }

    fn json_value(&self) -> Option<Value> {
        Some(Value::str(self.rfc3339()))
    }

    fn equals(&self, other: &NativeObject) -> Option<bool> {
        other
            .downcast::<Time>()
            .map(|other| self.0.timestamp() == other.0.timestamp())
    }

    fn compare(&self, other: &NativeObject) -> Option<Ordering> {
        other
            .downcast::<Time>()
            .map(|other| self.0.timestamp().cmp(&other.0.timestamp()))
    }

    fn binary(&self, op: BinOp, other: &Value, reversed: bool) -> Option<Result<Value, Fault>> {
        let shifted = |nanos: i64| {
            self.0
                .checked_add(SignedDuration::from_nanos(nanos))
                .map(Time::value)
                .map_err(|_| Fault::new("time arithmetic went outside the years -9999 to 9999"))
        };
        match (op, other, reversed) {
            (BinOp::Add, Value::Duration(d), _) => Some(shifted(*d)),
            (BinOp::Sub, Value::Duration(d), false) => Some(shifted(d.checked_neg()?)),
            (BinOp::Sub, other, _) => {
                let other = time_of(other)?;
                let (later, earlier) = if reversed {
                    (other, &self.0)
                } else {
                    (&self.0, other)
                };
                Some(Ok(signed_duration_value(later.duration_since(earlier))))
            }
            _ => None,
        }
    }
}
