//! Building a program as a syntax tree, for tools that write `.stack` text (`stackc import`):
//! the tree is printed by the formatter's printer, so everything they write is in the one
//! canonical layout and passes `stackc fmt --check`.
//!
//! The builder keeps, beside the tree, the text of every token and comment in order (one
//! construct per line, no layout): the printer reads scalars and comments from it by span, as
//! it does for a parsed file. Layout (indent, alignment, list breaking, blank lines between
//! items) is the printer's alone.

use crate::syntax::ast::{
    Attr, Block, CompactString, Entry, File, Firewall, FirewallRule, Ident, Item, Nested,
    Reference, SizeUnit, Span, Value, ValueKind,
};

use super::{INDENT, WIDTH};

/// A value to write.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// A string, escaped when written; see [`representable`].
    Str(String),
    Int(u64),
    Bool(bool),
    Size(u64, SizeUnit),
    /// Host port, container port, UDP.
    Port(u16, u16, bool),
    /// A bare word: a name, `managed`, `internet`.
    Word(String),
    /// `store.export`.
    Ref(String, String),
    /// `secret("VAR")`.
    Secret(String),
    List(Vec<Val>),
}

/// Whether a string can be written as a `.stack` string literal: strings hold no control
/// character but newline and tab (the language has no other escape), and no line or
/// paragraph separator, which some editors show as a line break.
pub fn representable(s: &str) -> bool {
    !s.chars().any(unprintable)
}

