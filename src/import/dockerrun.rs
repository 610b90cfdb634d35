//! Reading an Elastic Beanstalk `Dockerrun.aws.json` (version 2: ECS container definitions;
//! version 1: one container behind Elastic Beanstalk's proxy) into a [`RawApp`]. JSON is read
//! as YAML, which gives lines. Every value is checked against what ECS takes: one that is
//! not (a port of 70000, a memory of -5, `"essential": "no"`) is named, with its line, in a
//! warning that says what the import did with it.

use crate::check::{Protocol, did_you_mean};

use super::raw::{EnvLiteral, RawApp, RawEnv, RawPort, RawService};
use super::yaml::{Entry, Node, Value};
use super::{ImportError, Warnings};

const MIB: u64 = 1 << 20;

/// The top-level keys of both versions, for did-you-mean.
const TOP_KEYS: [&str; 8] = [
    "AWSEBDockerrunVersion",
    "containerDefinitions",
    "executionRoleArn",
    "volumes",
    "authentication",
    "Image",
    "Ports",
    "Volumes",
];

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
    let has_containers = top.iter().any(|e| e.key == "containerDefinitions");
    if !has_containers {
        if version.as_deref() == Some("1") || top.iter().any(|e| e.key == "Image") {
            return Ok(version_1(root, top, w));
        }
        let misspelt = top
            .iter()
            .find_map(|e| did_you_mean(&e.key, ["containerDefinitions", "Image"]).map(|k| (e, k)));
        return Err(ImportError {
            line: misspelt.map(|(e, _)| e.line),
            message: match misspelt {
                Some((e, k)) => format!(
                    "no `containerDefinitions` in the Dockerrun.aws.json: `{}` is not a key Elastic Beanstalk reads; did you mean `{k}`?",
                    e.key
                ),
                None => "no `containerDefinitions` (version 2) or `Image` (version 1) in the Dockerrun.aws.json".into(),
            },
        });
    }
    let mut app = RawApp {
        has_essential: true,
        ..RawApp::default()
    };
    let mut containers = None;
    for e in top {
        match e.key.as_str() {
            "AWSEBDockerrunVersion" => match version.as_deref() {
                Some("2") => {}
                Some("1") => w.add(e.line, "`AWSEBDockerrunVersion` is 1 but the file has `containerDefinitions`, which only version 2 reads: read as version 2".into()),
                other => w.add(e.line, format!("`AWSEBDockerrunVersion` is {}, not 2; read as version 2", other.map_or_else(|| e.value.value.kind().to_string(), |v| format!("`{v}`")))),
            },
            "containerDefinitions" => containers = Some(e),
            "executionRoleArn" => match e.value.value.as_text() {
                Some(arn) => app.execution_role = Some((arn, e.line)),
                None => w.add(e.line, format!("`executionRoleArn` is {}, not a string; not carried over", e.value.value.kind())),
            },
            "volumes" => w.add(e.line, "`volumes` are not carried over: containers on Elastic Beanstalk keep data in the data stores".into()),
            k => w.add(e.line, match did_you_mean(k, TOP_KEYS) {
                Some(m) => format!("`{k}` is not a key of a Dockerrun.aws.json (did you mean `{m}`?); ignored"),
                None => format!("`{k}` has no equivalent in a .stack file; ignored"),
            }),
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
            message: format!(
                "`containerDefinitions` is {}, not a list",
                containers.value.value.kind()
            ),
        });
    };
    if items.len() > super::MAX_SERVICES {
        return Err(super::too_many_services(items.len(), containers.line));
    }
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

