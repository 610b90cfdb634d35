//! The YAML a pipeline is written in: a small tree and its printer, block style only.
//!
//! What comes from the program (a file name, a stack or an environment name) is only ever a
//! [`Scalar::Quoted`], printed double-quoted with every character that YAML would read as
//! syntax, and every non-printable one, escaped: no name can end a string, open a mapping or
//! start a comment. The generator's own words ([`Scalar::Plain`], scripts, comments) are
//! `&'static str`, so the type system keeps program values out of them; scripts are built by
//! the providers from their own text, and read program values from the environment.

use std::fmt::Write;

/// A scalar: the generator's own token, printed as it is, or a value from outside, quoted.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Plain(&'static str),
    Quoted(String),
    /// An identifier the generator derived (a job id): plain when it is one, else quoted.
    Ident(String),
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Scalar(Scalar),
    /// A shell script of the generator, printed as a literal block (`|`).
    Script(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry, with an optional comment: after a scalar value, or above the key.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Scalar,
    pub value: Node,
    pub comment: Option<&'static str>,
}

/// The generator's own word.
pub fn plain(s: &'static str) -> Node {
    Node::Scalar(Scalar::Plain(s))
}

/// A value from outside the generator, always quoted.
pub fn quoted(s: impl Into<String>) -> Node {
    Node::Scalar(Scalar::Quoted(s.into()))
}

/// An identifier the generator derived (a job id).
pub fn ident(s: impl Into<String>) -> Node {
    Node::Scalar(Scalar::Ident(s.into()))
}

/// A shell script of the generator, printed as a literal block when it can be.
pub fn script(s: impl Into<String>) -> Node {
    Node::Script(s.into())
}

/// A sequence.
pub fn seq(items: impl IntoIterator<Item = Node>) -> Node {
    Node::Seq(items.into_iter().collect())
}

/// A mapping built entry by entry.
#[derive(Default)]
pub struct Map(Vec<Entry>);

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }

    /// An entry with the generator's key.
    pub fn set(mut self, key: &'static str, value: Node) -> Map {
        self.0.push(Entry {
            key: Scalar::Plain(key),
            value,
            comment: None,
        });
        self
    }

    /// An entry whose key comes from outside (quoted).
    pub fn set_quoted(mut self, key: impl Into<String>, value: Node) -> Map {
        self.0.push(Entry {
            key: Scalar::Quoted(key.into()),
            value,
            comment: None,
        });
        self
    }

    /// An entry whose key is an identifier the generator derived.
    pub fn set_ident(mut self, key: String, value: Node) -> Map {
        self.0.push(Entry {
            key: Scalar::Ident(key),
            value,
            comment: None,
        });
        self
    }

    /// An entry with a comment.
    pub fn note(mut self, key: &'static str, value: Node, comment: &'static str) -> Map {
        self.0.push(Entry {
            key: Scalar::Plain(key),
            value,
            comment: Some(comment),
        });
        self
    }

    /// An entry when `value` is some.
    pub fn maybe(self, key: &'static str, value: Option<Node>) -> Map {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    pub fn node(self) -> Node {
        Node::Map(self.0)
    }
}

