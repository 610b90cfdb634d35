//! The GitLab CI pipeline (`.gitlab-ci.yml`).
//!
//! - On a merge request: `check`, then `plan:ENV` per environment (the plan is the job's
//!   artifact `stackc-plan.txt` and its log) and, with a preview template, `preview` (apply
//!   `pr-N`, as the GitLab environment `review/pr-N`) whose `on_stop` job `preview:stop`
//!   destroys it when the merge request is merged or closed.
//! - On a push to the main branch: `apply:ENV` per environment, in order; those that need an
//!   approval are manual jobs (`when: manual`), which a person with the right to deploy starts.
//!
//! Credentials: each AWS job asks GitLab for an ID token (`id_tokens`, audience
//! `https://gitlab.com`) and hands it to the AWS SDK's web-identity provider
//! (`AWS_WEB_IDENTITY_TOKEN_FILE` with the CI/CD variable `AWS_ROLE_ARN`), which calls
//! `sts:AssumeRoleWithWebIdentity` itself and assumes the role again when a long apply outlives
//! the session: no AWS CLI in the image, no key in the file.
//!
//! GitLab expands `$` in variables: the program's values are set with `expand: false`, and
//! the environment and resource-group names, which are always expanded, keep only letters,
//! digits, `-`, `_` and spaces.

use super::yaml::{self, Map, Node, plain, quoted, script, seq};
use super::{MAIN_BRANCH, PREVIEW_PREFIX, Pipeline, Provider, RUST_TOOLCHAIN, STACKC_VERSION};
use super::{Steps, header, vars};

/// The image jobs run in: Rust's (cargo builds stackc on a cache miss), of the toolchain.
fn image() -> String {
    format!("rust:{RUST_TOOLCHAIN}-bookworm")
}

/// The ID token's variable and audience (the client id of the IAM OIDC provider).
pub const TOKEN_VARIABLE: &str = "STACKC_ID_TOKEN";
pub const AUDIENCE: &str = "https://gitlab.com";

/// The CI/CD variable holding the role's ARN: the name the AWS SDK reads.
pub const ROLE_VARIABLE: &str = "AWS_ROLE_ARN";

/// GitLab caches only paths inside the project.
const INSTALL_ROOT: &str = "$CI_PROJECT_DIR/.stackc";

const ON_MERGE_REQUEST: &str = "$CI_PIPELINE_SOURCE == \"merge_request_event\"";

fn on_main() -> String {
    format!("$CI_COMMIT_BRANCH == \"{MAIN_BRANCH}\" && $CI_PIPELINE_SOURCE == \"push\"")
}

/// A variable from the program, never expanded.
fn raw(value: &str) -> Node {
    Map::new()
        .set("value", quoted(value))
        .set("expand", plain("false"))
        .node()
}

/// A name GitLab expands and restricts (environments, resource groups): letters, digits,
/// `-`, `_` and spaces kept, anything else `-`.
fn gitlab_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ' ') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn rules(condition: String, manual: bool) -> Node {
    let mut rule = Map::new().set("if", quoted(condition));
    if manual {
        rule = rule.set("when", plain("manual"));
    }
    seq([rule.node()])
}

fn install() -> String {
    format!(
        "{}export PATH=\"{INSTALL_ROOT}/bin:$PATH\"\n",
        Steps::install(INSTALL_ROOT)
    )
}

fn credentials() -> String {
    format!(
        ": \"${{{ROLE_VARIABLE}:?set the CI/CD variable {ROLE_VARIABLE} to the ARN of the role stackc deploys with}}\"\n\
         export AWS_WEB_IDENTITY_TOKEN_FILE=\"$(mktemp)\"\n\
         printf '%s' \"${TOKEN_VARIABLE}\" > \"$AWS_WEB_IDENTITY_TOKEN_FILE\"\n\
         export AWS_ROLE_SESSION_NAME=\"gitlab-$CI_PROJECT_ID-$CI_PIPELINE_ID\"\n"
    )
}

fn id_tokens() -> Node {
    Map::new()
        .set(
            TOKEN_VARIABLE,
            Map::new().set("aud", quoted(AUDIENCE)).node(),
        )
        .node()
}

/// A job that talks to AWS: its ID token, stackc and the credentials, then `run`.
fn aws_job(stage: &'static str, variables: Map, run: String) -> Map {
    Map::new()
        .set("stage", plain(stage))
        .set("id_tokens", id_tokens())
        .set("variables", variables.node())
        .set(
            "before_script",
            seq([script(install()), script(credentials())]),
        )
        .set("script", seq([script(run)]))
}

