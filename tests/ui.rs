//! UI tests as data: every `tests/ui/*.stack` file is checked, and
//!
//! - the codes it produces must equal its header line `# expect: CODE[, CODE...]` (in source
//!   order, repeated codes repeated; `# expect: ok` for a clean file);
//! - the rendered report (no colour, 100 columns) must match its snapshot in
//!   `tests/ui/snapshots/`, which also holds the source, so a reviewer sees both.
//!
//! A line `# options: strict` checks as `stackc check --strict` does; a line
//! `# suppressed: CODE[, CODE...]` names the diagnostics that `# allow(...)` comments silence
//! (none when absent), which the snapshot lists after the report.
//!
//! Add a case by adding a file; `cargo insta review` (or `INSTA_UPDATE=always`) records it.

use stackc::diagnostic::render_plain;

fn expected_codes(src: &str) -> Vec<String> {
    let header = src
        .lines()
        .find_map(|l| l.strip_prefix("# expect:"))
        .expect("every UI test starts with a `# expect:` line");
    codes_of(header)
}

fn codes_of(header: &str) -> Vec<String> {
    header
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| c != "ok" && !c.is_empty())
        .collect()
}

#[test]
fn ui() {
    insta::glob!("ui/*.stack", |path| {
        let src = std::fs::read_to_string(path).expect("readable test file");
        let strict = src.lines().any(|l| l.trim() == "# options: strict");
        let compiled = stackc::compile_with(&src, &stackc::check::lints::Options { strict });
        let (models, diags) = (compiled.models, compiled.diagnostics);
        let codes: Vec<String> = diags.iter().map(|d| d.code()).collect();
        assert_eq!(codes, expected_codes(&src), "codes of {}", path.display());
        let suppressed: Vec<String> = compiled.suppressed.iter().map(|d| d.code()).collect();
        let want = src
            .lines()
            .find_map(|l| l.strip_prefix("# suppressed:"))
            .map(codes_of)
            .unwrap_or_default();
        assert_eq!(suppressed, want, "suppressed codes of {}", path.display());
        assert_eq!(
            !models.is_empty(),
            diags.iter().all(|d| !d.is_error()),
            "models are produced exactly when there is no error ({})",
            path.display()
        );
        let name = format!(
            "ui/{}",
            path.file_name().expect("a file name").to_string_lossy()
        );
        let rendered = render_plain(&name, &src, &diags);
        let mut snapshot = format!("{src}\n----- stackc check -----\n{rendered}");
        if !compiled.suppressed.is_empty() {
            let shown = render_plain(&name, &src, &compiled.suppressed);
            snapshot.push_str(&format!("----- suppressed -----\n{shown}"));
        }
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "ui/snapshots",
        }, {
            insta::assert_snapshot!(snapshot);
        });
    });
}
