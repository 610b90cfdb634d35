//! Diagnostics of the check phase: one variant per kind of problem, each with its stable code.
//!
//! Every variant's first field is its primary span (the JSON output and the sort order rely on
//! it); secondary places ("first defined here", each hop of a cycle) are further labels.

use miette::{Diagnostic, LabeledSpan};
use thiserror::Error;

use crate::syntax::ast::Span;

#[derive(Debug, Error, Diagnostic, Clone, PartialEq)]
pub enum CheckError {
    #[error("unknown block kind `{kind}`")]
    #[diagnostic(code(stack::unknown_block))]
    UnknownBlock {
        #[label("not a kind of block")]
        span: Span,
        kind: String,
        #[help]
        help: Option<String>,
    },

    #[error("{what} `{name}` is {verb} twice")]
    #[diagnostic(code(stack::duplicate_name))]
    DuplicateName {
        #[label("{verb} again here")]
        span: Span,
        #[label("first {verb} here")]
        first: Span,
        what: &'static str,
        name: String,
        /// `defined` (items, keys, attributes) or `listed` (an element of a list).
        verb: &'static str,
        #[help]
        help: Option<String>,
    },

    #[error("no `{kind}` block")]
    #[diagnostic(code(stack::missing_item), help("add `{example}`"))]
    MissingBlock {
        #[label("expected {article} `{kind}` block in this file")]
        span: Span,
        kind: &'static str,
        article: &'static str,
        /// A block to add.
        example: &'static str,
    },

