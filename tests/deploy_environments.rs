//! Several environments from one file, end to end against the emulator: staging and production
//! applied from one program coexist with distinct resources, each tagged with its environment;
//! destroying staging leaves production as it was; a preview (an instance of the template) is
//! created under its own names and removed completely, with no final snapshot left behind; a
//! preview name AWS would refuse is refused before any call; and the example
//! `examples/staging-production.stack` deploys all three (production with its domain).

mod common;

use std::collections::BTreeSet;

use common::{boto, moto, ok, stackc, text, write_program};

const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment staging {
  # allow(stack::no_deletion_protection)
  db { deletion_protection = false }
}

environment production {
  instance_type = "t3.medium"
  db  { storage = 30 GiB }
  web { memory = 256 MiB }
}

environment preview {
  template = true
}

service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
  env {
    DB_HOST     = db.host
    DB_PASSWORD = db.password
  }
}

postgres db {
  database = "shop"
}

firewall {
  allow 80 from internet to web
  allow db from web
}
"#;

/// Every resource of stack `shop` that the emulator holds, as `kind name`, with the
/// `stackc:env` tag of those that have tags here (RDS, EC2).
fn resources(url: &str) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    let list = |service: &str, expr: &str| -> Vec<String> {
        boto(url, service, expr)
            .as_array()
            .expect("a list")
            .iter()
            .map(|v| v.as_str().expect("a name").to_string())
            .collect()
    };
    let env_tag = "next((t['Value'] for t in {tags} if t['Key'] == 'stackc:env'), '-')";
    all.extend(list(
        "rds",
        &format!(
            "['db ' + d['DBInstanceIdentifier'] + ' ' + {} for d in c.describe_db_instances()['DBInstances']]",
            env_tag.replace("{tags}", "d.get('TagList', [])")
        ),
    ));
    all.extend(list(
        "rds",
        "['snapshot ' + s['DBSnapshotIdentifier'] for s in c.describe_db_snapshots()['DBSnapshots']]",
    ));
    all.extend(list(
        "ec2",
        &format!(
            "['sg ' + g['GroupName'] + ' ' + {} for g in c.describe_security_groups(Filters=[{{'Name':'tag:stackc:stack','Values':['shop']}}])['SecurityGroups']]",
            env_tag.replace("{tags}", "g.get('Tags', [])")
        ),
    ));
    all.extend(list(
        "elasticbeanstalk",
        "['app ' + a['ApplicationName'] for a in c.describe_applications()['Applications']]",
    ));
    all.extend(list(
        "elasticbeanstalk",
        "['env ' + e['EnvironmentName'] for e in c.describe_environments(IncludeDeleted=False)['Environments']]",
    ));
    all.extend(list(
        "iam",
        "['role ' + r['RoleName'] for r in c.list_roles()['Roles'] if r['RoleName'].startswith('shop-')]",
    ));
    all.extend(list(
        "logs",
        "['logs ' + g['logGroupName'] for g in c.describe_log_groups()['logGroups']]",
    ));
    all
}

fn of(all: &BTreeSet<String>, needle: &str) -> BTreeSet<String> {
    all.iter().filter(|r| r.contains(needle)).cloned().collect()
}

