//! TOML configuration files, read with the `toml` crate's spanned document tree so every value
//! keeps its line and column. Dates and times, which config fields have no type for, arrive as
//! their text.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::LineIndex;
use crate::config::source::{Origin, Raw};

/// Deeper nesting than this is refused rather than risk the stack on a hostile file.
const MAX_DEPTH: usize = 128;

/// Parses `text` into one tree of values with their origins.
pub(crate) fn read(text: &str, lines: &LineIndex<'_>) -> Result<(Raw, Origin), String> {
    let document = DeTable::parse(text).map_err(|e| {
        let at = lines.origin(e.span().map_or(0, |span| span.start));
        format!("{at}: {}", e.message())
    })?;
    let origin = lines.origin(document.span().start);
    Ok((table(document.get_ref(), lines, 0)?, origin))
}

fn table(entries: &DeTable<'_>, lines: &LineIndex<'_>, depth: usize) -> Result<Raw, String> {
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries.iter() {
        let (raw, origin) = convert(value, lines, depth + 1)?;
        out.push((key.get_ref().to_string(), raw, origin));
    }
    Ok(Raw::Map(out))
}

fn convert(
    value: &Spanned<DeValue<'_>>,
    lines: &LineIndex<'_>,
    depth: usize,
) -> Result<(Raw, Origin), String> {
    let at = lines.origin(value.span().start);
    if depth > MAX_DEPTH {
        return Err(format!("{at}: nested more than {MAX_DEPTH} levels deep"));
    }
    let raw = match value.get_ref() {
        DeValue::String(s) => Raw::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Raw::Int(n),
            Err(_) => return Err(format!("{at}: integer {i} does not fit in 64 bits")),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => Raw::Float(x),
            Err(_) => return Err(format!("{at}: invalid float {f}")),
        },
        DeValue::Boolean(b) => Raw::Bool(*b),
        DeValue::Datetime(d) => Raw::Str(d.to_string()),
        DeValue::Array(items) => Raw::List(
            items
                .iter()
                .map(|item| convert(item, lines, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        DeValue::Table(entries) => table(entries, lines, depth)?,
    };
    Ok((raw, at))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read_str(text: &str) -> Result<(Raw, Origin), String> {
        read(text, &LineIndex::new(Path::new("c.toml"), text))
    }

    fn at(line: usize, column: usize) -> Origin {
        Origin::File {
            path: "c.toml".into(),
            line,
            column,
        }
    }

    fn value(text: &str, key: &str) -> (Raw, Origin) {
        let Ok((Raw::Map(entries), _)) = read_str(text) else {
            panic!("not a table: {text}");
        };
        entries
            .into_iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, raw, origin)| (raw, origin))
            .unwrap_or_else(|| panic!("no {key}"))
    }

    #[test]
    fn every_kind_of_value() {
        let text = "a = 0x1F\nb = 1_000\nc = 2.5\nd = false\ne = 1979-05-27\nf = 'x'\n";
        assert_eq!(value(text, "a"), (Raw::Int(31), at(1, 5)));
        assert_eq!(value(text, "b").0, Raw::Int(1000));
        assert_eq!(value(text, "c").0, Raw::Float(2.5));
        assert_eq!(value(text, "d").0, Raw::Bool(false));
        assert_eq!(value(text, "e").0, Raw::Str("1979-05-27".into()));
        assert_eq!(value(text, "f"), (Raw::Str("x".into()), at(6, 5)));
    }

    #[test]
    fn inline_and_dotted_tables_nest() {
        let text = "db = { host = \"h\" }\ncache.ttl = \"5m\"\n";
        let (Raw::Map(db), _) = value(text, "db") else {
            panic!("db is not a table");
        };
        assert_eq!(db[0], ("host".into(), Raw::Str("h".into()), at(1, 15)));
        let (Raw::Map(cache), _) = value(text, "cache") else {
            panic!("cache is not a table");
        };
        assert_eq!(cache[0].1, Raw::Str("5m".into()));
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let error = read_str("a = 1\nb = \n").expect_err("must fail");
        assert!(error.starts_with("c.toml:2:"), "{error}");
    }

    #[test]
    fn integers_too_large_are_an_error() {
        let error = read_str("a = 0xFFFFFFFFFFFFFFFF\n").expect_err("must fail");
        assert!(error.starts_with("c.toml:1:5: integer"), "{error}");
    }
}
