//! `stackc`: a compiler for `.stack` files, which describe a multi-container web application
//! on AWS Elastic Beanstalk. See ARCHITECTURE.md for the phases and their invariants.
//!
//! The core — [`syntax`], [`check`], [`lower`], [`import`] from compose files and [`ci`]'s
//! pipelines — is pure: text in, values out, no IO. Only the CLI reads and writes files, only
//! `deploy` (feature `aws`) talks to AWS, and [`images`] reads build contexts and runs the
//! container CLI.

// pest's derive without `std` (see Cargo.toml) names `alloc`.
extern crate alloc;

pub mod check;
pub mod ci;
pub mod deploy;
pub mod diagnostic;
pub mod fmt;
pub mod images;
pub mod import;
pub mod lower;
pub mod naming;
pub mod syntax;

pub use diagnostic::Diagnostic;

/// Parses, checks and lints a program with the default lint options: the model when it has
/// no errors, and every diagnostic that counts, in source order (suppressed ones are dropped).
pub fn compile(src: &str) -> (Option<check::Model>, Vec<Diagnostic>) {
    let c = compile_with(src, &check::lints::Options::default());
    (c.model, c.diagnostics)
}

/// The outcome of [`compile_with`].
#[derive(Debug)]
pub struct Compiled {
    /// The model, when no diagnostic that counts is an error.
    pub model: Option<check::Model>,
    /// Every diagnostic that counts, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics silenced by an `# allow(stack::CODE)` comment, in source order.
    pub suppressed: Vec<Diagnostic>,
    /// The syntax tree, when the text parsed.
    pub file: Option<syntax::ast::File>,
}

/// Parses, checks and — when the program type-checks — lints it.
pub fn compile_with(src: &str, options: &check::lints::Options) -> Compiled {
    let parsed = syntax::parse(src);
    let mut diags: Vec<Diagnostic> = parsed.errors.into_iter().map(Diagnostic::from).collect();
    let mut model = None;
    let mut suppressed = Vec::new();
    if let Some(file) = &parsed.file {
        let checked = check::check(file);
        diags.extend(checked.errors.into_iter().map(Diagnostic::from));
        if let (Some(m), true) = (&checked.model, diags.iter().all(|d| !d.is_error())) {
            let lints = check::lints::lint(file, m, options);
            diags.extend(lints.into_iter().map(Diagnostic::from));
        }
        let allows = check::lints::suppress::Allows::new(src, file);
        let (silenced, kept) = diags
            .into_iter()
            .partition(|d| allows.allows(&d.code(), d.span()));
        diags = kept;
        suppressed = silenced;
        if diags.iter().all(|d| !d.is_error()) {
            model = checked.model;
        }
    }
    diags.sort_by_key(|d| (d.span().start, d.span().end));
    suppressed.sort_by_key(|d: &Diagnostic| (d.span().start, d.span().end));
    Compiled {
        model,
        diagnostics: diags,
        suppressed,
        file: parsed.file,
    }
}
