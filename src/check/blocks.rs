//! One block at a time: attributes read against the tables, names checked against AWS's
//! rules, defaults filled in.

use super::attrs::{self, AttrMap, Kind, Typed};
use super::*;
use crate::syntax::ast::{Nested, ValueKind};

/// Looks up a name and checks it with an AWS naming rule, reporting an `invalid_name`.
fn check_name(cx: &mut Cx, span: Span, name: &str, what: &str, verdict: names::Verdict, help: Option<String>) {
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

/// Reads a block's attributes; nested blocks are refused except where `allow_env`.
fn read<'b>(cx: &mut Cx, kind: Kind, block: &'b Block) -> (AttrMap, Vec<&'b Nested>) {
    let (attrs, nested) = entries(block);
    let map = attrs::read(kind, &block.name, &attrs, &mut cx.errors);
    let mut kept = Vec::new();
    for n in nested {
        if kind == Kind::Service && n.name.text == "env" {
            kept.push(n);
            continue;
        }
        let help = if kind == Kind::Service {
            did_you_mean(&n.name.text, ["env"]).map(|s| format!("did you mean `{s}`?"))
        } else {
            Some(format!("{} blocks hold only `key = value` attributes", kind.keyword()))
        };
        cx.err(CheckError::UnknownAttribute {
            span: n.name.span,
            message: format!("{} blocks have no block `{}`", kind.keyword(), n.name.text),
            label: "unknown block".into(),
            help,
        });
    }
    (map, kept)
}

impl Cx {
    pub(crate) fn stack(&mut self, block: &Block) -> Stack {
        let (m, _) = read(self, Kind::Stack, block);
        check_name(self, block.name.span, &block.name.text, "Elastic Beanstalk application name", names::eb_application(&block.name.text), None);
        let region = m.str("region");
        if let (Some(r), Some(span)) = (&region, m.span("region")) {
            check_name(self, span, r, "AWS region", names::region(r), None);
        }
        Stack {
            name: block.name.text.clone(),
            region,
        }
    }

    pub(crate) fn environment(&mut self, block: &Block) -> Environment {
        let (m, _) = read(self, Kind::Environment, block);
        check_name(self, block.name.span, &block.name.text, "Elastic Beanstalk environment name", names::eb_environment(&block.name.text), None);
        let instance_type = m.str("instance_type").unwrap_or_else(|| "t3.small".into());
        if let Some(span) = m.span("instance_type") {
            check_name(self, span, &instance_type, "instance type", names::instance_type(&instance_type, ""), None);
        }
        let execution_role = m.str("execution_role");
        if let (Some(r), Some(span)) = (&execution_role, m.span("execution_role")) {
            check_name(self, span, r, "IAM role ARN", names::role_arn(r), None);
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
            check_name(self, span, r, "IAM instance profile name", iam_name(r), None);
        }
        Environment {
            name: block.name.text.clone(),
            instance_type,
            tier: match m.word("tier") {
                Some("load_balanced") => Tier::LoadBalanced,
                _ => Tier::Single,
            },
            execution_role,
            instance_profile,
            service_role,
        }
    }

    pub(crate) fn store(&mut self, kind: Kind, block: &Block, stack: &str) -> Store {
        let (m, _) = read(self, kind, block);
        let name = block.name.text.clone();
        let default_id = format!("{stack}-{name}");
        let (identifier, id_span, id_written) = match (m.str("identifier"), m.span("identifier")) {
            (Some(id), Some(span)) => (id, span, true),
            _ => (default_id, block.name.span, false),
        };
        let help = (!id_written).then(|| format!("the default identifier is `{identifier}`; set `identifier = \"...\"`"));
        let kind = match kind {
            Kind::Postgres => {
                check_name(self, id_span, &identifier, "RDS DB instance identifier", names::aws_identifier(&identifier, 63, "rds"), help);
                let database = m.str("database").unwrap_or_default();
                if let Some(span) = m.span("database") {
                    check_name(self, span, &database, "PostgreSQL database name", names::pg_name(&database, "database"), None);
                }
                let username = m.str("username").unwrap_or_else(|| "postgres".into());
                if let Some(span) = m.span("username") {
                    check_name(self, span, &username, "PostgreSQL user name", names::pg_name(&username, "user"), None);
                }
                let class = m.str("class").unwrap_or_else(|| "db.t3.micro".into());
                if let Some(span) = m.span("class") {
                    check_name(self, span, &class, "RDS instance class", names::instance_type(&class, "db."), None);
                }
                StoreKind::Postgres(Postgres {
                    identifier,
                    database,
                    version: self.version(&m, "16"),
                    class,
                    storage_gib: m.int("storage").unwrap_or(20) as u32,
                    username,
                    password: match m.get("password") {
                        Some(Typed::Secret(var)) => Password::Env(var.clone()),
                        _ => Password::Managed,
                    },
                    backup_days: m.int("backup_days").unwrap_or(7) as u8,
                    deletion_protection: m.bool("deletion_protection").unwrap_or(true),
                    multi_az: m.bool("multi_az").unwrap_or(false),
                    encrypted: m.bool("encrypted").unwrap_or(true),
                    public: m.bool("public").unwrap_or(false),
                })
            }
            _ => {
                let replicas = m.int("replicas").unwrap_or(0) as u8;
                let encrypted = m.bool("encrypted").unwrap_or(false);
                let redis = Redis {
                    identifier,
                    node_type: m.str("node_type").unwrap_or_else(|| "cache.t3.micro".into()),
                    version: self.version(&m, "7.1"),
                    replicas,
                    encrypted,
                };
                let (max, what) = if redis.is_replication_group() {
                    (40, "ElastiCache replication group id")
                } else {
                    (50, "ElastiCache cluster id")
                };
                check_name(self, id_span, &redis.identifier, what, names::aws_identifier(&redis.identifier, max, "elasticache"), help);
                if let Some(span) = m.span("node_type") {
                    check_name(self, span, &redis.node_type, "ElastiCache node type", names::instance_type(&redis.node_type, "cache."), None);
                }
                StoreKind::Redis(redis)
            }
        };
        Store { name, kind }
    }

