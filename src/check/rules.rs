//! Rules that span several blocks: links and their cycles, essential containers, host ports,
//! memory against the instance type, the firewall, store references, and the image
//! repositories of built services.
//!
//! Every rule here is linear in the size of the program (hash maps, an iterative strongly
//! connected components pass), so a 10,000-service file checks as fast per byte as a small one.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use miette::LabeledSpan;

use super::attrs::Kind;
use super::*;
use crate::naming;
use crate::syntax::ast::{Value, ValueKind};

/// The firewall as checked: the model part, and which services may reach which stores.
#[derive(Default)]
pub(crate) struct CheckedFirewall {
    pub model: Firewall,
    /// (store index, service index) pairs that a rule allows, sorted and unique (a sorted
    /// vector: a third of a hash set's memory for the 20,000 pairs of a big file's rules).
    access: Vec<(u32, u32)>,
    /// Services named in a store rule whose stores could not all be read (already reported):
    /// they may reach any store, as far as the other rules are concerned.
    open_services: HashSet<usize>,
    /// Stores named in a store rule whose sources could not all be read (already reported).
    open_stores: HashSet<usize>,
    /// A store rule of which nothing could be read: every store counts as reachable.
    all_open: bool,
}

impl CheckedFirewall {
    /// Whether service `svc` may reach store `store`, or an error already reported makes
    /// the question moot.
    fn reaches(&self, store: usize, svc: usize) -> bool {
        self.all_open
            || self
                .access
                .binary_search(&(store as u32, svc as u32))
                .is_ok()
            || self.open_stores.contains(&store)
            || self.open_services.contains(&svc)
    }
}

fn name_of(v: &Value) -> Option<&str> {
    match &v.kind {
        ValueKind::Word(w) => Some(w),
        _ => None,
    }
}

/// What a name in a rule or a link must refer to.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    Service,
    Store,
}

/// Reports a name that is not of the wanted kind: unknown (with the closest name of that
/// kind) or of another kind. Names of blocks of unknown kind were reported already.
fn wrong_name(
    cx: &mut Cx,
    items: &Items<'_>,
    name: &str,
    span: Span,
    want: Want,
    help_for_kind: impl Fn(Kind) -> String,
) {
    if items.unknown.contains(name) {
        return;
    }
    let (what, expected) = match want {
        Want::Service => ("service", "a service"),
        Want::Store => ("data store", "a data store (`postgres` or `redis`)"),
    };
    match items.names.get(name) {
        Some((kind, ..)) => cx.err(CheckError::TypeMismatch {
            span,
            expected: expected.into(),
            found: format!("{} `{name}`", kind.keyword()),
            help: Some(help_for_kind(*kind)),
        }),
        None => {
            let help = match want {
                Want::Service => {
                    let close =
                        cx.closest(name, items.services.iter().map(|b| b.name.text.as_str()));
                    let few: Vec<&str> = items
                        .services
                        .iter()
                        .take(7)
                        .map(|b| b.name.text.as_str())
                        .collect();
                    cx.name_help(close, &few, ("service", "services"))
                }
                Want::Store => {
                    let close =
                        cx.closest(name, items.stores.iter().map(|(_, b)| b.name.text.as_str()));
                    let few: Vec<&str> = items
                        .stores
                        .iter()
                        .take(7)
                        .map(|(_, b)| b.name.text.as_str())
                        .collect();
                    cx.name_help(close, &few, ("data store", "data stores"))
                }
            };
            cx.err(CheckError::UnknownName {
                span,
                what,
                name: name.to_string(),
                help,
            });
        }
    }
}

/// A term of a rule as it could be re-typed in a help line.
fn term_text(v: &Value) -> String {
    match &v.kind {
        ValueKind::Int(n) => n.to_string(),
        ValueKind::Port {
            host,
            protocol: Some(p),
            ..
        } => format!("{host}/{}", p.text),
        ValueKind::Port { host, .. } => host.to_string(),
        ValueKind::Word(w) | ValueKind::Cidr(w) => w.to_string(),
        _ => "...".into(),
    }
}

fn terms_text(vs: &[Value]) -> String {
    vs.iter().map(term_text).collect::<Vec<_>>().join(", ")
}

