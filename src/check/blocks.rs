//! One block at a time: attributes read against the tables, names checked against AWS's
//! rules, defaults filled in.

use super::attrs::{self, AttrMap, BUILD_BLOCK, Kind, Typed};
use super::build;
use super::*;
use crate::syntax::ast::{Nested, ValueKind};
use compact_str::ToCompactString;

/// Reports an `invalid_name` when `verdict` holds a broken rule.
/// Valkey's default engine version (Redis's is in the attribute table).
const VALKEY_VERSION: &str = "8.0";

fn check_name(
    cx: &mut Cx,
    span: Span,
    name: &str,
    what: &str,
    verdict: names::Verdict,
    help: Option<String>,
) {
    if let Some(rule) = verdict {
        cx.err(CheckError::InvalidName {
            span,
            name: name.to_string(),
            what: what.to_string(),
            rule: rule.to_string(),
            help,
        });
    }
}

/// The nested blocks a service holds.
const SERVICE_NESTED: [&str; 2] = ["env", BUILD_BLOCK];

/// Reads a block's attributes; nested blocks are refused except a service's `env` and
/// `build` (and a misspelled one, which is reported and then read as the one it meant, so
/// that an `env`'s references still count and a build is not "missing"). Each kept block
/// comes with the name it is read as.
fn read<'b>(
    cx: &mut Cx,
    kind: Kind,
    block: &'b Block,
) -> (AttrMap, Vec<(&'static str, &'b Nested)>) {
    let (attrs, nested) = entries(block);
    let map = attrs::read(kind, &block.name, &attrs, &mut cx.errors);
    let mut kept = Vec::new();
    for n in nested {
        let service = kind == Kind::Service;
        if let Some(name) = SERVICE_NESTED
            .into_iter()
            .find(|k| service && n.name.text == *k)
        {
            kept.push((name, n));
            continue;
        }
        let meant = service
            .then(|| did_you_mean(&n.name.text, SERVICE_NESTED))
            .flatten();
        let help = if let Some(meant) = meant {
            format!("did you mean `{meant}`?")
        } else if service {
            "a service holds attributes, one `env { KEY = value }` block and one \
             `build { ... }` block"
                .to_string()
        } else {
            format!(
                "{} blocks hold only `key = value` attributes",
                kind.keyword()
            )
        };
        cx.err(CheckError::UnknownNestedBlock {
            span: n.name.span,
            kind: kind.keyword(),
            name: n.name.text.to_string(),
            help: Some(help),
        });
        if let Some(meant) = meant {
            kept.push((meant, n));
        }
    }
    (map, kept)
}

impl Cx {
    pub(crate) fn stack(&mut self, block: &Block) -> Stack {
        let (m, _) = read(self, Kind::Stack, block);
        check_name(
            self,
            block.name.span,
            &block.name.text,
            "Elastic Beanstalk application name",
            names::eb_application(&block.name.text),
            None,
        );
        let region = m.str("region");
        if let (Some(r), Some(span)) = (&region, m.span("region")) {
            check_name(self, span, r, "AWS region", names::region(r), None);
        }
        Stack {
            name: block.name.text.to_string(),
            region,
        }
    }