/// Prints a document: `header` lines as comments, then the tree (a mapping at the top).
pub fn print(header: &[String], root: &Node) -> String {
    let mut out = String::new();
    for line in header {
        if line.is_empty() {
            out.push_str("#\n");
        } else {
            let _ = writeln!(out, "# {line}");
        }
    }
    match root {
        Node::Map(entries) => map(&mut out, entries, 0),
        other => {
            block_value(&mut out, other, 0);
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// The entries of a mapping, each on its own line(s) at `depth` spaces. The first key is
/// written where the cursor is when `first_inline` (after a sequence's `- `).
fn map_entries(out: &mut String, entries: &[Entry], depth: usize, first_inline: bool) {
    for (i, e) in entries.iter().enumerate() {
        let inline = first_inline && i == 0;
        if let (Some(c), false) = (e.comment, is_scalar(&e.value)) {
            if !inline {
                indent(out, depth);
            }
            let _ = writeln!(out, "# {c}");
            indent(out, depth);
        } else if !inline {
            indent(out, depth);
        }
        scalar(out, &e.key);
        out.push(':');
        match &e.value {
            Node::Scalar(s) => {
                out.push(' ');
                scalar(out, s);
                if let Some(c) = e.comment {
                    let _ = write!(out, " # {c}");
                }
                out.push('\n');
            }
            other => block_value(out, other, depth),
        }
    }
}

fn map(out: &mut String, entries: &[Entry], depth: usize) {
    map_entries(out, entries, depth, false);
}

fn is_scalar(n: &Node) -> bool {
    matches!(n, Node::Scalar(_))
}

/// A value after `key:` (the cursor is just after the colon): a literal block, an empty or
/// nested collection.
fn block_value(out: &mut String, node: &Node, depth: usize) {
    match node {
        Node::Scalar(s) => {
            out.push(' ');
            scalar(out, s);
            out.push('\n');
        }
        // A literal block holds only what reads the same in it: anything else (a line
        // separator, a control character, a tab) is a double-quoted scalar instead.
        Node::Script(text)
            if !text
                .chars()
                .all(|c| c == '\n' || (' '..='~').contains(&c) || printable(c)) =>
        {
            out.push(' ');
            double_quoted(out, text);
            out.push('\n');
        }
        Node::Script(text) => {
            out.push_str(" |\n");
            for line in text.lines() {
                if !line.is_empty() {
                    indent(out, depth + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        Node::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Node::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Node::Seq(items) => {
            out.push('\n');
            for item in items {
                indent(out, depth + 2);
                out.push('-');
                match item {
                    Node::Map(entries) if !entries.is_empty() => {
                        out.push(' ');
                        map_entries(out, entries, depth + 4, true);
                    }
                    other => block_value(out, other, depth + 2),
                }
            }
        }
        Node::Map(entries) => {
            out.push('\n');
            map(out, entries, depth + 2);
        }
    }
}

fn scalar(out: &mut String, s: &Scalar) {
    match s {
        Scalar::Plain(p) => out.push_str(p),
        Scalar::Quoted(q) => double_quoted(out, q),
        Scalar::Ident(i) if is_ident(i) => out.push_str(i),
        Scalar::Ident(i) => double_quoted(out, i),
    }
}

/// `[A-Za-z_][A-Za-z0-9_-]*` and not a word YAML 1.1 reads as a boolean or null.
fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        )
}

/// A YAML double-quoted scalar: `"` and `\` escaped, and every character outside YAML's
/// printable set (C0, DEL, C1 but NEL, surrogates' neighbours U+FFFE/U+FFFF), the line and
/// paragraph separators and the byte-order mark too, so that the text reads on one line.
pub fn double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (' '..='~').contains(&c) => out.push(c),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (c as u32) <= 0xffff => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('"');
}

/// YAML 1.2's printable characters above ASCII, less those that change lines or hide (NEL,
/// U+2028, U+2029, the BOM).
fn printable(c: char) -> bool {
    let n = c as u32;
    (0xa0..=0xd7ff).contains(&n) && n != 0x2028 && n != 0x2029
        || (0xe000..=0xfffd).contains(&n) && n != 0xfeff
        || n >= 0x10000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> String {
        let mut out = String::new();
        double_quoted(&mut out, s);
        out
    }

    #[test]
    fn quoting_escapes_what_yaml_would_read() {
        assert_eq!(q("app.stack"), "\"app.stack\"");
        assert_eq!(q("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(q("a\nb: c"), "\"a\\nb: c\"");
        assert_eq!(
            q("\u{7f}\u{85}\u{2028}\u{feff}é"),
            "\"\\x7f\\x85\\u2028\\ufeffé\""
        );
        assert_eq!(q("\0\u{1b}"), "\"\\x00\\x1b\"");
    }

    #[test]
    fn identifiers_are_plain_only_when_yaml_reads_them_as_strings() {
        let print_key = |k: &str| {
            let mut out = String::new();
            scalar(&mut out, &Scalar::Ident(k.into()));
            out
        };
        assert_eq!(print_key("apply-staging"), "apply-staging");
        assert_eq!(print_key("on"), "\"on\"");
        assert_eq!(print_key("a b"), "\"a b\"");
        assert_eq!(print_key("-x"), "\"-x\"");
    }

    #[test]
    fn trees_print_in_block_style() {
        let doc = Map::new()
            .set("on", Map::new().set("push", seq([plain("main")])).node())
            .set(
                "steps",
                seq([
                    Map::new()
                        .note("uses", plain("a/b@0123"), "v1")
                        .set("with", Map::new().set_quoted("x y", quoted("z")).node())
                        .node(),
                    Map::new().set("run", script("echo a\n\necho b\n")).node(),
                ]),
            )
            .set("empty", seq([]))
            .node();
        assert_eq!(
            print(&["header".into(), String::new()], &doc),
            "# header\n#\non:\n  push:\n    - main\nsteps:\n  - uses: a/b@0123 # v1\n    with:\n      \"x y\": \"z\"\n  - run: |\n      echo a\n\n      echo b\nempty: []\n"
        );
    }
}
