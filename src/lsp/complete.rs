//! Completion, from a lexical reading of the text. While someone types, the text rarely
//! parses (`links = [we` has no `]` yet), so this module does not use the AST: it splits the
//! text into tokens and follows the block structure with a small state machine that never
//! fails, which tells what is expected at the cursor and which blocks exist (and, for
//! definition and hover on such text, what a word is). Pure and linear.

use std::collections::HashSet;

use stackc::check::Kind;
use stackc::check::attrs::Ty;
use stackc::syntax::ast::Span;
use stackc::syntax::lex::{self, Lexeme};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    Ident,
    /// Anything that starts with a digit: `80`, `80:8080/tcp`, `10.0.0.0/16`, `128MiB`.
    Number,
    Str,
    Comment,
    Punct(u8),
    Other,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

/// The tokens of any text: strings, comments and line breaks as the compiler's lexer reads
/// them ([`lex`]), and the code between them split into names, numbers and punctuation.
fn tokens(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    for (kind, start, end) in lex::lexemes(src, 0) {
        let kind = match kind {
            Lexeme::Space | Lexeme::LineEnd => continue,
            Lexeme::Comment => Tok::Comment,
            Lexeme::Str { .. } => Tok::Str,
            Lexeme::Code => {
                code_tokens(src, b, start, end, &mut out);
                continue;
            }
        };
        out.push(Token { kind, start, end });
    }
    out
}

