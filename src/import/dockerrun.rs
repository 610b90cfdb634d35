//! Reading an Elastic Beanstalk `Dockerrun.aws.json` (version 2: ECS container definitions;
//! version 1: one container) into a [`RawApp`]. JSON is read as YAML, which gives lines.

use crate::check::Protocol;

use super::raw::{EnvLiteral, RawApp, RawEnv, RawPort, RawService};
use super::yaml::{Entry, Node, Value};
use super::{ImportError, Warnings};

const MIB: u64 = 1 << 20;

pub fn read(root: &Node, w: &mut Warnings) -> Result<RawApp, ImportError> {
    let Some(top) = root.value.as_map() else {
        return Err(ImportError {
            line: Some(root.line),
            message: format!(
                "a Dockerrun.aws.json is a JSON object, found {}",
                root.value.kind()
            ),
        });
    };
    let version = root
        .get("AWSEBDockerrunVersion")
        .and_then(|e| e.value.value.as_text());
    if version.as_deref() == Some("1") {
        return Ok(version_1(top, w));
    }
    let mut app = RawApp {
        has_essential: true,
        ..RawApp::default()
    };
    let mut containers = None;
    for e in top {
        match e.key.as_str() {
            "AWSEBDockerrunVersion" => {
                if version.as_deref() != Some("2") {
                    w.add(e.line, format!("`AWSEBDockerrunVersion` is {}; read as version 2", version.as_deref().unwrap_or("not a number")));
                }
            }
            "containerDefinitions" => containers = Some(e),
            "executionRoleArn" => app.execution_role = e.value.value.as_text(),
            "volumes" => w.add(e.line, "`volumes` are not carried over: containers on Elastic Beanstalk keep data in the data stores".into()),
            k => w.add(e.line, format!("`{k}` has no equivalent in a .stack file; ignored")),
        }
    }
    let Some(containers) = containers else {
        return Err(ImportError {
            line: None,
            message: "no `containerDefinitions` in the Dockerrun.aws.json".into(),
        });
    };
    let Value::Seq(items) = &containers.value.value else {
        return Err(ImportError {
            line: Some(containers.line),
            message: "`containerDefinitions` is not a list".into(),
        });
    };
    for (i, item) in items.iter().enumerate() {
        match item.value.as_map() {
            Some(entries) => app.services.push(container(entries, item.line, i, w)),
            None => w.add(
                item.line,
                format!(
                    "a container definition is {}, not an object; ignored",
                    item.value.kind()
                ),
            ),
        }
    }
    Ok(app)
}

