//! The decisions of an import: [`RawApp`] → the `.stack` program, as passes over one
//! [`Plan`], in this order:
//!
//! 1. [`names`]: valid, unique block names, and who answers to which host name;
//! 2. [`stores`]: `postgres`/`redis` services become data stores;
//! 3. [`env`]: every env value that names a store (any key; a host, `host:port` or a URL)
//!    reads the store's exports or becomes an apply-time value; secrets are not copied;
//! 4. [`links`]: `links`, `depends_on` and env values naming another service become ECS
//!    links (no cycles); a dependency on a store makes its service a reader;
//! 5. [`ports`]: the public service, from evidence, serves its web port on host port 80;
//!    every other published port stays closed, with a TODO saying how to open it;
//! 6. [`memory`]: limits and reservations, and the instance type that holds them;
//! 7. [`firewall`]: the public port, and each store to the services that read it;
//! 8. [`program`]: the program, written through `stackc fmt`'s printer.
//!
//! Every decision is a comment in the output, and every value that was dropped or changed is
//! a warning naming its key and line.

mod env;
mod firewall;
mod links;
mod memory;
mod names;
mod ports;
mod program;
mod stores;

use std::collections::HashMap;

use compact_str::CompactString;

use crate::check::{Export, Kind, Protocol};

use super::raw::{RawApp, RawEnv, RawService};
use super::{ImportError, SourceKind, Warnings};

pub struct Options<'a> {
    pub kind: SourceKind,
    pub source_name: &'a str,
    pub project: &'a str,
}

/// What the passes decide, filled in pass by pass.
pub(super) struct Plan<'a> {
    pub app: &'a RawApp,
    /// Each raw service's env, moved out of the app: the env pass consumes it.
    pub envs: Vec<Vec<RawEnv>>,
    pub kind: SourceKind,
    /// The block name of each raw service.
    pub names: Vec<String>,
    pub stack: String,
    pub env_name: String,
    /// Host names (service names, container names, aliases) → raw service.
    pub answers: HashMap<String, usize>,
    /// Raw service → its store, for those that became stores.
    pub store_of: Vec<Option<usize>>,
    pub stores: Vec<Store>,
    /// Raw service → its container, for the others.
    pub svc_of: Vec<Option<usize>>,
    pub svcs: Vec<Svc<'a>>,
    /// The services whose ports the firewall opens to the internet, and why.
    pub public: Vec<usize>,
    pub public_why: String,
    /// Published ports that stay closed.
    pub closed: Vec<ports::Closed>,
    pub instance_type: Option<&'static str>,
    /// The services' memory, MiB.
    pub need_mib: u64,
}

pub(super) struct Store {
    /// Index into `app.services`.
    pub raw: usize,
    pub name: String,
    pub kind: Kind,
    /// From the store service's own env (`POSTGRES_USER`, `POSTGRES_DB`).
    pub username: Option<String>,
    pub database: Option<String>,
    /// From a service that reads it (`DB_USER=...`, a URL), when the store sets none.
    pub seen_username: Option<String>,
    pub seen_database: Option<String>,
    /// Services (indices into `svcs`) that reach it without reading an export: through an
    /// apply-time URL, or a dependency with a host name written in the app.
    pub other_readers: Vec<usize>,
    /// Notes for the store's block.
    pub notes: Vec<String>,
}

/// A service that stays a container.
pub(super) struct Svc<'a> {
    pub raw: &'a RawService,
    pub name: String,
    pub env: Vec<EnvOut>,
    /// Link targets (indices into `svcs`) with where each came from.
    pub links: Vec<(usize, String)>,
    /// Inferred from env values: target, the env key, its line.
    pub inferred: Vec<(usize, String, usize)>,
    /// Host port, container port, protocol.
    pub ports: Vec<(u16, u16, Protocol)>,
    /// Comments for the `ports` line.
    pub ports_comment: Option<String>,
    pub memory: Option<u32>,
    pub reservation: Option<u32>,
    pub memory_comment: Option<String>,
    pub essential: bool,
    pub essential_comment: Option<String>,
    /// Comments at the top of the block.
    pub notes: Vec<String>,
}

/// What an env value becomes.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Out {
    Str(CompactString),
    Int(u64),
    /// `store.export`; `store` indexes `stores`.
    Ref(usize, Export),
    /// `secret("VAR")`: `$VAR` of whoever runs `stackc apply`.
    Secret(CompactString),
}

pub(super) struct EnvOut {
    pub key: CompactString,
    pub value: Out,
    pub comment: Option<String>,
    pub line: usize,
}

/// Converts `app`, whose services' env (moved out of them: [`RawService::env`] is empty here)
/// is `envs`, in the order of `app.services`.
pub fn convert(
    app: &RawApp,
    envs: Vec<Vec<RawEnv>>,
    o: &Options<'_>,
    w: &mut Warnings,
) -> Result<String, ImportError> {
    if app.services.is_empty() {
        return Err(ImportError {
            line: None,
            message: "the file defines no services".into(),
        });
    }
    let mut plan = Plan {
        app,
        envs,
        kind: o.kind,
        names: Vec::new(),
        stack: String::new(),
        env_name: String::new(),
        answers: HashMap::new(),
        store_of: vec![None; app.services.len()],
        stores: Vec::new(),
        svc_of: vec![None; app.services.len()],
        svcs: Vec::new(),
        public: Vec::new(),
        public_why: String::new(),
        closed: Vec::new(),
        instance_type: None,
        need_mib: 0,
    };
    names::assign(&mut plan, o.project, w);
    stores::find(&mut plan, w)?;
    if plan.svcs.len() > crate::check::MAX_CONTAINERS {
        w.general(format!(
            "{} services become containers, but an ECS task definition holds at most {}: the program does not check (`stack::too_many_containers`) until its services are split into two stacks",
            plan.svcs.len(),
            crate::check::MAX_CONTAINERS
        ));
    }
    env::rewire(&mut plan, w);
    links::resolve(&mut plan, w);
    ports::choose(&mut plan, w);
    memory::size(&mut plan, w);
    let rules = firewall::rules(&plan, w);
    Ok(program::write(&mut plan, o.source_name, &rules, w))
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Names in backquotes: `` `a`, `b` and `c` ``.
pub(super) fn quoted(names: impl IntoIterator<Item = impl AsRef<str>>) -> String {
    let items: Vec<String> = names
        .into_iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect();
    and_list(&items)
}
