//! Lints: security and hygiene rules run on a program that type-checked, one rule per file
//! (ruff's layout). A rule reads the checked [`Model`] for meaning and the AST for places: every
//! diagnostic names the resource, labels the attribute or firewall rule at fault and says the
//! exact fix. The defaults of the language never trigger a rule.
//!
//! [`suppress`] handles `# allow(stack::CODE)` comments; pages for `stackc explain` live in
//! `docs/rules/` (see [`crate::check::explain`]).

mod error;
mod latest_tag;
mod no_backups;
mod no_deletion_protection;
mod open_to_world;
mod plain_secret_env;
mod public_database;
mod single_az;
pub mod suppress;
mod unencrypted;
mod unused_port;
mod wide_cidr;

use rustc_hash::FxHashMap as HashMap;

pub use error::LintError;
pub(crate) use open_to_world::DANGEROUS;

use super::{Model, Postgres, Redis, StoreKind};
use crate::syntax::ast::{self, Attr, Block, Item, Span};

/// The codes of the lints, in the order they are documented.
pub const CODES: &[&str] = &[
    "stack::public_database",
    "stack::open_to_world",
    "stack::unencrypted",
    "stack::no_backups",
    "stack::no_deletion_protection",
    "stack::single_az",
    "stack::latest_tag",
    "stack::wide_cidr",
    "stack::plain_secret_env",
    "stack::unused_port",
];

/// What changes which lints run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `stackc check --strict`: also `single_az`, `latest_tag` and unencrypted redis.
    pub strict: bool,
}

/// Runs every lint on a checked program; diagnostics in no particular order.
pub fn lint(file: &ast::File, model: &Model, options: &Options) -> Vec<LintError> {
    let mut blocks = HashMap::default();
    let mut firewalls = Vec::new();
    for item in &file.items {
        match item {
            Item::Block(b) => {
                // The model exists, so names are unique: the first block of a name is the one.
                blocks.entry(b.name.text.as_str()).or_insert(b);
            }
            Item::Firewall(f) => firewalls.push(f),
        }
    }
    let mut cx = Cx {
        model,
        options,
        blocks,
        firewalls,
        out: Vec::new(),
    };
    public_database::check(&mut cx);
    open_to_world::check(&mut cx);
    unencrypted::check(&mut cx);
    no_backups::check(&mut cx);
    no_deletion_protection::check(&mut cx);
    single_az::check(&mut cx);
    latest_tag::check(&mut cx);
    wide_cidr::check(&mut cx);
    plain_secret_env::check(&mut cx);
    unused_port::check(&mut cx);
    cx.out
}

/// What a rule sees.
pub(crate) struct Cx<'a> {
    pub model: &'a Model,
    pub options: &'a Options,
    blocks: HashMap<&'a str, &'a Block>,
    pub firewalls: Vec<&'a ast::Firewall>,
    pub out: Vec<LintError>,
}

impl<'a> Cx<'a> {
    pub fn push(&mut self, e: LintError) {
        self.out.push(e);
    }

    /// The block that defines `name`.
    pub fn block(&self, name: &str) -> Option<&'a Block> {
        self.blocks.get(name).copied()
    }

    /// The attribute `key` of block `name`, when written.
    pub fn attr(&self, name: &str, key: &str) -> Option<&'a Attr> {
        self.block(name)?.entries.iter().find_map(|e| match e {
            ast::Entry::Attr(a) if a.key.text == key => Some(a),
            _ => None,
        })
    }

    /// Where attribute `key` of block `name` is written, else the block's name.
    pub fn attr_or_name(&self, name: &str, key: &str) -> Span {
        self.attr(name, key)
            .map(|a| a.span())
            .or_else(|| self.block(name).map(|b| b.name.span))
            .unwrap_or_default()
    }

    /// The postgres stores, with their names.
    pub fn postgres(&self) -> impl Iterator<Item = (&'a str, &'a Postgres)> {
        self.model.stores.iter().filter_map(|s| match &s.kind {
            StoreKind::Postgres(p) => Some((s.name.as_str(), p)),
            StoreKind::Redis(_) => None,
        })
    }

    /// The redis stores, with their names.
    pub fn redis(&self) -> impl Iterator<Item = (&'a str, &'a Redis)> {
        self.model.stores.iter().filter_map(|s| match &s.kind {
            StoreKind::Redis(r) => Some((s.name.as_str(), r)),
            StoreKind::Postgres(_) => None,
        })
    }

    /// Every port rule of the firewall (`allow PORTS from SOURCES to SERVICE`).
    pub fn port_rules(&self) -> impl Iterator<Item = (&'a ast::FirewallRule, &'a ast::Ident)> {
        self.firewalls
            .iter()
            .flat_map(|f| &f.rules)
            .filter_map(|r| r.target.as_ref().map(|t| (r, t)))
    }
}

