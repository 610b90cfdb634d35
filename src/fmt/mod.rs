//! `stackc fmt`: one canonical layout for `.stack` files, comments kept where they were.
//!
//! The layout: two-space indent; the `=` of the attributes of one block aligned; one blank
//! line between top-level items; blank lines inside a block kept (several become one); a
//! list on one line while the line fits in [`WIDTH`] columns, else one element per line; the
//! line ends of the file (those of its first line: `\n`, `\r\n` or a lone `\r`).
//!
//! The printer walks the syntax tree, which has a span on every node, and takes comments
//! from a separate scan of the text (the grammar skips them). A comment is printed before
//! the first line that starts after it, or at the end of the line it trailed; a comment
//! written inside a construct printed on one line (`service # x` + newline + `web {`) moves
//! above that line. Every comment is printed exactly once and in order, so `# allow(...)`
//! comments keep applying to the line below them.
//!
//! Pure: text in, text out.

use crate::Diagnostic;
use crate::syntax::ast::{Attr, Block, Entry, File, Firewall, Item, Span, Value, ValueKind};
use crate::syntax::lex::{self, Lexeme};

pub mod build;
mod comments;

use comments::Comment;

/// The width a one-line list must fit in.
pub const WIDTH: usize = 100;

const INDENT: &str = "  ";

/// Formats a source. A file with syntax errors is refused: its diagnostics are returned and
/// nothing is formatted.
pub fn format(src: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = crate::syntax::parse(src);
    match parsed.file {
        Some(file) if parsed.errors.is_empty() => {
            let out = print(src, &file);
            // A file written with Windows (or old Mac) line ends keeps them.
            match lex::first_line_break(src) {
                "\n" => Ok(out),
                other => Ok(out.replace('\n', other)),
            }
        }
        _ => Err(parsed.errors.into_iter().map(Diagnostic::from).collect()),
    }
}

fn print(src: &str, file: &File) -> String {
    let mut p = Printer {
        src,
        comments: comments::scan(src),
        next: 0,
        out: String::with_capacity(src.len() + src.len() / 8),
        last_end: 0,
        trailing: Vec::new(),
    };
    for (i, item) in file.items.iter().enumerate() {
        // Items are one blank line apart; comments above an item keep their distance to it
        // (none or one blank line).
        if i > 0 {
            p.blank();
        }
        match item {
            Item::Block(b) => p.block(b),
            Item::Firewall(f) => p.firewall(f),
        }
    }
    // Comments after the last item.
    p.comments_before(src.len() + 1, 0, true);
    align_trailing(&p.out, &p.trailing)
}

/// Aligns the trailing comments of consecutive lines one space after the longest code of
/// the run, as people align them by hand (and gofmt does).
fn align_trailing(out: &str, trailing: &[(usize, usize)]) -> String {
    let mut aligned = String::with_capacity(out.len() + trailing.len() * 8);
    let mut copied = 0;
    let mut i = 0;
    while i < trailing.len() {
        // The run: each next comment is on the line right after the previous one.
        let mut j = i + 1;
        while j < trailing.len() && out[trailing[j - 1].1..trailing[j].1].matches('\n').count() == 1
        {
            j += 1;
        }
        let width = trailing[i..j]
            .iter()
            .map(|&(line, hash)| out[line..hash].trim_end().chars().count())
            .max()
            .unwrap_or(0);
        for &(line, hash) in &trailing[i..j] {
            let code = out[line..hash].trim_end();
            aligned.push_str(&out[copied..line]);
            aligned.push_str(code);
            let pad = width - code.chars().count() + 1;
            aligned.extend(std::iter::repeat_n(' ', pad));
            copied = hash;
        }
        i = j;
    }
    aligned.push_str(&out[copied..]);
    aligned
}

struct Printer<'a> {
    src: &'a str,
    comments: Vec<Comment>,
    /// The first comment not printed yet.
    next: usize,
    out: String,
    /// Where in the source the last printed thing (code or comment) ends: blank lines
    /// between it and the next thing are looked for in between.
    last_end: usize,
    /// Lines of `out` that end with a trailing comment: where the line and the `#` start.
    trailing: Vec<(usize, usize)>,
}

