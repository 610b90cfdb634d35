//! Big items read a run of entries at a time. pest keeps a token (about 40 bytes) for each
//! rule match of the text it is given, until the whole text is parsed: one service with a
//! million env keys would hold some 300 MB of tokens, ten times its text. So an item bigger
//! than [`CHUNK_ABOVE`] is cut, at the shared lexer's boundaries, into its header, runs of
//! entries (attributes, or firewall rules) of about [`CHUNK`] bytes and the headers and runs
//! of its nested blocks, and each piece is parsed on its own by a rule of the same grammar
//! (`entries_at`, `nested_entries_at`, `rules_at`, `block_head_at`, `firewall_head_at`).
//!
//! A cut is made only before a name followed by `=` (an attribute), by `{` (a nested block) or
//! before `allow` (a rule), outside lists; the grammar's look-aheads after a value never see
//! past the separator before such a name, so each piece parses as it would inside the whole.
//! Should a piece not parse, the item is read whole as before (the caller's path): the cuts
//! can cost memory, never a different tree. The parser's tests hold the two to the same trees.

use pest::Parser as _;

use super::ast::{Attr, Block, Entry, Firewall, Item, Nested, Span};
use super::build::Builder;
use super::lex::{self, Lexeme};
use super::parser::{Rule, StackParser};

/// Items bigger than this many bytes are read in pieces.
pub const CHUNK_ABOVE: usize = 64 * 1024;

/// The size a run of entries grows to before it is cut.
pub(super) const CHUNK: usize = 16 * 1024;

/// A piece of an item's body.
enum Piece {
    /// A run of entries: attributes and nested blocks written as entries (depth 0), or a
    /// nested block's attributes (depth 1), or firewall rules.
    Run(usize, usize),
    /// The header of a nested block (`env {`): where its name starts, and its `{`.
    NestedOpen(usize, usize),
    /// The `}` of a nested block.
    NestedClose(usize),
}

/// The item at `start..end` (a block or a firewall whose braces balance), read in pieces of
/// about `chunk` bytes; None when a piece does not parse.
pub(super) fn item(
    b: &mut Builder,
    src: &str,
    start: usize,
    end: usize,
    chunk: usize,
) -> Option<Item> {
    let text = &src[..end];
    let brace = lex::lexemes(text, start)
        .filter(|l| l.0 == Lexeme::Code)
        .find_map(|(_, s, e)| text[s..e].find('{').map(|i| s + i))?;
    let close = end - 1;
    let firewall = text[start..].starts_with("firewall")
        && !text[start + "firewall".len()..]
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let pieces = pieces(text, brace + 1, close, firewall, chunk)?;
    let head_rule = if firewall {
        Rule::firewall_head_at
    } else {
        Rule::block_head_at
    };
    let head = parse(b, text, head_rule, start, brace + 1)?;
    let result = if firewall {
        let mut keyword = Span::new(start, end);
        for q in head {
            match q.as_rule() {
                Rule::kw_firewall => keyword = b.span(&q),
                Rule::fw_name => b.named_firewall(&q),
                Rule::EOI => {}
                r => unreachable!("firewall head: {r:?}"),
            }
        }
        let mut rules = Vec::new();
        for piece in &pieces {
            let Piece::Run(s, e) = *piece else {
                return None;
            };
            for q in parse(b, text, Rule::rules_at, s, e)? {
                match q.as_rule() {
                    Rule::rule_q => rules.push(b.rule(q)),
                    Rule::EOI => {}
                    r => unreachable!("rules: {r:?}"),
                }
            }
        }
        rules.shrink_to_fit();
        Item::Firewall(Firewall {
            rules,
            keyword,
            span: Span::new(start, end),
        })
    } else {
        let mut words = head.filter(|q| q.as_rule() != Rule::EOI);
        let kind_pair = words.next()?.into_inner().next()?;
        let kind = b.ident(kind_pair);
        let name = b.ident(words.next()?);
        let mut entries = Vec::new();
        // The nested block being read: its name and the attributes so far.
        let mut open: Option<(super::ast::Ident, Vec<Attr>)> = None;
        for piece in &pieces {
            match *piece {
                Piece::Run(s, e) => {
                    let by = if open.is_some() {
                        Rule::nested_entries_at
                    } else {
                        Rule::entries_at
                    };
                    for q in parse(b, text, by, s, e)? {
                        match (q.as_rule(), &mut open) {
                            (Rule::attr_q | Rule::attr_no_eq_q, Some((_, attrs))) => {
                                attrs.push(b.attr(q))
                            }
                            (Rule::attr_q | Rule::attr_no_eq_q, None) => {
                                entries.push(Entry::Attr(b.attr(q)))
                            }
                            (Rule::nested_q, None) => entries.push(Entry::Nested(b.nested(q))),
                            (Rule::EOI, _) => {}
                            (r, _) => unreachable!("entries: {r:?}"),
                        }
                    }
                }
                Piece::NestedOpen(s, e) => {
                    let mut head = parse(b, text, Rule::nested_head_at, s, e)?;
                    let name = b.ident(head.next()?);
                    open = Some((name, Vec::new()));
                }
                Piece::NestedClose(at) => {
                    let (name, mut attrs) = open.take()?;
                    attrs.shrink_to_fit();
                    let span = Span::new(name.span.start as usize, at + 1);
                    entries.push(Entry::Nested(Nested { name, attrs, span }));
                }
            }
        }
        entries.shrink_to_fit();
        Item::Block(Block {
            kind,
            name,
            entries,
            span: Span::new(start, end),
        })
    };
    Some(result)
}

