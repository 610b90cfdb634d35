//! The generator's input from a checked program, and the role's origin checks. The pipelines
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

#[test]
fn a_program_gives_one_environment_its_region_and_its_secrets() {
    let (model, diags) = crate::compile(PROGRAM);
    let model = model.unwrap_or_else(|| panic!("{diags:?}"));
    let p = Pipeline::of_model("deploy/shop.stack", &model);
    assert_eq!(p.file, "deploy/shop.stack");
    assert_eq!(p.stack, "shop");
    assert_eq!(
        p.environments,
        [Env {
            name: "shop-prod",
            needs_approval: false
        }]
    );
    assert_eq!(p.preview, None);
    assert_eq!(p.region, Some("eu-west-1"));
    assert_eq!(p.secrets, ["API_TOKEN", "DB_PASSWORD"]);
    assert!(!p.names_env());
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
fn github_trusts_pull_requests_and_each_environment() {
    let p = Pipeline {
        file: "a.stack",
        stack: "a",
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
        preview: None,
        region: None,
        secrets: Vec::new(),
    };
    assert_eq!(
        github_subjects(&p, "acme/shop"),
        [
            "repo:acme/shop:pull_request",
            "repo:acme/shop:environment:staging",
            "repo:acme/shop:environment:production"
        ]
    );
}
