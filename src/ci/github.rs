//! The GitHub Actions workflow (`.github/workflows/stackc.yml`).
//!
//! - On a pull request: `check` (check, then plan each environment into the job summary) and,
//!   with a preview template, `preview` (apply `pr-N`); when the pull request closes,
//!   `preview-destroy`.
//! - On a push to the main branch: one `apply-ENV` job per environment, in order, each in the
//!   GitHub environment of that name, where required reviewers make the approval.
//!
//! Credentials come from `aws-actions/configure-aws-credentials` by OIDC (`id-token: write`),
//! assuming the role in the repository variable `AWS_ROLE_ARN`. Third-party actions are pinned
//! by full commit, as GitHub advises ("Security hardening for GitHub Actions").
//!
//! GitHub evaluates `${{ ... }}` in most values, so a program value that holds `${{` has it
//! written as the expression `${{ '${{' }}`, which evaluates to those three characters.

use super::yaml::{self, Map, Node, ident, plain, quoted, script, seq};
use super::{MAIN_BRANCH, PREVIEW_PREFIX, Pipeline, Provider, RUST_TOOLCHAIN, STACKC_VERSION};
use super::{Steps, header, vars};

/// An action pinned by commit, with the release that commit is (for readers and for
/// Dependabot, which updates the two together).
pub struct Action {
    pub uses: &'static str,
    pub release: &'static str,
}

/// `actions/checkout` v7.0.1.
pub const CHECKOUT: Action = Action {
    uses: "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
    release: "v7.0.1",
};

/// `actions/cache` v6.1.0.
pub const CACHE: Action = Action {
    uses: "actions/cache@55cc8345863c7cc4c66a329aec7e433d2d1c52a9",
    release: "v6.1.0",
};

/// `aws-actions/configure-aws-credentials` v6.2.4.
pub const AWS_CREDENTIALS: Action = Action {
    uses: "aws-actions/configure-aws-credentials@cbe3b392738ccf3f987d68400dafcf4b0624a56c",
    release: "v6.2.4",
};

/// Every action the workflow uses.
pub const ACTIONS: [&Action; 3] = [&CHECKOUT, &CACHE, &AWS_CREDENTIALS];

/// The runner image: a fixed Ubuntu rather than `ubuntu-latest`, which moves.
const RUNNER: &str = "ubuntu-24.04";

/// Where the cache keeps stackc.
const INSTALL_ROOT: &str = "$HOME/.stackc";

/// The repository variable holding the role's ARN.
pub const ROLE_VARIABLE: &str = "AWS_ROLE_ARN";
/// The repository variable holding the region, read when the program names none.
pub const REGION_VARIABLE: &str = "AWS_REGION";

/// A value from the program, with any `${{` made literal.
fn text(s: &str) -> Node {
    quoted(s.replace("${{", "${{ '${{' }}"))
}

/// A job id from an environment name: GitHub's ids are `[A-Za-z_][A-Za-z0-9_-]*`; others
/// characters become `_`, and a repeated id gets a number.
fn job_ids(p: &Pipeline) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for env in &p.environments {
        let clean: String = env
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let base = format!("apply-{clean}");
        let mut id = base.clone();
        let mut n = 2;
        while ids.contains(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        ids.push(id);
    }
    ids
}

fn uses(action: &Action) -> Map {
    Map::new().note("uses", plain(action.uses), action.release)
}

/// Checkout, the cached stackc, and stackc on the path.
fn setup(checkout_ref: Option<&'static str>) -> Vec<Node> {
    let checkout = uses(&CHECKOUT).set(
        "with",
        Map::new()
            .set("persist-credentials", plain("false"))
            .maybe("ref", checkout_ref.map(plain))
            .node(),
    );
    let cache = uses(&CACHE).set(
        "with",
        Map::new()
            .set("path", plain("~/.stackc"))
            .set(
                "key",
                quoted(format!(
                    "stackc-{STACKC_VERSION}-{RUST_TOOLCHAIN}-${{{{ runner.os }}}}-${{{{ runner.arch }}}}"
                )),
            )
            .node(),
    );
    let install = format!(
        "{}echo \"{INSTALL_ROOT}/bin\" >> \"$GITHUB_PATH\"\n",
        Steps::install(INSTALL_ROOT)
    );
    vec![
        checkout.node(),
        cache.node(),
        Map::new()
            .set("name", plain("install stackc"))
            .set("run", script(install))
            .node(),
    ]
}

