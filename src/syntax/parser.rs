//! Pest glue: one function per grammar rule, building the AST of [`super::ast`].
//!
//! Pairs that the grammar rules out are `unreachable!`: the grammar is the proof.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::*;
use super::error::SyntaxError;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/stack.pest"]
struct StackParser;

/// The result of parsing: the tree when the text has the shape of a program (possibly with
/// recoverable mistakes, reported in `errors`), and the problems found.
#[derive(Debug, Default)]
pub struct Parsed {
    pub file: Option<File>,
    pub errors: Vec<SyntaxError>,
}

/// Parses a whole file. Never panics; a text pest cannot parse gives one `stack::syntax` error.
pub fn parse(src: &str) -> Parsed {
    match StackParser::parse(Rule::file, src) {
        Ok(mut pairs) => {
            let mut b = Builder { errors: Vec::new() };
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

fn span(p: &Pair<'_, Rule>) -> Span {
    let s = p.as_span();
    Span::new(s.start(), s.end())
}

fn ident(p: Pair<'_, Rule>) -> Ident {
    Ident {
        text: p.as_str().to_string(),
        span: span(&p),
    }
}

struct Builder {
    errors: Vec<SyntaxError>,
}

impl Builder {
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
        let sp = span(&p);
        let mut it = p.into_inner();
        let kind = ident(it.next().expect("kind").into_inner().next().expect("ident"));
        let name = ident(it.next().expect("name"));
        let mut entries = Vec::new();
        for p in it {
            match p.as_rule() {
                Rule::attr | Rule::attr_no_eq => entries.push(Entry::Attr(self.attr(p))),
                Rule::nested => entries.push(Entry::Nested(self.nested(p))),
                Rule::lbrace | Rule::rbrace => {}
                r => unreachable!("block: {r:?}"),
            }
        }
        Block {
            kind,
            name,
            entries,
            span: sp,
        }
    }

    fn nested(&mut self, p: Pair<'_, Rule>) -> Nested {
        let sp = span(&p);
        let mut it = p.into_inner();
        let name = ident(it.next().expect("name"));
        let attrs = it
            .filter(|p| matches!(p.as_rule(), Rule::attr | Rule::attr_no_eq))
            .map(|p| self.attr(p))
            .collect();
        Nested {
            name,
            attrs,
            span: sp,
        }
    }

    fn attr(&mut self, p: Pair<'_, Rule>) -> Attr {
        let sp = span(&p);
        let missing_eq = p.as_rule() == Rule::attr_no_eq;
        let mut it = p.into_inner().filter(|p| p.as_rule() != Rule::eq);
        let key = ident(it.next().expect("key"));
        let value = self.value(it.next().expect("value"));
        if missing_eq {
            self.errors.push(SyntaxError::MissingEq {
                span: Span::new(key.span.end as usize, value.span.start as usize),
                key: key.text.clone(),
                value: value_text_hint(&value),
            });
        }
        Attr {
            key,
            value,
            span: sp,
        }
    }

    fn value(&mut self, p: Pair<'_, Rule>) -> Value {
        let sp = span(&p);
        let kind = match p.as_rule() {
            Rule::string => ValueKind::Str(self.string(p)),
            Rule::secret => {
                let s = p
                    .into_inner()
                    .find(|p| p.as_rule() == Rule::string)
                    .expect("secret has a string");
                let s_span = span(&s);
                ValueKind::Secret(Ident {
                    text: self.string(s),
                    span: s_span,
                })
            }
            Rule::cidr => ValueKind::Cidr(p.as_str().to_string()),
            Rule::size => {
                let mut it = p.into_inner();
                let amount = self.integer(it.next().expect("amount"));
                let unit_pair = it.next().expect("unit");
                let unit = unit_pair.as_str().to_string();
                if let Some(suggestion) = binary_unit(&unit) {
                    self.errors.push(SyntaxError::DecimalUnit {
                        span: span(&unit_pair),
                        unit: unit.clone(),
                        amount,
                        suggestion,
                    });
                }
                ValueKind::Size { amount, unit }
            }
            Rule::port => {
                let mut host = None;
                let mut container = None;
                let mut protocol = None;
                for q in p.into_inner() {
                    match q.as_rule() {
                        Rule::integer if host.is_none() => host = Some(self.integer(q)),
                        Rule::integer => container = Some(self.integer(q)),
                        Rule::proto => protocol = Some(ident(q)),
                        r => unreachable!("port: {r:?}"),
                    }
                }
                let host = host.expect("port has a host part");
                ValueKind::Port {
                    host,
                    container: container.unwrap_or(host),
                    protocol,
                }
            }
            Rule::integer => ValueKind::Int(self.integer(p)),
            Rule::boolean => ValueKind::Bool(p.as_str() == "true"),
            Rule::reference => {
                let mut it = p.into_inner();
                ValueKind::Ref {
                    target: ident(it.next().expect("target")),
                    attr: ident(it.next().expect("attr")),
                }
            }
            Rule::word | Rule::ident => ValueKind::Word(p.as_str().to_string()),
            Rule::list => ValueKind::List(
                p.into_inner()
                    .filter(|q| !matches!(q.as_rule(), Rule::lbracket | Rule::rbracket | Rule::comma))
                    .map(|q| self.value(q))
                    .collect(),
            ),
            r => unreachable!("value: {r:?}"),
        };
        Value { kind, span: sp }
    }

    fn integer(&mut self, p: Pair<'_, Rule>) -> u64 {
        p.as_str().parse().unwrap_or_else(|_| {
            self.errors.push(SyntaxError::NumberTooLarge {
                span: span(&p),
                text: p.as_str().to_string(),
            });
            u64::MAX
        })
    }

    fn string(&mut self, p: Pair<'_, Rule>) -> String {
        let inner = p.into_inner().next().expect("str_inner");
        let base = inner.as_span().start();
        let raw = inner.as_str();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, e)) = chars.next() else { break };
            match e {
                '"' => out.push('"'),
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
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
        out
    }

    fn firewall(&mut self, p: Pair<'_, Rule>) -> Firewall {
        let sp = span(&p);
        let mut keyword = sp;
        let mut rules = Vec::new();
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::kw_firewall => keyword = span(&q),
                Rule::rule => rules.push(self.rule(q)),
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

    fn rule(&mut self, p: Pair<'_, Rule>) -> FirewallRule {
        let sp = span(&p);
        let mut subjects = Vec::new();
        let mut sources = Vec::new();
        let mut target = None;
        for q in p.into_inner() {
            match q.as_rule() {
                Rule::subjects => subjects = self.terms(q),
                Rule::sources => sources = self.terms(q),
                Rule::ident => target = Some(ident(q)),
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
        p.into_inner()
            .filter(|q| q.as_rule() != Rule::comma)
            .map(|q| self.value(q))
            .collect()
    }
}


/// `MB` → `MiB`: the binary unit a decimal or miscased unit most likely meant; None for a
/// unit stackc accepts.
fn binary_unit(unit: &str) -> Option<&'static str> {
    match unit {
        "KiB" | "MiB" | "GiB" | "TiB" => None,
        u => Some(match u.chars().next() {
            Some('K' | 'k') => "KiB",
            Some('M' | 'm') => "MiB",
            Some('G' | 'g') => "GiB",
            _ => "TiB",
        }),
    }
}

/// The value as it could be re-typed in a help line (short forms only).
fn value_text_hint(v: &Value) -> String {
    match &v.kind {
        ValueKind::Str(s) if s.len() <= 40 => format!("{s:?}"),
        ValueKind::Int(n) => n.to_string(),
        ValueKind::Size { amount, unit } => format!("{amount} {unit}"),
        ValueKind::Word(w) => w.clone(),
        ValueKind::Bool(b) => b.to_string(),
        _ => "...".to_string(),
    }
}

fn convert_error(src: &str, e: &pest::error::Error<Rule>) -> SyntaxError {
    let pos = match e.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let (tok_end, found) = found_at(src, pos);
    // A string that runs into the end of its line: pest fails at its opening quote.
    if src[pos..].starts_with('"') {
        let line_end = src[pos + 1..].find('\n').map_or(src.len(), |i| pos + 1 + i);
        if !src[pos + 1..line_end].contains('"') {
            return SyntaxError::UnterminatedString {
                span: Span::new(pos, line_end),
            };
        }
    }
    let positives: &[Rule] = match &e.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let mut words: Vec<&'static str> = Vec::new();
    for r in positives {
        let w = rule_words(*r);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    if words.is_empty() {
        words.push("something else");
    }
    let expected = join_or(&words);
    let help = help_for(src, pos, positives, &found);
    SyntaxError::Unexpected {
        span: Span::new(pos, tok_end),
        expected,
        found,
        help,
    }
}

/// The token at `pos`, described for a message, and where it ends.
fn found_at(src: &str, pos: usize) -> (usize, String) {
    let rest = &src[pos..];
    let Some(c) = rest.chars().next() else {
        return (pos, "end of file".to_string());
    };
    let len = if c.is_ascii_alphanumeric() || c == '_' {
        rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len())
    } else {
        c.len_utf8()
    };
    let tok = &rest[..len];
    let shown = if c == '\n' {
        "end of line".to_string()
    } else if c.is_control() {
        format!("{c:?}")
    } else {
        format!("`{tok}`")
    };
    (pos + len, shown)
}

fn rule_words(r: Rule) -> &'static str {
    match r {
        Rule::kind | Rule::kw_firewall | Rule::block | Rule::firewall => "a block",
        Rule::attr | Rule::attr_no_eq | Rule::nested => "an attribute",
        Rule::rule | Rule::kw_allow => "a rule (`allow ...`)",
        Rule::kw_from => "`from`",
        Rule::kw_to => "`to`",
        Rule::ident | Rule::word => "a name",
        Rule::eq => "`=`",
        Rule::comma => "`,`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lbracket => "`[`",
        Rule::rbracket => "`]`",
        Rule::unit => "a unit (`MiB`, `GiB`)",
        Rule::proto => "`tcp` or `udp`",
        Rule::EOI => "end of file",
        Rule::string | Rule::str_inner => "a string",
        _ => "a value",
    }
}

fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Targeted hints for the mistakes people actually make.
fn help_for(src: &str, pos: usize, positives: &[Rule], found: &str) -> Option<String> {
    let before = src[..pos].trim_end();
    if positives.contains(&Rule::rbrace) && positives.contains(&Rule::attr) {
        if found == "end of file" {
            return Some("a block is not closed: add `}`".to_string());
        }
        if before.ends_with('=') {
            return None;
        }
    }
    if found == "`:`" && before.ends_with('"') {
        return Some("write port mappings without quotes: `80:80`".to_string());
    }
    if positives.contains(&Rule::kind) && found != "end of file" {
        return Some(
            "a file holds blocks: `stack`, `environment`, `service`, `postgres`, `redis`, `firewall`"
                .to_string(),
        );
    }
    if before.ends_with(',') && positives.iter().any(|r| matches!(r, Rule::ident | Rule::cidr)) {
        return Some("remove the trailing `,`".to_string());
    }
    None
}