/// The tokens of a run of code (no space, string or comment in it).
fn code_tokens(src: &str, b: &[u8], mut i: usize, end: usize, out: &mut Vec<Token>) {
    while i < end {
        let start = i;
        let kind = match b[i] {
            c if is_ident_start(c) => {
                while i < end && is_ident_char(b[i]) {
                    i += 1;
                }
                Tok::Ident
            }
            c if c.is_ascii_digit() => {
                while i < end && (b[i].is_ascii_alphanumeric() || b":./".contains(&b[i])) {
                    i += 1;
                }
                Tok::Number
            }
            c @ (b'{' | b'}' | b'[' | b']' | b'=' | b',' | b'.' | b'(' | b')') => {
                i += 1;
                Tok::Punct(c)
            }
            _ => {
                // One whole character, so that every token is a slice of the text.
                i += src[i..].chars().next().map_or(1, char::len_utf8);
                Tok::Other
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
}

/// A block found by the lexical reading.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockInfo {
    pub kind: String,
    pub name: String,
    pub name_span: Span,
    /// Where its kind keyword starts: identifies the block across readings.
    pub start: usize,
    /// The attribute keys written in it (outside nested blocks), with where each starts.
    pub keys: Vec<(String, usize)>,
}

/// Where the reader is in the structure of the text.
#[derive(Clone, Debug, PartialEq)]
enum St {
    Top,
    /// After `KIND` (which starts at `start`).
    Header1 {
        kind: String,
        start: usize,
    },
    /// After `KIND NAME`.
    Header2 {
        kind: String,
        name: String,
        span: Span,
        start: usize,
    },
    /// After `firewall`, before its `{`.
    FwOpen,
    /// In a block (nested: in `env { }`), where a key or `}` is expected.
    Key {
        nested: bool,
    },
    /// After a key, where `=` is expected.
    AfterKey {
        key: String,
        nested: bool,
    },
    /// After `key =`.
    Value {
        key: String,
        nested: bool,
    },
    /// Inside `key = [`, with the words listed so far.
    List {
        key: String,
        nested: bool,
        listed: Vec<String>,
    },
    /// In the firewall, where a rule or `}` is expected.
    Fw,
    /// After `allow` (ports: a number was seen; after_term: a term was just read).
    FwSubjects {
        ports: bool,
        after_term: bool,
    },
    /// After `from`.
    FwSources {
        ports: bool,
        after_term: bool,
        listed: Vec<String>,
    },
    /// After `to`.
    FwTarget {
        done: bool,
    },
}

/// The state machine over tokens; `blocks` collects what it has seen.
struct Reader<'s> {
    src: &'s str,
    toks: &'s [Token],
    st: St,
    blocks: Vec<BlockInfo>,
    /// The index in `blocks` of the block being read.
    open: Option<usize>,
}

impl<'s> Reader<'s> {
    fn new(src: &'s str, toks: &'s [Token]) -> Self {
        Reader {
            src,
            toks,
            st: St::Top,
            blocks: Vec::new(),
            open: None,
        }
    }

    fn text(&self, t: Token) -> &'s str {
        &self.src[t.start..t.end]
    }

    fn is(&self, i: usize, kind: Tok) -> bool {
        self.toks.get(i).is_some_and(|t| t.kind == kind)
    }

    fn run(mut self) -> Self {
        let mut i = 0;
        while i < self.toks.len() {
            i = self.step(i);
        }
        self
    }

    fn close_block(&mut self) {
        self.open = None;
        self.st = St::Top;
    }

    fn add_key(&mut self, key: &str, at: usize) {
        if let Some(b) = self.open.and_then(|o| self.blocks.get_mut(o)) {
            b.keys.push((key.to_string(), at));
        }
    }

    /// Reads the token at `i` (and any it looks ahead at); returns the index of the next one.
    fn step(&mut self, i: usize) -> usize {
        let t = self.toks[i];
        if t.kind == Tok::Comment {
            return i + 1;
        }
        let text = self.text(t);
        let st = std::mem::replace(&mut self.st, St::Top);
        self.st = match (st, t.kind) {
            (St::Top, Tok::Ident) if text == "firewall" && self.is(i + 1, Tok::Punct(b'{')) => {
                St::FwOpen
            }
            (St::Top, Tok::Ident) => St::Header1 {
                kind: text.into(),
                start: t.start,
            },
            (St::Top, _) => St::Top,
            (St::Header1 { kind, start }, Tok::Ident) => St::Header2 {
                kind,
                name: text.into(),
                span: Span::new(t.start, t.end),
                start,
            },
            (St::Header1 { kind, start }, Tok::Punct(b'{')) => {
                self.open_block(kind, String::new(), Span::new(t.start, t.start), start)
            }
            (
                St::Header2 {
                    kind,
                    name,
                    span,
                    start,
                },
                Tok::Punct(b'{'),
            ) => self.open_block(kind, name, span, start),
            // `KIND KIND NAME {`: keep the last two words.
            (St::Header2 { name, span, .. }, Tok::Ident) => St::Header2 {
                kind: name,
                name: text.into(),
                span: Span::new(t.start, t.end),
                start: span.start as usize,
            },
            (St::Header1 { .. } | St::Header2 { .. }, _) => St::Top,
            (St::FwOpen, Tok::Punct(b'{')) => St::Fw,
            (St::FwOpen, _) => St::Top,
            (St::Key { nested }, Tok::Punct(b'}')) => self.close(nested),
            (St::Key { nested }, Tok::Ident) => St::AfterKey {
                key: text.into(),
                nested,
            },
            (st @ St::Key { .. }, _) => st,
            (St::AfterKey { key, nested }, Tok::Punct(b'=')) => {
                if !nested {
                    self.add_key(&key, self.toks[i - 1].start);
                }
                St::Value { key, nested }
            }
            (St::AfterKey { key, nested: false }, Tok::Punct(b'{')) => {
                self.add_key(&key, self.toks[i - 1].start);
                St::Key { nested: true }
            }
            (St::AfterKey { nested, .. }, Tok::Punct(b'}')) => self.close(nested),
            // A key after an abandoned one: `mem` typed above `image = "x"`.
            (St::AfterKey { nested, .. }, Tok::Ident)
                if self.is(i + 1, Tok::Punct(b'=')) || self.is(i + 1, Tok::Punct(b'{')) =>
            {
                St::AfterKey {
                    key: text.into(),
                    nested,
                }
            }
            // A value without `=` (`memory 128 MiB`): read it as a value.
            (St::AfterKey { key, nested }, Tok::Ident | Tok::Number | Tok::Str) => {
                if !nested {
                    self.add_key(&key, self.toks[i - 1].start);
                }
                self.st = St::Value { key, nested };
                return self.step(i);
            }
            (st @ St::AfterKey { .. }, _) => st,
            (St::Value { key, nested }, Tok::Punct(b'[')) => St::List {
                key,
                nested,
                listed: Vec::new(),
            },
            (St::Value { nested, .. }, Tok::Punct(b'}')) => self.close(nested),
            (St::Value { nested, .. }, Tok::Number) => {
                self.st = St::Key { nested };
                // `128 MiB`: a unit is part of the value unless it is the next key.
                let unit = self.toks.get(i + 1).is_some_and(|u| {
                    u.kind == Tok::Ident
                        && is_unit(self.text(*u))
                        && !self.is(i + 2, Tok::Punct(b'='))
                });
                return i + 1 + usize::from(unit);
            }
            (St::Value { nested, .. }, Tok::Ident) => {
                self.st = St::Key { nested };
                if self.is(i + 1, Tok::Punct(b'.')) {
                    // `db.host`.
                    return i + 2 + usize::from(self.is(i + 2, Tok::Ident));
                }
                if self.is(i + 1, Tok::Punct(b'(')) {
                    // `secret("VAR")`, up to its `)` if it has one on the way.
                    let mut j = i + 2;
                    while j < self.toks.len() && j < i + 4 {
                        j += 1;
                        if self.is(j - 1, Tok::Punct(b')')) {
                            break;
                        }
                    }
                    return j;
                }
                return i + 1;
            }
            (St::Value { nested, .. }, _) => St::Key { nested },
            (St::List { nested, .. }, Tok::Punct(b']')) => St::Key { nested },
            (St::List { nested, .. }, Tok::Punct(b'}')) => self.close(nested),
            // An unclosed list followed by the next attribute.
            (St::List { nested, .. }, Tok::Ident) if self.is(i + 1, Tok::Punct(b'=')) => {
                self.st = St::Key { nested };
                return self.step(i);
            }
            (
                St::List {
                    key,
                    nested,
                    mut listed,
                },
                Tok::Ident,
            ) => {
                listed.push(text.into());
                St::List {
                    key,
                    nested,
                    listed,
                }
            }
            (st @ St::List { .. }, _) => st,
            (St::Fw, Tok::Ident) if text == "allow" => St::FwSubjects {
                ports: false,
                after_term: false,
            },
            (St::Fw, Tok::Punct(b'}')) => St::Top,
            (St::Fw, _) => St::Fw,
            (
                St::FwSubjects {
                    after_term: true, ..
                }
                | St::FwSources {
                    after_term: true, ..
                }
                | St::FwTarget { done: true },
                Tok::Ident,
            ) if text == "allow" => St::FwSubjects {
                ports: false,
                after_term: false,
            },
            (
                St::FwSubjects { .. } | St::FwSources { .. } | St::FwTarget { .. },
                Tok::Punct(b'}'),
            ) => St::Top,
            (
                St::FwSubjects {
                    ports,
                    after_term: true,
                },
                Tok::Ident,
            ) if text == "from" => St::FwSources {
                ports,
                after_term: false,
                listed: Vec::new(),
            },
            (St::FwSubjects { .. }, Tok::Number) => St::FwSubjects {
                ports: true,
                after_term: true,
            },
            (St::FwSubjects { ports, .. }, Tok::Ident) => St::FwSubjects {
                ports,
                after_term: true,
            },
            (St::FwSubjects { ports, .. }, Tok::Punct(b',')) => St::FwSubjects {
                ports,
                after_term: false,
            },
            (st @ St::FwSubjects { .. }, _) => st,
            (
                St::FwSources {
                    after_term: true, ..
                },
                Tok::Ident,
            ) if text == "to" => St::FwTarget { done: false },
            (
                St::FwSources {
                    ports, mut listed, ..
                },
                Tok::Ident | Tok::Number,
            ) => {
                listed.push(text.into());
                St::FwSources {
                    ports,
                    after_term: true,
                    listed,
                }
            }
            (St::FwSources { ports, listed, .. }, Tok::Punct(b',')) => St::FwSources {
                ports,
                after_term: false,
                listed,
            },
            (st @ St::FwSources { .. }, _) => st,
            (St::FwTarget { done: false }, Tok::Ident) => St::FwTarget { done: true },
            (st @ St::FwTarget { .. }, _) => st,
        };
        i + 1
    }

    fn open_block(&mut self, kind: String, name: String, name_span: Span, start: usize) -> St {
        self.blocks.push(BlockInfo {
            kind,
            name,
            name_span,
            start,
            keys: Vec::new(),
        });
        self.open = Some(self.blocks.len() - 1);
        St::Key { nested: false }
    }

    /// A `}`: the end of the nested block, or of the block.
    fn close(&mut self, nested: bool) -> St {
        if nested {
            St::Key { nested: false }
        } else {
            self.close_block();
            St::Top
        }
    }
}

