//! `stack::wide_cidr` [warning]: a firewall source wider than /8 that is not `internet`: such
//! a block is almost always a typo (`/2` for `/24`) or the internet in disguise.

use super::{Cx, LintError};
use crate::syntax::ast::ValueKind;

pub(super) fn check(cx: &mut Cx<'_>) {
    let mut found = Vec::new();
    for (rule, target) in cx.port_rules() {
        for source in &rule.sources {
            let ValueKind::Cidr(c) = &source.kind else {
                continue;
            };
            let Some(prefix) = c.split_once('/').and_then(|(_, p)| p.parse::<u32>().ok()) else {
                continue;
            };
            if (1..8).contains(&prefix) {
                let addresses = (1u64 << (32 - prefix)).to_string();
                found.push((
                    source.span,
                    c.to_string(),
                    addresses,
                    target.text.to_string(),
                ));
            }
        }
    }
    for (span, cidr, addresses, service) in found {
        cx.push(LintError::WideCidr {
            span,
            cidr,
            addresses,
            service,
        });
    }
}
