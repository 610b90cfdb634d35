//! The health gate, rollback and the roles apply makes, end to end: the real binary against the
//! emulator, whose environments are Red when their tasks could not start on AWS (an image that
//! cannot be pulled, a role that is missing or may not be passed: tests/support/README.md).

mod common;

use common::{boto, moto, ok, stackc, text, write_program};
use serde_json::Value;

/// One service that reads a managed password (so it needs the execution role), behind a
/// public port.
const PROGRAM: &str = r#"
stack shop { region = "us-east-1" }

environment shop-env { }

service web {
  image     = "nginx:1.27"
  memory    = 128 MiB
  essential = true
  ports     = [80:80]
  env {
    PGHOST     = db.host
    PGPASSWORD = db.password
  }
}

postgres db {
  database            = "shop"
  deletion_protection = false
}

firewall {
  allow 80 from internet to web
  allow db from web
}
"#;

fn environment(url: &str) -> Value {
    boto(
        url,
        "elasticbeanstalk",
        "c.describe_environments(EnvironmentNames=['shop-env'], IncludeDeleted=False)['Environments'][0]",
    )
}

fn role_policy(url: &str, role: &str, policy: &str) -> Value {
    boto(
        url,
        "iam",
        &format!("c.get_role_policy(RoleName='{role}', PolicyName='{policy}')['PolicyDocument']"),
    )
}

#[test]
fn apply_makes_the_execution_role_and_waits_for_a_healthy_environment() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    ok(&stackc(
        &url,
        &["apply", file.to_str().unwrap(), "--yes"],
        &[],
    ));

    let env = environment(&url);
    assert_eq!(
        (env["Status"].as_str(), env["Health"].as_str()),
        (Some("Ready"), Some("Green")),
        "{env}"
    );

    // The execution role: trusted by ECS tasks, with AWS's managed policy and exactly the secret.
    let role = boto(&url, "iam", "c.get_role(RoleName='shop-ecs-exec')['Role']");
    let trust = role["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains("ecs-tasks.amazonaws.com"), "{trust}");
    let attached = boto(
        &url,
        "iam",
        "[p['PolicyArn'] for p in c.list_attached_role_policies(RoleName='shop-ecs-exec')['AttachedPolicies']]",
    );
    assert_eq!(
        attached,
        serde_json::json!([
            "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
        ])
    );
    let db = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]",
    );
    let secret = &db["MasterUserSecret"]["SecretArn"];
    for role in ["shop-ecs-exec", "shop-eb-ec2"] {
        let p = role_policy(&url, role, "read-managed-passwords");
        assert_eq!(
            p["Statement"][0]["Action"], "secretsmanager:GetSecretValue",
            "{role}: {p}"
        );
        assert_eq!(
            p["Statement"][0]["Resource"],
            serde_json::json!([secret]),
            "{role}: {p}"
        );
    }
    // The instance role may pass the execution role, to ECS only.
    let pass = role_policy(&url, "shop-eb-ec2", "pass-execution-role");
    assert_eq!(pass["Statement"][0]["Action"], "iam:PassRole", "{pass}");
    assert_eq!(
        pass["Statement"][0]["Resource"],
        serde_json::json!([role["Arn"]]),
        "{pass}"
    );
    assert_eq!(
        pass["Statement"][0]["Condition"]["StringEquals"]["iam:PassedToService"],
        "ecs-tasks.amazonaws.com"
    );
    // The bundle's Dockerrun names the role.
    let label = env["VersionLabel"].as_str().unwrap().to_string();
    let dockerrun = boto(
        &url,
        "s3",
        &format!(
            "__import__('json').loads(__import__('zipfile').ZipFile(__import__('io').BytesIO(c.get_object(Bucket='elasticbeanstalk-us-east-1-123456789012', Key='stackc/shop/{label}.zip')['Body'].read())).read('Dockerrun.aws.json'))"
        ),
    );
    assert_eq!(dockerrun["executionRoleArn"], role["Arn"], "{dockerrun}");

    // Against AWS's full settings, a second apply changes nothing.
    let again = ok(&stackc(
        &url,
        &["plan", file.to_str().unwrap(), "--detailed-exitcode"],
        &[],
    ));
    assert!(again.contains("No changes"), "{again}");
}