/// A whole number in `lo..=hi`, as ECS takes it: a JSON integer; a string of digits is read
/// with a warning (ECS refuses it). Err with what the value is, for the warning.
fn integer(n: &Node, lo: i64, hi: i64, w: &mut Warnings, what: &str) -> Result<i64, String> {
    let v = match &n.value {
        Value::Int(i) => *i,
        Value::Str(s) => match s.trim().parse::<i64>() {
            Ok(i) => {
                w.add(
                    n.line,
                    format!("{what} is the string \"{s}\": ECS takes a number; read as {i}"),
                );
                i
            }
            Err(_) => return Err(format!("\"{s}\"")),
        },
        Value::Float(f) => return Err(f.to_string()),
        v => return Err(v.kind().to_string()),
    };
    if (lo..=hi).contains(&v) {
        Ok(v)
    } else {
        Err(v.to_string())
    }
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
    let strings = |n: &Node, key: &str, w: &mut Warnings| -> Option<Vec<String>> {
        match &n.value {
            Value::Seq(items) => {
                let out: Option<Vec<String>> = items
                    .iter()
                    .map(|i| match &i.value {
                        Value::Str(s) => Some(s.to_string()),
                        _ => None,
                    })
                    .collect();
                if out.is_none() {
                    w.add(n.line, format!("`{key}` of container `{name}` holds something other than strings; not carried over"));
                }
                out
            }
            v => {
                w.add(n.line, format!("`{key}` of container `{name}` is {}, not a list of strings; not carried over", v.kind()));
                None
            }
        }
    };
    for e in entries {
        let v = &e.value.value;
        match e.key.as_str() {
            "name" => {}
            "image" => {
                s.image_line = e.line;
                match v {
                    Value::Str(i) => s.image = Some(i.to_string()),
                    v => w.add(
                        e.line,
                        format!(
                            "`image` of container `{name}` is {}, not a string; ignored",
                            v.kind()
                        ),
                    ),
                }
            }
            "essential" => {
                s.essential = Some(match v {
                    Value::Bool(b) => *b,
                    other => {
                        let text = other.as_text().unwrap_or_default().to_ascii_lowercase();
                        let (b, how) = match text.as_str() {
                            "true" | "yes" | "1" => (true, "true"),
                            "false" | "no" | "0" => (false, "false"),
                            _ => (true, "true, ECS's default"),
                        };
                        w.add(e.line, format!("`essential` of container `{name}` is {}, not true or false (ECS refuses it); read as {how}", other.as_text().map_or_else(|| other.kind().to_string(), |t| format!("\"{t}\""))));
                        b
                    }
                })
            }
            "memory" | "memoryReservation" => {
                let what = format!("`{}` of container `{name}`", e.key);
                match integer(&e.value, 1, i64::from(u32::MAX), w, &what) {
                    Ok(m) => {
                        let bytes = (m.unsigned_abs()).saturating_mul(MIB);
                        if e.key == "memory" {
                            s.memory = Some((bytes, e.line));
                        } else {
                            s.memory_reservation = Some((bytes, e.line));
                        }
                    }
                    Err(shown) => {
                        s.memory_unreadable = true;
                        w.add(
                            e.line,
                            format!("{what} is {shown}, not a number of MiB; not carried over"),
                        );
                    }
                }
            }
            "hostname" => s.hostname = v.as_text().map(|h| (h, e.line)),
            "workingDirectory" => s.working_dir = v.as_text(),
            "command" => s.command = strings(&e.value, "command", w),
            "entryPoint" => s.entrypoint = strings(&e.value, "entryPoint", w),
            "links" => {
                for l in strings(&e.value, "links", w).unwrap_or_default() {
                    let (target, alias) = match l.split_once(':') {
                        Some((t, a)) => (t.to_string(), Some(a.to_string())),
                        None => (l, None),
                    };
                    s.links.push((target, alias, e.line));
                }
            }
            "portMappings" => {
                for p in seq(&e.value, "portMappings", &name, w) {
                    if let Some(port) = port_mapping(p, &name, w) {
                        s.ports.push(port);
                    }
                }
            }
            "environment" => {
                for p in seq(&e.value, "environment", &name, w) {
                    let key = p.get("name").and_then(|x| match &x.value.value {
                        Value::Str(s) => Some(s.to_string()),
                        _ => None,
                    });
                    let Some(key) = key else {
                        w.add(p.line, format!("an environment entry of container `{name}` has no `name` string; ignored"));
                        continue;
                    };
                    let value = match p.get("value").map(|x| &x.value.value) {
                        Some(Value::Str(s)) => s.to_string(),
                        None | Some(Value::Null) => String::new(),
                        Some(other) => match other.as_text() {
                            Some(t) => {
                                w.add(p.line, format!("the value of `{key}` of container `{name}` is {}, not a string (ECS refuses it); read as \"{t}\"", other.kind()));
                                t
                            }
                            None => {
                                w.add(p.line, format!("the value of `{key}` of container `{name}` is {}, not a string; ignored", other.kind()));
                                continue;
                            }
                        },
                    };
                    // A later entry for the same name wins, as in ECS.
                    s.env.retain(|e| e.key != key);
                    s.env.push(RawEnv {
                        key: key.into(),
                        value: EnvLiteral::Str(value.into()),
                        line: p.line,
                        from: None,
                    });
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

fn seq<'n>(n: &'n Node, key: &str, name: &str, w: &mut Warnings) -> Vec<&'n Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        v => {
            w.add(
                n.line,
                format!(
                    "`{key}` of container `{name}` is {}, not a list; ignored",
                    v.kind()
                ),
            );
            Vec::new()
        }
    }
}

/// One entry of `portMappings`; None (with a warning naming the key) when ECS would refuse it.
fn port_mapping(p: &Node, name: &str, w: &mut Warnings) -> Option<RawPort> {
    if p.value.as_map().is_none() {
        w.add(
            p.line,
            format!(
                "a port mapping of container `{name}` is {}, not an object; not carried over",
                p.value.kind()
            ),
        );
        return None;
    }
    let field = |key: &str, lo: i64, w: &mut Warnings| -> Option<Result<u16, ()>> {
        let e = p.get(key)?;
        let what = format!("`{key}` of container `{name}`");
        Some(match integer(&e.value, lo, 65535, w, &what) {
            Ok(v) => Ok(u16::try_from(v).unwrap_or_default()),
            Err(shown) => {
                w.add(e.line, format!("{what} is {shown}, not a port ({lo} to 65535): the mapping is not carried over"));
                Err(())
            }
        })
    };
    let container = match field("containerPort", 1, w) {
        Some(Ok(c)) => c,
        Some(Err(())) => return None,
        None => {
            w.add(
                p.line,
                format!(
                    "a port mapping of container `{name}` has no `containerPort`; not carried over"
                ),
            );
            return None;
        }
    };
    // `hostPort` 0 (or none) asks ECS for a dynamic port.
    let host = match field("hostPort", 0, w) {
        Some(Ok(0)) | None => None,
        Some(Ok(h)) => Some(h),
        Some(Err(())) => return None,
    };
    let protocol = match p.get("protocol").map(|x| &x.value) {
        None => Protocol::Tcp,
        Some(n) => match n.value.as_text().as_deref() {
            Some("tcp") => Protocol::Tcp,
            Some("udp") => Protocol::Udp,
            _ => {
                w.add(n.line, format!("`protocol` of a port mapping of container `{name}` is {}, not \"tcp\" or \"udp\": the mapping is not carried over", n.value.as_text().map_or_else(|| n.value.kind().to_string(), |t| format!("\"{t}\""))));
                return None;
            }
        },
    };
    Some(RawPort {
        host,
        container,
        protocol,
        loopback: false,
        line: p.line,
    })
}

/// Version 1: one container, behind Elastic Beanstalk's proxy on port 80.
fn version_1(root: &Node, top: &[Entry], w: &mut Warnings) -> RawApp {
    let mut s = RawService {
        name: "app".into(),
        line: top.first().map_or(root.line, |e| e.line),
        essential: Some(true),
        ..RawService::default()
    };
    s.image_line = s.line;
    for e in top {
        match e.key.as_str() {
            "AWSEBDockerrunVersion" => {}
            "Image" => {
                s.line = e.line;
                s.image_line = e.line;
                match e.value.get("Name") {
                    Some(n) => match &n.value.value {
                        Value::Str(i) => {
                            s.image = Some(i.to_string());
                            s.image_line = n.line;
                        }
                        v => w.add(n.line, format!("`Image.Name` is {}, not a string; ignored", v.kind())),
                    },
                    None => w.add(e.line, "`Image` has no `Name`".into()),
                }
                if let Some(u) = e.value.get("Update") {
                    w.add(u.line, "`Image.Update` is not carried over: ECS pulls the image when the task starts".into());
                }
            }
            "Ports" => {
                let ports = match &e.value.value {
                    Value::Seq(items) => items.iter().collect(),
                    v => {
                        w.add(e.line, format!("`Ports` is {}, not a list; ignored", v.kind()));
                        Vec::new()
                    }
                };
                for (i, p) in ports.into_iter().enumerate() {
                    let get = |k: &str, w: &mut Warnings| -> Option<Result<u16, ()>> {
                        let x = p.get(k)?;
                        let what = format!("`{k}`");
                        Some(match integer(&x.value, 1, 65535, w, &what) {
                            Ok(v) => Ok(u16::try_from(v).unwrap_or_default()),
                            Err(shown) => {
                                w.add(x.line, format!("`{k}` is {shown}, not a port (1 to 65535): the mapping is not carried over"));
                                Err(())
                            }
                        })
                    };
                    let container = match get("ContainerPort", w) {
                        Some(Ok(c)) => c,
                        Some(Err(())) => continue,
                        None => {
                            w.add(p.line, "a port has no `ContainerPort`; not carried over".into());
                            continue;
                        }
                    };
                    let host = match get("HostPort", w) {
                        Some(Ok(h)) => Some(h),
                        Some(Err(())) => continue,
                        // The first port is the one Elastic Beanstalk's proxy serves on port 80.
                        None => (i == 0).then_some(80),
                    };
                    s.ports.push(RawPort {
                        host,
                        container,
                        protocol: Protocol::Tcp,
                        loopback: false,
                        line: p.line,
                    });
                }
            }
            "Volumes" => {
                if !matches!(&e.value.value, Value::Seq(v) if v.is_empty()) {
                    w.add(
                        e.line,
                        "`Volumes` are not carried over: containers keep no volumes in a .stack file"
                            .into(),
                    );
                    s.todos.push("the Dockerrun mounted volumes here: bake files into the image, keep data in a data store".into());
                }
            }
            "Logging" => w.add(e.line, "`Logging` is not carried over: Elastic Beanstalk's multi-container platform collects the containers' output itself".into()),
            k => w.add(
                e.line,
                match did_you_mean(k, TOP_KEYS) {
                    Some(m) => format!("`{k}` is not a key of a Dockerrun.aws.json (did you mean `{m}`?); ignored"),
                    None => format!("`{k}` has no equivalent in a .stack file; ignored"),
                },
            ),
        }
    }
    RawApp {
        services: vec![s],
        has_essential: true,
        ..RawApp::default()
    }
}
