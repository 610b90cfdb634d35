//! "The core never panics on any input": every example, cut at every character boundary and
//! mutated one byte at a time, goes through `stackc::compile`, the JSON and rendered
//! diagnostics (what `check` prints) and, when a model comes out, `stackc::lower::lower`.
//!
//! Each input runs under `catch_unwind`; a failure reports the example, the edit and the
//! input itself (the shortest one per panic site). The inputs are fixed, so a failure always
//! reproduces. Debug builds are slow, so by default the mutations and the rendering run on a
//! fixed sample (see [`sampled_edits`]); `STACKC_ROBUSTNESS_FULL=1` runs every mutation.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use stackc::diagnostic::render_plain;

mod common;

/// Bytes that each position is replaced with: the language's punctuation, a digit, blanks, a
/// comment start, an escape, and the two bytes of a non-ASCII character (`é`).
const REPLACEMENTS: &[&[u8]] = &[
    b"{",
    b"}",
    b"\"",
    b"=",
    b"[",
    b"]",
    b"0",
    b" ",
    b"\n",
    b"#",
    b":",
    b".",
    b"\\",
    "é".as_bytes(),
];
/// Bytes inserted before each position.
const INSERTIONS: &[&[u8]] = &[b"{", b"\"", b"a", b"9", b",", "→".as_bytes()];
/// Rendering with miette runs on every `RENDER_EVERY`-th input; the JSON of the diagnostics
/// is built for all.
const RENDER_EVERY: usize = 13;

/// The examples by file name (the shared helper, which also refuses an empty set).
fn examples() -> Vec<(String, String)> {
    common::examples()
        .into_iter()
        .map(|(p, src)| {
            let name = p.file_name().expect("a file name").to_string_lossy();
            (name.into_owned(), src)
        })
        .collect()
}

thread_local! {
    /// Where the last panic on this thread happened, recorded by the hook.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook by one that records the panic quietly (thousands of failing inputs
/// would otherwise flood the output); the failures are reported together at the end.
fn quiet_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        panic::set_hook(Box::new(|info| {
            LAST_PANIC.with(|p| *p.borrow_mut() = Some(info.to_string()));
        }));
    });
}

/// Everything a CLI run does with a text, short of IO; asserts the core's contracts.
fn run_one(src: &str, render: bool) {
    let (model, diags) = stackc::compile(src);
    let has_error = diags.iter().any(|d| d.is_error());
    assert_eq!(
        model.is_some(),
        !has_error,
        "a model comes out exactly when there is no error"
    );
    let mut last = 0;
    for d in &diags {
        let span = d.span();
        let (start, end) = (span.start as usize, span.end as usize);
        assert!(
            start <= end && end <= src.len(),
            "span {start}..{end} of `{}` lies outside the text ({} bytes)",
            d.code(),
            src.len()
        );
        assert!(
            src.is_char_boundary(start) && src.is_char_boundary(end),
            "span {start}..{end} of `{}` splits a character",
            d.code()
        );
        assert!(start >= last, "diagnostics are sorted by position");
        last = start;
        assert!(
            d.code().starts_with("stack::"),
            "a diagnostic without a stack:: code: {d:?}"
        );
        let _ = d.to_json(&stackc::syntax::lines::LineIndex::new(src), "fuzz.stack");
    }
    if render {
        let _ = render_plain("fuzz.stack", src, &diags);
    }
    if let Some(model) = model {
        let artifacts = stackc::lower::lower(&model);
        assert!(artifacts.dockerrun.ends_with('\n') && artifacts.plan_json.ends_with('\n'));
    }
}

/// A failing input: which example, which edit, the text and what went wrong.
struct Failure {
    example: String,
    edit: String,
    input: String,
    message: String,
}

/// Runs every input, returning the number run and the failures (the shortest per panic site).
fn run_all(inputs: impl Iterator<Item = (String, String, String)>) -> (usize, Vec<Failure>) {
    quiet_panics();
    let mut by_site: BTreeMap<String, Failure> = BTreeMap::new();
    let mut n = 0;
    for (example, edit, input) in inputs {
        let render = n % RENDER_EVERY == 0;
        n += 1;
        if panic::catch_unwind(AssertUnwindSafe(|| run_one(&input, render))).is_ok() {
            continue;
        }
        let message = LAST_PANIC
            .with(|p| p.borrow_mut().take())
            .unwrap_or_else(|| "a panic".into());
        // The site is the message's first line: "panicked at src/...: the assertion".
        let site = message.lines().next().unwrap_or("").to_string();
        let shorter = by_site
            .get(&site)
            .is_none_or(|f| input.len() < f.input.len());
        if shorter {
            by_site.insert(
                site,
                Failure {
                    example,
                    edit,
                    input,
                    message,
                },
            );
        }
    }
    (n, by_site.into_values().collect())
}

fn report(what: &str, n: usize, failures: &[Failure]) {
    assert!(n > 1000, "{what}: only {n} inputs were run");
    if failures.is_empty() {
        eprintln!("{what}: {n} inputs, no panic");
        return;
    }
    let mut out = format!(
        "{what}: {} distinct panic sites in {n} inputs\n",
        failures.len()
    );
    for f in failures {
        out.push_str(&format!(
            "\n== {} ({}):\n{}\n-- input ({} bytes): {:?}\n",
            f.example,
            f.edit,
            f.message,
            f.input.len(),
            f.input
        ));
    }
    panic!("{out}");
}

