//! Pass 5: ports and the essential service. One service is public, chosen from evidence (a
//! reverse proxy image; a published port 80/443; a web port such as 8080 or 3000; being the
//! entry point that links to the others; not an admin tool), and serves its web port on host
//! port 80, the port Elastic Beanstalk serves (443 too, when it publishes it). Every other
//! published port (a debugger, an admin console, a second service) stays closed: it is not
//! mapped, and a TODO in the firewall says how to open it to the networks that need it.
//!
//! The public service is the essential one; with no public service, the entry point of the
//! links is. A Dockerrun's own essential flags are kept.

use crate::check::Protocol;
use crate::check::lints::DANGEROUS;
use crate::import::Warnings;
use crate::import::raw::{RawPort, RawService, image_repo_and_tag};

use super::{Plan, quoted};

/// Ports of debuggers, which never face the internet.
const DEBUG_PORTS: [(u16, &str); 8] = [
    (9229, "Node's inspector"),
    (9230, "Node's inspector"),
    (5858, "Node's legacy debugger"),
    (5678, "debugpy"),
    (5005, "the Java debugger"),
    (2345, "Delve, the Go debugger"),
    (9003, "Xdebug"),
    (1234, "a Ruby debugger"),
];

/// Admin consoles and brokers' ports, which never face the internet either.
const ADMIN_PORTS: [(u16, &str); 6] = [
    (15672, "RabbitMQ's management console"),
    (5672, "RabbitMQ"),
    (9092, "Kafka"),
    (2181, "ZooKeeper"),
    (8025, "a mail catcher"),
    (1025, "an SMTP server"),
];

/// Ports web servers and app servers listen on.
const WEB_PORTS: [u16; 9] = [80, 443, 8080, 3000, 8000, 5000, 4000, 8888, 8081];

/// Images of reverse proxies: the services that face the internet.
const PROXY_IMAGES: [&str; 8] = [
    "nginx",
    "traefik",
    "caddy",
    "httpd",
    "haproxy",
    "envoy",
    "openresty",
    "apache",
];

/// Images of tools beside the app (admin consoles, mail catchers, monitoring, DNS): a public
/// service only when nothing else is.
const TOOL_IMAGES: [&str; 16] = [
    "pgadmin4",
    "adminer",
    "phpmyadmin",
    "mailhog",
    "maildev",
    "mailpit",
    "prometheus",
    "node-exporter",
    "cadvisor",
    "alertmanager",
    "portainer",
    "pihole",
    "coredns",
    "unbound",
    "cloudflared",
    "mongo-express",
];

/// Why a port never faces the internet, if it must not.
pub(super) fn closed_why(port: u16) -> Option<&'static str> {
    DEBUG_PORTS
        .iter()
        .chain(&ADMIN_PORTS)
        .find(|(p, _)| *p == port)
        .map(|(_, w)| *w)
        .or_else(|| {
            DANGEROUS
                .iter()
                .find(|(p, _)| *p == u64::from(port))
                .map(|(_, w)| *w)
        })
}

/// A published port the import does not open.
pub(in crate::import) struct Closed {
    /// Index into `svcs`.
    pub svc: usize,
    pub port: u16,
    pub protocol: Protocol,
    pub why: Option<&'static str>,
}

fn repo_of(s: &RawService) -> Option<String> {
    s.image.as_deref().map(|i| image_repo_and_tag(i).0)
}

/// A reverse proxy by its image, or, for a service compose builds, by its name or build
/// folder (`nginx`, `build: ./nginx`).
fn is_proxy(s: &RawService) -> bool {
    let is = |word: &str| PROXY_IMAGES.contains(&word.to_ascii_lowercase().as_str());
    match repo_of(s) {
        Some(repo) => is(&repo),
        None => {
            is(&s.name)
                || s.build
                    .as_deref()
                    .is_some_and(|b| is(b.trim_end_matches('/').rsplit('/').next().unwrap_or(b)))
        }
    }
}

fn is_tool(s: &RawService) -> bool {
    repo_of(s).is_some_and(|r| TOOL_IMAGES.contains(&r.as_str()))
}