impl Printer<'_> {
    fn text(&self, span: Span) -> &str {
        &self.src[span.start as usize..span.end as usize]
    }

    /// Whether the source has a blank line between the last printed thing and `pos`.
    fn blank_line_before(&self, pos: usize) -> bool {
        let from = self.last_end.min(pos);
        let gap = &self.src[from..pos.min(self.src.len())];
        let mut newlines = 0;
        for (kind, _, _) in lex::lexemes(gap, 0) {
            match kind {
                Lexeme::LineEnd => {
                    newlines += 1;
                    if newlines >= 2 {
                        return true;
                    }
                }
                Lexeme::Space => {}
                // A comment in between: only the line breaks after it count.
                _ => newlines = 0,
            }
        }
        false
    }

    /// Ends the output with one blank line (none at the start of the file).
    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Prints, each on its own line at `depth`, the comments that start before `pos`.
    /// `keep_blank` says whether a blank line in the source before a comment is kept.
    fn comments_before(&mut self, pos: usize, depth: usize, keep_blank: bool) {
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            let (start, end) = (c.start, c.end);
            if keep_blank && self.blank_line_before(start) {
                self.blank();
            }
            self.indent(depth);
            let text = self.src[start..end].trim_end();
            self.out.push_str(text);
            self.out.push('\n');
            self.next += 1;
            self.last_end = end;
        }
    }

    /// Starts a line of code at `depth` for the construct in `start..inner_end` printed on
    /// it: the comments before it, a kept blank line (`keep_blank`), the comments written
    /// inside the construct (they move above it), then the indent.
    fn line_start(&mut self, start: usize, inner_end: usize, depth: usize, keep_blank: bool) {
        self.comments_before(start, depth, keep_blank);
        if keep_blank && self.blank_line_before(start) {
            self.blank();
        }
        self.comments_before(inner_end, depth, false);
        self.indent(depth);
    }

    /// Ends a line of code whose source ends at `end`: a comment that trailed it in the
    /// source follows it on the same line. Comments inside the construct, which has been
    /// printed on this one line, must already have been printed above it.
    fn line_end(&mut self, end: usize) {
        self.last_end = end;
        if let Some(c) = self.comments.get(self.next)
            && c.start >= end
            && self.src[end..c.start].trim().is_empty()
            && !self.src[end..c.start].contains(['\n', '\r'])
        {
            let text = self.src[c.start..c.end].trim_end();
            self.out.push(' ');
            let line = self.out.rfind('\n').map_or(0, |i| i + 1);
            self.trailing.push((line, self.out.len()));
            self.out.push_str(text);
            self.last_end = c.end;
            self.next += 1;
        }
        self.out.push('\n');
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str(INDENT);
        }
    }

    /// Whether a comment starts inside `span`.
    fn has_comment_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .take_while(|c| c.start < span.end as usize)
            .any(|c| c.start >= span.start as usize)
    }

    /// Prints `head {` and ends the line; or `head {}` for a block with nothing inside (no
    /// entries, no comment), and then returns false: there is no body to print.
    fn open_body(&mut self, head: &str, span: Span, open: usize, empty: bool) -> bool {
        self.out.push_str(head);
        if empty && !self.has_comment_in(span) {
            self.out.push_str(" {}");
            self.line_end(span.end as usize);
            return false;
        }
        self.out.push_str(" {");
        self.line_end(open + 1);
        true
    }

    fn block(&mut self, b: &Block) {
        let open = self.open_brace(b.name.span.end as usize);
        self.line_start(b.span.start as usize, open, 0, true);
        let close = b.span.end as usize - 1;
        let head = format!("{} {}", b.kind.text, b.name.text);
        if !self.open_body(&head, b.span, open, b.entries.is_empty()) {
            return;
        }
        let width = key_width(b.entries.iter().filter_map(|e| match e {
            Entry::Attr(a) => Some(a),
            Entry::Nested(_) => None,
        }));
        for (i, e) in b.entries.iter().enumerate() {
            match e {
                Entry::Attr(a) => self.attr(a, 1, width, i > 0),
                Entry::Nested(n) => {
                    let open = self.open_brace(n.name.span.end as usize);
                    self.line_start(n.span.start as usize, open, 1, i > 0);
                    let close = n.span.end as usize - 1;
                    if !self.open_body(&n.name.text, n.span, open, n.attrs.is_empty()) {
                        continue;
                    }
                    let width = key_width(n.attrs.iter());
                    for (j, a) in n.attrs.iter().enumerate() {
                        self.attr(a, 2, width, j > 0);
                    }
                    self.comments_before(close, 2, true);
                    self.indent(1);
                    self.out.push('}');
                    self.line_end(n.span.end as usize);
                }
            }
        }
        self.comments_before(close, 1, true);
        self.out.push('}');
        self.line_end(b.span.end as usize);
    }

    /// The offset of the `{` that follows `from` (the grammar guarantees one, after trivia).
    fn open_brace(&self, from: usize) -> usize {
        lex::lexemes(self.src, from)
            .filter(|l| l.0 == Lexeme::Code)
            .find_map(|(_, s, e)| self.src[s..e].find('{').map(|i| s + i))
            .unwrap_or(from)
    }

    fn attr(&mut self, a: &Attr, depth: usize, width: usize, keep_blank: bool) {
        let inner_end = a.value.span.start as usize;
        self.line_start(a.span().start as usize, inner_end, depth, keep_blank);
        let lead = format!("{:width$} = ", a.key.text);
        let column = INDENT.len() * depth + lead.len();
        self.out.push_str(&lead);
        match &a.value.kind {
            ValueKind::List(items) => self.list(a.value.span, items, depth, column),
            _ => {
                let v = self.scalar(&a.value);
                self.out.push_str(&v);
            }
        }
        self.line_end(a.span().end as usize);
    }

    /// Values as a list's elements or a rule's terms: `a, b, c`.
    fn joined(&self, values: &[Value]) -> String {
        values
            .iter()
            .map(|v| self.scalar(v))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// A list: on one line when it fits and holds no comment, else one element per line.
    fn list(&mut self, span: Span, items: &[Value], depth: usize, column: usize) {
        let one_line = format!("[{}]", self.joined(items));
        if !self.has_comment_in(span) && column + one_line.len() <= WIDTH {
            self.out.push_str(&one_line);
            return;
        }
        self.out.push('[');
        self.line_end(span.start as usize + 1);
        for v in items {
            let start = v.span.start as usize;
            self.line_start(start, start, depth + 1, true);
            let text = self.scalar(v);
            self.out.push_str(&text);
            self.out.push(',');
            // A trailing comment after the element's comma stays with the element.
            let after = self.after_comma(v.span.end as usize);
            self.line_end(after);
        }
        self.comments_before(span.end as usize - 1, depth + 1, true);
        self.indent(depth);
        self.out.push(']');
        self.last_end = span.end as usize;
    }

    /// The end of an element's comma in the source, if one follows it.
    fn after_comma(&self, end: usize) -> usize {
        let rest = &self.src[end..];
        let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        if rest[skipped..].starts_with(',') {
            end + skipped + 1
        } else {
            end
        }
    }

    /// A scalar as canonical text. Strings, ports, CIDRs, words and references are printed
    /// as written (they hold no spaces; strings keep their escapes).
    fn scalar(&self, v: &Value) -> String {
        match &v.kind {
            ValueKind::Size { amount, unit } => format!("{amount} {unit}"),
            ValueKind::Int(n) => n.to_string(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Secret(s) => format!("secret({})", self.text(s.span)),
            ValueKind::List(items) => format!("[{}]", self.joined(items)),
            ValueKind::Str(_)
            | ValueKind::Port { .. }
            | ValueKind::Cidr(_)
            | ValueKind::Word(_)
            | ValueKind::Ref { .. }
            | ValueKind::Invalid => self.text(v.span).to_string(),
        }
    }

    fn firewall(&mut self, f: &Firewall) {
        let open = self.open_brace(f.keyword.end as usize);
        self.line_start(f.span.start as usize, open, 0, true);
        let close = f.span.end as usize - 1;
        if !self.open_body("firewall", f.span, open, f.rules.is_empty()) {
            return;
        }
        for (i, r) in f.rules.iter().enumerate() {
            // A rule's span may run over the trivia after it (pest skips whitespace before
            // trying the optional `to TARGET`): its last term is where it ends.
            let end = [
                r.target.as_ref().map(|t| t.span),
                r.sources.last().map(|v| v.span),
            ]
            .into_iter()
            .flatten()
            .map(|s| s.end as usize)
            .max()
            .unwrap_or(r.span.end as usize);
            // A rule is printed on one line: comments inside it move above.
            self.line_start(r.span.start as usize, end, 1, i > 0);
            let mut line = format!(
                "allow {} from {}",
                self.joined(&r.subjects),
                self.joined(&r.sources)
            );
            if let Some(t) = &r.target {
                line.push_str(" to ");
                line.push_str(&t.text);
            }
            self.out.push_str(&line);
            self.line_end(end);
        }
        self.comments_before(close, 1, true);
        self.out.push('}');
        self.line_end(f.span.end as usize);
    }
}

/// The width of the longest key: the `=` of every attribute goes one column after it.
fn key_width<'a>(attrs: impl Iterator<Item = &'a Attr>) -> usize {
    attrs.map(|a| a.key.text.chars().count()).max().unwrap_or(0)
}

#[cfg(test)]
mod tests;
