//! Pest glue: one function per grammar rule, building the AST of [`super::ast`], and the
//! translation of pest's failures into errors that say what to write.
//!
//! Pairs that the grammar rules out are `unreachable!`: the grammar is the proof.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::*;
use super::chunked;
use super::error::SyntaxError;
use super::lex::{self, Lexeme};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/stack.pest"]
pub(super) struct StackParser;

/// The result of parsing: the tree when the text has the shape of a program (possibly with
/// recoverable mistakes, reported in `errors`), and the problems found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: Option<File>,
    pub errors: Vec<SyntaxError>,
}

/// Parses a whole file. Never panics; a text pest cannot parse gives one `stack::syntax` error.
pub fn parse(src: &str) -> Parsed {
    // One top-level item at a time: pest keeps a token per rule match, and holding the tokens
    // of a whole 10,000-service file would take many times its size in memory. The items are
    // found first by a cheap scan of braces; pest then checks each one's text exactly.
    let mut ranges = Vec::new();
    let mut pos = if src.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    while let Some(start) = skip_trivia(src, pos) {
        let Some(end) = item_end(src, start) else {
            return parse_whole(src);
        };
        ranges.push((start, end));
        pos = end;
    }
    // Big files are parsed on every core: items are independent until the checker. Cores
    // take small chunks in turn, so one slowed by other work does not hold up the rest.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let results: Vec<ItemsParsed> = if src.len() < PARALLEL_ABOVE || threads < 2 {
        vec![parse_items(src, &ranges)]
    } else {
        let chunks: Vec<&[(usize, usize)]> = ranges
            .chunks(ranges.len().div_ceil(threads * CHUNKS_PER_THREAD).max(1))
            .collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let mut done: Vec<(usize, ItemsParsed)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut mine = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(chunk) = chunks.get(i) else { break };
                            mine.push((i, parse_items(src, chunk)));
                        }
                        mine
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        if done.len() < chunks.len() {
            // A thread failed (it cannot, short of a bug): the whole-file path decides.
            return parse_whole(src);
        }
        done.sort_unstable_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, r)| r).collect()
    };
    let mut items = Vec::with_capacity(ranges.len());
    let mut errors = Vec::new();
    for r in results {
        // An item pest refuses: the whole-file parse describes the error.
        let Some((i, e)) = r else {
            return parse_whole(src);
        };
        items.extend(i);
        errors.extend(e);
    }
    Parsed {
        file: Some(File { items }),
        errors,
    }
}

/// Files smaller than this are parsed on one thread: starting threads would cost more.
const PARALLEL_ABOVE: usize = 256 * 1024;

/// The items of some ranges and their recoverable errors; None if one does not parse.
type ItemsParsed = Option<(Vec<Item>, Vec<SyntaxError>)>;

/// How many chunks of items each parsing thread takes on average.
const CHUNKS_PER_THREAD: usize = 8;

/// Parses the items at `ranges` (each the exact text of one item); None if one does not parse.
fn parse_items(src: &str, ranges: &[(usize, usize)]) -> ItemsParsed {
    parse_items_in(src, ranges, chunked::CHUNK_ABOVE, chunked::CHUNK)
}

/// [`parse_items`], reading items over `chunk_above` bytes in pieces of about `chunk`.
fn parse_items_in(
    src: &str,
    ranges: &[(usize, usize)],
    chunk_above: usize,
    chunk: usize,
) -> ItemsParsed {
    let mut b = Builder {
        errors: Vec::new(),
        base: 0,
    };
    let mut items = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges {
        if end - start > chunk_above {
            let errors = b.errors.len();
            if let Some(item) = chunked::item(&mut b, src, start, end, chunk) {
                items.push(item);
                continue;
            }
            // A piece did not parse: the item is read whole, from its own errors.
            b.errors.truncate(errors);
        }
        // pest indexes the lines of its whole input, so each call gets just one item's text.
        let item = StackParser::parse(Rule::item_at, &src[start..end])
            .ok()?
            .next()?;
        b.base = start;
        for p in item.into_inner() {
            match p.as_rule() {
                Rule::block_q => items.push(Item::Block(b.block(p))),
                Rule::firewall_q => items.push(Item::Firewall(b.firewall(p))),
                Rule::EOI => {}
                r => unreachable!("item: {r:?}"),
            }
        }
    }
    Some((items, b.errors))
}

/// The first byte at or after `pos` that is not whitespace or a comment; None at the end.
fn skip_trivia(src: &str, pos: usize) -> Option<usize> {
    lex::lexemes(src, pos)
        .find(|l| matches!(l.0, Lexeme::Code | Lexeme::Str { .. }))
        .map(|l| l.1)
}