#[test]
fn environments_coexist_destroy_one_and_previews_come_and_go() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().expect("utf-8");

    // --env is required, and names an environment of the file.
    let none = stackc(&url, &["plan", f], &[]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    assert!(
        text(&none).contains("several environments (staging, production, preview)"),
        "{}",
        text(&none)
    );
    let typo = stackc(&url, &["plan", f, "--env", "prodution"], &[]);
    assert_eq!(typo.status.code(), Some(2), "{}", text(&typo));
    assert!(text(&typo).contains("did you mean `production`?"));

    ok(&stackc(
        &url,
        &["apply", f, "--env", "staging", "--yes"],
        &[],
    ));
    ok(&stackc(
        &url,
        &["apply", f, "--env", "production", "--yes"],
        &[],
    ));
    let both = resources(&url);
    let staging = of(&both, "staging");
    let production = of(&both, "production");
    for (env, found) in [("staging", &staging), ("production", &production)] {
        for expected in [
            format!("db shop-{env}-db {env}"),
            format!("sg shop-{env} {env}"),
            format!("sg shop-{env}-db {env}"),
            format!("app shop-{env}"),
            format!("env shop-{env}"),
            format!("role shop-{env}-eb-ec2"),
            format!("logs /aws/elasticbeanstalk/shop-{env}/containers"),
        ] {
            assert!(found.contains(&expected), "{expected} in {found:#?}");
        }
    }
    assert!(staging.is_disjoint(&production));
    let production_db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-production-db')['DBInstances'][0]",
    );
    assert_eq!(production_db["AllocatedStorage"], 30, "the override");
    assert_eq!(production_db["DeletionProtection"], true);

    // Production's plan sees its own resources only, all as they should be.
    let plan = stackc(
        &url,
        &["plan", f, "--env", "production", "--detailed-exitcode"],
        &[],
    );
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));

    // Destroying staging removes staging (its database with a final snapshot) and nothing else.
    ok(&stackc(
        &url,
        &["destroy", f, "--env", "staging", "--yes"],
        &[],
    ));
    let after = resources(&url);
    assert_eq!(of(&after, "production"), production);
    let left: Vec<String> = of(&after, "staging")
        .into_iter()
        .filter(|r| !r.starts_with("snapshot shop-staging-db-final-"))
        .collect();
    assert!(left.is_empty(), "{left:#?}");
    assert_eq!(of(&after, "snapshot shop-staging-db-final-").len(), 1);

    // A preview: the template applied under an instance's names, then removed completely.
    let bad = stackc(
        "http://127.0.0.1:9",
        &["apply", f, "--env", "preview", "--name", "PR_7", "--yes"],
        &[],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(
        text(&bad).contains("--name `PR_7`: a preview's name starts with a lowercase letter"),
        "{}",
        text(&bad)
    );
    let template = stackc(&url, &["apply", f, "--env", "preview", "--yes"], &[]);
    assert_eq!(template.status.code(), Some(2), "{}", text(&template));
    assert!(text(&template).contains("is a template: name the preview with --name"));

    let preview = ["--env", "preview", "--name", "pr-7"];
    ok(&stackc(
        &url,
        &[&["apply", f][..], &preview, &["--yes"]].concat(),
        &[],
    ));
    let with_preview = resources(&url);
    let pr = of(&with_preview, "pr-7");
    for expected in [
        "db shop-pr-7-db pr-7",
        "sg shop-pr-7 pr-7",
        "env shop-pr-7",
        "app shop-pr-7",
        "role shop-pr-7-eb-ec2",
    ] {
        assert!(pr.contains(expected), "{expected} in {pr:#?}");
    }
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-pr-7-db')['DBInstances'][0]",
    );
    assert_eq!(db["DeletionProtection"], false, "a preview's store");
    ok(&stackc(
        &url,
        &[&["destroy", f][..], &preview, &["--yes"]].concat(),
        &[],
    ));
    let gone = resources(&url);
    assert!(of(&gone, "pr-7").is_empty(), "{:#?}", of(&gone, "pr-7"));
    assert_eq!(of(&gone, "production"), production, "production untouched");
}

/// The example itself: staging and production deploy from one file, each healthy on its own
/// (production with its domain, in a hosted zone of the account), and a preview of it too.
#[test]
fn the_example_deploys_both_environments_and_a_preview() {
    let aws = moto();
    let url = aws.url();
    boto(
        &url,
        "route53",
        "c.create_hosted_zone(Name='example.com', CallerReference='example')['HostedZone']['Id']",
    );
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join("staging-production.stack");
    let f = file.to_str().expect("utf-8");
    for target in [
        &["--env", "staging"][..],
        &["--env", "production"],
        &["--env", "preview", "--name", "pr-1"],
    ] {
        ok(&stackc(
            &url,
            &[&["apply", f][..], target, &["--yes"]].concat(),
            &[],
        ));
    }
    for target in [
        &["--env", "staging"][..],
        &["--env", "production"],
        &["--env", "preview", "--name", "pr-1"],
    ] {
        let out = stackc(
            &url,
            &[&["status", f][..], target, &["--format", "json"]].concat(),
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{target:?}: {}", text(&out));
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let name = target[1..].last().expect("a name");
        let env = match *name {
            "pr-1" => "shop-pr-1".to_string(),
            other => format!("shop-{other}"),
        };
        assert_eq!(status["environment"], env.as_str(), "{status}");
    }
    ok(&stackc(
        &url,
        &["destroy", f, "--env", "preview", "--name", "pr-1", "--yes"],
        &[],
    ));
}
