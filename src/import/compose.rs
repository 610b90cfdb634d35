//! Reading a docker-compose file (the Compose Specification, and the older `version: "2"`/`"3"`
//! files) into a [`RawApp`]. Keys with no equivalent become warnings naming the key and line.

use crate::check::Protocol;

use super::raw::{
    EnvLiteral, RawApp, RawEnv, RawPort, RawService, parse_bytes, parse_port_range, shell_words,
};
use super::yaml::{Entry, Node, Value};
use super::{ImportError, Warnings, store_kind};

/// Reads the whole file.
pub fn read(root: &Node, w: &mut Warnings) -> Result<RawApp, ImportError> {
    let Some(top) = root.value.as_map() else {
        return Err(ImportError {
            line: Some(root.line),
            message: format!(
                "a compose file is a mapping with `services`, found {}",
                root.value.kind()
            ),
        });
    };
    let mut app = RawApp::default();
    let mut services = None;
    for e in top {
        match e.key.as_str() {
            "services" => services = Some(e),
            "name" => app.name = e.value.value.as_text(),
            // Obsolete, and ignored by compose itself.
            "version" => {}
            // Extension fields: anchors for the services to merge.
            k if k.starts_with("x-") => {}
            "volumes" => w.add(e.line, "top-level `volumes` are not carried over: containers on Elastic Beanstalk keep no named volumes; keep data in the data stores".into()),
            "networks" => w.add(e.line, "top-level `networks` are not carried over: the containers share the instance's network and reach each other through `links`".into()),
            "secrets" | "configs" => w.add(e.line, format!("top-level `{}` are not carried over: pass secrets as `secret(\"VAR\")` env values", e.key)),
            k => w.add(e.line, format!("top-level `{k}` has no equivalent in a .stack file; ignored")),
        }
    }
    let Some(services) = services else {
        return Err(ImportError {
            line: None,
            message: "no `services` in the compose file".into(),
        });
    };
    let Some(entries) = services.value.value.as_map() else {
        return Err(ImportError {
            line: Some(services.line),
            message: format!(
                "`services` is a mapping of service names, found {}",
                services.value.value.kind()
            ),
        });
    };
    for e in entries {
        app.services.push(service(e, w));
    }
    Ok(app)
}