/// Where the top-level item starting at `start` ends: after the `}` that closes its first
/// `{`, skipping strings and comments. None when the braces do not balance or a string is
/// not closed (a syntax error, which `parse_whole` then describes).
fn item_end(src: &str, start: usize) -> Option<usize> {
    let b = src.as_bytes();
    let mut depth = 0usize;
    for (kind, s, e) in lex::lexemes(src, start) {
        match kind {
            Lexeme::Str { closed: false } => return None,
            Lexeme::Code => {
                for (i, &c) in (s..e).zip(&b[s..e]) {
                    match c {
                        b'{' => depth += 1,
                        b'}' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                return Some(i + 1);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The whole file in one pest call: the error path, where pest's view of the whole text
/// gives the best "expected ..." message.
fn parse_whole(src: &str) -> Parsed {
    match StackParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let mut b = Builder {
                errors: Vec::new(),
                base: 0,
            };
            let file = b.file(pairs.next().expect("the file rule always yields one pair"));
            Parsed {
                file: Some(file),
                errors: b.errors,
            }
        }
        Err(e) => Parsed {
            file: None,
            errors: vec![convert_error(src, &e)],
        },
    }
}

/// A vector without spare capacity: the tree of a big file holds hundreds of thousands of
/// short vectors, and growth leaves up to half of each unused (a one-element list gets room
/// for four).
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

pub(super) struct Builder {
    pub(super) errors: Vec<SyntaxError>,
    /// Byte offset of the item being built: pest's positions count from there.
    pub(super) base: usize,
}

impl Builder {
    /// The span of a pair, in the whole file (pairs count from the start of their item).
    pub(super) fn span(&self, p: &Pair<'_, Rule>) -> Span {
        let s = p.as_span();
        Span::new(self.base + s.start(), self.base + s.end())
    }

    pub(super) fn ident(&self, p: Pair<'_, Rule>) -> Ident {
        Ident {
            text: CompactString::from(p.as_str()),
            span: self.span(&p),
        }
    }

    fn file(&mut self, p: Pair<'_, Rule>) -> File {
        let mut items = Vec::new();
        for p in p.into_inner() {
            match p.as_rule() {
                Rule::block => items.push(Item::Block(self.block(p))),
                Rule::firewall => items.push(Item::Firewall(self.firewall(p))),
                Rule::EOI => {}
                r => unreachable!("file: {r:?}"),
            }
        }
        File { items }
    }

    fn block(&mut self, p: Pair<'_, Rule>) -> Block {
        let sp = self.span(&p);
        let mut it = p.into_inner();
        let kind = self.ident(it.next().expect("kind").into_inner().next().expect("ident"));
        let name = self.ident(it.next().expect("name"));
        let mut entries = Vec::new();
        for p in it {
            match p.as_rule() {
                Rule::attr | Rule::attr_no_eq | Rule::attr_q | Rule::attr_no_eq_q => {
                    entries.push(Entry::Attr(self.attr(p)))
                }
                Rule::nested | Rule::nested_q => entries.push(Entry::Nested(self.nested(p))),
                Rule::lbrace | Rule::rbrace => {}
                r => unreachable!("block: {r:?}"),
            }
        }
        Block {
            kind,
            name,
            entries: exact(entries),
            span: sp,
        }
    }

    pub(super) fn nested(&mut self, p: Pair<'_, Rule>) -> Nested {
        let sp = self.span(&p);
        let mut it = p.into_inner();
        let name = self.ident(it.next().expect("name"));
        let attrs = exact(
            it.filter(|p| {
                matches!(
                    p.as_rule(),
                    Rule::attr | Rule::attr_no_eq | Rule::attr_q | Rule::attr_no_eq_q
                )
            })
            .map(|p| self.attr(p))
            .collect(),
        );
        Nested {
            name,
            attrs,
            span: sp,
        }
    }

    pub(super) fn attr(&mut self, p: Pair<'_, Rule>) -> Attr {
        let missing_eq = matches!(p.as_rule(), Rule::attr_no_eq | Rule::attr_no_eq_q);
        let mut it = p.into_inner().filter(|p| p.as_rule() != Rule::eq);
        let key = self.ident(it.next().expect("key"));
        let value = self.value(it.next().expect("value"));
        if missing_eq {
            self.errors.push(SyntaxError::MissingEq {
                span: Span::new(key.span.end as usize, value.span.start as usize),
                key: key.text.to_string(),
                value: value_text_hint(&value),
            });
        }
        Attr { key, value }
    }

    fn value(&mut self, p: Pair<'_, Rule>) -> Value {
        let sp = self.span(&p);
        let kind = match p.as_rule() {
            Rule::string => ValueKind::Str(self.string(p)),
            Rule::secret => {
                let s = p
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::string)
                    .expect("secret has a string");
                let s_span = self.span(&s);
                ValueKind::Secret(Box::new(Ident {
                    text: self.string(s),
                    span: s_span,
                }))
            }
            Rule::cidr => ValueKind::Cidr(CompactString::from(p.as_str())),
            Rule::size => {
                let mut it = p.into_inner();
                let amount = self.integer(it.next().expect("amount"));
                let unit_pair = it.next().expect("unit");
                let unit = unit_pair.as_str();
                match (amount, SizeUnit::parse(unit)) {
                    (None, _) => ValueKind::Invalid,
                    (Some(amount), Ok(unit)) => ValueKind::Size { amount, unit },
                    (Some(amount), Err(meant)) => {
                        let binary = unit.len() == 3 && unit[1..2].eq_ignore_ascii_case("i");
                        self.errors.push(SyntaxError::BadUnit {
                            span: self.span(&unit_pair),
                            unit: unit.to_string(),
                            amount,
                            suggestion: meant.as_str(),
                            reason: if binary {
                                "units are case-sensitive"
                            } else {
                                "sizes are binary (1 MiB = 1024 KiB)"
                            },
                        });
                        // Reported: the checker must not report it again (as a type
                        // mismatch, or memory counted in the wrong unit).
                        ValueKind::Invalid
                    }
                }
            }
            Rule::port => {
                let mut host = None;
                let mut container = None;
                let mut protocol = None;
                let mut valid = true;
                for q in p.into_inner() {
                    let n = match q.as_rule() {
                        Rule::integer => self.integer(q),
                        Rule::proto => {
                            protocol = Some(Box::new(self.ident(q)));
                            continue;
                        }
                        r => unreachable!("port: {r:?}"),
                    };
                    valid &= n.is_some();
                    if host.is_none() {
                        host = Some(n.unwrap_or_default());
                    } else {
                        container = n;
                    }
                }
                let host = host.expect("port has a host part");
                if valid {
                    ValueKind::Port {
                        host,
                        container: container.unwrap_or(host),
                        protocol,
                    }
                } else {
                    ValueKind::Invalid
                }
            }
            Rule::integer => self.integer(p).map_or(ValueKind::Invalid, ValueKind::Int),
            Rule::boolean => ValueKind::Bool(p.as_str() == "true"),
            Rule::reference => {
                let mut it = p.into_inner();
                ValueKind::Ref(Box::new(Reference {
                    target: self.ident(it.next().expect("target")),
                    attr: self.ident(it.next().expect("attr")),
                }))
            }
            Rule::word | Rule::ident => ValueKind::Word(CompactString::from(p.as_str())),
            Rule::list | Rule::list_q => ValueKind::List(exact(
                p.into_inner()
                    .filter(|q| {
                        !matches!(q.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma)
                    })
                    .map(|q| self.value(q))
                    .collect(),
            )),
            r => unreachable!("value: {r:?}"),
        };
        Value { kind, span: sp }
    }

    /// The integer's value, or None (reported) when it does not fit in 64 bits.
    fn integer(&mut self, p: Pair<'_, Rule>) -> Option<u64> {
        let n = p.as_str().parse().ok();
        if n.is_none() {
            self.errors.push(SyntaxError::NumberTooLarge {
                span: self.span(&p),
                text: p.as_str().to_string(),
            });
        }
        n
    }

    fn string(&mut self, p: Pair<'_, Rule>) -> CompactString {
        let inner = p.into_inner().next().expect("str_inner");
        let base = self.base + inner.as_span().start();
        let raw = inner.as_str();
        if !raw.contains('\\') {
            return raw.into();
        }
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            // The grammar guarantees a character after every backslash.
            let Some((j, e)) = chars.next() else { break };
            match e {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                other => {
                    self.errors.push(SyntaxError::BadEscape {
                        span: Span::new(base + i, base + j + other.len_utf8()),
                        escape: other,
                    });
                    out.push(other);
                }
            }
        }
        out.into()
    }

    fn firewall(&mut self, p: Pair<'_, Rule>) -> Firewall {
        let sp = self.span(&p);
        let mut keyword = sp;
        let mut rules = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::kw_firewall => keyword = self.span(&q),
                Rule::fw_name => self.named_firewall(&q),
                Rule::rule | Rule::rule_q => rules.push(self.rule(q)),
                Rule::lbrace | Rule::rbrace => {}
                r => unreachable!("firewall: {r:?}"),
            }
        }
        Firewall {
            rules,
            keyword,
            span: sp,
        }
    }

    /// A name after `firewall`, which has none.
    pub(super) fn named_firewall(&mut self, q: &Pair<'_, Rule>) {
        self.errors
            .push(SyntaxError::NamedFirewall { span: self.span(q) });
    }

    pub(super) fn rule(&mut self, p: Pair<'_, Rule>) -> FirewallRule {
        let sp = self.span(&p);
        let mut subjects = Vec::new();
        let mut sources = Vec::new();
        let mut target = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::subjects | Rule::subjects_q => subjects = self.terms(q),
                Rule::sources | Rule::sources_q => sources = self.terms(q),
                Rule::ident => target = Some(self.ident(q)),
                Rule::kw_allow | Rule::kw_from | Rule::kw_to => {}
                r => unreachable!("rule: {r:?}"),
            }
        }
        FirewallRule {
            subjects,
            sources,
            target,
            span: sp,
        }
    }

    fn terms(&mut self, p: Pair<'_, Rule>) -> Vec<Value> {
        let mut terms: Vec<Value> = p
            .into_inner()
            .filter(|q| q.as_rule() != Rule::comma)
            .map(|q| self.value(q))
            .collect();
        terms.shrink_to_fit();
        terms
    }
}