/// Ports that may serve the app: TCP, not a debugger's, an admin console's or a database's,
/// bound to every address (or to loopback only, when `loopback`).
///
/// A debugger's port that is the only port of its service is the app's own (n8n serves on
/// 5678, debugpy's port).
fn candidates(s: &RawService, loopback: bool) -> Vec<&RawPort> {
    let tcp = || {
        s.ports
            .iter()
            .filter(move |p| p.protocol == Protocol::Tcp && p.loopback == loopback)
    };
    let open = |p: &&RawPort| {
        closed_why(p.container).is_none() && p.host.is_none_or(|h| closed_why(h).is_none())
    };
    let ports: Vec<&RawPort> = tcp().filter(open).collect();
    if !ports.is_empty() {
        return ports;
    }
    let debug = |p: u16| DEBUG_PORTS.iter().any(|(d, _)| *d == p);
    tcp()
        .filter(|p| debug(p.container) && p.host.is_none_or(debug))
        .collect()
}

/// How strongly the evidence says a service is the public one, and why, in words.
fn evidence(plan: &Plan<'_>, linked: &[bool], si: usize, loopback: bool) -> Option<(i32, String)> {
    let raw = plan.svcs[si].raw;
    let ports = candidates(raw, loopback);
    if ports.is_empty() {
        return None;
    }
    let mut score = 0;
    let mut why = Vec::new();
    if is_proxy(raw) {
        score += 100;
        why.push("it is a reverse proxy".to_string());
    }
    if let Some(p) = ports.iter().find(|p| matches!(p.host, Some(80 | 443))) {
        score += 50;
        why.push(format!("it publishes port {}", p.host.unwrap_or_default()));
    } else if let Some(p) = ports
        .iter()
        .find(|p| p.container == 80)
        .or_else(|| ports.iter().find(|p| p.container == 443))
    {
        score += 30;
        why.push(format!("it serves port {}", p.container));
    } else if let Some(p) = ports.iter().find(|p| {
        WEB_PORTS.contains(&p.container) || p.host.is_some_and(|h| WEB_PORTS.contains(&h))
    }) {
        score += 20;
        why.push(format!(
            "port {} is a web port",
            p.host.unwrap_or(p.container)
        ));
    }
    let linked_to = linked[si];
    if !linked_to && !plan.svcs[si].links.is_empty() {
        score += 10;
        let targets: Vec<&str> = plan.svcs[si]
            .links
            .iter()
            .map(|(t, _)| plan.svcs[*t].name.as_str())
            .collect();
        why.push(format!("it links to {}", quoted(targets)));
    }
    if is_tool(raw) {
        score -= 40;
    }
    if why.is_empty() {
        why.push("it is the only service that publishes a port".into());
    }
    Some((score, super::and_list(&why)))
}

/// The web port a public service serves on host port 80: host port 80, else container port
/// 80, else a web port, else its first port.
fn web_port<'p>(ports: &[&'p RawPort]) -> Option<&'p RawPort> {
    ports
        .iter()
        .find(|p| p.host == Some(80))
        .or_else(|| ports.iter().find(|p| p.container == 80))
        .or_else(|| {
            ports.iter().find(|p| {
                WEB_PORTS.contains(&p.container) && p.container != 443 && p.host != Some(443)
            })
        })
        .or_else(|| {
            ports
                .iter()
                .find(|p| p.container != 443 && p.host != Some(443))
        })
        .copied()
}

/// Whether another service links to each service.
fn linked_to(plan: &Plan<'_>) -> Vec<bool> {
    let mut linked = vec![false; plan.svcs.len()];
    for s in &plan.svcs {
        for (t, _) in &s.links {
            linked[*t] = true;
        }
    }
    linked
}

