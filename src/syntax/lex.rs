//! The lexical rules that every reader of `.stack` text must agree on: where a line ends,
//! where a comment ends and where a string ends. The grammar (`grammar/stack.pest`) states
//! the same rules; the parser's item splitter and error context, the formatter's comments,
//! the `# allow(...)` reader and the language server's completion all read text through
//! [`lexemes`], so a comment can never end in one place for the compiler and in another
//! for the formatter or an editor.
//!
//! A line ends at `\n`, `\r\n` or a lone `\r`, as in every editor and in the language server
//! protocol: a comment ends there, and a string may not run past it.

/// What a stretch of text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lexeme {
    /// Spaces and tabs.
    Space,
    /// `\n`, `\r\n` or a lone `\r`.
    LineEnd,
    /// `#` up to (not including) the end of its line.
    Comment,
    /// `"` up to and including the closing `"`, or up to the end of its line when it is not
    /// closed there (`closed: false`). A `\` escapes the character after it, except a line end.
    Str { closed: bool },
    /// A run of anything else: names, numbers, punctuation. Each reader splits it as it needs.
    Code,
}

/// Whether a byte ends a line (alone, or as the `\r` of `\r\n`).
pub fn is_line_end(b: u8) -> bool {
    b == b'\n' || b == b'\r'
}

/// The lexemes of `src` from byte `pos` (which must start a lexeme), with their byte ranges.
pub fn lexemes(src: &str, pos: usize) -> Lexemes<'_> {
    Lexemes {
        b: src.as_bytes(),
        pos,
    }
}

/// The iterator of [`lexemes`].
pub struct Lexemes<'a> {
    b: &'a [u8],
    pos: usize,
}

impl Iterator for Lexemes<'_> {
    type Item = (Lexeme, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let b = self.b;
        let start = self.pos;
        if start >= b.len() {
            return None;
        }
        let run = |mut i: usize, f: &dyn Fn(u8) -> bool| {
            while i < b.len() && f(b[i]) {
                i += 1;
            }
            i
        };
        let (kind, end) = match b[start] {
            b' ' | b'\t' => (Lexeme::Space, run(start, &|c| c == b' ' || c == b'\t')),
            b'\n' => (Lexeme::LineEnd, start + 1),
            b'\r' if b.get(start + 1) == Some(&b'\n') => (Lexeme::LineEnd, start + 2),
            b'\r' => (Lexeme::LineEnd, start + 1),
            b'#' => (Lexeme::Comment, run(start, &|c| !is_line_end(c))),
            b'"' => {
                let mut i = start + 1;
                let closed = loop {
                    match b.get(i) {
                        None => break false,
                        Some(b'"') => break true,
                        Some(&c) if is_line_end(c) => break false,
                        Some(b'\\') if b.get(i + 1).is_some_and(|&c| !is_line_end(c)) => i += 2,
                        Some(_) => i += 1,
                    }
                };
                (Lexeme::Str { closed }, if closed { i + 1 } else { i })
            }
            _ => (
                Lexeme::Code,
                run(start, &|c| {
                    !matches!(c, b' ' | b'\t' | b'\n' | b'\r' | b'#' | b'"')
                }),
            ),
        };
        self.pos = end;
        Some((kind, start, end))
    }
}

/// The start of the line holding byte `pos`.
pub fn line_start(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    src.as_bytes()[..pos]
        .iter()
        .rposition(|&c| is_line_end(c))
        .map_or(0, |i| i + 1)
}

/// The end of the line holding byte `pos`, before its line break.
pub fn line_end(src: &str, pos: usize) -> usize {
    let pos = pos.min(src.len());
    src.as_bytes()[pos..]
        .iter()
        .position(|&c| is_line_end(c))
        .map_or(src.len(), |i| pos + i)
}

/// The line break the text uses: that of its first line (`"\n"` when it has one line).
pub fn first_line_break(src: &str) -> &'static str {
    match lexemes(src, 0).find(|l| l.0 == Lexeme::LineEnd) {
        Some((_, s, e)) if e - s == 2 => "\r\n",
        Some((_, s, _)) if src.as_bytes()[s] == b'\r' => "\r",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Lexeme, &str)> {
        lexemes(src, 0).map(|(k, s, e)| (k, &src[s..e])).collect()
    }

    #[test]
    fn every_line_end_ends_a_comment() {
        use Lexeme::*;
        assert_eq!(
            kinds("# a\rfirewall {}"),
            [
                (Comment, "# a"),
                (LineEnd, "\r"),
                (Code, "firewall"),
                (Space, " "),
                (Code, "{}")
            ]
        );
        assert_eq!(
            kinds("# a\r\nb\nc"),
            [
                (Comment, "# a"),
                (LineEnd, "\r\n"),
                (Code, "b"),
                (LineEnd, "\n"),
                (Code, "c")
            ]
        );
    }

    #[test]
    fn strings_end_at_their_quote_or_their_line() {
        use Lexeme::*;
        assert_eq!(
            kinds(r##""a\"#b"x"##),
            [(Str { closed: true }, r##""a\"#b""##), (Code, "x")]
        );
        assert_eq!(
            kinds("\"a\rb\""),
            [
                (Str { closed: false }, "\"a"),
                (LineEnd, "\r"),
                (Code, "b"),
                (Str { closed: false }, "\"")
            ]
        );
        // A backslash does not escape a line end, nor the end of the text.
        assert_eq!(kinds("\"a\\\n")[0], (Str { closed: false }, "\"a\\"));
        assert_eq!(kinds("\"a\\")[0], (Str { closed: false }, "\"a\\"));
    }

    #[test]
    fn lines_and_their_breaks() {
        let src = "ab\rcd\r\nef";
        assert_eq!(line_start(src, 4), 3);
        assert_eq!(line_end(src, 3), 5);
        assert_eq!(line_start(src, 8), 7);
        assert_eq!(first_line_break(src), "\r");
        assert_eq!(first_line_break("a\r\nb\rc"), "\r\n");
        assert_eq!(first_line_break("a"), "\n");
    }
}
