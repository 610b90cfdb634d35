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

    #[error("{message}")]
    #[diagnostic(code(stack::missing_item))]
    MissingItem {
        #[label("{label}")]
        span: Span,
        #[label("first defined here")]
        first: Option<Span>,
        message: String,
        label: String,
        #[help]
        help: Option<String>,
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

    #[error("{message}")]
    #[diagnostic(code(stack::unknown_attribute))]
    UnknownAttribute {
        #[label("{label}")]
        span: Span,
        message: String,
        label: String,
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

    #[error("links form a cycle: {cycle}")]
    #[diagnostic(code(stack::link_cycle))]
    LinkCycle {
        #[label("{label}")]
        span: Span,
        label: String,
        cycle: String,
        /// Every other hop of the cycle (the first ones, for a long cycle).
        #[label(collection)]
        hops: Vec<LabeledSpan>,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(stack::port_conflict))]
    PortConflict {
        #[label("{label}")]
        span: Span,
        #[label("first mapped here")]
        first: Option<Span>,
        message: String,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(stack::memory))]
    Memory {
        #[label("{label}")]
        span: Span,
        #[label(collection)]
        others: Vec<LabeledSpan>,
        message: String,
        label: String,
        #[help]
        help: Option<String>,
    },

    #[error("service `{service}` reads `{store}` but no firewall rule lets it reach `{store}`")]
    #[diagnostic(code(stack::unreachable))]
    Unreachable {
        #[label("`{service}` cannot connect to `{store}`")]
        span: Span,
        service: String,
        store: String,
        /// The rule to add, in a sentence that says where.
        #[help]
        help: Option<String>,
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
        help: Option<String>,
    },

    #[error("{message}")]
    #[diagnostic(code(stack::secret_literal))]
    SecretLiteral {
        #[label("a secret written in the file")]
        span: Span,
        message: String,
        #[help]
        help: Option<String>,
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
    #[diagnostic(code(stack::syntax))]
    MissingTarget {
        #[label("{label}")]
        span: Span,
        label: String,
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
