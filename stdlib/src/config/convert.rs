//! Turning a source's raw value (or a field's default) into the cn value the field's type asks
//! for, with the error wording every message follows: `PORT must be an integer, got "abc" (env
//! PORT)`.
//!
//! Text (environment variables, secret files, quoted file values) is parsed: ints and numbers as
//! written (surrounding spaces ignored), booleans as true/false/1/0/yes/no/on/off in any case,
//! durations as `30s`, `5m`, `1h30m`, `250ms`, lists as comma-separated items (each trimmed; an
//! empty string is an empty list). Typed file values must match the type, except that an int
//! serves where a number is wanted, 0/1 where a boolean is, and a number of seconds where a
//! duration is (as everywhere in cn). A message names the field by its environment name when
//! the value came from the environment or a secret, and by its dotted path (`db.port`) when it
//! came from a file or a default.

use cn_runtime::format;
use cn_runtime::Value;

use super::schema::{Field, Kind, Scalar};
use super::source::{Origin, Raw};

/// How a message names the field for a value from `origin`.
pub fn field_name(field: &Field, origin: &Origin) -> String {
    match origin {
        Origin::Env(_) | Origin::Secret(_) => field.env_name.clone(),
        Origin::File { .. } | Origin::Default => field.dotted(),
    }
}

/// The value of a scalar or list field from a source's raw value; every problem with it (one per
/// bad list item) on failure.
pub fn from_raw(field: &Field, raw: &Raw, origin: &Origin) -> Result<Value, Vec<String>> {
    masked(field, raw_value(field, raw, origin))
}

/// A secret's bad value must not reach the error message (which is printed and logged): the
/// `got ...` part of each message becomes `got ***`.
fn masked(field: &Field, result: Result<Value, Vec<String>>) -> Result<Value, Vec<String>> {
    if !field.secret {
        return result;
    }
    result.map_err(|problems| {
        problems
            .into_iter()
            .map(
                |problem| match (problem.find(", got "), problem.rfind(" (")) {
                    (Some(got), Some(origin)) if origin > got => {
                        format!("{}, got ***{}", &problem[..got], &problem[origin..])
                    }
                    _ => problem,
                },
            )
            .collect()
    })
}

fn raw_value(field: &Field, raw: &Raw, origin: &Origin) -> Result<Value, Vec<String>> {
    let name = field_name(field, origin);
    match &field.kind {
        Kind::Scalar(scalar) => {
            scalar_from_raw(*scalar, raw).map_err(|()| vec![mismatch(&name, *scalar, raw, origin)])
        }
        Kind::List(item) => list_from_raw(&name, *item, raw, origin),
        Kind::Record(ty, _) => Err(vec![format!(
            "{name} must be a table of {} fields, got {} ({origin})",
            ty.name,
            got(raw)
        )]),
    }
}

fn list_from_raw(
    name: &str,
    item: Scalar,
    raw: &Raw,
    origin: &Origin,
) -> Result<Value, Vec<String>> {
    let items: Vec<(Raw, &Origin)> = match raw {
        Raw::Text(text) | Raw::Str(text) => split_list(text)
            .into_iter()
            .map(|s| (Raw::Text(s.to_string()), origin))
            .collect(),
        Raw::List(items) => items.iter().map(|(r, o)| (r.clone(), o)).collect(),
        other => {
            return Err(vec![format!(
                "{name} must be a list, got {} ({origin})",
                got(other)
            )])
        }
    };
    let mut values = Vec::with_capacity(items.len());
    let mut problems = Vec::new();
    for (i, (raw, origin)) in items.iter().enumerate() {
        match scalar_from_raw(item, raw) {
            Ok(v) => values.push(v),
            Err(()) => problems.push(mismatch(
                &format!("{name} item {}", i + 1),
                item,
                raw,
                origin,
            )),
        }
    }
    if problems.is_empty() {
        Ok(Value::list(values))
    } else {
        Err(problems)
    }
}

