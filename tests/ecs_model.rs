//! The emitted `Dockerrun.aws.json` of every example, and of every import of the corpus of real
//! compose and Dockerrun files (`tests/import/corpus`), checked against AWS's own ECS API model
//! (botocore's `ecs/2014-11-13/service-2.json`, the input of `RegisterTaskDefinition`, which
//! Elastic Beanstalk calls with the container definitions) by `tests/support/ecs_model.py`,
//! and against the rules that model does not encode (checked here).
//!
//! Needs the test venv: `bash tests/support/setup-venv.sh` creates `<repo>/.venv` with a pinned
//! botocore; `STACKC_TEST_PYTHON` points at another interpreter. Without one the tests fail
//! and say so: they never pass by skipping.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Beside, python};
use serde_json::{Value, json};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// The validator's report on some Dockerrun files: (exit code, parsed stdout).
fn validate(files: &[PathBuf]) -> (i32, Value) {
    let helper = Path::new(ROOT).join("tests/support/ecs_model.py");
    let py = python();
    let o = Command::new(&py)
        .arg(&helper)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", py.display()));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let code = o.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "ecs_model.py could not validate (exit {code}); run `bash tests/support/setup-venv.sh`:\n{stderr}"
    );
    let report: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("ecs_model.py printed no JSON ({e}):\n{stderr}"));
    // Guard against validating against the wrong (or an empty) shape.
    assert_eq!(report["shape"], "ContainerDefinition", "{report}");
    assert!(
        report["container_members"]
            .as_u64()
            .is_some_and(|n| n >= 20),
        "a suspiciously small ContainerDefinition: {report}"
    );
    assert_eq!(
        report["files"].as_array().map(Vec::len),
        Some(files.len()),
        "{report}"
    );
    (code, report)
}

/// Every example's path, model and Dockerrun bytes.
fn examples() -> Vec<(PathBuf, stackc::check::Model, String)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(Path::new(ROOT).join("examples"))
        .expect("examples/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "stack"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no examples to validate");
    paths
        .into_iter()
        .map(|p| {
            let src = std::fs::read_to_string(&p).expect("readable example");
            let (model, diags) = stackc::compile(&src);
            let model =
                model.unwrap_or_else(|| panic!("{} does not compile: {diags:?}", p.display()));
            let dockerrun = stackc::lower::lower(&model).dockerrun;
            (p, model, dockerrun)
        })
        .collect()
}

fn write(dir: &Path, name: &str, doc: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, doc).expect("write a Dockerrun file");
    path
}