/// The value as it could be re-typed in a help line (short forms only).
fn value_text_hint(v: &Value) -> String {
    match &v.kind {
        ValueKind::Str(s) if s.len() <= 40 => format!("{s:?}"),
        ValueKind::Int(n) => n.to_string(),
        ValueKind::Size { amount, unit } => format!("{amount} {unit}"),
        ValueKind::Word(w) => w.to_string(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Ref(r) => format!("{}.{}", r.target, r.attr),
        ValueKind::Cidr(c) => c.to_string(),
        ValueKind::Port {
            host,
            container,
            protocol,
        } => match protocol {
            Some(p) => format!("{host}:{container}/{p}"),
            None => format!("{host}:{container}"),
        },
        _ => "...".to_string(),
    }
}

// ----- Errors: pest's failure, said in words -----------------------------------------------

/// The kinds of block a file may hold, for messages (the checker owns the real table).
const KINDS: &[&str] = &[
    "stack",
    "environment",
    "service",
    "postgres",
    "redis",
    "firewall",
];

const BLOCKS_HELP: &str =
    "a file holds blocks: `stack`, `environment`, `service`, `postgres`, `redis` and `firewall`";

fn convert_error(src: &str, e: &pest::error::Error<Rule>) -> SyntaxError {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let mut err = describe_error(src, pos, e);
    // A character that looks like a space (or like nothing): whatever was expected, the fix
    // is the same.
    if let (Some(_), SyntaxError::Unexpected { help, .. }) =
        (src[pos..].chars().next().and_then(invisible), &mut err)
    {
        *help = Some(
            "stackc reads only ASCII spaces, tabs and line breaks between words: retype it as a plain space, or remove it"
                .into(),
        );
    }
    err
}

fn describe_error(src: &str, pos: usize, e: &pest::error::Error<Rule>) -> SyntaxError {
    // A string that runs into the end of its line: pest fails at its opening quote.
    if let Some((Lexeme::Str { closed: false }, start, end)) = lex::lexemes(src, pos).next() {
        return SyntaxError::UnterminatedString {
            span: Span::new(start, end.max(start + 1)),
        };
    }
    let positives: &[Rule] = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    if let Some(err) = non_ascii_name(src, pos) {
        return err;
    }
    if let Some(err) = number_run_into_letters(src, pos) {
        return err;
    }
    let cx = Context::scan(src, pos);
    if let Some(err) = unclosed_block(src, pos, &cx) {
        return err;
    }
    let (tok_end, found) = found_at(src, pos);
    if cx.open.is_empty() {
        if let Some(err) = top_level(src, pos, tok_end, &found, positives, &cx) {
            return err;
        }
    }
    if let Some(err) = key_without_value(src, pos, &found) {
        return err;
    }
    let in_firewall = cx
        .innermost_header(src)
        .is_some_and(|h| h.starts_with("firewall"));
    if in_firewall {
        if let Some(err) = firewall_rule(src, pos, tok_end, &found, positives, &cx) {
            return err;
        }
    }
    let in_env = cx.open.len() >= 2;
    let expected = expected_words(positives, in_firewall, in_env);
    let help = help_for(src, pos, positives, &found, in_firewall, in_env);
    SyntaxError::Unexpected {
        span: Span::new(pos, tok_end),
        expected,
        found,
        help,
    }
}

/// A letter outside ASCII in or at the start of a name (`service wéb`).
fn non_ascii_name(src: &str, pos: usize) -> Option<SyntaxError> {
    let c = src[pos..].chars().next()?;
    if matches!(c, '“' | '”' | '‘' | '’' | '«' | '»') {
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, pos + c.len_utf8()),
            expected: "a value".into(),
            found: format!("`{c}`"),
            help: Some("strings are written with straight quotes: `\"...\"`".into()),
        });
    }
    if c.is_ascii() || !c.is_alphanumeric() {
        return None;
    }
    let name_char = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
    let start = src[..pos]
        .rfind(|c: char| !name_char(c))
        .map_or(0, |i| i + src[i..].chars().next().map_or(1, char::len_utf8));
    let end = src[pos..]
        .find(|c: char| !name_char(c))
        .map_or(src.len(), |i| pos + i);
    Some(SyntaxError::Unexpected {
        span: Span::new(start, end),
        expected: "an ASCII name".into(),
        found: format!("`{}`", &src[start..end]),
        help: Some(
            "names and keys use ASCII letters, digits, `_` and `-`; other characters go in strings"
                .into(),
        ),
    })
}

