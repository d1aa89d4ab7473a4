//! SQLite values both ways. SQLite stores one of five kinds (NULL, INTEGER, REAL, TEXT, BLOB)
//! whatever a column is declared as, so a value is read by the kind it was stored as; the
//! declared type adds two readings SQLite has no kind for: `BOOLEAN` columns read as bools, and
//! `TIMESTAMP`/`DATETIME`/`DATE` columns holding RFC 3339 text read as `time.Time`. Times are
//! written as RFC 3339 text in UTC (microseconds), dicts and lists as JSON text.

use sqlx::sqlite::{SqliteArguments, SqliteValueRef};
use sqlx::{Arguments, Decode, Sqlite, TypeInfo, ValueRef};

use cn_runtime::Value;

use super::values;

/// Adds `value` as parameter `n` (counted from 1; `?`, `?NNN`, `:name`, `$name` all count).
pub fn bind(args: &mut SqliteArguments<'_>, n: usize, value: &Value) -> Result<(), String> {
    let value = values::revealed(value);
    let added = match value {
        Value::Nil => args.add(None::<i64>),
        Value::Bool(b) => args.add(*b),
        Value::Int(i) => args.add(*i),
        Value::Float(f) => args.add(*f),
        Value::Str(s) => args.add(s.as_str().to_string()),
        Value::Bytes(b) => args.add(b.to_vec()),
        Value::List(_) | Value::Tuple(_) | Value::Dict(_) | Value::Record(_) => {
            let text = values::json_text(value).map_err(|why| format!("parameter {n}: {why}"))?;
            args.add(text)
        }
        other => match values::sqlite_time_text(other) {
            Some(text) => args.add(text),
            None => {
                return Err(format!(
                    "parameter {n}: cn cannot store a {} in SQLite",
                    other.type_name()
                ))
            }
        },
    };
    added.map_err(|e| format!("parameter {n}: {e}"))
}

/// The cn value of one column; `declared` is the column's declared type (upper case).
pub fn column(value: SqliteValueRef<'_>, declared: &str) -> Result<Value, String> {
    if value.is_null() {
        return Ok(Value::Nil);
    }
    let kind = value.type_info().name().to_string();
    let decode_error = |e: sqlx::error::BoxDynError| e.to_string();
    Ok(match kind.as_str() {
        "INTEGER" => {
            let i = <i64 as Decode<Sqlite>>::decode(value).map_err(decode_error)?;
            if declared == "BOOLEAN" {
                Value::Bool(i != 0)
            } else {
                Value::Int(i)
            }
        }
        "REAL" => Value::Float(<f64 as Decode<Sqlite>>::decode(value).map_err(decode_error)?),
        "BLOB" => Value::bytes(<Vec<u8> as Decode<Sqlite>>::decode(value).map_err(decode_error)?),
        _ => {
            let text = <String as Decode<Sqlite>>::decode(value).map_err(decode_error)?;
            let time = matches!(declared, "DATETIME" | "TIMESTAMP" | "DATE")
                .then(|| values::sqlite_time_value(&text))
                .flatten();
            time.unwrap_or_else(|| Value::str(text))
        }
    })
}
