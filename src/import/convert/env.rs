//! Pass 3: the env of every container. An env value that names a store's service reads the
//! store instead, whatever its key:
//!
//! - a host (`PG_HOST=db`, `HOST=postgres`) becomes `db.host`, and the keys that share its
//!   prefix (`PG_USER`, `PG_DBNAME`, `PG_PASSWORD`) read the matching exports;
//! - `host:port` becomes `db.host` under a key that names a host (`DB_HOST=db:5432`, the
//!   port being the store's), and an apply-time value under any other (`REDIS_ADDR`), since
//!   a `.stack` value cannot join a host and a port;
//! - a URL (`postgres://user:pw@db:5432/app`) becomes an apply-time value, `secret("KEY")`,
//!   with the URL to give it written beside it; the service still reaches the store.
//!
//! Keys of libpq (`PGHOST`), `POSTGRES_*` and `REDIS_*` read the only store of their kind even
//! without a host. Values that are secrets (by key, or a URL with a password) are never
//! copied: they become `secret("KEY")`. A value that names another service (`API=http://api`)
//! links the two. Last, a key holds one value across the containers, as Elastic Beanstalk
//! hands its properties to every container.

use std::collections::HashMap;

use compact_str::CompactString;

use crate::check::{Export, Kind, names};
use crate::fmt::build::representable;
use crate::import::Warnings;
use crate::import::raw::{EnvLiteral, RawEnv};

use super::{EnvOut, Out, Plan};

/// What an env key says its value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    Host,
    /// `host:port`, by convention (`REDIS_ADDR`).
    Address,
    Port,
    Database,
    Username,
    Password,
    Url,
    Other,
}

/// The prefix and role of a key: `PG_HOST` → (`PG`, host), `DB_NAME` → (``, database),
/// `SYMFONY__ENV__DATABASE_USER` → (`SYMFONY_ENV`, username). `DB`/`DATABASE` at the end of
/// the prefix are dropped, so that `DB_HOST`, `DB_NAME` and `DB_USER` share one.
pub(super) fn key_role(key: &str) -> (String, Role) {
    let upper = key.to_ascii_uppercase();
    let libpq = match upper.as_str() {
        "PGHOST" | "PGHOSTADDR" => Some(Role::Host),
        "PGPORT" => Some(Role::Port),
        "PGDATABASE" => Some(Role::Database),
        "PGUSER" => Some(Role::Username),
        "PGPASSWORD" => Some(Role::Password),
        _ => None,
    };
    if let Some(r) = libpq {
        return ("PG".into(), r);
    }
    let mut tokens: Vec<&str> = upper
        .split(['_', '.', '-'])
        .filter(|t| !t.is_empty())
        .collect();
    let Some(last) = tokens.pop() else {
        return (String::new(), Role::Other);
    };
    let word = |t: &str| match t {
        "HOST" | "HOSTNAME" | "SERVER" | "ENDPOINT" => Some(Role::Host),
        "ADDR" | "ADDRESS" => Some(Role::Address),
        "PORT" => Some(Role::Port),
        "DB" | "DATABASE" | "DBNAME" => Some(Role::Database),
        "USER" | "USERNAME" | "LOGIN" => Some(Role::Username),
        "PASSWORD" | "PASS" | "PASSWD" | "PWD" => Some(Role::Password),
        "URL" | "URI" | "DSN" => Some(Role::Url),
        _ => None,
    };
    let role = match last {
        "NAME" if matches!(tokens.last(), Some(&("DB" | "DATABASE"))) => Some(Role::Database),
        t => word(t).or_else(|| t.strip_prefix("DB").and_then(word)),
    };
    let Some(role) = role else {
        return (String::new(), Role::Other);
    };
    while matches!(tokens.last(), Some(&("DB" | "DATABASE"))) {
        tokens.pop();
    }
    (tokens.join("_"), role)
}