fn errors_of(file_report: &Value) -> Vec<String> {
    file_report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["path"].as_str().unwrap_or("?"),
                e["message"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// The rules that the API model does not encode.

/// ECS reserves these host ports (SSH, Docker's remote API, the ECS agent).
const RESERVED_HOST_PORTS: &[u64] = &[22, 2375, 2376, 51678, 51679, 51680];

/// Problems with the container definitions that ECS or Elastic Beanstalk would refuse but
/// the model cannot say: one line each.
fn ecs_rules(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(defs) = doc["containerDefinitions"].as_array() else {
        return vec!["no containerDefinitions list".into()];
    };
    if defs.is_empty() {
        out.push("no container definitions".into());
    }
    let names: Vec<&str> = defs.iter().filter_map(|c| c["name"].as_str()).collect();
    let mut seen_names = HashSet::new();
    let mut host_ports: HashMap<(u64, String), String> = HashMap::new();
    for (i, c) in defs.iter().enumerate() {
        let name = c["name"].as_str().unwrap_or("");
        let at = format!("container {i} (`{name}`)");
        // Required by ECS although the model marks no ContainerDefinition member required.
        let valid_name = !name.is_empty()
            && name.len() <= 255
            && name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !valid_name {
            out.push(format!(
                "{at}: a name is 1-255 letters, digits, `_` and `-`"
            ));
        }
        if !seen_names.insert(name) {
            out.push(format!("{at}: the name is used twice"));
        }
        if c["image"].as_str().is_none_or(str::is_empty) {
            out.push(format!("{at}: no image"));
        }
        let memory = c["memory"].as_u64();
        let reservation = c["memoryReservation"].as_u64();
        match (memory, reservation) {
            (None, None) => out.push(format!(
                "{at}: neither memory nor memoryReservation (EC2 launch type needs one)"
            )),
            (Some(m), Some(r)) if r >= m => out.push(format!(
                "{at}: memoryReservation {r} is not below memory {m}"
            )),
            _ => {}
        }
        for m in [memory, reservation].into_iter().flatten() {
            if m < 6 {
                out.push(format!("{at}: {m} MiB is below Docker's 6 MiB minimum"));
            }
        }
        for l in c["links"].as_array().into_iter().flatten() {
            let l = l.as_str().unwrap_or("");
            // `name:alias` is allowed by ECS; the part before `:` names a container.
            let target = l.split(':').next().unwrap_or("");
            if target == name || !names.contains(&target) {
                out.push(format!("{at}: link `{l}` names no other container"));
            }
        }
        for p in c["portMappings"].as_array().into_iter().flatten() {
            let Some(host) = p["hostPort"].as_u64() else {
                continue;
            };
            let proto = p["protocol"].as_str().unwrap_or("tcp").to_string();
            if RESERVED_HOST_PORTS.contains(&host) {
                out.push(format!("{at}: host port {host} is reserved by ECS"));
            }
            if let Some(first) = host_ports.insert((host, proto.clone()), name.to_string()) {
                out.push(format!(
                    "{at}: host port {host}/{proto} is already mapped by `{first}`"
                ));
            }
        }
    }
    if !defs.iter().any(|c| c["essential"] == json!(true)) {
        out.push("no container is essential".into());
    }
    // "Container definitions: 10 per task definition" (ECS service quotas).
    if defs.len() > 10 {
        out.push(format!(
            "{} containers: a task definition holds at most 10",
            defs.len()
        ));
    }
    out
}

// ---------------------------------------------------------------------------------------

#[test]
fn examples_match_the_ecs_model() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let examples = examples();
    let files: Vec<PathBuf> = examples
        .iter()
        .map(|(p, _, doc)| {
            write(
                tmp.path(),
                &format!("{}.json", p.file_stem().expect("a stem").to_string_lossy()),
                doc,
            )
        })
        .collect();
    let (code, report) = validate(&files);
    let mut problems = Vec::new();
    for ((path, model, _), r) in examples
        .iter()
        .zip(report["files"].as_array().expect("files"))
    {
        // No vacuous pass: every container was seen, and more than just the list itself.
        let containers = r["containers"].as_u64().unwrap_or(0);
        assert_eq!(
            containers,
            model.services.len() as u64,
            "{}: the validator saw {containers} containers",
            path.display()
        );
        assert!(
            r["values"].as_u64().unwrap_or(0) > 3 * containers,
            "{}: the validator checked almost nothing: {r}",
            path.display()
        );
        problems.extend(
            errors_of(r)
                .into_iter()
                .map(|e| format!("{}: {e}", path.display())),
        );
    }
    assert!(
        problems.is_empty(),
        "the ECS model refuses the emitted container definitions:\n{}",
        problems.join("\n")
    );
    assert_eq!(code, 0, "{report}");
}

#[test]
fn examples_keep_the_rules_the_model_does_not_encode() {
    for (path, _, doc) in examples() {
        let doc: Value = serde_json::from_str(&doc).expect("Dockerrun.aws.json is JSON");
        let problems = ecs_rules(&doc);
        assert!(
            problems.is_empty(),
            "{}:\n{}",
            path.display(),
            problems.join("\n")
        );
    }
}

/// A Dockerrun that is valid in every way; the negative tests break one thing at a time.
fn good_doc() -> Value {
    let (_, _, doc) = examples()
        .into_iter()
        .find(|(p, _, _)| p.ends_with("complex-docker.stack"))
        .expect("the reference example");
    serde_json::from_str(&doc).expect("JSON")
}

#[test]
fn the_validator_catches_wrong_fields() {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let good = good_doc();
    type Doctor = fn(&mut Value);
    // (what is broken, how, the path the error must name)
    let cases: &[(&str, Doctor, &str)] = &[
        (
            "a misspelt member",
            |d| d["containerDefinitions"][0]["memmory"] = json!(128),
            "$.containerDefinitions[0].memmory",
        ),
        (
            "a miscased member",
            |d| d["containerDefinitions"][0]["PortMappings"] = json!([]),
            "$.containerDefinitions[0].PortMappings",
        ),
        (
            "a string for an integer",
            |d| d["containerDefinitions"][1]["memory"] = json!("128"),
            "$.containerDefinitions[1].memory",
        ),
        (
            "a string for a boolean",
            |d| d["containerDefinitions"][1]["essential"] = json!("true"),
            "$.containerDefinitions[1].essential",
        ),
        (
            "a string for a list",
            |d| d["containerDefinitions"][3]["links"] = json!("client"),
            "$.containerDefinitions[3].links",
        ),
        (
            "a list for a structure",
            |d| d["containerDefinitions"][3]["portMappings"] = json!([[80, 80]]),
            "$.containerDefinitions[3].portMappings[0]",
        ),
        (
            "a protocol outside TransportProtocol",
            |d| d["containerDefinitions"][3]["portMappings"][0]["protocol"] = json!("TCP"),
            "$.containerDefinitions[3].portMappings[0].protocol",
        ),
        (
            "a missing required member",
            |d| d["containerDefinitions"][1]["secrets"] = json!([{ "name": "PGPASSWORD" }]),
            "$.containerDefinitions[1].secrets[0].valueFrom",
        ),
        (
            "an unknown top-level section",
            |d| d["containerDefinition"] = json!([]),
            "$.containerDefinition",
        ),
        (
            "a task-definition member EB does not take",
            |d| d["family"] = json!("x"),
            "$.family",
        ),
        (
            "a wrong Dockerrun version",
            |d| d["AWSEBDockerrunVersion"] = json!("2"),
            "$.AWSEBDockerrunVersion",
        ),
        (
            "no containers",
            |d| d["containerDefinitions"] = json!([]),
            "$.containerDefinitions",
        ),
    ];
    let files: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, doctor, _))| {
            let mut doc = good.clone();
            doctor(&mut doc);
            write(tmp.path(), &format!("bad-{i}.json"), &doc.to_string())
        })
        .collect();
    let good_file = write(tmp.path(), "good.json", &good.to_string());
    let (code, report) = validate(&[&files[..], &[good_file]].concat());
    assert_eq!(code, 1, "errors make the validator exit 1");
    let reports = report["files"].as_array().expect("files");
    for ((what, _, path), r) in cases.iter().zip(reports) {
        let errors = errors_of(r);
        assert!(
            errors.iter().any(|e| e.starts_with(&format!("{path}:"))),
            "the validator misses {what} (expected an error at {path}), it reported: {errors:#?}"
        );
        assert_eq!(
            errors.len(),
            1,
            "{what}: one mistake, one error: {errors:#?}"
        );
    }
    let misspelt = errors_of(&reports[0]).join("");
    assert!(misspelt.contains("did you mean `memory`"), "{misspelt}");
    let good_errors = errors_of(reports.last().expect("the good file"));
    assert!(
        good_errors.is_empty(),
        "the undoctored document is valid: {good_errors:#?}"
    );
}

