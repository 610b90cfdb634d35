//! Text from the input made safe to print on a terminal. A file may hold control characters
//! (ESC starts the sequences that set a terminal's title or clear its screen), and
//! bidirectional overrides that make a line read differently from what it is; echoed raw in a
//! report, they would act on the terminal of whoever reads it. Every piece of input that a
//! report or a one-line message shows — source lines, names and strings in messages, file
//! names — goes through [`printable`].

use std::borrow::Cow;

/// Whether a character must not reach a terminal as itself: C0 controls (but tab), DEL, C1
/// controls, the bidirectional controls, and the Unicode line and paragraph separators.
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\0'..='\u{8}' | '\u{a}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        | '\u{2028}' | '\u{2029}')
}

/// How an unsafe character is shown: as Rust writes it in a string (`\u{1b}`), so the text
/// says exactly which character is there. Line breaks are `\n` and `\r`.
pub fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` with every unsafe character escaped; borrowed when there is none (the usual case).
pub fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_unsafe(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// The width of `c` once printed by [`printable`], in characters.
pub fn escaped_len(c: char) -> usize {
    match c {
        '\n' | '\r' => 2,
        c if is_unsafe(c) => format!("{:x}", c as u32).len() + 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_overrides_are_escaped() {
        assert_eq!(
            printable("\u{1b}]0;owned\u{7}\u{1b}[2J"),
            "\\u{1b}]0;owned\\u{7}\\u{1b}[2J"
        );
        assert_eq!(
            printable("a\u{202e}b\u{85}c\u{7f}"),
            "a\\u{202e}b\\u{85}c\\u{7f}"
        );
        assert_eq!(printable("a\nb\rc\td"), "a\\nb\\rc\td");
        assert!(matches!(printable("plain é 🦀"), Cow::Borrowed(_)));
        for c in ['\u{1b}', '\u{202e}', '\n', '\u{85}'] {
            assert_eq!(printable(&c.to_string()).chars().count(), escaped_len(c));
        }
    }
}