    #[error("the file defines nothing")]
    #[diagnostic(
        code(stack::missing_item),
        help("a program has a `stack`, an `environment` and at least one `service` block")
    )]
    EmptyFile {
        #[label("expected blocks in this file")]
        span: Span,
    },

    #[error("unknown {what} `{name}`")]
    #[diagnostic(code(stack::unknown_name))]
    UnknownName {
        #[label("no {what} has this name")]
        span: Span,
        what: &'static str,
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("{kind} blocks have no attribute `{key}`")]
    #[diagnostic(code(stack::unknown_attribute))]
    UnknownAttribute {
        #[label("unknown attribute")]
        span: Span,
        kind: &'static str,
        key: String,
        #[help]
        help: Option<String>,
    },

    #[error("{kind} blocks have no block `{name}`")]
    #[diagnostic(code(stack::unknown_attribute))]
    UnknownNestedBlock {
        #[label("unknown block")]
        span: Span,
        kind: &'static str,
        name: String,
        #[help]
        help: Option<String>,
    },

    #[error("{kind} `{store}` exports no `{attr}`")]
    #[diagnostic(code(stack::unknown_attribute))]
    NotExported {
        #[label("not exported")]
        span: Span,
        kind: &'static str,
        store: String,
        attr: String,
        #[help]
        help: Option<String>,
    },

    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(stack::type_mismatch))]
    TypeMismatch {
        #[label("expected {expected}")]
        span: Span,
        expected: String,
        found: String,
        #[help]
        help: Option<String>,
    },

    #[error("{kind} `{block}` has no `{attr}`")]
    #[diagnostic(code(stack::missing_attribute))]
    MissingAttribute {
        #[label("`{attr}` is required")]
        span: Span,
        kind: &'static str,
        block: String,
        attr: String,
        #[help]
        help: Option<String>,
    },

    #[error("{what} {value} is out of range")]
    #[diagnostic(code(stack::out_of_range))]
    OutOfRange {
        #[label("must be {range}")]
        span: Span,
        what: String,
        value: String,
        range: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{name}` is not a valid {what}")]
    #[diagnostic(code(stack::invalid_name))]
    InvalidName {
        #[label("{rule}")]
        span: Span,
        name: String,
        what: String,
        rule: String,
        #[help]
        help: Option<String>,
    },

    #[error("no service is essential")]
    #[diagnostic(
        code(stack::no_essential),
        help(
            "mark the container whose failure should stop the task: `essential = true` \
             (usually the one that serves traffic)"
        )
    )]
    NoEssential {
        #[label("none of the services is marked `essential = true`")]
        span: Span,
    },

    #[error("links form a cycle: {service} → {service}")]
    #[diagnostic(
        code(stack::link_cycle),
        help("a service reaches itself without a link: remove `{service}` from its `links`")
    )]
    SelfLink {
        #[label("`{service}` links to itself")]
        span: Span,
        service: String,
    },

    #[error("links form a cycle: {cycle}")]
    #[diagnostic(
        code(stack::link_cycle),
        help(
            "ECS starts a linked container before the one that links to it, so a cycle cannot \
             start: remove one of these links"
        )
    )]
    LinkCycle {
        #[label("`{from}` links back to `{to}`, closing the cycle")]
        span: Span,
        from: String,
        to: String,
        /// `a → b → a`, shortened for a long cycle.
        cycle: String,
        /// Every other hop of the cycle (the first ones, for a long cycle).
        #[label(collection)]
        hops: Vec<LabeledSpan>,
    },

    #[error("host port {port} is reserved by ECS")]
    #[diagnostic(
        code(stack::port_conflict),
        help(
            "ECS keeps 22, 2375, 2376 and 51678-51680 for itself: map another host port, \
             e.g. `{other}:{container}`"
        )
    )]
    ReservedPort {
        #[label("reserved")]
        span: Span,
        port: u16,
        container: u16,
        /// A free host port to suggest.
        other: u16,
    },

    #[error("host port {port} is mapped twice")]
    #[diagnostic(
        code(stack::port_conflict),
        help("a host port is bound by one container only: pick another host port")
    )]
    PortMappedTwice {
        #[label("mapped again here")]
        span: Span,
        #[label("first mapped here")]
        first: Span,
        port: u16,
    },

    #[error(
        "{count} host ports, but an ECS container instance reserves at most {max} besides its own"
    )]
    #[diagnostic(
        code(stack::port_conflict),
        help(
            "all services run on the same instances, which reserve at most 100 ports, 6 of them \
             ECS's own: map fewer host ports (linked containers reach each other without them)"
        )
    )]
    TooManyHostPorts {
        #[label("host port number {nth}")]
        span: Span,
        count: usize,
        nth: usize,
        max: usize,
    },

    #[error("`memory_reservation` ({soft} MiB) is not below `memory` ({hard} MiB)")]
    #[diagnostic(
        code(stack::memory),
        help("lower `memory_reservation` or raise `memory`, or keep only one of them")
    )]
    ReservationNotBelow {
        #[label("the soft limit must be below the hard limit")]
        span: Span,
        #[label("the hard limit is {hard} MiB")]
        hard_span: Option<Span>,
        soft: u32,
        hard: u32,
    },

    #[error("the services need {need} MiB but a {instance_type} instance has {total} MiB")]
    #[diagnostic(code(stack::memory))]
    MemoryOverInstance {
        /// On the `instance_type` written, or the environment's name for the default one.
        #[label("{total} MiB")]
        written: Option<Span>,
        #[label("the default instance type, {instance_type}, has {total} MiB")]
        defaulted: Option<Span>,
        /// The biggest services.
        #[label(collection)]
        others: Vec<LabeledSpan>,
        need: u64,
        total: u64,
        instance_type: String,
        #[help]
        bigger: Bigger,
    },

    #[error("service `{service}` reads `{store}` but no firewall rule lets it reach `{store}`")]
    #[diagnostic(code(stack::unreachable), help("{}", rule_to_add(*no_firewall, store, service)))]
    Unreachable {
        #[label("`{service}` cannot connect to `{store}`")]
        span: Span,
        service: String,
        store: String,
        /// The file has no firewall block: the help writes a whole one.
        no_firewall: bool,
    },

    #[error("port {port} is not mapped on the host by service `{service}`")]
    #[diagnostic(code(stack::unmapped_port))]
    UnmappedPort {
        #[label("nothing listens on host port {port}")]
        span: Span,
        #[label("`{service}` is defined here")]
        service_span: Span,
        /// The port as written in a rule: `8080`, `53/udp`.
        port: String,
        service: String,
        #[help]
        fix: MapFix,
    },

    #[error("a password is written in the file")]
    #[diagnostic(
        code(stack::secret_literal),
        help(
            "use `password = managed` (RDS keeps it in Secrets Manager) or \
             `password = secret(\"DB_PASSWORD\")` (read from your environment at apply time)"
        )
    )]
    PasswordLiteral {
        #[label("a secret written in the file")]
        span: Span,
    },

    #[error("env key `{key}` looks secret but is given a literal value")]
    #[diagnostic(code(stack::secret_literal))]
    SecretLiteral {
        #[label("a secret written in the file")]
        span: Span,
        key: String,
        #[help]
        fix: SecretFix,
    },

    #[error(
        "service `{service}` reads the managed password of `{store}` but the environment names its own `instance_profile` and no `execution_role`"
    )]
    #[diagnostic(
        code(stack::missing_execution_role),
        help(
            "ECS fetches the secret with the task execution role, which the instance profile's role must be allowed to pass: \
             add `execution_role = \"arn:aws:iam::ACCOUNT:role/NAME\"` to environment `{environment}` (a role trusted by \
             `ecs-tasks.amazonaws.com` that may read the secret), or remove `instance_profile` and stackc makes both"
        )
    )]
    MissingExecutionRole {
        #[label("needs a task execution role")]
        span: Span,
        #[label("the environment is defined here")]
        environment_span: Span,
        /// Further reads of managed passwords, which the same fix serves.
        #[label(collection)]
        others: Vec<LabeledSpan>,
        service: String,
        store: String,
        environment: String,
    },

    #[error("environment key `{key}` is bound to `{this}` here and to `{other}` elsewhere")]
    #[diagnostic(
        code(stack::env_conflict),
        help(
            "Elastic Beanstalk hands its environment properties to every container, so a key \
             holds one value: rename one of the keys"
        )
    )]
    EnvConflict {
        #[label("bound to `{this}`")]
        span: Span,
        #[label("bound to `{other}` here")]
        first: Span,
        key: String,
        this: String,
        other: String,
    },

    #[error("an Application Load Balancer cannot forward {port}")]
    #[diagnostic(code(stack::load_balancer_port))]
    LoadBalancerPort {
        #[label("not forwarded by the load balancer")]
        span: Span,
        #[label("the environment is load-balanced here")]
        tier: Span,
        /// The port as written in the rule: `53/udp`.
        port: String,
        #[help]
        help: Option<String>,
    },

    #[error("`{attr}` needs a load balancer, and environment `{environment}` is a single instance")]
    #[diagnostic(code(stack::needs_load_balancer))]
    NeedsLoadBalancer {
        #[label("only a load-balanced environment has this")]
        span: Span,
        /// `tier = single`, when written.
        #[label("a single instance here")]
        tier: Option<Span>,
        attr: &'static str,
        environment: String,
        #[help]
        help: Option<String>,
    },

    #[error("`min_instances` ({min}) is above `max_instances` ({max}{defaulted})")]
    #[diagnostic(code(stack::instance_range))]
    InstanceRange {
        #[label("at least {min} instances")]
        span: Span,
        /// `max_instances`, when written.
        #[label("at most {max}")]
        max_span: Option<Span>,
        min: u64,
        max: u64,
        /// `, the default` when `max_instances` is not written.
        defaulted: &'static str,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(stack::https_port))]
    HttpsPort {
        #[label("{label}")]
        span: Span,
        /// Where HTTPS is turned on (`domain` or `certificate`), when it is not the span.
        #[label("HTTPS is served here")]
        https: Option<Span>,
        message: String,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("a port rule needs a target: `to SERVICE`")]
    #[diagnostic(
        code(stack::syntax),
        help("name the service that listens: `allow {ports} from {sources} to SERVICE`")
    )]
    MissingTarget {
        #[label("opens {ports} to which service?")]
        span: Span,
        /// The rule's ports and sources as written.
        ports: String,
        sources: String,
    },

    #[error("environments `{first_env}` and `{env}` would share the {kind} `{identifier}`")]
    #[diagnostic(
        code(stack::shared_identifier),
        help(
            "each environment has its own data stores: give `{env}` its own, \
             `environment {env} {{ {store} {{ identifier = \"{identifier}-{env}\" }} }}`, or remove the \
             written identifier (the derived `<stack>-<environment>-{store}` differs per environment)"
        )
    )]
    SharedIdentifier {
        #[label("`{env}` uses this identifier")]
        span: Span,
        #[label("so does `{first_env}`")]
        first: Option<Span>,
        kind: &'static str,
        identifier: String,
        store: String,
        first_env: String,
        env: String,
    },

    #[error("environments `{first_env}` and `{env}` would both serve `{domain}`")]
    #[diagnostic(
        code(stack::shared_domain),
        help(
            "the domain's record points at one load balancer: give `{env}` a domain of its own \
             (`{env}.{domain}`, say), or remove it there"
        )
    )]
    SharedDomain {
        #[label("`{env}` serves it here")]
        span: Span,
        #[label("so does `{first_env}`")]
        first: Span,
        domain: String,
        first_env: String,
        env: String,
    },

    #[error("every preview of template `{env}` would serve `{domain}`")]
    #[diagnostic(
        code(stack::shared_domain),
        help(
            "the domain's record points at one load balancer, and a template has many previews: \
             remove `domain` from `{env}` (a preview is reached at its Elastic Beanstalk URL)"
        )
    )]
    TemplateDomain {
        #[label("one domain for every preview")]
        span: Span,
        #[label("a template here")]
        template: Option<Span>,
        domain: String,
        env: String,
    },

    #[error("{count} services, but an ECS task definition holds at most {max} containers")]
    #[diagnostic(
        code(stack::too_many_containers),
        help(
            "Elastic Beanstalk runs every service as a container of the environment's one task: \
             split the services into two stacks, each with its own environment, or run more \
             processes in one container"
        )
    )]
    TooManyContainers {
        #[label("container {nth}: one more than a task holds")]
        span: Span,
        #[label("the environment runs all {count} in one task")]
        environment: Option<Span>,
        count: usize,
        nth: usize,
        max: usize,
    },

    #[error(
        "the environment properties take at least {bytes} bytes, more than the {max} Elastic Beanstalk takes"
    )]
    #[diagnostic(
        code(stack::env_too_large),
        help(
            "every store export and `secret(...)` value is an Elastic Beanstalk environment \
             property, counted as `KEY=value`: shorten the keys, share one key between services, \
             or give a container a literal value (it goes to that container only and does not count)"
        )
    )]
    EnvTooLarge {
        #[label("`{key}` takes {size} bytes")]
        span: Span,
        /// The next biggest properties.
        #[label(collection)]
        others: Vec<LabeledSpan>,
        key: String,
        size: usize,
        bytes: usize,
        max: usize,
    },

    #[error("service `{service}` has both an `image` and a `build`")]
    #[diagnostic(
        code(stack::image_source),
        help(
            "a service runs an image it pulls or one stackc builds from a Dockerfile: remove \
             `image` to build it, or `build` to pull the image"
        )
    )]
    BothImageAndBuild {
        #[label("built from a Dockerfile")]
        span: Span,
        #[label("and pulls an image")]
        image: Span,
        service: String,
    },

    #[error("service `{service}` has no `image` and no `build`")]
    #[diagnostic(
        code(stack::image_source),
        help(
            "pull an image, `image = \"nginx:1.27\"`, or build one from a directory that holds \
             a Dockerfile, relative to this file: `build = \"./{service}\"`"
        )
    )]
    NoImageSource {
        #[label("needs an image or a build")]
        span: Span,
        service: String,
    },

    #[error("{}", path_message(what, path, *problem))]
    #[diagnostic(code(stack::build_path))]
    BuildPath {
        #[label("{problem}")]
        span: Span,
        /// `build context` or `Dockerfile`.
        what: &'static str,
        /// As written; a Dockerfile joined to its context, unless it is empty or outside it.
        path: String,
        problem: PathProblem,
        #[help]
        help: Option<String>,
    },

    #[error("{what} `{name}` is not read by any service")]
    #[diagnostic(
        code(stack::unused),
        severity(Warning),
        help("reference it from a service's env (e.g. `HOST = {name}.host`) or remove it")
    )]
    Unused {
        #[label("never read")]
        span: Span,
        what: &'static str,
        name: String,
    },
}