/// The OIDC credentials step.
fn credentials(p: &Pipeline) -> Node {
    let region = match p.region {
        Some(r) => text(r),
        None => quoted(format!("${{{{ vars.{REGION_VARIABLE} }}}}")),
    };
    uses(&AWS_CREDENTIALS)
        .set(
            "with",
            Map::new()
                .set(
                    "role-to-assume",
                    quoted(format!("${{{{ vars.{ROLE_VARIABLE} }}}}")),
                )
                .set("aws-region", region)
                .node(),
        )
        .node()
}

fn step(name: Node, run: String) -> Map {
    Map::new().set("name", name).set("run", script(run))
}

/// A job's environment: `extra` variables, then the secrets apply reads, from the
/// repository's secrets of the same names.
fn job_env(p: &Pipeline, extra: Vec<(&'static str, Node)>) -> Option<Node> {
    let mut env = Map::new();
    let mut empty = true;
    for (k, v) in extra {
        env = env.set(k, v);
        empty = false;
    }
    // GitHub's secret names are `[A-Za-z_][A-Za-z0-9_]*`, as the checker requires of
    // `secret("VAR")`: no other name can have a secret to read.
    let secret_name = |s: &&&str| {
        s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    for s in p.secrets.iter().filter(secret_name) {
        env = env.set_quoted(*s, quoted(format!("${{{{ secrets.{s} }}}}")));
        empty = false;
    }
    (!empty).then(|| env.node())
}

const ON_PULL_REQUEST: &str =
    "github.event_name == 'pull_request' && github.event.action != 'closed'";

fn check_job(p: &Pipeline) -> Node {
    let mut steps = setup(None);
    steps.push(
        Map::new()
            .set("name", plain("check"))
            .set("run", script(Steps::check()))
            .node(),
    );
    steps.push(credentials(p));
    let report = "{\n  echo \"### stackc plan: \\`$STACKC_ENV\\`\"\n  echo '```'\n  cat stackc-plan.txt\n  echo '```'\n} >> \"$GITHUB_STEP_SUMMARY\"\n";
    for env in &p.environments {
        steps.push(
            step(
                text(&format!("plan {}", env.name)),
                Steps::plan(p, "stackc-plan.txt", report),
            )
            .set("env", Map::new().set(vars::ENV, text(env.name)).node())
            .node(),
        );
    }
    Map::new()
        .set("name", plain("check and plan"))
        .set("if", plain(ON_PULL_REQUEST))
        .set("runs-on", plain(RUNNER))
        .maybe("env", job_env(p, Vec::new()))
        .set("steps", seq(steps))
        .node()
}

fn preview_jobs(p: &Pipeline, template: &str) -> [(String, Node); 2] {
    let env = |p: &Pipeline| {
        job_env(
            p,
            vec![
                (vars::TEMPLATE, text(template)),
                (
                    vars::PREVIEW,
                    quoted(format!("{PREVIEW_PREFIX}${{{{ github.event.number }}}}")),
                ),
            ],
        )
    };
    let concurrency = Map::new()
        .set(
            "group",
            plain("${{ github.workflow }}-preview-${{ github.event.number }}"),
        )
        .set("cancel-in-progress", plain("false"))
        .node();
    let mut apply = setup(None);
    apply.push(credentials(p));
    apply.push(step(plain("apply the preview"), Steps::preview_apply()).node());
    // A closed pull request's merge ref may be gone: its head commit has the file.
    let mut destroy = setup(Some("${{ github.event.pull_request.head.sha }}"));
    destroy.push(credentials(p));
    destroy.push(step(plain("destroy the preview"), Steps::preview_destroy()).node());
    [
        (
            "preview".into(),
            Map::new()
                .set("name", plain("preview"))
                .set("needs", plain("check"))
                .set("if", plain(ON_PULL_REQUEST))
                .set("runs-on", plain(RUNNER))
                .set("concurrency", concurrency.clone())
                .maybe("env", env(p))
                .set("steps", seq(apply))
                .node(),
        ),
        (
            "preview-destroy".into(),
            Map::new()
                .set("name", plain("destroy the preview"))
                .set(
                    "if",
                    plain("github.event_name == 'pull_request' && github.event.action == 'closed'"),
                )
                .set("runs-on", plain(RUNNER))
                .set("concurrency", concurrency)
                .maybe("env", env(p))
                .set("steps", seq(destroy))
                .node(),
        ),
    ]
}

fn apply_jobs(p: &Pipeline) -> Vec<(String, Node)> {
    let ids = job_ids(p);
    let mut jobs = Vec::new();
    for (i, env) in p.environments.iter().enumerate() {
        let mut steps = setup(None);
        steps.push(credentials(p));
        steps.push(step(text(&format!("apply {}", env.name)), Steps::apply(p)).node());
        let extra = vec![(vars::ENV, text(env.name))];
        let job = Map::new()
            .set("name", text(&format!("apply {}", env.name)))
            .set("if", plain("github.event_name == 'push'"))
            .maybe(
                "needs",
                i.checked_sub(1).map(|prev| ident(ids[prev].clone())),
            )
            .set("runs-on", plain(RUNNER))
            .note(
                "environment",
                text(env.name),
                if env.needs_approval {
                    "approved by a person: give this GitHub environment required reviewers"
                } else {
                    "its protection rules (Settings, Environments) apply before the job starts"
                },
            )
            .set(
                "concurrency",
                Map::new()
                    .set(
                        "group",
                        quoted(format!("${{{{ github.workflow }}}}-{}", ids[i])),
                    )
                    .set("cancel-in-progress", plain("false"))
                    .node(),
            )
            .maybe("env", job_env(p, extra))
            .set("steps", seq(steps))
            .node();
        jobs.push((ids[i].clone(), job));
    }
    jobs
}

/// The workflow.
pub fn workflow(p: &Pipeline) -> String {
    let mut pull_request = Map::new();
    if p.preview.is_some() {
        pull_request = pull_request.set(
            "types",
            seq([
                plain("opened"),
                plain("synchronize"),
                plain("reopened"),
                plain("closed"),
            ]),
        );
    }
    let on = Map::new()
        .set("pull_request", pull_request.node())
        .set(
            "push",
            Map::new().set("branches", seq([plain(MAIN_BRANCH)])).node(),
        )
        .node();
    let mut jobs = Map::new().set("check", check_job(p));
    let mut named: Vec<(String, Node)> = Vec::new();
    if let Some(template) = p.preview {
        named.extend(preview_jobs(p, template));
    }
    named.extend(apply_jobs(p));
    for (id, job) in named {
        jobs = jobs.set_ident(id, job);
    }
    let root = Map::new()
        .set("name", text(&format!("stackc {}", p.stack)))
        .set("on", on)
        .note(
            "permissions",
            Map::new()
                .set("contents", plain("read"))
                .set("id-token", plain("write"))
                .node(),
            "id-token: the OIDC token configure-aws-credentials exchanges for the role",
        )
        .set(
            "env",
            Map::new()
                .set(vars::FILE, text(p.file))
                .set(vars::VERSION, quoted(STACKC_VERSION))
                .set(vars::RUST, quoted(RUST_TOOLCHAIN))
                .node(),
        )
        .set("jobs", jobs.node())
        .node();
    yaml::print(&header(Provider::GitHub), &root)
}
