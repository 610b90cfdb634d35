//! Reading a docker-compose file (the Compose Specification, the older `version: "2"`/`"3"`
//! files, and format 1 with services at the top level) into a [`RawApp`], as compose reads
//! it: `${VAR}` interpolated from the shell's environment and `.env`, `env_file` read, merge
//! keys resolved. Keys with no equivalent become warnings naming the key and line.

use crate::check::Protocol;

use super::raw::{
    EnvLiteral, RawApp, RawEnv, RawPort, RawService, parse_bytes, parse_port_range, shell_words,
};
use super::vars::{self, FileVar, whole_variable};
use super::yaml::{Entry, Node, Value};
use super::{Context, ImportError, Warnings, store_kind};

/// Reads the whole file.
pub fn read(root: &Node, cx: &dyn Context, w: &mut Warnings) -> Result<RawApp, ImportError> {
    let Some(top) = root.value.as_map() else {
        return Err(ImportError {
            line: Some(root.line),
            message: format!(
                "a compose file is a mapping with `services`, found {}",
                root.value.kind()
            ),
        });
    };
    let mut r = Reader::new(cx, w);
    let mut app = RawApp::default();
    let mut services = None;
    let mut include = None;
    for e in top {
        match e.key.as_str() {
            "services" => services = Some(e),
            "name" => app.name = r.text(&e.value),
            // Obsolete, and ignored by compose itself.
            "version" => {}
            // Extension fields: anchors for the services to merge.
            k if k.starts_with("x-") => {}
            "include" => include = Some(e),
            "volumes" => r.w.add(e.line, "top-level `volumes` are not carried over: containers on Elastic Beanstalk keep no named volumes; keep data in the data stores".into()),
            "networks" => r.w.add(e.line, "top-level `networks` are not carried over: the containers share the instance's network and reach each other through `links`".into()),
            "secrets" | "configs" => r.w.add(e.line, format!("top-level `{}` are not carried over: pass secrets as `secret(\"VAR\")` env values", e.key)),
            _ => {}
        }
    }
    let included = include.map(|e| (e.line, include_paths(&e.value)));
    if let Some((line, paths)) = &included {
        let message = format!(
            "`include` pulls in {}, which an import does not read: merge the files with `docker compose config > merged.yml` and import that, or import each file on its own",
            quoted_list(paths)
        );
        if services.is_none() {
            return Err(ImportError {
                line: Some(*line),
                message,
            });
        }
        r.w.add(*line, message);
    }
    let entries: Vec<&Entry> = match services {
        Some(services) => {
            let Some(entries) = services.value.value.as_map() else {
                return Err(ImportError {
                    line: Some(services.line),
                    message: format!(
                        "`services` is a mapping of service names, found {}",
                        services.value.value.kind()
                    ),
                });
            };
            for e in top {
                if !KNOWN_TOP.contains(&e.key.as_str()) && !e.key.starts_with("x-") {
                    r.w.add(
                        e.line,
                        format!(
                            "top-level `{}` has no equivalent in a .stack file; ignored",
                            e.key
                        ),
                    );
                }
            }
            entries.iter().collect()
        }
        None => {
            // Format 1: the services are the top-level keys.
            let v1: Vec<&Entry> = top
                .iter()
                .filter(|e| !KNOWN_TOP.contains(&e.key.as_str()) && !e.key.starts_with("x-"))
                .collect();
            let looks_v1 = !v1.is_empty()
                && v1
                    .iter()
                    .all(|e| e.value.get("image").is_some() || e.value.get("build").is_some());
            if !looks_v1 {
                return Err(ImportError {
                    line: None,
                    message: "no `services` in the compose file: a compose file lists its containers under `services:`".into(),
                });
            }
            r.w.add(
                v1[0].line,
                "the file is in compose format 1 (services at the top level, no `services:`), which docker compose no longer reads: read as format 1".into(),
            );
            v1
        }
    };
    if entries.len() > super::MAX_SERVICES {
        return Err(super::too_many_services(entries.len(), entries[0].line));
    }
    for e in entries {
        let s = r.service(e);
        app.services.push(s);
    }
    let with_profiles: Vec<String> = app
        .services
        .iter()
        .filter(|s| !s.profiles.is_empty())
        .map(|s| format!("`{}` (line {})", s.name, s.line))
        .collect();
    if !with_profiles.is_empty() {
        let first = app
            .services
            .iter()
            .find(|s| !s.profiles.is_empty())
            .map_or(1, |s| s.line);
        r.w.add(first, format!(
            "{} {} {} `profiles`: compose starts {} only when one of {} profiles is enabled; here {} always {}: remove the blocks you do not deploy",
            if with_profiles.len() == 1 { "service" } else { "services" },
            quoted_list_raw(&with_profiles),
            if with_profiles.len() == 1 { "has" } else { "have" },
            if with_profiles.len() == 1 { "it" } else { "them" },
            if with_profiles.len() == 1 { "its" } else { "their" },
            if with_profiles.len() == 1 { "it" } else { "they" },
            if with_profiles.len() == 1 { "runs" } else { "run" },
        ));
    }
    r.finish();
    Ok(app)
}

