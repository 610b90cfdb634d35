//! What is at a byte offset of a parsed file, and what to say about it: go to definition and
//! hover. Pure: it reads the AST of [`stackc::syntax::parse`] and the attribute tables of
//! [`stackc::check::attrs`], never the checked model, so it works on files with check errors.
//! A text that does not parse gets a hover from the lexical reading of [`super::complete`].

use super::complete::Role;
use stackc::check::Kind;
use stackc::check::attrs::{AttrSpec, BUILD, BUILD_BLOCK};
use stackc::syntax::ast::{Attr, Block, Entry, File, Ident, Item, Nested, Span, Value, ValueKind};

/// The node under the cursor, as far as navigation cares.
#[derive(Debug)]
pub enum Node<'a> {
    /// The kind keyword of a block (`service`).
    KindKeyword(&'a Block),
    /// The name of a block, where it is defined.
    BlockName(&'a Block),
    /// The key of a block's attribute.
    AttrKey(&'a Block, &'a Attr),
    /// The name of a nested block (`env`, `build`).
    NestedName(&'a Block, &'a Nested),
    /// A key inside a nested block (`DB_HOST` in `env { }`, `context` in `build { }`).
    NestedKey(&'a Block, &'a Nested, &'a Attr),
    /// A use of a block's name: a link, the target of a reference, a firewall term.
    NameRef { name: &'a str, span: Span },
    /// The export of a reference (`host` in `db.host`).
    RefExport { target: &'a Ident, attr: &'a Ident },
    /// The `firewall` keyword.
    Firewall,
}

/// `offset` is in `span`, counting the end: a cursor just after a word is on it.
fn within(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

/// The node at `offset`, if it is one navigation knows.
pub fn node_at(file: &File, offset: usize) -> Option<Node<'_>> {
    let item = file.items.iter().find(|i| within(i.span(), offset))?;
    match item {
        Item::Firewall(fw) => {
            if within(fw.keyword, offset) {
                return Some(Node::Firewall);
            }
            let rule = fw.rules.iter().find(|r| within(r.span, offset))?;
            if let Some(t) = rule.target.as_ref().filter(|t| within(t.span, offset)) {
                return Some(name_ref(t));
            }
            rule.subjects
                .iter()
                .chain(&rule.sources)
                .find(|v| within(v.span, offset))
                .and_then(|v| value_node(v, offset))
        }
        Item::Block(b) => {
            if within(b.kind.span, offset) {
                return Some(Node::KindKeyword(b));
            }
            if within(b.name.span, offset) {
                return Some(Node::BlockName(b));
            }
            for entry in &b.entries {
                match entry {
                    Entry::Attr(a) if within(a.span(), offset) => {
                        if within(a.key.span, offset) {
                            return Some(Node::AttrKey(b, a));
                        }
                        return value_node(&a.value, offset);
                    }
                    Entry::Nested(n) if within(n.span, offset) => {
                        if within(n.name.span, offset) {
                            return Some(Node::NestedName(b, n));
                        }
                        let a = n.attrs.iter().find(|a| within(a.span(), offset))?;
                        if within(a.key.span, offset) {
                            return Some(Node::NestedKey(b, n, a));
                        }
                        return value_node(&a.value, offset);
                    }
                    _ => {}
                }
            }
            None
        }
    }
}

fn name_ref(id: &Ident) -> Node<'_> {
    Node::NameRef {
        name: &id.text,
        span: id.span,
    }
}

/// The node inside a value: a bare word (a link, a firewall term) or either side of a
/// reference. Lists are searched for the element under the cursor.
fn value_node(v: &Value, offset: usize) -> Option<Node<'_>> {
    match &v.kind {
        ValueKind::Word(w) => Some(Node::NameRef {
            name: w,
            span: v.span,
        }),
        ValueKind::Ref(r) => {
            if within(r.target.span, offset) {
                Some(name_ref(&r.target))
            } else {
                Some(Node::RefExport {
                    target: &r.target,
                    attr: &r.attr,
                })
            }
        }
        ValueKind::List(items) => items
            .iter()
            .find(|i| within(i.span, offset))
            .and_then(|i| value_node(i, offset)),
        _ => None,
    }
}

/// Every block named `name` (more than one only in a file with a duplicate name).
pub fn blocks_named<'a>(file: &'a File, name: &str) -> Vec<&'a Block> {
    file.items
        .iter()
        .filter_map(|i| match i {
            Item::Block(b) if b.name.text == name => Some(b),
            _ => None,
        })
        .collect()
}

