//! `# allow(stack::CODE)` comments. A comment on the line(s) just above an item, an attribute
//! a nested block (an environment's override) or a firewall rule suppresses the diagnostics of that code whose primary span starts on the
//! next line, or lies inside the item. Several codes may be listed:
//! `# allow(stack::no_backups, stack::no_deletion_protection)`.
//!
//! Only lints and the `stack::unused` warning can be suppressed: an error of the language
//! would only come back at deploy time.

use super::CODES;
use crate::syntax::ast::{File, Span};
use crate::syntax::lines::LineIndex;

/// The codes a comment can suppress.
pub fn suppressible(code: &str) -> bool {
    code == "stack::unused" || CODES.contains(&code)
}

/// The allow comments of a source, by line.
pub struct Allows<'a> {
    /// The lines with comment lines directly above them that allow codes, in order: the byte
    /// range of the line (its end is where the next line starts) and those codes. Most lines
    /// have none, so only these are kept.
    above: Vec<(usize, usize, Vec<&'a str>)>,
    /// Item spans with the codes allowed above them.
    items: Vec<(Span, Vec<&'a str>)>,
}

/// The codes of one comment line: every `allow(...)` in it.
fn codes_of(line: &str) -> Vec<&str> {
    let Some(comment) = line.trim_start().strip_prefix('#') else {
        return Vec::new();
    };
    let mut codes = Vec::new();
    let mut rest = comment;
    while let Some(i) = rest.find("allow(") {
        rest = &rest[i + "allow(".len()..];
        let Some(end) = rest.find(')') else { break };
        codes.extend(
            rest[..end]
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty()),
        );
        rest = &rest[end..];
    }
    codes
}

impl<'a> Allows<'a> {
    pub fn new(src: &'a str, file: &File) -> Self {
        // Most files allow nothing: no need to read them line by line.
        if memchr::memmem::find(src.as_bytes(), b"allow(").is_none() {
            return Allows {
                above: Vec::new(),
                items: Vec::new(),
            };
        }
        let mut above = Vec::new();
        let mut pending: Vec<&str> = Vec::new();
        let lines = LineIndex::new(src);
        for l in 0..lines.line_count() {
            // The last line runs to the end of any offset.
            let (start, next) = match l + 1 < lines.line_count() {
                true => (lines.line_start(l), lines.line_start(l + 1)),
                false => (lines.line_start(l), usize::MAX),
            };
            if !pending.is_empty() {
                above.push((start, next, pending.clone()));
            }
            let line = lines.line_text(l);
            if line.trim_start().starts_with('#') {
                pending.extend(codes_of(line));
            } else {
                pending.clear();
            }
        }
        let mut allows = Allows {
            above,
            items: Vec::new(),
        };
        // Items, and the nested blocks inside them (an environment's override of a store is
        // where that store's diagnostics for the environment point).
        let nested = file.items.iter().flat_map(|item| match item {
            crate::syntax::ast::Item::Block(b) => b
                .entries
                .iter()
                .filter_map(|e| match e {
                    crate::syntax::ast::Entry::Nested(n) => Some(n.span),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        });
        let spans: Vec<Span> = file.items.iter().map(|i| i.span()).chain(nested).collect();
        for span in spans {
            let codes = allows.at(span.start as usize).to_vec();
            if !codes.is_empty() {
                allows.items.push((span, codes));
            }
        }
        allows
    }

    /// The codes allowed on the line holding byte `offset`.
    fn at(&self, offset: usize) -> &[&'a str] {
        let i = self.above.partition_point(|a| a.0 <= offset);
        match i.checked_sub(1).map(|i| &self.above[i]) {
            Some((_, end, codes)) if offset < *end => codes,
            _ => &[],
        }
    }

    /// Whether a diagnostic of `code` at `span` is allowed by a comment.
    pub fn allows(&self, code: &str, span: Span) -> bool {
        if !suppressible(code) {
            return false;
        }
        let name = code.strip_prefix("stack::").unwrap_or(code);
        let matches = |c: &&str| *c == code || *c == name;
        self.at(span.start as usize).iter().any(matches)
            || self.items.iter().any(|(item, codes)| {
                item.start <= span.start && span.end <= item.end && codes.iter().any(matches)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::codes_of;

    #[test]
    fn comments() {
        assert_eq!(
            codes_of("  # allow(stack::a, stack::b)"),
            ["stack::a", "stack::b"]
        );
        assert_eq!(codes_of("# allow(stack::a) allow(b)"), ["stack::a", "b"]);
        assert!(codes_of("x = 1 # allow(stack::a)").is_empty());
        assert!(codes_of("# allow(stack::a").is_empty());
    }
}
