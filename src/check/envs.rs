//! Several environments in one file. An `environment` block may override attributes of the
//! services and stores for itself, with a nested block named after the item:
//!
//! ```stack
//! environment production {
//!   instance_type = "t3.medium"
//!   db     { class = "db.t3.medium"  multi_az = true }
//!   server { memory = 256 MiB }
//! }
//! ```
//!
//! Each environment's program is the file with that one `environment` block (without its
//! override blocks) and with its overrides written into the blocks they name, an override
//! replacing the item's attribute of the same key (or adding it); a service's image source is
//! one choice, so an override of `image` or `build` replaces whichever of the two (or the
//! `build { }` block) the service has. Each program is then checked
//! in full, on its own, by the one checker ([`crate::compile_with`] merges what the checks say).
//! Here: which programs there are, and the mistakes only several environments can make (an
//! override naming no service or store, two environments of one name, a store identifier or
//! a domain two of them would share).

use std::borrow::Cow;

use rustc_hash::FxHashMap as HashMap;

use super::attrs::BUILD_BLOCK;
use super::{CheckError, Kind, did_you_mean};
use crate::syntax::ast::{self, Block, Entry, Item, Span};

/// One environment's program.
#[derive(Debug)]
pub struct Program<'a> {
    /// The environment's name; None when the file has no `environment` block.
    pub env: Option<String>,
    pub file: Cow<'a, ast::File>,
}

/// The programs of a file, in the source order of their environments.
#[derive(Debug)]
pub struct Resolution<'a> {
    pub programs: Vec<Program<'a>>,
    /// The names of the environments, in source order (as the models list them).
    pub names: Vec<String>,
    pub errors: Vec<CheckError>,
}

fn is_environment(item: &Item) -> Option<&Block> {
    match item {
        Item::Block(b) if b.kind.text == Kind::Environment.keyword() => Some(b),
        _ => None,
    }
}

/// The kind of an item that an override may name: a service or a store.
fn overridable(block: &Block) -> Option<Kind> {
    match Kind::from_keyword(&block.kind.text)? {
        k @ (Kind::Service | Kind::Postgres | Kind::Redis) => Some(k),
        _ => None,
    }
}

/// The programs of `file`. A file with one environment and no override keeps its text as it
/// is (no copy: a big file is checked once, as before environments had overrides).
pub fn resolve(file: &ast::File) -> Resolution<'_> {
    let mut errors = Vec::new();
    let mut envs: Vec<&Block> = Vec::new();
    for block in file.items.iter().filter_map(is_environment) {
        match envs.iter().find(|e| e.name.text == block.name.text) {
            Some(first) => errors.push(CheckError::DuplicateName {
                span: block.name.span,
                first: first.name.span,
                what: "environment",
                name: block.name.text.to_string(),
                verb: "defined",
                help: Some("each environment of a file has its own name: rename one".into()),
            }),
            None => envs.push(block),
        }
    }
    let names: Vec<String> = envs.iter().map(|e| e.name.text.to_string()).collect();
    let items: HashMap<&str, &Block> = file
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Block(b) if overridable(b).is_some() => Some((b.name.text.as_str(), b)),
            _ => None,
        })
        .collect();
    for env in &envs {
        for n in nested(env) {
            if !items.contains_key(n.name.text.as_str()) {
                let help = match did_you_mean(&n.name.text, items.keys().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None => "an environment overrides attributes of a service or a data store, \
                             in a block named after it"
                        .to_string(),
                };
                errors.push(CheckError::UnknownName {
                    span: n.name.span,
                    what: "service or data store",
                    name: n.name.text.to_string(),
                    help: Some(help),
                });
            }
        }
    }
    if envs.len() > 1 {
        shared_identifiers(file, &envs, &mut errors);
        shared_domains(&envs, &mut errors);
    }
    let programs = match envs.as_slice() {
        [] => vec![Program {
            env: None,
            file: Cow::Borrowed(file),
        }],
        [only] if nested(only).next().is_none() && !has_duplicates(file) => vec![Program {
            env: Some(only.name.text.to_string()),
            file: Cow::Borrowed(file),
        }],
        _ => envs
            .iter()
            .map(|env| Program {
                env: Some(env.name.text.to_string()),
                file: Cow::Owned(program(file, env)),
            })
            .collect(),
    };
    Resolution {
        programs,
        names,
        errors,
    }
}

