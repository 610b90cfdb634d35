//! Check: [`ast::File`] → [`Model`] plus every problem found, sorted by position. Pure, no IO.
//!
//! The checker never stops at the first problem: each pass works on what the earlier ones
//! could make sense of, and the model is returned only when no error was found.
//!
//! - [`attrs`]: attribute tables and typed reading of a block's attributes;
//! - [`blocks`]: one block at a time (names, defaults, per-block rules);
//! - [`rules`]: rules across blocks (links, ports, memory, firewall, references).

pub mod attrs;
mod blocks;
mod error;
pub mod instances;
mod model;
pub mod names;
mod rules;
mod suggest;

use std::collections::HashMap;

use crate::syntax::ast::{self, Block, Entry, Ident, Item, Span};
pub use attrs::Kind;
pub use error::CheckError;
pub use model::*;
pub use suggest::did_you_mean;

/// The outcome of checking: the model when there is no error, and all diagnostics.
#[derive(Debug)]
pub struct Checked {
    pub model: Option<Model>,
    pub errors: Vec<CheckError>,
}

/// Checks a parsed file.
pub fn check(file: &ast::File) -> Checked {
    let mut cx = Cx::default();
    let items = cx.collect(file);
    let model = cx.build(&items);
    cx.finish(model)
}

/// Shared state of one check run.
#[derive(Default)]
pub(crate) struct Cx {
    pub errors: Vec<CheckError>,
}

/// The blocks of a file, sorted by kind, after the namespace was checked.
#[derive(Default)]
pub(crate) struct Items<'a> {
    pub stack: Option<&'a Block>,
    pub environment: Option<&'a Block>,
    pub services: Vec<&'a Block>,
    /// Postgres and redis blocks, in source order.
    pub stores: Vec<(Kind, &'a Block)>,
    pub firewall: Option<&'a ast::Firewall>,
    /// Every item name → its kind and where it is defined.
    pub names: HashMap<&'a str, (Kind, Span)>,
}

impl Cx {
    fn err(&mut self, e: CheckError) {
        self.errors.push(e);
    }