/// The items of a comma-separated list, trimmed; nothing at all for blank text.
fn split_list(text: &str) -> Vec<&str> {
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.split(',').map(str::trim).collect()
}

fn scalar_from_raw(scalar: Scalar, raw: &Raw) -> Result<Value, ()> {
    match (scalar, raw) {
        (Scalar::Str, Raw::Text(s) | Raw::Str(s)) => Ok(Value::str(s.as_str())),
        (_, Raw::Text(s) | Raw::Str(s)) => parse_text(scalar, s),
        (Scalar::Int, Raw::Int(i)) => Ok(Value::Int(*i)),
        (Scalar::Float, Raw::Int(i)) => Ok(Value::Float(*i as f64)),
        (Scalar::Float, Raw::Float(f)) if f.is_finite() => Ok(Value::Float(*f)),
        (Scalar::Bool, Raw::Bool(b)) => Ok(Value::Bool(*b)),
        (Scalar::Bool, Raw::Int(i @ (0 | 1))) => Ok(Value::Bool(*i == 1)),
        (Scalar::Duration, Raw::Int(i)) => seconds(*i as f64),
        (Scalar::Duration, Raw::Float(f)) => seconds(*f),
        _ => Err(()),
    }
}

/// A scalar other than `str` parsed from text.
fn parse_text(scalar: Scalar, text: &str) -> Result<Value, ()> {
    let t = text.trim();
    match scalar {
        Scalar::Str => Ok(Value::str(text)),
        Scalar::Int => t.parse::<i64>().map(Value::Int).map_err(|_| ()),
        Scalar::Float => match t.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(()),
        },
        Scalar::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Bool(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Bool(false)),
            _ => Err(()),
        },
        Scalar::Duration => parse_duration(t),
    }
}

/// `30s`, `5m`, `1h30m`, `250ms`, `1.5s` as a duration value.
fn parse_duration(text: &str) -> Result<Value, ()> {
    // humantime also reads `1h 30m` and long unit names; a bare number has no unit and is
    // refused, since `30` could mean seconds or minutes.
    let duration = humantime::parse_duration(text).map_err(|_| ())?;
    i64::try_from(duration.as_nanos())
        .map(Value::Duration)
        .map_err(|_| ())
}

/// A number of seconds as a duration, if it is one that fits.
fn seconds(secs: f64) -> Result<Value, ()> {
    let nanos = secs * 1e9;
    if nanos.is_finite() && nanos >= 0.0 && nanos < i64::MAX as f64 {
        Ok(Value::Duration(nanos as i64))
    } else {
        Err(())
    }
}

/// What a field of this kind must be, as messages say it.
fn wanted(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::Str => "a string",
        Scalar::Int => "an integer",
        Scalar::Float => "a number",
        Scalar::Bool => "true or false",
        Scalar::Duration => "a duration like 30s, 5m or 1h30m",
    }
}

fn mismatch(name: &str, scalar: Scalar, raw: &Raw, origin: &Origin) -> String {
    format!(
        "{name} must be {}, got {} ({origin})",
        wanted(scalar),
        got(raw)
    )
}

/// A raw value as messages quote it: text in quotes, typed file values as written.
fn got(raw: &Raw) -> String {
    match raw {
        Raw::Text(s) | Raw::Str(s) => format::repr(&Value::str(s.as_str())),
        Raw::Null => "null".into(),
        Raw::Bool(b) => b.to_string(),
        Raw::Int(i) => i.to_string(),
        Raw::Float(f) => {
            let mut out = String::new();
            format::write_float(&mut out, *f);
            out
        }
        Raw::List(_) => "a list".into(),
        Raw::Map(_) => "a table".into(),
    }
}

/// The value of a field from its default (a cn value written in the script), checked against
/// the field's type like any other source; lists are copied, so that changing a loaded list
/// never changes the default.
pub fn from_default(field: &Field, value: &Value) -> Result<Value, Vec<String>> {
    masked(field, default_value(field, value))
}