/// A written store identifier that two environments would share: each has its own stores.
fn shared_identifiers(file: &ast::File, envs: &[&Block], errors: &mut Vec<CheckError>) {
    fn identifier<'a>(mut attrs: impl Iterator<Item = &'a ast::Attr>) -> Option<(String, Span)> {
        attrs
            .find(|a| a.key.text == "identifier")
            .and_then(|a| match &a.value.kind {
                ast::ValueKind::Str(s) => Some((s.to_string(), a.value.span)),
                _ => None,
            })
    }
    for item in &file.items {
        let Item::Block(store) = item else { continue };
        let kind = match overridable(store) {
            Some(Kind::Postgres) => "RDS identifier",
            Some(Kind::Redis) => "ElastiCache identifier",
            _ => continue,
        };
        let base = identifier(store.entries.iter().filter_map(|e| match e {
            Entry::Attr(a) => Some(a),
            Entry::Nested(_) => None,
        }));
        // Each environment's identifier, where it was written (the override, or the block).
        let mut seen: HashMap<String, (&str, Span)> = HashMap::default();
        for env in envs {
            let own = nested(env)
                .filter(|n| n.name.text == store.name.text)
                .find_map(|n| identifier(n.attrs.iter()));
            let Some((id, span)) = own.or_else(|| base.clone()) else {
                continue;
            };
            match seen.get(&id.to_ascii_lowercase()) {
                Some((first_env, first)) => errors.push(CheckError::SharedIdentifier {
                    span,
                    first: (*first != span).then_some(*first),
                    kind,
                    identifier: id,
                    store: store.name.text.to_string(),
                    first_env: first_env.to_string(),
                    env: env.name.text.to_string(),
                }),
                None => {
                    seen.insert(id.to_ascii_lowercase(), (&env.name.text, span));
                }
            }
        }
    }
}

/// A `domain` written in two environments: its alias record can point at one load balancer.
fn shared_domains(envs: &[&Block], errors: &mut Vec<CheckError>) {
    let mut seen: HashMap<String, (&str, Span)> = HashMap::default();
    for env in envs {
        let Some((domain, span)) = env.entries.iter().find_map(|e| match e {
            Entry::Attr(a) if a.key.text == "domain" => match &a.value.kind {
                ast::ValueKind::Str(s) => Some((s.to_string(), a.value.span)),
                _ => None,
            },
            _ => None,
        }) else {
            continue;
        };
        // DNS names are not case-sensitive.
        let key = domain.to_ascii_lowercase();
        match seen.get(&key) {
            Some((first_env, first)) => errors.push(CheckError::SharedDomain {
                span,
                first: *first,
                domain,
                first_env: first_env.to_string(),
                env: env.name.text.to_string(),
            }),
            None => {
                seen.insert(key, (&env.name.text, span));
            }
        }
    }
}

/// Whether a file holds a second environment of a name already used (left out of programs).
fn has_duplicates(file: &ast::File) -> bool {
    file.items.iter().filter_map(is_environment).count() > 1
}

fn nested(block: &Block) -> impl Iterator<Item = &ast::Nested> {
    block.entries.iter().filter_map(|e| match e {
        Entry::Nested(n) => Some(n),
        Entry::Attr(_) => None,
    })
}

/// A service's image source, `image` or a build (`build = "DIR"` or a `build { }` block): one
/// choice, so an override of either replaces whichever the service has.
const IMAGE_SOURCE: [&str; 2] = ["image", BUILD_BLOCK];

/// Whether an override that writes the keys `written` replaces the item's `key`.
fn replaced(written: &[&str], key: &str) -> bool {
    written.contains(&key)
        || (IMAGE_SOURCE.contains(&key) && IMAGE_SOURCE.iter().any(|k| written.contains(k)))
}

/// The file as environment `env` sees it.
fn program(file: &ast::File, env: &Block) -> ast::File {
    let overrides: HashMap<&str, &ast::Nested> =
        nested(env).map(|n| (n.name.text.as_str(), n)).collect();
    let items = file
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Block(b) if is_environment(item).is_some() => {
                // This environment, without its override blocks; no other.
                std::ptr::eq(b, env).then(|| {
                    Item::Block(Block {
                        entries: b
                            .entries
                            .iter()
                            .filter(|e| matches!(e, Entry::Attr(_)))
                            .cloned()
                            .collect(),
                        ..b.clone()
                    })
                })
            }
            Item::Block(b) if overridable(b).is_some() => {
                let Some(o) = overrides.get(b.name.text.as_str()) else {
                    return Some(item.clone());
                };
                let written: Vec<&str> = o.attrs.iter().map(|a| a.key.text.as_str()).collect();
                let mut entries: Vec<Entry> = b
                    .entries
                    .iter()
                    .filter(|e| match e {
                        Entry::Attr(a) => !replaced(&written, &a.key.text),
                        Entry::Nested(n) => {
                            !(n.name.text == BUILD_BLOCK && replaced(&written, BUILD_BLOCK))
                        }
                    })
                    .cloned()
                    .collect();
                entries.extend(o.attrs.iter().cloned().map(Entry::Attr));
                Some(Item::Block(Block {
                    entries,
                    ..b.clone()
                }))
            }
            _ => Some(item.clone()),
        })
        .collect();
    ast::File { items }
}
