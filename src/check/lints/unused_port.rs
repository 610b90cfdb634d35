//! `stack::unused_port` [warning]: a host port that a service maps but that no firewall rule
//! opens and no other service links to: dead configuration, or a forgotten rule.

use rustc_hash::FxHashSet as HashSet;

use super::{Cx, LintError, port_text};
use crate::syntax::ast::{CompactString, ValueKind};

pub(super) fn check(cx: &mut Cx<'_>) {
    let model = cx.model;
    let mut found = Vec::new();
    // Sets, so that the rule stays linear in the size of the program.
    let linked: HashSet<&str> = model
        .services
        .iter()
        .flat_map(|s| s.links.iter().map(CompactString::as_str))
        .collect();
    let opened: HashSet<(&str, u16, &str)> = model
        .firewall
        .ingress
        .iter()
        .map(|g| (g.service.as_str(), g.port, g.protocol.as_str()))
        .collect();
    for s in &model.services {
        if s.ports.is_empty() || linked.contains(s.name.as_str()) {
            continue;
        }
        let written = cx.attr(&s.name, "ports").and_then(|a| match &a.value.kind {
            ValueKind::List(items) => Some(items),
            _ => None,
        });
        for (i, m) in s.ports.iter().enumerate() {
            if opened.contains(&(s.name.as_str(), m.host, m.protocol.as_str())) {
                continue;
            }
            let span = written
                .and_then(|items| items.get(i))
                .map_or_else(|| cx.attr_or_name(&s.name, "ports"), |v| v.span);
            let port = port_text(u64::from(m.host), m.protocol.as_str());
            let help = format!(
                "open it with a firewall rule, e.g. `allow {port} from internet to {}`, or remove it \
                 from `ports`",
                s.name
            );
            found.push((span, port, s.name.to_string(), help));
        }
    }
    for (span, port, service, help) in found {
        cx.push(LintError::UnusedPort {
            span,
            port,
            service,
            help,
        });
    }
}
