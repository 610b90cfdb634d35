//! The decisions of an import: [`RawApp`] → a [`Program`] that passes `stackc check`.
//!
//! - Services whose image is `postgres` or `redis` become data stores; the env vars of the
//!   other services that named them (`PGHOST=postgres`, `REDIS_PORT=6379`, ...) read the
//!   store's exports instead, and the firewall lets exactly those services reach the store.
//! - Names are made valid (`[a-z][a-z0-9_-]*`, unique across all blocks).
//! - `links` and `depends_on` become ECS `links` (with link cycles refused), as do env values
//!   that name another service as a host; dependencies on stores are dropped.
//! - Memory comes from `mem_limit`/`mem_reservation`/`deploy.resources`, else a 256 MiB guess
//!   with a TODO; the instance type is the smallest that holds it all.
//! - One service is essential in a compose import (host port 80, else container port 80,
//!   else the first); a Dockerrun keeps its own flags.
//! - The firewall opens the published ports of the public-facing services (a web server
//!   image, or host port 80/443; else the essential one) to the internet, and lists the other
//!   published ports as commented-out rules with a TODO.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::check::{Export, Protocol, instances, names};

use super::emit::{Block, Line, Program, size, string, string_list};
use super::raw::{
    EnvLiteral, RawApp, RawService, image_repo_and_tag, interpolates, unescape_dollars,
};
use super::{ImportError, SourceKind, StoreKind, Warnings, store_kind};

pub struct Options<'a> {
    pub kind: SourceKind,
    pub source_name: &'a str,
    pub project: &'a str,
}

/// Host ports ECS keeps for itself (`stack::port_conflict`).
const RESERVED_PORTS: [u16; 6] = [22, 2375, 2376, 51678, 51679, 51680];
/// Memory given to a service that declares none, MiB.
const DEFAULT_MEMORY: u32 = 256;
/// ECS's smallest container memory, and the language's largest, MiB.
const MIN_MEMORY: u32 = 6;
const MAX_MEMORY: u32 = 4 * 1024 * 1024;
/// Images of services that face the internet.
const PUBLIC_IMAGES: [&str; 8] = [
    "nginx",
    "traefik",
    "caddy",
    "httpd",
    "haproxy",
    "envoy",
    "openresty",
    "apache",
];
/// Instance types tried in order, smallest first, for the services' memory.
const INSTANCE_TYPES: [&str; 10] = [
    "t3.small",
    "t3.medium",
    "t3.large",
    "t3.xlarge",
    "t3.2xlarge",
    "m6i.4xlarge",
    "m6i.8xlarge",
    "m6i.16xlarge",
    "r6i.16xlarge",
    "r6i.32xlarge",
];
/// A placeholder ARN, for the execution role a managed password needs.
const PLACEHOLDER_ROLE: &str = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole";

/// Env keys that mean a store export, by store kind.
const KEYS: [(&str, StoreKind, Export); 28] = [
    ("PGHOST", StoreKind::Postgres, Export::Host),
    ("POSTGRES_HOST", StoreKind::Postgres, Export::Host),
    ("POSTGRES_HOSTNAME", StoreKind::Postgres, Export::Host),
    ("DB_HOST", StoreKind::Postgres, Export::Host),
    ("DATABASE_HOST", StoreKind::Postgres, Export::Host),
    ("PGPORT", StoreKind::Postgres, Export::Port),
    ("POSTGRES_PORT", StoreKind::Postgres, Export::Port),
    ("DB_PORT", StoreKind::Postgres, Export::Port),
    ("DATABASE_PORT", StoreKind::Postgres, Export::Port),
    ("PGUSER", StoreKind::Postgres, Export::Username),
    ("POSTGRES_USER", StoreKind::Postgres, Export::Username),
    ("DB_USER", StoreKind::Postgres, Export::Username),
    ("DB_USERNAME", StoreKind::Postgres, Export::Username),
    ("DATABASE_USER", StoreKind::Postgres, Export::Username),
    ("PGDATABASE", StoreKind::Postgres, Export::Database),
    ("POSTGRES_DB", StoreKind::Postgres, Export::Database),
    ("POSTGRES_DATABASE", StoreKind::Postgres, Export::Database),
    ("DB_NAME", StoreKind::Postgres, Export::Database),
    ("DB_DATABASE", StoreKind::Postgres, Export::Database),
    ("DATABASE_NAME", StoreKind::Postgres, Export::Database),
    ("PGPASSWORD", StoreKind::Postgres, Export::Password),
    ("POSTGRES_PASSWORD", StoreKind::Postgres, Export::Password),
    ("DB_PASSWORD", StoreKind::Postgres, Export::Password),
    ("DB_PASS", StoreKind::Postgres, Export::Password),
    ("DATABASE_PASSWORD", StoreKind::Postgres, Export::Password),
    ("REDIS_HOST", StoreKind::Redis, Export::Host),
    ("REDIS_HOSTNAME", StoreKind::Redis, Export::Host),
    ("REDIS_PORT", StoreKind::Redis, Export::Port),
];

fn export_for(key: &str) -> Option<(StoreKind, Export)> {
    KEYS.iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, kind, e)| (*kind, *e))
}

/// Keys that can only mean a postgres or redis store (unlike `DB_HOST`, which may be MySQL's).
fn unambiguous(key: &str) -> bool {
    key.starts_with("PG") || key.starts_with("POSTGRES_") || key.starts_with("REDIS_")
}

/// What an env value becomes.
#[derive(Clone, Debug, PartialEq)]
enum Out {
    Str(String),
    Int(u64),
    /// `store.export`; `store` indexes `stores`.
    Ref(usize, Export),
    /// `secret("VAR")`, VAR being the key itself.
    Secret(String),
}

struct EnvOut {
    key: String,
    value: Out,
    comment: Option<String>,
    line: usize,
}

