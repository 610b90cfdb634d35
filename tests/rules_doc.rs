//! `docs/rules.md` is generated from the pages of `stackc explain` (`docs/rules/*.md`), and
//! every code a diagnostic can carry has a page.
//!
//! Regenerate with `UPDATE_RULES_DOC=1 cargo test --no-default-features --test rules_doc`.

use std::collections::BTreeSet;
use std::path::Path;

use stackc::check::explain::{PAGES, page, rules_doc};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/rules.md");

#[test]
fn rules_doc_is_up_to_date() {
    let want = rules_doc();
    if std::env::var_os("UPDATE_RULES_DOC").is_some() {
        std::fs::write(DOC, &want).expect("docs/rules.md is writable");
    }
    let have = std::fs::read_to_string(DOC).unwrap_or_default();
    assert!(
        have == want,
        "docs/rules.md is out of date with docs/rules/*.md: regenerate it with\n  \
         UPDATE_RULES_DOC=1 cargo test --no-default-features --test rules_doc"
    );
}

/// Every `code(stack::NAME` written in the sources under `src/`.
fn codes_in_source() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("a readable source");
                for (i, _) in text.match_indices("code(stack::") {
                    let rest = &text[i + "code(".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
                        .unwrap_or(rest.len());
                    codes.insert(rest[..end].to_string());
                }
            }
        }
    }
    codes
}

#[test]
fn every_code_has_a_page_and_every_page_a_code() {
    let source = codes_in_source();
    assert!(
        source.len() >= 30,
        "the scan found too few codes: {source:?}"
    );
    for code in &source {
        assert!(
            page(code).is_some(),
            "`{code}` has no page: add docs/rules/{}.md and list it in src/check/explain.rs",
            code.trim_start_matches("stack::")
        );
    }
    for p in PAGES {
        assert!(
            source.contains(p.code),
            "the page of `{}` documents a code that no diagnostic has",
            p.code
        );
    }
}

#[test]
fn explain_prints_every_page_and_refuses_unknown_codes() {
    let bin = env!("CARGO_BIN_EXE_stackc");
    for p in PAGES {
        let out = std::process::Command::new(bin)
            .args(["explain", p.code])
            .output()
            .expect("stackc runs");
        assert!(out.status.success(), "{}", p.code);
        assert_eq!(String::from_utf8_lossy(&out.stdout), p.text);
    }
    let list = std::process::Command::new(bin)
        .args(["explain", "--list"])
        .output()
        .expect("stackc runs");
    assert!(list.status.success());
    assert_eq!(
        String::from_utf8_lossy(&list.stdout).lines().count(),
        PAGES.len()
    );
    let bad = std::process::Command::new(bin)
        .args(["explain", "stack::public_databse"])
        .output()
        .expect("stackc runs");
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("did you mean `stack::public_database`?"),
        "{err}"
    );
}
