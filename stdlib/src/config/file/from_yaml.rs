//! YAML configuration files, read with saphyr's marked nodes so every value keeps its line and
//! column. Scalars follow the YAML 1.2 core schema (`8080` is an int, `"8080"` a string, `yes`
//! a string); anchors and aliases are resolved by the loader; duplicate keys are an error.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

use super::LineIndex;
use crate::config::source::{Origin, Raw};

/// Deeper nesting than this is refused rather than risk the stack on a hostile file.
const MAX_DEPTH: usize = 128;

/// Parses `text` into one tree of values with their origins.
pub(crate) fn read(text: &str, lines: &LineIndex<'_>) -> Result<(Raw, Origin), String> {
    let documents = load(text, lines)?;
    match documents.as_slice() {
        [] => Ok((Raw::Null, lines.origin_at(1, 1))),
        [document] => convert(document, lines, 0),
        [_, second, ..] => Err(format!(
            "{}: a second YAML document starts here; a config file holds one",
            origin(second, lines)
        )),
    }
}

/// Parses every document of a `---`-separated stream (`yaml.decode_all`).
pub(crate) fn read_all(text: &str, lines: &LineIndex<'_>) -> Result<Vec<Raw>, String> {
    load(text, lines)?
        .iter()
        .map(|document| convert(document, lines, 0).map(|(raw, _)| raw))
        .collect()
}

fn load<'t>(text: &'t str, lines: &LineIndex<'_>) -> Result<Vec<MarkedYaml<'t>>, String> {
    check_depth(text, lines)?;
    MarkedYaml::load_from_str(text).map_err(|e| {
        let mark = e.marker();
        format!(
            "{}: {}",
            lines.origin_at(mark.line(), mark.col() + 1),
            e.info()
        )
    })
}

/// Refuses nesting deeper than [`MAX_DEPTH`] from the parser's events, before the loader builds
/// (and later drops, recursively) a tree that deep: `[[[[...` a hundred thousand levels deep
/// would otherwise overflow the stack.
fn check_depth(text: &str, lines: &LineIndex<'_>) -> Result<(), String> {
    use saphyr_parser::{Event, Parser};
    let mut depth = 0usize;
    for next in Parser::new_from_str(text) {
        // A syntax error is left to the loader, which reports it the same way.
        let Ok((event, span)) = next else {
            return Ok(());
        };
        match event {
            Event::SequenceStart(..) | Event::MappingStart(..) => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(format!(
                        "{}: nested more than {MAX_DEPTH} levels deep",
                        lines.origin_at(span.start.line(), span.start.col() + 1)
                    ));
                }
            }
            Event::SequenceEnd | Event::MappingEnd => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Where `node` starts.
fn origin(node: &MarkedYaml<'_>, lines: &LineIndex<'_>) -> Origin {
    lines.origin_at(node.span.start.line(), node.span.start.col() + 1)
}

fn convert(
    node: &MarkedYaml<'_>,
    lines: &LineIndex<'_>,
    depth: usize,
) -> Result<(Raw, Origin), String> {
    let at = origin(node, lines);
    if depth > MAX_DEPTH {
        return Err(format!("{at}: nested more than {MAX_DEPTH} levels deep"));
    }
    let raw = match &node.data {
        YamlData::Value(scalar) => scalar_raw(scalar),
        // Only produced when scalar parsing is turned off; keep the text as written.
        YamlData::Representation(text, _, _) => Raw::Str(text.to_string()),
        YamlData::Sequence(items) => Raw::List(
            items
                .iter()
                .map(|item| convert(item, lines, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(entries) => {
            let mut table = Vec::with_capacity(entries.len());
            for (key, value) in entries {
                let name = key_name(key)
                    .ok_or_else(|| format!("{}: keys must be names", origin(key, lines)))?;
                let (raw, value_origin) = convert(value, lines, depth + 1)?;
                table.push((name, raw, value_origin));
            }
            Raw::Map(table)
        }
        // An application tag (`!vault ...`) means nothing here: the value under it counts.
        YamlData::Tagged(_, inner) => return convert(inner, lines, depth + 1),
        YamlData::Alias(_) => return Err(format!("{at}: unresolved alias")),
        YamlData::BadValue => {
            return Err(format!("{at}: the value does not match its tag"));
        }
    };
    Ok((raw, at))
}

fn scalar_raw(scalar: &Scalar<'_>) -> Raw {
    match scalar {
        Scalar::Null => Raw::Null,
        Scalar::Boolean(b) => Raw::Bool(*b),
        Scalar::Integer(i) => Raw::Int(*i),
        Scalar::FloatingPoint(f) => Raw::Float(f.into_inner()),
        Scalar::String(s) => Raw::Str(s.to_string()),
    }
}

/// A mapping key as a field name: strings as written, other scalars (`8080:`, `true:`) as
/// their text so they simply match no field; collections as keys are refused.
fn key_name(key: &MarkedYaml<'_>) -> Option<String> {
    match &key.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Value(Scalar::Null) => Some("null".into()),
        YamlData::Representation(text, _, _) => Some(text.to_string()),
        YamlData::Tagged(_, inner) => key_name(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read_str(text: &str) -> Result<(Raw, Origin), String> {
        read(text, &LineIndex::new(Path::new("c.yaml"), text))
    }

    fn at(line: usize, column: usize) -> Origin {
        Origin::File {
            path: "c.yaml".into(),
            line,
            column,
        }
    }

    #[test]
    fn scalars_follow_the_core_schema() {
        let text = "a: 1\nb: \"1\"\nc: 1.5\nd: true\ne: yes\nf: ~\ng: 30s\n";
        let Ok((Raw::Map(entries), _)) = read_str(text) else {
            panic!("not a table");
        };
        let values: Vec<Raw> = entries.into_iter().map(|(_, raw, _)| raw).collect();
        assert_eq!(
            values,
            [
                Raw::Int(1),
                Raw::Str("1".into()),
                Raw::Float(1.5),
                Raw::Bool(true),
                Raw::Str("yes".into()),
                Raw::Null,
                Raw::Str("30s".into()),
            ]
        );
    }

    #[test]
    fn aliases_resolve_and_keep_positions() {
        let text = "base: &b\n  host: x\ncopy: *b\nlist:\n  - 1\n  - 2\n";
        let Ok((Raw::Map(entries), _)) = read_str(text) else {
            panic!("not a table");
        };
        assert_eq!(entries[1].0, "copy");
        assert!(matches!(&entries[1].1, Raw::Map(m) if m[0].1 == Raw::Str("x".into())));
        let Raw::List(items) = &entries[2].1 else {
            panic!("not a list");
        };
        assert_eq!(items[1], (Raw::Int(2), at(6, 5)));
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let error = read_str("a: 1\nb: [1, 2\n").expect_err("must fail");
        assert!(error.starts_with("c.yaml:3:"), "{error}");
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let error = read_str("a: 1\na: 2\n").expect_err("must fail");
        assert!(error.starts_with("c.yaml:"), "{error}");
    }

    #[test]
    fn two_documents_are_an_error() {
        let error = read_str("a: 1\n---\na: 2\n").expect_err("must fail");
        assert!(error.contains("a second YAML document"), "{error}");
    }
}