struct Store {
    /// Index into `app.services`.
    raw: usize,
    name: String,
    kind: StoreKind,
    /// From the store service's own env (`POSTGRES_USER`, `POSTGRES_DB`).
    username: Option<String>,
    database: Option<String>,
    /// From the env of a service that reads it (`PGUSER=...`), when the store sets none.
    seen_username: Option<String>,
    seen_database: Option<String>,
    /// Services that reach it through a URL env value (`DATABASE_URL=postgres://...@db/app`).
    url_readers: Vec<usize>,
}

/// A service that stays a container.
struct Svc<'a> {
    raw: &'a RawService,
    name: String,
    env: Vec<EnvOut>,
    /// Link targets (indices into `svcs`) with where each came from.
    links: Vec<(usize, String)>,
    /// Inferred from env values: target and the env key.
    inferred: Vec<(usize, String, usize)>,
    ports: Vec<(u16, u16, Protocol, bool)>,
    memory: Option<u32>,
    reservation: Option<u32>,
    notes: Vec<String>,
    memory_comment: Option<String>,
    essential: bool,
    essential_comment: Option<String>,
}

pub fn convert(app: &RawApp, o: &Options<'_>, w: &mut Warnings) -> Result<Program, ImportError> {
    if app.services.is_empty() {
        return Err(ImportError {
            line: None,
            message: "the file defines no services".into(),
        });
    }
    let kinds: Vec<Option<StoreKind>> = app
        .services
        .iter()
        .map(|s| s.image.as_deref().and_then(store_kind))
        .collect();
    if kinds.iter().all(Option::is_some) {
        return Err(ImportError {
            line: None,
            message: "every service runs postgres or redis, which become data stores: no container would be left to run".into(),
        });
    }

    // ----- Names ---------------------------------------------------------------------------
    // `true` and `false` read as booleans where a name is expected (`links = [true]`).
    let mut taken: HashSet<String> = HashSet::from(["true".to_string(), "false".to_string()]);
    let mut new_names: Vec<String> = Vec::new();
    for s in &app.services {
        let name = unique(&block_name(&s.name, "service"), &mut taken);
        if name != s.name {
            w.add(s.line, format!("service `{}` is named `{name}` (names are lowercase letters, digits, `_` and `-`, unique in the file): containers that reached it as `{}` must use `{name}`", s.name, s.name));
        }
        new_names.push(name);
    }
    let base = app.name.clone().unwrap_or_else(|| o.project.to_string());
    let mut stack_base = block_name(&base, "app").replace('_', "-");
    stack_base.truncate(30);
    let stack_base = stack_base.trim_end_matches('-').to_string();
    let stack = if taken.contains(&stack_base) {
        unique(&format!("{stack_base}-app"), &mut taken)
    } else {
        unique(&stack_base, &mut taken)
    };
    let env_name = unique(&format!("{stack}-env"), &mut taken);

    // Who answers to which name (service names, container names, aliases, link aliases).
    let mut answers: HashMap<String, usize> = HashMap::new();
    for (i, s) in app.services.iter().enumerate() {
        answers.entry(s.name.clone()).or_insert(i);
        answers.entry(new_names[i].clone()).or_insert(i);
        for a in s.aliases.iter().chain(s.hostname.as_ref().map(|(h, _)| h)) {
            answers.entry(a.clone()).or_insert(i);
        }
    }
    for s in &app.services {
        for (target, alias, _) in &s.links {
            if let (Some(a), Some(&t)) = (alias, answers.get(target)) {
                answers.entry(a.clone()).or_insert(t);
            }
        }
    }
    let resolve = |name: &str| answers.get(name).copied();

    // ----- Stores --------------------------------------------------------------------------
    let mut stores: Vec<Store> = Vec::new();
    let mut store_of: Vec<Option<usize>> = vec![None; app.services.len()];
    for (i, s) in app.services.iter().enumerate() {
        let Some(kind) = kinds[i] else { continue };
        let mut st = Store {
            raw: i,
            name: new_names[i].clone(),
            kind,
            username: None,
            database: None,
            seen_username: None,
            seen_database: None,
            url_readers: Vec::new(),
        };
        for e in &s.env {
            match (kind, e.key.as_str()) {
                (StoreKind::Postgres, "POSTGRES_USER") => st.username = e.value.text(),
                (StoreKind::Postgres, "POSTGRES_DB") => st.database = e.value.text(),
                // RDS keeps the password (`password = managed`); a development one is dropped.
                (StoreKind::Postgres, "POSTGRES_PASSWORD" | "POSTGRES_PASSWORD_FILE") => {}
                (StoreKind::Postgres, k) => w.add(
                    e.line,
                    format!(
                        "`{k}` of postgres service `{}` is not carried over to RDS",
                        s.name
                    ),
                ),
                (StoreKind::Redis, k) => w.add(
                    e.line,
                    format!(
                        "`{k}` of redis service `{}` is not carried over to ElastiCache",
                        s.name
                    ),
                ),
            }
        }
        if o.kind == SourceKind::Dockerrun
            && (!s.ports.is_empty()
                || !s.links.is_empty()
                || s.command.is_some()
                || s.memory.is_some())
        {
            w.add(s.line, format!("container `{}` becomes a data store: its ports, links, command and memory are not carried over", s.name));
        }
        store_of[i] = Some(stores.len());
        stores.push(st);
    }
    let store_kinds: Vec<StoreKind> = stores.iter().map(|s| s.kind).collect();
    let only_store = |k: StoreKind| {
        let mut of_kind = store_kinds
            .iter()
            .enumerate()
            .filter(|(_, sk)| **sk == k)
            .map(|(i, _)| i);
        match (of_kind.next(), of_kind.next()) {
            (Some(i), None) => Some(i),
            _ => None,
        }
    };
    let store_named = |value: &str, kind: StoreKind| -> Option<usize> {
        let st = store_of[resolve(value.trim())?]?;
        (store_kinds[st] == kind).then_some(st)
    };

    // ----- Services and their env ----------------------------------------------------------
    let svc_raw: Vec<usize> = (0..app.services.len())
        .filter(|i| kinds[*i].is_none())
        .collect();
    let svc_index = |raw: usize| svc_raw.iter().position(|r| *r == raw);
    let mut svcs: Vec<Svc<'_>> = Vec::new();
    for (si, &ri) in svc_raw.iter().enumerate() {
        let s = &app.services[ri];
        let mut todos: Vec<String> = s.todos.iter().map(|t| format!("TODO: {t}")).collect();
        if let Some(what) = s.image.as_deref().and_then(unmanaged_store) {
            w.add(s.line, format!("service `{}` runs {what}, which has no data store in a .stack file: it stays a container on the instance, and its data lasts only as long as the container", s.name));
            todos.push(format!("TODO: {what} has no managed store here: its data is lost when the container stops; move it to a managed service (e.g. Amazon DocumentDB, RDS) and pass its address in `env`"));
        }
        let mut env = Vec::new();
        let mut inferred = Vec::new();
        // Which store this service's host keys name, per kind.
        let mut family: HashMap<StoreKind, usize> = HashMap::new();
        for e in &s.env {
            if let (Some((kind, Export::Host)), Some(v)) = (export_for(&e.key), e.value.text()) {
                if let Some(st) = store_named(&v, kind) {
                    family.entry(kind).or_insert(st);
                }
            }
        }
        for e in &s.env {
            if !names::is_env_key(&e.key) {
                w.add(e.line, format!("env `{}` of service `{}` is not carried over: env keys are letters, digits and `_`, not starting with a digit", e.key, s.name));
                continue;
            }
            let text = e.value.text();
            if let Some((kind, export)) = export_for(&e.key) {
                let vague = text
                    .as_deref()
                    .is_none_or(|t| t.is_empty() || interpolates(t));
                let target = match export {
                    Export::Host => {
                        text.as_deref()
                            .and_then(|v| store_named(v, kind))
                            .or_else(|| {
                                if vague && unambiguous(&e.key) {
                                    only_store(kind)
                                } else {
                                    None
                                }
                            })
                    }
                    _ => family.get(&kind).copied().or_else(|| {
                        if unambiguous(&e.key) {
                            only_store(kind)
                        } else {
                            None
                        }
                    }),
                };
                if let Some(st) = target {
                    if let Some(t) = text.filter(|t| !t.is_empty() && !interpolates(t)) {
                        match export {
                            Export::Username => {
                                stores[st].seen_username.get_or_insert(t);
                            }
                            Export::Database => {
                                stores[st].seen_database.get_or_insert(t);
                            }
                            _ => {}
                        }
                    }
                    env.push(EnvOut {
                        key: e.key.clone(),
                        value: Out::Ref(st, export),
                        comment: None,
                        line: e.line,
                    });
                    continue;
                }
            }
            let url_store = text
                .as_deref()
                .and_then(url_host)
                .and_then(&resolve)
                .and_then(|r| store_of[r]);
            let (value, comment) = match (&e.value, text) {
                (EnvLiteral::PassThrough, _) => (
                    Out::Secret(e.key.clone()),
                    Some(format!(
                        "passed through from the shell: `stackc apply` reads ${}",
                        e.key
                    )),
                ),
                (_, Some(_)) if url_store.is_some() => {
                    let st = url_store.unwrap_or(0);
                    if !stores[st].url_readers.contains(&si) {
                        stores[st].url_readers.push(si);
                    }
                    let (what, export_keys) = match stores[st].kind {
                        StoreKind::Postgres => {
                            ("RDS", "host, port, username, database and password")
                        }
                        StoreKind::Redis => ("ElastiCache", "host and port"),
                    };
                    w.add(e.line, format!("env `{}` of service `{}` is a URL to `{}`, which becomes a store on {what}: set ${} to the new URL when you run `stackc apply`, or have the app read the store's {export_keys}", e.key, s.name, stores[st].name, e.key));
                    (
                        Out::Secret(e.key.clone()),
                        Some(format!(
                            "TODO: was a URL to the service `{}`; give ${} the {what} URL at apply time",
                            app.services[stores[st].raw].name, e.key
                        )),
                    )
                }
                (_, Some(t)) if looks_secret(&e.key) && !t.is_empty() => {
                    w.add(e.line, format!("env `{}` of service `{}` looks secret: its value is not carried over; `stackc apply` reads it from ${}", e.key, s.name, e.key));
                    (
                        Out::Secret(e.key.clone()),
                        Some(format!(
                            "TODO: set ${} when you run `stackc apply` (the compose value is not copied)",
                            e.key
                        )),
                    )
                }
                (lit, Some(t)) => {
                    if interpolates(&t) {
                        w.add(e.line, format!("env `{}` of service `{}` is left as written, `{t}`: compose would substitute the variables from the shell or `.env`", e.key, s.name));
                    }
                    if let Some(target) = referenced_host(&e.key, &t)
                        .and_then(&resolve)
                        .and_then(svc_index)
                    {
                        if target != si {
                            inferred.push((target, format!("env {}", e.key), e.line));
                        }
                    }
                    match lit {
                        EnvLiteral::Int(i) => (Out::Int(*i), None),
                        _ => (Out::Str(unescape_dollars(&t)), None),
                    }
                }
                (_, None) => continue,
            };
            env.push(EnvOut {
                key: e.key.clone(),
                value,
                comment,
                line: e.line,
            });
        }
        svcs.push(Svc {
            raw: s,
            name: new_names[ri].clone(),
            env,
            links: Vec::new(),
            inferred,
            ports: Vec::new(),
            memory: None,
            reservation: None,
            notes: todos,
            memory_comment: None,
            essential: false,
            essential_comment: None,
        });
    }

    // One value per key across services: Elastic Beanstalk hands its environment properties to
    // every container (`stack::env_conflict`).
    let mut bound: HashMap<String, (Out, String)> = HashMap::new();
    for svc in &mut svcs {
        for e in &mut svc.env {
            if !matches!(e.value, Out::Ref(..) | Out::Secret(_)) {
                continue;
            }
            match bound.get(&e.key) {
                None => {
                    bound.insert(e.key.clone(), (e.value.clone(), svc.name.clone()));
                }
                Some((first, owner)) if *first != e.value => {
                    w.add(e.line, format!("env `{}` of service `{}` takes the value it has in `{owner}`: Elastic Beanstalk gives one value per key to every container (rename the key in one of them to keep both)", e.key, svc.name));
                    e.value = first.clone();
                    e.comment = Some(format!(
                        "as in `{owner}`: one value per key on Elastic Beanstalk"
                    ));
                }
                Some(_) => {}
            }
        }
    }
    // A literal for a key that another service binds to a store or a secret: the property
    // reaches this container too (`stack::env_conflict`), so it takes that value.
    for svc in &mut svcs {
        for e in &mut svc.env {
            if matches!(e.value, Out::Ref(..) | Out::Secret(_)) {
                continue;
            }
            if let Some((first, owner)) = bound.get(&e.key) {
                w.add(e.line, format!("env `{}` of service `{}` takes the value it has in `{owner}`: Elastic Beanstalk gives one value per key to every container (rename the key in one of them to keep both)", e.key, svc.name));
                e.value = first.clone();
                e.comment = Some(format!(
                    "as in `{owner}`: one value per key on Elastic Beanstalk"
                ));
            }
        }
    }

    // ----- Links ---------------------------------------------------------------------------
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); svcs.len()];
    let mut store_deps: Vec<Vec<String>> = vec![Vec::new(); svcs.len()];
    let mut wanted: Vec<Vec<(usize, String, usize)>> = vec![Vec::new(); svcs.len()];
    for (si, svc) in svcs.iter().enumerate() {
        let explicit = svc
            .raw
            .links
            .iter()
            .map(|(t, alias, line)| (t, alias.as_deref(), *line, "links"));
        let deps = svc
            .raw
            .depends_on
            .iter()
            .map(|(t, line)| (t, None, *line, "depends_on"));
        for (target, alias, line, source) in explicit.chain(deps) {
            let Some(r) = resolve(target) else {
                w.add(line, format!("`{source}` of service `{}` names `{target}`, which the file does not define; dropped", svc.raw.name));
                continue;
            };
            if let Some(st) = store_of[r] {
                if !store_deps[si].contains(&stores[st].name) {
                    store_deps[si].push(stores[st].name.clone());
                }
                continue;
            }
            if let Some(a) = alias.filter(|a| *a != target.as_str()) {
                w.add(line, format!("the link alias `{a}` of service `{}` is not carried over: the container is reached as `{}`", svc.raw.name, new_names[r]));
            }
            if let Some(t) = svc_index(r) {
                wanted[si].push((t, source.to_string(), line));
            }
        }
    }
    let mut sources: Vec<Vec<(usize, String)>> = vec![Vec::new(); svcs.len()];
    // Declared links first, then those inferred from env values; a link that would close a
    // cycle is refused (`stack::link_cycle`).
    for phase in 0..2 {
        for si in 0..svcs.len() {
            let candidates: Vec<(usize, String, Option<usize>)> = if phase == 0 {
                wanted[si]
                    .iter()
                    .map(|(t, s, l)| (*t, s.clone(), Some(*l)))
                    .collect()
            } else {
                svcs[si]
                    .inferred
                    .iter()
                    .map(|(t, s, l)| (*t, s.clone(), Some(*l)))
                    .collect()
            };
            for (t, source, line) in candidates {
                if t == si {
                    continue;
                }
                if let Some(existing) = sources[si].iter_mut().find(|(x, _)| *x == t) {
                    if phase == 0 && !existing.1.contains(&source) {
                        existing.1 = format!("{}, {source}", existing.1);
                    }
                    continue;
                }
                if reaches(&edges, t, si) {
                    let msg = format!(
                        "service `{}` is not linked to `{}` ({source}): the link would close a cycle, which ECS refuses",
                        svcs[si].name, svcs[t].name
                    );
                    match line {
                        Some(l) => w.add(l, msg),
                        None => w.general(msg),
                    }
                    continue;
                }
                edges[si].push(t);
                sources[si].push((t, source));
            }
        }
    }
    for (si, svc) in svcs.iter_mut().enumerate() {
        svc.links = std::mem::take(&mut sources[si]);
        if !store_deps[si].is_empty() {
            let what = if store_deps[si].len() == 1 {
                "a data store"
            } else {
                "data stores"
            };
            svc.notes.push(format!(
                "compose made it wait for {}: {what} now, reached through env references",
                store_deps[si]
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }

    // ----- Ports ---------------------------------------------------------------------------
    let mut used: HashSet<(u16, Protocol)> = HashSet::new();
    for svc in &mut svcs {
        for p in &svc.raw.ports {
            let host = p.host.unwrap_or(p.container);
            if RESERVED_PORTS.contains(&host) {
                w.add(
                    p.line,
                    format!(
                        "host port {host} of service `{}` is reserved by ECS; not mapped",
                        svc.raw.name
                    ),
                );
                svc.notes.push(format!("TODO: compose published host port {host} (to {}), which ECS reserves: map another host port", p.container));
                continue;
            }
            if !used.insert((host, p.protocol)) {
                w.add(
                    p.line,
                    format!(
                        "host port {host}/{} of service `{}` is mapped already; not mapped twice",
                        p.protocol.as_str(),
                        svc.raw.name
                    ),
                );
                continue;
            }
            svc.ports.push((host, p.container, p.protocol, p.loopback));
        }
    }

    // ----- Memory --------------------------------------------------------------------------
    for svc in &mut svcs {
        let to_mib = |(bytes, line): (u64, usize),
                      what: &str,
                      svc_name: &str,
                      w: &mut Warnings|
         -> u32 {
            let mib = bytes.div_ceil(1 << 20);
            if mib * (1 << 20) != bytes {
                w.add(line, format!("{what} of service `{svc_name}` is not a whole number of MiB; rounded up to {mib} MiB"));
            }
            let clamped = mib.clamp(u64::from(MIN_MEMORY), u64::from(MAX_MEMORY));
            if clamped != mib {
                w.add(line, format!("{what} of service `{svc_name}` is {mib} MiB; ECS takes {MIN_MEMORY} MiB to 4 TiB, so {clamped} MiB"));
            }
            u32::try_from(clamped).unwrap_or(MAX_MEMORY)
        };
        let name = svc.raw.name.clone();
        let memory = svc
            .raw
            .memory
            .map(|m| to_mib(m, "the memory limit", &name, w));
        let mut reservation = svc
            .raw
            .memory_reservation
            .map(|m| to_mib(m, "the memory reservation", &name, w));
        if let (Some(m), Some(r)) = (memory, reservation) {
            if r >= m {
                if let Some((_, line)) = svc.raw.memory_reservation {
                    w.add(line, format!("the memory reservation of service `{name}` ({r} MiB) is not below its limit ({m} MiB); dropped"));
                }
                reservation = None;
            }
        }
        svc.memory = memory;
        svc.reservation = reservation;
        if memory.is_none() && reservation.is_none() {
            svc.memory = Some(DEFAULT_MEMORY);
            svc.memory_comment =
                Some("TODO: a guess, no limit was set; measure with `docker stats`".into());
        }
    }

    // ----- Essential -----------------------------------------------------------------------
    if app.has_essential {
        for svc in &mut svcs {
            svc.essential = svc.raw.essential.unwrap_or(true);
        }
        if !svcs.iter().any(|s| s.essential) {
            svcs[0].essential = true;
            svcs[0].essential_comment = Some("no container was essential; ECS needs one".into());
        }
    } else {
        let host_80 = svcs
            .iter()
            .position(|s| s.ports.iter().any(|p| p.0 == 80 && p.2 == Protocol::Tcp));
        let container_80 = svcs
            .iter()
            .position(|s| s.ports.iter().any(|p| p.1 == 80 && p.2 == Protocol::Tcp));
        let (i, why) = match (host_80, container_80) {
            (Some(i), _) => (i, "it publishes port 80".to_string()),
            (None, Some(i)) => (i, "it serves container port 80".to_string()),
            (None, None) => (
                0,
                "the first service; ECS stops the task when it stops".to_string(),
            ),
        };
        svcs[i].essential = true;
        svcs[i].essential_comment = Some(format!("chosen: {why}"));
    }

    // ----- Firewall ------------------------------------------------------------------------
    let mut public: Vec<usize> = svcs
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            let open = s.ports.iter().filter(|p| !p.3);
            let image_public = looks_like_web_server(s.raw);
            open.clone()
                .any(|p| (p.0 == 80 || p.0 == 443) && p.2 == Protocol::Tcp)
                || (image_public && open.count() > 0)
        })
        .map(|(i, _)| i)
        .collect();
    let public_by_rule = !public.is_empty();
    if public.is_empty() {
        if let Some(i) = svcs
            .iter()
            .position(|s| s.essential && s.ports.iter().any(|p| !p.3))
        {
            public.push(i);
        }
    }
    let mut rules: Vec<Line> = Vec::new();
    for &i in &public {
        let ports: Vec<String> = svcs[i]
            .ports
            .iter()
            .filter(|p| !p.3)
            .map(|p| rule_port(p.0, p.2))
            .collect();
        rules.push(Line {
            key: format!(
                "allow {} from internet to {}",
                ports.join(", "),
                svcs[i].name
            ),
            ..Line::default()
        });
    }
    let mut reads: Vec<Vec<usize>> = vec![Vec::new(); stores.len()];
    for (si, svc) in svcs.iter().enumerate() {
        for e in &svc.env {
            if let Out::Ref(st, _) = e.value {
                if !reads[st].contains(&si) {
                    reads[st].push(si);
                }
            }
        }
    }
    for (st, store) in stores.iter().enumerate() {
        let mut readers: Vec<usize> = reads[st].clone();
        for r in &store.url_readers {
            if !readers.contains(r) {
                readers.push(*r);
            }
        }
        readers.sort_unstable();
        if readers.is_empty() {
            w.add(
                app.services[store.raw].line,
                format!(
                    "no service reads store `{}` through its env; the firewall does not open it",
                    store.name
                ),
            );
            continue;
        }
        let names: Vec<&str> = readers.iter().map(|r| svcs[*r].name.as_str()).collect();
        rules.push(Line {
            key: format!("allow {} from {}", store.name, names.join(", ")),
            ..Line::default()
        });
    }
    let closed: Vec<String> = svcs
        .iter()
        .enumerate()
        .filter(|(i, _)| !public.contains(i))
        .filter_map(|(_, s)| {
            let ports: Vec<String> = s
                .ports
                .iter()
                .filter(|p| !p.3)
                .map(|p| rule_port(p.0, p.2))
                .collect();
            (!ports.is_empty())
                .then(|| format!("allow {} from internet to {}", ports.join(", "), s.name))
        })
        .collect();
    if !closed.is_empty() {
        let mut l = Line::default().with_note(format!(
            "TODO: the {} also published these ports; open them if they must be reachable:",
            source_word(o.kind)
        ));
        l.notes.extend(closed);
        rules.push(l);
    }

    // ----- Environment ---------------------------------------------------------------------
    let need_mib: u64 = svcs
        .iter()
        .map(|s| u64::from(s.reservation.or(s.memory).unwrap_or(0)))
        .sum();
    let instance_type = INSTANCE_TYPES
        .iter()
        .find(|t| instances::memory_mib(t).is_some_and(|m| m >= need_mib))
        .unwrap_or(&INSTANCE_TYPES[INSTANCE_TYPES.len() - 1]);
    let reads_password = svcs.iter().any(|s| {
        s.env
            .iter()
            .any(|e| matches!(e.value, Out::Ref(_, Export::Password)))
    });

    // ----- The program ---------------------------------------------------------------------
    let mut p = Program::default();
    p.header.push(format!(
        "Imported by `stackc import` from {}.",
        o.source_name
    ));
    p.header
        .push("Check it with `stackc check`, and settle every TODO before `stackc apply`.".into());
    p.header.push(String::new());
    if !stores.is_empty() {
        let list: Vec<String> = stores
            .iter()
            .map(|s| {
                let on = match s.kind {
                    StoreKind::Postgres => "postgres on RDS",
                    StoreKind::Redis => "redis on ElastiCache",
                };
                format!("`{}` ({on})", s.name)
            })
            .collect();
        p.header.push(format!(
            "Data stores: {}; the env vars that named them read the store's exports.",
            list.join(", ")
        ));
    }
    p.header.push(match o.kind {
        SourceKind::Compose => "Links: `links` and `depends_on` (and env values naming another service) became ECS links, the only way one container reaches another by name on Elastic Beanstalk; one service is essential.".into(),
        SourceKind::Dockerrun => "Links and essential flags are the Dockerrun's own.".into(),
    });
    let public_names: Vec<String> = public
        .iter()
        .map(|i| format!("`{}`", svcs[*i].name))
        .collect();
    p.header.push(match (public_names.is_empty(), public_by_rule) {
        (true, _) => "Firewall: no service publishes a port to open; each store admits the services that read it.".into(),
        (false, true) => format!(
            "Firewall: the published ports of {} (a web server, or host port 80/443) are open to the internet; each store admits the services that read it.",
            public_names.join(", ")
        ),
        (false, false) => format!(
            "Firewall: the published ports of {}, the essential service, are open to the internet (no web server or host port 80/443 says which service is public); each store admits the services that read it.",
            public_names.join(", ")
        ),
    });

    let mut stack_block = Block {
        kind: "stack",
        name: Some(stack.clone()),
        ..Block::default()
    };
    stack_block.lines.push(
        Line::default()
            .with_note(
                "TODO: the AWS region; without it, the region of your AWS configuration is used",
            )
            .with_note("region = \"us-east-1\""),
    );
    p.blocks.push(stack_block);

    let mut env_block = Block {
        kind: "environment",
        name: Some(env_name),
        ..Block::default()
    };
    env_block.lines.push(
        Line::attr("instance_type", string(instance_type))
            .with_comment(format!("holds the services' {}", size_words(need_mib))),
    );
    match &app.execution_role {
        Some(role) if names::role_arn(role).is_none() => env_block.lines.push(Line::attr("execution_role", string(role))),
        _ if reads_password => env_block.lines.push(
            Line::attr("execution_role", string(PLACEHOLDER_ROLE))
                .with_note("TODO: the ECS task execution role of your account, with which ECS reads the managed password from Secrets Manager (AWS's \"Amazon ECS task execution IAM role\")"),
        ),
        _ => {}
    }
    p.blocks.push(env_block);

    for svc in &svcs {
        p.blocks
            .push(service_block(svc, &svcs, &stores, &stack, o, w));
    }
    for st in &stores {
        p.blocks.push(store_block(st, app, &stack, w));
    }
    if !rules.is_empty() {
        p.blocks.push(Block {
            kind: "firewall",
            lines: rules,
            ..Block::default()
        });
    }
    Ok(p)
}

