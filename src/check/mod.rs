//! Check: [`ast::File`] → [`Model`] plus every problem found, sorted by position. Pure, no IO.
//!
//! The checker never stops at the first problem: each pass works on what the earlier ones
//! could make sense of, and the model is returned only when no error was found. One mistake
//! gives one diagnostic: a pass skips what an earlier pass already reported (an attribute
//! that failed to read, a block of unknown kind, a broken firewall rule), so that no error is
//! the echo of another.
//!
//! - [`attrs`]: attribute tables and typed reading of a block's attributes;
//! - [`blocks`]: one block at a time (names, defaults, per-block rules);
//! - [`rules`]: rules across blocks (links, ports, memory, firewall, references);
//! - [`lints`]: security and hygiene rules on a checked program, run by [`crate::compile_with`].

pub mod attrs;
mod blocks;
pub mod build;
pub mod envs;
mod error;
pub mod explain;
pub mod instances;
pub mod lints;
mod model;
pub mod names;
mod rules;
mod suggest;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use smallvec::SmallVec;

use crate::syntax::ast::{self, Block, CompactString, Entry, Ident, Item, Span};

/// Host ports ECS keeps for itself (SSH, Docker's remote API, the ECS agent).
pub const RESERVED_HOST_PORTS: [u16; 6] = [22, 2375, 2376, 51678, 51679, 51680];

/// The host ports the services may map: a container instance reserves at most 100 ports,
/// ECS's own 6 included ("PortMapping", Amazon ECS API Reference).
pub const MAX_HOST_PORTS: usize = 100 - RESERVED_HOST_PORTS.len();

/// An ECS task definition holds at most this many containers ("Containers per task
/// definition", Amazon ECS service quotas; not adjustable).
pub const MAX_CONTAINERS: usize = 10;

/// Elastic Beanstalk's environment properties take at most this many bytes, counted as
/// `KEY=value` ("eb setenv", AWS Elastic Beanstalk Developer Guide).
pub const MAX_ENV_BYTES: usize = 4096;

pub use attrs::Kind;
pub use build::{PathKind, paths};
pub use error::{Bigger, CheckError, MapFix, PathProblem, SecretFix};
pub use model::*;
pub use suggest::did_you_mean;

/// The outcome of checking: the model when there is no error, and all diagnostics.
#[derive(Debug)]
pub struct Checked {
    pub model: Option<Model>,
    pub errors: Vec<CheckError>,
}

/// Checks a parsed file that is one environment's program (see [`envs`]): the only program
/// of a file with one environment.
pub fn check(file: &ast::File) -> Checked {
    check_program(file, &[], None)
}

/// Checks one environment's program; `environments` names every environment of the file.
/// With several, the names derived from the program hold the environment's name; for a
/// preview, `instance` (of the program's template environment) holds the names instead.
pub fn check_program(file: &ast::File, environments: &[String], instance: Option<&str>) -> Checked {
    let mut cx = Cx {
        several: environments.len() > 1,
        instance: instance.map(str::to_owned),
        ..Cx::default()
    };
    let items = cx.collect(file);
    let mut model = cx.build(&items);
    if let Some(m) = &mut model {
        if !environments.is_empty() {
            m.environments = environments.to_vec();
        }
    }
    cx.finish(model)
}

/// Shared state of one check run.
#[derive(Default)]
pub(crate) struct Cx {
    pub errors: Vec<CheckError>,
    /// Comparisons left for did-you-mean suggestions: a file with thousands of misspelled
    /// names must not make the checker quadratic, so suggestions stop when this runs out.
    suggest_budget: Option<usize>,
    /// What the environment block's reading found, for the cross-block rules.
    pub env_facts: EnvFacts,
    /// The file has several environments: derived names hold the environment's.
    pub several: bool,
    /// The preview being checked, an instance of the template: derived names hold its name.
    pub instance: Option<String>,
}

