//! YAML (and JSON, which is YAML) read into a small tree that keeps the line of every node and
//! key, so that warnings can name them. Built from the events of `saphyr`'s parser: anchors,
//! aliases (within a node budget, against "billion laughs") and merge keys (`<<: *defaults`,
//! common in compose files) are resolved here, and the tree is compact (short strings inline),
//! so that a big file costs a few times its size.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use compact_str::CompactString;
use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::ImportError;

/// A node and the line (1-based) where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(CompactString),
    Seq(Vec<Node>),
    /// In document order, keys as text.
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: CompactString,
    /// The line of the key.
    pub line: usize,
    pub value: Node,
}

/// Deeper than any real compose file or Dockerrun.aws.json.
pub(super) const MAX_DEPTH: usize = 64;

/// The nodes aliases may add in all, as saphyr's loader allows.
const ALIAS_BUDGET: usize = 100_000;

/// A parsed file: its first document, and the line of a second one (which compose does not
/// read either).
#[derive(Debug)]
pub struct Parsed {
    pub root: Node,
    pub second_document: Option<usize>,
}

/// Parses the first document of `src`: as JSON when it is JSON (a Dockerrun.aws.json; the
/// YAML scanner would hold every token of it), else as YAML.
pub fn parse(src: &str) -> Result<Parsed, ImportError> {
    let text = src.trim_start_matches('\u{feff}').trim_start();
    if text.starts_with(['{', '[']) {
        if let Ok(root) = super::json::parse(src.trim_start_matches('\u{feff}')) {
            return Ok(Parsed {
                root,
                second_document: None,
            });
        }
    }
    match build(src) {
        Ok(p) => Ok(p),
        Err(e) => {
            // Flow collections closed at (or continued below) their key's indentation are
            // valid to docker compose and PyYAML; saphyr refuses them. Indenting such lines,
            // which changes nothing in a flow collection, lets saphyr read them.
            match indent_flow_lines(src).map(|fixed| build(&fixed)) {
                Some(Ok(p)) => Ok(p),
                _ => Err(e),
            }
        }
    }
}

/// A collection being built.
enum Frame {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<Entry>,
        /// The key read, waiting for its value.
        key: Option<(CompactString, usize)>,
        /// Keys already in the map, once it is big enough for a linear search to be slow.
        seen: Option<HashSet<CompactString>>,
        /// Maps merged by `<<`, in order, and where the `<<` was.
        merged: Vec<Node>,
        merge_at: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    budget: usize,
    root: Option<Node>,
}

fn error(line: usize, message: String) -> ImportError {
    ImportError {
        line: Some(line),
        message,
    }
}