/// `1e30`, `10x`: digits run into letters, which no value is.
fn number_run_into_letters(src: &str, pos: usize) -> Option<SyntaxError> {
    let b = src.as_bytes();
    if !b.get(pos)?.is_ascii_alphabetic() || pos == 0 || !b[pos - 1].is_ascii_digit() {
        return None;
    }
    let start = b[..pos]
        .iter()
        .rposition(|c| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
        return None;
    }
    let end = b[pos..]
        .iter()
        .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_' || c == b'.'))
        .map_or(b.len(), |i| pos + i);
    Some(SyntaxError::Unexpected {
        span: Span::new(start, end),
        expected: "a whole number".into(),
        found: format!("`{}`", &src[start..end]),
        help: Some(
            "numbers are whole and written in decimal digits (`1024`); a size takes a unit: `512 MiB`"
                .into(),
        ),
    })
}

/// A block still open at the end of the file, or at the header of a next top-level block.
fn unclosed_block(src: &str, pos: usize, cx: &Context) -> Option<SyntaxError> {
    let outer = cx.open.last()?;
    let at_end = src[pos..].trim().is_empty();
    let header_of = |o: &Open| {
        let h = o.header(src);
        if h.is_empty() {
            "block".to_string()
        } else {
            format!("{h} {{ ... }}")
        }
    };
    // An inner block closed by a `}` whose indentation says it was meant for `outer`: the
    // inner block is the one without its `}`.
    if let Some(m) = &outer.misclosed {
        let (inner, before) = (&m.0, m.1);
        let looks_unclosed = at_end || next_block_header(src, pos, outer).is_some();
        if looks_unclosed {
            return Some(SyntaxError::UnclosedBlock {
                span: Span::new(before, before),
                open: Span::new(inner.brace, inner.brace + 1),
                header: header_of(inner),
                label: "expected `}` here".into(),
                help: Some(format!(
                    "add `}}` to close `{}`; judging by its indentation, the `}}` after it closes `{}`",
                    inner.header(src),
                    outer.header(src)
                )),
            });
        }
    }
    let header = header_of(outer);
    let open = outer;
    let more = if cx.open.len() > 1 {
        format!(" ({} blocks are open here)", cx.open.len())
    } else {
        String::new()
    };
    if at_end {
        return Some(SyntaxError::UnclosedBlock {
            span: Span::new(cx.last_token_end, cx.last_token_end),
            open: Span::new(open.brace, open.brace + 1),
            header,
            label: "the file ends here".into(),
            help: Some(format!("add `}}` at the end of the block{more}")),
        });
    }
    let (start, word) = next_block_header(src, pos, open)?;
    Some(SyntaxError::UnclosedBlock {
        span: Span::new(start, start + word.len()),
        open: Span::new(open.brace, open.brace + 1),
        header,
        label: "expected `}` before this block".into(),
        help: Some(format!("add `}}` at the end of the block{more}")),
    })
}

/// The header of a top-level block (`service api {`) on the line of `pos`, inside `open`:
/// where its kind starts, and the kind.
fn next_block_header<'s>(src: &'s str, pos: usize, open: &Open) -> Option<(usize, &'s str)> {
    let line_start = lex::line_start(src, pos);
    let line = &src[line_start..];
    let indent = line.len() - line.trim_start().len();
    let (word, rest) = split_word(line.trim_start());
    let after_name = if word == "firewall" {
        rest
    } else {
        split_word(rest.trim_start()).1
    };
    let looks_like_header = KINDS.contains(&word)
        && after_name.trim_start().starts_with('{')
        && (word == "firewall" || !split_word(rest.trim_start()).0.is_empty());
    let start = line_start + indent;
    (looks_like_header && start > open.brace && start <= pos).then_some((start, word))
}

/// Mistakes between blocks: junk, a stray `}`, a block without a name or without `{`.
fn top_level(
    src: &str,
    pos: usize,
    tok_end: usize,
    found: &str,
    positives: &[Rule],
    cx: &Context,
) -> Option<SyntaxError> {
    let expects_block = positives
        .iter()
        .any(|r| matches!(r, Rule::EOI | Rule::kw_firewall | Rule::file));
    if expects_block {
        let help = if found == "`}`" {
            "this `}` closes no block: remove it".to_string()
        } else if src[pos..].starts_with("//") || src[pos..].starts_with("/*") {
            "comments start with `#`".to_string()
        } else {
            BLOCKS_HELP.to_string()
        };
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: "a block".into(),
            found: found.to_string(),
            help: Some(help),
        });
    }
    let words = &cx.words;
    if positives == [Rule::lbrace] && words.len() >= 2 {
        let (ks, ke) = words[words.len() - 2];
        let (ns, ne) = words[words.len() - 1];
        let kind = &src[ks..ke];
        if !KINDS.contains(&kind) {
            // `hello world` between blocks: a block that is not one.
            let close = KINDS
                .iter()
                .map(|k| (k, strsim::normalized_damerau_levenshtein(kind, k)))
                .filter(|(_, score)| *score >= 0.6)
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(k, _)| k);
            return Some(SyntaxError::Unexpected {
                span: Span::new(ks, ke),
                expected: "a block".into(),
                found: format!("`{kind}`"),
                help: Some(match close {
                    Some(k) => {
                        format!("did you mean `{k}`? blocks are written `{k} NAME {{ ... }}`")
                    }
                    None => BLOCKS_HELP.to_string(),
                }),
            });
        }
        let name = &src[ns..ne];
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: format!("`{{` after `{kind} {name}`"),
            found: found.to_string(),
            help: Some(format!("a block is written `{kind} {name} {{ ... }}`")),
        });
    }
    if positives == [Rule::ident] && !words.is_empty() {
        let (ks, ke) = words[words.len() - 1];
        let kind = &src[ks..ke];
        return Some(SyntaxError::Unexpected {
            span: Span::new(pos, tok_end),
            expected: format!("a name after `{kind}`"),
            found: found.to_string(),
            help: Some(format!("blocks are named: `{kind} web {{ ... }}`")),
        });
    }
    None
}

