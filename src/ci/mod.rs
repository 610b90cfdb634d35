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
    /// The environments that are not templates, in deployment order (the file's: e.g.
    /// staging, production); never empty.
    pub environments: Vec<Env<'a>>,
    /// The template each pull request gets an instance of, `pr-N`: the file's first.
    pub preview: Option<&'a str>,
    /// The file's other templates, which no job deploys (their previews are made by hand).
    pub other_templates: Vec<&'a str>,
    /// The program's region; without one the pipeline reads the CI's `AWS_REGION` variable.
    pub region: Option<&'a str>,
    /// The environment variables `secret("VAR")` reads at plan and apply time, in any
    /// environment or preview.
    pub secrets: Vec<&'a str>,
}

/// An environment the pipeline applies on the main branch.
#[derive(Clone, Debug, PartialEq)]
pub struct Env<'a> {
    pub name: &'a str,
    /// Applied only after a person approves (GitHub environment reviewers, a GitLab manual
    /// job, a Travis build triggered by hand): `approval = true`.
    pub needs_approval: bool,
}

/// A file no pipeline can be written for.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PipelineError {
    /// Every environment is a template (`template = true`): nothing to apply on the main
    /// branch. Holds their names.
    #[error(
        "every environment ({}) is a template, deployed only as previews: the pipeline would have nothing to apply on the main branch (add an environment without `template = true`)",
        .0.join(", ")
    )]
    OnlyTemplates(Vec<String>),
}

/// What a pipeline leaves out of a file, said beside it (on stderr).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Omission<'a> {
    /// Pull requests are previewed with the first template only.
    #[error(
        "pull requests are previewed with `{used}`, the first template; no job deploys {}",
        list(.others)
    )]
    OtherTemplates { used: &'a str, others: Vec<&'a str> },
    /// Travis CI runs no build when a pull request closes, so it makes no previews.
    #[error(
        "Travis CI has no preview jobs (it starts no build when a pull request closes, so nothing would remove them): {} is left out",
        list(.0)
    )]
    TravisPreviews(Vec<&'a str>),
}

/// `` `a` ``, `` `a`, `b` ``.
fn list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

impl<'a> Pipeline<'a> {
    /// The pipeline of a checked file found at `file`, from its models (one per environment,
    /// in source order, as [`crate::compile_with`] gives them). The environments that are not
    /// templates apply on the main branch in the file's order; the first template, if any, is
    /// each pull request's preview.
    pub fn of_models(file: &'a str, models: &'a [Model]) -> Result<Pipeline<'a>, PipelineError> {
        let (templates, environments): (Vec<&Model>, Vec<&Model>) =
            models.iter().partition(|m| m.environment.template);
        let Some(first) = environments.first() else {
            return Err(PipelineError::OnlyTemplates(
                templates
                    .iter()
                    .map(|m| m.environment.name.clone())
                    .collect(),
            ));
        };
        let mut templates = templates.iter().map(|m| m.environment.name.as_str());
        let preview = templates.next();
        let mut secrets: Vec<&str> = models.iter().flat_map(secrets).collect();
        secrets.sort_unstable();
        secrets.dedup();
        Ok(Pipeline {
            file,
            stack: &first.stack.name,
            environments: environments
                .iter()
                .map(|m| Env {
                    name: &m.environment.name,
                    needs_approval: m.environment.approval,
                })
                .collect(),
            preview,
            other_templates: templates.collect(),
            region: first.stack.region.as_deref(),
            secrets,
        })
    }

    /// Whether commands must name the environment (`--env NAME`): when the file has several
    /// (templates count: stackc asks which), as a file with one has no `--env` to give. A
    /// preview's commands always name their template.
    fn names_env(&self) -> bool {
        self.environments.len() + usize::from(self.preview.is_some()) + self.other_templates.len()
            > 1
    }

    /// What the pipeline for `provider` leaves out of the file.
    pub fn omissions(&self, provider: Provider) -> Vec<Omission<'a>> {
        let mut out = Vec::new();
        match (provider, self.preview) {
            (_, None) => {}
            (Provider::Travis, Some(used)) => {
                let mut all = vec![used];
                all.extend(&self.other_templates);
                out.push(Omission::TravisPreviews(all));
            }
            (_, Some(used)) if !self.other_templates.is_empty() => {
                out.push(Omission::OtherTemplates {
                    used,
                    others: self.other_templates.clone(),
                });
            }
            (_, Some(_)) => {}
        }
        out
    }
}

/// The environment variables `secret("VAR")` reads in one environment's program.
fn secrets(model: &Model) -> impl Iterator<Item = &str> {
    model
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

    /// Applies the preview of this pull request: an instance of the template, which is always
    /// named (`--env TEMPLATE --name pr-N`).
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
