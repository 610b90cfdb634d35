//! Tests of `stackc import`, as data: every fixture under `tests/import/<project>/` and every
//! real-world file of the corpus under `tests/import/corpus/<project>/` (a compose file or a
//! Dockerrun.aws.json; the folder is the project, as compose names it; a `.env` or `env_file`
//! beside it is read) is imported, and
//!
//! - the `.stack` text and the warnings (or the refusal) match the snapshots in
//!   `tests/import/snapshots/`;
//! - the text is in `stackc fmt`'s layout (`stackc fmt --check` passes);
//! - the text compiles without error, unless an import warning named the code of every error
//!   beforehand; then it lowers;
//! - every store is opened by the firewall to a service, and every service that reads a store
//!   is admitted;
//! - the real binary prints the same text on stdout and the warnings, with `FILE:LINE`, on
//!   stderr;
//! - no prefix or mutation of any file makes the import panic, and whatever it imports holds
//!   to the rules above.
//!
//! The corpus' share of clean imports, checked against AWS's ECS model, is in
//! `tests/ecs_model.rs`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::Beside;
use stackc::import::{self, Context, Imported, SourceKind};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/import");

/// A fixture: its project (folder name), file, text.
struct Fixture {
    project: String,
    path: PathBuf,
    src: String,
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("readable fixture dir")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "yml" || e == "yaml" || e == "json")
        })
        .collect();
    files.sort();
    files
}

fn project_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("readable fixtures")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n != "snapshots" && n != "corpus")
        })
        .collect();
    dirs.sort();
    dirs
}

/// Every fixture and corpus file. Fails when the corpus has fewer than 30 files.
fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    let root = Path::new(FIXTURES);
    let mut corpus = 0;
    for (dir, is_corpus) in project_dirs(root).into_iter().map(|d| (d, false)).chain(
        project_dirs(&root.join("corpus"))
            .into_iter()
            .map(|d| (d, true)),
    ) {
        let project = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        for path in files_in(&dir) {
            let src = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            corpus += usize::from(is_corpus);
            out.push(Fixture {
                project: project.clone(),
                path,
                src,
            });
        }
    }
    assert!(
        corpus >= 30,
        "expected at least 30 corpus files in {FIXTURES}/corpus, found {corpus}"
    );
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn run_import(f: &Fixture) -> Result<Imported, import::ImportError> {
    let name = file_name(&f.path);
    import::import(
        &f.src,
        SourceKind::detect(&name, &f.src),
        &name,
        &f.project,
        &Beside(&f.path),
    )
}

fn warnings_text(out: &Imported) -> String {
    out.warnings
        .iter()
        .map(|w| match w.line {
            Some(l) => format!("{l}: {}\n", w.message),
            None => format!("-: {}\n", w.message),
        })
        .collect()
}

/// What every import must hold to: fmt's layout; errors only when a warning named their code
/// first (and then `errors` counts them); a model that lowers; stores reached.
fn assert_sound(what: &str, out: &Imported) {
    let text = &out.stack;
    match stackc::fmt::format(text) {
        Ok(f) => assert_eq!(
            &f, text,
            "{what}: the output is not in `stackc fmt`'s layout"
        ),
        Err(d) => panic!("{what}: the output does not parse: {d:?}\n{text}"),
    }
    let (model, diags) = stackc::compile(text);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).cloned().collect();
    assert_eq!(
        errors.len(),
        out.errors,
        "{what}: `errors` counts the errors"
    );
    for e in &errors {
        let code = e.code();
        assert!(
            out.warnings
                .iter()
                .any(|w| w.message.contains(&format!("`{code}`"))),
            "{what}: an error the import did not announce:\n{}\n--- program ---\n{text}",
            stackc::diagnostic::render_plain(what, text, &errors)
        );
    }
    let Some(model) = model else { return };
    assert!(!stackc::lower::lower(&model).plan.steps.is_empty());
    assert_stores_reached(what, &model);
}

/// Every store is opened to a service (or a warning said nobody reads it), and every service
/// that reads one of a store's exports is admitted (what `stack::unreachable` proves).
fn assert_stores_reached(what: &str, model: &stackc::check::Model) {
    for (i, store) in model.stores.iter().enumerate() {
        let opened = model.firewall.reachable_stores.contains(&i);
        let read = model.services.iter().any(|s| {
            s.env.iter().any(
                |e| matches!(&e.value, stackc::check::EnvValue::Store { store, .. } if *store == i),
            )
        });
        assert!(
            opened || !read,
            "{what}: store `{}` is read but not opened",
            store.name
        );
    }
}

