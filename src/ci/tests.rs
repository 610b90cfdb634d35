//! The generator's input from checked programs (environments, approvals, templates), and the role's origin checks. The pipelines
//! themselves are tested through the binary and real validators in `tests/ci.rs`.

use super::role::{Origin, RoleError, github_subjects};
use super::*;

const PROGRAM: &str = r#"
stack shop { region = "eu-west-1" }
environment shop-prod { }
service web {
  image = "nginx:1.27"  memory = 128 MiB  essential = true  ports = [80:80]
  env { PGHOST = db.host  TOKEN = secret("API_TOKEN")  OTHER = secret("API_TOKEN") }
}
postgres db { database = "shop"  password = secret("DB_PASSWORD") }
firewall { allow 80 from internet to web  allow db from web }
"#;

/// `PROGRAM`'s items under other environment blocks.
fn with_environments(environments: &str) -> String {
    PROGRAM.replace("environment shop-prod { }", environments)
}

/// The models of a program that has no error.
fn models(src: &str) -> Vec<Model> {
    let c = crate::compile_with(src, &crate::check::lints::Options::default());
    assert!(!c.models.is_empty(), "{:?}", c.diagnostics);
    c.models
}

fn env(name: &str, needs_approval: bool) -> Env<'_> {
    Env {
        name,
        needs_approval,
    }
}

#[test]
fn a_program_gives_one_environment_its_region_and_its_secrets() {
    let models = models(PROGRAM);
    let p = Pipeline::of_models("deploy/shop.stack", &models).expect("a pipeline");
    assert_eq!(p.file, "deploy/shop.stack");
    assert_eq!(p.stack, "shop");
    assert_eq!(p.environments, [env("shop-prod", false)]);
    assert_eq!(p.preview, None);
    assert_eq!(p.region, Some("eu-west-1"));
    assert_eq!(p.secrets, ["API_TOKEN", "DB_PASSWORD"]);
    assert!(!p.names_env());
    assert_eq!(p.omissions(Provider::Travis), []);
}

#[test]
fn environments_in_order_with_their_approval_and_the_template_previews() {
    let src = with_environments(
        r#"
environment staging { }
environment preview { template = true }
environment production {
  approval = true
  db { password = secret("PROD_DB_PASSWORD") }
}
"#,
    );
    let models = models(&src);
    let p = Pipeline::of_models("shop.stack", &models).expect("a pipeline");
    assert_eq!(
        p.environments,
        [env("staging", false), env("production", true)]
    );
    assert_eq!(p.preview, Some("preview"));
    assert!(p.other_templates.is_empty());
    assert!(p.names_env());
    // Every environment's secrets: production's override reads its own.
    assert_eq!(p.secrets, ["API_TOKEN", "DB_PASSWORD", "PROD_DB_PASSWORD"]);
    assert_eq!(p.omissions(Provider::GitHub), []);
    assert_eq!(
        p.omissions(Provider::Travis),
        [Omission::TravisPreviews(vec!["preview"])]
    );
}

#[test]
fn one_environment_beside_a_template_is_named() {
    // stackc asks which environment when the file has a template beside it.
    let src = with_environments("environment live { }\nenvironment preview { template = true }");
    let models = models(&src);
    let p = Pipeline::of_models("shop.stack", &models).expect("a pipeline");
    assert_eq!(p.environments, [env("live", false)]);
    assert!(p.names_env());
}

#[test]
fn the_first_template_previews_and_the_others_are_said_to_be_left_out() {
    let src = with_environments(
        "environment demo { template = true }\nenvironment live { }\n\
         environment preview { template = true }\nenvironment load { template = true }",
    );
    let models = models(&src);
    let p = Pipeline::of_models("shop.stack", &models).expect("a pipeline");
    assert_eq!(p.preview, Some("demo"));
    assert_eq!(p.other_templates, ["preview", "load"]);
    let github = p.omissions(Provider::GitHub);
    assert_eq!(
        github,
        [Omission::OtherTemplates {
            used: "demo",
            others: vec!["preview", "load"]
        }]
    );
    assert_eq!(
        github[0].to_string(),
        "pull requests are previewed with `demo`, the first template; no job deploys `preview`, `load`"
    );
    assert_eq!(p.omissions(Provider::GitLab), github);
    assert_eq!(
        p.omissions(Provider::Travis),
        [Omission::TravisPreviews(vec!["demo", "preview", "load"])]
    );
}

#[test]
fn a_file_of_templates_only_has_no_pipeline() {
    let src = with_environments("environment preview { template = true }");
    let models = models(&src);
    let e = Pipeline::of_models("shop.stack", &models).expect_err("nothing to apply");
    assert_eq!(e, PipelineError::OnlyTemplates(vec!["preview".into()]));
    assert!(
        e.to_string()
            .starts_with("every environment (preview) is a template")
    );
    assert_eq!(
        Pipeline::of_models("shop.stack", &[]),
        Err(PipelineError::OnlyTemplates(Vec::new()))
    );
}

#[test]
fn origins_follow_each_provider_s_naming_rules() {
    let ok = |provider, repo| Origin::new(provider, repo, "123456789012").is_ok();
    assert!(ok(Provider::GitHub, "acme/shop.web_2"));
    assert!(!ok(Provider::GitHub, "acme/web/shop"));
    assert!(!ok(Provider::GitHub, "acme/"));
    assert!(!ok(Provider::GitHub, "ac_me/shop"));
    assert!(!ok(Provider::GitHub, "acme/.."));
    assert!(!ok(Provider::GitHub, "acme/sh*p"));
    assert!(ok(Provider::GitLab, "acme/web/shop"));
    assert!(!ok(Provider::GitLab, "shop"));
    assert!(!ok(Provider::GitLab, "acme//shop"));
    assert_eq!(
        Origin::new(Provider::GitHub, "acme/shop", "12345678901x"),
        Err(RoleError::Account("12345678901x".into()))
    );
}

#[test]
fn github_trusts_pull_requests_and_each_environment_but_no_template() {
    let src = with_environments(
        "environment staging { }\nenvironment production { approval = true }\n\
         environment preview { template = true }",
    );
    let models = models(&src);
    let p = Pipeline::of_models("shop.stack", &models).expect("a pipeline");
    assert_eq!(
        github_subjects(&p, "acme/shop"),
        [
            "repo:acme/shop:pull_request",
            "repo:acme/shop:environment:staging",
            "repo:acme/shop:environment:production"
        ]
    );
}
