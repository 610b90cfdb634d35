//! `stackc fmt`:
//!
//! - golden tests: every messy input in `tests/fmt/*.stack` must format to its snapshot in
//!   `tests/fmt/snapshots/` (which shows input and output together);
//! - over every example, UI test input and fmt input: formatting is idempotent, keeps every
//!   comment in order, and never changes meaning (the same tree but for positions, the same
//!   diagnostics, byte-identical build outputs);
//! - the examples are formatted;
//! - the CLI: in place, `--check`, standard input, and a file with syntax errors left untouched.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn format(src: &str) -> String {
    stackc::fmt::format(src).unwrap_or_else(|e| panic!("not formatted: {e:?}"))
}

#[test]
fn snapshots() {
    insta::glob!("fmt/*.stack", |path| {
        let src = std::fs::read_to_string(path).expect("readable test file");
        let out = format(&src);
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "fmt/snapshots",
        }, {
            insta::assert_snapshot!(format!("{src}\n----- stackc fmt -----\n{out}"));
        });
    });
}

/// Every source we have: examples, UI tests, fmt inputs.
fn corpus() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["examples", "tests/ui", "tests/fmt"] {
        for entry in std::fs::read_dir(root.join(dir)).expect("a test directory") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "stack") {
                let src = std::fs::read_to_string(&path).expect("readable");
                files.push((path, src));
            }
        }
    }
    files.sort();
    assert!(files.len() > 150, "the corpus is all there");
    files
}

/// The tree's debug text with every position removed: equal for two layouts of one program.
fn shape(src: &str) -> String {
    let parsed = stackc::syntax::parse(src);
    let text = format!("{:?}", parsed.file.expect("parses"));
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(i) = rest.find("Span { start: ") {
        out.push_str(&rest[..i]);
        let close = rest[i..].find('}').expect("a span closes");
        rest = &rest[i + close + 1..];
    }
    out.push_str(rest);
    out
}

/// The comments of a source, in order, without trailing space.
fn comments(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.lines() {
        // Good enough for the corpus: no `#` inside its strings but the fmt cases, which
        // are checked by the unit tests of the scanner.
        if let Some(i) = line.find('#')
            && line[..i].matches('"').count() % 2 == 0
        {
            out.push(line[i..].trim_end().to_string());
        }
    }
    out
}

/// What a program means: its diagnostics (code and message) and its build outputs
/// (Dockerrun.aws.json and plan.json).
#[derive(Debug, PartialEq)]
struct Meaning {
    diagnostics: Vec<(String, String)>,
    built: Vec<(String, String)>,
}

fn meaning(src: &str) -> Meaning {
    let compiled = stackc::compile_with(src, &stackc::check::lints::Options { strict: true });
    let diagnostics = compiled
        .diagnostics
        .iter()
        .chain(&compiled.suppressed)
        .map(|d| (d.code(), d.to_string()))
        .collect();
    let built = compiled
        .models
        .iter()
        .map(|m| {
            let a = stackc::lower::lower(m);
            (a.dockerrun, a.plan_json)
        })
        .collect();
    Meaning { diagnostics, built }
}

#[test]
fn idempotent_and_meaning_preserving() {
    let mut formatted = 0;
    for (path, src) in corpus() {
        let Ok(once) = stackc::fmt::format(&src) else {
            // Files with syntax errors are refused; the UI tests have many.
            continue;
        };
        let name = path.display();
        assert_eq!(format(&once), once, "formatting {name} twice changes it");
        assert_eq!(shape(&once), shape(&src), "the tree of {name} changed");
        assert_eq!(
            comments(&once),
            comments(&src),
            "the comments of {name} changed"
        );
        let (before, after) = (meaning(&src), meaning(&once));
        assert_eq!(after, before, "the meaning of {name} changed");
        formatted += 1;
    }
    assert!(formatted > 100, "most of the corpus formats: {formatted}");
}