/// Facts about the environment block that the model does not keep.
#[derive(Default)]
pub(crate) struct EnvFacts {
    /// `instance_type` is absent or a valid instance type (so its memory can be trusted).
    pub instance_type_ok: bool,
    /// `execution_role` is set, or was written and already reported as wrong.
    pub role_known: bool,
    /// Where `tier = load_balanced` is written, when it is.
    pub load_balanced: Option<Span>,
    /// The environment is a template for previews (`template = true`).
    pub template: bool,
}

/// How many name comparisons one check run spends on suggestions at most.
const SUGGEST_BUDGET: usize = 200_000;

/// From this many services on, they are checked on several threads, in this many slices.
const PARALLEL_SERVICES: usize = 2_000;
const SERVICE_SLICES: usize = 4;

/// The blocks of a file, sorted by kind, after the namespace was checked.
#[derive(Default)]
pub(crate) struct Items<'a> {
    pub stack: Option<&'a Block>,
    pub environment: Option<&'a Block>,
    pub services: Vec<&'a Block>,
    /// Postgres and redis blocks, in source order.
    pub stores: Vec<(Kind, &'a Block)>,
    /// Every firewall block (a second one is reported, but its rules still count).
    pub firewalls: Vec<&'a ast::Firewall>,
    /// Every item name → its kind, where it is defined, and its index among the blocks of its
    /// kind (`services`, `stores`), which is also its index in the model.
    pub names: HashMap<&'a str, (Kind, Span, usize)>,
    /// Names of blocks whose kind is unknown (already reported): references to them are not
    /// reported again.
    pub unknown: HashSet<&'a str>,
    /// The blocks of unknown kind, whose store references still count as reads.
    pub unknown_blocks: Vec<&'a Block>,
}

impl Items<'_> {
    /// The index of the service called `name` in `services` and in the model's services.
    pub fn service(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some(&(Kind::Service, _, i)) => Some(i),
            _ => None,
        }
    }

    /// The index of the data store called `name` in `stores` and in the model's stores.
    pub fn store(&self, name: &str) -> Option<usize> {
        match self.names.get(name) {
            Some(&(Kind::Postgres | Kind::Redis, _, i)) => Some(i),
            _ => None,
        }
    }
}

impl Cx {
    /// The base of the names derived from the program ([`crate::naming::base`]).
    pub(crate) fn base(&self, stack: &str, env: Option<&Environment>) -> String {
        let env = match &self.instance {
            Some(instance) => Some(instance.as_str()),
            None => env
                .filter(|e| self.several || e.template)
                .map(|e| e.name.as_str()),
        };
        crate::naming::base(stack, env)
    }

    fn err(&mut self, e: CheckError) {
        self.errors.push(e);
    }

    /// The closest candidate, within the run's suggestion budget.
    pub(crate) fn closest<'a, I>(&mut self, name: &str, candidates: I) -> Option<&'a str>
    where
        I: IntoIterator<Item = &'a str>,
        I::IntoIter: ExactSizeIterator,
    {
        let candidates = candidates.into_iter();
        let budget = self.suggest_budget.get_or_insert(SUGGEST_BUDGET);
        if *budget < candidates.len() {
            return None;
        }
        *budget -= candidates.len();
        did_you_mean(name, candidates)
    }

    /// Help for an unknown name: the close name, or else the few names there are.
    /// `what` is the kind of name, singular and plural.
    pub(crate) fn name_help(
        &self,
        close: Option<&str>,
        names: &[&str],
        what: (&str, &str),
    ) -> Option<String> {
        let (singular, plural) = what;
        if let Some(c) = close {
            return Some(format!("did you mean `{c}`?"));
        }
        match names {
            [] => Some(format!("there is no {singular} in this file")),
            [one] => Some(format!("the only {singular} is `{one}`")),
            few if few.len() <= 6 => {
                let quoted: Vec<String> = few.iter().map(|n| format!("`{n}`")).collect();
                Some(format!("the {plural} are {}", quoted.join(", ")))
            }
            _ => None,
        }
    }

