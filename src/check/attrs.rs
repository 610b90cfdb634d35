//! The attribute tables: which attributes each block kind has, their types, defaults and
//! documentation, and the generic reader that turns written values into typed ones.
//!
//! The tables are data so that the checker, the docs and editor tooling share one truth.

use std::collections::BTreeMap;

use rustc_hash::FxHashMap as HashMap;

use super::CheckError;
use super::suggest::did_you_mean;
use crate::syntax::ast::{Attr, CompactString, Ident, Span, Value, ValueKind};

/// The kinds of block a file may hold (`firewall` has its own syntax).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Stack,
    Environment,
    Service,
    Postgres,
    Redis,
}

impl Kind {
    pub const ALL: [Kind; 5] = [
        Kind::Stack,
        Kind::Environment,
        Kind::Service,
        Kind::Postgres,
        Kind::Redis,
    ];

    pub fn keyword(self) -> &'static str {
        match self {
            Kind::Stack => "stack",
            Kind::Environment => "environment",
            Kind::Service => "service",
            Kind::Postgres => "postgres",
            Kind::Redis => "redis",
        }
    }

    /// `a` or `an`, for messages.
    pub fn article(self) -> &'static str {
        match self {
            Kind::Environment => "an",
            _ => "a",
        }
    }

    pub fn from_keyword(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.keyword() == s)
    }

    pub fn attrs(self) -> &'static [AttrSpec] {
        match self {
            Kind::Stack => STACK,
            Kind::Environment => ENVIRONMENT,
            Kind::Service => SERVICE,
            Kind::Postgres => POSTGRES,
            Kind::Redis => REDIS,
        }
    }

    /// The TCP port a data store listens on.
    pub fn store_port(self) -> Option<u16> {
        match self {
            Kind::Postgres => Some(5432),
            Kind::Redis => Some(6379),
            _ => None,
        }
    }

    /// Attributes a data store exports as `NAME.attr`.
    pub fn exports(self) -> &'static [&'static str] {
        match self {
            Kind::Postgres => &["host", "port", "database", "username", "password"],
            Kind::Redis => &["host", "port"],
            _ => &[],
        }
    }
}

/// The type of an attribute's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Str,
    Bool,
    /// An integer within an inclusive range.
    Int(u64, u64),
    /// One of a few integers (AWS's allowed retention periods).
    IntIn(&'static [u64]),
    /// A size, converted to `unit_mib` units (1 for MiB, 1024 for GiB), within a range of them.
    Size {
        unit_mib: u64,
        min: u64,
        max: u64,
    },
    /// A list of port mappings.
    Ports,
    /// A list of names of other items.
    Names,
    /// A list of strings.
    Strings,
    /// One of a few words.
    Word(&'static [&'static str]),
    /// `managed` or `secret("VAR")`.
    Password,
    /// A list of build arguments, `["NAME=value"]`.
    BuildArgs,
}

impl Ty {
    pub fn describe(self) -> String {
        match self {
            Ty::Str => "a string".into(),
            Ty::Bool => "a boolean (`true` or `false`)".into(),
            Ty::Int(..) => "an integer".into(),
            Ty::IntIn(ns) => {
                let ns: Vec<String> = ns.iter().map(u64::to_string).collect();
                format!("one of {}", ns.join(", "))
            }
            Ty::Size { .. } => "a size (`128 MiB`, `20 GiB`)".into(),
            Ty::Ports => "a list of port mappings (`[80:80]`)".into(),
            Ty::Names => "a list of names (`[a, b]`)".into(),
            Ty::Strings => "a list of strings (`[\"a\", \"b\"]`)".into(),
            Ty::Word(ws) => {
                let ws: Vec<String> = ws.iter().map(|w| format!("`{w}`")).collect();
                ws.join(" or ")
            }
            Ty::Password => "`managed` or `secret(\"ENV_VAR\")`".into(),
            Ty::BuildArgs => "a list of build arguments (`[\"NAME=value\"]`)".into(),
        }
    }
}

/// One row of an attribute table.
#[derive(Debug)]
pub struct AttrSpec {
    pub name: &'static str,
    pub ty: Ty,
    /// The default as the user would write it, or None when required / absent by default.
    pub default: Option<&'static str>,
    pub required: bool,
    pub doc: &'static str,
}

const fn a(
    name: &'static str,
    ty: Ty,
    default: Option<&'static str>,
    doc: &'static str,
) -> AttrSpec {
    AttrSpec {
        name,
        ty,
        default,
        required: false,
        doc,
    }
}

const fn req(name: &'static str, ty: Ty, doc: &'static str) -> AttrSpec {
    AttrSpec {
        name,
        ty,
        default: None,
        required: true,
        doc,
    }
}

const MIB: u64 = 1;
const GIB: u64 = 1024;

pub static STACK: &[AttrSpec] = &[a(
    "region",
    Ty::Str,
    None,
    "AWS region to deploy to; defaults to the region of the user's AWS configuration",
)];

/// The retention periods, in days, that both CloudWatch Logs (PutRetentionPolicy) and Elastic
/// Beanstalk's `aws:elasticbeanstalk:cloudwatch:logs/RetentionInDays` accept.
pub const LOG_DAYS_ALLOWED: &[u64] = &[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653,
];