fn build(src: &str) -> Result<Parsed, ImportError> {
    let mut parser = Parser::new_from_str(src);
    let mut b = Builder {
        stack: Vec::new(),
        anchors: HashMap::new(),
        budget: ALIAS_BUDGET,
        root: None,
    };
    let mut documents = 0;
    let mut second_document = None;
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            error(
                e.marker().line(),
                format!("not valid YAML or JSON: {}", e.info()),
            )
        })?;
        let line = span.start.line();
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents == 2 {
                    // Compose reads the first document only; the rest is not even parsed.
                    second_document = Some(line);
                    break;
                }
            }
            Event::SequenceStart(anchor, _) => {
                b.open(line)?;
                b.stack.push(Frame::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, _) => {
                b.open(line)?;
                b.stack.push(Frame::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                    seen: None,
                    merged: Vec::new(),
                    merge_at: 0,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                // Collections are kept at their exact size: most hold one or two items,
                // and a grown `Vec` holds room for four.
                let node = match b.stack.pop() {
                    Some(Frame::Seq {
                        line,
                        anchor,
                        mut items,
                    }) => {
                        items.shrink_to_fit();
                        b.anchor(
                            anchor,
                            Node {
                                line,
                                value: Value::Seq(items),
                            },
                        )
                    }
                    Some(Frame::Map {
                        line,
                        anchor,
                        entries,
                        merged,
                        merge_at,
                        ..
                    }) => {
                        let mut entries = merge(entries, merged, merge_at);
                        entries.shrink_to_fit();
                        b.anchor(
                            anchor,
                            Node {
                                line,
                                value: Value::Map(entries),
                            },
                        )
                    }
                    None => continue,
                };
                b.push(node, span)?;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = Node {
                    line,
                    value: scalar(text, style, tag.as_ref()),
                };
                let node = b.anchor(anchor, node);
                b.push(node, span)?;
            }
            Event::Alias(id) => {
                let Some(target) = b.anchors.get(&id) else {
                    return Err(error(
                        line,
                        "not valid YAML or JSON: an alias to no anchor".into(),
                    ));
                };
                let size = count(target, b.budget + 1);
                if size > b.budget {
                    return Err(error(
                        line,
                        "not valid YAML or JSON: alias expansion exceeded the maximum node budget (possible billion-laughs attack)".into(),
                    ));
                }
                b.budget -= size;
                let mut node = target.clone();
                node.line = line;
                b.push(node, span)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    let Some(root) = b.root else {
        return Err(ImportError {
            line: None,
            message: "the file is empty".into(),
        });
    };
    Ok(Parsed {
        root,
        second_document,
    })
}

impl Builder {
    /// Before a collection opens: the depth bound.
    fn open(&self, line: usize) -> Result<(), ImportError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(error(
                line,
                format!("nested more than {MAX_DEPTH} levels deep"),
            ));
        }
        Ok(())
    }

    fn anchor(&mut self, anchor: usize, node: Node) -> Node {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        node
    }

    /// A finished node, into the collection around it (a key or a value of a mapping, an item
    /// of a sequence), or as the document.
    fn push(&mut self, node: Node, span: Span) -> Result<(), ImportError> {
        let Some(frame) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(node);
            }
            return Ok(());
        };
        match frame {
            Frame::Seq { items, .. } => items.push(node),
            Frame::Map {
                entries,
                key,
                seen,
                merged,
                merge_at,
                ..
            } => match key.take() {
                None => {
                    let text = node
                        .value
                        .as_text()
                        .map(CompactString::from)
                        .unwrap_or_default();
                    *key = Some((text, node.line));
                }
                Some((k, line)) if k == "<<" => {
                    // Merge keys: a map, or a list of maps.
                    match node.value {
                        Value::Seq(items) => merged.extend(items),
                        other => merged.push(Node {
                            line: node.line,
                            value: other,
                        }),
                    }
                    *merge_at = entries.len();
                    let _ = line;
                }
                Some((k, line)) => {
                    let duplicate = match seen {
                        Some(set) => !set.insert(k.clone()),
                        None => {
                            let dup = entries.iter().any(|e| e.key == k);
                            if entries.len() >= 16 {
                                *seen = Some(entries.iter().map(|e| e.key.clone()).collect());
                            }
                            dup
                        }
                    };
                    if duplicate {
                        return Err(error(
                            span.start.line(),
                            format!(
                                "not valid YAML or JSON: the key `{k}` is defined twice in one mapping (line {line})"
                            ),
                        ));
                    }
                    if let Some(set) = seen {
                        set.insert(k.clone());
                    }
                    entries.push(Entry {
                        key: k,
                        line,
                        value: node,
                    });
                }
            },
        }
        Ok(())
    }
}

/// Merged maps take the place of the `<<` key: explicit keys win, then earlier merged maps over
/// later ones.
fn merge(mut entries: Vec<Entry>, merged: Vec<Node>, at: usize) -> Vec<Entry> {
    if merged.is_empty() {
        return entries;
    }
    let mut kept: Vec<Entry> = Vec::new();
    for source in merged {
        if let Value::Map(es) = source.value {
            for m in es {
                if !entries.iter().any(|e| e.key == m.key) && !kept.iter().any(|e| e.key == m.key) {
                    kept.push(m);
                }
            }
        }
    }
    entries.splice(at..at, kept);
    entries
}

/// The nodes of a tree, counted up to `limit`.
fn count(n: &Node, limit: usize) -> usize {
    let mut total = 0;
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        total += 1;
        if total >= limit {
            return total;
        }
        match &n.value {
            Value::Seq(items) => stack.extend(items),
            Value::Map(entries) => stack.extend(entries.iter().map(|e| &e.value)),
            _ => {}
        }
    }
    total
}

/// A scalar as the YAML core schema reads it (`8080` an integer, `true` a boolean, `~` null,
/// quoted ones strings).
fn scalar(text: Cow<'_, str>, style: ScalarStyle, tag: Option<&Cow<'_, Tag>>) -> Value {
    match Scalar::parse_from_cow_and_metadata(text.clone(), style, tag) {
        Some(Scalar::Null) => Value::Null,
        Some(Scalar::Boolean(b)) => Value::Bool(b),
        Some(Scalar::Integer(i)) => Value::Int(i),
        Some(Scalar::FloatingPoint(f)) => Value::Float(f.into_inner()),
        Some(Scalar::String(s)) => Value::Str(CompactString::from(s.as_ref())),
        // A tag the core schema does not have (`!reset`): the text.
        None => Value::Str(CompactString::from(text.as_ref())),
    }
}

