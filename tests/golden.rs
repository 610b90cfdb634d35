//! Golden tests of the build outputs: every `examples/*.stack` is compiled and lowered (each of
//! its environments, in a file with several), and
//!
//! - its `Dockerrun.aws.json` and `plan.json` must match the snapshots in `tests/golden/`
//!   (`cargo insta review`, or `INSTA_UPDATE=always`, records a change; review what you
//!   accept: these are the files users deploy);
//! - building it twice gives byte-identical files;
//! - the real binary's `build FILE --out DIR` writes exactly the in-process bytes, and refuses
//!   (exit 1, nothing written, nothing touched) a file with errors;
//! - its plan keeps the invariants that `deploy` relies on (see [`plan_invariants`]);
//!
//! and the program of `tests/builds/seed/`, whose services are built from the contexts beside
//! it, is built by the binary with each image named by the content hash of its build.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use stackc::deploy::resource::{Tag, Tags, Val};
use stackc::deploy::resources::Desired;
use stackc::deploy::resources::db_instance::DbInstance;
use stackc::images::{BuildSpec, Platform, content_hash};
use stackc::lower::{Artifacts, Images};

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
use common::examples;

/// Compiles and lowers a program that must be clean (no diagnostic at all, not even a
/// warning): each environment's model and artifacts, in source order.
fn build(path: &Path, src: &str) -> Vec<(stackc::check::Model, Artifacts)> {
    let c = stackc::compile_with(src, &stackc::check::lints::Options::default());
    let name = path.display().to_string();
    assert!(
        c.diagnostics.is_empty(),
        "examples must check without any diagnostic:\n{}",
        stackc::diagnostic::render_plain(&name, src, &c.diagnostics)
    );
    assert!(
        !c.models.is_empty(),
        "{name}: no model although there is no diagnostic"
    );
    c.models
        .into_iter()
        .map(|m| {
            let a = stackc::lower::lower(&m);
            (m, a)
        })
        .collect()
}

/// Where `build --out DIR` writes a file of environment `model`: `DIR/<env>/` in a file with
/// several environments.
fn out_name(model: &stackc::check::Model, file: &str) -> String {
    match model.scoped_env() {
        Some(env) => format!("{env}/{file}"),
        None => file.to_string(),
    }
}

#[test]
fn snapshots() {
    let mut seen = 0;
    insta::glob!("../examples", "*.stack", |path| {
        let src = std::fs::read_to_string(path).expect("readable example");
        for (model, artifacts) in build(path, &src) {
            // `Dockerrun.aws.json`, or `Dockerrun.aws.json.<env>` in a file with several.
            let name = |file: &str| match model.scoped_env() {
                Some(env) => format!("{file}.{env}"),
                None => file.to_string(),
            };
            insta::with_settings!({
                omit_expression => true,
                prepend_module_to_snapshot => false,
                snapshot_path => "golden",
            }, {
                insta::assert_snapshot!(name("Dockerrun.aws.json"), artifacts.dockerrun);
                insta::assert_snapshot!(name("plan.json"), artifacts.plan_json);
            });
        }
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "golden",
        }, {
            insta::assert_snapshot!("iam-policy.json", iam_policy(path));
        });
        seen += 1;
    });
    assert_eq!(seen, examples().len(), "the glob saw every example");
}