#[test]
fn every_prefix_is_handled() {
    let inputs = examples().into_iter().flat_map(|(name, src)| {
        let cuts: Vec<usize> = (0..=src.len())
            .filter(|&i| src.is_char_boundary(i))
            .collect();
        cuts.into_iter().map(move |i| {
            (
                name.clone(),
                format!("prefix of {i} bytes"),
                src[..i].to_string(),
            )
        })
    });
    let (n, failures) = run_all(inputs);
    report("prefixes", n, &failures);
}

/// Every single-byte edit of position `i` of `bytes`: delete, replace, insert.
fn edits_at(bytes: &[u8], i: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let splice = |with: &[u8], skip: usize| [&bytes[..i], with, &bytes[i + skip..]].concat();
    out.push((format!("byte {i} deleted"), splice(b"", 1)));
    for r in REPLACEMENTS {
        out.push((
            format!("byte {i} replaced by {:?}", String::from_utf8_lossy(r)),
            splice(r, 1),
        ));
    }
    for ins in INSERTIONS {
        out.push((
            format!("{:?} inserted at {i}", String::from_utf8_lossy(ins)),
            splice(ins, 0),
        ));
    }
    out
}

/// Which positions of a source are code: not in a comment, and not a blank that follows
/// another blank (edits there behave like edits of the first blank of the run).
fn code_positions(bytes: &[u8]) -> Vec<bool> {
    let mut out = Vec::with_capacity(bytes.len());
    let (mut in_string, mut in_comment, mut escaped) = (false, false, false);
    for (i, &b) in bytes.iter().enumerate() {
        let blank_run = i > 0 && b.is_ascii_whitespace() && bytes[i - 1].is_ascii_whitespace();
        out.push(!in_comment && !blank_run);
        if in_comment {
            in_comment = b != b'\n';
        } else if in_string {
            in_string = escaped || !(b == b'"' || b == b'\n');
            escaped = !escaped && b == b'\\';
        } else if b == b'#' {
            in_comment = true;
        } else if b == b'"' {
            in_string = true;
        }
    }
    out
}

/// A fixed pseudo-random number per (example, position): SplitMix64.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// `STACKC_ROBUSTNESS_FULL=1` runs every edit at every position (about 160,000 inputs, some 20 s with
/// `cargo test --release --test robustness`). By default a fixed sample keeps the debug run
/// well under 30 s: at each code position the deletion and two other edits, and one edit at
/// every eighth position of comments and blank runs.
fn sampled_edits(example: usize, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let full = std::env::var_os("STACKC_ROBUSTNESS_FULL").is_some_and(|v| v == "1");
    let code = code_positions(bytes);
    let mut out = Vec::new();
    for (i, &is_code) in code.iter().enumerate() {
        let mut all = edits_at(bytes, i);
        // A replacement by the byte that is already there is no edit.
        all.retain(|(_, b)| b != bytes);
        if full {
            out.extend(all);
            continue;
        }
        let r = mix(((example as u64) << 32) | i as u64);
        if is_code {
            let first = 1 + (r % (all.len() as u64 - 1)) as usize;
            let second = 1 + ((r >> 20) % (all.len() as u64 - 1)) as usize;
            let mut picks = vec![0, first, second];
            picks.dedup();
            for p in picks {
                out.push(all[p].clone());
            }
        } else if r % 8 == 0 {
            out.push(all[((r >> 8) % all.len() as u64) as usize].clone());
        }
    }
    out
}

#[test]
fn single_byte_mutations_are_handled() {
    let inputs = examples()
        .into_iter()
        .enumerate()
        .flat_map(|(k, (name, src))| {
            // A replaced byte may split a multi-byte character: lossy decoding turns the pieces
            // into U+FFFD, which is one more unusual input.
            sampled_edits(k, src.as_bytes())
                .into_iter()
                .map(move |(edit, b)| {
                    (name.clone(), edit, String::from_utf8_lossy(&b).into_owned())
                })
        });
    let (n, failures) = run_all(inputs);
    report("single-byte mutations", n, &failures);
}

/// The harness itself reports a panic with its input (so that its silence means something).
#[test]
fn the_harness_catches_panics() {
    quiet_panics();
    let inputs = vec![("x".to_string(), "test".to_string(), "boom".to_string())].into_iter();
    let mut n = 0;
    let mut failures = Vec::new();
    for (example, edit, input) in inputs {
        n += 1;
        let r = panic::catch_unwind(AssertUnwindSafe(|| {
            if input == "boom" {
                panic!("planted");
            }
        }));
        if r.is_err() {
            let message = LAST_PANIC
                .with(|p| p.borrow_mut().take())
                .unwrap_or_default();
            failures.push(Failure {
                example,
                edit,
                input,
                message,
            });
        }
    }
    assert_eq!(n, 1);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].message.contains("planted"),
        "{}",
        failures[0].message
    );
}