pub static ENVIRONMENT: &[AttrSpec] = &[
    a(
        "platform",
        Ty::Word(&["ecs"]),
        Some("ecs"),
        "`ecs`: the newest recommended \"ECS running on 64bit Amazon Linux 2023\" platform version",
    ),
    a(
        "instance_type",
        Ty::Str,
        Some("\"t3.small\""),
        "EC2 instance type of the environment's instances",
    ),
    a(
        "tier",
        Ty::Word(&["single", "load_balanced"]),
        Some("single"),
        "`single` instance, or `load_balanced` behind an Application Load Balancer",
    ),
    a(
        "execution_role",
        Ty::Str,
        None,
        "ARN of the ECS task execution role; required when a service reads a managed password",
    ),
    a(
        "log_days",
        Ty::IntIn(LOG_DAYS_ALLOWED),
        // A month of history for an incident, as AWS Copilot keeps its services' logs.
        Some("30"),
        "days CloudWatch Logs keeps the containers' and the platform's logs",
    ),
    a(
        "instance_profile",
        Ty::Str,
        None,
        "IAM instance profile name for the instances; apply creates one when absent",
    ),
    a(
        "keep_versions",
        // Elastic Beanstalk holds at most 1,000 application versions per region ("Elastic
        // Beanstalk endpoints and quotas"); two keep the version rollback returns to.
        Ty::Int(2, 1000),
        Some("10"),
        "application versions apply keeps: after a healthy deploy, older ones stackc made are \
         deleted with their bundles",
    ),
    a(
        "template",
        Ty::Bool,
        Some("false"),
        "a template for preview environments: deployed only as named instances \
         (`--env NAME --name pr-42`), whose stores are not deletion-protected by default",
    ),
    a(
        "approval",
        Ty::Bool,
        Some("false"),
        "the pipeline `stackc ci` writes applies it only after a person approves",
    ),
    a(
        "service_role",
        Ty::Str,
        None,
        "IAM role name or ARN for Elastic Beanstalk; apply creates one when absent",
    ),
    a(
        "domain",
        Ty::Str,
        None,
        "the domain served over HTTPS, e.g. `\"app.example.com\"`: apply requests its certificate and, when Route 53 hosts its zone, writes its DNS records (load-balanced only)",
    ),
    a(
        "certificate",
        Ty::Str,
        None,
        "ARN of an existing ACM certificate for the HTTPS listener, instead of the one apply requests for `domain` (load-balanced only)",
    ),
    // Elastic Beanstalk's `aws:autoscaling:asg` `MinSize` and `MaxSize`: default 1 and 4,
    // valid values 1 to 10000 ("General options for all environments").
    a(
        "min_instances",
        Ty::Int(1, 10_000),
        Some("1"),
        "fewest instances the Auto Scaling group runs, 1 to 10000 (load-balanced only)",
    ),
    a(
        "max_instances",
        Ty::Int(1, 10_000),
        Some("4"),
        "most instances the Auto Scaling group runs, 1 to 10000, at least `min_instances` (load-balanced only)",
    ),
    // Below 10 % an idle instance (the ECS agent, Docker) already breaches it and the group
    // grows to its maximum; above 90 % instances saturate before a new one is in service.
    a(
        "target_cpu_percent",
        Ty::Int(10, 90),
        None,
        "average CPU, in percent (10 to 90), above which an instance is added; one is removed below half of it. Absent: Elastic Beanstalk's trigger on outbound network traffic (load-balanced only)",
    ),
];

/// The environment's attributes that only a load balancer gives a meaning to: HTTPS is served
/// by it, and a single instance is an Auto Scaling group of exactly one.
pub static LOAD_BALANCED_ONLY: &[&str] = &[
    "domain",
    "certificate",
    "min_instances",
    "max_instances",
    "target_cpu_percent",
];

/// A container's memory, MiB: Docker's smallest (6 MiB) to the language's largest (4 TiB).
pub const MEMORY_MIB: (u64, u64) = (6, 4 * 1024 * 1024);

pub static SERVICE: &[AttrSpec] = &[
    a(
        "image",
        Ty::Str,
        None,
        "Docker image to pull, e.g. `\"nginx:1.27\"`; a service has `image` or `build`",
    ),
    a(
        "build",
        Ty::Str,
        None,
        "build the image from a Dockerfile: the context directory (holding `Dockerfile`), \
         relative to the `.stack` file; or a block `build { context dockerfile target args }`",
    ),
    a(
        "memory",
        Ty::Size {
            unit_mib: MIB,
            min: MEMORY_MIB.0,
            max: MEMORY_MIB.1,
        },
        None,
        "hard memory limit (ECS `memory`); one of `memory`, `memory_reservation` is required",
    ),
    a(
        "memory_reservation",
        Ty::Size {
            unit_mib: MIB,
            min: MEMORY_MIB.0,
            max: MEMORY_MIB.1,
        },
        None,
        "soft memory limit (ECS `memoryReservation`); below `memory` when both are set",
    ),
    a(
        "essential",
        Ty::Bool,
        Some("false"),
        "when this container stops, the whole task stops; at least one service must be essential",
    ),
    a("hostname", Ty::Str, None, "the container's hostname"),
    a(
        "ports",
        Ty::Ports,
        Some("[]"),
        "port mappings `host:container[/tcp|/udp]`; a lone `8080` means `8080:8080`",
    ),
    a(
        "links",
        Ty::Names,
        Some("[]"),
        "services this container reaches by name (ECS links)",
    ),
    a("command", Ty::Strings, None, "overrides the image's CMD"),
    a(
        "entrypoint",
        Ty::Strings,
        None,
        "overrides the image's ENTRYPOINT",
    ),
    a(
        "working_dir",
        Ty::Str,
        None,
        "the working directory of the command",
    ),
];

