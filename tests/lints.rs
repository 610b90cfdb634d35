//! The lint pass end to end: the examples are clean, `--strict` adds only the strict lints,
//! and `--format json` reports suppressed diagnostics.

use std::process::Command;

use stackc::check::lints::{CODES, Options};
use stackc::compile_with;

fn examples() -> Vec<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .expect("examples/")
        .map(|e| e.expect("an entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "stack"))
        .map(|p| {
            let src = std::fs::read_to_string(&p).expect("readable");
            (p.display().to_string(), src)
        })
        .collect();
    out.sort();
    assert!(out.len() >= 4);
    out
}

#[test]
fn the_reference_program_and_every_example_get_no_security_warning() {
    for (path, src) in examples() {
        let c = compile_with(&src, &Options::default());
        let codes: Vec<String> = c.diagnostics.iter().map(|d| d.code()).collect();
        assert!(codes.is_empty(), "{path}: {codes:?}");
        assert!(!c.models.is_empty(), "{path}");
    }
}

#[test]
fn strict_adds_only_strict_lints_and_changes_nothing_else() {
    let strict_only = [
        "stack::single_az",
        "stack::latest_tag",
        "stack::unencrypted",
    ];
    for (path, src) in examples() {
        let plain = compile_with(&src, &Options::default());
        let strict = compile_with(&src, &Options { strict: true });
        for d in &strict.diagnostics {
            assert!(
                strict_only.contains(&d.code().as_str()) && !d.is_error(),
                "{path}: {}",
                d.code()
            );
        }
        assert_eq!(
            plain.models, strict.models,
            "{path}: --strict changed the model"
        );
    }
}

#[test]
fn lints_run_only_on_programs_without_errors() {
    let src = "stack app { }\nenvironment app-env { }\nservice web { image = \"nginx\" memory = 128 }\npostgres db { database = \"app\" public = true }\n";
    let c = compile_with(src, &Options { strict: true });
    assert!(
        c.diagnostics
            .iter()
            .all(|d| !CODES.contains(&d.code().as_str()))
    );
}

const PUBLIC: &str = r#"stack app { }
environment app-env { }
service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80]
  env { PGHOST = db.host }
}
postgres db {
  database  = "app"
  # allow(stack::public_database)
  public    = true
  encrypted = false
}
firewall {
  allow 80 from internet to web
  allow db from web
}
"#;

fn stackc(args: &[&str], src: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("app.stack");
    std::fs::write(&file, src).expect("writable");
    let file = file.display().to_string();
    let mut all: Vec<&str> = args.to_vec();
    all.push(&file);
    let out = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(&all)
        .env("NO_COLOR", "1")
        .output()
        .expect("stackc runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn json_reports_suppressed_diagnostics_and_they_do_not_count() {
    let (code, out) = stackc(&["check", "--format", "json"], PUBLIC);
    assert_eq!(code, Some(0), "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    let list = json.as_array().expect("an array");
    let codes: Vec<(&str, bool)> = list
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or_default(),
                d.get("suppressed").is_some(),
            )
        })
        .collect();
    assert_eq!(
        codes,
        [
            ("stack::public_database", true),
            ("stack::unencrypted", false)
        ]
    );
    assert_eq!(list[0]["suppressed"], true);
    assert_eq!(list[0]["severity"], "error");
}

#[test]
fn human_output_hides_suppressed_diagnostics_and_deny_warnings_fails() {
    let (code, out) = stackc(&["check"], PUBLIC);
    assert_eq!(code, Some(0));
    assert!(!out.contains("public_database"), "{out}");
    assert!(out.contains("stack::unencrypted"), "{out}");
    let (code, _) = stackc(&["check", "--deny-warnings"], PUBLIC);
    assert_eq!(code, Some(1));
    let unsuppressed = PUBLIC.replace("  # allow(stack::public_database)\n", "");
    let (code, out) = stackc(&["check"], &unsuppressed);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("stack::public_database"), "{out}");
}
