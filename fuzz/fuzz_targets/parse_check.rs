//! Arbitrary text through everything `stackc check` and `stackc build` do short of IO:
//! parse and check, the JSON and the rendered diagnostics, and lowering when a model comes
//! out. Any panic is a bug ("the core never panics on any input"); so is a broken contract
//! asserted below.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The CLI refuses non-UTF-8 files; use the valid prefix so no input is wasted.
    let src = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).expect("the valid prefix is UTF-8"),
    };
    let (model, diags) = stackc::compile(src);
    let has_error = diags.iter().any(|d| d.is_error());
    assert_eq!(
        model.is_some(),
        !has_error,
        "a model comes out exactly when there is no error"
    );
    for d in &diags {
        let span = d.span();
        let (start, end) = (span.start as usize, span.end as usize);
        assert!(
            start <= end && end <= src.len(),
            "span {start}..{end} outside the text"
        );
        assert!(
            src.is_char_boundary(start) && src.is_char_boundary(end),
            "span {start}..{end} splits a character"
        );
        let _ = d.to_json(&stackc::syntax::lines::LineIndex::new(src), "fuzz.stack");
    }
    let _ = stackc::diagnostic::render_plain("fuzz.stack", src, &diags);
    if let Some(model) = model {
        let a = stackc::lower::lower(&model);
        // Deterministic: lowering the same model again gives the same bytes.
        assert_eq!(a, stackc::lower::lower(&model));
    }
});