#[test]
fn snapshots_and_every_output_is_sound() {
    for f in fixtures() {
        let what = f.path.display().to_string();
        let snap = format!("{}__{}", f.project, file_name(&f.path));
        let (stack, warnings) = match run_import(&f) {
            Ok(out) => {
                assert_sound(&what, &out);
                (out.stack.clone(), warnings_text(&out))
            }
            Err(e) => (String::new(), format!("refused: {e}\n")),
        };
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "import/snapshots",
            description => f.path.strip_prefix(FIXTURES).unwrap_or(&f.path).display().to_string(),
        }, {
            insta::assert_snapshot!(format!("{snap}.stack"), stack);
            insta::assert_snapshot!(format!("{snap}.warnings"), warnings);
        });
    }
}

#[test]
fn imports_are_deterministic() {
    for f in fixtures() {
        assert_eq!(run_import(&f), run_import(&f), "{}", f.path.display());
    }
}

fn compose(src: &str) -> Imported {
    let out = import::import(
        src,
        SourceKind::Compose,
        "docker-compose.yml",
        "p",
        &import::Isolated,
    )
    .unwrap_or_else(|e| panic!("imports: {e}"));
    assert_sound("compose", &out);
    out
}

fn dockerrun(src: &str) -> Result<Imported, import::ImportError> {
    import::import(
        src,
        SourceKind::Dockerrun,
        "Dockerrun.aws.json",
        "p",
        &import::Isolated,
    )
}

/// Whether the program has the attribute `key = value` (any alignment, any comment after).
fn attr(text: &str, key: &str, value: &str) -> bool {
    text.lines().any(|l| {
        let Some((k, v)) = l.split_once(" = ") else {
            return false;
        };
        let v = v.split(" # ").next().unwrap_or(v);
        k.trim() == key && v.trim() == value
    })
}

fn has(out: &Imported, line: usize, needle: &str) -> bool {
    out.warnings
        .iter()
        .any(|w| w.line == Some(line) && w.message.contains(needle))
}

/// What the reference app's compose file must become: the contract of the first issue.
#[test]
fn reference_app() {
    let path = Path::new(FIXTURES).join("complex/docker-compose.yml");
    let src = std::fs::read_to_string(&path).expect("the reference compose file");
    let f = Fixture {
        project: "complex".into(),
        path,
        src,
    };
    let out = run_import(&f).expect("imports");
    let (model, _) = stackc::compile(&out.stack);
    let model = model.expect("compiles");
    assert_eq!(model.stack.name, "complex");
    let names: Vec<&str> = model.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["nginx", "api", "client", "worker"]);
    let stores: Vec<&str> = model.stores.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(stores, ["postgres", "redis"]);
    let essential: Vec<&str> = model
        .services
        .iter()
        .filter(|s| s.essential)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(essential, ["nginx"], "exactly one essential service");
    let nginx = &model.services[0];
    assert_eq!(nginx.links, ["api", "client"]);
    // The dev mapping `3050:80` is served on Elastic Beanstalk's port 80.
    assert_eq!((nginx.ports[0].host, nginx.ports[0].container), (80, 80));
    let api = &model.services[1];
    for e in &api.env {
        assert!(
            matches!(e.value, stackc::check::EnvValue::Store { .. }),
            "{} is not rewired",
            e.key
        );
    }
    assert!(
        model
            .firewall
            .ingress
            .iter()
            .any(|i| i.port == 80 && i.service == "nginx" && i.cidr == "0.0.0.0/0")
    );
    assert_eq!(model.firewall.reachable_stores, [0, 1]);
    assert!(attr(&out.stack, "image", "\"complex-nginx\""));
    assert!(
        out.stack
            .contains("# TODO: compose builds this image from `./nginx`")
    );
    assert!(has(&out, 17, "nginx"));
    assert!(has(&out, 16, "`restart`"));
    assert!(out.stack.contains("= 256 MiB # TODO: a guess"));
    assert!(!out.stack.contains("postgres_password"));
}

