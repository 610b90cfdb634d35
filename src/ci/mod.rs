//! `stackc ci`: the pipeline that checks, plans and deploys a program from CI, for GitHub
//! Actions ([`github`]), GitLab CI ([`gitlab`]) and Travis CI ([`travis`]), and the IAM role
//! the pipeline deploys with ([`role`]). Pure: a [`Pipeline`] in, text out.
//!
//! A pipeline reads what it needs of the program through [`Pipeline`] alone: the file, the
//! stack, its environments in deployment order, the preview template, the region and the
//! secrets apply reads from its environment. What the steps do is written once here
//! ([`Steps`]); each provider says where they run, on which event, with which credentials.
//!
//! Values from the program (and the file's path) reach the scripts only as environment
//! variables (`STACKC_FILE`, `STACKC_ENV`, ...): quoted YAML values that the provider does not
//! expand (GitHub's and GitLab's), or, on Travis, whose `env` goes through the shell anyway,
//! `export` items with the value single-quoted. No name can inject YAML, a provider's
//! expression or shell.

pub mod github;
pub mod gitlab;
pub mod role;
pub mod travis;
mod yaml;

use crate::check::{EnvValue, Model, Password, StoreKind};

/// What a pipeline needs to know of a program.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline<'a> {
    /// The `.stack` file's path as the repository has it (relative to its top folder).
    pub file: &'a str,
    pub stack: &'a str,
    /// In deployment order (e.g. staging, production); never empty.
    pub environments: Vec<Env<'a>>,
    /// The environment marked as a preview template, if any: each pull request gets its own
    /// instance of it, `pr-N`.
    pub preview: Option<&'a str>,
    /// The program's region; without one the pipeline reads the CI's `AWS_REGION` variable.
    pub region: Option<&'a str>,
    /// The environment variables `secret("VAR")` reads at plan and apply time.
    pub secrets: Vec<&'a str>,
}

/// An environment the pipeline applies on the main branch.
#[derive(Clone, Debug, PartialEq)]
pub struct Env<'a> {
    pub name: &'a str,
    /// Applied only after a person approves (GitHub environment reviewers, a GitLab manual
    /// job, a Travis build triggered by hand).
    pub needs_approval: bool,
}

impl<'a> Pipeline<'a> {
    /// The pipeline of a checked program found at `file`. A program has one environment
    /// today, applied on every push to the main branch, and no preview template.
    pub fn of_model(file: &'a str, model: &'a Model) -> Pipeline<'a> {
        let mut secrets: Vec<&str> = model
            .services
            .iter()
            .flat_map(|s| &s.env)
            .filter_map(|v| match &v.value {
                EnvValue::Secret(var) => Some(var.as_str()),
                _ => None,
            })
            .chain(model.stores.iter().filter_map(|s| match &s.kind {
                StoreKind::Postgres(p) => match &p.password {
                    Password::Env(var) => Some(var.as_str()),
                    Password::Managed => None,
                },
                StoreKind::Redis(_) => None,
            }))
            .collect();
        secrets.sort_unstable();
        secrets.dedup();
        Pipeline {
            file,
            stack: &model.stack.name,
            environments: vec![Env {
                name: &model.environment.name,
                needs_approval: false,
            }],
            preview: None,
            region: model.stack.region.as_deref(),
            secrets,
        }
    }

    /// Whether commands must name the environment (`--env NAME`): only when the file has
    /// several, as a file with one has no `--env` to give.
    fn names_env(&self) -> bool {
        self.environments.len() > 1
    }
}

/// The CI services `stackc ci` writes pipelines for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    GitHub,
    GitLab,
    Travis,
}

impl Provider {
    /// The name on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
            Provider::Travis => "travis",
        }
    }
}

/// The pipeline file for `provider`.
pub fn generate(provider: Provider, p: &Pipeline) -> String {
    match provider {
        Provider::GitHub => github::workflow(p),
        Provider::GitLab => gitlab::pipeline(p),
        Provider::Travis => travis::config(p),
    }
}