    fn version(&mut self, m: &AttrMap, default: &str) -> String {
        let v = m.str("version").unwrap_or_else(|| default.into());
        if let Some(span) = m.span("version") {
            let ok = !v.is_empty() && v.split('.').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
            check_name(self, span, &v, "engine version", (!ok).then_some("versions look like `16` or `7.1`"), None);
        }
        v
    }

    /// A service and the store references its env makes (already resolved).
    pub(crate) fn service(&mut self, block: &Block, items: &Items<'_>, stores: &[Store]) -> (Service, Vec<EnvRef>) {
        let (m, nested) = read(self, Kind::Service, block);
        let memory = m.int("memory").map(|n| n as u32);
        let memory_reservation = m.int("memory_reservation").map(|n| n as u32);
        if m.span("memory").is_none() && m.span("memory_reservation").is_none() && !has_attr(block, "memory") && !has_attr(block, "memory_reservation") {
            self.err(CheckError::MissingAttribute {
                span: block.name.span,
                kind: "service",
                block: block.name.text.clone(),
                attr: "memory".into(),
                example: "128 MiB".into(),
            });
        }
        if let (Some(hard), Some(soft)) = (memory, memory_reservation) {
            if soft >= hard {
                self.err(CheckError::Memory {
                    span: m.span("memory_reservation").unwrap_or(block.name.span),
                    others: m
                        .span("memory")
                        .map(|s| miette::LabeledSpan::new_with_span(Some(format!("the hard limit is {hard} MiB")), s))
                        .into_iter()
                        .collect(),
                    message: format!("`memory_reservation` ({soft} MiB) is not below `memory` ({hard} MiB)"),
                    label: "the soft limit must be below the hard limit".into(),
                    help: Some("lower `memory_reservation` or raise `memory`, or keep only one of them".into()),
                });
            }
        }
        let hostname = m.str("hostname");
        if let (Some(h), Some(span)) = (&hostname, m.span("hostname")) {
            check_name(self, span, h, "hostname", names::hostname(h), None);
        }
        let ports = match m.get("ports") {
            Some(Typed::Ports(ps)) => ps
                .iter()
                .map(|p| PortMapping {
                    host: p.host,
                    container: p.container,
                    protocol: if p.udp { Protocol::Udp } else { Protocol::Tcp },
                })
                .collect(),
            _ => Vec::new(),
        };
        let links = match m.get("links") {
            Some(Typed::Names(ns)) => ns.iter().map(|n| n.text.clone()).collect(),
            _ => Vec::new(),
        };
        let mut env = Vec::new();
        let mut refs = Vec::new();
        let mut seen: HashMap<&str, Span> = HashMap::new();
        let mut first_env: Option<Span> = None;
        for n in nested {
            if let Some(first) = first_env {
                self.err(CheckError::DuplicateName {
                    span: n.name.span,
                    first,
                    what: "block",
                    name: "env".into(),
                    help: Some("merge them into one `env` block".into()),
                });
            }
            first_env.get_or_insert(n.name.span);
            for a in &n.attrs {
                let key = &a.key;
                if !names::is_env_key(&key.text) {
                    self.err(CheckError::InvalidName {
                        span: key.span,
                        name: key.text.clone(),
                        what: "environment variable name".into(),
                        rule: "letters, digits and `_`, not starting with a digit".into(),
                        help: Some(format!("try `{}`", key.text.replace(|c: char| !c.is_ascii_alphanumeric(), "_"))),
                    });
                }
                if let Some(first) = seen.get(key.text.as_str()) {
                    self.err(CheckError::DuplicateName {
                        span: key.span,
                        first: *first,
                        what: "env key",
                        name: key.text.clone(),
                        help: Some("remove one of them".into()),
                    });
                    continue;
                }
                seen.insert(&key.text, key.span);
                if let Some(value) = self.env_value(key, &a.value, items, stores, &mut refs) {
                    env.push(EnvVar { key: key.text.clone(), value });
                }
            }
        }
        let svc = Service {
            name: block.name.text.clone(),
            image: m.str("image").unwrap_or_default(),
            memory,
            memory_reservation,
            essential: m.bool("essential").unwrap_or(false),
            hostname,
            ports,
            links,
            command: m.strings("command"),
            entrypoint: m.strings("entrypoint"),
            working_dir: m.str("working_dir"),
            env,
        };
        (svc, refs)
    }