/// `KiB`, `MiB`, `128m`'s `m`...: what the grammar reads as a unit after a number.
fn is_unit(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 3
        && b"KkMmGgTt".contains(&b[0])
        && b[1..].iter().all(|c| b"iIbB".contains(c))
}

/// The blocks of any text, as far as a lexical reading can tell.
pub fn blocks(src: &str) -> Vec<BlockInfo> {
    let toks = tokens(src);
    Reader::new(src, &toks).run().blocks
}

/// What a word is, as far as the lexical reading can tell.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// The first word of a top-level item: a block kind.
    KindKeyword,
    /// An attribute key in a block of this kind.
    Key {
        kind: String,
    },
    /// Inside a string or a comment.
    Literal,
    Other,
}

/// The role of the word that starts at `start`.
pub fn role_at(src: &str, start: usize) -> Role {
    let toks = tokens(src);
    // The token that holds `start`.
    let i = toks.partition_point(|t| t.start <= start).saturating_sub(1);
    let Some(tok) = toks.get(i).filter(|t| t.start <= start && start < t.end) else {
        return Role::Other;
    };
    match tok.kind {
        Tok::Str | Tok::Comment => return Role::Literal,
        Tok::Ident if tok.start == start => {}
        _ => return Role::Other,
    }
    let reader = Reader::new(src, &toks[..i]).run();
    match reader.st {
        St::Top => Role::KindKeyword,
        St::Key { nested: false } => match reader.open.and_then(|o| reader.blocks.get(o)) {
            Some(b) => Role::Key {
                kind: b.kind.clone(),
            },
            None => Role::Other,
        },
        _ => Role::Other,
    }
}