/// The attributes of a service's `build { }` block (`build = "DIR"` is its `context` alone).
pub static BUILD: &[AttrSpec] = &[
    req(
        "context",
        Ty::Str,
        "the build context: a directory, relative to the `.stack` file",
    ),
    a(
        "dockerfile",
        Ty::Str,
        Some("\"Dockerfile\""),
        "the Dockerfile, relative to the context and inside it",
    ),
    a(
        "target",
        Ty::Str,
        None,
        "the stage of a multi-stage Dockerfile to build (`--target`); the last one when absent",
    ),
    a(
        "args",
        Ty::BuildArgs,
        Some("[]"),
        "build arguments, `[\"NAME=value\"]` (`--build-arg`)",
    ),
];

/// The name of a service's nested block that holds its build, and of the short form's key.
pub const BUILD_BLOCK: &str = "build";

pub static POSTGRES: &[AttrSpec] = &[
    a(
        "identifier",
        Ty::Str,
        Some("\"<stack>-<name>\""),
        "RDS DB instance identifier",
    ),
    req("database", Ty::Str, "name of the database RDS creates"),
    a(
        "version",
        Ty::Str,
        Some("\"16\""),
        "PostgreSQL engine version",
    ),
    a(
        "class",
        Ty::Str,
        Some("\"db.t3.micro\""),
        "RDS instance class",
    ),
    a(
        "storage",
        Ty::Size {
            unit_mib: GIB,
            min: 20,
            max: 65536,
        },
        Some("20 GiB"),
        "allocated storage, 20 GiB to 65536 GiB",
    ),
    a(
        "username",
        Ty::Str,
        Some("\"postgres\""),
        "master user name",
    ),
    a(
        "password",
        Ty::Password,
        Some("managed"),
        "`managed` (RDS keeps it in Secrets Manager) or `secret(\"VAR\")` (read from the deployer's environment)",
    ),
    a(
        "backup_days",
        Ty::Int(0, 35),
        Some("7"),
        "days of automated backups, 0 to 35",
    ),
    a(
        "deletion_protection",
        Ty::Bool,
        Some("true"),
        "refuse deletion (also by `stackc destroy`); `false` in a template's previews",
    ),
    a(
        "multi_az",
        Ty::Bool,
        Some("false"),
        "a standby in a second availability zone",
    ),
    a(
        "encrypted",
        Ty::Bool,
        Some("true"),
        "encrypt storage at rest",
    ),
    a(
        "public",
        Ty::Bool,
        Some("false"),
        "give the instance a public address",
    ),
];

pub static REDIS: &[AttrSpec] = &[
    a(
        "identifier",
        Ty::Str,
        Some("\"<stack>-<name>\""),
        "ElastiCache cluster (or replication group) id",
    ),
    a(
        "node_type",
        Ty::Str,
        Some("\"cache.t3.micro\""),
        "ElastiCache node type",
    ),
    a(
        "engine",
        Ty::Word(&["redis", "valkey"]),
        Some("redis"),
        "the engine: Redis OSS or Valkey (an extension of the contract)",
    ),
    a(
        "version",
        Ty::Str,
        Some("\"7.1\""),
        "engine version (default `\"8.0\"` with `engine = valkey`)",
    ),
    a(
        "replicas",
        Ty::Int(0, 5),
        Some("0"),
        "read replicas, 0 to 5 (more than 0 makes a replication group)",
    ),
    a(
        "encrypted",
        Ty::Bool,
        Some("false"),
        "encryption in transit and at rest (clients must speak TLS)",
    ),
];

/// The default of attribute `name` in a table, as a string value (without its quotes).
pub fn default_str(specs: &[AttrSpec], name: &str) -> &'static str {
    specs
        .iter()
        .find(|s| s.name == name)
        .and_then(|s| s.default)
        .unwrap_or_default()
        .trim_matches('"')
}

/// A port mapping as checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortMapping {
    pub host: u16,
    pub container: u16,
    pub udp: bool,
    pub span: Span,
}