pub(super) fn choose(plan: &mut Plan<'_>, w: &mut Warnings) {
    let n = plan.svcs.len();
    let linked = linked_to(plan);
    let mut best: Option<(i32, usize, String, bool)> = None;
    for loopback in [false, true] {
        for si in 0..n {
            if let Some((score, why)) = evidence(plan, &linked, si, loopback) {
                if best.as_ref().is_none_or(|b| score > b.0) {
                    best = Some((score, si, why, loopback));
                }
            }
        }
        if best.is_some() {
            break;
        }
    }
    // The raw ports that are mapped: (service, index in its `ports`).
    let mut opened: Vec<(usize, usize)> = Vec::new();
    if let Some((_, si, why, loopback)) = &best {
        let raw = plan.svcs[*si].raw;
        let ports = candidates(raw, *loopback);
        let index = |p: &RawPort| raw.ports.iter().position(|q| std::ptr::eq(q, p));
        let web = web_port(&ports);
        let tls = ports
            .iter()
            .find(|p| {
                (p.host == Some(443) || p.container == 443)
                    && web.is_none_or(|w| !std::ptr::eq(**p, w))
            })
            .copied();
        let mut mapped = Vec::new();
        let mut comment = Vec::new();
        if let Some(p) = web {
            mapped.push((80, p.container, Protocol::Tcp));
            opened.extend(index(p).map(|i| (*si, i)));
            let written = port_written(p);
            if p.host != Some(80) {
                comment.push(format!("was `{written}`: Elastic Beanstalk serves port 80"));
                w.add(p.line, format!("port `{written}` of service `{}` is served on host port 80, the port Elastic Beanstalk serves", raw.name));
            }
            if *loopback {
                comment.push("compose bound it to localhost for a proxy on the host; nothing proxies on Elastic Beanstalk".into());
            }
        }
        if let Some(p) = tls {
            mapped.push((443, p.container, Protocol::Tcp));
            opened.extend(index(p).map(|i| (*si, i)));
        }
        plan.public = vec![*si];
        plan.public_why = why.clone();
        if *loopback {
            plan.public_why.push_str(" (bound to localhost in compose)");
        }
        plan.svcs[*si].ports = mapped;
        plan.svcs[*si].ports_comment = (!comment.is_empty()).then(|| comment.join("; "));
    }
    let mut closed: Vec<Closed> = Vec::new();
    for si in 0..n {
        let raw = plan.svcs[si].raw;
        for (pi, p) in raw.ports.iter().enumerate() {
            if opened.contains(&(si, pi)) {
                continue;
            }
            let port = p.host.unwrap_or(p.container);
            let why = closed_why(p.container).or_else(|| p.host.and_then(closed_why));
            let because = match (why, p.loopback) {
                (Some(what), _) => format!("{what} is not for the internet"),
                (None, true) => "compose bound it to localhost".to_string(),
                (None, false) => "only the public service's web port is opened".to_string(),
            };
            w.add(p.line, format!("port `{}` of service `{}` is not mapped: {because}; the firewall block says how to open it", port_written(p), raw.name));
            if !closed
                .iter()
                .any(|c| c.svc == si && c.port == port && c.protocol == p.protocol)
            {
                closed.push(Closed {
                    svc: si,
                    port,
                    protocol: p.protocol,
                    why,
                });
            }
        }
    }
    plan.closed = closed;
    essential(plan);
}

/// A port as compose wrote it.
fn port_written(p: &RawPort) -> String {
    let proto = if p.protocol == Protocol::Udp {
        "/udp"
    } else {
        ""
    };
    match p.host {
        Some(h) => format!("{h}:{}{proto}", p.container),
        None => format!("{}{proto}", p.container),
    }
}

fn essential(plan: &mut Plan<'_>) {
    if plan.app.has_essential {
        for svc in &mut plan.svcs {
            svc.essential = svc.raw.essential.unwrap_or(true);
        }
        if !plan.svcs.iter().any(|s| s.essential) {
            plan.svcs[0].essential = true;
            plan.svcs[0].essential_comment =
                Some("no container was essential; ECS needs one".into());
        }
        return;
    }
    let (i, why) = match plan.public.first() {
        Some(&i) => (i, "it serves the app".to_string()),
        None => {
            // The entry point: linked to by no one, linking to the most.
            let linked = linked_to(plan);
            let entry = (0..plan.svcs.len())
                .filter(|&i| !linked[i])
                .max_by(|&a, &b| {
                    plan.svcs[a]
                        .links
                        .len()
                        .cmp(&plan.svcs[b].links.len())
                        .then(b.cmp(&a))
                })
                .unwrap_or(0);
            let why = if plan.svcs[entry].links.is_empty() {
                "nothing is published or linked".to_string()
            } else {
                "it is the entry point of the links".to_string()
            };
            (entry, why)
        }
    };
    plan.svcs[i].essential = true;
    plan.svcs[i].essential_comment =
        Some(format!("chosen: {why}; ECS stops the task when it stops"));
}