/// The word (name characters) around `offset`, with its span.
pub fn word_at(src: &str, offset: usize) -> Option<(&str, Span)> {
    let b = src.as_bytes();
    let offset = offset.min(b.len());
    let start = b[..offset]
        .iter()
        .rposition(|&c| !is_ident_char(c))
        .map_or(0, |i| i + 1);
    let end = b[offset..]
        .iter()
        .position(|&c| !is_ident_char(c))
        .map_or(b.len(), |i| offset + i);
    (start < end).then(|| (&src[start..end], Span::new(start, end)))
}

/// What a completion item is, for the editor's icon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Keyword,
    Attribute,
    /// A block's name.
    Name,
    Value,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    pub doc: Option<String>,
}

fn item(label: &str, kind: ItemKind, detail: Option<String>) -> Item {
    Item {
        label: label.to_string(),
        kind,
        detail,
        doc: None,
    }
}

/// The completions at `offset`: what may be written there, whatever has been typed of it.
/// Editors filter by the typed prefix, so all candidates are returned.
pub fn complete(src: &str, offset: usize) -> Vec<Item> {
    let mut offset = offset.min(src.len());
    while !src.is_char_boundary(offset) {
        offset -= 1;
    }
    let b = src.as_bytes();
    let prefix_start = b[..offset]
        .iter()
        .rposition(|&c| !is_ident_char(c))
        .map_or(0, |i| i + 1);
    let toks = tokens(src);
    let inside_literal = toks.iter().any(|t| match t.kind {
        Tok::Comment => t.start < offset && offset <= t.end,
        Tok::Str => {
            let closed = t.end - t.start >= 2 && b[t.end - 1] == b'"';
            t.start < offset && (offset < t.end || !closed)
        }
        _ => false,
    });
    if inside_literal {
        return Vec::new();
    }
    let all = Reader::new(src, &toks).run().blocks;
    let before = toks.partition_point(|t| t.start < prefix_start);
    let reader = Reader::new(src, &toks[..before]).run();
    // The names of the blocks that satisfy `pred`, each once, but those in `except`. Sets,
    // so that a rule listing thousands of services stays linear.
    let named = |pred: &dyn Fn(&BlockInfo) -> bool, except: &[String]| -> Vec<Item> {
        let mut seen: HashSet<&str> = except.iter().map(String::as_str).collect();
        all.iter()
            .filter(|b| pred(b) && !b.name.is_empty() && seen.insert(&b.name))
            .map(|b| item(&b.name, ItemKind::Name, Some(b.kind.clone())))
            .collect()
    };
    let is_service = |b: &BlockInfo| b.kind == "service";
    let is_store = |b: &BlockInfo| b.kind == "postgres" || b.kind == "redis";

    // After `db.`: the exports of the store.
    if prefix_start >= 1 && b[prefix_start - 1] == b'.' {
        let Some((target, _)) = word_at(src, prefix_start - 1) else {
            return Vec::new();
        };
        let kind = all
            .iter()
            .find(|b| b.name == target)
            .and_then(|b| Kind::from_keyword(&b.kind));
        return kind.map_or_else(Vec::new, |k| {
            k.exports()
                .iter()
                .map(|e| item(e, ItemKind::Value, Some(format!("{} export", k.keyword()))))
                .collect()
        });
    }

    let current = reader.open.and_then(|o| reader.blocks.get(o));
    match reader.st {
        St::Top => Kind::ALL
            .iter()
            .map(|k| k.keyword())
            .chain(["firewall"])
            .map(|k| item(k, ItemKind::Keyword, None))
            .collect(),
        St::Key { nested: false } => {
            let Some(block) = current else {
                return Vec::new();
            };
            let Some(kind) = Kind::from_keyword(&block.kind) else {
                return Vec::new();
            };
            // Keys written anywhere in the block, but not the word being typed.
            let written: Vec<&str> = all
                .iter()
                .find(|b| b.start == block.start)
                .map(|b| {
                    b.keys
                        .iter()
                        .filter(|(_, at)| *at != prefix_start)
                        .map(|(k, _)| k.as_str())
                        .collect()
                })
                .unwrap_or_default();
            let mut items: Vec<Item> = kind
                .attrs()
                .iter()
                .filter(|s| !written.contains(&s.name))
                .map(|s| Item {
                    label: s.name.to_string(),
                    kind: ItemKind::Attribute,
                    detail: Some(s.ty.describe()),
                    doc: Some(super::query::attr_doc(kind, s)),
                })
                .collect();
            if kind == Kind::Service && !written.contains(&"env") {
                items.push(item(
                    "env",
                    ItemKind::Keyword,
                    Some("environment variables".into()),
                ));
            }
            items
        }
        St::Value { key, nested: false } => {
            let Some(kind) = current.and_then(|b| Kind::from_keyword(&b.kind)) else {
                return Vec::new();
            };
            let Some(spec) = kind.attrs().iter().find(|s| s.name == key) else {
                return Vec::new();
            };
            match spec.ty {
                Ty::Bool => ["true", "false"]
                    .iter()
                    .map(|w| item(w, ItemKind::Value, None))
                    .collect(),
                Ty::Word(words) => words
                    .iter()
                    .map(|w| item(w, ItemKind::Value, None))
                    .collect(),
                Ty::IntIn(ns) => ns
                    .iter()
                    .map(|n| item(&n.to_string(), ItemKind::Value, None))
                    .collect(),
                Ty::Password => vec![
                    item("managed", ItemKind::Value, None),
                    item("secret", ItemKind::Keyword, Some("secret(\"VAR\")".into())),
                ],
                _ => Vec::new(),
            }
        }
        // A value in `env { }`: a store to reference, or a secret.
        St::Value { nested: true, .. } => {
            let mut items = named(&is_store, &[]);
            items.push(item(
                "secret",
                ItemKind::Keyword,
                Some("secret(\"VAR\")".into()),
            ));
            items
        }
        St::List {
            key,
            nested: false,
            mut listed,
        } if key == "links" && current.is_some_and(|b| b.kind == "service") => {
            if let Some(b) = current {
                listed.push(b.name.clone());
            }
            named(&is_service, &listed)
        }
        St::Fw => vec![item("allow", ItemKind::Keyword, None)],
        St::FwSubjects {
            after_term: false, ..
        } => named(&is_store, &[]),
        St::FwSubjects {
            after_term: true, ..
        } => vec![item("from", ItemKind::Keyword, None)],
        St::FwSources {
            ports: true,
            after_term: false,
            ..
        } => vec![item("internet", ItemKind::Value, Some("0.0.0.0/0".into()))],
        St::FwSources {
            ports: false,
            after_term: false,
            listed,
        } => named(&is_service, &listed),
        St::FwSources {
            ports: true,
            after_term: true,
            ..
        } => vec![item("to", ItemKind::Keyword, None)],
        St::FwTarget { done: false } => named(&is_service, &[]),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Completion labels at the `|` of `src` (which is removed).
    fn labels(src: &str) -> Vec<String> {
        let at = src.find('|').expect("a cursor");
        let text = src.replacen('|', "", 1);
        complete(&text, at).into_iter().map(|i| i.label).collect()
    }

    const HEAD: &str =
        "stack s { }\nenvironment e { }\npostgres db { database = \"x\" }\nredis cache { }\n";

    #[test]
    fn attributes_of_the_enclosing_kind_that_are_not_written_yet() {
        let got = labels(&format!(
            "{HEAD}service web {{\n  image = \"x\"\n  mem|\n  ports = [80]\n}}\n"
        ));
        assert!(got.contains(&"memory".to_string()), "{got:?}");
        assert!(got.contains(&"memory_reservation".to_string()), "{got:?}");
        assert!(got.contains(&"env".to_string()), "{got:?}");
        assert!(!got.contains(&"image".to_string()), "{got:?}");
        assert!(!got.contains(&"ports".to_string()), "{got:?}");
        assert!(!got.contains(&"database".to_string()), "{got:?}");
        let got = labels(&format!("{HEAD}postgres main {{\n  |\n}}\n"));
        assert!(got.contains(&"backup_days".to_string()), "{got:?}");
        assert!(!got.contains(&"image".to_string()), "{got:?}");
    }

    #[test]
    fn services_in_an_unclosed_links_list() {
        let src = format!(
            "{HEAD}service api {{ image = \"a\" }}\nservice worker {{ image = \"w\" }}\nservice web {{\n  links = [api, |\n"
        );
        assert_eq!(labels(&src), ["worker"]);
        let src = format!(
            "{HEAD}service api {{ image = \"a\" }}\nservice web {{\n  links = [|]\n  image = \"x\"\n}}\n"
        );
        assert_eq!(labels(&src), ["api"]);
    }

    #[test]
    fn stores_and_exports_in_env_values() {
        let src = format!("{HEAD}service web {{\n  env {{\n    A = |\n  }}\n}}\n");
        assert_eq!(labels(&src), ["db", "cache", "secret"]);
        let src = format!("{HEAD}service web {{\n  env {{\n    A = db.h|\n  }}\n}}\n");
        assert_eq!(
            labels(&src),
            ["host", "port", "database", "username", "password"]
        );
        let src = format!("{HEAD}service web {{\n  env {{\n    A = cache.|");
        assert_eq!(labels(&src), ["host", "port"]);
    }

    #[test]
    fn words_of_an_attribute_value() {
        assert_eq!(
            labels("environment e {\n  tier = |\n}"),
            ["single", "load_balanced"]
        );
        assert_eq!(labels("postgres db {\n  public = t|\n}"), ["true", "false"]);
        assert_eq!(
            labels("postgres db { password = | }"),
            ["managed", "secret"]
        );
    }

    #[test]
    fn names_and_words_in_firewall_rules() {
        let head =
            format!("{HEAD}service api {{ image = \"a\" }}\nservice worker {{ image = \"w\" }}\n");
        assert_eq!(labels(&format!("{head}firewall {{\n  |\n}}")), ["allow"]);
        assert_eq!(
            labels(&format!("{head}firewall {{\n  allow |\n}}")),
            ["db", "cache"]
        );
        assert_eq!(
            labels(&format!("{head}firewall {{\n  allow db |\n}}")),
            ["from"]
        );
        assert_eq!(
            labels(&format!(
                "{head}firewall {{\n  allow db, cache from api, |\n}}"
            )),
            ["worker"]
        );
        assert_eq!(
            labels(&format!("{head}firewall {{\n  allow 80 from |")),
            ["internet"]
        );
        assert_eq!(
            labels(&format!("{head}firewall {{\n  allow 80 from internet |")),
            ["to"]
        );
        assert_eq!(
            labels(&format!(
                "{head}firewall {{\n  allow 80 from internet to |\n}}"
            )),
            ["api", "worker"]
        );
    }

    #[test]
    fn block_kinds_at_the_top_and_nothing_in_literals() {
        let got = labels("stack s { }\n|");
        assert_eq!(
            got,
            [
                "stack",
                "environment",
                "service",
                "postgres",
                "redis",
                "firewall"
            ]
        );
        assert!(labels("service web { image = \"ng|inx\" }").is_empty());
        assert!(labels("service web { image = \"ng|").is_empty());
        assert!(labels("# service web { |").is_empty());
    }

    #[test]
    fn sizes_references_and_secrets_do_not_confuse_the_reader() {
        let src = format!(
            "{HEAD}service web {{\n  memory = 128 MiB\n  env {{ A = db.host B = secret(\"X\") }}\n  |\n}}\n"
        );
        let got = labels(&src);
        assert!(got.contains(&"image".to_string()), "{got:?}");
        assert!(!got.contains(&"memory".to_string()), "{got:?}");
        assert!(!got.contains(&"env".to_string()), "{got:?}");
        let found = blocks(&src);
        let names: Vec<&str> = found.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["s", "e", "db", "cache", "web"]);
        assert_eq!(
            &src[found[4].name_span.start as usize..found[4].name_span.end as usize],
            "web"
        );
    }

    #[test]
    fn any_text_and_any_offset_is_read_without_panicking() {
        let samples = [
            "",
            "{{{{",
            "}}]]",
            "service",
            "service web { links = [a, b",
            "firewall { allow , from , to }",
            "é🦀 = [\"\\",
            "x = 1 MiB = 2",
            "service a { env { A = secret(",
        ];
        for s in samples {
            for o in 0..=s.len() + 2 {
                let _ = complete(s, o);
                let _ = word_at(s, o);
            }
            let _ = blocks(s);
        }
    }
}