fn service(e: &Entry, w: &mut Warnings) -> RawService {
    let mut s = RawService {
        name: e.key.clone(),
        line: e.line,
        image_line: e.line,
        ..RawService::default()
    };
    let Some(map) = e.value.value.as_map() else {
        if !matches!(e.value.value, Value::Null) {
            w.add(
                e.line,
                format!(
                    "service `{}` is {}, not a mapping; read as empty",
                    e.key,
                    e.value.value.kind()
                ),
            );
        }
        return s;
    };
    s.image = map
        .iter()
        .find(|e| e.key == "image")
        .and_then(|e| e.value.value.as_text());
    s.image_line = map
        .iter()
        .find(|e| e.key == "image")
        .or_else(|| map.iter().find(|e| e.key == "build"))
        .map_or(e.line, |e| e.line);
    let store = s.image.as_deref().and_then(store_kind);
    let name = e.key.as_str();
    for a in map {
        let v = &a.value.value;
        let key = a.key.as_str();
        let line = a.line;
        match key {
            "image" => {
                if s.image.is_none() {
                    w.add(line, format!("`image` of service `{name}` is {}, not a string; ignored", v.kind()));
                }
            }
            "environment" => s.env = environment(&a.value, name, w),
            _ if store.is_some() => {
                let (what, kind) = match store {
                    Some(super::StoreKind::Postgres) => ("RDS", "postgres"),
                    _ => ("ElastiCache", "redis"),
                };
                w.add(line, format!("`{key}` of service `{name}` is not carried over: it becomes a {kind} store on {what}"));
            }
            "build" => {
                s.build = Some(match v {
                    Value::Map(_) => a.value.get("context").and_then(|c| c.value.value.as_text()).unwrap_or_else(|| ".".into()),
                    _ => v.as_text().unwrap_or_else(|| ".".into()),
                });
            }
            "ports" => match v {
                Value::Seq(items) => {
                    for item in items {
                        match port(item) {
                            Ok(ps) => s.ports.extend(ps),
                            Err(why) => w.add(item.line, format!("a port of service `{name}` is not carried over: {why}")),
                        }
                    }
                }
                _ => w.add(line, format!("`ports` of service `{name}` is {}, not a list; ignored", v.kind())),
            },
            "links" => {
                for item in seq_items(&a.value) {
                    if let Some(t) = item.value.as_text() {
                        let (target, alias) = match t.split_once(':') {
                            Some((t, a)) => (t.to_string(), Some(a.to_string())),
                            None => (t, None),
                        };
                        s.links.push((target, alias, item.line));
                    }
                }
            }
            "depends_on" => match v {
                Value::Map(deps) => s.depends_on.extend(deps.iter().map(|d| (d.key.clone(), d.line))),
                _ => {
                    for item in seq_items(&a.value) {
                        if let Some(t) = item.value.as_text() {
                            s.depends_on.push((t, item.line));
                        }
                    }
                }
            },
            "mem_limit" => s.memory = bytes(&a.value, key, name, w),
            "mem_reservation" => s.memory_reservation = bytes(&a.value, key, name, w),
            "deploy" => deploy(&a.value, &mut s, w),
            "command" => s.command = words(&a.value, key, name, w),
            "entrypoint" => s.entrypoint = words(&a.value, key, name, w),
            "working_dir" => s.working_dir = v.as_text(),
            "hostname" => s.hostname = v.as_text().map(|h| (h, line)),
            "container_name" => {
                if let Some(c) = v.as_text() {
                    s.aliases.push(c);
                }
                w.add(line, format!("`container_name` of service `{name}` is not carried over: on Elastic Beanstalk the container is named after the service"));
            }
            "networks" => {
                // Network aliases are other names the service answers to.
                if let Value::Map(nets) = v {
                    for n in nets {
                        for al in n.value.get("aliases").map(|x| seq_items(&x.value)).unwrap_or_default() {
                            if let Some(t) = al.value.as_text() {
                                s.aliases.push(t);
                            }
                        }
                    }
                }
                w.add(line, format!("`networks` of service `{name}` is not carried over: containers reach each other through `links`"));
            }
            "expose" => w.add(line, format!("`expose` of service `{name}` is not carried over: linked containers reach every port of each other")),
            "env_file" => {
                w.add(line, format!("`env_file` of service `{name}` is not read: copy the variables it holds into the service's `env`"));
                s.todos.push("compose read variables from `env_file`: copy the ones the container needs into `env`".into());
            }
            "volumes" => {
                w.add(line, format!("`volumes` of service `{name}` is not carried over: containers on Elastic Beanstalk keep no volumes"));
                s.todos.push("compose mounted volumes into this container: bake the files into the image, and keep data in a data store".into());
            }
            "restart" => w.add(line, format!("`restart` of service `{name}` is not carried over: ECS restarts the task when an essential container stops")),
            "healthcheck" => w.add(line, format!("`healthcheck` of service `{name}` is not carried over: Elastic Beanstalk checks the environment's health itself")),
            _ => w.add(line, format!("`{key}` of service `{name}` has no equivalent in a .stack file; ignored")),
        }
    }
    s
}

/// The items of a list node (a scalar counts as a list of one).
fn seq_items(n: &Node) -> Vec<&Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        _ => vec![n],
    }
}