fn default_value(field: &Field, value: &Value) -> Result<Value, Vec<String>> {
    let name = field.dotted();
    let origin = Origin::Default;
    if matches!(value, Value::Nil) && field.optional {
        return Ok(Value::Nil);
    }
    match &field.kind {
        Kind::Scalar(scalar) => scalar_from_value(*scalar, value)
            .ok_or_else(|| vec![value_mismatch(&name, wanted(*scalar), value)]),
        Kind::List(item) => {
            let items: Vec<Value> = match value {
                Value::List(items) => items.borrow().clone(),
                Value::Tuple(items) => items.to_vec(),
                other => return Err(vec![value_mismatch(&name, "a list", other)]),
            };
            let mut values = Vec::with_capacity(items.len());
            let mut problems = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match scalar_from_value(*item, v) {
                    Some(v) => values.push(v),
                    None => problems.push(value_mismatch(
                        &format!("{name} item {}", i + 1),
                        wanted(*item),
                        v,
                    )),
                }
            }
            if problems.is_empty() {
                Ok(Value::list(values))
            } else {
                Err(problems)
            }
        }
        Kind::Record(ty, _) => match value {
            Value::Record(r) if std::rc::Rc::ptr_eq(&r.ty, ty) => Ok(value.clone()),
            other => Err(vec![format!(
                "{name} must be a {}, got {} ({origin})",
                ty.name,
                format::repr(other)
            )]),
        },
    }
}

fn scalar_from_value(scalar: Scalar, value: &Value) -> Option<Value> {
    match (scalar, value) {
        (Scalar::Str, Value::Str(_))
        | (Scalar::Int, Value::Int(_))
        | (Scalar::Bool, Value::Bool(_))
        | (Scalar::Duration, Value::Duration(_)) => Some(value.clone()),
        (Scalar::Float, Value::Int(i)) => Some(Value::Float(*i as f64)),
        (Scalar::Float, Value::Float(_)) => Some(value.clone()),
        (Scalar::Duration, Value::Int(i)) => seconds(*i as f64).ok(),
        (Scalar::Duration, Value::Float(f)) => seconds(*f).ok(),
        (Scalar::Duration, Value::Str(s)) => parse_duration(s.trim()).ok(),
        _ => None,
    }
}

fn value_mismatch(name: &str, wanted: &str, value: &Value) -> String {
    format!(
        "{name} must be {wanted}, got {} ({})",
        format::repr(value),
        Origin::Default
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_writes_them() {
        let ns = |s: &str| match parse_duration(s) {
            Ok(Value::Duration(n)) => n,
            _ => -1,
        };
        assert_eq!(ns("30s"), 30_000_000_000);
        assert_eq!(ns("5m"), 300_000_000_000);
        assert_eq!(ns("1h30m"), 5_400_000_000_000);
        assert_eq!(ns("250ms"), 250_000_000);
        assert_eq!(ns("1.5s"), 1_500_000_000);
        assert_eq!(ns("soon"), -1);
        assert_eq!(ns("30"), -1);
        assert_eq!(ns(""), -1);
    }

    #[test]
    fn booleans_accept_the_usual_spellings() {
        for yes in ["true", "TRUE", "1", "yes", "On", " yes "] {
            assert!(matches!(
                parse_text(Scalar::Bool, yes),
                Ok(Value::Bool(true))
            ));
        }
        for no in ["false", "False", "0", "NO", "off"] {
            assert!(matches!(
                parse_text(Scalar::Bool, no),
                Ok(Value::Bool(false))
            ));
        }
        assert!(parse_text(Scalar::Bool, "maybe").is_err());
    }

    #[test]
    fn lists_split_on_commas_and_trim() {
        assert_eq!(split_list("a, b ,c"), vec!["a", "b", "c"]);
        assert!(split_list("").is_empty());
        assert!(split_list("  ").is_empty());
        assert_eq!(split_list("a,,b"), vec!["a", "", "b"]);
    }
}