/// What is wrong with a path of a build ([`CheckError::BuildPath`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    Empty,
    /// A context that is a URL (a git repository): stackc builds from a local directory.
    Url,
    /// A context that is an absolute path: paths are relative to the `.stack` file.
    Absolute,
    /// A Dockerfile that is absolute or climbs out of its context.
    Outside,
    Missing,
    NotDirectory,
    NotFile,
}

impl std::fmt::Display for PathProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PathProblem::Empty => "is empty",
            PathProblem::Url => "is a URL, not a directory",
            PathProblem::Absolute => "is absolute",
            PathProblem::Outside => "is outside the build context",
            PathProblem::Missing => "does not exist",
            PathProblem::NotDirectory => "is not a directory",
            PathProblem::NotFile => "is not a file",
        })
    }
}

/// The message of [`CheckError::BuildPath`]: an empty path is not quoted.
fn path_message(what: &str, path: &str, problem: PathProblem) -> String {
    match problem {
        PathProblem::Empty => format!("the {what} path is empty"),
        _ => format!("{what} `{path}` {problem}"),
    }
}

/// The help of [`CheckError::MemoryOverInstance`]: a bigger instance type that holds the
/// services, with its memory, when one does.
#[derive(Debug, Clone, PartialEq)]
pub struct Bigger(pub Option<(&'static str, u64)>);

impl std::fmt::Display for Bigger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some((t, mib)) => write!(
                f,
                "choose a larger `instance_type` (`{t}` has {mib} MiB) or lower the services' memory"
            ),
            None => f.write_str("lower the services' memory"),
        }
    }
}