/// Mistakes inside a firewall rule that pest sees one word too late: a trailing `,` before
/// `from` or `to`, or nothing to allow.
fn firewall_rule(
    src: &str,
    pos: usize,
    tok_end: usize,
    found: &str,
    positives: &[Rule],
    cx: &Context,
) -> Option<SyntaxError> {
    let words = &cx.words;
    let last = *words.last()?;
    let last_word = &src[last.0..last.1];
    let before_last = src[..last.0].trim_end();
    if positives.contains(&Rule::kw_from) && last_word == "from" {
        if before_last.ends_with(',') {
            let comma = before_last.len() - 1;
            return Some(SyntaxError::Unexpected {
                span: Span::new(comma, comma + 1),
                expected: "a port or a name after `,`".into(),
                found: "`from`".into(),
                help: Some("remove the trailing `,`".into()),
            });
        }
        if before_last.ends_with("allow") {
            return Some(SyntaxError::Unexpected {
                span: Span::new(last.0, last.1),
                expected: "a port or a data store after `allow`".into(),
                found: "`from`".into(),
                help: Some(
                    "rules are `allow PORTS from SOURCES to SERVICE` or `allow STORES from SERVICES`".into(),
                ),
            });
        }
    }
    if positives.contains(&Rule::kw_to) && last_word == "to" && before_last.ends_with(',') {
        let comma = before_last.len() - 1;
        return Some(SyntaxError::Unexpected {
            span: Span::new(comma, comma + 1),
            expected: "a source after `,`".into(),
            found: "`to`".into(),
            help: Some("remove the `,` before `to`".into()),
        });
    }
    let _ = (pos, tok_end, found);
    None
}

/// `essential` alone on a line, then `image = "x"`: the parser took `essential image` for an
/// attribute without `=` and fails at the second `=`. The mistake is the key without a value.
fn key_without_value(src: &str, pos: usize, found: &str) -> Option<SyntaxError> {
    if found != "`=`" {
        return None;
    }
    let line_start = lex::line_start(src, pos);
    if line_start == 0 {
        return None;
    }
    let (this_key, rest) = split_word(src[line_start..pos].trim_start());
    if this_key.is_empty() || !rest.trim().is_empty() {
        return None;
    }
    let prev = src[..line_start].trim_end();
    let prev_start = lex::line_start(prev, prev.len());
    let prev_line = &prev[prev_start..];
    let (key, rest) = split_word(prev_line.trim_start());
    if key.is_empty() || !rest.trim().is_empty() {
        return None;
    }
    let start = prev_start + (prev_line.len() - prev_line.trim_start().len());
    Some(SyntaxError::Unexpected {
        span: Span::new(start, start + key.len()),
        expected: format!("`=` and a value after `{key}`"),
        found: "end of line".into(),
        help: Some(format!(
            "give `{key}` a value, e.g. `{key} = ...`, or remove it"
        )),
    })
}

/// The first word of `s` (letters, digits, `_`, `-`) and the rest.
fn split_word(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(s.len());
    s.split_at(end)
}

/// The token at `pos`, described for a message, and where it ends.
fn found_at(src: &str, pos: usize) -> (usize, String) {
    let rest = &src[pos..];
    let Some(c) = rest.chars().next() else {
        return (pos, "end of file".to_string());
    };
    if c == '"' {
        let end = lex::lexemes(src, pos).next().map_or(src.len(), |l| l.2);
        return (end, "a string".to_string());
    }
    let len = if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    let tok = &rest[..len];
    let shown = if c == '\n' || c == '\r' {
        "end of line".to_string()
    } else if c.is_control() {
        format!("{c:?}")
    } else if let Some(name) = invisible(c) {
        format!("`U+{:04X}` ({name})", c as u32)
    } else {
        format!("`{tok}`")
    };
    (pos + len, shown)
}

/// What a character that looks like nothing (or like a space) is, in words; None for the
/// others. Such a character between two words reads as a space to people, not to stackc.
fn invisible(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{a0}' => "a no-break space",
        '\u{202f}' => "a narrow no-break space",
        '\u{2028}' => "a line separator",
        '\u{2029}' => "a paragraph separator",
        '\u{200b}' => "a zero-width space",
        '\u{feff}' => "a zero-width no-break space",
        '\u{ad}' => "a soft hyphen",
        '\u{3000}' => "an ideographic space",
        c if c.is_whitespace() => "a Unicode space",
        '\u{200c}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' => {
            "an invisible formatting character"
        }
        _ => return None,
    })
}

