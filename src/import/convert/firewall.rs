//! Pass 7: the firewall. The public service's mapped ports are open to the internet; each
//! store admits the services that read it (an export, an apply-time URL, or a dependency);
//! the other published ports are listed, closed, with the rule that would open them to a
//! private network.

use crate::check::Protocol;
use crate::fmt::build::Val;
use crate::import::{SourceKind, Warnings};

use super::{Out, Plan};

/// A line of the firewall block: a rule with the comments above it, or comments alone.
pub(super) struct Rule {
    pub notes: Vec<String>,
    pub rule: Option<(Vec<Val>, Vec<Val>, Option<String>)>,
}

fn port_val(port: u16, protocol: Protocol) -> Val {
    match protocol {
        Protocol::Udp => Val::Port(port, port, true),
        Protocol::Tcp => Val::Int(u64::from(port)),
    }
}

/// The services (indices into `svcs`) that read each store.
pub(super) fn readers(plan: &Plan<'_>) -> Vec<Vec<usize>> {
    let mut reads: Vec<Vec<usize>> = vec![Vec::new(); plan.stores.len()];
    for (si, svc) in plan.svcs.iter().enumerate() {
        for e in &svc.env {
            if let Out::Ref(st, _) = e.value {
                if !reads[st].contains(&si) {
                    reads[st].push(si);
                }
            }
        }
    }
    for (st, store) in plan.stores.iter().enumerate() {
        for r in &store.other_readers {
            if !reads[st].contains(r) {
                reads[st].push(*r);
            }
        }
        reads[st].sort_unstable();
    }
    reads
}

pub(super) fn rules(plan: &Plan<'_>, w: &mut Warnings) -> Vec<Rule> {
    let mut rules = Vec::new();
    for &i in &plan.public {
        let ports: Vec<Val> = plan.svcs[i]
            .ports
            .iter()
            .map(|p| port_val(p.0, p.2))
            .collect();
        if ports.is_empty() {
            continue;
        }
        rules.push(Rule {
            notes: Vec::new(),
            rule: Some((
                ports,
                vec![Val::Word("internet".into())],
                Some(plan.svcs[i].name.clone()),
            )),
        });
    }
    for (st, readers) in readers(plan).into_iter().enumerate() {
        let store = &plan.stores[st];
        if readers.is_empty() {
            w.add(
                plan.app.services[store.raw].line,
                format!(
                    "no service reads store `{}` (no env variable names it, nothing depends on it): the firewall does not open it, and `stackc check` reports it unused",
                    store.name
                ),
            );
            continue;
        }
        rules.push(Rule {
            notes: Vec::new(),
            rule: Some((
                vec![Val::Word(store.name.clone())],
                readers
                    .iter()
                    .map(|r| Val::Word(plan.svcs[*r].name.clone()))
                    .collect(),
                None,
            )),
        });
    }
    if !plan.closed.is_empty() {
        let what = match plan.kind {
            SourceKind::Compose => "the compose file",
            SourceKind::Dockerrun => "the Dockerrun.aws.json",
        };
        let mut notes = vec![format!(
            "TODO: {what} also published these ports, which stay closed; to open one, map it in its service (`ports = [PORT]`) and admit only the networks that need it:"
        )];
        for c in &plan.closed {
            let port = match c.protocol {
                Protocol::Udp => format!("{}/udp", c.port),
                Protocol::Tcp => c.port.to_string(),
            };
            let why = c.why.map(|w| format!(" # {w}")).unwrap_or_default();
            notes.push(format!(
                "allow {port} from 10.0.0.0/16 to {}{why}",
                plan.svcs[c.svc].name
            ));
        }
        rules.push(Rule { notes, rule: None });
    }
    rules
}
