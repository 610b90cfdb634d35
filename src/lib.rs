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
/// no errors (the first environment's, in a file with several), and every diagnostic that
/// counts, in source order (suppressed ones are dropped).
pub fn compile(src: &str) -> (Option<check::Model>, Vec<Diagnostic>) {
    let c = compile_with(src, &check::lints::Options::default());
    (c.models.into_iter().next(), c.diagnostics)
}

/// The outcome of [`compile_with`].
#[derive(Debug)]
pub struct Compiled {
    /// One model per environment, in source order, when no diagnostic that counts is an
    /// error; none otherwise.
    pub models: Vec<check::Model>,
    /// Every diagnostic that counts, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// Diagnostics silenced by an `# allow(stack::CODE)` comment, in source order.
    pub suppressed: Vec<Diagnostic>,
    /// The syntax tree, when the text parsed.
    pub file: Option<syntax::ast::File>,
}

/// Parses, checks and — when the program type-checks — lints it. Each environment's program
/// is checked and linted on its own ([`check::envs`]); a diagnostic every program has is
/// reported once, one that only some have names them.
pub fn compile_with(src: &str, options: &check::lints::Options) -> Compiled {
    compile_programs(src, options, None)
}

/// A preview: an instance, named `name`, of the template environment `template`.
#[derive(Clone, Copy, Debug)]
pub struct Instance<'a> {
    pub template: &'a str,
    pub name: &'a str,
}

/// [`compile_with`] for one preview: the template's program with the instance's name in
/// every derived name, its one model in [`Compiled::models`]. Whether `template` is a template
/// is the caller's to know (see [`check::Environment::template`]).
pub fn compile_instance(
    src: &str,
    options: &check::lints::Options,
    instance: Instance<'_>,
) -> Compiled {
    compile_programs(src, options, Some(instance))
}

fn compile_programs(
    src: &str,
    options: &check::lints::Options,
    instance: Option<Instance<'_>>,
) -> Compiled {
    let parsed = syntax::parse(src);
    let mut diags: Vec<Diagnostic> = parsed.errors.into_iter().map(Diagnostic::from).collect();
    let mut models = Vec::new();
    let mut suppressed = Vec::new();
    if let Some(file) = &parsed.file {
        let resolution = check::envs::resolve(file);
        diags.extend(resolution.errors.into_iter().map(Diagnostic::from));
        let sound = diags.iter().all(|d| !d.is_error());
        let mut programs = Vec::new();
        for program in &resolution.programs {
            let of_instance = instance.filter(|i| program.env.as_deref() == Some(i.template));
            if instance.is_some() && of_instance.is_none() {
                continue;
            }
            let checked = check::check_program(
                &program.file,
                &resolution.names,
                of_instance.map(|i| i.name),
            );
            let mut found: Vec<Diagnostic> =
                checked.errors.into_iter().map(Diagnostic::from).collect();
            if let (Some(m), true) = (&checked.model, sound && found.iter().all(|d| !d.is_error()))
            {
                let lints = check::lints::lint(&program.file, m, options);
                found.extend(lints.into_iter().map(Diagnostic::from));
            }
            programs.push((program.env.clone(), found, checked.model));
        }
        diags.extend(merge(&mut programs));
        let allows = check::lints::suppress::Allows::new(src, file);
        let (silenced, kept) = diags
            .into_iter()
            .partition(|d| allows.allows(&d.code(), d.span()));
        diags = kept;
        suppressed = silenced;
        if diags.iter().all(|d| !d.is_error()) {
            models = programs.into_iter().filter_map(|(_, _, m)| m).collect();
        }
    }
    diags.sort_by_key(|d| (d.span().start, d.span().end));
    suppressed.sort_by_key(|d: &Diagnostic| (d.span().start, d.span().end));
    Compiled {
        models,
        diagnostics: diags,
        suppressed,
        file: parsed.file,
    }
}

/// The diagnostics of every environment's program, each once: as it is when every program has
/// it, naming the environments that have it otherwise.
fn merge(
    programs: &mut [(Option<String>, Vec<Diagnostic>, Option<check::Model>)],
) -> Vec<Diagnostic> {
    if let [(_, found, _)] = programs {
        return std::mem::take(found);
    }
    type Key = (String, u32, u32, String);
    let key = |d: &Diagnostic| (d.code(), d.span().start, d.span().end, d.to_string());
    let mut order: Vec<(Diagnostic, Vec<String>)> = Vec::new();
    let mut index: rustc_hash::FxHashMap<Key, usize> = Default::default();
    for (env, found, _) in programs.iter_mut() {
        for d in std::mem::take(found) {
            let at = *index.entry(key(&d)).or_insert_with(|| {
                order.push((d.clone(), Vec::new()));
                order.len() - 1
            });
            let envs = &mut order[at].1;
            if let Some(env) = env.as_ref().filter(|e| !envs.contains(e)) {
                envs.push(env.clone());
            }
        }
    }
    let all = programs.len();
    order
        .into_iter()
        .map(|(d, envs)| {
            if envs.len() == all {
                d
            } else {
                Diagnostic::InEnvironments(diagnostic::InEnvironments {
                    envs,
                    inner: Box::new(d),
                })
            }
        })
        .collect()
}