/// A value converted to its attribute's type.
#[derive(Clone, Debug, PartialEq)]
pub enum Typed {
    Str(CompactString),
    Bool(bool),
    Int(u64),
    /// In the attribute's size unit (MiB or GiB).
    Size(u64),
    Ports(Vec<PortMapping>),
    Names(Vec<Ident>),
    Strings(Vec<CompactString>),
    Word(&'static str),
    /// `secret("VAR")`: the variable name; `managed` is `Word("managed")`.
    Secret(String),
    /// Build arguments by name.
    BuildArgs(BTreeMap<String, String>),
}

/// The attributes of one block after reading: typed values with the spans they came from.
#[derive(Debug, Default)]
pub struct AttrMap {
    /// The block's table, which holds the defaults.
    specs: &'static [AttrSpec],
    /// A block has a handful of attributes: a vector searched in order beats hashing (one
    /// map per block was a tenth of `check` on big files).
    values: Vec<(&'static str, Typed, Span)>,
    /// Attributes that were written but could not be read (already reported): rules that
    /// depend on them stay silent rather than report a consequence.
    failed: Vec<&'static str>,
}

impl AttrMap {
    fn entry(&self, name: &str) -> Option<&(&'static str, Typed, Span)> {
        self.values.iter().find(|(n, ..)| *n == name)
    }

    pub fn get(&self, name: &str) -> Option<&Typed> {
        self.entry(name).map(|(_, t, _)| t)
    }

    pub fn span(&self, name: &str) -> Option<Span> {
        self.entry(name).map(|(.., s)| *s)
    }

    /// The attribute is absent or was read without error (for lists: every element).
    pub fn ok(&self, name: &str) -> bool {
        !self.failed.contains(&name)
    }

    /// The attribute is written, whether or not it could be read.
    pub fn written(&self, name: &str) -> bool {
        self.entry(name).is_some() || self.failed.contains(&name)
    }

    pub fn str(&self, name: &str) -> Option<String> {
        self.compact_str(name).map(String::from)
    }

    /// The table's default of an attribute, as written (`"t3.small"`, `20 GiB`, `true`).
    fn default_text(&self, name: &str) -> &'static str {
        self.specs
            .iter()
            .find(|s| s.name == name)
            .and_then(|s| s.default)
            .unwrap_or_default()
    }

    /// A string attribute, else its default from the table (one place holds each default).
    pub fn str_or_default(&self, name: &str) -> String {
        self.str(name)
            .unwrap_or_else(|| default_str(self.specs, name).to_string())
    }

    /// An integer or size attribute, else its default from the table.
    pub fn int_or_default(&self, name: &str) -> u64 {
        self.int(name).unwrap_or_else(|| {
            let text = self.default_text(name);
            text.split(' ')
                .next()
                .unwrap_or(text)
                .parse()
                .unwrap_or_default()
        })
    }

    /// A boolean attribute, else its default from the table.
    pub fn bool_or_default(&self, name: &str) -> bool {
        self.bool(name)
            .unwrap_or_else(|| self.default_text(name) == "true")
    }

