//! The comments of a source, as the shared lexer finds them ([`crate::syntax::lex`]: a `#` in
//! a string is text, and a comment ends at any line break).

use crate::syntax::lex::{self, Lexeme};

/// A `# ...` comment: its byte range, up to (not including) the end of its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
}

/// Every comment of a source that parses, in order.
pub fn scan(src: &str) -> Vec<Comment> {
    lex::lexemes(src, 0)
        .filter(|l| l.0 == Lexeme::Comment)
        .map(|(_, start, end)| Comment { start, end })
        .collect()
}
