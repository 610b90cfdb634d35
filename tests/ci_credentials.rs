//! The credentials of a generated GitLab pipeline work with stackc: its own `before_script`,
//! run in bash with an ID token in `STACKC_ID_TOKEN` and the role in `AWS_ROLE_ARN` (and no
//! access key anywhere), lets `stackc plan` reach the emulator through the AWS SDK's
//! web-identity provider, which exchanges the token with `AssumeRoleWithWebIdentity`.
//! (The emulator does not verify the token: what this proves is the pipeline's side.)

mod common;

use std::process::Command;

use saphyr::{LoadableYamlNode, Yaml};
use stackc::ci::{self, Pipeline, Provider};

#[test]
fn the_gitlab_id_token_becomes_the_role_s_credentials() {
    let file = "examples/single-container.stack";
    let src = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR")))
        .expect("readable");
    let models = stackc::compile_with(&src, &Default::default()).models;
    let pipeline = Pipeline::of_models(file, &models).expect("a pipeline");
    let text = ci::generate(Provider::GitLab, &pipeline);
    let docs = Yaml::load_from_str(&text).expect("YAML");
    let job = format!("apply:{}", models[0].environment.name);
    let credentials = docs[0][job.as_str()]["before_script"][1]
        .as_str()
        .expect("the credentials script")
        .to_string();
    assert!(
        credentials.contains("AWS_WEB_IDENTITY_TOKEN_FILE"),
        "{credentials}"
    );

    let aws = common::moto();
    let px = common::proxy(&aws, &[]);
    let home = tempfile::tempdir().expect("a temporary folder");
    let out = Command::new("bash")
        .arg("-c")
        .arg(format!("set -e\n{credentials}stackc plan \"$STACKC_FILE\""))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env(
            "PATH",
            format!(
                "{}:{}",
                std::path::Path::new(env!("CARGO_BIN_EXE_stackc"))
                    .parent()
                    .expect("a folder")
                    .display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .env("STACKC_FILE", file)
        .env(
            "STACKC_ID_TOKEN",
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwcm9qZWN0X3BhdGg6YWNtZS9zaG9wIn0.c2ln",
        )
        .env("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/shop-ci")
        .env("CI_PROJECT_ID", "42")
        .env("CI_PIPELINE_ID", "7")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", px.url())
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("bash runs");
    assert!(out.status.success(), "{}", common::text(&out));
    assert!(
        common::text(&out).contains("Plan:"),
        "{}",
        common::text(&out)
    );
    let stats = common::proxy_stats(&px);
    let calls = stats["calls"].as_array().expect("calls");
    let assumed = calls
        .iter()
        .filter(|c| c["operation"] == "AssumeRoleWithWebIdentity")
        .count();
    // Once for the clients, and today once more for the preflight's look-up of credentials,
    // which asks the provider itself rather than through the clients' identity cache.
    assert!(assumed >= 1, "{stats}");
}