/// `stackc iam-policy FILE`, checked against IAM's rules for a policy document: a Sid is
/// alphanumeric, an action is `service:Action`, and the whole fits an inline policy of a role
/// (10,240 characters without whitespace, "IAM and AWS STS quotas").
fn iam_policy(path: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .arg("iam-policy")
        .arg(path)
        .output()
        .expect("stackc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let policy: Value = serde_json::from_str(&text).expect("the policy is JSON");
    assert_eq!(policy["Version"], "2012-10-17");
    let statements = policy["Statement"].as_array().expect("statements");
    for s in statements {
        assert_eq!(s["Effect"], "Allow");
        if let Some(sid) = s.get("Sid") {
            assert!(
                sid.as_str()
                    .is_some_and(|s| s.chars().all(|c| c.is_ascii_alphanumeric())),
                "{sid}"
            );
        }
        for a in s["Action"].as_array().expect("actions") {
            let a = a.as_str().expect("an action");
            assert!(
                a.split_once(':')
                    .is_some_and(|(svc, op)| !svc.is_empty() && !op.is_empty()),
                "{a}"
            );
        }
        assert!(!s["Resource"].as_array().expect("resources").is_empty());
    }
    let compact = serde_json::to_string(&policy).expect("serialises");
    assert!(
        compact.len() <= 10_240,
        "{}: {} characters",
        path.display(),
        compact.len()
    );
    text
}

#[test]
fn builds_are_deterministic() {
    for (path, src) in examples() {
        for ((_, first), (_, second)) in build(&path, &src).into_iter().zip(
            // A fresh compile: new hash-map seeds, new allocations.
            build(&path, &src),
        ) {
            assert_eq!(
                first.dockerrun.as_bytes(),
                second.dockerrun.as_bytes(),
                "{}: Dockerrun.aws.json differs between two builds",
                path.display()
            );
            assert_eq!(
                first.plan_json.as_bytes(),
                second.plan_json.as_bytes(),
                "{}: plan.json differs between two builds",
                path.display()
            );
            // The serialised plan is the plan value: deploy reads the value, users read the file.
            let reparsed: Value =
                serde_json::from_str(&first.plan_json).expect("plan.json is JSON");
            assert_eq!(
                reparsed,
                serde_json::to_value(&first.plan).expect("the plan serialises"),
                "{}",
                path.display()
            );
            assert!(
                first.dockerrun.ends_with("}\n") && first.plan_json.ends_with("}\n"),
                "{}: files end with a newline",
                path.display()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// The real binary.

fn stackc(args: &[&std::ffi::OsStr], envs: &[(String, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

/// Every file under `dir` (and its folders), by relative name, with its bytes.
fn dir_contents(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("readable dir") {
        let e = e.expect("a directory entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            for (inner, bytes) in dir_contents(&e.path()) {
                out.insert(format!("{name}/{inner}"), bytes);
            }
            continue;
        }
        out.insert(name, std::fs::read(e.path()).expect("readable file"));
    }
    out
}

#[test]
fn binary_build_writes_the_in_process_bytes() {
    for (path, src) in examples() {
        let built = build(&path, &src);
        // Secrets are read from the deployer's environment at apply time only: set each
        // variable to a sentinel and prove that `build` never lets it through.
        let envs: Vec<(String, String)> = built
            .iter()
            .flat_map(|(_, a)| secret_vars(a))
            .map(|v| (v.clone(), format!("sentinel-value-of-{v}")))
            .collect();
        let tmp = tempfile::tempdir().expect("a temp dir");
        let out = tmp.path().join("out/nested"); // created by `build`
        let o = stackc(
            &[
                "build".as_ref(),
                path.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
            &envs,
        );
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(
            o.status.success(),
            "{}: build failed ({}):\n{stderr}",
            path.display(),
            o.status
        );
        let files = dir_contents(&out);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        let mut expected: Vec<String> = built
            .iter()
            .flat_map(|(m, _)| [out_name(m, "Dockerrun.aws.json"), out_name(m, "plan.json")])
            .collect();
        expected.sort();
        assert_eq!(
            names,
            expected,
            "{}: exactly the two outputs of each environment, no temporaries left",
            path.display()
        );
        #[cfg(unix)]
        {
            // As readable as any new file the user makes there (the umask decides), not
            // private like a temporary file.
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
            let plain = out.join("plain");
            std::fs::write(&plain, b"").expect("a plain file");
            for name in &expected {
                assert_eq!(
                    mode(&out.join(name)),
                    mode(&plain),
                    "{}: {name} has another mode than a new file",
                    path.display()
                );
            }
            std::fs::remove_file(&plain).expect("removable");
        }
        for (model, artifacts) in &built {
            let dockerrun = out_name(model, "Dockerrun.aws.json");
            let plan = out_name(model, "plan.json");
            assert!(
                files[&dockerrun] == artifacts.dockerrun.as_bytes(),
                "{}: the binary's {dockerrun} differs from stackc::lower",
                path.display()
            );
            assert!(
                files[&plan] == artifacts.plan_json.as_bytes(),
                "{}: the binary's {plan} differs from stackc::lower",
                path.display()
            );
        }
        let everything: Vec<u8> = files
            .values()
            .flatten()
            .chain(&o.stdout)
            .chain(&o.stderr)
            .copied()
            .collect();
        let everything = String::from_utf8_lossy(&everything);
        for (var, value) in &envs {
            assert!(
                !everything.contains(value.as_str()),
                "{}: the value of ${var} leaked into build output",
                path.display()
            );
        }
    }
}

/// A program with errors, as `tests/ui` would hold it.
const BROKEN: &str = r#"
stack app { }
environment app-env { }
service web {
  image  = "nginx"
  memory = 128
  links  = [wrker]
}
"#;

#[test]
fn binary_build_refuses_errors_and_writes_nothing() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let file = tmp.path().join("broken.stack");
    std::fs::write(&file, BROKEN).expect("write the test program");

    // An out dir that already holds outputs of an earlier build, and a file of the user's.
    let out = tmp.path().join("out");
    std::fs::create_dir(&out).expect("mkdir");
    std::fs::write(out.join("Dockerrun.aws.json"), "old dockerrun\n").expect("write");
    std::fs::write(out.join("plan.json"), "old plan\n").expect("write");
    std::fs::write(out.join("notes.txt"), "mine\n").expect("write");
    let before = dir_contents(&out);

    let o = stackc(
        &[
            "build".as_ref(),
            file.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        &[],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(1),
        "build of a file with errors exits 1:\n{stderr}"
    );
    assert_eq!(
        dir_contents(&out),
        before,
        "a refused build leaves the out dir exactly as it was"
    );

    // The same diagnostics as `check`: every code it reports is in build's report.
    let c = stackc(
        &[
            "check".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            file.as_os_str(),
        ],
        &[],
    );
    assert_eq!(c.status.code(), Some(1));
    let diags: Vec<Value> =
        serde_json::from_slice(&c.stdout).expect("check --format json prints a JSON array");
    let (_, in_process) = stackc::compile(BROKEN);
    assert_eq!(
        diags.len(),
        in_process.len(),
        "check reports what stackc::compile finds"
    );
    assert!(!diags.is_empty());
    for d in &diags {
        let code = d["code"].as_str().expect("a code");
        assert!(
            stderr.contains(code),
            "build's report lacks `{code}`:\n{stderr}"
        );
    }

    // An out dir that does not exist is not even created.
    let missing = tmp.path().join("never-created");
    let o = stackc(
        &[
            "build".as_ref(),
            file.as_os_str(),
            "--out".as_ref(),
            missing.as_os_str(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!missing.exists(), "a refused build creates no directory");
}

// ---------------------------------------------------------------------------------------
// Services built from a Dockerfile (`tests/builds/seed/`, a program with its build contexts):
// `stackc build` names each built image `<repository>:<tag>`, the tag the content hash of its
// build for the environment's platform; `lower` alone, without IO, names `<repository>:unbuilt`.

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/builds/seed");

/// A copy of the seed program and its contexts, to change.
fn seed_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for e in std::fs::read_dir(from).expect("readable dir") {
            let e = e.expect("a directory entry");
            let target = to.join(e.file_name());
            if e.path().is_dir() {
                copy(&e.path(), &target);
            } else {
                std::fs::copy(e.path(), &target).expect("copy");
            }
        }
    }
    let tmp = tempfile::tempdir().expect("a temp dir");
    copy(Path::new(SEED), tmp.path());
    tmp
}

/// The images `stackc build` names for the program in `dir`: each built service's repository
/// with the tag of its content hash, computed here by `stackc::images`.
fn hashed_images(dir: &Path, model: &stackc::check::Model) -> Images {
    let platform = Platform::of_instance_type(&model.environment.instance_type);
    model
        .services
        .iter()
        .filter_map(|s| {
            let spec = BuildSpec::of(s.build()?, dir, platform);
            let hash = content_hash(&spec).expect("the context hashes");
            let repository = stackc::naming::repository(&model.base(), &s.name);
            Some((s.name.to_string(), format!("{repository}:{}", hash.tag())))
        })
        .collect()
}

/// `stackc build` of the seed program in `dir`, writing into `out`.
fn build_seed_into(dir: &Path, out: &Path) -> Output {
    stackc(
        &[
            "build".as_ref(),
            dir.join("seed.stack").as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
        &[],
    )
}

/// `stackc build` of the program in `dir`: each environment's Dockerrun, by environment.
fn build_seed(dir: &Path) -> BTreeMap<String, Value> {
    let out = dir.join("out");
    let o = build_seed_into(dir, &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = dir_contents(&out);
    std::fs::remove_dir_all(&out).expect("remove the outputs");
    ["staging", "production"]
        .into_iter()
        .map(|env| {
            let doc = &files[&format!("{env}/Dockerrun.aws.json")];
            (env.to_string(), serde_json::from_slice(doc).expect("JSON"))
        })
        .collect()
}

/// The image of each container of a Dockerrun, by name.
fn images_of(doc: &Value) -> BTreeMap<String, String> {
    doc["containerDefinitions"]
        .as_array()
        .expect("containers")
        .iter()
        .map(|c| {
            let name = c["name"].as_str().expect("a name").to_string();
            (name, c["image"].as_str().expect("an image").to_string())
        })
        .collect()
}

#[test]
fn built_images_are_named_by_the_content_hash_of_their_build() {
    let dir = Path::new(SEED);
    let src = std::fs::read_to_string(dir.join("seed.stack")).expect("the seed program");
    let models = build(&dir.join("seed.stack"), &src);
    let out = tempfile::tempdir().expect("a temp dir");
    let o = build_seed_into(dir, out.path());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = dir_contents(out.path());
    let mut tags = Vec::new();
    for (model, _) in &models {
        let images = hashed_images(dir, model);
        assert_eq!(images.len(), 3, "client, server and worker are built");
        // The binary writes what `lower_with` makes of the hashed images, plan included.
        let a = stackc::lower::lower_with(model, &images);
        let dockerrun = out_name(model, "Dockerrun.aws.json");
        assert!(files[&dockerrun] == a.dockerrun.as_bytes(), "{dockerrun}");
        assert!(files[&out_name(model, "plan.json")] == a.plan_json.as_bytes());
        plan_invariants(&dir.join("seed.stack"), model, &a);
        let env = model.scoped_env().expect("two environments");
        for (service, image) in &images {
            let (repository, tag) = image.rsplit_once(':').expect("a tag");
            assert_eq!(repository, format!("seed-{env}/{service}"));
            assert!(
                tag.len() == 14
                    && tag.starts_with("c-")
                    && tag[2..].bytes().all(|b| b.is_ascii_hexdigit()),
                "{image}"
            );
            tags.push(tag.to_string());
        }
        assert_eq!(
            images_of(&serde_json::from_str(&a.dockerrun).expect("JSON"))["nginx"],
            "nginx:1.27"
        );
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "golden",
        }, {
            insta::assert_snapshot!(format!("Dockerrun.aws.json.{env}@builds-seed"), a.dockerrun);
        });
    }
    // Staging builds for x86-64, production for Graviton: no tag is shared.
    let unique: HashSet<&String> = tags.iter().collect();
    assert_eq!(unique.len(), 6, "{tags:?}");
}

#[test]
fn lowering_without_io_names_the_unbuilt_placeholder() {
    let src = std::fs::read_to_string(Path::new(SEED).join("seed.stack")).expect("the seed");
    for (model, a) in build(&Path::new(SEED).join("seed.stack"), &src) {
        let images = images_of(&serde_json::from_str(&a.dockerrun).expect("JSON"));
        let env = model.scoped_env().expect("two environments");
        for service in ["client", "server", "worker"] {
            assert_eq!(images[service], format!("seed-{env}/{service}:unbuilt"));
        }
        assert_eq!(images["nginx"], "nginx:1.27");
        // An image given for a service that pulls its own is not used.
        let mut given = Images::new();
        given.insert("nginx".into(), "elsewhere/nginx:2".into());
        given.insert(
            "server".into(),
            "registry.example/seed/server@sha256:0".into(),
        );
        let with = stackc::lower::lower_with(&model, &given);
        let images = images_of(&serde_json::from_str(&with.dockerrun).expect("JSON"));
        assert_eq!(images["nginx"], "nginx:1.27");
        assert_eq!(images["server"], "registry.example/seed/server@sha256:0");
        assert_eq!(images["client"], format!("seed-{env}/client:unbuilt"));
    }
}

#[test]
fn a_change_in_a_context_renames_that_image_only() {
    let tmp = seed_copy();
    let dir = tmp.path();
    let first = build_seed(dir);
    // A file the `.dockerignore` leaves out changes nothing.
    std::fs::write(dir.join("worker/debug.log"), "noise\n").expect("write");
    assert_eq!(build_seed(dir), first, "an ignored file renamed an image");
    // One changed file renames its context's image, in each environment, and nothing else.
    std::fs::write(dir.join("server/index.js"), "console.log(2);\n").expect("write");
    let second = build_seed(dir);
    for env in ["staging", "production"] {
        let (before, after) = (images_of(&first[env]), images_of(&second[env]));
        let changed: Vec<&String> = before
            .keys()
            .filter(|name| before[*name] != after[*name])
            .collect();
        assert_eq!(changed, ["server"], "{env}");
    }
    // So does a build argument, written in the program.
    let path = dir.join("seed.stack");
    let src = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        src.replace("NODE_ENV=production", "NODE_ENV=staging"),
    )
    .expect("write");
    let third = build_seed(dir);
    let (before, after) = (images_of(&second["staging"]), images_of(&third["staging"]));
    assert_ne!(before["client"], after["client"]);
    assert_eq!(before["server"], after["server"]);
}

/// `stackc check --format json` of the program in `dir`: its exit code and diagnostics.
fn check_json(dir: &Path) -> (Option<i32>, Vec<Value>) {
    let o = stackc(
        &[
            "check".as_ref(),
            "--format".as_ref(),
            "json".as_ref(),
            dir.join("seed.stack").as_os_str(),
        ],
        &[],
    );
    let diags = serde_json::from_slice(&o.stdout).expect("a JSON array");
    (o.status.code(), diags)
}

#[test]
fn missing_build_paths_are_errors_with_a_code_and_nothing_is_built() {
    let tmp = seed_copy();
    let dir = tmp.path();
    assert_eq!(check_json(dir), (Some(0), Vec::new()));
    std::fs::remove_file(dir.join("client/docker/Dockerfile.prod")).expect("remove");
    std::fs::remove_dir_all(dir.join("server")).expect("remove");
    std::fs::remove_dir_all(dir.join("worker")).expect("remove");
    std::fs::write(dir.join("worker"), "not a directory\n").expect("write");
    let (code, diags) = check_json(dir);
    assert_eq!(code, Some(1));
    let found: Vec<(String, u64, String)> = diags
        .iter()
        .map(|d| {
            (
                d["code"].as_str().expect("a code").to_string(),
                d["line"].as_u64().expect("a line"),
                d["message"].as_str().expect("a message").to_string(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "stack::build_path".to_string(),
                21,
                "Dockerfile `./client/docker/Dockerfile.prod` does not exist".to_string()
            ),
            (
                "stack::build_path".to_string(),
                30,
                "build context `./server` does not exist".to_string()
            ),
            (
                "stack::build_path".to_string(),
                36,
                "build context `./worker` is not a directory".to_string()
            ),
        ]
    );
    // The help says where stackc looked: beside the program, not in the working directory.
    let help = diags[1]["help"].as_str().expect("a help");
    assert!(
        help.contains(&dir.join("./server").display().to_string()),
        "{help}"
    );
    // `build` refuses the program with the same report, and writes nothing.
    let out = dir.join("out");
    let o = build_seed_into(dir, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("stack::build_path") && stderr.contains("nothing was written"));
    assert!(!out.exists());
}

#[test]
fn an_unreadable_context_stops_the_build_in_one_line() {
    let tmp = seed_copy();
    let dir = tmp.path();
    // A pattern Docker refuses: `stackc check` cannot know (it reads no context).
    std::fs::write(dir.join("worker/.dockerignore"), "[\n").expect("write");
    assert_eq!(check_json(dir).0, Some(0));
    let out = dir.join("out");
    let o = build_seed_into(dir, &out);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("error: ")
            && lines[0].contains("service `worker`")
            && lines[0].contains(".dockerignore")
            && lines[0].ends_with("nothing was written"),
        "{stderr}"
    );
    assert!(!out.exists());
}

// ---------------------------------------------------------------------------------------
// Plan invariants.

/// The env-var names of every `{"secret": VAR}` in the plan.
fn secret_vars(a: &Artifacts) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(s)) = m.get("secret") {
                    out.push(s.clone());
                }
                m.values().for_each(|v| walk(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in &a.plan.steps {
        walk(&s.params(), &mut out);
    }
    out.sort();
    out.dedup();
    out
}

/// Every `{"ref": ...}` string within a value.
fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(r) = m.get("ref") {
                let r = r
                    .as_str()
                    .unwrap_or_else(|| panic!("a ref is a string, found {r}"));
                out.push(r.to_string());
            }
            m.values().for_each(|v| refs(v, out));
        }
        Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// Every `{"secret": ...}` object within a value, with the JSON path it was found at.
fn secrets<'v>(
    v: &'v Value,
    path: String,
    out: &mut Vec<(String, &'v serde_json::Map<String, Value>)>,
) {
    match v {
        Value::Object(m) => {
            if m.contains_key("secret") {
                out.push((path.clone(), m));
            }
            for (k, v) in m {
                secrets(v, format!("{path}.{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                secrets(v, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN"]
        .iter()
        .any(|w| k.contains(w))
}

fn is_env_key(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The stackc tags of a step's params (`Tags` or `TagSpecifications[].Tags`), key → value.
fn stackc_tags(params: &Value) -> Vec<HashMap<String, String>> {
    let as_map = |tags: &Value| -> HashMap<String, String> {
        tags.as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t["Key"].as_str()?.to_string(),
                    t["Value"].as_str()?.to_string(),
                ))
            })
            .collect()
    };
    let mut out = Vec::new();
    if let Some(tags) = params.get("Tags") {
        out.push(as_map(tags));
    }
    // ECR takes `tags` as a list of `{Key, Value}`.
    if let Some(tags) = params.get("tags").filter(|t| t.is_array()) {
        out.push(as_map(tags));
    }
    // CloudWatch Logs takes a map.
    if let Some(tags) = params.get("tags").and_then(Value::as_object) {
        out.push(
            tags.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect(),
        );
    }
    for spec in params
        .get("TagSpecifications")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        out.push(as_map(&spec["Tags"]));
    }
    out
}

/// Create actions that cannot carry tags, each with the reason.
const UNTAGGABLE_CREATES: &[(&str, &str)] = &[(
    "elasticbeanstalk:CreateStorageLocation",
    "returns the account's shared Elastic Beanstalk bucket (creating it once per region); takes no parameters",
)];

/// The invariants of a plan, for one example.
fn plan_invariants(path: &Path, model: &stackc::check::Model, a: &Artifacts) {
    let name = path.display();
    let plan = &a.plan;
    assert_eq!(plan.stack, model.stack.name, "{name}: plan.stack");
    assert_eq!(plan.region, model.stack.region, "{name}: plan.region");
    assert!(!plan.steps.is_empty(), "{name}: an empty plan");

    let mut earlier: HashSet<&str> = HashSet::new();
    for step in &plan.steps {
        let id = step.id.as_str();
        assert!(
            !id.is_empty() && !step.action().is_empty() && !step.resource.is_empty(),
            "{name}: step {id} has empty fields"
        );
        assert!(
            step.params().is_object(),
            "{name}: params of {id} are an object"
        );
        assert!(
            step.action().split_once(':').is_some_and(
                |(svc, op)| !svc.is_empty() && op.starts_with(|c: char| c.is_ascii_uppercase())
            ),
            "{name}: action `{}` of {id} is `service:Operation`",
            step.action()
        );

        // depends_on: unique, earlier steps only.
        let deps: HashSet<&str> = step.depends_on.iter().map(String::as_str).collect();
        assert_eq!(
            deps.len(),
            step.depends_on.len(),
            "{name}: {id} lists a dependency twice"
        );
        for d in &step.depends_on {
            assert!(
                earlier.contains(d.as_str()),
                "{name}: {id} depends on `{d}`, which is not an earlier step"
            );
        }

        // Every ref names an earlier step (`STEP.attr`, attr without dots) listed in depends_on.
        let mut rs = Vec::new();
        refs(&step.params(), &mut rs);
        for r in rs {
            let (target, attr) = r
                .rsplit_once('.')
                .unwrap_or_else(|| panic!("{name}: ref `{r}` in {id} is not STEP.attr"));
            assert!(
                !attr.is_empty()
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name}: ref `{r}` in {id}: attribute `{attr}`"
            );
            assert!(
                earlier.contains(target),
                "{name}: {id} refers to `{r}`, but `{target}` is not an earlier step"
            );
            assert!(
                deps.contains(target),
                "{name}: {id} refers to `{r}` but does not list `{target}` in depends_on"
            );
        }

        // Create steps (ACM's is a request) carry the ownership tags, the environment's too
        // exactly when its names are scoped to it.
        let op = step.action().split_once(':').map_or("", |(_, op)| op);
        if (op.starts_with("Create") || op.starts_with("Request"))
            && !UNTAGGABLE_CREATES.iter().any(|(a, _)| *a == step.action())
        {
            let tags = stackc_tags(&step.params());
            assert!(
                !tags.is_empty(),
                "{name}: create step {id} ({}) carries no tags",
                step.action()
            );
            for t in tags {
                assert_eq!(
                    t.get("stackc:stack").map(String::as_str),
                    Some(plan.stack.as_str()),
                    "{name}: {id}: tag stackc:stack"
                );
                assert!(
                    t.get("stackc:name").is_some_and(|n| !n.is_empty()),
                    "{name}: {id}: tag stackc:name"
                );
                assert_eq!(
                    t.get("stackc:env").map(String::as_str),
                    model.scoped_env(),
                    "{name}: {id}: tag stackc:env"
                );
            }
        }

        // Secrets: only ever `{"secret": "VAR"}`, nothing beside the name.
        let mut found = Vec::new();
        let params = step.params();
        secrets(&params, id.to_string(), &mut found);
        for (at, obj) in found {
            assert_eq!(
                obj.len(),
                1,
                "{name}: {at}: a secret object holds only the variable name: {obj:?}"
            );
            let var = obj["secret"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: {at}: the secret names a variable"));
            assert!(
                is_env_key(var),
                "{name}: {at}: `{var}` is an environment-variable name"
            );
        }
        if let Some(p) = step.params().get("MasterUserPassword") {
            assert!(
                p.get("secret").is_some(),
                "{name}: {id}: MasterUserPassword is {p}, not {{\"secret\": VAR}}"
            );
        }
        for o in step
            .params()
            .get("OptionSettings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let opt = o["OptionName"].as_str().unwrap_or_default();
            if looks_secret(opt) {
                let v = &o["Value"];
                assert!(
                    v.get("secret").is_some() || v.get("ref").is_some(),
                    "{name}: {id}: option {opt} holds a literal: {v}"
                );
            }
        }
        assert!(earlier.insert(id), "{name}: step id `{id}` is used twice");
    }

    // Dockerrun: no secret-looking literal in a container's environment.
    let dockerrun: Value = serde_json::from_str(&a.dockerrun).expect("Dockerrun.aws.json is JSON");
    for c in dockerrun["containerDefinitions"]
        .as_array()
        .expect("containerDefinitions")
    {
        for kv in c
            .get("environment")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let k = kv["name"].as_str().unwrap_or_default();
            assert!(
                !looks_secret(k),
                "{name}: container {} has the secret-looking literal {k}",
                c["name"]
            );
        }
    }
}

#[test]
fn plans_keep_their_invariants() {
    let mut steps = 0;
    for (path, src) in examples() {
        for (model, artifacts) in build(&path, &src) {
            plan_invariants(&path, &model, &artifacts);
            steps += artifacts.plan.steps.len();
        }
    }
    assert!(steps > 0);
}

/// The plan's RDS instance, to break.
fn db(a: &mut Artifacts) -> &mut DbInstance {
    a.plan
        .steps
        .iter_mut()
        .find_map(|s| match &mut s.desired {
            Desired::DbInstance(db) => Some(db),
            _ => None,
        })
        .expect("an RDS step")
}

/// The invariant checker itself catches what it is for (so that its passing means something).
#[test]
fn plan_invariants_catch_broken_plans() {
    let path = Path::new(EXAMPLES).join("load-balanced.stack");
    let src = std::fs::read_to_string(&path).expect("load-balanced.stack exists");
    let (model, good) = build(&path, &src)
        .into_iter()
        .next()
        .expect("one environment");
    plan_invariants(&path, &model, &good);

    type Doctor = fn(&mut Artifacts);
    let doctors: &[(&str, Doctor)] = &[
        ("duplicate id", |a| {
            let id = a.plan.steps[0].id.clone();
            a.plan.steps[1].id = id;
        }),
        ("dependency on a later step", |a| {
            let later = a.plan.steps.last().expect("steps").id.clone();
            a.plan.steps[1].depends_on.push(later);
        }),
        ("ref not in depends_on", |a| {
            let s = a
                .plan
                .steps
                .iter_mut()
                .find(|s| s.id == "subnets")
                .expect("a subnets step");
            s.depends_on.clear();
        }),
        ("create without tags", |a| {
            db(a).tags = Tags::default();
        }),
        ("secret value", |a| {
            db(a).password = Some(Val::Lit("hunter2".into()));
        }),
        (
            "certificate tagged with an environment the stack does not scope",
            |a| {
                let cert = a
                    .plan
                    .steps
                    .iter_mut()
                    .find_map(|s| match &mut s.desired {
                        Desired::Certificate(c) => Some(c),
                        _ => None,
                    })
                    .expect("the example requests a certificate");
                cert.tags.0.push(Tag {
                    key: "stackc:env".into(),
                    value: "production".into(),
                });
            },
        ),
        // (A secret object that also holds its value cannot be built: `Val::Secret` holds
        // only the variable's name.)
    ];
    for (what, doctor) in doctors {
        let mut bad = good.clone();
        doctor(&mut bad);
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            plan_invariants(&path, &model, &bad)
        }));
        assert!(caught.is_err(), "the plan invariants miss a {what}");
    }
}