    /// The environment block; `stack` names the stack, for suggestions.
    pub(crate) fn environment(&mut self, block: &Block, stack: Option<&str>) -> Environment {
        let (m, _) = read(self, Kind::Environment, block);
        let name = &block.name.text;
        // With several environments, Elastic Beanstalk's name is `<stack>-<env>`; a preview's
        // is `<stack>-<instance>`.
        let scoped = match &self.instance {
            Some(instance) => Some(instance.clone()),
            None => (self.several || m.bool_or_default("template")).then(|| name.to_string()),
        };
        if let (Some(scoped), Some(stack)) = (&scoped, stack) {
            let eb_name = crate::naming::base(stack, Some(scoped));
            let verdict = names::eb_environment(&eb_name);
            let help = verdict.map(|_| match &self.instance {
                Some(_) => "a preview's Elastic Beanstalk name is `<stack>-<instance>`: \
                            shorten the instance's name"
                    .to_string(),
                None => "in a file with several environments (and for a template), Elastic \
                         Beanstalk's name is `<stack>-<environment>`: shorten the stack's or the \
                         environment's name"
                    .to_string(),
            });
            check_name(
                self,
                block.name.span,
                &eb_name,
                "Elastic Beanstalk environment name",
                verdict,
                help,
            );
        }
        let verdict = names::eb_environment(name).filter(|_| scoped.is_none());
        let help = match names::fix_eb_environment(name) {
            Some(f) => Some(format!("try `{f}`")),
            None if name.len() < 4 => {
                let base = stack
                    .filter(|s| names::eb_environment(&format!("{s}-env")).is_none())
                    .unwrap_or(name);
                Some(format!("try `{base}-env`"))
            }
            None => None,
        };
        check_name(
            self,
            block.name.span,
            name,
            "Elastic Beanstalk environment name",
            verdict,
            help,
        );
        let instance_type = m.str_or_default("instance_type");
        let mut instance_type_ok = m.ok("instance_type");
        if let Some(span) = m.span("instance_type") {
            let verdict = names::instance_type(&instance_type, "");
            instance_type_ok &= verdict.is_none();
            check_name(self, span, &instance_type, "instance type", verdict, None);
        }
        let execution_role = m.str("execution_role");
        if let (Some(r), Some(span)) = (&execution_role, m.span("execution_role")) {
            let help = (!r.starts_with("arn:") && iam_name(r).is_none())
                .then(|| format!("write the role's ARN: `\"arn:aws:iam::ACCOUNT:role/{r}\"`"));
            check_name(self, span, r, "IAM role ARN", names::role_arn(r), help);
        }
        let service_role = m.str("service_role");
        if let (Some(r), Some(span)) = (&service_role, m.span("service_role")) {
            if r.starts_with("arn:") {
                check_name(self, span, r, "IAM role ARN", names::role_arn(r), None);
            } else {
                check_name(self, span, r, "IAM role name", iam_name(r), None);
            }
        }
        let instance_profile = m.str("instance_profile");
        if let (Some(r), Some(span)) = (&instance_profile, m.span("instance_profile")) {
            check_name(
                self,
                span,
                r,
                "IAM instance profile name",
                iam_name(r),
                None,
            );
        }
        // A role that was written but could not be read is not "missing"; without a written
        // `instance_profile`, apply makes the execution role (and lets the instance role it
        // makes pass it), so only a program that names its own profile must name the role.
        let role_known = execution_role.is_some()
            || !m.ok("execution_role")
            || (instance_profile.is_none() && m.ok("instance_profile"));
        let tier = match m.word("tier") {
            Some("load_balanced") => Tier::LoadBalanced,
            _ => Tier::Single,
        };
        let load_balanced = (tier == Tier::LoadBalanced)
            .then(|| m.span("tier"))
            .flatten();
        let (https, scaling) = self.load_balancer(&m, tier, name);
        let env = Environment {
            name: block.name.text.to_string(),
            instance_type,
            tier,
            execution_role,
            instance_profile,
            service_role,
            log_days: m.int_or_default("log_days"),
            https,
            scaling,
            keep_versions: u32::try_from(m.int_or_default("keep_versions")).unwrap_or(u32::MAX),
            template: m.bool_or_default("template"),
            approval: m.bool_or_default("approval"),
            instance: self.instance.clone(),
        };
        self.env_facts = EnvFacts {
            instance_type_ok,
            role_known,
            load_balanced,
            template: env.template,
        };
        env
    }