fn environment(n: &Node, service: &str, w: &mut Warnings) -> Vec<RawEnv> {
    let mut out: Vec<RawEnv> = Vec::new();
    let mut push = |env: RawEnv| {
        // A later definition of the same key wins, as in compose.
        out.retain(|e| e.key != env.key);
        out.push(env);
    };
    match &n.value {
        Value::Map(entries) => {
            for e in entries {
                let value = match &e.value.value {
                    Value::Null => EnvLiteral::PassThrough,
                    Value::Int(i) if *i >= 0 => EnvLiteral::Int(i.unsigned_abs()),
                    Value::Seq(_) | Value::Map(_) => {
                        w.add(e.line, format!("`{}` in the environment of service `{service}` is {}, not a value; ignored", e.key, e.value.value.kind()));
                        continue;
                    }
                    other => EnvLiteral::Str(other.as_text().unwrap_or_default()),
                };
                push(RawEnv {
                    key: e.key.clone(),
                    value,
                    line: e.line,
                });
            }
        }
        Value::Seq(items) => {
            for item in items {
                let Some(text) = item.value.as_text() else {
                    w.add(item.line, format!("an entry of the environment of service `{service}` is {}, not `KEY=VALUE`; ignored", item.value.kind()));
                    continue;
                };
                let (key, value) = match text.split_once('=') {
                    Some((k, v)) => (k.to_string(), EnvLiteral::Str(v.to_string())),
                    None => (text, EnvLiteral::PassThrough),
                };
                push(RawEnv {
                    key,
                    value,
                    line: item.line,
                });
            }
        }
        Value::Null => {}
        other => w.add(
            n.line,
            format!(
                "the environment of service `{service}` is {}, not a list or mapping; ignored",
                other.kind()
            ),
        ),
    }
    out
}

fn bytes(n: &Node, key: &str, service: &str, w: &mut Warnings) -> Option<(u64, usize)> {
    let parsed = match &n.value {
        Value::Int(i) if *i > 0 => Some(i.unsigned_abs()),
        v => v.as_text().and_then(|t| parse_bytes(&t)),
    };
    if parsed.is_none() {
        w.add(
            n.line,
            format!(
                "`{key}` of service `{service}` is not a size Docker reads (`512m`, `1g`); ignored"
            ),
        );
    }
    parsed.map(|b| (b, n.line))
}

fn words(n: &Node, key: &str, service: &str, w: &mut Warnings) -> Option<Vec<String>> {
    match &n.value {
        Value::Null => None,
        Value::Seq(items) => Some(items.iter().filter_map(|i| i.value.as_text()).collect()),
        v => {
            let text = v.as_text()?;
            match shell_words(&text) {
                Some(ws) => Some(ws),
                None => {
                    w.add(n.line, format!("`{key}` of service `{service}` has an unterminated quote; run through `sh -c`"));
                    Some(vec!["sh".into(), "-c".into(), text])
                }
            }
        }
    }
}

fn deploy(n: &Node, s: &mut RawService, w: &mut Warnings) {
    let name = s.name.clone();
    let Some(entries) = n.value.as_map() else {
        return;
    };
    for e in entries {
        if e.key != "resources" {
            w.add(
                e.line,
                format!(
                    "`deploy.{}` of service `{name}` has no equivalent in a .stack file; ignored",
                    e.key
                ),
            );
            continue;
        }
        for r in e.value.value.as_map().unwrap_or_default() {
            for x in r.value.value.as_map().unwrap_or_default() {
                let path = format!("deploy.resources.{}.{}", r.key, x.key);
                match (r.key.as_str(), x.key.as_str()) {
                    ("limits", "memory") => s.memory = bytes(&x.value, &path, &name, w),
                    ("reservations", "memory") => s.memory_reservation = bytes(&x.value, &path, &name, w),
                    _ => w.add(x.line, format!("`{path}` of service `{name}` has no equivalent in a .stack file; ignored")),
                }
            }
        }
    }
}

/// One entry of `ports`: `"8080:80"`, `8080`, `"127.0.0.1:5432:5432"`, `"53:53/udp"`,
/// `"9000-9001:9000-9001"`, or the long syntax `{target: 80, published: "8080"}`.
fn port(n: &Node) -> Result<Vec<RawPort>, String> {
    let line = n.line;
    match &n.value {
        Value::Int(i) => {
            let p = u16::try_from(*i)
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| format!("`{i}` is not a port"))?;
            Ok(vec![RawPort {
                host: None,
                container: p,
                protocol: Protocol::Tcp,
                loopback: false,
                line,
            }])
        }
        Value::Str(s) => short_port(s, line),
        Value::Map(_) => {
            let text = |k: &str| n.get(k).and_then(|e| e.value.value.as_text());
            let target = text("target").ok_or("the long syntax needs `target`")?;
            let protocol = protocol(text("protocol").as_deref().unwrap_or("tcp"))?;
            let loopback = text("host_ip").is_some_and(|ip| is_loopback(&ip));
            let published = text("published").filter(|p| !p.is_empty());
            expand(published.as_deref(), &target, protocol, loopback, line)
        }
        v => Err(format!("{} is not a port", v.kind())),
    }
}

