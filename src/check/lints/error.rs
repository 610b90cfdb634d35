//! Diagnostics of the lint pass: one variant per rule (two for `open_to_world`, whose
//! severity depends on the port), each with its stable code. As in [`crate::check::CheckError`],
//! every variant's first field is its primary span.

use miette::Diagnostic;
use thiserror::Error;

use crate::syntax::ast::Span;

#[derive(Debug, Error, Diagnostic, Clone, PartialEq)]
pub enum LintError {
    #[error("postgres `{store}` is reachable from the internet")]
    #[diagnostic(
        code(stack::public_database),
        help(
            "remove `public = true` (the default is `false`): services reach `{store}` through a firewall rule, `allow {store} from SERVICE`"
        )
    )]
    PublicDatabase {
        #[label("gives the database a public address")]
        span: Span,
        store: String,
    },

    #[error("the firewall opens port {port} of service `{service}` to the whole internet")]
    #[diagnostic(code(stack::open_to_world), help("{help}"))]
    OpenToWorld {
        #[label("{what} is open to `internet`")]
        span: Span,
        #[label("from anywhere")]
        from: Span,
        port: String,
        service: String,
        what: String,
        help: String,
    },

    #[error("the firewall opens port {port} of service `{service}` to the whole internet")]
    #[diagnostic(code(stack::open_to_world), severity(Warning), help("{help}"))]
    OpenToWorldWarning {
        #[label("{what} is open to `internet`")]
        span: Span,
        #[label("from anywhere")]
        from: Span,
        port: String,
        service: String,
        what: String,
        help: String,
    },

    #[error("{kind} `{store}` is not encrypted")]
    #[diagnostic(code(stack::unencrypted), severity(Warning), help("{help}"))]
    Unencrypted {
        #[label("{label}")]
        span: Span,
        kind: &'static str,
        store: String,
        label: String,
        help: String,
    },

    #[error("postgres `{store}` keeps no automated backups")]
    #[diagnostic(
        code(stack::no_backups),
        severity(Warning),
        help(
            "write `backup_days = 7` (or remove the line: 7 is the default); 1 to 35 days are allowed"
        )
    )]
    NoBackups {
        #[label("no point-in-time recovery")]
        span: Span,
        store: String,
    },

    #[error("postgres `{store}` can be deleted by a single call")]
    #[diagnostic(
        code(stack::no_deletion_protection),
        severity(Warning),
        help(
            "remove `deletion_protection = false` (the default is `true`); `stackc destroy` keeps protected stores"
        )
    )]
    NoDeletionProtection {
        #[label("deletion protection is off")]
        span: Span,
        store: String,
    },

    #[error(
        "postgres `{store}` of production environment `{environment}` runs in one availability zone"
    )]
    #[diagnostic(
        code(stack::single_az),
        severity(Warning),
        help(
            "write `multi_az = true` in postgres `{store}`: RDS keeps a standby in a second zone and fails over to it"
        )
    )]
    SingleAz {
        #[label("{label}")]
        span: Span,
        store: String,
        environment: String,
        label: String,
    },

    #[error("service `{service}` uses image `{image}` without a fixed tag")]
    #[diagnostic(code(stack::latest_tag), severity(Warning), help("{help}"))]
    LatestTag {
        #[label("{label}")]
        span: Span,
        service: String,
        image: String,
        label: String,
        help: String,
    },

    #[error(
        "the firewall admits `{cidr}`, a block of {addresses} addresses, to service `{service}`"
    )]
    #[diagnostic(
        code(stack::wide_cidr),
        severity(Warning),
        help(
            "name the networks that need access, each /8 or narrower (e.g. `10.0.0.0/16`); write `internet` if the whole internet is meant"
        )
    )]
    WideCidr {
        #[label("wider than /8")]
        span: Span,
        cidr: String,
        addresses: String,
        service: String,
    },

    #[error(
        "the password of postgres `{store}` passes through the deployer's environment variable `{var}`"
    )]
    #[diagnostic(
        code(stack::plain_secret_env),
        severity(Warning),
        help(
            "write `password = managed`: RDS keeps the password in Secrets Manager, and services read it with `{store}.password` (the environment then needs an `execution_role`)"
        )
    )]
    PlainSecretEnv {
        #[label("read from `{var}` at apply time")]
        span: Span,
        store: String,
        var: String,
    },

    #[error("host port {port} of service `{service}` is mapped but nothing reaches it")]
    #[diagnostic(code(stack::unused_port), severity(Warning), help("{help}"))]
    UnusedPort {
        #[label("no firewall rule opens it and no service links to `{service}`")]
        span: Span,
        port: String,
        service: String,
        help: String,
    },
}
