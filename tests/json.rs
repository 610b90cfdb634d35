//! The machine interface of `stackc check` (contract, section 3): the JSON objects of
//! `--format json`, through the library (`stackc::compile` + `Diagnostic::to_json`) and through
//! the real binary, and the exit statuses: 0 clean (and warnings alone), 1 errors (and warnings
//! with `--deny-warnings`, and a file that cannot be read), 2 usage errors.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};

/// Several errors, one of them after non-ASCII characters on its line (columns count
/// characters, not bytes), one without help, and one with a secondary label.
const SEVERAL: &str = r#"stack app { region = "useast1" }
environment app-env { }
service web {
  image     = "nginx"
  memory    = 128
  essential = true
  links     = [api]
  env { GREETING = "héllo wörld" MODE = production }
}
service web {
  image  = "nginx"
  memory = 64 MiB
}
"#;

/// The diagnostics of [`SEVERAL`], as the contract spells them, for a file called `file`.
fn several_expected(file: &str) -> Value {
    let env_expected = "a string, an integer, a reference `store.attribute` or `secret(\"VAR\")`";
    json!([
        {
            "code": "stack::invalid_name",
            "severity": "error",
            "message": "`useast1` is not a valid AWS region",
            "file": file,
            "line": 1, "column": 22, "end_line": 1, "end_column": 31,
            "labels": [
                {
                    "message": "AWS regions look like `us-east-1`",
                    "line": 1, "column": 22, "end_line": 1, "end_column": 31
                }
            ],
            "help": null
        },
        {
            "code": "stack::type_mismatch",
            "severity": "error",
            "message": "expected a size (`128 MiB`, `20 GiB`), found an integer",
            "file": file,
            "line": 5, "column": 15, "end_line": 5, "end_column": 18,
            "labels": [
                {
                    "message": "expected a size (`128 MiB`, `20 GiB`)",
                    "line": 5, "column": 15, "end_line": 5, "end_column": 18
                }
            ],
            "help": "sizes need a unit: write `128 MiB`"
        },
        {
            "code": "stack::unknown_name",
            "severity": "error",
            "message": "unknown service `api`",
            "file": file,
            "line": 7, "column": 16, "end_line": 7, "end_column": 19,
            "labels": [
                {
                    "message": "no service has this name",
                    "line": 7, "column": 16, "end_line": 7, "end_column": 19
                }
            ],
            "help": "the only service is `web`"
        },
        {
            // `"héllo wörld"` is 13 characters but 15 bytes: `production` starts at
            // character 41 (byte 43).
            "code": "stack::type_mismatch",
            "severity": "error",
            "message": format!("expected {env_expected}, found a word"),
            "file": file,
            "line": 8, "column": 41, "end_line": 8, "end_column": 51,
            "labels": [
                {
                    "message": format!("expected {env_expected}"),
                    "line": 8, "column": 41, "end_line": 8, "end_column": 51
                }
            ],
            "help": "write it in quotes: `MODE = \"production\"`"
        },
        {
            // The primary span is the second definition; the first is a secondary label.
            "code": "stack::duplicate_name",
            "severity": "error",
            "message": "name `web` is defined twice",
            "file": file,
            "line": 10, "column": 9, "end_line": 10, "end_column": 12,
            "labels": [
                {
                    "message": "defined again here",
                    "line": 10, "column": 9, "end_line": 10, "end_column": 12
                },
                {
                    "message": "first defined here",
                    "line": 3, "column": 9, "end_line": 3, "end_column": 12
                }
            ],
            "help": "all blocks share one namespace: rename one of them"
        }
    ])
}

const CLEAN: &str = r#"stack app { }
environment app-env { }
service web {
  image     = "nginx"
  memory    = 128 MiB
  essential = true
}
"#;

/// A store nobody reads: one warning, no error.
const WARNING_ONLY: &str = r#"stack app { }
environment app-env { }
service web {
  image     = "nginx"
  memory    = 128 MiB
  essential = true
}
redis cache { }
"#;

/// A block that is never closed: one syntax error with two labels, the primary one empty (a
/// point after the last token, which follows a non-ASCII character).
const UNCLOSED: &str =
    "stack app { }\nenvironment app-env { }\nservice web {\n  image = \"ngïnx\"\n";

const KEYS: [&str; 10] = [
    "code",
    "severity",
    "message",
    "file",
    "line",
    "column",
    "end_line",
    "end_column",
    "labels",
    "help",
];

fn library_json(src: &str, file: &str) -> Value {
    let (_, diags) = stackc::compile(src);
    let index = stackc::syntax::lines::LineIndex::new(src);
    let objects = diags
        .iter()
        .map(|d| serde_json::to_value(d.to_json(&index, file)).expect("a diagnostic serialises"))
        .collect();
    Value::Array(objects)
}

fn stackc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

fn write(dir: &Path, name: &str, src: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, src).expect("the temporary file is writable");
    path.to_str().expect("a UTF-8 temporary path").to_string()
}

