//! Duration methods: `total_seconds` and `total_milliseconds`, both floats.

use crate::native::{Member, Table};
use crate::value::Value;

/// A member of this type's table.
type M = Member<i64>;

/// Every duration method; the receiver is the duration in nanoseconds.
pub(super) static TABLE: Table<i64> = Table::new(
    "duration",
    "A length of time: `30.seconds`, `1.5.minutes`, `d.seconds` (float seconds).",
    &[
        M::method("total_seconds", |nanos, _, _| {
            Ok(Value::Float(*nanos as f64 / 1e9))
        })
        .doc("total_seconds()\nThe duration in seconds, as a float."),
        M::method("total_milliseconds", |nanos, _, _| {
            Ok(Value::Float(*nanos as f64 / 1e6))
        })
        .doc("total_milliseconds()\nThe duration in milliseconds, as a float."),
    ],
);