/// What the parser wanted, in words. Recovery rules (a missing `=`, nesting) are left out
/// when the main expectation is clear.
fn expected_words(positives: &[Rule], in_firewall: bool, in_env: bool) -> String {
    let has = |r: Rule| positives.contains(&r);
    let value_start = positives.iter().any(|r| {
        matches!(
            r,
            Rule::string
                | Rule::cidr
                | Rule::integer
                | Rule::boolean
                | Rule::kw_secret
                | Rule::lbracket
        )
    });
    let mut words: Vec<&'static str> = Vec::new();
    let mut push = |w: &'static str| {
        if !words.contains(&w) {
            words.push(w);
        }
    };
    if has(Rule::eq) {
        push("`=`");
    } else if positives == [Rule::string] {
        push("a string");
    } else if in_firewall && value_start {
        push(if has(Rule::ident) {
            "a port or a name"
        } else {
            "a port"
        });
    } else if value_start {
        push("a value");
    }
    for r in positives {
        match r {
            Rule::string
            | Rule::cidr
            | Rule::integer
            | Rule::boolean
            | Rule::kw_secret
            | Rule::lbracket
            | Rule::lbrace
            | Rule::unit
            | Rule::eq => {}
            Rule::ident | Rule::word if value_start || has(Rule::eq) => {}
            Rule::ident | Rule::word if has(Rule::rbrace) => {
                push(if in_env {
                    "`KEY = value`"
                } else {
                    "an attribute"
                });
            }
            Rule::ident | Rule::word => push("a name"),
            Rule::kind | Rule::kw_firewall | Rule::block | Rule::firewall => push("a block"),
            Rule::attr | Rule::attr_no_eq | Rule::nested => push("an attribute"),
            Rule::rule | Rule::kw_allow => push("a rule (`allow ...`)"),
            Rule::kw_from => push("`from`"),
            Rule::kw_to => push("`to`"),
            Rule::comma => push("`,`"),
            Rule::rbrace => push("`}`"),
            Rule::rbracket => push("`]`"),
            Rule::proto => push("`tcp` or `udp`"),
            Rule::EOI => push("end of file"),
            Rule::str_inner => push("a string"),
            _ => push("a value"),
        }
    }
    if words.is_empty() {
        // Only recovery rules were expected (e.g. `{` after a name); say the first.
        if has(Rule::lbrace) {
            words.push("`{`");
        } else if has(Rule::unit) {
            words.push("a unit (`MiB`, `GiB`)");
        } else {
            words.push("something else");
        }
    }
    join_or(&words)
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Targeted hints for the mistakes people actually make.
fn help_for(
    src: &str,
    pos: usize,
    positives: &[Rule],
    found: &str,
    in_firewall: bool,
    in_env: bool,
) -> Option<String> {
    let before = src[..pos].trim_end();
    let has = |r: Rule| positives.contains(&r);
    let rest = &src[pos..];
    if rest.starts_with("//") || rest.starts_with("/*") {
        return Some("comments start with `#`".into());
    }
    if in_firewall {
        if before.ends_with(',') {
            return Some("remove the trailing `,`".into());
        }
        if let Some(b) = before.strip_suffix("to") {
            if b.trim_end().ends_with(',') {
                return Some("remove the `,` before `to`".into());
            }
        }
        if has(Rule::kw_from) || has(Rule::kw_allow) {
            return Some(
                "rules are `allow PORTS from SOURCES to SERVICE` or `allow STORES from SERVICES`"
                    .into(),
            );
        }
        return None;
    }
    if has(Rule::eq) {
        return Some(match found {
            "`:`" => "attributes are written `key = value`, not `key: value`".into(),
            "`{`" if in_env => "`env` holds only `KEY = value` lines; blocks nest one level".into(),
            _ => "attributes are written `key = value`".into(),
        });
    }
    if before.ends_with("secret(") && has(Rule::string) {
        let (w, _) = split_word(rest);
        let var = if w.is_empty() { "VAR" } else { w };
        return Some(format!(
            "write the variable name in quotes: `secret(\"{var}\")`"
        ));
    }
    if has(Rule::rbracket) && has(Rule::comma) && !found.starts_with("end") {
        return Some("separate the elements of a list with `,`".into());
    }
    if has(Rule::string) || has(Rule::lbracket) {
        // A value was expected.
        if found == "`=`" && before.ends_with('=') {
            return Some("write one `=`".into());
        }
        if found == "`-`" && rest[1..].starts_with(|c: char| c.is_ascii_digit()) {
            return Some("numbers are whole and never negative".into());
        }
        if found == "`,`" && before.ends_with([',', '[']) {
            return Some("remove the extra `,`".into());
        }
        if found == "`:`" && before.ends_with('"') {
            return Some("write port mappings without quotes: `80:80`".into());
        }
        if let Some(b) = before.strip_suffix('=') {
            if matches!(found, "`}`" | "end of line" | "end of file") || !found.starts_with('`') {
                let key = b
                    .trim_end()
                    .rsplit(|c: char| c.is_whitespace() || c == '{')
                    .next()
                    .unwrap_or("");
                if !key.is_empty() {
                    return Some(format!("give `{key}` a value, e.g. `{key} = \"...\"`"));
                }
            }
        }
        return None;
    }
    if has(Rule::rbrace) {
        // An attribute (or the end of the block) was expected.
        if found == "a string" {
            let word: String = rest[1..]
                .chars()
                .take_while(|c| *c != '"' && *c != '\n' && *c != '\r')
                .collect();
            return Some(format!(
                "write {} without quotes: `{word} = ...`",
                if in_env { "keys" } else { "attribute names" }
            ));
        }
        if found == "`;`" || found == "`,`" {
            return Some(format!(
                "attributes are separated by spaces or newlines: remove the {found}"
            ));
        }
        if let Some(help) = unquoted_value_help(src, pos, found) {
            return Some(help);
        }
        if in_env && found.starts_with("`") && found[1..].starts_with(|c: char| c.is_ascii_digit())
        {
            return Some("environment variable names start with a letter or `_`".into());
        }
        if found == "`[`" || found == "`]`" || found == "`=`" {
            return None;
        }
    }
    None
}

/// `image = nginx:1.27`, `version = 7.1`, `memory = 0.5 GiB`: a value that had to be quoted
/// (or written whole), of which the parser took only the first word.
fn unquoted_value_help(src: &str, pos: usize, found: &str) -> Option<String> {
    if !matches!(found, "`.`" | "`:`" | "`/`" | "`@`") {
        return None;
    }
    let line_start = lex::line_start(src, pos);
    let line_end = lex::line_end(src, pos);
    let (key, value_start) = {
        let eq = src[line_start..pos].rfind('=')? + line_start;
        let key = src[line_start..eq]
            .trim()
            .rsplit([' ', '{'])
            .next()?
            .to_string();
        (key, eq + 1)
    };
    let rest = &src[value_start..line_end];
    let value: String = rest
        .trim_start()
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '}' && *c != '#')
        .collect();
    if key.is_empty() || value.is_empty() {
        return None;
    }
    // `0.5 GiB`: a fractional size, better written in the next smaller unit.
    let after = rest.trim_start()[value.len()..].trim_start();
    let unit: String = after
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let smaller = match unit.as_str() {
        "TiB" => Some("GiB"),
        "GiB" => Some("MiB"),
        "MiB" => Some("KiB"),
        _ => None,
    };
    if let (Some(smaller), Ok(x)) = (smaller, value.parse::<f64>()) {
        let scaled = x * 1024.0;
        if scaled.fract() == 0.0 && scaled < 1e15 {
            return Some(format!(
                "sizes are whole numbers: write `{key} = {} {smaller}`",
                scaled as u64
            ));
        }
        return Some("sizes are whole numbers of a unit".into());
    }
    Some(format!("write it in quotes: `{key} = \"{value}\"`"))
}