    /// [`Self::str`] for the model's many short strings (no allocation up to 24 bytes).
    pub fn compact_str(&self, name: &str) -> Option<CompactString> {
        match self.get(name) {
            Some(Typed::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        match self.get(name) {
            Some(Typed::Bool(b)) => Some(*b),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<u64> {
        match self.get(name) {
            Some(Typed::Int(n) | Typed::Size(n)) => Some(*n),
            _ => None,
        }
    }

    pub fn word(&self, name: &str) -> Option<&'static str> {
        match self.get(name) {
            Some(Typed::Word(w)) => Some(w),
            _ => None,
        }
    }

    pub fn strings(&self, name: &str) -> Option<Vec<CompactString>> {
        match self.get(name) {
            Some(Typed::Strings(v)) => Some(v.clone()),
            _ => None,
        }
    }

    pub fn build_args(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        match self.get(name) {
            Some(Typed::BuildArgs(args)) => Some(args),
            _ => None,
        }
    }
}

/// Reads the attributes of a block of `kind`: reports unknown, duplicate, mistyped and
/// out-of-range attributes, and required ones that are missing (labelled on `block_name`).
pub fn read(
    kind: Kind,
    block_name: &Ident,
    attrs: &[&Attr],
    errors: &mut Vec<CheckError>,
) -> AttrMap {
    let table = Table {
        specs: kind.attrs(),
        kind: kind.keyword(),
        owner: kind.keyword(),
        block: block_name.text.to_string(),
        unknown_help: &|key| unknown_attr_help(kind, key),
    };
    read_table(&table, block_name.span, attrs, errors)
}

/// Reads the attributes of service `service`'s `build { }` block, whose name is at `at`.
pub fn read_build(
    service: &str,
    at: Span,
    attrs: &[&Attr],
    errors: &mut Vec<CheckError>,
) -> AttrMap {
    let table = Table {
        specs: BUILD,
        kind: BUILD_BLOCK,
        owner: "the `build` block of service",
        block: service.to_string(),
        unknown_help: &|key| match did_you_mean(key, BUILD.iter().map(|s| s.name)) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                let all: Vec<&str> = BUILD.iter().map(|s| s.name).collect();
                format!("a `build` block has: {}", all.join(", "))
            }
        },
    };
    read_table(&table, at, attrs, errors)
}

/// A table of attributes as [`read_table`] reads it, with what its messages call the block.
struct Table<'a> {
    specs: &'static [AttrSpec],
    /// The kind of block (`service`, `build`), as "KIND blocks have no attribute" says it.
    kind: &'static str,
    /// What "OWNER `BLOCK` has no `ATTR`" calls the block: its kind, or for a nested block
    /// what it belongs to (``the `build` block of service``).
    owner: &'static str,
    /// The block's name (a nested block's: its block's).
    block: String,
    /// The help of an attribute the table does not have.
    unknown_help: &'a dyn Fn(&str) -> String,
}

/// Reads attributes against a table; a missing required attribute is labelled on `at`.
fn read_table(
    table: &Table<'_>,
    at: Span,
    attrs: &[&Attr],
    errors: &mut Vec<CheckError>,
) -> AttrMap {
    let specs = table.specs;
    let mut map = AttrMap {
        specs,
        ..AttrMap::default()
    };
    let mut seen: Vec<(&str, Span)> = Vec::with_capacity(attrs.len());
    for attr in attrs {
        let key = attr.key.text.as_str();
        let Some(spec) = specs.iter().find(|s| s.name == key) else {
            // A misspelled attribute counts as written (and failed), so that its absence
            // is not reported as well.
            if let Some(meant) = did_you_mean(key, specs.iter().map(|s| s.name)) {
                if let Some(spec) = specs.iter().find(|s| s.name == meant) {
                    map.failed.push(spec.name);
                }
            }
            errors.push(CheckError::UnknownAttribute {
                span: attr.key.span,
                kind: table.kind,
                key: key.to_string(),
                help: Some((table.unknown_help)(key)),
            });
            continue;
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            errors.push(CheckError::DuplicateName {
                span: attr.key.span,
                first: *first,
                what: "attribute",
                name: key.to_string(),
                verb: "defined",
                help: Some("remove one of them".into()),
            });
            continue;
        }
        seen.push((spec.name, attr.key.span));
        let before = errors.len();
        let typed = convert(spec, &attr.value, errors);
        if errors.len() > before || has_invalid(&attr.value) {
            map.failed.push(spec.name);
        }
        match typed {
            Some(t) => map.values.push((spec.name, t, attr.value.span)),
            None => map.failed.push(spec.name),
        }
    }
    for spec in specs.iter().filter(|s| s.required) {
        if !map.written(spec.name) {
            errors.push(CheckError::MissingAttribute {
                span: at,
                kind: table.owner,
                block: table.block.clone(),
                attr: spec.name.to_string(),
                help: Some(format!("add `{} = {}`", spec.name, example_of(spec))),
            });
        }
    }
    map
}

/// Help for an attribute the block kind does not have: a close name, the block kind that has
/// it, or the list of the kind's attributes.
fn unknown_attr_help(kind: Kind, key: &str) -> String {
    let specs = kind.attrs();
    if let Some(s) = did_you_mean(key, specs.iter().map(|s| s.name)) {
        return format!("did you mean `{s}`?");
    }
    if kind == Kind::Service && key == "env" {
        return "environment variables go in a block: `env { KEY = \"value\" }`".into();
    }
    if let Some(other) = Kind::ALL
        .into_iter()
        .find(|k| k.attrs().iter().any(|s| s.name == key))
    {
        return format!("`{key}` is an attribute of `{}` blocks", other.keyword());
    }
    let all: Vec<&str> = specs.iter().map(|s| s.name).collect();
    format!("{} blocks have: {}", kind.keyword(), all.join(", "))
}

/// Whether the parser already reported something inside this value.
fn has_invalid(v: &Value) -> bool {
    match &v.kind {
        ValueKind::Invalid => true,
        ValueKind::List(items) => items.iter().any(has_invalid),
        _ => false,
    }
}

/// An example value for a help line that adds a missing attribute.
fn example_of(spec: &AttrSpec) -> &'static str {
    match (spec.name, spec.ty) {
        ("database", _) => "\"app\"",
        ("context", _) => "\"./DIR\"",
        (_, Ty::Str) => "\"...\"",
        (_, Ty::Size { unit_mib: GIB, .. }) => "20 GiB",
        (_, Ty::Size { .. }) => "128 MiB",
        _ => "...",
    }
}

fn mismatch(spec: &AttrSpec, v: &Value, help: Option<String>) -> CheckError {
    CheckError::TypeMismatch {
        span: v.span,
        expected: spec.ty.describe(),
        found: v.kind.describe().to_string(),
        help,
    }
}

fn out_of_range(
    what: String,
    value: String,
    min: u64,
    max: u64,
    unit: &str,
    span: Span,
) -> CheckError {
    CheckError::OutOfRange {
        span,
        what,
        value,
        range: format!("{min}{unit} to {max}{unit}"),
        help: None,
    }
}

/// An attribute's value out of its range, with the closest allowed value as the fix.
fn attr_out_of_range(
    name: &str,
    value: String,
    n: u64,
    min: u64,
    max: u64,
    unit: &str,
    span: Span,
) -> CheckError {
    let closest = n.clamp(min, max);
    CheckError::OutOfRange {
        span,
        what: format!("`{name}`"),
        value,
        range: format!("{min}{unit} to {max}{unit}"),
        help: Some(format!(
            "the closest allowed value is {closest}{unit}: `{name} = {closest}{unit}`"
        )),
    }
}