#[test]
fn the_rules_catch_what_the_model_cannot() {
    let good = good_doc();
    assert!(ecs_rules(&good).is_empty());
    type Doctor = fn(&mut Value);
    let cases: &[(&str, Doctor, &str)] = &[
        (
            "no essential container",
            |d| d["containerDefinitions"][3]["essential"] = json!(false),
            "no container is essential",
        ),
        (
            "no memory",
            |d| {
                d["containerDefinitions"][0]
                    .as_object_mut()
                    .expect("object")
                    .remove("memory");
            },
            "neither memory nor memoryReservation",
        ),
        (
            "a reservation above the limit",
            |d| d["containerDefinitions"][0]["memoryReservation"] = json!(256),
            "is not below memory",
        ),
        (
            "a link to nothing",
            |d| d["containerDefinitions"][3]["links"] = json!(["client", "api"]),
            "link `api` names no other container",
        ),
        (
            "a link to itself",
            |d| d["containerDefinitions"][3]["links"] = json!(["nginx"]),
            "link `nginx` names no other container",
        ),
        (
            "a host port mapped twice",
            |d| {
                d["containerDefinitions"][0]["portMappings"] =
                    json!([{ "hostPort": 80, "containerPort": 3000, "protocol": "tcp" }]);
            },
            "host port 80/tcp is already mapped",
        ),
        (
            "a reserved host port",
            |d| d["containerDefinitions"][3]["portMappings"][0]["hostPort"] = json!(22),
            "reserved by ECS",
        ),
        (
            "a duplicate name",
            |d| d["containerDefinitions"][1]["name"] = json!("client"),
            "the name is used twice",
        ),
        (
            "no image",
            |d| d["containerDefinitions"][2]["image"] = json!(""),
            "no image",
        ),
        (
            "eleven containers",
            |d| {
                let defs = d["containerDefinitions"].as_array_mut().expect("a list");
                for i in 0..7 {
                    let mut c = defs[0].clone();
                    c["name"] = json!(format!("extra{i}"));
                    c.as_object_mut().expect("object").remove("portMappings");
                    defs.push(c);
                }
            },
            "a task definition holds at most 10",
        ),
    ];
    for (what, doctor, expected) in cases {
        let mut doc = good.clone();
        doctor(&mut doc);
        let problems = ecs_rules(&doc);
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "the rules miss {what}: {problems:#?}"
        );
    }
    // The same port on the other protocol is a different binding.
    let mut doc = good.clone();
    doc["containerDefinitions"][0]["portMappings"] =
        json!([{ "hostPort": 80, "containerPort": 80, "protocol": "udp" }]);
    assert!(ecs_rules(&doc).is_empty(), "{:?}", ecs_rules(&doc));
}