fn short_port(s: &str, line: usize) -> Result<Vec<RawPort>, String> {
    let (spec, proto) = match s.rsplit_once('/') {
        Some((spec, p)) => (spec, protocol(p)?),
        None => (s, Protocol::Tcp),
    };
    // `[::1]:8080:80`, `127.0.0.1:8080:80`, `127.0.0.1::80`, `8080:80`, `80`.
    let (ip, rest) = match spec.strip_prefix('[') {
        Some(r) => {
            let (ip, rest) = r
                .split_once("]:")
                .ok_or_else(|| format!("`{s}` is not a port mapping"))?;
            (Some(ip), rest)
        }
        None => (None, spec),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match (ip, parts.as_slice()) {
        (None, [c]) => (None, None, *c),
        (None, [h, c]) => (None, Some(*h), *c),
        (None, [ip, h, c]) => (Some(*ip), Some(*h), *c),
        (Some(ip), [h, c]) => (Some(ip), Some(*h), *c),
        _ => return Err(format!("`{s}` is not a port mapping")),
    };
    let loopback = ip.is_some_and(is_loopback);
    expand(
        host.filter(|h| !h.is_empty()),
        container,
        proto,
        loopback,
        line,
    )
}

fn protocol(p: &str) -> Result<Protocol, String> {
    match p.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        other => Err(format!(
            "protocol `{other}` is not supported (only tcp and udp)"
        )),
    }
}

fn is_loopback(ip: &str) -> bool {
    ip.starts_with("127.") || ip == "::1" || ip == "localhost"
}

/// Most ports one range may expand to.
const MAX_RANGE: u16 = 32;

fn expand(
    host: Option<&str>,
    container: &str,
    protocol: Protocol,
    loopback: bool,
    line: usize,
) -> Result<Vec<RawPort>, String> {
    let (c0, c1) =
        parse_port_range(container).ok_or_else(|| format!("`{container}` is not a port"))?;
    let hosts = match host {
        None => None,
        Some(h) => Some(parse_port_range(h).ok_or_else(|| format!("`{h}` is not a port"))?),
    };
    let n = c1 - c0;
    if n >= MAX_RANGE {
        return Err(format!(
            "the range `{container}` holds more than {MAX_RANGE} ports"
        ));
    }
    if let Some((h0, h1)) = hosts {
        if h1 - h0 != n {
            return Err(format!(
                "host ports `{h0}-{h1}` and container ports `{container}` differ in length"
            ));
        }
    }
    Ok((0..=n)
        .map(|i| RawPort {
            host: hosts.map(|(h0, _)| h0 + i),
            container: c0 + i,
            protocol,
            loopback,
            line,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ports(s: &str) -> Vec<(Option<u16>, u16, &'static str, bool)> {
        short_port(s, 1)
            .expect("a port")
            .into_iter()
            .map(|p| (p.host, p.container, p.protocol.as_str(), p.loopback))
            .collect()
    }

    #[test]
    fn short_syntax() {
        assert_eq!(ports("80:80"), [(Some(80), 80, "tcp", false)]);
        assert_eq!(ports("3000"), [(None, 3000, "tcp", false)]);
        assert_eq!(ports("53:53/udp"), [(Some(53), 53, "udp", false)]);
        assert_eq!(
            ports("127.0.0.1:5432:5432"),
            [(Some(5432), 5432, "tcp", true)]
        );
        assert_eq!(ports("127.0.0.1::5000"), [(None, 5000, "tcp", true)]);
        assert_eq!(ports("[::1]:6001:6001"), [(Some(6001), 6001, "tcp", true)]);
        assert_eq!(
            ports("9000-9001:8000-8001"),
            [
                (Some(9000), 8000, "tcp", false),
                (Some(9001), 8001, "tcp", false)
            ]
        );
        assert!(short_port("80:80/sctp", 1).is_err());
        assert!(short_port("1-2000", 1).is_err());
        assert!(short_port("a:b:c:d", 1).is_err());
        assert!(short_port("0", 1).is_err());
    }
}