/// Converts one written value to the attribute's type, or reports why it cannot. A value the
/// parser already reported is refused silently.
fn convert(spec: &AttrSpec, v: &Value, errors: &mut Vec<CheckError>) -> Option<Typed> {
    let name = spec.name;
    let result = match (spec.ty, &v.kind) {
        (_, ValueKind::Invalid) => return None,
        (Ty::Str, ValueKind::Str(s)) => Ok(Typed::Str(s.clone())),
        (Ty::Str, ValueKind::Word(w) | ValueKind::Cidr(w)) => {
            Err(Some(format!("write it in quotes: `{name} = \"{w}\"`")))
        }
        (Ty::Str, ValueKind::Int(n)) => {
            Err(Some(format!("write it in quotes: `{name} = \"{n}\"`")))
        }
        (Ty::Str, ValueKind::Ref(r)) => Err(Some(format!(
            "write it in quotes: `{name} = \"{}.{}\"`",
            r.target, r.attr
        ))),
        (Ty::Bool, ValueKind::Bool(b)) => Ok(Typed::Bool(*b)),
        (Ty::Bool, ValueKind::Str(s)) if s == "true" || s == "false" => {
            Err(Some(format!("write it without quotes: `{name} = {s}`")))
        }
        (Ty::Bool, ValueKind::Word(w) | ValueKind::Str(w)) => {
            Err(Some(match w.to_ascii_lowercase().as_str() {
                "yes" | "on" | "true" | "y" => format!("write `{name} = true`"),
                "no" | "off" | "false" | "n" => format!("write `{name} = false`"),
                _ => format!("write `{name} = true` or `{name} = false`"),
            }))
        }
        (Ty::Bool, ValueKind::Int(n)) if *n <= 1 => Err(Some(format!(
            "write `{name} = {}`",
            if *n == 1 { "true" } else { "false" }
        ))),
        (Ty::Int(min, max), ValueKind::Int(n)) => {
            if *n < min || *n > max {
                errors.push(attr_out_of_range(
                    name,
                    n.to_string(),
                    *n,
                    min,
                    max,
                    "",
                    v.span,
                ));
                return None;
            }
            Ok(Typed::Int(*n))
        }
        (Ty::IntIn(allowed), ValueKind::Int(n)) => {
            if !allowed.contains(n) {
                // The closest allowed value, the larger one on a tie (keeping more is safer).
                let closest = allowed
                    .iter()
                    .copied()
                    .min_by_key(|a| (a.abs_diff(*n), u64::MAX - a))
                    .unwrap_or(*n);
                errors.push(CheckError::OutOfRange {
                    span: v.span,
                    what: format!("`{name}`"),
                    value: n.to_string(),
                    range: spec.ty.describe(),
                    help: Some(format!(
                        "the closest allowed value is {closest}: `{name} = {closest}`"
                    )),
                });
                return None;
            }
            Ok(Typed::Int(*n))
        }
        (Ty::Int(..) | Ty::IntIn(_), ValueKind::Str(s)) if s.parse::<u64>().is_ok() => {
            Err(Some(format!("write it without quotes: `{name} = {s}`")))
        }
        (Ty::Size { unit_mib, min, max }, ValueKind::Size { amount, unit }) => {
            let per_unit_kib = unit.kib();
            let unit_name = if unit_mib == GIB { " GiB" } else { " MiB" };
            let target_kib = unit_mib * 1024;
            let kib = amount.saturating_mul(per_unit_kib);
            if kib == u64::MAX {
                errors.push(out_of_range(
                    format!("`{name}`"),
                    format!("{amount} {unit}"),
                    min,
                    max,
                    unit_name,
                    v.span,
                ));
                return None;
            }
            if kib % target_kib != 0 {
                errors.push(CheckError::TypeMismatch {
                    span: v.span,
                    expected: format!("a whole number of{unit_name}"),
                    found: format!("{amount} {unit}"),
                    help: Some(format!("`{name}` is counted in{unit_name}")),
                });
                return None;
            }
            let n = kib / target_kib;
            if n < min || n > max {
                errors.push(attr_out_of_range(
                    name,
                    format!("{amount} {unit}"),
                    n,
                    min,
                    max,
                    unit_name,
                    v.span,
                ));
                return None;
            }
            Ok(Typed::Size(n))
        }
        (Ty::Size { unit_mib, .. }, ValueKind::Int(n)) => {
            let unit = if unit_mib == GIB { "GiB" } else { "MiB" };
            Err(Some(format!("sizes need a unit: write `{n} {unit}`")))
        }
        (Ty::Size { .. }, ValueKind::Str(s)) => Err(Some(format!(
            "write sizes without quotes, e.g. `{name} = {}`",
            s.trim()
        ))),
        (Ty::Ports, ValueKind::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match port_mapping(item, errors) {
                    Ok(Some(p)) => out.push(p),
                    Ok(None) => {}
                    Err(help) => errors.push(CheckError::TypeMismatch {
                        span: item.span,
                        expected: "a port mapping (`80:80`)".into(),
                        found: item.kind.describe().into(),
                        help,
                    }),
                }
            }
            Ok(Typed::Ports(out))
        }
        (Ty::Ports, ValueKind::Port { .. } | ValueKind::Int(_)) => Err(Some(format!(
            "write a list: `{name} = [{}]`",
            source_hint(v)
        ))),
        (Ty::Ports, ValueKind::Str(s)) => Err(Some(format!(
            "write a list without quotes: `{name} = [{s}]`"
        ))),
        (Ty::Names, ValueKind::List(items)) => {
            let mut out: Vec<Ident> = Vec::new();
            let mut seen: HashMap<&str, Span> = HashMap::default();
            for item in items {
                match &item.kind {
                    ValueKind::Word(w) => {
                        if let Some(first) = seen.get(w.as_str()) {
                            errors.push(CheckError::DuplicateName {
                                span: item.span,
                                first: *first,
                                what: "link",
                                name: w.to_string(),
                                verb: "listed",
                                help: Some(format!("remove the second `{w}` from `{name}`")),
                            });
                            continue;
                        }
                        seen.insert(w, item.span);
                        out.push(Ident {
                            text: w.clone(),
                            span: item.span,
                        });
                    }
                    ValueKind::Invalid => {}
                    other => errors.push(CheckError::TypeMismatch {
                        span: item.span,
                        expected: "a name".into(),
                        found: other.describe().into(),
                        help: match other {
                            ValueKind::Str(s) => Some(format!("write names without quotes: `{s}`")),
                            ValueKind::Ref(r) => {
                                Some(format!("name the service only: `{}`", r.target))
                            }
                            _ => None,
                        },
                    }),
                }
            }
            Ok(Typed::Names(out))
        }
        (Ty::Names, ValueKind::Word(w)) => Err(Some(format!("write a list: `{name} = [{w}]`"))),
        (Ty::Names, ValueKind::Str(s)) => {
            Err(Some(format!("write a list of names: `{name} = [{s}]`")))
        }
        (Ty::Strings, ValueKind::List(items)) => {
            let mut out = Vec::new();
            for item in items {
                match &item.kind {
                    ValueKind::Str(s) => out.push(s.clone()),
                    ValueKind::Invalid => {}
                    other => errors.push(CheckError::TypeMismatch {
                        span: item.span,
                        expected: "a string".into(),
                        found: other.describe().into(),
                        help: Some(match other {
                            ValueKind::Word(w) => format!("write it in quotes: `\"{w}\"`"),
                            ValueKind::Int(n) => format!("write it in quotes: `\"{n}\"`"),
                            _ => "write each element in quotes".into(),
                        }),
                    }),
                }
            }
            Ok(Typed::Strings(out))
        }
        (Ty::Strings, ValueKind::Str(s)) => {
            let words: Vec<String> = s.split_whitespace().map(|w| format!("{w:?}")).collect();
            Err(Some(format!(
                "write a list: `{name} = [{}]`",
                words.join(", ")
            )))
        }
        (Ty::Word(words), ValueKind::Word(w)) => match words.iter().find(|x| *x == w) {
            Some(x) => Ok(Typed::Word(x)),
            None => {
                errors.push(CheckError::TypeMismatch {
                    span: v.span,
                    expected: spec.ty.describe(),
                    found: format!("`{w}`"),
                    help: Some(match (did_you_mean(w, words.iter().copied()), words) {
                        (Some(s), _) => format!("did you mean `{s}`?"),
                        (None, [only]) => format!("write `{name} = {only}`"),
                        (None, _) => format!("write one of {}", spec.ty.describe()),
                    }),
                });
                return None;
            }
        },
        (Ty::Word(words), ValueKind::Str(s)) if words.contains(&s.as_str()) => {
            Err(Some(format!("write it without quotes: `{name} = {s}`")))
        }
        (Ty::Password, ValueKind::Word(w)) if w == "managed" => Ok(Typed::Word("managed")),
        (Ty::Password, ValueKind::Word(w)) => Err(Some(match did_you_mean(w, ["managed"]) {
            Some(m) => format!("did you mean `{m}`?"),
            None => format!(
                "to read it from your environment at apply time, write `{name} = secret(\"{w}\")`"
            ),
        })),
        (Ty::Password, ValueKind::Secret(var)) => {
            if !super::names::is_env_key(&var.text) {
                errors.push(super::names::invalid_env_var(var));
                return None;
            }
            Ok(Typed::Secret(var.text.to_string()))
        }
        (Ty::Password, ValueKind::Str(s)) if s == "managed" => {
            Err(Some(format!("write it without quotes: `{name} = managed`")))
        }
        (Ty::Password, ValueKind::Str(_) | ValueKind::Int(_)) => {
            errors.push(CheckError::PasswordLiteral { span: v.span });
            return None;
        }
        (Ty::BuildArgs, ValueKind::List(items)) => Ok(Typed::BuildArgs(build_args(items, errors))),
        (Ty::BuildArgs, ValueKind::Str(s)) => {
            Err(Some(format!("write a list: `{name} = [{s:?}]`")))
        }
        _ => Err(None),
    };
    match result {
        Ok(t) => Some(t),
        Err(help) => {
            errors.push(mismatch(spec, v, help));
            None
        }
    }
}