/// Where the name at `offset` is defined: the name spans of the blocks it names. Empty when
/// the cursor is on nothing that names a block, or on a name defined nowhere.
pub fn definition(file: &File, offset: usize) -> Vec<Span> {
    let name = match node_at(file, offset) {
        Some(Node::NameRef { name, .. }) => name,
        Some(Node::RefExport { target, .. }) => &target.text,
        Some(Node::BlockName(b)) => &b.name.text,
        _ => return Vec::new(),
    };
    blocks_named(file, name)
        .into_iter()
        .map(|b| b.name.span)
        .collect()
}

/// A hover: Markdown text and the span it is about.
#[derive(Debug, PartialEq)]
pub struct Hover {
    pub markdown: String,
    pub span: Span,
}

/// What to show when hovering at `offset`.
pub fn hover(file: &File, offset: usize) -> Option<Hover> {
    let (markdown, span) = match node_at(file, offset)? {
        Node::KindKeyword(b) => (kind_doc(&b.kind.text)?, b.kind.span),
        Node::BlockName(b) => (describe_block(b), b.name.span),
        Node::AttrKey(b, a) => {
            let kind = Kind::from_keyword(&b.kind.text)?;
            let spec = kind.attrs().iter().find(|s| s.name == a.key.text)?;
            (attr_doc(kind.keyword(), spec), a.key.span)
        }
        Node::NestedName(b, n) if b.kind.text == "service" => {
            let doc = match n.name.text.as_str() {
                "env" => ENV_DOC,
                BUILD_BLOCK => BUILD_DOC,
                _ => return None,
            };
            (doc.to_string(), n.name.span)
        }
        Node::NestedName(..) => return None,
        Node::NestedKey(b, n, a) if n.name.text == BUILD_BLOCK && b.kind.text == "service" => {
            let spec = BUILD.iter().find(|s| s.name == a.key.text)?;
            (attr_doc(BUILD_BLOCK, spec), a.key.span)
        }
        Node::NestedKey(b, _, a) => (env_key_doc(b, a), a.key.span),
        Node::NameRef { name, span } => {
            let blocks = blocks_named(file, name);
            let text = match blocks.as_slice() {
                [] if name == "internet" => {
                    "`internet`: any address (`0.0.0.0/0`), as a source of a firewall port rule"
                        .to_string()
                }
                [] => format!("no block is named `{name}`"),
                [b, ..] => describe_block(b),
            };
            (text, span)
        }
        Node::RefExport { target, attr } => {
            let blocks = blocks_named(file, &target.text);
            let kind = blocks
                .first()
                .map_or("", |b| b.kind.text.as_str())
                .to_string();
            let text = if kind.is_empty() {
                format!("no block is named `{}`", target.text)
            } else {
                format!(
                    "`{}.{}`: the `{}` of {kind} `{}`",
                    target.text, attr.text, attr.text, target.text
                )
            };
            (text, attr.span)
        }
        Node::Firewall => (
            FIREWALL_DOC.to_string(),
            firewall_keyword_span(file, offset)?,
        ),
    };
    Some(Hover { markdown, span })
}

fn firewall_keyword_span(file: &File, offset: usize) -> Option<Span> {
    file.items.iter().find_map(|i| match i {
        Item::Firewall(f) if within(f.keyword, offset) => Some(f.keyword),
        _ => None,
    })
}

/// One line on a block: its kind and name, and for a store what it exports.
pub fn describe_block(b: &Block) -> String {
    describe(&b.kind.text, &b.name.text)
}