/// The host port a firewall rule's subject opens, with its protocol: `80`, `53/udp`.
pub(crate) fn rule_port(v: &ast::Value) -> Option<(u64, &str)> {
    match &v.kind {
        ast::ValueKind::Int(p) => Some((*p, "tcp")),
        ast::ValueKind::Port { host, protocol, .. } => {
            Some((*host, protocol.as_ref().map_or("tcp", |p| p.text.as_str())))
        }
        _ => None,
    }
}

/// The written text of a port: `80`, `53/udp`.
pub(crate) fn port_text(port: u64, protocol: &str) -> String {
    if protocol == "tcp" {
        port.to_string()
    } else {
        format!("{port}/{protocol}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint_src(src: &str, strict: bool) -> Vec<&'static str> {
        let parsed = crate::syntax::parse(src);
        let file = parsed.file.expect("parses");
        let checked = crate::check::check(&file);
        let model = checked
            .model
            .unwrap_or_else(|| panic!("{:?}", checked.errors));
        let mut codes: Vec<&'static str> = lint(&file, &model, &Options { strict })
            .iter()
            .map(|e| {
                let code = miette::Diagnostic::code(e).map(|c| c.to_string());
                CODES
                    .iter()
                    .find(|c| Some(c.to_string()) == code)
                    .copied()
                    .unwrap_or("?")
            })
            .collect();
        codes.sort_unstable();
        codes
    }

    const DEFAULTS: &str = r#"
stack app { }
environment app-prod { execution_role = "arn:aws:iam::123456789012:role/r" }
service web { image = "nginx" memory = 128 MiB essential = true ports = [80] env { H = db.host P = db.password R = cache.host } }
postgres db { database = "app" }
redis cache { }
firewall {
  allow 80 from internet to web
  allow db, cache from web
}
"#;

    #[test]
    fn defaults_give_no_lint() {
        assert_eq!(lint_src(DEFAULTS, false), Vec::<&str>::new());
    }

    #[test]
    fn strict_adds_only_the_strict_rules() {
        assert_eq!(
            lint_src(DEFAULTS, true),
            [
                "stack::latest_tag",
                "stack::single_az",
                "stack::unencrypted"
            ]
        );
    }

    #[test]
    fn ten_thousand_rules_lint_quickly() {
        use std::fmt::Write as _;
        // A task holds at most 10 containers and an instance 94 host ports: the size a big
        // program grows in is its firewall.
        let (services, ports, rules) = (10, 9, 10_000);
        let mut src = String::from(
            "stack big { }\nenvironment big-env { instance_type = \"m6i.32xlarge\" }\n",
        );
        for i in 0..services {
            let essential = if i == 0 { "essential = true" } else { "" };
            let mapped: Vec<String> = (0..ports)
                .map(|p| (10_000 + i * ports + p).to_string())
                .collect();
            let _ = writeln!(
                src,
                "service s{i} {{ image = \"x\" memory = 6 MiB {essential} ports = [{}] }}",
                mapped.join(", ")
            );
        }
        src.push_str("firewall {\n");
        // The ports of the first half of the services, each from many networks.
        let opened = services / 2 * ports;
        for r in 0..rules {
            let port = 10_000 + r % opened;
            let _ = writeln!(
                src,
                "allow {port} from 10.{}.{}.0/24 to s{}",
                r / 256 % 256,
                r % 256,
                (port - 10_000) / ports
            );
        }
        src.push_str("}\n");
        let start = std::time::Instant::now();
        let codes = lint_src(&src, true);
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        // The unopened half of the ports, and `x` has no tag.
        assert_eq!(
            codes.len(),
            (services - services / 2) * ports + services,
            "{codes:?}"
        );
    }

    #[test]
    fn every_rule_has_a_code_in_the_list() {
        let src = DEFAULTS
            .replace("database = \"app\"", "database = \"app\" public = true encrypted = false backup_days = 0 deletion_protection = false password = secret(\"PW\")")
            .replace("ports = [80]", "ports = [80, 22222, 5432, 8081]")
            .replace("allow 80 from internet to web", "allow 80, 5432 from internet to web\n allow 22222 from 8.0.0.0/7 to web");
        let codes = lint_src(&src, true);
        for code in CODES {
            assert!(codes.contains(code), "{code} not triggered: {codes:?}");
        }
    }
}