    /// The environment's load balancer: HTTPS (`domain`, `certificate`) and the Auto Scaling
    /// group (`min_instances`, `max_instances`, `target_cpu_percent`), which a single instance
    /// refuses.
    fn load_balancer(
        &mut self,
        m: &AttrMap,
        tier: Tier,
        environment: &str,
    ) -> (Option<Https>, Option<Scaling>) {
        if tier == Tier::Single {
            for &attr in attrs::LOAD_BALANCED_ONLY {
                let Some(span) = m.span(attr) else { continue };
                let served = if matches!(attr, "domain" | "certificate") {
                    "HTTPS is served by the load balancer"
                } else {
                    "a single-instance environment runs exactly one instance"
                };
                self.err(CheckError::NeedsLoadBalancer {
                    span,
                    tier: m.span("tier"),
                    attr,
                    environment: environment.to_string(),
                    help: Some(format!(
                        "{served}: write `tier = load_balanced` in environment `{environment}`, or remove `{attr}`"
                    )),
                });
            }
            return (None, None);
        }
        let certificate = m.str("certificate");
        if let (Some(arn), Some(span)) = (&certificate, m.span("certificate")) {
            check_name(
                self,
                span,
                arn,
                "ACM certificate ARN",
                names::certificate_arn(arn),
                None,
            );
        }
        let domain = m.str("domain");
        if let (Some(d), Some(span)) = (&domain, m.span("domain")) {
            // The certificate stackc requests names the domain in its Common Name.
            let max = if certificate.is_some() {
                253
            } else {
                names::CERTIFICATE_DOMAIN_MAX
            };
            let lower = d.to_ascii_lowercase();
            let help = (lower != *d && names::domain(&lower, max).is_none())
                .then(|| format!("write `domain = \"{lower}\"`"));
            check_name(self, span, d, "domain", names::domain(d, max), help);
            if m.bool_or_default("template") {
                self.err(CheckError::TemplateDomain {
                    span,
                    template: m.span("template"),
                    domain: d.clone(),
                    env: environment.to_string(),
                });
            }
        }
        let https = (domain.is_some() || certificate.is_some()).then_some(Https {
            domain,
            certificate,
        });
        let (min, max) = (
            m.int_or_default("min_instances"),
            m.int_or_default("max_instances"),
        );
        if let (true, Some(span)) = (min > max, m.span("min_instances")) {
            let written = m.span("max_instances");
            self.err(CheckError::InstanceRange {
                span,
                max_span: written,
                min,
                max,
                defaulted: if written.is_some() {
                    ""
                } else {
                    ", the default"
                },
                help: Some(if written.is_some() {
                    format!("lower `min_instances` to {max} or raise `max_instances` to {min}")
                } else {
                    format!("add `max_instances = {min}` (or more) to environment `{environment}`")
                }),
            });
        }
        let scaling = Scaling {
            min: min as u32,
            max: max as u32,
            cpu_percent: m.int("target_cpu_percent").map(|p| p as u8),
        };
        (https, Some(scaling))
    }