/// The help of [`CheckError::SecretLiteral`]: the key, the variable to read it from, and a
/// postgres store whose password it could read instead.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretFix {
    pub key: String,
    pub var: String,
    pub store: Option<String>,
}

impl std::fmt::Display for SecretFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (k, var) = (&self.key, &self.var);
        write!(
            f,
            "read it from the deployer's environment at apply time: `{k} = secret(\"{var}\")`"
        )?;
        if let Some(store) = &self.store {
            write!(f, ", or from a store: `{k} = {store}.password`")?;
        }
        Ok(())
    }
}

/// The help of [`CheckError::Unreachable`]: the rule that lets the service reach the store,
/// in a sentence that says where it goes.
fn rule_to_add(no_firewall: bool, store: &str, service: &str) -> String {
    if no_firewall {
        format!("add a firewall block: `firewall {{ allow {store} from {service} }}`")
    } else {
        format!("add this rule to the firewall block: `allow {store} from {service}`")
    }
}

/// The help of [`CheckError::UnmappedPort`]: the mapping to add to the service, or the host
/// ports it maps already (as written in a rule: `8080`, `53/udp`).
#[derive(Debug, Clone, PartialEq)]
pub struct MapFix {
    pub service: String,
    pub port: u64,
    pub udp: bool,
    pub mapped: Vec<String>,
}

impl std::fmt::Display for MapFix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (s, port) = (&self.service, self.port);
        let udp = if self.udp { "/udp" } else { "" };
        if self.mapped.is_empty() {
            write!(f, "add `ports = [{port}:{port}{udp}]` to service `{s}`")
        } else {
            let mapped = self.mapped.join(", ");
            write!(
                f,
                "`{s}` maps host port {mapped}: open that, or add `{port}:{port}{udp}` to its `ports`"
            )
        }
    }
}