/// The elements of `args`: each `"NAME=value"`, each name once. The value is the build's own:
/// a build reads no argument from the deployer's environment (its hash would not know it).
fn build_args(items: &[Value], errors: &mut Vec<CheckError>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut seen: HashMap<&str, Span> = HashMap::default();
    for item in items {
        let s = match &item.kind {
            ValueKind::Str(s) => s,
            ValueKind::Invalid => continue,
            other => {
                errors.push(CheckError::TypeMismatch {
                    span: item.span,
                    expected: "a build argument (`\"NAME=value\"`)".into(),
                    found: other.describe().into(),
                    help: Some("write each argument in quotes: `\"NAME=value\"`".into()),
                });
                continue;
            }
        };
        let Some((key, value)) = s.split_once('=') else {
            errors.push(CheckError::TypeMismatch {
                span: item.span,
                expected: "a build argument (`\"NAME=value\"`)".into(),
                found: "a string without `=`".into(),
                help: Some(format!(
                    "give it a value: `\"{s}=...\"` (a build reads no argument from your environment)"
                )),
            });
            continue;
        };
        if !super::names::is_env_key(key) {
            errors.push(CheckError::InvalidName {
                span: item.span,
                name: key.to_string(),
                what: "build argument name".into(),
                rule: "letters, digits and `_`, not starting with a digit".into(),
                help: super::names::fix_env_key(key).map(|f| format!("try `{f}`")),
            });
            continue;
        }
        if let Some(first) = seen.get(key) {
            errors.push(CheckError::DuplicateName {
                span: item.span,
                first: *first,
                what: "build argument",
                name: key.to_string(),
                verb: "listed",
                help: Some("remove one of them".into()),
            });
            continue;
        }
        seen.insert(key, item.span);
        out.insert(key.to_string(), value.to_string());
    }
    out
}