fn service_block(
    svc: &Svc<'_>,
    svcs: &[Svc<'_>],
    stores: &[Store],
    stack: &str,
    o: &Options<'_>,
    w: &mut Warnings,
) -> Block {
    let raw = svc.raw;
    let mut b = Block {
        kind: "service",
        name: Some(svc.name.clone()),
        ..Block::default()
    };
    let image = match (&raw.image, &raw.build) {
        (Some(image), build) => {
            if interpolates(image) {
                w.add(raw.image_line, format!("the image of service `{}` is left as written, `{image}`: compose would substitute the variables", raw.name));
            }
            let mut l = Line::attr("image", string(&unescape_dollars(image)));
            if let Some(ctx) = build {
                w.add(raw.image_line, format!("service `{}` is built from `{ctx}` by compose: push the image `{image}` to a registry ECS can pull from", raw.name));
                l = l.with_note(format!("TODO: compose builds this image from `{ctx}`: push it to a registry ECS can pull from"));
            }
            l
        }
        (None, build) => {
            let placeholder = format!("{stack}-{}", svc.name);
            let msg = match build {
                Some(ctx) => {
                    w.add(raw.image_line, format!("service `{}` is built from `{ctx}`: its image is a placeholder, `{placeholder}`", raw.name));
                    format!(
                        "TODO: compose builds this image from `{ctx}`: build it, push it to a registry ECS can pull from (ECR, Docker Hub, GHCR) and write its name here"
                    )
                }
                None => {
                    w.add(raw.image_line, format!("service `{}` has no image: its image is a placeholder, `{placeholder}`", raw.name));
                    "TODO: the service has no image: build one, push it to a registry ECS can pull from (ECR, Docker Hub, GHCR) and write its name here".to_string()
                }
            };
            Line::attr("image", string(&placeholder)).with_note(msg)
        }
    };
    let mut lines = vec![image];
    if let Some((h, line)) = &raw.hostname {
        if names::hostname(h).is_none() {
            lines.push(Line::attr("hostname", string(h)));
        } else {
            w.add(
                *line,
                format!(
                    "the hostname `{h}` of service `{}` is not a valid hostname; not carried over",
                    raw.name
                ),
            );
        }
    }
    if svc.essential {
        let mut l = Line::attr("essential", "true".into());
        l.comment = svc.essential_comment.clone();
        lines.push(l);
    }
    if let Some(m) = svc.memory {
        let mut l = Line::attr("memory", size(m));
        if let Some(c) = &svc.memory_comment {
            l = l.with_comment(c.clone());
        }
        lines.push(l);
    }
    if let Some(r) = svc.reservation {
        lines.push(Line::attr("memory_reservation", size(r)));
    }
    if !svc.ports.is_empty() {
        let ports: Vec<String> = svc.ports.iter().map(|p| port_text(p.0, p.1, p.2)).collect();
        let mut l = Line::attr("ports", format!("[{}]", ports.join(", ")));
        let loopback: Vec<String> = svc
            .ports
            .iter()
            .filter(|p| p.3)
            .map(|p| p.0.to_string())
            .collect();
        if !loopback.is_empty() {
            l = l.with_comment(format!(
                "{} bound to localhost in compose: not opened",
                loopback.join(", ")
            ));
        } else if svc.essential
            && !svc.ports.iter().any(|p| p.0 == 80 || p.0 == 443)
            && svc.ports.iter().any(|p| p.1 == 80)
        {
            l = l.with_comment("TODO: Elastic Beanstalk serves port 80; `80:80`?");
        }
        lines.push(l);
    }
    if !svc.links.is_empty() {
        let names: Vec<&str> = svc
            .links
            .iter()
            .map(|(t, _)| svcs[*t].name.as_str())
            .collect();
        let mut why: Vec<String> = Vec::new();
        for (t, s) in &svc.links {
            let s = if s.starts_with("env ") {
                format!("{} for {}", s, svcs[*t].name)
            } else {
                s.clone()
            };
            if !why.contains(&s) {
                why.push(s);
            }
        }
        lines.push(
            Line::attr("links", format!("[{}]", names.join(", ")))
                .with_comment(format!("from {}", why.join("; "))),
        );
    }
    let words = |ws: &[String], what: &str, w: &mut Warnings| -> String {
        if ws.iter().any(|x| interpolates(x)) {
            w.add(raw.line, format!("the {what} of service `{}` is left as written: compose would substitute its variables", raw.name));
        }
        let ws: Vec<String> = ws.iter().map(|x| unescape_dollars(x)).collect();
        string_list(&ws)
    };
    if let Some(c) = &raw.command {
        lines.push(Line::attr("command", words(c, "command", w)));
    }
    if let Some(c) = &raw.entrypoint {
        lines.push(Line::attr("entrypoint", words(c, "entrypoint", w)));
    }
    if let Some(d) = &raw.working_dir {
        lines.push(Line::attr("working_dir", string(&unescape_dollars(d))));
    }
    b.lines = lines;
    b.notes = svc.notes.clone();
    for e in &svc.env {
        let value = match &e.value {
            Out::Str(s) => string(s),
            Out::Int(i) => i.to_string(),
            Out::Ref(st, export) => format!("{}.{}", stores[*st].name, export.as_str()),
            Out::Secret(var) => format!("secret({})", string(var)),
        };
        let mut l = Line::attr(&e.key, value);
        l.comment = e.comment.clone();
        b.env.push(l);
    }
    let _ = o;
    b
}

fn store_block(st: &Store, app: &RawApp, stack: &str, w: &mut Warnings) -> Block {
    let raw = &app.services[st.raw];
    let image = raw.image.clone().unwrap_or_default();
    let (_, tag) = image_repo_and_tag(&image);
    let major: Option<u32> = tag
        .as_deref()
        .and_then(|t| t.split(['.', '-']).next())
        .and_then(|m| m.parse().ok());
    let mut b = Block {
        kind: match st.kind {
            StoreKind::Postgres => "postgres",
            StoreKind::Redis => "redis",
        },
        name: Some(st.name.clone()),
        ..Block::default()
    };
    b.notes
        .push(format!("was the service `{}` (image `{image}`)", raw.name));
    let max = match st.kind {
        StoreKind::Postgres => 63,
        StoreKind::Redis => 50,
    };
    let default_id = format!("{stack}-{}", st.name);
    if names::aws_identifier(&default_id, max).is_some() {
        let fixed =
            names::fix_identifier(&default_id, max).unwrap_or_else(|| format!("{stack}-store"));
        b.lines.push(Line::attr("identifier", string(&fixed)));
    }
    match st.kind {
        StoreKind::Postgres => {
            let user_default = st.username.clone().or_else(|| st.seen_username.clone());
            let database = st
                .database
                .clone()
                .or_else(|| st.seen_database.clone())
                .or_else(|| user_default.clone())
                .unwrap_or_else(|| "postgres".into());
            let database = if names::pg_name(&database, "database").is_none() {
                database
            } else {
                let fixed =
                    names::fix_pg_name(&database, "database").unwrap_or_else(|| "app".into());
                w.add(
                    raw.line,
                    format!("the database name `{database}` is not one RDS takes; named `{fixed}`"),
                );
                fixed
            };
            b.lines.push(Line::attr("database", string(&database)));
            if let Some(u) = user_default {
                if names::pg_name(&u, "user").is_none() {
                    b.lines.push(Line::attr("username", string(&u)));
                } else {
                    w.add(raw.line, format!("the user name `{u}` is not one RDS takes; the default `postgres` is used"));
                }
            }
            if let Some(m) = major {
                let mut l = Line::attr("version", string(&m.to_string())).with_comment(format!(
                    "from the image tag `{}`",
                    tag.as_deref().unwrap_or("")
                ));
                if m < 13 {
                    l = l.with_note("TODO: RDS no longer creates PostgreSQL versions this old: choose 13 or later");
                }
                b.lines.push(l);
            }
            b.lines
                .push(Line::attr("password", "managed".into()).with_comment(
                    "RDS keeps it in Secrets Manager; the compose password is not copied",
                ));
        }
        StoreKind::Redis => match major {
            Some(6) => b
                .lines
                .push(Line::attr("version", string("6.2")).with_comment(format!(
                    "from the image tag `{}`",
                    tag.as_deref().unwrap_or("")
                ))),
            Some(m) if m < 6 => b.notes.push(format!(
                "TODO: the image was redis {m}; ElastiCache runs 6.2 and 7.1 (the default)"
            )),
            _ => {}
        },
    }
    b
}

fn source_word(kind: SourceKind) -> &'static str {
    match kind {
        SourceKind::Compose => "compose file",
        SourceKind::Dockerrun => "Dockerrun.aws.json",
    }
}