fn stdout_json(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{text}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn library_json_has_the_contract_fields() {
    assert_eq!(
        library_json(SEVERAL, "app.stack"),
        several_expected("app.stack")
    );
}

#[test]
fn json_objects_keep_the_contract_field_order() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "several.stack", SEVERAL);
    let out = stackc(&["check", "--format", "json", &file]);
    let json = stdout_json(&out);
    for object in json.as_array().expect("an array") {
        let keys: Vec<&str> = object
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, KEYS);
        for label in object["labels"].as_array().expect("labels is an array") {
            let keys: Vec<&str> = label
                .as_object()
                .expect("an object")
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                keys,
                ["message", "line", "column", "end_line", "end_column"]
            );
        }
    }
}

#[test]
fn binary_prints_the_same_objects_and_exits_1_on_errors() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "several.stack", SEVERAL);
    let out = stackc(&["check", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    assert_eq!(stdout_json(&out), several_expected(&file));
}

/// The diagnostic of [`UNCLOSED`] for a file called `file`.
fn unclosed_expected(file: &str) -> Value {
    // `"ngïnx"` is 7 characters and 8 bytes: the end of the file is at character 18.
    json!([
        {
            "code": "stack::syntax",
            "severity": "error",
            "message": "`service web { ... }` is not closed",
            "file": file,
            "line": 4, "column": 18, "end_line": 4, "end_column": 18,
            "labels": [
                {
                    "message": "the file ends here",
                    "line": 4, "column": 18, "end_line": 4, "end_column": 18
                },
                {
                    "message": "this `{` is never closed",
                    "line": 3, "column": 13, "end_line": 3, "end_column": 14
                }
            ],
            "help": "add `}` at the end of the block"
        }
    ])
}

#[test]
fn syntax_errors_have_the_same_shape() {
    assert_eq!(
        library_json(UNCLOSED, "f.stack"),
        unclosed_expected("f.stack")
    );
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "unclosed.stack", UNCLOSED);
    let out = stackc(&["check", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout_json(&out), unclosed_expected(&file));
}

#[test]
fn a_clean_file_prints_an_empty_array_and_exits_0() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "clean.stack", CLEAN);
    let out = stackc(&["check", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
    assert_eq!(library_json(CLEAN, "clean.stack"), json!([]));
}

#[test]
fn warnings_exit_0_unless_denied() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "warn.stack", WARNING_ONLY);
    let out = stackc(&["check", "--format", "json", &file]);
    assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
    let json = stdout_json(&out);
    assert_eq!(json.as_array().map(Vec::len), Some(1));
    assert_eq!(json[0]["code"], "stack::unused");
    assert_eq!(json[0]["severity"], "warning");
    assert_eq!(
        (json[0]["line"].as_u64(), json[0]["column"].as_u64()),
        (Some(8), Some(7))
    );

    let denied = stackc(&["check", "--format", "json", "--deny-warnings", &file]);
    assert_eq!(denied.status.code(), Some(1));
    assert_eq!(stdout_json(&denied), json);

    // The human format follows the same rule.
    assert_eq!(stackc(&["check", &file]).status.code(), Some(0));
    assert_eq!(
        stackc(&["check", "--deny-warnings", &file]).status.code(),
        Some(1)
    );
}

/// A file that cannot be read: exit 1, one line on stderr naming it, nothing on stdout.
fn assert_unreadable(path: &str) {
    for format in ["json", "human"] {
        let out = stackc(&["check", "--format", format, path]);
        assert_eq!(out.status.code(), Some(1), "{path} ({format})");
        let err = stderr(&out);
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "one line on stderr: {err:?}"
        );
        assert!(err.contains(path), "the message names the file: {err:?}");
        assert!(
            out.stdout.is_empty(),
            "nothing on stdout: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

#[test]
fn a_missing_file_exits_1_with_one_line_naming_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let missing = dir.path().join("missing.stack");
    assert_unreadable(missing.to_str().expect("a UTF-8 path"));
}

#[test]
fn unreadable_inputs_exit_1_with_one_line_naming_them() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // A directory where a file is expected.
    assert_unreadable(dir.path().to_str().expect("a UTF-8 path"));
    // Bytes that are not UTF-8 text.
    let binary = dir.path().join("binary.stack");
    std::fs::write(&binary, b"stack app { }\n\xff\xfe\n").expect("writable");
    assert_unreadable(binary.to_str().expect("a UTF-8 path"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = write(dir.path(), "clean.stack", CLEAN);
    for args in [
        &["check"][..],
        &["check", "--format", "yaml", &file],
        &["check", "--no-such-flag", &file],
        &["chekc", &file],
        &[],
    ] {
        let out = stackc(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "stackc {args:?}: {}",
            stderr(&out)
        );
        assert!(
            out.stdout.is_empty(),
            "stackc {args:?} prints nothing on stdout"
        );
    }
}
