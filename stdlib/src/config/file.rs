//! `file=`: a YAML, JSON or TOML configuration file as a [`Source`], chosen by the file's
//! extension.
//!
//! Each format's reader (`file/from_yaml.rs`, `from_json.rs`, `from_toml.rs`) turns the text
//! into one tree of [`Raw`] values in which every value keeps the line and column it was written
//! at, so a bad value is reported as `db.port must be an integer, got "x" (config.yaml:3:9)`.
//! Lookups walk that tree by field names: keys match field names exactly and nested records are
//! nested tables. Parse errors name the file, line and column too.

mod from_json;
pub(crate) mod from_toml;
pub(crate) mod from_yaml;

use std::path::Path;

use super::source::{FieldPath, Origin, Raw, Source};

/// The extensions `file=` understands, for the error that names them.
const SUPPORTED: &str = ".yaml, .yml, .json or .toml";

/// A parsed configuration file.
#[derive(Debug)]
pub struct FileSource {
    /// The top-level table: field names to values, each with its origin.
    root: Vec<(String, Raw, Origin)>,
}

impl FileSource {
    /// Reads and parses `path` by its extension. Errors (unreadable file, unknown extension, a
    /// syntax error at `path:line:col`, a top level that is not a table) come back as the
    /// sentences to show.
    pub fn open(path: &Path) -> Result<FileSource, Vec<String>> {
        let format = Format::of(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| vec![format!("cannot read config file {}: {e}", path.display())])?;
        FileSource::parse(path, format, &text)
    }

    /// Parses `text` as the contents of `path` in `format` (split from [`FileSource::open`] so
    /// tests need no files).
    pub fn parse(path: &Path, format: Format, text: &str) -> Result<FileSource, Vec<String>> {
        let lines = LineIndex::new(path, text);
        let root = match format {
            Format::Yaml => from_yaml::read(text, &lines),
            Format::Json => from_json::read(text, &lines),
            Format::Toml => from_toml::read(text, &lines),
        }
        .map_err(|e| vec![e])?;
        match root {
            (Raw::Map(entries), _) => Ok(FileSource { root: entries }),
            // An empty YAML file has no document at all: treat it as an empty table.
            (Raw::Null, _) if format == Format::Yaml => Ok(FileSource { root: Vec::new() }),
            (_, origin) => Err(vec![format!(
                "{origin}: the top level of a config file must be a table of field names, \
                 not a single value"
            )]),
        }
    }
}

impl Source for FileSource {
    fn lookup(&self, field: &FieldPath<'_>) -> Option<(Raw, Origin)> {
        let (first, rest) = field.names.split_first()?;
        let (_, raw, origin) = self.root.iter().find(|(key, _, _)| key == first)?;
        let (mut raw, mut origin) = (raw, origin);
        for name in rest {
            // A scalar where a table was expected answers nothing for the fields below it;
            // the loader then reports them as missing, or uses their defaults.
            let Raw::Map(entries) = raw else {
                return None;
            };
            let (_, child, child_origin) = entries.iter().find(|(key, _, _)| key == name)?;
            raw = child;
            origin = child_origin;
        }
        Some((raw.clone(), origin.clone()))
    }
}

/// A configuration file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.yaml` / `.yml`.
    Yaml,
    /// `.json`.
    Json,
    /// `.toml`.
    Toml,
}

impl Format {
    /// The format `path`'s extension names (case-insensitive).
    pub fn of(path: &Path) -> Result<Format, Vec<String>> {
        let extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match extension.as_deref() {
            Some("yaml" | "yml") => Ok(Format::Yaml),
            Some("json") => Ok(Format::Json),
            Some("toml") => Ok(Format::Toml),
            _ => Err(vec![format!(
                "config file {} has an unknown format: its name must end in {SUPPORTED}",
                path.display()
            )]),
        }
    }
}

