//! Lines of a text: the one index that turns byte offsets into lines and columns for every
//! consumer — the human report, `--format json` and the language server — so that the three
//! can never place a diagnostic differently. Lines end at `\n`, `\r\n` or a lone `\r`
//! ([`super::lex`]); a line break belongs to no column.
//!
//! Built once per text in one linear pass; a lookup is a binary search plus a count of the
//! characters before the offset on its line, resumed from the previous lookup when it is on
//! the same line further right (diagnostics come in source order), so that many diagnostics
//! on one long line cost linear time, not quadratic.

use std::cell::Cell;

/// The line starts of one text.
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of the first character of each line; always holds 0. Texts are at most
    /// 4 GiB (spans are 32-bit), so the offsets fit.
    starts: Vec<u32>,
    /// The last column counted: its offset, and the characters and UTF-16 units between its
    /// line's start and it.
    memo: Cell<(usize, usize, usize)>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let b = text.as_bytes();
        let mut starts = vec![0];
        for i in memchr::memchr2_iter(b'\n', b'\r', b) {
            // The `\r` of `\r\n` starts no line: its `\n` does.
            if b[i] == b'\r' && b.get(i + 1) == Some(&b'\n') {
                continue;
            }
            starts.push(to_u32(i + 1));
        }
        LineIndex {
            text,
            starts,
            memo: Cell::new((0, 0, 0)),
        }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// How many lines the text has (an empty text has one, empty).
    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The offset clamped into the text and moved back to a character boundary.
    pub fn clamp(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    /// The line (from 0) holding a byte offset.
    pub fn line(&self, offset: usize) -> usize {
        let offset = self.clamp(offset);
        self.starts.partition_point(|&s| s as usize <= offset) - 1
    }

    /// Where a line starts; a line past the last one starts at the end of the text.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts
            .get(line)
            .map_or(self.text.len(), |&s| s as usize)
    }

    /// Where a line's text ends, before its line break.
    pub fn line_end(&self, line: usize) -> usize {
        let Some(&next) = self.starts.get(line + 1) else {
            return self.text.len();
        };
        let next = next as usize;
        let b = self.text.as_bytes();
        if next >= 2 && b[next - 2] == b'\r' && b[next - 1] == b'\n' {
            next - 2
        } else {
            next - 1
        }
    }

    /// The text of a line, without its line break.
    pub fn line_text(&self, line: usize) -> &'a str {
        &self.text[self.line_start(line).min(self.line_end(line))..self.line_end(line)]
    }

    /// Characters and UTF-16 units between the start of `offset`'s line and `offset` (which
    /// is on a character boundary).
    fn columns(&self, line: usize, offset: usize) -> (usize, usize) {
        let start = self.line_start(line);
        let (memo_at, chars, units) = self.memo.get();
        let (from, mut chars, mut units) = if memo_at >= start && memo_at <= offset {
            (memo_at, chars, units)
        } else {
            (start, 0, 0)
        };
        // Past the end of the line (inside its line break) counts as the end of the line.
        let to = offset.min(self.line_end(line)).max(from);
        let seg = &self.text[from..to];
        if seg.is_ascii() {
            chars += seg.len();
            units += seg.len();
        } else {
            for c in seg.chars() {
                chars += 1;
                units += c.len_utf16();
            }
        }
        self.memo.set((to, chars, units));
        (chars, units)
    }

    /// 1-based line and column (in characters) of a byte offset, as people and
    /// `--format json` count them; offsets past the end or inside a character are clamped.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.line(offset);
        (line + 1, self.columns(line, offset).0 + 1)
    }

    /// 0-based line and column in UTF-16 code units, as the language server protocol counts.
    pub fn line_utf16(&self, offset: usize) -> (usize, usize) {
        let offset = self.clamp(offset);
        let line = self.line(offset);
        (line, self.columns(line, offset).1)
    }

    /// The byte offset of a 0-based line and UTF-16 column. A line past the last one means the
    /// end of the text; a column past the end of its line means the end of the line; a column
    /// in the middle of a surrogate pair means the start of that character.
    pub fn offset_utf16(&self, line: usize, column: usize) -> usize {
        if line >= self.starts.len() {
            return self.text.len();
        }
        let start = self.line_start(line);
        let mut units = 0;
        for (i, c) in self.line_text(line).char_indices() {
            if units + c.len_utf16() > column {
                return start + i;
            }
            units += c.len_utf16();
        }
        self.line_end(line)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_break_starts_a_line() {
        let text = "a\nb\r\nc\rd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        assert_eq!(
            (0..4).map(|l| index.line_text(l)).collect::<Vec<_>>(),
            ["a", "b", "c", "d"]
        );
        assert_eq!(index.line_col(text.find('d').unwrap()), (4, 1));
        // Inside `\r\n`: the end of the line.
        assert_eq!(index.line_col(3), (2, 2));
        assert_eq!(index.line_col(4), (2, 2));
        assert_eq!(index.line_col(999), (4, 2));
    }

    #[test]
    fn columns_count_characters_or_utf16_units() {
        let text = "x é🦀y\r\nz";
        let index = LineIndex::new(text);
        let y = text.find('y').unwrap();
        assert_eq!(index.line_col(y), (1, 5));
        assert_eq!(index.line_utf16(y), (0, 5));
        assert_eq!(index.offset_utf16(0, 5), y);
        // Inside the surrogate pair: the crab's start; past the line: its end.
        assert_eq!(index.offset_utf16(0, 4), text.find('🦀').unwrap());
        assert_eq!(index.offset_utf16(0, 99), y + 1);
        assert_eq!(index.offset_utf16(9, 0), text.len());
        // Lookups in any order give the same answers (the memo only resumes forwards).
        for o in (0..=text.len()).rev().chain(0..=text.len()) {
            let fresh = LineIndex::new(text);
            assert_eq!(index.line_col(o), fresh.line_col(o), "{o}");
            assert_eq!(index.line_utf16(o), fresh.line_utf16(o), "{o}");
        }
    }
}
