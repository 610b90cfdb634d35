//! Rules that span several blocks: links and their cycles, essential containers, host ports,
//! memory against the instance type, the firewall, and store references.
//!
//! Every rule here is linear in the size of the program (hash maps, an iterative DFS), so a
//! 10,000-service file checks as fast per byte as a small one.

use std::collections::{HashMap, HashSet};

use miette::LabeledSpan;

use super::attrs::Kind;
use super::*;
use crate::syntax::ast::{Value, ValueKind};

/// The firewall as checked: the model part, and which services may reach which stores.
pub(crate) struct CheckedFirewall {
    pub model: Firewall,
    /// (store index, service name) pairs that a rule allows.
    pub access: HashSet<(usize, String)>,
}

fn names_in(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::Word(w) => Some(w),
        _ => None,
    }
}

pub(crate) fn firewall(cx: &mut Cx, items: &Items<'_>, services: &[Service], stores: &[Store]) -> CheckedFirewall {
    let mut out = CheckedFirewall {
        model: Firewall::default(),
        access: HashSet::new(),
    };
    let Some(fw) = items.firewall else { return out };
    let store_index: HashMap<&str, usize> = stores.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let service_index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let mut reachable = Vec::new();
    for rule in &fw.rules {
        match &rule.target {
            Some(target) => {
                let svc = match service_index.get(target.text.as_str()) {
                    Some(&i) => Some(i),
                    None => {
                        unknown(cx, target, items, Kind::Service, "service");
                        None
                    }
                };
                let mut cidrs = Vec::new();
                for src in &rule.sources {
                    match &src.kind {
                        ValueKind::Word(w) if w == "internet" => cidrs.push("0.0.0.0/0".to_string()),
                        ValueKind::Cidr(c) => match normalize_cidr(c) {
                            Ok(c) => cidrs.push(c),
                            Err(help) => cx.err(CheckError::TypeMismatch {
                                span: src.span,
                                expected: "a CIDR block (`10.0.0.0/16`)".into(),
                                found: format!("`{c}`"),
                                help: Some(help),
                            }),
                        },
                        other => cx.err(CheckError::TypeMismatch {
                            span: src.span,
                            expected: "`internet` or a CIDR block".into(),
                            found: other.describe().into(),
                            help: Some(match names_in(src) {
                                Some(n) if service_index.contains_key(n) => {
                                    "services share the environment's instances: they reach each other through `links`".into()
                                }
                                _ => "a port rule admits `internet` or a CIDR block: `allow 80 from internet to web`".into(),
                            }),
                        }),
                    }
                }
                for subj in &rule.subjects {
                    let (port, udp) = match &subj.kind {
                        ValueKind::Int(p) => (*p, false),
                        ValueKind::Port { host, container, protocol } if host == container || protocol.is_some() => {
                            if host != container {
                                cx.err(rule_port_mismatch(subj));
                                continue;
                            }
                            match protocol.as_ref().map(|p| p.text.as_str()) {
                                None | Some("tcp") => (*host, false),
                                Some("udp") => (*host, true),
                                Some(other) => {
                                    cx.err(CheckError::TypeMismatch {
                                        span: subj.span,
                                        expected: "`tcp` or `udp`".into(),
                                        found: format!("`{other}`"),
                                        help: None,
                                    });
                                    continue;
                                }
                            }
                        }
                        ValueKind::Port { .. } => {
                            cx.err(rule_port_mismatch(subj));
                            continue;
                        }
                        other => {
                            cx.err(CheckError::TypeMismatch {
                                span: subj.span,
                                expected: "a port".into(),
                                found: other.describe().into(),
                                help: names_in(subj)
                                    .filter(|n| store_index.contains_key(n))
                                    .map(|n| format!("data stores are opened to services without `to`: `allow {n} from SERVICE`")),
                            });
                            continue;
                        }
                    };
                    if !(1..=65535).contains(&port) {
                        cx.err(CheckError::OutOfRange {
                            span: subj.span,
                            what: "port".into(),
                            value: port.to_string(),
                            range: "1 to 65535".into(),
                        });
                        continue;
                    }
                    let Some(i) = svc else { continue };
                    let proto = if udp { Protocol::Udp } else { Protocol::Tcp };
                    let s = &services[i];
                    if !s.ports.iter().any(|p| u64::from(p.host) == port && p.protocol == proto) {
                        cx.err(CheckError::UnmappedPort {
                            span: subj.span,
                            service_span: items.services[i].name.span,
                            port,
                            service: s.name.clone(),
                            help: Some(if s.ports.is_empty() {
                                format!("add `ports = [{port}:{port}]` to service `{}`", s.name)
                            } else {
                                let mapped: Vec<String> = s.ports.iter().map(|p| p.host.to_string()).collect();
                                format!("`{}` maps host port {}: open that, or add `{port}:{port}` to its `ports`", s.name, mapped.join(", "))
                            }),
                        });
                        continue;
                    }
                    for cidr in &cidrs {
                        out.model.ingress.push(Ingress {
                            port: port as u16,
                            protocol: proto,
                            cidr: cidr.clone(),
                            service: s.name.clone(),
                        });
                    }
                }
            }
            None => {
                let mut targets = Vec::new();
                for subj in &rule.subjects {
                    match names_in(subj) {
                        Some(n) if store_index.contains_key(n) => targets.push(store_index[n]),
                        Some(n) if service_index.contains_key(n) => cx.err(CheckError::TypeMismatch {
                            span: subj.span,
                            expected: "a data store".into(),
                            found: format!("service `{n}`"),
                            help: Some(format!("a rule for a service names its port: `allow 80 from internet to {n}`")),
                        }),
                        Some(n) if !items.names.contains_key(n) => unknown(cx, &Ident { text: n.into(), span: subj.span }, items, Kind::Postgres, "data store"),
                        _ => cx.err(CheckError::TypeMismatch {
                            span: subj.span,
                            expected: "a data store name".into(),
                            found: subj.kind.describe().into(),
                            help: matches!(subj.kind, ValueKind::Int(_) | ValueKind::Port { .. })
                                .then(|| "a port rule names its service: `allow 80 from internet to SERVICE`".into()),
                        }),
                    }
                }
                for src in &rule.sources {
                    match names_in(src) {
                        Some(n) if service_index.contains_key(n) => {
                            for &t in &targets {
                                out.access.insert((t, n.to_string()));
                                reachable.push(t);
                            }
                        }
                        Some(n) if n != "internet" && !items.names.contains_key(n) => {
                            unknown(cx, &Ident { text: n.into(), span: src.span }, items, Kind::Service, "service")
                        }
                        _ => cx.err(CheckError::TypeMismatch {
                            span: src.span,
                            expected: "a service name".into(),
                            found: match names_in(src) {
                                Some(n) => format!("`{n}`"),
                                None => src.kind.describe().into(),
                            },
                            help: Some("data stores admit only the environment's services; nothing outside reaches them".into()),
                        }),
                    }
                }
            }
        }
    }
    reachable.sort_unstable();
    reachable.dedup();
    out.model.reachable_stores = reachable;
    out
}