#[test]
fn a_version_that_fails_its_health_check_is_rolled_back() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let good = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    ok(&stackc(
        &url,
        &["apply", good.to_str().unwrap(), "--yes"],
        &[],
    ));
    let before = environment(&url)["VersionLabel"]
        .as_str()
        .unwrap()
        .to_string();

    let bad = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[("nginx:1.27", "nginx:does-not-exist")],
    );
    let out = stackc(&url, &["apply", bad.to_str().unwrap(), "--yes"], &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("failed its health check"), "{t}");
    // The cause, in AWS's words.
    assert!(t.contains("CannotPullContainerError"), "{t}");
    assert!(
        t.contains(&format!(
            "rolled back to {before}, which runs and is healthy again"
        )),
        "{t}"
    );
    let env = environment(&url);
    assert_eq!(env["VersionLabel"], before.as_str(), "{env}");
    assert_eq!(env["Health"], "Green", "{env}");
    // The previous version runs again: its deployment is the newest, and it succeeded.
    let instances = boto(
        &url,
        "elasticbeanstalk",
        "c.describe_instances_health(EnvironmentName='shop-env', AttributeNames=['All'])['InstanceHealthList']",
    );
    assert!(
        instances
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["Deployment"]["VersionLabel"] == before.as_str()
                && i["Deployment"]["Status"] != "Failed"),
        "{instances}"
    );

    // With --no-rollback the failed version is kept for inspection.
    let out = stackc(
        &url,
        &["apply", bad.to_str().unwrap(), "--yes", "--no-rollback"],
        &[],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("was kept (--no-rollback)"), "{t}");
    assert!(t.contains("describe-environment-health"), "{t}");
    assert_eq!(environment(&url)["Health"], "Red");
}

#[test]
fn a_first_deployment_that_fails_is_left_for_inspection() {
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let bad = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[("nginx:1.27", "nginx:does-not-exist")],
    );
    let out = stackc(&url, &["apply", bad.to_str().unwrap(), "--yes"], &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("is not healthy"), "{t}");
    assert!(t.contains("CannotPullContainerError"), "{t}");
    assert!(t.contains("the environment was left as it is"), "{t}");
    let env = environment(&url);
    assert_eq!(
        (env["Status"].as_str(), env["Health"].as_str()),
        (Some("Ready"), Some("Red")),
        "{env}"
    );
}

#[test]
fn a_role_the_instances_may_not_pass_turns_the_environment_red() {
    // A program that names its own execution role, which does not exist: ECS cannot assume it.
    // (The emulator is Red for it, as AWS would be; stackc reports the cause.)
    let aws = moto();
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = write_program(
        dir.path(),
        "shop.stack",
        PROGRAM,
        &[(
            "environment shop-env { }",
            "environment shop-env {\n  execution_role = \"arn:aws:iam::123456789012:role/nobody\"\n}",
        )],
    );
    let out = stackc(&url, &["apply", file.to_str().unwrap(), "--yes"], &[]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(t.contains("role/nobody"), "the cause names the role: {t}");
}

#[test]
fn a_rotated_password_restarts_the_app_servers_once() {
    let aws = moto();
    let px = common::proxy(&aws, &[]);
    let url = aws.url();
    let dir = tempfile::tempdir().unwrap();
    let file = write_program(dir.path(), "shop.stack", PROGRAM, &[]);
    let f = file.to_str().unwrap();
    ok(&stackc(&px.url(), &["apply", f, "--yes"], &[]));
    assert!(ok(&stackc(&url, &["plan", f], &[])).contains("No changes"));

    // RDS rotates the managed password (every 7 days by default).
    let arn = boto(
        &url,
        "rds",
        "c.describe_db_instances(DBInstanceIdentifier='shop-db')['DBInstances'][0]['MasterUserSecret']['SecretArn']",
    );
    boto(
        &url,
        "secretsmanager",
        &format!("c.rotate_secret(SecretId={arn})"),
    );

    let plan = ok(&stackc(&url, &["plan", f], &[]));
    assert!(
        plan.contains("~ app servers of environment shop-env (restart): a secret they read was rotated after they started"),
        "{plan}"
    );
    common::proxy_post(&px, "reset", "{}");
    ok(&stackc(&px.url(), &["apply", f, "--yes"], &[]));
    let calls = common::proxy_stats(&px);
    let mutating: Vec<&str> = calls["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["mutating"] == true)
        .filter_map(|c| c["operation"].as_str())
        .collect();
    assert_eq!(mutating, ["RestartAppServer"], "{calls}");
    assert_eq!(environment(&url)["Health"], "Green");
    // Done once: the tasks started after the rotation.
    assert!(ok(&stackc(&url, &["plan", f], &[])).contains("No changes"));
}