pub(crate) fn firewall(
    cx: &mut Cx,
    items: &Items<'_>,
    services: &[Service],
    infos: &[ServiceInfo<'_>],
) -> CheckedFirewall {
    let mut out = CheckedFirewall::default();
    let mut reachable = Vec::new();
    for rule in items.firewalls.iter().flat_map(|fw| &fw.rules) {
        match &rule.target {
            Some(target) => port_rule(cx, items, rule, target, services, infos, &mut out),
            None if rule.subjects.iter().all(|s| {
                matches!(
                    s.kind,
                    ValueKind::Int(_) | ValueKind::Port { .. } | ValueKind::Invalid
                )
            }) =>
            {
                cx.err(CheckError::MissingTarget {
                    span: rule.span,
                    ports: terms_text(&rule.subjects),
                    sources: terms_text(&rule.sources),
                });
            }
            None => store_rule(cx, items, rule, &mut out, &mut reachable),
        }
    }
    reachable.sort_unstable();
    reachable.dedup();
    out.model.reachable_stores = reachable;
    out.access.sort_unstable();
    out.access.dedup();
    out.access.shrink_to_fit();
    out
}

/// `allow PORTS from CIDRS to SERVICE`.
fn port_rule(
    cx: &mut Cx,
    items: &Items<'_>,
    rule: &ast::FirewallRule,
    target: &Ident,
    services: &[Service],
    infos: &[ServiceInfo<'_>],
    out: &mut CheckedFirewall,
) {
    let svc = items.service(&target.text);
    if svc.is_none() {
        wrong_name(cx, items, &target.text, target.span, Want::Service, |k| {
            if k.exports().is_empty() {
                format!(
                    "a port rule opens a port of a service; `{}` is the {}",
                    target.text,
                    k.keyword()
                )
            } else {
                format!(
                    "a data store is opened to services without `to`: `allow {} from SERVICE`",
                    target.text
                )
            }
        });
    }
    // With `tier = load_balanced` the rule opens the load balancer, which speaks HTTP only.
    let load_balanced = cx.env_facts.load_balanced;
    // With HTTPS, port 443 is the load balancer's HTTPS listener.
    let https = load_balanced.and(https_attr(items));
    let mut cidrs = Vec::new();
    for src in &rule.sources {
        match &src.kind {
            ValueKind::Word(w) if w == "internet" => cidrs.push("0.0.0.0/0".to_string()),
            ValueKind::Cidr(c) => match normalize_cidr(c) {
                Ok(c) => cidrs.push(c),
                Err(CidrError::Range(help)) => cx.err(CheckError::OutOfRange {
                    span: src.span,
                    what: "the CIDR block".into(),
                    value: format!("`{c}`"),
                    range: help,
                    help: None,
                }),
                Err(CidrError::HostBits(net)) => cx.err(CheckError::TypeMismatch {
                    span: src.span,
                    expected: "a network address".into(),
                    found: format!("`{c}`, which has bits set beyond the prefix"),
                    help: Some(format!("did you mean `{net}`?")),
                }),
            },
            ValueKind::Invalid => {}
            other => cx.err(CheckError::TypeMismatch {
                span: src.span,
                expected: "`internet` or a CIDR block".into(),
                found: match name_of(src) {
                    Some(n) => format!("`{n}`"),
                    None => other.describe().into(),
                },
                help: Some(match name_of(src) {
                    Some(n) if items.service(n).is_some() => {
                        "services share the environment's instances: they reach each other through `links`".into()
                    }
                    _ => format!(
                        "a port rule admits `internet` or a CIDR block: `allow {} from internet to {}`",
                        terms_text(&rule.subjects),
                        target.text
                    ),
                }),
            }),
        }
    }
    for subj in &rule.subjects {
        let (port, udp) = match &subj.kind {
            ValueKind::Int(p) => (*p, false),
            ValueKind::Port {
                host,
                container,
                protocol,
            } => {
                if host != container {
                    cx.err(CheckError::TypeMismatch {
                        span: subj.span,
                        expected: "a host port".into(),
                        found: "a port mapping".into(),
                        help: Some(format!(
                            "a rule opens a host port: write only the host side, `allow {host} from ... to {}`",
                            target.text
                        )),
                    });
                    continue;
                }
                match protocol.as_ref().map(|p| p.text.as_str()) {
                    None | Some("tcp") => (*host, false),
                    Some("udp") => (*host, true),
                    Some(other) => {
                        let p = protocol.as_ref().map_or(subj.span, |p| p.span);
                        cx.err(CheckError::TypeMismatch {
                            span: p,
                            expected: "`tcp` or `udp`".into(),
                            found: format!("`{other}`"),
                            help: did_you_mean(other, ["tcp", "udp"])
                                .map(|s| format!("did you mean `{s}`?")),
                        });
                        continue;
                    }
                }
            }
            ValueKind::Invalid => continue,
            other => {
                cx.err(CheckError::TypeMismatch {
                    span: subj.span,
                    expected: "a port".into(),
                    found: match name_of(subj) {
                        Some(n) => format!("`{n}`"),
                        None => other.describe().into(),
                    },
                    help: name_of(subj).filter(|n| items.names.contains_key(n)).map(|n| {
                        format!("a data store is opened to services without `to`: `allow {n} from SERVICE`")
                    }),
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
                help: None,
            });
            continue;
        }
        if let (true, Some(tier)) = (udp, load_balanced) {
            cx.err(CheckError::LoadBalancerPort {
                span: subj.span,
                tier,
                port: format!("{port}/udp"),
                help: Some(
                    "an Application Load Balancer forwards HTTP over TCP only: use `tier = single` \
                     (the instance receives the traffic itself), or serve this port over TCP"
                        .into(),
                ),
            });
            continue;
        }
        if let (false, 443, Some(https)) = (udp, port, https) {
            cx.err(CheckError::HttpsPort {
                span: subj.span,
                https: Some(https),
                message: "port 443 is the load balancer's HTTPS listener".into(),
                label: "already opened by HTTPS".into(),
                help: Some(
                    "HTTPS is served on port 443 to the sources of the port 80 rules, and \
                     forwarded to port 80 of the instances: remove 443 from this rule"
                        .into(),
                ),
            });
            continue;
        }
        let Some(i) = svc else { continue };
        let proto = if udp { Protocol::Udp } else { Protocol::Tcp };
        let s = &services[i];
        if !s
            .ports
            .iter()
            .any(|p| u64::from(p.host) == port && p.protocol == proto)
        {
            // A service whose `ports` failed to read was reported already.
            if infos[i].ports_ok {
                let shown = if udp {
                    format!("{port}/udp")
                } else {
                    port.to_string()
                };
                cx.err(CheckError::UnmappedPort {
                    span: subj.span,
                    service_span: infos[i].block.name.span,
                    port: shown,
                    service: s.name.to_string(),
                    fix: MapFix {
                        service: s.name.to_string(),
                        port,
                        udp,
                        mapped: s
                            .ports
                            .iter()
                            .map(|p| match p.protocol {
                                Protocol::Tcp => p.host.to_string(),
                                Protocol::Udp => format!("{}/udp", p.host),
                            })
                            .collect(),
                    },
                });
            }
            continue;
        }
        for cidr in &cidrs {
            out.model.ingress.push(Ingress {
                port: port as u16,
                protocol: proto,
                cidr: cidr.clone(),
                service: s.name.to_string(),
            });
        }
    }
}

/// The value of attribute `name` of the environment block, as written.
fn env_attr<'a>(items: &Items<'a>, name: &str) -> Option<&'a Value> {
    entries(items.environment?)
        .0
        .into_iter()
        .find(|a| a.key.text == name)
        .map(|a| &a.value)
}

/// Where the environment turns HTTPS on: its `domain`, else its `certificate`.
fn https_attr(items: &Items<'_>) -> Option<Span> {
    env_attr(items, "domain")
        .or_else(|| env_attr(items, "certificate"))
        .map(|v| v.span)
}

/// HTTPS on the load balancer: it serves whoever may reach port 80 (port 80 then redirects
/// to it), so a rule must open port 80; and it uses a certificate of the stack's region.
pub(crate) fn https(
    cx: &mut Cx,
    items: &Items<'_>,
    stack: &Stack,
    env: &Environment,
    firewall: &Firewall,
) {
    let Some(https) = &env.https else { return };
    let Some(span) = https_attr(items) else {
        return;
    };
    let opened = firewall
        .ingress
        .iter()
        .any(|i| i.port == 80 && i.protocol == Protocol::Tcp);
    // A rule written for port 80 that could not be read was reported already.
    let written = items
        .firewalls
        .iter()
        .flat_map(|fw| &fw.rules)
        .filter(|r| r.target.is_some())
        .flat_map(|r| &r.subjects)
        .any(|s| match &s.kind {
            ValueKind::Int(80) => true,
            ValueKind::Port {
                host: 80, protocol, ..
            } => protocol.as_ref().is_none_or(|p| p.text != "udp"),
            _ => false,
        });
    if !opened && !written {
        let what = if https.domain.is_some() {
            "`domain`"
        } else {
            "`certificate`"
        };
        cx.err(CheckError::HttpsPort {
            span,
            https: None,
            message: format!("{what} serves HTTPS to the sources of port 80, and no rule opens port 80"),
            label: "reachable by nobody".into(),
            help: Some(
                "open port 80 of the service that serves the site, e.g. `allow 80 from internet to web`: \
                 HTTPS on 443 is opened to the same sources, and port 80 redirects to it"
                    .into(),
            ),
        });
    }
    let (Some(arn), Some(region)) = (&https.certificate, &stack.region) else {
        return;
    };
    if let (Some(theirs), Some(v)) = (names::arn_region(arn), env_attr(items, "certificate")) {
        if names::certificate_arn(arn).is_none() && theirs != region {
            cx.err(CheckError::InvalidName {
                span: v.span,
                name: arn.clone(),
                what: format!("certificate for region {region}"),
                rule: format!("a certificate of {theirs}"),
                help: Some(format!(
                    "a load balancer uses certificates of its own region: request or import the certificate in {region}"
                )),
            });
        }
    }
}

/// `allow STORES from SERVICES`.
fn store_rule(
    cx: &mut Cx,
    items: &Items<'_>,
    rule: &ast::FirewallRule,
    out: &mut CheckedFirewall,
    reachable: &mut Vec<usize>,
) {
    let mut targets = Vec::new();
    let mut targets_bad = false;
    for subj in &rule.subjects {
        let name = name_of(subj);
        if let Some(i) = name.and_then(|n| items.store(n)) {
            targets.push(i);
            continue;
        }
        match name {
            Some(n) => {
                targets_bad = true;
                wrong_name(cx, items, n, subj.span, Want::Store, |k| {
                    if k == Kind::Service {
                        format!(
                            "a rule for a service names its port: `allow 80 from internet to {n}`"
                        )
                    } else {
                        format!(
                            "`{n}` is the {}; a store rule names `postgres` or `redis` blocks",
                            k.keyword()
                        )
                    }
                });
            }
            None => {
                targets_bad = true;
                if !matches!(subj.kind, ValueKind::Invalid) {
                    cx.err(CheckError::TypeMismatch {
                        span: subj.span,
                        expected: "a data store name".into(),
                        found: subj.kind.describe().into(),
                        help: Some(
                            "a rule opens either ports of a service (`allow 80 from internet to web`) \
                             or data stores (`allow db from web`), not both"
                                .into(),
                        ),
                    });
                }
            }
        }
    }
    let mut sources = Vec::new();
    let mut sources_bad = false;
    for src in &rule.sources {
        let name = name_of(src);
        if let Some(i) = name.and_then(|n| items.service(n)) {
            sources.push(i);
            continue;
        }
        match name {
            Some("internet") => {
                sources_bad = true;
                cx.err(CheckError::TypeMismatch {
                    span: src.span,
                    expected: "a service".into(),
                    found: "`internet`".into(),
                    help: Some("data stores admit only the environment's services; nothing outside reaches them".into()),
                });
            }
            Some(n) => {
                sources_bad = true;
                wrong_name(cx, items, n, src.span, Want::Service, |k| {
                    if k.exports().is_empty() {
                        format!("`{n}` is the {}; data stores admit services", k.keyword())
                    } else {
                        "data stores admit services, not other data stores".into()
                    }
                });
            }
            None => {
                sources_bad = true;
                if !matches!(src.kind, ValueKind::Invalid) {
                    cx.err(CheckError::TypeMismatch {
                        span: src.span,
                        expected: "a service".into(),
                        found: src.kind.describe().into(),
                        help: Some("data stores admit only the environment's services; nothing outside reaches them".into()),
                    });
                }
            }
        }
    }
    for &t in &targets {
        for &s in &sources {
            out.access.push((t as u32, s as u32));
        }
    }
    if !sources.is_empty() {
        reachable.extend(&targets);
    }
    if targets_bad {
        out.open_services.extend(&sources);
    }
    if sources_bad {
        out.open_stores.extend(&targets);
    }
    if targets_bad && sources_bad && targets.is_empty() && sources.is_empty() {
        out.all_open = true;
    }
}

enum CidrError {
    /// A number out of range; the range, in words.
    Range(String),
    /// Host bits set: the network address the user probably meant.
    HostBits(String),
}

/// `10.0.0.0/16` → itself; `10.0.0.1` → `10.0.0.1/32`.
fn normalize_cidr(c: &str) -> Result<String, CidrError> {
    let (addr, prefix) = c.split_once('/').unwrap_or((c, "32"));
    let octets: Vec<u32> = addr
        .split('.')
        .filter_map(|o| o.parse().ok())
        .filter(|o| *o <= 255)
        .collect();
    if octets.len() != 4 {
        return Err(CidrError::Range(
            "four numbers 0 to 255, then a prefix length 0 to 32".into(),
        ));
    }
    let prefix: u32 = match prefix.parse() {
        Ok(p) if p <= 32 => p,
        _ => return Err(CidrError::Range("a prefix length 0 to 32".into())),
    };
    let ip = octets.iter().fold(0u32, |acc, o| (acc << 8) | o);
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix)
    };
    let dotted = |a: u32| {
        format!(
            "{}.{}.{}.{}/{prefix}",
            a >> 24,
            (a >> 16) & 255,
            (a >> 8) & 255,
            a & 255
        )
    };
    if ip & !mask != 0 {
        return Err(CidrError::HostBits(dotted(ip & mask)));
    }
    // Canonical form: `010.000.0.0/08` is `10.0.0.0/8` (EC2 reads leading zeros its own way).
    Ok(dotted(ip))
}