fn rule_port_mismatch(v: &Value) -> CheckError {
    CheckError::TypeMismatch {
        span: v.span,
        expected: "a host port".into(),
        found: "a port mapping".into(),
        help: Some("a rule opens a host port: write only the host side, e.g. `allow 80 from internet to web`".into()),
    }
}

/// Reports an unknown name, with the closest name of the wanted kind.
fn unknown(cx: &mut Cx, name: &Ident, items: &Items<'_>, kind: Kind, what: &'static str) {
    let wanted = |k: &Kind| if kind == Kind::Service { *k == Kind::Service } else { !k.exports().is_empty() };
    let candidates = items.names.iter().filter(|(_, (k, _))| wanted(k)).map(|(n, _)| *n);
    let mut candidates: Vec<&str> = candidates.collect();
    candidates.sort_unstable();
    let help = match items.names.get(name.text.as_str()) {
        Some((k, _)) => Some(format!("`{}` is a {}, not a {what}", name.text, k.keyword())),
        None => did_you_mean(&name.text, candidates).map(|s| format!("did you mean `{s}`?")),
    };
    cx.err(CheckError::UnknownName {
        span: name.span,
        what,
        name: name.text.clone(),
        help,
    });
}

/// `10.0.0.0/16` → itself; `10.0.0.1` → `10.0.0.1/32`; host bits set or bad octets → Err(help).
fn normalize_cidr(c: &str) -> Result<String, String> {
    let (addr, prefix) = c.split_once('/').unwrap_or((c, "32"));
    let octets: Vec<u32> = addr.split('.').filter_map(|o| o.parse().ok()).filter(|o| *o <= 255).collect();
    let prefix: u32 = prefix.parse().map_err(|_| "the prefix length is 0 to 32".to_string())?;
    if octets.len() != 4 {
        return Err("each of the four numbers is 0 to 255".into());
    }
    if prefix > 32 {
        return Err("the prefix length is 0 to 32".into());
    }
    let ip = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    if ip & !mask != 0 {
        let net = ip & mask;
        return Err(format!(
            "the address has bits set beyond the prefix: did you mean `{}.{}.{}.{}/{prefix}`?",
            net >> 24,
            (net >> 16) & 255,
            (net >> 8) & 255,
            net & 255
        ));
    }
    Ok(format!("{addr}/{prefix}"))
}