fn unprintable(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Builds a program one construct at a time, in source order.
#[derive(Debug, Default)]
pub struct Builder {
    src: String,
    items: Vec<Item>,
    /// The block, nested block or firewall being built.
    open: Vec<Open>,
}

#[derive(Debug)]
enum Open {
    Block(Block),
    Nested(Nested),
    Firewall(Firewall),
}

impl Builder {
    pub fn new() -> Builder {
        Builder::default()
    }

    fn depth(&self) -> usize {
        self.open.len()
    }

    fn push_text(&mut self, text: &str) -> Span {
        let start = self.src.len();
        self.src.push_str(text);
        Span::new(start, self.src.len())
    }

    fn ident(&mut self, text: &str) -> Ident {
        let span = self.push_text(text);
        Ident {
            text: CompactString::from(text),
            span,
        }
    }

    /// A blank line, kept by the printer where it keeps blank lines (between comments and
    /// the code below them, between attributes).
    pub fn blank(&mut self) {
        self.src.push('\n');
    }

    /// A comment on its own line(s) at the current depth, wrapped to the page width. Control
    /// characters are written as `\u{..}`: a comment is one line of text, whatever it quotes.
    pub fn comment(&mut self, text: &str) {
        let room = WIDTH
            .saturating_sub(INDENT.len() * self.depth() + 2)
            .max(40);
        let text = comment_text(text);
        if text.trim().is_empty() {
            self.src.push_str("#\n");
            return;
        }
        let mut line = String::new();
        for word in text.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > room {
                self.comment_line(&line);
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        self.comment_line(line.trim_end());
    }

    fn comment_line(&mut self, line: &str) {
        self.src.push_str("# ");
        self.src.push_str(line);
        self.src.push('\n');
    }

    /// Opens `KIND NAME {`.
    pub fn open_block(&mut self, kind: &str, name: &str) {
        let start = self.src.len();
        let kind = self.ident(kind);
        self.src.push(' ');
        let name = self.ident(name);
        self.src.push_str(" {\n");
        self.open.push(Open::Block(Block {
            kind,
            name,
            entries: Vec::new(),
            span: Span::new(start, start),
        }));
    }

    /// Opens a nested block (`env {`) in the open block.
    pub fn open_nested(&mut self, name: &str) {
        let start = self.src.len();
        let name = self.ident(name);
        self.src.push_str(" {\n");
        self.open.push(Open::Nested(Nested {
            name,
            attrs: Vec::new(),
            span: Span::new(start, start),
        }));
    }

    /// Opens `firewall {`.
    pub fn open_firewall(&mut self) {
        let start = self.src.len();
        let keyword = self.push_text("firewall");
        self.src.push_str(" {\n");
        self.open.push(Open::Firewall(Firewall {
            rules: Vec::new(),
            keyword,
            span: Span::new(start, start),
        }));
    }

    /// Closes the innermost open block.
    pub fn close(&mut self) {
        self.src.push('}');
        let end = self.src.len();
        self.src.push('\n');
        match self.open.pop() {
            Some(Open::Block(mut b)) => {
                b.span.end = end as u32;
                b.span.start = b.kind.span.start;
                self.items.push(Item::Block(b));
            }
            Some(Open::Firewall(mut f)) => {
                f.span = Span::new(f.keyword.start as usize, end);
                self.items.push(Item::Firewall(f));
            }
            Some(Open::Nested(mut n)) => {
                n.span = Span::new(n.name.span.start as usize, end);
                if let Some(Open::Block(b)) = self.open.last_mut() {
                    b.entries.push(Entry::Nested(n));
                }
            }
            None => {}
        }
    }

    /// `key = value` in the open block, with an optional comment after it (above it when the
    /// line would be too long).
    pub fn attr(&mut self, key: &str, value: &Val, trailing: Option<&str>) {
        let trailing = match trailing {
            Some(c) if !self.fits_after(key, value, c) => {
                self.comment(c);
                None
            }
            t => t,
        };
        let key = self.ident(key);
        self.src.push_str(" = ");
        let value = self.value(value);
        if let Some(c) = trailing {
            self.src.push_str(" # ");
            self.src.push_str(&comment_text(c));
        }
        self.src.push('\n');
        let attr = Attr { key, value };
        match self.open.last_mut() {
            Some(Open::Block(b)) => b.entries.push(Entry::Attr(attr)),
            Some(Open::Nested(n)) => n.attrs.push(attr),
            _ => {}
        }
    }

    /// Whether `trailing` fits after `key = value` on one line.
    fn fits_after(&self, key: &str, value: &Val, trailing: &str) -> bool {
        let line = INDENT.len() * self.depth() + key.len() + 3 + value_len(value);
        line + 3 + trailing.chars().count() <= WIDTH
    }

    /// `allow SUBJECTS from SOURCES [to TARGET]` in the open firewall.
    pub fn rule(&mut self, subjects: &[Val], sources: &[Val], target: Option<&str>) {
        let start = self.src.len();
        self.src.push_str("allow ");
        let subjects = self.terms(subjects);
        self.src.push_str(" from ");
        let sources = self.terms(sources);
        let target = target.map(|t| {
            self.src.push_str(" to ");
            self.ident(t)
        });
        let end = self.src.len();
        self.src.push('\n');
        if let Some(Open::Firewall(f)) = self.open.last_mut() {
            f.rules.push(FirewallRule {
                subjects,
                sources,
                target,
                span: Span::new(start, end),
            });
        }
    }

    fn terms(&mut self, terms: &[Val]) -> Vec<Value> {
        let mut out = Vec::with_capacity(terms.len());
        for (i, t) in terms.iter().enumerate() {
            if i > 0 {
                self.src.push_str(", ");
            }
            out.push(self.value(t));
        }
        out
    }

    fn value(&mut self, v: &Val) -> Value {
        let start = self.src.len();
        let kind = match v {
            Val::Str(s) => {
                self.src.push_str(&string_literal(s));
                ValueKind::Str(CompactString::from(s.as_str()))
            }
            Val::Int(n) => {
                self.src.push_str(&n.to_string());
                ValueKind::Int(*n)
            }
            Val::Bool(b) => {
                self.src.push_str(if *b { "true" } else { "false" });
                ValueKind::Bool(*b)
            }
            Val::Size(amount, unit) => {
                self.src.push_str(&format!("{amount} {unit}"));
                ValueKind::Size {
                    amount: *amount,
                    unit: *unit,
                }
            }
            Val::Port(host, container, udp) => {
                if host == container {
                    self.src.push_str(&host.to_string());
                } else {
                    self.src.push_str(&format!("{host}:{container}"));
                }
                let protocol = udp.then(|| {
                    self.src.push('/');
                    Box::new(self.ident("udp"))
                });
                ValueKind::Port {
                    host: u64::from(*host),
                    container: u64::from(*container),
                    protocol,
                }
            }
            Val::Word(w) => {
                self.src.push_str(w);
                ValueKind::Word(CompactString::from(w.as_str()))
            }
            Val::Ref(target, attr) => {
                let target = self.ident(target);
                self.src.push('.');
                let attr = self.ident(attr);
                ValueKind::Ref(Box::new(Reference { target, attr }))
            }
            Val::Secret(var) => {
                self.src.push_str("secret(");
                let s = self.src.len();
                self.src.push_str(&string_literal(var));
                let span = Span::new(s, self.src.len());
                self.src.push(')');
                ValueKind::Secret(Box::new(Ident {
                    text: CompactString::from(var.as_str()),
                    span,
                }))
            }
            Val::List(items) => {
                self.src.push('[');
                let items = self.terms(items);
                self.src.push(']');
                ValueKind::List(items)
            }
        };
        Value {
            kind,
            span: Span::new(start, self.src.len()),
        }
    }

    /// The program in the canonical layout. Blocks still open are closed.
    pub fn finish(mut self) -> String {
        while !self.open.is_empty() {
            self.close();
        }
        let file = File { items: self.items };
        super::print(&self.src, &file)
    }
}

/// The length of a value as written, for deciding where a comment goes.
fn value_len(v: &Val) -> usize {
    match v {
        Val::Str(s) => string_literal(s).chars().count(),
        Val::Int(n) => n.to_string().len(),
        Val::Bool(b) => b.to_string().len(),
        Val::Size(a, u) => a.to_string().len() + 1 + u.as_str().len(),
        Val::Port(h, c, udp) => {
            let ports = if h == c {
                h.to_string().len()
            } else {
                h.to_string().len() + 1 + c.to_string().len()
            };
            ports + if *udp { 4 } else { 0 }
        }
        Val::Word(w) => w.len(),
        Val::Ref(t, a) => t.len() + 1 + a.len(),
        Val::Secret(s) => string_literal(s).chars().count() + 8,
        Val::List(items) => 2 + items.iter().map(|i| value_len(i) + 2).sum::<usize>(),
    }
}

/// A `.stack` string literal: `"`, `\` and newlines and tabs escaped; other control
/// characters (which callers should have refused, see [`representable`]) become U+FFFD.
pub fn string_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if unprintable(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Comment text on one line: newlines and tabs become spaces, and other control characters
/// and line separators (which would end the comment, or look as if they did) are written as
/// `\u{..}`.
fn comment_text(s: &str) -> String {
    visible(&s.replace(['\n', '\t'], " "))
}

/// `s` with every control character (newlines and tabs too) and line separator written as
/// `\u{..}`: text quoted from an input, shown as one line that cannot drive a terminal.
pub fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(f: impl FnOnce(&mut Builder)) -> String {
        let mut b = Builder::new();
        f(&mut b);
        b.finish()
    }

    #[test]
    fn prints_in_the_canonical_layout() {
        let out = build(|b| {
            b.comment("a header");
            b.blank();
            b.open_block("service", "web");
            b.attr("image", &Val::Str("nginx".into()), Some("why"));
            b.comment("about memory");
            b.attr("memory", &Val::Size(128, SizeUnit::MiB), None);
            b.attr(
                "ports",
                &Val::List(vec![Val::Port(80, 8080, false), Val::Port(53, 53, true)]),
                None,
            );
            b.open_nested("env");
            b.attr("DB", &Val::Ref("db".into(), "host".into()), None);
            b.attr("KEY", &Val::Secret("KEY".into()), None);
            b.close();
            b.close();
            b.open_firewall();
            b.rule(
                &[Val::Int(80)],
                &[Val::Word("internet".into())],
                Some("web"),
            );
            b.close();
        });
        assert_eq!(
            out,
            "# a header\n\nservice web {\n  image  = \"nginx\" # why\n  # about memory\n  memory = 128 MiB\n  ports  = [80:8080, 53/udp]\n  env {\n    DB  = db.host\n    KEY = secret(\"KEY\")\n  }\n}\n\nfirewall {\n  allow 80 from internet to web\n}\n"
        );
        assert_eq!(super::super::format(&out).as_deref(), Ok(out.as_str()));
    }

    #[test]
    fn comments_cannot_end_early_and_strings_stay_literals() {
        let out = build(|b| {
            b.open_block("service", "web");
            b.comment("a\rb\u{2028}c\u{1b}]0;x\u{7}");
            b.attr("image", &Val::Str("q\"\\\n\t".into()), Some("x\ny"));
            b.close();
        });
        assert!(
            out.contains("# a\\u{d}b\\u{2028}c\\u{1b}]0;x\\u{7}\n"),
            "{out}"
        );
        assert!(out.contains(r#"image = "q\"\\\n\t" # x y"#), "{out}");
        let parsed = crate::syntax::parse(&out);
        assert!(parsed.errors.is_empty(), "{out}");
        assert!(!representable("a\rb"));
        assert!(representable("a\nb\tc"));
    }

    #[test]
    fn long_comments_wrap_and_long_trailing_comments_go_above() {
        let long = "word ".repeat(40);
        let out = build(|b| {
            b.open_block("stack", "s");
            b.comment(&long);
            b.close();
            b.open_block("service", "web");
            b.attr("image", &Val::Str("x".into()), Some(&long));
            b.close();
        });
        assert!(!out.contains("\"x\" #"), "{out}");
        assert!(out.lines().all(|l| l.chars().count() <= WIDTH), "{out}");
        assert!(
            out.lines()
                .filter(|l| l.trim_start().starts_with('#'))
                .count()
                >= 2
        );
    }
}