fn container(entries: &[Entry], line: usize, index: usize, w: &mut Warnings) -> RawService {
    let name = entries
        .iter()
        .find(|e| e.key == "name")
        .and_then(|e| e.value.value.as_text())
        .unwrap_or_else(|| {
            w.add(
                line,
                format!(
                    "container definition {} has no `name`; named `container-{}`",
                    index + 1,
                    index + 1
                ),
            );
            format!("container-{}", index + 1)
        });
    let mut s = RawService {
        name: name.clone(),
        line,
        image_line: line,
        ..RawService::default()
    };
    let strings = |n: &Node| -> Vec<String> {
        match &n.value {
            Value::Seq(items) => items.iter().filter_map(|i| i.value.as_text()).collect(),
            v => v.as_text().into_iter().collect(),
        }
    };
    let mib = |n: &Node| -> Option<(u64, usize)> {
        match &n.value {
            Value::Int(i) if *i > 0 => Some((i.unsigned_abs().saturating_mul(MIB), n.line)),
            v => v
                .as_text()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .filter(|m| *m > 0)
                .map(|m| (m.saturating_mul(MIB), n.line)),
        }
    };
    for e in entries {
        let v = &e.value.value;
        match e.key.as_str() {
            "name" => {}
            "image" => {
                s.image = v.as_text();
                s.image_line = e.line;
            }
            "essential" => {
                s.essential = Some(
                    !matches!(v, Value::Bool(false)) && v.as_text().as_deref() != Some("false"),
                )
            }
            "memory" => s.memory = mib(&e.value),
            "memoryReservation" => s.memory_reservation = mib(&e.value),
            "hostname" => s.hostname = v.as_text().map(|h| (h, e.line)),
            "workingDirectory" => s.working_dir = v.as_text(),
            "command" => s.command = Some(strings(&e.value)),
            "entryPoint" => s.entrypoint = Some(strings(&e.value)),
            "links" => {
                for l in strings(&e.value) {
                    let (target, alias) = match l.split_once(':') {
                        Some((t, a)) => (t.to_string(), Some(a.to_string())),
                        None => (l, None),
                    };
                    s.links.push((target, alias, e.line));
                }
            }
            "portMappings" => {
                for p in seq(&e.value) {
                    let get = |k: &str| p.get(k).and_then(|x| x.value.value.as_text());
                    let container = get("containerPort")
                        .and_then(|c| c.parse::<u16>().ok())
                        .filter(|c| *c > 0);
                    let host = get("hostPort")
                        .and_then(|c| c.parse::<u16>().ok())
                        .filter(|c| *c > 0);
                    let protocol = match get("protocol").as_deref() {
                        None | Some("tcp") => Some(Protocol::Tcp),
                        Some("udp") => Some(Protocol::Udp),
                        Some(_) => None,
                    };
                    match (container, protocol) {
                        (Some(container), Some(protocol)) => {
                            s.ports.push(RawPort { host, container, protocol, loopback: false, line: p.line });
                        }
                        _ => w.add(p.line, format!("a port mapping of container `{name}` is not carried over: it needs a `containerPort` and a tcp or udp `protocol`")),
                    }
                }
            }
            "environment" => {
                for p in seq(&e.value) {
                    let key = p.get("name").and_then(|x| x.value.value.as_text());
                    let value = p.get("value").and_then(|x| x.value.value.as_text());
                    match key {
                        Some(key) => {
                            // A later entry for the same name wins, as in ECS.
                            s.env.retain(|e| e.key != key);
                            s.env.push(RawEnv {
                                key,
                                value: EnvLiteral::Str(value.unwrap_or_default()),
                                line: p.line,
                            })
                        }
                        None => w.add(
                            p.line,
                            format!(
                                "an environment entry of container `{name}` has no `name`; ignored"
                            ),
                        ),
                    }
                }
            }
            "mountPoints" | "volumesFrom" => {
                w.add(e.line, format!("`{}` of container `{name}` is not carried over: containers keep no volumes in a .stack file", e.key));
                s.todos.push(format!("the Dockerrun mounted volumes here (`{}`): bake files into the image, keep data in a data store", e.key));
            }
            "secrets" => {
                w.add(e.line, format!("`secrets` of container `{name}` is not carried over: use `secret(\"VAR\")` env values or a postgres `password = managed`"));
                s.todos.push(
                    "the Dockerrun read secrets here: add them to `env` as `secret(\"VAR\")`"
                        .into(),
                );
            }
            k => w.add(
                e.line,
                format!("`{k}` of container `{name}` has no equivalent in a .stack file; ignored"),
            ),
        }
    }
    s
}

fn seq(n: &Node) -> Vec<&Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        _ => Vec::new(),
    }
}

/// Version 1: one container, behind Elastic Beanstalk's proxy on port 80.
fn version_1(top: &[Entry], w: &mut Warnings) -> RawApp {
    let mut s = RawService {
        name: "app".into(),
        line: 1,
        essential: Some(true),
        ..RawService::default()
    };
    for e in top {
        match e.key.as_str() {
            "AWSEBDockerrunVersion" => {}
            "Image" => {
                s.line = e.line;
                s.image_line = e.line;
                s.image = e.value.get("Name").and_then(|n| n.value.value.as_text());
            }
            "Ports" => {
                for (i, p) in seq(&e.value).into_iter().enumerate() {
                    let get = |k: &str| {
                        p.get(k)
                            .and_then(|x| x.value.value.as_text())
                            .and_then(|c| c.parse::<u16>().ok())
                            .filter(|c| *c > 0)
                    };
                    if let Some(container) = get("ContainerPort") {
                        // The first port is the one Elastic Beanstalk's proxy serves on port 80.
                        let host = get("HostPort").or((i == 0).then_some(80));
                        s.ports.push(RawPort {
                            host,
                            container,
                            protocol: Protocol::Tcp,
                            loopback: false,
                            line: p.line,
                        });
                    }
                }
            }
            "Volumes" => {
                w.add(
                    e.line,
                    "`Volumes` are not carried over: containers keep no volumes in a .stack file"
                        .into(),
                );
                s.todos.push("the Dockerrun mounted volumes here: bake files into the image, keep data in a data store".into());
            }
            k => w.add(
                e.line,
                format!("`{k}` has no equivalent in a .stack file; ignored"),
            ),
        }
    }
    RawApp {
        services: vec![s],
        has_essential: true,
        ..RawApp::default()
    }
}