/// Links name services; links form no cycle (an iterative DFS, so a 10,000-long chain is fine).
pub(crate) fn links(cx: &mut Cx, items: &Items<'_>, services: &[Service]) {
    let index: HashMap<&str, usize> = services.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    // edges[i] = (target, span of the link as written)
    let mut edges: Vec<Vec<(usize, Span)>> = vec![Vec::new(); services.len()];
    for (i, block) in items.services.iter().enumerate() {
        let Some(attr) = entries(block).0.into_iter().find(|a| a.key.text == "links") else { continue };
        let ValueKind::List(list) = &attr.value.kind else { continue };
        for v in list {
            let Some(n) = names_in(v) else { continue };
            match index.get(n) {
                Some(&j) => edges[i].push((j, v.span)),
                None => unknown(cx, &Ident { text: n.into(), span: v.span }, items, Kind::Service, "service"),
            }
        }
    }
    // 0 = unvisited, 1 = on the DFS stack, 2 = done.
    let mut state = vec![0u8; services.len()];
    for root in 0..services.len() {
        if state[root] != 0 {
            continue;
        }
        // Stack of (node, next edge index); `path_edges[k]` is the edge taken from path[k].
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        let mut path_edges: Vec<Span> = Vec::new();
        state[root] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&(to, span)) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        path_edges.push(span);
                        stack.push((to, 0));
                    }
                    1 => {
                        let start = stack.iter().position(|(n, _)| *n == to).unwrap_or(0);
                        let nodes: Vec<usize> = stack[start..].iter().map(|(n, _)| *n).collect();
                        let mut hop_spans: Vec<Span> = path_edges[start..].to_vec();
                        hop_spans.push(span);
                        report_cycle(cx, services, &nodes, &hop_spans);
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
                path_edges.pop();
            }
        }
    }
}

fn report_cycle(cx: &mut Cx, services: &[Service], nodes: &[usize], hops: &[Span]) {
    let mut names: Vec<&str> = nodes.iter().map(|&n| services[n].name.as_str()).collect();
    names.push(&services[nodes[0]].name);
    let cycle = names.join(" → ");
    // Long cycles get their first hops labelled only; the message names them all.
    let labels = hops[..hops.len() - 1]
        .iter()
        .zip(nodes.iter().zip(nodes.iter().skip(1)))
        .take(8)
        .map(|(s, (a, b))| LabeledSpan::new_with_span(Some(format!("`{}` links to `{}`", services[*a].name, services[*b].name)), *s))
        .collect();
    cx.err(CheckError::LinkCycle {
        span: hops[hops.len() - 1],
        cycle,
        hops: labels,
    });
}

pub(crate) fn essential(cx: &mut Cx, items: &Items<'_>, services: &[Service]) {
    if !services.is_empty() && !services.iter().any(|s| s.essential) {
        cx.err(CheckError::NoEssential {
            span: items.services[0].name.span,
        });
    }
}

/// ECS's reserved host ports (the agent, Docker's remote API, SSH).
const RESERVED_PORTS: &[u16] = &[22, 2375, 2376, 51678, 51679, 51680];

pub(crate) fn ports(cx: &mut Cx, blocks: &[&Block], services: &[Service]) {
    let mut first: HashMap<(u16, Protocol), Span> = HashMap::new();
    for (block, svc) in blocks.iter().zip(services) {
        let spans = port_spans(block);
        for (p, span) in svc.ports.iter().zip(spans) {
            if RESERVED_PORTS.contains(&p.host) {
                cx.err(CheckError::PortConflict {
                    span,
                    first: None,
                    message: format!("host port {} is reserved by ECS", p.host),
                    label: "reserved".into(),
                    help: Some("ECS keeps 22, 2375, 2376 and 51678-51680 for itself: map another host port".into()),
                });
                continue;
            }
            match first.get(&(p.host, p.protocol)) {
                Some(f) => cx.err(CheckError::PortConflict {
                    span,
                    first: Some(*f),
                    message: format!("host port {} is mapped twice", p.host),
                    label: "mapped again here".into(),
                    help: Some("each host port can be bound by one container: pick another host port".into()),
                }),
                None => {
                    first.insert((p.host, p.protocol), span);
                }
            }
        }
    }
}