// ---------------------------------------------------------------------------------------
// The corpus of real files: the share that `stackc import` turns into a program with no
// diagnostic at all that builds and passes the ECS model and the rules above.

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/import/corpus");

/// `slug: outcome` lines of `outcomes.txt` (`#` comments).
fn expected_outcomes() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(Path::new(CORPUS).join("outcomes.txt"))
        .expect("tests/import/corpus/outcomes.txt");
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (slug, outcome) = l.split_once(':').expect("`slug: outcome`");
            (slug.trim().to_string(), outcome.trim().to_string())
        })
        .collect()
}

#[test]
fn corpus_imports_are_clean_build_and_match_the_ecs_model() {
    use stackc::import::{self, SourceKind};
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(CORPUS)
        .expect("the corpus")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    // (slug, outcome so far, Dockerrun written for the validator)
    let mut results: Vec<(String, String, Option<PathBuf>)> = Vec::new();
    for dir in &dirs {
        let slug = dir
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let path = std::fs::read_dir(dir)
            .expect("a corpus folder")
            .map(|e| e.expect("an entry").path())
            .find(|p| {
                p.extension()
                    .is_some_and(|e| e == "yml" || e == "yaml" || e == "json")
            })
            .expect("a compose or Dockerrun file");
        let src = std::fs::read_to_string(&path).expect("readable");
        let name = path
            .file_name()
            .expect("a name")
            .to_string_lossy()
            .into_owned();
        let out = match import::import(
            &src,
            SourceKind::detect(&name, &src),
            &name,
            &slug,
            &Beside(&path),
        ) {
            Ok(out) => out,
            Err(_) => {
                results.push((slug, "refused".into(), None));
                continue;
            }
        };
        let (model, diags) = stackc::compile(&out.stack);
        let mut codes: Vec<String> = diags.iter().map(|d| d.code()).collect();
        codes.sort();
        codes.dedup();
        let Some(model) = model else {
            results.push((slug, codes.join(", "), None));
            continue;
        };
        let doc = stackc::lower::lower(&model).dockerrun;
        let rules = ecs_rules(&serde_json::from_str(&doc).expect("JSON"));
        codes.extend(rules.iter().map(|r| format!("ecs rule: {r}")));
        let file = write(tmp.path(), &format!("{slug}.json"), &doc);
        let outcome = if codes.is_empty() {
            "clean".into()
        } else {
            codes.join(", ")
        };
        results.push((slug, outcome, Some(file)));
    }
    let files: Vec<PathBuf> = results.iter().filter_map(|r| r.2.clone()).collect();
    let (_, report) = validate(&files);
    let mut reports = report["files"].as_array().expect("files").iter();
    for (slug, outcome, file) in &mut results {
        if file.is_none() {
            continue;
        }
        let errors = errors_of(reports.next().expect("one report per file"));
        if !errors.is_empty() {
            let model = format!("ecs model: {}", errors.join("; "));
            *outcome = if outcome == "clean" {
                model
            } else {
                format!("{outcome}, {model}")
            };
        }
        let _ = slug;
    }
    let got: Vec<(String, String)> = results.into_iter().map(|(s, o, _)| (s, o)).collect();
    let clean = got.iter().filter(|(_, o)| o == "clean").count();
    println!(
        "corpus: {clean} of {} files import to a program with no diagnostic that builds and matches the ECS model",
        got.len()
    );
    assert!(got.len() >= 30, "the corpus holds {} files", got.len());
    let want = expected_outcomes();
    let diff: Vec<String> = got
        .iter()
        .filter(|g| !want.contains(g))
        .map(|(s, o)| format!("{s}: {o}"))
        .chain(
            want.iter()
                .filter(|w| !got.contains(w))
                .map(|(s, o)| format!("(expected) {s}: {o}")),
        )
        .collect();
    assert!(
        diff.is_empty(),
        "the corpus outcomes changed; update tests/import/corpus/outcomes.txt when this is an improvement:\n{}",
        diff.join("\n")
    );
}