#[test]
fn compose_forms() {
    let src = r#"
services:
  Web.App:
    image: "example/web:${TAG:-1.0}"
    ports: [8080, "53:53/udp", {target: 80, published: 80}, "22:22", "9229:9229"]
    environment: ["A=1", "B", "API_TOKEN=abc", "BAD-KEY=x", "URL=http://api:3000"]
    mem_limit: 1000000
    mem_reservation: 2g
    command: echo "hello world"
    entrypoint: ["/bin/sh", "-c"]
    working_dir: /srv
    hostname: "not a hostname"
  api:
    image: example/api
    depends_on: [Web.App]
  db:
    image: postgres:11
    environment: {POSTGRES_DB: "1bad"}
"#;
    let out = import::import(
        src,
        SourceKind::Compose,
        "docker-compose.yml",
        "My Project!",
        &import::Isolated,
    )
    .expect("imports");
    assert_sound("compose_forms", &out);
    let text = &out.stack;
    assert!(text.contains("stack my-project {"), "{text}");
    assert!(text.contains("service web-app {"), "{text}");
    assert!(attr(text, "image", "\"example/web:1.0\""), "{text}");
    // Only the web port is opened; the others stay closed, with the rules to open them.
    assert!(attr(text, "ports", "[80]"), "{text}");
    assert!(text.contains("allow 80 from internet to web-app"), "{text}");
    assert!(
        text.contains("# allow 9229 from 10.0.0.0/16 to web-app # Node's inspector"),
        "{text}"
    );
    assert!(
        text.contains("# allow 53/udp from 10.0.0.0/16 to web-app"),
        "{text}"
    );
    assert!(text.contains("\"echo\", \"hello world\""), "{text}");
    assert!(attr(text, "B", "secret(\"B\")"), "{text}");
    assert!(attr(text, "API_TOKEN", "secret(\"API_TOKEN\")"), "{text}");
    assert!(!text.contains("BAD-KEY"), "{text}");
    // api → web-app by depends_on; web-app → api by URL would close a cycle: refused.
    assert!(
        attr(text, "links", "[web-app]") && text.contains("# from depends_on"),
        "{text}"
    );
    assert!(
        has(&out, 5, "not mapped: Node's inspector"),
        "{:?}",
        out.warnings
    );
    assert!(has(&out, 6, "BAD-KEY"), "{:?}", out.warnings);
    assert!(has(&out, 7, "rounded up"), "{:?}", out.warnings);
    assert!(has(&out, 8, "not below"), "{:?}", out.warnings);
    assert!(has(&out, 12, "not a valid hostname"), "{:?}", out.warnings);
    assert!(has(&out, 3, "named `web-app`"), "{:?}", out.warnings);
    assert!(has(&out, 6, "cycle"), "{:?}", out.warnings);
    assert!(
        text.contains("TODO: RDS no longer creates PostgreSQL versions this old"),
        "{text}"
    );
    assert!(attr(text, "database", "\"bad\""), "{text}");
    assert!(has(&out, 16, "`1bad`"), "{:?}", out.warnings);
}

/// Env values that name a store read it, whatever the key, and whatever form the value has.
#[test]
fn env_values_naming_a_store_read_it() {
    let out = compose(
        r#"
services:
  app:
    image: n8nio/n8n
    ports: ["5678:5678"]
    environment:
      DB_POSTGRESDB_HOST: postgres
      DB_POSTGRESDB_PORT: "5432"
      DB_POSTGRESDB_DATABASE: n8n
      DB_POSTGRESDB_USER: n8n
      DB_POSTGRESDB_PASSWORD: pw
      setting_redis_host: cache
      QUEUE_ADDR: "cache:6379"
      DATABASE_URL: postgres://n8n:pw@postgres:5432/n8n
      LEGACY_DB: mysql://root:hunter2@legacy/app
      MAIL_PASSWD: also-secret
      OPENAI_API_KEY: sk-123
  postgres:
    image: postgres:16
  cache:
    image: redis:7
  legacy:
    image: mysql:8
"#,
    );
    let t = &out.stack;
    for (key, value) in [
        ("DB_POSTGRESDB_HOST", "postgres.host"),
        ("DB_POSTGRESDB_PORT", "postgres.port"),
        ("DB_POSTGRESDB_DATABASE", "postgres.database"),
        ("DB_POSTGRESDB_USER", "postgres.username"),
        ("DB_POSTGRESDB_PASSWORD", "postgres.password"),
        ("setting_redis_host", "cache.host"),
        ("QUEUE_ADDR", "secret(\"QUEUE_ADDR\")"),
        ("DATABASE_URL", "secret(\"DATABASE_URL\")"),
        ("LEGACY_DB", "secret(\"LEGACY_DB\")"),
        ("MAIL_PASSWD", "secret(\"MAIL_PASSWD\")"),
        ("OPENAI_API_KEY", "secret(\"OPENAI_API_KEY\")"),
    ] {
        assert!(attr(t, key, value), "missing `{key} = {value}` in\n{t}");
    }
    // What the URL must be given at apply time, without the password.
    assert!(t.contains("`postgres://n8n:PASSWORD@HOST:5432/n8n`"), "{t}");
    assert!(
        !t.contains("hunter2") && !t.contains("pw@") && !t.contains("sk-123"),
        "{t}"
    );
    assert!(attr(t, "database", "\"n8n\""), "{t}");
    // debugpy's port, 5678, as the only port of its service is the app's (n8n's).
    assert!(attr(t, "ports", "[80:5678]"), "{t}");
    assert!(t.contains("allow postgres from app"), "{t}");
    assert!(t.contains("allow cache from app"), "{t}");
}