/// Top-level keys of the Compose Specification.
const KNOWN_TOP: [&str; 8] = [
    "services", "name", "version", "include", "volumes", "networks", "secrets", "configs",
];

fn include_paths(n: &Node) -> Vec<String> {
    let mut out = Vec::new();
    for item in seq_items(n) {
        match &item.value {
            Value::Map(_) => {
                if let Some(p) = item.get("path") {
                    for x in seq_items(&p.value) {
                        out.extend(x.value.as_text());
                    }
                }
            }
            v => out.extend(v.as_text()),
        }
    }
    out
}

fn quoted_list(items: &[String]) -> String {
    let q: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    quoted_list_raw(&q)
}

/// `a`, `a and b`, `a, b and c`.
fn quoted_list_raw(items: &[String]) -> String {
    match items {
        [] => "nothing".into(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The items of a list node (a scalar counts as a list of one).
fn seq_items(n: &Node) -> Vec<&Node> {
    match &n.value {
        Value::Seq(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        _ => vec![n],
    }
}

/// Reads values as compose does, and remembers the variables that were not set.
struct Reader<'a> {
    cx: &'a dyn Context,
    w: &'a mut Warnings,
    /// `.env` beside the compose file.
    dotenv: Vec<FileVar>,
    /// Unset variables, with the lines that use them.
    unset: Vec<(String, Vec<usize>)>,
}

impl<'a> Reader<'a> {
    fn new(cx: &'a dyn Context, w: &'a mut Warnings) -> Reader<'a> {
        let dotenv = match cx.file(".env") {
            Some(Ok(text)) => {
                let (vars, errors) = vars::read_env_file(&text, &|n: &str| cx.var(n));
                for (line, e) in errors {
                    w.general(format!("`.env` line {line}: {e}; the line is not read"));
                }
                vars
            }
            Some(Err(e)) => {
                w.general(format!(
                    "`.env` cannot be read ({e}): its variables are not used"
                ));
                Vec::new()
            }
            None => Vec::new(),
        };
        Reader {
            cx,
            w,
            dotenv,
            unset: Vec::new(),
        }
    }

    /// A variable: the shell's, else `.env`'s.
    fn var(&self, name: &str) -> Option<String> {
        self.cx.var(name).or_else(|| {
            self.dotenv
                .iter()
                .find(|v| v.key == name)
                .and_then(|v| v.value.clone())
        })
    }

    /// `s` interpolated; what was unset is remembered for one warning per variable.
    fn interpolate(&mut self, s: &str, line: usize) -> String {
        if !s.contains('$') {
            return s.to_string();
        }
        let lookup = |n: &str| self.var(n);
        match vars::interpolate(s, &lookup) {
            Ok(i) => {
                for name in i.unset {
                    match self.unset.iter_mut().find(|(n, _)| *n == name) {
                        Some((_, lines)) => {
                            if !lines.contains(&line) {
                                lines.push(line);
                            }
                        }
                        None => self.unset.push((name, vec![line])),
                    }
                }
                for (name, message) in i.required {
                    self.w.add(line, format!("`{name}` is not set, and the file requires it (`{message}`): compose would refuse to start; an empty value is used"));
                }
                i.text
            }
            Err(e) => {
                self.w.add(
                    line,
                    format!("{e}: compose would refuse the file; the value is left as written"),
                );
                s.to_string()
            }
        }
    }

    /// A scalar as text, interpolated; None for null and collections.
    fn text(&mut self, n: &Node) -> Option<String> {
        match &n.value {
            Value::Str(s) => Some(self.interpolate(s, n.line)),
            v => v.as_text(),
        }
    }

    fn finish(self) {
        for (name, lines) in self.unset {
            let lines: Vec<String> = lines.iter().map(usize::to_string).collect();
            let first = lines.first().and_then(|l| l.parse().ok()).unwrap_or(1);
            self.w.add(first, format!(
                "`{name}` is not set in the environment or in `.env` (used on line {}): compose substitutes an empty string, and so does this import; set it before importing to carry its value over",
                lines.join(", ")
            ));
        }
    }

    fn service(&mut self, e: &Entry) -> RawService {
        let mut s = RawService {
            name: e.key.to_string(),
            line: e.line,
            image_line: e.line,
            ..RawService::default()
        };
        let Some(map) = e.value.value.as_map() else {
            if !matches!(e.value.value, Value::Null) {
                self.w.add(
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
        let image = map.iter().find(|e| e.key == "image");
        s.image = image.and_then(|e| self.text(&e.value));
        s.image_line = image
            .or_else(|| map.iter().find(|e| e.key == "build"))
            .map_or(e.line, |e| e.line);
        let store = s.image.as_deref().and_then(store_kind);
        let name = e.key.clone();
        let name = name.as_str();
        let mut env_files: Vec<RawEnv> = Vec::new();
        for a in map {
            let v = &a.value.value;
            let key = a.key.as_str();
            let line = a.line;
            match key {
                "image" => {
                    if s.image.is_none() {
                        self.w.add(line, format!("`image` of service `{name}` is {}, not a string; ignored", v.kind()));
                    }
                }
                "environment" => s.env = self.environment(&a.value, name),
                "env_file" => env_files = self.env_files(&a.value, name, &mut s),
                "profiles" => {
                    s.profiles = seq_items(&a.value).iter().filter_map(|p| self.text(p)).collect();
                }
                _ if store.is_some() => {
                    let (what, kind) = match store {
                        Some(crate::check::Kind::Postgres) => ("RDS", "postgres"),
                        _ => ("ElastiCache", "redis"),
                    };
                    self.w.add(line, format!("`{key}` of service `{name}` is not carried over: it becomes a {kind} store on {what}"));
                }
                "build" => {
                    let context = match v {
                        Value::Map(_) => a.value.get("context").and_then(|c| self.text(&c.value)),
                        _ => self.text(&a.value),
                    };
                    s.build = Some(context.unwrap_or_else(|| ".".into()));
                }
                "ports" => match v {
                    Value::Seq(items) => {
                        for item in items {
                            match self.port(item) {
                                Ok(ps) => s.ports.extend(ps),
                                Err(why) => self.w.add(item.line, format!("a port of service `{name}` is not carried over: {why}")),
                            }
                        }
                    }
                    _ => self.w.add(line, format!("`ports` of service `{name}` is {}, not a list; ignored", v.kind())),
                },
                "links" => {
                    for item in seq_items(&a.value) {
                        if let Some(t) = self.text(item) {
                            let (target, alias) = match t.split_once(':') {
                                Some((t, a)) => (t.to_string(), Some(a.to_string())),
                                None => (t, None),
                            };
                            s.links.push((target, alias, item.line));
                        }
                    }
                }
                "depends_on" => match v {
                    Value::Map(deps) => s.depends_on.extend(deps.iter().map(|d| (d.key.to_string(), d.line))),
                    _ => {
                        for item in seq_items(&a.value) {
                            if let Some(t) = self.text(item) {
                                s.depends_on.push((t, item.line));
                            }
                        }
                    }
                },
                "mem_limit" => s.memory = self.bytes(&a.value, key, name, &mut s.memory_unreadable),
                "mem_reservation" => {
                    s.memory_reservation = self.bytes(&a.value, key, name, &mut s.memory_unreadable)
                }
                "deploy" => self.deploy(&a.value, &mut s),
                "command" => s.command = self.words(&a.value, key, name),
                "entrypoint" => s.entrypoint = self.words(&a.value, key, name),
                "working_dir" => s.working_dir = self.text(&a.value),
                "hostname" => s.hostname = self.text(&a.value).map(|h| (h, line)),
                "container_name" => {
                    if let Some(c) = self.text(&a.value) {
                        s.aliases.push(c);
                    }
                    self.w.add(line, format!("`container_name` of service `{name}` is not carried over: on Elastic Beanstalk the container is named after the service"));
                }
                "networks" => {
                    // Network aliases are other names the service answers to.
                    if let Value::Map(nets) = v {
                        for n in nets {
                            for al in n.value.get("aliases").map(|x| seq_items(&x.value)).unwrap_or_default() {
                                if let Some(t) = self.text(al) {
                                    s.aliases.push(t);
                                }
                            }
                        }
                    }
                    self.w.add(line, format!("`networks` of service `{name}` is not carried over: containers reach each other through `links`"));
                }
                "expose" => self.w.add(line, format!("`expose` of service `{name}` is not carried over: linked containers reach every port of each other")),
                "volumes" => {
                    self.w.add(line, format!("`volumes` of service `{name}` is not carried over: containers on Elastic Beanstalk keep no volumes"));
                    s.todos.push("compose mounted volumes into this container: bake the files into the image, and keep data in a data store".into());
                }
                "restart" => self.w.add(line, format!("`restart` of service `{name}` is not carried over: ECS restarts the task when an essential container stops")),
                "healthcheck" => self.w.add(line, format!("`healthcheck` of service `{name}` is not carried over: Elastic Beanstalk checks the environment's health itself")),
                "extends" => self.w.add(line, format!("`extends` of service `{name}` is not read: merge the files with `docker compose config > merged.yml` and import that")),
                _ => self.w.add(line, format!("`{key}` of service `{name}` has no equivalent in a .stack file; ignored")),
            }
        }
        // `environment` wins over `env_file`, as in compose.
        for f in env_files {
            if !s.env.iter().any(|e| e.key == f.key) {
                s.env.push(f);
            }
        }
        s
    }

    fn environment(&mut self, n: &Node, service: &str) -> Vec<RawEnv> {
        let mut out: Vec<RawEnv> = Vec::new();
        let push = |out: &mut Vec<RawEnv>, env: RawEnv| {
            // A later definition of the same key wins, as in compose.
            out.retain(|e| e.key != env.key);
            out.push(env);
        };
        match &n.value {
            Value::Map(entries) => {
                for e in entries {
                    let value = match &e.value.value {
                        Value::Null => EnvLiteral::FromShell(e.key.clone()),
                        Value::Int(i) if *i >= 0 => EnvLiteral::Int(i.unsigned_abs()),
                        Value::Seq(_) | Value::Map(_) => {
                            self.w.add(e.line, format!("`{}` in the environment of service `{service}` is {}, not a value; ignored", e.key, e.value.value.kind()));
                            continue;
                        }
                        Value::Str(s) => self.env_value(s, e.line),
                        other => EnvLiteral::Str(other.as_text().unwrap_or_default().into()),
                    };
                    push(
                        &mut out,
                        RawEnv {
                            key: e.key.clone(),
                            value,
                            line: e.line,
                            from: None,
                        },
                    );
                }
            }
            Value::Seq(items) => {
                for item in items {
                    let Some(text) = (match &item.value {
                        Value::Str(s) => Some(s.to_string()),
                        v => v.as_text(),
                    }) else {
                        self.w.add(item.line, format!("an entry of the environment of service `{service}` is {}, not `KEY=VALUE`; ignored", item.value.kind()));
                        continue;
                    };
                    let (key, value) = match text.split_once('=') {
                        Some((k, v)) => {
                            (self.interpolate(k, item.line), self.env_value(v, item.line))
                        }
                        None => {
                            let k = self.interpolate(&text, item.line);
                            (k.clone(), EnvLiteral::FromShell(k.into()))
                        }
                    };
                    push(
                        &mut out,
                        RawEnv {
                            key: key.into(),
                            value,
                            line: item.line,
                            from: None,
                        },
                    );
                }
            }
            Value::Null => {}
            other => self.w.add(
                n.line,
                format!(
                    "the environment of service `{service}` is {}, not a list or mapping; ignored",
                    other.kind()
                ),
            ),
        }
        out
    }

    /// An env value as written: one unset variable (`${DB_PASSWORD}`) stays a variable, read
    /// when the app is deployed, as compose reads it when the app starts.
    fn env_value(&mut self, raw: &str, line: usize) -> EnvLiteral {
        match whole_variable(raw) {
            Some(var) if self.var(var).is_none() => EnvLiteral::FromShell(var.into()),
            _ => EnvLiteral::Str(self.interpolate(raw, line).into()),
        }
    }

    /// The variables of `env_file`, each with the line of the `env_file` key.
    fn env_files(&mut self, n: &Node, service: &str, s: &mut RawService) -> Vec<RawEnv> {
        let mut out: Vec<RawEnv> = Vec::new();
        for item in seq_items(n) {
            let (path, required) = match &item.value {
                Value::Map(_) => (
                    item.get("path").and_then(|p| self.text(&p.value)),
                    item.get("required")
                        .is_none_or(|r| !matches!(r.value.value, Value::Bool(false))),
                ),
                _ => (self.text(item), true),
            };
            let Some(path) = path else {
                self.w.add(
                    item.line,
                    format!("an `env_file` of service `{service}` has no path; ignored"),
                );
                continue;
            };
            // A file from elsewhere on the machine (`/etc/...`, `../..`) is not read: an
            // imported file is often someone else's, and what it reads may reach the output.
            let inside = !path.starts_with('/')
                && !path.starts_with('\\')
                && !path.contains(':')
                && !path.split(['/', '\\']).any(|c| c == "..");
            if !inside {
                self.w.add(item.line, format!("`env_file` `{path}` of service `{service}` is outside the compose file's folder, so not read: copy the variables the container needs into `env`"));
                continue;
            }
            match self.cx.file(&path) {
                Some(Ok(text)) => {
                    let lookup = |name: &str| self.var(name);
                    let (vars, errors) = vars::read_env_file(&text, &lookup);
                    for (l, e) in errors {
                        self.w.add(
                            item.line,
                            format!("`{path}` line {l}: {e}; the line is not read"),
                        );
                    }
                    for v in vars {
                        out.retain(|e| e.key != v.key);
                        let value = match v.value {
                            Some(x) => EnvLiteral::Str(x.into()),
                            None => EnvLiteral::FromShell(v.key.as_str().into()),
                        };
                        out.push(RawEnv {
                            key: v.key.into(),
                            value,
                            line: item.line,
                            from: Some((path.clone(), v.line)),
                        });
                    }
                }
                Some(Err(e)) => {
                    self.w.add(item.line, format!("`env_file` `{path}` of service `{service}` cannot be read ({e}): its variables are not carried over"));
                    s.todos.push(format!("compose read variables from `{path}`: copy the ones the container needs into `env`"));
                }
                None if required => {
                    self.w.add(item.line, format!("`env_file` `{path}` of service `{service}` is not beside the compose file: its variables are not carried over"));
                    s.todos.push(format!("compose read variables from `{path}`: copy the ones the container needs into `env`"));
                }
                None => {}
            }
        }
        out
    }

    fn bytes(
        &mut self,
        n: &Node,
        key: &str,
        service: &str,
        unreadable: &mut bool,
    ) -> Option<(u64, usize)> {
        let parsed = match &n.value {
            Value::Int(i) if *i > 0 => Some(i.unsigned_abs()),
            Value::Str(_) => self
                .text(n)
                .and_then(|t| parse_bytes(&t))
                .filter(|b| *b > 0),
            _ => None,
        };
        if parsed.is_none() {
            *unreadable = true;
            let shown = match &n.value {
                Value::Str(s) => format!("`{s}`"),
                v => v
                    .as_text()
                    .map_or_else(|| v.kind().to_string(), |t| format!("`{t}`")),
            };
            self.w.add(
                n.line,
                format!("`{key}` of service `{service}` is {shown}, not a size Docker reads (`512m`, `1g`); not carried over"),
            );
        }
        parsed.map(|b| (b, n.line))
    }

    fn words(&mut self, n: &Node, key: &str, service: &str) -> Option<Vec<String>> {
        match &n.value {
            Value::Null => None,
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    match self.text(i) {
                        Some(t) => out.push(t),
                        None => {
                            self.w.add(i.line, format!("an element of `{key}` of service `{service}` is {}, not a string; the whole `{key}` is not carried over", i.value.kind()));
                            return None;
                        }
                    }
                }
                Some(out)
            }
            Value::Map(_) => {
                self.w.add(n.line, format!("`{key}` of service `{service}` is a mapping, not a command; not carried over"));
                None
            }
            _ => {
                let text = self.text(n)?;
                match shell_words(&text) {
                    Some(ws) => Some(ws),
                    None => {
                        self.w.add(n.line, format!("`{key}` of service `{service}` has an unterminated quote; run through `sh -c`"));
                        Some(vec!["sh".into(), "-c".into(), text])
                    }
                }
            }
        }
    }

    fn deploy(&mut self, n: &Node, s: &mut RawService) {
        let name = s.name.clone();
        let Some(entries) = n.value.as_map() else {
            return;
        };
        for e in entries {
            if e.key != "resources" {
                self.w.add(
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
                        ("limits", "memory") => s.memory = self.bytes(&x.value, &path, &name, &mut s.memory_unreadable),
                        ("reservations", "memory") => s.memory_reservation = self.bytes(&x.value, &path, &name, &mut s.memory_unreadable),
                        _ => self.w.add(x.line, format!("`{path}` of service `{name}` has no equivalent in a .stack file; ignored")),
                    }
                }
            }
        }
    }

    /// One entry of `ports`: `"8080:80"`, `8080`, `"127.0.0.1:5432:5432"`, `"53:53/udp"`,
    /// `"9000-9001:9000-9001"`, or the long syntax `{target: 80, published: "8080"}`.
    fn port(&mut self, n: &Node) -> Result<Vec<RawPort>, String> {
        let line = n.line;
        match &n.value {
            Value::Int(i) => {
                let p = u16::try_from(*i)
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("`{i}` is not a port (1 to 65535)"))?;
                Ok(vec![RawPort {
                    host: None,
                    container: p,
                    protocol: Protocol::Tcp,
                    loopback: false,
                    line,
                }])
            }
            Value::Str(_) => {
                let s = self.text(n).unwrap_or_default();
                short_port(&s, line)
            }
            Value::Map(_) => {
                let mut text = |k: &str| n.get(k).and_then(|e| self.text(&e.value));
                let target = text("target").ok_or("the long syntax needs `target`")?;
                let protocol = protocol(text("protocol").as_deref().unwrap_or("tcp"))?;
                let loopback = text("host_ip").is_some_and(|ip| is_loopback(&ip));
                let published = text("published").filter(|p| !p.is_empty());
                expand(published.as_deref(), &target, protocol, loopback, line)
            }
            v => Err(format!("{} is not a port", v.kind())),
        }
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
    let (c0, c1) = parse_port_range(container)
        .ok_or_else(|| format!("`{container}` is not a port (1 to 65535)"))?;
    let hosts = match host {
        None => None,
        Some(h) => {
            Some(parse_port_range(h).ok_or_else(|| format!("`{h}` is not a port (1 to 65535)"))?)
        }
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
        assert_eq!(ports(":80"), [(None, 80, "tcp", false)]);
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
        assert!(short_port("70000:80", 1).is_err());
        assert!(short_port("80.5", 1).is_err());
    }
}