    /// Sorts blocks by kind, checking block kinds, names, the one namespace and item counts.
    fn collect<'a>(&mut self, file: &'a ast::File) -> Items<'a> {
        let mut items = Items::default();
        // Kinds that a misspelled block probably meant: their absence is not reported again.
        let mut meant: HashSet<&'static str> = HashSet::default();
        for item in &file.items {
            let block = match item {
                Item::Firewall(fw) => {
                    if let Some(first) = items.firewalls.first() {
                        self.err(CheckError::DuplicateName {
                            span: fw.keyword,
                            first: first.keyword,
                            what: "block",
                            name: "firewall".into(),
                            verb: "defined",
                            help: Some(
                                "a file has one firewall block: merge the rules into the first"
                                    .into(),
                            ),
                        });
                    }
                    items.firewalls.push(fw);
                    continue;
                }
                Item::Block(b) => b,
            };
            let Some(kind) = Kind::from_keyword(&block.kind.text) else {
                if let Some(k) = self.unknown_block(block) {
                    meant.insert(k);
                }
                if !items.names.contains_key(block.name.text.as_str()) {
                    items.unknown.insert(&block.name.text);
                }
                items.unknown_blocks.push(block);
                continue;
            };
            if let Some(rule) = names::block_name(&block.name.text) {
                let fixed = names::fix_block_name(&block.name.text);
                self.err(CheckError::InvalidName {
                    span: block.name.span,
                    name: block.name.text.to_string(),
                    what: format!("{} name", kind.keyword()),
                    rule: rule.into(),
                    help: fixed.map(|f| format!("write `{f}`")),
                });
            }
            if let Some((_, first, _)) = items.names.get(block.name.text.as_str()) {
                self.err(CheckError::DuplicateName {
                    span: block.name.span,
                    first: *first,
                    what: "name",
                    name: block.name.text.to_string(),
                    verb: "defined",
                    help: Some("all blocks share one namespace: rename one of them".into()),
                });
                // Its attributes are still checked; the block itself takes no further part.
                self.read_only(kind, block);
                continue;
            }
            let index = match kind {
                Kind::Service => items.services.len(),
                Kind::Postgres | Kind::Redis => items.stores.len(),
                Kind::Stack | Kind::Environment => 0,
            };
            items
                .names
                .insert(&block.name.text, (kind, block.name.span, index));
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
                            self.err(CheckError::DuplicateName {
                                span: block.name.span,
                                first,
                                what: "block",
                                name: kind.keyword().into(),
                                verb: "defined",
                                help: Some(format!(
                                    "a file describes one Elastic Beanstalk {}: remove one of them",
                                    if kind == Kind::Stack {
                                        "application"
                                    } else {
                                        "environment"
                                    }
                                )),
                            });
                            self.read_only(kind, block);
                        }
                        None => *slot = Some(block),
                    }
                }
                Kind::Service => items.services.push(block),
                Kind::Postgres | Kind::Redis => items.stores.push((kind, block)),
            }
        }
        let end = file.items.last().map_or(Span::default(), |i| {
            Span::new(i.span().end as usize, i.span().end as usize)
        });
        if file.items.is_empty() {
            self.err(CheckError::EmptyFile { span: end });
            return items;
        }
        for (kind, present, example) in [
            (Kind::Stack, items.stack.is_some(), "stack my-app { }"),
            (
                Kind::Environment,
                items.environment.is_some(),
                "environment my-app-env { }",
            ),
            (
                Kind::Service,
                !items.services.is_empty(),
                "service web { image = \"nginx\" memory = 128 MiB essential = true }",
            ),
        ] {
            if !present && !meant.contains(kind.keyword()) {
                self.err(CheckError::MissingBlock {
                    span: end,
                    kind: kind.keyword(),
                    article: kind.article(),
                    example,
                });
            }
        }
        items
    }

    /// Reports a block of unknown kind; returns the kind it probably meant.
    fn unknown_block(&mut self, block: &Block) -> Option<&'static str> {
        let kinds = Kind::ALL.iter().map(|k| k.keyword()).chain(["firewall"]);
        let meant = did_you_mean(&block.kind.text, kinds);
        let help = match meant {
            Some(k) => format!("did you mean `{k}`?"),
            None => {
                "blocks are `stack`, `environment`, `service`, `postgres`, `redis` and `firewall`"
                    .into()
            }
        };
        self.err(CheckError::UnknownBlock {
            span: block.kind.span,
            kind: block.kind.text.to_string(),
            help: Some(help),
        });
        meant
    }

    /// Checks only the attributes of a block that takes no further part (a duplicate).
    fn read_only(&mut self, kind: Kind, block: &Block) {
        let (attrs, _) = entries(block);
        attrs::read(kind, &block.name, &attrs, &mut self.errors);
    }

    /// Checks every service block: one at a time, or, in a big file, in a fixed number of
    /// slices on as many threads (services are independent until the cross-block rules).
    /// The slices' errors are appended in source order, and each slice gets an equal share of
    /// the suggestion budget, so the outcome does not depend on the machine's cores.
    fn services<'a>(
        &mut self,
        items: &Items<'a>,
        read_stores: &mut [bool],
    ) -> (Vec<Service>, Vec<ServiceInfo<'a>>) {
        if items.services.len() < PARALLEL_SERVICES {
            items
                .services
                .iter()
                .map(|b| self.service(b, items, read_stores))
                .unzip()
        } else {
            self.services_in_slices(items, read_stores)
        }
    }

    fn services_in_slices<'a>(
        &mut self,
        items: &Items<'a>,
        read_stores: &mut [bool],
    ) -> (Vec<Service>, Vec<ServiceInfo<'a>>) {
        let n = items.services.len();
        let chunk = n.div_ceil(SERVICE_SLICES);
        let total = *self.suggest_budget.get_or_insert(SUGGEST_BUDGET);
        let share = total / SERVICE_SLICES;
        let stores = read_stores.len();
        // Each thread fills its own part of the final vectors: collecting per slice and then
        // concatenating held every service twice at the peak (3 MB of a 3 MB input).
        let mut services: Vec<Option<Service>> = std::iter::repeat_with(|| None).take(n).collect();
        let mut infos: Vec<Option<ServiceInfo<'a>>> =
            std::iter::repeat_with(|| None).take(n).collect();
        let slices: Vec<_> = std::thread::scope(|scope| {
            let handles: Vec<_> = items
                .services
                .chunks(chunk)
                .zip(services.chunks_mut(chunk).zip(infos.chunks_mut(chunk)))
                .map(|(blocks, (service_slots, info_slots))| {
                    scope.spawn(move || {
                        let mut cx = Cx {
                            suggest_budget: Some(share),
                            ..Cx::default()
                        };
                        let mut read = vec![false; stores];
                        let slots = service_slots.iter_mut().zip(info_slots);
                        for (b, (service, info)) in blocks.iter().zip(slots) {
                            let (s, i) = cx.service(b, items, &mut read);
                            *service = Some(s);
                            *info = Some(i);
                        }
                        (cx, read)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        let mut used = 0;
        for (cx, read) in slices {
            self.errors.extend(cx.errors);
            used += share - cx.suggest_budget.unwrap_or(share);
            for (mine, theirs) in read_stores.iter_mut().zip(read) {
                *mine |= theirs;
            }
        }
        self.suggest_budget = Some(total - used);
        // Every slot was filled. `Option<T>` has `T`'s size here (asserted below), so these
        // collect in place; `flatten` would not (it copies into a new vector).
        (
            services.into_iter().map_while(|s| s).collect(),
            infos.into_iter().map_while(|i| i).collect(),
        )
    }

    const _SLOTS_COLLECT_IN_PLACE: () = assert!(
        size_of::<Option<Service>>() == size_of::<Service>()
            && size_of::<Option<ServiceInfo<'static>>>() == size_of::<ServiceInfo<'static>>()
    );

    /// Builds the model from the sorted items; fields that failed get placeholders, which is
    /// harmless because a model with errors is never returned. Every block is checked even
    /// when the file lacks its `stack` or `environment`.
    fn build(&mut self, items: &Items<'_>) -> Option<Model> {
        let stack = items.stack.map(|b| self.stack(b));
        let stack_name = stack.as_ref().map(|s| s.name.as_str());
        let environment = items.environment.map(|b| self.environment(b, stack_name));
        let base = stack_name.map(|s| self.base(s, environment.as_ref()));
        let stores: Vec<Store> = items
            .stores
            .iter()
            .map(|(kind, b)| self.store(*kind, b, base.as_deref()))
            .collect();
        let mut read_stores = vec![false; stores.len()];
        // A misspelled `servce` still reads the stores it names: they are not "unused".
        for b in &items.unknown_blocks {
            for n in entries(b).1 {
                for a in &n.attrs {
                    if let ast::ValueKind::Ref(r) = &a.value.kind {
                        if let Some(i) = items.store(&r.target.text) {
                            read_stores[i] = true;
                        }
                    }
                }
            }
        }
        let (services, infos) = self.services(items, &mut read_stores);
        let firewall = rules::firewall(self, items, &services, &infos);
        rules::links(self, items, &services, &infos);
        rules::essential(self, &services, &infos);
        rules::ports(self, &services, &infos);
        rules::containers(self, items, &infos);
        rules::repositories(self, items, environment.as_ref(), &services, &infos);
        if let (Some(env), Some(block)) = (&environment, items.environment) {
            rules::memory(self, block, env, &services, &infos);
        }
        if let (Some(stack), Some(env)) = (&stack, &environment) {
            rules::https(self, items, stack, env, &firewall.model);
        }
        rules::references(
            self,
            items,
            environment.as_ref(),
            &services,
            &stores,
            &infos,
            &firewall,
            &read_stores,
        );
        let environment = environment?;
        Some(Model {
            stack: stack?,
            environments: vec![environment.name.clone()],
            environment,
            services,
            stores,
            firewall: firewall.model,
        })
    }

    fn finish(mut self, model: Option<Model>) -> Checked {
        self.errors
            .sort_by_key(|e| (primary_span(e).start, primary_span(e).end));
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

/// What a checked service hands to the cross-block rules besides its model: where things
/// were written, and which attributes were valid, so that no rule reports the consequence of
/// an error already reported. Its lists are inline up to two entries (the common case): a big
/// file has one of these per service.
pub(crate) struct ServiceInfo<'a> {
    pub block: &'a Block,
    /// The span of each of the model's port mappings, in the same order.
    pub port_spans: SmallVec<[Span; 2]>,
    /// `ports` is absent or every mapping in it is valid.
    pub ports_ok: bool,
    /// The span of each of the model's links, in the same order.
    pub link_spans: SmallVec<[Span; 2]>,
    /// `essential` is absent or valid.
    pub essential_ok: bool,
    /// Env values that become Elastic Beanstalk environment properties.
    pub bindings: SmallVec<[EnvBinding<'a>; 2]>,
}

/// An env value shared by all containers: a store reference or a `secret("VAR")`.
#[derive(Clone, Debug)]
pub(crate) struct EnvBinding<'a> {
    pub key: &'a Ident,
    pub value: Binding,
    /// The whole value as written.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Binding {
    /// `store.export`; `store` indexes the model's stores.
    Store {
        store: usize,
        export: Export,
    },
    Secret(CompactString),
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::time::{Duration, Instant};

    use super::*;

    /// A big file's services checked in slices on threads give what one at a time gives:
    /// the same services, the same errors in the same order, the same stores read.
    #[test]
    fn services_in_slices_match_one_at_a_time() {
        let mut src = big_program(PARALLEL_SERVICES + 37, |i| format!("s{}", i + 1));
        // Mistakes scattered over the slices: unknown attributes, a misspelled store, a
        // reservation above the limit, a second store read by one service only.
        for (i, mistake) in [
            (3, "memroy = 1 MiB"),
            (1500, "env { X = dbb.host }"),
            (2010, "memory_reservation = 9 MiB"),
            (700, "env { R = cache.host }"),
        ] {
            src = src.replace(
                &format!("service s{i} {{ "),
                &format!("service s{i} {{ {mistake} "),
            );
        }
        src.push_str("redis cache { }\n");
        let parsed = crate::syntax::parse(&src);
        let file = parsed.file.expect("parses");
        let run = |sliced: bool| {
            let mut cx = Cx::default();
            let items = cx.collect(&file);
            let mut read = vec![false; 2];
            let (services, _) = if sliced {
                cx.services_in_slices(&items, &mut read)
            } else {
                items
                    .services
                    .iter()
                    .map(|b| cx.service(b, &items, &mut read))
                    .unzip::<_, _, Vec<_>, Vec<_>>()
            };
            (services, format!("{:?}", cx.errors), read)
        };
        let (one, sliced) = (run(false), run(true));
        assert!(
            one.1.contains("memroy") && one.1.contains("dbb"),
            "{}",
            one.1
        );
        assert_eq!(one.2, vec![true, true]);
        assert_eq!(one, sliced);
    }

    /// A program of `n` services, each linking to the next and reading one store.
    fn big_program(n: usize, link: impl Fn(usize) -> String) -> String {
        let mut src = String::from(
            "stack big { }\nenvironment big-env { instance_type = \"m6i.32xlarge\" }\n",
        );
        for i in 0..n {
            let essential = if i == 0 { "essential = true" } else { "" };
            let _ = writeln!(
                src,
                "service s{i} {{ image = \"x\" memory = 6 MiB {essential} links = [{}] env {{ H = db.host }} }}",
                link(i)
            );
        }
        src.push_str("postgres db { database = \"app\" }\nfirewall { allow db from ");
        let all: Vec<String> = (0..n).map(|i| format!("s{i}")).collect();
        src.push_str(&all.join(", "));
        src.push_str(" }\n");
        src
    }

    fn check_src(src: &str) -> (Checked, Duration) {
        let parsed = crate::syntax::parse(src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors.first());
        let file = parsed.file.expect("the program parses");
        let start = Instant::now();
        let checked = check(&file);
        (checked, start.elapsed())
    }

    #[test]
    fn ten_thousand_services_in_a_chain_check_quickly() {
        let n = 10_000;
        let (checked, took) = check_src(&big_program(n, |i| {
            if i + 1 < n {
                format!("s{}", i + 1)
            } else {
                String::new()
            }
        }));
        // Every rule runs on all the services; the only error is their number (ECS takes 10).
        assert!(
            matches!(checked.errors[..], [CheckError::TooManyContainers { count, .. }] if count == n),
            "{:?}",
            checked.errors.first()
        );
        // Linear rules take milliseconds here; a quadratic one would take far longer.
        assert!(took < Duration::from_secs(5), "checking took {took:?}");
    }

    #[test]
    fn a_ten_thousand_long_link_cycle_is_one_error() {
        let n = 10_000;
        let (checked, _) = check_src(&big_program(n, |i| format!("s{}", (i + 1) % n)));
        // The cycle, and the eleventh service (ECS takes 10).
        let errors: Vec<&CheckError> = checked
            .errors
            .iter()
            .filter(|e| !matches!(e, CheckError::TooManyContainers { .. }))
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "{:?}",
            errors.iter().take(3).collect::<Vec<_>>()
        );
        assert_eq!(checked.errors.len(), 2);
        let CheckError::LinkCycle { cycle, hops, .. } = errors[0] else {
            panic!("expected a link cycle, found {:?}", checked.errors[0]);
        };
        assert!(cycle.starts_with("s0 → s1 → s2"), "{cycle}");
        assert!(cycle.ends_with("s9999 → s0 (10000 services)"), "{cycle}");
        assert!(hops.len() <= 12, "long cycles label their first hops only");
    }

    #[test]
    fn ten_thousand_misspelled_links_do_not_make_suggestions_quadratic() {
        let n = 10_000;
        let (checked, took) = check_src(&big_program(n, |i| format!("z{i}")));
        // Every misspelled link, and the eleventh service (ECS takes 10).
        assert_eq!(checked.errors.len(), n + 1);
        assert!(checked.errors.iter().all(|e| matches!(
            e,
            CheckError::UnknownName { .. } | CheckError::TooManyContainers { .. }
        )));
        assert!(took < Duration::from_secs(5), "checking took {took:?}");
    }
}
