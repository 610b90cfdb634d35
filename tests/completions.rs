//! Tests of `stackc completions SHELL` and `stackc man`: both are generated from the clap
//! definition, so each must mention every subcommand; bash's script must parse (`bash -n`),
//! and the man page must render with `man -l` where man-db is installed.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Every subcommand of this build.
fn subcommands() -> Vec<&'static str> {
    let mut all = vec!["check", "build", "graph", "import"];
    if cfg!(feature = "aws") {
        all.extend(["plan", "apply", "destroy"]);
    }
    all.extend(["completions", "man"]);
    all
}

fn stackc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the stackc binary runs")
}

fn stdout_of(args: &[&str]) -> String {
    let o = stackc(args);
    assert!(
        o.status.success(),
        "stackc {args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8 output")
}

#[test]
fn every_shell_completes_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in subcommands() {
            assert!(
                script.contains(sub),
                "{shell}: the script does not mention `{sub}`"
            );
        }
        // Flags of the new commands are completed too.
        for flag in ["--format", "--plan"] {
            assert!(
                script.contains(flag.trim_start_matches('-')),
                "{shell}: no `{flag}`"
            );
        }
    }
}

#[test]
fn bash_script_parses() {
    let script = stdout_of(&["completions", "bash"]);
    let mut child = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bash runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    let o = child.wait_with_output().expect("bash -n");
    assert!(
        o.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&o.stderr)
    );

    // Loaded into a shell, it registers a completion for `stackc`.
    let o = Command::new("bash")
        .args(["-c", "source /dev/stdin && complete -p stackc"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin
                .take()
                .expect("stdin")
                .write_all(script.as_bytes())?;
            c.wait_with_output()
        })
        .expect("bash runs");
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("stackc"),
        "complete -p stackc: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn unknown_shell_is_a_usage_error() {
    let o = stackc(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn man_page_names_every_subcommand_and_renders() {
    let page = stdout_of(&["man"]);
    assert!(page.contains(".TH stackc 1"), "no .TH header:\n{page}");
    for sub in subcommands() {
        assert!(page.contains(sub), "the man page does not mention `{sub}`");
    }
    // Render it where man-db is installed (Debian: `man-db`); the roff must not be refused.
    let has_man = Command::new("man")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if has_man {
        let tmp = tempfile::tempdir().expect("a temp dir");
        let file = tmp.path().join("stackc.1");
        std::fs::write(&file, &page).expect("write the page");
        let o = Command::new("man")
            .arg("-l")
            .arg(&file)
            .env("MANPAGER", "cat")
            .env("PAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man runs");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success(),
            "man -l failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            text.contains("SYNOPSIS") || text.contains("S\u{8}SY"),
            "rendered page:\n{text}"
        );
        assert!(text.contains("import"), "rendered page:\n{text}");
    }
}