    /// A data store. Its default identifier needs the base of the derived names (the stack's
    /// name, with several environments `<stack>-<env>`); without a stack block the default is
    /// not checked.
    pub(crate) fn store(&mut self, kind: Kind, block: &Block, stack: Option<&str>) -> Store {
        let (m, _) = read(self, kind, block);
        let name = block.name.text.clone();
        let written = m.str("identifier").zip(m.span("identifier"));
        let defaulted = written.is_none();
        let (identifier, id_span, check_id) = match written {
            Some((id, span)) => (id, span, true),
            None => (
                crate::naming::store_identifier(stack.unwrap_or("stack"), &name),
                block.name.span,
                stack.is_some() && m.ok("identifier"),
            ),
        };
        let id_help = |identifier: &str, max: usize| match names::fix_identifier(identifier, max) {
            Some(f) if defaulted => Some(format!(
                "the default identifier is `{identifier}`; set one: `identifier = \"{f}\"`"
            )),
            Some(f) => Some(format!("try `{f}`")),
            None if defaulted => Some(format!(
                "the default identifier is `{identifier}`; set one: `identifier = \"...\"`"
            )),
            None => None,
        };
        let kind = match kind {
            Kind::Postgres => {
                if check_id {
                    let help = id_help(&identifier, 63);
                    check_name(
                        self,
                        id_span,
                        &identifier,
                        "RDS DB instance identifier",
                        names::aws_identifier(&identifier, 63),
                        help,
                    );
                }
                let database = m.str("database").unwrap_or_default();
                if let Some(span) = m.span("database") {
                    let help = names::fix_pg_name(&database, "database")
                        .map(|f| format!("try `{f}`"))
                        .or_else(|| {
                            Some(format!(
                                "choose another name, e.g. `{}_db`",
                                block.name.text.replace('-', "_")
                            ))
                        });
                    check_name(
                        self,
                        span,
                        &database,
                        "PostgreSQL database name",
                        names::pg_name(&database, "database"),
                        help,
                    );
                }
                let username = m.str_or_default("username");
                if let Some(span) = m.span("username") {
                    let help = names::fix_pg_name(&username, "user")
                        .map(|f| format!("try `{f}`"))
                        .or_else(|| Some("choose another name, e.g. `app_admin`".into()));
                    check_name(
                        self,
                        span,
                        &username,
                        "PostgreSQL user name",
                        names::pg_name(&username, "user"),
                        help,
                    );
                }
                let class = m.str_or_default("class");
                if let Some(span) = m.span("class") {
                    check_name(
                        self,
                        span,
                        &class,
                        "RDS instance class",
                        names::instance_type(&class, "db."),
                        None,
                    );
                }
                StoreKind::Postgres(Postgres {
                    identifier,
                    database,
                    version: self.version(&m, None),
                    class,
                    storage_gib: m.int_or_default("storage") as u32,
                    username,
                    // A password that failed to read is not `managed`: no rule may build on it.
                    password: match m.get("password") {
                        Some(Typed::Secret(var)) => Password::Env(var.clone()),
                        None if !m.ok("password") => Password::Env(String::new()),
                        _ => Password::Managed,
                    },
                    backup_days: m.int_or_default("backup_days") as u8,
                    // A preview's data is made again from the template: deleted with it.
                    deletion_protection: match self.env_facts.template {
                        true => m.bool("deletion_protection").unwrap_or(false),
                        false => m.bool_or_default("deletion_protection"),
                    },
                    multi_az: m.bool_or_default("multi_az"),
                    encrypted: m.bool_or_default("encrypted"),
                    public: m.bool_or_default("public"),
                })
            }
            _ => {
                let engine = match m.word("engine") {
                    Some("valkey") => RedisEngine::Valkey,
                    _ => RedisEngine::Redis,
                };
                let redis = Redis {
                    identifier,
                    engine,
                    node_type: m.str_or_default("node_type"),
                    // Valkey's default version is its own (the table's doc says so).
                    version: self.version(
                        &m,
                        (engine == RedisEngine::Valkey).then_some(VALKEY_VERSION),
                    ),
                    replicas: m.int_or_default("replicas") as u8,
                    encrypted: m.bool_or_default("encrypted"),
                };
                let (max, what) = if redis.is_replication_group() {
                    (40, "ElastiCache replication group id")
                } else {
                    (50, "ElastiCache cluster id")
                };
                if check_id {
                    let help = id_help(&redis.identifier, max);
                    check_name(
                        self,
                        id_span,
                        &redis.identifier,
                        what,
                        names::aws_identifier(&redis.identifier, max),
                        help,
                    );
                }
                if let Some(span) = m.span("node_type") {
                    check_name(
                        self,
                        span,
                        &redis.node_type,
                        "ElastiCache node type",
                        names::instance_type(&redis.node_type, "cache."),
                        None,
                    );
                }
                StoreKind::Redis(redis)
            }
        };
        Store {
            name: name.to_string(),
            kind,
        }
    }

    /// The `version`, else `default`, else the table's.
    fn version(&mut self, m: &AttrMap, default: Option<&str>) -> String {
        let v = match (m.str("version"), default) {
            (Some(v), _) => v,
            (None, Some(d)) => d.to_string(),
            (None, None) => m.str_or_default("version"),
        };
        if let Some(span) = m.span("version") {
            let ok = !v.is_empty()
                && v.split('.')
                    .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            check_name(
                self,
                span,
                &v,
                "engine version",
                (!ok).then_some("versions look like `16` or `7.1`"),
                None,
            );
        }
        v
    }