/// Spans of a service's valid port mappings, in the order [`Service::ports`] holds them.
fn port_spans(block: &Block) -> Vec<Span> {
    let Some(attr) = entries(block).0.into_iter().find(|a| a.key.text == "ports") else { return Vec::new() };
    let ValueKind::List(list) = &attr.value.kind else { return Vec::new() };
    list.iter()
        .filter(|v| match &v.kind {
            ValueKind::Int(n) => (1..=65535).contains(n),
            ValueKind::Port { host, container, protocol } => {
                (1..=65535).contains(host)
                    && (1..=65535).contains(container)
                    && protocol.as_ref().is_none_or(|p| p.text == "tcp" || p.text == "udp")
            }
            _ => false,
        })
        .map(|v| v.span)
        .collect()
}

pub(crate) fn memory(cx: &mut Cx, items: &Items<'_>, env: &Environment, services: &[Service]) {
    let Some(total) = instances::memory_mib(&env.instance_type) else { return };
    let need: u64 = services
        .iter()
        .map(|s| u64::from(s.memory_reservation.or(s.memory).unwrap_or(0)))
        .sum();
    if need <= total {
        return;
    }
    let Some(env_block) = items.environment else { return };
    let span = entries(env_block)
        .0
        .into_iter()
        .find(|a| a.key.text == "instance_type")
        .map_or(env_block.name.span, |a| a.value.span);
    let mut biggest: Vec<(usize, u64)> = services
        .iter()
        .enumerate()
        .map(|(i, s)| (i, u64::from(s.memory_reservation.or(s.memory).unwrap_or(0))))
        .collect();
    biggest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let others = biggest
        .iter()
        .take(3)
        .map(|(i, mib)| LabeledSpan::new_with_span(Some(format!("`{}` needs {mib} MiB", services[*i].name)), items.services[*i].name.span))
        .collect();
    let bigger = ["t3.medium", "t3.large", "t3.xlarge", "t3.2xlarge", "m6i.4xlarge", "m6i.8xlarge", "m6i.16xlarge", "m6i.32xlarge"]
        .into_iter()
        .find(|t| instances::memory_mib(t).is_some_and(|m| m >= need));
    cx.err(CheckError::Memory {
        span,
        others,
        message: format!(
            "the services need {need} MiB but a {} instance has {total} MiB",
            env.instance_type
        ),
        label: format!("{total} MiB"),
        help: Some(match bigger {
            Some(t) => format!(
                "choose a larger `instance_type` (`{t}` has {} MiB) or lower the services' memory",
                instances::memory_mib(t).unwrap_or_default()
            ),
            None => "lower the services' memory".into(),
        }),
    });
}

/// Store references: reachability through the firewall, the execution role for managed
/// passwords, one value per environment key, and stores nobody reads.
pub(crate) fn references(
    cx: &mut Cx,
    items: &Items<'_>,
    env: &Environment,
    services: &[Service],
    stores: &[Store],
    refs: &[Vec<EnvRef>],
    fw: &CheckedFirewall,
) {
    let mut read = vec![false; stores.len()];
    let mut bound: HashMap<&str, (usize, Export, Span)> = HashMap::new();
    for (svc, svc_refs) in services.iter().zip(refs) {
        let mut reported: HashSet<(usize, &str)> = HashSet::new();
        for r in svc_refs {
            read[r.store] = true;
            let store = &stores[r.store];
            if !fw.access.contains(&(r.store, svc.name.clone())) && reported.insert((r.store, "unreachable")) {
                cx.err(CheckError::Unreachable {
                    span: r.span,
                    service: svc.name.clone(),
                    store: store.name.clone(),
                    rule: format!("allow {} from {}", store.name, svc.name),
                });
            }
            let managed = matches!(&store.kind, StoreKind::Postgres(p) if p.password == Password::Managed);
            if r.export == Export::Password && managed && env.execution_role.is_none() && reported.insert((r.store, "role")) {
                cx.err(CheckError::MissingExecutionRole {
                    span: r.span,
                    environment_span: items.environment.map_or(Span::default(), |b| b.name.span),
                    service: svc.name.clone(),
                    store: store.name.clone(),
                    environment: env.name.clone(),
                });
            }
            match bound.get(r.key.text.as_str()) {
                Some(&(s, e, first)) if (s, e) != (r.store, r.export) => cx.err(CheckError::EnvConflict {
                    span: r.span,
                    first,
                    key: r.key.text.clone(),
                    this: format!("{}.{}", store.name, r.export.as_str()),
                    other: format!("{}.{}", stores[s].name, e.as_str()),
                }),
                Some(_) => {}
                None => {
                    bound.insert(&r.key.text, (r.store, r.export, r.span));
                }
            }
        }
    }
    for (i, (kind, block)) in items.stores.iter().enumerate() {
        if !read.get(i).copied().unwrap_or(true) {
            cx.err(CheckError::Unused {
                span: block.name.span,
                what: if *kind == Kind::Postgres { "postgres store" } else { "redis store" },
                name: block.name.text.clone(),
            });
        }
    }
}
