//! Byte offsets ↔ LSP positions. LSP counts columns in UTF-16 code units by default (the only
//! encoding every client supports), while the compiler's spans are byte offsets into UTF-8.
//! Lines are those of the compiler's one line index ([`stackc::syntax::lines`]): they end at
//! `\n`, `\r\n` or a lone `\r`, as the protocol says, and a line break belongs to no column.
//! Every conversion clamps: a position past the end of a line or of the text means its end.

use lsp_types::{Position, Range};
use stackc::syntax::ast::Span;
use stackc::syntax::lines;

/// The lines of one text, for conversions in O(log lines + line length).
pub struct LineIndex<'a>(lines::LineIndex<'a>);

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        LineIndex(lines::LineIndex::new(text))
    }

    /// The position of a byte offset; an offset past the end or inside a character is moved
    /// back to the nearest character boundary.
    pub fn position(&self, offset: usize) -> Position {
        let (line, column) = self.0.line_utf16(offset);
        Position::new(to_u32(line), to_u32(column))
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(
            self.position(span.start as usize),
            self.position(span.end as usize),
        )
    }

    /// The byte offset of a position. A line past the last one means the end of the text; a
    /// column past the end of its line means the end of the line; a column in the middle of a
    /// surrogate pair means the start of that character.
    pub fn offset(&self, pos: Position) -> usize {
        self.0
            .offset_utf16(pos.line as usize, pos.character as usize)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Applies one `didChange` content change: a range edit, or the whole text when `range` is
/// None. A range given backwards is taken in order.
pub fn apply_change(text: &mut String, range: Option<Range>, new_text: &str) {
    let Some(range) = range else {
        new_text.clone_into(text);
        return;
    };
    let index = LineIndex::new(text);
    let (a, b) = (index.offset(range.start), index.offset(range.end));
    let (start, end) = (a.min(b), a.max(b));
    text.replace_range(start..end, new_text);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position::new(line, character)
    }

    #[test]
    fn ascii_offsets_and_positions_round_trip() {
        let text = "stack a {}\nservice web {\n  image = \"x\"\n}\n";
        let index = LineIndex::new(text);
        for offset in 0..=text.len() {
            assert_eq!(index.offset(index.position(offset)), offset, "{offset}");
        }
        assert_eq!(index.position(11), pos(1, 0));
        assert_eq!(index.offset(pos(2, 2)), text.find("image").unwrap());
    }

    #[test]
    fn columns_count_utf16_code_units() {
        // `é` is 2 bytes and 1 unit; `🦀` is 4 bytes and 2 units (a surrogate pair).
        let text = "# é🦀x\nweb";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.position(x), pos(0, 5));
        assert_eq!(index.offset(pos(0, 5)), x);
        assert_eq!(index.offset(pos(0, 3)), text.find('🦀').unwrap());
        // Inside the surrogate pair: the start of the crab.
        assert_eq!(index.offset(pos(0, 4)), text.find('🦀').unwrap());
        // An offset inside a character is moved back to its start.
        assert_eq!(index.position(text.find('🦀').unwrap() + 2), pos(0, 3));
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let text = "ab\r\ncd";
        let index = LineIndex::new(text);
        // The `\r` belongs to the line break.
        assert_eq!(index.offset(pos(0, 99)), 2);
        assert_eq!(index.offset(pos(1, 99)), text.len());
        assert_eq!(index.offset(pos(7, 0)), text.len());
        assert_eq!(index.position(999), pos(1, 2));
        assert_eq!(LineIndex::new("").offset(pos(3, 3)), 0);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_as_editors_count() {
        let text = "# a\rfirewall {}\r\nx";
        let index = LineIndex::new(text);
        assert_eq!(index.position(text.find('f').unwrap()), pos(1, 0));
        assert_eq!(index.position(text.find('x').unwrap()), pos(2, 0));
        assert_eq!(index.offset(pos(1, 99)), 15);
        assert_eq!(index.position(text.len()), pos(2, 1));
    }

    #[test]
    fn changes_apply_by_range_or_whole() {
        let mut text = String::from("service wéb {\n  imgae = \"x\"\n}\n");
        // Replace `imgae` (line 1, columns 2..7) with `image`.
        apply_change(&mut text, Some(Range::new(pos(1, 2), pos(1, 7))), "image");
        assert_eq!(text, "service wéb {\n  image = \"x\"\n}\n");
        // An insertion after the non-ASCII name: column 11 is after `wéb`.
        apply_change(&mut text, Some(Range::new(pos(0, 11), pos(0, 11))), "2");
        assert_eq!(text, "service wéb2 {\n  image = \"x\"\n}\n");
        // A range past the end appends; a backwards range is taken in order.
        apply_change(&mut text, Some(Range::new(pos(9, 0), pos(9, 0))), "#");
        assert!(text.ends_with("}\n#"));
        apply_change(&mut text, Some(Range::new(pos(0, 3), pos(0, 0))), "");
        assert!(text.starts_with("vice"));
        apply_change(&mut text, None, "whole");
        assert_eq!(text, "whole");
    }
}
