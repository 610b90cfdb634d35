//! Tests of `stackc import`: every fixture under `tests/import/<project>/` (a compose file or a
//! Dockerrun.aws.json; the folder is the project, as compose names it) is imported, and
//!
//! - the `.stack` text and the warnings match the snapshots in `tests/import/snapshots/`;
//! - the text compiles with `stackc::compile` without any error, and lowers;
//! - the real binary prints the same text on stdout and the warnings, with `FILE:LINE`, on
//!   stderr;
//! - no prefix of any fixture makes the import panic, and whatever it imports compiles.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stackc::import::{self, Imported, SourceKind};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/import");

/// Every fixture: (project folder name, file path, source). Fails when there are fewer than 5.
fn fixtures() -> Vec<(String, PathBuf, String)> {
    let mut out = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .expect("tests/import is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "snapshots"))
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("readable fixture dir")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "yml" || e == "yaml" || e == "json")
            })
            .collect();
        files.sort();
        let project = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        for f in files {
            let src =
                std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            out.push((project.clone(), f, src));
        }
    }
    assert!(
        out.len() >= 5,
        "expected at least 5 import fixtures in {FIXTURES}, found {}",
        out.len()
    );
    out
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn run_import(project: &str, path: &Path, src: &str) -> Imported {
    let name = file_name(path);
    import::import(src, SourceKind::detect(&name, src), &name, project)
        .unwrap_or_else(|e| panic!("{}: import failed: {e}", path.display()))
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

/// The text must compile without errors (warnings are allowed), and lower.
fn assert_compiles(what: &str, text: &str) {
    let (model, diags) = stackc::compile(text);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).cloned().collect();
    assert!(
        errors.is_empty(),
        "{what}: the imported program has errors:\n{}\n--- program ---\n{text}",
        stackc::diagnostic::render_plain(what, text, &errors)
    );
    let model = model.unwrap_or_else(|| panic!("{what}: no model although there is no error"));
    let artifacts = stackc::lower::lower(&model);
    assert!(!artifacts.plan.steps.is_empty());
}

#[test]
fn snapshots_and_every_output_compiles() {
    for (project, path, src) in fixtures() {
        let out = run_import(&project, &path, &src);
        assert_compiles(&path.display().to_string(), &out.stack);
        assert!(
            !out.warnings
                .iter()
                .any(|w| w.message.contains("bug of `stackc import`")),
            "{}: {}",
            path.display(),
            warnings_text(&out)
        );
        let snap = format!("{project}__{}", file_name(&path));
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "import/snapshots",
            description => path.strip_prefix(FIXTURES).unwrap_or(&path).display().to_string(),
        }, {
            insta::assert_snapshot!(format!("{snap}.stack"), out.stack);
            insta::assert_snapshot!(format!("{snap}.warnings"), warnings_text(&out));
        });
    }
}

#[test]
fn imports_are_deterministic() {
    for (project, path, src) in fixtures() {
        let a = run_import(&project, &path, &src);
        let b = run_import(&project, &path, &src);
        assert_eq!(a, b, "{}", path.display());
    }
}

/// What the reference app's compose file must become: the contract of the issue.
#[test]
fn reference_app() {
    let path = Path::new(FIXTURES).join("complex/docker-compose.yml");
    let src = std::fs::read_to_string(&path).expect("the reference compose file");
    let out = run_import("complex", &path, &src);
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
    assert_eq!((nginx.ports[0].host, nginx.ports[0].container), (3050, 80));
    // Every env var of the api reads a store.
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
            .any(|i| i.port == 3050 && i.service == "nginx" && i.cidr == "0.0.0.0/0")
    );
    assert_eq!(model.firewall.reachable_stores, [0, 1]);
    // Builds become placeholders with a TODO and a warning naming the line of the service.
    assert!(out.stack.contains("image     = \"complex-nginx\""));
    assert!(
        out.stack
            .contains("# TODO: compose builds this image from `./nginx`")
    );
    assert!(
        out.warnings
            .iter()
            .any(|w| w.line == Some(17) && w.message.contains("nginx"))
    );
    // An unsupported key: named, with its line.
    assert!(
        out.warnings
            .iter()
            .any(|w| w.line == Some(16) && w.message.contains("`restart`"))
    );
    // No memory in compose: a default and a TODO.
    assert!(out.stack.contains("memory    = 256 MiB  # TODO"));
    // The development password is not carried anywhere.
    assert!(!out.stack.contains("postgres_password"));
}

#[test]
fn compose_forms() {
    let src = r#"
services:
  Web.App:
    image: "example/web:${TAG}"
    ports: [8080, "53:53/udp", {target: 80, published: 80}, "22:22"]
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
    )
    .expect("imports");
    assert_compiles("compose_forms", &out.stack);
    let text = &out.stack;
    assert!(text.contains("stack my-project {"), "{text}");
    assert!(text.contains("service web-app {"), "{text}");
    assert!(text.contains("= [8080, 53/udp, 80]\n"), "{text}");
    assert!(text.contains("\"echo\", \"hello world\""), "{text}");
    assert!(text.contains("B         = secret(\"B\")"), "{text}");
    assert!(text.contains("API_TOKEN = secret(\"API_TOKEN\")"), "{text}");
    assert!(!text.contains("BAD-KEY"), "{text}");
    // api → web-app by depends_on; web-app → api by URL would close a cycle: refused.
    assert!(
        text.contains("links  = [web-app]  # from depends_on"),
        "{text}"
    );
    let has = |line: usize, needle: &str| {
        out.warnings
            .iter()
            .any(|w| w.line == Some(line) && w.message.contains(needle))
    };
    assert!(has(4, "left as written"), "{:?}", out.warnings);
    assert!(has(5, "reserved by ECS"), "{:?}", out.warnings);
    assert!(has(6, "BAD-KEY"), "{:?}", out.warnings);
    assert!(has(7, "rounded up"), "{:?}", out.warnings);
    assert!(has(8, "not below"), "{:?}", out.warnings);
    assert!(has(12, "not a valid hostname"), "{:?}", out.warnings);
    assert!(has(3, "named `web-app`"), "{:?}", out.warnings);
    assert!(has(6, "cycle"), "{:?}", out.warnings);
    assert!(
        text.contains("TODO: RDS no longer creates PostgreSQL versions this old"),
        "{text}"
    );
    assert!(text.contains("database = \"bad\""), "{text}");
    assert!(has(16, "`1bad`"), "{:?}", out.warnings);
}