    /// Sorts blocks by kind, checking block kinds, names, the one namespace and item counts.
    fn collect<'a>(&mut self, file: &'a ast::File) -> Items<'a> {
        let mut items = Items::default();
        for item in &file.items {
            let block = match item {
                Item::Firewall(fw) => {
                    match items.firewall {
                        Some(first) => self.err(CheckError::DuplicateName {
                            span: fw.keyword,
                            first: first.keyword,
                            what: "block",
                            name: "firewall".into(),
                            help: Some("merge the rules into one firewall block".into()),
                        }),
                        None => items.firewall = Some(fw),
                    }
                    continue;
                }
                Item::Block(b) => b,
            };
            let Some(kind) = Kind::from_keyword(&block.kind.text) else {
                self.unknown_block(block);
                continue;
            };
            if let Some(rule) = names::block_name(&block.name.text) {
                self.err(CheckError::InvalidName {
                    span: block.name.span,
                    name: block.name.text.clone(),
                    what: format!("{} name", kind.keyword()),
                    rule: rule.into(),
                    help: Some(format!("write it in lowercase: `{}`", block.name.text.to_ascii_lowercase())),
                });
            }
            match items.names.get(block.name.text.as_str()) {
                Some((_, first)) => {
                    self.err(CheckError::DuplicateName {
                        span: block.name.span,
                        first: *first,
                        what: "name",
                        name: block.name.text.clone(),
                        help: Some("all blocks share one namespace: rename one of them".into()),
                    });
                    continue;
                }
                None => {
                    items.names.insert(&block.name.text, (kind, block.name.span));
                }
            }
            match kind {
                Kind::Stack | Kind::Environment => {
                    let slot = if kind == Kind::Stack {
                        &mut items.stack
                    } else {
                        &mut items.environment
                    };
                    match slot {
                        Some(first) => {
                            let first = first.name.span;
                            self.err(CheckError::MissingItem {
                                span: block.name.span,
                                first: Some(first),
                                message: format!("more than one `{}` block", kind.keyword()),
                                label: "a second one".into(),
                                help: Some(format!(
                                    "a file describes one Elastic Beanstalk {}",
                                    if kind == Kind::Stack { "application" } else { "environment" }
                                )),
                            });
                        }
                        None => *slot = Some(block),
                    }
                }
                Kind::Service => items.services.push(block),
                Kind::Postgres | Kind::Redis => items.stores.push((kind, block)),
            }
        }
        let end = file.items.last().map_or(Span::default(), |i| Span::new(i.span().end as usize, i.span().end as usize));
        for (kind, present, example) in [
            (Kind::Stack, items.stack.is_some(), "stack my-app { }"),
            (Kind::Environment, items.environment.is_some(), "environment my-app-env { }"),
            (Kind::Service, !items.services.is_empty(), "service web { image = \"nginx\" memory = 128 MiB essential = true }"),
        ] {
            if !present {
                self.err(CheckError::MissingItem {
                    span: end,
                    first: None,
                    message: format!("no `{}` block", kind.keyword()),
                    label: format!("expected a `{}` block in this file", kind.keyword()),
                    help: Some(format!("add `{example}`")),
                });
            }
        }
        items
    }

    fn unknown_block(&mut self, block: &Block) {
        let kinds = Kind::ALL.iter().map(|k| k.keyword()).chain(["firewall"]);
        let help = did_you_mean(&block.kind.text, kinds)
            .map(|k| format!("did you mean `{k}`?"))
            .or_else(|| {
                Some("blocks are `stack`, `environment`, `service`, `postgres`, `redis` and `firewall`".into())
            });
        self.err(CheckError::UnknownBlock {
            span: block.kind.span,
            kind: block.kind.text.clone(),
            help,
        });
    }

    /// Builds the model from the sorted items; fields that failed get placeholders, which is
    /// harmless because a model with errors is never returned.
    fn build(&mut self, items: &Items<'_>) -> Option<Model> {
        let stack = self.stack(items.stack?);
        let environment = self.environment(items.environment?);
        let stores: Vec<Store> = items
            .stores
            .iter()
            .map(|(kind, b)| self.store(*kind, b, &stack.name))
            .collect();
        let mut services = Vec::with_capacity(items.services.len());
        let mut refs = Vec::new();
        for b in &items.services {
            let (svc, svc_refs) = self.service(b, items, &stores);
            services.push(svc);
            refs.push(svc_refs);
        }
        let firewall = rules::firewall(self, items, &services, &stores);
        rules::links(self, items, &services);
        rules::essential(self, items, &services);
        rules::ports(self, &items.services, &services);
        rules::memory(self, items, &environment, &services);
        rules::references(self, items, &environment, &services, &stores, &refs, &firewall);
        (items.services.len() == services.len()).then_some(Model {
            stack,
            environment,
            services,
            stores,
            firewall: firewall.model,
        })
    }

    fn finish(mut self, model: Option<Model>) -> Checked {
        self.errors.sort_by_key(|e| (primary_span(e).start, primary_span(e).end));
        self.errors.dedup();
        let has_error = self
            .errors
            .iter()
            .any(|e| !matches!(e, CheckError::Unused { .. }));
        Checked {
            model: if has_error { None } else { model },
            errors: self.errors,
        }
    }
}

/// The attributes and nested blocks of a block, split.
pub(crate) fn entries(block: &Block) -> (Vec<&ast::Attr>, Vec<&ast::Nested>) {
    let mut attrs = Vec::new();
    let mut nested = Vec::new();
    for e in &block.entries {
        match e {
            Entry::Attr(a) => attrs.push(a),
            Entry::Nested(n) => nested.push(n),
        }
    }
    (attrs, nested)
}

/// The span a diagnostic is sorted and reported by: its first label.
pub fn primary_span(e: &CheckError) -> Span {
    use miette::Diagnostic;
    e.labels()
        .and_then(|mut l| l.next())
        .map(|l| Span::new(l.offset(), l.offset() + l.len()))
        .unwrap_or_default()
}

/// A reference written in a service's env, kept for the cross-block rules.
#[derive(Clone, Debug)]
pub(crate) struct EnvRef {
    pub key: Ident,
    /// Index into the model's stores.
    pub store: usize,
    pub export: Export,
    /// The whole `store.attr` value.
    pub span: Span,
}
