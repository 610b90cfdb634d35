//! The hostile corpus: every case under `tests/hostile/` is run through the real binary, and
//! must end as its header says — and, whatever it says, without a panic, a backtrace, a
//! hang, or a control character from the input on stderr. The format is described in
//! `tests/hostile/README.md`; time and memory bounds are `bench/hostile.py`'s, not this
//! test's.
#![allow(clippy::unwrap_used)] // helpers of a test crate: a panic is the failure report

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::unescape_bytes;

/// A case that takes longer than this has hung.
const HANG: Duration = Duration::from_secs(120);

#[derive(Default, Debug)]
struct Case {
    run: Vec<String>,
    exit: Option<i32>,
    checks: Vec<(Stream, bool, String)>,
    lines: Option<usize>,
    escaped: bool,
    repeats: Vec<(String, usize, String)>,
    setup: Vec<Vec<String>>,
    after: Vec<Vec<String>>,
    stdin: Option<String>,
    stdout_to: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stream {
    Stdout,
    Stderr,
    /// stdout without its comments (a `.stack` program, read by the one lexer).
    Code,
}

fn unescape(s: &str) -> String {
    String::from_utf8_lossy(&unescape_bytes(s)).into_owned()
}

/// The header (`#! ` lines at the top) and the body after it.
fn read_case(text: &[u8]) -> (Case, Vec<u8>) {
    let mut case = Case::default();
    let mut rest = text;
    while let Some(line_end) = rest
        .strip_prefix(b"#! ")
        .and_then(|_| rest.iter().position(|&c| c == b'\n'))
    {
        let line = std::str::from_utf8(&rest[3..line_end]).unwrap().trim_end();
        rest = &rest[line_end + 1..];
        let (key, value) = line.split_once(':').expect("`#! key: value`");
        let value = value.trim();
        let words = || {
            value
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        };
        match key {
            "run" => case.run = words(),
            "exit" => case.exit = Some(value.parse().unwrap()),
            "stdout" | "stderr" | "code" => {
                let stream = match key {
                    "stdout" => Stream::Stdout,
                    "stderr" => Stream::Stderr,
                    _ => Stream::Code,
                };
                let (verb, text) = value.split_once(' ').unwrap_or((value, ""));
                match verb {
                    "has" => case.checks.push((stream, true, unescape(text))),
                    "lacks" => case.checks.push((stream, false, unescape(text))),
                    "lines" if stream == Stream::Stdout => case.lines = Some(text.parse().unwrap()),
                    other => panic!("unknown check `{other}`"),
                }
            }
            "body" => {
                assert_eq!(value, "escaped", "`#! body: escaped`");
                case.escaped = true;
            }
            "repeat" => {
                let mut it = value.splitn(3, ' ');
                let name = it.next().unwrap().to_string();
                let count = it.next().unwrap().parse().unwrap();
                case.repeats
                    .push((name, count, unescape(it.next().unwrap_or(""))));
            }
            "setup" => case.setup.push(words()),
            "after" => case.after.push(words()),
            "stdin" => case.stdin = Some(value.to_string()),
            "stdout-to" => case.stdout_to = Some(value.to_string()),
            other => panic!("unknown directive `{other}`"),
        }
    }
    (case, rest.to_vec())
}

/// Every case file below `dir`, in name order.
fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            cases(&path, out);
        } else if path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let (case, body) = read_case(&std::fs::read(path).unwrap());
    if case.run.is_empty() {
        return Err("no `#! run:` line".into());
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(path.file_name().unwrap());
    let out_dir = dir.path().join("out");
    let subst = |s: &str| {
        s.replace("{file}", file.to_str().unwrap())
            .replace("{out}", out_dir.to_str().unwrap())
            .replace("{dir}", dir.path().to_str().unwrap())
    };
    let mut body = body;
    if case.escaped {
        body = unescape_bytes(std::str::from_utf8(&body).unwrap());
    }
    for (name, count, _) in &case.repeats {
        let text = String::from_utf8_lossy(&body).into_owned();
        let marker = format!("{{{{{name}}}}}");
        assert!(text.contains(&marker), "no {marker} in the body");
        body = text
            .replace(&marker, &text_repeat(&case, name, *count))
            .into_bytes();
    }
    std::fs::write(&file, &body).unwrap();
    for step in &case.setup {
        let args: Vec<String> = step.iter().map(|a| subst(a)).collect();
        match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            ["mkdir", p] => std::fs::create_dir_all(p).unwrap(),
            ["symlink", target, link] => std::os::unix::fs::symlink(target, link).unwrap(),
            ["link", from, to] => std::fs::hard_link(from, to).unwrap(),
            ["chmod", mode, p] => {
                use std::os::unix::fs::PermissionsExt;
                let mode = u32::from_str_radix(mode, 8).unwrap();
                std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
            }
            ref other => return Err(format!("unknown setup {other:?}")),
        }
    }
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stackc"));
    cmd.args(case.run.iter().map(|a| subst(a)))
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .stderr(Stdio::piped());
    let body_on_stdin = !case.run.iter().any(|a| a.contains("{file}")) && case.stdin.is_none();
    match &case.stdin {
        Some(p) => cmd.stdin(std::fs::File::open(subst(p)).unwrap()),
        None if body_on_stdin => cmd.stdin(Stdio::piped()),
        None => cmd.stdin(Stdio::null()),
    };
    let closed = case.stdout_to.as_deref() == Some("closed");
    match case.stdout_to.as_deref() {
        None | Some("closed") => cmd.stdout(Stdio::piped()),
        Some(p) => cmd.stdout(std::fs::OpenOptions::new().write(true).open(p).unwrap()),
    };
    let mut child = cmd.spawn().unwrap();
    let mut stdout_pipe = child.stdout.take();
    if closed {
        // The reader goes away before stackc writes (`| head -0`).
        drop(stdout_pipe.take());
    }
    let stdout_reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut p) = stdout_pipe {
            let _ = p.read_to_end(&mut out);
        }
        out
    });
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr_reader = std::thread::spawn(move || {
        let mut err = Vec::new();
        let _ = stderr_pipe.read_to_end(&mut err);
        err
    });
    if body_on_stdin {
        let mut stdin = child.stdin.take().unwrap();
        let body = body.clone();
        // A writer of its own: the server may answer while it reads.
        std::thread::spawn(move || {
            let _ = stdin.write_all(&body);
        });
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > HANG {
            let _ = child.kill();
            return Err(format!("still running after {HANG:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stdout = String::from_utf8_lossy(&stdout_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&stderr_reader.join().unwrap()).into_owned();
    let shown = || format!("--- stdout\n{}\n--- stderr\n{stderr}", clip(&stdout));
    let code = status
        .code()
        .ok_or_else(|| format!("killed by a signal\n{}", shown()))?;
    if stderr.contains("panicked") || stderr.contains("internal error") || code == 101 {
        return Err(format!("panicked (exit {code})\n{}", shown()));
    }
    if let Some(c) = stderr
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(format!("a raw {c:?} on stderr\n{}", shown()));
    }
    if let Some(want) = case.exit {
        if code != want {
            return Err(format!("exit {code}, expected {want}\n{}", shown()));
        }
    }
    let code_text: String = stackc::syntax::lex::lexemes(&stdout, 0)
        .filter(|l| l.0 != stackc::syntax::lex::Lexeme::Comment)
        .map(|(_, s, e)| &stdout[s..e])
        .collect();
    for (stream, has, text) in &case.checks {
        let got = match stream {
            Stream::Stdout => &stdout,
            Stream::Stderr => &stderr,
            Stream::Code => &code_text,
        };
        if got.contains(subst(text).as_str()) != *has {
            let verb = if *has { "has no" } else { "has" };
            return Err(format!("{stream:?} {verb} {text:?}\n{}", shown()));
        }
    }
    if let Some(n) = case.lines {
        if stdout.lines().count() != n {
            return Err(format!("stdout has not {n} lines\n{}", shown()));
        }
    }
    for step in &case.after {
        let args: Vec<String> = step.iter().map(|a| subst(a)).collect();
        let ok = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
            [p, "absent"] => !Path::new(p).exists(),
            [p, "exists"] => Path::new(p).exists(),
            [p, "unchanged"] => std::fs::read(p).unwrap() == body,
            [p, "changed"] => std::fs::read(p).unwrap() != body,
            [a, "same-as", b] => std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            ref other => return Err(format!("unknown after {other:?}")),
        };
        if !ok {
            return Err(format!(
                "after: {} does not hold\n{}",
                step.join(" "),
                shown()
            ));
        }
    }
    Ok(())
}

/// The text of a `#! repeat:` placeholder: its text `count` times; `{i}` in it is the number
/// of the repetition.
fn text_repeat(case: &Case, name: &str, count: usize) -> String {
    let (_, _, text) = case.repeats.iter().find(|r| r.0 == name).unwrap();
    if text.contains("{i}") {
        (0..count)
            .map(|i| text.replace("{i}", &i.to_string()))
            .collect()
    } else {
        text.repeat(count)
    }
}

fn clip(s: &str) -> String {
    match s.char_indices().nth(3000) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

#[test]
fn every_hostile_case_ends_as_its_header_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut paths = Vec::new();
    cases(&root, &mut paths);
    assert!(paths.len() >= 30, "{} cases", paths.len());
    let failures: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            run_case(p)
                .err()
                .map(|e| format!("{}: {e}", p.strip_prefix(&root).unwrap().display()))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        paths.len(),
        failures.join("\n\n")
    );
}

#[test]
fn the_header_format() {
    let (case, body) = read_case(
        b"#! run: check {file}\n#! exit: 1\n#! stdout: has a\\eb\n#! body: escaped\nx\\ry",
    );
    assert_eq!(case.run, ["check", "{file}"]);
    assert_eq!(case.exit, Some(1));
    assert_eq!(
        case.checks,
        [(Stream::Stdout, true, "a\u{1b}b".to_string())]
    );
    assert!(case.escaped);
    assert_eq!(body, b"x\\ry");
    assert_eq!(unescape(r"\u{a0}\x41\0"), "\u{a0}A\0");
}
