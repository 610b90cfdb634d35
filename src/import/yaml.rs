//! YAML (and JSON, which is YAML) read into a small tree that keeps the line of every node and
//! key, so that warnings can name them. Built on `saphyr`'s marked loader; anchors and aliases
//! are resolved by the loader, and merge keys (`<<: *defaults`, common in compose files) here.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

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
    Str(String),
    Seq(Vec<Node>),
    /// In document order, keys as text.
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: String,
    /// The line of the key.
    pub line: usize,
    pub value: Node,
}

/// Deeper than any real compose file or Dockerrun.aws.json; bounds the recursion below.
const MAX_DEPTH: usize = 64;

/// A parsed file: its first document, and the line of a second one (which compose does not
/// read either).
#[derive(Debug)]
pub struct Parsed {
    pub root: Node,
    pub second_document: Option<usize>,
}

/// Parses the first document of `src`.
pub fn parse(src: &str) -> Result<Parsed, ImportError> {
    let docs = match MarkedYaml::load_from_str(src) {
        Ok(docs) => docs,
        Err(e) => {
            // Flow collections closed at (or continued below) their key's indentation are
            // valid to docker compose and PyYAML; saphyr refuses them. Indenting such lines,
            // which changes nothing in a flow collection, lets saphyr read them.
            let retried =
                indent_flow_lines(src).and_then(|fixed| MarkedYaml::load_from_str(&fixed).ok());
            match retried {
                Some(docs) => docs,
                None => {
                    return Err(ImportError {
                        line: Some(e.marker().line()),
                        message: format!("not valid YAML or JSON: {}", e.info()),
                    });
                }
            }
        }
    };
    let Some(doc) = docs.first() else {
        return Err(ImportError {
            line: None,
            message: "the file is empty".into(),
        });
    };
    Ok(Parsed {
        root: convert(doc, 0)?,
        second_document: docs.get(1).map(|d| d.span.start.line()),
    })
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

fn convert(n: &MarkedYaml<'_>, depth: usize) -> Result<Node, ImportError> {
    let line = n.span.start.line();
    if depth > MAX_DEPTH {
        return Err(ImportError {
            line: Some(line),
            message: format!("nested more than {MAX_DEPTH} levels deep"),
        });
    }
    let value = match &n.data {
        YamlData::Value(s) => scalar(s),
        YamlData::Representation(text, _, _) => Value::Str(text.to_string()),
        YamlData::Sequence(items) => Value::Seq(
            items
                .iter()
                .map(|i| convert(i, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        YamlData::Mapping(map) => {
            let mut entries: Vec<Entry> = Vec::new();
            let mut merged: Vec<Entry> = Vec::new();
            // Merged entries take the place of the `<<` key.
            let mut merge_at = 0;
            for (k, v) in map.iter() {
                let key_node = convert(k, depth + 1)?;
                let key = key_node.value.as_text().unwrap_or_default();
                let value = convert(v, depth + 1)?;
                if key == "<<" {
                    // Merge keys: explicit keys win, then earlier merged maps over later ones.
                    let sources = match value.value {
                        Value::Seq(items) => items,
                        other => vec![Node {
                            line: value.line,
                            value: other,
                        }],
                    };
                    for s in sources {
                        if let Value::Map(es) = s.value {
                            merged.extend(es);
                        }
                    }
                    merge_at = entries.len();
                    continue;
                }
                entries.push(Entry {
                    key,
                    line: key_node.line,
                    value,
                });
            }
            let mut kept: Vec<Entry> = Vec::new();
            for m in merged {
                if !entries.iter().any(|e| e.key == m.key) && !kept.iter().any(|e| e.key == m.key) {
                    kept.push(m);
                }
            }
            entries.splice(merge_at..merge_at, kept);
            Value::Map(entries)
        }
        YamlData::Tagged(_, inner) => return convert(inner, depth + 1),
        YamlData::Alias(_) | YamlData::BadValue => Value::Null,
    };
    Ok(Node { line, value })
}

fn scalar(s: &Scalar<'_>) -> Value {
    match s {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(*b),
        Scalar::Integer(i) => Value::Int(*i),
        Scalar::FloatingPoint(f) => Value::Float(f.into_inner()),
        Scalar::String(s) => Value::Str(s.to_string()),
    }
}

impl Value {
    /// A scalar as text, as compose reads it (`8080`, `true`, `1.5`); None for null and
    /// collections.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
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
        assert_eq!(p.second_document, Some(3));
        assert_eq!(parse("a: 1\n").expect("valid").second_document, None);
    }
}
