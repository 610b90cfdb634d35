//! Arbitrary compose files and Dockerrun.aws.json files through `stackc import`: the first
//! byte chooses the kind, the rest is the text. No input may panic; whatever imports must be
//! in `stackc fmt`'s layout, hold no control character but newlines, and compile without an
//! error that no warning of the import announced (by its code).

#![no_main]

use libfuzzer_sys::fuzz_target;
use stackc::import::{self, Isolated, SourceKind};

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let src = match std::str::from_utf8(rest) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).expect("the valid prefix is UTF-8"),
    };
    let (kind, name) = if first % 2 == 0 {
        (SourceKind::Compose, "docker-compose.yml")
    } else {
        (SourceKind::Dockerrun, "Dockerrun.aws.json")
    };
    let Ok(out) = import::import(src, kind, name, "fuzz", &Isolated) else {
        return;
    };
    let text = &out.stack;
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "a control character in the output:\n{text}"
    );
    assert_eq!(
        stackc::fmt::format(text).as_deref(),
        Ok(text.as_str()),
        "the output is not in fmt's layout:\n{text}"
    );
    let (_, diags) = stackc::compile(text);
    let errors: Vec<_> = diags.iter().filter(|d| d.is_error()).collect();
    assert_eq!(errors.len(), out.errors);
    for e in errors {
        let code = format!("`{}`", e.code());
        assert!(
            out.warnings.iter().any(|w| w.message.contains(&code)),
            "an error no warning announced: {e} [{code}]\n{text}"
        );
    }
});