/// Turns byte offsets into 1-based line and column numbers (columns count characters, as
/// editors do) and builds origins for one file.
pub(crate) struct LineIndex<'a> {
    path: &'a Path,
    text: &'a str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { path, text, starts }
    }

    /// Line and column (both 1-based) of byte `offset`.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&start| start <= offset).max(1);
        let start = self.starts[line - 1];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count())
            + 1;
        (line, column)
    }

    /// The origin of a value at byte `offset`.
    pub(crate) fn origin(&self, offset: usize) -> Origin {
        let (line, column) = self.position(offset);
        self.origin_at(line, column)
    }

    /// The origin of a value at a known line and column (1-based).
    pub(crate) fn origin_at(&self, line: usize, column: usize) -> Origin {
        Origin::File {
            path: self.path.to_path_buf(),
            line,
            column,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(name: &str, text: &str) -> Result<FileSource, Vec<String>> {
        let path = Path::new(name);
        let format = Format::of(path)?;
        FileSource::parse(path, format, text)
    }

    fn get(source: &FileSource, names: &[&str]) -> Option<(Raw, Origin)> {
        source.lookup(&FieldPath {
            names,
            env_name: "",
        })
    }

    fn at(path: &str, line: usize, column: usize) -> Origin {
        Origin::File {
            path: path.into(),
            line,
            column,
        }
    }

    #[test]
    fn positions_count_characters_from_one() {
        let path = Path::new("x");
        let lines = LineIndex::new(path, "ab\nçd: 1\n");
        assert_eq!(lines.position(0), (1, 1));
        assert_eq!(lines.position(3), (2, 1));
        // 'ç' is two bytes but one column.
        assert_eq!(lines.position(7), (2, 4));
    }

    #[test]
    fn the_same_tree_from_every_format() {
        let yaml = "port: 8080\ndb:\n  host: db.local\n  hosts: [a, b]\n";
        let json = "{\n  \"port\": 8080,\n  \"db\": {\"host\": \"db.local\", \"hosts\": [\"a\", \"b\"]}\n}\n";
        let toml = "port = 8080\n\n[db]\nhost = \"db.local\"\nhosts = [\"a\", \"b\"]\n";
        for (name, text, port_at, host_at) in [
            ("c.yaml", yaml, (1, 7), (3, 9)),
            ("c.json", json, (2, 11), (3, 18)),
            ("c.toml", toml, (1, 8), (4, 8)),
        ] {
            let source = parse(name, text).unwrap_or_else(|e| panic!("{name}: {e:?}"));
            assert_eq!(
                get(&source, &["port"]),
                Some((Raw::Int(8080), at(name, port_at.0, port_at.1))),
                "{name}"
            );
            assert_eq!(
                get(&source, &["db", "host"]),
                Some((Raw::Str("db.local".into()), at(name, host_at.0, host_at.1))),
                "{name}"
            );
            let Some((Raw::List(items), _)) = get(&source, &["db", "hosts"]) else {
                panic!("{name}: hosts is not a list");
            };
            let items: Vec<Raw> = items.into_iter().map(|(raw, _)| raw).collect();
            assert_eq!(
                items,
                [Raw::Str("a".into()), Raw::Str("b".into())],
                "{name}"
            );
            assert_eq!(get(&source, &["db", "nope"]), None);
            assert_eq!(get(&source, &["port", "deeper"]), None);
        }
    }

    #[test]
    fn unknown_extensions_name_the_supported_ones() {
        let error = parse("settings.ini", "").expect_err("must fail");
        assert_eq!(
            error,
            [
                "config file settings.ini has an unknown format: its name must end in \
              .yaml, .yml, .json or .toml"
            ]
        );
    }

    #[test]
    fn a_top_level_scalar_is_an_error() {
        let error = parse("c.json", "\n  42\n").expect_err("must fail");
        assert_eq!(
            error,
            [
                "c.json:2:3: the top level of a config file must be a table of field names, \
              not a single value"
            ]
        );
    }

    #[test]
    fn an_empty_yaml_file_is_an_empty_table() {
        let source = parse("c.yml", "# nothing yet\n").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(get(&source, &["port"]), None);
    }
}