/// `src` with every line that starts inside a flow collection (`[...]`, `{...}` over several
/// lines) indented deeper than the line that opened it; None when no line needed it.
fn indent_flow_lines(src: &str) -> Option<String> {
    let mut out = String::with_capacity(src.len() + 64);
    let mut depth = 0usize;
    // Indentation of the line that opened the outermost open collection.
    let mut opener_indent = 0usize;
    let mut changed = false;
    let mut quote: Option<char> = None;
    for line in src.split_inclusive('\n') {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if depth > 0 && quote.is_none() && indent <= opener_indent && !line.trim().is_empty() {
            out.extend(std::iter::repeat_n(' ', opener_indent + 1 - indent));
            changed = true;
        }
        let mut prev = ' ';
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match quote {
                Some('\'') if c == '\'' => {
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    } else {
                        quote = None;
                    }
                }
                Some('"') if c == '\\' => {
                    chars.next();
                }
                Some('"') if c == '"' => quote = None,
                Some(_) => {}
                None => match c {
                    '#' if prev == ' ' || prev == '\t' => break,
                    '\'' | '"' if depth > 0 || matches!(prev, ' ' | '\t' | ':' | '-') => {
                        quote = Some(c)
                    }
                    '[' | '{' => {
                        if depth == 0 {
                            opener_indent = indent;
                        }
                        depth += 1;
                    }
                    ']' | '}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
        out.push_str(line);
    }
    changed.then_some(out)
}

impl Value {
    /// A scalar as text, as compose reads it (`8080`, `true`, `1.5`); None for null and
    /// collections.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null | Value::Seq(_) | Value::Map(_) => None,
        }
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// What kind of value this is, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The entry `key` of a mapping node.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.value.as_map()?.iter().find(|e| e.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_keys_and_values() {
        let n = parse("a: 1\nb:\n  c: [x, 2]\n").expect("valid").root;
        let m = n.value.as_map().expect("a map");
        assert_eq!((m[0].key.as_str(), m[0].line), ("a", 1));
        assert_eq!((m[1].key.as_str(), m[1].line), ("b", 2));
        let c = &m[1].value.get("c").expect("c");
        assert_eq!(c.line, 3);
        assert_eq!(
            c.value.value,
            Value::Seq(vec![
                Node {
                    line: 3,
                    value: Value::Str("x".into())
                },
                Node {
                    line: 3,
                    value: Value::Int(2)
                }
            ])
        );
    }

    #[test]
    fn merge_keys_and_aliases() {
        let n = parse("x: &d {a: 1, b: 2}\ny:\n  <<: *d\n  b: 3\n")
            .expect("valid")
            .root;
        let y = &n.get("y").expect("y").value;
        let keys: Vec<(&str, Option<String>)> = y
            .value
            .as_map()
            .expect("map")
            .iter()
            .map(|e| (e.key.as_str(), e.value.value.as_text()))
            .collect();
        assert_eq!(keys, [("a", Some("1".into())), ("b", Some("3".into()))]);
    }

    #[test]
    fn json_is_yaml() {
        let n = parse("{\n  \"a\": [1, {\"b\": \"c\"}]\n}\n")
            .expect("valid")
            .root;
        assert_eq!(n.get("a").expect("a").line, 2);
    }

    #[test]
    fn errors_have_lines() {
        let e = parse("a: [1\nb: 2\n").expect_err("invalid");
        assert!(e.line.is_some(), "{e:?}");
        let e = parse("").expect_err("empty");
        assert_eq!(e.line, None);
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn flow_collections_closed_at_the_key_indentation() {
        for src in [
            "s:\n  c: [\n    \"a\", \"b\"\n  ]\nt: 1\n",
            "s:\n  c: [\n  \"a\", 'b''s'\n  ]\nt: 1\n",
            "s:\n  c: {\n  k: \"[\"\n  }\nt: 1\n",
        ] {
            let n = parse(src).unwrap_or_else(|e| panic!("{src}: {e}")).root;
            let c = &n.get("s").expect("s").value.get("c").expect("c").value;
            assert!(
                matches!(&c.value, Value::Seq(x) if x.len() == 2)
                    || matches!(&c.value, Value::Map(x) if x.len() == 1),
                "{src}: {c:?}"
            );
            assert_eq!(
                n.get("t").map(|t| t.line),
                Some(src.lines().count()),
                "{src}"
            );
        }
    }

    #[test]
    fn a_second_document_is_found() {
        let p = parse("a: 1\n---\nb: 2\n").expect("valid");
        assert_eq!(p.second_document, Some(2));
        assert_eq!(parse("a: 1\n").expect("valid").second_document, None);
    }
}