/// The kind of store a key's prefix can only mean (`PG_`, `POSTGRES_`, `REDIS_`).
fn prefix_kind(prefix: &str) -> Option<Kind> {
    prefix.split('_').find_map(|t| match t {
        "PG" | "POSTGRES" | "POSTGRESQL" | "PSQL" => Some(Kind::Postgres),
        "REDIS" => Some(Kind::Redis),
        _ => None,
    })
}

fn export_of(role: Role) -> Option<Export> {
    Some(match role {
        Role::Host | Role::Address => Export::Host,
        Role::Port => Export::Port,
        Role::Database => Export::Database,
        Role::Username => Export::Username,
        Role::Password => Export::Password,
        Role::Url | Role::Other => return None,
    })
}

fn exports(kind: Kind, e: Export) -> bool {
    kind.exports().contains(&e.as_str())
}

/// Whether a key names a secret, more widely than `stack::secret_literal` does: also
/// `*PASSWD*`, `*_PWD`, `*_KEY`, credentials and private keys.
pub(super) fn looks_secret(key: &str) -> bool {
    if names::looks_secret(key) {
        return true;
    }
    let upper = key.to_ascii_uppercase();
    let tokens: Vec<&str> = upper.split(['_', '.', '-']).collect();
    upper.contains("PASSWD")
        || upper.contains("CREDENTIAL")
        || upper.contains("PRIVATE")
        || tokens.iter().any(|t| matches!(*t, "PWD" | "PASS"))
        || tokens
            .last()
            .is_some_and(|t| *t == "KEY" || t.ends_with("APIKEY"))
}

/// The parts of a URL: (host, its byte offset, whether it carries a password).
fn url_parts(s: &str) -> Option<(&str, usize, bool)> {
    let scheme_end = s.find("://")?;
    let rest = &s[scheme_end + 3..];
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host_port.split(':').next()?
    };
    if host.is_empty() {
        return None;
    }
    let offset = host.as_ptr() as usize - s.as_ptr() as usize;
    let password = userinfo.is_some_and(|u| u.split_once(':').is_some_and(|(_, p)| !p.is_empty()));
    Some((host, offset, password))
}

/// `user` and `database` of a URL (`postgres://user:pw@db/name?x` → `user`, `name`).
fn url_user_and_path(s: &str) -> (Option<String>, Option<String>) {
    let Some((_, rest)) = s.split_once("://") else {
        return (None, None);
    };
    let (authority, path) = match rest.find(['/', '?', '#']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let user = authority
        .rsplit_once('@')
        .map(|(u, _)| u.split(':').next().unwrap_or(u).to_string())
        .filter(|u| !u.is_empty());
    let db = path
        .strip_prefix('/')
        .map(|p| p.split(['?', '#', '/']).next().unwrap_or("").to_string())
        .filter(|d| !d.is_empty());
    (user, db)
}

/// `host:port` with a numeric port: the host and port.
fn host_and_port(s: &str) -> Option<(&str, u16)> {
    let (h, p) = s.rsplit_once(':')?;
    let port: u16 = p.parse().ok()?;
    (is_host_name(h)).then_some((h, port))
}

fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
}

/// How a value refers to a host: the host, where it is in the value, and how.
#[derive(Clone, Copy, Debug, PartialEq)]
enum HostRef<'a> {
    /// The whole value.
    Bare(&'a str),
    /// `host:port`.
    WithPort(&'a str, u16),
    /// In a URL, at this offset; whether the URL holds a password.
    InUrl(&'a str, usize, bool),
}

impl<'a> HostRef<'a> {
    fn host(self) -> &'a str {
        match self {
            HostRef::Bare(h) | HostRef::WithPort(h, _) | HostRef::InUrl(h, _, _) => h,
        }
    }

    /// The value with the host replaced.
    fn rename(self, value: &str, new: &str) -> String {
        match self {
            HostRef::Bare(_) => new.to_string(),
            HostRef::WithPort(_, p) => format!("{new}:{p}"),
            HostRef::InUrl(h, at, _) => {
                format!("{}{new}{}", &value[..at], &value[at + h.len()..])
            }
        }
    }
}

/// The host a value names: a URL's, `host:port`, or the whole value when the key says it is
/// a host (`API_HOST=api`; not `ROLE=worker`).
fn host_ref<'a>(role: Role, key: &str, s: &'a str) -> Option<HostRef<'a>> {
    if let Some((h, at, pw)) = url_parts(s) {
        return Some(HostRef::InUrl(h, at, pw));
    }
    if let Some((h, p)) = host_and_port(s) {
        return Some(HostRef::WithPort(h, p));
    }
    let upper = key.to_ascii_uppercase();
    let host_key = matches!(role, Role::Host | Role::Address)
        || ["HOST", "ADDR", "SERVER", "UPSTREAM", "BACKEND"]
            .iter()
            .any(|w| upper.contains(w));
    (host_key && is_host_name(s)).then_some(HostRef::Bare(s))
}