/// `${VAR}` as compose reads it: the shell first, then `.env`; unset variables are named.
#[test]
fn variables_are_interpolated_and_unset_ones_named() {
    struct Vars;
    impl Context for Vars {
        fn var(&self, name: &str) -> Option<String> {
            (name == "TAG").then(|| "2.0".into())
        }
        fn file(&self, path: &str) -> Option<Result<String, String>> {
            match path {
                ".env" => Some(Ok("TAG=1.0\nWEB_PORT=8080\nAPI_KEY=from-dotenv\n".into())),
                "app.env" => Some(Ok("# app\nMODE=prod\nDB_HOST=db\n".into())),
                _ => None,
            }
        }
    }
    let src = "services:\n  web:\n    image: \"example/web:${TAG}\"\n    ports: [\"${WEB_PORT:-80}:80\"]\n    env_file: [app.env, {path: missing.env, required: false}]\n    environment:\n      GREETING: \"hi ${NAME}\"\n      DB_PASSWORD: ${DB_PASSWORD}\n      SMTP_PASSWORD: ${SMTP_PASSWORD}\n      MODE: dev\n  db:\n    image: postgres\n";
    let out = import::import(src, SourceKind::Compose, "c.yml", "p", &Vars).expect("imports");
    assert_sound("variables", &out);
    let t = &out.stack;
    assert!(
        attr(t, "image", "\"example/web:2.0\""),
        "the shell wins over .env:\n{t}"
    );
    assert!(attr(t, "GREETING", "\"hi \""), "{t}");
    // A key of the store's family reads the store; another unset variable is read at apply.
    assert!(attr(t, "DB_PASSWORD", "db.password"), "{t}");
    assert!(attr(t, "SMTP_PASSWORD", "secret(\"SMTP_PASSWORD\")"), "{t}");
    // `environment` wins over `env_file`; the env file's host reads the store.
    assert!(attr(t, "MODE", "\"dev\""), "{t}");
    assert!(attr(t, "DB_HOST", "db.host"), "{t}");
    assert!(has(&out, 7, "`NAME` is not set"), "{:?}", out.warnings);
    assert!(
        !out.warnings
            .iter()
            .any(|w| w.message.contains("missing.env"))
    );
}

#[test]
fn the_public_service_comes_from_evidence() {
    // Not the first service (a mail catcher), but the reverse proxy.
    let out = compose(
        "services:\n  mail:\n    image: mailhog/mailhog\n    ports: [\"8025:8025\"]\n  app:\n    image: example/app\n    ports: [\"3000:3000\", \"9229:9229\"]\n  proxy:\n    image: caddy:2\n    ports: [\"8443:443\", \"8080:80\"]\n    links: [app]\n",
    );
    let t = &out.stack;
    assert!(t.contains("allow 80, 443 from internet to proxy"), "{t}");
    assert!(attr(t, "ports", "[80, 443]"), "{t}");
    assert!(
        attr(t, "essential", "true") && t.contains("# chosen: it serves the app"),
        "{t}"
    );
    assert!(
        !t.contains("from internet to mail") && !t.contains("from internet to app"),
        "{t}"
    );
    // Without a proxy, the web port wins over a tool's port.
    let out = compose(
        "services:\n  prometheus:\n    image: prom/prometheus\n    ports: [\"9090:9090\"]\n  grafana:\n    image: grafana/grafana\n    ports: [\"3000:3000\"]\n",
    );
    assert!(
        out.stack.contains("allow 80 from internet to grafana"),
        "{}",
        out.stack
    );
}