fn describe(kind: &str, name: &str) -> String {
    let mut s = format!("{kind} `{name}`");
    if let Some(kind) = Kind::from_keyword(kind) {
        let exports = kind.exports();
        if !exports.is_empty() {
            let list: Vec<String> = exports.iter().map(|e| format!("`{name}.{e}`")).collect();
            s.push_str(&format!("\n\nexports {}", list.join(", ")));
        }
    }
    s
}

/// The hover of a text that does not parse (yet), from its lexical reading: block keywords,
/// attribute keys and names of blocks.
pub fn hover_lexical(src: &str, offset: usize) -> Option<Hover> {
    let (word, span) = super::complete::word_at(src, offset)?;
    let markdown = match super::complete::role_at(src, span.start as usize) {
        Role::KindKeyword => kind_doc(word)?,
        Role::Key { kind } => {
            let kind = Kind::from_keyword(&kind)?;
            let spec = kind.attrs().iter().find(|s| s.name == word)?;
            attr_doc(kind.keyword(), spec)
        }
        Role::Literal => return None,
        Role::Other => {
            let blocks = super::complete::blocks(src);
            let b = blocks.iter().find(|b| b.name == word)?;
            describe(&b.kind, &b.name)
        }
    };
    Some(Hover { markdown, span })
}

/// The hover of an attribute of a block (`service`, or a nested `build`): its type, default or
/// requiredness, and documentation.
pub fn attr_doc(block: &str, spec: &AttrSpec) -> String {
    let mut s = format!(
        "**{}** ({block} attribute): {}",
        spec.name,
        spec.ty.describe()
    );
    if spec.required {
        s.push_str("\n\nrequired");
    } else if let Some(d) = spec.default {
        s.push_str(&format!("\n\ndefault: `{d}`"));
    }
    s.push_str("\n\n");
    s.push_str(spec.doc);
    s
}

/// What each block kind is (docs/language.md §4), with its attributes.
pub fn kind_doc(keyword: &str) -> Option<String> {
    let kind = Kind::from_keyword(keyword)?;
    let what = match kind {
        Kind::Stack => "the Elastic Beanstalk application; exactly one per file, named by `NAME`",
        Kind::Environment => {
            "the Elastic Beanstalk environment that runs the services; exactly one per file"
        }
        Kind::Service => {
            "one container of the environment (one ECS container definition); one or more per file"
        }
        Kind::Postgres => "an RDS PostgreSQL DB instance",
        Kind::Redis => "an ElastiCache Redis (or Valkey) cluster or replication group",
    };
    let attrs: Vec<String> = kind
        .attrs()
        .iter()
        .map(|a| format!("`{}`", a.name))
        .collect();
    let mut s = format!(
        "**{keyword}** `NAME {{ ... }}`: {what}\n\nattributes: {}",
        attrs.join(", ")
    );
    if kind == Kind::Service {
        s.push_str(", an `env { }` block and a `build { }` block");
    }
    Some(s)
}

const ENV_DOC: &str = "**env** `{ KEY = value ... }`: the container's environment variables.\n\n\
Strings, integers and booleans go into the container definition; store exports (`db.host`) \
and `secret(\"VAR\")` become Elastic Beanstalk environment properties, which every container \
of the environment sees.";

const BUILD_DOC: &str = "**build** `{ context = \"./DIR\" ... }`: build the service's image from a \
Dockerfile instead of pulling an `image`.\n\n\
`context` is the directory sent to the build, relative to the `.stack` file; `dockerfile` (default \
`Dockerfile`) is relative to the context; `target` a stage; `args` build arguments \
`[\"NAME=value\"]`. `build = \"./DIR\"` is the short form: a context with its `Dockerfile`.";

const FIREWALL_DOC: &str = "**firewall** `{ allow ... }`: who may reach what; nothing else is open.\n\n\
`allow PORTS from SOURCES to SERVICE` opens host ports of a service to `internet` or CIDR \
blocks; `allow STORES from SERVICES` opens data stores to the environment's services.";