// ----- Context of an error ------------------------------------------------------------------

/// What surrounds a position in the text: the blocks open there (innermost last), the words
/// written since the last punctuation, and where the last token ends. Computed only for an
/// error, by one linear scan that skips strings and comments.
#[derive(Debug, Default)]
struct Context {
    open: Vec<Open>,
    /// Byte spans of the words since the last `{`, `}`, `=` or other punctuation.
    words: Vec<(usize, usize)>,
    last_token_end: usize,
}

#[derive(Debug, Clone)]
struct Open {
    /// Offset of the `{`.
    brace: usize,
    /// The words written before the `{` (`service web`), at most two.
    header: Vec<(usize, usize)>,
    /// Indentation of the line of the `{`.
    indent: usize,
    /// A block inside this one that a `}` closed although, by its indentation, the `}` was
    /// meant for this block: the block that really lacks its `}`. The offset is the end of
    /// the last token before that `}`.
    misclosed: Option<Box<(Open, usize)>>,
}

impl Open {
    fn header(&self, src: &str) -> String {
        let words: Vec<&str> = self.header.iter().map(|&(s, e)| &src[s..e]).collect();
        words.join(" ")
    }
}

impl Context {
    fn scan(src: &str, limit: usize) -> Context {
        let b = src.as_bytes();
        let limit = limit.min(b.len());
        let mut cx = Context::default();
        // Where the current line starts, and the indentation of its first token (if any yet).
        let mut line_start = 0;
        let mut line_indent: Option<usize> = None;
        for (kind, start, end) in lex::lexemes(src, 0) {
            if start >= limit {
                break;
            }
            match kind {
                Lexeme::LineEnd => {
                    line_start = end;
                    line_indent = None;
                    continue;
                }
                Lexeme::Space | Lexeme::Comment => continue,
                Lexeme::Str { .. } | Lexeme::Code => {}
            }
            if line_indent.is_none() {
                line_indent = Some(start - line_start);
                if b[start] == b'}' {
                    cx.note_misclosed(start - line_start);
                }
            }
            if let Lexeme::Str { .. } = kind {
                cx.words.clear();
                cx.last_token_end = end;
                continue;
            }
            let mut i = start;
            while i < end.min(limit) {
                match b[i] {
                    b'{' => {
                        // `service web {` at the top, `env {` inside a block.
                        let n = cx.words.len();
                        let take = if cx.open.is_empty() { 2 } else { 1 };
                        let header = cx.words[n.saturating_sub(take)..].to_vec();
                        cx.open.push(Open {
                            brace: i,
                            header,
                            indent: line_indent.unwrap_or(0),
                            misclosed: None,
                        });
                        cx.words.clear();
                    }
                    b'}' => {
                        cx.open.pop();
                        cx.words.clear();
                    }
                    c if c.is_ascii_alphanumeric() || c == b'_' => {
                        let mut j = i;
                        while j < end
                            && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-')
                        {
                            j += 1;
                        }
                        cx.words.push((i, j));
                        cx.last_token_end = j;
                        i = j;
                        continue;
                    }
                    _ => cx.words.clear(),
                }
                // Multi-byte characters end at a char boundary after their last byte.
                i += 1;
                while i < end && !src.is_char_boundary(i) {
                    i += 1;
                }
                cx.last_token_end = i;
            }
        }
        cx
    }

    /// A `}` first on its line at `indent`, less indented than the line of the `{` it closes,
    /// was probably meant for an outer block.
    fn note_misclosed(&mut self, indent: usize) {
        if let Some(inner) = self.open.last() {
            if indent < inner.indent && self.open.len() >= 2 {
                let inner = inner.clone();
                let n = self.open.len();
                let outer = &mut self.open[n - 2];
                if outer.misclosed.is_none() {
                    outer.misclosed = Some(Box::new((inner, self.last_token_end)));
                }
            }
        }
    }

    fn innermost_header(&self, src: &str) -> Option<String> {
        self.open.last().map(|o| o.header(src))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file big enough to be parsed on threads, in chunks taken in turn, gives the tree and
    /// errors of the one-pass parse, items in source order.
    #[test]
    fn a_big_file_parsed_in_chunks_is_parsed_in_order() {
        let mut src = String::new();
        let mut i = 0;
        while src.len() <= PARALLEL_ABOVE + 4096 {
            // A recoverable mistake now and then (`memory 16 MiB`) so errors merge too.
            let eq = if i % 97 == 0 { "" } else { "= " };
            src.push_str(&format!(
                "service s{i} {{\n  image = \"r/s{i}:1\"\n  memory {eq}16 MiB\n  ports = [{}:80]\n  env {{ A = db.host }}\n}}\n",
                10000 + i
            ));
            i += 1;
        }
        let (chunked, whole) = (parse(&src), parse_whole(&src));
        let file = chunked.file.expect("parses");
        assert_eq!(file.items.len(), i);
        assert_eq!(Some(file), whole.file);
        assert!(!chunked.errors.is_empty());
        assert_eq!(chunked.errors, whole.errors);
    }

    /// The item path (`item_at` and the quiet twins) and the whole-file path (`file`) must
    /// build the same tree and errors: every example and UI test, and each one's every line
    /// dropped in turn (which breaks some items in every way the corpus knows).
    #[test]
    fn both_grammar_paths_build_the_same_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut compared = 0;
        for dir in ["examples", "tests/ui", "tests/fmt"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("a directory") {
                let path = entry.expect("an entry").path();
                if path.extension().is_none_or(|e| e != "stack") {
                    continue;
                }
                let src = std::fs::read_to_string(&path).expect("readable");
                let lines: Vec<&str> = src.lines().collect();
                let variants =
                    std::iter::once(src.clone()).chain((0..lines.len().min(40)).map(|i| {
                        let mut l = lines.clone();
                        l.remove(i);
                        l.join("\n")
                    }));
                for text in variants {
                    let whole = parse_whole(&text);
                    // The item path alone, without its fall-back to the whole file.
                    let mut ranges = Vec::new();
                    let mut pos = 0;
                    while let Some(start) = skip_trivia(&text, pos) {
                        let Some(end) = item_end(&text, start) else {
                            break;
                        };
                        ranges.push((start, end));
                        pos = end;
                    }
                    if skip_trivia(&text, pos).is_some() {
                        continue; // unbalanced braces: only the whole-file path runs
                    }
                    let items = parse_items(&text, &ranges);
                    // Every item read in pieces, one entry a piece: the same items, and no item
                    // that parses falls back to being read whole.
                    let pieces = parse_items_in(&text, &ranges, 0, 1);
                    assert_eq!(items, pieces, "in pieces: {}:\n{text}", path.display());
                    for &(start, end) in &ranges {
                        if parse_items_in(&text, &[(start, end)], usize::MAX, 0).is_some() {
                            let mut b = Builder {
                                errors: Vec::new(),
                                base: 0,
                            };
                            assert!(
                                chunked::item(&mut b, &text, start, end, 1).is_some(),
                                "read in pieces: {}\n{}",
                                path.display(),
                                &text[start..end]
                            );
                        }
                    }
                    let name = path.display();
                    assert_eq!(items.is_some(), whole.file.is_some(), "{name}:\n{text}");
                    if let (Some((items, errors)), Some(file)) = (items, whole.file) {
                        assert_eq!(items, file.items, "{name}:\n{text}");
                        assert_eq!(errors, whole.errors, "{name}:\n{text}");
                        compared += 1;
                    }
                }
            }
        }
        assert!(compared > 1000, "compared {compared} texts");
    }