/// A web server by its image, or, for a service compose builds, by its name or build folder
/// (`nginx`, `build: ./nginx`).
fn looks_like_web_server(s: &RawService) -> bool {
    let is_web = |word: &str| PUBLIC_IMAGES.contains(&word.to_ascii_lowercase().as_str());
    match &s.image {
        Some(image) => is_web(&image_repo_and_tag(image).0),
        None => {
            is_web(&s.name)
                || s.build.as_deref().is_some_and(|b| {
                    is_web(b.trim_end_matches('/').rsplit('/').next().unwrap_or(b))
                })
        }
    }
}

/// Databases and brokers that have no store kind in the language, by image, in words.
fn unmanaged_store(image: &str) -> Option<&'static str> {
    let (repo, _) = image_repo_and_tag(image);
    Some(match repo.as_str() {
        "mongo" | "mongodb" | "mongodb-community-server" => "MongoDB",
        "mysql" | "mariadb" | "percona" => "MySQL",
        "elasticsearch" | "opensearch" => "a search engine",
        "rabbitmq" => "RabbitMQ",
        "memcached" => "Memcached",
        "cassandra" | "scylla" => "Cassandra",
        "kafka" | "cp-kafka" => "Kafka",
        _ => return None,
    })
}

/// `s` as a block name: lowercase letters, digits, `_` and `-`, starting with a letter.
fn block_name(s: &str, fallback: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
            c
        } else {
            '-'
        };
        if c == '-' && (out.is_empty() || out.ends_with('-')) {
            continue;
        }
        if out.is_empty() && !c.is_ascii_lowercase() {
            continue;
        }
        out.push(c);
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        fallback.to_string()
    } else {
        out
    }
}

