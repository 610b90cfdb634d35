//! Arbitrary text through the human report: whatever the text, where its diagnostics fall
//! (also past column 65,536: the input is tried behind a long first line) and whatever
//! characters it holds, rendering ends without a panic, shows no raw control character (but
//! tab) from the input, and clips what it shows.

#![no_main]

use libfuzzer_sys::fuzz_target;

fn check(src: &str) {
    let (_, diags) = stackc::compile(src);
    let out = stackc::diagnostic::render_plain("fuzz\u{1b}.stack", src, &diags);
    if let Some(c) = out.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        panic!("a raw {c:?} in the report:\n{out}");
    }
    for line in out.lines() {
        // An excerpt line is at most 120 characters of text, escapes and the gutter; a
        // message, label or help line is cut at 1,000 characters once escaped.
        assert!(line.chars().count() <= 3500, "a line of {} characters", line.chars().count());
    }
    let index = stackc::syntax::lines::LineIndex::new(src);
    for d in &diags {
        let j = d.to_json(&index, "fuzz.stack");
        assert!(j.line >= 1 && j.column >= 1 && (j.end_line, j.end_column) >= (j.line, j.column));
    }
}

fuzz_target!(|data: &[u8]| {
    let src = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).expect("the valid prefix is UTF-8"),
    };
    check(src);
    // The same text far to the right, behind a long comment on its first line.
    check(&format!("#{}{src}", "x".repeat(70_000)));
});
