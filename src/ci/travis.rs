//! The Travis CI configuration (`.travis.yml`).
//!
//! - On a pull request: the `check` stage checks the file and plans each environment (in the
//!   log: Travis has no job summary).
//! - On a push to the main branch: the first environment's stage. The environments that need
//!   an approval run in a build a person starts on the main branch (Travis's "Trigger build",
//!   or its API: `type = api`), after the ones before them: Travis has no manual job, and a
//!   stage's condition is how it chooses which run.
//! - Previews are left out: Travis starts no build when a pull request closes, so nothing
//!   could remove them.
//!
//! Travis has no OIDC either: the credentials are an access key of an IAM user that holds the
//! deployer's policy, kept in the repository settings (never in this file); `stackc ci travis
//! --print-role` says so.
//!
//! Travis exports `env` entries through the shell, so the program's values are set by
//! `export` script items (all items of a job run in one shell), single-quoted for the shell,
//! and conditions hold only the generator's words.

use super::yaml::{self, Map, Node, plain, quoted, script, seq};
use super::{MAIN_BRANCH, Pipeline, Provider, RUST_TOOLCHAIN, STACKC_VERSION};
use super::{Steps, header, vars};

const INSTALL_ROOT: &str = "$HOME/.stackc";

/// A word for bash: single-quoted, each `'` written `'\''`.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// `export VAR='value'`, as its own script item: a quoted YAML scalar, since a value may hold
/// what a literal block cannot (a line separator, a control character).
fn export(var: &str, value: &str) -> Node {
    quoted(format!("export {var}={}", shell_quote(value)))
}

/// The configuration.
pub fn config(p: &Pipeline) -> String {
    let stage = |name: &str| format!("apply {name}");
    let mut stages = vec![
        Map::new()
            .set("name", plain("check"))
            .set("if", plain("type = pull_request"))
            .node(),
    ];
    // One script item per command: Travis's shell has no `set -e`, and it fails the job when
    // any item fails.
    let mut check = vec![script(Steps::check())];
    for env in &p.environments {
        check.push(export(vars::ENV, env.name));
        check.push(script(Steps::plan(p, "stackc-plan.txt", "")));
    }
    let mut jobs = vec![
        Map::new()
            .set("stage", plain("check"))
            .set("script", seq(check))
            .node(),
    ];
    for (i, env) in p.environments.iter().enumerate() {
        // The environments before the first that needs an approval apply on every push; from
        // it on, only in a build a person starts (which applies the ones before again first:
        // the commit it promotes is the one they run).
        let types = if p.environments[..=i].iter().any(|e| e.needs_approval) {
            "type = api"
        } else {
            "type IN (push, api)"
        };
        stages.push(
            Map::new()
                .set("name", quoted(stage(env.name)))
                .set("if", quoted(format!("branch = {MAIN_BRANCH} AND {types}")))
                .node(),
        );
        jobs.push(
            Map::new()
                .set("stage", quoted(stage(env.name)))
                .set(
                    "script",
                    seq([export(vars::ENV, env.name), script(Steps::apply(p))]),
                )
                .node(),
        );
    }
    let install = format!(
        "{}export PATH=\"{INSTALL_ROOT}/bin:$PATH\"\n",
        Steps::install(INSTALL_ROOT)
    );
    let root = Map::new()
        .set("language", plain("rust"))
        .set("rust", quoted(RUST_TOOLCHAIN))
        .set("os", plain("linux"))
        .set("dist", plain("jammy"))
        .note(
            "cache",
            Map::new()
                .set("directories", seq([plain(INSTALL_ROOT)]))
                .node(),
            "the stackc binary, built once per version",
        )
        .set(
            "env",
            Map::new()
                .set(
                    "global",
                    seq([
                        quoted(format!("{}={STACKC_VERSION}", vars::VERSION)),
                        quoted(format!("{}={RUST_TOOLCHAIN}", vars::RUST)),
                    ]),
                )
                .node(),
        )
        .set("install", seq([script(install)]))
        .set("before_script", seq([export(vars::FILE, p.file)]))
        .set("stages", seq(stages))
        .set("jobs", Map::new().set("include", seq(jobs)).node())
        .node();
    yaml::print(&header(Provider::Travis), &root)
}