    fn env_value(&mut self, key: &Ident, v: &ast::Value, items: &Items<'_>, stores: &[Store], refs: &mut Vec<EnvRef>) -> Option<EnvValue> {
        let looks_secret = {
            let k = key.text.to_ascii_uppercase();
            ["PASSWORD", "SECRET", "TOKEN"].iter().any(|w| k.contains(w))
        };
        let literal = match &v.kind {
            ValueKind::Str(s) => s.clone(),
            ValueKind::Int(n) => n.to_string(),
            ValueKind::Bool(b) => b.to_string(),
            ValueKind::Secret(var) => {
                if !names::is_env_key(&var.text) {
                    self.err(CheckError::InvalidName {
                        span: var.span,
                        name: var.text.clone(),
                        what: "environment variable name".into(),
                        rule: "letters, digits and `_`, not starting with a digit".into(),
                        help: None,
                    });
                    return None;
                }
                return Some(EnvValue::Secret(var.text.clone()));
            }
            ValueKind::Ref { target, attr } => return self.env_ref(key, target, attr, v.span, items, stores, refs),
            other => {
                let help = match other {
                    ValueKind::Word(w) if items.names.get(w.as_str()).is_some_and(|(k, _)| !k.exports().is_empty()) => {
                        Some(format!("name what to read: `{w}.host`, `{w}.port`, ..."))
                    }
                    ValueKind::Word(w) => Some(format!("write it in quotes: `{} = \"{w}\"`", key.text)),
                    _ => None,
                };
                self.err(CheckError::TypeMismatch {
                    span: v.span,
                    expected: "a string, an integer, a reference `store.attribute` or `secret(\"VAR\")`".into(),
                    found: other.describe().into(),
                    help,
                });
                return None;
            }
        };
        if looks_secret && !literal.is_empty() {
            self.err(CheckError::SecretLiteral {
                span: v.span,
                message: format!("env key `{}` looks secret but is given a literal value", key.text),
                help: Some(format!(
                    "read it at apply time: `{} = secret(\"{}\")`, or from a store: `{} = db.password`",
                    key.text, key.text, key.text
                )),
            });
            return None;
        }
        Some(EnvValue::Literal(literal))
    }

    #[allow(clippy::too_many_arguments)]
    fn env_ref(&mut self, key: &Ident, target: &Ident, attr: &Ident, span: Span, items: &Items<'_>, stores: &[Store], refs: &mut Vec<EnvRef>) -> Option<EnvValue> {
        let Some((kind, _)) = items.names.get(target.text.as_str()) else {
            let candidates = items.stores.iter().map(|(_, b)| b.name.text.as_str());
            self.err(CheckError::UnknownName {
                span: target.span,
                what: "data store",
                name: target.text.clone(),
                help: did_you_mean(&target.text, candidates).map(|s| format!("did you mean `{s}`?")),
            });
            return None;
        };
        if kind.exports().is_empty() {
            self.err(CheckError::TypeMismatch {
                span: target.span,
                expected: "a data store (`postgres` or `redis`)".into(),
                found: format!("{} `{}`", kind.keyword(), target.text),
                help: (*kind == Kind::Service).then(|| "services reach each other by name through `links`".into()),
            });
            return None;
        }
        let Some(export) = Export::parse(&attr.text).filter(|e| kind.exports().contains(&e.as_str())) else {
            self.err(CheckError::UnknownAttribute {
                span: attr.span,
                message: format!("{} `{}` exports no `{}`", kind.keyword(), target.text, attr.text),
                label: "not exported".into(),
                help: Some(match did_you_mean(&attr.text, kind.exports().iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{} stores export: {}", kind.keyword(), kind.exports().join(", ")),
                }),
            });
            return None;
        };
        let store = stores.iter().position(|s| s.name == target.text)?;
        refs.push(EnvRef {
            key: key.clone(),
            store,
            export,
            span,
        });
        Some(EnvValue::Store { store, export })
    }
}

fn has_attr(block: &Block, name: &str) -> bool {
    block.entries.iter().any(|e| matches!(e, Entry::Attr(a) if a.key.text == name))
}

/// IAM role and instance profile names: 1 to 64 (roles) or 128 characters of `\w+=,.@-`.
fn iam_name(s: &str) -> names::Verdict {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    (!ok).then_some("IAM names are 1 to 64 letters, digits and `+=,.@_-`")
}