/// `base`, or `base-2`, `base-3`, ... the first not taken; marks it taken.
fn unique(base: &str, taken: &mut HashSet<String>) -> String {
    let mut name = base.to_string();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// Whether `from` reaches `to` through `edges`.
fn reaches(edges: &[Vec<usize>], from: usize, to: usize) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n) {
            stack.extend(edges.get(n).into_iter().flatten().copied());
        }
    }
    false
}

/// The host of a URL (`postgres://u:p@db:5432/app` → `db`).
fn url_host(s: &str) -> Option<&str> {
    let (_, rest) = s.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

/// A host an env value names: a URL's host, `name:port`, or the whole value when the key
/// says it is a host (`API_HOST=api`; not `ROLE=worker`).
fn referenced_host<'a>(key: &str, s: &'a str) -> Option<&'a str> {
    if let Some(h) = url_host(s) {
        return Some(h);
    }
    let is_name = |h: &str| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    };
    match s.split_once(':') {
        Some((host, port)) => {
            (is_name(host) && !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()))
                .then_some(host)
        }
        None => {
            let k = key.to_ascii_uppercase();
            let host_key = ["HOST", "ADDR", "SERVER", "UPSTREAM", "BACKEND"]
                .iter()
                .any(|w| k.contains(w));
            (host_key && is_name(s)).then_some(s)
        }
    }
}

