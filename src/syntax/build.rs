//! Building the tree: one function per grammar rule, turning pest's pairs into the AST of
//! [`super::ast`], with the recoverable mistakes (a missing `=`, a bad unit or escape, a number
//! too large) kept as errors beside it.
//!
//! Pairs that the grammar rules out are `unreachable!`: the grammar is the proof.

use pest::iterators::Pair;

use super::ast::*;
use super::error::SyntaxError;
use super::parser::Rule;

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

    pub(super) fn file(&mut self, p: Pair<'_, Rule>) -> File {
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

    pub(super) fn block(&mut self, p: Pair<'_, Rule>) -> Block {
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

    pub(super) fn firewall(&mut self, p: Pair<'_, Rule>) -> Firewall {
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