pub(super) fn rewire(plan: &mut Plan<'_>, w: &mut Warnings) {
    let store_kinds: Vec<Kind> = plan.stores.iter().map(|s| s.kind).collect();
    let only_store = |k: Kind| {
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
    // Each service's env is consumed here, and freed as it is rewired.
    let envs = std::mem::take(&mut plan.envs);
    for (ri, raw_env) in envs.into_iter().enumerate() {
        let Some(si) = plan.svc_of.get(ri).copied().flatten() else {
            continue;
        };
        // Prefixes whose host key names a store: `DB_HOST=db` makes `DB_*` read `db`.
        let mut family: HashMap<String, usize> = HashMap::new();
        for e in &raw_env {
            let Some(t) = e.value.text() else { continue };
            let (prefix, role) = key_role(&e.key);
            if !matches!(role, Role::Host | Role::Address) {
                continue;
            }
            let store = host_ref(role, &e.key, &t)
                .and_then(|h| plan.answers.get(h.host()))
                .and_then(|&r| plan.store_of[r]);
            if let Some(st) = store {
                family.entry(prefix).or_insert(st);
            }
        }
        let mut env = Vec::with_capacity(raw_env.len());
        for e in &raw_env {
            if let Some(out) = one(plan, si, e, &family, &only_store, w) {
                env.push(out);
            }
        }
        plan.svcs[si].env = env;
    }
    one_value_per_key(plan, w);
}

/// Where an env entry comes from, for messages: `env `KEY`` or ``KEY` (from `.env` line 3)`.
fn origin(e: &RawEnv) -> String {
    match &e.from {
        Some((file, line)) => format!("env `{}` (from `{file}` line {line})", e.key),
        None => format!("env `{}`", e.key),
    }
}

fn one(
    plan: &mut Plan<'_>,
    si: usize,
    e: &RawEnv,
    family: &HashMap<String, usize>,
    only_store: &dyn Fn(Kind) -> Option<usize>,
    w: &mut Warnings,
) -> Option<EnvOut> {
    let svc_name = plan.svcs[si].raw.name.clone();
    let what = origin(e);
    if !names::is_env_key(&e.key) {
        w.add(e.line, format!("{what} of service `{svc_name}` is not carried over: env keys are letters, digits and `_`, not starting with a digit"));
        return None;
    }
    let out = |value: Out, comment: Option<String>| EnvOut {
        key: e.key.clone(),
        value,
        comment,
        line: e.line,
    };
    let (prefix, role) = key_role(&e.key);
    // The store this key's role reads, by its prefix's host key or by its kind.
    // A host key with a value of its own (`REDIS_HOST=cache.example.com`) is that host, not
    // the store; one that names the store is rewired below, by its value.
    let own_host =
        matches!(role, Role::Host | Role::Address) && e.value.text().is_some_and(|t| !t.is_empty());
    let by_key = export_of(role).filter(|_| !own_host).and_then(|export| {
        let st = family
            .get(&prefix)
            .copied()
            .or_else(|| names_kind(&e.key, &prefix).and_then(only_store))?;
        exports(plan.stores[st].kind, export).then_some((st, export))
    });
    let text = match &e.value {
        EnvLiteral::FromShell(var) => {
            if let Some((st, export)) = by_key {
                return Some(out(Out::Ref(st, export), None));
            }
            let comment = format!("compose read ${var} from the shell; `stackc apply` reads it");
            return Some(out(Out::Secret(var.clone()), Some(comment)));
        }
        lit => lit.text().unwrap_or_default(),
    };
    if !representable(&text) {
        w.add(e.line, format!("{what} of service `{svc_name}` holds a control character, which a .stack string cannot: not carried over"));
        return None;
    }
    let href = host_ref(role, &e.key, &text);
    let target = href.and_then(|h| plan.answers.get(h.host()).copied());
    if let (Some(h), Some(r)) = (href, target) {
        if let Some(st) = plan.store_of[r] {
            let store = &plan.stores[st];
            let (kind, name) = (store.kind, store.name.clone());
            let port = kind.store_port().unwrap_or_default();
            let on = if kind == Kind::Postgres {
                "RDS"
            } else {
                "ElastiCache"
            };
            match h {
                HostRef::Bare(_)
                    if matches!(
                        role,
                        Role::Database | Role::Username | Role::Password | Role::Port
                    ) => {}
                HostRef::Bare(_) => return Some(out(Out::Ref(st, Export::Host), None)),
                HostRef::WithPort(_, p) if role == Role::Host => {
                    if p != port {
                        w.add(e.line, format!("{what} of service `{svc_name}` is `{text}`: the store `{name}` listens on {port}, not {p}; it reads `{name}.host` and the port is dropped"));
                    }
                    return Some(out(
                        Out::Ref(st, Export::Host),
                        Some(format!("was `{text}`: {on} listens on {port}, the default")),
                    ));
                }
                HostRef::WithPort(..) => {
                    plan.stores[st].other_readers.push(si);
                    w.add(e.line, format!("{what} of service `{svc_name}` is `{text}`, an address of store `{name}`: a .stack value cannot join a host and a port, so it is read at apply time: set ${} to the store's host and `:{port}`", e.key));
                    return Some(out(
                        Out::Secret(e.key.clone()),
                        Some(format!(
                            "TODO: was `{text}`: give ${} the address `HOST:{port}` of `{name}` on {on} at apply time (after the store exists)",
                            e.key
                        )),
                    ));
                }
                HostRef::InUrl(..) => {
                    let (user, db) = url_user_and_path(&text);
                    let store = &mut plan.stores[st];
                    store.other_readers.push(si);
                    if kind == Kind::Postgres {
                        if store.seen_username.is_none() {
                            store.seen_username = user.clone();
                        }
                        if store.seen_database.is_none() {
                            store.seen_database = db.clone();
                        }
                    }
                    let scheme = text.split("://").next().unwrap_or("");
                    let shape = match kind {
                        Kind::Postgres => format!(
                            "{scheme}://{}:PASSWORD@HOST:{port}/{}",
                            user.as_deref().unwrap_or("USER"),
                            db.as_deref().unwrap_or("DATABASE")
                        ),
                        _ => format!("{scheme}://HOST:{port}"),
                    };
                    w.add(e.line, format!("{what} of service `{svc_name}` is a URL to `{name}`, which becomes a store on {on}: a .stack value cannot build a URL from the store's exports, so ${} is read at apply time (the service still reaches the store)", e.key));
                    let password = if kind == Kind::Postgres {
                        " (the password RDS keeps in Secrets Manager)"
                    } else {
                        ""
                    };
                    return Some(out(
                        Out::Secret(e.key.clone()),
                        Some(format!(
                            "TODO: give ${} the URL `{shape}` of `{name}`{password} at apply time",
                            e.key
                        )),
                    ));
                }
            }
        }
    }
    if let Some((st, export)) = by_key {
        let store = &mut plan.stores[st];
        let mut comment = None;
        match export {
            Export::Database if !text.is_empty() && store.seen_database.is_none() => {
                store.seen_database = Some(text.clone());
            }
            Export::Username if !text.is_empty() && store.seen_username.is_none() => {
                store.seen_username = Some(text.clone());
            }
            Export::Port => {
                let port = store.kind.store_port().unwrap_or_default().to_string();
                if !text.is_empty() && text != port {
                    comment = Some(format!("was `{text}`: the store listens on {port}"));
                }
            }
            _ => {}
        }
        return Some(out(Out::Ref(st, export), comment));
    }
    if !text.is_empty() && looks_secret(&e.key) {
        w.add(e.line, format!("{what} of service `{svc_name}` looks secret: its value is not carried over; `stackc apply` reads it from ${}", e.key));
        return Some(out(
            Out::Secret(e.key.clone()),
            Some(format!(
                "TODO: set ${} when you run `stackc apply` (the value is not copied)",
                e.key
            )),
        ));
    }
    if let Some(HostRef::InUrl(_, _, true)) = href {
        w.add(e.line, format!("{what} of service `{svc_name}` is a URL with a password: its value is not carried over; `stackc apply` reads it from ${}", e.key));
        return Some(out(
            Out::Secret(e.key.clone()),
            Some(format!(
                "TODO: set ${} when you run `stackc apply` (the URL holds a password, which is not copied)",
                e.key
            )),
        ));
    }
    let mut value = text.clone();
    let mut comment = None;
    if let (Some(h), Some(r)) = (href, target) {
        if let Some(t) = plan.svc_of[r] {
            if t != si {
                plan.svcs[si]
                    .inferred
                    .push((t, format!("env {}", e.key), e.line));
            }
            let new = &plan.names[r];
            if h.host() != new {
                value = h.rename(&text, new);
                comment = Some(format!("was `{text}`: the container is reached as `{new}`"));
                w.add(e.line, format!("{what} of service `{svc_name}` names `{}`, which is reached as `{new}` on Elastic Beanstalk: written `{value}`", h.host()));
            }
        }
    }
    Some(out(
        match &e.value {
            EnvLiteral::Int(i) if value == text => Out::Int(*i),
            _ => Out::Str(value.into()),
        },
        comment,
    ))
}

/// The store kind a key can only mean: libpq's keys, and `POSTGRES_*`, `REDIS_*`.
fn names_kind(key: &str, prefix: &str) -> Option<Kind> {
    if key.to_ascii_uppercase().starts_with("PG") && prefix == "PG" {
        return Some(Kind::Postgres);
    }
    prefix_kind(prefix)
}

/// One value per key across services: Elastic Beanstalk hands its environment properties
/// (store exports and secrets) to every container (`stack::env_conflict`).
fn one_value_per_key(plan: &mut Plan<'_>, w: &mut Warnings) {
    let mut bound: HashMap<CompactString, (Out, String)> = HashMap::new();
    let say = |w: &mut Warnings, e: &mut EnvOut, first: &Out, owner: &str, svc: &str| {
        w.add(e.line, format!("env `{}` of service `{svc}` takes the value it has in `{owner}`: Elastic Beanstalk gives one value per key to every container (rename the key in one of them to keep both)", e.key));
        e.value = first.clone();
        e.comment = Some(format!(
            "as in `{owner}`: one value per key on Elastic Beanstalk"
        ));
    };
    for svc in &mut plan.svcs {
        for e in &mut svc.env {
            if !matches!(e.value, Out::Ref(..) | Out::Secret(_)) {
                continue;
            }
            match bound.get(&e.key) {
                None => {
                    bound.insert(e.key.clone(), (e.value.clone(), svc.name.clone()));
                }
                Some((first, owner)) if *first != e.value => say(w, e, first, owner, &svc.name),
                Some(_) => {}
            }
        }
    }
    // A literal for a key another service binds to a store or a secret: the property
    // reaches this container too, so it takes that value.
    for svc in &mut plan.svcs {
        for e in &mut svc.env {
            if matches!(e.value, Out::Ref(..) | Out::Secret(_)) {
                continue;
            }
            if let Some((first, owner)) = bound.get(&e.key) {
                say(w, e, first, owner, &svc.name);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_keys() {
        let r = |k: &str| key_role(k);
        assert_eq!(r("PGHOST"), ("PG".into(), Role::Host));
        assert_eq!(r("DB_HOST"), ("".into(), Role::Host));
        assert_eq!(r("DB_NAME"), ("".into(), Role::Database));
        assert_eq!(r("DB_PASSWD"), ("".into(), Role::Password));
        assert_eq!(r("PG_DBNAME"), ("PG".into(), Role::Database));
        assert_eq!(r("POSTGRES_DB"), ("POSTGRES".into(), Role::Database));
        assert_eq!(r("POSTGRESQL_HOST"), ("POSTGRESQL".into(), Role::Host));
        assert_eq!(
            r("DB_POSTGRESDB_HOST"),
            ("DB_POSTGRESDB".into(), Role::Host)
        );
        assert_eq!(
            r("DB_POSTGRESDB_DATABASE"),
            ("DB_POSTGRESDB".into(), Role::Database)
        );
        assert_eq!(
            r("SYMFONY__ENV__DATABASE_HOST"),
            ("SYMFONY_ENV".into(), Role::Host)
        );
        assert_eq!(
            r("SYMFONY__ENV__DATABASE_NAME"),
            ("SYMFONY_ENV".into(), Role::Database)
        );
        assert_eq!(r("PAPERLESS_DBHOST"), ("PAPERLESS".into(), Role::Host));
        assert_eq!(
            r("setting_redis_host"),
            ("SETTING_REDIS".into(), Role::Host)
        );
        assert_eq!(r("REDIS_ADDR"), ("REDIS".into(), Role::Address));
        assert_eq!(r("DATABASE_URL"), ("".into(), Role::Url));
        assert_eq!(r("APP_NAME").1, Role::Other);
        assert_eq!(
            names_kind("SETTING_REDIS_HOST", "SETTING_REDIS"),
            Some(Kind::Redis)
        );
        assert_eq!(names_kind("PGHOST", "PG"), Some(Kind::Postgres));
        assert_eq!(names_kind("DB_HOST", ""), None);
    }

    #[test]
    fn secrets() {
        for k in [
            "DB_PASSWD",
            "SMTP_USER_PWD",
            "OPENAI_API_KEY",
            "SECRET_KEY_BASE",
            "GOOGLE_CREDENTIALS",
            "api_token",
        ] {
            assert!(looks_secret(k), "{k}");
        }
        for k in ["KEYCLOAK_USER", "MONKEY", "DB_NAME", "PASSENGER_COUNT"] {
            assert!(!looks_secret(k), "{k}");
        }
    }

    #[test]
    fn hosts_in_values() {
        assert_eq!(
            url_parts("postgres://u:p@db:5432/app"),
            Some(("db", 15, true))
        );
        assert_eq!(url_parts("redis://redis:6379/0"), Some(("redis", 8, false)));
        assert_eq!(url_parts("http://[::1]:80/").map(|p| p.0), Some("::1"));
        assert_eq!(
            url_user_and_path("postgres://u:p@db/app?ssl=1"),
            (Some("u".into()), Some("app".into()))
        );
        assert_eq!(
            host_ref(Role::Other, "X", "api:3000"),
            Some(HostRef::WithPort("api", 3000))
        );
        assert_eq!(host_ref(Role::Other, "X", "hello world"), None);
        assert_eq!(host_ref(Role::Other, "ROLE", "worker"), None);
        assert_eq!(
            host_ref(Role::Host, "API_HOST", "api"),
            Some(HostRef::Bare("api"))
        );
        let u = "http://old:80/x";
        assert_eq!(
            host_ref(Role::Url, "U", u)
                .map(|h| h.rename(u, "new"))
                .as_deref(),
            Some("http://new:80/x")
        );
    }
}