/// Whether a key names a secret (`stack::secret_literal`).
fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN"]
        .iter()
        .any(|w| k.contains(w))
}

/// A port mapping as the language writes it.
fn port_text(host: u16, container: u16, protocol: Protocol) -> String {
    let proto = if protocol == Protocol::Udp {
        "/udp"
    } else {
        ""
    };
    if host == container {
        format!("{host}{proto}")
    } else {
        format!("{host}:{container}{proto}")
    }
}

/// A port of a firewall rule.
fn rule_port(port: u16, protocol: Protocol) -> String {
    if protocol == Protocol::Udp {
        format!("{port}/udp")
    } else {
        port.to_string()
    }
}

fn size_words(mib: u64) -> String {
    match u32::try_from(mib) {
        Ok(m) => size(m),
        Err(_) => format!("{mib} MiB"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(block_name("My.API", "x"), "my-api");
        assert_eq!(block_name("9lives", "x"), "lives");
        assert_eq!(block_name("__", "x"), "x");
        assert_eq!(block_name("web_1", "x"), "web_1");
        let mut taken = HashSet::from(["web".to_string()]);
        assert_eq!(unique("web", &mut taken), "web-2");
    }

    #[test]
    fn hosts() {
        assert_eq!(url_host("postgres://u:p@db:5432/app"), Some("db"));
        assert_eq!(url_host("redis://redis:6379/0"), Some("redis"));
        assert_eq!(url_host("http://[::1]:80/"), Some("::1"));
        assert_eq!(referenced_host("X", "api:3000"), Some("api"));
        assert_eq!(referenced_host("X", "http://api:3000/v1"), Some("api"));
        assert_eq!(referenced_host("X", "hello world"), None);
        assert_eq!(referenced_host("ROLE", "worker"), None);
        assert_eq!(referenced_host("API_HOST", "api"), Some("api"));
    }
}