#[test]
fn examples_are_formatted() {
    for (path, src) in common::examples() {
        assert_eq!(
            format(&src),
            src,
            "{} is not formatted: run `stackc fmt` on it",
            path.display()
        );
    }
}

fn stackc(args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stackc runs");
    if let Some(text) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("stdin written");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("stackc exits")
}

const MESSY: &str = "service web {\nimage=\"nginx\" # the image\n memory = 128MiB }\n";
const TIDY: &str = "service web {\n  image  = \"nginx\" # the image\n  memory = 128 MiB\n}\n";

#[test]
fn cli_formats_in_place_and_checks() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let messy = dir.path().join("messy.stack");
    let tidy = dir.path().join("tidy.stack");
    std::fs::write(&messy, MESSY).expect("written");
    std::fs::write(&tidy, TIDY).expect("written");
    let (m, t) = (
        messy.to_str().expect("utf-8"),
        tidy.to_str().expect("utf-8"),
    );

    // --check lists the file that would change, writes nothing, exits 1.
    let out = stackc(&["fmt", "--check", m, t], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{m}\n"));
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), MESSY);

    let out = stackc(&["fmt", m, t], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(std::fs::read_to_string(&messy).expect("read"), TIDY);
    assert_eq!(std::fs::read_to_string(&tidy).expect("read"), TIDY);
    let out = stackc(&["fmt", "--check", m, t], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(out.stdout.is_empty());
}

#[cfg(unix)]
#[test]
fn cli_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("app.stack");
    std::fs::write(&path, MESSY).expect("written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let out = stackc(&["fmt", path.to_str().expect("utf-8")], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
}

#[test]
fn cli_refuses_syntax_errors_and_leaves_the_file() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let bad = dir.path().join("bad.stack");
    let good = dir.path().join("good.stack");
    let broken = "service web {\n  image \"nginx\"\n";
    std::fs::write(&bad, broken).expect("written");
    std::fs::write(&good, MESSY).expect("written");
    let out = stackc(
        &[
            "fmt",
            bad.to_str().expect("utf-8"),
            good.to_str().expect("utf-8"),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stack::syntax"), "{stderr}");
    assert!(stderr.contains("the file is unchanged"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&bad).expect("read"), broken);
    // The other file is still formatted.
    assert_eq!(std::fs::read_to_string(&good).expect("read"), TIDY);
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2);
}

#[test]
fn cli_stdin_to_stdout() {
    let out = stackc(&["fmt"], Some(MESSY));
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), TIDY);
    let out = stackc(&["fmt", "--check", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(1));
    let out = stackc(&["fmt", "-"], Some("service {"));
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing printed for a broken input");
}

#[test]
fn cli_unreadable_file_is_one_line() {
    let out = stackc(&["fmt", "/nonexistent/app.stack"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: /nonexistent/app.stack: no such file\n"
    );
}

#[test]
fn cli_formats_the_stack_files_below_a_directory() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let nested = dir.path().join("apps/shop");
    let hidden = dir.path().join(".git");
    std::fs::create_dir_all(&nested).expect("mkdir");
    std::fs::create_dir_all(&hidden).expect("mkdir");
    let (a, b) = (dir.path().join("a.stack"), nested.join("b.stack"));
    let (other, skipped) = (nested.join("notes.txt"), hidden.join("c.stack"));
    for f in [&a, &b, &other, &skipped] {
        std::fs::write(f, MESSY).expect("written");
    }
    let root = dir.path().to_str().expect("utf-8");
    let out = stackc(&["fmt", "--check", root], None);
    assert_eq!(out.status.code(), Some(1));
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        listed.lines().collect::<Vec<_>>(),
        vec![a.to_str().unwrap(), b.to_str().unwrap()]
    );
    let out = stackc(&["fmt", root], None);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    for (f, want) in [(&a, TIDY), (&b, TIDY), (&other, MESSY), (&skipped, MESSY)] {
        assert_eq!(
            std::fs::read_to_string(f).expect("read"),
            want,
            "{}",
            f.display()
        );
    }
}
