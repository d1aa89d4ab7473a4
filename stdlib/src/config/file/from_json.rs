//! JSON configuration files with the position of every value.
//!
//! serde_json checks the text first (its syntax errors are precise, and it bounds the nesting
//! depth); a small reader then walks the valid text once more to build the tree with byte
//! offsets, handing each string and number back to serde_json to decode. Integers that fit in
//! 64 bits are ints, other numbers floats. A key given twice in one object is an error, as it
//! is in YAML and TOML, rather than the last one silently winning.

use super::LineIndex;
use crate::config::source::{Origin, Raw};

/// Parses `text` into one tree of values with their origins.
pub(super) fn read(text: &str, lines: &LineIndex<'_>) -> Result<(Raw, Origin), String> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        let full = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = full.strip_suffix(&suffix).unwrap_or(&full);
        return Err(format!(
            "{}: {message}",
            lines.origin_at(e.line(), e.column().max(1))
        ));
    }
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        lines,
    };
    reader.value()
}

/// A cursor over text serde_json has already accepted.
struct Reader<'a, 'l> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    lines: &'l LineIndex<'a>,
}

impl Reader<'_, '_> {
    fn skip_whitespace(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    /// Only reachable if serde_json and this reader disagree about what is valid JSON.
    fn unexpected(&self) -> String {
        format!("{}: unexpected character", self.lines.origin(self.pos))
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_whitespace();
        if self.peek() != Some(byte) {
            return Err(self.unexpected());
        }
        self.pos += 1;
        Ok(())
    }

    fn value(&mut self) -> Result<(Raw, Origin), String> {
        self.skip_whitespace();
        let start = self.pos;
        let origin = self.lines.origin(start);
        let raw = match self.peek() {
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Raw::Str(self.string()?),
            Some(b't') => self.literal("true", Raw::Bool(true))?,
            Some(b'f') => self.literal("false", Raw::Bool(false))?,
            Some(b'n') => self.literal("null", Raw::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            _ => return Err(self.unexpected()),
        };
        Ok((raw, origin))
    }

    fn literal(&mut self, word: &str, raw: Raw) -> Result<Raw, String> {
        if !self.text[self.pos..].starts_with(word) {
            return Err(self.unexpected());
        }
        self.pos += word.len();
        Ok(raw)
    }

    fn string(&mut self) -> Result<String, String> {
        let start = self.pos;
        let mut end = start + 1;
        loop {
            match self.bytes.get(end) {
                Some(b'\\') => end += 2,
                Some(b'"') => break,
                Some(_) => end += 1,
                None => return Err(self.unexpected()),
            }
        }
        self.pos = end + 1;
        serde_json::from_str(&self.text[start..=end]).map_err(|_| self.unexpected())
    }

    fn number(&mut self) -> Result<Raw, String> {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
        {
            self.pos += 1;
        }
        let number: serde_json::Number =
            serde_json::from_str(&self.text[start..self.pos]).map_err(|_| self.unexpected())?;
        match (number.as_i64(), number.as_f64()) {
            (Some(i), _) => Ok(Raw::Int(i)),
            (None, Some(f)) => Ok(Raw::Float(f)),
            (None, None) => Err(self.unexpected()),
        }
    }

    fn array(&mut self) -> Result<Raw, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Raw::List(items));
        }
        loop {
            items.push(self.value()?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Raw::List(items));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }

    fn object(&mut self) -> Result<Raw, String> {
        self.pos += 1;
        let mut entries: Vec<(String, Raw, Origin)> = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Raw::Map(entries));
        }
        loop {
            self.skip_whitespace();
            let key_at = self.pos;
            let key = self.string()?;
            if entries.iter().any(|(k, _, _)| *k == key) {
                return Err(format!(
                    "{}: duplicate key {key:?}",
                    self.lines.origin(key_at)
                ));
            }
            self.expect(b':')?;
            let (raw, origin) = self.value()?;
            entries.push((key, raw, origin));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Raw::Map(entries));
                }
                _ => return Err(self.unexpected()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read_str(text: &str) -> Result<(Raw, Origin), String> {
        read(text, &LineIndex::new(Path::new("c.json"), text))
    }

    fn at(line: usize, column: usize) -> Origin {
        Origin::File {
            path: "c.json".into(),
            line,
            column,
        }
    }

    #[test]
    fn values_with_positions() {
        let text = "{\"s\": \"a\\\"b\\u00e9\", \"n\": -12, \"f\": 1e3,\n \"l\": [true, null, {}], \"big\": 18446744073709551615}";
        let Ok((Raw::Map(entries), root)) = read_str(text) else {
            panic!("not an object");
        };
        assert_eq!(root, at(1, 1));
        assert_eq!(entries[0], ("s".into(), Raw::Str("a\"bé".into()), at(1, 7)));
        assert_eq!(entries[1].1, Raw::Int(-12));
        assert_eq!(entries[2].1, Raw::Float(1000.0));
        assert_eq!(
            entries[3].1,
            Raw::List(vec![
                (Raw::Bool(true), at(2, 8)),
                (Raw::Null, at(2, 14)),
                (Raw::Map(Vec::new()), at(2, 20)),
            ])
        );
        assert_eq!(entries[4].1, Raw::Float(18446744073709551615.0));
    }

    #[test]
    fn syntax_errors_name_the_position() {
        let error = read_str("{\n  \"a\": 1\n  \"b\": 2\n}").expect_err("must fail");
        assert_eq!(error, "c.json:3:3: expected `,` or `}`");
    }

    #[test]
    fn duplicate_keys_are_an_error() {
        let error = read_str("{\"a\": 1,\n \"a\": 2}").expect_err("must fail");
        assert_eq!(error, "c.json:2:2: duplicate key \"a\"");
    }
}