/// The hover of an `env` key: where its value goes (docs/language.md §7).
fn env_key_doc(b: &Block, a: &Attr) -> String {
    let goes = match &a.value.kind {
        ValueKind::Ref { .. } | ValueKind::Secret(_) => {
            "an Elastic Beanstalk environment property: every container of the environment sees it"
        }
        _ => "the container definition's `environment`: only this container sees it",
    };
    format!(
        "environment variable `{}` of service `{}`\n\ngoes into {goes}",
        a.key.text, b.name.text
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = r#"stack shop { region = "eu-west-1" }
environment shop-prod { }
service api {
  image = "api:1"
  memory = 512 MiB
  links = [worker]
  env {
    DB_HOST = db.host
    MODE = "x"
  }
}
service worker { image = "w:1" memroy = 1 }
service client {
  build {
    context = "./client"
    target  = "prod"
  }
  memory = 64 MiB
}
postgres db { database = "shop" }
firewall {
  allow 80 from internet to api
  allow db from api, worker
}
"#;

    fn file() -> File {
        let parsed = stackc::syntax::parse(SRC);
        parsed.file.expect("the test program parses")
    }

    /// The offset of the `nth` occurrence of `needle`, plus `delta`.
    fn at(needle: &str, nth: usize, delta: usize) -> usize {
        SRC.match_indices(needle).nth(nth).expect("needle").0 + delta
    }

    fn def_text(offset: usize) -> Vec<&'static str> {
        definition(&file(), offset)
            .into_iter()
            .map(|s| &SRC[s.start as usize..s.end as usize])
            .collect()
    }

    fn def_offsets(offset: usize) -> Vec<usize> {
        definition(&file(), offset)
            .into_iter()
            .map(|s| s.start as usize)
            .collect()
    }

    #[test]
    fn a_link_goes_to_its_service() {
        assert_eq!(
            def_offsets(at("[worker]", 0, 3)),
            [at("service worker", 0, 8)]
        );
        // The cursor just after the name counts.
        assert_eq!(
            def_offsets(at("[worker]", 0, 7)),
            [at("service worker", 0, 8)]
        );
    }

    #[test]
    fn both_sides_of_a_reference_go_to_the_store() {
        let db = at("postgres db", 0, 9);
        assert_eq!(def_offsets(at("db.host", 0, 1)), [db]);
        assert_eq!(def_offsets(at("db.host", 0, 4)), [db]);
    }

    #[test]
    fn every_name_of_a_firewall_rule_goes_to_its_block() {
        assert_eq!(def_offsets(at("allow db", 0, 6)), [at("postgres db", 0, 9)]);
        assert_eq!(
            def_offsets(at("from api,", 0, 5)),
            [at("service api", 0, 8)]
        );
        assert_eq!(
            def_offsets(at(", worker", 0, 3)),
            [at("service worker", 0, 8)]
        );
        assert_eq!(def_offsets(at("to api", 0, 4)), [at("service api", 0, 8)]);
        // `internet` and ports name no block.
        assert!(def_text(at("internet", 0, 2)).is_empty());
        assert!(def_text(at("allow 80", 0, 6)).is_empty());
    }

    #[test]
    fn definition_works_despite_check_errors() {
        // `memroy = 1` is an unknown attribute: the checker has no model for this file.
        let (model, diags) = stackc::compile(SRC);
        assert!(model.is_none() && !diags.is_empty());
        assert_eq!(def_text(at("[worker]", 0, 2)), ["worker"]);
    }

    #[test]
    fn attribute_keys_hover_with_type_default_and_doc() {
        let h = hover(&file(), at("memory", 0, 2)).expect("hover");
        assert!(h.markdown.contains("a size"), "{}", h.markdown);
        assert!(h.markdown.contains("hard memory limit"), "{}", h.markdown);
        assert_eq!(h.span.start as usize, at("memory", 0, 0));
        let h = hover(&file(), at("image", 0, 0)).expect("hover");
        assert!(h.markdown.contains("`image` or `build`"), "{}", h.markdown);
        assert!(!h.markdown.contains("required"), "{}", h.markdown);
        let h = hover(&file(), at("links", 0, 1)).expect("hover");
        assert!(h.markdown.contains("default: `[]`"), "{}", h.markdown);
        let h = hover(&file(), at("region", 0, 1)).expect("hover");
        assert!(h.markdown.contains("(stack attribute)"), "{}", h.markdown);
        // An unknown attribute has nothing to show.
        assert!(hover(&file(), at("memroy", 0, 1)).is_none());
    }

    #[test]
    fn keywords_names_and_env_keys_hover() {
        let h = hover(&file(), at("postgres", 0, 1)).expect("hover");
        assert!(h.markdown.contains("RDS PostgreSQL"), "{}", h.markdown);
        assert!(h.markdown.contains("`backup_days`"), "{}", h.markdown);
        let h = hover(&file(), at("[worker]", 0, 2)).expect("hover");
        assert_eq!(h.markdown, "service `worker`");
        let h = hover(&file(), at("allow db", 0, 6)).expect("hover");
        assert!(h.markdown.starts_with("postgres `db`"), "{}", h.markdown);
        assert!(h.markdown.contains("`db.password`"), "{}", h.markdown);
        let h = hover(&file(), at("db.host", 0, 4)).expect("hover");
        assert!(
            h.markdown.contains("the `host` of postgres `db`"),
            "{}",
            h.markdown
        );
        let h = hover(&file(), at("DB_HOST", 0, 1)).expect("hover");
        assert!(
            h.markdown.contains("environment property"),
            "{}",
            h.markdown
        );
        let h = hover(&file(), at("MODE", 0, 1)).expect("hover");
        assert!(h.markdown.contains("only this container"), "{}", h.markdown);
        let h = hover(&file(), at("env {", 0, 1)).expect("hover");
        assert!(h.markdown.starts_with("**env**"), "{}", h.markdown);
        let h = hover(&file(), at("firewall", 0, 3)).expect("hover");
        assert!(h.markdown.starts_with("**firewall**"), "{}", h.markdown);
        let h = hover(&file(), at("build {", 0, 1)).expect("hover");
        assert!(h.markdown.starts_with("**build**"), "{}", h.markdown);
        // The keys of a `build` block are its table's, not env keys.
        let h = hover(&file(), at("target", 0, 2)).expect("hover");
        assert!(h.markdown.contains("(build attribute)"), "{}", h.markdown);
        assert!(h.markdown.contains("multi-stage"), "{}", h.markdown);
        let h = hover(&file(), at("context =", 0, 2)).expect("hover");
        assert!(h.markdown.contains("required"), "{}", h.markdown);
        let h = hover(&file(), at("internet", 0, 3)).expect("hover");
        assert!(h.markdown.contains("0.0.0.0/0"), "{}", h.markdown);
    }

    #[test]
    fn hover_reads_text_that_does_not_parse() {
        // The last rule is half-typed: the file has no AST.
        let src = format!("{SRC}firewall {{ allow db from ");
        assert!(stackc::syntax::parse(&src).file.is_none());
        let at = |needle: &str, delta: usize| src.find(needle).expect("needle") + delta;
        let h = hover_lexical(&src, at("memory", 1)).expect("hover");
        assert!(h.markdown.contains("hard memory limit"), "{}", h.markdown);
        assert_eq!(h.span.start as usize, at("memory", 0));
        let h = hover_lexical(&src, at("postgres", 2)).expect("hover");
        assert!(h.markdown.contains("RDS PostgreSQL"), "{}", h.markdown);
        let h = hover_lexical(&src, at("[worker]", 2)).expect("hover");
        assert_eq!(h.markdown, "service `worker`");
        // A value that names nothing, and a string.
        assert!(hover_lexical(&src, at("MiB", 1)).is_none());
        assert!(hover_lexical(&src, at("api:1", 1)).is_none());
    }

    #[test]
    fn nothing_is_found_between_nodes_or_past_the_end() {
        // The line break after the `stack` block: inside no node.
        assert!(hover(&file(), at("\nenvironment", 0, 0)).is_none());
        assert!(hover(&file(), SRC.len() + 100).is_none());
        assert!(definition(&file(), usize::MAX).is_empty());
        assert!(hover(&file(), at("\"api:1\"", 0, 2)).is_none());
    }
}