fn env_variables(name: &str) -> Map {
    Map::new().set(vars::ENV, raw(name))
}

/// The pipeline.
pub fn pipeline(p: &Pipeline) -> String {
    let mut stages = vec![plain("check"), plain("plan")];
    if p.preview.is_some() {
        stages.push(plain("preview"));
    }
    stages.push(plain("deploy"));
    let mut root = Map::new()
        .set("stages", seq(stages))
        .set(
            "variables",
            Map::new()
                .set(vars::FILE, raw(p.file))
                .set(vars::VERSION, quoted(STACKC_VERSION))
                .set(vars::RUST, quoted(RUST_TOOLCHAIN))
                .node(),
        )
        .set(
            "default",
            Map::new()
                .set("image", quoted(image()))
                .note(
                    "cache",
                    Map::new()
                        .set(
                            "key",
                            quoted(format!("stackc-{STACKC_VERSION}-rust-{RUST_TOOLCHAIN}")),
                        )
                        .set("paths", seq([plain(".stackc/")]))
                        .node(),
                    "the stackc binary, built once per version",
                )
                .node(),
        )
        .set(
            "workflow",
            Map::new()
                .set(
                    "rules",
                    seq([
                        Map::new().set("if", quoted(ON_MERGE_REQUEST)).node(),
                        Map::new().set("if", quoted(on_main())).node(),
                    ]),
                )
                .node(),
        )
        .set(
            "check",
            Map::new()
                .set("stage", plain("check"))
                .set("rules", rules(ON_MERGE_REQUEST.into(), false))
                .set("before_script", seq([script(install())]))
                .set("script", seq([script(Steps::check())]))
                .node(),
        );
    for env in &p.environments {
        let job = aws_job(
            "plan",
            env_variables(env.name),
            Steps::plan(p, "stackc-plan.txt", ""),
        )
        .set("needs", seq([plain("check")]))
        .set("rules", rules(ON_MERGE_REQUEST.into(), false))
        .set(
            "artifacts",
            Map::new()
                .set("paths", seq([plain("stackc-plan.txt")]))
                .set("when", plain("always"))
                .set("expire_in", plain("30 days"))
                .node(),
        );
        root = root.set_quoted(format!("plan:{}", env.name), job.node());
    }
    if let Some(template) = p.preview {
        let environment = format!("review/{PREVIEW_PREFIX}$CI_MERGE_REQUEST_IID");
        let variables = || {
            Map::new().set(vars::TEMPLATE, raw(template)).set(
                vars::PREVIEW,
                quoted(format!("{PREVIEW_PREFIX}$CI_MERGE_REQUEST_IID")),
            )
        };
        let resource_group = quoted(format!(
            "stackc-preview-{PREVIEW_PREFIX}$CI_MERGE_REQUEST_IID"
        ));
        let apply = aws_job("preview", variables(), Steps::preview_apply())
            .set("needs", seq([plain("check")]))
            .set("rules", rules(ON_MERGE_REQUEST.into(), false))
            .set("resource_group", resource_group.clone())
            .set(
                "environment",
                Map::new()
                    .set("name", quoted(environment.clone()))
                    .set("on_stop", quoted("preview:stop"))
                    .node(),
            );
        let stop = aws_job("preview", variables(), Steps::preview_destroy())
            .set("needs", seq([quoted("preview")]))
            .note(
                "rules",
                rules(ON_MERGE_REQUEST.into(), true),
                "run by GitLab when the merge request is merged or closed, or by hand",
            )
            .set("resource_group", resource_group)
            .set(
                "environment",
                Map::new()
                    .set("name", quoted(environment))
                    .set("action", plain("stop"))
                    .node(),
            );
        root = root
            .set("preview", apply.node())
            .set_quoted("preview:stop", stop.node());
    }
    for (i, env) in p.environments.iter().enumerate() {
        let mut job = aws_job("deploy", env_variables(env.name), Steps::apply(p))
            .set("rules", rules(on_main(), env.needs_approval))
            .set(
                "resource_group",
                quoted(format!("stackc-{}", gitlab_name(env.name))),
            )
            .set(
                "environment",
                Map::new().set("name", quoted(gitlab_name(env.name))).node(),
            );
        if let Some(prev) = i.checked_sub(1) {
            job = job.set(
                "needs",
                seq([quoted(format!("apply:{}", p.environments[prev].name))]),
            );
        }
        root = root.set_quoted(format!("apply:{}", env.name), job.node());
    }
    yaml::print(&header(Provider::GitLab), &root.node())
}