#[test]
fn refusals() {
    let err =
        |src: &str| import::import(src, SourceKind::Compose, "c.yml", "p").expect_err("refused");
    assert_eq!(err("services: [1\n").line, Some(2));
    assert!(err("").message.contains("empty"));
    assert!(err("version: '3'\n").message.contains("no `services`"));
    assert!(
        err("services:\n  db:\n    image: postgres\n")
            .message
            .contains("data stores")
    );
    let e = import::import("[1, 2]", SourceKind::Dockerrun, "Dockerrun.aws.json", "p")
        .expect_err("refused");
    assert!(e.message.contains("JSON object"), "{e}");
}

#[test]
fn dockerrun_version_1() {
    let src = r#"{ "AWSEBDockerrunVersion": "1", "Image": { "Name": "janedoe/site:2" },
                   "Ports": [{ "ContainerPort": "8080" }], "Logging": "/var/log/nginx" }"#;
    let out =
        import::import(src, SourceKind::Dockerrun, "Dockerrun.aws.json", "site").expect("imports");
    assert_compiles("v1", &out.stack);
    assert!(out.stack.contains("ports     = [80:8080]"), "{}", out.stack);
    assert!(out.warnings.iter().any(|w| w.message.contains("`Logging`")));
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

/// Every prefix (at line and character granularity) of every fixture: the import returns,
/// without a panic, and whatever it imports compiles without errors.
#[test]
fn prefixes_never_panic_and_always_compile() {
    for (project, path, src) in fixtures() {
        let name = file_name(&path);
        let kind = SourceKind::detect(&name, &src);
        let mut cuts: Vec<usize> = src.match_indices('\n').map(|(i, _)| i + 1).collect();
        cuts.extend(src.char_indices().map(|(i, _)| i).step_by(7));
        cuts.sort_unstable();
        cuts.dedup();
        for cut in cuts {
            let prefix = &src[..cut];
            if let Ok(out) = import::import(prefix, kind, &name, &project) {
                let (_, diags) = stackc::compile(&out.stack);
                assert!(
                    diags.iter().all(|d| !d.is_error()),
                    "{}: the prefix of {cut} bytes imports to a program with errors:\n{}\n--- program ---\n{}",
                    path.display(),
                    stackc::diagnostic::render_plain("out.stack", &out.stack, &diags),
                    out.stack
                );
            }
        }
    }
}

/// Single-character mutations (a sample of positions, with characters that are syntax in YAML,
/// JSON, ports and env values): no panic, and whatever imports compiles.
#[test]
fn mutations_never_panic_and_always_compile() {
    for (project, path, src) in fixtures() {
        let name = file_name(&path);
        let kind = SourceKind::detect(&name, &src);
        for (n, (i, c)) in src.char_indices().enumerate() {
            if n % 13 != 0 {
                continue;
            }
            for r in [":", "-", "\"", "\n", "0"] {
                let mutated = format!("{}{r}{}", &src[..i], &src[i + c.len_utf8()..]);
                if let Ok(out) = import::import(&mutated, kind, &name, &project) {
                    let (_, diags) = stackc::compile(&out.stack);
                    assert!(
                        diags.iter().all(|d| !d.is_error()),
                        "{}: `{r}` at byte {i} imports to a program with errors:\n{}\n--- input ---\n{mutated}\n--- program ---\n{}",
                        path.display(),
                        stackc::diagnostic::render_plain("out.stack", &out.stack, &diags),
                        out.stack
                    );
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
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

#[test]
fn binary_prints_the_program_and_the_warnings() {
    for (project, path, src) in fixtures() {
        let o = stackc(&["import".as_ref(), path.as_os_str()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{}: {stderr}", path.display());
        let out = run_import(&project, &path, &src);
        assert_eq!(
            String::from_utf8_lossy(&o.stdout),
            out.stack,
            "{}",
            path.display()
        );
        for w in &out.warnings {
            let prefix = match w.line {
                Some(l) => format!("warning: {}:{l}: ", path.display()),
                None => format!("warning: {}: ", path.display()),
            };
            assert!(
                stderr.contains(&format!("{prefix}{}", w.message)),
                "{}: missing `{prefix}{}` in\n{stderr}",
                path.display(),
                w.message
            );
        }
        // What it prints passes `stackc check`.
        let tmp = tempfile::tempdir().expect("a temp dir");
        let file = tmp.path().join("app.stack");
        std::fs::write(&file, &o.stdout).expect("write");
        let c = stackc(&["check".as_ref(), file.as_os_str()]);
        assert!(
            c.status.success(),
            "{}: check failed:\n{}",
            path.display(),
            String::from_utf8_lossy(&c.stdout)
        );
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