/// Links name services, and form no cycle.
pub(crate) fn links(
    cx: &mut Cx,
    items: &Items<'_>,
    services: &[Service],
    infos: &[ServiceInfo<'_>],
) {
    let mut graph = Graph::default();
    // The span of each edge as written, in the graph's edge order.
    let mut spans = Vec::new();
    for (svc, info) in services.iter().zip(infos) {
        for (link, &span) in svc.links.iter().zip(&info.link_spans) {
            match items.service(link) {
                Some(j) => {
                    graph.targets.push(j as u32);
                    spans.push(span);
                }
                None => wrong_name(cx, items, link, span, Want::Service, |k| {
                    if k.exports().is_empty() {
                        format!("`{link}` is the {}; links name services", k.keyword())
                    } else {
                        format!(
                            "a service reads a data store through its env: `HOST = {link}.host`"
                        )
                    }
                }),
            }
        }
        graph.end_node();
    }
    for cycle in find_cycles(&graph) {
        report_cycle(cx, services, &graph, &spans, &cycle);
    }
}

/// A directed graph in compressed rows: one array of edges for all nodes, so that the link
/// graph of a big file is two allocations, not one per service.
#[derive(Debug, Default)]
pub(crate) struct Graph {
    /// Where each node's edges end in `targets` (they start where the previous node's end).
    ends: Vec<u32>,
    targets: Vec<u32>,
}

impl Graph {
    /// Closes the current node: the edges pushed since the last call are its own.
    fn end_node(&mut self) {
        self.ends.push(self.targets.len() as u32);
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    /// The index in `targets` of node `u`'s first edge.
    fn first_edge(&self, u: usize) -> usize {
        if u == 0 { 0 } else { self.ends[u - 1] as usize }
    }

    fn edges(&self, u: usize) -> &[u32] {
        &self.targets[self.first_edge(u)..self.ends[u] as usize]
    }

    #[cfg(test)]
    fn from_lists(lists: &[Vec<usize>]) -> Graph {
        let mut g = Graph::default();
        for l in lists {
            g.targets.extend(l.iter().map(|&t| t as u32));
            g.end_node();
        }
        g
    }
}

/// How many names of a long cycle the message shows, and how many hops get a label.
const CYCLE_SHOWN: usize = 12;

/// `cycle` is a list of (node, index of the edge taken from it); the last edge closes it.
fn report_cycle(
    cx: &mut Cx,
    services: &[Service],
    graph: &Graph,
    spans: &[Span],
    cycle: &[(usize, usize)],
) {
    let name = |n: usize| services[n].name.as_str();
    let first = cycle[0].0;
    let mut names: Vec<&str> = if cycle.len() <= CYCLE_SHOWN {
        cycle.iter().map(|&(n, _)| name(n)).collect()
    } else {
        let mut v: Vec<&str> = cycle[..CYCLE_SHOWN - 2]
            .iter()
            .map(|&(n, _)| name(n))
            .collect();
        v.push("…");
        v.push(name(cycle[cycle.len() - 1].0));
        v
    };
    names.push(name(first));
    let mut text = names.join(" → ");
    if cycle.len() > CYCLE_SHOWN {
        text.push_str(&format!(" ({} services)", cycle.len()));
    }
    let hop = |k: usize| {
        let (from, e) = cycle[k];
        let to = graph.edges(from)[e] as usize;
        (from, to, spans[graph.first_edge(from) + e])
    };
    let (last_from, _, closing) = hop(cycle.len() - 1);
    if cycle.len() == 1 {
        cx.err(CheckError::SelfLink {
            span: closing,
            service: name(last_from).to_string(),
        });
        return;
    }
    let hops = (0..cycle.len() - 1)
        .take(CYCLE_SHOWN)
        .map(|k| {
            let (from, to, span) = hop(k);
            LabeledSpan::new_with_span(
                Some(format!("`{}` links to `{}`", name(from), name(to))),
                span,
            )
        })
        .collect();
    cx.err(CheckError::LinkCycle {
        span: closing,
        from: name(last_from).to_string(),
        to: name(first).to_string(),
        cycle: text,
        hops,
    });
}

/// One cycle per strongly connected component that has one: the shortest cycle through the
/// component's first node, as (node, index of the edge taken from it) pairs. Iterative
/// (Tarjan's algorithm, then a breadth-first search), linear in nodes and edges, so a chain of
/// any length neither overflows the stack nor takes quadratic time.
pub(crate) fn find_cycles(graph: &Graph) -> Vec<Vec<(usize, usize)>> {
    let n = graph.len();
    let comp = strongly_connected(graph);
    // Members of each component, in node order.
    let mut size = vec![0u32; n];
    for &c in &comp {
        size[c as usize] += 1;
    }
    let mut seen_comp = vec![false; n];
    let mut visited = vec![false; n];
    // (parent, index of the edge taken from it), for the search's nodes.
    let mut parent: Vec<(u32, u32)> = vec![(u32::MAX, 0); n];
    let mut cycles = Vec::new();
    for start in 0..n {
        let c = comp[start];
        if seen_comp[c as usize] {
            continue;
        }
        seen_comp[c as usize] = true;
        let self_loop = graph.edges(start).iter().position(|&t| t as usize == start);
        if let Some(e) = self_loop {
            cycles.push(vec![(start, e)]);
            continue;
        }
        if size[c as usize] < 2 {
            continue;
        }
        // Breadth-first from `start` inside its component until an edge leads back to it.
        let mut queue = VecDeque::from([start]);
        visited[start] = true;
        'search: while let Some(u) = queue.pop_front() {
            for (e, &v) in graph.edges(u).iter().enumerate() {
                let v = v as usize;
                if comp[v] != c {
                    continue;
                }
                if v == start {
                    let mut path = vec![(u, e)];
                    let mut node = u;
                    while node != start {
                        let (p, pe) = parent[node];
                        path.push((p as usize, pe as usize));
                        node = p as usize;
                    }
                    path.reverse();
                    cycles.push(path);
                    break 'search;
                }
                if !visited[v] {
                    visited[v] = true;
                    parent[v] = (u as u32, e as u32);
                    queue.push_back(v);
                }
            }
        }
    }
    cycles
}

/// The strongly connected component of every node (Tarjan's algorithm, iterative). Indices
/// are `u32`, like the graph's: half the memory on a big file.
fn strongly_connected(graph: &Graph) -> Vec<u32> {
    const UNSEEN: u32 = u32::MAX;
    let n = graph.len();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut next_index = 0;
    let mut next_comp = 0;
    // The DFS call stack: (node, next edge to look at).
    let mut calls: Vec<(u32, u32)> = Vec::new();
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        calls.push((root as u32, 0));
        index[root] = next_index;
        low[root] = next_index;
        next_index += 1;
        stack.push(root as u32);
        on_stack[root] = true;
        while let Some(&mut (u, ref mut next)) = calls.last_mut() {
            let u = u as usize;
            if let Some(&v) = graph.edges(u).get(*next as usize) {
                *next += 1;
                let v = v as usize;
                if index[v] == UNSEEN {
                    index[v] = next_index;
                    low[v] = next_index;
                    next_index += 1;
                    stack.push(v as u32);
                    on_stack[v] = true;
                    calls.push((v as u32, 0));
                } else if on_stack[v] {
                    low[u] = low[u].min(index[v]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(p, _)) = calls.last() {
                low[p as usize] = low[p as usize].min(low[u]);
            }
            if low[u] == index[u] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    comp[w as usize] = next_comp;
                    if w as usize == u {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    comp
}

pub(crate) fn essential(cx: &mut Cx, services: &[Service], infos: &[ServiceInfo<'_>]) {
    // An `essential` that failed to read might have been meant as `true`.
    if services.is_empty()
        || services.iter().any(|s| s.essential)
        || infos.iter().any(|i| !i.essential_ok)
    {
        return;
    }
    cx.err(CheckError::NoEssential {
        span: infos[0].block.name.span,
    });
}

pub(crate) fn ports(cx: &mut Cx, services: &[Service], infos: &[ServiceInfo<'_>]) {
    let mut first: HashMap<(u16, Protocol), Span> = HashMap::default();
    let mut count = 0;
    let mut over: Option<Span> = None;
    for (svc, info) in services.iter().zip(infos) {
        for (p, &span) in svc.ports.iter().zip(&info.port_spans) {
            count += 1;
            if count == super::MAX_HOST_PORTS + 1 {
                over = Some(span);
            }
            if super::RESERVED_HOST_PORTS.contains(&p.host) {
                let other = match p.host {
                    22 => 2222,
                    h if h < 50000 => h + 10000,
                    h => h - 10000,
                };
                cx.err(CheckError::ReservedPort {
                    span,
                    port: p.host,
                    container: p.container,
                    other,
                });
                continue;
            }
            match first.get(&(p.host, p.protocol)) {
                Some(f) => cx.err(CheckError::PortMappedTwice {
                    span,
                    first: *f,
                    port: p.host,
                }),
                None => {
                    first.insert((p.host, p.protocol), span);
                }
            }
        }
    }
    if let Some(span) = over {
        cx.err(CheckError::TooManyHostPorts {
            span,
            count,
            nth: super::MAX_HOST_PORTS + 1,
            max: super::MAX_HOST_PORTS,
        });
    }
}

/// Every service is a container of the environment's one task.
pub(crate) fn containers(cx: &mut Cx, items: &Items<'_>, infos: &[ServiceInfo<'_>]) {
    if let Some(extra) = infos.get(super::MAX_CONTAINERS) {
        cx.err(CheckError::TooManyContainers {
            span: extra.block.name.span,
            environment: items.environment.map(|b| b.name.span),
            count: infos.len(),
            nth: super::MAX_CONTAINERS + 1,
            max: super::MAX_CONTAINERS,
        });
    }
}

/// The bytes of the environment properties that are known at check time, as `KEY=value`:
/// every key, and the values known before apply (a store's database, user name and port); a
/// host or a secret adds its length at apply time, so this is a lower bound.
fn env_properties(cx: &mut Cx, stores: &[Store], bound: &HashMap<&str, (&Binding, Span)>) {
    let mut sizes: Vec<(usize, &str, Span)> = bound
        .iter()
        .filter_map(|(key, (binding, span))| {
            let value = match binding {
                Binding::Store { store, export } => match (&stores[*store].kind, export) {
                    // A managed password is a secret of its own namespace, not a property.
                    (StoreKind::Postgres(p), Export::Password)
                        if p.password == Password::Managed =>
                    {
                        return None;
                    }
                    (StoreKind::Postgres(p), Export::Database) => p.database.len(),
                    (StoreKind::Postgres(p), Export::Username) => p.username.len(),
                    (_, Export::Port) => stores[*store].port().to_string().len(),
                    _ => 0,
                },
                Binding::Secret(_) => 0,
            };
            Some((key.len() + 1 + value, *key, *span))
        })
        .collect();
    let bytes: usize = sizes.iter().map(|s| s.0).sum();
    if bytes <= super::MAX_ENV_BYTES {
        return;
    }
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then(a.2.start.cmp(&b.2.start)));
    let (size, key, span) = sizes[0];
    let others = sizes[1..]
        .iter()
        .take(2)
        .map(|&(n, k, sp)| LabeledSpan::new_with_span(Some(format!("`{k}` takes {n} bytes")), sp))
        .collect();
    cx.err(CheckError::EnvTooLarge {
        span,
        others,
        key: key.to_string(),
        size,
        bytes,
        max: super::MAX_ENV_BYTES,
    });
}

/// The services' memory against the instance type's (for the types the compiler knows).
pub(crate) fn memory(
    cx: &mut Cx,
    env_block: &Block,
    env: &Environment,
    services: &[Service],
    infos: &[ServiceInfo<'_>],
) {
    if !cx.env_facts.instance_type_ok {
        return;
    }
    let Some(total) = instances::memory_mib(&env.instance_type) else {
        return;
    };
    let needs = |s: &Service| u64::from(s.memory_reservation.or(s.memory).unwrap_or(0));
    let need: u64 = services.iter().map(needs).sum();
    if need <= total {
        return;
    }
    let span = entries(env_block)
        .0
        .into_iter()
        .find(|a| a.key.text == "instance_type")
        .map_or(env_block.name.span, |a| a.value.span);
    // The three biggest services, by a partial selection (no full sort of a large file).
    let mut biggest: Vec<(u64, usize)> = Vec::with_capacity(4);
    for (i, s) in services.iter().enumerate() {
        biggest.push((needs(s), i));
        biggest.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        biggest.truncate(3);
    }
    let others = biggest
        .iter()
        .map(|&(mib, i)| {
            LabeledSpan::new_with_span(
                Some(format!("`{}` needs {mib} MiB", services[i].name)),
                infos[i].block.name.span,
            )
        })
        .collect();
    let bigger = instances::LADDER
        .into_iter()
        .find(|t| instances::memory_mib(t).is_some_and(|m| m >= need));
    let written = entries(env_block)
        .0
        .iter()
        .any(|a| a.key.text == "instance_type");
    cx.err(CheckError::MemoryOverInstance {
        written: written.then_some(span),
        defaulted: (!written).then_some(span),
        others,
        need,
        total,
        instance_type: env.instance_type.clone(),
        bigger: Bigger(bigger.map(|t| (t, instances::memory_mib(t).unwrap_or_default()))),
    });
}

fn binding_text(b: &Binding, stores: &[Store]) -> String {
    match b {
        Binding::Store { store, export } => format!("{}.{}", stores[*store].name, export.as_str()),
        Binding::Secret(var) => format!("secret(\"{var}\")"),
    }
}

/// IAM role names are at most 64 characters.
const IAM_ROLE_MAX: usize = 64;
/// Security group and subnet group names are at most 255 characters.
const GROUP_MAX: usize = 255;

/// The names `apply` derives from the stack, environment and store names (IAM roles, security
/// groups, subnet groups), against AWS's rules. Reported on the name they derive from, once
/// per name; names already reported for their own rules are skipped.
/// `reads_managed`: a service reads a managed password (so apply makes the execution role when
/// the program names none).
fn derived_names(
    cx: &mut Cx,
    items: &Items<'_>,
    env: Option<&Environment>,
    stores: &[Store],
    reads_managed: bool,
) {
    let valid = |n: &str| names::block_name(n).is_none();
    let stack = items
        .stack
        .filter(|b| valid(&b.name.text) && names::eb_application(&b.name.text).is_none());
    if let (Some(block), Some(env)) = (stack, env) {
        let base = cx.base(&block.name.text, Some(env));
        let name = base.as_str();
        let what = if cx.several {
            "stack and environment names"
        } else {
            "stack name"
        };
        // (the role, whether apply creates it, the attribute that avoids creating it)
        let roles = naming::roles(name).map(|(role, attr)| {
            let created = match attr {
                "service_role" => env.service_role.is_none(),
                "execution_role" => {
                    reads_managed && env.execution_role.is_none() && env.instance_profile.is_none()
                }
                _ => env.instance_profile.is_none(),
            };
            (role, created, attr)
        });
        if let Some((role, _, attr)) = roles
            .iter()
            .find(|(role, created, _)| *created && role.len() > IAM_ROLE_MAX)
        {
            let suffix = &role[name.len()..];
            cx.err(CheckError::InvalidName {
                span: block.name.span,
                name: block.name.text.to_string(),
                what: "stack name".into(),
                rule: format!(
                    "the IAM role `{role}` would be {} characters; IAM role names have at most {IAM_ROLE_MAX}",
                    role.len()
                ),
                help: Some(format!(
                    "shorten the {what} to at most {} characters, or give the environment an existing `{attr}`",
                    IAM_ROLE_MAX - suffix.len()
                )),
            });
        } else if let Some(group) = stores
            .first()
            .map(|s| naming::store_security_group(name, &s.name))
            .filter(|g| g.starts_with("sg-"))
        {
            cx.err(CheckError::InvalidName {
                span: block.name.span,
                name: block.name.text.to_string(),
                what: "stack name".into(),
                rule: format!(
                    "the security group `{group}` would start with `sg-`, which EC2 keeps for group ids"
                ),
                help: Some("rename the stack so that it does not start with `sg-`".into()),
            });
        }
    }
    // (With several environments the group is named `<stack>-<env>`, checked with the stack.)
    if let (Some(block), Some(env), false) = (items.environment, env, cx.several) {
        let name = block.name.text.as_str();
        let group = naming::environment_security_group(&env.name);
        if names::eb_environment(name).is_none() && group.starts_with("sg-") {
            cx.err(CheckError::InvalidName {
                span: block.name.span,
                name: name.to_string(),
                what: "environment name".into(),
                rule: format!(
                    "the instances' security group `{group}` would start with `sg-`, which EC2 keeps for group ids"
                ),
                help: Some("rename the environment so that it does not start with `sg-`".into()),
            });
        }
    }
    // `<stack>-<store>` names the store's security group and subnet group. Without a written
    // `identifier` it is also the store's identifier, whose stricter rules were checked.
    let Some(stack) = stack else { return };
    let base = cx.base(&stack.name.text, env);
    let stack = base.as_str();
    for (kind, block) in &items.stores {
        let store = block.name.text.as_str();
        let written = entries(block).0.iter().any(|a| a.key.text == "identifier");
        if !written || !valid(store) {
            continue;
        }
        let derived = naming::store_security_group(stack, store);
        let rule = if derived.len() > GROUP_MAX {
            format!(
                "its security group and subnet group `{stack}-…` would be {} characters; they have at most {GROUP_MAX}",
                derived.len()
            )
        } else if *kind == Kind::Redis && derived.contains('_') {
            format!(
                "its cache subnet group `{derived}` would hold `_`; ElastiCache subnet group names hold only letters, digits and `-`"
            )
        } else {
            continue;
        };
        let fixed = store.replace('_', "-");
        cx.err(CheckError::InvalidName {
            span: block.name.span,
            name: store.to_string(),
            what: format!("{} name", kind.keyword()),
            rule,
            help: Some(if derived.len() > GROUP_MAX {
                "shorten the store's name".into()
            } else if store.contains('_') {
                format!("write `{fixed}`")
            } else {
                "the stack's name holds `_`: write it with `-` instead".into()
            }),
        });
    }
}

/// The ECR repository `<base>/<service>` of each service built from a Dockerfile, against ECR's
/// rules; reported on the name that breaks them (the stack's, the environment's in the base,
/// or the service's), the base's once. Names already reported for their own rules are skipped.
pub(crate) fn repositories(
    cx: &mut Cx,
    items: &Items<'_>,
    env: Option<&Environment>,
    services: &[Service],
    infos: &[ServiceInfo<'_>],
) {
    let valid = |n: &str| names::block_name(n).is_none();
    let Some(stack) = items.stack.filter(|b| valid(&b.name.text)) else {
        return;
    };
    if items.environment.is_some_and(|b| !valid(&b.name.text)) {
        return;
    }
    let base = cx.base(&stack.name.text, env);
    let layout = if base == stack.name.text {
        "<stack>/<service>"
    } else if cx.instance.is_some() {
        "<stack>-<preview>/<service>"
    } else {
        "<stack>-<environment>/<service>"
    };
    let mut base_reported = false;
    for (svc, info) in services.iter().zip(infos) {
        if svc.build().is_none() || !valid(&svc.name) {
            continue;
        }
        let repository = naming::repository(&base, &svc.name);
        let Some(rule) = names::ecr_repository(&repository) else {
            continue;
        };
        // The names that break the rule: the base's part (once), the service's; else the
        // length, which the service's name can most easily give up.
        let mut culprits = Vec::new();
        if !names::ecr_part(&base) && !std::mem::replace(&mut base_reported, true) {
            match (names::ecr_part(&stack.name.text), items.environment) {
                (false, _) => culprits.push((stack, "stack")),
                (true, Some(env)) => culprits.push((env, "environment")),
                (true, None) => {}
            }
        }
        if !names::ecr_part(&svc.name) || names::ecr_part(&base) {
            culprits.push((info.block, "service"));
        }
        for (block, what) in culprits {
            let change = match names::fix_ecr_part(&block.name.text) {
                _ if repository.len() > 256 => format!("shorten the {what}'s name"),
                Some(f) => format!("rename the {what}, e.g. `{f}`"),
                None => format!("rename the {what}"),
            };
            cx.err(CheckError::InvalidName {
                span: block.name.span,
                name: repository.clone(),
                what: "ECR repository name".into(),
                rule: rule.into(),
                help: Some(format!(
                    "service `{}` is built from a Dockerfile, and its image goes to the ECR \
                     repository `{layout}`: {change}",
                    svc.name
                )),
            });
        }
    }
}

/// A key bound to a literal in one service and to a store export or a secret in another: the
/// environment property reaches every container, the literal's container included.
fn literal_conflicts(
    cx: &mut Cx,
    services: &[Service],
    stores: &[Store],
    infos: &[ServiceInfo<'_>],
    bound: &HashMap<&str, (&Binding, Span)>,
) {
    if bound.is_empty() {
        return;
    }
    for (svc, info) in services.iter().zip(infos) {
        let mut seen: HashSet<&str> = HashSet::default();
        let attrs = entries(info.block)
            .1
            .into_iter()
            .filter(|n| n.name.text == "env")
            .flat_map(|n| &n.attrs);
        for a in attrs {
            let key = a.key.text.as_str();
            // A repeated key was reported; the model holds its first value.
            if !seen.insert(key) {
                continue;
            }
            let Some(&(binding, binding_span)) = bound.get(key) else {
                continue;
            };
            // Only literals the model accepted: a value already reported is not reported again.
            let literal = svc
                .env
                .iter()
                .any(|e| e.key == key && matches!(e.value, EnvValue::Literal(_)));
            if !literal {
                continue;
            }
            let written = match &a.value.kind {
                ValueKind::Str(s) => format!("{s:?}"),
                ValueKind::Int(n) => n.to_string(),
                ValueKind::Bool(b) => b.to_string(),
                _ => "a literal".into(),
            };
            let bound_text = binding_text(binding, stores);
            let (span, first, this, other) = if a.value.span.start > binding_span.start {
                (a.value.span, binding_span, written, bound_text)
            } else {
                (binding_span, a.value.span, bound_text, written)
            };
            cx.err(CheckError::EnvConflict {
                span,
                first,
                key: key.to_string(),
                this,
                other,
            });
        }
    }
}

/// How many further reads of a managed password get a label of their own.
const ROLE_LABELS: usize = 8;

/// Store references: reachability through the firewall, the execution role for managed
/// passwords, one value per environment key, and stores nobody reads.
#[allow(clippy::too_many_arguments)]
pub(crate) fn references(
    cx: &mut Cx,
    items: &Items<'_>,
    env: Option<&Environment>,
    services: &[Service],
    stores: &[Store],
    infos: &[ServiceInfo<'_>],
    fw: &CheckedFirewall,
    read_stores: &[bool],
) {
    let mut bound: HashMap<&str, (&Binding, Span)> = HashMap::default();
    let mut role_needed: Vec<(usize, usize, Span)> = Vec::new();
    let no_firewall = items.firewalls.is_empty();
    for (i, (svc, info)) in services.iter().zip(infos).enumerate() {
        let mut reported: HashSet<usize> = HashSet::default();
        for b in &info.bindings {
            if let Binding::Store { store, export } = b.value {
                let st = &stores[store];
                if !fw.reaches(store, i) && reported.insert(store) {
                    cx.err(CheckError::Unreachable {
                        span: b.span,
                        service: svc.name.to_string(),
                        store: st.name.clone(),
                        no_firewall,
                    });
                }
                let managed =
                    matches!(&st.kind, StoreKind::Postgres(p) if p.password == Password::Managed);
                if export == Export::Password && managed {
                    role_needed.push((i, store, b.span));
                }
            }
            match bound.get(b.key.text.as_str()) {
                Some(&(first, first_span)) if *first != b.value => {
                    cx.err(CheckError::EnvConflict {
                        span: b.span,
                        first: first_span,
                        key: b.key.text.to_string(),
                        this: binding_text(&b.value, stores),
                        other: binding_text(first, stores),
                    })
                }
                Some(_) => {}
                None => {
                    bound.insert(&b.key.text, (&b.value, b.span));
                }
            }
        }
    }
    literal_conflicts(cx, services, stores, infos, &bound);
    derived_names(cx, items, env, stores, !role_needed.is_empty());
    env_properties(cx, stores, &bound);
    if let (Some(env), Some(env_block), Some(&(svc, store, span))) =
        (env, items.environment, role_needed.first())
    {
        if !cx.env_facts.role_known {
            let others = role_needed[1..]
                .iter()
                .take(ROLE_LABELS)
                .map(|&(s, _, span)| {
                    LabeledSpan::new_with_span(
                        Some(format!("`{}` needs it too", services[s].name)),
                        span,
                    )
                })
                .collect();
            cx.err(CheckError::MissingExecutionRole {
                span,
                environment_span: env_block.name.span,
                others,
                service: services[svc].name.to_string(),
                store: stores[store].name.clone(),
                environment: env.name.clone(),
            });
        }
    }
    for (i, (kind, block)) in items.stores.iter().enumerate() {
        // A store the firewall opens to a service is in use, even when no env value names
        // it: the service may reach it by a value given at apply time (a URL).
        let opened = fw.model.reachable_stores.binary_search(&i).is_ok();
        if !read_stores.get(i).copied().unwrap_or(true) && !opened {
            cx.err(CheckError::Unused {
                span: block.name.span,
                what: if *kind == Kind::Postgres {
                    "postgres store"
                } else {
                    "redis store"
                },
                name: block.name.text.to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{CidrError, Graph, find_cycles, normalize_cidr};

    fn codes(src: &str) -> Vec<String> {
        let parsed = crate::syntax::parse(src);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        let checked = crate::check::check(&parsed.file.expect("parses"));
        checked
            .errors
            .iter()
            .map(|e| miette::Diagnostic::code(e).expect("a code").to_string())
            .collect()
    }

    #[test]
    fn a_key_bound_to_a_secret_and_to_a_literal_conflicts() {
        let src = r#"
            stack app { }
            environment app-env { }
            service web { image = "a" memory = 128 MiB essential = true env { API_KEY = "dev" } }
            service job { image = "b" memory = 128 MiB env { API_KEY = secret("API_KEY") } }
        "#;
        assert_eq!(codes(src), ["stack::env_conflict"]);
        // The same key holding two literals is fine: each container has its own.
        let src = src.replace(r#"secret("API_KEY")"#, r#""prod""#);
        assert_eq!(codes(&src), Vec::<String>::new());
    }

    #[test]
    fn cidr_blocks_come_out_in_canonical_form() {
        let ok = |c: &str| normalize_cidr(c).ok();
        assert_eq!(ok("10.0.0.0/16").as_deref(), Some("10.0.0.0/16"));
        assert_eq!(ok("010.000.0.0/08").as_deref(), Some("10.0.0.0/8"));
        assert_eq!(ok("192.168.001.007").as_deref(), Some("192.168.1.7/32"));
        assert_eq!(ok("000.0.0.0/00").as_deref(), Some("0.0.0.0/0"));
        assert!(matches!(
            normalize_cidr("010.0.0.1/08"),
            Err(CidrError::HostBits(n)) if n == "10.0.0.0/8"
        ));
        assert!(matches!(
            normalize_cidr("256.0.0.0/8"),
            Err(CidrError::Range(_))
        ));
    }

    #[test]
    fn finds_one_cycle_per_component() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 → 0 (not in a cycle).
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![0]];
        let cycles = find_cycles(&Graph::from_lists(&edges));
        assert_eq!(cycles, vec![vec![(0, 0), (1, 0), (2, 0)], vec![(3, 0)]]);
    }

    #[test]
    fn finds_the_shortest_cycle_through_the_first_node() {
        // 0 → 1 → 2 → 3 → 0 and a shortcut 1 → 3.
        let edges = vec![vec![1], vec![2, 3], vec![3], vec![0]];
        assert_eq!(
            find_cycles(&Graph::from_lists(&edges)),
            vec![vec![(0, 0), (1, 1), (3, 0)]]
        );
    }

    #[test]
    fn acyclic_graphs_have_no_cycle() {
        let edges = vec![vec![1, 2], vec![2], vec![], vec![0, 1]];
        assert!(find_cycles(&Graph::from_lists(&edges)).is_empty());
    }

    #[test]
    fn a_long_chain_closed_into_a_cycle_is_one_cycle() {
        // 0 → 1 → ... → 99_999 → 0: deep enough to overflow any recursive search.
        let n = 100_000;
        let edges: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
        let cycles = find_cycles(&Graph::from_lists(&edges));
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].len(), n);
        assert_eq!(cycles[0][0], (0, 0));
        assert_eq!(cycles[0][n - 1], (n - 1, 0));
    }

    #[test]
    fn many_back_edges_stay_linear() {
        // A chain where every node also links back to the first: one component, one cycle.
        let n = 20_000;
        let edges: Vec<Vec<usize>> = (0..n)
            .map(|i| match i {
                0 => vec![1],
                i if i + 1 < n => vec![i + 1, 0],
                _ => vec![0],
            })
            .collect();
        let cycles = find_cycles(&Graph::from_lists(&edges));
        assert_eq!(cycles.len(), 1);
        // The shortest cycle through node 0 is 0 → 1 → 0.
        assert_eq!(cycles[0], vec![(0, 0), (1, 1)]);
    }
}
