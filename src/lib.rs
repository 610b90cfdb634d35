//! `stackc`: a compiler for `.stack` files, which describe a multi-container web application
//! on AWS Elastic Beanstalk. See ARCHITECTURE.md for the phases and their invariants.
//!
//! The core — [`syntax`], [`check`], [`lower`], and [`import`] from compose files — is pure:
//! text in, values out, no IO. Only the CLI reads and writes files, and only `deploy` (feature
//! `aws`) talks to AWS.

pub mod check;
pub mod deploy;
pub mod diagnostic;
pub mod import;
pub mod lower;
pub mod syntax;

pub use diagnostic::Diagnostic;

/// Parses and checks a program: the model when it has no errors, and every diagnostic in
/// source order.
pub fn compile(src: &str) -> (Option<check::Model>, Vec<Diagnostic>) {
    let parsed = syntax::parse(src);
    let mut diags: Vec<Diagnostic> = parsed.errors.into_iter().map(Diagnostic::from).collect();
    let mut model = None;
    if let Some(file) = &parsed.file {
        let checked = check::check(file);
        diags.extend(checked.errors.into_iter().map(Diagnostic::from));
        if diags.iter().all(|d| !d.is_error()) {
            model = checked.model;
        }
    }
    diags.sort_by_key(|d| (d.span().start, d.span().end));
    (model, diags)
}