    /// A service, and what the cross-block rules need to know about it. References to stores
    /// are resolved here; `read_stores[i]` is set for every store the service names.
    pub(crate) fn service<'a>(
        &mut self,
        block: &'a Block,
        items: &Items<'_>,
        read_stores: &mut [bool],
    ) -> (Service, ServiceInfo<'a>) {
        let (m, kept) = read(self, Kind::Service, block);
        let nested_named = |name: &str| -> Vec<&'a Nested> {
            kept.iter()
                .filter(|(k, _)| *k == name)
                .map(|(_, n)| *n)
                .collect()
        };
        let (nested, builds) = (nested_named("env"), nested_named(BUILD_BLOCK));
        let name = &block.name.text;
        let verdict = names::container_name(name);
        check_name(self, block.name.span, name, "container name", verdict, None);
        if let (Some(image), Some(span)) = (m.str("image"), m.span("image")) {
            check_name(self, span, &image, "image", names::image(&image), None);
        }
        let source = build::image_source(block, &m, &builds, &mut self.errors);
        let memory = m.int("memory").map(|n| n as u32);
        let memory_reservation = m.int("memory_reservation").map(|n| n as u32);
        if !m.written("memory") && !m.written("memory_reservation") {
            self.err(CheckError::MissingAttribute {
                span: block.name.span,
                kind: "service",
                block: block.name.text.to_string(),
                attr: "memory".into(),
                help: Some(
                    "add `memory = 128 MiB` (the hard limit) or `memory_reservation = 128 MiB` (the soft limit)"
                        .into(),
                ),
            });
        }
        if let (Some(hard), Some(soft)) = (memory, memory_reservation) {
            if soft >= hard {
                self.err(CheckError::ReservationNotBelow {
                    span: m.span("memory_reservation").unwrap_or(block.name.span),
                    hard_span: m.span("memory"),
                    soft,
                    hard,
                });
            }
        }
        let hostname = m.compact_str("hostname");
        if let (Some(h), Some(span)) = (&hostname, m.span("hostname")) {
            check_name(self, span, h, "hostname", names::hostname(h), None);
        }
        let (ports, port_spans): (Vec<PortMapping>, SmallVec<_>) = match m.get("ports") {
            Some(Typed::Ports(ps)) => ps
                .iter()
                .map(|p| {
                    let protocol = if p.udp { Protocol::Udp } else { Protocol::Tcp };
                    (
                        PortMapping {
                            host: p.host,
                            container: p.container,
                            protocol,
                        },
                        p.span,
                    )
                })
                .unzip(),
            _ => (Vec::new(), SmallVec::new()),
        };
        let links: &[Ident] = match m.get("links") {
            Some(Typed::Names(ns)) => ns,
            _ => &[],
        };
        // Sized once: a service with a million keys would otherwise copy them as it grows.
        let mut env = Vec::with_capacity(nested.iter().map(|n| n.attrs.len()).sum());
        let mut bindings = SmallVec::new();
        let first_def = first_definitions(&nested);
        let mut k = 0;
        let mut first_env: Option<Span> = None;
        for n in nested {
            match first_env {
                Some(first) if n.name.text == "env" => self.err(CheckError::DuplicateName {
                    span: n.name.span,
                    first,
                    what: "block",
                    name: "env".into(),
                    verb: "defined",
                    help: Some("merge them into one `env` block".into()),
                }),
                None if n.name.text == "env" => first_env = Some(n.name.span),
                _ => {}
            }
            for a in &n.attrs {
                let key = &a.key;
                if !names::is_env_key(&key.text) {
                    self.err(names::invalid_env_var(key));
                }
                let first = first_def[k];
                k += 1;
                if let Some(first) = first {
                    self.err(CheckError::DuplicateName {
                        span: key.span,
                        first,
                        what: "env key",
                        name: key.text.to_string(),
                        verb: "defined",
                        help: Some("remove one of them".into()),
                    });
                    continue;
                }
                if let Some(value) = self.env_value(key, &a.value, items, read_stores) {
                    let binding = match &value {
                        EnvValue::Store { store, export } => Some(Binding::Store {
                            store: *store,
                            export: *export,
                        }),
                        EnvValue::Secret(var) => Some(Binding::Secret(var.clone())),
                        EnvValue::Literal(_) => None,
                    };
                    if let Some(value) = binding {
                        bindings.push(EnvBinding {
                            key,
                            value,
                            span: a.value.span,
                        });
                    }
                    env.push(EnvVar {
                        key: key.text.clone(),
                        value,
                    });
                }
            }
        }
        // Kept for the whole check: no spare capacity (10,000 services add up).
        env.shrink_to_fit();
        bindings.shrink_to_fit();
        let svc = Service {
            name: block.name.text.clone(),
            source,
            memory,
            memory_reservation,
            essential: m.bool("essential").unwrap_or(false),
            hostname,
            ports,
            links: links.iter().map(|l| l.text.clone()).collect(),
            command: m.strings("command"),
            entrypoint: m.strings("entrypoint"),
            working_dir: m.compact_str("working_dir"),
            env,
        };
        let info = ServiceInfo {
            block,
            port_spans,
            ports_ok: m.ok("ports"),
            link_spans: links.iter().map(|l| l.span).collect(),
            essential_ok: m.ok("essential"),
            bindings,
        };
        (svc, info)
    }

    fn env_value(
        &mut self,
        key: &Ident,
        v: &ast::Value,
        items: &Items<'_>,
        read_stores: &mut [bool],
    ) -> Option<EnvValue> {
        let looks_secret = names::looks_secret(&key.text);
        let literal = match &v.kind {
            ValueKind::Str(s) => s.clone(),
            ValueKind::Int(n) => n.to_compact_string(),
            ValueKind::Bool(b) => b.to_compact_string(),
            ValueKind::Secret(var) => {
                if !names::is_env_key(&var.text) {
                    self.err(names::invalid_env_var(var));
                    return None;
                }
                return Some(EnvValue::Secret(var.text.clone()));
            }
            ValueKind::Ref(r) => {
                return self.env_ref(&r.target, &r.attr, items, read_stores);
            }
            ValueKind::Invalid => return None,
            other => {
                let quoted = match other {
                    ValueKind::Word(w) | ValueKind::Cidr(w) => Some(w.to_string()),
                    ValueKind::Size { amount, unit } => Some(format!("{amount} {unit}")),
                    ValueKind::Port {
                        host,
                        container,
                        protocol: None,
                    } => Some(format!("{host}:{container}")),
                    _ => None,
                };
                let store = match other {
                    ValueKind::Word(w) => items
                        .names
                        .get(w.as_str())
                        .filter(|(k, ..)| !k.exports().is_empty())
                        .map(|(k, ..)| (w, *k)),
                    _ => None,
                };
                // A store named without what to read still counts as read.
                if let Some(i) = store.and_then(|(w, _)| items.store(w)) {
                    read_stores[i] = true;
                }
                let help = match (store, other) {
                    (Some((w, kind)), _) => {
                        let k = key.text.to_ascii_uppercase();
                        let export = ["port", "database", "username", "password"]
                            .into_iter()
                            .find(|e| {
                                kind.exports().contains(e)
                                    && k.contains(&e[..4].to_ascii_uppercase())
                            })
                            .unwrap_or("host");
                        Some(format!("name what to read: `{} = {w}.{export}`", key.text))
                    }
                    (None, _) => {
                        quoted.map(|q| format!("write it in quotes: `{} = \"{q}\"`", key.text))
                    }
                };
                self.err(CheckError::TypeMismatch {
                    span: v.span,
                    expected:
                        "a string, an integer, a reference `store.attribute` or `secret(\"VAR\")`"
                            .into(),
                    found: other.describe().into(),
                    help,
                });
                return None;
            }
        };
        if looks_secret && !literal.is_empty() {
            let k = &key.text;
            let var = names::fix_env_key(k)
                .unwrap_or_else(|| k.to_string())
                .to_ascii_uppercase();
            let postgres = items
                .stores
                .iter()
                .find(|(kind, _)| *kind == Kind::Postgres);
            let store = postgres
                .filter(|_| k.to_ascii_uppercase().contains("PASSWORD"))
                .map(|(_, b)| b.name.text.to_string());
            self.err(CheckError::SecretLiteral {
                span: v.span,
                key: k.to_string(),
                fix: SecretFix {
                    key: k.to_string(),
                    var,
                    store,
                },
            });
            return None;
        }
        Some(EnvValue::Literal(literal))
    }

    fn env_ref(
        &mut self,
        target: &Ident,
        attr: &Ident,
        items: &Items<'_>,
        read_stores: &mut [bool],
    ) -> Option<EnvValue> {
        let Some((kind, ..)) = items.names.get(target.text.as_str()) else {
            if !items.unknown.contains(target.text.as_str()) {
                let candidates = items.stores.iter().map(|(_, b)| b.name.text.as_str());
                let close = self.closest(&target.text, candidates);
                // The store it meant is read, as far as the `unused` warning is concerned.
                if let Some(i) = close.and_then(|c| items.store(c)) {
                    read_stores[i] = true;
                }
                let few: Vec<&str> = items
                    .stores
                    .iter()
                    .take(7)
                    .map(|(_, b)| b.name.text.as_str())
                    .collect();
                let help = self.name_help(close, &few, ("data store", "data stores"));
                self.err(CheckError::UnknownName {
                    span: target.span,
                    what: "data store",
                    name: target.text.to_string(),
                    help,
                });
            }
            return None;
        };
        if kind.exports().is_empty() {
            self.err(CheckError::TypeMismatch {
                span: target.span,
                expected: "a data store (`postgres` or `redis`)".into(),
                found: format!("{} `{}`", kind.keyword(), target.text),
                help: Some(if *kind == Kind::Service {
                    format!("services reach each other by name through `links`; the host name of `{}` is `{}`", target.text, target.text)
                } else {
                    "only `postgres` and `redis` blocks export attributes".into()
                }),
            });
            return None;
        }
        // A duplicate store name resolves to the first block, as every other reference does.
        let store = items.store(&target.text)?;
        read_stores[store] = true;
        let Some(export) =
            Export::parse(&attr.text).filter(|e| kind.exports().contains(&e.as_str()))
        else {
            self.err(CheckError::NotExported {
                span: attr.span,
                kind: kind.keyword(),
                store: target.text.to_string(),
                attr: attr.text.to_string(),
                help: Some(
                    match did_you_mean(&attr.text, kind.exports().iter().copied()) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => {
                            let all: Vec<String> =
                                kind.exports().iter().map(|e| format!("`{e}`")).collect();
                            format!("{} stores export {}", kind.keyword(), all.join(", "))
                        }
                    },
                ),
            });
            return None;
        };
        Some(EnvValue::Store { store, export })
    }
}

/// IAM role and instance profile names: 1 to 64 (roles) or 128 characters of `\w+=,.@-`.
/// For each env key of the nested blocks, in order: where the same key was first defined, or
/// None for a first definition. Found by sorting rather than with a hash map, which for a
/// service with a million keys cost more memory than the keys themselves.
fn first_definitions(nested: &[&Nested]) -> Vec<Option<Span>> {
    let keys: Vec<&Ident> = nested
        .iter()
        .flat_map(|n| n.attrs.iter().map(|a| &a.key))
        .collect();
    let mut order: Vec<u32> = (0..keys.len() as u32).collect();
    // Stable: equal keys stay in source order, so the first of a run is the first definition.
    order.sort_by(|&a, &b| keys[a as usize].text.cmp(&keys[b as usize].text));
    let mut first = vec![None; keys.len()];
    for run in order.chunk_by(|&a, &b| keys[a as usize].text == keys[b as usize].text) {
        for &i in &run[1..] {
            first[i as usize] = Some(keys[run[0] as usize].span);
        }
    }
    first
}

fn iam_name(s: &str) -> names::Verdict {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    (!ok).then_some("IAM names are 1 to 64 letters, digits and `+=,.@_-`")
}
