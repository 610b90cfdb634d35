//! Arbitrary text through `stackc fmt`: whatever it formats, formatting again changes
//! nothing, and the formatted text means the same (same diagnostics, same build outputs).

#![no_main]

use libfuzzer_sys::fuzz_target;

/// Diagnostics by code and message (positions move), and the build outputs.
fn meaning(src: &str) -> (Vec<(String, String)>, Option<(String, String)>) {
    let (model, diags) = stackc::compile(src);
    let diags = diags.iter().map(|d| (d.code(), d.to_string())).collect();
    let built = model.map(|m| {
        let a = stackc::lower::lower(&m);
        (a.dockerrun, a.plan_json)
    });
    (diags, built)
}

fuzz_target!(|data: &[u8]| {
    let src = match std::str::from_utf8(data) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).expect("the valid prefix is UTF-8"),
    };
    let Ok(once) = stackc::fmt::format(src) else {
        return;
    };
    match stackc::fmt::format(&once) {
        Ok(twice) => assert_eq!(twice, once, "formatting twice changes the text"),
        Err(e) => panic!("the formatted text does not parse: {e:?}\n{once}"),
    }
    assert_eq!(meaning(&once), meaning(src), "formatting changed the meaning:\n{once}");
});