/// The stackc a pipeline installs: the version that wrote it.
pub const STACKC_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Rust toolchain that builds it on a cache miss (`cargo install --locked` builds the
/// published lock file; the AWS SDK it locks needs Rust 1.88 or later).
pub const RUST_TOOLCHAIN: &str = "1.95.0";

/// The branch whose pushes deploy.
pub const MAIN_BRANCH: &str = "main";

/// The name of the preview of pull (or merge) request N is `pr-N`; this is the prefix.
pub const PREVIEW_PREFIX: &str = "pr-";

/// The environment variables the scripts read; the pipeline sets them, quoted.
pub mod vars {
    /// The `.stack` file.
    pub const FILE: &str = "STACKC_FILE";
    /// The environment a job plans or applies (given to stackc only when the file has
    /// several).
    pub const ENV: &str = "STACKC_ENV";
    /// The preview template's environment.
    pub const TEMPLATE: &str = "STACKC_PREVIEW_ENV";
    /// The preview instance's name, `pr-N`.
    pub const PREVIEW: &str = "STACKC_PREVIEW_NAME";
    /// The stackc version to install.
    pub const VERSION: &str = "STACKC_VERSION";
    /// The Rust toolchain that builds it.
    pub const RUST: &str = "STACKC_RUST";
}

/// The steps of a pipeline, as shell text that reads the program only from [`vars`].
pub struct Steps;

impl Steps {
    /// Installs the pinned stackc under `root` (a folder the CI caches) unless the cache
    /// already holds that version: `cargo install --locked` of the published crate, built
    /// with the pinned toolchain.
    pub fn install(root: &str) -> String {
        format!(
            "if ! \"{root}/bin/stackc\" --version 2>/dev/null | grep -qxF \"stackc ${version}\"; then\n\
             \x20 rustup toolchain install \"${rust}\" --profile minimal &&\n\
             \x20 cargo \"+${rust}\" install stackc --version \"=${version}\" --locked --root \"{root}\"\n\
             fi\n",
            version = vars::VERSION,
            rust = vars::RUST,
        )
    }

    /// `stackc check`, warnings included.
    pub fn check() -> String {
        format!("stackc check --deny-warnings \"${}\"\n", vars::FILE)
    }

    /// `--env "$STACKC_ENV"` when the file has several environments.
    fn env_flag(p: &Pipeline) -> String {
        if p.names_env() {
            format!(" --env \"${}\"", vars::ENV)
        } else {
            String::new()
        }
    }

    /// `stackc plan` of one environment into `out`, which `report` (shell, may be empty)
    /// then shows. Exit 0 (no changes) and 2 (changes) pass, anything else fails: the last
    /// command's status, as Travis needs (an `exit` there ends the whole build shell), and
    /// without tripping `set -e` (GitHub's and GitLab's shells).
    pub fn plan(p: &Pipeline, out: &str, report: &str) -> String {
        format!(
            "status=0\n\
             stackc plan --detailed-exitcode \"${file}\"{env} > \"{out}\" || status=$?\n\
             cat \"{out}\"\n\
             {report}\
             [ \"$status\" -eq 0 ] || [ \"$status\" -eq 2 ]\n",
            file = vars::FILE,
            env = Self::env_flag(p),
        )
    }

    /// `stackc apply` of one environment.
    pub fn apply(p: &Pipeline) -> String {
        format!(
            "stackc apply \"${}\"{} --yes\n",
            vars::FILE,
            Self::env_flag(p)
        )
    }

    /// Applies the preview of this pull request (arrives with the environments work:
    /// `--env TEMPLATE --name pr-N`).
    pub fn preview_apply() -> String {
        format!(
            "stackc apply \"${}\" --env \"${}\" --name \"${}\" --yes\n",
            vars::FILE,
            vars::TEMPLATE,
            vars::PREVIEW
        )
    }

    /// Removes the preview of this pull request.
    pub fn preview_destroy() -> String {
        format!(
            "stackc destroy \"${}\" --env \"${}\" --name \"${}\" --yes\n",
            vars::FILE,
            vars::TEMPLATE,
            vars::PREVIEW
        )
    }
}

/// The first lines of every pipeline file: where it comes from and where its set-up is
/// documented. No program value goes into a comment.
fn header(provider: Provider) -> Vec<String> {
    vec![
        format!(
            "Written by `stackc ci {}` (stackc {STACKC_VERSION}): write it again rather than edit it.",
            provider.as_str()
        ),
        "The role, its trust policy and the variables to set: docs/deploy.md, \"Deploying from CI\";"
            .into(),
        format!(
            "`stackc ci {} FILE --print-role ...` prints the role's policies.",
            provider.as_str()
        ),
    ]
}

#[cfg(test)]
mod tests;