#[test]
fn refusals() {
    let err = |src: &str| {
        import::import(src, SourceKind::Compose, "c.yml", "p", &import::Isolated)
            .expect_err("refused")
    };
    assert_eq!(err("services: [1\n").line, Some(2));
    assert!(err("").message.contains("empty"));
    assert!(err("version: '3'\n").message.contains("no `services`"));
    let e = err("include:\n  - a.yml\n  - path: [b.yml]\n");
    assert_eq!(e.line, Some(1));
    assert!(
        e.message.contains("`a.yml` and `b.yml`") && e.message.contains("docker compose config"),
        "{e}"
    );
    assert!(
        err("services:\n  db:\n    image: postgres\n")
            .message
            .contains("data stores")
    );
    let e = dockerrun("[1, 2]").expect_err("refused");
    assert!(e.message.contains("JSON object"), "{e}");
    let e = dockerrun("{\"AWSEBDockerrunVersion\": 2,\n \"containerDefintions\": []}")
        .expect_err("refused");
    assert_eq!(e.line, Some(2));
    assert!(
        e.message.contains("did you mean `containerDefinitions`?"),
        "{e}"
    );
}

#[test]
fn compose_format_1_and_profiles_and_documents() {
    let out = compose(
        "web:\n  image: nginx\n  ports: [\"80:80\"]\n  links: [db]\ndb:\n  image: postgres\n",
    );
    assert!(has(&out, 1, "format 1"), "{:?}", out.warnings);
    assert!(out.stack.contains("service web {") && out.stack.contains("postgres db {"));
    let out = compose(
        "services:\n  web:\n    image: nginx\n  debug:\n    image: busybox\n    profiles: [dev]\n---\nother: 1\n",
    );
    assert!(
        has(&out, 4, "service `debug` (line 4) has `profiles`"),
        "{:?}",
        out.warnings
    );
    assert!(out.stack.contains("service debug {"), "kept: {}", out.stack);
    assert!(has(&out, 7, "second YAML document"), "{:?}", out.warnings);
}

#[test]
fn dockerrun_values_are_checked() {
    let src = r#"{
  "AWSEBDockerrunVersion": 2,
  "containerDefinitions": [
    { "name": "web", "image": "nginx", "essential": "no", "memory": -5,
      "portMappings": [ { "hostPort": 70000, "containerPort": 80 },
                        { "hostPort": 8080.5, "containerPort": 81 },
                        { "hostPort": 80, "containerPort": 82 } ] },
    { "name": "app", "image": "example/app", "memory": 1e999 }
  ]
}"#;
    let out = dockerrun(src).expect("imports");
    assert_sound("dockerrun", &out);
    let t = &out.stack;
    assert!(
        has(&out, 4, "`essential` of container `web` is \"no\""),
        "{:?}",
        out.warnings
    );
    assert!(
        has(&out, 4, "`memory` of container `web` is -5"),
        "{:?}",
        out.warnings
    );
    assert!(
        has(&out, 5, "`hostPort` of container `web` is 70000"),
        "{:?}",
        out.warnings
    );
    assert!(
        has(&out, 6, "is 8.5") || has(&out, 6, "8080.5"),
        "{:?}",
        out.warnings
    );
    assert!(
        has(&out, 8, "`memory` of container `app` is"),
        "{:?}",
        out.warnings
    );
    // Only the valid mapping is kept, and nothing says "no limit was set" of a limit that
    // could not be read.
    assert!(attr(t, "ports", "[80:82]"), "{t}");
    assert!(!t.contains("no limit was set"), "{t}");
    assert!(t.contains("could not be read"), "{t}");
    // `"essential": "no"` is not essential; `app`, with no flag, is (ECS's default).
    let app = t.split("service app {").nth(1).expect("service app");
    assert!(attr(app, "essential", "true"), "{t}");
}