/// A short rendering of a scalar for a help line.
fn source_hint(v: &Value) -> String {
    match &v.kind {
        ValueKind::Port {
            host,
            container,
            protocol,
        } => match protocol {
            Some(p) => format!("{host}:{container}/{}", p.text),
            None => format!("{host}:{container}"),
        },
        ValueKind::Int(n) => n.to_string(),
        _ => "...".into(),
    }
}

/// One element of `ports`: Ok(Some) when valid, Ok(None) when an error was already reported,
/// Err(help) when it is not a port mapping at all.
fn port_mapping(
    v: &Value,
    errors: &mut Vec<CheckError>,
) -> Result<Option<PortMapping>, Option<String>> {
    let (host, container, protocol) = match &v.kind {
        ValueKind::Port {
            host,
            container,
            protocol,
        } => (*host, *container, protocol.as_ref()),
        ValueKind::Int(n) => (*n, *n, None),
        ValueKind::Invalid => return Ok(None),
        ValueKind::Str(s) => {
            return Err(Some(format!("write port mappings without quotes: `{s}`")));
        }
        _ => return Err(None),
    };
    let mut ok = true;
    let lone = matches!(v.kind, ValueKind::Int(_));
    let sides: &[(&str, u64)] = if lone {
        &[("port", host)]
    } else {
        &[("host port", host), ("container port", container)]
    };
    for &(what, p) in sides {
        if !(1..=65535).contains(&p) {
            errors.push(CheckError::OutOfRange {
                span: v.span,
                what: what.into(),
                value: p.to_string(),
                range: "1 to 65535".into(),
                help: None,
            });
            ok = false;
        }
    }
    let udp = match protocol.map(|p| p.text.as_str()) {
        None | Some("tcp") => false,
        Some("udp") => true,
        Some(other) => {
            errors.push(CheckError::TypeMismatch {
                span: protocol.map_or(v.span, |p| p.span),
                expected: "`tcp` or `udp`".into(),
                found: format!("`{other}`"),
                help: did_you_mean(other, ["tcp", "udp"]).map(|s| format!("did you mean `{s}`?")),
            });
            ok = false;
            false
        }
    };
    Ok(ok.then_some(PortMapping {
        host: host as u16,
        container: container as u16,
        udp,
        span: v.span,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults the checker fills in are read from the tables: each must read as its type.
    #[test]
    fn every_default_reads_as_its_type() {
        let tables = Kind::ALL.map(|k| (k.keyword(), k.attrs()));
        for (kind, specs) in tables.into_iter().chain([(BUILD_BLOCK, BUILD)]) {
            let map = AttrMap {
                specs,
                ..AttrMap::default()
            };
            for spec in specs {
                let Some(text) = spec.default else { continue };
                let ok = match spec.ty {
                    Ty::Str => text.starts_with('"') && text.ends_with('"') && text.len() >= 2,
                    Ty::Int(min, max) => (min..=max).contains(&map.int_or_default(spec.name)),
                    Ty::IntIn(allowed) => allowed.contains(&map.int_or_default(spec.name)),
                    Ty::Size { min, max, .. } => {
                        (min..=max).contains(&map.int_or_default(spec.name))
                    }
                    Ty::Bool => text == "true" || text == "false",
                    Ty::Word(words) => words.contains(&text),
                    Ty::Password => text == "managed",
                    Ty::Ports | Ty::Names | Ty::Strings | Ty::BuildArgs => text == "[]",
                };
                assert!(ok, "{kind}.{}: default `{text}`", spec.name);
            }
        }
        let env = AttrMap {
            specs: ENVIRONMENT,
            ..AttrMap::default()
        };
        assert_eq!(env.str_or_default("instance_type"), "t3.small");
        let pg = AttrMap {
            specs: POSTGRES,
            ..AttrMap::default()
        };
        assert_eq!(pg.int_or_default("storage"), 20);
        assert!(pg.bool_or_default("deletion_protection"));
    }
}
