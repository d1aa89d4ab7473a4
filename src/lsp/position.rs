//! Between byte offsets (what the compiler's spans are) and LSP positions (a line and a count of
//! UTF-16 code units, the protocol's default encoding), and the word under the cursor.

use lsp_types::{Position, Range};

/// Where each line of a text starts.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    /// The position of byte `offset` (clamped to the text).
    pub fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset) - 1;
        let start = self.starts[line];
        let column: usize = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().map(char::len_utf16).sum());
        Position::new(line as u32, column as u32)
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The byte offset of `position` (clamped to its line and to the text).
    pub fn offset(&self, position: Position) -> usize {
        let Some(&start) = self.starts.get(position.line as usize) else {
            return self.text.len();
        };
        let line_end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(self.text.len(), |&next| next - 1);
        let mut units = 0;
        for (i, c) in self.text[start..line_end].char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        line_end
    }
}

/// The identifier around `offset` (its text and start), and the one before a `.` in front of it
/// (`http` in `http.Ser|`). An empty word at a position after `.` still has its receiver.
pub struct WordAt<'a> {
    pub word: &'a str,
    pub start: usize,
    pub receiver: Option<&'a str>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub fn word_at(text: &str, offset: usize) -> WordAt<'_> {
    let offset = floor_boundary(text, offset.min(text.len()));
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    let receiver = text[..start].strip_suffix('.').and_then(|before| {
        let from = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| is_word(*c))
            .last()
            .map(|(i, _)| i)?;
        Some(&before[from..])
    });
    WordAt {
        word: &text[start..end],
        start,
        receiver,
    }
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_agree_with_utf16_columns() {
        let text = "a = 1\nb = \"größe😀\" + c\n";
        let index = LineIndex::new(text);
        let c = text.find(" c").map(|i| i + 1).unwrap_or(0);
        // The emoji is two UTF-16 units, each umlaut one.
        assert_eq!(index.position(c), Position::new(1, 16));
        assert_eq!(index.offset(Position::new(1, 16)), c);
        assert_eq!(index.offset(Position::new(9, 0)), text.len());
    }

    #[test]
    fn the_word_and_its_receiver() {
        let text = "server = http.Ser";
        let w = word_at(text, text.len());
        assert_eq!((w.word, w.receiver), ("Ser", Some("http")));
        let w = word_at("x = http.", 9);
        assert_eq!((w.word, w.receiver), ("", Some("http")));
        let w = word_at("print(total)", 8);
        assert_eq!((w.word, w.receiver), ("total", None));
    }
}
