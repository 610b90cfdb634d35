//! `stack::open_to_world`: a firewall rule opens a port other than 80/443 to `internet`
//! (CKV_AWS_24/25, AWS-0107). An error for the ports of remote administration and of data
//! stores, which attackers scan for; a warning for any other port.

use super::{Cx, LintError, port_text, rule_port};
use crate::syntax::ast::ValueKind;

/// Ports that must never face the internet, with what usually listens there.
pub(crate) const DANGEROUS: &[(u64, &str)] = &[
    (20, "FTP data"),
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (135, "Windows RPC"),
    (137, "NetBIOS"),
    (138, "NetBIOS"),
    (139, "NetBIOS"),
    (445, "SMB"),
    (1433, "SQL Server"),
    (1521, "Oracle"),
    (2049, "NFS"),
    (2375, "the Docker API"),
    (2376, "the Docker API"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (5984, "CouchDB"),
    (6379, "Redis"),
    (9042, "Cassandra"),
    (9200, "Elasticsearch"),
    (9300, "Elasticsearch"),
    (11211, "Memcached"),
    (27017, "MongoDB"),
    (27018, "MongoDB"),
    (27019, "MongoDB"),
];

/// Ports a web service opens to everyone.
const WEB: &[u64] = &[80, 443];

pub(super) fn check(cx: &mut Cx<'_>) {
    let mut found = Vec::new();
    for (rule, target) in cx.port_rules() {
        let Some(source) = rule.sources.iter().find(|s| match &s.kind {
            ValueKind::Word(w) => w == "internet",
            ValueKind::Cidr(c) => c.ends_with("/0"),
            _ => false,
        }) else {
            continue;
        };
        for subject in &rule.subjects {
            let Some((port, protocol)) = rule_port(subject) else {
                continue;
            };
            if protocol == "tcp" && WEB.contains(&port) {
                continue;
            }
            let text = port_text(port, protocol);
            let known = DANGEROUS.iter().find(|(p, _)| *p == port).map(|(_, w)| *w);
            let rest: Vec<String> = rule
                .subjects
                .iter()
                .filter(|s| s.span != subject.span)
                .filter_map(|s| rule_port(s).map(|(p, pr)| port_text(p, pr)))
                .collect();
            let fix = if rest.is_empty() {
                format!("allow {text} from 10.0.0.0/16 to {target}")
            } else {
                format!(
                    "allow {} from internet to {target}` and `allow {text} from 10.0.0.0/16 to {target}",
                    rest.join(", ")
                )
            };
            let help = match known {
                Some(what) => format!(
                    "{what} is not for the whole internet: admit only the networks that need it, \
                     e.g. `{fix}` (your office or VPN range), or reach it through a bastion or SSM"
                ),
                None => format!(
                    "admit only the networks that need it, e.g. `{fix}`; a public web service \
                     listens on 80 or 443"
                ),
            };
            found.push((
                known.is_some(),
                subject.span,
                source.span,
                text,
                target.text.to_string(),
                known.map_or_else(|| "this port".to_string(), |w| format!("{w} ({port})")),
                help,
            ));
        }
    }
    for (dangerous, span, source, port, service, what, help) in found {
        cx.push(if dangerous {
            LintError::OpenToWorld {
                span,
                from: source,
                port,
                service,
                what,
                help,
            }
        } else {
            LintError::OpenToWorldWarning {
                span,
                from: source,
                port,
                service,
                what,
                help,
            }
        });
    }
}