#[test]
fn dockerrun_version_1() {
    let src = r#"{ "AWSEBDockerrunVersion": "1", "Image": { "Name": "janedoe/site:2" },
                   "Ports": [{ "ContainerPort": "8080" }], "Logging": "/var/log/nginx" }"#;
    let out = dockerrun(src).expect("imports");
    assert_sound("v1", &out);
    assert!(attr(&out.stack, "ports", "[80:8080]"), "{}", out.stack);
    assert!(
        out.warnings
            .iter()
            .any(|w| w.message.contains("`Logging`") && w.line == Some(2))
    );
    // Version 1 with container definitions keeps its containers.
    let src = r#"{ "AWSEBDockerrunVersion": 1,
  "containerDefinitions": [ { "name": "api", "image": "acme/api:3", "memory": 300,
    "portMappings": [ { "hostPort": 80, "containerPort": 8000 } ] } ] }"#;
    let out = dockerrun(src).expect("imports");
    assert_sound("v1 with containers", &out);
    assert!(attr(&out.stack, "image", "\"acme/api:3\""), "{}", out.stack);
    assert!(attr(&out.stack, "memory", "300 MiB"), "{}", out.stack);
    assert!(has(&out, 1, "read as version 2"), "{:?}", out.warnings);
}

#[test]
fn detects_the_kind() {
    assert_eq!(
        SourceKind::detect("Dockerrun.aws.json", ""),
        SourceKind::Dockerrun
    );
    assert_eq!(SourceKind::detect("compose.yaml", ""), SourceKind::Compose);
    assert_eq!(
        SourceKind::detect("docker-compose.yml", ""),
        SourceKind::Compose
    );
    assert_eq!(
        SourceKind::detect("Dockerrun", "{\"AWSEBDockerrunVersion\": 2}"),
        SourceKind::Dockerrun
    );
}

/// About 60 positions of a text, at least 7 characters apart.
fn sample_step(src: &str) -> usize {
    (src.chars().count() / 60).max(7)
}

/// Every prefix (at line and character granularity) of every file: the import returns,
/// without a panic, and whatever it imports is sound.
#[test]
fn prefixes_never_panic_and_are_sound() {
    for f in fixtures() {
        let name = file_name(&f.path);
        let kind = SourceKind::detect(&name, &f.src);
        let mut cuts: Vec<usize> = f.src.match_indices('\n').map(|(i, _)| i + 1).collect();
        cuts.extend(
            f.src
                .char_indices()
                .map(|(i, _)| i)
                .step_by(sample_step(&f.src)),
        );
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            let prefix = &f.src[..cut];
            if let Ok(out) = import::import(prefix, kind, &name, &f.project, &Beside(&f.path)) {
                assert_sound(
                    &format!("{}, the first {cut} bytes", f.path.display()),
                    &out,
                );
            }
        }
    }
}