/// Parses `text[s..e]` with `rule`; the pairs inside it (with positions from `s`).
fn parse<'t>(
    b: &mut Builder,
    text: &'t str,
    by: Rule,
    s: usize,
    e: usize,
) -> Option<pest::iterators::Pairs<'t, Rule>> {
    let pair = StackParser::parse(by, &text[s..e]).ok()?.next()?;
    b.base = s;
    Some(pair.into_inner())
}

/// The pieces of a body (`from..to`, inside the item's braces), cut before entries.
fn pieces(text: &str, from: usize, to: usize, firewall: bool, chunk: usize) -> Option<Vec<Piece>> {
    let b = text.as_bytes();
    let body = &text[..to];
    let mut out = Vec::new();
    // Where the current run starts, whether it is in a nested block, and the list depth.
    let mut run = from;
    let mut nested = false;
    let mut list = 0usize;
    let flush = |out: &mut Vec<Piece>, run: &mut usize, at: usize, force: bool| {
        if at > *run && (force || at - *run >= chunk) {
            out.push(Piece::Run(*run, at));
            *run = at;
        }
    };
    let mut pos = from;
    'lexemes: while let Some((kind, s, e)) = lex::lexemes(body, pos).next() {
        pos = e;
        if kind != Lexeme::Code {
            continue;
        }
        let mut i = s;
        while i < e {
            let c = b[i];
            let starts_word = (c.is_ascii_alphabetic() || c == b'_')
                && (i == s || !(is_ident(b[i - 1]) || b[i - 1] == b'.'));
            if starts_word && list == 0 {
                let word_end = (i..e).find(|&j| !is_ident(b[j])).unwrap_or(e);
                let next = next_code(body, word_end);
                if firewall {
                    if &b[i..word_end] == b"allow" {
                        flush(&mut out, &mut run, i, false);
                    }
                } else if next.map(|(_, c)| c) == Some(b'=') {
                    flush(&mut out, &mut run, i, false);
                } else if let Some((brace, b'{')) = next {
                    // A nested block (one level only: deeper is the grammar's error to give).
                    if nested {
                        return None;
                    }
                    flush(&mut out, &mut run, i, true);
                    out.push(Piece::NestedOpen(i, brace + 1));
                    run = brace + 1;
                    nested = true;
                    pos = brace + 1;
                    continue 'lexemes;
                }
                i = word_end;
                continue;
            }
            match c {
                b'[' => list += 1,
                b']' => list = list.saturating_sub(1),
                b'{' => return None,
                b'}' => {
                    if !nested || list > 0 {
                        return None;
                    }
                    flush(&mut out, &mut run, i, true);
                    out.push(Piece::NestedClose(i));
                    run = i + 1;
                    nested = false;
                }
                _ => {}
            }
            i += 1;
        }
    }
    if nested {
        return None;
    }
    flush(&mut out, &mut run, to, true);
    Some(out)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// The first byte of code at or after `pos` (past spaces, line breaks and comments), and
/// where it is.
fn next_code(text: &str, pos: usize) -> Option<(usize, u8)> {
    match lex::lexemes(text, pos)
        .find(|l| !matches!(l.0, Lexeme::Space | Lexeme::LineEnd | Lexeme::Comment))?
    {
        (Lexeme::Code, s, _) => Some((s, text.as_bytes()[s])),
        _ => None,
    }
}