    fn value_of(src: &str) -> (ValueKind, Vec<SyntaxError>) {
        let parsed = parse(&format!("stack a {{ x = {src} }}"));
        let file = parsed
            .file
            .unwrap_or_else(|| panic!("{src} parses: {:?}", parsed.errors));
        let Item::Block(b) = &file.items[0] else {
            panic!("a block")
        };
        let Entry::Attr(a) = &b.entries[0] else {
            panic!("an attribute")
        };
        (a.value.kind.clone(), parsed.errors)
    }

    #[test]
    fn strings_decode_their_escapes() {
        let (v, errors) = value_of(r#""a\"b\\c\nd\te""#);
        assert_eq!(v, ValueKind::Str("a\"b\\c\nd\te".into()));
        assert!(errors.is_empty());
        let (v, errors) = value_of(r#""C:\app""#);
        assert_eq!(v, ValueKind::Str("C:app".into()));
        assert!(matches!(
            errors[..],
            [SyntaxError::BadEscape { escape: 'a', .. }]
        ));
    }

    #[test]
    fn sizes_take_any_spelling_of_a_unit_and_refuse_all_but_binary_ones() {
        assert_eq!(
            value_of("128 MiB"),
            (
                ValueKind::Size {
                    amount: 128,
                    unit: SizeUnit::MiB
                },
                vec![]
            )
        );
        assert_eq!(value_of("20GiB").1, vec![]);
        for (written, meant) in [
            ("128m", "MiB"),
            ("1 GB", "GiB"),
            ("512 mib", "MiB"),
            ("2 T", "TiB"),
            ("64 kb", "KiB"),
        ] {
            let (_, errors) = value_of(written);
            assert!(
                matches!(&errors[..], [SyntaxError::BadUnit { suggestion, .. }] if *suggestion == meant),
                "{written}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_unit_is_not_the_next_key_on_the_line() {
        let parsed = parse("service w { env { A = 1 M = 2 } }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let Some(File { items }) = parsed.file else {
            panic!("parses")
        };
        let Item::Block(b) = &items[0] else {
            panic!("a block")
        };
        let Entry::Nested(env) = &b.entries[0] else {
            panic!("env")
        };
        assert_eq!(env.attrs.len(), 2);
    }

    #[test]
    fn numbers_too_large_are_reported_once_and_poison_their_value() {
        for src in [
            "99999999999999999999",
            "99999999999999999999 MiB",
            "99999999999999999999:80",
            "80:99999999999999999999",
        ] {
            let (v, errors) = value_of(src);
            assert_eq!(v, ValueKind::Invalid, "{src}");
            assert!(
                matches!(errors[..], [SyntaxError::NumberTooLarge { .. }]),
                "{src}: {errors:?}"
            );
        }
        assert_eq!(value_of("18446744073709551615").0, ValueKind::Int(u64::MAX));
    }

    #[test]
    fn lone_ports_map_to_themselves() {
        assert_eq!(
            value_of("8080").0,
            ValueKind::Int(8080),
            "a lone port is an integer until the checker reads it as a port"
        );
        let (v, _) = value_of("53/udp");
        assert!(
            matches!(
                v,
                ValueKind::Port {
                    host: 53,
                    container: 53,
                    protocol: Some(_)
                }
            ),
            "{v:?}"
        );
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let parsed = parse("\u{feff}stack a { }");
        assert!(parsed.errors.is_empty());
        assert_eq!(parsed.file.map(|f| f.items.len()), Some(1));
    }

    #[test]
    fn keywords_are_names_in_rules() {
        let parsed = parse("firewall { allow from from to to to }");
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
    }

    #[test]
    fn the_error_context_skips_strings_and_comments() {
        let src = "service web { # {\n  image = \"{ }\"\n  env {\n";
        let cx = Context::scan(src, src.len());
        let headers: Vec<String> = cx.open.iter().map(|o| o.header(src)).collect();
        assert_eq!(headers, ["service web", "env"]);
    }

    #[test]
    fn every_error_has_a_span_inside_the_text() {
        for src in [
            "",
            "{",
            "}",
            "\"",
            "stack",
            "stack a",
            "stack a {",
            "stack a { x",
            "stack a { x =",
            "é",
            "firewall { allow",
        ] {
            let parsed = parse(src);
            assert!(
                parsed.file.is_none() || !parsed.errors.is_empty() || src.is_empty(),
                "{src:?}"
            );
            for e in &parsed.errors {
                let span = match e {
                    SyntaxError::Unexpected { span, .. }
                    | SyntaxError::UnclosedBlock { span, .. }
                    | SyntaxError::UnterminatedString { span }
                    | SyntaxError::MissingEq { span, .. }
                    | SyntaxError::BadEscape { span, .. }
                    | SyntaxError::BadUnit { span, .. }
                    | SyntaxError::NamedFirewall { span }
                    | SyntaxError::NumberTooLarge { span, .. } => *span,
                };
                assert!(
                    span.start <= span.end && span.end as usize <= src.len(),
                    "{src:?}: {e:?}"
                );
            }
        }
    }
}