/// Single-character mutations (a sample of positions, with characters that are syntax in
/// YAML, JSON, ports and env values): no panic, and whatever imports is sound.
#[test]
fn mutations_never_panic_and_are_sound() {
    for f in fixtures() {
        let name = file_name(&f.path);
        let kind = SourceKind::detect(&name, &f.src);
        let step = sample_step(&f.src) * 2;
        for (n, (i, c)) in f.src.char_indices().enumerate() {
            if n % step != 0 {
                continue;
            }
            for r in [":", "-", "\"", "\n", "0", "$", "{"] {
                let mutated = format!("{}{r}{}", &f.src[..i], &f.src[i + c.len_utf8()..]);
                if let Ok(out) = import::import(&mutated, kind, &name, &f.project, &Beside(&f.path))
                {
                    assert_sound(&format!("{}, `{r}` at byte {i}", f.path.display()), &out);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The real binary.

fn stackc(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .env_clear()
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

#[test]
fn binary_prints_the_program_and_the_warnings() {
    for f in fixtures() {
        let o = stackc(&["import".as_ref(), f.path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        let Ok(out) = run_import(&f) else {
            assert_eq!(o.status.code(), Some(1), "{}", f.path.display());
            assert!(o.stdout.is_empty());
            continue;
        };
        assert!(o.status.success(), "{}: {stderr}", f.path.display());
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            out.stack,
            "{}",
            f.path.display()
        );
        for w in &out.warnings {
            let prefix = match w.line {
                Some(l) => format!("warning: {}:{l}: ", f.path.display()),
                None => format!("warning: {}: ", f.path.display()),
            };
            assert!(
                stderr.contains(&format!("{prefix}{}", w.message)),
                "{}: missing `{prefix}{}` in\n{stderr}",
                f.path.display(),
                w.message
            );
        }
    }
}

#[test]
fn binary_reports_errors_with_the_line() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("docker-compose.yml");
    std::fs::write(&file, "services:\n  web: [\n").expect("write");
    let o = stackc(&["import".as_ref(), file.as_os_str()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.starts_with(&format!("error: {}:3: not valid YAML", file.display())),
        "{stderr}"
    );

    let o = stackc(&[
        "import".as_ref(),
        tmp.path().join("missing.yml").as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such file"));
}

/// The binary reads `.env` and `env_file` beside the file, and the shell's variables; never a
/// file outside the compose file's folder.
#[test]
fn binary_reads_the_files_beside_and_no_others() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let dir = tmp.path().join("shop");
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(tmp.path().join("outside.env"), "LEAK=1\n").expect("write");
    std::fs::write(dir.join(".env"), "TAG=7\n").expect("write");
    std::fs::write(dir.join("web.env"), "MODE=prod\n").expect("write");
    let file = dir.join("compose.yaml");
    std::fs::write(
        &file,
        "services:\n  web:\n    image: \"shop:${TAG}-${FLAVOUR}\"\n    env_file: [web.env, ../outside.env]\n",
    )
    .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(["import".as_ref(), file.as_os_str()])
        .env_clear()
        .env("FLAVOUR", "alpine")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(attr(&stdout, "image", "\"shop:7-alpine\""), "{stdout}");
    assert!(attr(&stdout, "MODE", "\"prod\""), "{stdout}");
    assert!(stdout.contains("stack shop {"), "{stdout}");
    assert!(!stdout.contains("LEAK"), "{stdout}");
    assert!(
        stderr.contains("outside the compose file's folder"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Hostile and careless inputs: the import family of the hostile corpus, `tests/hostile/import`
// (its README gives the format). `tests/hostile.rs` runs each through the binary and checks
// its header; here each is imported in-process, and whatever imports must be sound.

#[test]
fn hostile_inputs() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile/import");
    let cases = files_in(&dir);
    assert!(cases.len() >= 15, "{} hostile cases", cases.len());
    let no_controls = |what: &str, text: &str| {
        assert!(
            !text.chars().any(|c| c.is_control() && c != '\n'),
            "{what}: a control character in {text:?}"
        );
    };
    for path in cases {
        let what = path.display().to_string();
        let bytes = std::fs::read(&path).expect("readable");
        // The header: `#! key: value` lines; only the exit status and the body's escapes
        // matter here.
        let (mut rest, mut exit, mut escaped) = (&bytes[..], None, false);
        while let Some(end) = rest
            .strip_prefix(b"#! ")
            .and_then(|_| rest.iter().position(|&c| c == b'\n'))
        {
            let line = String::from_utf8_lossy(&rest[3..end]).into_owned();
            rest = &rest[end + 1..];
            match line.split_once(':').map(|(k, v)| (k, v.trim())) {
                Some(("exit", v)) => exit = Some(v.parse::<i32>().expect("a status")),
                Some(("body", "escaped")) => escaped = true,
                Some(("repeat" | "stdin" | "setup", _)) => panic!("{what}: not for imports"),
                _ => {}
            }
        }
        let body = if escaped {
            common::unescape_bytes(std::str::from_utf8(rest).expect("an escaped body is text"))
        } else {
            rest.to_vec()
        };
        let src = String::from_utf8_lossy(&body);
        let name = file_name(&path);
        let result = import::import(
            &src,
            SourceKind::detect(&name, &src),
            &name,
            "hostile",
            &Beside(&path),
        );
        match (&result, exit) {
            (Ok(out), Some(0)) => {
                assert_sound(&what, out);
                no_controls(&what, &out.stack);
                for w in &out.warnings {
                    no_controls(&what, &w.message);
                }
            }
            (Err(e), Some(1)) => no_controls(&what, &e.message),
            (Ok(_), _) => panic!("{what}: imported, expected exit {exit:?}"),
            (Err(e), _) => panic!("{what}: refused ({e}), expected exit {exit:?}"),
        }
    }
}
